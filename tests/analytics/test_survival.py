"""Kaplan–Meier quantiles against lifelines, and the censoring the naive median ignores."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.survival import kaplan_meier, km_quantiles
from geo.errors import InputError

lifelines = pytest.importorskip("lifelines", reason="lifelines (dev extra) is not installed")
from lifelines.utils import qth_survival_times  # noqa: E402


def _exact_quantile(duration: list[float], event: list[bool], q: float) -> float:
    """Smallest event time with S(t) <= 1 - q, in exact rational arithmetic (NaN if none)."""
    level = 1 - Fraction(q).limit_denominator(100)
    surv = Fraction(1)
    for t in sorted({d for d, e in zip(duration, event, strict=True) if e}):
        at_risk = sum(d >= t for d in duration)
        deaths = sum(d == t and e for d, e in zip(duration, event, strict=True))
        surv *= 1 - Fraction(deaths, at_risk)
        if surv <= level:
            return t
    return float("nan")


def _lifelines(duration: list[float], event: list[bool]) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines' own approximation and pandas notes
        kmf = lifelines.KaplanMeierFitter().fit(duration, event)
        lo_col, hi_col = kmf.confidence_interval_.columns
        out = {
            "p50": kmf.median_survival_time_,
            "p90": kmf.percentile(0.1),
            "p50_lo": qth_survival_times(0.5, kmf.confidence_interval_[lo_col]),
            "p50_hi": qth_survival_times(0.5, kmf.confidence_interval_[hi_col]),
            "p90_lo": qth_survival_times(0.1, kmf.confidence_interval_[lo_col]),
            "p90_hi": qth_survival_times(0.1, kmf.confidence_interval_[hi_col]),
        }
    return {k: (np.nan if np.isinf(float(v)) else float(v)) for k, v in out.items()}


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == pytest.approx(b)


def _check_against_lifelines(duration: list[float], event: list[bool]) -> None:
    ours = km_quantiles(duration, event).iloc[0]
    theirs = _lifelines(duration, event)
    for key, expected in theirs.items():
        got = float(ours[key])
        if key in ("p50", "p90") and not _same(got, expected):
            # S exactly at the level (4 of 8 closed): lifelines' float product may land a
            # hair above 0.5; the definition (S <= 0.5) is checked in exact arithmetic.
            exact = _exact_quantile(duration, event, 0.5 if key == "p50" else 0.9)
            assert _same(got, exact), (key, got, expected, exact)
            continue
        assert _same(got, expected), (key, got, expected)


def test_censored_example_matches_lifelines_and_differs_from_naive() -> None:
    # 11 cases: 6 closed quickly, 5 still open for a long time (censored at 30..70 h)
    duration = [2.0, 3.0, 3.0, 5.0, 8.0, 12.0, 30.0, 40.0, 50.0, 60.0, 70.0]
    event = [True] * 6 + [False] * 5
    _check_against_lifelines(duration, event)
    out = km_quantiles(duration, event).iloc[0]
    assert out["naive_p50"] == pytest.approx(4.0)  # median of the closed cases alone
    assert out["p50"] == pytest.approx(12.0)  # the open cases push the median up
    assert np.isnan(out["p90"])  # 45 % still open: the p90 is not reached
    assert out["n"] == 11
    assert out["events"] == 6


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=25), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_random_censored_samples_match_lifelines(rows: list[tuple[int, bool]]) -> None:
    duration = [float(d) for d, _ in rows]
    event = [e for _, e in rows]
    _check_against_lifelines(duration, event)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=0.0, max_value=500.0, allow_nan=False), st.booleans()),
        min_size=2,
        max_size=60,
    )
)
def test_float_durations_match_lifelines(rows: list[tuple[float, bool]]) -> None:
    _check_against_lifelines([d for d, _ in rows], [e for _, e in rows])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=3),
            st.integers(min_value=0, max_value=30),
            st.booleans(),
        ),
        min_size=1,
        max_size=80,
    )
)
def test_groups_equal_separate_fits(rows: list[tuple[int, int, bool]]) -> None:
    group = np.array([g for g, _, _ in rows])
    duration = np.array([d for _, d, _ in rows], dtype=np.int64)
    event = np.array([e for _, _, e in rows])
    together = km_quantiles(duration, event, group, n_groups=4)
    for g in range(4):
        mask = group == g
        if not mask.any():
            assert together.loc[g, "n"] == 0
            assert np.isnan(together.loc[g, "p50"])
            continue
        alone = km_quantiles(duration[mask], event[mask]).iloc[0]
        for col in together.columns:
            assert _same(float(together.loc[g, col]), float(alone[col])), (g, col)


def test_all_censored_has_no_median_and_no_naive_median() -> None:
    out = km_quantiles([5.0, 6.0], [False, False]).iloc[0]
    assert np.isnan(out["p50"])
    assert np.isnan(out["naive_p50"])
    assert out["events"] == 0


def test_missing_durations_and_negative_groups_are_ignored() -> None:
    out = km_quantiles([1.0, np.nan, 3.0, 100.0], [True, True, True, True], [0, 0, 0, -1])
    assert out.loc[0, "n"] == 2
    assert out.loc[0, "naive_p50"] == pytest.approx(2.0)


def test_kaplan_meier_curve_matches_lifelines() -> None:
    duration = [1.0, 2.0, 2.0, 3.0, 4.0, 4.0, 6.0]
    event = [True, True, False, True, False, True, True]
    curve = kaplan_meier(duration, event)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kmf = lifelines.KaplanMeierFitter().fit(duration, event)
        expected = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_
    for _, row in curve.iterrows():
        assert row["survival"] == pytest.approx(expected.loc[row["time"]])
        if row["survival"] > 0:
            assert row["survival_lo"] == pytest.approx(ci.iloc[:, 0].loc[row["time"]])
            assert row["survival_hi"] == pytest.approx(ci.iloc[:, 1].loc[row["time"]])


@pytest.mark.parametrize(
    ("duration", "event", "kwargs"),
    [
        ([1.0, -1.0], [True, True], {}),
        ([1.0, 2.0], [True], {}),
        ([1.0], [True], {"quantiles": (1.5,)}),
        ([1.0], [True], {"alpha": 0.0}),
        (["a"], [True], {}),
    ],
)
def test_invalid_input_raises(
    duration: list[object], event: list[bool], kwargs: dict[str, object]
) -> None:
    with pytest.raises(InputError):
        km_quantiles(duration, event, **kwargs)  # type: ignore[arg-type]
