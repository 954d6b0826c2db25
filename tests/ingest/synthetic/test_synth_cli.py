"""``t137 synth``: the command writes the export and its truth; errors are one sentence."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from geo.boundaries import write_boundaries
from geo.synthetic_geography import synthetic_boundaries
from ingest.synthetic.generator import SynthConfig, generate_137, write_137
from t137.commands.synth import synth


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    app.command("synth")(synth)
    app.command("noop")(lambda: None)  # two commands, so "synth" is a sub-command
    return app


@pytest.fixture(scope="module")
def small_geo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("geo")
    write_boundaries(synthetic_boundaries(n_regions=3, n_neighborhoods=15, seed=4), folder)
    return folder


def test_synth_writes_csv_and_truth(app: typer.Typer, small_geo: Path, tmp_path: Path) -> None:
    out = tmp_path / "cases.csv"
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "--cases",
            "400",
            "--months",
            "2",
            "--seed",
            "9",
            "--dirty",
            "0.05",
            "--out",
            str(out),
            "--boundaries",
            str(small_geo),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["cases"] == 400
    assert summary["quarantine_expected"] >= 18
    truth = pd.read_parquet(summary["truth"])
    assert len(truth) == 400
    assert out.read_text(encoding="utf-8").count("\n") == 401


def test_synth_says_what_is_wrong(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["synth", "--cases", "10", "--out", str(tmp_path / "x.csv"), "--boundaries", str(tmp_path)],
    )
    assert result.exit_code == 2
    assert "No boundary layer" in result.output


@pytest.mark.slow
def test_one_million_cases_in_30_seconds(tmp_path: Path) -> None:
    geo = synthetic_boundaries()
    started = time.perf_counter()
    export = generate_137(SynthConfig(cases=1_000_000, months=12, dirty=0.02), geo)
    write_137(export, tmp_path / "big.csv")
    assert time.perf_counter() - started <= 30.0
