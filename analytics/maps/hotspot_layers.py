"""Hotspots of a fitted estimator on the map: units or clusters coloured by class."""

from __future__ import annotations

from typing import Any, Final

import folium
import geopandas as gpd
import pandas as pd

from analytics.hotspots import DensityHotspots, EmergingHotspots, GiStarHotspots
from analytics.hotspots import emerging as em
from analytics.hotspots import gistar as gs
from analytics.hotspots.fitted import check_fitted
from geo.errors import InputError
from ingest import schema as s

from .areas import _tooltip_style
from .canvas import add_layer, add_legend, legend_html, start, unique_name
from .labels import Lang, check_lang, digits, label, number, term
from .shapes import feature_collection, simplified

Estimator = DensityHotspots | GiStarHotspots | EmergingHotspots

GREY: Final = "#cfcfcf"
#: Gi* classes.
GISTAR_COLOURS: Final = {gs.HOT: "#d7301f", gs.COLD: "#2b8cbe", gs.NOT_SIGNIFICANT: GREY}
#: Emerging patterns of hot spots (reds) and cold spots (blues), in the legend's order.
HOT_PATTERN_COLOURS: Final = {
    em.NEW: "#fcbba1",
    em.CONSECUTIVE: "#fc9272",
    em.INTENSIFYING: "#a50f15",
    em.PERSISTENT: "#de2d26",
    em.DIMINISHING: "#fb6a4a",
    em.SPORADIC: "#fee0d2",
    em.OSCILLATING: "#cb181d",
    em.HISTORICAL: "#fdd0a2",
}
COLD_PATTERN_COLOURS: Final = {
    em.NEW: "#c6dbef",
    em.CONSECUTIVE: "#9ecae1",
    em.INTENSIFYING: "#08519c",
    em.PERSISTENT: "#3182bd",
    em.DIMINISHING: "#6baed6",
    em.SPORADIC: "#deebf7",
    em.OSCILLATING: "#2171b5",
    em.HISTORICAL: "#bdd7e7",
}
#: Categorical colours of density clusters (ColorBrewer Dark2 and Set1).
CATEGORY_COLOURS: Final = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#e41a1c",
    "#377eb8",
    "#984ea3",
)


def hotspots(
    fitted_estimator: Estimator,
    *,
    significant_only: bool = False,
    simplify_m: float = 5.0,
    lang: Lang = "fa",
    tiles: str | folium.TileLayer | None = None,
    name: str | None = None,
    m: folium.Map | None = None,
) -> folium.Map:
    """Map the result of a fitted hotspot estimator.

    - :class:`~analytics.hotspots.GiStarHotspots`: every unit (neighborhood or H3 cell)
      coloured hot, cold or not significant; tooltips with cases, z and q.
    - :class:`~analytics.hotspots.EmergingHotspots`: every unit coloured by its pattern
      (reds for hot-spot patterns, blues for cold ones); tooltips with the pattern, hot
      slices, trend and whether it is a recurring problem.
    - :class:`~analytics.hotspots.DensityHotspots`: the cluster outlines coloured by
      category; tooltips with cases, main subcategory, active weeks and area.

    Parameters
    ----------
    fitted_estimator : DensityHotspots, GiStarHotspots or EmergingHotspots
        An estimator after ``.fit(...)``.
    significant_only : bool, default False
        Gi* and emerging: draw only hot and cold units (with a pattern), not the rest.
    simplify_m : float, default 5
        Simplification tolerance in metres (EPSG:32639).
    lang : {"fa", "en"}, default "fa"
        Language of the tooltips, the legend and the layer name.
    tiles : str or folium.TileLayer, optional
        A tile layer; default none (blank base, offline).
    name : str, optional
        The layer's name in the layer control.
    m : folium.Map, optional
        A map from another helper to add this layer onto.

    Returns
    -------
    folium.Map

    Raises
    ------
    geo.errors.NotFittedError
        If the estimator has not been fitted ("call .fit(cases) first").
    geo.errors.InputError
        If the object is not one of the three estimators.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd
    >>> from analytics.hotspots import DensityHotspots
    >>> rng = np.random.default_rng(0)
    >>> xy = np.vstack([rng.normal(0, 30, (300, 2)), rng.uniform(-3000, 3000, (300, 2))])
    >>> cases = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
    ...     535_000 + xy[:, 0], 3_950_000 + xy[:, 1]), crs="EPSG:32639")
    >>> model = DensityHotspots(eps_m=100, min_cases=20, by=None).fit(cases)
    >>> m = hotspots(model, lang="en")
    >>> "Density clusters" in m.get_root().render()
    True
    """
    lang = check_lang(lang)
    if isinstance(fitted_estimator, GiStarHotspots):
        check_fitted(fitted_estimator, "units_")
        frame, colours, props, legend = _gistar(fitted_estimator.units_, lang, significant_only)
        title = label("gistar", lang)
    elif isinstance(fitted_estimator, EmergingHotspots):
        check_fitted(fitted_estimator, "units_")
        frame, colours, props, legend = _emerging(fitted_estimator.units_, lang, significant_only)
        title = label("emerging", lang)
    elif isinstance(fitted_estimator, DensityHotspots):
        check_fitted(fitted_estimator, "clusters_")
        frame, colours, props, legend = _density(fitted_estimator.clusters_, lang)
        title = label("density", lang)
    else:
        msg = (
            "hotspots() maps a fitted DensityHotspots, GiStarHotspots or EmergingHotspots, got "
            f"{type(fitted_estimator).__name__}."
        )
        raise InputError(msg)
    layer_name = name or title
    if m is not None:
        layer_name = unique_name(m, layer_name)
    m = start(m, frame.geometry, tiles)
    layer = folium.FeatureGroup(name=layer_name, show=True)
    if len(frame):
        data = feature_collection(simplified(frame.geometry, simplify_m), props)
        folium.GeoJson(
            data,
            style_function=_styler(colours),
            highlight_function=lambda _f: {"weight": 2.5, "color": "#222222"},
            tooltip=folium.GeoJsonTooltip(
                fields=list(props.columns),
                aliases=[label(c, lang) for c in props.columns],
                style=_tooltip_style(lang),
            ),
            control=False,
        ).add_to(layer)
    add_layer(m, layer)
    add_legend(m, legend_html(title, legend), lang)
    return m


