"""``t137 boundaries check|import`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from typer.testing import CliRunner

from geo.boundaries import load_boundaries
from geo.crs import METRIC_CRS
from geo.store import open_store
from ingest import schema as s
from t137.cli import app

X0, Y0 = 535_000.0, 3_950_000.0


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def square(col: int, row: int) -> shapely.Polygon:
    return shapely.box(
        X0 + col * 1000, Y0 + row * 1000, X0 + (col + 1) * 1000, Y0 + (row + 1) * 1000
    )


def write_hoods(path: Path, codes: list[int] | None = None) -> Path:
    """Four neighborhoods in two regions (1: left column, 2: right column), fields KOD/NAM/REG."""
    codes = codes or [101, 102, 201, 202]
    gpd.GeoDataFrame(
        {"KOD": codes, "NAM": ["نارمك", "ولي عصر", "يوسف آباد", "كوي 7"], "REG": [1, 1, 2, 2]},
        geometry=[square(0, 0), square(0, 1), square(1, 0), square(1, 1)],
        crs=METRIC_CRS,
    ).to_file(path)
    return path


def write_osm_regions(path: Path) -> Path:
    """Two OSM-style region polygons shifted 50 m east of the neighborhoods, plus a line."""
    shift = 50.0
    regions = [
        shapely.box(X0 + shift, Y0, X0 + 1000 + shift, Y0 + 2000),
        shapely.box(X0 + 1000 + shift, Y0, X0 + 2000 + shift, Y0 + 2000),
        shapely.LineString([(X0, Y0), (X0 + 2000, Y0)]),
    ]
    gpd.GeoDataFrame(
        {
            "name": ["منطقه ۱ شهر تهران", "منطقه ۲ شهر تهران", None],
            "name:en": ["District 1", "District 2", None],
            "admin_level": ["9", "9", None],
        },
        geometry=regions,
        crs=METRIC_CRS,
    ).to_crs("EPSG:4326").to_file(path)
    return path


def test_check_prints_the_report(runner: CliRunner, tmp_path: Path) -> None:
    path = write_hoods(tmp_path / "hoods.gpkg")
    result = runner.invoke(
        app,
        [
            "boundaries",
            "check",
            str(path),
            "--code-field",
            "KOD",
            "--name-field",
            "NAM",
            "--parent-field",
            "REG",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "features: 2 region, 4 neighborhood (region dissolved)" in result.stdout
    assert "CRS: EPSG:32639" in result.stdout
    assert "result: OK" in result.stdout


def test_check_json(runner: CliRunner, tmp_path: Path) -> None:
    path = write_hoods(tmp_path / "hoods.gpkg", codes=[101, 101, 201, 202])
    result = runner.invoke(app, ["boundaries", "check", str(path), "--code-field", "KOD", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["ok"] is False
    assert data["duplicate_codes"] == {"neighborhood": ["101"]}
    assert data["feature_counts"] == {"neighborhood": 4}
    # NAM is not mapped and the layout is unknown: every name is empty.
    assert data["empty_names"] == {"neighborhood": ["101", "101", "201", "202"]}
    strict = runner.invoke(
        app, ["boundaries", "check", str(path), "--code-field", "KOD", "--strict"]
    )
    assert strict.exit_code == 1


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_text("not a shapefile", encoding="utf-8"), "cannot be read"),
        (lambda p: None, "does not exist"),
    ],
)
def test_check_broken_file_gives_one_line(
    runner: CliRunner, tmp_path: Path, make: object, expected: str
) -> None:
    path = tmp_path / "broken.shp"
    make(path)  # type: ignore[operator]
    result = runner.invoke(app, ["boundaries", "check", str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert str(path) in lines[0]
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_check_missing_field_gives_one_line(runner: CliRunner, tmp_path: Path) -> None:
    path = write_hoods(tmp_path / "hoods.gpkg")
    result = runner.invoke(app, ["boundaries", "check", str(path), "--code-field", "NOPE"])
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "no field 'NOPE'" in result.stderr


def test_import_one_layer_with_population(runner: CliRunner, tmp_path: Path) -> None:
    path = write_hoods(tmp_path / "hoods.gpkg")
    csv = tmp_path / "population.csv"
    csv.write_text("code,population\n101,1000\n102,2000\n201,۳۰۰\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "boundaries",
            "import",
            str(path),
            "--code-field",
            "KOD",
            "--name-field",
            "NAM",
            "--parent-field",
            "REG",
            "--out",
            str(out),
            "--population",
            str(csv),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "Imported 2 region, 4 neighborhood" in result.stdout
    assert (
        "population: 3 matched, 1 parents summed from children, 2 without population"
        in result.stdout
    )
    frame = load_boundaries(out)
    people = frame.set_index(s.CODE)[s.POPULATION]
    assert people["1"] == 3000
    assert people["201"] == 300
    assert frame.set_index(s.CODE).loc["202", s.NAME_FA] == "کوی 7"


def test_import_two_layers_attaches_by_overlap(runner: CliRunner, tmp_path: Path) -> None:
    regions = write_osm_regions(tmp_path / "regions.geojson")
    hoods = write_hoods(tmp_path / "hoods.gpkg")
    out = tmp_path / "out"
    # The municipal layer's fields are not a known layout: say so in one sentence.
    result = runner.invoke(
        app, ["boundaries", "import", str(regions), str(hoods), "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "--code-field" in result.stderr
    assert not out.exists()
    # Fields once per path; "" leaves the OSM layer to detection.
    result = runner.invoke(
        app,
        [
            "boundaries",
            "import",
            str(regions),
            str(hoods),
            "--out",
            str(out),
            "--code-field",
            "",
            "--code-field",
            "KOD",
            "--name-field",
            "",
            "--name-field",
            "NAM",
            "--min-overlap",
            "0.99",
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "neighborhood features attached to parents by largest overlap: 4 below 99%" in result.stdout
    )
    assert "101 نارمک → 1 (95% inside)" in result.stdout
    assert "201 یوسف آباد → 2 (95% inside); runner-up 1 (5%)" in result.stdout
    frame = load_boundaries(out)
    assert frame[s.LEVEL].value_counts().to_dict() == {"neighborhood": 4, "region": 2}
    assert frame.set_index(s.CODE).loc["1", s.NAME_FA] == "منطقه 1 شهر تهران"


def test_import_osm_regions_and_model_layer(runner: CliRunner, tmp_path: Path) -> None:
    regions = write_osm_regions(tmp_path / "regions.geojson")
    hoods = tmp_path / "hoods.geojson"
    gpd.GeoDataFrame(
        {
            "level": ["neighborhood"] * 4,
            "code": ["101", "102", "201", "202"],
            "name_fa": ["a", "b", "c", "d"],
        },
        geometry=[square(0, 0), square(0, 1), square(1, 0), square(1, 1)],
        crs=METRIC_CRS,
    ).to_crs("EPSG:4326").to_file(hoods)
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["boundaries", "import", str(regions), str(hoods), "--out", str(out), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["feature_counts"] == {"region": 2, "neighborhood": 4}
    assert data["sources"][0]["skipped"] == {"LineString": 1}
    # Region polygons are shifted 50 m east: every neighborhood is 95% inside its region.
    assert data["attach_reports"]["neighborhood"] == []
    frame = load_boundaries(out)
    parents = frame.set_index(s.CODE)[s.PARENT_CODE]
    assert parents[["101", "102", "201", "202"]].tolist() == ["1", "1", "2", "2"]

    strict = runner.invoke(
        app,
        [
            "boundaries",
            "import",
            str(regions),
            str(hoods),
            "--out",
            str(out),
            "--min-overlap",
            "0.99",
            "--json",
        ],
    )
    assert strict.exit_code == 0, strict.stderr
    below = json.loads(strict.stdout)["attach_reports"]["neighborhood"]
    assert sorted(row["code"] for row in below) == ["101", "102", "201", "202"]
    assert all(row["overlap_share"] == pytest.approx(0.95, abs=1e-3) for row in below)


def test_import_field_options_must_match_paths(runner: CliRunner, tmp_path: Path) -> None:
    hoods = write_hoods(tmp_path / "hoods.gpkg")
    result = runner.invoke(
        app,
        [
            "boundaries",
            "import",
            str(hoods),
            "--out",
            str(tmp_path / "o"),
            "--code-field",
            "KOD",
            "--code-field",
            "KOD",
        ],
    )
    assert result.exit_code == 2
    assert "once per file" in result.stderr


def test_import_real_tehran(runner: CliRunner, tehran_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "boundaries",
            "import",
            str(tehran_dir / "tehran_regions_osm.geojson"),
            str(tehran_dir / "Mahalat_Tehran.shp"),
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["feature_counts"] == {"region": 22, "neighborhood": 375}
    below = data["attach_reports"]["neighborhood"]
    assert 0 < len(below) < 30
    assert all(row["overlap_share"] < 0.9 for row in below)
    assert len(load_boundaries(tmp_path)) == 397


def test_import_into_a_store(runner: CliRunner, tmp_path: Path) -> None:
    layer = write_hoods(tmp_path / "hoods.shp")
    store = tmp_path / "store"
    args = ["boundaries", "import", str(layer), "--code-field", "KOD", "--name-field", "NAM"]
    result = runner.invoke(app, [*args, "--parent-field", "REG", "--store", str(store)])
    assert result.exit_code == 0, result.output
    with open_store(store) as opened:
        stored = opened.read_boundaries()
    assert sorted(stored[s.LEVEL].value_counts().items()) == [("neighborhood", 4), ("region", 2)]
    assert not (tmp_path / "out").exists()


def test_import_needs_a_target(runner: CliRunner, tmp_path: Path) -> None:
    layer = write_hoods(tmp_path / "hoods.shp")
    result = runner.invoke(app, ["boundaries", "import", str(layer), "--code-field", "KOD"])
    assert result.exit_code == 2
    assert "--out DIR, --store URL" in result.stderr
