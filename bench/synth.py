"""Benchmark: generating a synthetic 137 export of 1M cases (goal: at most 30 s).

Times :func:`ingest.synthetic.generator.generate_137` (drawing every column, vectorized) and
:func:`~ingest.synthetic.generator.write_137` (the CSV in chunks with Arrow, plus the
ground-truth Parquet files) on the real Tehran neighborhoods when available. The baseline,
measured in the same run, is pandas ``DataFrame.to_csv`` of the same cells, so the ratio
shows what the Arrow writer saves.

Usage::

    .venv/bin/python bench/synth.py                 # 1,000,000 cases, 12 months, 2% dirty
    .venv/bin/python bench/synth.py --cases 200000

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.synthetic.generator import SynthConfig, generate_137, write_137
from ingest.synthetic.space import default_boundaries

GOAL_S = 30.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--dirty", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=137)
    parser.add_argument("--no-baseline", action="store_true", help="Skip pandas to_csv.")
    args = parser.parse_args()

    started = time.perf_counter()
    boundaries, synthetic = default_boundaries()
    config = SynthConfig(cases=args.cases, months=args.months, dirty=args.dirty, seed=args.seed)
    export = generate_137(config, boundaries, synthetic_geography=synthetic)
    generated = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_137(export, Path(tmp) / "synthetic137.csv")
        written = time.perf_counter()
        size_mb = paths["csv"].stat().st_size / 1e6
        baseline_s = None
        if not args.no_baseline:
            frame = export.to_frame()
            t0 = time.perf_counter()
            frame.to_csv(Path(tmp) / "baseline.csv", index=False)
            baseline_s = time.perf_counter() - t0
    total = written - started
    write_s = written - generated
    report = {
        "cases": args.cases,
        "months": args.months,
        "dirty": args.dirty,
        "geography": "synthetic" if synthetic else "tehran",
        "generate_s": round(generated - started, 2),
        "write_s": round(write_s, 2),
        "total_s": round(total, 2),
        "cases_per_second": round(args.cases / total),
        "csv_mb": round(size_mb, 1),
        "baseline_pandas_to_csv_s": None if baseline_s is None else round(baseline_s, 2),
        "write_ratio_vs_pandas": None if baseline_s is None else round(baseline_s / write_s, 2),
        "goal_s": GOAL_S,
        "goal_met": total <= GOAL_S * args.cases / 1_000_000,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
