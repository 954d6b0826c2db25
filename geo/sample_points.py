"""Sample points with a known outcome, for the demo and the tests of point assignment.

Every point carries the outcome it was drawn for (:data:`OUTCOMES`):

- ``inside``: uniform over the city (the union of the finest boundary level);
- ``near_outside``: outside the city, closer to it than the snap tolerance;
- ``far_outside``: outside the city, 2 to 10 km from it;
- ``swapped``: an inside point written as (lat, lon);
- ``invalid``: missing, (0, 0), out of range, or a placeholder point.

Distances are drawn in metres (EPSG:32639); the points are returned in EPSG:4326.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ingest import schema as s

from .boundary_model import levels_present, require_model
from .crs import METRIC_CRS, STORAGE_CRS

__all__ = ["EXPECTED", "OUTCOMES", "sample_points"]

OUTCOMES: Final = ("inside", "near_outside", "far_outside", "swapped", "invalid")
#: Name of the column holding the outcome each point was drawn for.
EXPECTED: Final = "expected"
DEFAULT_SHARES: Final[Mapping[str, float]] = {
    "inside": 0.93,
    "near_outside": 0.02,
    "far_outside": 0.02,
    "swapped": 0.015,
    "invalid": 0.015,
}


def _city_outline_m(boundaries: gpd.GeoDataFrame) -> shapely.Geometry:
    finest = levels_present(boundaries)[-1]
    polygons = boundaries[boundaries[s.LEVEL] == finest].to_crs(METRIC_CRS)
    return shapely.union_all(polygons.geometry.to_numpy())


def _uniform_inside(outline: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = shapely.bounds(outline)
    shapely.prepare(outline)
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(2 * (n - count) + 64, 2))
        keep = xy[shapely.contains_xy(outline, xy[:, 0], xy[:, 1])]
        found.append(keep)
        count += len(keep)
    return np.concatenate(found)[:n] if found else np.empty((0, 2))


def _at_distance(
    outline: shapely.Geometry, low_m: float, high_m: float, n: int, rng: np.random.Generator
) -> np.ndarray:
    """``n`` points outside ``outline``, between ``low_m`` and ``high_m`` from it.

    Points lie on the outer rings of a few buffers (one buffer per drawn distance, at most
    eight), so that the cost does not grow with ``n``.
    """
    if n == 0:
        return np.empty((0, 2))
    distances = rng.uniform(low_m, high_m, size=min(n, 8))
    rings = [
        shapely.get_exterior_ring(
            max(shapely.get_parts(shapely.buffer(outline, d)), key=shapely.area)
        )
        for d in distances
    ]
    which = rng.integers(0, len(rings), size=n)
    points = shapely.line_interpolate_point(
        np.asarray(rings, dtype=object)[which], rng.uniform(size=n), normalized=True
    )
    return shapely.get_coordinates(points)


def _to_lonlat(xy_m: np.ndarray) -> np.ndarray:
    points = gpd.GeoSeries(shapely.points(xy_m), crs=METRIC_CRS).to_crs(STORAGE_CRS)
    return shapely.get_coordinates(points.to_numpy())


def _invalid(n: int, placeholders: Sequence[tuple[float, float]]) -> np.ndarray:
    kinds = [(np.nan, np.nan), (0.0, 0.0), (51.4, 95.0), (200.0, 35.7), *placeholders]
    return np.array([kinds[i % len(kinds)] for i in range(n)], dtype=float).reshape(-1, 2)


def sample_points(
    boundaries: gpd.GeoDataFrame,
    n: int,
    *,
    seed: int = 137,
    shares: Mapping[str, float] | None = None,
    snap_tolerance_m: float = 200.0,
    placeholders: Sequence[tuple[float, float]] = (),
) -> pd.DataFrame:
    """Draw ``n`` points over a boundary hierarchy, each with the outcome it should get.

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        A hierarchy in the boundary model; its finest level outlines the city.
    n : int
        Number of points.
    seed : int, default 137
        Seed of the random generator.
    shares : Mapping[str, float], optional
        Share of each outcome of :data:`OUTCOMES` (normalized to sum to 1); default
        mostly ``inside`` with a few of every other outcome.
    snap_tolerance_m : float, default 200
        ``near_outside`` points lie 5 m to 80% of this far from the city.
    placeholders : sequence of (lon, lat), optional
        Placeholder points to include among the ``invalid`` ones.

    Returns
    -------
    pandas.DataFrame
        Columns ``lon``, ``lat`` (EPSG:4326) and ``expected`` (one of :data:`OUTCOMES`), in
        random order.

    Examples
    --------
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> points = sample_points(synthetic_boundaries(2, 4, seed=1), 50, seed=1)
    >>> len(points), sorted(points["expected"].unique())[:2]
    (50, ['far_outside', 'inside'])
    """
    require_model(boundaries, what="boundaries")
    weights = pd.Series({**DEFAULT_SHARES, **(shares or {})}, dtype=float).reindex(OUTCOMES)
    if weights.isna().any() or (weights < 0).any() or weights.sum() <= 0:
        msg = f"shares must give a non-negative weight to each of {OUTCOMES}."
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    counts = np.floor(weights.to_numpy() / weights.sum() * n).astype(int)
    counts[0] += n - counts.sum()
    outline = _city_outline_m(boundaries)
    n_inside, n_near, n_far, n_swapped, n_invalid = (int(c) for c in counts)

    inside_m = _uniform_inside(outline, n_inside + n_swapped, rng)
    near = _at_distance(outline, 5.0, max(5.0, 0.8 * snap_tolerance_m), n_near, rng)
    far = _at_distance(outline, 2_000.0, 10_000.0, n_far, rng)
    lonlat = _to_lonlat(np.concatenate([inside_m, near, far]))
    swapped = lonlat[n_inside : n_inside + n_swapped][:, ::-1]
    parts = [lonlat[:n_inside], lonlat[n_inside + n_swapped :], swapped]
    parts.append(_invalid(n_invalid, placeholders))
    labels = np.repeat(
        np.array(["inside", "near_outside", "far_outside", "swapped", "invalid"]),
        [n_inside, n_near, n_far, n_swapped, n_invalid],
    )
    xy = np.concatenate(parts)
    order = rng.permutation(n)
    return pd.DataFrame(
        {s.LON: xy[order, 0], s.LAT: xy[order, 1], EXPECTED: labels[order]},
    )
