"""Data-quality flags on hand-built frames whose answers are known."""

from __future__ import annotations

import doctest
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from analytics import quality
from analytics.quality import case_flags, quality_flags
from geo.errors import InputError
from ingest import schema as s
from tests.analytics.frames import case_frame, tehran

# Jalali months of 1403 in Tehran local dates: Shahrivar 1403 = 2024-08-22 .. 2024-09-21
# (31 days), Mehr 1403 = 2024-09-22 .. 2024-10-21 (30 days), Aban starts 2024-10-22.
MEHR_DAY = pd.date_range("2024-09-22", periods=30, freq="D")


def closed_case(unit: str, created: str, closed: str, **extra: Any) -> dict[str, Any]:
    return {
        s.UNIT: unit,
        s.CREATED_AT: created,
        s.CLOSED_AT: closed,
        s.STATUS: "closed",
        **extra,
    }


def row_of(frame: pd.DataFrame, unit: str, period: str) -> dict[str, Any]:
    rows = frame[(frame[s.UNIT] == unit) & (frame["period"] == period)].to_dict("records")
    assert len(rows) == 1, frame[[s.UNIT, "period"]]
    return {str(k): v for k, v in rows[0].items()}


# --- quick closes ---------------------------------------------------------------------------
def test_quick_close_share_counts_closes_within_ten_minutes() -> None:
    cases = case_frame(
        [
            closed_case("U1", "2024-09-26 10:00", "2024-09-26 10:05"),
            closed_case("U1", "2024-09-26 10:00", "2024-09-26 10:10"),  # exactly 10 min
            closed_case("U1", "2024-09-26 10:00", "2024-09-26 10:11"),
            closed_case("U1", "2024-09-26 10:00", "2024-09-28 10:00"),
            {s.UNIT: "U1", s.CREATED_AT: "2024-09-26 10:00"},  # still open
            closed_case("U1", "2024-09-26 10:00", "2024-09-26 09:00"),  # closed before opened
        ]
    )
    flags = case_flags(cases)
    assert flags["quick_close"].tolist() == [True, True, False, False, False, True]
    row = row_of(quality_flags(cases), "U1", "1403-07")
    assert (row["volume"], row["closed"], row["quick_closed"]) == (6, 5, 3)
    assert row["quick_close_share"] == pytest.approx(0.6)


def test_quick_close_flag_needs_enough_evidence() -> None:
    rows = [closed_case("small", "2024-09-26 10:00", "2024-09-26 10:01")]
    rows += [closed_case("small", "2024-09-26 10:00", "2024-09-27 10:00")]
    for i in range(40):
        end = "2024-09-26 10:02" if i % 2 else "2024-09-29 10:00"
        rows.append(closed_case("big", "2024-09-26 10:00", end))
    rows.append(closed_case("fine", "2024-09-26 10:00", "2024-09-26 10:03"))
    rows += [closed_case("fine", "2024-09-26 10:00", "2024-09-30 10:00")] * 99
    out = quality_flags(case_frame(rows))
    small = row_of(out, "small", "1403-07")
    big = row_of(out, "big", "1403-07")
    fine = row_of(out, "fine", "1403-07")
    assert small["quick_close_share"] == pytest.approx(0.5)
    assert not small["quick_close_flag"]  # 1 of 2 closed: too few to flag
    assert big["quick_close_share"] == pytest.approx(0.5)
    assert big["quick_close_flag"]
    assert fine["quick_close_share"] == pytest.approx(0.01)
    assert not fine["quick_close_flag"]
    # 2 of 10: enough cases, and the Wilson lower bound (5.7 %) is above 5 %
    rows = [closed_case("edge", "2024-09-26 10:00", "2024-09-26 10:01")] * 2
    rows += [closed_case("edge", "2024-09-26 10:00", "2024-09-30 10:00")] * 8
    edge = row_of(quality_flags(case_frame(rows)), "edge", "1403-07")
    assert edge["quick_close_share_lo"] == pytest.approx(0.0567, abs=1e-4)
    assert edge["quick_close_flag"]
    assert not row_of(quality_flags(case_frame(rows), min_closed=11), "edge", "1403-07")[
        "quick_close_flag"
    ]


# --- month-end spikes -----------------------------------------------------------------------
def test_month_end_window_is_the_last_three_local_days() -> None:
    cases = case_frame(
        [
            closed_case("U", "2024-10-01 10:00", "2024-10-18 23:59"),  # 27 Mehr
            closed_case("U", "2024-10-01 10:00", "2024-10-19 00:00"),  # 28 Mehr
            closed_case("U", "2024-10-01 10:00", "2024-10-21 23:59"),  # 30 Mehr
            closed_case("U", "2024-10-01 10:00", "2024-10-22 00:00"),  # 1 Aban
            closed_case("U", "2024-08-01 10:00", "2024-09-21 12:00"),  # 31 Shahrivar
            closed_case("U", "2024-08-01 10:00", "2024-09-18 12:00"),  # 28 Shahrivar
        ]
    )
    assert case_flags(cases)["month_end_close"].tolist() == [False, True, True, False, True, False]


