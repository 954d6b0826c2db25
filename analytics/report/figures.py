"""Every figure of the monthly report, as a flat list of named values.

:func:`compute_report` turns cases, boundaries and :class:`~analytics.report.params.ReportParams`
into a :class:`ReportData`: the figures (:class:`Figure`, each with a stable key such as
``city.volume`` and a value rounded to what the report shows) and the frames the maps need.
It is a pure function of its inputs, so ``t137 verify`` recomputes the same figures from the
same cases.

Figure keys
-----------
``city.<metric>``, ``city.<metric>.prev``, ``city.<metric>.change``
    The area's KPIs (:func:`analytics.kpis`) in the month, the month before, and the
    difference, for the metrics of :data:`CITY_METRICS`. "city" is the region when the
    report is for one region.
``area.<code>.volume``, ``area.<code>.volume_per_1000``, ``area.<code>.backlog``
    Per neighborhood, the data of the two maps.
``top.volume_per_1000.<i>.code`` / ``top.backlog.<i>.code``
    The neighborhoods listed beside each map, highest first.
``rank.<code>.<column>``
    The fair ranking (:func:`analytics.rank_areas`, composite index) of regions (of the
    region's neighborhoods for a region report): ``rank``, ``rank_lo``, ``rank_hi``,
    ``estimate``, ``estimate_lo``, ``estimate_hi``, ``volume``, ``status``.
``hotspot.count``, ``hotspot.<i>.<column>``
    Recurring emerging hotspots (:class:`analytics.EmergingHotspots`, neighborhoods, monthly
    slices, the :data:`analytics.RECURRING_HOTSPOTS` patterns), most cases first:
    ``unit``, ``pattern``, ``n_cases``, ``n_hot``.
``quality.flagged``, ``quality.<i>.<column>``
    Units' data-quality signs in the month (:func:`analytics.quality_flags`), flagged units
    first: ``unit``, ``volume``, ``closed``, ``quick_close_share``, ``month_end_ratio``,
    ``objection_share``, ``flags``.
``param.<name>``
    The parameters the methods box states.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from analytics.hotspots import EmergingHotspots
from analytics.indicators import kpis
from analytics.quality import quality_flags
from analytics.ranking import COMPOSITE, RANKED, rank_areas
from geo.errors import InputError
from ingest import schema as s

from .params import ReportParams

Kind = Literal["count", "share", "points", "hours", "rate", "score", "index", "rank", "text"]
#: Decimals kept of each numeric kind (the value is rounded before it is stored or compared).
DECIMALS: Final[dict[str, int]] = {
    "count": 0,
    "rank": 0,
    "share": 4,
    "points": 4,
    "hours": 1,
    "rate": 3,
    "score": 2,
    "index": 3,
}
#: The area KPIs of the report: (kpis column, kind of its value, kind of its change).
CITY_METRICS: Final[tuple[tuple[str, Kind, Kind], ...]] = (
    ("volume", "count", "count"),
    ("volume_per_1000", "rate", "rate"),
    ("backlog", "count", "count"),
    ("overdue_share", "share", "points"),
    ("response_median_h", "hours", "hours"),
    ("close_median_h", "hours", "hours"),
    ("sla_working", "share", "points"),
    ("objection_rate", "share", "points"),
    ("reopen_rate", "share", "points"),
    ("satisfaction_mean", "score", "score"),
)
#: Columns of the ranking that are figures, and their kinds.
RANK_COLUMNS: Final[tuple[tuple[str, Kind], ...]] = (
    ("rank", "rank"),
    ("rank_lo", "rank"),
    ("rank_hi", "rank"),
    ("estimate", "index"),
    ("estimate_lo", "index"),
    ("estimate_hi", "index"),
    ("volume", "count"),
    ("status", "text"),
)
HOTSPOT_COLUMNS: Final[tuple[tuple[str, Kind], ...]] = (
    ("unit", "text"),
    ("pattern", "text"),
    ("n_cases", "count"),
    ("n_hot", "count"),
)
QUALITY_COLUMNS: Final[tuple[tuple[str, Kind], ...]] = (
    ("unit", "text"),
    ("volume", "count"),
    ("closed", "count"),
    ("quick_close_share", "share"),
    ("month_end_ratio", "score"),
    ("objection_share", "share"),
    ("flags", "text"),
)
QUICK_CLOSE: Final = "quick_close"
MONTH_END: Final = "month_end"


def canonical(value: object, kind: str) -> str:
    """Return the canonical text of a figure's value: what ``data-value`` holds.

    Missing values are ``""``; counts and ranks are integers; other numbers are rounded to
    :data:`DECIMALS` places; text is kept as is.

    Examples
    --------
    >>> canonical(0.123456, "share"), canonical(12.0, "count"), canonical(float("nan"), "hours")
    ('0.1235', '12', '')
    >>> canonical(-0.00001, "index")
    '0.000'
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if kind == "text":
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number) or math.isinf(number):
        return ""
    places = DECIMALS[kind]
    if places == 0:
        return str(round(number))
    text = f"{round(number, places):.{places}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


