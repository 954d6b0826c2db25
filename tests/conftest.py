"""Shared fixtures: reference data paths, the synthetic geography, a throwaway PostGIS, Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from hypothesis import HealthCheck, settings

from geo.synthetic_geography import synthetic_boundaries
from tests.support.postgres import PostgresUnavailableError, throwaway_postgis

# The test machines are shared and noisy: a per-example deadline would fail a correct test
# when another job holds the CPU. Hypothesis still runs every example; only timing is off.
# `make test` (and CI, which runs it) draws the same examples on every run, so that a red
# run means a change broke something, not that a new example was drawn; explore with
# T137_HYPOTHESIS_PROFILE=explore (fresh random examples each run; five times as many where
# a test does not set its own count).
settings.register_profile(
    "shared-machine",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
    database=None,
)
settings.register_profile(
    "explore",
    settings.get_profile("shared-machine"),
    derandomize=False,
    max_examples=500,
)
settings.load_profile(os.environ.get("T137_HYPOTHESIS_PROFILE", "shared-machine"))

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "tests" / "artifacts"


def _shared_data_dir() -> Path:
    configured = os.environ.get("T137_SHARED_DATA")
    return Path(configured) if configured else REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The ../shared/data folder; tests that need it skip with the reason when it is absent."""
    path = _shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"reference data not found at {path} (set T137_SHARED_DATA to ../shared/data)")
    return path


@pytest.fixture(scope="session")
def tehran_dir(shared_data: Path) -> Path:
    """The real Tehran boundary folder from ../shared/data/tehran."""
    path = shared_data / "tehran"
    if not (path / "Mahalat_Tehran.shp").exists():
        pytest.skip(f"real Tehran boundaries not found in {path}")
    return path


@pytest.fixture(scope="session")
def nyc_dir(shared_data: Path) -> Path:
    """The New York City 311 sample from ../shared/data/nyc311."""
    path = shared_data / "nyc311"
    if not (path / "nyc311_test_sample3.csv").exists():
        pytest.skip(f"NYC 311 sample not found in {path}")
    return path


@pytest.fixture(scope="session")
def synthetic_geo() -> gpd.GeoDataFrame:
    """The labelled synthetic geography: 22 regions and 375 neighborhoods (do not modify)."""
    return synthetic_boundaries()


@pytest.fixture(scope="session")
def postgis_url() -> Iterator[str]:
    """A SQLAlchemy URL of a throwaway PostgreSQL 15 + PostGIS server, for the session."""
    try:
        with throwaway_postgis() as url:
            yield url
    except PostgresUnavailableError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"cannot start a throwaway PostGIS server: {exc}")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Folder for test artifacts such as screenshots (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def pytest_setup_options() -> object:
    """Options for dash[testing]'s Chromium: Debian's binary, headless-friendly, offline."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ):
        options.add_argument(argument)
    return options
