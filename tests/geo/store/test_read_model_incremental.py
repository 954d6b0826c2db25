"""The incremental read-model refresh, on both backends.

After any sequence of writes, a refresh gives what a full recomputation from the stored
cases gives; a refresh with nothing changed writes nothing. The day key is the Asia/Tehran
day of ``created_at`` while the embedded case files are UTC months, so a local day can
straddle two files: the tests put cases on both sides of such a boundary.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.store import open_store
from geo.store.embedded_refresh import local_days
from geo.store.read_model import assert_read_models_equal, compute_read_model
from ingest import schema as s
from tests.support.cases import random_cases


def assert_model_is_fresh(url: str) -> None:
    """The stored read model equals the reference computed from the stored cases."""
    with open_store(url) as store:
        model = store.read_read_model()
        cases = store.read_cases(geometry=False)
    assert_read_models_equal(model, compute_read_model(cases))
    # same order as the reference, not only the same rows
    ordered = model[list(s.READ_MODEL_KEYS)].astype(str).reset_index(drop=True)
    expected = compute_read_model(cases)[list(s.READ_MODEL_KEYS)].astype(str)
    pd.testing.assert_frame_equal(ordered, expected.reset_index(drop=True))


def straddling_cases() -> pd.DataFrame:
    """Four cases on local day 1402-12-10 = 2023-03-01, on both sides of the UTC month edge.

    2023-03-01 00:00 in Tehran is 2023-02-28 20:30 UTC: the first two cases are stored in
    the UTC February file, the last two in the March file, and all four share one day.
    """
    cases = random_cases(4, seed=71, id_prefix="EDGE")
    created = pd.to_datetime(
        ["2023-02-28 21:00", "2023-02-28 23:59", "2023-03-01 00:30", "2023-03-01 10:00"],
        utc=True,
    )
    cases[s.CREATED_AT] = created
    for column in (s.REFERRED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT):
        cases[column] = created + pd.Timedelta(hours=5)
    cases[s.CATEGORY] = cases[s.CATEGORY].iloc[0]
    cases[s.KIND] = cases[s.KIND].iloc[0]
    cases[s.CHANNEL] = cases[s.CHANNEL].iloc[0]
    cases[s.UNIT] = cases[s.UNIT].iloc[0]
    cases[s.STATUS] = "closed"
    for column in (s.REGION_CODE, s.DISTRICT_CODE, s.NEIGHBORHOOD_CODE):
        cases[column] = pd.Series([cases[column].iloc[0]] * len(cases), dtype=object)
    return cases


def test_local_days_of_a_utc_month_reach_into_the_next_local_day() -> None:
    days = local_days({"2023-02"})
    assert min(days) == dt.date(2023, 2, 1)  # 00:00 UTC is 03:30 in Tehran
    assert max(days) == dt.date(2023, 3, 1)  # 23:59 UTC on the 28th is 1 March in Tehran
    assert len(days) == 29


def test_a_change_on_one_side_of_a_month_edge_recounts_the_whole_day(store_url: str) -> None:
    edge = straddling_cases()
    with open_store(store_url) as store:
        store.upsert_cases(random_cases(300, seed=70))
        store.upsert_cases(edge)
        store.refresh_read_model()
        changed = edge.iloc[[3]].copy()
        changed[s.STATUS] = "in_progress"
        changed[s.CLOSED_AT] = pd.Series(pd.NaT, index=changed.index, dtype="datetime64[ns, UTC]")
        assert store.upsert_cases(changed).updated == 1
        store.refresh_read_model()
    assert_model_is_fresh(store_url)
    with open_store(store_url) as store:
        day = store.read_read_model(
            level=s.LEVEL_REGION, start_day=dt.date(2023, 3, 1), end_day=dt.date(2023, 3, 2)
        )
    group = day[day[s.RM_AREA_CODE].astype(str) == str(edge[s.REGION_CODE].iloc[0])]
    group = group[group[s.CATEGORY].astype(str) == str(edge[s.CATEGORY].iloc[0])]
    assert group[s.RM_CASES].sum() >= 4  # the two February-file cases are still counted


def test_moving_a_case_to_another_month_and_emptying_a_month(store_url: str) -> None:
    base = random_cases(200, seed=72, months=3)
    lonely = random_cases(1, seed=73, id_prefix="ALONE", start="2023-09-10", months=1)
    with open_store(store_url) as store:
        store.upsert_cases(base)
        store.upsert_cases(lonely)
        store.refresh_read_model()
        moved = lonely.copy()
        shift = pd.Timedelta(days=-200)
        for column in (s.CREATED_AT, s.REFERRED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT):
            moved[column] = moved[column] + shift
        assert store.upsert_cases(moved).updated == 1
        store.refresh_read_model()
    assert_model_is_fresh(store_url)


def test_a_refresh_with_nothing_changed_writes_nothing(store_url: str) -> None:
    cases = random_cases(150, seed=74)
    with open_store(store_url) as store:
        store.upsert_cases(cases)
        rows = store.refresh_read_model()
        version = store.data_version()
        assert store.upsert_cases(cases).unchanged == len(cases)
        assert store.refresh_read_model() == rows
        if store.backend == "embedded":
            assert store.data_version() == version
        assert store.refresh_read_model(full=True) == rows
    assert_model_is_fresh(store_url)


@pytest.mark.parametrize("months_touched", [1, 2])
def test_new_cases_in_a_few_months_are_added_in(store_url: str, months_touched: int) -> None:
    with open_store(store_url) as store:
        store.upsert_cases(random_cases(400, seed=75))
        store.refresh_read_model()
        extra = random_cases(
            60, seed=76, months=months_touched, start="2023-05-01", id_prefix="NEW"
        )
        assert store.upsert_cases(extra).inserted == len(extra)
        store.refresh_read_model()
    assert_model_is_fresh(store_url)


@settings(
    max_examples=8,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 10_000),
    n_changed=st.integers(1, 30),
    new_status=st.sampled_from(["registered", "closed", "in_progress", "rejected"]),
    shift_days=st.integers(-90, 90),
)
def test_any_sequence_of_updates_leaves_a_fresh_model(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    n_changed: int,
    new_status: str,
    shift_days: int,
) -> None:
    url = str(tmp_path_factory.mktemp("incremental") / "store")
    cases = random_cases(120, seed=seed, months=6)
    rng = np.random.default_rng(seed)
    with open_store(url) as store:
        store.upsert_cases(cases)
        store.refresh_read_model()
        picked = cases.iloc[rng.choice(len(cases), size=n_changed, replace=False)].copy()
        picked[s.STATUS] = new_status
        shift = pd.Timedelta(days=shift_days, hours=int(rng.integers(0, 24)))
        for column in (s.CREATED_AT, s.REFERRED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT):
            picked[column] = picked[column] + shift
        store.upsert_cases(picked)
        store.refresh_read_model()
    assert_model_is_fresh(url)
