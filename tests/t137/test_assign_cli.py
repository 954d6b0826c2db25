"""``t137 assign`` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from geo.boundaries import write_boundaries
from geo.boundary_model import make_frame
from geo.hierarchy import dissolve_by_parent
from ingest import schema as s
from t137.cli import app
from t137.commands import assign as assign_command
from t137.settings import Settings

#: (lon, lat, expected precision, expected reason, expected neighborhood)
ROWS = [
    (51.35, 35.65, "point", None, "1"),
    (51.45, 35.65, "point", None, "2"),
    (51.40, 35.65, "point", None, "1"),  # on the shared border: smallest code
    (51.5011, 35.65, "snapped", None, "2"),  # about 100 m east of the city
    (35.65, 51.35, "swapped", None, "1"),
    (51.60, 35.65, "none", "outside", None),
    (None, 35.65, "none", "missing", None),
    (0.0, 0.0, "none", "zero", None),
    (51.389, 35.6892, "none", "placeholder", None),  # the settings' default placeholder
    (500.0, 35.65, "none", "out_of_range", None),
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def boundaries(tmp_path: Path) -> Path:
    hoods = make_frame(
        level=s.LEVEL_NEIGHBORHOOD,
        code=pd.Series(["1", "2"], dtype=object),
        name_fa=pd.Series(["غرب", "شرق"], dtype=object),
        name_en=None,
        parent_code=pd.Series(["10", "20"], dtype=object),
        population=None,
        geometry=[shapely.box(51.3, 35.6, 51.4, 35.7), shapely.box(51.4, 35.6, 51.5, 35.7)],
    )
    regions = dissolve_by_parent(hoods, parent_level=s.LEVEL_REGION)
    frame = gpd.GeoDataFrame(
        pd.concat([regions, hoods], ignore_index=True), geometry=s.GEOMETRY, crs="EPSG:4326"
    )
    folder = tmp_path / "boundaries"
    write_boundaries(frame, folder)
    return folder


@pytest.fixture
def points_csv(tmp_path: Path) -> Path:
    path = tmp_path / "points.csv"
    pd.DataFrame(
        {
            "case": [f"c{i}" for i in range(len(ROWS))],
            "x": [r[0] for r in ROWS],
            "y": [r[1] for r in ROWS],
        }
    ).to_csv(path, index=False)
    return path


def test_assign_csv_writes_codes_and_prints_counts(
    runner: CliRunner, boundaries: Path, points_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "assigned.parquet"
    result = runner.invoke(
        app,
        [
            "assign",
            "--boundaries",
            str(boundaries),
            str(points_csv),
            "--lon-col",
            "x",
            "--lat-col",
            "y",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert {k: summary[k] for k in ("rows", "assigned", "snapped", "swapped", "outside")} == {
        "rows": 10,
        "assigned": 3,
        "snapped": 1,
        "swapped": 1,
        "outside": 1,
    }
    assert summary["invalid"] == 4
    assert summary["invalid_reasons"] == {
        "missing": 1,
        "zero": 1,
        "placeholder": 1,
        "out_of_range": 1,
    }
    written = pd.read_parquet(out)
    assert written["case"].tolist() == [f"c{i}" for i in range(len(ROWS))]
    assert written[s.GEOCODE_PRECISION].astype(object).tolist() == [r[2] for r in ROWS]
    reasons = [None if pd.isna(v) else v for v in written["reason"].astype(object)]
    assert reasons == [r[3] for r in ROWS]
    hoods = [None if pd.isna(v) else v for v in written[s.NEIGHBORHOOD_CODE].astype(object)]
    assert hoods == [r[4] for r in ROWS]
    regions = [None if pd.isna(v) else v for v in written[s.REGION_CODE].astype(object)]
    assert regions == [None if r[4] is None else r[4] + "0" for r in ROWS]


def test_human_summary_and_parquet_input(
    runner: CliRunner, boundaries: Path, tmp_path: Path
) -> None:
    source = tmp_path / "points.parquet"
    pd.DataFrame({"lon": [51.35, 51.45, 60.0], "lat": [35.65, 35.65, 35.65]}).to_parquet(source)
    out = tmp_path / "assigned.parquet"
    result = runner.invoke(
        app,
        ["assign", "--boundaries", str(boundaries), str(source), "--out", str(out)],
    )
    assert result.exit_code == 0, result.stderr
    assert "Assigned 2 of 3 points to a neighborhood" in result.stdout
    assert "outside            1" in result.stdout
    assert pd.read_parquet(out)[s.NEIGHBORHOOD_CODE].astype(object).tolist()[:2] == ["1", "2"]


def test_snap_tolerance_option(
    runner: CliRunner, boundaries: Path, points_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "assigned.parquet"
    result = runner.invoke(
        app,
        [
            "assign",
            "--boundaries",
            str(boundaries),
            str(points_csv),
            "--lon-col=x",
            "--lat-col=y",
            "--out",
            str(out),
            "--snap-tolerance-m",
            "0",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["snapped"], summary["outside"]) == (0, 2)


def test_geoparquet_input_keeps_its_geometry(
    runner: CliRunner, boundaries: Path, tmp_path: Path
) -> None:
    source = tmp_path / "points.parquet"
    gpd.GeoDataFrame(
        {"lon": [51.35], "lat": [35.65]}, geometry=[shapely.Point(51.35, 35.65)], crs=4326
    ).to_parquet(source)
    out = tmp_path / "assigned.parquet"
    result = runner.invoke(
        app, ["assign", "--boundaries", str(boundaries), str(source), "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    written = gpd.read_parquet(out)
    assert written.crs == "EPSG:4326"
    assert written[s.NEIGHBORHOOD_CODE].astype(object).tolist() == ["1"]


def test_geoparquet_without_coordinate_columns_uses_its_geometry(
    runner: CliRunner, boundaries: Path, tmp_path: Path
) -> None:
    source = tmp_path / "points.parquet"
    gpd.GeoDataFrame(
        {"case": ["a", "b"]},
        geometry=[shapely.Point(51.45, 35.65), shapely.Point(51.35, 35.65)],
        crs=4326,
    ).to_crs("EPSG:32639").to_parquet(source)
    out = tmp_path / "assigned.parquet"
    result = runner.invoke(
        app, ["assign", "--boundaries", str(boundaries), str(source), "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert gpd.read_parquet(out)[s.NEIGHBORHOOD_CODE].astype(object).tolist() == ["2", "1"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "does not exist"),
        (["points.csv", "--lon-col", "nope"], "has no column 'nope'"),
        (["points.csv", "--lon-col", "case", "--lat-col", "y"], "is not numeric (row 1: 'c0')"),
        (["points.txt"], "is not a .csv or .parquet file"),
        (["points.csv", "--lon-col", "x", "--lat-col", "y", "--no-boundaries"], "No boundaries"),
        (["broken.parquet"], "cannot be read as a parquet table"),
    ],
)
def test_bad_input_gives_one_sentence_and_exit_2(
    runner: CliRunner,
    boundaries: Path,
    points_csv: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "points.txt").write_text("lon,lat\n1,2\n", encoding="utf-8")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    boundary_args = ["--boundaries", str(boundaries)]
    if "--no-boundaries" in args:
        args = [a for a in args if a != "--no-boundaries"]
        boundary_args = []
        monkeypatch.delenv("T137_BOUNDARIES", raising=False)
        monkeypatch.setattr(assign_command, "get_settings", lambda: Settings(boundaries=None))
    result = runner.invoke(
        app, ["assign", *boundary_args, *args, "--out", str(tmp_path / "o.parquet")]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert message in lines[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_missing_boundaries_folder(runner: CliRunner, points_csv: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "assign",
            "--boundaries",
            str(tmp_path / "nowhere"),
            str(points_csv),
            "--lon-col=x",
            "--lat-col=y",
            "--out",
            str(tmp_path / "o.parquet"),
        ],
    )
    assert result.exit_code == 2
    assert "No boundaries found" in result.stderr
