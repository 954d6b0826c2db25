"""``t137 kpis``, ``t137 hotspots`` and ``t137 rank`` on a small embedded store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from analytics.exports import read_provenance, sidecar_path
from analytics.hotspots.grid import metric_xy, to_lonlat
from geo.store import open_store
from geo.store.chain import GENESIS_HASH
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from t137.commands import analyze
from t137.settings import get_settings
from tests.support.cases import random_cases

N_CASES = 1200
PLANTED = 150  # "water" cases within a few metres of one point


@pytest.fixture(scope="module")
def boundaries() -> gpd.GeoDataFrame:
    return synthetic_boundaries(n_regions=3, n_neighborhoods=12, seed=1)


@pytest.fixture(scope="module")
def cases(boundaries: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    base = random_cases(N_CASES, seed=5, boundaries=boundaries, months=4, start="2024-03-20")
    planted = random_cases(PLANTED, seed=6, boundaries=boundaries, months=4, start="2024-03-20")
    located = base[base[s.LON].notna()]
    x, y = metric_xy(located.iloc[[0]])
    rng = np.random.default_rng(7)
    lon, lat = to_lonlat(x[0] + rng.normal(0, 5, PLANTED), y[0] + rng.normal(0, 5, PLANTED))
    planted = planted.assign(
        **{
            s.CASE_ID: [f"P{i:05d}" for i in range(PLANTED)],
            s.LON: lon,
            s.LAT: lat,
            s.CATEGORY: pd.Categorical(["water"] * PLANTED),
            s.GEOCODE_PRECISION: pd.Categorical(["point"] * PLANTED),
            s.NEIGHBORHOOD_CODE: located[s.NEIGHBORHOOD_CODE].iloc[0],
            s.DISTRICT_CODE: located[s.DISTRICT_CODE].iloc[0],
            s.REGION_CODE: located[s.REGION_CODE].iloc[0],
        }
    )
    planted = planted.set_geometry(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    frame = pd.concat([base, planted], ignore_index=True)
    for column in s.CATEGORICAL_COLUMNS:
        frame[column] = frame[column].astype(object)
    return gpd.GeoDataFrame(frame, geometry=s.GEOMETRY, crs="EPSG:4326")


@pytest.fixture(scope="module")
def store_url(
    tmp_path_factory: pytest.TempPathFactory,
    boundaries: gpd.GeoDataFrame,
    cases: gpd.GeoDataFrame,
) -> str:
    path = tmp_path_factory.mktemp("analyze") / "store"
    with open_store(path) as store:
        store.write_boundaries(boundaries)
        store.upsert_cases(cases)
    return str(path)


@pytest.fixture(scope="module")
def bare_store(tmp_path_factory: pytest.TempPathFactory, cases: gpd.GeoDataFrame) -> str:
    """A store with the cases and no boundaries."""
    path = tmp_path_factory.mktemp("analyze-bare") / "store"
    with open_store(path) as store:
        store.upsert_cases(cases)
    return str(path)


@pytest.fixture
def app() -> typer.Typer:
    """The three commands registered as t137/cli.py registers them."""
    cli = typer.Typer(pretty_exceptions_enable=False)
    cli.command("kpis")(analyze.kpis_cmd)
    cli.command("hotspots")(analyze.hotspots_cmd)
    cli.command("rank")(analyze.rank_cmd)
    return cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run_json(runner: CliRunner, app: typer.Typer, args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert isinstance(payload, dict)
    return payload


def assert_one_sentence_error(result: object, *needles: str) -> None:
    assert getattr(result, "exit_code", None) == 2
    stderr = str(getattr(result, "stderr", ""))
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in stderr
    for needle in needles:
        assert needle in lines[0]


# --- t137 kpis -------------------------------------------------------------------------------
def test_kpis_csv_by_neighborhood_and_month(
    runner: CliRunner, app: typer.Typer, store_url: str, tmp_path: Path, cases: pd.DataFrame
) -> None:
    out = tmp_path / "kpis.csv"
    payload = run_json(runner, app, ["kpis", "--store", store_url, "--out", str(out)])
    table = pd.read_csv(out, dtype={s.NEIGHBORHOOD_CODE: str})
    assert len(table) == payload["rows"]
    assert payload["cases"] == len(cases)
    assert int(table["volume"].sum()) == len(cases) == payload["volume"]
    assert set(table[s.NEIGHBORHOOD_CODE].dropna()) <= set(
        cases[s.NEIGHBORHOOD_CODE].dropna().astype(str)
    )
    assert table["period"].str.fullmatch(r"14\d\d-\d\d").all()
    assert "volume_per_1000" in table.columns  # the boundaries carry population
    assert table["volume_per_1000"].notna().any()
    assert "records" not in payload


def test_kpis_xlsx_and_parquet_by_suffix(
    runner: CliRunner, app: typer.Typer, store_url: str, tmp_path: Path, cases: pd.DataFrame
) -> None:
    xlsx = tmp_path / "kpis.xlsx"
    run_json(runner, app, ["kpis", "--store", store_url, "--level", "region", "--out", str(xlsx)])
    sheet = pd.read_excel(xlsx, engine="openpyxl", dtype={s.REGION_CODE: str})
    assert int(sheet["volume"].sum()) == len(cases)
    assert sheet["period_start"].dt.tz is None  # local wall-clock time for Excel
    parquet = tmp_path / "kpis.parquet"
    args = ["kpis", "--store", store_url, "--level", "region", "--period", "none"]
    args += ["--by", s.CATEGORY, "--out", str(parquet)]
    run_json(runner, app, args)
    table = pd.read_parquet(parquet)
    expected = cases.groupby([s.REGION_CODE, s.CATEGORY], dropna=False).size()
    assert len(table) == len(expected)
    assert "period" not in table.columns
    got = table.set_index([s.REGION_CODE, s.CATEGORY])["volume"]
    assert int(got.loc[(cases[s.REGION_CODE].dropna().iloc[0], "water")]) >= PLANTED


def test_kpis_json_without_out_holds_the_records_and_respects_the_window(
    runner: CliRunner, app: typer.Typer, store_url: str, cases: pd.DataFrame
) -> None:
    args = ["kpis", "--store", store_url, "--level", "city", "--period", "none"]
    args += ["--start", "2024-05-01", "--end", "2024-06-01"]
    payload = run_json(runner, app, args)
    start = pd.Timestamp("2024-05-01", tz="Asia/Tehran")
    end = pd.Timestamp("2024-06-01", tz="Asia/Tehran")
    inside = int(((cases[s.CREATED_AT] >= start) & (cases[s.CREATED_AT] < end)).sum())
    assert payload["volume"] == inside
    records = payload["records"]
    assert isinstance(records, list)
    assert len(records) == 1
    assert records[0]["volume"] == inside


def test_kpis_human_summary(runner: CliRunner, app: typer.Typer, store_url: str) -> None:
    result = runner.invoke(app, ["kpis", "--store", store_url, "--level", "region"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"KPIs of {N_CASES + PLANTED} cases by region_code per M")


def test_kpis_default_store_comes_from_settings(
    runner: CliRunner, app: typer.Typer, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T137_STORE_URL", store_url)
    get_settings.cache_clear()
    try:
        payload = run_json(runner, app, ["kpis", "--level", "city", "--period", "none"])
    finally:
        get_settings.cache_clear()
    assert payload["cases"] == N_CASES + PLANTED


# --- t137 hotspots ---------------------------------------------------------------------------
def test_density_hotspots_find_the_planted_cluster_and_write_geojson(
    runner: CliRunner, app: typer.Typer, store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "clusters.geojson"
    args = ["hotspots", "--store", store_url, "--method", "density", "--category", "water"]
    args += ["--eps-m", "50", "--min-cases", "20", "--out", str(out)]
    payload = run_json(runner, app, args)
    assert payload["clusters"] == 1
    assert payload["categories"] == ["water"]
    written = gpd.read_file(out)
    assert written.crs.to_epsg() == 4326
    assert len(written) == 1
    assert written["n_cases"].iloc[0] >= PLANTED
    assert written.geometry.iloc[0].geom_type in ("Polygon", "MultiPolygon")


def test_gistar_hotspots_on_neighborhoods_write_parquet(
    runner: CliRunner, app: typer.Typer, store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "gistar.parquet"
    payload = run_json(runner, app, ["hotspots", "--store", store_url, "--out", str(out)])
    assert payload["method"] == "gistar"
    assert payload["n_units"] == 12
    classes = payload["classes"]
    assert isinstance(classes, dict)
    assert sum(classes.values()) == 12
    units = gpd.read_parquet(out)
    assert units.crs.to_epsg() == 4326
    assert set(units["hotspot"]) <= {"hot", "cold", "not significant"}
    assert int(units["n_cases"].sum()) <= N_CASES + PLANTED


def test_emerging_hotspots_on_h3_cells(
    runner: CliRunner, app: typer.Typer, store_url: str, cases: pd.DataFrame
) -> None:
    args = ["hotspots", "--store", store_url, "--method", "emerging", "--resolution", "7"]
    payload = run_json(runner, app, args)
    assert payload["units"] == "h3"
    assert payload["unlocated"] == int(cases[s.LON].isna().sum())
    slices = payload["slices"]
    assert isinstance(slices, list)
    assert 4 <= len(slices) <= 6
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "recurring problem hotspots" in result.stdout


def test_neighborhood_hotspots_without_boundaries_fail_clearly(
    runner: CliRunner, app: typer.Typer, bare_store: str
) -> None:
    result = runner.invoke(app, ["hotspots", "--store", bare_store, "--level", "neighborhood"])
    assert_one_sentence_error(result, "no boundaries")


# --- t137 rank -------------------------------------------------------------------------------
def test_rank_json_lists_ranked_and_small_areas(
    runner: CliRunner, app: typer.Typer, store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "rank.csv"
    args = ["rank", "--store", store_url, "--metric", "objection_rate", "--min-volume", "100"]
    args += ["--n-boot", "50", "--top", "20", "--out", str(out)]
    payload = run_json(runner, app, args)
    table = pd.read_csv(out, dtype={s.NEIGHBORHOOD_CODE: str})
    assert payload["areas"] == len(table) == 12
    assert payload["ranked"] + payload["not_enough"] + payload["no_data"] == 12
    small = table[table["volume"] < 100]
    assert (small["status"] == "not enough cases").all()
    assert payload["not_enough"] == len(small)
    ranks = [row["rank"] for row in payload["top"] if row["rank"] is not None]
    assert ranks == sorted(ranks)
    assert table[s.NAME_FA].notna().all()  # names joined from the boundaries


def test_rank_human_summary_and_min_volume(
    runner: CliRunner, app: typer.Typer, store_url: str
) -> None:
    args = ["rank", "--store", store_url, "--level", "region", "--n-boot", "50"]
    result = runner.invoke(app, [*args, "--min-volume", "100000"])
    assert result.exit_code == 0, result.stderr
    assert "0 ranked, 3 with fewer than 100000 cases" in result.stdout


# --- errors ----------------------------------------------------------------------------------
def test_unknown_metric_is_one_sentence(
    runner: CliRunner, app: typer.Typer, store_url: str
) -> None:
    result = runner.invoke(app, ["rank", "--store", store_url, "--metric", "nope"])
    assert_one_sentence_error(result, "--metric 'nope' is unknown")


@pytest.mark.parametrize("command", ["kpis", "rank", "hotspots"])
def test_bad_suffix_is_refused_before_any_work(
    runner: CliRunner, app: typer.Typer, tmp_path: Path, command: str
) -> None:
    never = tmp_path / "never-opened"  # the store would be created if it were opened
    out = tmp_path / "table.txt"
    result = runner.invoke(app, [command, "--store", str(never), "--out", str(out)])
    assert_one_sentence_error(result, "'table.txt'", ".csv", ".xlsx", ".parquet", ".geojson")
    assert not out.exists()
    assert not never.exists()


def test_city_kpis_cannot_be_drawn_and_say_so_before_any_work(
    runner: CliRunner, app: typer.Typer, tmp_path: Path
) -> None:
    never = tmp_path / "never-opened"
    out = tmp_path / "city.geojson"
    args = ["kpis", "--store", str(never), "--level", "city", "--out", str(out)]
    result = runner.invoke(app, args)
    assert_one_sentence_error(result, "no city code column", "csv")
    assert not out.exists()
    assert not never.exists()


def test_hotspots_csv_and_kpis_geojson_are_now_written(
    runner: CliRunner, app: typer.Typer, store_url: str, tmp_path: Path
) -> None:
    """Every command writes every format of `t137 export` (a superset of the old suffixes)."""
    csv = tmp_path / "gistar.csv"
    payload = run_json(runner, app, ["hotspots", "--store", store_url, "--out", str(csv)])
    table = pd.read_csv(csv, encoding="utf-8-sig")
    assert len(table) == payload["n_units"] == 12
    shapes = gpd.GeoSeries.from_wkt(table["geometry"], crs="EPSG:4326")
    box = shapes.bounds  # Tehran in lon/lat degrees, not EPSG:32639 metres
    assert box["minx"].between(50.5, 52.5).all()
    assert box["maxy"].between(35.0, 36.5).all()
    geojson = tmp_path / "kpis.geojson"
    args = ["kpis", "--store", store_url, "--level", "region", "--period", "none"]
    run_json(runner, app, [*args, "--out", str(geojson)])
    areas = gpd.read_file(geojson)
    assert areas.crs.to_epsg() == 4326
    assert areas.geometry.notna().sum() == 3  # the three regions; the unassigned row has none
    assert int(areas["volume"].sum()) == N_CASES + PLANTED


def test_kpis_geojson_without_boundaries_says_so(
    runner: CliRunner, app: typer.Typer, bare_store: str, tmp_path: Path
) -> None:
    out = tmp_path / "kpis.geojson"
    result = runner.invoke(app, ["kpis", "--store", bare_store, "--out", str(out)])
    assert_one_sentence_error(result, "holds no neighborhood boundaries", "csv")
    assert not out.exists()


def test_a_store_without_runs_labels_files_with_the_genesis_head(
    runner: CliRunner, app: typer.Typer, store_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "rank.parquet"
    args = ["rank", "--store", store_url, "--level", "region", "--n-boot", "50"]
    run_json(runner, app, [*args, "--out", str(out)])
    notes = read_provenance(out)
    assert notes["chain_head"] == GENESIS_HASH
    assert notes["table"] == "ranking"
    assert json.loads(notes["options"])["level"] == "region"
    assert json.loads(sidecar_path(out).read_text(encoding="utf-8"))["rows"] == 3


def test_empty_store_and_empty_window_say_so(
    runner: CliRunner, app: typer.Typer, store_url: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["kpis", "--store", str(tmp_path / "empty")])
    assert_one_sentence_error(result, "holds no cases")
    result = runner.invoke(app, ["rank", "--store", store_url, "--start", "2030-01-01"])
    assert_one_sentence_error(result, "holds no cases matching the options")
    result = runner.invoke(app, ["kpis", "--store", store_url, "--start", "yesterday-ish"])
    assert_one_sentence_error(result, "--start")
