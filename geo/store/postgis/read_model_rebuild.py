"""A full rebuild of the ``read_model`` table, aggregated by several server sessions at once.

The aggregate of a million cases is one hash aggregate of nearly as many groups, which
PostgreSQL runs on one core (grouping sets have no parallel plan). The cases of
different Asia/Tehran days never meet in a read-model row, so the days can be split
into consecutive spans, each aggregated by its own session into the same new table:

1. A short transaction of its own drops any table a failed rebuild left and creates the
   new, unindexed table :data:`NEXT` (``LIKE read_model``, with its own identity).
   It has to be committed for the other sessions to see it; no reader ever looks at it.
2. :data:`SESSIONS` sessions each insert the aggregate of one span of days
   (:func:`geo.store.postgis.read_model_sql.aggregate_select`, bounded by the first
   instants of the span's days) and commit.
3. The key and the indexes are built the same way, one session per index.
4. The caller's transaction then swaps the new table in for the old (drop, renames,
   ``ANALYZE``), so readers see the old model until its commit.

The caller holds ``LOCK TABLE cases IN SHARE MODE`` (see
:mod:`geo.store.postgis.read_model_refresh`): no write to the cases can commit while the
sessions read them, so each sees exactly the cases the caller sees. Should a session or
the caller fail, nothing changes but the leftover :data:`NEXT`, which the next rebuild
drops.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

import sqlalchemy as sa
from psycopg import sql

from ingest import schema as s

from .dirty_days import day_start, local_day
from .models import CASES, READ_MODEL, ROW_ID, TABLES
from .read_model_sql import aggregate_select, set_aggregate_settings
from .upsert import psycopg_connection

#: Sessions aggregating (and indexing) side by side: the cores of the database server.
SESSIONS: Final = 2
#: ``maintenance_work_mem`` of each index build (an index of 1M read-model rows sorts in it).
INDEX_MEMORY: Final = "256MB"
#: Name of the table a rebuild fills before it replaces ``read_model``.
NEXT: Final = "t137_read_model_next"
_NEXT_SUFFIX: Final = "_next"

T = TypeVar("T")


def _execute(connection: sa.Connection, statement: str, *names: str) -> None:
    """Run DDL ``statement`` with ``{}`` placeholders filled by quoted identifiers."""
    query = sql.SQL(statement).format(*(sql.Identifier(name) for name in names))  # type: ignore[arg-type]
    with psycopg_connection(connection).cursor() as cursor:
        cursor.execute(query)


def _side_by_side(tasks: Sequence[Callable[[], T]], sessions: int) -> list[T]:
    """Run ``tasks`` (each opens its own session) at most ``sessions`` at a time."""
    if len(tasks) <= 1 or sessions <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=min(sessions, len(tasks))) as pool:
        return list(pool.map(lambda task: task(), tasks))


def day_spans(connection: sa.Connection, parts: int) -> list[tuple[dt.datetime | None, ...]]:
    """Split the cases into ``parts`` spans of whole Asia/Tehran days.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        Connection in the caller's transaction.
    parts : int
        Spans wanted; fewer when the cases cover fewer days.

    Returns
    -------
    list of (datetime or None, datetime or None)
        ``(low, high)`` bounds of ``created_at`` per span, ``low <= created_at < high``,
        None for an open end. The spans cover every instant and each bound is the first
        instant of a local day, so every local day falls in exactly one span.
    """
    created = TABLES[CASES].c[s.CREATED_AT]
    # local_day never goes backwards: the first and last days are the days of the
    # first and last instants, which the created_at index gives at once
    first, last = connection.execute(
        sa.select(local_day(sa.func.min(created)), local_day(sa.func.max(created)))
    ).one()
    if first is None or parts <= 1:
        return [(None, None)]
    span = (last - first).days + 1
    cuts = sorted({first + dt.timedelta(days=span * k // parts) for k in range(1, parts)} - {first})
    if not cuts:
        return [(None, None)]
    starts = connection.execute(
        sa.select(*(day_start(sa.literal(day, sa.Date)) for day in cuts))
    ).one()
    bounds: list[dt.datetime | None] = [None, *starts, None]
    return list(itertools.pairwise(bounds))


def _prepare(engine: sa.Engine, live: sa.Table) -> None:
    """Create the empty, unindexed :data:`NEXT` (dropping a leftover) and commit it."""
    with engine.begin() as connection:
        _execute(connection, "DROP TABLE IF EXISTS {}", NEXT)
        _execute(
            connection,
            "CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING IDENTITY)",
            NEXT,
            live.name,
        )


def _fill(engine: sa.Engine, low: dt.datetime | None, high: dt.datetime | None) -> int:
    """Insert the aggregate of the cases created in ``[low, high)`` into :data:`NEXT`."""
    table = sa.table(NEXT, *(sa.column(name) for name in s.READ_MODEL_COLUMNS))
    names = list(s.READ_MODEL_COLUMNS)
    aggregate = aggregate_select(created_from=low, created_to=high)
    insert = sa.insert(table).from_select(names, aggregate)
    with engine.begin() as connection:
        set_aggregate_settings(connection)
        result = connection.execute(insert, execution_options={"preserve_rowcount": True})
        return int(result.rowcount)


def _index(engine: sa.Engine, statement: str, *names: str) -> Callable[[], None]:
    def build() -> None:
        with engine.begin() as connection:
            memory = sa.func.set_config("maintenance_work_mem", INDEX_MEMORY, True)
            connection.execute(sa.select(memory))
            _execute(connection, statement, *names)

    return build


def _index_tasks(engine: sa.Engine, live: sa.Table) -> list[Callable[[], None]]:
    """Return one task per index of ``live`` (the key first), built on :data:`NEXT`."""
    tasks = [_index(engine, "CREATE UNIQUE INDEX {} ON {} ({})", f"pk_{NEXT}", NEXT, ROW_ID)]
    for index in sorted(live.indexes, key=lambda index: str(index.name)):
        columns = ", ".join("{}" for _ in index.columns)
        tasks.append(
            _index(
                engine,
                f"CREATE INDEX {{}} ON {{}} ({columns})",
                f"{index.name}{_NEXT_SUFFIX}",
                NEXT,
                *(column.name for column in index.columns),
            )
        )
    return tasks


def _swap(connection: sa.Connection, live: sa.Table) -> None:
    """Put :data:`NEXT` in ``live``'s place under the migration's names (caller's transaction)."""
    key = f"pk_{NEXT}"
    add_key = "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY USING INDEX {}"
    _execute(connection, add_key, NEXT, key, key)
    sequence = connection.execute(
        sa.select(sa.func.pg_get_serial_sequence(NEXT, ROW_ID))
    ).scalar_one()
    live.drop(connection)
    _execute(connection, "ALTER TABLE {} RENAME TO {}", NEXT, live.name)
    _execute(
        connection,
        "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
        live.name,
        f"pk_{NEXT}",
        str(live.primary_key.name),
    )
    for index in live.indexes:
        name = str(index.name)
        _execute(connection, "ALTER INDEX {} RENAME TO {}", f"{name}{_NEXT_SUFFIX}", name)
    _execute(
        connection,
        "ALTER SEQUENCE {} RENAME TO {}",
        str(sequence).rpartition(".")[2],
        f"{live.name}_{ROW_ID}_seq",
    )
    _execute(connection, "ANALYZE {}", live.name)


def rebuild(connection: sa.Connection, *, sessions: int = SESSIONS) -> int:
    """Replace ``read_model`` by the aggregate of all the cases; return its row count.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        Connection in the caller's transaction, holding ``SHARE`` on ``cases``; the swap
        happens in it, so nothing is visible before its commit.
    sessions : int
        Spans of days aggregated side by side, each in its own session.

    Returns
    -------
    int
        Rows of the new model.
    """
    live = TABLES[READ_MODEL]
    engine = connection.engine
    spans = day_spans(connection, sessions)
    _prepare(engine, live)
    filled = _side_by_side([functools.partial(_fill, engine, *span) for span in spans], sessions)
    _side_by_side(_index_tasks(engine, live), sessions)
    _swap(connection, live)
    return sum(filled)
