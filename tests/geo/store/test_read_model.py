"""The pandas read model against a plain groupby, and its normalization."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.store.frames import canonical_cases
from geo.store.read_model import (
    assert_read_models_equal,
    compute_read_model,
    local_day,
    measures,
    normalize_read_model,
)
from ingest import schema as s
from tests.support.cases import random_cases


def naive_read_model(cases: pd.DataFrame) -> pd.DataFrame:
    """The read model by the most obvious pandas code."""
    parts = []
    for level in s.LEVELS:
        keys = pd.DataFrame(
            {
                s.SOURCE: cases[s.SOURCE].astype(object),
                s.RM_LEVEL: level,
                s.RM_AREA_CODE: cases[s.LEVEL_CODE_COLUMN[level]].astype(object),
                s.RM_DAY: local_day(cases[s.CREATED_AT]),
                **{
                    name: cases[name].astype(object)
                    for name in (s.CATEGORY, s.KIND, s.CHANNEL, s.UNIT, s.STATUS)
                },
            }
        )
        frame = pd.concat([keys, measures(cases)], axis=1)
        parts.append(frame.groupby(list(s.READ_MODEL_KEYS), dropna=False).sum().reset_index())
    return pd.concat(parts, ignore_index=True)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 400), seed=st.integers(0, 1000))
def test_read_model_equals_a_plain_groupby(n: int, seed: int) -> None:
    cases = canonical_cases(random_cases(n, seed=seed))
    model = compute_read_model(cases)
    assert list(model.columns) == list(s.READ_MODEL_COLUMNS)
    assert_read_models_equal(model, naive_read_model(cases))
    pd.testing.assert_frame_equal(model, normalize_read_model(model))
    assert model[s.RM_CASES].sum() == 3 * n


def test_measures_of_one_case() -> None:
    cases = canonical_cases(random_cases(300, seed=5))
    closed = cases[cases[s.CLOSED_AT].notna() & cases[s.DUE_AT].notna()].iloc[[0]]
    row = measures(closed).iloc[0]
    expected = (closed[s.CLOSED_AT] - closed[s.CREATED_AT]).dt.total_seconds().iloc[0]
    assert row[s.RM_CLOSE_SECONDS] == pytest.approx(expected, abs=1e-6)
    assert row[s.RM_CLOSED_COUNT] == 1
    assert row[s.RM_OPEN] == 0
    on_time = bool((closed[s.CLOSED_AT] <= closed[s.DUE_AT]).iloc[0])
    assert row[s.RM_ON_TIME_COUNT] == int(on_time)


def test_day_is_the_tehran_date_and_as_of_cuts() -> None:
    cases = canonical_cases(random_cases(50, seed=6))
    cases.loc[0, s.CREATED_AT] = pd.Timestamp("2024-03-19 21:00", tz="UTC")  # 00:30 in Tehran
    model = compute_read_model(cases)
    assert pd.Timestamp("2024-03-20").date() in set(model[s.RM_DAY])
    cut = compute_read_model(cases, as_of=pd.Timestamp("2024-01-01", tz="UTC"))
    assert cut[s.RM_CASES].sum() == 3 * int((cases[s.CREATED_AT] < "2024-01-01").sum())
    with pytest.raises(ValueError, match="naive"):
        compute_read_model(cases, as_of=pd.Timestamp("2024-01-01"))


def test_empty_cases_give_an_empty_model() -> None:
    model = compute_read_model(canonical_cases(random_cases(5, seed=7)).iloc[:0])
    assert list(model.columns) == list(s.READ_MODEL_COLUMNS)
    assert len(model) == 0
