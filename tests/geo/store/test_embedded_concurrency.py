"""Two writer processes on one embedded store at once: no interleaving, no lost update."""

from __future__ import annotations

from pathlib import Path

import pytest
from filelock import FileLock

from geo.errors import StoreError
from geo.store import open_store
from geo.store.embedded_files import LOCK
from tests.support.cases import random_cases

from .harness import concurrent_writers


@pytest.mark.timeout(600)
def test_two_writers_at_once_lose_nothing(tmp_path: Path) -> None:
    log = concurrent_writers(str(tmp_path / "store"), tmp_path / "go", cases=20_000, runs=3)
    assert len(log) == 6


def test_a_second_writer_waits_then_fails_with_a_clear_message(tmp_path: Path) -> None:
    url = tmp_path / "store"
    with open_store(url, lock_timeout_s=0.2) as store:
        holder = FileLock(str(url / LOCK))
        with holder, pytest.raises(StoreError, match="lock") as info:
            store.upsert_cases(random_cases(5, seed=1))
        assert "0.2 s" in str(info.value)
        assert store.upsert_cases(random_cases(5, seed=1)).inserted == 5
        # The writer released the lock when its write ended, while the store stays open.
        other = FileLock(str(url / LOCK))
        with other.acquire(timeout=0):
            assert other.is_locked
