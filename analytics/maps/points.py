"""Cases on the map: a heat map, and markers with Jalali dates (clustered when many)."""

from __future__ import annotations

import html
from typing import Final

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import InputError
from ingest import schema as s

from .canvas import add_layer, start, unique_name
from .coords import latlon
from .labels import Lang, check_lang, digits, jalali, label, number, term

#: Columns shown in a case's popup, when present (never the description or citizen key).
POPUP_COLUMNS: Final = (
    s.CASE_ID,
    s.KIND,
    s.CATEGORY,
    s.SUBCATEGORY,
    s.STATUS,
    s.CREATED_AT,
    s.CLOSED_AT,
    s.NEIGHBORHOOD_CODE,
    s.GEOCODE_PRECISION,
)
_PRIVATE: Final = frozenset({s.DESCRIPTION, s.CITIZEN_KEY, s.ADDRESS})
_CLUSTER_CALLBACK: Final = """
function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: '#08519c', weight: 1, fillColor: '#3182bd', fillOpacity: 0.8});
    marker.bindPopup(row[2], {maxWidth: 320});
    return marker;
};
"""


def _located(cases: pd.DataFrame) -> pd.DataFrame:
    """Return the rows with a location (missing lon/lat or geometry dropped)."""
    if not isinstance(cases, pd.DataFrame):
        msg = f"cases must be a DataFrame of canonical cases, got {type(cases).__name__}."
        raise InputError(msg)
    if s.LON in cases.columns and s.LAT in cases.columns:
        lon = pd.to_numeric(cases[s.LON], errors="coerce")
        lat = pd.to_numeric(cases[s.LAT], errors="coerce")
        kept: pd.DataFrame = cases[(lon.notna() & lat.notna()).to_numpy()]
        return kept
    if isinstance(cases, gpd.GeoDataFrame) and cases.geometry.name in cases.columns:
        geometry = cases.geometry
        located: pd.DataFrame = cases[~(geometry.isna() | geometry.is_empty).to_numpy()]
        return located
    msg = (
        f"cases need `{s.LON}`/`{s.LAT}` columns (EPSG:4326 degrees) or a point geometry; "
        "read them with store.read_cases() or add coordinates first."
    )
    raise InputError(msg)


def _sample(cases: pd.DataFrame, max_points: int, seed: int) -> pd.DataFrame:
    if isinstance(max_points, bool) or not int(max_points) >= 1:
        msg = f"max_points must be a positive number of points, got {max_points!r}."
        raise InputError(msg)
    if len(cases) <= max_points:
        return cases
    rows = np.sort(np.random.default_rng(seed).choice(len(cases), size=max_points, replace=False))
    return cases.iloc[rows]


def _layer_start(
    key: str,
    located: pd.DataFrame,
    n_total: int,
    lang: Lang,
    name: str | None,
    m: folium.Map | None,
    tiles: str | folium.TileLayer | None,
) -> tuple[str, list[list[float]], folium.Map]:
    """Return the layer's unique name (with "n of total" when sampled), the points, the map."""
    title = label(key, lang)
    if len(located) < n_total:
        shown = label("n_of_total", lang).format(
            n=number(len(located), lang), total=number(n_total, lang)
        )
        title = f"{title} ({shown})"
    layer_name = name or title
    if m is not None:
        layer_name = unique_name(m, layer_name)
    pairs = latlon(located)
    return layer_name, pairs, start(m, pairs, tiles)


def heatmap(
    cases: pd.DataFrame,
    *,
    radius: int = 12,
    blur: int = 18,
    max_points: int = 200_000,
    seed: int = 0,
    lang: Lang = "fa",
    tiles: str | folium.TileLayer | None = None,
    name: str | None = None,
    m: folium.Map | None = None,
) -> folium.Map:
    """Draw a heat map of case locations (folium's ``HeatMap``).

    Parameters
    ----------
    cases : pandas.DataFrame or geopandas.GeoDataFrame
        Cases with ``lon``/``lat`` (EPSG:4326) or a point geometry in any CRS. Unlocated
        rows are left out.
    radius, blur : int, default 12 and 18
        Radius and blur of each point, in screen pixels.
    max_points : int, default 200000
        A seeded random sample of this many points is drawn beyond it (the HTML grows with
        the points).
    seed : int, default 0
        Seed of the sample.
    lang : {"fa", "en"}, default "fa"
        Language of the layer name.
    tiles : str or folium.TileLayer, optional
        A tile layer; default none (blank base, offline).
    name : str, optional
        The layer's name in the layer control.
    m : folium.Map, optional
        A map from another helper to add this layer onto.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"lon": [51.38, 51.40, 51.41], "lat": [35.69, 35.70, 35.71]})
    >>> html = heatmap(cases, lang="en").get_root().render()
    >>> "[35.69, 51.38]" in html
    True
    """
    lang = check_lang(lang)
    located = _sample(_located(cases), max_points, seed)
    layer_name, pairs, m = _layer_start("heatmap", located, len(cases), lang, name, m, tiles)
    layer = folium.FeatureGroup(name=layer_name, show=True)
    heat = folium.plugins.HeatMap(  # type: ignore[no-untyped-call]
        pairs, radius=radius, blur=blur, control=False
    )
    heat.add_to(layer)
    add_layer(m, layer)
    return m


