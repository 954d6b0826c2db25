"""The analysis tables of ``t137``: computed by one function each, written one way.

:func:`kpi_table`, :func:`rank_table` and :func:`hotspot_table` compute, from an open store
and already-parsed options, the tables that ``t137 kpis``, ``t137 rank`` and ``t137 hotspots``
show and that they and ``t137 export`` write. :func:`save_table` writes any table (the case
list of ``t137 export cases`` too) through :func:`analytics.exports.write_export`, with the
store's ingest-log head as provenance, so the same table is the same file whichever command
wrote it. :func:`produce` ties the two: read the head, compute, write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, cast, overload

import geopandas as gpd
import pandas as pd

from analytics.exports import (
    GEO_FORMATS,
    Format,
    check_format,
    format_for,
    sidecar_path,
    write_export,
)
from analytics.hotspots import DensityHotspots, EmergingHotspots, GiStarHotspots
from analytics.indicators import kpis
from analytics.ranking import COMPOSITE, METRICS, rank_areas
from geo.crs import STORAGE_CRS
from geo.errors import InputError
from geo.store import CaseFilter, CaseStore, open_store
from geo.store.chain import verify_chain
from ingest import schema as s

from ..options import store_url
from ..settings import get_settings

#: Names of the tables (the ``table`` provenance note).
KPIS: Final = "kpis"
RANKING: Final = "ranking"
HOTSPOTS: Final = "hotspots"
CASES: Final = "cases"


class Level(StrEnum):
    """Area level of the KPIs."""

    NEIGHBORHOOD = "neighborhood"
    DISTRICT = "district"
    REGION = "region"
    CITY = "city"


class RankLevel(StrEnum):
    """Area level of a ranking."""

    NEIGHBORHOOD = "neighborhood"
    DISTRICT = "district"
    REGION = "region"


class Period(StrEnum):
    """Period of the KPIs."""

    MONTH = "M"
    WEEK = "W"
    DAY = "D"
    NONE = "none"


class CalendarName(StrEnum):
    """Calendar of the periods."""

    JALALI = "jalali"
    GREGORIAN = "gregorian"


class Method(StrEnum):
    """Hotspot method."""

    DENSITY = "density"
    GISTAR = "gistar"
    EMERGING = "emerging"


class UnitLevel(StrEnum):
    """Spatial units of Gi* and emerging hotspots."""

    NEIGHBORHOOD = "neighborhood"
    H3 = "h3"


class SliceName(StrEnum):
    """Time slice of emerging hotspots."""

    MONTH = "month"
    WEEK = "week"


# --- which cases -----------------------------------------------------------------------------
def parse_instant(value: str | None, option: str, tz: str) -> pd.Timestamp | None:
    """Return a ``--start``/``--end`` value as a time zone-aware instant.

    Parameters
    ----------
    value : str or None
        A date or date-time as typed; None passes through.
    option : str
        The option's name, for the error message (``"--start"``).
    tz : str
        Time zone of a value given without one (Asia/Tehran).

    Returns
    -------
    pandas.Timestamp or None
        The instant, or None when ``value`` is None.

    Raises
    ------
    geo.errors.InputError
        ``value`` is not a date or time.
    """
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        msg = f"{option} {value!r} is not a date or time; write it like 2024-09-22 or 1403-07-01."
        raise InputError(msg) from None
    if pd.isna(stamp):
        msg = f"{option} {value!r} is not a date or time; write it like 2024-09-22."
        raise InputError(msg)
    return stamp.tz_localize(tz) if stamp.tzinfo is None else stamp


@dataclass(frozen=True)
class CaseWindow:
    """The cases a table is computed from, as the options gave them.

    Attributes
    ----------
    start, end : str or None
        Cases created at or after ``start`` and before ``end`` (Tehran time when no zone).
    categories : tuple of str
        Only these categories; all when empty.
    """

    start: str | None = None
    end: str | None = None
    categories: tuple[str, ...] = ()

    def case_filter(self) -> CaseFilter:
        """Return the store filter of the window (raises ``InputError`` on a bad date)."""
        tz = get_settings().timezone
        return CaseFilter(
            start=parse_instant(self.start, "--start", tz),
            end=parse_instant(self.end, "--end", tz),
            categories=list(self.categories) or None,
        )


def _read(store: CaseStore, window: CaseWindow) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return (cases, boundaries) with one clear sentence when there are no cases."""
    selection = window.case_filter()
    cases = store.read_cases(selection)
    if not len(cases):
        what = " matching the options" if not selection.is_empty else ""
        msg = (
            f"The store at {store.url} holds no cases{what}; ingest cases with `t137 ingest` "
            "or widen --start/--end/--category."
        )
        raise InputError(msg)
    return cases, store.read_boundaries()


