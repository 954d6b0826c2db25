"""The case-store interface every backend implements (DESIGN.md §4).

A :class:`CaseStore` keeps the tables of DESIGN.md §3: cases, case events, boundaries, the
quarantine, the hash-chained ingest-run log and the aggregate read model. Two backends
implement it with the same observable behaviour, checked by one contract test suite:

* :class:`geo.store.embedded.EmbeddedStore`, a GeoParquet dataset directory;
* ``geo.store.postgis.PostgisStore``, PostgreSQL with PostGIS.

Open one with :func:`geo.store.open_store`.

Rules every backend follows
---------------------------
* Inputs are validated and coerced with :mod:`geo.store.frames` (``case_columns``,
  ``canonical_events``, ``canonical_quarantine``, ``canonical_boundaries``), so both
  backends store the same values; inputs are never modified.
* Cases are keyed by (source, case_id) (:data:`ingest.schema.CASE_KEY`). A batch that
  repeats a key is refused (:func:`geo.store.frames.require_unique_keys`). Upserting a case
  that is stored with exactly the same values is "unchanged" and writes nothing, so the
  same batch twice changes nothing.
* Case events are keyed by (source, case_id, at, event): appending an event already
  stored is a no-op, so re-running an ingest does not duplicate the referral history.
* Boundaries are replaced wholesale by :meth:`CaseStore.write_boundaries`.
* :meth:`CaseStore.write_run` is one atomic unit: after a crash the store holds either
  everything of the run or nothing of it. The run record is built by :func:`make_run`,
  whose hash (:mod:`geo.store.chain`) links it to the previous run.
* Readers return canonical dtypes (see :mod:`geo.store.frames`): timestamps
  ``datetime64[ns, UTC]``, categories, ``Int8``/``Int16``, text as ``object``; cases as a
  GeoDataFrame with ``POINT(lon lat)`` geometry in EPSG:4326 and a fresh ``RangeIndex``,
  in no guaranteed row order (sort by (source, case_id) where order matters).
* Failures to open, read or write raise :class:`geo.errors.StoreError` with one sentence;
  bad input raises :class:`geo.errors.InputError` (or ``CRSError``/``BoundaryError``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Final, Self

import geopandas as gpd
import pandas as pd

from ingest import schema as s

from .chain import GENESIS_HASH, run_hash
from .filters import CaseFilter

#: Columns of :attr:`StoreInfo.cases_by_month` frames.
INFO_MONTH: Final = "month"
INFO_CASES: Final = "cases"
#: The key of a case event: appending an event already stored is a no-op.
EVENT_KEY: Final = (s.SOURCE, s.CASE_ID, s.EVENT_AT, s.EVENT)
#: Time zone of the read model's ``day`` and of month labels in :class:`StoreInfo`.
LOCAL_TZ: Final = "Asia/Tehran"


@dataclass(frozen=True)
class UpsertCounts:
    """How many cases an upsert inserted, updated and left unchanged.

    Examples
    --------
    >>> UpsertCounts(2, 1, 0) + UpsertCounts(0, 0, 3)
    UpsertCounts(inserted=2, updated=1, unchanged=3)
    """

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def total(self) -> int:
        """Number of cases in the batch."""
        return self.inserted + self.updated + self.unchanged

    @property
    def changed(self) -> int:
        """Number of cases the upsert wrote (inserted or updated)."""
        return self.inserted + self.updated

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@dataclass(frozen=True, eq=False)
class IngestBatch:
    """Everything one ingest run writes, handed to :meth:`CaseStore.write_run` at once.

    Parameters
    ----------
    source : str
        The source name (``tehran137``, ``open311:<city>``, ``synthetic``).
    input_sha256 : str
        SHA-256 hex digest of the input file(s) read.
    started_at : pandas.Timestamp or datetime
        When the run started, time zone-aware.
    rows_read : int
        Rows read from the input (kept plus quarantined).
    cases : pandas.DataFrame
        Cases to upsert (see :meth:`CaseStore.upsert_cases`).
    events : pandas.DataFrame, optional
        Case events to append.
    quarantine : pandas.DataFrame, optional
        Quarantined rows; a missing ``run_id`` is filled with the run's id.
    finished_at : pandas.Timestamp or datetime, optional
        When the run finished; the store's clock at commit time when omitted.
    run_id : str, optional
        Identifier of the run; a random UUID (hex) when omitted.
    """

    source: str
    input_sha256: str
    started_at: pd.Timestamp | dt.datetime
    rows_read: int
    cases: pd.DataFrame
    events: pd.DataFrame | None = None
    quarantine: pd.DataFrame | None = None
    finished_at: pd.Timestamp | dt.datetime | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class IngestRun:
    """One record of the hash-chained ingest-run log (columns :data:`ingest.schema.RUN_COLUMNS`).

    Build new ones with :func:`make_run`; :meth:`as_record` gives the mapping that
    :func:`geo.store.chain.run_hash` hashes.
    """

    seq: int
    run_id: str
    source: str
    input_sha256: str
    started_at: pd.Timestamp
    finished_at: pd.Timestamp
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    quarantined: int
    previous_hash: str
    run_hash: str

    def as_record(self) -> dict[str, Any]:
        """Return the record as ``{column: value}`` in :data:`ingest.schema.RUN_COLUMNS` order."""
        return {name: getattr(self, name) for name in s.RUN_COLUMNS}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> IngestRun:
        """Build a run from a mapping with the :data:`ingest.schema.RUN_COLUMNS` keys."""
        values: dict[str, Any] = {}
        for name in s.RUN_COLUMNS:
            value = record[name]
            if name in (s.RUN_STARTED_AT, s.RUN_FINISHED_AT):
                value = _utc_micros(value)
            elif name in RUN_INT_COLUMNS:
                value = int(value)
            else:
                value = str(value)
            values[name] = value
        return cls(**values)

    @property
    def counts(self) -> UpsertCounts:
        """The run's inserted/updated/unchanged counts."""
        return UpsertCounts(self.inserted, self.updated, self.unchanged)


