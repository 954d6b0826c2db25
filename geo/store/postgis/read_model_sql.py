"""The aggregate read model computed in SQL, into the ``read_model`` summary table.

The SQL mirrors :func:`geo.store.read_model.compute_read_model` (the pandas reference):
every case is counted once per boundary level (one scan of the cases into ``GROUPING
SETS``, a set per level), ``day`` is the Asia/Tehran date of ``created_at``, missing keys
form their own groups (``GROUP BY`` does the same), and durations are summed in ``double
precision`` (``date_part('epoch', …)``, exact to the microsecond).

:func:`replace_days` recomputes the rows of some local days in place;
:mod:`geo.store.postgis.read_model_rebuild` builds the whole model anew from spans of days
(the ``created_from``/``created_to`` bounds of :func:`aggregate_select`). Which of the two
a refresh runs is decided by :mod:`geo.store.postgis.read_model_refresh`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ingest import schema as s

from .dirty_days import day_start, days_parameter, local_day
from .models import CASES, READ_MODEL, TABLES, TimestampTZ

#: ``work_mem`` of the refresh transaction.
WORK_MEM: Final = "256MB"


def _seconds(later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[float]:
    # date_part is double precision (exact to the microsecond for any realistic duration);
    # summing doubles is much cheaper than summing extract()'s numeric.
    total = sa.func.sum(sa.func.date_part("epoch", later - earlier))
    return sa.cast(sa.func.coalesce(total, 0.0), sa.Double)


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return sa.func.count().filter(condition)


def cases_of_days(
    days: sa.BindParameter[Any] | None = None,
    *,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> sa.Select[Any]:
    """Return the ``SELECT`` of the cases (of the local days ``days``) and their ``day``.

    Parameters
    ----------
    days : sqlalchemy.BindParameter, optional
        A bound ``date[]`` (:func:`geo.store.postgis.dirty_days.days_parameter`); every
        case when None.
    created_from, created_to : datetime, optional
        Only the cases with ``created_from <= created_at < created_to`` (bound values).

    Notes
    -----
    The days are ``unnest``-ed with their bounds ``[day_start(d), day_start(d + 1))``
    (:func:`geo.store.postgis.dirty_days.day_start`, computed once per day in a
    materialized CTE) and joined to the cases on ``created_at`` in those bounds, which
    the ``created_at`` index answers (a nested loop of index scans; a hash join over
    one scan when the days are many), and on the exact test ``local_day(created_at) =
    d``. Days are distinct, so each case appears at most once.
    """
    cases = TABLES[CASES]
    created = cases.c[s.CREATED_AT]
    day = local_day(created).label(s.RM_DAY)
    query = sa.select(*cases.c, day)
    if created_from is not None:
        query = query.where(created >= sa.bindparam("created_from", created_from, TimestampTZ))
    if created_to is not None:
        query = query.where(created < sa.bindparam("created_to", created_to, TimestampTZ))
    if days is None:
        return query
    listed = (
        sa.func.unnest(days).table_valued(sa.column(s.RM_DAY, sa.Date)).render_derived(name="d")
    )
    listed_day = listed.c[s.RM_DAY]
    wanted = (
        sa.select(
            listed_day.label(s.RM_DAY),
            day_start(listed_day).label("low"),
            day_start(listed_day + 1).label("high"),
        )
        .cte("wanted")
        .prefix_with("MATERIALIZED")
    )
    on = sa.and_(
        created >= wanted.c.low,
        created < wanted.c.high,
        local_day(created) == wanted.c[s.RM_DAY],
    )
    return query.select_from(wanted.join(cases, on))


def aggregate_select(
    days: sa.BindParameter[Any] | None = None,
    *,
    created_from: dt.datetime | None = None,
    created_to: dt.datetime | None = None,
) -> sa.Select[Any]:
    """Return the ``SELECT`` computing the read model from the cases (of ``days``).

    One scan of the cases feeds one ``GROUP BY GROUPING SETS``, a set per boundary level
    (the other keys and that level's code); ``GROUPING()`` tells which set a row belongs to,
    so a missing code still forms its own group at its level. With ``days`` (a bound
    ``date[]``) only the cases of those local days are read (:func:`cases_of_days`): the
    rows of the read model for exactly those days.
    """
    c = cases_of_days(days, created_from=created_from, created_to=created_to).subquery("c").c
    common = [c[name] for name in s.READ_MODEL_KEYS if name not in (s.RM_LEVEL, s.RM_AREA_CODE)]
    codes = {level: c[s.LEVEL_CODE_COLUMN[level]] for level in s.LEVELS}
    *first, last = s.LEVELS
    zero = sa.literal_column("0", sa.Integer)

    def in_set(level: str) -> ColumnElement[bool]:
        return sa.func.grouping(codes[level]) == zero

    derived: dict[str, ColumnElement[Any]] = {
        s.RM_LEVEL: sa.case(
            *((in_set(level), sa.literal(level, sa.Text)) for level in first),
            else_=sa.literal(last, sa.Text),
        ),
        s.RM_AREA_CODE: sa.case(
            *((in_set(level), codes[level]) for level in first), else_=codes[last]
        ),
    }
    keys = {name: derived[name] if name in derived else c[name] for name in s.READ_MODEL_KEYS}
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
    sets = sa.func.grouping_sets(*(sa.tuple_(*common, codes[level]) for level in s.LEVELS))
    return sa.select(
        *(expr.label(name) for name, expr in keys.items()),
        *(expr.label(name) for name, expr in measures.items()),
    ).group_by(sets)


def set_aggregate_settings(connection: sa.Connection) -> None:
    """Set the transaction's planner settings for aggregating many cases.

    Hash-aggregate in memory; groups are nearly as many as rows, so parallel partial
    aggregates and JIT compilation only add work.
    """
    connection.execute(sa.select(sa.func.set_config("work_mem", WORK_MEM, True)))
    connection.execute(sa.select(sa.func.set_config("max_parallel_workers_per_gather", "0", True)))
    connection.execute(sa.select(sa.func.set_config("jit", "off", True)))


def replace_days(connection: sa.Connection, days: Sequence[dt.date]) -> tuple[int, int]:
    """Recompute the read-model rows of the local ``days`` in place.

    ``DELETE`` the rows of those days (through the ``day`` index), then ``INSERT`` the
    aggregate of exactly the cases of those days (:func:`aggregate_select`), both in the
    caller's transaction, with the days as one bound ``date[]``. Readers see the old rows
    until the commit.

    Returns
    -------
    tuple of (int, int)
        Rows deleted and rows inserted.
    """
    live = TABLES[READ_MODEL]
    set_aggregate_settings(connection)
    options = {"preserve_rowcount": True}
    delete = sa.delete(live).where(live.c[s.RM_DAY] == sa.any_(days_parameter(days)))
    deleted = int(connection.execute(delete, execution_options=options).rowcount)
    names = list(s.READ_MODEL_COLUMNS)
    insert = sa.insert(live).from_select(names, aggregate_select(days_parameter(days)))
    inserted = int(connection.execute(insert, execution_options=options).rowcount)
    return deleted, inserted


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


def sum_statement(
    by: Sequence[str],
    *,
    level: str,
    start_day: dt.date | None = None,
    end_day: dt.date | None = None,
    where: Mapping[str, Sequence[str]] | None = None,
) -> sa.Select[Any]:
    """Return the ``SELECT`` summing the read model's measures by ``by`` (bound values only)."""
    table = TABLES[READ_MODEL]
    sums = [
        sa.cast(sa.func.coalesce(sa.func.sum(table.c[name]), 0), table.c[name].type).label(name)
        for name in s.READ_MODEL_MEASURES
    ]
    query = read_statement(level=level, start_day=start_day, end_day=end_day).with_only_columns(
        *(table.c[name] for name in by), *sums
    )
    for name, values in (where or {}).items():
        query = query.where(table.c[name].in_([str(v) for v in values]))
    return query.group_by(*(table.c[name] for name in by)) if by else query
