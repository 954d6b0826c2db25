"""``t137 demo``: the offline demo behind `make demo`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from geo.boundaries import load_boundaries
from geo.store import open_store
from geo.synthetic_geography import SYNTHETIC_LABEL
from ingest import schema as s
from t137.cli import app
from t137.settings import get_settings


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _run(runner: CliRunner, out: Path, *extra: str) -> dict[str, object]:
    args = ["demo", "--points", "3000", "--out", str(out), "--json", "--no-serve", *extra]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    payload: dict[str, object] = json.loads(result.stdout)
    return payload


def test_synthetic_demo_handles_every_outcome(runner: CliRunner, tmp_path: Path) -> None:
    payload = _run(runner, tmp_path, "--geography", "synthetic", "--cases", "3000")
    assert payload["geography"] == SYNTHETIC_LABEL
    outcomes = payload["outcomes"]
    assert isinstance(outcomes, dict)
    # Every point drawn inside lands inside, every near one is snapped, every far one is
    # refused as outside, every swapped one is repaired.
    assert outcomes["inside"]["point"] > 0
    assert all(n == 0 for k, n in outcomes["inside"].items() if k != "point")
    assert outcomes["near_outside"].get("snapped", 0) > 0
    assert outcomes["far_outside"].get("outside", 0) > 0
    assert outcomes["swapped"].get("swapped", 0) > 0
    assert sum(outcomes["invalid"].get(r, 0) for r in ("missing", "zero", "out_of_range")) > 0
    for drawn, got in (("near_outside", "snapped"), ("far_outside", "outside")):
        assert sum(outcomes[drawn].values()) == outcomes[drawn][got]
    written = load_boundaries(tmp_path / "boundaries")
    assert written[s.NAME_EN].str.startswith("SYNTHETIC").all()
    points = pd.read_parquet(tmp_path / "generated" / "demo_points.parquet")
    assert len(points) == 3000
    assigned = payload["assignment"]
    assert isinstance(assigned, dict)
    parts = ("assigned", "snapped", "swapped", "outside", "invalid")
    assert sum(assigned[k] for k in parts) == 3000
    ingest = payload["ingest"]
    assert isinstance(ingest, dict)
    assert ingest["rows_read"] == 3000
    assert ingest["reconciles"] is True
    assert ingest["quarantined"] > 0  # the export is 2% malformed on purpose
    with open_store(tmp_path / "store") as store:
        assert len(store.read_cases()) == ingest["inserted"]
        assert len(store.read_boundaries()) == len(written)


def test_real_geography_is_refused_without_the_files(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T137_SHARED_DATA", str(tmp_path / "nowhere"))
    get_settings.cache_clear()
    try:
        args = ["demo", "--geography", "real", "--no-serve", "--out", str(tmp_path)]
        result = runner.invoke(app, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "T137_SHARED_DATA" in result.stderr
    assert "Traceback" not in result.output


def test_real_tehran_demo(
    runner: CliRunner, tehran_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T137_SHARED_DATA", str(tehran_dir.parent))
    get_settings.cache_clear()
    try:
        payload = _run(runner, tmp_path, "--geography", "real", "--cases", "0")
    finally:
        get_settings.cache_clear()
    assert str(payload["geography"]).startswith("Real Tehran")
    check = payload["boundary_check"]
    assert isinstance(check, dict)
    assert check["feature_counts"] == {"region": 22, "neighborhood": 375}


def test_the_demo_serves_only_on_loopback(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--host", "0.0.0.0", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "loopback" in result.stderr
