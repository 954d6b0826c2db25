"""The read model is refreshed incrementally: triggers on ``cases`` record the days to redo.

``read_model_dirty`` holds the Asia/Tehran days whose read-model rows may be stale.
Statement-level triggers on ``cases`` (one per event: a trigger with transition tables
takes one event) add the local day of every inserted, updated (old and new version) or
deleted row, through the transition tables, so every writer is caught, including an
analyst editing a case by hand; a ``TRUNCATE`` marks every day the read model holds.
``t137_local_day(timestamptz)`` is the one definition of that day; it is an ``IMMUTABLE``
SQL function, which the planner inlines, so the aggregate uses it at no cost. The trigger
function keeps the search path of the migration, so a session with another search path
(an analyst writing ``public.cases``) still finds ``read_model_dirty``.

``read_model_state`` is one row: how many refreshes changed the model (``version``, part
of the store's data version, transactional unlike a sequence), the model's row count,
and when it was last refreshed.

The upgrade marks every day of the stored cases dirty, so the first refresh after it
rebuilds the whole model once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the names in geo.store.postgis.dirty_days (a migration never changes).
_LOCAL_DAY = "t137_local_day"
_MARK = "t137_mark_read_model_days"
_NEW, _OLD = "t137_new_cases", "t137_old_cases"
_TRIGGERS = {
    "INSERT": ("t137_cases_dirty_insert", f"REFERENCING NEW TABLE AS {_NEW}"),
    "UPDATE": ("t137_cases_dirty_update", f"REFERENCING OLD TABLE AS {_OLD} NEW TABLE AS {_NEW}"),
    "DELETE": ("t137_cases_dirty_delete", f"REFERENCING OLD TABLE AS {_OLD}"),
    "TRUNCATE": ("t137_cases_dirty_truncate", ""),
}

_LOCAL_DAY_SQL = f"""
CREATE FUNCTION {_LOCAL_DAY}(at timestamptz) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (at AT TIME ZONE 'Asia/Tehran')::date $$
"""

_MARK_SQL = f"""
CREATE FUNCTION {_MARK}() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO read_model_dirty (day)
        SELECT DISTINCT {_LOCAL_DAY}(created_at) FROM {_NEW}
        ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO read_model_dirty (day)
        SELECT {_LOCAL_DAY}(created_at) FROM {_NEW}
        UNION
        SELECT {_LOCAL_DAY}(created_at) FROM {_OLD}
        ON CONFLICT DO NOTHING;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO read_model_dirty (day)
        SELECT DISTINCT {_LOCAL_DAY}(created_at) FROM {_OLD}
        ON CONFLICT DO NOTHING;
    ELSE
        -- TRUNCATE: the rows are gone, so every day the model holds is stale
        INSERT INTO read_model_dirty (day)
        SELECT DISTINCT day FROM read_model
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "read_model_dirty",
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_read_model_dirty"),
    )
    op.create_table(
        "read_model_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_read_model_state"),
        sa.CheckConstraint("id = 1", name="ck_read_model_state_one_row"),
    )
    op.execute(_LOCAL_DAY_SQL)
    op.execute(_MARK_SQL)
    for event, (name, referencing) in _TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON cases {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {_MARK}()"
        )
    op.execute(
        "INSERT INTO read_model_state (id, version, row_count) "
        "SELECT 1, 0, count(*) FROM read_model"
    )
    op.execute(
        f"INSERT INTO read_model_dirty (day) SELECT DISTINCT {_LOCAL_DAY}(created_at) FROM cases"
    )


def downgrade() -> None:
    for name, _ in _TRIGGERS.values():
        op.execute(f"DROP TRIGGER {name} ON cases")
    op.execute(f"DROP FUNCTION {_MARK}()")
    op.execute(f"DROP FUNCTION {_LOCAL_DAY}(timestamptz)")
    op.drop_table("read_model_state")
    op.drop_table("read_model_dirty")