def spike_rows(unit: str, *, spiky: bool, warm_up: bool = True) -> list[dict[str, Any]]:
    """30 closures in Mehr 1403: one a day (even), or 20 in the last 3 days and 10 early."""
    rows = []
    if warm_up:  # a case created in Shahrivar, so that Mehr is not the data's first month
        rows.append(closed_case(unit, "2024-09-01 09:00", "2024-09-02 09:00"))
    last_days = [MEHR_DAY[27 + i % 3] for i in range(20)]
    days = [*last_days, *MEHR_DAY[:10]] if spiky else list(MEHR_DAY)
    for day in days:
        closed = f"{day.date()} 12:00"
        rows.append(closed_case(unit, "2024-09-22 08:00", closed))
    return rows


def test_month_end_spike_statistic_and_flag() -> None:
    cases = case_frame(spike_rows("spiky", spiky=True) + spike_rows("even", spiky=False))
    out = quality_flags(cases, as_of=tehran("2024-11-01 00:00"))
    spiky = row_of(out, "spiky", "1403-07")
    even = row_of(out, "even", "1403-07")
    for row in (spiky, even):
        assert row["month_days"] == 30
        assert row["month_end_expected_share"] == pytest.approx(0.1)
        assert row["closures"] == 30
        assert row["month_assessed"]
    assert spiky["month_end_closures"] == 20
    assert spiky["month_end_ratio"] == pytest.approx((20 / 30) / 0.1)
    assert spiky["month_end_p"] == pytest.approx(binom.sf(19, 30, 0.1))
    assert spiky["month_end_p"] < 1e-10
    assert spiky["month_end_flag"]
    assert even["month_end_closures"] == 3
    assert even["month_end_ratio"] == pytest.approx(1.0)
    assert not even["month_end_flag"]


def test_first_and_incomplete_months_are_not_assessed() -> None:
    first_month = case_frame(spike_rows("spiky", spiky=True, warm_up=False))
    row = row_of(quality_flags(first_month, as_of=tehran("2024-11-01 00:00")), "spiky", "1403-07")
    assert row["month_end_ratio"] > 6
    assert not row["month_assessed"]
    assert not row["month_end_flag"]
    cases = case_frame(spike_rows("spiky", spiky=True))
    row = row_of(quality_flags(cases, as_of=tehran("2024-10-21 23:59")), "spiky", "1403-07")
    assert not row["month_assessed"]
    assert not row["month_end_flag"]


def test_few_closures_are_not_flagged() -> None:
    cases = case_frame(spike_rows("spiky", spiky=True))
    out = quality_flags(cases, as_of=tehran("2024-11-01 00:00"), min_closures=31)
    assert not row_of(out, "spiky", "1403-07")["month_end_flag"]


def test_closures_are_counted_in_the_month_they_happen() -> None:
    cases = case_frame([closed_case("U", "2024-09-10 10:00", "2024-10-05 10:00")])
    out = quality_flags(cases)
    shahrivar = row_of(out, "U", "1403-06")
    mehr = row_of(out, "U", "1403-07")
    assert (shahrivar["volume"], shahrivar["closures"]) == (1, 0)
    assert (mehr["volume"], mehr["closures"]) == (0, 1)


def test_gregorian_months() -> None:
    cases = case_frame([closed_case("U", "2024-09-26 10:00", "2024-09-30 10:00")])
    out = quality_flags(cases, calendar="gregorian")
    row = row_of(out, "U", "2024-09")
    assert row["month_days"] == 30
    assert row["month_end_closures"] == 1  # 28, 29, 30 September


# --- objections, reopens, referrals ---------------------------------------------------------
def test_objected_answers_and_ignored_objections() -> None:
    cases = case_frame(
        [
            closed_case("U", "2024-09-26 10:00", "2024-09-27 10:00", citizen_feedback="objected"),
            {
                s.UNIT: "U",
                s.CREATED_AT: "2024-09-26 10:00",
                s.STATUS: "reopened",
                s.REOPEN_COUNT: 1,
                s.CITIZEN_FEEDBACK: "objected",
            },
            {
                s.UNIT: "U",
                s.CREATED_AT: "2024-09-26 10:00",
                s.STATUS: "answered",
                s.CITIZEN_FEEDBACK: "objected",
            },
            closed_case("U", "2024-09-26 10:00", "2024-09-27 10:00", citizen_feedback="accepted"),
            {s.UNIT: "U", s.CREATED_AT: "2024-09-26 10:00"},  # not answered
        ]
    )
    flags = case_flags(cases)
    assert flags["objected_answer"].tolist() == [True, True, True, False, False]
    assert flags["objection_ignored"].tolist() == [True, False, False, False, False]
    row = row_of(quality_flags(cases), "U", "1403-07")
    assert (row["answered"], row["objected"], row["objection_ignored"]) == (4, 3, 1)
    assert row["objection_share"] == pytest.approx(0.75)


