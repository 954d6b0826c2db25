"""SIGKILL a PostGIS writer mid-run, 20 times: the store holds the old or new run, never a mix."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from geo.store.postgis import PostgisStore
from geo.store.postgis.backend import WRITER_LOCK
from tests.geo.store.test_postgis_store import fresh_database

pytestmark = [pytest.mark.postgis, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
KILLS = 20
CASES = 20_000

#: Everything a run writes, summarized: cases (content digest), events, quarantine, runs.
FINGERPRINT = sa.text(
    "SELECT (SELECT count(*) FROM cases),"
    " (SELECT md5(string_agg(concat_ws('|', source, case_id, status, description, unit,"
    "   created_at, closed_at, satisfaction, lon, lat), ',' ORDER BY source, case_id))"
    "   FROM cases),"
    " (SELECT count(*) FROM case_events), (SELECT count(*) FROM quarantine),"
    " (SELECT string_agg(run_hash, ',' ORDER BY seq) FROM ingest_runs)"
)


def _writer(url: str, generation: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.geo.store.pg_writer_process",
            url,
            str(generation),
            str(CASES),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _wait_ready(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", (line, process.stderr.read() if process.stderr else "")


def _finish(url: str, generation: int) -> str:
    process = _writer(url, generation)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out.splitlines()[-1]


def _settled_fingerprint(engine: sa.Engine) -> tuple[object, ...]:
    """Wait until no transaction holds the writer lock (the killed one has ended), then read."""
    deadline = time.monotonic() + 60
    with engine.connect() as connection:
        while not connection.execute(sa.select(sa.func.pg_try_advisory_lock(WRITER_LOCK))).scalar():
            assert time.monotonic() < deadline, "the killed writer's transaction never ended"
            time.sleep(0.05)
        connection.execute(sa.select(sa.func.pg_advisory_unlock(WRITER_LOCK)))
        row = connection.execute(FINGERPRINT).one()
        connection.rollback()
    return tuple(row)


def test_sigkill_mid_run_leaves_old_or_new_content(postgis_url: str) -> None:
    rng = random.Random(137)
    with fresh_database(postgis_url) as url:
        PostgisStore(url).close()  # create the schema once, outside the timed runs
        engine = sa.create_engine(url)
        start = time.perf_counter()
        assert _finish(url, 0).startswith("done")
        write_s = max(0.5, time.perf_counter() - start - 2.0)  # minus interpreter start-up
        outcomes = {"old": 0, "new": 0}
        runs_expected = 1
        for generation in range(1, KILLS + 1):
            old = _settled_fingerprint(engine)
            process = _writer(url, generation)
            _wait_ready(process)
            time.sleep(rng.uniform(0.0, 1.2 * write_s))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            after_kill = _settled_fingerprint(engine)
            with PostgisStore(url) as store:  # the store opens after every kill
                assert store.info().runs in (runs_expected, runs_expected + 1)
            line = _finish(url, generation)  # a re-run completes it
            new = _settled_fingerprint(engine)
            assert new != old
            if after_kill[:4] == old[:4]:  # nothing of the killed run was written
                assert after_kill == old, f"generation {generation}: a run without its cases"
                outcomes["old"] += 1
                runs_expected += 1
            else:  # the killed run committed whole; the re-run found nothing to change
                assert after_kill[:4] == new[:4], f"generation {generation}: a mix after SIGKILL"
                assert line == f"done 0 0 {CASES + CASES // 10}", line
                outcomes["new"] += 1
                runs_expected += 2
            runs = new[4]
            assert isinstance(runs, str)
            assert len(runs.split(",")) == runs_expected
        engine.dispose()
    assert sum(outcomes.values()) == KILLS
    assert outcomes["old"] > 0  # kills did land mid-run
    print(f"SIGKILL outcomes: {outcomes}")
