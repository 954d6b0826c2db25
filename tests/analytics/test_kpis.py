"""KPIs: durations with censoring, SLA in working time, rates, satisfaction, per-capita volume."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics import kpis
from analytics.indicators import load_sla_targets
from analytics.rates import wilson_interval
from analytics.survival import km_quantiles
from analytics.working_time import iran_calendar
from geo.errors import InputError
from ingest import schema as s

from .frames import case_frame, random_lifecycles, tehran

NO_HOLIDAYS = iran_calendar(holidays=frozenset())


def test_close_time_is_kaplan_meier_with_the_naive_median_beside_it() -> None:
    created = "2024-10-05 08:00"  # a Saturday
    closes = [2, 3, 3, 5, 8, 12]  # hours
    rows = [
        {
            s.CREATED_AT: created,
            s.STATUS: "closed",
            s.CLOSED_AT: (pd.Timestamp(created) + pd.Timedelta(hours=h)).isoformat(),
        }
        for h in closes
    ]
    rows += [{s.CREATED_AT: created} for _ in range(5)]  # still open
    cases = case_frame(rows)
    as_of = tehran(created) + pd.Timedelta(hours=100)  # type: ignore[operator]
    row = kpis(cases, period=None, as_of=as_of, sla={"default": 24}).iloc[0]
    expected = km_quantiles([*closes, *[100] * 5], [True] * 6 + [False] * 5).iloc[0]
    assert row["close_n"] == 11
    assert row["close_events"] == 6
    assert row["close_median_h"] == pytest.approx(12.0)
    assert row["close_median_h"] == pytest.approx(expected["p50"])
    assert row["close_median_lo_h"] == pytest.approx(expected["p50_lo"])
    assert np.isnan(row["close_p90_h"])  # 5 of 11 still open at 100 h
    assert row["close_naive_median_h"] == pytest.approx(4.0)  # what "closed only" would say
    # no first response recorded: the close counts as the first response
    assert row["response_median_h"] == pytest.approx(12.0)


def test_events_after_as_of_have_not_happened_yet() -> None:
    cases = case_frame(
        [
            {s.CREATED_AT: "2024-10-05 08:00", s.STATUS: "closed", s.CLOSED_AT: "2024-10-06 08:00"},
            {s.CREATED_AT: "2024-10-05 08:00", s.STATUS: "closed", s.CLOSED_AT: "2024-10-09 08:00"},
            {s.CREATED_AT: "2024-10-08 08:00"},  # created after as_of: left out
        ]
    )
    row = kpis(cases, period=None, as_of=tehran("2024-10-07 08:00"), sla={"default": 24}).iloc[0]
    assert row["volume"] == 2
    assert row["backlog"] == 1
    assert row["close_events"] == 1
    assert row["close_median_h"] == pytest.approx(24.0)


def test_sla_in_working_time_across_a_friday_and_a_holiday() -> None:
    cases = case_frame(
        [
            # Thursday 12:00 -> Saturday 11:00: 47 wall hours, 23 working (Friday off)
            {
                s.CREATED_AT: "2024-10-03 12:00",
                s.STATUS: "closed",
                s.CLOSED_AT: "2024-10-05 11:00",
            },
            # Sunday 12:00 -> Tuesday 11:00 around 22 Bahman 1403 (Monday 2025-02-10, holiday)
            {
                s.CREATED_AT: "2025-02-09 12:00",
                s.STATUS: "closed",
                s.CLOSED_AT: "2025-02-11 11:00",
            },
            # an ordinary Sunday -> Tuesday: 47 hours in both clocks: missed
            {
                s.CREATED_AT: "2024-10-06 12:00",
                s.STATUS: "closed",
                s.CLOSED_AT: "2024-10-08 11:00",
            },
        ]
    )
    row = kpis(cases, period=None, sla={"default": 24}, as_of=tehran("2025-03-01 00:00")).iloc[0]
    assert (row["sla_n_working"], row["sla_met_working"]) == (3, 2)
    assert (row["sla_n_wall"], row["sla_met_wall"]) == (3, 0)
    assert row["sla_working"] == pytest.approx(2 / 3)
    lo, hi = wilson_interval(2, 3)
    assert row["sla_working_lo"] == pytest.approx(float(lo))
    assert row["sla_working_hi"] == pytest.approx(float(hi))
    # without the holiday file the second case misses its target
    row = kpis(
        cases,
        period=None,
        sla={"default": 24},
        as_of=tehran("2025-03-01 00:00"),
        working_calendar=NO_HOLIDAYS,
    ).iloc[0]
    assert row["sla_met_working"] == 1


def test_sla_counts_open_cases_only_once_their_target_has_passed() -> None:
    cases = case_frame(
        [
            {s.CREATED_AT: "2024-10-05 08:00"},  # open 10 h of a 24 h target: not yet known
            {s.CREATED_AT: "2024-10-01 08:00"},  # open for days: missed
            {s.CREATED_AT: "2024-10-01 08:00", s.STATUS: "rejected"},  # no close: left out
        ]
    )
    row = kpis(cases, period=None, sla={"default": 24}, as_of=tehran("2024-10-05 18:00")).iloc[0]
    assert (row["sla_n_wall"], row["sla_met_wall"]) == (1, 0)


def test_sla_targets_by_category_and_subcategory() -> None:
    targets = load_sla_targets(
        {"categories": {"roads": 100}, "subcategories": {"potholes": 10}, "default": 50}
    )
    assert targets.for_categories(["roads", "other"]).tolist() == [100.0, 50.0]
    cases = case_frame(
        [
            {
                s.CREATED_AT: "2024-10-05 08:00",
                s.CATEGORY: "roads",
                s.STATUS: "closed",
                s.CLOSED_AT: "2024-10-06 08:00",
            },
            {
                s.CREATED_AT: "2024-10-05 08:00",
                s.CATEGORY: "roads",
                s.SUBCATEGORY: "potholes",
                s.STATUS: "closed",
                s.CLOSED_AT: "2024-10-06 08:00",
            },
        ]
    )
    mapping = {"categories": {"roads": 100}, "subcategories": {"potholes": 10}, "default": 50}
    out = kpis(cases, by=[s.SUBCATEGORY], period=None, sla=mapping)
    assert len(out) == 2
    assert out.loc[out[s.SUBCATEGORY].isna(), "sla_met_wall"].item() == 1  # 24 h of 100
    assert out.loc[out[s.SUBCATEGORY] == "potholes", "sla_met_wall"].item() == 0  # 24 h of 10


def test_shipped_sla_file_loads() -> None:
    targets = load_sla_targets()
    assert targets.default > 0
    assert targets.hours
    assert all(v > 0 for v in targets.hours.values())


@pytest.mark.parametrize("bad", [{"roads": -1}, {"roads": "soon"}, {"roads": {"minutes": 3}}])
def test_bad_sla_targets_raise(bad: dict[str, object]) -> None:
    with pytest.raises(InputError):
        load_sla_targets(bad)


def test_missing_sla_file_raises(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_sla_targets(tmp_path / "nope.yaml")


def test_reopen_objection_and_satisfaction() -> None:
    closed = {s.CREATED_AT: "2024-10-05 08:00", s.STATUS: "closed", s.CLOSED_AT: "2024-10-06"}
    cases = case_frame(
        [
            {**closed, s.CITIZEN_FEEDBACK: "objected", s.SATISFACTION: 1},
            {**closed, s.CITIZEN_FEEDBACK: "accepted", s.SATISFACTION: 5, s.REOPEN_COUNT: 1},
            {**closed, s.CITIZEN_FEEDBACK: "accepted", s.SATISFACTION: 4},
            {**closed},
            {s.CREATED_AT: "2024-10-05 08:00", s.STATUS: "answered"},
            {s.CREATED_AT: "2024-10-05 08:00"},  # not answered yet
        ]
    )
    row = kpis(cases, period=None, sla={"default": 24}).iloc[0]
    assert (row["answered"], row["objected"]) == (5, 1)
    assert row["objection_rate"] == pytest.approx(0.2)
    lo, hi = wilson_interval(1, 5)
    assert row["objection_rate_lo"] == pytest.approx(float(lo))
    assert row["objection_rate_hi"] == pytest.approx(float(hi))
    assert (row["reopen_n"], row["reopened"]) == (4, 1)
    assert row["satisfaction_n"] == 3
    assert row["satisfaction_mean"] == pytest.approx(10 / 3)
    assert row["satisfaction_sd"] == pytest.approx(np.std([1, 5, 4], ddof=1))
    assert row["survey_response_rate"] == pytest.approx(3 / 5)


def test_volume_per_1000_residents_from_the_boundary_table() -> None:
    cases = case_frame(
        [{s.CREATED_AT: "2024-10-05 08:00", s.NEIGHBORHOOD_CODE: "101"}] * 6
        + [{s.CREATED_AT: "2024-10-05 08:00", s.NEIGHBORHOOD_CODE: "102"}] * 2
        + [{s.CREATED_AT: "2024-10-05 08:00", s.NEIGHBORHOOD_CODE: "103"}]
    )
    boundaries = pd.DataFrame(
        {
            s.LEVEL: ["neighborhood"] * 3 + ["district", "region"],
            s.CODE: ["101", "102", "103", "11", "1"],
            s.POPULATION: pd.array([3000, None, 0, 999, 3000], dtype="Int64"),
        }
    )
    out = kpis(cases, by=[s.NEIGHBORHOOD_CODE], period=None, population=boundaries)
    per = dict(zip(out[s.NEIGHBORHOOD_CODE].astype(str), out["volume_per_1000"], strict=True))
    assert per["101"] == pytest.approx(2.0)
    assert np.isnan(per["102"])  # unknown population
    assert np.isnan(per["103"])  # zero residents: no rate
    region = kpis(cases, by=[s.REGION_CODE], period=None, population=boundaries).iloc[0]
    assert region["population"] == 3000
    assert region["volume_per_1000"] == pytest.approx(3.0)
    city = kpis(cases, period=None, population=boundaries).iloc[0]
    assert city["volume_per_1000"] == pytest.approx(3.0)  # the region level's sum
    series = pd.Series({"101": 1500, "102": 500})
    out = kpis(cases, by=[s.NEIGHBORHOOD_CODE], period=None, population=series)
    assert out["volume_per_1000"].iloc[0] == pytest.approx(4.0)


def test_jalali_months_are_the_default_periods() -> None:
    cases = case_frame(
        [
            {s.CREATED_AT: "2023-03-20 23:59"},  # 1401-12-29
            {s.CREATED_AT: "2023-03-21 00:00"},  # 1402-01-01
            {s.CREATED_AT: "2023-04-21 00:00"},  # 1402-02-01
        ]
    )
    out = kpis(cases, as_of=tehran("2023-04-25 00:00"))
    assert out["period"].tolist() == ["1401-12", "1402-01", "1402-02"]
    assert out["volume"].tolist() == [1, 1, 1]
    assert out["period_start"].iloc[1] == tehran("2023-03-21 00:00")
    greg = kpis(cases, calendar="gregorian", as_of=tehran("2023-04-25 00:00"))
    assert greg["period"].tolist() == ["2023-03", "2023-04"]
    assert greg["volume"].tolist() == [2, 1]


def test_groups_sum_to_the_whole_and_null_keys_form_a_group() -> None:
    cases = random_lifecycles(400, seed=3, areas=4)
    cases.loc[cases.index[:10], s.NEIGHBORHOOD_CODE] = None
    whole = kpis(cases, period="M", calendar="gregorian", sla={"default": 100})
    parts = kpis(
        cases, by=[s.NEIGHBORHOOD_CODE], period="M", calendar="gregorian", sla={"default": 100}
    )
    assert parts[s.NEIGHBORHOOD_CODE].isna().any()
    summed = parts.groupby("period")[["volume", "backlog", "sla_n_wall", "close_events"]].sum()
    pd.testing.assert_frame_equal(
        summed, whole.set_index("period")[["volume", "backlog", "sla_n_wall", "close_events"]]
    )


def test_input_is_not_modified_and_as_of_is_reported() -> None:
    cases = random_lifecycles(100, seed=1)
    before = cases.copy(deep=True)
    out = kpis(cases, by=[s.NEIGHBORHOOD_CODE], sla={"default": 48})
    pd.testing.assert_frame_equal(cases, before)
    assert out.attrs["as_of"] == max(cases[s.CREATED_AT].max(), cases[s.CLOSED_AT].max())


def test_errors_are_clear() -> None:
    cases = random_lifecycles(10, seed=1)
    with pytest.raises(InputError, match="lack the column"):
        kpis(cases, by=["ward"])
    with pytest.raises(InputError, match="not supported"):
        kpis(cases, period="Y")  # type: ignore[arg-type]
    naive = cases.assign(**{s.CREATED_AT: cases[s.CREATED_AT].dt.tz_localize(None)})
    with pytest.raises(InputError, match="time zone-aware"):
        kpis(naive)
    with pytest.raises(InputError, match="population"):
        kpis(cases, by=[s.NEIGHBORHOOD_CODE], population=[1, 2])  # type: ignore[arg-type]


def test_level_names_stand_for_code_columns() -> None:
    cases = random_lifecycles(50, seed=2)
    by_name = kpis(cases, by=["neighborhood"], period=None, sla={"default": 48})
    by_column = kpis(cases, by=[s.NEIGHBORHOOD_CODE], period=None, sla={"default": 48})
    pd.testing.assert_frame_equal(by_name, by_column)


def test_empty_frames_and_all_null_columns() -> None:
    cases = pd.DataFrame(
        {
            s.CREATED_AT: pd.to_datetime(["2024-10-01T08:00Z"]),
            s.CLOSED_AT: [None],  # all null, object dtype: no close yet
            s.STATUS: ["registered"],
        }
    )
    out = kpis(cases, period=None, sla={"default": 10})
    assert out["backlog"].tolist() == [1]
    empty = kpis(cases.iloc[:0], as_of="2024-10-02T00:00Z", sla={"default": 10})
    assert empty.empty
    assert "close_median_h" in empty.columns
    with pytest.raises(InputError, match="no created_at"):
        kpis(cases.iloc[:0], sla={"default": 10})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_close_time_per_group_matches_lifelines(seed: int) -> None:
    lifelines = pytest.importorskip("lifelines", reason="lifelines (dev extra) is not installed")
    import warnings

    from lifelines.utils import qth_survival_times

    cases = random_lifecycles(300, seed=seed, areas=3)
    as_of = pd.Timestamp("2024-04-15T00:00Z")
    out = kpis(cases, by=[s.NEIGHBORHOOD_CODE], period=None, as_of=as_of, sla={"default": 48})
    live = cases[
        (cases[s.CREATED_AT] <= as_of)
        & ~(cases[s.STATUS].isin(s.TERMINAL_STATUSES) & cases[s.CLOSED_AT].isna())
    ]
    closed = live[s.CLOSED_AT].notna() & (live[s.CLOSED_AT] <= as_of)
    stop = live[s.CLOSED_AT].where(closed, as_of)
    hours = ((stop - live[s.CREATED_AT]).dt.total_seconds() // 1) / 3600.0
    for _, row in out.iterrows():
        mask = (live[s.NEIGHBORHOOD_CODE] == row[s.NEIGHBORHOOD_CODE]).to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            kmf = lifelines.KaplanMeierFitter().fit(hours[mask], closed[mask])
            lo_col, hi_col = kmf.confidence_interval_.columns
            expected = {
                "close_median_h": kmf.median_survival_time_,
                "close_p90_h": kmf.percentile(0.1),
                "close_median_lo_h": qth_survival_times(0.5, kmf.confidence_interval_[lo_col]),
                "close_median_hi_h": qth_survival_times(0.5, kmf.confidence_interval_[hi_col]),
            }
        for col, value in expected.items():
            want = np.nan if np.isinf(float(value)) else float(value)
            got = float(row[col])
            assert (np.isnan(got) and np.isnan(want)) or got == pytest.approx(want), col
        assert row["close_naive_median_h"] == pytest.approx(
            float(hours[mask][closed[mask]].median())
        )
        assert row["close_events"] == int(closed[mask].sum())
        assert row["close_n"] == int(mask.sum())
