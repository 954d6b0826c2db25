"""A writer subprocess for crash tests: builds one ingest batch, says so, then writes it.

    python -m tests.geo.store.pg_writer_process STORE_URL GENERATION [CASES]

Prints ``ready`` (flushed) once the batch is built, so the parent can time its SIGKILL
within the write itself, and ``done <inserted> <updated> <unchanged>`` after the commit.
Generation ``g`` rewrites the same ``K…`` case ids with new content (updates) and adds
``CASES // 10`` new ids of its own (inserts), so consecutive generations always differ.
"""

from __future__ import annotations

import sys

import pandas as pd

from geo.store import IngestBatch, open_store
from tests.support.cases import random_cases


def batch(generation: int, n: int) -> IngestBatch:
    """Return the deterministic batch of ``generation``."""
    updates = random_cases(n, seed=1_000 + generation, id_prefix="K")
    inserts = random_cases(max(1, n // 10), seed=2_000 + generation, id_prefix=f"G{generation}-")
    cases = pd.concat([updates, inserts], ignore_index=True)
    return IngestBatch(
        source="synthetic",
        input_sha256=f"{generation:064x}",
        started_at=pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(minutes=generation),
        rows_read=len(cases),
        cases=cases,
    )


def main(argv: list[str]) -> None:
    """Build the batch of ``argv``'s generation, print ``ready``, write it, print ``done``."""
    url, generation = argv[0], int(argv[1])
    n = int(argv[2]) if len(argv) > 2 else 20_000
    work = batch(generation, n)
    with open_store(url) as store:
        print("ready", flush=True)
        run = store.write_run(work)
    print(f"done {run.inserted} {run.updated} {run.unchanged}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
