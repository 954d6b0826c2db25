"""``PostgisStore``: the case store in PostgreSQL + PostGIS.

Opening
    The URL's server is contacted at once; an unreachable server is one
    :class:`~geo.errors.StoreError` sentence naming host, port and database (never the
    password). A database without the store's tables is created on the spot (Alembic
    ``upgrade head``, which also runs ``CREATE EXTENSION IF NOT EXISTS postgis``); a
    database at an older schema revision is refused with a message asking for
    ``t137 db upgrade`` — migrating a shared database is the operator's decision.

Writing
    Every write is one transaction that first takes a transaction-scoped advisory lock, so
    writers never interleave (a second writer waits up to ``lock_timeout_s``); readers are
    never blocked. :meth:`PostgisStore.write_run` upserts the cases, appends the events,
    writes the quarantine and records the chained run in that single transaction: a crash
    or a killed client leaves all of it or none of it. Rows travel by COPY
    (:mod:`geo.store.postgis.copy_load`), never as SQL text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import ClassVar, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, OperationalError

from geo.boundary_model import canonical_order, empty_frame
from ingest import schema as s

from ...crs import STORAGE_CRS
from ...errors import StoreError
from .. import frames
from ..base import (
    EVENT_KEY,
    LOCAL_TZ,
    CaseStore,
    IngestBatch,
    IngestRun,
    StoreInfo,
    UpsertCounts,
    make_run,
    runs_frame,
)
from ..chain import GENESIS_HASH
from ..embedded_arrow import arrow_to_cases
from ..filters import CaseFilter
from ..read_model import check_sum_keys, normalize_read_model, normalize_sums
from . import read_model_refresh, read_model_sql
from .connect import create_engine, describe, parse_url, redacted, unreachable
from .copy_load import copy_into, to_arrow
from .migrate import SchemaState, head_revision, schema_state, upgrade
from .models import (
    BOUNDARIES,
    CASE_EVENTS,
    CASES,
    INGEST_RUNS,
    QUARANTINE,
    READ_MODEL,
    ROW_ID,
    SRID,
    TABLES,
)
from .query import where_clauses
from .read_copy import CASE_TYPES, copy_out, epoch_micros, with_timestamps
from .upsert import append_events, psycopg_connection, upsert_cases

#: Advisory lock key held by every write transaction.
WRITER_LOCK: Final = 137_000_002
#: SQLSTATE of ``lock_not_available`` (lock_timeout expired).
LOCK_NOT_AVAILABLE: Final = "55P03"
_MONTH_FORMAT: Final = "YYYY-MM"


class PostgisStore(CaseStore):
    """The case store in a PostgreSQL database with PostGIS.

    Parameters
    ----------
    url : str
        ``postgresql+psycopg://user[:password]@host[:port]/database``.
    lock_timeout_s : float, default 60
        How long a writer waits for another writer before failing.

    Raises
    ------
    geo.errors.StoreError
        The server cannot be reached, or the schema is older (run ``t137 db upgrade``) or
        newer than this version of t137.
    """

    backend: ClassVar[str] = "postgis"

    def __init__(self, url: str, *, lock_timeout_s: float = 60.0) -> None:
        self._url = parse_url(url)
        self._lock_timeout_ms = max(1, int(lock_timeout_s * 1000))
        self._engine = create_engine(self._url)
        self._closed = False
        try:
            self._ensure_schema()
        except BaseException:
            self._engine.dispose()
            raise

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The database URL without its password."""
        return redacted(self._url)

    @property
    def engine(self) -> sa.Engine:
        """The SQLAlchemy engine (for tools and tests; writes should use the store's methods)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection; the store refuses work afterwards."""
        self._closed = True
        self._engine.dispose()

    def _require_open(self) -> None:
        if self._closed:
            msg = (
                f"The case store at {describe(self._url)} is closed; open it again with open_store."
            )
            raise StoreError(msg)

    def _ensure_schema(self) -> None:
        try:
            with self._engine.connect() as connection:
                state, current = schema_state(connection)
        except OperationalError as exc:
            raise unreachable(self._url, exc) from None
        if state is SchemaState.EMPTY:
            try:
                upgrade(self._engine)
            except DBAPIError as exc:
                msg = (
                    f"Cannot create the case store schema in {describe(self._url)}: "
                    f"{_first_line(exc)}; run `t137 db upgrade --store URL` as a user allowed "
                    "to create tables and the postgis extension."
                )
                raise StoreError(msg) from None
        elif state is SchemaState.BEHIND:
            msg = (
                f"The case store in {describe(self._url)} is at schema revision {current} but "
                f"this t137 needs {head_revision()}; run `t137 db upgrade --store URL` first."
            )
            raise StoreError(msg)
        elif state is SchemaState.AHEAD:
            msg = (
                f"The case store in {describe(self._url)} is at schema revision {current}, "
                "newer than this t137 knows; upgrade t137."
            )
            raise StoreError(msg)

    def _failure(self, exc: BaseException, doing: str) -> StoreError:
        """Return the one-sentence error for a database error raised while ``doing``."""
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        code = getattr(orig, "sqlstate", None)
        if code == LOCK_NOT_AVAILABLE:
            msg = (
                f"Another writer has held the case store in {describe(self._url)} for "
                f"{self._lock_timeout_ms / 1000:g} s; try again when it has finished."
            )
            return StoreError(msg)
        if code is None and isinstance(orig, psycopg.OperationalError):
            return unreachable(self._url, exc)
        msg = f"{doing} the case store in {describe(self._url)} failed: {_first_line(exc)}."
        return StoreError(msg)

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        self._require_open()
        try:
            with self._engine.connect() as connection:
                yield connection
        except (DBAPIError, psycopg.Error) as exc:
            raise self._failure(exc, "Reading") from None

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        """Yield a connection in a transaction holding the writer lock; commit at the end."""
        self._require_open()
        try:
            with self._engine.begin() as connection:
                timeout = f"{self._lock_timeout_ms}ms"
                connection.execute(sa.select(sa.func.set_config("lock_timeout", timeout, True)))
                connection.execute(sa.select(sa.func.pg_advisory_xact_lock(WRITER_LOCK)))
                connection.execute(sa.select(sa.func.set_config("lock_timeout", "0", True)))
                yield connection
        except (DBAPIError, psycopg.Error) as exc:
            raise self._failure(exc, "Writing to") from None

    # -- boundaries ----------------------------------------------------------------------------
    def write_boundaries(self, frame: gpd.GeoDataFrame) -> int:
        """Replace the stored boundaries with ``frame`` and return the number of features."""
        boundaries = frames.canonical_boundaries(frame)
        table = TABLES[BOUNDARIES]
        data = pd.DataFrame(boundaries.drop(columns=s.GEOMETRY))
        geometry = shapely.set_srid(boundaries.geometry.to_numpy(), SRID)
        data[s.GEOMETRY] = shapely.to_wkb(geometry, include_srid=True)
        with self._writing() as connection:
            connection.execute(sa.delete(table))
            with psycopg_connection(connection).cursor() as cursor:
                copy_into(cursor, table, to_arrow(data, s.BOUNDARY_COLUMNS))
        return len(boundaries)

    def read_boundaries(self) -> gpd.GeoDataFrame:
        """Return the stored boundaries in the boundary model, in canonical order."""
        table = TABLES[BOUNDARIES]
        names = [name for name in s.BOUNDARY_COLUMNS if name != s.GEOMETRY]
        query = sa.select(
            *(table.c[name] for name in names),
            sa.func.ST_AsBinary(table.c[s.GEOMETRY]).label(s.GEOMETRY),
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
        data = pd.DataFrame(rows, columns=[*names, s.GEOMETRY])
        geometry = shapely.from_wkb(np.array([bytes(g) for g in data[s.GEOMETRY]], dtype=object))
        if data.empty:
            return empty_frame()
        frame = gpd.GeoDataFrame(data.drop(columns=s.GEOMETRY), geometry=geometry, crs=STORAGE_CRS)
        return canonical_order(frames.canonical_boundaries(frame))

    # -- cases ---------------------------------------------------------------------------------
    def upsert_cases(self, cases: pd.DataFrame) -> UpsertCounts:
        """Insert new cases and update changed ones, by (source, case_id), in one transaction."""
        frame = _prepared_cases(cases)
        with self._writing() as connection:
            return upsert_cases(connection, frame)

    def read_cases(
        self,
        filters: CaseFilter | None = None,
        *,
        columns: Sequence[str] | None = None,
        geometry: bool = True,
    ) -> gpd.GeoDataFrame:
        """Return the stored cases that match ``filters`` (pushed into SQL ``WHERE``)."""
        wanted = _wanted_columns(columns, geometry=geometry)
        table = TABLES[CASES]
        fetched = [name for name in s.CASE_COLUMNS if name in wanted]
        selected = [
            (epoch_micros(table.c[name]) if name in s.TIMESTAMP_COLUMNS else table.c[name]).label(
                name
            )
            for name in fetched
        ]
        query = sa.select(*selected)
        if filters is not None:
            query = query.where(*where_clauses(table, filters))
        with self._reading() as connection, connection.begin():
            rows = copy_out(connection, query, {name: CASE_TYPES[name] for name in fetched})
        if rows.num_rows and set(s.CASE_KEY) <= set(rows.column_names):
            rows = rows.sort_by([(name, "ascending") for name in s.CASE_KEY])
        return arrow_to_cases(with_timestamps(rows), geometry=geometry)

    # -- events and quarantine -----------------------------------------------------------------
    def append_events(self, events: pd.DataFrame) -> int:
        """Append case events not stored yet and return how many were new."""
        frame = frames.canonical_events(events)
        with self._writing() as connection:
            return append_events(connection, frame)

    def read_events(self, filters: CaseFilter | None = None) -> pd.DataFrame:
        """Return stored case events (of the cases matching ``filters``), sorted by key."""
        events, cases = TABLES[CASE_EVENTS], TABLES[CASES]
        query = sa.select(*(events.c[name] for name in s.EVENT_COLUMNS))
        if filters is not None:
            sources = filters.values("sources")
            if sources is not None:
                query = query.where(events.c[s.SOURCE].in_(sorted(sources)))
            others = filters.replace(sources=None)
            if not others.is_empty:
                matching = sa.select(cases.c[s.SOURCE], cases.c[s.CASE_ID]).where(
                    *where_clauses(cases, others)
                )
                key = sa.tuple_(events.c[s.SOURCE], events.c[s.CASE_ID])
                query = query.where(key.in_(matching))
        query = query.order_by(*(events.c[name] for name in EVENT_KEY))
        with self._reading() as connection:
            rows = connection.execute(query).all()
        raw = pd.DataFrame(rows, columns=list(s.EVENT_COLUMNS))
        raw[s.EVENT_AT] = pd.to_datetime(raw[s.EVENT_AT], utc=True)
        out = frames.canonical_events(raw)
        return out.sort_values(list(EVENT_KEY), kind="stable").reset_index(drop=True)

    def write_quarantine(self, rows: pd.DataFrame) -> int:
        """Append quarantined rows and return how many were written."""
        frame = frames.canonical_quarantine(rows)
        with self._writing() as connection:
            return _copy_quarantine(connection, frame)

    def read_quarantine(self, run_id: str | None = None) -> pd.DataFrame:
        """Return the quarantine (of one run), sorted by (run_id, source_file, row_number)."""
        table = TABLES[QUARANTINE]
        query = sa.select(*(table.c[name] for name in s.QUARANTINE_COLUMNS)).order_by(
            table.c[ROW_ID]
        )
        if run_id is not None:
            query = query.where(table.c[s.Q_RUN_ID] == run_id)
        with self._reading() as connection:
            rows = connection.execute(query).all()
        frame = frames.canonical_quarantine(pd.DataFrame(rows, columns=list(s.QUARANTINE_COLUMNS)))
        keys = [s.Q_RUN_ID, s.Q_SOURCE_FILE, s.Q_ROW_NUMBER]
        return frame.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)

    # -- ingest runs ---------------------------------------------------------------------------
    def write_run(self, batch: IngestBatch) -> IngestRun:
        """Write one ingest run (cases, events, quarantine, run record) in one transaction."""
        cases = _prepared_cases(batch.cases)
        events = frames.canonical_events(batch.events) if batch.events is not None else None
        quarantine = (
            frames.canonical_quarantine(batch.quarantine, run_id=batch.run_id)
            if batch.quarantine is not None
            else None
        )
        with self._writing() as connection:
            _require_new_run_id(connection, batch.run_id)
            counts = upsert_cases(connection, cases)
            if events is not None:
                append_events(connection, events)
            quarantined = _copy_quarantine(connection, quarantine) if quarantine is not None else 0
            previous = _last_run(connection)
            now = connection.execute(sa.select(sa.func.clock_timestamp())).scalar_one()
            run = make_run(
                batch, counts, quarantined=quarantined, previous=previous, finished_at=now
            )
            record = run.as_record()
            for name in (s.RUN_STARTED_AT, s.RUN_FINISHED_AT):
                record[name] = record[name].to_pydatetime()
            connection.execute(sa.insert(TABLES[INGEST_RUNS]).values(record))
        return run

    def read_runs(self) -> pd.DataFrame:
        """Return the ingest-run log, sorted by ``seq``."""
        table = TABLES[INGEST_RUNS]
        query = sa.select(*(table.c[name] for name in s.RUN_COLUMNS)).order_by(table.c[s.RUN_SEQ])
        with self._reading() as connection:
            rows = connection.execute(query).mappings().all()
        return runs_frame([IngestRun.from_record(dict(row)) for row in rows])

    def data_version(self) -> str:
        """Return the last run's ``seq`` and hash, and the read model's version.

        The version (``read_model_state.version``) counts the refreshes that changed the
        model; it is committed with the model, so a reader never pairs a new token with
        an old model. A refresh that finds nothing dirty leaves it alone.
        """
        runs = TABLES[INGEST_RUNS]
        last = (
            sa.select(runs.c[s.RUN_SEQ], runs.c[s.RUN_HASH])
            .order_by(runs.c[s.RUN_SEQ].desc())
            .limit(1)
        )
        with self._reading() as connection:
            row = connection.execute(last).first()
            model = read_model_refresh.version(connection)
        run = "0:genesis" if row is None else f"{row[0]}:{row[1]}"
        return f"postgis:{run}:{model}"

    def last_run(self) -> IngestRun | None:
        """Return the most recent ingest run, or None when there is none."""
        with self._reading() as connection:
            return _last_run(connection)

    # -- read model ----------------------------------------------------------------------------
    def refresh_read_model(self, *, full: bool = False) -> int:
        """Bring the ``read_model`` table up to date with the cases; return its row count.

        Only the Asia/Tehran days whose cases changed since the last refresh are
        recomputed (triggers on ``cases`` record them, whoever writes); nothing is written
        when none changed; many changed days, an empty model or ``full=True`` rebuild the
        whole model (:func:`geo.store.postgis.read_model_refresh.refresh`). One
        transaction under the writer lock.

        Parameters
        ----------
        full : bool, default False
            Rebuild every day.
        """
        with self._writing() as connection:
            return read_model_refresh.refresh(connection, full=full).rows

    def read_read_model(
        self,
        *,
        level: str | None = None,
        start_day: dt.date | None = None,
        end_day: dt.date | None = None,
        sources: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return the stored read model, optionally restricted (see :class:`CaseStore`)."""
        query = read_model_sql.read_statement(
            level=level, start_day=start_day, end_day=end_day, sources=sources
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
        return normalize_read_model(pd.DataFrame(rows, columns=list(s.READ_MODEL_COLUMNS)))

    def sum_read_model(
        self,
        by: Sequence[str],
        *,
        level: str,
        start_day: dt.date | None = None,
        end_day: dt.date | None = None,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> pd.DataFrame:
        """Sum the read model in SQL (``GROUP BY``; see :meth:`CaseStore.sum_read_model`)."""
        check_sum_keys(by, where)
        query = read_model_sql.sum_statement(
            by, level=level, start_day=start_day, end_day=end_day, where=where
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
        return normalize_sums(pd.DataFrame(rows, columns=[*by, *s.READ_MODEL_MEASURES]), by)

    # -- summary -------------------------------------------------------------------------------
    def info(self) -> StoreInfo:
        """Return counts by source and month, the last ingest run and the chain head."""
        cases = TABLES[CASES]
        month = sa.func.to_char(
            sa.func.timezone(sa.literal(LOCAL_TZ, sa.Text), cases.c[s.CREATED_AT]), _MONTH_FORMAT
        ).label("month")
        by_month = (
            sa.select(cases.c[s.SOURCE], month, sa.func.count())
            .group_by(cases.c[s.SOURCE], month)
            .order_by(cases.c[s.SOURCE], month)
        )
        counts: dict[str, int] = {}
        with self._reading() as connection:
            for name in (CASES, CASE_EVENTS, QUARANTINE, BOUNDARIES, INGEST_RUNS, READ_MODEL):
                query = sa.select(sa.func.count()).select_from(TABLES[name])
                counts[name] = int(connection.execute(query).scalar_one())
            months = tuple(
                (str(src), str(label), int(n)) for src, label, n in connection.execute(by_month)
            )
            last = _last_run(connection)
        return StoreInfo(
            url=self.url,
            backend=self.backend,
            cases=counts[CASES],
            cases_by_month=months,
            events=counts[CASE_EVENTS],
            quarantined=counts[QUARANTINE],
            boundaries=counts[BOUNDARIES],
            runs=counts[INGEST_RUNS],
            read_model_rows=counts[READ_MODEL],
            last_run=last,
            chain_head=GENESIS_HASH if last is None else last.run_hash,
        )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__).rstrip(".")


def _prepared_cases(cases: pd.DataFrame) -> pd.DataFrame:
    frame = frames.case_columns(cases)
    frames.require_unique_keys(frame, s.CASE_KEY, what="cases")
    return frame


def _wanted_columns(columns: Sequence[str] | None, *, geometry: bool = True) -> set[str]:
    if columns is None:
        return set(s.CASE_COLUMNS)
    unknown = [name for name in columns if name not in s.CASE_COLUMNS]
    if unknown:
        msg = (
            f"read_cases got unknown column(s) {', '.join(map(repr, unknown))}; use names from "
            "ingest.schema.CASE_COLUMNS."
        )
        raise StoreError(msg)
    return {*columns, *((s.SOURCE, s.CASE_ID, s.LON, s.LAT) if geometry else ())}


def _copy_quarantine(connection: sa.Connection, frame: pd.DataFrame) -> int:
    if len(frame) == 0:
        return 0
    with psycopg_connection(connection).cursor() as cursor:
        return copy_into(cursor, TABLES[QUARANTINE], to_arrow(frame, s.QUARANTINE_COLUMNS))


def _require_new_run_id(connection: sa.Connection, run_id: str) -> None:
    table = TABLES[INGEST_RUNS]
    query = sa.select(table.c[s.RUN_SEQ]).where(table.c[s.RUN_ID] == str(run_id))
    seq = connection.execute(query).scalar()
    if seq is not None:
        msg = (
            f"Ingest run {run_id!r} is already recorded (run {seq}); give each run its own "
            "run_id (leave it out to get a fresh one)."
        )
        raise StoreError(msg)


def _last_run(connection: sa.Connection) -> IngestRun | None:
    table = TABLES[INGEST_RUNS]
    query = (
        sa.select(*(table.c[name] for name in s.RUN_COLUMNS))
        .order_by(table.c[s.RUN_SEQ].desc())
        .limit(1)
    )
    row = connection.execute(query).mappings().first()
    return None if row is None else IngestRun.from_record(dict(row))