# --- the tables ------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class AnalysisTable:
    """A computed table with what is needed to summarize, draw and label it.

    Attributes
    ----------
    name : str
        ``"kpis"``, ``"ranking"`` or ``"hotspots"``.
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The table (a GeoDataFrame in EPSG:4326 for hotspots). KPI tables keep ``attrs``.
    options : mapping
        The options it was computed with (start and end as typed), for the provenance.
    store : str
        The store's shown URL (no password).
    n_cases : int
        Cases selected from the store.
    keys : tuple of str
        Columns that identify a row's group.
    level : str or None
        Area level whose code column keys the rows (boundaries join on it for GeoJSON and
        GeoParquet); None when the table has its own geometry or no area (city).
    boundaries : geopandas.GeoDataFrame
        The store's boundaries as read with the cases.
    """

    name: str
    frame: pd.DataFrame
    options: Mapping[str, object]
    store: str
    n_cases: int
    keys: tuple[str, ...]
    level: str | None
    boundaries: gpd.GeoDataFrame = field(repr=False)

    def for_format(self, fmt: Format) -> pd.DataFrame:
        """Return the frame to write as ``fmt``: joined to its areas for GeoJSON/GeoParquet."""
        if fmt not in GEO_FORMATS or isinstance(self.frame, gpd.GeoDataFrame):
            return self.frame
        drawn: pd.DataFrame = with_areas(self.frame, self.boundaries, self.level, fmt)
        return drawn


@dataclass(frozen=True, kw_only=True)
class HotspotTable(AnalysisTable):
    """A hotspot table and the fitted estimator it comes from.

    Attributes
    ----------
    model : DensityHotspots, GiStarHotspots or EmergingHotspots
        The fitted estimator (its ``labels_``, ``regions_``, ``slices_`` for summaries).
    units : str
        ``"points"`` (density clusters), ``"neighborhood"`` or ``"h3"``.
    n_fitted : int
        Cases the estimator saw (those with a point, unless the units are neighborhoods).
    """

    model: Any
    units: str
    n_fitted: int


def _window_options(window: CaseWindow) -> dict[str, object]:
    return {"start": window.start, "end": window.end}


