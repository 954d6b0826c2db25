"""The PostGIS read model refreshed incrementally from days marked dirty by triggers.

What only the PostGIS backend has: triggers on ``cases`` that mark the local day of every
written row (whoever writes, ``psql`` included), a refresh that recomputes just those days
under a ``SHARE`` lock on ``cases``, the bulk load that marks its days itself, and
migration 0004 that marks every stored day. Each test gets a fresh database on the
session's throwaway server. The contract across both backends is in
``test_read_model_incremental.py``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st

from geo.store.frames import case_columns
from geo.store.postgis import PostgisStore, dirty_days, migrate, read_model_refresh
from geo.store.postgis import upsert as upsert_module
from geo.store.postgis.read_model_refresh import RefreshOutcome
from geo.store.read_model import assert_read_models_equal, compute_read_model, local_day
from ingest import schema as s
from tests.geo.store.test_postgis_store import fresh_database
from tests.support.cases import random_cases

pytestmark = pytest.mark.postgis

TIMESTAMPS = (s.CREATED_AT, s.REFERRED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT)
AREAS = (s.REGION_CODE, s.DISTRICT_CODE, s.NEIGHBORHOOD_CODE)
#: 1978-08-04 19:30 UTC is 00:30 (+05) on 5 August in Tehran; at 20:00 UTC the clocks went
#: back to 00:00 (+04): local midnight of that day happened twice.
REPEATED_MIDNIGHT = pd.Timestamp("1978-08-04 19:30", tz="UTC")


@pytest.fixture
def pg_store(postgis_url: str) -> Iterator[PostgisStore]:
    with fresh_database(postgis_url) as url, PostgisStore(url) as store:
        yield store


@contextmanager
def outcomes() -> Iterator[list[RefreshOutcome]]:
    """Record what each refresh in the block did (the store's own path, spied on)."""
    seen: list[RefreshOutcome] = []
    real = read_model_refresh.refresh

    def spy(connection: sa.Connection, *, full: bool = False) -> RefreshOutcome:
        outcome = real(connection, full=full)
        seen.append(outcome)
        return outcome

    with mock.patch.object(read_model_refresh, "refresh", spy):
        yield seen


def query(store: PostgisStore, sql: str, **params: object) -> list[tuple[Any, ...]]:
    with store.engine.begin() as connection:
        result = connection.execute(sa.text(sql), params)
        return [tuple(row) for row in result] if result.returns_rows else []


def marked(store: PostgisStore) -> set[dt.date]:
    return {row[0] for row in query(store, "SELECT day FROM read_model_dirty")}


def days_of(created_at: pd.Series) -> set[dt.date]:
    """The Asia/Tehran days of ``created_at`` by the pandas reference."""
    return set(local_day(created_at).dropna())


def model_oid(store: PostgisStore) -> int:
    return int(query(store, "SELECT 'read_model'::regclass::oid::int")[0][0])


def assert_fresh(store: PostgisStore) -> None:
    """The stored model equals the reference of the stored cases, and its bookkeeping holds."""
    model = store.read_read_model()
    assert_read_models_equal(model, compute_read_model(store.read_cases(geometry=False)))
    assert marked(store) == set()
    stored = query(store, "SELECT row_count FROM read_model_state")[0][0]
    assert stored == len(model)


def cases_by_id(store: PostgisStore, ids: list[str]) -> pd.DataFrame:
    stored = store.read_cases()
    picked: pd.DataFrame = stored[stored[s.CASE_ID].isin(ids)].copy()
    return picked


# -- operations of the random sequences ---------------------------------------------------------
def _pick(store: PostgisStore, rng: np.random.Generator, k: int) -> pd.DataFrame:
    stored = store.read_cases()
    size = min(k, len(stored))
    picked: pd.DataFrame = stored.iloc[rng.choice(len(stored), size=size, replace=False)].copy()
    return picked


def op_insert(store: PostgisStore, rng: np.random.Generator, step: int) -> None:
    month = int(rng.integers(0, 12))
    fresh = random_cases(
        int(rng.integers(1, 40)),
        seed=int(rng.integers(0, 2**31)),
        start=f"2023-{month + 1:02d}-01",
        months=1,
        id_prefix=f"N{step}_",
    )
    assert store.upsert_cases(fresh).inserted == len(fresh)


def op_move_day(store: PostgisStore, rng: np.random.Generator, step: int) -> None:
    picked = _pick(store, rng, int(rng.integers(1, 8)))
    shift = pd.Timedelta(days=int(rng.integers(-60, 60)), hours=int(rng.integers(1, 23)))
    for column in TIMESTAMPS:
        picked[column] = picked[column] + shift
    assert store.upsert_cases(picked).updated == len(picked)


def op_move_area(store: PostgisStore, rng: np.random.Generator, step: int) -> None:
    picked = _pick(store, rng, int(rng.integers(1, 8)))
    donor = _pick(store, rng, 1)
    for column in AREAS:
        code = donor[column].iloc[0]  # a missing code too: the case leaves every area
        value = None if pd.isna(code) else str(code)
        picked[column] = pd.Series([value] * len(picked), index=picked.index, dtype=object)
    store.upsert_cases(picked)


def op_status(store: PostgisStore, rng: np.random.Generator, step: int) -> None:
    picked = _pick(store, rng, int(rng.integers(1, 8)))
    picked[s.STATUS] = pd.Series(
        rng.choice(list(s.STATUSES), size=len(picked)), index=picked.index, dtype=object
    )
    store.upsert_cases(picked)


def op_resend(store: PostgisStore, rng: np.random.Generator, step: int) -> None:
    picked = _pick(store, rng, int(rng.integers(1, 200)))
    assert store.upsert_cases(picked).unchanged == len(picked)


def op_sql_shift(store: PostgisStore, rng: np.random.Generator, step: int) -> None:
    ids = list(_pick(store, rng, 3)[s.CASE_ID])
    query(
        store,
        "UPDATE cases SET created_at = created_at + make_interval(hours => :h) "
        "WHERE case_id = ANY(:ids)",
        h=int(rng.integers(-200, 200)),
        ids=ids,
    )


def op_sql_delete(store: PostgisStore, rng: np.random.Generator, step: int) -> None:
    ids = list(_pick(store, rng, 2)[s.CASE_ID])
    query(store, "DELETE FROM cases WHERE case_id = ANY(:ids)", ids=ids)


OPERATIONS: dict[str, Callable[[PostgisStore, np.random.Generator, int], None]] = {
    "insert": op_insert,
    "move_day": op_move_day,
    "move_area": op_move_area,
    "status": op_status,
    "resend": op_resend,
    "sql_shift": op_sql_shift,
    "sql_delete": op_sql_delete,
}


# each example creates a database: no shrinking (a failure prints its steps and seed)
@settings(max_examples=6, phases=(Phase.explicit, Phase.reuse, Phase.generate))
# found by CI: the last status step gives its case the status it had, so no day turns dirty
@example(
    steps=[("status", 14154), ("move_area", 9108), ("resend", 256891), ("status", 47)], seed=216
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(OPERATIONS)), st.integers(0, 2**31 - 1)),
        min_size=2,
        max_size=6,
    ),
    seed=st.integers(0, 10_000),
)
def test_random_writes_then_incremental_refreshes_equal_the_reference(
    postgis_url: str, steps: list[tuple[str, int]], seed: int
) -> None:
    with fresh_database(postgis_url) as url, PostgisStore(url) as store, outcomes() as seen:
        store.upsert_cases(random_cases(1_200, seed=seed))
        store.refresh_read_model()
        for step, (name, op_seed) in enumerate(steps):
            OPERATIONS[name](store, np.random.default_rng(op_seed), step)
            assert store.refresh_read_model() == len(store.read_read_model())
            assert_fresh(store)
        assert store.refresh_read_model(full=True) == len(store.read_read_model())
        assert_fresh(store)
    assert seen[0].mode == "full"  # the first refresh of a store builds the whole model
    assert seen[-1].mode == "full"
    changed = [o for o, (name, _) in zip(seen[1:-1], steps, strict=True) if name != "resend"]
    # a few days each are recomputed in place, never the whole model; a step that changed
    # nothing (a case given the status it had) leaves no day dirty, and nothing is done
    assert all(o.mode in ("days", "none") for o in changed)
    assert all((o.mode == "none") == (o.days == 0) for o in changed)
    # a re-sent batch changes nothing; after a hand edit in SQL, though, the stored digest
    # of the edited case is stale and the store rewrites it (same content, new digest)
    names = [name for name, _ in steps]
    untouched = [
        o
        for i, o in enumerate(seen[1:-1])
        if names[i] == "resend" and not any(n.startswith("sql_") for n in names[:i])
    ]
    assert all(o.mode == "none" for o in untouched)


