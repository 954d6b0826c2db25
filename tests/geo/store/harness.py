"""Crash and concurrency harness for any store backend (used by the embedded and PostGIS tests).

A backend's test supplies a function that returns the URL of a new, empty store; the
harness writes a "previous" state, runs :mod:`writer_process` in a subprocess, kills it
with SIGKILL at a random moment, and checks that the store then holds exactly the previous
or the new state and that a re-run completes it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.store import CaseStore, open_store
from geo.store.chain import verify_chain
from geo.store.frames import canonical_cases
from ingest import schema as s

from .writer_process import batch

WRITER = Path(__file__).with_name("writer_process.py")
REPO = Path(__file__).resolve().parents[3]


def spawn_writer(
    url: str,
    *,
    cases: int,
    seed: int,
    prefix: str = "C",
    runs: int = 1,
    go: Path | None = None,
    lock_timeout_s: float = 120.0,
) -> subprocess.Popen[str]:
    """Start :mod:`writer_process` on ``url``; read its stdout lines with :func:`expect`."""
    args = [sys.executable, str(WRITER), url, "--cases", str(cases), "--seed", str(seed)]
    args += ["--prefix", prefix, "--runs", str(runs), "--lock-timeout", str(lock_timeout_s)]
    if go is not None:
        args += ["--go", str(go)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env
    )


def expect(process: subprocess.Popen[str], line: str, *, timeout_s: float = 120.0) -> None:
    """Read the writer's stdout until ``line``; fail with its stderr when it exits first."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = process.stdout.readline()
        if got.strip() == line:
            return
        if not got and process.poll() is not None:
            err = process.stderr.read() if process.stderr else ""
            msg = f"writer exited with {process.returncode} before {line!r}: {err[-2000:]}"
            raise AssertionError(msg)
    process.kill()
    msg = f"writer did not print {line!r} within {timeout_s} s"
    raise AssertionError(msg)


def finish(process: subprocess.Popen[str], *, timeout_s: float = 300.0) -> str:
    """Wait for the writer to exit 0 and return its stdout."""
    out, err = process.communicate(timeout=timeout_s)
    assert process.returncode == 0, f"writer failed ({process.returncode}): {err[-2000:]}"
    return out


def fingerprint_cases(cases: pd.DataFrame) -> str:
    """SHA-256 of canonical cases sorted by key (categories as text, geometry left out)."""
    frame = canonical_cases(cases).drop(columns=s.GEOMETRY)
    frame = frame.sort_values(list(s.CASE_KEY), kind="stable").reset_index(drop=True)
    for name in s.CATEGORICAL_COLUMNS:
        frame[name] = frame[name].astype(object)
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


@dataclass(frozen=True)
class State:
    """What a store holds, as far as the crash test compares it."""

    cases: str
    case_count: int
    events: int


def state_of(store: CaseStore) -> State:
    """Read the state of ``store`` (and check that its run log is an unbroken chain)."""
    verify_chain(store.read_runs())
    cases = store.read_cases()
    return State(fingerprint_cases(cases), len(cases), len(store.read_events()))


def expected_state(*batches: pd.DataFrame, events: int) -> State:
    """The state after upserting ``batches`` in order (later rows replace earlier ones)."""
    merged = pd.concat([canonical_cases(b) for b in batches], ignore_index=True)
    merged = merged.drop_duplicates(list(s.CASE_KEY), keep="last")
    return State(fingerprint_cases(merged), len(merged), events)


