"""Writes: binary COPY, straight into the table or through a staging table.

Every case carries a digest of its content (:mod:`geo.store.postgis.digest`). The keys
and digests of a batch are COPYed into a temporary table and one join against ``cases``
returns the positions of the cases that are new or whose stored digest differs (it is
skipped when the table is empty); re-sent unchanged cases are not sent again and their
rows are not touched. New cases are COPYed straight into ``cases``. Cases whose digest
differs go through a staging table: stored rows of the same content only get the new
digest (they stay unchanged), the others are updated by one
``INSERT … SELECT … ON CONFLICT (source, case_id) DO UPDATE`` that fires only ``WHERE``
the stored row differs from the staged one (row-wise ``IS DISTINCT FROM``). Inserted and
updated rows are told apart by ``xmax = 0`` in ``RETURNING`` (a freshly inserted tuple
has no deleting or locking transaction); the rest of the batch is unchanged.

Events: ``ON CONFLICT DO NOTHING`` on their key, so appending an event twice is a no-op.

Nothing here commits: the caller owns the transaction.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd
import psycopg
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.dialects import postgresql as pg

from ingest import schema as s

from ..base import EVENT_KEY, UpsertCounts
from . import dirty_days
from .digest import row_digests
from .models import CASE_EVENTS, CASES, ROW_DIGEST, TABLES
from .row_encoder import Derived, copy_frame_into

#: Case columns written by the store (the geometry is generated from lon/lat).
WRITTEN: Final = tuple(s.CASE_COLUMNS)
#: Columns compared to decide whether a staged case differs from the stored one.
COMPARED: Final = tuple(name for name in WRITTEN if name not in s.CASE_KEY)
#: Columns COPYed into ``cases``: the written ones and the content digest.
DIGESTED: Final = (*WRITTEN, ROW_DIGEST)
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
    connection: sa.Connection,
    table: sa.Table,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    derived: Mapping[str, Derived] | None = None,
) -> int:
    """COPY ``frame[columns]`` into ``table`` within the connection's transaction."""
    with psycopg_connection(connection).cursor() as cursor:
        return copy_frame_into(cursor, table, frame, columns, derived=derived)


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
    insert = pg.insert(cases).from_select(
        list(DIGESTED), sa.select(*(staged.c[n] for n in DIGESTED))
    )
    excluded = insert.excluded
    differs = sa.tuple_(*(cases.c[n] for n in COMPARED)).is_distinct_from(
        sa.tuple_(*(excluded[n] for n in COMPARED))
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[cases.c[n] for n in s.CASE_KEY],
        set_={n: excluded[n] for n in (*COMPARED, ROW_DIGEST)},
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
#: rebuild the primary key and the secondary indexes instead of updating them row by row.
BULK_MIN_ROWS: Final = 100_000
#: ``maintenance_work_mem`` of a transaction that rebuilds indexes.
INDEX_BUILD_MEMORY: Final = "512MB"


def _fewer_stored_than(connection: sa.Connection, rows: int) -> bool:
    """Return whether ``cases`` holds fewer than ``rows`` rows (counts at most ``rows``)."""
    some = sa.select(sa.literal(1)).select_from(TABLES[CASES]).limit(rows).subquery()
    stored = connection.execute(sa.select(sa.func.count()).select_from(some)).scalar_one()
    return int(stored) < rows


def with_digests(frame: pd.DataFrame, digests: np.ndarray) -> pd.DataFrame:
    """Return ``frame``'s written columns and the ``row_digest`` column (no data copied)."""
    columns: dict[str, object] = {name: frame[name] for name in WRITTEN}
    columns[ROW_DIGEST] = pd.Series(digests, index=frame.index)
    return pd.DataFrame(columns, index=frame.index, copy=False)


def _chunk_digests(chunk: pd.DataFrame) -> np.ndarray:
    return row_digests(chunk, COMPARED)


def insert_new(connection: sa.Connection, frame: pd.DataFrame) -> int:
    """COPY cases whose keys are not stored straight into ``cases``; return the count.

    ``frame`` holds the written columns, and ``row_digest`` (:func:`with_digests`) or else
    the digests are computed chunk by chunk while the COPY runs.

    A large load into a table at most as large as the load drops the primary key and the
    secondary indexes (GiST, created_at, area codes) first and rebuilds them after the COPY
    (a sorted build is faster than as many single inserts); a duplicate key then fails the
    primary key's rebuild, and with it the load. DDL is transactional, so a crash restores
    the indexes; while the transaction runs, readers of ``cases`` wait for it. The load
    also takes off the trigger that marks the local days of inserted cases for the read
    model (its transition table would copy every loaded row: about 10% more server time
    and 300 MB of temporary files per million cases) and marks the days itself, one
    index probe per day (:func:`geo.store.postgis.dirty_days.insert_trigger_suspended`).
    """
    cases = TABLES[CASES]
    rebuild = len(frame) >= BULK_MIN_ROWS and _fewer_stored_than(connection, len(frame))
    derived = None if ROW_DIGEST in frame.columns else {ROW_DIGEST: _chunk_digests}
    if not rebuild:
        return copy_frame(connection, cases, frame, DIGESTED, derived=derived)
    secondary = sorted(cases.indexes, key=lambda index: str(index.name))
    setting = sa.func.set_config("maintenance_work_mem", INDEX_BUILD_MEMORY, True)
    connection.execute(sa.select(setting))
    for index in secondary:
        index.drop(connection)
    connection.execute(sa.schema.DropConstraint(cases.primary_key))
    with dirty_days.insert_trigger_suspended(connection):
        inserted = copy_frame(connection, cases, frame, DIGESTED, derived=derived)
        connection.execute(sa.schema.AddConstraint(cases.primary_key))
        for index in secondary:
            index.create(connection)
    return inserted


def _copy_out_int64(connection: sa.Connection, query: sa.Select[tuple[int]]) -> np.ndarray:
    """Return the single non-null ``bigint`` column of ``query`` through a binary COPY.

    ``query`` must have no bound parameters (``COPY (query) TO STDOUT`` takes none).
    """
    compiled = query.compile(dialect=connection.dialect)
    if compiled.params:  # pragma: no cover - callers build parameter-free queries
        msg = "a COPY query cannot take bound parameters"
        raise ValueError(msg)
    statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(
        sql.SQL(str(compiled))  # type: ignore[arg-type]
    )
    with psycopg_connection(connection).cursor() as cursor, cursor.copy(statement) as copy:
        data = b"".join(bytes(block) for block in copy)
    # header: 11-byte signature, flags, extension length; tuples: count, length, value
    tuples = data[19 + int.from_bytes(data[15:19], "big") : -2]
    rows = np.frombuffer(tuples, dtype=np.dtype([("n", ">i2"), ("len", ">i4"), ("v", ">i8")]))
    return rows["v"].astype(np.int64)


def classify(
    connection: sa.Connection, frame: pd.DataFrame, digests: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return the positions of the rows of ``frame`` that are new, and that may have changed.

    A stored row whose ``row_digest`` equals the row's digest is unchanged and appears in
    neither. The keys and digests travel by COPY into a temporary table; one join
    against ``cases`` answers, and only the positions of new or differing rows come back.
    """
    cases = TABLES[CASES]
    keys = pd.DataFrame(
        {
            _ORDINAL: np.arange(len(frame), dtype=np.int64),
            **{name: frame[name] for name in s.CASE_KEY},
            ROW_DIGEST: digests,
        }
    )
    template = sa.Table(
        CASES,
        sa.MetaData(),
        sa.Column(_ORDINAL, sa.BigInteger),
        *(sa.Column(name, cases.c[name].type) for name in (*s.CASE_KEY, ROW_DIGEST)),
    )
    staged = stage(connection, template, keys, list(keys.columns))
    with psycopg_connection(connection).cursor() as cursor:
        cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(staged.name)))
    match = sa.and_(*(cases.c[name] == staged.c[name] for name in s.CASE_KEY))
    # position * 2 + 1 for new rows, position * 2 for stored rows whose digest differs
    one, two, zero = (sa.literal_column(str(i), sa.BigInteger) for i in (1, 2, 0))
    code = staged.c[_ORDINAL] * two + sa.case((cases.c[s.SOURCE].is_(None), one), else_=zero)
    query = (
        sa.select(code)
        .select_from(staged.outerjoin(cases, match))
        .where(cases.c[ROW_DIGEST].is_distinct_from(staged.c[ROW_DIGEST]))
    )
    found = np.sort(_copy_out_int64(connection, query))
    staged.drop(connection)
    new = found % 2 == 1
    return found[new] // 2, found[~new] // 2


def backfill_statement(staged: sa.Table) -> sa.Update:
    """Return the ``UPDATE`` giving staged digests to stored rows of the same content."""
    cases = TABLES[CASES]
    same_key = sa.and_(*(cases.c[name] == staged.c[name] for name in s.CASE_KEY))
    same = sa.tuple_(*(cases.c[n] for n in COMPARED)).is_not_distinct_from(
        sa.tuple_(*(staged.c[n] for n in COMPARED))
    )
    return (
        sa.update(cases)
        .values({ROW_DIGEST: staged.c[ROW_DIGEST]})
        .where(same_key, same, cases.c[ROW_DIGEST].is_distinct_from(staged.c[ROW_DIGEST]))
    )


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
    if connection.execute(sa.select(sa.exists().select_from(cases))).scalar_one() is False:
        # nothing to compare with: digests are computed while the rows are sent
        return UpsertCounts(insert_new(connection, frame), 0, 0)
    digests = row_digests(frame, COMPARED)
    new, differing = classify(connection, frame, digests)
    rows = with_digests(frame, digests)
    inserted = updated = 0
    if len(new):
        inserted = insert_new(connection, rows if len(new) == len(rows) else rows.iloc[new])
    if len(differing):
        staged = stage(connection, TABLES[CASES], rows.iloc[differing], DIGESTED)
        connection.execute(backfill_statement(staged))
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