#: Integer columns of the run log.
RUN_INT_COLUMNS: Final = (
    s.RUN_SEQ,
    s.RUN_ROWS_READ,
    s.RUN_INSERTED,
    s.RUN_UPDATED,
    s.RUN_UNCHANGED,
    s.RUN_QUARANTINED,
)


def _utc_micros(value: object) -> pd.Timestamp:
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    if stamp.tzinfo is None:
        msg = f"run timestamp {value!r} is naive; give a time zone-aware instant."
        raise ValueError(msg)
    return stamp.tz_convert("UTC").floor("us")


def make_run(
    batch: IngestBatch,
    counts: UpsertCounts,
    *,
    quarantined: int,
    previous: IngestRun | None,
    finished_at: pd.Timestamp | dt.datetime | None = None,
) -> IngestRun:
    """Build the run record of ``batch``, chained to ``previous``.

    Backends call this inside their write transaction, after the upsert, with the last
    stored run (read under the writer lock or row lock), so that the chain has no fork.

    Parameters
    ----------
    batch : IngestBatch
        The batch being written.
    counts : UpsertCounts
        What the upsert of ``batch.cases`` did.
    quarantined : int
        Number of quarantine rows written for the run.
    previous : IngestRun or None
        The last run in the store, or None for the first run.
    finished_at : pandas.Timestamp or datetime, optional
        Used when ``batch.finished_at`` is None; defaults to now.

    Returns
    -------
    IngestRun
        ``seq`` one past the previous run's, timestamps in UTC at microsecond resolution,
        and ``run_hash`` computed by :func:`geo.store.chain.run_hash`.
    """
    end = batch.finished_at if batch.finished_at is not None else finished_at
    record: dict[str, Any] = {
        s.RUN_SEQ: 1 if previous is None else previous.seq + 1,
        s.RUN_ID: str(batch.run_id),
        s.RUN_SOURCE: str(batch.source),
        s.RUN_INPUT_SHA256: str(batch.input_sha256),
        s.RUN_STARTED_AT: _utc_micros(batch.started_at),
        s.RUN_FINISHED_AT: _utc_micros(end if end is not None else pd.Timestamp.now(tz="UTC")),
        s.RUN_ROWS_READ: int(batch.rows_read),
        s.RUN_INSERTED: counts.inserted,
        s.RUN_UPDATED: counts.updated,
        s.RUN_UNCHANGED: counts.unchanged,
        s.RUN_QUARANTINED: int(quarantined),
        s.RUN_PREVIOUS_HASH: GENESIS_HASH if previous is None else previous.run_hash,
    }
    record[s.RUN_HASH] = run_hash(record)
    return IngestRun(**record)


