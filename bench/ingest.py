"""Benchmark: end-to-end ingest of a synthetic 137 CSV (goal: ≥ 100k rows/s, ≤ 3 GB peak).

One ``t137 ingest``-equivalent run (:func:`ingest.pipeline.ingest_file`: read, validate,
pseudonymize, locate with the address fallback, upsert, refresh the read model) of a
generated export into a fresh embedded store, then the same file again (everything
unchanged). Each run happens in its own subprocess, whose peak resident memory
(``ru_maxrss``) is reported. The baseline, in the same run and also in a subprocess, is a bare
``pandas.read_csv`` of the same file: the cost of merely parsing it.

Usage::

    .venv/bin/python bench/ingest.py                  # 1,000,000 rows, 2% dirty
    .venv/bin/python bench/ingest.py --rows 200000
    .venv/bin/python bench/ingest.py --postgis        # also into a throwaway PostGIS

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_ROWS_PER_S = 100_000
GOAL_POSTGIS_ROWS_PER_S = 40_000
GOAL_PEAK_GB = 3.0

_CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
mode, csv_path, store_url, boundaries = sys.argv[1:5]
started = time.perf_counter()
if mode == "baseline":
    import pandas as pd
    rows = len(pd.read_csv(csv_path, dtype=str, on_bad_lines="skip"))
    out = {{"rows": rows}}
else:
    from geo.assign import load_index
    from geo.boundaries import load_boundaries
    from geo.gazetteer import build_gazetteer
    from geo.store import open_store
    from ingest.pipeline import IngestOptions, ingest_file
    index = load_index(boundaries)
    gazetteer = build_gazetteer(load_boundaries(boundaries))
    options = IngestOptions(key="bench-key", placeholders=((51.389, 35.6892),))
    with open_store(store_url) as store:
        report = ingest_file(csv_path, store, index, options, gazetteer=gazetteer)
    out = report.as_dict()
out["seconds"] = time.perf_counter() - started
out["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
print(json.dumps(out))
"""


def _child(mode: str, csv_path: Path, store_url: str, boundaries: Path) -> dict[str, object]:
    code = _CHILD.format(root=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code, mode, str(csv_path), store_url, str(boundaries)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _rate(rows: int, run: dict[str, object]) -> int:
    return round(rows / float(str(run["seconds"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dirty", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=137)
    parser.add_argument("--postgis", action="store_true", help="Also ingest into PostGIS.")
    args = parser.parse_args()

    from geo.boundaries import write_boundaries
    from ingest.synthetic.generator import SynthConfig, generate_137, write_137
    from ingest.synthetic.space import default_boundaries

    boundaries, synthetic = default_boundaries()
    report: dict[str, object] = {
        "rows": args.rows,
        "dirty": args.dirty,
        "geography": "synthetic" if synthetic else "tehran",
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_boundaries(boundaries, Path(tmp) / "boundaries").parent
        config = SynthConfig(cases=args.rows, months=12, dirty=args.dirty, seed=args.seed)
        t0 = time.perf_counter()
        export = generate_137(config, boundaries, synthetic_geography=synthetic)
        csv_path = write_137(export, Path(tmp) / "export.csv")["csv"]
        del export
        report["generate_s"] = round(time.perf_counter() - t0, 1)
        report["csv_mb"] = round(csv_path.stat().st_size / 1e6, 1)

        baseline = _child("baseline", csv_path, "", folder)
        first = _child("ingest", csv_path, str(Path(tmp) / "store"), folder)
        again = _child("ingest", csv_path, str(Path(tmp) / "store"), folder)
        report["baseline_read_csv"] = {
            "seconds": round(float(str(baseline["seconds"])), 2),
            "rows_per_s": _rate(args.rows, baseline),
            "peak_gb": round(float(str(baseline["peak_gb"])), 2),
        }
        for name, run in (("embedded_first", first), ("embedded_again", again)):
            report[name] = {
                "seconds": round(float(str(run["seconds"])), 2),
                "rows_per_s": _rate(args.rows, run),
                "peak_gb": round(float(str(run["peak_gb"])), 2),
                "inserted": run["inserted"],
                "updated": run["updated"],
                "unchanged": run["unchanged"],
                "quarantined": run["quarantined"],
                "reconciles": run["reconciles"],
            }
        report["ratio_first_vs_read_csv"] = round(
            float(str(first["seconds"])) / float(str(baseline["seconds"])), 2
        )
        if args.postgis:
            from tests.support.postgres import throwaway_postgis

            with throwaway_postgis() as url:
                run = _child("ingest", csv_path, url, folder)
            report["postgis_first"] = {
                "seconds": round(float(str(run["seconds"])), 2),
                "rows_per_s": _rate(args.rows, run),
                "peak_gb": round(float(str(run["peak_gb"])), 2),
                "reconciles": run["reconciles"],
            }
    rows_per_s = report["embedded_first"]
    assert isinstance(rows_per_s, dict)
    report["goal_rows_per_s"] = GOAL_ROWS_PER_S
    report["goal_peak_gb"] = GOAL_PEAK_GB
    report["goal_met"] = (
        rows_per_s["rows_per_s"] >= GOAL_ROWS_PER_S and rows_per_s["peak_gb"] <= GOAL_PEAK_GB
    )
    report["bench_peak_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
