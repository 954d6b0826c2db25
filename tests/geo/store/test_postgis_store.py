"""PostGIS backend specifics: migrations, COPY upserts, one-transaction runs, clear errors.

The behaviour shared with the embedded store is checked by ``test_contract.py``; this file
checks what only the PostGIS backend has. Each test gets a fresh database on the session's
throwaway server (:func:`fresh_database`).
"""

from __future__ import annotations

import itertools
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from geo.errors import InputError, StoreError
from geo.store import CaseFilter, IngestBatch, open_store
from geo.store.frames import canonical_boundaries, canonical_cases, case_columns
from geo.store.postgis import PostgisStore, copy_load, migrate, row_encoder
from geo.store.postgis import backend as backend_module
from geo.store.postgis import upsert as upsert_module
from geo.store.postgis.models import CASES, TABLES, Base
from geo.store.postgis.query import where_clauses
from ingest import schema as s
from tests.support.cases import random_cases

pytestmark = pytest.mark.postgis


@contextmanager
def fresh_database(server_url: str, *, postgis: bool = True) -> Iterator[str]:
    """Create a uniquely named database on the server of ``server_url``; yield its URL.

    The database is dropped (``WITH (FORCE)``) afterwards. With ``postgis`` the extension is
    created, as a DBA would before handing the database over.
    """
    url = sa.make_url(server_url)
    name = f"t137_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
        if postgis:
            engine = sa.create_engine(url.set(database=name), isolation_level="AUTOCOMMIT")
            with engine.connect() as connection:
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
            engine.dispose()
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def pg_url(postgis_url: str) -> Iterator[str]:
    """URL of a fresh, empty database with PostGIS on the throwaway server."""
    with fresh_database(postgis_url) as url:
        yield url


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[PostgisStore]:
    with PostgisStore(pg_url) as store:
        yield store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _count(store: PostgisStore, table: str) -> int:
    with store.engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(sa.table(table))
        return int(connection.execute(query).scalar_one())


# -- migrations ---------------------------------------------------------------------------------
def test_migrations_create_every_table_with_gist_indexes(postgis_url: str) -> None:
    with fresh_database(postgis_url, postgis=False) as url:
        engine = sa.create_engine(url)
        before, after = migrate.upgrade(engine)
        assert (before, after) == (None, migrate.head_revision())
        assert migrate.upgrade(engine) == (after, after)  # idempotent
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            gist = connection.execute(
                sa.text(
                    "SELECT tablename, indexdef FROM pg_indexes "
                    "WHERE schemaname = 'public' AND indexdef ILIKE '%USING gist%'"
                )
            ).all()
            unique = connection.execute(
                sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'cases'")
            ).scalars()
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            state = migrate.schema_state(connection)
        engine.dispose()
    assert {
        "cases",
        "case_events",
        "boundaries",
        "quarantine",
        "ingest_runs",
        "read_model",
    } <= tables
    assert {(table, "(geometry)" in definition) for table, definition in gist} == {
        ("cases", True),
        ("boundaries", True),
    }
    assert any("UNIQUE" in d and "(source, case_id)" in d for d in unique)
    # the migration builds exactly the models (PostGIS's own table aside)
    assert [
        d for d in diff if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
    ] == []
    assert state == (migrate.SchemaState.CURRENT, after)


def test_opening_an_empty_database_creates_the_schema(pg_url: str) -> None:
    with open_store(pg_url) as store:
        assert store.backend == "postgis"
        assert store.info().cases == 0
    engine = sa.create_engine(pg_url)
    with engine.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision()
    engine.dispose()


def test_a_schema_newer_than_the_code_is_refused(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match="9999, newer than this t137"):
        PostgisStore(pg_url)


