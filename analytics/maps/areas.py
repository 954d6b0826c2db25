"""Choropleth of a KPI by area: the KPI table joined to the boundaries, classed by mapclassify."""

from __future__ import annotations

import difflib
import warnings
from typing import Any, Final

import folium
import geopandas as gpd
import mapclassify
import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics import indicators as ind
from geo.errors import InputError
from geo.synthetic_geography import SYNTHETIC_LABEL
from ingest import schema as s

from .canvas import FONT, add_layer, add_legend, legend_html, start, unique_name
from .labels import Lang, check_lang, digits, label, number
from .shapes import feature_collection, require_geoframe, simplified

#: ColorBrewer YlOrRd (9 classes), light to dark.
YL_OR_RD: Final = (
    "#ffffcc",
    "#ffeda0",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#fc4e2a",
    "#e31a1c",
    "#bd0026",
    "#800026",
)
NO_DATA_COLOUR: Final = "#d9d9d9"
#: mapclassify schemes offered (``mapclassify.classify`` names).
SCHEMES: Final = ("quantiles", "fisher_jenks", "natural_breaks", "equal_interval", "jenks_caspall")
#: Metrics that are counts: an area without a KPI row has zero of them.
COUNT_METRICS: Final = frozenset(
    {ind.VOLUME, ind.BACKLOG, ind.BACKLOG_OVERDUE, *ind.BACKLOG_AGE_COLUMNS}
)
_GROUPING_HINT: Final = (s.CATEGORY, s.SUBCATEGORY, s.KIND, s.CHANNEL, s.UNIT)

F64 = npt.NDArray[np.float64]


def _code_column(kpis: pd.DataFrame, level: str) -> tuple[str, str]:
    """Return (level name, the kpis column holding that level's codes)."""
    by_column = {column: lv for lv, column in s.LEVEL_CODE_COLUMN.items()}
    if level in by_column:
        level = by_column[level]
    if level not in s.LEVEL_CODE_COLUMN:
        msg = f"level must be one of {list(s.LEVEL_CODE_COLUMN)}, got {level!r}."
        raise InputError(msg)
    column = s.LEVEL_CODE_COLUMN[level]
    if column in kpis.columns:
        return level, column
    if s.CODE in kpis.columns:
        return level, s.CODE
    msg = (
        f"kpis has no {column!r} column; compute it by that level, e.g. "
        f"analytics.kpis(cases, by=[{level!r}]) (columns found: {list(kpis.columns)[:8]}…)."
    )
    raise InputError(msg)


def _check_metric(kpis: pd.DataFrame, metric: str) -> None:
    numeric = [c for c in kpis.columns if pd.api.types.is_numeric_dtype(kpis[c])]
    if metric not in kpis.columns:
        close = difflib.get_close_matches(metric, [str(c) for c in numeric], n=3)
        hint = f" Did you mean {close}?" if close else ""
        msg = (
            f"kpis has no column {metric!r}.{hint} Numeric columns you can map: "
            f"{numeric[:12]}{'…' if len(numeric) > 12 else ''}."
        )
        raise InputError(msg)
    if metric not in numeric:
        msg = f"column {metric!r} is not numeric ({kpis[metric].dtype}); map a numeric KPI."
        raise InputError(msg)


def _one_period(kpis: pd.DataFrame, period: str | None) -> tuple[pd.DataFrame, str | None]:
    if ind.PERIOD not in kpis.columns:
        if period is not None:
            msg = (
                f"kpis has no {ind.PERIOD!r} column (computed with period=None), so "
                f"period={period!r} cannot be chosen; drop the period argument."
            )
            raise InputError(msg)
        return kpis, None
    labels = kpis[ind.PERIOD].astype("string")
    if period is not None:
        rows = kpis[labels == str(period)]
        if rows.empty:
            found = sorted(labels.dropna().unique().tolist())
            msg = f"period {period!r} is not in kpis; choose one of {found[-12:]}."
            raise InputError(msg)
        return rows, str(period)
    present = labels.dropna().unique().tolist()
    if len(present) <= 1:
        return kpis, (str(present[0]) if present else None)
    if ind.PERIOD_START in kpis.columns:
        latest = str(kpis.loc[kpis[ind.PERIOD_START].idxmax(), ind.PERIOD])
    else:
        latest = max(str(p) for p in present)
    return kpis[labels == latest], latest


