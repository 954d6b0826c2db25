"""Bringing the ``read_model`` table up to date: only the dirty days, or all of it.

Every read-model row belongs to one Asia/Tehran day, so the rows of a set of days are
the aggregate of exactly the cases of those days. Triggers on ``cases`` record the days
every write touches in ``read_model_dirty`` (:mod:`geo.store.postgis.dirty_days`), and
:func:`refresh` recomputes those days only:

1. ``LOCK TABLE cases IN SHARE MODE``: writers of ``cases`` (the store holds the writer
   lock already, but an analyst in ``psql`` does not) wait until the commit, so no day
   can turn dirty between reading the dirty days and aggregating them; readers go on.
2. Read the dirty days. None: the model is current, nothing is written and the stored row
   count is returned (milliseconds, whatever the size of the store).
3. Many (at least :data:`FULL_REFRESH_SHARE` of the days the model spans), an empty
   model, or ``full=True``: rebuild the whole model in a shadow table that replaces the
   old one (:func:`geo.store.postgis.read_model_rebuild.rebuild`) and unmark every day.
4. Otherwise ``DELETE`` the rows of those days and ``INSERT`` their aggregate
   (:func:`geo.store.postgis.read_model_sql.replace_days`), then unmark exactly those
   days.

All of it runs in the caller's transaction, with ``read_model_state`` (the model's
version, row count and refresh time) updated in the same commit: a crash leaves the old
model, the old dirty days and the old state, and the next refresh redoes the work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import sqlalchemy as sa

from ingest import schema as s

from . import dirty_days, read_model_rebuild, read_model_sql
from .models import CASES, READ_MODEL, READ_MODEL_STATE, ROW_ID, TABLES

#: Dirty days making up at least this share of the days the model spans are rebuilt in
#: full. Measured on 1M cases over 366 days (server CPU; a rebuild took 25-26 s):
#: recomputing k days in place costs about 0.085 s a day (1 day 0.09 s, 30 days 2.8 s,
#: 91 days 7.1 s, 183 days 15.7 s, all 366 days 31.6 s), since a deleted and re-inserted
#: row costs more than one appended to a fresh table; the two meet near 80% of the days.
#: Half keeps a margin for stores whose cases crowd on some days and for the dead rows
#: that in-place updates leave behind.
FULL_REFRESH_SHARE: Final = 0.5
_STATE_ID: Final = 1

#: What a refresh does: nothing, recompute the dirty days in place, or rebuild it all.
Mode = Literal["none", "days", "full"]


@dataclass(frozen=True)
class RefreshOutcome:
    """What a refresh did.

    Attributes
    ----------
    mode : str
        ``"none"`` (nothing was dirty), ``"days"`` (dirty days recomputed in place) or
        ``"full"`` (the whole model rebuilt).
    days : int
        Dirty days found.
    rows : int
        Rows of the read model afterwards.
    """

    mode: Mode
    days: int
    rows: int


def _state(connection: sa.Connection) -> tuple[int, int]:
    """Return the model's (version, row count), locking the state row until the commit."""
    table = TABLES[READ_MODEL_STATE]
    query = (
        sa.select(table.c.version, table.c.row_count)
        .where(table.c[ROW_ID] == _STATE_ID)
        .with_for_update()
    )
    row = connection.execute(query).one()
    return int(row.version), int(row.row_count)


def _record(connection: sa.Connection, version: int, rows: int) -> None:
    table = TABLES[READ_MODEL_STATE]
    statement = (
        sa.update(table)
        .where(table.c[ROW_ID] == _STATE_ID)
        .values(version=version, row_count=rows, refreshed_at=sa.func.clock_timestamp())
    )
    connection.execute(statement)


def _exists(connection: sa.Connection, name: str) -> bool:
    query = sa.select(sa.exists().select_from(TABLES[name]))
    return bool(connection.execute(query).scalar_one())


def _span_days(connection: sa.Connection, days: Sequence[dt.date]) -> int:
    """Return the number of days from the first to the last of the model and ``days``.

    Two probes of the ``day`` index; a stand-in for the days the model holds that costs
    nothing (it can only overstate them, which favours recomputing in place).
    """
    day = TABLES[READ_MODEL].c[s.RM_DAY]
    first, last = connection.execute(sa.select(sa.func.min(day), sa.func.max(day))).one()
    lows = [d for d in (first, min(days)) if d is not None]
    highs = [d for d in (last, max(days)) if d is not None]
    return (max(highs) - min(lows)).days + 1


def choose(connection: sa.Connection, days: Sequence[dt.date], *, full: bool = False) -> Mode:
    """Return ``"none"``, ``"days"`` or ``"full"``: what a refresh of ``days`` should do.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        Connection in the refresh's transaction.
    days : sequence of datetime.date
        The dirty days.
    full : bool, default False
        Rebuild in any case.
    """
    if full:
        return "full"
    empty = not _exists(connection, READ_MODEL)
    if not days:
        # an empty model over stored cases was never built (or was emptied by hand)
        return "full" if empty and _exists(connection, CASES) else "none"
    if empty or len(days) >= FULL_REFRESH_SHARE * _span_days(connection, days):
        return "full"
    return "days"


def refresh(connection: sa.Connection, *, full: bool = False) -> RefreshOutcome:
    """Bring ``read_model`` up to date with the cases in the caller's transaction.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        A connection in a transaction at ``READ COMMITTED`` (each statement sees what was
        committed before it, so the aggregate sees every write the ``SHARE`` lock waited
        for), holding the store's writer lock; nothing is committed here.
    full : bool, default False
        Rebuild the whole model even if few or no days are dirty.

    Returns
    -------
    RefreshOutcome
        What was done and the model's row count afterwards.
    """
    cases = TABLES[CASES]
    connection.execute(sa.text(f"LOCK TABLE {_quoted(connection, cases.name)} IN SHARE MODE"))
    days = dirty_days.dirty_days(connection)
    version, rows = _state(connection)
    mode = choose(connection, days, full=full)
    if mode == "none":
        return RefreshOutcome(mode, 0, rows)
    if mode == "full":
        rows = read_model_rebuild.rebuild(connection)
        dirty_days.clear(connection)
    else:
        deleted, inserted = read_model_sql.replace_days(connection, days)
        rows += inserted - deleted
        dirty_days.clear(connection, days)
    _record(connection, version + 1, rows)
    return RefreshOutcome(mode, len(days), rows)


def version(connection: sa.Connection) -> int:
    """Return how many refreshes have changed the model (a transactional counter)."""
    table = TABLES[READ_MODEL_STATE]
    query = sa.select(table.c.version).where(table.c[ROW_ID] == _STATE_ID)
    return int(connection.execute(query).scalar_one())


def _quoted(connection: sa.Connection, name: str) -> str:
    return str(connection.dialect.identifier_preparer.quote(name))