def popup_html(row: pd.Series, lang: Lang) -> str:
    """Return the HTML popup of one case: its id, kind, category, status and Jalali dates.

    Text is escaped; the description, address and citizen key are never shown.

    Examples
    --------
    >>> import pandas as pd
    >>> row = pd.Series({"case_id": "C1", "status": "closed",
    ...                  "created_at": pd.Timestamp("2024-09-26T11:00Z")})
    >>> popup = popup_html(row, "en")
    >>> "<b>Status</b>: Closed" in popup, "<b>Registered</b>: 1403/07/05 14:30" in popup
    (True, True)
    >>> "وضعیت" in popup_html(row, "fa"), "۱۴۰۳/۰۷/۰۵ ۱۴:۳۰" in popup_html(row, "fa")
    (True, True)
    """
    parts: list[str] = []
    for column in POPUP_COLUMNS:
        if column not in row.index or column in _PRIVATE:
            continue
        value = row[column]
        if column in (s.CREATED_AT, s.CLOSED_AT):
            if value is None or pd.isna(value):
                continue
            text = jalali(value, lang)
        elif column in (s.CASE_ID, s.NEIGHBORHOOD_CODE):
            if value is None or pd.isna(value):
                continue
            text = digits(str(value), lang)
        else:
            if value is None or pd.isna(value):
                continue
            text = term(value, lang)
        parts.append(f"<b>{html.escape(label(column, lang))}</b>: {html.escape(text)}")
    direction, align = ("rtl", "right") if lang == "fa" else ("ltr", "left")
    return f'<div dir="{direction}" style="text-align: {align}">' + "<br>".join(parts) + "</div>"


def cases(
    cases: pd.DataFrame,
    *,
    max_points: int = 5_000,
    cluster_above: int = 2_000,
    seed: int = 0,
    lang: Lang = "fa",
    tiles: str | folium.TileLayer | None = None,
    name: str | None = None,
    m: folium.Map | None = None,
) -> folium.Map:
    """Draw cases as markers whose popups give the case id, category, status and Jalali dates.

    For analysts only: the map holds case points (never the description, address or
    citizen key), so it is not for public pages.

    Parameters
    ----------
    cases : pandas.DataFrame or geopandas.GeoDataFrame
        Canonical cases with ``lon``/``lat`` (EPSG:4326) or a point geometry in any CRS.
        Unlocated rows are left out.
    max_points : int, default 5000
        At most this many cases are drawn: a seeded random sample beyond it, named in the
        layer name ("5,000 of 120,000").
    cluster_above : int, default 2000
        With more points than this the markers are clustered (``FastMarkerCluster``, built
        in the browser from one array), else each is its own circle marker.
    seed : int, default 0
        Seed of the sample.
    lang : {"fa", "en"}, default "fa"
        Language of the popups (Jalali dates in Tehran time either way).
    tiles : str or folium.TileLayer, optional
        A tile layer; default none (blank base, offline).
    name : str, optional
        The layer's name in the layer control.
    m : folium.Map, optional
        A map from another helper to add this layer onto.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"case_id": ["C1", "C2"], "lon": [51.38, 51.41],
    ...     "lat": [35.69, 35.70], "status": ["closed", "referred"],
    ...     "created_at": pd.to_datetime(["2024-09-26T11:00Z", "2024-09-27T06:00Z"])})
    >>> html = cases(frame, lang="en").get_root().render()
    >>> "1403/07/05 14:30" in html, "[35.69, 51.38]" in html
    (True, True)
    """
    lang = check_lang(lang)
    if isinstance(cluster_above, bool) or not int(cluster_above) >= 0:
        msg = f"cluster_above must be zero or a positive number of points, got {cluster_above!r}."
        raise InputError(msg)
    located = _sample(_located(cases), max_points, seed)
    layer_name, pairs, m = _layer_start("cases", located, len(cases), lang, name, m, tiles)
    popups = [popup_html(row, lang) for _, row in located.iterrows()]
    if len(located) > cluster_above:
        data = [[lat, lon, popup] for (lat, lon), popup in zip(pairs, popups, strict=True)]
        layer: folium.map.Layer = folium.plugins.FastMarkerCluster(  # type: ignore[no-untyped-call]
            data, callback=_CLUSTER_CALLBACK, name=layer_name, show=True
        )
    else:
        layer = folium.FeatureGroup(name=layer_name, show=True)
        for (lat, lon), popup in zip(pairs, popups, strict=True):
            folium.CircleMarker(
                location=[lat, lon],
                radius=5,
                color="#08519c",
                weight=1,
                fill=True,
                fill_color="#3182bd",
                fill_opacity=0.8,
                popup=folium.Popup(popup, max_width=320),
            ).add_to(layer)
    add_layer(m, layer)
    return m
