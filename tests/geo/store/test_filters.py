"""CaseFilter: normalization, hashing and the pandas reference."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import InputError
from geo.store import CaseFilter
from geo.store.frames import canonical_cases
from ingest import schema as s
from tests.support.cases import random_cases


def test_equal_meaning_gives_equal_hash() -> None:
    a = CaseFilter(start="2024-01-01T00:00+03:30", kinds=["complaint", "request"], regions="1")
    b = CaseFilter(
        start=dt.datetime(2023, 12, 31, 20, 30, tzinfo=dt.UTC),
        kinds=("request", "complaint"),
        regions=["1"],
    )
    assert a == b
    assert hash(a) == hash(b)
    assert {a: 1}[b] == 1
    assert a.start_utc == pd.Timestamp("2023-12-31 20:30", tz="UTC")


def test_naive_times_and_bad_boxes_are_refused() -> None:
    with pytest.raises(InputError, match="naive"):
        CaseFilter(start="2024-01-01")
    with pytest.raises(InputError, match="minimum above its maximum"):
        CaseFilter(bbox=(51.5, 35.6, 51.4, 35.7))
    with pytest.raises(InputError, match="Unknown level"):
        CaseFilter.for_area("province", ["1"])


def test_empty_filter_matches_everything_and_empty_set_nothing() -> None:
    cases = canonical_cases(random_cases(50, seed=1))
    assert CaseFilter().is_empty
    assert len(CaseFilter().apply(cases)) == 50
    assert len(CaseFilter(statuses=[]).apply(cases)) == 0


def test_window_is_half_open_and_bbox_inclusive() -> None:
    cases = canonical_cases(random_cases(200, seed=2))
    t = cases[s.CREATED_AT].iloc[10]
    on_start = CaseFilter(start=t, end=t + pd.Timedelta(microseconds=1)).apply(cases)
    on_end = CaseFilter(end=t).apply(cases)
    assert cases.loc[10, s.CASE_ID] in set(on_start[s.CASE_ID])
    assert cases.loc[10, s.CASE_ID] not in set(on_end[s.CASE_ID])
    lon, lat = cases[s.LON].iloc[0], cases[s.LAT].iloc[0]
    if not np.isnan(lon):
        point = CaseFilter(bbox=(lon, lat, lon, lat)).apply(cases)
        assert cases.loc[0, s.CASE_ID] in set(point[s.CASE_ID])
    assert CaseFilter(bbox=(-180, -90, 180, 90)).apply(cases)[s.LON].notna().all()


def test_area_codes_of_any_level() -> None:
    cases = canonical_cases(random_cases(300, seed=3))
    region = CaseFilter.for_area(s.LEVEL_REGION, "5").apply(cases)
    hood = CaseFilter(neighborhoods=["501"]).apply(cases)
    assert len(region) > 0
    assert set(region[s.REGION_CODE].astype(str)) == {"5"}
    assert set(hood[s.NEIGHBORHOOD_CODE].astype(str)) <= {"501"}
    both = CaseFilter(regions=["5"], neighborhoods=["101"]).apply(cases)
    assert len(both) == 0


@given(kinds=st.lists(st.sampled_from(s.KINDS), max_size=4))
def test_mask_equals_a_plain_isin(kinds: list[str]) -> None:
    cases = canonical_cases(random_cases(100, seed=4))
    filters = CaseFilter(kinds=kinds)
    expected = cases[s.KIND].astype(object).isin(kinds).to_numpy()
    assert (filters.mask(cases) == expected).all()
    assert filters.replace(kinds=None).is_empty
