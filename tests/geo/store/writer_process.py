"""A store writer run as a subprocess by the crash and concurrency tests (any backend).

Usage::

    python tests/geo/store/writer_process.py STORE_URL --cases N --seed S --prefix P \
        [--runs K] [--go FILE] [--lock-timeout SECONDS]

It builds ``N`` synthetic cases (:func:`tests.support.cases.random_cases` with ``seed`` and
id prefix ``P``), prints ``ready`` once they are built, waits for ``FILE`` to exist when
``--go`` is given (so that several writers start together), then writes them ``K`` times
with :meth:`CaseStore.write_run`, printing ``run <seq>`` after each commit and ``done`` at the
end. Every case's ``reopen_count`` is ``100 + run``, so that each run updates every case.
Exit status 0 on success, 3 on a store error (its message on stderr).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import pandas as pd  # noqa: E402

from geo.errors import StoreError  # noqa: E402
from geo.store import IngestBatch, open_store  # noqa: E402
from ingest import schema as s  # noqa: E402
from tests.support.cases import random_cases  # noqa: E402


def batch(cases: int, seed: int, prefix: str, run: int = 0) -> IngestBatch:
    """Return the deterministic batch a writer with these arguments writes in run ``run``."""
    frame = random_cases(cases, seed=seed, id_prefix=prefix)
    frame[s.REOPEN_COUNT] = pd.array([100 + run] * len(frame), dtype="Int16")
    events = pd.DataFrame(
        {
            s.SOURCE: frame[s.SOURCE].to_numpy()[:100],
            s.CASE_ID: frame[s.CASE_ID].to_numpy()[:100],
            s.EVENT_AT: frame[s.CREATED_AT].to_numpy()[:100],
            s.EVENT: "registered",
        }
    )
    return IngestBatch(
        source="synthetic",
        input_sha256=f"{seed:064x}",
        started_at=pd.Timestamp.now(tz="UTC"),
        rows_read=len(frame),
        cases=frame,
        events=events,
        run_id=f"{prefix}-{seed}-{run}-{time.time_ns()}",
    )


def main(argv: list[str] | None = None) -> int:
    """Run the writer; see the module docstring."""
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--cases", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--prefix", default="C")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--go")
    parser.add_argument("--lock-timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    batches = [batch(args.cases, args.seed, args.prefix, run) for run in range(args.runs)]
    print("ready", flush=True)
    if args.go:
        while not Path(args.go).exists():
            time.sleep(0.01)
    try:
        with open_store(args.url, lock_timeout_s=args.lock_timeout) as store:
            for one in batches:
                run = store.write_run(one)
                print(f"run {run.seq}", flush=True)
    except StoreError as exc:
        print(str(exc), file=sys.stderr, flush=True)
        return 3
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
