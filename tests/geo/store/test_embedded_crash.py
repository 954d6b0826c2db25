"""Crash safety of the embedded store: SIGKILL a writer 20 times at random moments."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest

from .harness import crash_and_recover


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_a_killed_writer_leaves_the_previous_or_the_new_state(tmp_path: Path) -> None:
    def new_store_url() -> str:
        return str(tmp_path / f"store-{uuid.uuid4().hex[:8]}")

    seen = crash_and_recover(new_store_url, kills=20, previous_cases=40_000, new_cases=60_000)
    assert len(seen) == 20
    print(f"state after each kill: {dict(Counter(seen))}")  # shown with pytest -s
    # Leftover temporary files of the killed writers are gone after the re-runs.
    leftovers = list(tmp_path.rglob(".tmp-*"))
    assert leftovers == []
