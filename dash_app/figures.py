"""Plotly figures built from the frames of :mod:`dash_app.data` (pure functions).

Maps are ``go.Choroplethmap`` traces on a blank ``white-bg`` base, so they render with no
internet; raster tiles are drawn under the polygons only when a tile URL is configured.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Final

import mapclassify
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ingest import schema as s

from . import i18n, metrics
from .data import MONTH, MapLayer
from .i18n import Lang

#: Sequential colours of the map classes, light to dark (ColorBrewer YlOrRd).
CLASS_COLOURS: Final = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
NO_DATA_COLOUR: Final = "#d9d9d9"
#: Colour of the areas whose median time to close is not reached (over half still open):
#: apart from the sequential classes, since their median is only known to be longer.
NOT_REACHED_COLOUR: Final = "#542788"
MAX_CLASSES: Final = len(CLASS_COLOURS)
#: Most groups (areas or categories) a trend by group draws, besides the whole city.
TREND_TOP: Final = 10
#: Decimals shown for each KPI.
DECIMALS: Final = {
    "volume": 0,
    "per_10k": 1,
    "backlog": 0,
    "close_days": 1,
    "sla": 1,
    "satisfaction": 2,
    "objection": 1,
    "close_median": 1,
    "overdue_share": 1,
}
#: KPIs shown as percentages (rankings hold them as proportions).
PERCENT_KPIS: Final = frozenset({"sla", "objection"})
#: Colours of the map overlays' markers.
OVERLAY_COLOURS: Final = {"clusters": "#253494", "duplicates": "#006d2c"}
FONT: Final = "Vazirmatn, Tahoma, 'DejaVu Sans', sans-serif"
#: Map legends sit in the lower-left corner, clear of the mode bar.
MAP_LEGEND: Final = {
    "x": 0.01,
    "y": 0.01,
    "xanchor": "left",
    "yanchor": "bottom",
    "bgcolor": "rgba(255, 255, 255, 0.85)",
}


def kpi_label(kpi: str, lang: Lang) -> str:
    """Return the translated name of ``kpi``."""
    return i18n.t(f"kpi_{kpi}", lang)


def area_name(table: pd.DataFrame, lang: Lang) -> pd.Series:
    """Return each area's name in ``lang`` (falling back to the other language, then code)."""
    first, second = (s.NAME_FA, s.NAME_EN) if lang == "fa" else (s.NAME_EN, s.NAME_FA)
    names = table[first].astype(object).where(table[first].notna(), table[second])
    return names.where(names.notna(), table[s.CODE].astype(str)).astype(str)


def classify(values: pd.Series, k: int = MAX_CLASSES) -> tuple[pd.Series, list[str]]:
    """Put values into at most ``k`` Fisher-Jenks classes (mapclassify).

    Returns
    -------
    tuple of (pandas.Series, list of str)
        Each value's class index (-1 when missing) and the class bounds as ``"lo – hi"``.
    """
    present = values.dropna().astype("float64")
    classes = pd.Series(-1, index=values.index, dtype="int64")
    distinct = int(present.nunique())
    if distinct == 0:
        return classes, []
    if distinct == 1:
        classes[present.index] = 0
        value = float(present.iloc[0])
        return classes, [f"{value:g}"]
    n_classes = min(k, distinct)
    with warnings.catch_warnings():
        # Without numba, mapclassify warns that it uses its pure-Python Fisher-Jenks;
        # that is fast enough for a few hundred areas.
        warnings.filterwarnings("ignore", message="Numba not installed")
        scheme = mapclassify.FisherJenks(present.to_numpy(), k=n_classes)
    classes[present.index] = np.asarray(scheme.yb, dtype="int64")
    bins = [float(present.min()), *(float(b) for b in scheme.bins)]
    labels = [f"{bins[i]:,.4g} – {bins[i + 1]:,.4g}" for i in range(len(scheme.bins))]
    return classes, labels


def _finite(value: float) -> bool:
    return bool(np.isfinite(value))


