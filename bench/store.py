"""Benchmark: case-store write and read throughput, filtered reads, read-model refresh.

For each backend (the embedded GeoParquet store, and PostGIS when ``geo.store.postgis``
imports and a throwaway server can be started with ``tests/support/postgres.py``):

- write: ``upsert_cases`` of N synthetic cases into an empty store (cases/s);
- rewrite: the same batch again (all unchanged: the idempotency check's cost);
- full read: ``read_cases()`` of everything (cases/s);
- filtered read: one month (Asia/Tehran) and one region, best of ``--repeat``, and the
  ratio full read / filtered read;
- refresh: ``refresh_read_model()`` (seconds, rows).

Goals (issue 3): embedded write >= 200k cases/s; filtered read >= 20x faster than a full
read; PostGIS bulk load >= 100k cases/s.

Usage::

    .venv/bin/python bench/store.py                      # 1M cases, both backends
    .venv/bin/python bench/store.py --cases 5000000
    .venv/bin/python bench/store.py --cases 200000 --backends embedded   # a quick look

Prints one JSON object per backend, then a Markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.store import CaseFilter, open_store
from ingest import schema as s
from tests.support.cases import random_cases

FILTER = CaseFilter(
    start=pd.Timestamp("2023-03-01", tz="Asia/Tehran"),
    end=pd.Timestamp("2023-04-01", tz="Asia/Tehran"),
    regions=["1"],
)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


@contextlib.contextmanager
def embedded_url() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="t137-bench-store-"))
    try:
        yield str(root / "store")
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def postgis_url() -> Iterator[str]:
    from tests.support.postgres import throwaway_postgis

    with throwaway_postgis(dbname="t137bench") as url:
        yield url


def postgis_available() -> str | None:
    try:
        importlib.import_module("geo.store.postgis")
    except ImportError as exc:
        return f"geo.store.postgis does not import ({exc})"
    from tests.support.postgres import missing_requirements

    return missing_requirements()


def run_backend(name: str, url: str, cases: pd.DataFrame, repeat: int) -> dict[str, Any]:
    n = len(cases)
    with open_store(url, lock_timeout_s=600) as store:
        write_s, counts = timed(lambda: store.upsert_cases(cases))
        assert counts.inserted == n, counts
        rewrite_s, again = timed(lambda: store.upsert_cases(cases))
        assert again.unchanged == n, again
        full_s, full = timed(store.read_cases)
        assert len(full) == n
        del full
        filtered = []
        rows = 0
        for _ in range(repeat):
            seconds, part = timed(lambda: store.read_cases(FILTER))
            filtered.append(seconds)
            rows = len(part)
        refresh_s, model_rows = timed(store.refresh_read_model)
        read_model_s, model = timed(lambda: store.read_read_model(level=s.LEVEL_REGION))
    best = min(filtered)
    return {
        "backend": name,
        "cases": n,
        "write_s": round(write_s, 2),
        "write_cases_per_s": round(n / write_s),
        "rewrite_unchanged_s": round(rewrite_s, 2),
        "full_read_s": round(full_s, 2),
        "full_read_cases_per_s": round(n / full_s),
        "filtered_read_s": round(best, 3),
        "filtered_rows": rows,
        "full_over_filtered": round(full_s / best, 1),
        "refresh_read_model_s": round(refresh_s, 2),
        "read_model_rows": model_rows,
        "read_read_model_region_s": round(read_model_s, 2),
        "read_model_region_rows": len(model),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | cases | write (cases/s) | rewrite, all unchanged (s) | full read (s) "
        "| 1 month x 1 region read (s, rows) | full / filtered | read-model refresh (s, rows) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['cases']:,} | {r['write_s']} s ({r['write_cases_per_s']:,}/s) "
            f"| {r['rewrite_unchanged_s']} | {r['full_read_s']} "
            f"({r['full_read_cases_per_s']:,}/s) | {r['filtered_read_s']} ({r['filtered_rows']:,}) "
            f"| {r['full_over_filtered']}x | {r['refresh_read_model_s']} "
            f"({r['read_model_rows']:,}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--backends", default="embedded,postgis")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate_s, cases = timed(lambda: random_cases(args.cases, seed=args.seed, months=12))
    print(
        f"# {args.cases:,} synthetic cases generated in {generate_s:.1f} s; "
        f"{platform.machine()}, {platform.python_version()}",
        file=sys.stderr,
    )
    results = []
    for name in args.backends.split(","):
        if name == "embedded":
            opener = embedded_url
        elif name == "postgis":
            reason = postgis_available()
            if reason is not None:
                print(f"# postgis skipped: {reason}", file=sys.stderr)
                continue
            opener = postgis_url
        else:
            parser.error(f"unknown backend {name!r}")
        with opener() as url:
            result = run_backend(name, url, cases, args.repeat)
        print(json.dumps(result))
        results.append(result)
    print(markdown(results))


if __name__ == "__main__":
    main()
