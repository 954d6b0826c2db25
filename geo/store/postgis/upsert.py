"""Writes: binary COPY, straight into the table or through a staging table.

Cases whose key is not stored yet are COPYed straight into ``cases`` (the key lookup is a
COPY of the keys into a temporary table and one semi-join; it is skipped when the table
is empty). Cases whose key is stored go through a staging table and one
``INSERT … SELECT … ON CONFLICT (source, case_id) DO UPDATE``. The update fires only
``WHERE`` the stored row differs from the staged one (row-wise ``IS DISTINCT FROM``), so
a re-sent unchanged case is neither rewritten nor counted as updated. Inserted and updated
rows are told apart by ``xmax = 0`` in ``RETURNING`` (a freshly inserted tuple has no
deleting or locking transaction); the rest of the staged rows are unchanged.

Events: ``ON CONFLICT DO NOTHING`` on their key, so appending an event twice is a no-op.

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from ingest import schema as s

from ..base import EVENT_KEY, UpsertCounts
from .copy_load import copy_frame_into
from .models import CASE_EVENTS, CASES, TABLES

#: Case columns written by the store (the geometry is generated from lon/lat).
WRITTEN: Final = tuple(s.CASE_COLUMNS)
#: Columns compared to decide whether a staged case differs from the stored one.
COMPARED: Final = tuple(name for name in WRITTEN if name not in s.CASE_KEY)
_STAGE_PREFIX: Final = "t137_stage_"
_counter = itertools.count()


def psycopg_connection(connection: sa.Connection) -> psycopg.Connection[tuple[object, ...]]:
    """Return the psycopg connection under a SQLAlchemy connection (same transaction)."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, psycopg.Connection):  # pragma: no cover - the URL says psycopg
        msg = f"the PostGIS store needs the psycopg driver, not {type(driver).__name__}"
        raise TypeError(msg)
    return driver


def copy_frame(
    connection: sa.Connection, table: sa.Table, frame: pd.DataFrame, columns: Sequence[str]
) -> int:
    """COPY ``frame[columns]`` into ``table`` within the connection's transaction."""
    with psycopg_connection(connection).cursor() as cursor:
        return copy_frame_into(cursor, table, frame, columns)


def stage(
    connection: sa.Connection, template: sa.Table, frame: pd.DataFrame, columns: Sequence[str]
) -> sa.Table:
    """Create a temporary table with ``template``'s ``columns`` and COPY ``frame`` into it.

    The table is dropped at commit (and by :func:`upsert_cases` right after use).
    """
    name = f"{_STAGE_PREFIX}{template.name}_{next(_counter)}"
    staged = sa.Table(
        name,
        sa.MetaData(),
        *(sa.Column(name, template.c[name].type) for name in columns),
        prefixes=["TEMPORARY"],
        postgresql_on_commit="DROP",
    )
    staged.create(connection)
    copy_frame(connection, staged, frame, columns)
    return staged


def upsert_statement(staged: sa.Table) -> sa.Select[int, int]:
    """Return the statement that upserts ``staged`` into cases and counts the outcome."""
    cases = TABLES[CASES]
    insert = pg.insert(cases).from_select(list(WRITTEN), sa.select(*(staged.c[n] for n in WRITTEN)))
    excluded = insert.excluded
    differs = sa.tuple_(*(cases.c[n] for n in COMPARED)).is_distinct_from(
        sa.tuple_(*(excluded[n] for n in COMPARED))
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[cases.c[n] for n in s.CASE_KEY],
        set_={n: excluded[n] for n in COMPARED},
        where=differs,
    ).returning((sa.literal_column("xmax") == sa.literal_column("0")).label("fresh"))
    changed = upsert.cte("changed")
    fresh = changed.c.fresh
    return sa.select(
        sa.func.count().filter(fresh).label("inserted"),
        sa.func.count().filter(sa.not_(fresh)).label("updated"),
    ).select_from(changed)


_ORDINAL: Final = "t137_ord"
#: Loads of at least this many new cases, and no fewer than the cases already stored,
#: rebuild the secondary indexes instead of updating them row by row.
BULK_MIN_ROWS: Final = 100_000
#: ``maintenance_work_mem`` of a transaction that rebuilds indexes.
INDEX_BUILD_MEMORY: Final = "512MB"