# -- nothing dirty, nothing written -------------------------------------------------------------
def _model_tuples(store: PostgisStore) -> set[tuple[object, ...]]:
    return set(query(store, "SELECT ctid::text, xmin::text, id FROM read_model"))


def test_a_refresh_with_nothing_dirty_rewrites_nothing(pg_store: PostgisStore) -> None:
    cases = random_cases(2_000, seed=40)
    pg_store.upsert_cases(cases)
    rows = pg_store.refresh_read_model()
    tuples, oid, version = _model_tuples(pg_store), model_oid(pg_store), pg_store.data_version()
    with outcomes() as seen:
        assert pg_store.upsert_cases(cases).unchanged == len(cases)  # a re-sent file
        assert marked(pg_store) == set()
        start = time.perf_counter()
        assert pg_store.refresh_read_model() == rows
        seconds = time.perf_counter() - start
    assert [o.mode for o in seen] == ["none"]
    assert _model_tuples(pg_store) == tuples  # not one row deleted, inserted or moved
    assert (model_oid(pg_store), pg_store.data_version()) == (oid, version)
    assert seconds < 2.0  # a few statements, whatever the size (about 10 ms here)
    assert len(tuples) == rows


def test_one_changed_day_rewrites_that_day_only(pg_store: PostgisStore) -> None:
    pg_store.upsert_cases(random_cases(2_000, seed=41))
    pg_store.refresh_read_model()
    before = dict(query(pg_store, "SELECT id, day FROM read_model"))
    oid, version = model_oid(pg_store), pg_store.data_version()
    case = cases_by_id(pg_store, [str(random_cases(1, seed=41)[s.CASE_ID].iloc[0])])
    case[s.STATUS] = "rejected" if case[s.STATUS].iloc[0] != "rejected" else "closed"
    assert pg_store.upsert_cases(case).updated == 1
    (day,) = days_of(case[s.CREATED_AT])
    assert marked(pg_store) == {day}
    with outcomes() as seen:
        pg_store.refresh_read_model()
    assert [(o.mode, o.days) for o in seen] == [("days", 1)]
    after = dict(query(pg_store, "SELECT id, day FROM read_model"))
    kept = {i for i, d in before.items() if d != day}
    assert kept <= set(after)  # every row of the other days is the same row
    assert {after[i] for i in set(after) - kept} == {day}
    assert model_oid(pg_store) == oid
    assert pg_store.data_version() != version
    assert_fresh(pg_store)


