"""Quality page, map overlays, subcategory filter, exports, KM median, rankings, cache refresh."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import dash
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from flask.testing import FlaskClient

from analytics.indicators import kpis
from analytics.ranking import NOT_ENOUGH, RANKED, rank_areas
from dash_app import AppSettings, auth, create_app, data, derive, ids
from dash_app.callbacks import cases as cases_cb
from dash_app.callbacks import filters as filters_cb
from dash_app.callbacks import pages, quality
from dash_app.state import Filters
from geo.store import IngestBatch, open_store
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from tests.dash_app.conftest import MANAGER, REGION, REGION_MANAGER, ingest_cases
from tests.support.cases import random_cases


def _download(payload: dict[str, Any]) -> bytes:
    return base64.b64decode(payload["content"])


# --- subcategory filter ----------------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
def test_subcategory_filter_narrows_every_aggregate(small_cases: gpd.GeoDataFrame) -> None:
    svc = data.service()
    mapping = svc.subcategories()
    expected = small_cases.dropna(subset=[s.SUBCATEGORY])
    assert set(mapping["traffic"]) == set(
        expected.loc[expected[s.CATEGORY] == "traffic", s.SUBCATEGORY].astype(str)
    )
    chosen = Filters(level=s.LEVEL_REGION, subcategories=("parking",))
    table = svc.area_table(chosen)
    want = small_cases.loc[small_cases[s.SUBCATEGORY] == "parking"]
    got = table.set_index(s.CODE)["volume"]
    assert got.sum() == want[s.REGION_CODE].notna().sum()
    assert got["1"] == (want[s.REGION_CODE].astype(str) == "1").sum()
    assert svc.totals(chosen)["volume"] == len(want)
    # the subcategory combines with the other filters (a kind here)
    both = Filters(level=s.LEVEL_REGION, subcategories=("parking",), kinds=("complaint",))
    assert svc.totals(both)["volume"] == int((want[s.KIND] == "complaint").sum())
    # and reaches the case list
    listed = svc.cases(chosen, None, 0)
    assert listed.total == len(want)
    assert set(listed.rows[s.SUBCATEGORY].astype(str)) == {"parking"}


@pytest.mark.usefixtures("app_context")
def test_subcategory_choices_follow_the_categories() -> None:
    options, kept = filters_cb.subcategory_choices(["traffic"], ["parking", "waste"])
    values = {o["value"] for o in options}
    assert "parking" in values
    assert "waste" not in values
    assert kept == ["parking"]
    every, _ = filters_cb.subcategory_choices([], None)
    assert {"parking", "waste"} <= {o["value"] for o in every}


def test_filters_carry_the_subcategory_through_the_url() -> None:
    filters = Filters.from_query({"subcategory": "parking,signals", "category": "traffic"})
    assert filters.subcategories == ("parking", "signals")
    assert Filters.from_query(filters.to_query()) == filters
    assert len(ids.FILTERS) == 8
    assert Filters.from_inputs(*([None] * 7), ["x"]).subcategories == ("x",)


# --- quality ---------------------------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
def test_quality_flags_per_unit_and_month(small_cases: gpd.GeoDataFrame) -> None:
    flags = data.service().quality(Filters())
    assert int(flags["volume"].sum()) == len(small_cases)
    assert set(flags[s.UNIT].astype(str)) == set(small_cases[s.UNIT].astype(str))
    figure, rows, columns, note = quality.quality_outputs(Filters(), "en")
    assert len(rows) == len(flags)
    assert {"unit", "month", "quick", "month_end", "objected", "reopened", "bounced"} <= {
        c["id"] for c in columns
    }
    assert rows[0]["month"].split()[0] in {
        "Farvardin",
        "Ordibehesht",
        "Khordad",
        "Tir",
        "Mordad",
        "Shahrivar",
        "Mehr",
        "Aban",
        "Azar",
        "Dey",
        "Bahman",
        "Esfand",
    }
    assert "no case events" in note
    assert [trace.name for trace in figure.data] == ["Quick-close flag", "Month-end spike flag"]
    one_unit = str(small_cases[s.UNIT].iloc[0])
    only = data.service().quality(Filters(units=(one_unit,)))
    assert set(only[s.UNIT].astype(str)) == {one_unit}


def test_quality_rows_put_flagged_months_first() -> None:
    from dash_app.quality_views import quality_rows

    frame = pd.DataFrame(
        {
            s.UNIT: ["a", "b"],
            "period": ["1403-06", "1403-07"],
            "volume": [50, 40],
            "quick_close_share": [0.0, 0.5],
            "quick_close_flag": [False, True],
            "closures": [40, 30],
            "month_end_share": [0.1, 0.6],
            "month_end_ratio": [1.0, 6.0],
            "month_end_flag": [False, True],
            "objection_share": [0.2, np.nan],
            "objection_ignored": [1, 0],
            "reopen_share": [0.05, 0.0],
            "bounced_share": [np.nan, np.nan],
        }
    )
    rows, _ = quality_rows(frame, "fa")
    assert [r["unit"] for r in rows] == ["b", "a"]
    assert rows[0]["flags"] == 2
    assert rows[0]["month"] == "مهر ۱۴۰۳"
    assert rows[0]["quick"] == 50.0
    assert rows[0]["objected"] is None
    assert rows[1]["quick_flag"] == ""


# --- Kaplan–Meier median -------------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
def test_close_median_is_kaplan_meier_with_open_cases_censored(
    small_cases: gpd.GeoDataFrame,
) -> None:
    median = data.service().close_median(Filters())
    frame = pd.DataFrame(small_cases[[s.CREATED_AT, s.CLOSED_AT]])
    as_of = derive.latest_instant(frame)
    reference = kpis(frame, period=None, as_of=as_of)
    assert median.n == len(small_cases)
    assert median.closed == int(small_cases[s.CLOSED_AT].notna().sum())
    assert median.days == pytest.approx(float(reference["close_median_h"].iloc[0]) / 24, rel=1e-3)
    assert median.lo_days <= median.days <= median.hi_days
    # dropping the open cases (a naive median of the closed ones) gives a shorter time
    closed = frame.dropna(subset=[s.CLOSED_AT])
    naive = (closed[s.CLOSED_AT] - closed[s.CREATED_AT]).dt.total_seconds().median() / 86400
    assert median.days > naive


def test_close_median_of_nothing_and_of_open_cases() -> None:
    empty = pd.DataFrame(
        {
            s.CREATED_AT: pd.Series([], dtype="datetime64[ns, UTC]"),
            s.CLOSED_AT: pd.Series([], dtype="datetime64[ns, UTC]"),
        }
    )
    assert np.isnan(derive.close_median(empty).days)
    created = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)
    mostly_open = pd.DataFrame(
        {s.CREATED_AT: created, s.CLOSED_AT: pd.to_datetime([None, None, "2024-01-04"], utc=True)}
    )
    median = derive.close_median(mostly_open)
    assert np.isnan(median.days)  # more than half still open: not reached
    assert (median.n, median.closed) == (3, 1)


# --- rankings ------------------------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("kpi", ["sla", "close_median", "satisfaction", "objection"])
def test_rankings_come_from_rank_areas_with_the_minimum_volume_rule(kpi: str) -> None:
    svc = data.service()
    ranked = svc.ranking(Filters(level=s.LEVEL_NEIGHBORHOOD), kpi)
    assert len(ranked) == 20
    small = ranked["volume"] < svc.settings.min_volume
    assert (ranked.loc[small, "status"] == NOT_ENOUGH).all()
    assert ranked.loc[small, "rank"].isna().all()
    good = ranked["status"] == RANKED
    assert good.any()
    assert (ranked.loc[good, "rank_lo"] <= ranked.loc[good, "rank_hi"]).all()
    assert ranked.loc[good, "rank"].min() == 1
    # the same as analytics.rank_areas on the read-model sums and the per-area KM medians
    table = svc.area_table(Filters(level=s.LEVEL_NEIGHBORHOOD))
    stats = svc.area_case_stats(Filters(level=s.LEVEL_NEIGHBORHOOD))
    frame = derive.ranking_input(table, stats, s.LEVEL_NEIGHBORHOOD, s.LEVEL_REGION)
    direct = rank_areas(frame, data.RANK_METRICS[kpi], s.LEVEL_NEIGHBORHOOD, min_volume=30)
    assert ranked[s.CODE].tolist() == direct[s.NEIGHBORHOOD_CODE].tolist()
    np.testing.assert_allclose(ranked["rank_hi"], direct["rank_hi"])
    rows, _columns, note = pages.ranking_table(Filters(level=s.LEVEL_NEIGHBORHOOD), kpi, "en")
    assert "fewer than 30 cases are not ranked" in note
    assert [r["code"] for r in rows] == ranked[s.CODE].tolist()


@pytest.mark.usefixtures("app_context")
def test_region_ranking_shrinks_toward_the_city() -> None:
    ranked = data.service().ranking(Filters(level=s.LEVEL_REGION), "objection")
    assert len(ranked) == 4
    assert (ranked["status"] == RANKED).all()
    raw, shrunk = ranked["raw"].to_numpy(), ranked["estimate"].to_numpy()
    assert np.ptp(shrunk) <= np.ptp(raw) + 1e-12


# --- map overlays ----------------------------------------------------------------------------
@pytest.fixture
def clustered_app(clustered_store: Path) -> dash.Dash:
    return create_app(AppSettings(store_url=str(clustered_store), require_login=False))


def test_map_overlays_add_cluster_markers_and_no_case_ids(clustered_app: dash.Dash) -> None:
    with clustered_app.server.test_request_context():
        svc = data.service()
        clusters = svc.overlay(Filters(), data.OVERLAY_CLUSTERS)
        dupes = svc.overlay(Filters(), data.OVERLAY_DUPLICATES)
        plain = pages.map_figure(Filters(), "volume", "en")
        both = pages.map_figure(Filters(), "volume", "en", ["clusters", "duplicates", "bogus"])
        other = svc.overlay(Filters(categories=("no-such-category",)), data.OVERLAY_CLUSTERS)
    assert not clusters.empty
    assert clusters["n_cases"].max() >= 55  # the hot corner (a few background cases may join)
    assert not dupes.empty
    assert dupes["n_cases"].max() >= 50  # reports of one problem within 50 m and 72 h
    assert (dupes["n_cases"] >= data.MIN_DUPLICATE_GROUP).all()
    assert other.empty  # the overlay follows the filters
    for points in (clusters, dupes):
        assert list(points.columns) == list(derive.OVERLAY_COLUMNS)
        assert points["lon"].between(51.0, 52.0).all()
        assert points["lat"].between(35.0, 36.5).all()
    extra = [trace for trace in both.data if trace.type == "scattermap"]
    assert len(both.data) == len(plain.data) + 2
    assert [trace.name for trace in extra] == ["Case density clusters", "Duplicate report groups"]
    assert len(extra[0].lon) == len(clusters)
    text = both.to_json()
    assert "K0000" not in text  # markers carry counts and categories, never case ids


def test_duplicate_points_group_reports_of_one_problem() -> None:
    cases = pd.DataFrame(
        {
            s.CASE_ID: ["a", "b", "c", "d", "e"],
            s.LON: [51.40, 51.41, 51.42, 51.5, 51.6],
            s.LAT: [35.70, 35.70, 35.70, 35.8, 35.9],
            s.CATEGORY: ["traffic"] * 5,
        }
    )
    linked = pd.Series([None, "a", "a", None, "d"], dtype="string")
    points = derive.duplicate_points(cases, linked, 3)
    assert len(points) == 1
    assert points.loc[0, "n_cases"] == 3
    assert points.loc[0, "lon"] == pytest.approx(51.41)
    assert len(derive.duplicate_points(cases, linked, 2)) == 2


# --- exports -------------------------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
def test_ranking_csv_has_a_bom_and_the_chain_head(small_cases: gpd.GeoDataFrame) -> None:
    payload = pages.ranking_download(Filters(level="region"), "sla", "fa", "csv")
    assert payload["filename"] == "ranking-sla-region.csv"
    content = _download(payload)
    assert content.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig")
    assert "رتبه" in frame.columns
    assert len(frame) == 4
    assert frame["t137_chain_head"].iloc[0] == data.service().chain_head().run_hash


@pytest.mark.usefixtures("app_context")
def test_manager_case_export_holds_every_matching_case(small_cases: gpd.GeoDataFrame) -> None:
    payload = cases_cb.cases_download(Filters(), None, "en", "xlsx")
    frame = pd.read_excel(io.BytesIO(_download(payload)), sheet_name="data", engine="openpyxl")
    assert len(frame) == len(small_cases)
    assert "Case id" in frame.columns
    assert not {"citizen_key", "description", "lon", "lat"} & set(frame.columns)


def test_region_manager_exports_only_their_region(region_context: None) -> None:
    own = cases_cb.cases_download(Filters(), None, "en", "csv")
    frame = pd.read_csv(io.BytesIO(_download(own)), encoding="utf-8-sig", dtype=str)
    assert len(frame) > 0
    assert set(frame["Region"]) == {REGION}
    other = cases_cb.cases_download(Filters(), "2", "en", "csv")
    assert pd.read_csv(io.BytesIO(_download(other)), encoding="utf-8-sig").empty
    assert data.service().case_export(Filters(), "201").empty  # a neighborhood of region 2


# --- over HTTP: the guard and the role rule -------------------------------------------------
def _body(app: dash.Dash, output: str, values: dict[str, Any], changed: str) -> dict[str, Any]:
    key = next(k for k in app.callback_map if f"{output}." in k)
    spec = app.callback_map[key]

    def items(kind: str) -> list[dict[str, Any]]:
        return [
            {"id": i["id"], "property": i["property"], "value": values.get(i["id"])}
            for i in spec[kind]
        ]

    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]}
        for part in key.strip(".").split("...")
    ]
    return {
        "output": key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": items("inputs"),
        "state": items("state"),
        "changedPropIds": [changed],
    }


def _login(client: FlaskClient, name: str, password: str) -> None:
    response = client.post("/login", data={"username": name, "password": password, "next": "/"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("output", "values", "changed"),
    [
        (ids.QUALITY_TABLE, {ids.F_LANG: "en"}, f"{ids.F_LEVEL}.value"),
        (ids.CASES_DOWNLOAD, {ids.CASES_CSV: 1, ids.F_LANG: "en"}, f"{ids.CASES_CSV}.n_clicks"),
        (ids.RANK_DOWNLOAD, {ids.RANK_CSV: 1, ids.F_LANG: "en"}, f"{ids.RANK_CSV}.n_clicks"),
        (ids.F_SUBCATEGORY, {ids.F_CATEGORY: ["traffic"]}, f"{ids.F_CATEGORY}.value"),
    ],
)
def test_anonymous_requests_to_new_callbacks_are_refused(
    app: dash.Dash, output: str, values: dict[str, Any], changed: str
) -> None:
    client = app.server.test_client()
    response = client.post("/_dash-update-component", json=_body(app, output, values, changed))
    assert response.status_code == 403
    # the data layer refuses too, whatever reaches it
    with app.server.test_request_context():
        assert not auth.current_viewer().is_staff
        with pytest.raises(auth.AccessDeniedError):
            data.service().quality(Filters())
        with pytest.raises(auth.AccessDeniedError):
            data.service().case_export(Filters(), None)


def test_manager_gets_the_quality_table_over_http(app: dash.Dash) -> None:
    client = app.server.test_client()
    _login(client, *MANAGER)
    body = _body(app, ids.QUALITY_TABLE, {ids.F_LANG: "en"}, f"{ids.F_LEVEL}.value")
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    payload = json.loads(response.get_data(as_text=True))
    assert payload["response"][ids.QUALITY_TABLE]["data"]


def test_crafted_export_for_another_region_yields_nothing(app: dash.Dash) -> None:
    client = app.server.test_client()
    _login(client, *REGION_MANAGER)
    for area, expect_rows in (("2", False), ("201", False), (None, True)):
        values = {ids.CASES_CSV: 1, ids.CASES_AREA: area, ids.F_LANG: "en"}
        body = _body(app, ids.CASES_DOWNLOAD, values, f"{ids.CASES_CSV}.n_clicks")
        response = client.post("/_dash-update-component", json=body)
        assert response.status_code == 200
        payload = json.loads(response.get_data(as_text=True))
        download = payload["response"][ids.CASES_DOWNLOAD]["data"]
        frame = pd.read_csv(io.BytesIO(_download(download)), encoding="utf-8-sig", dtype=str)
        assert (len(frame) > 0) == expect_rows, area
        if expect_rows:
            assert set(frame["Region"]) == {REGION}


# --- the cache follows the store ----------------------------------------------------------
def test_a_new_ingest_run_shows_on_the_next_callback(tmp_path: Path) -> None:
    bounds = synthetic_boundaries(n_regions=2, n_neighborhoods=6)
    path = tmp_path / "store"
    with open_store(str(path)) as store:
        store.write_boundaries(bounds)
    ingest_cases(path, random_cases(200, seed=1, boundaries=bounds, months=3), "1")
    settings = AppSettings(store_url=str(path), require_login=False, store_check_s=0)
    app = create_app(settings)
    with app.server.test_request_context():
        before = pages.map_figure(Filters(level="region"), "volume", "en")
        assert data.service().totals(Filters())["volume"] == 200
        first_head = data.service().chain_head()
    more = random_cases(150, seed=2, boundaries=bounds, months=3, id_prefix="N")
    ingest_cases(path, more, "2")
    with app.server.test_request_context():
        assert data.service().totals(Filters())["volume"] == 350
        assert data.service().chain_head().seq == first_head.seq + 1
        assert data.service().cases(Filters(), None, 0).total == 350
        after = pages.map_figure(Filters(level="region"), "volume", "en")
    assert after.to_json() != before.to_json()


def test_the_store_version_is_read_once_per_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bounds = synthetic_boundaries(n_regions=2, n_neighborhoods=6)
    path = tmp_path / "store"
    with open_store(str(path)) as store:
        store.write_boundaries(bounds)
    ingest_cases(path, random_cases(50, seed=3, boundaries=bounds, months=2), "3")
    app = create_app(AppSettings(store_url=str(path), require_login=False, store_check_s=0))
    calls: list[int] = []
    original = data.open_store

    def counting(url: str) -> Any:
        calls.append(1)
        return original(url)

    monkeypatch.setattr(data, "open_store", counting)
    with app.server.test_request_context():
        svc = data.service()
        svc.totals(Filters())
        reads = len(calls)
        svc.totals(Filters())  # cached, and the version is already known in this request
        assert len(calls) == reads
    with app.server.test_request_context():
        data.service().totals(Filters())
        assert len(calls) == reads + 1  # one look at the run log, then the cache


def test_a_request_between_a_run_and_its_refresh_does_not_pin_the_old_model(
    tmp_path: Path,
) -> None:
    # ingest records the run, then refreshes the read model: a request in between must not
    # keep the old read model cached under the new run's version
    bounds = synthetic_boundaries(n_regions=2, n_neighborhoods=6)
    path = tmp_path / "store"
    with open_store(str(path)) as store:
        store.write_boundaries(bounds)
    ingest_cases(path, random_cases(80, seed=4, boundaries=bounds, months=2), "4")
    app = create_app(AppSettings(store_url=str(path), require_login=False, store_check_s=0))
    more = random_cases(40, seed=5, boundaries=bounds, months=2, id_prefix="M")
    with open_store(str(path)) as store:
        store.write_run(
            IngestBatch(
                source="synthetic",
                input_sha256="5" * 64,
                started_at=pd.Timestamp("2024-06-02", tz="UTC"),
                rows_read=len(more),
                cases=more,
            )
        )
        with app.server.test_request_context():
            assert data.service().totals(Filters())["volume"] == 80  # model not refreshed yet
        store.refresh_read_model()
    with app.server.test_request_context():
        assert data.service().totals(Filters())["volume"] == 120


@pytest.mark.usefixtures("app_context")
def test_a_selection_with_no_case_gives_empty_views_not_errors() -> None:
    nothing = Filters(level=s.LEVEL_NEIGHBORHOOD, categories=("no-such-category",))
    figure, rows, _columns, _note = quality.quality_outputs(nothing, "en")
    assert rows == []
    assert figure.layout.annotations[0].text == "No data for this selection."
    assert np.isnan(data.service().close_median(nothing).days)
    for kpi in data.RANK_METRICS:
        ranked = data.service().ranking(nothing, kpi)
        assert len(ranked) == 20
        assert (ranked["status"] == NOT_ENOUGH).all()
    assert data.service().overlay(nothing, data.OVERLAY_DUPLICATES).empty
    empty = data.service().case_export(nothing, None)
    assert empty.empty
    assert list(empty.columns) == list(data.CASE_LIST_COLUMNS)


def test_concurrent_cold_requests_read_the_cases_once(
    app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    calls: list[int] = []
    original = derive.close_median

    def slow(cases: pd.DataFrame) -> derive.Median:
        calls.append(1)
        time.sleep(0.3)
        return original(cases)

    monkeypatch.setattr(derive, "close_median", slow)
    app.server.extensions[auth.SETTINGS_EXTENSION] = AppSettings(
        store_url=app.server.extensions[auth.SETTINGS_EXTENSION].store_url, require_login=False
    )
    results: list[float] = []

    def ask() -> None:
        with app.server.test_request_context():
            results.append(data.service().close_median(Filters(kinds=("complaint",))).days)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    assert len(set(results)) == 1
    assert len(calls) == 1  # the others waited for the first one's cached result


def test_view_state_names_match_the_data_layer() -> None:
    from dash_app import state

    assert tuple(data.RANK_METRICS) == state.RANK_KPIS
    assert data.OVERLAYS == (data.OVERLAY_CLUSTERS, data.OVERLAY_DUPLICATES)
    assert state.overlays_of("duplicates,clusters,x") == ("clusters", "duplicates")
    assert state.overlays_of(None) == ()
    assert state.rank_kpi_of("volume") == "sla"


@pytest.mark.usefixtures("app_context")
def test_a_window_starting_on_a_skipped_tehran_midnight_works() -> None:
    # 2022-03-22 00:00 did not exist in Tehran (clocks jumped to 01:00): it used to raise
    # NonExistentTimeError in every view that reads cases, a 500 for the user
    spring = Filters(start=dt.date(2022, 3, 22), stop=dt.date(2022, 3, 22))
    page = data.service().cases(spring, None, 0)
    assert page.total == 0
    assert np.isnan(data.service().close_median(spring).days)


def test_area_case_stats_orders_areas_by_code_and_skips_cases_without_one() -> None:
    created = pd.to_datetime(["2024-01-01T08:00Z"] * 5)
    cases = pd.DataFrame(
        {
            s.CREATED_AT: created,
            s.CLOSED_AT: created + pd.to_timedelta([2, 4, 6, 8, 10], "h"),
            s.SATISFACTION: [5, 4, None, 3, 1],
            s.NEIGHBORHOOD_CODE: pd.Categorical(["b", "a", None, "b", "a"], ["b", "a", "c"]),
        }
    )
    stats = derive.area_case_stats(cases, s.NEIGHBORHOOD_CODE)
    assert stats[s.CODE].tolist() == ["a", "b"]  # text order, only areas with cases
    assert stats[derive.CLOSE_N].tolist() == [2, 2]
    assert stats[derive.CLOSE_MEDIAN_H].tolist() == [4.0, 2.0]
    nowhere = cases.assign(**{s.NEIGHBORHOOD_CODE: pd.Categorical([None] * 5, ["a"])})
    assert derive.area_case_stats(nowhere, s.NEIGHBORHOOD_CODE).empty
