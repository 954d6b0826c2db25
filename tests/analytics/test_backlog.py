"""Open backlog at period ends, age buckets and the overdue share, against brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import backlog_series, kpis, period_labels
from ingest import schema as s

from .frames import case_frame, random_lifecycles, tehran

WEEK = pd.Timedelta(days=7)
BUCKETS = (
    "backlog",
    "backlog_lt_1w",
    "backlog_1_4w",
    "backlog_4_8w",
    "backlog_gt_8w",
    "backlog_overdue",
)


def _brute_force(cases: pd.DataFrame, at: pd.Timestamp, mask: pd.Series) -> dict[str, int]:
    """Count the open cases at ``at`` by their definition, one case at a time."""
    counts = dict.fromkeys(BUCKETS, 0)
    for case in cases[mask].itertuples(index=False):
        created, closed = getattr(case, s.CREATED_AT), getattr(case, s.CLOSED_AT)
        status, due = getattr(case, s.STATUS), getattr(case, s.DUE_AT)
        if status in s.TERMINAL_STATUSES and pd.isna(closed):
            continue  # rejected without a close instant: never in the backlog
        if created > at or (not pd.isna(closed) and closed <= at):
            continue
        age = at - created
        counts["backlog"] += 1
        if age < WEEK:
            counts["backlog_lt_1w"] += 1
        elif age < 4 * WEEK:
            counts["backlog_1_4w"] += 1
        elif age < 8 * WEEK:
            counts["backlog_4_8w"] += 1
        else:
            counts["backlog_gt_8w"] += 1
        if not pd.isna(due) and due < at:
            counts["backlog_overdue"] += 1
    return counts


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    n=st.integers(min_value=1, max_value=60),
    freq=st.sampled_from(["D", "W", "M"]),
    calendar=st.sampled_from(["jalali", "gregorian"]),
    cut_days=st.integers(min_value=0, max_value=200),
)
def test_backlog_series_matches_brute_force(
    seed: int, n: int, freq: str, calendar: str, cut_days: int
) -> None:
    cases = random_lifecycles(n, seed=seed, days=90, areas=3)
    as_of = pd.Timestamp("2024-01-01T00:00Z") + pd.Timedelta(days=cut_days, hours=7)
    if (cases[s.CREATED_AT] > as_of).all():
        as_of = cases[s.CREATED_AT].max()
    before = cases.copy(deep=True)
    out = backlog_series(
        cases,
        [s.NEIGHBORHOOD_CODE],
        freq,
        calendar=calendar,
        as_of=as_of,  # type: ignore[arg-type]
    )
    pd.testing.assert_frame_equal(cases, before)  # input not modified
    assert len(out)
    for _, row in out.iterrows():
        at = row["at"]
        # the counting instant is the period's last instant, or as_of in the last period
        assert at == min(row["period_end"] - pd.Timedelta(1, "ns"), as_of)
        start_label = period_labels(pd.Series([row["period_start"]]), freq, calendar)  # type: ignore[arg-type]
        assert start_label.iloc[0] == row["period"]
        mask = cases[s.NEIGHBORHOOD_CODE] == row[s.NEIGHBORHOOD_CODE]
        expected = _brute_force(cases, at, mask)
        got = {k: int(row[k]) for k in expected}
        assert got == expected, (row["period"], at)
        share = expected["backlog_overdue"] / expected["backlog"] if expected["backlog"] else None
        if share is None:
            assert np.isnan(row["overdue_share"])
        else:
            assert row["overdue_share"] == pytest.approx(share)


def test_age_buckets_at_as_of() -> None:
    as_of = "2024-06-30 12:00"
    cases = case_frame(
        [
            {s.CREATED_AT: "2024-06-29 12:00"},  # 1 day
            {s.CREATED_AT: "2024-06-23 12:00"},  # exactly 1 week: 1-4 weeks
            {s.CREATED_AT: "2024-06-10 12:00"},  # 20 days
            {s.CREATED_AT: "2024-05-20 12:00"},  # 41 days
            {s.CREATED_AT: "2024-04-01 12:00", s.DUE_AT: "2024-04-10 00:00"},  # 90 days, late
            {s.CREATED_AT: "2024-04-01 12:00", s.STATUS: "closed", s.CLOSED_AT: "2024-06-01"},
            {s.CREATED_AT: "2024-04-01 12:00", s.STATUS: "rejected"},  # no close instant
            {s.CREATED_AT: "2024-06-30 12:00", s.DUE_AT: "2024-07-30 00:00"},  # 0 days
        ]
    )
    out = kpis(cases, period=None, as_of=tehran(as_of), sla={"default": 24})
    row = out.iloc[0]
    assert row["volume"] == 8
    assert row["backlog"] == 6
    assert [row[c] for c in ("backlog_lt_1w", "backlog_1_4w", "backlog_4_8w", "backlog_gt_8w")] == [
        2,
        2,
        1,
        1,
    ]
    assert row["backlog_overdue"] == 1
    assert row["overdue_share"] == pytest.approx(1 / 6)


def test_backlog_counts_cases_created_in_earlier_periods() -> None:
    cases = case_frame(
        [
            {s.CREATED_AT: "2024-08-25 10:00", s.STATUS: "closed", s.CLOSED_AT: "2024-10-02 10:00"},
            {s.CREATED_AT: "2024-09-25 10:00"},
        ]
    )
    out = backlog_series(cases, period="M", calendar="gregorian", as_of=tehran("2024-10-10 00:00"))
    assert out["period"].tolist() == ["2024-08", "2024-09", "2024-10"]
    assert out["backlog"].tolist() == [1, 2, 1]