@dataclass(frozen=True)
class Figure:
    """One figure of the report.

    Attributes
    ----------
    key : str
        Stable name, such as ``city.volume`` (see the module docstring).
    value : str
        The canonical value (:func:`canonical`): what ``data-value`` holds and what
        verification compares.
    kind : str
        How the value is shown (count, share, points, hours, rate, score, index, rank, text).
    """

    key: str
    value: str
    kind: Kind

    @classmethod
    def of(cls, key: str, value: object, kind: Kind) -> Figure:
        """Return the figure of a raw value (rounded by :func:`canonical`)."""
        return cls(key, canonical(value, kind), kind)


@dataclass
class ReportData:
    """What the report shows: the figures, plus the frames its maps and tables draw from.

    Attributes
    ----------
    params : ReportParams
        The parameters (with ``as_of`` set).
    figures : list of Figure
        Every figure, keys unique.
    neighborhoods : geopandas.GeoDataFrame
        The report's neighborhoods (EPSG:4326): ``code``, ``name_fa``, ``name_en`` and the
        map values ``volume``, ``volume_per_1000``, ``backlog``.
    names : dict of str to tuple of (str, str)
        Area code to (Persian name, English name), every level.
    hotspots : geopandas.GeoDataFrame
        The recurring hotspot units shown, in figure order (EPSG:4326).
    ranking_level : str
        The level ranked (``region`` or ``neighborhood``).
    n_cases : int
        Cases created in the month.
    """

    params: ReportParams
    figures: list[Figure]
    neighborhoods: gpd.GeoDataFrame
    names: dict[str, tuple[str, str]]
    hotspots: gpd.GeoDataFrame
    ranking_level: str
    n_cases: int
    by_key: dict[str, Figure] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_key = {figure.key: figure for figure in self.figures}
        if len(self.by_key) != len(self.figures):
            msg = "report figures repeat a key; every figure needs its own name."
            raise InputError(msg)

    def __getitem__(self, key: str) -> Figure:
        return self.by_key[key]

    def __contains__(self, key: object) -> bool:
        return key in self.by_key

    def prefixed(self, prefix: str) -> Iterator[Figure]:
        """Yield the figures whose key starts with ``prefix``, in order."""
        return (figure for figure in self.figures if figure.key.startswith(prefix))


# --- selecting the inputs ----------------------------------------------------------------------
def _region_cases(cases: pd.DataFrame, params: ReportParams) -> pd.DataFrame:
    if params.region is None:
        return cases
    regions = cases[s.REGION_CODE].astype(object)
    return cases.loc[(regions.astype(str) == str(params.region)).to_numpy()]


