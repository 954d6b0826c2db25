"""Static maps of the monthly report, drawn with matplotlib (no tiles, no network).

Each function returns a ``data:image/png;base64,…`` URI, ready for an ``<img src>`` of a
self-contained HTML file. Figures are drawn with matplotlib's object API (no ``pyplot``
state), so they are safe in a multi-threaded server. Text inside the images is limited to
numbers (Persian digits where asked), because matplotlib does not shape Persian script;
titles and captions are HTML.
"""

from __future__ import annotations

import base64
import io
from typing import Final

import geopandas as gpd
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from geo.crs import METRIC_CRS

from .formatting import digits
from .params import Lang

#: Sequential colours (light to dark) of the map classes, colour-blind safe (ColorBrewer).
PALETTES: Final[dict[str, tuple[str, ...]]] = {
    "volume_per_1000": ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"),
    "backlog": ("#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"),
}
NO_DATA: Final = "#d9d9d9"
EDGE: Final = "#ffffff"
DPI: Final = 180
#: Height of the legend under a map, in inches.
LEGEND_IN: Final = 0.42


def _data_uri(figure: Figure) -> str:
    FigureCanvasAgg(figure)  # attach a non-interactive canvas (no pyplot state)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def class_breaks(values: np.ndarray, n_classes: int = 5) -> np.ndarray:
    """Return increasing class edges (quantiles, duplicates dropped) of the finite values.

    Examples
    --------
    >>> class_breaks(np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]), 2).tolist()
    [1.0, 5.5, 10.0]
    """
    finite = values[np.isfinite(values)]
    if not len(finite):
        return np.array([0.0, 1.0])
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, n_classes + 1)))
    if len(edges) == 1:
        edges = np.array([edges[0], edges[0] + 1.0])
    return edges


def _label(lo: float, hi: float, places: int, lang: Lang) -> str:
    return digits(f"{lo:,.{places}f} – {hi:,.{places}f}", lang)


def choropleth(
    areas: gpd.GeoDataFrame,
    column: str,
    *,
    lang: Lang = "fa",
    outline: gpd.GeoDataFrame | None = None,
    places: int = 2,
    size_in: float = 3.6,
) -> str:
    """Draw a classed choropleth of ``areas[column]`` and return it as a PNG data URI.

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Polygons with a numeric ``column``; missing values are drawn grey.
    column : str
        The value to map (its palette is chosen from :data:`PALETTES` by name).
    lang : {"fa", "en"}
        Digits of the legend.
    outline : geopandas.GeoDataFrame, optional
        Coarser areas (regions) drawn as darker outlines.
    places : int
        Decimals of the legend.
    size_in : float
        Width and height in inches.
    """
    metric = areas.to_crs(METRIC_CRS)
    values = metric[column].to_numpy(dtype="float64", na_value=np.nan)
    edges = class_breaks(values)
    colours = PALETTES.get(column, PALETTES["backlog"])[-(len(edges) - 1) :]
    cmap = ListedColormap(list(colours))
    norm = BoundaryNorm(edges, cmap.N)
    x0, y0, x1, y1 = metric.total_bounds
    aspect = float(np.clip((y1 - y0) / max(x1 - x0, 1.0), 0.45, 1.3))
    map_h, legend_h = size_in * aspect, LEGEND_IN
    total = map_h + legend_h
    figure = Figure(figsize=(size_in, total), dpi=DPI)
    ax = figure.add_axes((0.0, legend_h / total, 1.0, map_h / total))
    ax.set_axis_off()
    known = np.isfinite(values)
    if (~known).any():
        metric[~known].plot(ax=ax, color=NO_DATA, edgecolor=EDGE, linewidth=0.3)
    if known.any():
        metric[known].plot(
            ax=ax, column=column, cmap=cmap, norm=norm, edgecolor=EDGE, linewidth=0.3
        )
    if outline is not None and len(outline):
        outline.to_crs(METRIC_CRS).boundary.plot(ax=ax, color="#333333", linewidth=0.7)
    ax.set_aspect("equal")
    handles = [
        Patch(
            facecolor=colours[i],
            edgecolor="#999999",
            linewidth=0.3,
            label=_label(edges[i], edges[i + 1], places, lang),
        )
        for i in range(len(edges) - 1)
    ]
    if (~known).any():
        handles.append(Patch(facecolor=NO_DATA, edgecolor="#999999", linewidth=0.3, label="—"))
    legend_ax = figure.add_axes((0.0, 0.0, 1.0, legend_h / total))
    legend_ax.set_axis_off()
    legend_ax.legend(
        handles=handles,
        loc="center",
        ncols=3,
        fontsize=6,
        frameon=False,
        handlelength=1.2,
        columnspacing=1.0,
    )
    return _data_uri(figure)


def locator(context: gpd.GeoDataFrame, focus: gpd.GeoDataFrame, *, size_in: float = 1.3) -> str:
    """Draw ``focus`` (red) over its surroundings ``context`` (grey) and return a PNG data URI.

    The view is the focus's bounds, widened to show the neighbouring areas.
    """
    metric_context = context.to_crs(METRIC_CRS)
    metric_focus = focus.to_crs(METRIC_CRS)
    figure = Figure(figsize=(size_in, size_in), dpi=DPI)
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    metric_context.plot(ax=ax, color="#eeeeee", edgecolor="#9e9e9e", linewidth=0.4)
    metric_focus.plot(ax=ax, color="#d7301f", edgecolor="#7f0000", linewidth=0.6)
    x0, y0, x1, y1 = metric_focus.total_bounds
    span = max(x1 - x0, y1 - y0, 500.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ax.set_xlim(cx - span * 1.2, cx + span * 1.2)
    ax.set_ylim(cy - span * 1.2, cy + span * 1.2)
    ax.set_aspect("equal")
    return _data_uri(figure)