def test_reopened_after_closing_from_columns() -> None:
    cases = case_frame(
        [
            closed_case("U", "2024-09-26 10:00", "2024-09-27 10:00", reopen_count=2),
            {s.UNIT: "U", s.CREATED_AT: "2024-09-26 10:00", s.STATUS: "reopened"},
            closed_case("U", "2024-09-26 10:00", "2024-09-27 10:00"),
            {s.UNIT: "U", s.CREATED_AT: "2024-09-26 10:00"},  # never closed
        ]
    )
    assert case_flags(cases)["reopened"].tolist() == [True, True, False, False]
    row = row_of(quality_flags(cases), "U", "1403-07")
    assert (row["reopen_n"], row["reopened"]) == (3, 2)
    assert row["reopen_share"] == pytest.approx(2 / 3)


def events_frame(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            s.SOURCE: "test",
            s.CASE_ID: [r[0] for r in rows],
            s.EVENT_AT: [tehran(r[1]) for r in rows],
            s.EVENT: [r[2] for r in rows],
            s.EVENT_UNIT: [r[3] for r in rows],
        }
    )
    frame[s.EVENT_AT] = frame[s.EVENT_AT].astype("datetime64[ns, UTC]")
    return frame


def test_bounced_cases_come_from_events_and_are_not_invented_without() -> None:
    cases = case_frame(
        [
            closed_case("U", "2024-09-26 10:00", "2024-09-29 10:00"),  # C00000: A → B → A
            closed_case("U", "2024-09-26 10:00", "2024-09-29 10:00"),  # C00001: A → B
            closed_case("U", "2024-09-26 10:00", "2024-09-29 10:00"),  # C00002: no events
        ]
    )
    events = events_frame(
        [
            ("C00000", "2024-09-26 10:00", "referred", "A"),
            ("C00000", "2024-09-27 10:00", "referred", "B"),
            ("C00000", "2024-09-28 10:00", "referred", "A"),
            ("C00000", "2024-09-29 10:00", "closed", None),
            ("C00001", "2024-09-26 10:00", "referred", "A"),
            ("C00001", "2024-09-27 10:00", "referred", "B"),
            ("C00001", "2024-09-27 11:00", "closed", None),
            ("C00001", "2024-09-28 11:00", "reopened", None),
        ]
    )
    flags = case_flags(cases, events)
    assert flags["referrals"].tolist()[:2] == [3, 2]
    assert flags["referrals"].isna().tolist() == [False, False, True]
    assert flags["bounced"].tolist()[:2] == [True, False]
    assert pd.isna(flags["bounced"].iloc[2])
    assert flags["reopened"].tolist() == [False, True, False]  # the reopen event counts
    row = row_of(quality_flags(cases, events), "U", "1403-07")
    assert (row["referral_known"], row["bounced"]) == (2, 1)
    assert row["bounced_share"] == pytest.approx(0.5)
    assert row["referral_data"] == "case events"

    without = quality_flags(cases)
    row = row_of(without, "U", "1403-07")
    assert pd.isna(row["bounced"])
    assert pd.isna(row["referral_known"])
    assert np.isnan(row["bounced_share"])
    assert row["referral_data"] == "no case events"
    assert without.attrs["referral_data"] == "no case events"


def test_groups_and_input_untouched() -> None:
    cases = case_frame(
        [
            closed_case("U1", "2024-09-26 10:00", "2024-09-26 10:01"),
            closed_case("U2", "2024-09-26 10:00", "2024-09-28 10:01"),
        ]
    )
    before = cases.copy()
    out = quality_flags(cases, by=[s.UNIT, s.CATEGORY])
    pd.testing.assert_frame_equal(cases, before)
    assert out[[s.UNIT, s.CATEGORY, "period"]].values.tolist() == [
        ["U1", "urban_services", "1403-07"],
        ["U2", "urban_services", "1403-07"],
    ]
    assert out["quick_closed"].tolist() == [1, 0]


def test_null_group_keys_form_their_own_group() -> None:
    cases = case_frame(
        [
            closed_case("U1", "2024-09-26 10:00", "2024-09-26 10:01"),
            closed_case(None, "2024-09-26 10:00", "2024-10-28 10:01"),  # type: ignore[arg-type]
            closed_case("U1", "2024-08-26 10:00", "2024-08-28 10:01"),
        ]
    )
    out = quality_flags(cases, by=[s.UNIT, s.REGION_CODE])
    assert out[s.UNIT].isna().tolist() == [False, False, True, True]
    assert out["period"].tolist() == ["1403-06", "1403-07", "1403-07", "1403-08"]
    assert out["volume"].tolist() == [1, 1, 1, 0]
    assert out["closures"].tolist() == [1, 1, 0, 1]


@pytest.mark.parametrize(
    "options",
    [{"by": ["nope"]}, {"month_end_days": 0}, {"quick_close_minutes": -1}, {"spike_alpha": 0}],
)
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    cases = case_frame([closed_case("U", "2024-09-26 10:00", "2024-09-26 10:01")])
    with pytest.raises(InputError):
        quality_flags(cases, **options)


def test_docstring_examples() -> None:
    result = doctest.testmod(quality, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
