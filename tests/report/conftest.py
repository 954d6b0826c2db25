"""Fixtures of the report tests: one synthetic store for the session, and its report."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.report.synthetic_store import build_report_store


@pytest.fixture(scope="session")
def report_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded store built by the ingest pipeline (do not modify; copy it first)."""
    return build_report_store(tmp_path_factory.mktemp("report-store"))