def runs_frame(runs: Sequence[IngestRun]) -> pd.DataFrame:
    """Return runs as the frame :meth:`CaseStore.read_runs` returns (sorted by ``seq``).

    Columns :data:`ingest.schema.RUN_COLUMNS`; integers ``int64``, timestamps
    ``datetime64[ns, UTC]``, text ``object``.
    """
    ordered = sorted(runs, key=lambda run: run.seq)
    frame = pd.DataFrame(
        {name: [getattr(run, name) for run in ordered] for name in s.RUN_COLUMNS},
        columns=list(s.RUN_COLUMNS),
    )
    for name in RUN_INT_COLUMNS:
        frame[name] = frame[name].astype("int64")
    for name in (s.RUN_STARTED_AT, s.RUN_FINISHED_AT):
        frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[ns, UTC]")
    for name in (s.RUN_ID, s.RUN_SOURCE, s.RUN_INPUT_SHA256, s.RUN_PREVIOUS_HASH, s.RUN_HASH):
        frame[name] = frame[name].astype(object)
    return frame


@dataclass(frozen=True)
class StoreInfo:
    """A summary of a store, for ``t137 store info``.

    Attributes
    ----------
    url : str
        Where the store is (a directory, or the database URL without its password).
    backend : str
        ``"embedded"`` or ``"postgis"``.
    cases : int
        Number of stored cases.
    cases_by_month : tuple of (str, str, int)
        ``(source, month, cases)`` sorted by source then month; ``month`` is the
        ``YYYY-MM`` of ``created_at`` in Asia/Tehran time.
    events, quarantined, boundaries, runs, read_model_rows : int
        Row counts of the other tables.
    last_run : IngestRun or None
        The most recent ingest run.
    chain_head : str
        Hash of the last run (:data:`geo.store.chain.GENESIS_HASH` when there is none).
    """

    url: str
    backend: str
    cases: int
    cases_by_month: tuple[tuple[str, str, int], ...]
    events: int
    quarantined: int
    boundaries: int
    runs: int
    read_model_rows: int
    last_run: IngestRun | None
    chain_head: str

    def as_dict(self) -> dict[str, Any]:
        """Return the summary as JSON-ready values (for ``--json``)."""
        last = None
        if self.last_run is not None:
            last = {
                name: (value.isoformat() if isinstance(value, pd.Timestamp) else value)
                for name, value in self.last_run.as_record().items()
            }
        return {
            "url": self.url,
            "backend": self.backend,
            "cases": self.cases,
            "cases_by_month": [
                {s.SOURCE: src, INFO_MONTH: month, INFO_CASES: n}
                for src, month, n in self.cases_by_month
            ],
            "events": self.events,
            "quarantined": self.quarantined,
            "boundaries": self.boundaries,
            "runs": self.runs,
            "read_model_rows": self.read_model_rows,
            "last_run": last,
            "chain_head": self.chain_head,
        }


