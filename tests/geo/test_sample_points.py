"""The sample points with known outcomes used by the demo and the assignment tests."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.crs import METRIC_CRS
from geo.sample_points import EXPECTED, OUTCOMES, sample_points
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s


@pytest.fixture(scope="module")
def small_geo() -> gpd.GeoDataFrame:
    return synthetic_boundaries(n_regions=3, n_neighborhoods=12, seed=5)


def _outline_m(frame: gpd.GeoDataFrame) -> shapely.Geometry:
    finest = frame[frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD].to_crs(METRIC_CRS)
    return shapely.union_all(finest.geometry.to_numpy())


def _metric(points: np.ndarray) -> np.ndarray:
    series = gpd.GeoSeries(shapely.points(points), crs=4326).to_crs(METRIC_CRS)
    return series.to_numpy()


def test_counts_follow_the_shares(small_geo: gpd.GeoDataFrame) -> None:
    shares = {"inside": 0.5, "near_outside": 0.2, "far_outside": 0.1, "swapped": 0.1}
    points = sample_points(small_geo, 1_000, seed=2, shares={**shares, "invalid": 0.1})
    counts = points[EXPECTED].value_counts()
    assert set(counts.index) == set(OUTCOMES)
    assert counts["inside"] == 500
    assert counts["near_outside"] == 200
    assert counts["invalid"] == 100
    assert len(points) == 1_000


def test_each_outcome_lies_where_it_says(small_geo: gpd.GeoDataFrame) -> None:
    points = sample_points(small_geo, 2_000, seed=3, snap_tolerance_m=150.0)
    outline = _outline_m(small_geo)
    for outcome, low, high in (
        ("inside", 0.0, 0.0),
        ("near_outside", 1.0, 150.0),
        ("far_outside", 1_900.0, 10_100.0),
    ):
        rows = points[points[EXPECTED] == outcome]
        distance = shapely.distance(outline, _metric(rows[[s.LON, s.LAT]].to_numpy()))
        assert distance.min() >= low, outcome
        assert distance.max() <= high, outcome
    swapped = points[points[EXPECTED] == "swapped"][[s.LAT, s.LON]].to_numpy()
    assert (shapely.distance(outline, _metric(swapped)) == 0).all()


def test_invalid_points_include_the_placeholders(small_geo: gpd.GeoDataFrame) -> None:
    placeholder = (51.389, 35.6892)
    points = sample_points(small_geo, 400, seed=4, placeholders=[placeholder])
    invalid = points[points[EXPECTED] == "invalid"]
    assert invalid[s.LON].isna().any()
    assert ((invalid[s.LON] == 0) & (invalid[s.LAT] == 0)).any()
    assert ((invalid[s.LON] == placeholder[0]) & (invalid[s.LAT] == placeholder[1])).any()


def test_same_seed_same_points(small_geo: gpd.GeoDataFrame) -> None:
    first = sample_points(small_geo, 300, seed=9)
    again = sample_points(small_geo, 300, seed=9)
    other = sample_points(small_geo, 300, seed=10)
    assert first.equals(again)
    assert not first.equals(other)


def test_bad_shares_are_refused(small_geo: gpd.GeoDataFrame) -> None:
    with pytest.raises(ValueError, match="non-negative weight"):
        sample_points(small_geo, 10, shares={"inside": -1.0})
