"""Two writer processes on one PostGIS store at once: no interleaving, no lost update."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import fresh_database
from .harness import concurrent_writers


@pytest.mark.postgis
@pytest.mark.timeout(600)
def test_two_postgis_writers_at_once_lose_nothing(postgis_url: str, tmp_path: Path) -> None:
    with fresh_database(postgis_url) as url:
        log = concurrent_writers(url, tmp_path / "go", cases=20_000, runs=3)
    assert len(log) == 6
