"""``t137 report`` on a store built by the ingest pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analytics.report.document import read_report
from analytics.report.pdf import find_chromium
from geo.store import open_store
from t137.cli import app
from tests.report.synthetic_store import MONTH, build_report_store


@pytest.fixture(scope="module")
def store_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_report_store(tmp_path_factory.mktemp("report-cli"))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_report_writes_a_self_contained_html(
    runner: CliRunner, store_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "report.html"
    result = runner.invoke(
        app, ["report", "--month", MONTH, "--out", str(out), "--store", str(store_path), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    with open_store(store_path) as store:
        head = store.info().chain_head
    assert summary["chain_head"] == head
    assert summary["month"] == MONTH
    assert summary["cases"] > 100
    assert summary["pdf"] is None
    text = out.read_text(encoding="utf-8")
    document = read_report(text)
    assert document.chain_head == head
    assert document.params.month == MONTH
    assert document.params.lang == "fa"
    assert len(document.figures) >= summary["figures"]
    assert out.stat().st_mode & 0o044  # readable by others, not a private temp file


def test_region_and_english(runner: CliRunner, store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "r2.html"
    result = runner.invoke(
        app,
        [
            "report",
            "--month",
            MONTH,
            "--region",
            "2",
            "--lang",
            "en",
            "--out",
            str(out),
            "--store",
            str(store_path),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "region 2" in result.stdout
    params = read_report(out.read_text(encoding="utf-8")).params
    assert (params.region, params.lang) == ("2", "en")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "1403-13"], "not a Jalali month"),
        (["--month", MONTH, "--region", "99"], "--region 99 has no neighborhoods"),
    ],
)
def test_errors_are_one_sentence(
    runner: CliRunner, store_path: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(
        app, ["report", *args, "--out", str(tmp_path / "x.html"), "--store", str(store_path)]
    )
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.html").exists()


@pytest.mark.e2e
def test_pdf_next_to_the_html(runner: CliRunner, store_path: Path, tmp_path: Path) -> None:
    if find_chromium() is None:
        pytest.skip("no Chromium to print a PDF")
    out = tmp_path / "report.html"
    result = runner.invoke(
        app,
        ["report", "--month", MONTH, "--out", str(out), "--store", str(store_path), "--pdf"],
    )
    assert result.exit_code == 0, result.stderr
    assert out.with_suffix(".pdf").read_bytes().startswith(b"%PDF-")
