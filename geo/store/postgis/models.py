"""SQLAlchemy 2 + GeoAlchemy2 models of the PostGIS case store (DESIGN.md §3).

Column names come from :mod:`ingest.schema`. Text-valued categories are stored as
``text`` (their vocabularies live in the application, so a new unit or category needs no
migration); timestamps are ``timestamptz`` (UTC instants, microsecond resolution).

The case geometry is a *generated* column, ``POINT(lon lat)`` in EPSG:4326, computed by
the server from ``lon``/``lat``: the two can never disagree, and loads need not send it.
``row_digest`` (migration 0002) is a hash of the rest of the case, for cheap re-writes.
``read_model_dirty`` and ``read_model_state`` (migration 0004) drive the incremental
read-model refresh; the triggers on ``cases`` that fill ``read_model_dirty`` and the SQL
function of the local day are not tables, so they live in the migration only (their
names are in :mod:`geo.store.postgis.dirty_days`).
The Alembic migration in :mod:`geo.store.postgis.migrations` creates exactly these
tables; :class:`geo.store.postgis.PostgisStore` checks the revision when it opens.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

import sqlalchemy as sa
from geoalchemy2 import Geometry
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ingest import schema as s

SRID: Final = 4326
CASES: Final = "cases"
CASE_EVENTS: Final = "case_events"
BOUNDARIES: Final = "boundaries"
QUARANTINE: Final = "quarantine"
INGEST_RUNS: Final = "ingest_runs"
READ_MODEL: Final = "read_model"
READ_MODEL_DIRTY: Final = "read_model_dirty"
READ_MODEL_STATE: Final = "read_model_state"
#: Name of the surrogate key of append-only tables (events, quarantine).
ROW_ID: Final = "id"
#: Name of the column holding a case's content digest (:mod:`geo.store.postgis.digest`).
ROW_DIGEST: Final = "row_digest"

NAMING: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

Text = sa.Text
#: Keys and codes compare by code point (``COLLATE "C"``), like Python strings, and faster.
Key = sa.Text(collation="C")
TimestampTZ = sa.DateTime(timezone=True)


class Base(DeclarativeBase):
    """Declarative base with a naming convention for constraints and indexes."""

    metadata = sa.MetaData(naming_convention=NAMING)


def _point_expression() -> str:
    lon, lat = s.LON, s.LAT
    return f"ST_SetSRID(ST_MakePoint({lon}, {lat}), {SRID})"


class Case(Base):
    """One case, unique by (source, case_id)."""

    __tablename__ = CASES

    source: Mapped[str] = mapped_column(s.SOURCE, Key, primary_key=True)
    case_id: Mapped[str] = mapped_column(s.CASE_ID, Key, primary_key=True)
    channel: Mapped[str | None] = mapped_column(s.CHANNEL, Text)
    kind: Mapped[str] = mapped_column(s.KIND, Text, nullable=False)
    category: Mapped[str | None] = mapped_column(s.CATEGORY, Text)
    subcategory: Mapped[str | None] = mapped_column(s.SUBCATEGORY, Text)
    description: Mapped[str | None] = mapped_column(s.DESCRIPTION, Text)
    unit: Mapped[str | None] = mapped_column(s.UNIT, Text)
    created_at: Mapped[dt.datetime] = mapped_column(s.CREATED_AT, TimestampTZ, nullable=False)
    referred_at: Mapped[dt.datetime | None] = mapped_column(s.REFERRED_AT, TimestampTZ)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(s.FIRST_RESPONSE_AT, TimestampTZ)
    closed_at: Mapped[dt.datetime | None] = mapped_column(s.CLOSED_AT, TimestampTZ)
    due_at: Mapped[dt.datetime | None] = mapped_column(s.DUE_AT, TimestampTZ)
    status: Mapped[str] = mapped_column(s.STATUS, Text, nullable=False)
    status_raw: Mapped[str | None] = mapped_column(s.STATUS_RAW, Text)
    citizen_feedback: Mapped[str | None] = mapped_column(s.CITIZEN_FEEDBACK, Text)
    satisfaction: Mapped[int | None] = mapped_column(s.SATISFACTION, sa.SmallInteger)
    reopen_count: Mapped[int | None] = mapped_column(s.REOPEN_COUNT, sa.SmallInteger)
    citizen_key: Mapped[str | None] = mapped_column(s.CITIZEN_KEY, Text)
    lon: Mapped[float | None] = mapped_column(s.LON, sa.Double)
    lat: Mapped[float | None] = mapped_column(s.LAT, sa.Double)
    address: Mapped[str | None] = mapped_column(s.ADDRESS, Text)
    geocode_precision: Mapped[str | None] = mapped_column(s.GEOCODE_PRECISION, Text)
    neighborhood_code: Mapped[str | None] = mapped_column(s.NEIGHBORHOOD_CODE, Key)
    district_code: Mapped[str | None] = mapped_column(s.DISTRICT_CODE, Key)
    region_code: Mapped[str | None] = mapped_column(s.REGION_CODE, Key)
    duplicate_of: Mapped[str | None] = mapped_column(s.DUPLICATE_OF, Text)
    geometry: Mapped[Any] = mapped_column(
        s.GEOMETRY,
        Geometry("POINT", srid=SRID, spatial_index=False),
        sa.Computed(_point_expression(), persisted=True),
    )
    row_digest: Mapped[int | None] = mapped_column(ROW_DIGEST, sa.BigInteger)

    __table_args__ = (
        sa.Index(f"ix_{CASES}_{s.GEOMETRY}", s.GEOMETRY, postgresql_using="gist"),
        sa.Index(f"ix_{CASES}_{s.CREATED_AT}", s.CREATED_AT),
        sa.Index(f"ix_{CASES}_{s.REGION_CODE}", s.REGION_CODE),
        sa.Index(f"ix_{CASES}_{s.DISTRICT_CODE}", s.DISTRICT_CODE),
        sa.Index(f"ix_{CASES}_{s.NEIGHBORHOOD_CODE}", s.NEIGHBORHOOD_CODE),
    )


class CaseEvent(Base):
    """One event in a case's referral history."""

    __tablename__ = CASE_EVENTS

    id: Mapped[int] = mapped_column(ROW_ID, sa.BigInteger, sa.Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(s.SOURCE, Key, nullable=False)
    case_id: Mapped[str] = mapped_column(s.CASE_ID, Key, nullable=False)
    at: Mapped[dt.datetime] = mapped_column(s.EVENT_AT, TimestampTZ, nullable=False)
    event: Mapped[str] = mapped_column(s.EVENT, Text, nullable=False)
    unit: Mapped[str | None] = mapped_column(s.EVENT_UNIT, Text)
    note: Mapped[str | None] = mapped_column(s.EVENT_NOTE, Text)

    __table_args__ = (sa.UniqueConstraint(s.SOURCE, s.CASE_ID, s.EVENT_AT, s.EVENT),)


class Boundary(Base):
    """One area of the boundary hierarchy, unique by (level, code)."""

    __tablename__ = BOUNDARIES

    level: Mapped[str] = mapped_column(s.LEVEL, Text, primary_key=True)
    code: Mapped[str] = mapped_column(s.CODE, Text, primary_key=True)
    name_fa: Mapped[str | None] = mapped_column(s.NAME_FA, Text)
    name_en: Mapped[str | None] = mapped_column(s.NAME_EN, Text)
    parent_code: Mapped[str | None] = mapped_column(s.PARENT_CODE, Text)
    population: Mapped[int | None] = mapped_column(s.POPULATION, sa.BigInteger)
    geometry: Mapped[Any] = mapped_column(
        s.GEOMETRY, Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False), nullable=False
    )

    __table_args__ = (
        sa.Index(f"ix_{BOUNDARIES}_{s.GEOMETRY}", s.GEOMETRY, postgresql_using="gist"),
    )