def _check_unique(kpis: pd.DataFrame, code_col: str) -> None:
    if not kpis[code_col].duplicated().any():
        return
    varying = [
        c
        for c in (*_GROUPING_HINT, *[c for c in kpis.columns if c not in _GROUPING_HINT])
        if c in kpis.columns
        and c != code_col
        and not pd.api.types.is_numeric_dtype(kpis[c])
        and not pd.api.types.is_datetime64_any_dtype(kpis[c])
        and c != s.GEOMETRY
        and kpis.groupby(code_col, observed=True)[c].nunique().max() > 1
    ]
    example = f"kpis[kpis[{varying[0]!r}] == ...]" if varying else "filter kpis"
    msg = (
        f"kpis has several rows per {code_col!r} (they differ in {varying or 'some column'}); "
        f"a choropleth needs one row per area: {example}, or compute the KPIs by the area "
        "only."
    )
    raise InputError(msg)


def _areas(kpis: pd.DataFrame, boundaries: gpd.GeoDataFrame | None, level: str) -> gpd.GeoDataFrame:
    """Return the boundary rows of ``level`` (code, names, geometry), any CRS."""
    if boundaries is None:
        if isinstance(kpis, gpd.GeoDataFrame):
            return require_geoframe(kpis, "kpis")
        msg = (
            "pass boundaries=..., the boundary table the KPIs are keyed by (e.g. "
            "geo.boundaries.read_boundaries(path) or "
            "geo.synthetic_geography.synthetic_boundaries()), or give kpis as a GeoDataFrame."
        )
        raise InputError(msg)
    frame = require_geoframe(boundaries, "boundaries")
    if s.CODE not in frame.columns:
        msg = (
            "boundaries have no `code` column; read them with geo.boundaries.read_boundaries "
            "(the boundary model: level, code, name_fa, name_en, parent_code, population)."
        )
        raise InputError(msg)
    if s.LEVEL in frame.columns:
        rows = frame[frame[s.LEVEL].astype("string") == level]
        if rows.empty:
            present = sorted(frame[s.LEVEL].astype("string").dropna().unique().tolist())
            msg = f"boundaries hold no {level!r} areas (levels present: {present}); pick one."
            raise InputError(msg)
        frame = rows
    return frame


def _classes(values: F64, scheme: str, k_classes: int) -> tuple[npt.NDArray[np.int64], list[float]]:
    """Return the class of each value (-1 when missing) and the classes' upper bounds."""
    if scheme not in SCHEMES:
        msg = f"scheme must be one of {list(SCHEMES)}, got {scheme!r}."
        raise InputError(msg)
    if not 1 <= k_classes <= len(YL_OR_RD):
        msg = f"k must be between 1 and {len(YL_OR_RD)} classes, got {k_classes}."
        raise InputError(msg)
    classes = np.full(len(values), -1, dtype=np.int64)
    known = np.isfinite(values)
    y = values[known]
    if len(y) == 0:
        return classes, []
    distinct = len(np.unique(y))
    k_used = min(k_classes, distinct)
    if k_used <= 1:
        classes[known] = 0
        return classes, [float(y.max())]
    with warnings.catch_warnings():
        # many tied values: mapclassify forms fewer classes and says so; the legend shows it
        warnings.filterwarnings("ignore", message="Not enough unique values", category=UserWarning)
        warnings.filterwarnings("ignore", message="Numba not installed", category=UserWarning)
        model = mapclassify.classify(y, scheme, k=k_used)
    bins = [float(b) for b in np.asarray(model.bins, dtype=np.float64)]
    classes[known] = np.asarray(model.yb, dtype=np.int64)
    return classes, bins


def _palette(n: int) -> list[str]:
    if n <= 0:
        return []
    if n == 1:
        return [YL_OR_RD[4]]
    idx = np.linspace(0, len(YL_OR_RD) - 1, n).round().astype(int)
    return [YL_OR_RD[i] for i in idx]


