"""Benchmark: end-to-end ingest of a synthetic 137 CSV (goal: ≥ 100k rows/s, ≤ 3 GB peak).

One ``t137 ingest``-equivalent run (:func:`ingest.pipeline.ingest_file`: read, validate,
pseudonymize, locate with the address fallback, upsert, refresh the read model) of a
generated export into a fresh embedded store, then the same file again (everything
unchanged), then an increment: a small export of new cases (the next Jalali month, as a
daily or monthly delivery would bring), which the incremental read-model refresh adds in
without recomputing the million stored cases. Each run happens in its own subprocess,
whose peak resident memory (``ru_maxrss``), wall time and CPU time (user + system) are
reported, with the wall time of each stage. The baselines, in the same run and also in
subprocesses, are a bare ``pyarrow.csv.read_csv`` and a bare ``pandas.read_csv`` of the
same file: the cost of merely parsing it. With ``--postgis`` the same runs go into a
throwaway PostGIS server (:func:`tests.support.postgres.throwaway_postgis`; goal ≥ 40k
rows/s).

The machine may be shared: the load average before and after is part of the output, and the
ratios to the baselines (measured under the same load) are steadier than absolute rates.

Usage::

    .venv/bin/python bench/ingest.py                  # 1,000,000 rows, 2% dirty
    .venv/bin/python bench/ingest.py --rows 200000
    .venv/bin/python bench/ingest.py --postgis        # also into a throwaway PostGIS
    .venv/bin/python bench/ingest.py --postgis --skip-embedded --csv FILE.csv

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
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
stages = []
if mode == "baseline":
    import pandas as pd
    rows = len(pd.read_csv(csv_path, dtype=str, on_bad_lines="skip"))
    out = {{"rows": rows}}
elif mode == "baseline_arrow":
    import pyarrow.csv as pacsv
    table = pacsv.read_csv(
        csv_path,
        parse_options=pacsv.ParseOptions(
            newlines_in_values=True, invalid_row_handler=lambda row: "skip"
        ),
        convert_options=pacsv.ConvertOptions(strings_can_be_null=False),
    )
    out = {{"rows": table.num_rows}}
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
        run_started = time.perf_counter()  # after loading the boundaries and gazetteer
        report = ingest_file(
            csv_path, store, index, options, gazetteer=gazetteer,
            on_stage=lambda name: stages.append((name, time.perf_counter())),
        )
    out = report.as_dict()
end = time.perf_counter()
marks = [*stages, ("end", end)]
out["stages_s"] = {{a[0]: round(b[1] - a[1], 2) for a, b in zip(marks, marks[1:])}}
if stages:
    out["run_s"] = end - run_started
out["seconds"] = end - started
usage = resource.getrusage(resource.RUSAGE_SELF)
out["cpu_s"] = usage.ru_utime + usage.ru_stime
out["peak_gb"] = usage.ru_maxrss / 1024**2
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


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _figures(rows: int, run: dict[str, object], baseline: dict[str, object]) -> dict[str, object]:
    """The figures of one ingest run, with its ratio to the pyarrow read of the same file."""
    seconds = float(str(run["seconds"]))
    out: dict[str, object] = {
        "seconds": round(seconds, 2),
        "rows_per_s": _rate(rows, run),
        "cpu_s": round(float(str(run["cpu_s"])), 2),
        "peak_gb": round(float(str(run["peak_gb"])), 2),
        "x_pyarrow_read": round(seconds / float(str(baseline["seconds"])), 2),
        "stages_s": run.get("stages_s"),
    }
    if "run_s" in run:
        out["run_s"] = round(float(str(run["run_s"])), 2)
        out["run_rows_per_s"] = round(rows / float(str(run["run_s"])))
    for key in ("inserted", "updated", "unchanged", "quarantined", "reconciles"):
        out[key] = run[key]
    return out


def _increment(run: dict[str, object]) -> dict[str, object]:
    """The figures of an increment run into the store that holds the main export."""
    out: dict[str, object] = {
        "seconds": round(float(str(run["seconds"])), 2),
        "stages_s": run.get("stages_s"),
    }
    for key in ("rows_read", "inserted", "updated", "unchanged", "quarantined", "reconciles"):
        out[key] = run.get(key)
    return out


def _baseline(rows: int, run: dict[str, object]) -> dict[str, object]:
    return {
        "seconds": round(float(str(run["seconds"])), 2),
        "rows_per_s": _rate(rows, run),
        "cpu_s": round(float(str(run["cpu_s"])), 2),
        "peak_gb": round(float(str(run["peak_gb"])), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dirty", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=137)
    parser.add_argument("--postgis", action="store_true", help="Also ingest into PostGIS.")
    parser.add_argument(
        "--increment", type=int, default=6000, help="Rows of the increment export (0: none)."
    )
    parser.add_argument(
        "--skip-embedded", action="store_true", help="Only the baselines and PostGIS."
    )
    parser.add_argument(
        "--csv", type=Path, default=None, help="Ingest this export instead of generating one."
    )
    args = parser.parse_args()

    from geo.boundaries import write_boundaries
    from ingest.synthetic.generator import SynthConfig, generate_137, write_137
    from ingest.synthetic.space import default_boundaries

    boundaries, synthetic = default_boundaries()
    report: dict[str, object] = {
        "rows": args.rows,
        "dirty": args.dirty,
        "geography": "synthetic" if synthetic else "tehran",
        "cpus": os.cpu_count(),
        "load_avg_start": _load(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_boundaries(boundaries, Path(tmp) / "boundaries").parent
        if args.csv is not None:
            csv_path = args.csv
            with csv_path.open("rb") as handle:
                report["rows"] = (
                    sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 24), b"")) - 1
                )
            report["dirty"] = None
        else:
            config = SynthConfig(cases=args.rows, months=12, dirty=args.dirty, seed=args.seed)
            t0 = time.perf_counter()
            export = generate_137(config, boundaries, synthetic_geography=synthetic)
            csv_path = write_137(export, Path(tmp) / "export.csv")["csv"]
            del export
            report["generate_s"] = round(time.perf_counter() - t0, 1)
        rows = int(str(report["rows"]))
        report["csv_mb"] = round(csv_path.stat().st_size / 1e6, 1)
        increment_path = None
        if args.increment:
            # the next Jalali year's ids: all new, none clashing with the main export's
            later = SynthConfig(cases=args.increment, start="1402-01-01", months=1, seed=args.seed)
            increment = generate_137(later, boundaries, synthetic_geography=synthetic)
            increment_path = write_137(increment, Path(tmp) / "increment.csv")["csv"]

        arrow = _child("baseline_arrow", csv_path, "", folder)
        pandas_read = _child("baseline", csv_path, "", folder)
        report["baseline_pyarrow_read_csv"] = _baseline(rows, arrow)
        report["baseline_pandas_read_csv"] = _baseline(rows, pandas_read)

        def runs(backend: str, url: str) -> None:
            """The file, the same file again, then the increment, into the store at ``url``."""
            for run in ("first", "again"):
                child = _child("ingest", csv_path, url, folder)
                report[f"{backend}_{run}"] = _figures(rows, child, arrow)
            if increment_path is not None:
                child = _child("ingest", increment_path, url, folder)
                report[f"{backend}_increment"] = _increment(child)
            report[f"load_avg_after_{backend}"] = _load()

        if not args.skip_embedded:
            runs("embedded", str(Path(tmp) / "store"))
        if args.postgis:
            from tests.support.postgres import throwaway_postgis

            with throwaway_postgis() as url:
                runs("postgis", url)
    report["goal_rows_per_s"] = GOAL_ROWS_PER_S
    report["goal_postgis_rows_per_s"] = GOAL_POSTGIS_ROWS_PER_S
    report["goal_peak_gb"] = GOAL_PEAK_GB
    first = report.get("embedded_first")
    if isinstance(first, dict):
        report["goal_met"] = (
            first["rows_per_s"] >= GOAL_ROWS_PER_S and first["peak_gb"] <= GOAL_PEAK_GB
        )
    postgis = report.get("postgis_first")
    if isinstance(postgis, dict):
        report["postgis_goal_met"] = postgis["rows_per_s"] >= GOAL_POSTGIS_ROWS_PER_S
    report["bench_peak_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2, 2)
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