def value_texts(table: pd.DataFrame, kpi: str, lang: Lang) -> list[str]:
    """Return each area's ``kpi`` as the hover and the area panel show it.

    A number in ``lang``; the Kaplan–Meier median time to close (days) adds its 95 %
    interval, or, where more than half the cases are still open, says that the median is
    not reached and is longer than the longest time seen; the overdue share (%) adds the
    counts it comes from (overdue of open cases).
    """
    values = table[kpi].to_numpy(dtype=np.float64, na_value=np.nan)
    shown = [i18n.number(float(v), lang, DECIMALS[kpi]) for v in values]
    columns = set(table.columns)

    def floats(column: str) -> np.ndarray:
        return table[column].to_numpy(dtype=np.float64, na_value=np.nan)

    if kpi == metrics.CLOSE_MEDIAN and metrics.CLOSE_NOT_REACHED in columns:
        lo, hi = floats(metrics.CLOSE_MEDIAN_LO), floats(metrics.CLOSE_MEDIAN_HI)
        longest = floats(metrics.CLOSE_MAX_DAYS)
        flags = table[metrics.CLOSE_NOT_REACHED].to_numpy(dtype=bool)
        for i, value in enumerate(values):
            if flags[i]:
                days = i18n.number(float(longest[i]), lang, DECIMALS[kpi])
                shown[i] = i18n.t("median_above", lang, days=days)
            elif _finite(value) and _finite(lo[i]) and _finite(hi[i]):
                interval = i18n.t(
                    "median_interval",
                    lang,
                    lo=i18n.number(float(lo[i]), lang, DECIMALS[kpi]),
                    hi=i18n.number(float(hi[i]), lang, DECIMALS[kpi]),
                )
                shown[i] = f"{shown[i]} ({interval})"
    elif kpi == metrics.OVERDUE_SHARE and metrics.OPEN_AT_END in columns:
        overdue, still_open = floats(metrics.OVERDUE), floats(metrics.OPEN_AT_END)
        for i, value in enumerate(values):
            if _finite(value):
                shown[i] = i18n.t(
                    "overdue_of_open",
                    lang,
                    share=shown[i],
                    n=i18n.number(float(overdue[i]), lang),
                    open=i18n.number(float(still_open[i]), lang),
                )
    return shown


def _zoom(span_deg: float) -> float:
    """Return a MapLibre zoom that shows a box ``span_deg`` wide in a ~600 px map."""
    return float(np.clip(math.log2(360.0 / max(span_deg, 1e-6)) + 0.6, 1.0, 16.0))


