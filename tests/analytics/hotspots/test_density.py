from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from analytics.hotspots.density import (
    DensityHotspots,
    auto_min_cases,
    disc_counts,
    grid_dbscan,
)
from analytics.hotspots.grid import grid_cells, metric_xy
from geo.errors import InputError
from ingest import schema as s
from tests.analytics.hotspots.planted import Planted, match_scores


def _blobs(seed: int, n_background: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.concatenate(
        [
            rng.uniform(0, 6000, n_background),
            rng.normal(1500, 90, 600),
            rng.normal(4200, 140, 900),
            rng.normal(3000, 60, 300),
        ]
    )
    y = np.concatenate(
        [
            rng.uniform(0, 6000, n_background),
            rng.normal(1500, 90, 600),
            rng.normal(4000, 70, 900),
            rng.normal(800, 60, 300),
        ]
    )
    return x + 530_000, y + 3_945_000


def test_disc_counts_match_brute_force() -> None:
    x, y = _blobs(0, 500)
    g = grid_cells(x, y, 25.0)
    got = disc_counts(g, 4.0)
    d2 = (g.ix[:, None] - g.ix[None, :]) ** 2 + (g.iy[:, None] - g.iy[None, :]) ** 2
    want = ((d2 <= 16) * g.count[None, :]).sum(axis=1)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("eps_m", "min_cases"), [(100.0, 15), (150.0, 40), (60.0, 6)])
def test_grid_dbscan_equals_weighted_sklearn_dbscan_on_cells(eps_m: float, min_cases: int) -> None:
    x, y = _blobs(1)
    g = grid_cells(x, y, eps_m / 10)
    got = grid_dbscan(g, eps_m, min_cases)
    xy = np.column_stack([g.x_m, g.y_m])
    want = DBSCAN(eps=eps_m, min_samples=min_cases).fit(xy, sample_weight=g.count).labels_
    # Same clustered cells; clusters equal up to which cluster a border cell joins.
    np.testing.assert_array_equal(got >= 0, want >= 0)
    assert adjusted_rand_score(got, want) > 0.99


def test_grid_clusters_agree_with_raw_point_dbscan() -> None:
    x, y = _blobs(2)
    raw = DBSCAN(eps=100.0, min_samples=20).fit(np.column_stack([x, y])).labels_
    cases = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs="EPSG:32639")
    model = DensityHotspots(eps_m=100.0, min_cases=20, by=None).fit(cases)
    assert adjusted_rand_score(raw, model.labels_) >= 0.95
    assert len(model.clusters_) == len(set(raw) - {-1})


def test_planted_density_hotspots_are_found(planted_emerging: Planted) -> None:
    model = DensityHotspots(eps_m=100.0).fit(planted_emerging.cases)
    recall, precision = match_scores(model.clusters_.geometry, planted_emerging)
    print(f"density (dbscan): found {recall:.0%} of planted, {precision:.0%} of reported planted")
    assert recall >= 0.9
    assert precision >= 0.8
    # each planted hotspot's cluster has its category, subcategory and activity
    truth = planted_emerging.truth
    for _, h in truth.iterrows():
        inside = model.clusters_[
            model.clusters_.intersects(gpd.points_from_xy([h["x_m"]], [h["y_m"]])[0])
        ]
        assert len(inside) == 1
        row = inside.iloc[0]
        assert row[s.CATEGORY] == h[s.CATEGORY]
        assert row["dominant_subcategory"] == h[s.SUBCATEGORY]
        assert row["n_cases"] >= 0.9 * sum(h["per_slice"])
        assert row["weeks_active"] >= len(h["active"])  # at least one week per active month
        assert row[s.NEIGHBORHOOD_CODE] is not None


def test_planted_hdbscan_on_cells(planted_static: Planted) -> None:
    model = DensityHotspots(eps_m=100.0, method="hdbscan").fit(planted_static.cases)
    recall, precision = match_scores(model.clusters_.geometry, planted_static)
    print(f"density (hdbscan): found {recall:.0%} of planted, {precision:.0%} planted")
    assert recall >= 0.9
    assert precision >= 0.8


def test_auto_min_cases_scales_with_density() -> None:
    x, y = _blobs(3)
    base = pd.DataFrame({s.CATEGORY: "a"}, index=range(len(x)))
    cases = gpd.GeoDataFrame(base, geometry=gpd.points_from_xy(x, y), crs="EPSG:32639")
    one = DensityHotspots(eps_m=100.0, area_km2=36.0).fit(cases)
    two = DensityHotspots(eps_m=100.0, area_km2=36.0).fit(pd.concat([cases, cases]))
    assert two.min_cases_["a"] == pytest.approx(2 * one.min_cases_["a"], abs=1)
    assert one.min_cases_["a"] == auto_min_cases(len(x), 36e6, 100.0, 10.0, 10)
    # the same places are clusters at both densities
    assert len(one.clusters_) == len(two.clusters_)