class CaseStore(ABC):
    """Where cases and everything derived from them are kept.

    Use as a context manager, or call :meth:`close` when done::

        with open_store("./data/store") as store:
            cases = store.read_cases(CaseFilter(regions=["6"]))

    Implementations are safe for one writer and any number of readers at a time; a second
    writer waits (up to a timeout) for the first.
    """

    #: Short backend name, shown by :meth:`info`.
    backend: ClassVar[str]

    @property
    @abstractmethod
    def url(self) -> str:
        """Where the store is: a directory path or a database URL without password."""

    # -- boundaries ---------------------------------------------------------------------------
    @abstractmethod
    def write_boundaries(self, frame: gpd.GeoDataFrame) -> int:
        """Replace the stored boundaries with ``frame`` and return the number of features.

        Parameters
        ----------
        frame : geopandas.GeoDataFrame
            The boundary model (:mod:`geo.boundary_model`): ``level``, ``code``,
            ``name_fa``, ``name_en``, ``parent_code``, ``population`` and polygonal
            geometry in EPSG:4326.

        Raises
        ------
        geo.errors.BoundaryError
            The frame does not fit the boundary model.
        geo.errors.CRSError
            The frame is in a CRS other than EPSG:4326 (the message names both).
        """

    @abstractmethod
    def read_boundaries(self) -> gpd.GeoDataFrame:
        """Return the stored boundaries in the boundary model, in canonical order.

        Sorted by level (region first) then code (:func:`geo.boundary_model.canonical_order`);
        MultiPolygon geometry in EPSG:4326; an empty frame when none are stored.
        """

    # -- cases --------------------------------------------------------------------------------
    @abstractmethod
    def upsert_cases(self, cases: pd.DataFrame) -> UpsertCounts:
        """Insert new cases and update changed ones, by (source, case_id).

        Parameters
        ----------
        cases : pandas.DataFrame or geopandas.GeoDataFrame
            Cases with at least :data:`ingest.schema.REQUIRED_CASE_COLUMNS`; see
            :func:`geo.store.frames.canonical_cases` for what is accepted. A stored case is
            replaced by the new row as a whole.

        Returns
        -------
        UpsertCounts
            New keys are inserted; stored keys whose values differ are updated; stored keys
            with identical values are unchanged (and not rewritten).

        Raises
        ------
        geo.errors.InputError
            A required column is missing (it is named), a value is invalid, or a key repeats.
        geo.errors.CRSError
            The geometry is in a CRS other than EPSG:4326 (the message names both).
        """

    @abstractmethod
    def read_cases(
        self,
        filters: CaseFilter | None = None,
        *,
        columns: Sequence[str] | None = None,
        geometry: bool = True,
    ) -> gpd.GeoDataFrame:
        """Return the stored cases that match ``filters``, with filters pushed down.

        Parameters
        ----------
        filters : CaseFilter, optional
            Which cases; all of them when None. The result equals
            ``filters.apply(all cases)``.
        columns : sequence of str, optional
            Case columns to return (from :data:`ingest.schema.CASE_COLUMNS`); all when
            None. With the geometry, ``source``, ``case_id``, ``lon`` and ``lat`` are always
            included.
        geometry : bool, default True
            Build the point geometry from ``lon``/``lat``. With False the result is a plain
            DataFrame of exactly the asked columns (no key added), which saves most of the
            time and memory of a large read that needs no points or ids (durations, counts).

        Returns
        -------
        geopandas.GeoDataFrame
            Canonical dtypes, EPSG:4326, fresh ``RangeIndex``, rows in no guaranteed order
            (the embedded store returns them by ``created_at``); a pandas DataFrame with
            ``geometry=False``.

        Examples
        --------
        One Jalali month (Mehr 1403) of the cases in a throwaway embedded store:

        >>> import tempfile, pandas as pd
        >>> from geo.store import CaseFilter, open_store
        >>> cases = pd.DataFrame({
        ...     "case_id": ["1", "2"], "source": "synthetic", "kind": "complaint",
        ...     "status": "registered", "category": ["waste", "traffic"],
        ...     "created_at": pd.to_datetime(["2024-09-25T06:00Z", "2024-10-25T06:00Z"]),
        ...     "lon": [51.39, 51.40], "lat": [35.69, 35.70]})
        >>> mehr = CaseFilter(start="2024-09-22T00:00+03:30", end="2024-10-22T00:00+03:30")
        >>> with tempfile.TemporaryDirectory() as folder, open_store(folder) as store:
        ...     _ = store.upsert_cases(cases)
        ...     month = store.read_cases(mehr)
        >>> month[["case_id", "category"]].values.tolist(), month.crs.to_string()
        ([['1', 'waste']], 'EPSG:4326')
        """

    # -- events and quarantine ----------------------------------------------------------------
    @abstractmethod
    def append_events(self, events: pd.DataFrame) -> int:
        """Append case events and return how many were new.

        Events already stored (same source, case_id, at and event) are skipped, and so are
        repeats within ``events``.

        Parameters
        ----------
        events : pandas.DataFrame
            Columns of :data:`ingest.schema.EVENT_COLUMNS` (``unit`` and ``note`` optional).
        """

    @abstractmethod
    def read_events(self, filters: CaseFilter | None = None) -> pd.DataFrame:
        """Return stored case events, sorted by (source, case_id, at, event).

        Parameters
        ----------
        filters : CaseFilter, optional
            Only events of the cases that match (its ``sources`` field is applied to the
            events directly; the other fields select cases first). All events when None.
        """

    @abstractmethod
    def write_quarantine(self, rows: pd.DataFrame) -> int:
        """Append quarantined rows and return how many were written.

        Parameters
        ----------
        rows : pandas.DataFrame
            Columns of :data:`ingest.schema.QUARANTINE_COLUMNS`; ``run_id``,
            ``source_file`` and ``reason`` must be present.
        """

    @abstractmethod
    def read_quarantine(self, run_id: str | None = None) -> pd.DataFrame:
        """Return the quarantine (of one run when ``run_id`` is given).

        Columns :data:`ingest.schema.QUARANTINE_COLUMNS`, sorted by (run_id, source_file,
        row_number) in the order written within equal keys; ``row_number`` is ``Int64``.
        """

    # -- ingest runs --------------------------------------------------------------------------
    @abstractmethod
    def write_run(self, batch: IngestBatch) -> IngestRun:
        """Write one ingest run atomically and return its record.

        Upserts ``batch.cases``, appends ``batch.events``, writes ``batch.quarantine`` (with
        the run's id) and records the run, chained to the previous one by its hash, as one
        unit: a crash leaves either all of it or none of it.

        Returns
        -------
        IngestRun
            The recorded run (see :func:`make_run`).
        """

    @abstractmethod
    def read_runs(self) -> pd.DataFrame:
        """Return the ingest-run log, sorted by ``seq`` (see :func:`runs_frame`)."""

    def last_run(self) -> IngestRun | None:
        """Return the most recent ingest run, or None when there is none."""
        runs = self.read_runs()
        if runs.empty:
            return None
        return IngestRun.from_record({str(k): v for k, v in runs.iloc[-1].items()})

    @abstractmethod
    def data_version(self) -> str:
        """Return a short token that changes whenever what a reader sees may have changed.

        It changes with every ingest run and every read-model refresh that changes the model
        (and, in the embedded store, with every write), and stays the same while nothing is
        written, so caches can key on it. It is cheap: one small read, never a scan of the cases.
        """

    # -- read model ---------------------------------------------------------------------------
    @abstractmethod
    def refresh_read_model(self, *, full: bool = False) -> int:
        """Bring the aggregate read model up to date with the cases; return its row count.

        The result equals :func:`geo.store.read_model.compute_read_model` of all stored
        cases. Ingest calls this after each run. The refresh is incremental: only the local
        days whose cases changed since the last refresh are recomputed, and when none
        changed nothing is written.

        Parameters
        ----------
        full : bool, default False
            Recompute every day (for example after restoring files by hand).
        """

    @abstractmethod
    def read_read_model(
        self,
        *,
        level: str | None = None,
        start_day: dt.date | None = None,
        end_day: dt.date | None = None,
        sources: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return the aggregate read model, optionally restricted.

        Parameters
        ----------
        level : str, optional
            One boundary level (``region``, ``district``, ``neighborhood``).
        start_day, end_day : datetime.date, optional
            Local (Asia/Tehran) days ``[start_day, end_day)``.
        sources : sequence of str, optional
            Only these sources.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`ingest.schema.READ_MODEL_COLUMNS`, normalized and sorted by
            :func:`geo.store.read_model.normalize_read_model`. Empty until the first
            :meth:`refresh_read_model`.
        """

    def sum_read_model(
        self,
        by: Sequence[str],
        *,
        level: str,
        start_day: dt.date | None = None,
        end_day: dt.date | None = None,
        where: Mapping[str, Sequence[str]] | None = None,
    ) -> pd.DataFrame:
        """Return the read model's measures at one level, filtered and summed by ``by``.

        What a dashboard view needs (area totals, daily series, category counts) is a few
        hundred rows; summing where the read model lives avoids turning millions of rows
        into a DataFrame. The backends push the filters and the sum down; this default
        reads the level and sums in pandas.

        Parameters
        ----------
        by : sequence of str
            Read-model keys (:data:`ingest.schema.READ_MODEL_KEYS`) to group by, for example
            ``["area_code"]`` or ``["day"]``; missing keys form their own group. Empty: one
            row of totals.
        level : str
            One boundary level (``region``, ``district``, ``neighborhood``).
        start_day, end_day : datetime.date, optional
            Local (Asia/Tehran) days ``[start_day, end_day)``.
        where : mapping of str to sequence of str, optional
            Read-model key → the values kept, e.g. ``{"category": ["waste"]}``.

        Returns
        -------
        pandas.DataFrame
            The ``by`` columns (``object``: text, :class:`datetime.date` for ``day``, None
            when missing) and every measure of :data:`ingest.schema.READ_MODEL_MEASURES`,
            sorted by ``by`` (missing last), as
            :func:`geo.store.read_model.sum_read_model_frame` of the read model.
        """
        from .read_model import check_sum_keys, sum_read_model_frame

        check_sum_keys(by, where)
        frame = self.read_read_model(level=level, start_day=start_day, end_day=end_day)
        return sum_read_model_frame(frame, by, where)

    # -- summary and lifecycle ----------------------------------------------------------------
    @abstractmethod
    def info(self) -> StoreInfo:
        """Return counts by source and month, the last ingest run and the chain head."""

    @abstractmethod
    def close(self) -> None:
        """Release the store's resources (connections, locks).

        Closing twice is harmless; any other method called after ``close`` raises
        :class:`geo.errors.StoreError`.
        """

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