# -- every writer is caught ---------------------------------------------------------------------
def test_a_hand_written_update_marks_its_day_and_the_next_refresh_counts_it(
    pg_store: PostgisStore,
) -> None:
    cases = random_cases(1_000, seed=42)
    pg_store.upsert_cases(cases)
    pg_store.refresh_read_model()
    target = cases.iloc[7]
    new_status = "rejected" if target[s.STATUS] != "rejected" else "in_progress"
    query(
        pg_store,
        "UPDATE cases SET status = :status WHERE source = :source AND case_id = :case_id",
        status=new_status,
        source=str(target[s.SOURCE]),
        case_id=str(target[s.CASE_ID]),
    )
    (day,) = days_of(cases[s.CREATED_AT].iloc[[7]])
    assert marked(pg_store) == {day}
    pg_store.refresh_read_model()
    assert_fresh(pg_store)
    model = pg_store.read_read_model(
        level=s.LEVEL_REGION, start_day=day, end_day=day + dt.timedelta(days=1)
    )
    cell = model[
        (model[s.RM_AREA_CODE].astype(str) == str(target[s.REGION_CODE]))
        & (model[s.STATUS].astype(str) == new_status)
        & (model[s.CATEGORY].astype(str) == str(target[s.CATEGORY]))
    ]
    assert cell[s.RM_CASES].sum() >= 1


