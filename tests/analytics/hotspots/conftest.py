"""Planted-hotspot scenarios shared by the hotspot tests (built once per session)."""

from __future__ import annotations

import geopandas as gpd
import pytest

from tests.analytics.hotspots.planted import Planted, planted_cases


@pytest.fixture(scope="session")
def planted_emerging(synthetic_geo: gpd.GeoDataFrame) -> Planted:
    """12 small hotspots (radius 250 m), 12 Jalali months, intensities by behaviour."""
    return planted_cases(synthetic_geo, seed=1)


@pytest.fixture(scope="session")
def planted_static(synthetic_geo: gpd.GeoDataFrame) -> Planted:
    """The same behaviours with equal totals over the year: whole-period detection."""
    return planted_cases(synthetic_geo, seed=2, equal_totals=True)


@pytest.fixture(scope="session")
def planted_wide(synthetic_geo: gpd.GeoDataFrame) -> Planted:
    """6 neighborhood-scale hotspots (radius 1.5 km), for Gi* on neighborhoods."""
    return planted_cases(
        synthetic_geo,
        seed=3,
        radius_m=1500.0,
        per_behaviour=1,
        separation_m=7000.0,
        per_slice=200,
        equal_totals=True,
    )