def crash_and_recover(
    new_store_url: Callable[[], str],
    *,
    kills: int = 20,
    previous_cases: int = 40_000,
    new_cases: int = 60_000,
    seed: int = 0,
) -> list[str]:
    """Kill a writer ``kills`` times at random moments; check old-or-new and the re-run.

    Parameters
    ----------
    new_store_url : callable
        Returns the URL of a new, empty store (called once per kill).
    kills : int
        Number of SIGKILLs.
    previous_cases, new_cases : int
        Sizes of the batch written first (in process) and of the batch the killed writer
        writes (the first ``previous_cases`` ids are updates, the rest inserts).
    seed : int
        Seed of the kill moments.

    Returns
    -------
    list of str
        For each kill, ``"previous"`` or ``"new"``: which state the store held.
    """
    rng = np.random.default_rng(seed)
    old_batch = batch(previous_cases, 1, "C")
    new_batch = batch(new_cases, 2, "C")
    previous = expected_state(old_batch.cases, events=100)
    events_after = len(
        pd.concat([old_batch.events, new_batch.events]).drop_duplicates(
            [s.SOURCE, s.CASE_ID, s.EVENT_AT, s.EVENT]
        )
    )
    new = expected_state(old_batch.cases, new_batch.cases, events=events_after)

    # Calibrate: how long does an uninterrupted write take after "ready"?
    url = new_store_url()
    with open_store(url) as store:
        store.write_run(old_batch)
    writer = spawn_writer(url, cases=new_cases, seed=2)
    expect(writer, "ready")
    started = time.monotonic()
    finish(writer)
    duration = time.monotonic() - started
    with open_store(url) as store:
        assert state_of(store) == new

    seen: list[str] = []
    for _ in range(kills):
        url = new_store_url()
        with open_store(url) as store:
            store.write_run(old_batch)
        writer = spawn_writer(url, cases=new_cases, seed=2)
        expect(writer, "ready")
        time.sleep(float(rng.uniform(0.0, 1.5 * duration)))
        writer.send_signal(signal.SIGKILL)
        writer.communicate(timeout=60)
        with open_store(url) as store:
            found = state_of(store)
        assert found in (previous, new), f"store holds a mix after a kill: {found}"
        seen.append("new" if found == new else "previous")
        rerun = spawn_writer(url, cases=new_cases, seed=2)
        finish(rerun)
        with open_store(url) as store:
            assert state_of(store) == new
    return seen


def concurrent_writers(url: str, go: Path, *, cases: int = 20_000, runs: int = 3) -> pd.DataFrame:
    """Start two writers on ``url`` at the same instant; check nothing was lost or mixed.

    Returns the run log for further checks.
    """
    writers = [
        spawn_writer(url, cases=cases, seed=seed, prefix=prefix, runs=runs, go=go)
        for seed, prefix in ((11, "X"), (12, "Y"))
    ]
    for writer in writers:
        expect(writer, "ready")
    go.touch()
    # Meanwhile a reader only ever sees whole runs: 0, 1 or 2 batches of cases, and reopen
    # counts of one run per batch (a half-applied run would mix two values).
    reads = 0
    with open_store(url) as store:
        while any(writer.poll() is None for writer in writers):
            seen = store.read_cases(columns=[s.REOPEN_COUNT])
            assert len(seen) in (0, cases, 2 * cases), len(seen)
            per_batch = seen.groupby(seen[s.CASE_ID].str[0])[s.REOPEN_COUNT].nunique()
            assert (per_batch == 1).all(), per_batch
            reads += 1
    for writer in writers:
        finish(writer)
    assert reads > 0
    expected = expected_state(
        batch(cases, 11, "X", runs - 1).cases, batch(cases, 12, "Y", runs - 1).cases, events=200
    )
    with open_store(url) as store:
        assert state_of(store) == expected
        log = store.read_runs()
    assert list(log[s.RUN_SEQ]) == list(range(1, 2 * runs + 1))
    for _, mine in log.groupby(s.RUN_INPUT_SHA256):
        counts = list(
            zip(mine[s.RUN_INSERTED], mine[s.RUN_UPDATED], mine[s.RUN_UNCHANGED], strict=True)
        )
        assert counts == [(cases, 0, 0)] + [(0, cases, 0)] * (runs - 1)
    return log