def _created_between(cases: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    created = cases[s.CREATED_AT]
    keep = ((created >= start) & (created < end)).fillna(False).to_numpy(dtype=bool)
    return cases.loc[keep]


def _population(boundaries: gpd.GeoDataFrame) -> pd.DataFrame | None:
    if not len(boundaries) or s.POPULATION not in boundaries.columns:
        return None
    if not bool(boundaries[s.POPULATION].notna().any()):
        return None
    return pd.DataFrame(boundaries.drop(columns=boundaries.geometry.name))


def _row(table: pd.DataFrame, month: str) -> pd.Series | None:
    rows = table[table["period"].astype(str) == month]
    return None if rows.empty else rows.iloc[0]


# --- the sections ------------------------------------------------------------------------------
def _city_figures(
    cases: pd.DataFrame, boundaries: gpd.GeoDataFrame, params: ReportParams
) -> list[Figure]:
    _, end = params.window
    before = _created_between(cases, pd.Timestamp.min.tz_localize("UTC"), end)
    by = [] if params.region is None else [s.REGION_CODE]
    table = (
        kpis(
            before,
            by=by,
            period="M",
            as_of=params.as_of_utc,
            population=_population(boundaries),
        )
        if len(before)
        else pd.DataFrame(columns=["period"])
    )
    now = _row(table, params.month)
    prev = _row(table, params.previous_month)
    out: list[Figure] = []
    for column, kind, change_kind in CITY_METRICS:
        current = np.nan if now is None else now.get(column, np.nan)
        earlier = np.nan if prev is None else prev.get(column, np.nan)
        if column == "volume":
            current = 0 if now is None else current
            earlier = 0 if prev is None else earlier
        out.append(Figure.of(f"city.{column}", current, kind))
        out.append(Figure.of(f"city.{column}.prev", earlier, kind))
        a, b = canonical(current, kind), canonical(earlier, kind)
        change = float(a) - float(b) if a and b else None
        out.append(Figure.of(f"city.{column}.change", change, change_kind))
    return out


def _neighborhoods(boundaries: gpd.GeoDataFrame, params: ReportParams) -> gpd.GeoDataFrame:
    if not len(boundaries):
        msg = "the store holds no boundaries; import them with `t137 boundaries import`."
        raise InputError(msg)
    hoods = boundaries[boundaries[s.LEVEL] == s.LEVEL_NEIGHBORHOOD].copy()
    if params.region is not None:
        region = str(params.region)
        codes = {region}
        # walk down the hierarchy: districts of the region, then their neighborhoods
        for _ in range(2):
            children = boundaries[boundaries[s.PARENT_CODE].astype(str).isin(codes)]
            codes |= set(children[s.CODE].astype(str))
        hoods = hoods[hoods[s.PARENT_CODE].astype(str).isin(codes)]
        if hoods.empty:
            msg = f"--region {region} has no neighborhoods in the store's boundaries."
            raise InputError(msg)
    hoods[s.CODE] = hoods[s.CODE].astype(str)
    return hoods.sort_values(s.CODE, kind="stable").reset_index(drop=True)


def _map_figures(
    cases: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    hoods: gpd.GeoDataFrame,
    params: ReportParams,
) -> tuple[list[Figure], gpd.GeoDataFrame]:
    _, end = params.window
    before = _created_between(cases, pd.Timestamp.min.tz_localize("UTC"), end)
    population = _population(boundaries)
    values = pd.DataFrame({s.CODE: hoods[s.CODE]})
    if len(before):
        table = kpis(
            before,
            by=[s.NEIGHBORHOOD_CODE],
            period="M",
            as_of=params.as_of_utc,
            population=population,
        )
        table = table[table["period"].astype(str) == params.month]
        table = table.assign(**{s.CODE: table[s.NEIGHBORHOOD_CODE].astype(str)})
        keep = [s.CODE, "volume", "backlog"]
        values = values.merge(table[keep], on=s.CODE, how="left")
    else:
        values = values.assign(volume=np.nan, backlog=np.nan)
    values["volume"] = values["volume"].fillna(0).astype("int64")
    values["backlog"] = values["backlog"].fillna(0).astype("int64")
    people = pd.to_numeric(hoods[s.POPULATION], errors="coerce").to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_1000 = np.where(people > 0, values["volume"].to_numpy() * 1000.0 / people, np.nan)
    values["volume_per_1000"] = per_1000
    out: list[Figure] = []
    for row in values.itertuples(index=False):
        out.append(Figure.of(f"area.{row.code}.volume", row.volume, "count"))
        out.append(Figure.of(f"area.{row.code}.volume_per_1000", row.volume_per_1000, "rate"))
        out.append(Figure.of(f"area.{row.code}.backlog", row.backlog, "count"))
    for column in ("volume_per_1000", "backlog"):
        ranked = values.dropna(subset=[column])
        ranked = ranked[ranked[column] > 0]
        ranked = ranked.sort_values([column, s.CODE], ascending=[False, True], kind="stable")
        for i, code in enumerate(ranked[s.CODE].head(params.top_areas), start=1):
            out.append(Figure.of(f"top.{column}.{i}.code", code, "text"))
    mapped = hoods.merge(values, on=s.CODE, how="left")
    return out, gpd.GeoDataFrame(mapped, geometry=hoods.geometry.name, crs=hoods.crs)


def _ranking_figures(month_cases: pd.DataFrame, params: ReportParams) -> tuple[list[Figure], str]:
    level = s.LEVEL_REGION if params.region is None else s.LEVEL_NEIGHBORHOOD
    column = s.LEVEL_CODE_COLUMN[level]
    located = month_cases[month_cases[column].notna().to_numpy()]
    if not len(located):
        return [Figure.of("rank.areas", 0, "count")], level
    ranking = rank_areas(
        located,
        metric=COMPOSITE,
        level=level,
        min_volume=params.min_volume,
        n_boot=params.n_boot,
        seed=params.seed,
        kpis_options={"as_of": params.as_of_utc},
    )
    ranking = ranking.assign(**{column: ranking[column].astype(str)})
    out = [
        Figure.of("rank.areas", len(ranking), "count"),
        Figure.of("rank.ranked", int((ranking["status"] == RANKED).sum()), "count"),
    ]
    for row in ranking.to_dict("records"):
        code = row[column]
        for name, kind in RANK_COLUMNS:
            out.append(Figure.of(f"rank.{code}.{name}", row.get(name), kind))
    return out, level


def _hotspot_figures(
    history: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    hoods: gpd.GeoDataFrame,
    params: ReportParams,
) -> tuple[list[Figure], gpd.GeoDataFrame]:
    empty = gpd.GeoDataFrame({"unit": []}, geometry=[], crs="EPSG:4326")
    located = history[history[s.NEIGHBORHOOD_CODE].notna().to_numpy()]
    if not len(located):
        return [Figure.of("hotspot.count", 0, "count")], empty
    model = EmergingHotspots(slice="month", level="neighborhood", seed=params.seed)
    model.fit(located, boundaries)
    units = model.units_
    units = units[units["recurring"].astype(bool).to_numpy()]
    units = units[units["unit"].astype(str).isin(set(hoods[s.CODE])).to_numpy()]
    order = units.assign(unit=units["unit"].astype(str)).sort_values(
        ["n_cases", "unit"], ascending=[False, True], kind="stable"
    )
    shown = order.head(params.top_hotspots)
    out = [Figure.of("hotspot.count", len(order), "count")]
    for i, row in enumerate(shown.to_dict("records"), start=1):
        for name, kind in HOTSPOT_COLUMNS:
            out.append(Figure.of(f"hotspot.{i}.{name}", row[name], kind))
    return out, gpd.GeoDataFrame(shown, geometry="geometry", crs=units.crs).to_crs("EPSG:4326")


def _quality_figures(
    history: pd.DataFrame, events: pd.DataFrame | None, params: ReportParams
) -> list[Figure]:
    if not len(history) or s.UNIT not in history.columns:
        return [Figure.of("quality.flagged", 0, "count")]
    table = quality_flags(history, events, by=[s.UNIT], as_of=params.as_of_utc)
    table = table[table["period"].astype(str) == params.month]
    table = table[table[s.UNIT].notna().to_numpy()]
    quick = table["quick_close_flag"].fillna(False).astype(bool)
    month_end = table["month_end_flag"].fillna(False).astype(bool)
    flags = [
        ",".join(name for name, on in ((QUICK_CLOSE, q), (MONTH_END, m)) if on)
        for q, m in zip(quick, month_end, strict=True)
    ]
    table = table.assign(
        flags=flags,
        n_flags=quick.astype(int) + month_end.astype(int),
        unit=table[s.UNIT].astype(str),
    )
    table = table.sort_values(
        ["n_flags", "volume", "unit"], ascending=[False, False, True], kind="stable"
    )
    out = [Figure.of("quality.flagged", int((table["n_flags"] > 0).sum()), "count")]
    for i, row in enumerate(table.head(params.top_units).to_dict("records"), start=1):
        for name, kind in QUALITY_COLUMNS:
            out.append(Figure.of(f"quality.{i}.{name}", row.get(name), kind))
    return out


def _param_figures(params: ReportParams) -> list[Figure]:
    return [
        Figure.of("param.min_volume", params.min_volume, "count"),
        Figure.of("param.n_boot", params.n_boot, "count"),
        Figure.of("param.hotspot_months", params.hotspot_months, "count"),
    ]


def _names(boundaries: gpd.GeoDataFrame) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for row in boundaries[[s.CODE, s.NAME_FA, s.NAME_EN]].itertuples(index=False):
        fa = "" if pd.isna(row[1]) else str(row[1])
        en = "" if pd.isna(row[2]) else str(row[2])
        out[str(row[0])] = (fa or en, en or fa)
    return out


def compute_report(
    cases: pd.DataFrame,
    boundaries: gpd.GeoDataFrame,
    params: ReportParams,
    events: pd.DataFrame | None = None,
) -> ReportData:
    """Compute every figure of the monthly report.

    Parameters
    ----------
    cases : pandas.DataFrame
        Canonical cases created before the month's end (older cases count in the backlog;
        cases of other regions are dropped here when ``params.region`` is set). Not
        modified.
    boundaries : geopandas.GeoDataFrame
        The boundary model (with populations for per-capita figures).
    params : ReportParams
        The month, region and analysis parameters; ``as_of`` should be set
        (:meth:`ReportParams.resolve_as_of`), else the month's end is used.
    events : pandas.DataFrame, optional
        Case events, for the referral columns of the quality flags.

    Returns
    -------
    ReportData
        The figures and the frames the renderer draws.
    """
    if params.as_of is None:
        params = params.resolve_as_of(params.window[1])
    start, end = params.window
    scoped = _region_cases(cases, params)
    scoped = _created_between(scoped, pd.Timestamp.min.tz_localize("UTC"), end)
    month_cases = _created_between(scoped, start, end)
    history = _created_between(scoped, params.history_start, end)
    hoods = _neighborhoods(boundaries, params)
    figures = _city_figures(scoped, boundaries, params)
    map_figures, mapped = _map_figures(scoped, boundaries, hoods, params)
    rank_figures, level = _ranking_figures(month_cases, params)
    hot_figures, hot_units = _hotspot_figures(history, boundaries, hoods, params)
    quality = _quality_figures(history, events, params)
    figures += map_figures + rank_figures + hot_figures + quality + _param_figures(params)
    return ReportData(
        params=params,
        figures=figures,
        neighborhoods=mapped,
        names=_names(boundaries),
        hotspots=hot_units,
        ranking_level=level,
        n_cases=len(month_cases),
    )


def figure_keys(figures: Sequence[Figure]) -> list[str]:
    """Return the keys of ``figures`` in order."""
    return [figure.key for figure in figures]
