"""The ingest run: a dirty synthetic export through the real reader, locate and the store."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from geo.assign import BoundaryIndex
from geo.boundaries import write_boundaries
from geo.gazetteer import build_gazetteer
from geo.store import CaseStore, open_store
from geo.store.read_model import assert_read_models_equal, compute_read_model
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from ingest.pipeline import IngestOptions, ingest_file
from ingest.synthetic import SynthConfig, generate_137, write_137
from t137.cli import app

KEY = "test-key"
TODAY = dt.date(2025, 1, 1)


@pytest.fixture(scope="module")
def geography() -> gpd.GeoDataFrame:
    return synthetic_boundaries(n_regions=6, n_neighborhoods=60, seed=3)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory, geography: gpd.GeoDataFrame) -> Path:
    """A dirty 4,000-row export with its ground truth beside it."""
    config = SynthConfig(cases=4_000, start="1402-01-01", months=3, seed=11, dirty=0.05)
    made = generate_137(config, geography, synthetic_geography=True, today=TODAY)
    path = tmp_path_factory.mktemp("export") / "cases.csv"
    write_137(made, path)
    return path


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CaseStore]:
    with open_store(tmp_path / "store") as opened:
        yield opened


def _options() -> IngestOptions:
    return IngestOptions(key=KEY, placeholders=((51.389, 35.6892),))


def test_every_row_reconciles_and_quarantine_matches_the_truth(
    export: Path, store: CaseStore, geography: gpd.GeoDataFrame
) -> None:
    index = BoundaryIndex.from_boundaries(geography)
    report = ingest_file(export, store, index, _options(), gazetteer=build_gazetteer(geography))
    truth = pd.read_parquet(export.with_name("cases.truth.parquet"))
    run = report.run
    assert run.rows_read == len(truth)
    assert report.reconciles
    assert run.inserted + run.quarantined == len(truth)

    expected = truth.dropna(subset=["expected_reason"])
    expected = expected.set_index("line")["expected_reason"].astype(str).sort_index()
    quarantine = store.read_quarantine(run.run_id)
    got = quarantine.set_index(s.Q_ROW_NUMBER)[s.Q_REASON].astype(str).sort_index()
    # Row for row, the reasons are those the generator planted.
    pd.testing.assert_series_equal(got, expected, check_names=False, check_index_type=False)
    assert (quarantine[s.Q_RUN_ID] == run.run_id).all()
    assert quarantine[s.Q_MESSAGE].str.contains("cases.csv").all()


def test_located_cases_carry_areas_and_flags(
    export: Path, store: CaseStore, geography: gpd.GeoDataFrame
) -> None:
    index = BoundaryIndex.from_boundaries(geography)
    report = ingest_file(export, store, index, _options(), gazetteer=build_gazetteer(geography))
    cases = store.read_cases()
    truth = pd.read_parquet(export.with_name("cases.truth.parquet"))
    assert report.flags.get("swapped", 0) == (truth["expected_flag"] == "swapped").sum()
    truth = truth[truth["expected_reason"].isna()].set_index("case_id")
    point = cases[cases[s.GEOCODE_PRECISION].astype(str).isin(["point", "swapped"])]
    true_hood = truth["neighborhood_code"].astype(str).reindex(point[s.CASE_ID])
    agree = (point[s.NEIGHBORHOOD_CODE].astype(str).to_numpy() == true_hood.to_numpy()).mean()
    assert agree > 0.99
    assert cases[s.REGION_CODE].notna().mean() > 0.9


def test_same_file_twice_changes_nothing(
    export: Path, store: CaseStore, geography: gpd.GeoDataFrame
) -> None:
    index = BoundaryIndex.from_boundaries(geography)
    first = ingest_file(export, store, index, _options())
    again = ingest_file(export, store, index, _options())
    assert (again.run.inserted, again.run.updated) == (0, 0)
    assert again.run.unchanged == first.run.inserted
    assert again.reconciles
    assert again.run.previous_hash == first.run.run_hash


def test_the_run_records_the_sha256_of_the_file_read(
    export: Path, store: CaseStore, geography: gpd.GeoDataFrame
) -> None:
    from ingest.readers.dispatch import read_source

    expected = hashlib.sha256(export.read_bytes()).hexdigest()
    assert read_source(export, key="k").input_sha256 == expected
    report = ingest_file(export, store, BoundaryIndex.from_boundaries(geography), _options())
    assert report.run.input_sha256 == expected
    assert store.read_runs()[s.RUN_INPUT_SHA256].tolist() == [expected]


def test_a_changed_row_updates_exactly_that_case(
    export: Path, store: CaseStore, geography: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    index = BoundaryIndex.from_boundaries(geography)
    ingest_file(export, store, index, _options())
    with export.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    description = rows[0].index("شرح درخواست")
    truth = pd.read_parquet(export.with_name("cases.truth.parquet"))
    line = int(truth.loc[truth["expected_reason"].isna(), "line"].iloc[10])
    rows[line - 1][description] = "متن تازه برای آزمون"
    changed = tmp_path / "changed.csv"
    with changed.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    report = ingest_file(changed, store, index, _options())
    assert (report.run.inserted, report.run.updated) == (0, 1)
    case_id = str(truth.loc[truth["line"] == line, "case_id"].iloc[0])
    stored = store.read_cases()
    assert stored.loc[stored[s.CASE_ID] == case_id, s.DESCRIPTION].tolist() == [
        "متن تازه برای آزمون"
    ]


def test_phone_numbers_never_reach_the_store(
    export: Path, store: CaseStore, geography: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    index = BoundaryIndex.from_boundaries(geography)
    ingest_file(export, store, index, _options())
    raw = pd.read_csv(export, dtype=str, on_bad_lines="skip")
    secrets = set(raw["تلفن همراه"].dropna()) | set(raw["کد ملی"].dropna())
    secrets = {v for v in secrets if len(v) >= 8}
    assert len(secrets) > 100
    root = tmp_path / "store"
    blobs = [p.read_bytes() for p in root.rglob("*") if p.is_file()]
    assert blobs
    # Parquet may compress text, so also scan the decoded tables.
    texts = [b.decode("utf-8", "ignore") for b in blobs]
    for table in (store.read_cases(), store.read_quarantine()):
        texts.append(table.astype(str).to_csv())
    leaked = [v for v in secrets if any(v in t for t in texts)]
    assert leaked == []


def test_cli_ingests_with_boundaries_from_a_folder(
    export: Path, geography: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    folder = write_boundaries(geography, tmp_path / "boundaries").parent
    runner = CliRunner()
    args = ["ingest", str(export), "--store", str(tmp_path / "s"), "--boundaries", str(folder)]
    result = runner.invoke(app, [*args, "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["reconciles"] is True
    (file,) = payload["files"]
    assert file["rows_read"] == file["inserted"] + file["quarantined"]
    again = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert (again["files"][0]["inserted"], again["files"][0]["updated"]) == (0, 0)


def test_cli_ingests_several_files_and_refreshes_the_read_model_once(
    export: Path, geography: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    later = SynthConfig(cases=600, start="1403-01-01", months=1, seed=12)
    second = tmp_path / "later.csv"
    write_137(generate_137(later, geography, synthetic_geography=True, today=TODAY), second)
    folder = write_boundaries(geography, tmp_path / "boundaries").parent
    url = str(tmp_path / "s")
    args = ["ingest", str(export), str(second), "--store", url, "--boundaries", str(folder)]
    result = CliRunner().invoke(app, [*args, "--json", "--quiet"])
    assert result.exit_code == 0, result.output
    assert [f["inserted"] > 0 for f in json.loads(result.stdout)["files"]] == [True, True]
    with open_store(url) as opened:
        model = opened.read_read_model()
        cases = opened.read_cases(geometry=False)
    assert_read_models_equal(model, compute_read_model(cases))


def test_cli_without_boundaries_says_how_to_get_them(export: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", str(export), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "--boundaries" in result.stderr
    assert "Traceback" not in result.output