# -- COPY upserts ----------------------------------------------------------------------------------
def test_copy_upsert_counts_inserted_updated_and_unchanged(pg_store: PostgisStore) -> None:
    cases = random_cases(3_000, seed=11)
    assert pg_store.upsert_cases(cases).inserted == 3_000
    again = pg_store.upsert_cases(cases)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3_000)

    changed = cases.iloc[:2_000].copy()
    changed[s.STATUS] = changed[s.STATUS].astype(object)
    flip = changed[s.STATUS] != "rejected"
    targets = changed.index[flip.to_numpy()][:7]
    changed.loc[targets, s.STATUS] = "rejected"
    changed.loc[changed.index[0:1], s.DESCRIPTION] = "توضیح تازه"  # Persian text change
    fresh = random_cases(5, seed=12, id_prefix="N")
    batch = pd.concat([changed, fresh], ignore_index=True)
    counts = pg_store.upsert_cases(batch)
    expected_updated = len(set(targets) | {changed.index[0]})
    assert (counts.inserted, counts.updated) == (5, expected_updated)
    assert counts.unchanged == 2_000 - expected_updated

    stored = pg_store.read_cases(CaseFilter(statuses=["rejected"]))
    reference = canonical_cases(batch).set_index([s.SOURCE, s.CASE_ID])
    assert set(reference.index[reference[s.STATUS] == "rejected"]) <= set(
        zip(stored[s.SOURCE], stored[s.CASE_ID], strict=True)
    )
    assert _count(pg_store, "cases") == 3_005


def test_geometry_is_generated_from_lon_lat(pg_store: PostgisStore) -> None:
    cases = random_cases(50, seed=3)
    pg_store.upsert_cases(cases)
    with pg_store.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT count(*) FILTER (WHERE geometry IS NULL)"
                " = count(*) FILTER (WHERE lon IS NULL),"
                " bool_and(geometry IS NULL OR (ST_X(geometry) = lon AND ST_Y(geometry) = lat"
                " AND ST_SRID(geometry) = 4326)) FROM cases"
            )
        ).one()
    assert tuple(rows) == (True, True)


def test_a_repeated_key_is_refused_before_anything_is_written(pg_store: PostgisStore) -> None:
    cases = random_cases(10, seed=4)
    with pytest.raises(InputError, match="repeats the key"):
        pg_store.upsert_cases(pd.concat([cases, cases.iloc[:1]], ignore_index=True))
    assert _count(pg_store, "cases") == 0


# -- one transaction per run ------------------------------------------------------------------
def _batch(cases: pd.DataFrame, run_id: str) -> IngestBatch:
    events = pd.DataFrame(
        {
            s.SOURCE: cases[s.SOURCE].iloc[:3].to_numpy(),
            s.CASE_ID: cases[s.CASE_ID].iloc[:3].to_numpy(),
            s.EVENT_AT: cases[s.CREATED_AT].iloc[:3].to_numpy(),
            s.EVENT: ["referred"] * 3,
        }
    )
    quarantine = pd.DataFrame(
        {
            s.Q_SOURCE_FILE: ["in.csv"],
            s.Q_ROW_NUMBER: [7],
            s.Q_RAW: ['{"x": "۱"}'],
            s.Q_REASON: ["bad_date"],
        }
    )
    return IngestBatch(
        source="synthetic",
        input_sha256="0" * 64,
        started_at=pd.Timestamp("2024-01-01", tz="UTC"),
        rows_read=len(cases) + 1,
        cases=cases,
        events=events,
        quarantine=quarantine,
        run_id=run_id,
    )