def kpi_table(
    store: CaseStore,
    window: CaseWindow,
    *,
    level: Level = Level.NEIGHBORHOOD,
    period: Period = Period.MONTH,
    by: Sequence[str] = (),
    calendar: CalendarName = CalendarName.JALALI,
) -> AnalysisTable:
    """Compute the KPI table of ``t137 kpis``.

    Parameters
    ----------
    store : geo.store.CaseStore
        An open store.
    window : CaseWindow
        Which cases.
    level : Level
        Area level of the rows, or ``city`` for one area.
    period : Period
        Month, week, day of creation, or ``none`` for the whole span.
    by : sequence of str
        Further grouping columns (category, kind, channel, unit).
    calendar : CalendarName
        Calendar of the periods.

    Returns
    -------
    AnalysisTable
        :func:`analytics.indicators.kpis` per area (and ``by``) and period, with volume per
        1,000 residents when the boundaries carry population; ``frame.attrs["as_of"]``.

    Raises
    ------
    geo.errors.InputError
        A bad ``--start``/``--end``, or no cases in the window.
    """
    cases, boundaries = _read(store, window)
    keys = [] if level is Level.CITY else [s.LEVEL_CODE_COLUMN[level.value]]
    keys += [c for c in by if c not in keys]
    has_population = (
        len(boundaries) > 0
        and s.POPULATION in boundaries.columns
        and bool(boundaries[s.POPULATION].notna().any())
    )
    table = kpis(
        cases,
        by=keys,
        period=None if period is Period.NONE else cast(Literal["M", "W", "D"], period.value),
        calendar=calendar.value,
        population=pd.DataFrame(boundaries.drop(columns=s.GEOMETRY)) if has_population else None,
    )
    options = {
        "level": level.value,
        "period": period.value,
        "by": list(by),
        "calendar": calendar.value,
        **_window_options(window),
    }
    return AnalysisTable(
        name=KPIS,
        frame=table,
        options=options,
        store=store.url,
        n_cases=len(cases),
        keys=tuple(keys),
        level=level.value,
        boundaries=boundaries,
    )


def _names(boundaries: gpd.GeoDataFrame, level: str) -> pd.DataFrame:
    if not len(boundaries):
        return pd.DataFrame(columns=[s.CODE, s.NAME_FA, s.NAME_EN])
    rows = boundaries[boundaries[s.LEVEL] == level]
    return pd.DataFrame(
        {
            s.CODE: rows[s.CODE].astype(str).to_numpy(),
            s.NAME_FA: rows[s.NAME_FA].to_numpy(),
            s.NAME_EN: rows[s.NAME_EN].to_numpy(),
        }
    )


def check_metric(metric: str) -> str:
    """Return ``metric`` when it is ``composite`` or a known metric, else raise ``InputError``."""
    if metric != COMPOSITE and metric not in METRICS:
        msg = f"--metric {metric!r} is unknown; use {COMPOSITE} or one of {', '.join(METRICS)}."
        raise InputError(msg)
    return metric


def rank_table(
    store: CaseStore,
    window: CaseWindow,
    *,
    metric: str = COMPOSITE,
    level: RankLevel = RankLevel.NEIGHBORHOOD,
    min_volume: int = 30,
    n_boot: int = 1000,
) -> AnalysisTable:
    """Compute the fair ranking of ``t137 rank``, with the areas' names.

    Parameters
    ----------
    store : geo.store.CaseStore
        An open store.
    window : CaseWindow
        Which cases.
    metric : str
        ``composite`` or one of :data:`analytics.ranking.METRICS`.
    level : RankLevel
        Area level to rank.
    min_volume : int
        Areas with fewer cases are not ranked.
    n_boot : int
        Posterior draws for the rank intervals.

    Returns
    -------
    AnalysisTable
        :func:`analytics.ranking.rank_areas` with the code as text and ``name_fa``/``name_en``
        joined from the boundaries.

    Raises
    ------
    geo.errors.InputError
        An unknown metric (before anything is read), a bad date, or no cases.
    """
    check_metric(metric)
    cases, boundaries = _read(store, window)
    ranking = rank_areas(
        cases, metric=metric, level=level.value, min_volume=min_volume, n_boot=n_boot
    )
    code_column = s.LEVEL_CODE_COLUMN[level.value]
    ranking = ranking.assign(**{code_column: ranking[code_column].astype(str)})
    table = ranking.merge(
        _names(boundaries, level.value).rename(columns={s.CODE: code_column}),
        on=code_column,
        how="left",
    )
    options = {
        "metric": metric,
        "level": level.value,
        "min_volume": min_volume,
        "n_boot": n_boot,
        **_window_options(window),
    }
    return AnalysisTable(
        name=RANKING,
        frame=table,
        options=options,
        store=store.url,
        n_cases=len(cases),
        keys=(code_column,),
        level=level.value,
        boundaries=boundaries,
    )


