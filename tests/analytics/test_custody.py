"""Referral custody on hand-built event sequences: holds, transfers, ping-pong, time sums."""

from __future__ import annotations

import doctest
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import custody
from analytics.custody import referral_custody
from geo.errors import InputError
from ingest import schema as s

T0 = pd.Timestamp("2024-05-01 08:00", tz="UTC")

Event = tuple[str, float, str, str | None]  # case_id, hours after T0, event, unit


def events(rows: Sequence[Event], *, source: str = "137") -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            s.SOURCE: [source] * len(rows),
            s.CASE_ID: [r[0] for r in rows],
            s.EVENT_AT: [T0 + pd.Timedelta(hours=r[1]) for r in rows],
            s.EVENT: [r[2] for r in rows],
            s.EVENT_UNIT: [r[3] for r in rows],
            s.EVENT_NOTE: [None] * len(rows),
        }
    )
    frame[s.EVENT_AT] = frame[s.EVENT_AT].astype("datetime64[ns, UTC]")
    return frame


PING_PONG: list[Event] = [
    ("c1", 0, "referred", "A"),
    ("c1", 2, "referred", "B"),
    ("c1", 26, "referred", "A"),
    ("c1", 30, "answered", "A"),
    ("c1", 50, "closed", None),
]
REOPENED: list[Event] = [
    ("c2", 0, "registered", None),
    ("c2", 1, "referred", "A"),
    ("c2", 5, "closed", None),
    ("c2", 29, "reopened", None),
    ("c2", 30, "referred", "B"),
    ("c2", 40, "closed", None),
]


def case_row(frame: pd.DataFrame, case_id: str) -> dict[str, object]:
    rows = frame[frame[s.CASE_ID] == case_id].to_dict("records")
    assert len(rows) == 1
    return {str(k): v for k, v in rows[0].items()}


def test_ping_pong_is_detected_and_time_held_per_unit() -> None:
    custody = referral_custody(events(PING_PONG))
    row = case_row(custody.cases, "c1")
    assert row["chain"] == "A → B → A"
    assert (row["transfers"], row["ping_pongs"], row["referrals"]) == (2, 1, 3)
    assert row["span_h"] == pytest.approx(50.0)
    assert row["held_h"] == pytest.approx(50.0)
    assert (row["closed_h"], row["unheld_h"]) == (0.0, 0.0)
    held = custody.held.set_index(s.UNIT)
    assert held.loc["A", "held_h"] == pytest.approx(2 + 24)  # 0–2 h and 26–50 h
    assert held.loc["B", "held_h"] == pytest.approx(24)
    assert held.loc["A", "spans"] == 2
    assert held.loc["A", "cases"] == 1
    spans = custody.spans
    assert spans[s.UNIT].tolist() == ["A", "B", "A"]
    assert spans["held_h"].tolist() == pytest.approx([2.0, 24.0, 24.0])
    assert custody.ping_pong_cases[s.CASE_ID].tolist() == ["c1"]


def test_closed_time_and_unheld_time_complete_the_lifetime() -> None:
    custody = referral_custody(events(REOPENED))
    row = case_row(custody.cases, "c2")
    # unheld 0–1 h, A 1–5 h, closed 5–29 h, A again 29–30 h (reopened, not re-referred), B 30–40 h
    assert row["unheld_h"] == pytest.approx(1.0)
    assert row["closed_h"] == pytest.approx(24.0)
    assert row["held_h"] == pytest.approx(4.0 + 1.0 + 10.0)
    assert row["span_h"] == pytest.approx(40.0)
    assert row["chain"] == "A → B"
    assert (row["transfers"], row["ping_pongs"], row["referrals"], row["n_units"]) == (1, 0, 2, 2)
    assert row["reopens"] == 1
    assert case_row(referral_custody(events(PING_PONG)).cases, "c1")["reopens"] == 0


def test_transfers_table_counts_pairs_and_cases() -> None:
    custody = referral_custody(events(PING_PONG + REOPENED))
    table = custody.transfers.set_index(["from_unit", "to_unit"])
    assert table.loc[("A", "B"), "transfers"] == 2
    assert table.loc[("A", "B"), "cases"] == 2
    assert table.loc[("B", "A"), "transfers"] == 1
    assert len(table) == 2


def test_repeated_back_and_forth_counts_each_return() -> None:
    rows: list[Event] = [
        ("c3", 0, "referred", "A"),
        ("c3", 1, "referred", "A"),  # re-referral to the holder: no transfer, no referral
        ("c3", 2, "referred", "B"),
        ("c3", 3, "referred", "A"),
        ("c3", 4, "referred", "B"),
    ]
    row = case_row(referral_custody(events(rows)).cases, "c3")
    assert row["chain"] == "A → B → A → B"
    assert (row["transfers"], row["ping_pongs"], row["referrals"]) == (3, 2, 4)