def empty_figure(message: str) -> go.Figure:
    """Return a blank figure that shows ``message``."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 16})
    fig.update_layout(
        xaxis={"visible": False}, yaxis={"visible": False}, margin={"l": 0, "r": 0, "t": 0, "b": 0}
    )
    return fig


def _features_by_code(layer: MapLayer) -> dict[str, dict[str, Any]]:
    return {str(f["id"]): f for f in layer.geojson["features"]}


def classed_map(
    frame: pd.DataFrame,
    layer: MapLayer,
    colours: dict[str, str],
    hovertemplate: str,
    *,
    opacity: float,
) -> go.Figure:
    """Return one ``Choroplethmap`` trace per class, each with only its own polygons.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per area: ``code``, ``name`` (hover title), ``class`` (a key of
        ``colours``) and the two hover columns ``c0`` and ``c1`` (``customdata``).
    layer : MapLayer
        The polygons; areas without a polygon are left out.
    colours : dict of str to str
        Class label -> colour, in legend order; classes with no area get no trace.
    hovertemplate : str
        The hover template of every trace.
    opacity : float
        Fill opacity of the polygons.

    Notes
    -----
    Each trace carries the GeoJSON of its own areas only, so the figure holds every
    polygon once (``plotly.express`` copies the whole layer into each class trace).
    """
    features = _features_by_code(layer)
    traces = []
    for label, colour in colours.items():
        part = frame.loc[(frame["class"] == label).to_numpy()]
        part = part.loc[part[s.CODE].isin(list(features)).to_numpy()]
        if part.empty:
            continue
        codes = part[s.CODE].tolist()
        traces.append(
            go.Choroplethmap(
                geojson={"type": "FeatureCollection", "features": [features[c] for c in codes]},
                locations=codes,
                z=np.ones(len(codes)),
                colorscale=[[0.0, colour], [1.0, colour]],
                showscale=False,
                name=label,
                legendgroup=label,
                showlegend=True,
                hovertext=part["name"].tolist(),
                customdata=np.column_stack([part["c0"].to_numpy(), part["c1"].to_numpy()]),
                hovertemplate=hovertemplate,
                marker={"opacity": opacity, "line": {"width": 0.6, "color": "#555555"}},
            )
        )
    fig = go.Figure(data=traces)
    fig.update_layout(
        map={
            "center": {"lon": layer.center[0], "lat": layer.center[1]},
            "zoom": _zoom(layer.span_deg),
            "style": "white-bg",
        },
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        font_family=FONT,
    )
    return fig


def choropleth(
    table: pd.DataFrame,
    layer: MapLayer | None,
    kpi: str,
    lang: Lang,
    *,
    tiles_url: str | None = None,
    missing_key: str = "no_data",
) -> go.Figure:
    """Return a classed choropleth of ``kpi`` by area on a blank base (no tiles by default).

    One trace per class (the legend), each holding only its own areas' polygons; areas
    with no value form a grey class of their own, drawn only when there are any. For the
    median time to close, areas where it is not reached (more than half the cases still
    open) form a class of their own too, outside the sequential classes, and their hover
    says so (:func:`value_texts`) instead of showing a number.

    Parameters
    ----------
    table : pandas.DataFrame
        :meth:`dash_app.data.DataService.area_table` output (``code``, names, KPIs).
    layer : MapLayer or None
        The simplified polygons of the same level.
    kpi : str
        A KPI column of ``table``.
    lang : {"fa", "en"}
        Language of the labels and digits.
    tiles_url : str, optional
        An XYZ raster tile URL to draw under the polygons.
    missing_key : str, default "no_data"
        Translation key of the class of areas with no value ("suppressed" on the public
        page).
    """
    if layer is None:
        return empty_figure(i18n.t("no_boundaries", lang))
    label = kpi_label(kpi, lang)
    classes, bounds = classify(table[kpi])
    # In Persian "lo تا hi" reads right in RTL, where "lo – hi" would show reversed.
    shown = [b.replace(" – ", " تا ") if lang == "fa" else b for b in bounds]
    legend = [i18n.digits(b, lang) for b in shown]
    missing = i18n.t(missing_key, lang)
    not_reached = i18n.t("median_not_reached_class", lang)
    flags = (
        table[metrics.CLOSE_NOT_REACHED].to_numpy(dtype=bool)
        if kpi == metrics.CLOSE_MEDIAN and metrics.CLOSE_NOT_REACHED in table.columns
        else np.zeros(len(table), dtype=bool)
    )
    frame = pd.DataFrame(
        {
            s.CODE: table[s.CODE].astype(str),
            "name": area_name(table, lang),
            "class": [
                legend[c] if c >= 0 else (not_reached if flag else missing)
                for c, flag in zip(classes, flags, strict=True)
            ],
            "c0": value_texts(table, kpi, lang),
            "c1": [i18n.number(float(v), lang) for v in table["volume"]],
        }
    )
    colours = dict(zip(legend, CLASS_COLOURS, strict=False))
    colours[not_reached] = NOT_REACHED_COLOUR
    colours[missing] = NO_DATA_COLOUR
    cases_label = i18n.t("kpi_volume", lang)
    hover = (
        f"<b>%{{hovertext}}</b><br>{label}: %{{customdata[0]}}<br>"
        f"{cases_label}: %{{customdata[1]}}<extra></extra>"
    )
    fig = classed_map(frame, layer, colours, hover, opacity=0.8)
    if tiles_url:
        fig.update_layout(
            map_layers=[{"below": "traces", "sourcetype": "raster", "source": [tiles_url]}]
        )
    fig.update_layout(legend={**MAP_LEGEND, "title": {"text": label}}, uirevision=kpi)
    return fig


def add_overlay(fig: go.Figure, points: pd.DataFrame, kind: str, lang: Lang) -> go.Figure:
    """Add one marker per cluster (``lon``, ``lat``, ``n_cases``, ``label``) to a map figure.

    Marker areas grow with the number of cases; the hover shows the label and the count.
    ``fig`` is changed in place and returned.
    """
    if points.empty:
        return fig
    n = points["n_cases"].astype("float64").to_numpy()
    size = np.clip(6.0 + 18.0 * np.sqrt(n / max(float(n.max()), 1.0)), 6.0, 24.0)
    cases_label = i18n.t("kpi_volume", lang)
    fig.add_trace(
        go.Scattermap(
            lon=points["lon"].astype("float64").to_numpy(),
            lat=points["lat"].astype("float64").to_numpy(),
            mode="markers",
            marker={"size": size, "color": OVERLAY_COLOURS.get(kind, "#000000"), "opacity": 0.8},
            customdata=np.column_stack(
                [points["label"].astype(str), [i18n.number(float(v), lang) for v in n]]
            ),
            hovertemplate=(
                f"<b>%{{customdata[0]}}</b><br>{cases_label}: %{{customdata[1]}}<extra></extra>"
            ),
            name=i18n.t(f"overlay_{kind}", lang),
            showlegend=True,
        )
    )
    return fig


HOTSPOT_COLOURS: Final = {"hot": "#d7301f", "cold": "#2b8cbe", "not significant": "#eeeeee"}


def hotspot_map(hotspots: pd.DataFrame | None, layer: MapLayer | None, lang: Lang) -> go.Figure:
    """Return a map of Gi* hot and cold neighborhoods on a blank base."""
    if hotspots is None or layer is None:
        return empty_figure(i18n.t("no_boundaries", lang))
    labels = {key: i18n.t(key, lang) for key in HOTSPOT_COLOURS}
    frame = pd.DataFrame(
        {
            s.CODE: hotspots[s.CODE].astype(str),
            "name": area_name(hotspots, lang),
            "class": hotspots["hotspot"].map(labels),
            "c0": [i18n.number(float(v), lang, 2) for v in hotspots["z"]],
            "c1": [i18n.number(float(v), lang) for v in hotspots["n_cases"]],
        }
    )
    hover = (
        f"<b>%{{hovertext}}</b><br>{i18n.t('gi_z', lang)}: %{{customdata[0]}}<br>"
        f"{i18n.t('kpi_volume', lang)}: %{{customdata[1]}}<extra></extra>"
    )
    colours = {labels[k]: c for k, c in HOTSPOT_COLOURS.items()}
    fig = classed_map(frame, layer, colours, hover, opacity=0.85)
    fig.update_layout(legend={**MAP_LEGEND, "title": {"text": i18n.t("status", lang)}})
    return fig


def _month_labels(months: pd.Series, lang: Lang) -> list[str]:
    return [i18n.jalali_month(m, lang) for m in months]


def trend(monthly: pd.DataFrame, lang: Lang) -> go.Figure:
    """Return monthly volume (bars) and cases still open (line), with Jalali month labels."""
    if monthly.empty:
        return empty_figure(i18n.t("no_data", lang))
    labels = _month_labels(monthly[MONTH], lang)
    fig = go.Figure()
    fig.add_bar(x=labels, y=monthly["volume"], name=i18n.t("series_cases", lang))
    fig.add_scatter(
        x=labels, y=monthly["backlog"], name=i18n.t("series_open", lang), mode="lines+markers"
    )
    fig.update_layout(
        title=i18n.t("trend_title", lang),
        margin={"l": 40, "r": 20, "t": 50, "b": 40},
        font_family=FONT,
        legend={"orientation": "h"},
    )
    return fig


def top_categories(by_category: pd.DataFrame, lang: Lang, top: int = 10) -> go.Figure:
    """Return a horizontal bar chart of the ``top`` categories by volume."""
    if by_category.empty:
        return empty_figure(i18n.t("no_data", lang))
    head = by_category.head(top).iloc[::-1]
    fig = go.Figure(go.Bar(x=head["volume"], y=head[s.CATEGORY], orientation="h"))
    fig.update_layout(
        title=i18n.t("top_categories", lang),
        margin={"l": 120, "r": 20, "t": 50, "b": 40},
        font_family=FONT,
    )
    return fig


def kpi_trend(
    monthly: pd.DataFrame, kpi: str, lang: Lang, by: str | None = None, top: int = TREND_TOP
) -> go.Figure:
    """Return a line of ``kpi`` by Jalali month: one, or one per group and the whole city.

    Parameters
    ----------
    monthly : pandas.DataFrame
        :meth:`dash_app.data.DataService.monthly` output (sums and KPIs per month, and
        per group when ``by`` is given).
    kpi : str
        A KPI column of ``monthly``.
    lang : {"fa", "en"}
        Language of the labels.
    by : str, optional
        The group column (``category`` or ``area_code``).
    top : int, default :data:`TREND_TOP`
        With ``by``, only the ``top`` groups with the most cases over the whole window are
        drawn (a chart of hundreds of lines is unreadable and slow), plus one line of the
        whole city computed from the sums of every group; the title says so when groups
        were left out.
    """
    if monthly.empty:
        return empty_figure(i18n.t("no_data", lang))
    title = kpi_label(kpi, lang)
    if by is None:
        lines = [(title, monthly)]
    else:
        volume = monthly.groupby(by, observed=True)["volume"].sum()
        order = volume.sort_values(ascending=False, kind="stable")
        chosen = list(order.index[:top])
        subset = monthly.loc[monthly[by].isin(chosen).to_numpy()]
        groups = dict(list(subset.groupby(by, observed=True)))
        city = metrics.add_kpis(metrics.sum_measures(monthly, [MONTH]))
        lines = [(i18n.t("by_none", lang), city)]
        lines += [(str(key), groups[key]) for key in chosen]
        if len(order) > top:
            shown = i18n.t("trend_top", lang, n=top, total=len(order))
            title = f"{title} ({shown})"
    traces = []
    for index, (name, part) in enumerate(lines):
        ordered = part.sort_values(MONTH)
        city_line = by is not None and index == 0
        traces.append(
            go.Scatter(
                x=_month_labels(ordered[MONTH], lang),
                y=ordered[kpi].to_numpy(),
                name=name,
                mode="lines+markers",
                line={"color": "#222222", "width": 3} if city_line else None,
            )
        )
    fig = go.Figure(data=traces)
    fig.update_layout(
        title=title,
        margin={"l": 40, "r": 20, "t": 50, "b": 40},
        font_family=FONT,
        xaxis={"type": "category"},
    )
    return fig


def public_map(public: pd.DataFrame, layer: MapLayer | None, kpi: str, lang: Lang) -> go.Figure:
    """Return the public choropleth: suppressed areas drawn grey, as "suppressed"."""
    table = public[[s.CODE, s.NAME_FA, s.NAME_EN]].assign(volume=public["volume"])
    table[kpi] = public["value"]
    return choropleth(table, layer, kpi, lang, missing_key="suppressed")


def public_bar(public: pd.DataFrame, kpi: str, lang: Lang) -> go.Figure:
    """Return a bar chart of the public table's values (suppressed areas left out)."""
    shown = public.loc[~public["suppressed"]]
    if shown.empty:
        return empty_figure(i18n.t("no_data", lang))
    names = area_name(shown, lang)
    fig = go.Figure(go.Bar(x=names, y=shown["value"]))
    fig.update_layout(
        title=kpi_label(kpi, lang),
        margin={"l": 40, "r": 20, "t": 50, "b": 80},
        font_family=FONT,
    )
    return fig
