"""The full rebuild of the PostGIS read model by several server sessions at once.

The days are split into spans, each aggregated by its own session into a new table that
the caller's transaction swaps in. What must hold: the spans cover every case once and
cut only at local midnights (a Tehran day is never split, even where its midnight was
repeated), any number of sessions gives the same model as one, the swapped-in table has
the migration's names, a table left by a failed rebuild does not stop the next one, and
a failing session leaves the old model in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pandas as pd
import pytest
import sqlalchemy as sa

from geo.store.postgis import PostgisStore, read_model_rebuild
from geo.store.postgis.dirty_days import local_day
from geo.store.postgis.models import CASES, TABLES
from geo.store.read_model import assert_read_models_equal, compute_read_model
from ingest import schema as s
from tests.geo.store.test_postgis_read_model_incremental import query
from tests.geo.store.test_postgis_store import fresh_database
from tests.support.cases import random_cases

pytestmark = pytest.mark.postgis

#: 1978-08-05 began at 00:00 +05 (19:00 UTC on the 4th) and its midnight came again at
#: 20:00 UTC, when the clocks went back: a span must not start at the second midnight.
REPEATED_MIDNIGHT_DAY = dt.date(1978, 8, 5)


@pytest.fixture
def pg_store(postgis_url: str) -> Iterator[PostgisStore]:
    with fresh_database(postgis_url) as url, PostgisStore(url) as store:
        yield store


def _spans(store: PostgisStore, parts: int) -> list[tuple[dt.datetime | None, ...]]:
    with store.engine.begin() as connection:
        return read_model_rebuild.day_spans(connection, parts)


def _in_span(
    store: PostgisStore, what: Any, low: dt.datetime | None, high: dt.datetime | None
) -> set[Any]:
    """The distinct values of ``what`` over the cases created in ``[low, high)``."""
    created = TABLES[CASES].c[s.CREATED_AT]
    statement = sa.select(what)
    if low is not None:
        statement = statement.where(created >= low)
    if high is not None:
        statement = statement.where(created < high)
    with store.engine.begin() as connection:
        return set(connection.execute(statement).scalars())


def _cases_in(store: PostgisStore, low: dt.datetime | None, high: dt.datetime | None) -> set[str]:
    return _in_span(store, TABLES[CASES].c[s.CASE_ID], low, high)


def _days_in(
    store: PostgisStore, low: dt.datetime | None, high: dt.datetime | None
) -> set[dt.date]:
    return _in_span(store, local_day(TABLES[CASES].c[s.CREATED_AT]), low, high)


def _assert_current(store: PostgisStore) -> None:
    expected = compute_read_model(store.read_cases(geometry=False))
    assert_read_models_equal(store.read_read_model(), expected)


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_spans_cover_every_case_once_and_never_split_a_day(
    pg_store: PostgisStore, parts: int
) -> None:
    pg_store.upsert_cases(random_cases(3_000, seed=parts, start="2023-01-01", months=14))
    spans = _spans(pg_store, parts)
    assert len(spans) == parts
    assert spans[0][0] is None
    assert spans[-1][1] is None
    groups = [_cases_in(pg_store, low, high) for low, high in spans]
    assert sum(len(g) for g in groups) == len(set().union(*groups)) == 3_000
    days = [_days_in(pg_store, low, high) for low, high in spans]
    for i, left in enumerate(days):
        for right in days[i + 1 :]:
            assert not left & right, "a local day was split between two spans"


def test_a_span_starts_at_the_first_of_two_repeated_midnights(pg_store: PostgisStore) -> None:
    # cases on 1978-08-04 and 05 only, so the cut for two spans is 1978-08-05
    cases = random_cases(40, seed=5, start="1978-08-04", months=1)
    first = pd.Timestamp("1978-08-04 12:00", tz="UTC")
    created = [first + pd.Timedelta(minutes=45 * i) for i in range(len(cases))]
    cases[s.CREATED_AT] = pd.DatetimeIndex(created)
    for column in (s.REFERRED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT):
        cases[column] = pd.NaT
    pg_store.upsert_cases(cases)
    spans = _spans(pg_store, 2)
    assert len(spans) == 2
    cut = spans[0][1]
    assert cut == dt.datetime(1978, 8, 4, 19, 0, tzinfo=dt.UTC)  # 00:00 +05, not 00:00 +04
    assert _days_in(pg_store, None, cut) == {dt.date(1978, 8, 4)}
    assert _days_in(pg_store, cut, None) == {REPEATED_MIDNIGHT_DAY}


def test_few_days_or_no_cases_give_fewer_spans(pg_store: PostgisStore) -> None:
    assert _spans(pg_store, 4) == [(None, None)]
    one_day = random_cases(30, seed=1, start="2024-03-10", months=1)
    one_day[s.CREATED_AT] = pd.Timestamp("2024-03-10 06:00", tz="UTC")
    for column in (s.REFERRED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT):
        one_day[column] = pd.NaT
    pg_store.upsert_cases(one_day)
    assert _spans(pg_store, 4) == [(None, None)]


@pytest.mark.parametrize("sessions", [1, 2, 5])
def test_any_number_of_sessions_builds_the_reference_model(
    pg_store: PostgisStore, sessions: int
) -> None:
    pg_store.upsert_cases(random_cases(2_500, seed=sessions, start="2023-03-01", months=9))
    with pg_store.engine.begin() as connection:
        connection.execute(sa.text("LOCK TABLE cases IN SHARE MODE"))
        rows = read_model_rebuild.rebuild(connection, sessions=sessions)
    _assert_current(pg_store)
    assert rows == len(pg_store.read_read_model())
    names = {row[0] for row in query(pg_store, "SELECT indexname FROM pg_indexes "
                                               "WHERE tablename = 'read_model'")}  # fmt: skip
    assert names == {"pk_read_model", "ix_read_model_day", "ix_read_model_level_area_code"}
    sequence = query(pg_store, "SELECT pg_get_serial_sequence('read_model', 'id')")[0][0]
    assert sequence == "public.read_model_id_seq"
    assert not query(
        pg_store, f"SELECT 1 FROM pg_class WHERE relname = '{read_model_rebuild.NEXT}'"
    )


def test_a_table_left_by_a_failed_rebuild_is_replaced(pg_store: PostgisStore) -> None:
    pg_store.upsert_cases(random_cases(800, seed=3))
    query(pg_store, f"CREATE TABLE {read_model_rebuild.NEXT} (junk int)")
    query(pg_store, f"INSERT INTO {read_model_rebuild.NEXT} VALUES (1)")
    pg_store.refresh_read_model(full=True)
    _assert_current(pg_store)


def test_a_failing_session_leaves_the_old_model(pg_store: PostgisStore) -> None:
    pg_store.upsert_cases(random_cases(800, seed=4))
    pg_store.refresh_read_model()
    before = pg_store.read_read_model()
    pg_store.upsert_cases(random_cases(300, seed=5, id_prefix="late_"))
    calls = 0
    real = read_model_rebuild._fill

    def failing(engine: sa.Engine, low: object, high: object) -> int:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("session lost")
        return real(engine, low, high)  # type: ignore[arg-type]

    with (
        mock.patch.object(read_model_rebuild, "_fill", failing),
        pytest.raises(RuntimeError, match="session lost"),
    ):
        pg_store.refresh_read_model(full=True)
    assert calls == 2
    assert_read_models_equal(pg_store.read_read_model(), before)
    pg_store.refresh_read_model()  # the late cases' days are still dirty
    _assert_current(pg_store)
