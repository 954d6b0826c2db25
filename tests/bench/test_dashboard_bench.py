"""Smoke test of ``bench/dashboard.py``: the small configuration runs and reports every figure."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "dashboard.py"
TARGETS = ("map", "rankings", "trends")


def _bench_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_dashboard", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _positive(figures: dict[str, Any]) -> bool:
    n, p50, p95, top = (figures[k] for k in ("n", "p50_s", "p95_s", "max_s"))
    return bool(n > 0 and 0 < p50 <= p95 <= top)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_small_dashboard_bench_reports_every_figure(tmp_path: Path) -> None:
    command = [
        sys.executable,
        str(BENCH),
        "--cases",
        "20000",
        "--duration",
        "5",
        "--cache-dir",
        str(tmp_path),
        "--json",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=540, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])

    assert report["store"]["cases"] == 20000
    assert (tmp_path / "store20k" / "bench-dashboard.json").is_file()
    assert report["scenarios"] >= 10
    for phase in ("warm", "cold"):
        for name in TARGETS:
            assert _positive(report[phase][name]), (phase, name, report[phase][name])
            assert report[phase][name]["n"] == report["scenarios"] * (5 if phase == "warm" else 1)
    assert _positive(report["baselines"]["ping"])
    assert _positive(report["baselines"]["trivial_callback"])
    assert report["payload"]["neighborhood_map_bytes"] > 10_000
    assert (
        report["payload"]["neighborhood_map_gzip_bytes"]
        < report["payload"]["neighborhood_map_bytes"]
    )
    load = report["load"]
    assert load["users"] == 20
    # Load errors are a finding of the benchmark (the app's), not a failure of it: they must
    # be counted and shown. (The measured phases raise on any failed request instead.)
    assert len(load["error_samples"]) == min(load["errors"], 5)
    assert report["goals"]["load_errors"] is (load["errors"] == 0)
    assert report["prime"]["seconds"] > 0
    assert isinstance(report["prime"]["errors"], list)
    assert load["requests"] > 20
    assert _positive(load["all"])
    assert _positive(load["filter_change"])
    assert set(report["goals"]) == {"warm_p95", "cold_p95", "payload", "load_errors", "load_p95"}

    table = _bench_module().markdown(report)
    for label in ("map callback, warm", "rankings callback, cold", "trends callback, warm"):
        assert label in table
    assert "neighborhood choropleth response" in table
