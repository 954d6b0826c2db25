"""The rendered HTML: self-contained, RTL/A4, every figure machine-readable and checkable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from analytics.report.document import compare_figures, read_report
from analytics.report.figures import ReportData, compute_report
from analytics.report.params import ReportParams
from analytics.report.render import render_html
from geo.errors import InputError
from geo.store import open_store
from tests.report.synthetic_store import MONTH

HEAD = "c0ffee" + "0" * 58


@pytest.fixture(scope="module")
def rendered(report_store: Path) -> tuple[ReportData, str]:
    with open_store(report_store) as store:
        cases, boundaries = store.read_cases(), store.read_boundaries()
    data = compute_report(cases, boundaries, ReportParams(month=MONTH).resolve_as_of())
    return data, render_html(data, chain_head=HEAD, boundaries=boundaries)


def _figure_span(html: str, key: str) -> re.Match[str]:
    pattern = rf'data-figure="{re.escape(key)}" data-kind="\w+" data-value="([^"]*)">([^<]*)<'
    match = re.search(pattern, html)
    assert match is not None, key
    return match


def test_self_contained_rtl_a4(rendered: tuple[ReportData, str]) -> None:
    _, html = rendered
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="fa" dir="rtl">' in html
    assert "@page { size: A4" in html
    assert not re.search(r"(?:src|href)\s*=\s*[\"'](?:https?:)?//", html)
    assert "@import" not in html
    assert "<link" not in html
    assert html.count('src="data:image/png;base64,') >= 3  # two maps and hotspot locators
    assert "گزارش ماهانه سامانه ۱۳۷ — مهر ۱۴۰۳" in html


def test_every_figure_is_stated_and_matches(rendered: tuple[ReportData, str]) -> None:
    data, html = rendered
    document = read_report(html)
    assert document.chain_head == HEAD
    assert document.params == data.params
    assert {f.key for f in document.figures} == {f.key for f in data.figures}
    checks = compare_figures(document, data.figures, "fa")
    assert checks
    assert all(check.ok for check in checks), [c for c in checks if not c.ok][:3]
    volume = _figure_span(html, "city.volume")
    assert volume.group(1) == data["city.volume"].value
    assert re.fullmatch("[۰-۹٬]+", volume.group(2))  # Persian digits and group separators
    latin = volume.group(2).replace("٬", "").translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    assert latin == volume.group(1)


def test_metadata_holds_parameters_and_head(rendered: tuple[ReportData, str]) -> None:
    _, html = rendered
    raw = re.search(r'<script type="application/json" id="t137-report">(.*?)</script>', html, re.S)
    assert raw is not None
    meta = json.loads(raw.group(1))
    assert meta["chain_head"] == HEAD
    assert meta["parameters"]["month"] == MONTH
    assert meta["parameters"]["lang"] == "fa"
    assert meta["parameters"]["region"] is None
    assert f'<meta name="t137-chain-head" content="{HEAD}">' in html


def test_an_edited_value_is_caught(rendered: tuple[ReportData, str]) -> None:
    data, html = rendered
    span = _figure_span(html, "city.backlog")
    value = str(int(span.group(1)) + 10)
    edited = html.replace(span.group(0), span.group(0).replace(f'"{span.group(1)}"', f'"{value}"'))
    bad = [c for c in compare_figures(read_report(edited), data.figures, "fa") if not c.ok]
    assert [(c.key, c.status) for c in bad] == [("city.backlog", "value differs")]


def test_an_edited_visible_number_is_caught(rendered: tuple[ReportData, str]) -> None:
    data, html = rendered
    span = _figure_span(html, "city.volume.prev")
    forged = span.group(0).replace(f">{span.group(2)}<", ">۹۹۹<")
    edited = html.replace(span.group(0), forged)
    bad = [c for c in compare_figures(read_report(edited), data.figures, "fa") if not c.ok]
    assert [(c.key, c.status, c.text) for c in bad] == [("city.volume.prev", "text differs", "۹۹۹")]


def test_a_removed_figure_is_caught(rendered: tuple[ReportData, str]) -> None:
    data, html = rendered
    edited = html.replace('data-figure="rank.1.rank"', 'data-removed="rank.1.rank"')
    bad = [c for c in compare_figures(read_report(edited), data.figures, "fa") if not c.ok]
    assert [(c.key, c.status) for c in bad] == [("rank.1.rank", "missing from report")]


def test_english_report_is_ltr(report_store: Path) -> None:
    with open_store(report_store) as store:
        cases, boundaries = store.read_cases(), store.read_boundaries()
    params = ReportParams(month=MONTH, lang="en", region="1")
    data = compute_report(cases, boundaries, params)
    html = render_html(data, chain_head=HEAD, boundaries=boundaries)
    assert '<html lang="en" dir="ltr">' in html
    assert "Tehran 137 monthly report — Mehr 1403" in html
    document = read_report(html)
    assert all(check.ok for check in compare_figures(document, data.figures, "en"))


def test_a_file_that_is_not_a_report_is_refused() -> None:
    with pytest.raises(InputError, match="no <script"):
        read_report("<html><body><span data-figure='x' data-value='1'>1</span></body></html>")