class QuarantineRow(Base):
    """One input row that was not stored, with the reason."""

    __tablename__ = QUARANTINE

    id: Mapped[int] = mapped_column(ROW_ID, sa.BigInteger, sa.Identity(), primary_key=True)
    run_id: Mapped[str] = mapped_column(s.Q_RUN_ID, Text, nullable=False)
    source_file: Mapped[str] = mapped_column(s.Q_SOURCE_FILE, Text, nullable=False)
    row_number: Mapped[int | None] = mapped_column(s.Q_ROW_NUMBER, sa.BigInteger)
    raw: Mapped[str | None] = mapped_column(s.Q_RAW, Text)
    reason: Mapped[str] = mapped_column(s.Q_REASON, Text, nullable=False)
    column: Mapped[str | None] = mapped_column(s.Q_COLUMN, Text)
    message: Mapped[str | None] = mapped_column(s.Q_MESSAGE, Text)

    __table_args__ = (sa.Index(f"ix_{QUARANTINE}_{s.Q_RUN_ID}", s.Q_RUN_ID),)


class IngestRun(Base):
    """One ingest run, a link of the hash chain (``previous_hash`` → ``run_hash``)."""

    __tablename__ = INGEST_RUNS

    seq: Mapped[int] = mapped_column(s.RUN_SEQ, sa.BigInteger, primary_key=True)
    run_id: Mapped[str] = mapped_column(s.RUN_ID, Text, nullable=False, unique=True)
    source: Mapped[str] = mapped_column(s.RUN_SOURCE, Text, nullable=False)
    input_sha256: Mapped[str | None] = mapped_column(s.RUN_INPUT_SHA256, Text)
    started_at: Mapped[dt.datetime] = mapped_column(s.RUN_STARTED_AT, TimestampTZ, nullable=False)
    finished_at: Mapped[dt.datetime | None] = mapped_column(s.RUN_FINISHED_AT, TimestampTZ)
    rows_read: Mapped[int] = mapped_column(s.RUN_ROWS_READ, sa.BigInteger, nullable=False)
    inserted: Mapped[int] = mapped_column(s.RUN_INSERTED, sa.BigInteger, nullable=False)
    updated: Mapped[int] = mapped_column(s.RUN_UPDATED, sa.BigInteger, nullable=False)
    unchanged: Mapped[int] = mapped_column(s.RUN_UNCHANGED, sa.BigInteger, nullable=False)
    quarantined: Mapped[int] = mapped_column(s.RUN_QUARANTINED, sa.BigInteger, nullable=False)
    previous_hash: Mapped[str | None] = mapped_column(s.RUN_PREVIOUS_HASH, Text)
    run_hash: Mapped[str] = mapped_column(s.RUN_HASH, Text, nullable=False, unique=True)