def choropleth(
    kpis: pd.DataFrame,
    metric: str = ind.VOLUME,
    level: str = s.LEVEL_NEIGHBORHOOD,
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    period: str | None = None,
    scheme: str = "quantiles",
    k: int = 5,
    simplify_m: float = 20.0,
    lang: Lang = "fa",
    tiles: str | folium.TileLayer | None = None,
    name: str | None = None,
    m: folium.Map | None = None,
) -> folium.Map:
    """Map one KPI by area: polygons coloured by class, with tooltips and a legend.

    Parameters
    ----------
    kpis : pandas.DataFrame
        The output of :func:`analytics.kpis` grouped by the level
        (``by=["neighborhood"]``), one row per area (and period); or a GeoDataFrame that
        already carries the area geometry (then ``boundaries`` may be None).
    metric : str, default "volume"
        The numeric column to map: ``volume``, ``volume_per_1000``, ``backlog``,
        ``overdue_share``, ``close_median_h``, ``sla_working``, ``objection_rate``,
        ``satisfaction_mean`` …
    level : {"neighborhood", "district", "region"}, default "neighborhood"
        The areas; kpis must hold their codes (``neighborhood_code`` …, or ``code``).
    boundaries : geopandas.GeoDataFrame, optional
        The boundary table (:func:`geo.boundaries.read_boundaries`, any CRS): rows of
        ``level`` are joined to kpis on ``code``.
    period : str, optional
        The period to map (``"1403-07"``) when kpis holds several; default the latest,
        named in the legend.
    scheme : str, default "quantiles"
        The mapclassify class breaks: ``quantiles``, ``fisher_jenks``, ``natural_breaks``,
        ``equal_interval`` or ``jenks_caspall``.
    k : int, default 5
        Number of classes (fewer when there are fewer distinct values), at most 9.
    simplify_m : float, default 20
        Simplification tolerance in metres (EPSG:32639), so that 375 neighborhoods stay
        well under 1 MB of HTML; 0 keeps every vertex.
    lang : {"fa", "en"}, default "fa"
        Language of the tooltips, the legend and the layer name (Persian digits in fa).
    tiles : str or folium.TileLayer, optional
        A tile layer (``"OpenStreetMap"``, ``"CartoDB positron"``); default none, a blank
        base that works offline.
    name : str, optional
        The layer's name in the layer control; default the metric's label and the period.
    m : folium.Map, optional
        A map from another helper to add this layer onto (a layer control appears).

    Returns
    -------
    folium.Map
        ``m`` or a new map fitted to the areas. Areas without a KPI row get 0 for counts
        (volume, backlog) and "no data" (grey) for the other metrics.

    Raises
    ------
    geo.errors.InputError
        If a column is missing (with the columns you can use), kpis has several rows per
        area, the period or level is not there, or an option is invalid.
    geo.errors.CRSError
        If the boundaries have no CRS.

    Examples
    --------
    >>> import pandas as pd
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> b = synthetic_boundaries(n_regions=2, n_neighborhoods=6, seed=1)
    >>> codes = b.loc[b.level == "neighborhood", "code"].tolist()
    >>> table = pd.DataFrame({"neighborhood_code": codes, "volume": [3, 9, 14, 0, 7, 21]})
    >>> m = choropleth(table, metric="volume", level="neighborhood", boundaries=b, lang="en")
    >>> html = m.get_root().render()
    >>> "Cases" in html, "tile" in html.lower()
    (True, False)
    """
    lang = check_lang(lang)
    if not isinstance(kpis, pd.DataFrame):
        msg = f"kpis must be the DataFrame returned by analytics.kpis, got {type(kpis).__name__}."
        raise InputError(msg)
    level, code_col = _code_column(kpis, level)
    _check_metric(kpis, metric)
    table, chosen = _one_period(kpis, period)
    _check_unique(table, code_col)
    areas = _areas(table, boundaries, level)

    area_codes = areas[s.CODE if s.CODE in areas.columns else code_col].astype("string")
    by_code = pd.Series(
        pd.to_numeric(table[metric], errors="coerce").to_numpy(np.float64, na_value=np.nan),
        index=pd.Index(table[code_col].astype("string").to_numpy()),
    )
    by_code = by_code[~np.asarray(by_code.index.isna(), dtype=bool)]
    values = area_codes.map(by_code).to_numpy(np.float64, na_value=np.nan)
    missing = ~np.asarray(area_codes.isin(by_code.index).to_numpy(), dtype=bool)
    if metric in COUNT_METRICS:
        values = np.where(missing, 0.0, values)
    classes, bins = _classes(values, scheme, k)
    colours = _palette(len(bins))
    fill = [colours[c] if c >= 0 else NO_DATA_COLOUR for c in classes]

    names = _names(areas, lang, area_codes)
    props = pd.DataFrame(
        {
            "name": names,
            "code": digits_all(area_codes, lang),
            "value": [number(v, lang) for v in values],
        }
    )
    geometry = simplified(areas.geometry, simplify_m)
    data = feature_collection(geometry, props)
    title = label(metric, lang) + (f" — {digits(chosen, lang)}" if chosen else "")
    layer_name = unique_name(m, name or title) if m is not None else (name or title)
    m = start(m, areas.geometry, tiles)
    layer = folium.FeatureGroup(name=layer_name, show=True)
    folium.GeoJson(
        data,
        name=layer_name,
        style_function=_styler(fill),
        highlight_function=lambda _f: {"weight": 2.5, "color": "#222222"},
        tooltip=folium.GeoJsonTooltip(
            fields=["name", "code", "value"],
            aliases=[label(level, lang), label("code", lang), title],
            style=_tooltip_style(lang),
        ),
        control=False,
    ).add_to(layer)
    add_layer(m, layer)
    rows = _legend_rows(values, bins, colours, lang)
    note = SYNTHETIC_LABEL if _is_synthetic(areas) else None
    add_legend(m, legend_html(title, rows, note), lang)
    return m