Parts = tuple[gpd.GeoDataFrame, list[tuple[str, float]], pd.DataFrame, list[tuple[str, str]]]


def _gistar(units: gpd.GeoDataFrame, lang: Lang, significant_only: bool) -> Parts:
    frame = units
    if significant_only:
        frame = units[units[gs.HOTSPOT] != gs.NOT_SIGNIFICANT]
    classes = frame[gs.HOTSPOT].astype(str).tolist()
    colours = [
        (GISTAR_COLOURS.get(c, GREY), 0.25 if c == gs.NOT_SIGNIFICANT else 0.7) for c in classes
    ]
    props = pd.DataFrame(
        {
            "unit": [digits(str(u), lang) for u in frame[gs.UNIT]],
            "class": [term(c, lang) for c in classes],
            "n_cases": [number(v, lang) for v in frame[gs.N_CASES]],
            "z": [number(v, lang, 2) for v in frame[gs.Z]],
            "q": [number(v, lang, 3) for v in frame[gs.Q]],
        }
    )
    present = set(classes)
    legend = [(GISTAR_COLOURS[c], term(c, lang)) for c in GISTAR_COLOURS if c in present]
    return frame, colours, props, legend


def _emerging(units: gpd.GeoDataFrame, lang: Lang, significant_only: bool) -> Parts:
    frame = units
    if significant_only:
        frame = units[units["spot"] != ""]
    colours: list[tuple[str, float]] = []
    texts: list[str] = []
    for pattern, spot in zip(frame["pattern"], frame["spot"], strict=True):
        table = HOT_PATTERN_COLOURS if spot == gs.HOT else COLD_PATTERN_COLOURS
        if spot in (gs.HOT, gs.COLD) and pattern in table:
            colours.append((table[pattern], 0.75))
            texts.append(f"{term(pattern, lang)} ({term(spot, lang)})")
        else:
            colours.append((GREY, 0.25))
            texts.append(term(em.NO_PATTERN, lang))
    recurring = frame["recurring"].to_numpy(dtype=bool)
    props = pd.DataFrame(
        {
            "unit": [digits(str(u), lang) for u in frame["unit"]],
            "pattern": texts,
            "n_cases": [number(v, lang) for v in frame["n_cases"]],
            "n_hot": [number(v, lang) for v in frame["n_hot"]],
            "trend": [number(v, lang, 2) for v in frame["trend_tau"]],
            "recurring": [label("recurring", lang) if r else "—" for r in recurring],
        }
    )
    legend: list[tuple[str, str]] = []
    pairs = set(zip(frame["spot"], frame["pattern"], strict=True))
    for spot, table in ((gs.HOT, HOT_PATTERN_COLOURS), (gs.COLD, COLD_PATTERN_COLOURS)):
        for pattern, colour in table.items():
            if (spot, pattern) in pairs:
                legend.append((colour, f"{term(pattern, lang)} ({term(spot, lang)})"))
    if (frame["spot"] == "").any():
        legend.append((GREY, term(em.NO_PATTERN, lang)))
    return frame, colours, props, legend


def _density(clusters: gpd.GeoDataFrame, lang: Lang) -> Parts:
    categories = clusters[s.CATEGORY].astype(object).where(clusters[s.CATEGORY].notna(), None)
    distinct = list(dict.fromkeys(str(c) for c in categories))
    palette = {c: CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)] for i, c in enumerate(distinct)}
    colours = [(palette[str(c)], 0.6) for c in categories]
    every = label("cases", lang)
    props = pd.DataFrame(
        {
            "cluster": [digits(str(c), lang) for c in clusters["cluster"]],
            "category": [every if c is None else term(c, lang) for c in categories],
            "n_cases": [number(v, lang) for v in clusters["n_cases"]],
            "dominant_subcategory": [term(v, lang) for v in clusters["dominant_subcategory"]],
            "weeks_active": [number(v, lang) for v in clusters["weeks_active"]],
            "area_m2": [number(v, lang, 0) for v in clusters["area_m2"]],
        }
    )
    legend = [(palette[c], every if c == "None" else term(c, lang)) for c in distinct]
    return clusters, colours, props, legend


def _styler(colours: list[tuple[str, float]]) -> Any:
    def style(feature: dict[str, Any]) -> dict[str, object]:
        colour, opacity = colours[int(feature["id"])]
        return {"fillColor": colour, "color": "#555555", "weight": 0.6, "fillOpacity": opacity}

    return style
