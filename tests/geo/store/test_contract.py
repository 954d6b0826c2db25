"""The case-store contract, run against every backend (``store_url`` is parametrized).

Both backends must behave the same: idempotent upserts, exact updates, filters equal to the
pandas reference, faithful round trips, clear refusals of bad input, the read model equal
to :func:`compute_read_model`, and an unbroken hash chain of ingest runs.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import CRSError, InputError, StoreError
from geo.store import CaseFilter, IngestBatch, open_store
from geo.store.chain import GENESIS_HASH, verify_chain
from geo.store.frames import canonical_cases
from geo.store.read_model import (
    assert_read_models_equal,
    compute_read_model,
    normalize_read_model,
    sum_read_model_frame,
)
from ingest import schema as s
from tests.support.cases import random_cases

F = TypeVar("F", bound=pd.DataFrame)


def by_key(frame: F) -> F:
    """Sort by (source, case_id) with a fresh index (read order is not part of the contract)."""
    return frame.sort_values(list(s.CASE_KEY), kind="stable").reset_index(drop=True)


def assert_cases_equal(actual: gpd.GeoDataFrame, expected: gpd.GeoDataFrame) -> None:
    actual, expected = by_key(actual), by_key(canonical_cases(expected))
    pd.testing.assert_frame_equal(
        pd.DataFrame(actual.drop(columns=s.GEOMETRY)),
        pd.DataFrame(expected.drop(columns=s.GEOMETRY)),
    )
    assert actual.crs is not None
    assert actual.crs.equals(expected.crs)
    assert actual.geometry.equals(expected.geometry)


def persian_cases() -> gpd.GeoDataFrame:
    """A few hand-made cases covering the awkward values."""
    tehran = "Asia/Tehran"
    frame = pd.DataFrame(
        {
            s.CASE_ID: ["۱۲۳-الف", "b", "c"],
            s.SOURCE: ["tehran137", "tehran137", "open311:nyc"],
            s.CHANNEL: ["phone", "app", None],
            s.KIND: ["complaint", "request", "question"],
            s.CATEGORY: ["خدمات شهری", "ترافیک", None],
            s.SUBCATEGORY: ["پسماند", None, "noise"],
            s.DESCRIPTION: ["زباله\u200cها جمع\u200cآوری نشده است", None, "loud music"],
            s.UNIT: ["شهرداری منطقه ۶", "سازمان حمل\u200cونقل و ترافیک", None],
            s.CREATED_AT: [
                pd.Timestamp("2024-03-19 23:59:59.123456", tz=tehran),  # Nowruz eve
                pd.Timestamp("2023-09-22 00:00:00.000001", tz=tehran),
                pd.Timestamp("2024-01-31 20:45", tz="UTC"),  # February in Tehran
            ],
            s.FIRST_RESPONSE_AT: [pd.Timestamp("2024-03-20 10:00", tz=tehran), pd.NaT, pd.NaT],
            s.CLOSED_AT: [pd.NaT, pd.NaT, pd.Timestamp("2024-02-02", tz="UTC")],
            s.DUE_AT: [pd.Timestamp("2024-03-23", tz=tehran), pd.NaT, pd.NaT],
            s.STATUS: ["answered", "registered", "closed"],
            s.CITIZEN_FEEDBACK: [None, None, "objected"],
            s.SATISFACTION: pd.array([None, 5, 1], dtype="Int8"),
            s.REOPEN_COUNT: pd.array([0, None, 2], dtype="Int16"),
            s.CITIZEN_KEY: ["a" * 64, None, "b" * 64],
            s.LON: [51.389, np.nan, -73.95],
            s.LAT: [35.6892, np.nan, 40.78],
            s.ADDRESS: ["تهران، خیابان ولیعصر، کوچه ۱۲", None, "5th Ave"],
            s.GEOCODE_PRECISION: ["point", "none", "point"],
            s.NEIGHBORHOOD_CODE: ["101", None, None],
            s.DISTRICT_CODE: ["11", None, None],
            s.REGION_CODE: ["1", None, None],
            s.DUPLICATE_OF: [None, None, "a"],
        }
    )
    return canonical_cases(frame)


# -- upserts ---------------------------------------------------------------------------------
def test_same_batch_twice_changes_nothing(store_url: str) -> None:
    cases = random_cases(600, seed=1)
    with open_store(store_url) as store:
        first = store.upsert_cases(cases)
        before = store.read_cases()
        second = store.upsert_cases(cases)
        after = store.read_cases()
        info = store.info()
    assert (first.inserted, first.updated, first.unchanged) == (600, 0, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 600)
    pd.testing.assert_frame_equal(by_key(before), by_key(after))
    assert info.cases == 600


def test_changing_one_status_updates_exactly_that_row(store_url: str) -> None:
    cases = random_cases(400, seed=2)
    changed = cases.copy()
    row = 17
    old = changed.loc[row, s.STATUS]
    changed.loc[row, s.STATUS] = "rejected" if old != "rejected" else "closed"
    with open_store(store_url) as store:
        store.upsert_cases(cases)
        counts = store.upsert_cases(changed)
        back = by_key(store.read_cases())
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 1, 399)
    expected = by_key(canonical_cases(changed))
    differs = back[s.STATUS].astype(str) != by_key(canonical_cases(cases))[s.STATUS].astype(str)
    assert list(back.loc[differs, s.CASE_ID]) == [cases.loc[row, s.CASE_ID]]
    assert_cases_equal(back, expected)


def test_a_case_whose_month_changes_moves_instead_of_duplicating(store_url: str) -> None:
    cases = random_cases(50, seed=3)
    moved = cases.copy()
    moved.loc[0, s.CREATED_AT] = moved.loc[0, s.CREATED_AT] + pd.Timedelta(days=95)
    with open_store(store_url) as store:
        store.upsert_cases(cases)
        counts = store.upsert_cases(moved)
        back = store.read_cases()
    assert counts.updated == 1
    assert len(back) == 50
    assert_cases_equal(back, moved)


def test_upsert_of_new_and_changed_cases_in_one_batch(store_url: str) -> None:
    first = random_cases(300, seed=4)
    second = random_cases(500, seed=5)  # same ids C000000000…: 300 updates and 200 inserts
    with open_store(store_url) as store:
        store.upsert_cases(first)
        counts = store.upsert_cases(second)
        back = store.read_cases()
    assert counts.inserted == 200
    assert counts.updated + counts.unchanged == 300
    assert counts.updated > 250
    assert_cases_equal(back, second)


# -- filters ---------------------------------------------------------------------------------
MONTHS = [pd.Timestamp("2023-01-01", tz="UTC") + pd.DateOffset(months=k) for k in range(14)]


@st.composite
def case_filters(draw: st.DrawFn) -> CaseFilter:
    start = draw(st.none() | st.sampled_from(MONTHS))
    end = draw(st.none() | st.sampled_from(MONTHS))
    if start is not None and draw(st.booleans()):
        start = start + pd.Timedelta(hours=draw(st.integers(0, 24 * 40)))
    fields: dict[str, object] = {"start": start, "end": end}
    choices = {
        "kinds": list(s.KINDS),
        "statuses": list(s.STATUSES),
        "categories": ["urban_services", "traffic", "social", "water", "nothing"],
        "regions": [str(k) for k in range(1, 23)],
        "districts": ["1", "101"],  # the synthetic geography has no districts
        "neighborhoods": [str(k) for k in (*range(101, 120), *range(201, 220))],
        "sources": ["synthetic", "open311:nyc"],
        "units": ["شهرداری منطقه 1", "سازمان مدیریت پسماند"],
    }
    for name, values in choices.items():
        if draw(st.integers(0, 3)) == 0:
            fields[name] = draw(st.lists(st.sampled_from(values), max_size=4))
    if draw(st.integers(0, 3)) == 0:
        x0 = draw(st.floats(51.15, 51.6))
        y0 = draw(st.floats(35.59, 35.78))
        fields["bbox"] = (x0, y0, x0 + draw(st.floats(0, 0.3)), y0 + draw(st.floats(0, 0.2)))
    return CaseFilter(**fields)  # type: ignore[arg-type]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(filters=case_filters())
def test_filters_return_exactly_what_the_pandas_reference_returns(
    store_url: str, loaded: gpd.GeoDataFrame, filters: CaseFilter
) -> None:
    with open_store(store_url) as store:
        got = store.read_cases(filters)
    expected = filters.apply(loaded)
    assert_cases_equal(got, expected)


@pytest.fixture
def loaded(store_url: str) -> gpd.GeoDataFrame:
    """The store of ``store_url`` filled with two sources of cases; returns them canonical."""
    tehran = random_cases(1500, seed=6, months=13)
    other = random_cases(200, seed=7, source="open311:nyc", id_prefix="N")
    with open_store(store_url) as store:
        store.upsert_cases(tehran)
        store.upsert_cases(other)
    return canonical_cases(pd.concat([tehran, other], ignore_index=True))


def test_one_month_one_region_filter(store_url: str, loaded: gpd.GeoDataFrame) -> None:
    filters = CaseFilter(
        start=pd.Timestamp("2023-05-01", tz="Asia/Tehran"),
        end=pd.Timestamp("2023-06-01", tz="Asia/Tehran"),
        regions=["3"],
    )
    with open_store(store_url) as store:
        got = store.read_cases(filters)
        projected = store.read_cases(filters, columns=[s.STATUS])
    expected = filters.apply(loaded)
    assert len(expected) > 0
    assert_cases_equal(got, expected)
    assert list(projected.columns) == [s.CASE_ID, s.SOURCE, s.STATUS, s.LON, s.LAT, s.GEOMETRY]
    assert len(projected) == len(expected)


def test_a_read_without_geometry_returns_only_the_asked_columns(
    store_url: str, loaded: gpd.GeoDataFrame
) -> None:
    filters = CaseFilter(regions=["3"])
    with open_store(store_url) as store:
        plain = store.read_cases(filters, columns=[s.CREATED_AT, s.CLOSED_AT], geometry=False)
    expected = filters.apply(loaded)
    assert not isinstance(plain, gpd.GeoDataFrame)
    assert list(plain.columns) == [s.CREATED_AT, s.CLOSED_AT]  # no key, no points added
    order = [s.CREATED_AT, s.CLOSED_AT]
    got = plain.sort_values(order).reset_index(drop=True)
    want = pd.DataFrame(expected[order]).sort_values(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want)


def test_an_empty_set_matches_nothing(store_url: str, loaded: gpd.GeoDataFrame) -> None:
    with open_store(store_url) as store:
        assert len(store.read_cases(CaseFilter(kinds=[]))) == 0
        assert len(store.read_cases(CaseFilter())) == len(loaded)


# -- round trip ------------------------------------------------------------------------------
def test_round_trip_keeps_every_value(store_url: str) -> None:
    cases = persian_cases()
    with open_store(store_url) as store:
        store.upsert_cases(cases)
        back = store.read_cases()
    assert_cases_equal(back, cases)
    back = by_key(back)
    assert str(back[s.CREATED_AT].dtype) == "datetime64[ns, UTC]"
    created = back.set_index(s.CASE_ID)[s.CREATED_AT]
    assert created["۱۲۳-الف"] == pd.Timestamp("2024-03-19 20:29:59.123456", tz="UTC")
    assert back[s.SATISFACTION].dtype == "Int8"
    assert back[s.REOPEN_COUNT].dtype == "Int16"
    assert back[s.SATISFACTION].isna().sum() == 1
    assert isinstance(back[s.KIND].dtype, pd.CategoricalDtype)
    assert list(back[s.KIND].cat.categories) == list(s.KINDS)
    assert "زباله\u200cها جمع\u200cآوری نشده است" in set(back[s.DESCRIPTION].dropna())
    assert back.crs is not None
    assert back.crs.equals("EPSG:4326")
    assert back.geometry.isna().sum() == 1


def test_boundaries_round_trip_and_replace_wholesale(
    store_url: str, synthetic_geo: gpd.GeoDataFrame
) -> None:
    with open_store(store_url) as store:
        assert len(store.read_boundaries()) == 0
        assert store.write_boundaries(synthetic_geo) == len(synthetic_geo)
        back = store.read_boundaries()
        regions = synthetic_geo[synthetic_geo[s.LEVEL] == s.LEVEL_REGION]
        assert store.write_boundaries(regions) == len(regions)
        replaced = store.read_boundaries()
    assert len(back) == len(synthetic_geo)
    assert back.crs is not None
    assert back.crs.equals("EPSG:4326")
    expected = synthetic_geo.set_index([s.LEVEL, s.CODE]).loc[
        list(zip(back[s.LEVEL], back[s.CODE], strict=True))
    ]
    assert list(back[s.NAME_FA]) == list(expected[s.NAME_FA])
    assert shapely.equals(back.geometry.to_numpy(), expected.geometry.to_numpy()).all()
    assert set(replaced[s.LEVEL]) == {s.LEVEL_REGION}


# -- bad input -------------------------------------------------------------------------------
def test_a_crs_other_than_4326_is_refused_naming_both(store_url: str) -> None:
    cases = gpd.GeoDataFrame(
        random_cases(5, seed=8).drop(columns=[s.LON, s.LAT]), crs="EPSG:4326"
    ).to_crs("EPSG:32639")
    with open_store(store_url) as store, pytest.raises(CRSError) as info:
        store.upsert_cases(cases)
    assert "EPSG:32639" in str(info.value)
    assert "EPSG:4326" in str(info.value)


def test_a_missing_required_column_is_named(store_url: str) -> None:
    cases = random_cases(5, seed=9).drop(columns=[s.KIND])
    with open_store(store_url) as store, pytest.raises(InputError, match="'kind'"):
        store.upsert_cases(cases)


def test_a_repeated_key_in_one_batch_is_refused(store_url: str) -> None:
    cases = random_cases(5, seed=10)
    cases = pd.concat([cases, cases.iloc[[2]]], ignore_index=True)
    with open_store(store_url) as store, pytest.raises(InputError, match="repeats the key"):
        store.upsert_cases(cases)


def test_naive_timestamps_are_refused(store_url: str) -> None:
    cases = random_cases(5, seed=11)
    cases[s.CREATED_AT] = cases[s.CREATED_AT].dt.tz_localize(None)
    with open_store(store_url) as store, pytest.raises(InputError, match="naive"):
        store.upsert_cases(cases)


def test_a_column_of_only_missing_naive_timestamps_is_simply_missing(store_url: str) -> None:
    cases = random_cases(5, seed=12)
    cases[s.CLOSED_AT] = pd.NaT  # a naive datetime64 column: there is nothing to localize
    with open_store(store_url) as store:
        store.upsert_cases(cases)
        back = store.read_cases(columns=[s.CASE_ID, s.CLOSED_AT], geometry=False)
    assert back[s.CLOSED_AT].isna().all()
    assert str(back[s.CLOSED_AT].dtype) == "datetime64[ns, UTC]"


# -- events, quarantine, runs ----------------------------------------------------------------
def events_for(cases: pd.DataFrame) -> pd.DataFrame:
    first = cases.iloc[:20]
    return pd.DataFrame(
        {
            s.SOURCE: first[s.SOURCE].to_numpy(),
            s.CASE_ID: first[s.CASE_ID].to_numpy(),
            s.EVENT_AT: first[s.CREATED_AT].to_numpy(),
            s.EVENT: "referred",
            s.EVENT_UNIT: "شهرداری منطقه ۳",
            s.EVENT_NOTE: None,
        }
    )


def quarantine_rows(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            s.Q_SOURCE_FILE: "export.xlsx",
            s.Q_ROW_NUMBER: np.arange(2, 2 + n),
            s.Q_RAW: ['{"شماره": "۱"}'] * n,
            s.Q_REASON: "bad_date",
            s.Q_COLUMN: "created_at",
            s.Q_MESSAGE: "تاریخ نامعتبر",
        }
    )


def test_events_are_appended_once(store_url: str) -> None:
    cases = random_cases(30, seed=12)
    events = events_for(cases)
    with open_store(store_url) as store:
        store.upsert_cases(cases)
        assert store.append_events(events) == 20
        assert store.append_events(events) == 0
        back = store.read_events()
        some = store.read_events(CaseFilter(statuses=[str(cases.loc[0, s.STATUS])]))
    assert len(back) == 20
    assert str(back[s.EVENT_AT].dtype) == "datetime64[ns, UTC]"
    assert set(back[s.EVENT_UNIT].astype(str)) == {"شهرداری منطقه ۳"}
    assert 0 < len(some) <= 20
    assert cases.loc[0, s.CASE_ID] in set(some[s.CASE_ID])


def test_write_run_writes_everything_and_chains_the_hash(store_url: str) -> None:
    cases = random_cases(200, seed=13)
    started = pd.Timestamp("2024-05-01 09:00", tz="Asia/Tehran")
    with open_store(store_url) as store:
        first = store.write_run(
            IngestBatch(
                source="synthetic",
                input_sha256="ab" * 32,
                started_at=started,
                rows_read=203,
                cases=cases,
                events=events_for(cases),
                quarantine=quarantine_rows(3),
                run_id="run-1",
            )
        )
        second = store.write_run(
            IngestBatch(
                source="synthetic",
                input_sha256="ab" * 32,
                started_at=started + pd.Timedelta(hours=1),
                finished_at=started + pd.Timedelta(hours=1, seconds=3),
                rows_read=200,
                cases=cases,
                events=events_for(cases),
                run_id="run-2",
            )
        )
        runs = store.read_runs()
        quarantine = store.read_quarantine("run-1")
        info = store.info()
        events = store.read_events()
    assert (first.inserted, first.updated, first.unchanged, first.quarantined) == (200, 0, 0, 3)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 200)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.run_hash
    assert list(runs[s.RUN_SEQ]) == [1, 2]
    assert list(runs.columns) == list(s.RUN_COLUMNS)
    assert verify_chain(runs) == second.run_hash == info.chain_head
    assert info.last_run == second
    assert info.runs == 2
    assert runs[s.RUN_STARTED_AT].iloc[0] == started
    assert len(quarantine) == 3
    assert set(quarantine[s.Q_RUN_ID]) == {"run-1"}
    assert list(quarantine[s.Q_ROW_NUMBER]) == [2, 3, 4]
    assert quarantine[s.Q_MESSAGE].iloc[0] == "تاریخ نامعتبر"
    assert len(events) == 20


def test_info_counts_by_source_and_month(store_url: str) -> None:
    cases = persian_cases()
    with open_store(store_url) as store:
        store.upsert_cases(cases)
        info = store.info()
    assert info.cases == 3
    # 2024-01-31 20:45 UTC is 2024-02-01 in Tehran; months are local.
    assert info.cases_by_month == (
        ("open311:nyc", "2024-02", 1),
        ("tehran137", "2023-09", 1),
        ("tehran137", "2024-03", 1),
    )
    assert info.as_dict()["cases"] == 3


# -- read model ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("by", "where"),
    [
        ([s.RM_AREA_CODE], None),
        ([s.RM_DAY], {s.CATEGORY: ["waste", "lighting"]}),
        (
            [s.CATEGORY, s.STATUS],
            {s.UNIT: ["شهرداری منطقه ۳", "سازمان بوستان\u200cها"], s.KIND: ["complaint"]},
        ),
        ([], {s.CHANNEL: ["web"]}),
        ([s.RM_AREA_CODE], {s.CATEGORY: ["no-such-category"]}),
    ],
)
def test_summed_read_model_equals_the_pandas_reference(
    store_url: str, by: list[str], where: dict[str, list[str]] | None
) -> None:
    window = {"start_day": dt.date(2023, 2, 1), "end_day": dt.date(2023, 7, 1)}
    with open_store(store_url) as store:
        store.upsert_cases(random_cases(600, seed=15))
        store.upsert_cases(persian_cases())
        store.refresh_read_model()
        model = store.read_read_model(level=s.LEVEL_NEIGHBORHOOD, **window)
        got = store.sum_read_model(by, level=s.LEVEL_NEIGHBORHOOD, where=where, **window)
    want = sum_read_model_frame(model, by, where)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    assert got[s.RM_CASES].sum() == (want[s.RM_CASES].sum() if where else model[s.RM_CASES].sum())
    if not by:
        assert len(got) == 1


def test_summing_by_a_column_that_is_no_key_is_refused(store_url: str) -> None:
    with open_store(store_url) as store, pytest.raises(InputError, match="description"):
        store.sum_read_model([s.DESCRIPTION], level=s.LEVEL_REGION)


def test_read_model_equals_the_pandas_reference(store_url: str) -> None:
    synthetic, persian = random_cases(800, seed=14), persian_cases()
    with open_store(store_url) as store:
        assert len(store.read_read_model()) == 0
        store.upsert_cases(synthetic)
        store.upsert_cases(persian)
        rows = store.refresh_read_model()
        model = store.read_read_model()
        regions = store.read_read_model(
            level=s.LEVEL_REGION, start_day=dt.date(2023, 3, 1), end_day=dt.date(2023, 4, 1)
        )
    # The sources differ, so the two models have no group in common.
    expected = normalize_read_model(
        pd.concat(
            [compute_read_model(canonical_cases(synthetic)), compute_read_model(persian)],
            ignore_index=True,
        )
    )
    assert rows == len(expected)
    assert_read_models_equal(model, expected)
    subset = expected[
        (expected[s.RM_LEVEL] == s.LEVEL_REGION)
        & (expected[s.RM_DAY] >= dt.date(2023, 3, 1))
        & (expected[s.RM_DAY] < dt.date(2023, 4, 1))
    ]
    assert_read_models_equal(regions, subset)
    assert model[s.RM_CASES].sum() == 3 * (len(synthetic) + len(persian))


# -- opening ---------------------------------------------------------------------------------
def test_store_reopens_with_the_same_content(store_url: str) -> None:
    cases = random_cases(100, seed=15)
    with open_store(store_url) as store:
        store.upsert_cases(cases)
    with open_store(store_url) as store:
        assert_cases_equal(store.read_cases(), cases)


def test_a_closed_store_refuses_work(store_url: str) -> None:
    store = open_store(store_url)
    store.close()
    with pytest.raises(StoreError):
        store.read_cases()


def test_data_version_moves_with_runs_and_refreshes_only(store_url: str) -> None:
    cases = random_cases(50, seed=31)

    def batch(run_id: str) -> IngestBatch:
        return IngestBatch(
            source="synthetic",
            input_sha256="cd" * 32,
            started_at=pd.Timestamp("2024-05-01 09:00", tz="Asia/Tehran"),
            rows_read=len(cases),
            cases=cases,
            run_id=run_id,
        )

    with open_store(store_url) as store:
        empty = store.data_version()
        assert store.data_version() == empty  # reading changes nothing
        store.write_run(batch("v-1"))
        after_run = store.data_version()
        store.read_cases()
        assert store.data_version() == after_run
        store.refresh_read_model()
        after_refresh = store.data_version()
        store.write_run(batch("v-2"))  # same cases again: a new run all the same
        after_second = store.data_version()
    assert len({empty, after_run, after_refresh, after_second}) == 4


def test_the_source_status_text_is_kept_beside_the_mapped_status(store_url: str) -> None:
    cases = random_cases(6, seed=32)
    cases[s.STATUS_RAW] = ["open", "Closed", "در دست اقدام", None, "acknowledged", "open"]
    with open_store(store_url) as store:
        store.upsert_cases(cases)
        back = store.read_cases(columns=[s.CASE_ID, s.STATUS, s.STATUS_RAW], geometry=False)
        again = store.upsert_cases(cases)
    got = dict(zip(back[s.CASE_ID], back[s.STATUS_RAW], strict=True))
    want = dict(zip(cases[s.CASE_ID], cases[s.STATUS_RAW], strict=True))
    assert got == want
    assert again.unchanged == len(cases)
