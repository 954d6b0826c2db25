"""A small embedded store with synthetic boundaries, cases and one ingest run, and an app."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dash
import flask_login
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from analytics.duplicates import find_duplicates
from dash_app import AppSettings, create_app
from dash_app.auth import LoginUser, add_user, load_users
from geo.store import IngestBatch, IngestRun, open_store
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from tests.support.cases import random_cases

N_CASES = 1500
MANAGER = ("boss", "boss-password-1")
REGION_MANAGER = ("r1", "region-one-password")
REGION = "1"


@pytest.fixture(scope="session")
def small_boundaries() -> gpd.GeoDataFrame:
    return synthetic_boundaries(n_regions=4, n_neighborhoods=20)


@pytest.fixture(scope="session")
def small_cases(small_boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return random_cases(N_CASES, seed=7, boundaries=small_boundaries, months=12)


@pytest.fixture(scope="session")
def store_run(
    tmp_path_factory: pytest.TempPathFactory,
    small_boundaries: gpd.GeoDataFrame,
    small_cases: gpd.GeoDataFrame,
) -> tuple[Path, IngestRun]:
    path = tmp_path_factory.mktemp("dash") / "store"
    with open_store(str(path)) as store:
        store.write_boundaries(small_boundaries)
        run = store.write_run(
            IngestBatch(
                source="synthetic",
                input_sha256="0" * 64,
                started_at=pd.Timestamp("2024-01-01", tz="UTC"),
                rows_read=len(small_cases),
                cases=small_cases,
            )
        )
        store.refresh_read_model()
    add_user(path / "users.json", *MANAGER, role="manager")
    add_user(path / "users.json", *REGION_MANAGER, role="region_manager", region=REGION)
    return path, run


@pytest.fixture(scope="session")
def store_path(store_run: tuple[Path, IngestRun]) -> Path:
    return store_run[0]


@pytest.fixture
def settings(store_path: Path) -> AppSettings:
    return AppSettings(store_url=str(store_path), min_volume=30, k_anonymity=5)


@pytest.fixture
def app(settings: AppSettings) -> dash.Dash:
    return create_app(settings)


def _as(app: dash.Dash, store_path: Path, name: str | None) -> Iterator[None]:
    with app.server.test_request_context():
        if name is not None:
            flask_login.login_user(LoginUser(load_users(store_path / "users.json")[name]))
        yield


@pytest.fixture
def app_context(app: dash.Dash, store_path: Path) -> Iterator[None]:
    """A request context of a logged-in manager."""
    yield from _as(app, store_path, MANAGER[0])


@pytest.fixture
def region_context(app: dash.Dash, store_path: Path) -> Iterator[None]:
    """A request context of the manager of region 1."""
    yield from _as(app, store_path, REGION_MANAGER[0])


@pytest.fixture
def anonymous_context(app: dash.Dash, store_path: Path) -> Iterator[None]:
    """A request context of an anonymous visitor."""
    yield from _as(app, store_path, None)


def ingest_cases(path: Path, cases: gpd.GeoDataFrame, digest: str) -> None:
    """Record one ingest run of ``cases`` in the store at ``path`` and refresh its read model."""
    with open_store(str(path)) as store:
        store.write_run(
            IngestBatch(
                source="synthetic",
                input_sha256=digest * 64,
                started_at=pd.Timestamp("2024-06-01", tz="UTC"),
                rows_read=len(cases),
                cases=cases,
            )
        )
        store.refresh_read_model()


def hot_corner(bounds: gpd.GeoDataFrame, n: int) -> gpd.GeoDataFrame:
    """Return ``n`` reports of one problem: one place (within ~15 m), one category, two days."""
    base = random_cases(n, seed=11, boundaries=bounds, months=1, id_prefix="K")
    first = base.index[base[s.SUBCATEGORY].notna()][0]
    rng = np.random.default_rng(5)
    out = pd.DataFrame(base.loc[[first] * n]).reset_index(drop=True)
    out[s.CASE_ID] = base[s.CASE_ID].to_numpy()
    lon = float(out[s.LON].iloc[0]) + rng.normal(0, 0.0001, n)
    lat = float(out[s.LAT].iloc[0]) + rng.normal(0, 0.0001, n)
    created = pd.Timestamp("2023-01-10T08:00Z") + pd.to_timedelta(rng.uniform(0, 40, n), "h")
    out[s.LON], out[s.LAT] = lon, lat
    out[s.GEOCODE_PRECISION] = "point"
    out[s.CREATED_AT] = created
    out[s.CLOSED_AT] = created + pd.Timedelta(days=5)
    out[s.STATUS] = "closed"
    frame = gpd.GeoDataFrame(out, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    frame[s.DUPLICATE_OF] = find_duplicates(frame).astype(object)  # as ingest links them
    return frame


@pytest.fixture
def clustered_store(tmp_path: Path) -> Path:
    """A small store with a hot corner: 60 reports of one problem among 400 others."""
    bounds = synthetic_boundaries(n_regions=2, n_neighborhoods=6)
    path = tmp_path / "store"
    with open_store(str(path)) as store:
        store.write_boundaries(bounds)
    background = random_cases(400, seed=9, boundaries=bounds, months=3)
    ingest_cases(path, background, "4")
    ingest_cases(path, hot_corner(bounds, 60), "5")
    return path