def test_an_edit_from_a_session_with_another_search_path_is_marked(
    pg_store: PostgisStore,
) -> None:
    cases = random_cases(50, seed=56)
    pg_store.upsert_cases(cases)
    pg_store.refresh_read_model()
    with pg_store.engine.begin() as connection:
        connection.execute(sa.text("SET LOCAL search_path TO pg_catalog"))
        connection.execute(
            sa.text("UPDATE public.cases SET unit = 'واحد تازه' WHERE case_id = :c"),
            {"c": str(cases[s.CASE_ID].iloc[0])},
        )
    assert marked(pg_store) == days_of(cases[s.CREATED_AT].iloc[[0]])
    pg_store.refresh_read_model()
    assert_fresh(pg_store)


def test_moving_a_case_to_another_day_by_hand_marks_both_days(pg_store: PostgisStore) -> None:
    cases = random_cases(500, seed=43)
    pg_store.upsert_cases(cases)
    pg_store.refresh_read_model()
    target = cases.iloc[[3]]
    query(
        pg_store,
        "UPDATE cases SET created_at = created_at + interval '3 days' WHERE case_id = :c",
        c=str(target[s.CASE_ID].iloc[0]),
    )
    old = days_of(target[s.CREATED_AT])
    new = days_of(target[s.CREATED_AT] + pd.Timedelta(days=3))
    assert marked(pg_store) == old | new
    assert len(old | new) == 2
    pg_store.refresh_read_model()
    assert_fresh(pg_store)


def test_deleting_and_truncating_by_hand_are_caught(pg_store: PostgisStore) -> None:
    cases = random_cases(400, seed=44)
    pg_store.upsert_cases(cases)
    pg_store.refresh_read_model()
    query(pg_store, "DELETE FROM cases WHERE case_id = :c", c=str(cases[s.CASE_ID].iloc[5]))
    assert marked(pg_store) == days_of(cases[s.CREATED_AT].iloc[[5]])
    pg_store.refresh_read_model()
    assert_fresh(pg_store)
    query(pg_store, "TRUNCATE cases")
    assert marked(pg_store) == days_of(cases[s.CREATED_AT])  # every day the model held
    assert pg_store.refresh_read_model() == 0
    assert_fresh(pg_store)


def test_a_refresh_waits_for_an_uncommitted_hand_edit_and_then_counts_it(
    pg_store: PostgisStore,
) -> None:
    cases = random_cases(600, seed=45)
    pg_store.upsert_cases(cases)
    pg_store.refresh_read_model()
    pg_store.upsert_cases(random_cases(5, seed=46, id_prefix="W"))  # a day to refresh
    done = threading.Event()
    with pg_store.engine.connect() as analyst:
        analyst.execute(
            sa.text("UPDATE cases SET status = 'rejected' WHERE case_id = :c"),
            {"c": str(cases[s.CASE_ID].iloc[0])},
        )

        def refresh() -> None:
            pg_store.refresh_read_model()
            done.set()

        worker = threading.Thread(target=refresh)
        worker.start()
        assert not done.wait(1.0)  # LOCK TABLE cases IN SHARE MODE waits for the analyst
        analyst.commit()
    worker.join(30)
    assert done.is_set()
    assert_fresh(pg_store)  # the edit committed while the refresh waited is in the model