def _located(cases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    ok = cases[s.LON].notna() & cases[s.LAT].notna()
    return cases.loc[ok.to_numpy()]


def _min_cases(min_cases: str) -> int | Literal["auto"]:
    if min_cases == "auto":
        return "auto"
    if not min_cases.isdigit():
        msg = f"--min-cases must be a whole number or auto, got {min_cases!r}."
        raise InputError(msg)
    return int(min_cases)


def hotspot_table(
    store: CaseStore,
    window: CaseWindow,
    *,
    method: Method = Method.GISTAR,
    level: UnitLevel | None = None,
    resolution: int = 8,
    eps_m: float = 150.0,
    min_cases: str = "auto",
    time_slice: SliceName = SliceName.MONTH,
    alpha: float = 0.05,
) -> HotspotTable:
    """Compute the hotspots of ``t137 hotspots``: clusters, Gi* units or emerging classes.

    Parameters
    ----------
    store : geo.store.CaseStore
        An open store.
    window : CaseWindow
        Which cases (``categories`` narrows them to some categories).
    method : Method
        ``density`` (clusters), ``gistar`` or ``emerging``.
    level : UnitLevel, optional
        Units of ``gistar``/``emerging``; neighborhoods for Gi*, H3 cells for emerging by
        default.
    resolution : int
        H3 resolution.
    eps_m : float
        Density radius, in metres.
    min_cases : str
        Cases within ``eps_m`` of a dense place (a whole number), or ``auto``.
    time_slice : SliceName
        Time slice of emerging hotspots.
    alpha : float
        Significance level (false-discovery rate).

    Returns
    -------
    HotspotTable
        The clusters (density) or units (``gistar``, ``emerging``) as a GeoDataFrame in
        EPSG:4326, with the fitted estimator.

    Raises
    ------
    geo.errors.InputError
        A bad ``min_cases`` or date, no cases, neighborhood units without boundaries, or
        point-based units and no case with a point.
    """
    threshold = _min_cases(min_cases) if method is Method.DENSITY else "auto"
    cases, boundaries = _read(store, window)
    n_read = len(cases)
    bounds = boundaries if len(boundaries) else None
    model: Any
    if method is Method.DENSITY:
        model = DensityHotspots(eps_m=eps_m, min_cases=threshold)
        units = "points"
    else:
        default = UnitLevel.NEIGHBORHOOD if method is Method.GISTAR else UnitLevel.H3
        units = (level or default).value
        if units == UnitLevel.NEIGHBORHOOD.value and bounds is None:
            msg = (
                "The store holds no boundaries, so neighborhood hotspots cannot be computed; "
                "import them with `t137 boundaries import --store URL` or use --level h3."
            )
            raise InputError(msg)
        unit_level = cast(Literal["neighborhood", "h3"], units)
        if method is Method.GISTAR:
            model = GiStarHotspots(level=unit_level, resolution=resolution, alpha=alpha)
        else:
            model = EmergingHotspots(
                slice=time_slice.value, level=unit_level, resolution=resolution, alpha=alpha
            )
    if units != UnitLevel.NEIGHBORHOOD.value:  # points and H3 cells need coordinates
        cases = _located(cases)
        if not len(cases):
            msg = f"None of the {n_read} selected cases has a point (lon/lat)."
            raise InputError(msg)
    if method is Method.DENSITY:
        model.fit(cases)
        result: gpd.GeoDataFrame = model.clusters_
    else:
        model.fit(cases, bounds)
        result = model.units_
    options = {
        "method": method.value,
        "category": list(window.categories),
        "level": None if level is None else level.value,
        "resolution": resolution,
        "eps_m": eps_m,
        "min_cases": min_cases,
        "slice": time_slice.value,
        "alpha": alpha,
        **_window_options(window),
    }
    return HotspotTable(
        name=HOTSPOTS,
        frame=result.to_crs(STORAGE_CRS),
        options=options,
        store=store.url,
        n_cases=n_read,
        keys=("cluster",) if method is Method.DENSITY else ("unit",),
        level=None,
        boundaries=boundaries,
        model=model,
        units=units,
        n_fitted=len(cases),
    )


# --- drawing ---------------------------------------------------------------------------------
def check_drawable(fmt: Format | None, level: str | None) -> None:
    """Refuse early a GeoJSON/GeoParquet of a table that has no areas to draw.

    Parameters
    ----------
    fmt : Format or None
        The output format (None: nothing is written).
    level : str or None
        The table's area level (``"city"`` and None have no area code column).

    Raises
    ------
    geo.errors.InputError
        ``fmt`` needs geometry and ``level`` has no code column to join boundaries on.
    """
    if (
        fmt is not None
        and fmt in GEO_FORMATS
        and (level is None or level not in s.LEVEL_CODE_COLUMN)
    ):
        msg = (
            f"This table has no {level} code column to join boundaries on; write it as csv, "
            "xlsx or parquet, or choose a --level with areas."
        )
        raise InputError(msg)


def with_areas(
    table: pd.DataFrame, boundaries: gpd.GeoDataFrame, level: str | None, fmt: Format
) -> gpd.GeoDataFrame:
    """Join the boundaries of ``level`` to a table keyed by that level's code column.

    Parameters
    ----------
    table : pandas.DataFrame
        A KPI table or ranking with the level's code column; not modified.
    boundaries : geopandas.GeoDataFrame
        The store's boundaries (all levels).
    level : str or None
        The area level of the rows.
    fmt : Format
        The geometry format asked for (for the error message).

    Returns
    -------
    geopandas.GeoDataFrame
        The table's rows and columns plus each area's geometry (None where the code is
        unknown), in the boundaries' CRS.

    Raises
    ------
    geo.errors.InputError
        The table has no such code column, or the store holds no boundaries of ``level``.
    """
    check_drawable(fmt, level)
    column = s.LEVEL_CODE_COLUMN[cast(str, level)]
    if column not in table.columns:
        msg = f"This table has no {column} column to join the {level} boundaries on."
        raise InputError(msg)
    areas = boundaries[boundaries[s.LEVEL] == level] if len(boundaries) else boundaries
    if areas.empty:
        msg = f"The store holds no {level} boundaries to draw this table; write it as csv."
        raise InputError(msg)
    shapes = gpd.GeoDataFrame(
        {column: areas[s.CODE].astype(str).to_numpy()}, geometry=areas.geometry.to_numpy()
    ).set_crs(areas.crs)
    keyed = pd.DataFrame(table).assign(**{column: table[column].astype(str)})
    joined = keyed.merge(pd.DataFrame(shapes), on=column, how="left")
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=areas.crs)