def test_input_is_not_modified(planted_static: Planted) -> None:
    cases = planted_static.cases.head(5000)
    before = cases.copy()
    DensityHotspots(eps_m=100.0, min_cases=5).fit(cases)
    pd.testing.assert_frame_equal(cases, before)


def test_per_category_clusters_do_not_mix() -> None:
    x, y = _blobs(4, 0)
    cats = np.where(np.arange(len(x)) % 2 == 0, "a", "b")
    frame = pd.DataFrame({s.CATEGORY: cats})
    cases = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(x, y), crs="EPSG:32639")
    model = DensityHotspots(eps_m=100.0, min_cases=10).fit(cases)
    per_cluster = pd.Series(cats[model.labels_ >= 0]).groupby(model.labels_[model.labels_ >= 0])
    assert (per_cluster.nunique() == 1).all()
    assert set(model.clusters_[s.CATEGORY]) == {"a", "b"}


def test_lonlat_frame_gives_same_labels_as_geometry(planted_static: Planted) -> None:
    cases = planted_static.cases.head(8000)
    x, y = metric_xy(cases)
    gdf = gpd.GeoDataFrame(
        cases.drop(columns=[s.LON, s.LAT]), geometry=gpd.points_from_xy(x, y), crs="EPSG:32639"
    )
    a = DensityHotspots(eps_m=100.0, min_cases=8).fit(cases).labels_
    b = DensityHotspots(eps_m=100.0, min_cases=8).fit(gdf).labels_
    np.testing.assert_array_equal(a, b)


def test_empty_result_has_columns() -> None:
    cases = gpd.GeoDataFrame(
        {s.CATEGORY: ["a", "a"]}, geometry=gpd.points_from_xy([0.0, 5000.0], [0.0, 0.0]), crs=32639
    )
    model = DensityHotspots(eps_m=50.0, min_cases=5).fit(cases)
    assert (model.labels_ == -1).all()
    assert len(model.clusters_) == 0
    assert "n_cases" in model.clusters_.columns


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eps_m": 0.0}, "eps_m"),
        ({"method": "optics"}, "method"),
        ({"min_cases": 0}, "min_cases"),
        ({"eps_m": 50.0, "cell_m": 80.0}, "cell_m"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    cases = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0], [0.0]), crs=32639)
    with pytest.raises(InputError, match=match):
        DensityHotspots(by=None, **kwargs).fit(cases)  # type: ignore[arg-type]


def test_missing_by_column() -> None:
    cases = gpd.GeoDataFrame(geometry=gpd.points_from_xy([0.0], [0.0]), crs=32639)
    with pytest.raises(InputError, match="category"):
        DensityHotspots().fit(cases)


def test_summary_counts_weeks_and_dominant_subcategory() -> None:
    rng = np.random.default_rng(5)
    n = 60
    # undated cases count in the cluster but not in its weeks
    days = ["NaT"] * 6 + ["2024-10-05 08:00", "2024-10-13 08:00"] * ((n - 6) // 2)
    at = pd.Series(pd.to_datetime(days, utc=True))
    assert at.isna().sum() == 6
    frame = pd.DataFrame(
        {
            s.CATEGORY: "urban_services",
            s.SUBCATEGORY: ["waste"] * 40 + ["lighting"] * 20,
            s.CREATED_AT: at,
            s.NEIGHBORHOOD_CODE: ["101"] * 50 + ["102"] * 10,
        }
    )
    xy = rng.normal(0, 20, (n, 2)) + np.array([535_000.0, 3_950_000.0])
    cases = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=32639)
    model = DensityHotspots(eps_m=100.0, min_cases=10).fit(cases)
    row = model.clusters_.iloc[0]
    assert len(model.clusters_) == 1
    assert row["n_cases"] == n
    # 2024-10-05 is a Saturday and 2024-10-13 the next Sunday: two Jalali weeks
    assert row["weeks_active"] == 2
    assert row["dominant_subcategory"] == "waste"
    assert row[s.NEIGHBORHOOD_CODE] == "101"
    assert row.geometry.contains(gpd.points_from_xy([535_000.0], [3_950_000.0])[0])
