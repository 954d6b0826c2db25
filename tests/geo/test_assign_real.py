"""geo.assign on the real Tehran neighborhoods: agreement with geopandas sjoin."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.assign import BoundaryIndex, assign_points
from geo.boundaries import load_tehran_boundaries
from geo.point_index import code_order
from ingest import schema as s


@pytest.fixture(scope="module")
def tehran(tehran_dir: Path) -> gpd.GeoDataFrame:
    return load_tehran_boundaries(tehran_dir)


@pytest.fixture(scope="module")
def tehran_index(tehran: gpd.GeoDataFrame) -> BoundaryIndex:
    return BoundaryIndex.from_boundaries(tehran)


def test_200k_random_points_agree_with_sjoin(
    tehran: gpd.GeoDataFrame, tehran_index: BoundaryIndex
) -> None:
    hoods = tehran[tehran[s.LEVEL] == s.LEVEL_NEIGHBORHOOD][[s.CODE, s.PARENT_CODE, s.GEOMETRY]]
    assert len(hoods) == 375
    rng = np.random.default_rng(2024)
    n = 200_000
    minx, miny, maxx, maxy = hoods.total_bounds
    lon = rng.uniform(minx, maxx, n)
    lat = rng.uniform(miny, maxy, n)
    # 1 % exactly on vertices, where neighborhoods meet.
    vertices = shapely.get_coordinates(hoods.geometry.values)
    picked = vertices[rng.integers(0, len(vertices), n // 100)]
    lon[: n // 100], lat[: n // 100] = picked[:, 0], picked[:, 1]

    out = assign_points(tehran_index, lon=lon, lat=lat, snap_tolerance_m=0.0)
    codes = out[s.NEIGHBORHOOD_CODE].astype(object).to_numpy()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(points, hoods, predicate="within")
    matches = np.bincount(joined.index.to_numpy(), minlength=n)
    single = joined[matches[joined.index.to_numpy()] == 1]
    assert len(single) > 90_000
    assert (codes[single.index.to_numpy()] == single[s.CODE].to_numpy()).all()
    # Regions follow the hierarchy.
    regions = out[s.REGION_CODE].astype(object).to_numpy()
    assert (regions[single.index.to_numpy()] == single[s.PARENT_CODE].to_numpy()).all()
    # No sjoin match: outside the city, or on a border (then covered by the polygon chosen).
    none = np.flatnonzero(matches == 0)
    assigned = none[~out[s.NEIGHBORHOOD_CODE].isna().to_numpy()[none]]
    number = {c: i for i, c in enumerate(tehran_index.codes)}
    chosen = tehran_index.polygons[[number[c] for c in codes[assigned]]]
    assert shapely.intersects_xy(chosen, lon[assigned], lat[assigned]).all()
    assert len(assigned) > 0  # the vertices
    # Several matches (overlapping neighborhoods): the smallest code in natural order.
    rank = dict(zip(tehran_index.codes, code_order(list(tehran_index.codes)), strict=True))
    for point, group in joined[matches[joined.index.to_numpy()] > 1].groupby(level=0):
        assert codes[point] == min(group[s.CODE], key=rank.__getitem__)


def test_snapping_and_swaps_on_real_boundaries(tehran_index: BoundaryIndex) -> None:
    # Azadi Tower is inside region 9; swapped it is repaired; the Persian Gulf is not Tehran.
    out = assign_points(
        tehran_index, lon=[51.3380, 35.6997, 51.0, 52.5], lat=[35.6997, 51.3380, 35.0, 27.0]
    )
    assert out[s.REGION_CODE].astype(object).tolist()[:2] == ["9", "9"]
    assert out[s.GEOCODE_PRECISION].astype(object).tolist() == ["point", "swapped", "none", "none"]
