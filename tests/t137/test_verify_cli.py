"""``t137 verify``: an untouched report verifies; edits to the report or the store are caught."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from analytics.report.params import month_window
from geo.store import IngestBatch, open_store
from ingest import schema as s
from t137.cli import app
from tests.report.synthetic_store import MONTH, build_report_store, copy_store


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store and the report made from it (neither is modified by the tests)."""
    folder = tmp_path_factory.mktemp("verify-cli")
    store_path = build_report_store(folder)
    report = folder / "report.html"
    result = CliRunner().invoke(
        app, ["report", "--month", MONTH, "--out", str(report), "--store", str(store_path)]
    )
    assert result.exit_code == 0, result.stderr
    return store_path, report


def _verify(report: Path, store_path: Path) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(app, ["verify", str(report), "--store", str(store_path), "--json"])
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def _mismatched(summary: dict[str, object]) -> dict[str, str]:
    figures = summary["figures"]
    assert isinstance(figures, dict)
    return {m["key"]: m["status"] for m in figures["mismatches"]}


def _edit_figure(html: str, key: str, value: str | None, text: str | None) -> str:
    pattern = re.compile(
        rf'(data-figure="{re.escape(key)}" data-kind="\w+" data-value=")([^"]*)(">)([^<]*)(<)'
    )
    match = pattern.search(html)
    assert match is not None, key
    new = (
        match.group(1)
        + (match.group(2) if value is None else value)
        + match.group(3)
        + (match.group(4) if text is None else text)
        + match.group(5)
    )
    return html[: match.start()] + new + html[match.end() :]


def test_untouched_report_verifies(made: tuple[Path, Path]) -> None:
    store_path, report = made
    code, summary, _ = _verify(report, store_path)
    assert code == 0
    assert summary["verified"] is True
    chain = summary["chain"]
    assert isinstance(chain, dict)
    assert chain["chain_ok"]
    assert chain["head_ok"]
    figures = summary["figures"]
    assert isinstance(figures, dict)
    assert figures["mismatched"] == 0
    assert figures["checked"] > 200


def test_human_output_lists_matches(made: tuple[Path, Path]) -> None:
    store_path, report = made
    result = CliRunner().invoke(app, ["verify", str(report), "--store", str(store_path), "--all"])
    assert result.exit_code == 0
    assert "VERIFIED" in result.stdout
    assert "match      city.volume = " in result.stdout


def test_edited_number_is_caught(made: tuple[Path, Path], tmp_path: Path) -> None:
    store_path, report = made
    html = report.read_text(encoding="utf-8")
    # a forger changes both the claimed value and the text of this month's backlog
    edited = _edit_figure(html, "city.backlog", "12", "۱۲")
    forged = tmp_path / "forged.html"
    forged.write_text(edited, encoding="utf-8")
    code, summary, _ = _verify(forged, store_path)
    assert code == 1
    assert summary["verified"] is False
    assert _mismatched(summary) == {"city.backlog": "value differs"}
    result = CliRunner().invoke(app, ["verify", str(forged), "--store", str(store_path)])
    assert "MISMATCH   city.backlog" in result.stdout
    assert "NOT VERIFIED" in result.stdout


def test_edited_visible_text_only_is_caught(made: tuple[Path, Path], tmp_path: Path) -> None:
    store_path, report = made
    edited = _edit_figure(report.read_text(encoding="utf-8"), "city.sla_working", None, "۹۹٫۰٪")
    forged = tmp_path / "forged.html"
    forged.write_text(edited, encoding="utf-8")
    code, summary, _ = _verify(forged, store_path)
    assert code == 1
    assert _mismatched(summary) == {"city.sla_working": "text differs"}


def _closed_case_of_the_month(store_path: Path) -> pd.DataFrame:
    start, end = month_window(MONTH)
    with open_store(store_path) as store:
        cases = store.read_cases()
    month = cases[(cases[s.CREATED_AT] >= start) & (cases[s.CREATED_AT] < end)]
    closed = month[(month[s.STATUS].astype(str) == "closed") & month[s.CLOSED_AT].notna()]
    one: pd.DataFrame = closed.sort_values(s.CASE_ID).head(1).copy()
    one[s.STATUS] = "in_progress"
    one[s.CLOSED_AT] = pd.Series(pd.NaT, index=one.index, dtype="datetime64[ns, UTC]")
    return one


def test_case_changed_by_a_later_run_is_a_head_mismatch(
    made: tuple[Path, Path], tmp_path: Path
) -> None:
    store_path, report = made
    changed = copy_store(store_path, tmp_path)
    case = _closed_case_of_the_month(changed)
    with open_store(changed) as store:
        store.write_run(
            IngestBatch(
                source="tehran137",
                input_sha256="ab" * 32,
                started_at=pd.Timestamp.now(tz="UTC"),
                rows_read=1,
                cases=case,
            )
        )
    code, summary, _ = _verify(report, changed)
    assert code == 1
    chain = summary["chain"]
    assert isinstance(chain, dict)
    assert chain["chain_ok"] is True
    assert chain["head_ok"] is False
    assert chain["later_runs"] == 1
    assert "city.backlog" in _mismatched(summary)  # and the figures say what changed


def test_case_changed_without_a_run_is_a_figure_mismatch(
    made: tuple[Path, Path], tmp_path: Path
) -> None:
    store_path, report = made
    changed = copy_store(store_path, tmp_path)
    case = _closed_case_of_the_month(changed)
    with open_store(changed) as store:
        counts = store.upsert_cases(case)  # behind the ingest log's back
    assert counts.updated == 1
    code, summary, _ = _verify(report, changed)
    assert code == 1
    chain = summary["chain"]
    assert isinstance(chain, dict)
    assert chain["head_ok"] is True  # the log did not see it …
    assert _mismatched(summary)["city.backlog"] == "value differs"  # … the figures did


def test_a_file_that_is_not_a_report(made: tuple[Path, Path], tmp_path: Path) -> None:
    store_path, _ = made
    page = tmp_path / "page.html"
    page.write_text("<html><body>hello</body></html>", encoding="utf-8")
    result = CliRunner().invoke(app, ["verify", str(page), "--store", str(store_path)])
    assert result.exit_code == 2
    assert "t137 report" in result.stderr