# --- writing ---------------------------------------------------------------------------------
def file_format(out: Path, fmt: str | None = None) -> Format:
    """Return the format of ``--out``, or ``--format`` when given, checked before any work.

    Parameters
    ----------
    out : pathlib.Path
        The output file.
    fmt : str, optional
        An explicit format overriding the suffix.

    Returns
    -------
    Format
        ``csv``, ``xlsx``, ``geojson``, ``parquet`` or ``geoparquet``.

    Raises
    ------
    geo.errors.InputError
        The suffix or ``fmt`` is not a known format (the message names the accepted ones).
    """
    return check_format(fmt) if fmt is not None else format_for(out)


def output_format(out: Path | None) -> Format | None:
    """Return the format of an optional ``--out`` (None when nothing is written)."""
    return None if out is None else file_format(out)


@dataclass(frozen=True)
class Saved:
    """A written table file.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    format : Format
        Its format.
    chain_head : str
        The store's ingest-log head it carries.
    rows, columns : int
        The size of the written table (provenance columns not counted).
    """

    path: Path
    format: Format
    chain_head: str
    rows: int
    columns: int

    @property
    def sidecar(self) -> Path:
        """The ``<file>.provenance.json`` beside the file."""
        return sidecar_path(self.path)


def read_head(url: str) -> tuple[str, str]:
    """Return (checked ingest-log head, shown URL) of the store at ``url``.

    The head is checked with :func:`geo.store.chain.verify_chain`; the shown URL has no
    password.
    """
    with open_store(url) as store:
        return verify_chain(store.read_runs()), store.url


