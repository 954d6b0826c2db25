"""Fair rankings: shrinkage toward the parent, rank intervals, minimum volume, composite weights."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import kpis
from analytics.ranking import (
    DEFAULT_WEIGHTS,
    METRICS,
    NOT_ENOUGH,
    RANKED,
    rank_areas,
    validate_weights,
)
from geo.errors import InputError
from ingest import schema as s

from .frames import area_cases

SLA = {"default": 72}
# 12 ordinary neighborhoods in two districts, and one with 4 cases (perfect by chance)
SPECS = [
    (f"{d}{i:02d}", d, 150, 20.0 + 6 * i, 0.10 + 0.02 * i, 4.2 - 0.1 * i)
    for d in ("11", "12")
    for i in range(6)
]
TINY = ("1199", "11", 4, 6.0, 0.0, 5.0)
TINY_CLOSE_H = [2.0, 5.0, 8.0, 20.0]  # all four answered within a day


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    frame = area_cases([*SPECS, TINY], seed=7)
    # the tiny area: every case answered within the hour, accepted and rated 5
    tiny = frame[s.NEIGHBORHOOD_CODE] == TINY[0]
    frame.loc[tiny, s.CITIZEN_FEEDBACK] = "accepted"
    frame.loc[tiny, s.SATISFACTION] = 5
    created = frame.loc[tiny, s.CREATED_AT]
    frame.loc[tiny, s.CLOSED_AT] = created + pd.to_timedelta(TINY_CLOSE_H, unit="h")
    return frame


@pytest.fixture(scope="module")
def area_kpis(cases: pd.DataFrame) -> pd.DataFrame:
    return kpis(cases, by=[s.NEIGHBORHOOD_CODE, s.DISTRICT_CODE], period=None, sla=SLA)


@pytest.mark.parametrize(
    "metric", ["composite", "objection_rate", "sla_compliance", "close_median", "satisfaction"]
)
def test_four_case_area_with_perfect_raw_figures_does_not_rank_first(
    area_kpis: pd.DataFrame, metric: str
) -> None:
    out = rank_areas(area_kpis, metric, min_volume=1, n_boot=400)
    tiny = out[out[s.NEIGHBORHOOD_CODE] == TINY[0]].iloc[0]
    higher = bool(out["higher_is_better"].iloc[0])
    best_raw = out["raw"].max() if higher else out["raw"].min()
    assert tiny["raw"] == best_raw  # raw, it looks like the best in the city
    assert tiny["status"] == RANKED
    assert tiny["rank"] > 1  # shrunk, it is not
    assert tiny["rank_hi"] - tiny["rank_lo"] >= 3  # and its rank is very uncertain


def test_ranks_carry_intervals_and_are_reproducible(area_kpis: pd.DataFrame) -> None:
    out = rank_areas(area_kpis, "objection_rate", min_volume=30, n_boot=500, seed=3)
    ranked = out[out["status"] == RANKED]
    assert len(ranked) == 12
    assert ranked["rank"].tolist() == sorted(ranked["rank"].tolist())  # best first
    assert (ranked["rank_lo"] <= ranked["rank"]).all()
    assert (ranked["rank"] <= ranked["rank_hi"]).all()
    assert (ranked["rank_lo"] >= 1).all()
    assert (ranked["rank_hi"] <= 12).all()
    assert (ranked["estimate_lo"] <= ranked["estimate"]).all()
    assert (ranked["estimate"] <= ranked["estimate_hi"]).all()
    assert (ranked["n_ranked"] == 12).all()
    again = rank_areas(area_kpis, "objection_rate", min_volume=30, n_boot=500, seed=3)
    pd.testing.assert_frame_equal(out, again)


def test_areas_below_min_volume_are_listed_as_not_enough_cases(area_kpis: pd.DataFrame) -> None:
    out = rank_areas(area_kpis, min_volume=30, n_boot=200)
    tiny = out[out[s.NEIGHBORHOOD_CODE] == TINY[0]].iloc[0]
    assert tiny["status"] == NOT_ENOUGH
    assert np.isnan(tiny["rank"])
    assert np.isnan(tiny["rank_lo"])
    assert out["status"].iloc[-1] == NOT_ENOUGH  # listed after the ranked areas
    assert (out["status"] == RANKED).sum() == 12


def test_cases_or_kpis_give_the_same_ranking(cases: pd.DataFrame, area_kpis: pd.DataFrame) -> None:
    from_kpis = rank_areas(area_kpis, "close_median", n_boot=200)
    from_cases = rank_areas(cases, "close_median", n_boot=200, kpis_options={"sla": SLA})
    cols = [s.NEIGHBORHOOD_CODE, "raw", "estimate", "rank", "rank_lo", "rank_hi", "status"]
    pd.testing.assert_frame_equal(
        from_kpis[cols].astype({s.NEIGHBORHOOD_CODE: str}),
        from_cases[cols].astype({s.NEIGHBORHOOD_CODE: str}),
    )


def test_small_areas_shrink_toward_their_own_parent() -> None:
    good = [(f"11{i:02d}", "11", 300, 24.0, 0.08, 4.0) for i in range(5)]
    bad = [(f"12{i:02d}", "12", 300, 24.0, 0.40, 4.0) for i in range(5)]
    small = [("1190", "11", 10, 24.0, 0.2, 4.0), ("1290", "12", 10, 24.0, 0.2, 4.0)]
    frame = area_cases([*good, *bad, *small], seed=11)
    for code in ("1190", "1290"):  # exactly 2 objections out of 10 in both
        rows = frame.index[frame[s.NEIGHBORHOOD_CODE] == code]
        frame.loc[rows, s.CITIZEN_FEEDBACK] = ["objected"] * 2 + ["accepted"] * 8
    out = rank_areas(frame, "objection_rate", min_volume=1, n_boot=200).set_index(
        s.NEIGHBORHOOD_CODE
    )
    assert out.loc["1190", "raw"] == out.loc["1290", "raw"] == pytest.approx(0.2)
    assert out.loc["1190", "estimate"] < 0.2 < out.loc["1290", "estimate"]
    big = out.loc["1100"]
    assert abs(big["estimate"] - big["raw"]) < 0.02  # much evidence: barely moved


def test_median_not_reached_is_not_treated_as_average(cases: pd.DataFrame) -> None:
    slow = cases[cases[s.NEIGHBORHOOD_CODE] == "1105"].copy()
    slow[s.NEIGHBORHOOD_CODE] = "1177"
    slow[s.CLOSED_AT] = pd.Series(pd.NaT, index=slow.index, dtype="datetime64[ns, UTC]")
    slow[s.STATUS] = "in_progress"
    frame = pd.concat([cases, slow], ignore_index=True)
    frame[s.STATUS] = pd.Categorical(frame[s.STATUS], categories=s.STATUSES)
    out = rank_areas(
        frame, "close_median", n_boot=200, kpis_options={"sla": SLA, "as_of": "2024-06-01T00:00Z"}
    )
    assert out[s.NEIGHBORHOOD_CODE].iloc[len(out[out["status"] == RANKED]) - 1] == "1177"


def test_default_weights_are_explicit_and_valid() -> None:
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1.0)
    assert set(DEFAULT_WEIGHTS) <= set(METRICS)
    assert validate_weights() == dict(DEFAULT_WEIGHTS)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ({"sla_compliance": 0.5, "objection_rate": 0.3}, "sum to 1"),
        ({"sla_compliance": 0.5, "speed": 0.5}, "unknown metrics"),
        ({"sla_compliance": 1.5, "objection_rate": -0.5}, "non-negative"),
        ({"sla_compliance": float("nan"), "objection_rate": 1.0}, "non-negative"),
        ({}, "empty"),
    ],
)
def test_bad_weights_raise(weights: dict[str, float], match: str) -> None:
    with pytest.raises(InputError, match=match):
        validate_weights(weights)


def test_weights_change_the_composite(area_kpis: pd.DataFrame) -> None:
    only_sat = rank_areas(
        area_kpis, weights={"satisfaction": 1.0, "objection_rate": 0.0}, n_boot=200
    )
    sat = rank_areas(area_kpis, "satisfaction", n_boot=200)
    assert only_sat[s.NEIGHBORHOOD_CODE].tolist() == sat[s.NEIGHBORHOOD_CODE].tolist()
    assert "objection_rate" not in only_sat.columns  # zero weight: not a component
    with pytest.raises(InputError, match="apply to metric='composite' only"):
        rank_areas(area_kpis, "satisfaction", weights={"satisfaction": 1.0})


def test_bad_inputs_raise(area_kpis: pd.DataFrame, cases: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="not an area level"):
        rank_areas(area_kpis, level="ward")
    with pytest.raises(InputError, match="unknown"):
        rank_areas(area_kpis, "speed")
    monthly = kpis(cases, by=[s.NEIGHBORHOOD_CODE], period="M", sla=SLA)
    with pytest.raises(InputError, match="several periods"):
        rank_areas(monthly)
    no_districts = cases.assign(**{s.DISTRICT_CODE: None})
    with pytest.raises(InputError, match="lack that level"):
        rank_areas(no_districts, level="district", kpis_options={"sla": SLA})


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=400), st.floats(min_value=0.0, max_value=1.0)),
        min_size=2,
        max_size=12,
    )
)
def test_shrunk_rates_lie_between_the_raw_rate_and_the_pooled_rate(
    areas: list[tuple[int, float]],
) -> None:
    answered = np.array([n for n, _ in areas])
    objected = np.array([round(n * p) for n, p in areas])
    frame = pd.DataFrame(
        {
            s.NEIGHBORHOOD_CODE: [str(100 + i) for i in range(len(areas))],
            "volume": answered,
            "objected": objected,
            "answered": answered,
        }
    )
    out = rank_areas(frame, "objection_rate", min_volume=1, n_boot=20)
    pooled = objected.sum() / answered.sum()
    lo = np.minimum(out["raw"], pooled) - 1e-6
    hi = np.maximum(out["raw"], pooled) + 1e-6
    assert ((out["estimate"] >= lo) & (out["estimate"] <= hi)).all()
    assert (out["status"] == RANKED).all()
    assert sorted(out["rank"].tolist()) == out["rank"].tolist()


def test_every_rank_lies_in_its_own_interval_even_when_estimates_tie() -> None:
    # 25 areas of one region with the same rate: no between-area spread, so all get the
    # region's estimate with a near-zero posterior spread. Their point rank is shared (5),
    # but each bootstrap draw breaks the tie at random; the interval must still hold rank 5.
    codes = [f"1{i:02d}" for i in range(4)] + [f"2{i:02d}" for i in range(25)]
    frame = pd.DataFrame(
        {
            s.NEIGHBORHOOD_CODE: codes,
            s.REGION_CODE: ["1"] * 4 + ["2"] * 25,
            "volume": [100, 150, 120, 90] + [200] * 25,
            "objected": [5, 12, 20, 30] + [40] * 25,
            "answered": [100, 150, 120, 90] + [200] * 25,
        }
    )
    out = rank_areas(frame, "objection_rate", min_volume=1, n_boot=200, seed=1)
    tied = out[out[s.NEIGHBORHOOD_CODE].str.startswith("2")]
    assert tied["rank"].nunique() == 1
    assert (out["rank_lo"] <= out["rank"]).all()
    assert (out["rank"] <= out["rank_hi"]).all()
    assert (out["rank_hi"] <= len(out)).all()
