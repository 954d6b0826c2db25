"""The only module that reads the store: cached aggregates and pre-simplified geometries.

A :class:`DataService` belongs to one app (it lives in ``server.extensions``; get it with
:func:`service`). It opens the store for each read, keeps nothing mutable between requests
and caches every result with flask-caching under a key made of the method name and its
hashable arguments (:class:`dash_app.state.Filters` is a frozen dataclass). Cached frames are
copies (the cache pickles them), so callers cannot change shared state.

Only small results are cached (sums by area, month or category, tables, figures), never the
multi-million-row read model: pickling it would cost more than the views made from it. A
request that needs several views of the same filters (the overview) reads the read model
once, kept in ``flask.g`` for that request only. Entries do not expire by default
(``AppSettings.cache_timeout_s`` = 0): their keys change with the store's version, and the
cache's size bound evicts old ones. Caching is single-flight: concurrent requests for the
same missing entry wait for the first one to compute it
(:class:`dash_app.singleflight.KeyedLocks`).

Every cache key also holds the store's version (:meth:`DataService.store_version`, read at
most every ``AppSettings.store_check_s`` seconds), so a new ingest run shows on the next
request after that delay. The version
(:meth:`geo.store.CaseStore.data_version`) changes with each ingest run and again with the
read-model refresh that follows it, so a request made between the two cannot keep the old
read model under the new version.

The read model has no subcategory. With a subcategory filter the matching cases are read
(the other filters pushed down to the store, columns pruned), the subcategory and channel
are tested here, and the read model of those cases is computed
(:func:`geo.store.read_model.compute_read_model`), so every page works on the same frame.

Views that read cases rather than the read model (the Kaplan–Meier median, per-area
medians for the map and rankings, the map's overdue share, quality flags, map overlays, the
case list and its exports, the subcategory list) read only the columns they need with the
filters pushed down, and one at a time per process: a cold read of millions of cases costs
seconds and gigabytes.

Roles are enforced here, before any cache lookup: manager aggregates need a staff viewer
(:func:`dash_app.auth.current_viewer`), and a region manager's case list is always
restricted to their own region, whatever the request asks for. The public methods
(:meth:`DataService.public_table`, :meth:`DataService.chain_head`, map layers, levels) return
area names and aggregates only.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

import flask
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely.geometry
from flask_caching import Cache

from analytics.periods import local_day_start
from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.store import CaseFilter, open_store
from geo.store.filters import AREA_FIELDS
from geo.store.read_model import compute_read_model
from ingest import schema as s

from . import auth, derive, i18n, metrics, state
from .config import AppSettings
from .singleflight import KeyedLocks
from .state import Filters

EXTENSION: Final = "t137_data"
#: ``server.extensions`` key of the cache-warming thread (:func:`start_warming`).
WARMING: Final = "t137_warming"
#: Columns of :meth:`DataService.areas`.
AREA_COLUMNS: Final = (s.CODE, s.NAME_FA, s.NAME_EN, s.PARENT_CODE, s.POPULATION)
#: Columns a public-page table may hold: area names and aggregate figures, nothing else.
PUBLIC_COLUMNS: Final = (s.CODE, s.NAME_FA, s.NAME_EN, "volume", "value", "suppressed")
MONTH: Final = "month"
#: Case columns the cases page shows (no citizen key, no coordinates, no address).
CASE_LIST_COLUMNS: Final = (
    s.CASE_ID,
    s.CREATED_AT,
    s.KIND,
    s.CATEGORY,
    s.SUBCATEGORY,
    s.UNIT,
    s.STATUS,
    s.CLOSED_AT,
    s.CITIZEN_FEEDBACK,
    s.SATISFACTION,
    s.REGION_CODE,
    s.NEIGHBORHOOD_CODE,
)
#: Case columns kept in the cached case list: the shown ones and the point (for the
#: GeoJSON and GeoParquet exports; the list itself never shows coordinates).
CASE_POINT_COLUMNS: Final = (*CASE_LIST_COLUMNS, s.LON, s.LAT)
#: Case columns the read model is computed from (plus the subcategory, to filter on it).
READ_MODEL_INPUTS: Final = tuple(
    c
    for c in s.CASE_COLUMNS
    if c
    not in (
        s.DESCRIPTION,
        s.CITIZEN_KEY,
        s.ADDRESS,
        s.DUPLICATE_OF,
        s.GEOCODE_PRECISION,
        s.LON,
        s.LAT,
    )
)
#: Case columns the quality flags read.
QUALITY_INPUTS: Final = (
    s.CASE_ID,
    s.SOURCE,
    s.UNIT,
    s.CREATED_AT,
    s.CLOSED_AT,
    s.STATUS,
    s.CITIZEN_FEEDBACK,
    s.REOPEN_COUNT,
)
#: Statuses a case can have while open (a case in a terminal status is never open at the
#: latest instant of the data: it has no close instant, or one at or before that instant).
LIVE_STATUSES: Final = tuple(v for v in s.STATUSES if v not in s.TERMINAL_STATUSES)
#: Map overlays: density clusters of cases, and groups of duplicate reports.
OVERLAY_CLUSTERS: Final = "clusters"
OVERLAY_DUPLICATES: Final = "duplicates"
OVERLAYS: Final = state.OVERLAYS
#: Smallest group of reports of one problem drawn on the map.
MIN_DUPLICATE_GROUP: Final = 3
#: KPI of the rankings page (:data:`dash_app.state.RANK_KPIS`) -> metric of
#: :func:`analytics.rank_areas`.
RANK_METRICS: Final = {
    "sla": "sla_compliance_wall",
    "close_median": "close_median",
    "satisfaction": "satisfaction",
    "objection": "objection_rate",
}
#: Rankings that read cases (KM medians, satisfaction spread); the others use the read model.
CASE_RANK_KPIS: Final = frozenset({"close_median", "satisfaction"})
TEHRAN: Final = "Asia/Tehran"
_REQUEST_VERSION: Final = "t137_store_version"
_REQUEST_READ_MODEL: Final = "t137_read_model"
T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class MapLayer:
    """Simplified area polygons of one level as GeoJSON, with the view to frame them.

    Attributes
    ----------
    geojson : dict
        A FeatureCollection in EPSG:4326 whose feature ids are the area codes.
    center : tuple of float
        ``(lon, lat)`` of the layer's bounding-box centre.
    span_deg : float
        Larger side of the bounding box, in degrees (to choose a zoom).
    """

    geojson: dict[str, Any]
    center: tuple[float, float]
    span_deg: float


@dataclass(frozen=True)
class CasePage:
    """One page of the case list."""

    rows: pd.DataFrame
    total: int
    page: int
    page_count: int


@dataclass(frozen=True)
class ChainHead:
    """The ingest-run log head a figure was computed from."""

    seq: int
    run_hash: str


class DataService:
    """Cached read access to one store for one app.

    Parameters
    ----------
    settings : AppSettings
        The app settings (store URL, cache backend, simplification tolerance, k).
    cache : flask_caching.Cache
        An initialised cache.
    """

    def __init__(self, settings: AppSettings, cache: Cache) -> None:
        self.settings = settings
        self.cache = cache
        # Single flight: one lock per missing cache entry, so concurrent requests for the
        # same view compute it once and the others wait for its cached result.
        self._computing = KeyedLocks()
        # One case read at a time per process: a cold read of millions of cases takes
        # seconds and gigabytes (different views' reads wait for each other).
        self._case_reads = threading.RLock()

    def _cached(self, name: str, args: tuple[object, ...], compute: Callable[[], T]) -> T:
        """Return ``compute()`` cached under the store version, ``name`` and ``args``.

        Single-flight: while one thread computes a missing entry, the others asking for
        the same key wait for it and then read it from the cache.
        """
        key = f"t137:{self.store_version()}:{name}:{args!r}"
        hit = self.cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        with self._computing.hold(key):
            hit = self.cache.get(key)
            if hit is not None:
                return hit  # type: ignore[no-any-return]
            value = compute()
            self.cache.set(key, value)
            return value

    def staff_view(self, name: str, args: tuple[object, ...], build: Callable[[], T]) -> T:
        """Return ``build()`` cached like the data (by store version, ``name`` and ``args``).

        For finished views made only from this service's staff aggregates (a map figure
        as a dict): the viewer is checked before the cache is looked up (staff only).
        ``args`` must hold everything the view depends on.
        """
        self.require_staff()
        return self._cached(f"view:{name}", args, build)

    def store_version(self) -> str:
        """Return a token of the store's content (:meth:`geo.store.CaseStore.data_version`).

        It is part of every cache key. Within a request it is read once (kept in
        ``flask.g``); across requests at most every ``store_check_s`` seconds (kept in the
        cache), so each check is one small read.
        """
        memo = flask.g if flask.has_app_context() else None
        if memo is not None and _REQUEST_VERSION in memo:
            return str(memo.get(_REQUEST_VERSION))
        ttl = self.settings.store_check_s
        key = "t137:store-version"
        version = self.cache.get(key) if ttl > 0 else None
        if version is None:
            with open_store(self.settings.store_url) as store:
                version = store.data_version()
            if ttl > 0:
                self.cache.set(key, version, timeout=ttl)
        if memo is not None:
            setattr(memo, _REQUEST_VERSION, version)
        return str(version)

    # -- access --------------------------------------------------------------------------------
    def viewer(self) -> auth.Viewer:
        """Return who is asking (the public viewer outside a logged-in request)."""
        return auth.current_viewer()

    def require_staff(self) -> auth.Viewer:
        """Return the viewer when they may see manager aggregates.

        Raises
        ------
        dash_app.auth.AccessDeniedError
            If the viewer is anonymous (public).
        """
        viewer = self.viewer()
        if not viewer.is_staff:
            msg = "this view is for logged-in managers; log in at /login."
            raise auth.AccessDeniedError(msg)
        return viewer

    def map_table(self, filters: Filters, kpi: str) -> pd.DataFrame:
        """Return :meth:`area_table` with the columns of the map KPI ``kpi`` (staff only).

        For a KPI computed from the cases (:data:`dash_app.state.CASE_KPIS`) its columns
        are added: the Kaplan–Meier median time to close (:meth:`area_case_stats`, via
        :func:`dash_app.metrics.with_close_median`) or the overdue share
        (:meth:`area_overdue`, via :func:`dash_app.metrics.with_overdue_share`). The other
        KPIs are columns of the area table already, and no case is read for them. Cold, the
        case read runs in a worker thread while the area table is summed here.
        """
        self.require_staff()
        if kpi == metrics.CLOSE_MEDIAN:
            stats, table = self._side_by_side(
                lambda: self._area_case_stats(filters), lambda: self._area_table(filters)
            )
            return metrics.with_close_median(table, stats)
        if kpi == metrics.OVERDUE_SHARE:
            overdue, table = self._side_by_side(
                lambda: self._area_overdue(filters), lambda: self._area_table(filters)
            )
            return metrics.with_overdue_share(table, overdue)
        return self._area_table(filters)

    def _side_by_side(self, side: Callable[[], T], main: Callable[[], U]) -> tuple[T, U]:
        """Return ``(side(), main())``, ``side`` run in a worker thread while ``main`` runs.

        The worker works in an app context of its own that holds this request's store
        version, so both halves are computed for (and cached under) the same version.
        """
        version = self.store_version()
        if not flask.has_app_context():
            return side(), main()
        app = flask.current_app._get_current_object()  # type: ignore[attr-defined]

        def work() -> T:
            with app.app_context():
                setattr(flask.g, _REQUEST_VERSION, version)
                return side()

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="t137-side") as pool:
            future = pool.submit(work)
            second = main()
            return future.result(), second

    def read_model(self, filters: Filters) -> pd.DataFrame:
        """Return the read-model rows at ``filters.level`` that pass every filter (staff).

        A copy: the views of the same request share the frame this is copied from.
        """
        self.require_staff()
        return self._read_model(filters).copy()

    def area_table(self, filters: Filters) -> pd.DataFrame:
        """Return one row per area of ``filters.level``: names, population, sums and KPIs.

        Every area of the level is listed, with zero cases when none pass the filters
        (staff only).
        """
        self.require_staff()
        return self._area_table(filters)

    def totals(self, filters: Filters) -> pd.Series:
        """Return the city-wide sums and KPIs of ``filters`` (staff only)."""
        self.require_staff()
        return self._totals(filters)

    def monthly(self, filters: Filters, by: str | None = None) -> pd.DataFrame:
        """Return sums and KPIs per Jalali month (``month``: its first day), optionally by ``by``.

        ``by`` is a read-model key column (``category``) or ``area_code`` (staff only).
        """
        self.require_staff()
        return self._monthly(filters, by)

    def by_category(self, filters: Filters) -> pd.DataFrame:
        """Return sums and KPIs per category, most cases first (staff only)."""
        self.require_staff()
        return self._by_category(filters)

    def months(self) -> tuple[dt.date, ...]:
        """Return the first days of the Jalali months that hold cases (staff only)."""
        self.require_staff()
        return self._months()

    def options(self) -> dict[str, tuple[str, ...]]:
        """Return the values seen of category, kind, channel and unit (staff only)."""
        self.require_staff()
        return self._options()

    def subcategories(self) -> dict[str, tuple[str, ...]]:
        """Return the subcategories seen under each category, sorted (staff only)."""
        self.require_staff()
        return self._subcategories()

    def _subcategories(self) -> dict[str, tuple[str, ...]]:
        def compute() -> dict[str, tuple[str, ...]]:
            with self._case_reads, open_store(self.settings.store_url) as store:
                cases = store.read_cases(columns=[s.CATEGORY, s.SUBCATEGORY])
            pairs = pd.DataFrame(
                {
                    s.CATEGORY: cases[s.CATEGORY].astype("string"),
                    s.SUBCATEGORY: cases[s.SUBCATEGORY].astype("string"),
                }
            ).dropna()
            pairs = pairs.drop_duplicates()
            return {
                str(category): tuple(sorted(str(v) for v in group[s.SUBCATEGORY]))
                for category, group in pairs.groupby(s.CATEGORY, sort=True)
            }

        return self._cached("subcategories", (), compute)

    def close_median(self, filters: Filters) -> derive.Median:
        """Return the Kaplan–Meier median time to close of the cases of ``filters`` (staff).

        Still-open cases are censored at the latest instant of the selection (not dropped).
        Read from ``created_at`` and ``closed_at`` of the cases, filters pushed down.
        """
        self.require_staff()

        def compute() -> derive.Median:
            columns = (s.CREATED_AT, s.CLOSED_AT)
            cases = self._read_cases(filters, columns, keys_and_points=False)
            return derive.close_median(cases)

        return self._cached("close_median", (filters,), compute)

    def area_case_stats(self, filters: Filters) -> pd.DataFrame:
        """Return per-area KM close medians and satisfaction spread at ``filters.level`` (staff).

        See :func:`dash_app.derive.area_case_stats`; read from four pruned case columns.
        """
        self.require_staff()
        return self._area_case_stats(filters)

    def _area_case_stats(self, filters: Filters) -> pd.DataFrame:
        def compute() -> pd.DataFrame:
            code = s.LEVEL_CODE_COLUMN[filters.level]
            columns = (s.CREATED_AT, s.CLOSED_AT, s.SATISFACTION, code)
            cases = self._read_cases(filters, columns, keys_and_points=False)
            return derive.area_case_stats(cases, code)

        return self._cached("area_case_stats", (filters,), compute)

    def area_overdue(self, filters: Filters) -> pd.DataFrame:
        """Return per-area open cases and their overdue share at ``filters.level`` (staff).

        See :func:`dash_app.derive.area_overdue` (the definitions of
        :mod:`analytics.indicators`, at the latest instant of the selected cases); read from
        four pruned case columns and the area code, filters pushed down.
        """
        self.require_staff()
        return self._area_overdue(filters)

    def _area_overdue(self, filters: Filters) -> pd.DataFrame:
        """Compute :meth:`area_overdue` from the cases that can be open at the instant.

        The instant ``T`` is the latest creation or close of every case of the selection
        (:meth:`_latest_instant`), so a case in a terminal status is never open at ``T``
        (it has no close instant, or one at or before ``T``): only the cases in a live
        status are read in full (the status pushed down to the store), which gives the
        same counts as all of them.
        """

        def compute() -> pd.DataFrame:
            code = s.LEVEL_CODE_COLUMN[filters.level]
            columns = (*derive.OVERDUE_INPUTS, code)
            live = self._read_cases(
                filters, columns, keys_and_points=False, statuses=frozenset(LIVE_STATUSES)
            )
            return derive.area_overdue(live, code, as_of=self._latest_instant(filters))

        return self._cached("area_overdue", (filters,), compute)

    def _latest_instant(self, filters: Filters) -> pd.Timestamp | None:
        """Return the latest creation or close instant of the cases of ``filters`` (cached).

        :func:`dash_app.derive.latest_instant`, the instant the medians censor at.
        """

        def compute() -> pd.Timestamp | None:
            columns = (s.CREATED_AT, s.CLOSED_AT)
            cases = self._read_cases(filters, columns, keys_and_points=False)
            return derive.latest_instant(cases)

        return self._cached("latest_instant", (replace(filters, level=s.LEVEL_REGION),), compute)

    def ranking(self, filters: Filters, kpi: str) -> pd.DataFrame:
        """Return :func:`analytics.rank_areas` of ``kpi`` over the areas of ``filters.level``.

        ``kpi`` is a key of :data:`RANK_METRICS`; rates are ranked from the read model, the
        median time to close and satisfaction from the cases (:meth:`area_case_stats`, a
        column-pruned read: slower cold on a large store). Small areas are shrunk toward
        their parent (empirical Bayes), every rank has a 90 % interval, and areas below
        ``AppSettings.min_volume`` cases get no rank (status ``"not enough cases"``). The
        result has the area names (``code``, ``name_fa``, ``name_en``) first (staff only).
        """
        self.require_staff()
        if kpi not in RANK_METRICS:
            msg = f"cannot rank by {kpi!r}; choose one of {', '.join(RANK_METRICS)}."
            raise ValueError(msg)

        def compute() -> pd.DataFrame:
            from analytics.ranking import rank_areas

            levels = self.levels()
            level = self.shown_level(filters.level)
            chosen = replace(filters, level=level)
            index = levels.index(level)
            parent = levels[index - 1] if index > 0 else None
            table = self._area_table(chosen)
            # only the duration and mean metrics need the cases; rates come from the sums
            needs_cases = kpi in CASE_RANK_KPIS
            stats = self._area_case_stats(chosen) if needs_cases else derive.no_case_stats(table)
            frame = derive.ranking_input(table, stats, level, parent)
            ranked = rank_areas(
                frame, RANK_METRICS[kpi], level, min_volume=self.settings.min_volume, seed=0
            )
            code = s.LEVEL_CODE_COLUMN[level]
            ranked = ranked.rename(columns={code: s.CODE})
            names = table[[s.CODE, s.NAME_FA, s.NAME_EN]]
            return names.merge(ranked, on=s.CODE, how="right")

        return self._cached("ranking", (filters, kpi), compute)

    def quality(self, filters: Filters) -> pd.DataFrame:
        """Return the data-quality flags per unit and Jalali month of ``filters`` (staff only).

        :func:`analytics.quality_flags` of the cases that pass the filters (area level
        aside), with the store's case events when it has any (referral bounces). Columns as
        documented there; ``attrs["referral_data"]`` is dropped by the cache, so the column
        ``referral_data`` says whether bounces could be counted.
        """
        self.require_staff()

        def compute() -> pd.DataFrame:
            from analytics.quality import quality_flags

            cases = self._read_cases(filters, QUALITY_INPUTS)
            if cases.empty:
                return quality_flags(pd.DataFrame({c: [] for c in QUALITY_INPUTS}))
            with open_store(self.settings.store_url) as store:
                events = store.read_events(self._case_filter(filters))
            known = events.loc[events[s.CASE_ID].isin(cases[s.CASE_ID])] if len(events) else None
            return quality_flags(cases, known if known is not None and len(known) else None)

        return self._cached("quality", (replace(filters, level=s.LEVEL_REGION),), compute)

    def overlay(self, filters: Filters, kind: str) -> pd.DataFrame:
        """Return map overlay markers of ``kind`` for ``filters`` (staff only).

        ``"clusters"``: density clusters of cases (:class:`analytics.DensityHotspots`, per
        category, DBSCAN in metres with ``min_cases`` scaled to case density), one marker
        at each cluster's centroid. ``"duplicates"``: groups of at least
        :data:`MIN_DUPLICATE_GROUP` reports of one problem (the stored ``duplicate_of``; when
        the store holds none, :func:`analytics.find_duplicates` within 50 m and 72 h), one
        marker at the mean of their points. Columns ``lon``, ``lat`` (EPSG:4326),
        ``n_cases`` and ``label``; no case ids or texts.
        """
        self.require_staff()
        if kind not in OVERLAYS:
            msg = f"unknown overlay {kind!r}; choose one of {', '.join(OVERLAYS)}."
            raise ValueError(msg)

        def compute() -> pd.DataFrame:
            if kind == OVERLAY_CLUSTERS:
                from analytics.hotspots import DensityHotspots

                wanted = (s.CATEGORY, s.SUBCATEGORY, s.CREATED_AT, s.NEIGHBORHOOD_CODE)
                cases = self._read_cases(filters, wanted)
                located = cases.loc[cases[s.LON].notna() & cases[s.LAT].notna()]
                if located.empty:
                    return derive.cluster_points(gpd.GeoDataFrame())
                model = DensityHotspots().fit(located.reset_index(drop=True))
                return derive.cluster_points(model.clusters_)
            from analytics.duplicates import find_duplicates

            columns = (s.CASE_ID, s.CATEGORY, s.CREATED_AT, s.DUPLICATE_OF, s.GEOCODE_PRECISION)
            cases = self._read_cases(filters, columns)
            linked = cases[s.DUPLICATE_OF].astype("string")
            if linked.isna().all() and len(cases):
                linked = find_duplicates(cases)
            return derive.duplicate_points(cases, linked, MIN_DUPLICATE_GROUP)

        return self._cached("overlay", (replace(filters, level=s.LEVEL_REGION), kind), compute)

    def hotspots(self, filters: Filters) -> pd.DataFrame | None:
        """Return Getis-Ord Gi* classes of neighborhood case counts (staff only).

        Counts come from the read model under ``filters`` (any level is read as
        neighborhoods). Columns ``code``, ``name_fa``, ``name_en``, ``n_cases``, ``z``, ``q``
        and ``hotspot`` (``hot``, ``cold``, ``not significant``); None when the store has
        no neighborhoods.
        """
        self.require_staff()
        hood = replace(filters, level=s.LEVEL_NEIGHBORHOOD)

        def compute() -> pd.DataFrame | None:
            if s.LEVEL_NEIGHBORHOOD not in self.levels():
                return None
            from analytics.hotspots import GiStarHotspots

            table = self._area_table(hood)
            codes = np.repeat(table[s.CODE].to_numpy(dtype=object), table["volume"].to_numpy())
            cases = pd.DataFrame({s.NEIGHBORHOOD_CODE: pd.Categorical(codes)})
            with open_store(self.settings.store_url) as store:
                bounds = store.read_boundaries()
            fitted = GiStarHotspots(seed=0).fit(cases, bounds)
            units = pd.DataFrame(fitted.units_.drop(columns=fitted.units_.geometry.name))
            units = units.rename(columns={"unit": s.CODE})
            units[s.CODE] = units[s.CODE].astype(str)
            names = self.areas(s.LEVEL_NEIGHBORHOOD)[[s.CODE, s.NAME_FA, s.NAME_EN]]
            out = names.merge(units, on=s.CODE, how="inner")
            return out[[s.CODE, s.NAME_FA, s.NAME_EN, "n_cases", "z", "q", "hotspot"]]

        return self._cached("hotspots", (hood,), compute)

    def warm(self) -> None:
        """Compute the data of the default views into the cache (nothing is returned).

        The map layers and areas of every level, the filter choices and subcategories, and
        the overview, map and trends data of the default filters (all areas, all time),
        with the map's KPIs read from the cases (per-area medians and overdue shares). A
        cold default view costs seconds on millions of cases; warmed once, it is served
        from the cache until the store changes.
        """
        for level in self.levels():
            self.areas(level)
            self.map_layer(level)
        self._choices()
        default = Filters()
        self._area_table(default)
        self._totals(default)
        self._monthly(default)
        self._by_category(default)
        self._subcategories()
        # the map's two KPIs read from the cases (seconds cold on millions of cases)
        self._area_case_stats(default)
        self._area_overdue(default)

    def level_of(self, code: str) -> str | None:
        """Return the boundary level of an area code (coarsest first), or None if unknown."""
        for level in self.levels():
            if str(code) in set(self.areas(level)[s.CODE]):
                return level
        return None

    def _case_areas(
        self, viewer: auth.Viewer, area: str | None
    ) -> tuple[tuple[str, frozenset[str]], ...]:
        """Return the area conditions of a case read: the asked area, cut to the viewer's.

        A region manager's reads are always limited to their own region, whatever the
        request asks for; an unknown area gives an empty set (nothing matches).
        """
        areas: dict[str, frozenset[str]] = {}
        if area:
            level = self.level_of(str(area))
            field = AREA_FIELDS.get(level or "", "regions")
            areas[field] = frozenset({str(area)}) if level is not None else frozenset()
        if viewer.role == auth.ROLE_REGION_MANAGER:
            own = frozenset({str(viewer.region)})
            areas["regions"] = areas.get("regions", own) & own
        return tuple(sorted(areas.items()))

    def cases(self, filters: Filters, area: str | None, page: int) -> CasePage:
        """Return one page of the cases that pass ``filters`` in ``area`` (staff only).

        ``area`` is an area code of any level (None for all). A region manager only ever
        gets cases of their own region: asking for an area of another region gives an
        empty page. Rows are newest first; columns :data:`CASE_LIST_COLUMNS`.
        """
        viewer = self.require_staff()
        size = self.settings.cases_page_size
        matching = self._case_list(filters, self._case_areas(viewer, area))
        page_count = max(1, -(-len(matching) // size))
        current = min(max(page, 0), page_count - 1)
        rows = matching.iloc[current * size : (current + 1) * size, : len(CASE_LIST_COLUMNS)]
        return CasePage(rows.reset_index(drop=True), len(matching), current, page_count)

    def case_export(self, filters: Filters, area: str | None) -> pd.DataFrame:
        """Return every case of the case list (not one page) for a download (staff only).

        The same role rule as :meth:`cases`: a region manager gets their own region's
        cases only (another region's area gives an empty frame). Columns
        :data:`CASE_LIST_COLUMNS`, newest first, at most ``export_max_rows`` rows.
        """
        viewer = self.require_staff()
        matching = self._case_list(filters, self._case_areas(viewer, area))
        rows = matching.iloc[: self.settings.export_max_rows, : len(CASE_LIST_COLUMNS)]
        return rows.reset_index(drop=True)

    def case_points(self, filters: Filters, area: str | None) -> gpd.GeoDataFrame:
        """Return the cases of :meth:`case_export` as points, for GeoJSON and GeoParquet (staff).

        The same rows and role rule (a region manager gets their own region's cases only,
        whatever ``area`` asks for), with a point geometry in EPSG:4326 (x = lon, y = lat);
        cases with no known location have no geometry (None).
        """
        viewer = self.require_staff()
        matching = self._case_list(filters, self._case_areas(viewer, area))
        rows = matching.iloc[: self.settings.export_max_rows].reset_index(drop=True)
        lon = rows[s.LON].to_numpy(dtype=np.float64, na_value=np.nan)
        lat = rows[s.LAT].to_numpy(dtype=np.float64, na_value=np.nan)
        shapes = np.asarray(gpd.points_from_xy(lon, lat), dtype=object)
        shapes[np.isnan(lon) | np.isnan(lat)] = None
        table = pd.DataFrame(rows[list(CASE_LIST_COLUMNS)])
        return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(shapes), crs=STORAGE_CRS)

    def _case_filter(
        self,
        filters: Filters,
        areas: tuple[tuple[str, frozenset[str]], ...] = (),
        statuses: frozenset[str] | None = None,
    ) -> CaseFilter:
        """Return the store filter of ``filters``, area and status conditions (pushed down)."""
        chosen = dict(areas)
        return CaseFilter(
            statuses=statuses,
            start=None if filters.start is None else local_day_start(filters.start, TEHRAN),
            end=None if filters.stop is None else local_day_start(filters.stop, TEHRAN),
            categories=filters.categories or None,
            kinds=filters.kinds or None,
            units=filters.units or None,
            regions=chosen.get("regions"),
            districts=chosen.get("districts"),
            neighborhoods=chosen.get("neighborhoods"),
        )

    def _read_cases(
        self,
        filters: Filters,
        columns: tuple[str, ...],
        areas: tuple[tuple[str, frozenset[str]], ...] = (),
        *,
        keys_and_points: bool = True,
        statuses: frozenset[str] | None = None,
    ) -> pd.DataFrame:
        """Return the cases passing ``filters`` with ``columns`` (not cached: callers cache).

        Time, category, kind, unit, area and (given ``statuses``) status conditions are
        pushed down to the store; the
        channel and subcategory (which :class:`geo.store.CaseFilter` does not hold) are
        tested here. Only ``columns`` (plus, with ``keys_and_points``, ``source``,
        ``case_id``, ``lon`` and ``lat``) are read, and no point geometry is built: the ids
        of millions of cases cost seconds to turn into Python strings, so views that only
        count or time cases leave them out.
        """
        tested = [s.CHANNEL] if filters.channels else []
        tested += [s.SUBCATEGORY] if filters.subcategories else []
        extra = [s.SOURCE, s.CASE_ID, s.LON, s.LAT] if keys_and_points else []
        wanted = list(dict.fromkeys([*columns, *tested, *extra]))
        with self._case_reads, open_store(self.settings.store_url) as store:
            cases = store.read_cases(
                self._case_filter(filters, areas, statuses), columns=wanted, geometry=False
            )
        keep = np.ones(len(cases), dtype=bool)
        if filters.channels:
            keep &= cases[s.CHANNEL].astype(object).isin(filters.channels).to_numpy()
        if filters.subcategories:
            keep &= cases[s.SUBCATEGORY].astype(object).isin(filters.subcategories).to_numpy()
        return pd.DataFrame(cases.loc[keep]).reset_index(drop=True)

    def _case_list(
        self, filters: Filters, areas: tuple[tuple[str, frozenset[str]], ...]
    ) -> pd.DataFrame:
        """Return the matching cases, newest first: :data:`CASE_POINT_COLUMNS` (cached).

        Callers cut the columns to :data:`CASE_LIST_COLUMNS` unless they export points.
        """

        def compute() -> pd.DataFrame:
            if any(not codes for _, codes in areas):
                return pd.DataFrame({c: pd.Series(dtype=object) for c in CASE_POINT_COLUMNS})
            cases = self._read_cases(filters, CASE_LIST_COLUMNS, areas)
            frame = pd.DataFrame(cases[list(CASE_POINT_COLUMNS)])
            return frame.sort_values(
                [s.CREATED_AT, s.CASE_ID], ascending=[False, True], kind="stable"
            ).reset_index(drop=True)

        return self._cached("case_list", (filters, areas), compute)

    # -- raw reads --------------------------------------------------------------------------
    def _raw_read_model(
        self, level: str, start: dt.date | None, stop: dt.date | None
    ) -> pd.DataFrame:
        with open_store(self.settings.store_url) as store:
            return store.read_read_model(level=level, start_day=start, end_day=stop)

    def _read_model(self, filters: Filters) -> pd.DataFrame:
        """Return the read-model rows at ``filters.level`` that pass every filter.

        Not cached (millions of rows): the views made from it are. Kept in ``flask.g`` for
        the rest of the request, so a callback that makes several views of the same
        filters reads it once. The frame is shared within the request: do not change it.
        """
        memo = flask.g if flask.has_app_context() else None
        key = (self.store_version(), filters)
        if memo is not None:
            kept = memo.get(_REQUEST_READ_MODEL)
            if isinstance(kept, tuple) and kept[0] == key:
                return kept[1]  # type: ignore[no-any-return]
        if filters.subcategories:
            cases = self._read_cases(filters, READ_MODEL_INPUTS)
            frame = compute_read_model(cases)
            frame = frame.loc[(frame[s.RM_LEVEL] == filters.level).to_numpy()]
        else:
            frame = self._raw_read_model(filters.level, filters.start, filters.stop)
        keep = np.ones(len(frame), dtype=bool)
        for column, values in filters.sets().items():
            # on the categorical column itself: compares codes, not millions of strings
            keep &= frame[column].isin(values).to_numpy()
        if not keep.all():
            frame = frame.loc[keep]
        frame = frame.reset_index(drop=True)
        if memo is not None:
            setattr(memo, _REQUEST_READ_MODEL, (key, frame))
        return frame

    def areas(self, level: str) -> pd.DataFrame:
        """Return the areas of ``level``: code, Persian and English names, parent, population."""

        def compute() -> pd.DataFrame:
            with open_store(self.settings.store_url) as store:
                bounds = store.read_boundaries()
            rows = bounds.loc[bounds[s.LEVEL] == level, list(AREA_COLUMNS)]
            frame = pd.DataFrame(rows).reset_index(drop=True)
            frame[s.CODE] = frame[s.CODE].astype(str)
            return frame

        return self._cached("areas", (level,), compute)

    def map_layer(self, level: str) -> MapLayer | None:
        """Return the simplified polygons of ``level`` (simplified once, in metres), or None."""

        def compute() -> MapLayer | None:
            with open_store(self.settings.store_url) as store:
                bounds = store.read_boundaries()
            rows = bounds.loc[bounds[s.LEVEL] == level, [s.CODE, s.GEOMETRY]]
            if rows.empty:
                return None
            layer = gpd.GeoDataFrame(rows, geometry=s.GEOMETRY, crs=bounds.crs)
            metric = layer.to_crs(METRIC_CRS)
            tolerance = self.settings.simplify_tolerance_m
            metric[s.GEOMETRY] = metric.geometry.simplify(tolerance, preserve_topology=True)
            simple = metric.to_crs(STORAGE_CRS)
            simple.index = pd.Index(simple[s.CODE].astype(str))
            geojson = json.loads(simple[[s.GEOMETRY]].to_json(drop_id=False))
            minx, miny, maxx, maxy = (float(v) for v in simple.total_bounds)
            center = ((minx + maxx) / 2, (miny + maxy) / 2)
            return MapLayer(geojson, center, max(maxx - minx, maxy - miny))

        return self._cached("map_layer", (level,), compute)

    def area_polygons(self, level: str) -> gpd.GeoDataFrame:
        """Return the areas of ``level`` as polygons: ``code`` and geometry (EPSG:4326).

        The polygons of :meth:`map_layer` (cached, simplified to ``simplify_tolerance_m``
        metres: the shapes the map draws); empty when the store has no such level.
        """
        layer = self.map_layer(level)
        features = [] if layer is None else layer.geojson["features"]
        return gpd.GeoDataFrame(
            {s.CODE: [str(f["id"]) for f in features]},
            geometry=[shapely.geometry.shape(f["geometry"]) for f in features],
            crs=STORAGE_CRS,
        )

    def shown_level(self, level: str) -> str:
        """Return ``level`` when the store has it, else its finest level (what pages show)."""
        levels = self.levels()
        return level if level in levels or not levels else levels[-1]

    def levels(self) -> tuple[str, ...]:
        """Return the boundary levels present in the store, coarsest first."""

        def compute() -> tuple[str, ...]:
            with open_store(self.settings.store_url) as store:
                present = set(store.read_boundaries()[s.LEVEL].astype(str))
            return tuple(level for level in s.LEVELS if level in present)

        return self._cached("levels", (), compute)

    def chain_head(self) -> ChainHead:
        """Return the last ingest run's sequence number and hash (0 and genesis if none)."""

        def compute() -> ChainHead:
            with open_store(self.settings.store_url) as store:
                info = store.info()
            seq = 0 if info.last_run is None else info.last_run.seq
            return ChainHead(seq, info.chain_head)

        return self._cached("chain_head", (), compute)

    # -- filter options -----------------------------------------------------------------------
    def _months(self) -> tuple[dt.date, ...]:
        """Return the first days of the Jalali months that hold cases, oldest first."""
        months = self._choices()[MONTH]
        return tuple(dt.date.fromisoformat(m) for m in months)

    def _options(self) -> dict[str, tuple[str, ...]]:
        """Return the values seen of category, kind, channel and unit, sorted."""
        choices = self._choices()
        return {column: choices[column] for column in (s.CATEGORY, s.KIND, s.CHANNEL, s.UNIT)}

    def _choices(self) -> dict[str, tuple[str, ...]]:
        """Return the filter choices: months (ISO first days) and the values of each set.

        One read of the coarsest level's read model for both :meth:`months` and
        :meth:`options`.
        """

        def compute() -> dict[str, tuple[str, ...]]:
            level = self.levels()[0] if self.levels() else s.LEVEL_REGION
            frame = self._raw_read_model(level, None, None)
            days = pd.unique(frame[s.RM_DAY].dropna().to_numpy())
            months = sorted({i18n.jalali_month_start(d) for d in days})
            out = {MONTH: tuple(m.isoformat() for m in months)}
            for column in (s.CATEGORY, s.KIND, s.CHANNEL, s.UNIT):
                seen = frame[column].dropna().unique()
                out[column] = tuple(sorted(str(v) for v in seen))
            return out

        return self._cached("choices", (), compute)

    # -- aggregates ------------------------------------------------------------------------------
    def _sums(self, filters: Filters, by: list[str]) -> pd.DataFrame:
        """Return the read-model measures passing ``filters`` summed by ``by`` (keys present).

        Without a subcategory filter the store filters and sums
        (:meth:`geo.store.CaseStore.sum_read_model`): a few hundred rows come back instead
        of millions. With one, the read model of the matching cases is summed here. Groups
        with a missing key are left out, as :func:`dash_app.metrics.sum_measures` does.
        """
        if filters.subcategories:
            return metrics.sum_measures(self._read_model(filters), by)
        with open_store(self.settings.store_url) as store:
            sums = store.sum_read_model(
                by,
                level=filters.level,
                start_day=filters.start,
                end_day=filters.stop,
                where=filters.sets(),
            )
        if by:
            sums = sums.loc[sums[by].notna().all(axis=1).to_numpy()].reset_index(drop=True)
        return sums

    def _area_table(self, filters: Filters) -> pd.DataFrame:
        """Return one row per area of ``filters.level``: names, population, sums and KPIs.

        Every area of the level is listed, with zero cases when none pass the filters.
        """

        def compute() -> pd.DataFrame:
            sums = self._sums(filters, [s.RM_AREA_CODE])
            sums[s.RM_AREA_CODE] = sums[s.RM_AREA_CODE].astype(str)
            areas = self.areas(filters.level)
            table = areas.merge(sums, how="left", left_on=s.CODE, right_on=s.RM_AREA_CODE)
            table = table.drop(columns=[s.RM_AREA_CODE])
            for column in s.READ_MODEL_MEASURES:
                table[column] = table[column].fillna(0)
                if column not in (s.RM_CLOSE_SECONDS, s.RM_FIRST_RESPONSE_SECONDS):
                    table[column] = table[column].astype("int64")
            return metrics.add_kpis(table)

        return self._cached("area_table", (filters,), compute)

    def _totals(self, filters: Filters) -> pd.Series:
        """Return the city-wide sums and KPIs of ``filters`` (one row as a Series)."""

        def compute() -> pd.Series:
            sums = self._sums(filters, [])
            return metrics.add_kpis(sums).iloc[0]

        return self._cached("totals", (filters,), compute)

    def _monthly(self, filters: Filters, by: str | None = None) -> pd.DataFrame:
        """Return sums and KPIs per Jalali month (``month``: its first day), optionally by ``by``.

        ``by`` is a read-model key column (``category``) or ``area_code``.
        """

        def compute() -> pd.DataFrame:
            frame = self._sums(filters, [s.RM_DAY] if by is None else [s.RM_DAY, by])
            # a few thousand distinct days: map those to months, not every row
            codes, days = pd.factorize(frame[s.RM_DAY], use_na_sentinel=True)
            starts = [i18n.jalali_month_start(d) for d in days]
            months = sorted(set(starts))
            position = {m: i for i, m in enumerate(months)}
            of_day = np.array([position[m] for m in starts] + [-1], dtype=np.int64)
            frame = frame.assign(**{MONTH: of_day[codes]})
            keys = [MONTH] if by is None else [MONTH, by]
            sums = metrics.sum_measures(frame, keys)
            sums = sums.loc[(sums[MONTH] >= 0).to_numpy()].reset_index(drop=True)
            sums[MONTH] = np.array(months, dtype=object)[sums[MONTH].to_numpy()]
            return metrics.add_kpis(sums)

        return self._cached("monthly", (filters, by), compute)

    def _by_category(self, filters: Filters) -> pd.DataFrame:
        """Return sums and KPIs per category, most cases first."""

        def compute() -> pd.DataFrame:
            sums = self._sums(filters, [s.CATEGORY])
            sums[s.CATEGORY] = sums[s.CATEGORY].astype(str)
            table = metrics.add_kpis(sums)
            return table.sort_values("volume", ascending=False, kind="stable").reset_index(
                drop=True
            )

        return self._cached("by_category", (filters,), compute)

    def public_table(self, level: str, kpi: str) -> pd.DataFrame:
        """Return the public, k-anonymous table of one KPI by area (columns PUBLIC_COLUMNS).

        Areas with fewer than ``k_anonymity`` cases have ``volume`` and ``value`` missing and
        ``suppressed`` True. Only area names and aggregate figures are returned.
        """
        if kpi not in state.SUM_KPIS:
            msg = f"the public page shows {', '.join(state.SUM_KPIS)}; not {kpi!r}."
            raise ValueError(msg)

        def compute() -> pd.DataFrame:
            table = self._area_table(Filters(level=level))
            k = self.settings.k_anonymity
            small = table["volume"] < k
            out = pd.DataFrame(
                {
                    s.CODE: table[s.CODE].astype(str),
                    s.NAME_FA: table[s.NAME_FA],
                    s.NAME_EN: table[s.NAME_EN],
                    "volume": table["volume"].astype("float64").where(~small),
                    "value": table[kpi].astype("float64").where(~small),
                    "suppressed": small,
                }
            )
            return out.reset_index(drop=True)

        return self._cached("public_table", (level, kpi), compute)


def make_cache(settings: AppSettings, server: flask.Flask) -> Cache:
    """Return a flask-caching cache for ``server`` configured from ``settings``."""
    config: dict[str, object] = {
        "CACHE_TYPE": settings.cache_type,
        "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout_s,
    }
    if settings.cache_dir is not None:
        config["CACHE_DIR"] = settings.cache_dir
    cache = Cache(config=config)
    cache.init_app(server)
    return cache


def start_warming(server: flask.Flask) -> threading.Thread:
    """Start :meth:`DataService.warm` of ``server``'s service in a daemon thread.

    A failure is logged (``server.logger``) and leaves the cache cold; requests do not
    wait for the warming, and those that ask for an entry it is computing wait for it
    (single flight) instead of computing it again.
    """

    def run() -> None:
        with server.app_context():
            try:
                service(server).warm()
            except Exception:
                server.logger.exception("warming the dashboard cache failed")

    thread = threading.Thread(target=run, name="t137-cache-warming", daemon=True)
    thread.start()
    return thread


def service(app: flask.Flask | None = None) -> DataService:
    """Return the :class:`DataService` of ``app`` (the current Flask app by default)."""
    server = app if app is not None else flask.current_app
    found = server.extensions.get(EXTENSION)
    if not isinstance(found, DataService):
        msg = "this Flask app has no DataService; build it with dash_app.create_app()."
        raise RuntimeError(msg)
    return found
