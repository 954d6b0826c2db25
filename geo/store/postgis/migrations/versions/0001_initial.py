"""The initial case store: cases, case_events, boundaries, quarantine, ingest_runs, read_model.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
TEXT = sa.Text()
KEY = sa.Text(collation="C")


def _bigint(name: str) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "cases",
        sa.Column("source", KEY, nullable=False),
        sa.Column("case_id", KEY, nullable=False),
        sa.Column("channel", TEXT),
        sa.Column("kind", TEXT, nullable=False),
        sa.Column("category", TEXT),
        sa.Column("subcategory", TEXT),
        sa.Column("description", TEXT),
        sa.Column("unit", TEXT),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("referred_at", TZ),
        sa.Column("first_response_at", TZ),
        sa.Column("closed_at", TZ),
        sa.Column("due_at", TZ),
        sa.Column("status", TEXT, nullable=False),
        sa.Column("citizen_feedback", TEXT),
        sa.Column("satisfaction", sa.SmallInteger()),
        sa.Column("reopen_count", sa.SmallInteger()),
        sa.Column("citizen_key", TEXT),
        sa.Column("lon", sa.Double()),
        sa.Column("lat", sa.Double()),
        sa.Column("address", TEXT),
        sa.Column("geocode_precision", TEXT),
        sa.Column("neighborhood_code", KEY),
        sa.Column("district_code", KEY),
        sa.Column("region_code", KEY),
        sa.Column("duplicate_of", TEXT),
        sa.Column(
            "geometry",
            Geometry("POINT", srid=4326, spatial_index=False),
            sa.Computed("ST_SetSRID(ST_MakePoint(lon, lat), 4326)", persisted=True),
        ),
        sa.PrimaryKeyConstraint("source", "case_id", name="pk_cases"),
    )
    op.create_index("ix_cases_geometry", "cases", ["geometry"], postgresql_using="gist")
    for column in ("created_at", "region_code", "district_code", "neighborhood_code"):
        op.create_index(f"ix_cases_{column}", "cases", [column])

    op.create_table(
        "case_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("source", KEY, nullable=False),
        sa.Column("case_id", KEY, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("event", TEXT, nullable=False),
        sa.Column("unit", TEXT),
        sa.Column("note", TEXT),
        sa.PrimaryKeyConstraint("id", name="pk_case_events"),
        sa.UniqueConstraint(
            "source", "case_id", "at", "event", name="uq_case_events_source_case_id_at_event"
        ),
    )

    op.create_table(
        "boundaries",
        sa.Column("level", TEXT, nullable=False),
        sa.Column("code", TEXT, nullable=False),
        sa.Column("name_fa", TEXT),
        sa.Column("name_en", TEXT),
        sa.Column("parent_code", TEXT),
        sa.Column("population", sa.BigInteger()),
        sa.Column(
            "geometry",
            Geometry("MULTIPOLYGON", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("level", "code", name="pk_boundaries"),
    )
    op.create_index("ix_boundaries_geometry", "boundaries", ["geometry"], postgresql_using="gist")

    op.create_table(
        "quarantine",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("run_id", TEXT, nullable=False),
        sa.Column("source_file", TEXT, nullable=False),
        sa.Column("row_number", sa.BigInteger()),
        sa.Column("raw", TEXT),
        sa.Column("reason", TEXT, nullable=False),
        sa.Column("column", TEXT),
        sa.Column("message", TEXT),
        sa.PrimaryKeyConstraint("id", name="pk_quarantine"),
    )
    op.create_index("ix_quarantine_run_id", "quarantine", ["run_id"])

    op.create_table(
        "ingest_runs",
        _bigint("seq"),
        sa.Column("run_id", TEXT, nullable=False),
        sa.Column("source", TEXT, nullable=False),
        sa.Column("input_sha256", TEXT),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ),
        _bigint("rows_read"),
        _bigint("inserted"),
        _bigint("updated"),
        _bigint("unchanged"),
        _bigint("quarantined"),
        sa.Column("previous_hash", TEXT),
        sa.Column("run_hash", TEXT, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ingest_runs"),
        sa.UniqueConstraint("run_id", name="uq_ingest_runs_run_id"),
        sa.UniqueConstraint("run_hash", name="uq_ingest_runs_run_hash"),
    )

    op.create_table(
        "read_model",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("source", TEXT, nullable=False),
        sa.Column("level", TEXT, nullable=False),
        sa.Column("area_code", TEXT),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("category", TEXT),
        sa.Column("kind", TEXT),
        sa.Column("channel", TEXT),
        sa.Column("unit", TEXT),
        sa.Column("status", TEXT),
        _bigint("cases"),
        _bigint("open_cases"),
        _bigint("first_response_count"),
        sa.Column("first_response_seconds_sum", sa.Double(), nullable=False),
        _bigint("closed_count"),
        sa.Column("close_seconds_sum", sa.Double(), nullable=False),
        _bigint("closed_with_due_count"),
        _bigint("closed_on_time_count"),
        _bigint("satisfaction_count"),
        _bigint("satisfaction_sum"),
        _bigint("objected_count"),
        _bigint("accepted_count"),
        _bigint("reopened_count"),
        _bigint("reopen_sum"),
        sa.PrimaryKeyConstraint("id", name="pk_read_model"),
    )
    op.create_index("ix_read_model_level_area_code", "read_model", ["level", "area_code"])
    op.create_index("ix_read_model_day", "read_model", ["day"])


def downgrade() -> None:
    for table in ("read_model", "ingest_runs", "quarantine", "boundaries", "case_events", "cases"):
        op.drop_table(table)