# -- full rebuilds ------------------------------------------------------------------------------
def test_full_equals_incremental_and_many_dirty_days_rebuild(pg_store: PostgisStore) -> None:
    cases = random_cases(1_500, seed=47)
    pg_store.upsert_cases(cases)
    pg_store.refresh_read_model()
    some = cases_by_id(pg_store, list(cases[s.CASE_ID].iloc[:20]))
    some[s.STATUS] = "rejected"
    pg_store.upsert_cases(some)
    oid = model_oid(pg_store)
    rows = pg_store.refresh_read_model()
    assert model_oid(pg_store) == oid  # recomputed in place
    incremental = pg_store.read_read_model()
    assert pg_store.refresh_read_model(full=True) == rows
    assert model_oid(pg_store) != oid  # rebuilt in a new table
    assert_read_models_equal(pg_store.read_read_model(), incremental)
    assert_fresh(pg_store)

    # changes on more than FULL_REFRESH_SHARE of the days: one rebuild is cheaper
    most = pg_store.read_cases()
    most[s.STATUS] = "registered"
    pg_store.upsert_cases(most)
    share = len(marked(pg_store)) / len(days_of(most[s.CREATED_AT]))
    assert share > read_model_refresh.FULL_REFRESH_SHARE
    with outcomes() as seen:
        pg_store.refresh_read_model()
    assert [o.mode for o in seen] == ["full"]
    assert_fresh(pg_store)


def test_an_emptied_model_over_stored_cases_is_rebuilt(pg_store: PostgisStore) -> None:
    pg_store.upsert_cases(random_cases(300, seed=48))
    rows = pg_store.refresh_read_model()
    query(pg_store, "DELETE FROM read_model")  # by hand: nothing is marked dirty
    assert pg_store.refresh_read_model() == rows
    assert_fresh(pg_store)


# -- the bulk load ------------------------------------------------------------------------------
def _insert_trigger_enabled(store: PostgisStore) -> str:
    rows = query(
        store,
        "SELECT tgenabled FROM pg_trigger WHERE tgname = :name",
        name=dirty_days.TRIGGERS["INSERT"],
    )
    return str(rows[0][0])


def test_the_bulk_load_marks_its_days_without_the_trigger(
    pg_store: PostgisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upsert_module, "BULK_MIN_ROWS", 100)
    suspended: list[bool] = []
    real = dirty_days.insert_trigger_suspended

    @contextmanager
    def spy(connection: sa.Connection) -> Iterator[None]:
        state = connection.execute(
            sa.text("SELECT tgenabled FROM pg_trigger WHERE tgname = :n"),
            {"n": dirty_days.TRIGGERS["INSERT"]},
        )
        with real(connection):
            suspended.append(str(state.scalar_one()) == "O")
            yield

    monkeypatch.setattr(dirty_days, "insert_trigger_suspended", spy)
    cases = random_cases(700, seed=49)
    assert pg_store.upsert_cases(cases).inserted == 700
    assert suspended == [True]  # the bulk path ran, with the trigger on before it
    assert marked(pg_store) == days_of(cases[s.CREATED_AT])
    assert _insert_trigger_enabled(pg_store) == "O"  # and on again after it
    pg_store.refresh_read_model()
    assert_fresh(pg_store)


