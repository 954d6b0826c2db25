"""A clearly labelled synthetic geography in a Tehran-like extent.

It lets the demo, the tests and the benchmarks run on a machine without the real Tehran
layers. It is **not** Tehran: every name says "synthetic" (ساختگی), the ``name_en`` of each
area starts with ``SYNTHETIC``, and :data:`SYNTHETIC_LABEL` is meant to be shown wherever a
map drawn from it appears.

The city outline is an ellipse of about 629 km² centred on Tehran's centre, cut into 22
regions (Voronoi cells of random seeds) and each region into neighborhoods (Voronoi cells
of seeds inside it, clipped to the region), so neighborhoods nest exactly in regions. Codes
follow Tehran's convention: region ``r`` and neighborhood ``r*100 + n``.
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ingest import schema as s

from .crs import METRIC_CRS, STORAGE_CRS

SYNTHETIC_LABEL: Final = "Synthetic geography (not real Tehran boundaries) — جغرافیای ساختگی"
#: Centre of the synthetic city in EPSG:32639 metres (Tehran's centre, about 51.39 E, 35.69 N).
CENTRE_XY_M: Final = (535_000.0, 3_950_000.0)
SEMI_AXES_M: Final = (20_000.0, 10_000.0)


def _city_outline() -> shapely.Polygon:
    angles = np.linspace(0.0, 2.0 * np.pi, 256, endpoint=False)
    # A gently irregular ellipse, so that the outline is not a textbook shape.
    wobble = 1.0 + 0.04 * np.sin(3.0 * angles) + 0.025 * np.cos(5.0 * angles)
    x = CENTRE_XY_M[0] + SEMI_AXES_M[0] * wobble * np.cos(angles)
    y = CENTRE_XY_M[1] + SEMI_AXES_M[1] * wobble * np.sin(angles)
    return shapely.Polygon(np.column_stack([x, y]))


def _random_points_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = shapely.bounds(polygon)
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n + 16, 2))
        inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        found.append(xy[inside])
        count += int(inside.sum())
    return np.concatenate(found)[:n]


def _voronoi_cells(points: np.ndarray, clip: shapely.Geometry) -> list[shapely.Geometry]:
    """Return the Voronoi cell of each point clipped to ``clip``, in the order of ``points``."""
    if len(points) == 1:
        return [clip]
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=clip))
    # voronoi_polygons does not keep input order: match each cell to the seed inside it.
    seeds = shapely.points(points)
    tree = shapely.STRtree(cells)
    seed_idx, cell_idx = tree.query(seeds, predicate="intersects")
    order = np.full(len(points), -1)
    order[seed_idx] = cell_idx
    return [shapely.intersection(cells[i], clip) for i in order]


def synthetic_boundaries(
    n_regions: int = 22, n_neighborhoods: int = 375, seed: int = 137
) -> gpd.GeoDataFrame:
    """Build the synthetic region and neighborhood layers in the boundary model.

    Parameters
    ----------
    n_regions : int, default 22
        Number of regions (Tehran has 22).
    n_neighborhoods : int, default 375
        Number of neighborhoods in all (the real layer has 375). At least ``n_regions``.
    seed : int, default 137
        Seed of the random generator; the same seed gives the same geography.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of :data:`ingest.schema.BOUNDARY_COLUMNS`, EPSG:4326, one row per region
        (``level == "region"``) and per neighborhood (``level == "neighborhood"``).

    Examples
    --------
    >>> b = synthetic_boundaries(n_regions=3, n_neighborhoods=12, seed=1)
    >>> b["level"].value_counts().to_dict()
    {'neighborhood': 12, 'region': 3}
    """
    if n_neighborhoods < n_regions:
        msg = f"n_neighborhoods ({n_neighborhoods}) must be at least n_regions ({n_regions})."
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    outline = _city_outline()
    region_cells = _voronoi_cells(_random_points_in(outline, n_regions, rng), outline)
    areas = shapely.area(np.asarray(region_cells, dtype=object))
    # Each region gets at least one neighborhood, the rest in proportion to its area.
    counts = np.ones(n_regions, dtype=int)
    extra = n_neighborhoods - n_regions
    share = areas / areas.sum() * extra
    counts += np.floor(share).astype(int)
    remainder = n_neighborhoods - counts.sum()
    counts[np.argsort(share - np.floor(share))[::-1][:remainder]] += 1

    rows: list[dict[str, object]] = []
    geoms: list[shapely.Geometry] = []
    for r, (cell, count) in enumerate(zip(region_cells, counts, strict=True), start=1):
        rows.append(
            _row(s.LEVEL_REGION, str(r), f"منطقه ساختگی {r}", f"SYNTHETIC Region {r}", None)
        )
        geoms.append(cell)
        seeds = _random_points_in(cell, int(count), rng)
        for n, piece in enumerate(_voronoi_cells(seeds, cell), start=1):
            code = str(r * 100 + n)
            name_fa = f"محله ساختگی {code}"
            rows.append(
                _row(s.LEVEL_NEIGHBORHOOD, code, name_fa, f"SYNTHETIC Neighborhood {code}", str(r))
            )
            geoms.append(piece)
    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=METRIC_CRS)
    frame[s.GEOMETRY] = shapely.make_valid(frame.geometry.values)
    # Rough populations (Tehran: about 9 million people on about 629 km²), for per-capita rates.
    density = rng.uniform(6_000, 22_000, size=len(frame))
    population = (frame.geometry.area / 1e6 * density).round().astype("Int64")
    is_hood = frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD
    frame[s.POPULATION] = population.where(is_hood)
    by_region = frame.loc[is_hood].groupby(s.PARENT_CODE)[s.POPULATION].sum()
    frame.loc[~is_hood, s.POPULATION] = frame.loc[~is_hood, s.CODE].map(by_region).astype("Int64")
    frame[s.POPULATION] = frame[s.POPULATION].astype("Int64")
    frame = frame.to_crs(STORAGE_CRS)
    frame.geometry = shapely.set_precision(frame.geometry.values, 0.0)
    return frame[list(s.BOUNDARY_COLUMNS)]


def _row(
    level: str, code: str, name_fa: str, name_en: str, parent: str | None
) -> dict[str, object]:
    return {
        s.LEVEL: level,
        s.CODE: code,
        s.NAME_FA: name_fa,
        s.NAME_EN: name_en,
        s.PARENT_CODE: parent,
    }