def _fewer_stored_than(connection: sa.Connection, rows: int) -> bool:
    """Return whether ``cases`` holds fewer than ``rows`` rows (counts at most ``rows``)."""
    some = sa.select(sa.literal(1)).select_from(TABLES[CASES]).limit(rows).subquery()
    stored = connection.execute(sa.select(sa.func.count()).select_from(some)).scalar_one()
    return int(stored) < rows


def insert_new(connection: sa.Connection, frame: pd.DataFrame) -> int:
    """COPY cases whose keys are not stored straight into ``cases``; return the count.

    A large load into a table at most as large as the load drops the secondary indexes
    (GiST, created_at, area codes) first and rebuilds them after the COPY (a sorted build
    is many times faster than as many single inserts). The primary key is kept, so a
    duplicate still fails the load. DDL is transactional, so a crash restores the indexes;
    while the transaction runs, readers of ``cases`` wait for it.
    """
    cases = TABLES[CASES]
    rebuild = len(frame) >= BULK_MIN_ROWS and _fewer_stored_than(connection, len(frame))
    secondary = sorted(cases.indexes, key=lambda index: str(index.name))
    if rebuild:
        setting = sa.func.set_config("maintenance_work_mem", INDEX_BUILD_MEMORY, True)
        connection.execute(sa.select(setting))
        for index in secondary:
            index.drop(connection)
    inserted = copy_frame(connection, cases, frame, WRITTEN)
    if rebuild:
        for index in secondary:
            index.create(connection)
    return inserted


def stored_positions(connection: sa.Connection, frame: pd.DataFrame) -> np.ndarray:
    """Return the positions of the rows of ``frame`` whose (source, case_id) is stored."""
    cases = TABLES[CASES]
    if connection.execute(sa.select(sa.exists().select_from(cases))).scalar_one() is False:
        return np.empty(0, dtype=np.int64)
    keys = pd.DataFrame(
        {
            _ORDINAL: np.arange(len(frame), dtype=np.int64),
            **{name: frame[name] for name in s.CASE_KEY},
        }
    )
    template = sa.Table(
        CASES,
        sa.MetaData(),
        sa.Column(_ORDINAL, sa.BigInteger),
        *(sa.Column(name, cases.c[name].type) for name in s.CASE_KEY),
    )
    staged = stage(connection, template, keys, list(keys.columns))
    match = sa.and_(*(cases.c[name] == staged.c[name] for name in s.CASE_KEY))
    query = sa.select(staged.c[_ORDINAL]).where(sa.exists().where(match))
    found = np.fromiter(connection.execute(query).scalars(), dtype=np.int64)
    staged.drop(connection)
    return np.sort(found)


def upsert_cases(connection: sa.Connection, frame: pd.DataFrame) -> UpsertCounts:
    """Upsert canonical cases by (source, case_id) inside the connection's transaction.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        A connection in a transaction; nothing is committed here.
    frame : pandas.DataFrame
        Cases with the canonical columns (:func:`geo.store.frames.case_columns`) and
        unique (source, case_id) keys.

    Returns
    -------
    geo.store.base.UpsertCounts
        Rows inserted, updated and left unchanged.
    """
    if len(frame) == 0:
        return UpsertCounts()
    cases = TABLES[CASES]
    stored = stored_positions(connection, frame)
    new = np.ones(len(frame), dtype=bool)
    new[stored] = False
    inserted = updated = 0
    if new.any():
        inserted = insert_new(connection, frame.loc[new])
    if len(stored):
        staged = stage(connection, cases, frame.iloc[stored], WRITTEN)
        row = connection.execute(upsert_statement(staged)).one()
        staged.drop(connection)
        inserted, updated = inserted + int(row.inserted), int(row.updated)
    return UpsertCounts(inserted, updated, len(frame) - inserted - updated)


def append_events(connection: sa.Connection, frame: pd.DataFrame) -> int:
    """Insert canonical events that are not stored yet; return how many were new."""
    if len(frame) == 0:
        return 0
    events = TABLES[CASE_EVENTS]
    staged = stage(connection, events, frame, s.EVENT_COLUMNS)
    insert = (
        pg.insert(events)
        .from_select(list(s.EVENT_COLUMNS), sa.select(*(staged.c[n] for n in s.EVENT_COLUMNS)))
        .on_conflict_do_nothing(index_elements=[events.c[n] for n in EVENT_KEY])
    )
    result = connection.execute(insert, execution_options={"preserve_rowcount": True})
    staged.drop(connection)
    return int(result.rowcount)