def test_a_failed_bulk_load_leaves_the_trigger_on(
    pg_store: PostgisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(upsert_module, "BULK_MIN_ROWS", 100)

    def failing_copy(*args: object, **kwargs: object) -> int:
        msg = "disk full"
        raise RuntimeError(msg)

    monkeypatch.setattr(upsert_module, "copy_frame", failing_copy)
    with pytest.raises(RuntimeError, match="disk full"):
        pg_store.upsert_cases(random_cases(300, seed=50))
    assert _insert_trigger_enabled(pg_store) == "O"
    monkeypatch.undo()
    few = random_cases(5, seed=51)
    pg_store.upsert_cases(few)  # an ordinary insert: the trigger marks its days
    assert marked(pg_store) == days_of(few[s.CREATED_AT])


def test_marking_every_case_day_finds_exactly_the_stored_days(pg_store: PostgisStore) -> None:
    cases = random_cases(900, seed=52, months=3)
    cases.loc[0, s.CREATED_AT] = pd.Timestamp("2023-03-20 20:29:59.999999", tz="UTC")  # 23:59:59
    cases.loc[1, s.CREATED_AT] = pd.Timestamp("2023-03-20 20:30", tz="UTC")  # midnight, Tehran
    # the only case of 5 August 1978 lies before that day's (later) midnight instant
    cases.loc[2, s.CREATED_AT] = pd.Timestamp("1978-08-04 18:00", tz="UTC")  # 23:00, 4 Aug
    cases.loc[3, s.CREATED_AT] = REPEATED_MIDNIGHT
    pg_store.upsert_cases(cases)
    with pg_store.engine.begin() as connection:
        dirty_days.clear(connection)
        assert dirty_days.mark_all_case_days(connection) == len(days_of(cases[s.CREATED_AT]))
    assert marked(pg_store) == days_of(cases[s.CREATED_AT])


# -- the day ------------------------------------------------------------------------------------
def test_a_day_starts_at_its_first_instant_across_clock_changes(pg_store: PostgisStore) -> None:
    # Iran kept daylight saving time in 1977-80, 1991-2005 and 2008-22, with clock
    # changes at local midnight, and moved its standard offset in 1978
    days = (
        sa.select(sa.cast(sa.column("d"), sa.Date).label("d"))
        .select_from(
            sa.text("generate_series(DATE '1970-01-01', DATE '2040-12-31', '1 day') AS g(d)")
        )
        .subquery("days")
    )
    d = days.c.d
    start = dirty_days.day_start(d)
    tick = sa.literal_column("INTERVAL '1 microsecond'", sa.Interval)
    wrong = sa.select(sa.func.count()).where(
        sa.or_(dirty_days.local_day(start) != d, dirty_days.local_day(start - tick) >= d)
    )
    # ... and local dates never go backwards, so a day is the one range of its instants
    instants = (
        sa.select(sa.column("t", sa.DateTime(timezone=True)).label("t"))
        .select_from(
            sa.text(
                "generate_series(TIMESTAMPTZ '1977-01-01 00:00Z', "
                "TIMESTAMPTZ '2023-01-01 00:00Z', '30 minutes') AS g(t)"
            )
        )
        .subquery("instants")
    )
    day = dirty_days.local_day(instants.c.t)
    steps = sa.select((day - sa.func.lag(day).over(order_by=instants.c.t)).label("step"))
    backwards = sa.select(sa.func.count()).where(steps.subquery().c.step < 0)
    # plain local midnight would start 5 August 1978 an hour late
    repeated = dt.date(1978, 8, 5)
    midnight = sa.text("CAST('1978-08-05' AS timestamp) AT TIME ZONE 'Asia/Tehran'")
    with pg_store.engine.connect() as connection:
        assert connection.execute(wrong.select_from(days)).scalar_one() == 0
        assert connection.execute(backwards).scalar_one() == 0
        first = connection.execute(
            sa.select(dirty_days.day_start(sa.literal(repeated)))
        ).scalar_one()
        late = connection.execute(sa.select(midnight)).scalar_one()
    assert first == REPEATED_MIDNIGHT - pd.Timedelta(minutes=30)
    assert late - first == dt.timedelta(hours=1)


def test_a_case_in_a_repeated_midnight_hour_is_counted_on_its_day(pg_store: PostgisStore) -> None:
    cases = random_cases(300, seed=54, start="1978-07-01", months=2)
    pg_store.upsert_cases(cases)
    pg_store.refresh_read_model()
    edge = random_cases(3, seed=55, id_prefix="EDGE")
    for column in TIMESTAMPS:
        edge[column] = REPEATED_MIDNIGHT + pd.Timedelta(minutes=10)
    pg_store.upsert_cases(edge)
    assert marked(pg_store) == {dt.date(1978, 8, 5)}
    with outcomes() as seen:
        pg_store.refresh_read_model()
    assert [o.mode for o in seen] == ["days"]
    assert_fresh(pg_store)
    with pg_store.engine.begin() as connection:
        dirty_days.mark_all_case_days(connection)
    assert dt.date(1978, 8, 5) in marked(pg_store)


# -- migration 0004 -----------------------------------------------------------------------------
def test_upgrading_a_store_with_cases_marks_every_stored_day(postgis_url: str) -> None:
    cases = random_cases(800, seed=53)
    with fresh_database(postgis_url, postgis=False) as url:
        engine = sa.create_engine(url)
        migrate.upgrade(engine, "0003")
        with engine.begin() as connection:
            upsert_module.upsert_cases(connection, case_columns(cases))
            connection.execute(
                sa.text(
                    "INSERT INTO read_model (source, level, day, cases, open_cases,"
                    " first_response_count, first_response_seconds_sum, closed_count,"
                    " close_seconds_sum, closed_with_due_count, closed_on_time_count,"
                    " satisfaction_count, satisfaction_sum, objected_count, accepted_count,"
                    " reopened_count, reopen_sum)"
                    " VALUES ('synthetic', 'region', '2023-06-01', 1, 0, 0, 0, 0, 0, 0, 0,"
                    " 0, 0, 0, 0, 0, 0)"
                )
            )
        assert migrate.upgrade(engine) == ("0003", "0004")
        with engine.connect() as connection:
            seeded = set(connection.execute(sa.text("SELECT day FROM read_model_dirty")).scalars())
            state = connection.execute(sa.text("SELECT version, row_count FROM read_model_state"))
            assert tuple(state.one()) == (0, 1)
        assert seeded == days_of(cases[s.CREATED_AT])
        with engine.connect() as connection:
            triggers = set(
                connection.execute(
                    sa.text(
                        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'cases'::regclass"
                        " AND NOT tgisinternal"
                    )
                ).scalars()
            )
            functions = set(
                connection.execute(
                    sa.text("SELECT proname FROM pg_proc WHERE proname LIKE 't137%'")
                ).scalars()
            )
        assert triggers == set(dirty_days.TRIGGERS.values())  # the names the code uses
        assert functions == {dirty_days.LOCAL_DAY_FUNCTION, dirty_days.MARK_FUNCTION}
        with PostgisStore(url) as store, outcomes() as seen:
            store.refresh_read_model()
            assert_fresh(store)  # the stale row of the old model is gone
        assert [o.mode for o in seen] == ["full"]

        migrate_down(engine)
        with engine.connect() as connection:
            names = set(sa.inspect(connection).get_table_names())
            functions = connection.execute(
                sa.text("SELECT count(*) FROM pg_proc WHERE proname LIKE 't137_%'")
            ).scalar_one()
            triggers = connection.execute(
                sa.text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 't137_%'")
            ).scalar_one()
        assert not {"read_model_dirty", "read_model_state"} & names
        assert (functions, triggers) == (0, 0)
        assert migrate.upgrade(engine) == ("0003", "0004")
        engine.dispose()


def migrate_down(engine: sa.Engine) -> None:
    """Downgrade the database of ``engine`` to revision 0003."""
    from alembic import command

    with engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "0003")
