"""The map itself: a blank (offline) or tiled base, layers, a layer control and legends."""

from __future__ import annotations

import html
from typing import Any, Final, TypeAlias

import folium
import geopandas as gpd
from branca.element import MacroElement
from jinja2 import Template

from geo.errors import InputError

from .coords import latlon
from .labels import Lang

#: Leaflet's CSS font stack for Persian text (falls back to system fonts offline).
FONT: Final = "Vazirmatn, Tahoma, 'Segoe UI', sans-serif"
_BLANK_BACKGROUND: Final = "#f8f8f6"
#: What a map is fitted to: geometry in any CRS, or points already as ``[lat, lon]``.
Bounds: TypeAlias = gpd.GeoSeries | list[list[float]]

_LEGEND_TEMPLATE: Final = """
{% macro html(this, kwargs) %}
<div id="{{ this.get_name() }}" class="t137-legend" dir="{{ this.direction }}" style="
    position: absolute; z-index: 9999; {{ this.side }}: 10px; bottom: {{ this.bottom }}px;
    background: rgba(255, 255, 255, 0.92); padding: 6px 10px; border-radius: 4px;
    box-shadow: 0 0 4px rgba(0, 0, 0, 0.3); font: 12px/1.5 {{ this.font }};
    text-align: {{ this.align }}; max-width: 280px;">
{{ this.body }}
</div>
{% endmacro %}
"""


class Legend(MacroElement):  # type: ignore[misc]
    """A static legend box drawn over the map (one per layer that needs it)."""

    def __init__(self, body: str, lang: Lang, bottom: int) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "Legend"
        self.body = body
        self.direction = "rtl" if lang == "fa" else "ltr"
        self.align = "right" if lang == "fa" else "left"
        self.side = "right" if lang == "fa" else "left"
        self.bottom = bottom
        self.font = FONT
        self._template = Template(_LEGEND_TEMPLATE)


def legend_html(title: str, rows: list[tuple[str, str]], note: str | None = None) -> str:
    """Return the HTML of a legend: a title and (colour, text) rows, all text escaped."""
    parts = [f"<div style='font-weight: bold; margin-bottom: 3px'>{html.escape(title)}</div>"]
    for colour, text in rows:
        swatch = (
            f"<span style='display: inline-block; width: 14px; height: 10px; margin: 0 4px; "
            f"background: {html.escape(colour)}; border: 1px solid #777'></span>"
        )
        parts.append(f"<div>{swatch}{html.escape(text)}</div>")
    if note:
        parts.append(f"<div style='margin-top: 3px; color: #555'>{html.escape(note)}</div>")
    return "\n".join(parts)


def new_map(bounds: Bounds, tiles: str | folium.TileLayer | None) -> folium.Map:
    """Return a map fitted to ``bounds`` (any CRS), with no tile layer unless ``tiles``.

    ``tiles=None`` gives a blank base that needs no tile server (offline); a name such as
    ``"OpenStreetMap"`` or ``"CartoDB positron"``, or a :class:`folium.TileLayer`, adds it.
    """
    m = folium.Map(tiles=None, control_scale=True, zoom_control=True)
    if tiles is not None:
        layer = tiles if isinstance(tiles, folium.TileLayer) else folium.TileLayer(tiles)
        layer.add_to(m)
    else:
        root: Any = m.get_root()
        root.header.add_child(
            folium.Element(
                f"<style>.leaflet-container {{ background: {_BLANK_BACKGROUND}; }}</style>"
            )
        )
    fit(m, bounds)
    return m


def fit(m: folium.Map, bounds: Bounds) -> None:
    """Fit the map's view to ``bounds``: geometry (any CRS) or ``[lat, lon]`` pairs."""
    if isinstance(bounds, list):
        if bounds:
            lat = [p[0] for p in bounds]
            lon = [p[1] for p in bounds]
            m.fit_bounds([[min(lat), min(lon)], [max(lat), max(lon)]])
        return
    finite = bounds[~(bounds.isna() | bounds.is_empty)]
    if len(finite) == 0:
        return
    minx, miny, maxx, maxy = finite.to_crs("EPSG:4326").total_bounds
    corners = gpd.GeoSeries.from_xy([minx, maxx], [miny, maxy], crs="EPSG:4326")
    m.fit_bounds(latlon(corners))


def _overlays(m: folium.Map) -> list[folium.map.Layer]:
    return [
        child
        for child in m._children.values()
        if isinstance(child, folium.map.Layer) and child.control and child.overlay
    ]


def unique_name(m: folium.Map, name: str) -> str:
    """Return ``name``, or ``name (2)``… when a layer of ``m`` already has it."""
    taken = {
        child.layer_name for child in m._children.values() if isinstance(child, folium.map.Layer)
    }
    candidate, k = name, 2
    while candidate in taken:
        candidate = f"{name} ({k})"
        k += 1
    return candidate


def add_layer(m: folium.Map, layer: folium.map.Layer) -> None:
    """Add ``layer`` and keep one layer control, last, once the map holds two layers or more.

    The control lists the layers present when the page is rendered, and is moved after the
    newest layer so that its script runs after theirs.
    """
    layer.add_to(m)
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
    tiled = any(isinstance(child, folium.TileLayer) for child in m._children.values())
    if len(_overlays(m)) >= 2 or (tiled and _overlays(m)):
        folium.LayerControl(collapsed=False).add_to(m)


def add_legend(m: folium.Map, body: str, lang: Lang) -> None:
    """Add a legend box, stacked above the legends the map already has."""
    legends = [child for child in m._children.values() if isinstance(child, Legend)]
    bottom = 20 + sum(_legend_height(legend.body) for legend in legends)
    m.add_child(Legend(body, lang, bottom))


def _legend_height(body: str) -> int:
    return 16 + 18 * body.count("<div")


def start(m: folium.Map | None, bounds: Bounds, tiles: str | folium.TileLayer | None) -> folium.Map:
    """Return ``m`` (to add onto) or a new map fitted to ``bounds``."""
    if m is None:
        return new_map(bounds, tiles)
    if not isinstance(m, folium.Map):
        msg = f"m must be a folium.Map returned by another map helper, got {type(m).__name__}."
        raise InputError(msg)
    if tiles is not None:
        msg = "tiles is set when the map is created; pass it to the first helper, not with m=."
        raise InputError(msg)
    return m