def digits_all(values: pd.Series, lang: Lang) -> list[str]:
    """Return the values as text, with Persian digits in fa (missing: empty)."""
    return [digits(str(v), lang) if not pd.isna(v) else "" for v in values]


def _names(areas: pd.DataFrame, lang: Lang, codes: pd.Series) -> list[str]:
    first, second = (s.NAME_FA, s.NAME_EN) if lang == "fa" else (s.NAME_EN, s.NAME_FA)
    out: list[str] = []
    for i in range(len(areas)):
        name = None
        for column in (first, second):
            if column in areas.columns:
                value = areas[column].iloc[i]
                if value is not None and not pd.isna(value) and str(value).strip():
                    name = str(value)
                    break
        out.append(name if name is not None else digits(str(codes.iloc[i]), lang))
    return out


def _styler(fill: list[str]) -> Any:
    def style(feature: dict[str, Any]) -> dict[str, object]:
        return {
            "fillColor": fill[int(feature["id"])],
            "color": "#555555",
            "weight": 0.6,
            "fillOpacity": 0.75,
        }

    return style


def _tooltip_style(lang: Lang) -> str:
    direction = "rtl" if lang == "fa" else "ltr"
    align = "right" if lang == "fa" else "left"
    return f"direction: {direction}; text-align: {align}; font-family: {FONT};"


def _legend_rows(
    values: F64, bins: list[float], colours: list[str], lang: Lang
) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    known = values[np.isfinite(values)]
    lower = float(known.min()) if len(known) else np.nan
    for colour, upper in zip(colours, bins, strict=True):
        rows.append((colour, f"{number(lower, lang)} – {number(upper, lang)}"))
        lower = upper
    if np.isnan(values).any():
        rows.append((NO_DATA_COLOUR, label("no_data", lang)))
    return rows


def _is_synthetic(areas: pd.DataFrame) -> bool:
    if s.NAME_EN not in areas.columns:
        return False
    names = areas[s.NAME_EN].astype("string").fillna("")
    return bool(len(names)) and bool(names.str.startswith("SYNTHETIC").all())