class ReadModelRow(Base):
    """One cell of the aggregate read model (see :mod:`geo.store.read_model`)."""

    __tablename__ = READ_MODEL

    id: Mapped[int] = mapped_column(ROW_ID, sa.BigInteger, sa.Identity(), primary_key=True)
    source: Mapped[str] = mapped_column(s.SOURCE, Text, nullable=False)
    level: Mapped[str] = mapped_column(s.RM_LEVEL, Text, nullable=False)
    area_code: Mapped[str | None] = mapped_column(s.RM_AREA_CODE, Text)
    day: Mapped[dt.date] = mapped_column(s.RM_DAY, sa.Date, nullable=False)
    category: Mapped[str | None] = mapped_column(s.CATEGORY, Text)
    kind: Mapped[str | None] = mapped_column(s.KIND, Text)
    channel: Mapped[str | None] = mapped_column(s.CHANNEL, Text)
    unit: Mapped[str | None] = mapped_column(s.UNIT, Text)
    status: Mapped[str | None] = mapped_column(s.STATUS, Text)
    cases: Mapped[int] = mapped_column(s.RM_CASES, sa.BigInteger, nullable=False)
    open_cases: Mapped[int] = mapped_column(s.RM_OPEN, sa.BigInteger, nullable=False)
    first_response_count: Mapped[int] = mapped_column(
        s.RM_FIRST_RESPONSE_COUNT, sa.BigInteger, nullable=False
    )
    first_response_seconds_sum: Mapped[float] = mapped_column(
        s.RM_FIRST_RESPONSE_SECONDS, sa.Double, nullable=False
    )
    closed_count: Mapped[int] = mapped_column(s.RM_CLOSED_COUNT, sa.BigInteger, nullable=False)
    close_seconds_sum: Mapped[float] = mapped_column(s.RM_CLOSE_SECONDS, sa.Double, nullable=False)
    closed_with_due_count: Mapped[int] = mapped_column(
        s.RM_DUE_CLOSED_COUNT, sa.BigInteger, nullable=False
    )
    closed_on_time_count: Mapped[int] = mapped_column(
        s.RM_ON_TIME_COUNT, sa.BigInteger, nullable=False
    )
    satisfaction_count: Mapped[int] = mapped_column(
        s.RM_SATISFACTION_COUNT, sa.BigInteger, nullable=False
    )
    satisfaction_sum: Mapped[int] = mapped_column(
        s.RM_SATISFACTION_SUM, sa.BigInteger, nullable=False
    )
    objected_count: Mapped[int] = mapped_column(s.RM_OBJECTED_COUNT, sa.BigInteger, nullable=False)
    accepted_count: Mapped[int] = mapped_column(s.RM_ACCEPTED_COUNT, sa.BigInteger, nullable=False)
    reopened_count: Mapped[int] = mapped_column(s.RM_REOPENED_COUNT, sa.BigInteger, nullable=False)
    reopen_sum: Mapped[int] = mapped_column(s.RM_REOPEN_SUM, sa.BigInteger, nullable=False)

    __table_args__ = (
        sa.Index(f"ix_{READ_MODEL}_{s.RM_LEVEL}_{s.RM_AREA_CODE}", s.RM_LEVEL, s.RM_AREA_CODE),
        sa.Index(f"ix_{READ_MODEL}_{s.RM_DAY}", s.RM_DAY),
    )


class ReadModelDirtyDay(Base):
    """One Asia/Tehran day whose read-model rows may be stale (filled by triggers on cases)."""

    __tablename__ = READ_MODEL_DIRTY

    day: Mapped[dt.date] = mapped_column(s.RM_DAY, sa.Date, primary_key=True)


class ReadModelState(Base):
    """The read model's one-row bookkeeping: version, row count, last refresh."""

    __tablename__ = READ_MODEL_STATE

    id: Mapped[int] = mapped_column(ROW_ID, sa.SmallInteger, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column("version", sa.BigInteger, nullable=False)
    row_count: Mapped[int] = mapped_column("row_count", sa.BigInteger, nullable=False)
    refreshed_at: Mapped[dt.datetime | None] = mapped_column("refreshed_at", TimestampTZ)

    __table_args__ = (sa.CheckConstraint(f"{ROW_ID} = 1", name="ck_read_model_state_one_row"),)


#: The tables of the store, by name.
TABLES: Final = Base.metadata.tables
#: Tables that must carry a GiST index on their geometry.
SPATIAL_TABLES: Final = (CASES, BOUNDARIES)
