"""The aggregate read model computed in SQL, into the ``read_model`` summary table.

The SQL mirrors :func:`geo.store.read_model.compute_read_model` (the pandas reference):
every case is counted once per boundary level (a lateral ``unnest`` of the three level
codes, one scan of the cases), ``day`` is the Asia/Tehran date of ``created_at``, missing
keys form their own groups (``GROUP BY`` does the same), and durations are summed
in ``double precision`` (``date_part('epoch', …)``, exact to the microsecond).

:func:`refresh` replaces the table's rows in the caller's transaction, so readers see the
old model until the new one is committed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.sql.elements import ColumnElement

from ingest import schema as s

from ..base import LOCAL_TZ
from .models import CASES, READ_MODEL, TABLES

#: ``work_mem`` of the refresh transaction.
WORK_MEM = "256MB"
_LEVEL = "rm_level"
_AREA = "rm_area_code"


def _seconds(
    later: sa.Column[dt.datetime], earlier: sa.Column[dt.datetime]
) -> ColumnElement[float]:
    # date_part is double precision (exact to the microsecond for any realistic duration);
    # summing doubles is much cheaper than summing extract()'s numeric.
    total = sa.func.sum(sa.func.date_part("epoch", later - earlier))
    return sa.cast(sa.func.coalesce(total, 0.0), sa.Double)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.func.count().filter(condition)


def aggregate_select() -> sa.Select[Any]:
    """Return the ``SELECT`` computing the read model from the cases table."""
    cases = TABLES[CASES]
    c = cases.c
    levels = (
        sa.func.unnest(
            pg.array([sa.literal(level, sa.Text) for level in s.LEVELS]),
            pg.array([c[s.LEVEL_CODE_COLUMN[level]] for level in s.LEVELS]),
        )
        .table_valued(sa.column(_LEVEL, sa.Text), sa.column(_AREA, sa.Text), name="levels")
        .render_derived()
        .lateral()
    )
    day = sa.cast(sa.func.timezone(sa.literal(LOCAL_TZ, sa.Text), c[s.CREATED_AT]), sa.Date)
    keys: dict[str, ColumnElement[Any]] = {
        s.SOURCE: c[s.SOURCE],
        s.RM_LEVEL: levels.c[_LEVEL],
        s.RM_AREA_CODE: levels.c[_AREA],
        s.RM_DAY: day,
        s.CATEGORY: c[s.CATEGORY],
        s.KIND: c[s.KIND],
        s.CHANNEL: c[s.CHANNEL],
        s.UNIT: c[s.UNIT],
        s.STATUS: c[s.STATUS],
    }
    status = c[s.STATUS]
    closed, due = c[s.CLOSED_AT], c[s.DUE_AT]
    reopen = sa.func.coalesce(c[s.REOPEN_COUNT], 0)
    measures: dict[str, ColumnElement[Any]] = {
        s.RM_CASES: sa.func.count(),
        s.RM_OPEN: _count_where(
            sa.and_(status.is_not(None), status.not_in(list(s.TERMINAL_STATUSES)))
        ),
        s.RM_FIRST_RESPONSE_COUNT: sa.func.count(c[s.FIRST_RESPONSE_AT]),
        s.RM_FIRST_RESPONSE_SECONDS: _seconds(c[s.FIRST_RESPONSE_AT], c[s.CREATED_AT]),
        s.RM_CLOSED_COUNT: sa.func.count(closed),
        s.RM_CLOSE_SECONDS: _seconds(closed, c[s.CREATED_AT]),
        s.RM_DUE_CLOSED_COUNT: _count_where(sa.and_(closed.is_not(None), due.is_not(None))),
        s.RM_ON_TIME_COUNT: _count_where(closed <= due),
        s.RM_SATISFACTION_COUNT: sa.func.count(c[s.SATISFACTION]),
        s.RM_SATISFACTION_SUM: sa.cast(
            sa.func.coalesce(sa.func.sum(c[s.SATISFACTION]), 0), sa.BigInteger
        ),
        s.RM_OBJECTED_COUNT: _count_where(c[s.CITIZEN_FEEDBACK] == "objected"),
        s.RM_ACCEPTED_COUNT: _count_where(c[s.CITIZEN_FEEDBACK] == "accepted"),
        s.RM_REOPENED_COUNT: _count_where(reopen > 0),
        s.RM_REOPEN_SUM: sa.cast(sa.func.coalesce(sa.func.sum(reopen), 0), sa.BigInteger),
    }
    key_columns = [expr.label(name) for name, expr in keys.items()]
    return (
        sa.select(*key_columns, *(expr.label(name) for name, expr in measures.items()))
        .select_from(cases.join(levels, sa.true()))
        .group_by(*(sa.literal_column(str(i)) for i in range(1, len(key_columns) + 1)))
    )


def refresh(connection: sa.Connection) -> int:
    """Replace the rows of ``read_model`` by the aggregate of the cases; return the count."""
    table = TABLES[READ_MODEL]
    # enough memory to hash-aggregate in memory instead of spilling to disk
    connection.execute(sa.select(sa.func.set_config("work_mem", WORK_MEM, True)))
    # groups are nearly as many as rows: partial aggregates in parallel workers only add work
    connection.execute(sa.select(sa.func.set_config("max_parallel_workers_per_gather", "0", True)))
    connection.execute(sa.delete(table))
    names = list(s.READ_MODEL_COLUMNS)
    insert = sa.insert(table).from_select(names, aggregate_select())
    result = connection.execute(insert, execution_options={"preserve_rowcount": True})
    return int(result.rowcount)


def read_statement(
    *,
    level: str | None = None,
    start_day: dt.date | None = None,
    end_day: dt.date | None = None,
    sources: Sequence[str] | None = None,
) -> sa.Select[Any]:
    """Return the ``SELECT`` of the stored read model with the given restrictions."""
    table = TABLES[READ_MODEL]
    query = sa.select(*(table.c[name] for name in s.READ_MODEL_COLUMNS))
    if level is not None:
        query = query.where(table.c[s.RM_LEVEL] == level)
    if start_day is not None:
        query = query.where(table.c[s.RM_DAY] >= start_day)
    if end_day is not None:
        query = query.where(table.c[s.RM_DAY] < end_day)
    if sources is not None:
        query = query.where(table.c[s.SOURCE].in_(list(sources)))
    return query
