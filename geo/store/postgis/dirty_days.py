"""Which days of the read model are stale: ``read_model_dirty``, filled by triggers.

A read-model row belongs to one Asia/Tehran day (the local date of ``created_at``), and
the rows of a set of days are the aggregate of exactly the cases of those days. So the
model stays right if every write to ``cases`` records the days it touched and a refresh
recomputes just those days (:func:`geo.store.postgis.read_model_refresh.refresh`).

The days are recorded in the database, not by the store: statement-level ``AFTER``
triggers on ``cases`` (migration 0004) read the transition tables of each ``INSERT``,
``UPDATE`` (old and new versions of a row, so a case moved to another day marks both)
and ``DELETE``, and add their distinct local days to ``read_model_dirty`` (``ON
CONFLICT DO NOTHING``); a ``TRUNCATE`` marks every day the read model holds. Every
writer is caught: the store, a script, an analyst correcting a case in ``psql``. An
``UPDATE`` marks its rows' days even when nothing the model counts changed (the store
giving a digest to a row stored before migration 0002, a fixed description): those days
are recomputed to the same rows, which costs a little and is never wrong.

The local day has one definition, the SQL function ``t137_local_day(timestamptz)``
created by the migration (``IMMUTABLE``, so the planner inlines it); the triggers, the
aggregate and :func:`mark_all_case_days` all call it through :func:`local_day`.

The store's own bulk load (:func:`geo.store.postgis.upsert.insert_new`) already holds
``cases`` exclusively while it drops and rebuilds the indexes; there it takes the insert
trigger off, whose transition table would hold a copy of every loaded row, and marks the
days itself with :func:`mark_all_case_days` (:func:`insert_trigger_suspended`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.sql.elements import ColumnElement

from ingest import schema as s

from ..base import LOCAL_TZ
from .models import CASES, READ_MODEL_DIRTY, TABLES

#: SQL function returning the Asia/Tehran date of a ``timestamptz`` (migration 0004).
LOCAL_DAY_FUNCTION: Final = "t137_local_day"
#: Trigger function adding the days of the transition tables to ``read_model_dirty``.
MARK_FUNCTION: Final = "t137_mark_read_model_days"
#: The triggers on ``cases``, by event.
TRIGGERS: Final = {
    "INSERT": "t137_cases_dirty_insert",
    "UPDATE": "t137_cases_dirty_update",
    "DELETE": "t137_cases_dirty_delete",
    "TRUNCATE": "t137_cases_dirty_truncate",
}


def local_day(created_at: ColumnElement[Any]) -> ColumnElement[dt.date]:
    """Return the SQL of the Asia/Tehran date of the ``timestamptz`` ``created_at``."""
    return sa.Function(LOCAL_DAY_FUNCTION, created_at, type_=sa.Date)


def _timestamp_in(zone: str, at: ColumnElement[Any]) -> ColumnElement[dt.datetime]:
    """Return the SQL of the wall-clock time in ``zone`` at the instant ``at``."""
    return sa.func.timezone(sa.literal(zone, sa.Text), at, type_=sa.DateTime)


def day_start(day: ColumnElement[Any]) -> ColumnElement[dt.datetime]:
    """Return the SQL of the first instant of the Asia/Tehran day ``day`` (a ``date``).

    A case lies on local day ``d`` exactly when ``day_start(d) <= created_at <
    day_start(d + 1)`` (local dates never go backwards), a range the ``created_at`` index
    answers. Plain local midnight (``d::timestamp AT TIME ZONE 'Asia/Tehran'``) is that
    instant except where clocks were set back to midnight (1978-08-05, 01:00 back to
    00:00): PostgreSQL then takes the later of the two midnights, and the day began one
    UTC-offset change earlier, which the offset just before and at that midnight give.
    A midnight skipped by clocks set forward resolves to the instant of the change.
    """
    midnight = sa.func.timezone(
        sa.literal(LOCAL_TZ, sa.Text), sa.cast(day, sa.DateTime), type_=sa.DateTime(timezone=True)
    )
    tick = sa.literal(dt.timedelta(microseconds=1), sa.Interval)

    def offset(at: ColumnElement[Any]) -> ColumnElement[Any]:
        return _timestamp_in(LOCAL_TZ, at) - _timestamp_in("UTC", at)

    repeated = sa.func.greatest(
        offset(midnight - tick) - offset(midnight),
        sa.literal(dt.timedelta(0), sa.Interval),
        type_=sa.Interval,
    )
    return midnight - repeated


def days_parameter(days: Sequence[dt.date], name: str = "days") -> sa.BindParameter[Any]:
    """Return ``days`` as one bound ``date[]`` parameter."""
    return sa.bindparam(name, list(days), type_=pg.ARRAY(sa.Date))


def dirty_days(connection: sa.Connection) -> list[dt.date]:
    """Return the days marked dirty, in order."""
    table = TABLES[READ_MODEL_DIRTY]
    query = sa.select(table.c[s.RM_DAY]).order_by(table.c[s.RM_DAY])
    return list(connection.execute(query).scalars())


def clear(connection: sa.Connection, days: Sequence[dt.date] | None = None) -> None:
    """Unmark ``days`` (every day when None)."""
    table = TABLES[READ_MODEL_DIRTY]
    statement = sa.delete(table)
    if days is not None:
        statement = statement.where(table.c[s.RM_DAY] == sa.any_(days_parameter(days)))
    connection.execute(statement)


def mark_all_case_days(connection: sa.Connection) -> int:
    """Mark the day of every stored case dirty; return how many days were newly marked.

    A loose index scan of ``created_at``: the first case, then for each day found the
    first case from the start of the next day (:func:`day_start`), one index probe per
    day (milliseconds for a year), not a scan of the cases.
    """
    table, cases = TABLES[READ_MODEL_DIRTY], TABLES[CASES]
    created = cases.c[s.CREATED_AT]
    first = sa.select(local_day(sa.func.min(created)).label(s.RM_DAY))
    found = first.cte("found_days", recursive=True)
    previous = found.alias("previous")
    day = previous.c[s.RM_DAY]
    following = (
        sa.select(local_day(sa.func.min(created)))
        .where(created >= day_start(day + 1))
        .scalar_subquery()
    )
    found = found.union_all(sa.select(following.label(s.RM_DAY)).where(day.is_not(None)))
    days = sa.select(found.c[s.RM_DAY]).where(found.c[s.RM_DAY].is_not(None))
    insert = (
        pg.insert(table)
        .from_select([s.RM_DAY], days)
        .on_conflict_do_nothing(index_elements=[s.RM_DAY])
    )
    result = connection.execute(insert, execution_options={"preserve_rowcount": True})
    return int(result.rowcount)


def _trigger_definition(connection: sa.Connection, name: str) -> str | None:
    """Return the ``CREATE TRIGGER`` statement of trigger ``name`` on ``cases``, if any."""
    query = sa.text(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
        "WHERE tgrelid = CAST(:table AS regclass) AND tgname = :name"
    )
    found = connection.execute(query, {"table": CASES, "name": name}).scalar_one_or_none()
    return None if found is None else str(found)


@contextmanager
def insert_trigger_suspended(connection: sa.Connection) -> Iterator[None]:
    """Drop the insert trigger in the block, then mark every case day and recreate it.

    For the bulk load only. Disabling the trigger would not do: PostgreSQL fills the
    transition table of every trigger the table has, enabled or not, so the trigger is
    dropped and recreated from its own definition in the catalog
    (``pg_get_triggerdef``), which keeps the migration the only place that writes it.
    DDL is transactional and ``DROP TRIGGER`` locks ``cases`` exclusively until the
    commit (the bulk load holds that lock already), so no other insert can slip through
    unmarked, and an error rolls the trigger back with the rest.
    """
    name = TRIGGERS["INSERT"]
    definition = _trigger_definition(connection, name)
    quote = connection.dialect.identifier_preparer.quote
    if definition is not None:
        connection.exec_driver_sql(f"DROP TRIGGER {quote(name)} ON {quote(CASES)}")
    yield
    mark_all_case_days(connection)
    if definition is not None:
        connection.exec_driver_sql(definition)
