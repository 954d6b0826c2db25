"""Errors that teach: wrong CRS, missing column, unfitted estimator → what to do next."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import analytics
from analytics.hotspots import DensityHotspots, EmergingHotspots, GiStarHotspots
from analytics.hotspots.grid import metric_xy
from geo.assign import BoundaryIndex, assign_frame, assign_points
from geo.errors import CRSError, InputError, NotFittedError
from geo.synthetic_geography import synthetic_boundaries
from tests.analytics.frames import case_frame


@pytest.fixture(scope="module")
def small_geo() -> gpd.GeoDataFrame:
    return synthetic_boundaries(n_regions=2, n_neighborhoods=8, seed=4)


def _points(n: int = 40, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "case_id": [f"C{i}" for i in range(n)],
            "lon": rng.normal(51.39, 0.01, n),
            "lat": rng.normal(35.69, 0.01, n),
            "created_at": pd.date_range("2024-04-01", periods=n, freq="7D", tz="UTC"),
            "category": "urban_services",
        }
    )


# --- unfitted estimators -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("estimator", "attribute", "call"),
    [
        (GiStarHotspots(), "units_", "fit(cases, boundaries)"),
        (GiStarHotspots(), "regions_", "fit(cases, boundaries)"),
        (EmergingHotspots(), "units_", "fit(cases)"),
        (DensityHotspots(), "clusters_", "fit(cases)"),
        (DensityHotspots(), "labels_", "fit(cases)"),
    ],
)
def test_reading_a_fitted_attribute_before_fit_says_to_call_fit(
    estimator: object, attribute: str, call: str
) -> None:
    with pytest.raises(NotFittedError) as info:
        getattr(estimator, attribute)
    text = str(info.value)
    assert f"call .{call} first" in text
    assert type(estimator).__name__ in text
    assert f".{attribute}" in text
    assert isinstance(info.value, AttributeError)  # hasattr() keeps working
    assert not hasattr(estimator, attribute)


def test_other_missing_attributes_stay_plain_attribute_errors() -> None:
    model = GiStarHotspots()
    with pytest.raises(AttributeError) as info:
        model.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    assert not isinstance(info.value, NotFittedError)


def test_fitted_attributes_read_normally_after_fit() -> None:
    model = DensityHotspots(eps_m=100, min_cases=5, by=None).fit(_points())
    assert len(model.labels_) == 40
    assert hasattr(model, "clusters_")


# --- CRS --------------------------------------------------------------------------------------
def test_points_without_crs_say_which_crs_to_set() -> None:
    frame = _points()
    naive = gpd.GeoDataFrame(frame[["case_id"]], geometry=gpd.points_from_xy(frame.lon, frame.lat))
    with pytest.raises(CRSError, match=r"set_crs\('EPSG:4326'\)"):
        metric_xy(naive)
    with pytest.raises(CRSError, match="set_crs"):
        DensityHotspots(by=None).fit(naive)


def test_metres_given_as_lon_lat_are_caught() -> None:
    frame = _points()
    frame["lon"] = 535_000.0 + np.arange(40)
    frame["lat"] = 3_950_000.0
    with pytest.raises(CRSError, match=r"not .*degrees") as info:
        DensityHotspots(by=None).fit(frame)
    assert "EPSG:32639" in str(info.value)
    with pytest.raises(CRSError, match=r"not .*degrees"):
        analytics.find_duplicates(frame, same_source=False)


def test_metres_labelled_as_degrees_are_caught() -> None:
    frame = _points()
    wrong = gpd.GeoDataFrame(
        frame[["case_id"]],
        geometry=gpd.points_from_xy(535_000.0 + np.arange(40), [3_950_000.0] * 40),
        crs="EPSG:4326",
    )
    with pytest.raises(CRSError, match=r"allow_override=True"):
        metric_xy(wrong)


def test_boundaries_in_the_wrong_crs_for_the_index_say_how_to_reproject(
    small_geo: gpd.GeoDataFrame,
) -> None:
    with pytest.raises(CRSError, match=r"to_crs\('EPSG:4326'\)"):
        BoundaryIndex.from_boundaries(small_geo.to_crs("EPSG:32639"))


def test_gistar_boundaries_must_be_a_geodataframe_with_a_crs(
    small_geo: gpd.GeoDataFrame,
) -> None:
    codes = small_geo.loc[small_geo.level == "neighborhood", "code"].tolist()
    cases = pd.DataFrame({"neighborhood_code": codes * 5})
    with pytest.raises(InputError, match=r"fit\(cases, boundaries\)"):
        GiStarHotspots().fit(cases, pd.DataFrame(small_geo))  # type: ignore[arg-type]
    with pytest.raises(CRSError, match="set_crs"):
        GiStarHotspots().fit(cases, small_geo.set_crs(None, allow_override=True))
    # any CRS is fine otherwise: it is re-projected to metres
    fitted = GiStarHotspots().fit(cases, small_geo.to_crs("EPSG:32639"))
    assert len(fitted.units_) == len(codes)


# --- missing columns --------------------------------------------------------------------------
def test_gistar_without_neighborhood_codes_points_to_assignment(
    small_geo: gpd.GeoDataFrame,
) -> None:
    with pytest.raises(InputError, match=r"geo\.assign\.assign_frame"):
        GiStarHotspots().fit(_points(), small_geo)


def test_emerging_without_created_at_says_what_to_pass() -> None:
    with pytest.raises(InputError, match=r"store\.read_cases\(\)"):
        EmergingHotspots().fit(_points().drop(columns="created_at"))


def test_kpis_suggest_the_column_meant() -> None:
    cases = case_frame([{"created_at": "2024-10-01 10:00"}])
    with pytest.raises(InputError, match="Did you mean 'category' for 'categroy'"):
        analytics.kpis(cases, by=["categroy"])


def test_find_duplicates_names_the_missing_column() -> None:
    with pytest.raises(InputError, match=r"\['case_id'\] missing"):
        analytics.find_duplicates(_points().drop(columns="case_id"))


def test_rank_areas_missing_level_and_several_periods() -> None:
    cases = case_frame([{"created_at": "2024-09-01 10:00"}, {"created_at": "2024-10-01 10:00"}])
    table = analytics.kpis(cases, by=["neighborhood"], period="M")
    with pytest.raises(InputError, match="filter it"):
        analytics.rank_areas(table, "objection_rate")
    with pytest.raises(InputError, match="no 'district_code' column"):
        analytics.rank_areas(table.drop(columns="period"), "objection_rate", level="district")


# --- assignment -------------------------------------------------------------------------------
def test_assign_with_boundaries_instead_of_an_index_says_to_build_it(
    small_geo: gpd.GeoDataFrame,
) -> None:
    with pytest.raises(InputError, match=r"BoundaryIndex\.from_boundaries\(boundaries\)"):
        assign_points(small_geo, lon=[51.39], lat=[35.69])  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"BoundaryIndex\.from_boundaries\(boundaries\)"):
        assign_frame(_points(), small_geo)  # type: ignore[arg-type]
    index = BoundaryIndex.from_boundaries(small_geo)
    with pytest.raises(InputError, match=r"assign_frame\(frame, index\)"):
        assign_frame(index, _points())  # type: ignore[arg-type]