def save_table(
    frame: pd.DataFrame,
    out: Path,
    fmt: Format,
    *,
    url: str,
    head: str,
    table: str,
    options: Mapping[str, object],
) -> Saved:
    """Write a table with its provenance; refuse when the store moved on meanwhile.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The table as it should be written (joined to areas for GeoJSON/GeoParquet).
    out : pathlib.Path
        The file; missing folders are created, the write is atomic.
    fmt : Format
        Its format.
    url : str
        The store's URL (opened again to check the head; noted without password).
    head : str
        The ingest-log head read before the table was computed.
    table : str
        What the table is (``kpis``, ``ranking``, ``hotspots``, ``cases``).
    options : mapping
        The options the table was computed with (noted as sorted JSON).

    Returns
    -------
    Saved
        The written file.

    Raises
    ------
    geo.errors.InputError
        An ingest run arrived while the table was computed, or the frame cannot be written
        as ``fmt``.
    """
    now, shown = read_head(url)
    if now != head:
        msg = (
            "The store received an ingest run while the table was computed; run the command "
            "again so that its figures and its chain head agree."
        )
        raise InputError(msg)
    provenance = {
        "chain_head": head,
        "store": shown,
        "table": table,
        "generated_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "options": json.dumps(dict(options), ensure_ascii=False, default=str, sort_keys=True),
    }
    path = write_export(frame, out, fmt, provenance=provenance)
    return Saved(
        path=path, format=fmt, chain_head=head, rows=len(frame), columns=len(frame.columns)
    )


TableT = TypeVar("TableT", bound=AnalysisTable)


@overload
def produce(
    store: str | None,
    compute: Callable[[CaseStore], TableT],
    out: Path,
    fmt: Format | None = None,
) -> tuple[TableT, Saved]: ...
@overload
def produce(
    store: str | None,
    compute: Callable[[CaseStore], TableT],
    out: Path | None = None,
    fmt: Format | None = None,
) -> tuple[TableT, Saved | None]: ...
def produce(
    store: str | None,
    compute: Callable[[CaseStore], TableT],
    out: Path | None = None,
    fmt: Format | None = None,
) -> tuple[TableT, Saved | None]:
    """Compute a table from a store and, when ``out`` is given, write it as ``fmt``.

    Parameters
    ----------
    store : str or None
        ``--store`` (the ``T137_STORE_URL`` setting when None).
    compute : callable
        Takes the open store and returns the table (:func:`kpi_table` with its options).
    out : pathlib.Path, optional
        The file to write; nothing is written (and the head not read) when None.
    fmt : Format, optional
        The file's format (:func:`file_format`); from the suffix when None.

    Returns
    -------
    tuple of (AnalysisTable, Saved or None)
        The table and the written file.
    """
    url = store_url(store)
    with open_store(url) as opened:
        head = verify_chain(opened.read_runs()) if out is not None else None
        table = compute(opened)
    if out is None or head is None:
        return table, None
    name = fmt if fmt is not None else file_format(out)
    saved = save_table(
        table.for_format(name),
        out,
        name,
        url=url,
        head=head,
        table=table.name,
        options=table.options,
    )
    return table, saved
