"""The only module that reads the store: cached aggregates and pre-simplified geometries.

A :class:`DataService` belongs to one app (it lives in ``server.extensions``; get it with
:func:`service`). It opens the store for each read, keeps nothing mutable between requests
and caches every result with flask-caching under a key made of the method name and its
hashable arguments (:class:`dash_app.state.Filters` is a frozen dataclass). Cached frames are
copies (the cache pickles them), so callers cannot change shared state.

Roles are enforced here, before any cache lookup: manager aggregates need a staff viewer
(:func:`dash_app.auth.current_viewer`), and a region manager's case list is always
restricted to their own region, whatever the request asks for. The public methods
(:meth:`DataService.public_table`, :meth:`DataService.chain_head`, map layers, levels) return
area names and aggregates only.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Final, TypeVar

import flask
import geopandas as gpd
import numpy as np
import pandas as pd
from flask_caching import Cache

from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.store import CaseFilter, open_store
from geo.store.filters import AREA_FIELDS
from ingest import schema as s

from . import auth, i18n, metrics
from .config import AppSettings
from .state import Filters

EXTENSION: Final = "t137_data"
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
T = TypeVar("T")


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

    def _cached(self, name: str, args: tuple[object, ...], compute: Callable[[], T]) -> T:
        key = f"t137:{name}:{args!r}"
        hit = self.cache.get(key)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        value = compute()
        self.cache.set(key, value)
        return value

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

    def read_model(self, filters: Filters) -> pd.DataFrame:
        """Return the read-model rows at ``filters.level`` that pass every filter (staff)."""
        self.require_staff()
        return self._read_model(filters)

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

    def level_of(self, code: str) -> str | None:
        """Return the boundary level of an area code (coarsest first), or None if unknown."""
        for level in self.levels():
            if str(code) in set(self.areas(level)[s.CODE]):
                return level
        return None

    def cases(self, filters: Filters, area: str | None, page: int) -> CasePage:
        """Return one page of the cases that pass ``filters`` in ``area`` (staff only).

        ``area`` is an area code of any level (None for all). A region manager only ever
        gets cases of their own region: asking for an area of another region gives an
        empty page. Rows are newest first; columns :data:`CASE_LIST_COLUMNS`.
        """
        viewer = self.require_staff()
        areas: dict[str, frozenset[str]] = {}
        if area:
            level = self.level_of(str(area))
            field = AREA_FIELDS.get(level or "", "regions")
            areas[field] = frozenset({str(area)}) if level is not None else frozenset()
        if viewer.role == auth.ROLE_REGION_MANAGER:
            own = frozenset({str(viewer.region)})
            areas["regions"] = areas.get("regions", own) & own
        size = self.settings.cases_page_size
        matching = self._case_list(filters, tuple(sorted(areas.items())))
        page_count = max(1, -(-len(matching) // size))
        current = min(max(page, 0), page_count - 1)
        rows = matching.iloc[current * size : (current + 1) * size].reset_index(drop=True)
        return CasePage(rows, len(matching), current, page_count)

    def _case_list(
        self, filters: Filters, areas: tuple[tuple[str, frozenset[str]], ...]
    ) -> pd.DataFrame:
        def compute() -> pd.DataFrame:
            if any(not codes for _, codes in areas):
                return pd.DataFrame({c: pd.Series(dtype=object) for c in CASE_LIST_COLUMNS})
            tz = "Asia/Tehran"
            chosen = dict(areas)
            case_filter = CaseFilter(
                start=None if filters.start is None else pd.Timestamp(filters.start, tz=tz),
                end=None if filters.stop is None else pd.Timestamp(filters.stop, tz=tz),
                categories=filters.categories or None,
                kinds=filters.kinds or None,
                units=filters.units or None,
                regions=chosen.get("regions"),
                districts=chosen.get("districts"),
                neighborhoods=chosen.get("neighborhoods"),
            )
            wanted = [*CASE_LIST_COLUMNS, s.CHANNEL]
            with open_store(self.settings.store_url) as store:
                cases = store.read_cases(case_filter, columns=wanted)
            if filters.channels:
                keep = cases[s.CHANNEL].astype(object).isin(filters.channels).to_numpy()
                cases = cases.loc[keep]
            frame = pd.DataFrame(cases[list(CASE_LIST_COLUMNS)])
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
        """Return the read-model rows at ``filters.level`` that pass every filter."""

        def compute() -> pd.DataFrame:
            frame = self._raw_read_model(filters.level, filters.start, filters.stop)
            for column, values in filters.sets().items():
                frame = frame.loc[frame[column].astype(object).isin(values).to_numpy()]
            return frame.reset_index(drop=True)

        return self._cached("read_model", (filters,), compute)

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

        def compute() -> tuple[dt.date, ...]:
            level = self.levels()[0] if self.levels() else s.LEVEL_REGION
            frame = self._raw_read_model(level, None, None)
            days = {d for d in frame[s.RM_DAY].tolist() if d is not None}
            return tuple(sorted({i18n.jalali_month_start(d) for d in days}))

        return self._cached("months", (), compute)

    def _options(self) -> dict[str, tuple[str, ...]]:
        """Return the values seen of category, kind, channel and unit, sorted."""

        def compute() -> dict[str, tuple[str, ...]]:
            level = self.levels()[0] if self.levels() else s.LEVEL_REGION
            frame = self._raw_read_model(level, None, None)
            return {
                column: tuple(sorted(str(v) for v in frame[column].dropna().unique()))
                for column in (s.CATEGORY, s.KIND, s.CHANNEL, s.UNIT)
            }

        return self._cached("options", (), compute)

    # -- aggregates ------------------------------------------------------------------------------
    def _area_table(self, filters: Filters) -> pd.DataFrame:
        """Return one row per area of ``filters.level``: names, population, sums and KPIs.

        Every area of the level is listed, with zero cases when none pass the filters.
        """

        def compute() -> pd.DataFrame:
            sums = metrics.sum_measures(self._read_model(filters), [s.RM_AREA_CODE])
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
            sums = metrics.sum_measures(self._read_model(filters), [])
            return metrics.add_kpis(sums).iloc[0]

        return self._cached("totals", (filters,), compute)

    def _monthly(self, filters: Filters, by: str | None = None) -> pd.DataFrame:
        """Return sums and KPIs per Jalali month (``month``: its first day), optionally by ``by``.

        ``by`` is a read-model key column (``category``) or ``area_code``.
        """

        def compute() -> pd.DataFrame:
            frame = self._read_model(filters)
            starts = {d: i18n.jalali_month_start(d) for d in set(frame[s.RM_DAY].dropna())}
            frame = frame.assign(**{MONTH: frame[s.RM_DAY].map(starts)})
            keys = [MONTH] if by is None else [MONTH, by]
            return metrics.add_kpis(metrics.sum_measures(frame, keys))

        return self._cached("monthly", (filters, by), compute)

    def _by_category(self, filters: Filters) -> pd.DataFrame:
        """Return sums and KPIs per category, most cases first."""

        def compute() -> pd.DataFrame:
            sums = metrics.sum_measures(self._read_model(filters), [s.CATEGORY])
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


def service(app: flask.Flask | None = None) -> DataService:
    """Return the :class:`DataService` of ``app`` (the current Flask app by default)."""
    server = app if app is not None else flask.current_app
    found = server.extensions.get(EXTENSION)
    if not isinstance(found, DataService):
        msg = "this Flask app has no DataService; build it with dash_app.create_app()."
        raise RuntimeError(msg)
    return found