def test_three_units_in_a_row_is_not_a_ping_pong() -> None:
    rows: list[Event] = [("c4", 0, "referred", "A"), ("c4", 1, "referred", "B")]
    rows += [("c4", 2, "referred", "C"), ("c4", 3, "closed", None)]
    row = case_row(referral_custody(events(rows)).cases, "c4")
    assert (row["transfers"], row["ping_pongs"]) == (2, 0)


def test_cases_are_told_apart_by_source_and_input_order_does_not_matter() -> None:
    a = events(PING_PONG, source="137")
    b = events([("c1", 0, "referred", "Z"), ("c1", 3, "closed", None)], source="app")
    both = pd.concat([a, b], ignore_index=True).sample(frac=1.0, random_state=4)
    cases = referral_custody(both).cases.set_index([s.SOURCE, s.CASE_ID])
    assert cases.loc[("137", "c1"), "chain"] == "A → B → A"
    assert cases.loc[("app", "c1"), "chain"] == "Z"
    assert cases.loc[("app", "c1"), "held_h"] == pytest.approx(3.0)


def test_as_of_extends_open_cases_only() -> None:
    rows: list[Event] = [("open", 0, "referred", "A"), ("shut", 0, "referred", "B")]
    rows += [("shut", 2, "closed", None)]
    as_of = T0 + pd.Timedelta(hours=10)
    cases = referral_custody(events(rows), as_of=as_of).cases.set_index(s.CASE_ID)
    assert cases.loc["open", "held_h"] == pytest.approx(10.0)
    assert cases.loc["shut", "held_h"] == pytest.approx(2.0)
    without = referral_custody(events(rows)).cases.set_index(s.CASE_ID)
    assert without.loc["open", "held_h"] == 0.0


def test_events_at_one_instant_keep_their_input_order() -> None:
    rows: list[Event] = [("c5", 0, "referred", "A"), ("c5", 0, "referred", "B")]
    rows += [("c5", 5, "closed", None)]
    custody = referral_custody(events(rows))
    assert custody.held[s.UNIT].tolist() == ["B", "A"]
    assert custody.held["held_h"].tolist() == pytest.approx([5.0, 0.0])


def test_input_is_not_modified_and_bad_input_is_refused() -> None:
    frame = events(PING_PONG)
    before = frame.copy()
    referral_custody(frame)
    pd.testing.assert_frame_equal(frame, before)
    with pytest.raises(InputError, match="lack"):
        referral_custody(frame.drop(columns=[s.EVENT]))
    naive = frame.assign(**{s.EVENT_AT: frame[s.EVENT_AT].dt.tz_localize(None)})
    with pytest.raises(InputError, match="time zone"):
        referral_custody(naive)


def test_no_events_gives_empty_tables() -> None:
    custody = referral_custody(events([]))
    assert custody.cases.empty
    assert custody.spans.empty
    assert custody.held.empty
    assert custody.transfers.empty


NAMES = ["registered", "referred", "answered", "closed", "reopened", "rejected", "feedback"]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 500),
            st.sampled_from(NAMES),
            st.sampled_from(["A", "B", "C", None]),
        ),
        max_size=40,
    )
)
def test_time_sums_to_each_cases_span(rows: list[tuple[str, int, str, str | None]]) -> None:
    frame = events([(c, float(h), e, u) for c, h, e, u in rows])
    custody = referral_custody(frame)
    cases = custody.cases
    total = cases["held_h"] + cases["closed_h"] + cases["unheld_h"]
    np.testing.assert_allclose(total, cases["span_h"], atol=1e-9)
    assert custody.spans["held_h"].sum() == pytest.approx(cases["held_h"].sum())
    assert custody.held["held_h"].sum() == pytest.approx(cases["held_h"].sum())
    for case_id, group in frame.groupby(s.CASE_ID):
        hours = (group[s.EVENT_AT].max() - group[s.EVENT_AT].min()) / pd.Timedelta(hours=1)
        assert case_row(cases, str(case_id))["span_h"] == pytest.approx(hours)
    assert cases["transfers"].sum() == custody.transfers["transfers"].sum()
    assert (cases["ping_pongs"] <= np.maximum(cases["transfers"] - 1, 0)).all()


def test_docstring_examples() -> None:
    result = doctest.testmod(custody, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