def test_a_failure_mid_run_writes_nothing(
    pg_store: PostgisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = pg_store.write_run(_batch(random_cases(200, seed=5), "run-1"))
    before = pg_store.read_cases()

    def broken_events(connection: sa.Connection, frame: pd.DataFrame) -> int:
        # the cases of the run are already upserted in this transaction when this fails
        assert connection.execute(sa.text("SELECT count(*) FROM cases")).scalar_one() > 200
        msg = "injected failure"
        raise RuntimeError(msg)

    monkeypatch.setattr(backend_module, "append_events", broken_events)
    second = random_cases(300, seed=6, id_prefix="D")
    with pytest.raises(RuntimeError, match="injected failure"):
        pg_store.write_run(_batch(pd.concat([before.iloc[:50], second]), "run-2"))

    pd.testing.assert_frame_equal(pg_store.read_cases(), before)
    runs = pg_store.read_runs()
    assert list(runs[s.RUN_ID]) == ["run-1"]
    assert pg_store.last_run() == first
    assert list(pg_store.read_quarantine()[s.Q_RUN_ID]) == ["run-1"]
    assert len(pg_store.read_events()) == 3


def test_runs_chain_and_count(pg_store: PostgisStore) -> None:
    cases = random_cases(100, seed=8)
    one = pg_store.write_run(_batch(cases, "a"))
    two = pg_store.write_run(_batch(cases, "b"))
    assert (one.seq, one.inserted, one.quarantined) == (1, 100, 1)
    assert (two.seq, two.unchanged, two.previous_hash) == (2, 100, one.run_hash)
    info = pg_store.info()
    assert (info.runs, info.chain_head, info.events, info.quarantined) == (2, two.run_hash, 3, 2)


def test_a_second_writer_waits_then_fails_with_a_clear_message(pg_url: str) -> None:
    cases = random_cases(5, seed=9)
    with PostgisStore(pg_url, lock_timeout_s=0.3) as store, store.engine.connect() as holder:
        holder.execute(sa.select(sa.func.pg_advisory_xact_lock(backend_module.WRITER_LOCK)))
        with pytest.raises(StoreError, match="Another writer"):
            store.upsert_cases(cases)
        holder.rollback()
        assert store.upsert_cases(cases).inserted == 5


# -- errors --------------------------------------------------------------------------------
def test_unreachable_server_gets_one_clear_sentence() -> None:
    port = _free_port()
    url = f"postgresql+psycopg://analyst:s3cret-pw@127.0.0.1:{port}/t137"
    with pytest.raises(StoreError) as info:
        open_store(url)
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "s3cret-pw" not in message
    assert "\n" not in message
    assert message.startswith("Cannot reach the PostGIS server")


def test_urls_for_other_drivers_are_refused() -> None:
    with pytest.raises(StoreError, match="postgresql\\+psycopg"):
        PostgisStore("postgresql+psycopg2://me@127.0.0.1/db")


def test_filters_are_pushed_into_sql(pg_store: PostgisStore) -> None:
    cases = random_cases(2_000, seed=10)
    pg_store.upsert_cases(cases)
    stored = pg_store.read_cases()
    box = (51.3, 35.65, 51.45, 35.75)
    wanted = CaseFilter(
        start=pd.Timestamp("2023-02-01", tz="Asia/Tehran"),
        end=pd.Timestamp("2023-09-01", tz="Asia/Tehran"),
        kinds=["complaint", "request"],
        regions=["1", "2", "3", "6"],
        bbox=box,
    )
    got = pg_store.read_cases(wanted)
    expected = canonical_cases(wanted.apply(stored))
    assert 0 < len(got) < len(stored)
    pd.testing.assert_frame_equal(got.drop(columns=s.GEOMETRY), expected.drop(columns=s.GEOMETRY))
    table = TABLES[CASES]
    statement = sa.select(table.c[s.CASE_ID]).where(*where_clauses(table, wanted))
    compiled = str(statement.compile(dialect=pg_store.engine.dialect))
    assert "ST_Intersects" in compiled
    assert "ST_MakeEnvelope" in compiled
    assert "51.3" not in compiled
    assert "complaint" not in compiled


# -- fidelity of the COPY paths ------------------------------------------------------------------
def test_cases_round_trip_exactly_through_binary_copy(pg_store: PostgisStore) -> None:
    cases = random_cases(500, seed=13)
    tricky = cases[s.DESCRIPTION].astype(object).copy()
    tricky.iloc[0] = ""  # empty text is not missing
    tricky.iloc[1] = 'خط اول\nخط دوم، با "نقل‌قول" و ویرگول,'  # newline, quotes, ZWNJ
    tricky.iloc[2] = None
    cases[s.DESCRIPTION] = tricky
    cases.loc[3, s.CREATED_AT] = pd.Timestamp("1999-12-31 23:59:59.999999", tz="UTC")
    cases.loc[4, s.LON], cases.loc[4, s.LAT] = 51.123456789012345, 35.98765432109876
    cases = cases.set_geometry(gpd.points_from_xy(cases[s.LON], cases[s.LAT], crs=cases.crs))
    pg_store.upsert_cases(cases)
    back = pg_store.read_cases()
    expected = canonical_cases(cases).sort_values([s.SOURCE, s.CASE_ID], ignore_index=True)
    pd.testing.assert_frame_equal(back.drop(columns=s.GEOMETRY), expected.drop(columns=s.GEOMETRY))
    assert back.crs is not None
    assert back.crs.equals(expected.crs)
    assert back.geometry.equals(expected.geometry)
    assert (
        back.loc[back[s.CASE_ID] == cases.loc[1, s.CASE_ID], s.DESCRIPTION].item() == tricky.iloc[1]
    )
    narrow = pg_store.read_cases(columns=[s.STATUS])
    assert list(narrow.columns) == [s.CASE_ID, s.SOURCE, s.STATUS, s.LON, s.LAT, s.GEOMETRY]


def test_a_run_id_can_be_recorded_once(pg_store: PostgisStore) -> None:
    cases = random_cases(10, seed=14)
    pg_store.write_run(_batch(cases, "same"))
    with pytest.raises(StoreError, match="'same' is already recorded"):
        pg_store.write_run(_batch(cases, "same"))
    assert len(pg_store.read_runs()) == 1


def test_boundaries_round_trip(pg_store: PostgisStore, synthetic_geo: gpd.GeoDataFrame) -> None:
    assert pg_store.read_boundaries().empty
    assert pg_store.write_boundaries(synthetic_geo) == len(synthetic_geo)
    assert pg_store.write_boundaries(synthetic_geo) == len(synthetic_geo)  # replaced, not added
    back = pg_store.read_boundaries()
    assert len(back) == len(synthetic_geo)
    assert back.crs is not None
    assert back.crs.equals(synthetic_geo.crs)
    multi = canonical_boundaries(synthetic_geo)  # polygons promoted to multipolygons
    merged = back.merge(
        multi[[s.LEVEL, s.CODE, s.GEOMETRY]], on=[s.LEVEL, s.CODE], suffixes=("", "_in")
    )
    assert (
        gpd.GeoSeries(merged[s.GEOMETRY])
        .geom_equals_exact(gpd.GeoSeries(merged[f"{s.GEOMETRY}_in"]), tolerance=0)
        .all()
    )


def _case_indexes(store: PostgisStore) -> set[str]:
    with store.engine.connect() as connection:
        query = sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'cases'")
        return set(connection.execute(query).scalars())


def test_bulk_loads_rebuild_the_indexes_inside_the_transaction(
    pg_store: PostgisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    indexes = _case_indexes(pg_store)
    assert {"ix_cases_geometry", "ix_cases_created_at", "pk_cases"} <= indexes
    monkeypatch.setattr(upsert_module, "BULK_MIN_ROWS", 100)
    dropped: list[str] = []
    real_copy = upsert_module.copy_frame

    def failing_copy(connection: sa.Connection, *args: object, **kwargs: object) -> int:
        query = sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'cases'")
        dropped.extend(sorted(indexes - set(connection.execute(query).scalars())))
        msg = "disk full"
        raise RuntimeError(msg)

    monkeypatch.setattr(upsert_module, "copy_frame", failing_copy)
    with pytest.raises(RuntimeError, match="disk full"):
        pg_store.upsert_cases(random_cases(500, seed=15))
    assert {"ix_cases_geometry", "pk_cases"} <= set(dropped)  # the bulk path was taken …
    assert _case_indexes(pg_store) == indexes  # … and the rollback restored every index
    assert _count(pg_store, "cases") == 0

    monkeypatch.setattr(upsert_module, "copy_frame", real_copy)
    first = random_cases(500, seed=15)
    assert pg_store.upsert_cases(first).inserted == 500
    assert _case_indexes(pg_store) == indexes
    mixed = pd.concat([first.iloc[:10], random_cases(300, seed=16, id_prefix="M")])
    counts = pg_store.upsert_cases(mixed)
    assert (counts.inserted, counts.updated, counts.unchanged) == (300, 0, 10)
    got = pg_store.read_cases(CaseFilter(bbox=(50.0, 35.0, 52.0, 36.5)))
    expected = canonical_cases(pd.concat([first, mixed.iloc[10:]]))
    assert len(got) == int(expected[s.LON].notna().sum())


def test_the_encoder_thread_hands_over_errors_and_stops_early() -> None:
    def failing() -> Iterator[bytes]:
        yield b"first"
        msg = "encoding failed"
        raise ValueError(msg)

    got: list[bytes] = []
    with pytest.raises(ValueError, match="encoding failed"):
        got.extend(copy_load.prefetched(failing(), depth=1))
    assert got == [b"first"]

    endless = (bytes([i % 256]) for i in itertools.count())
    prefetched = copy_load.prefetched(endless, depth=2)
    assert next(prefetched) == b"\x00"
    prefetched.close()  # the consumer stops early: the worker must stop too
    assert not any(t.name == "t137-copy-encoder" for t in threading.enumerate())


def test_database_errors_in_the_copy_path_become_one_sentence(
    pg_store: PostgisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    cases = random_cases(20, seed=17)
    pg_store.upsert_cases(cases)
    # pretend the keys are new: the straight COPY then hits the primary key
    monkeypatch.setattr(
        upsert_module,
        "classify",
        lambda connection, frame, digests: (np.arange(len(frame)), np.empty(0, dtype=np.int64)),
    )
    with pytest.raises(
        StoreError, match=r'failed: duplicate key value violates.*"pk_cases"'
    ) as info:
        pg_store.upsert_cases(cases)
    assert "\n" not in str(info.value)
    assert info.value.__suppress_context__
    assert _count(pg_store, "cases") == 20


def test_the_frame_encoder_sends_the_same_tuples_as_the_arrow_encoder() -> None:
    frame = case_columns(random_cases(3_000, seed=18))
    frame.loc[5, s.LON] = np.nan  # a missing float
    frame.loc[6, s.CHANNEL] = None  # a missing category
    frame.loc[7, s.DESCRIPTION] = ""  # empty text, not missing
    table = TABLES[CASES]
    names = list(upsert_module.WRITTEN)
    encodings = [copy_load.encoding_of(table.c[name].type) for name in names]
    encoder = row_encoder.FrameEncoder(frame, names, encodings)
    assert encoder.columns[0] == s.CREATED_AT  # fixed-width fields first
    assert sorted(encoder.columns) == sorted(names)
    order = [names.index(name) for name in encoder.columns]
    reference = copy_load.encode_rows(
        copy_load.to_arrow(frame, encoder.columns), [encodings[i] for i in order]
    )
    got = b"".join(encoder.encode(start, start + 700) for start in range(0, 3_000, 700))
    assert got == reference
    assert encoder.encode(10, 10) == b""


def _xmins(store: PostgisStore) -> dict[str, str]:
    with store.engine.connect() as connection:
        query = sa.text("SELECT case_id, xmin::text || ' ' || xmax::text FROM cases")
        rows = connection.execute(query).all()
    return {str(case_id): str(xmin) for case_id, xmin in rows}


def test_unchanged_cases_are_found_by_digest_and_left_untouched(pg_store: PostgisStore) -> None:
    cases = random_cases(400, seed=19)
    pg_store.upsert_cases(cases)
    before = _xmins(pg_store)
    again = pg_store.upsert_cases(cases)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 400)
    assert _xmins(pg_store) == before  # not one row rewritten or locked

    # rows stored without a digest (written before migration 0002) are compared in full
    with pg_store.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE cases SET row_digest = NULL WHERE case_id < :c"),
            {"c": str(cases[s.CASE_ID].iloc[200])},
        )
    changed = cases.copy()
    changed[s.STATUS] = changed[s.STATUS].astype(object)
    changed.loc[3, s.STATUS] = "rejected" if changed.loc[3, s.STATUS] != "rejected" else "closed"
    score = changed.loc[300, s.SATISFACTION]
    changed.loc[300, s.SATISFACTION] = 3 if pd.isna(score) else pd.NA  # to or from missing
    counts = pg_store.upsert_cases(changed)
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 2, 398)
    with pg_store.engine.connect() as connection:
        missing = connection.execute(sa.text("SELECT count(*) FROM cases WHERE row_digest IS NULL"))
        assert missing.scalar_one() == 0  # the digests were filled in
    pd.testing.assert_frame_equal(
        pg_store.read_cases().drop(columns=s.GEOMETRY),
        canonical_cases(changed)
        .sort_values([s.SOURCE, s.CASE_ID], ignore_index=True)
        .drop(columns=s.GEOMETRY),
    )
    assert pg_store.upsert_cases(changed).unchanged == 400


def test_a_refresh_swaps_in_a_read_model_with_the_migrations_names(pg_store: PostgisStore) -> None:
    pg_store.upsert_cases(random_cases(300, seed=20))
    first = pg_store.refresh_read_model()
    assert pg_store.refresh_read_model() == first > 0
    assert len(pg_store.read_read_model()) == first
    with pg_store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        names = set(
            connection.execute(
                sa.text("SELECT relname FROM pg_class WHERE relname LIKE '%read_model%'")
            ).scalars()
        )
        ids = connection.execute(sa.text("SELECT min(id), max(id) FROM read_model")).one()
    assert [
        d for d in diff if not (d[0] == "remove_table" and d[1].name == "spatial_ref_sys")
    ] == []
    assert names == {
        "read_model",
        "pk_read_model",
        "read_model_id_seq",
        "ix_read_model_day",
        "ix_read_model_level_area_code",
        # the incremental refresh's bookkeeping (migration 0004), never swapped
        "read_model_dirty",
        "pk_read_model_dirty",
        "read_model_state",
        "pk_read_model_state",
    }
    assert tuple(ids) == (1, first)  # a fresh identity sequence per model
