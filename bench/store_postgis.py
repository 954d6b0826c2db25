"""PostGIS store throughput: bulk load, unchanged re-load, reads, read-model refresh.

Starts a throwaway PostgreSQL 15 + PostGIS server (tests/support/postgres.py), loads N
synthetic cases through ``PostgisStore.write_run`` and prints figures, with the plain-COPY
baseline (the same rows, already validated, COPYed with the same binary encoder into a
table without key, indexes or geometry) measured in the same run; ``write_vs_plain_copy``
is the load's rate as a fraction of the baseline's. ``plain_copy_arrow`` is the same COPY
with the store's first, column-by-column Arrow encoder (the baseline of the first
figures). The machine is shared: run it 2–3 times and compare the ratios.

    .venv/bin/python -m bench.store_postgis --cases 1000000

``bench/store.py`` can import :func:`bench_postgis` (returns the figures as a dict).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import sqlalchemy as sa

from geo.store import CaseFilter, IngestBatch
from geo.store.frames import case_columns
from geo.store.postgis import PostgisStore
from geo.store.postgis.copy_load import CHUNK_ROWS, copy_into, to_arrow
from geo.store.postgis.upsert import WRITTEN, copy_frame, psycopg_connection
from tests.support.cases import random_cases
from tests.support.postgres import throwaway_postgis

T = TypeVar("T")


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def plain_copy_baseline(store: PostgisStore, frame: pd.DataFrame, *, arrow: bool = False) -> float:
    """Seconds to COPY ``frame`` into an unindexed table of the case columns (then dropped).

    With ``arrow`` the rows are encoded column by column through Arrow
    (:func:`geo.store.postgis.copy_load.copy_into`, the store's first encoder), else by
    the store's :class:`~geo.store.postgis.row_encoder.FrameEncoder`.
    """
    cases = sa.Table("cases", sa.MetaData(), autoload_with=store.engine)
    scratch = sa.Table(
        "bench_plain_copy", sa.MetaData(), *(sa.Column(n, cases.c[n].type) for n in WRITTEN)
    )
    canonical = case_columns(frame)

    def load(connection: sa.Connection) -> int:
        if not arrow:
            return copy_frame(connection, scratch, canonical, WRITTEN)
        with psycopg_connection(connection).cursor() as cursor:
            sent = 0
            for start in range(0, len(canonical), CHUNK_ROWS):
                chunk = to_arrow(canonical.iloc[start : start + CHUNK_ROWS], WRITTEN)
                sent += copy_into(cursor, scratch, chunk)
            return sent

    with store.engine.begin() as connection:
        scratch.create(connection)
        _, seconds = _timed(lambda: load(connection))
        scratch.drop(connection)
    return seconds


def bench_postgis(n: int, *, url: str | None = None, seed: int = 1) -> dict[str, Any]:
    """Load ``n`` synthetic cases into a PostGIS store and return the timings.

    Parameters
    ----------
    n : int
        Number of cases.
    url : str, optional
        An existing (empty) database; a throwaway server is started when None.
    seed : int, default 1
        Seed of the synthetic cases.
    """
    if url is None:
        with throwaway_postgis() as throwaway:
            return bench_postgis(n, url=throwaway, seed=seed)
    cases, gen_s = _timed(lambda: random_cases(n, seed=seed))
    figures: dict[str, Any] = {"cases": n, "generate_s": round(gen_s, 2)}
    with PostgisStore(url) as store:
        figures["plain_copy_s"] = plain_copy_baseline(store, cases)
        figures["plain_copy_arrow_s"] = plain_copy_baseline(store, cases, arrow=True)

        def batch() -> IngestBatch:
            return IngestBatch(
                source="synthetic",
                input_sha256="0" * 64,
                started_at=pd.Timestamp.now(tz="UTC"),
                rows_read=n,
                cases=cases,
            )

        run, figures["write_s"] = _timed(lambda: store.write_run(batch()))
        assert run.inserted == n, run
        again, figures["rewrite_unchanged_s"] = _timed(lambda: store.write_run(batch()))
        assert again.unchanged == n, again
        with store.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE cases"))
        full, figures["read_full_s"] = _timed(store.read_cases)
        assert len(full) == n
        month = CaseFilter(
            start=pd.Timestamp("2023-06-01", tz="Asia/Tehran"),
            end=pd.Timestamp("2023-07-01", tz="Asia/Tehran"),
            regions=["6"],
        )
        part, figures["read_month_region_s"] = _timed(lambda: store.read_cases(month))
        figures["read_month_region_rows"] = len(part)
        rows, figures["refresh_read_model_s"] = _timed(store.refresh_read_model)
        figures["read_model_rows"] = rows
    for key in ("write", "rewrite_unchanged", "read_full", "plain_copy", "plain_copy_arrow"):
        figures[f"{key}_per_s"] = round(n / figures[f"{key}_s"])
    figures["filtered_speedup"] = round(figures["read_full_s"] / figures["read_month_region_s"], 1)
    # the load against the same rows COPYed with the same encoder into a bare table
    figures["write_vs_plain_copy"] = round(figures["plain_copy_s"] / figures["write_s"], 2)
    figures["write_vs_plain_copy_arrow"] = round(
        figures["plain_copy_arrow_s"] / figures["write_s"], 2
    )
    for key, value in list(figures.items()):
        if key.endswith("_s"):
            figures[key] = round(value, 2)
    return figures


def main() -> None:
    """Run the benchmark from the command line and print one JSON line per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[1_000_000])
    args = parser.parse_args()
    for n in args.cases:
        print(json.dumps(bench_postgis(n)), flush=True)


if __name__ == "__main__":
    main()
