"""Report parameters (Jalali months) and the shown text of figures."""

from __future__ import annotations

import doctest
import importlib

import pandas as pd
import pytest

from analytics.report.figures import canonical
from analytics.report.formatting import LRI, PDI, show, show_figure
from analytics.report.params import ReportParams, month_window, shift_month
from geo.errors import InputError


@pytest.mark.parametrize(
    "name",
    [
        "analytics.report.params",
        "analytics.report.formatting",
        "analytics.report.figures",
        "analytics.report.maps",
        "analytics.exports",
    ],
)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_month_window_is_tehran_local() -> None:
    start, end = month_window("1403-12")
    # Esfand 1403 starts 2025-02-19 and Farvardin 1404 on 2025-03-21, both at local midnight
    assert start == pd.Timestamp("2025-02-19 00:00", tz="Asia/Tehran")
    assert end == pd.Timestamp("2025-03-21 00:00", tz="Asia/Tehran")
    assert shift_month("1403-12", 1) == "1404-01"


@pytest.mark.parametrize("bad", ["1403-13", "1403/07", "july", "1403-00"])
def test_bad_month_is_refused(bad: str) -> None:
    with pytest.raises(InputError, match="not a Jalali month"):
        ReportParams(month=bad)


def test_as_of_is_month_end_or_now() -> None:
    params = ReportParams(month="1403-07")
    done = params.resolve_as_of(pd.Timestamp("2026-01-01", tz="UTC"))
    assert done.as_of == "2024-10-21T20:30:00Z"
    running = params.resolve_as_of(pd.Timestamp("2024-10-01 12:00:30", tz="UTC"))
    assert running.as_of == "2024-10-01T12:00:30Z"
    assert ReportParams.from_dict(done.as_dict()) == done


def test_unknown_parameters_are_refused() -> None:
    with pytest.raises(InputError, match="unknown key"):
        ReportParams.from_dict({"month": "1403-07", "colour": "red"})


@pytest.mark.parametrize(
    ("value", "kind", "lang", "expected"),
    [
        ("1234", "count", "fa", "۱٬۲۳۴"),
        ("0.4403", "share", "en", "44.0%"),
        ("17.4", "hours", "fa", "۱۷٫۴ ساعت"),
        ("-0.0199", "points", "fa", f"{LRI}−۲٫۰{PDI} واحد درصد"),
        ("", "score", "fa", "—"),
        ("not enough cases", "text", "en", "not enough cases"),
        ("302", "text", "fa", "۳۰۲"),
    ],
)
def test_show(value: str, kind: str, lang: str, expected: str) -> None:
    assert show(value, kind, lang) == expected  # type: ignore[arg-type]


def test_changes_carry_a_sign() -> None:
    assert show_figure("city.backlog.change", "86", "count", "en") == "+86"
    assert show_figure("city.backlog.change", "-3", "count", "en") == "−3"
    assert show_figure("city.backlog.change", "0", "count", "en") == "0"
    assert show_figure("city.backlog", "86", "count", "en") == "86"


def test_canonical_rounding() -> None:
    assert canonical(2.0 / 3, "share") == "0.6667"
    assert canonical(None, "count") == ""
    assert canonical(pd.NA, "rate") == ""
    assert canonical(12.5, "count") == "12"  # banker's rounding, as Python's round
