"""What keeps the dashboard fast: small map payloads, few trend lines, single-flight caching."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import cachelib.simple
import dash
import flask_login
import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from dash_app import AppSettings, create_app, data, figures, metrics
from dash_app.auth import AccessDeniedError, LoginUser, load_users
from dash_app.callbacks import overview, pages
from dash_app.singleflight import KeyedLocks
from dash_app.state import Filters
from geo.store import open_store
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from tests.dash_app.conftest import MANAGER

#: Neighborhood choropleth payload goal of the tests (issue 6 asks for <= 1.5 MB).
MAX_MAP_BYTES = 1_000_000


@pytest.fixture(scope="module")
def tehran_sized_layer(tmp_path_factory: pytest.TempPathFactory) -> data.MapLayer:
    """The app's simplified layer of the 375 synthetic neighborhoods."""
    path = tmp_path_factory.mktemp("geo375") / "store"
    with open_store(str(path)) as store:
        store.write_boundaries(synthetic_boundaries())
    app = create_app(AppSettings(store_url=str(path)))
    with app.server.app_context():
        layer = data.service().map_layer(s.LEVEL_NEIGHBORHOOD)
    assert layer is not None
    return layer


def _table(layer: data.MapLayer, missing: int = 0) -> pd.DataFrame:
    codes = [str(f["id"]) for f in layer.geojson["features"]]
    rng = np.random.default_rng(3)
    table = pd.DataFrame(
        {
            s.CODE: codes,
            s.NAME_FA: [f"محله {c}" for c in codes],
            s.NAME_EN: [f"Neighborhood {c}" for c in codes],
            "volume": rng.integers(0, 20_000, len(codes)),
            "sla": rng.uniform(20.0, 99.0, len(codes)),
        }
    )
    table.loc[: missing - 1, "sla"] = np.nan
    return table


def test_neighborhood_choropleth_holds_each_polygon_once(
    tehran_sized_layer: data.MapLayer,
) -> None:
    layer = tehran_sized_layer
    assert len(layer.geojson["features"]) == 375
    fig = figures.choropleth(_table(layer, missing=7), layer, "sla", "fa")
    payload = len(pio.to_json(fig).encode())
    assert payload <= MAX_MAP_BYTES
    # five classes and the grey "no data" class, each with only its own polygons
    assert len(fig.data) == figures.MAX_CLASSES + 1
    seen: list[str] = []
    for trace in fig.data:
        ids = [f["id"] for f in trace.geojson["features"]]
        assert ids == list(trace.locations)
        seen += ids
    assert sorted(seen) == sorted(str(f["id"]) for f in layer.geojson["features"])
    grey = fig.data[-1]
    assert grey.name == "داده‌ای برای این انتخاب نیست."
    assert len(grey.locations) == 7
    assert grey.colorscale[0][1] == figures.NO_DATA_COLOUR


def test_choropleth_keeps_hover_click_and_legend(tehran_sized_layer: data.MapLayer) -> None:
    layer = tehran_sized_layer
    table = _table(layer)
    fig = figures.choropleth(table, layer, "sla", "en")
    assert len(fig.data) == figures.MAX_CLASSES  # no "no data" class when nothing is missing
    assert fig.layout.map.style == "white-bg"
    first = fig.data[0]
    code = first.locations[0]
    row = table.loc[table[s.CODE] == code].iloc[0]
    assert first.hovertext[0] == row[s.NAME_EN]
    assert first.customdata[0][1] == f"{row['volume']:,}"
    assert "%{hovertext}" in first.hovertemplate
    # the click drill reads the area code from the clicked point's location
    assert pages.clicked_code({"points": [{"location": code}]}) == code
    colours = [trace.colorscale[0][1] for trace in fig.data]
    assert colours == list(figures.CLASS_COLOURS)
    # legend entries are class bounds, lowest first
    lows = [float(trace.name.split(" – ")[0].replace(",", "")) for trace in fig.data]
    assert lows == sorted(lows)


def _monthly_by_area(n_areas: int) -> pd.DataFrame:
    months = [pd.Timestamp(2024, 3, 20).date(), pd.Timestamp(2024, 4, 20).date()]
    rows = []
    for i in range(n_areas):
        for month in months:
            rows.append(
                {
                    data.MONTH: month,
                    s.RM_AREA_CODE: f"{i:03d}",
                    **dict.fromkeys(s.READ_MODEL_MEASURES, 0),
                    s.RM_CASES: 10 * i + 1,
                    s.RM_OPEN: i,
                }
            )
    frame = pd.DataFrame(rows)
    frame[s.RM_CLOSE_SECONDS] = frame[s.RM_CLOSE_SECONDS].astype("float64")
    frame[s.RM_FIRST_RESPONSE_SECONDS] = frame[s.RM_FIRST_RESPONSE_SECONDS].astype("float64")
    from dash_app import metrics

    return metrics.add_kpis(frame)


def test_trend_by_area_draws_the_top_areas_and_the_city() -> None:
    monthly = _monthly_by_area(30)
    fig = figures.kpi_trend(monthly, "volume", "en", s.RM_AREA_CODE)
    assert len(fig.data) == figures.TREND_TOP + 1
    assert fig.data[0].name == "Whole city"
    assert list(fig.data[0].y) == [sum(10 * i + 1 for i in range(30))] * 2
    assert [t.name for t in fig.data[1:]] == [f"{i:03d}" for i in range(29, 19, -1)]
    assert "top 10 of 30" in fig.layout.title.text


def test_trend_by_area_keeps_every_area_when_few() -> None:
    fig = figures.kpi_trend(_monthly_by_area(4), "backlog", "fa", s.RM_AREA_CODE)
    assert len(fig.data) == 5
    assert "۱۰" not in fig.layout.title.text


def test_keyed_locks_are_per_key_and_dropped_after_use() -> None:
    locks = KeyedLocks()
    inside = threading.Event()
    release = threading.Event()

    def hold_a() -> None:
        with locks.hold("a"):
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold_a)
    worker.start()
    assert inside.wait(5)
    with locks.hold("b"):  # another key does not wait for "a"
        assert len(locks) == 2
    release.set()
    worker.join(5)
    assert len(locks) == 0


def _login(app: dash.Dash, store_path: Path) -> Any:
    context = app.server.test_request_context()
    context.push()
    flask_login.login_user(LoginUser(load_users(store_path / "users.json")[MANAGER[0]]))
    return context


def test_concurrent_requests_for_a_missing_entry_compute_it_once(
    app: dash.Dash, store_path: Path
) -> None:
    calls: list[int] = []
    start = threading.Barrier(20)
    results: list[object] = []
    errors: list[BaseException] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        time.sleep(0.3)
        return {"value": 42}

    def request() -> None:
        context = _login(app, store_path)
        try:
            start.wait(5)
            results.append(data.service().staff_view("slow", ("x",), compute))
        except BaseException as error:
            errors.append(error)
        finally:
            context.pop()

    threads = [threading.Thread(target=request) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert len(calls) == 1
    assert results == [{"value": 42}] * 20


def test_cache_entries_do_not_expire_by_default(
    app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert AppSettings(store_url="x").cache_timeout_s == 0
    with app.server.app_context():
        cache = data.service().cache
        cache.set("t137:test-entry", {"kept": True})
        cache.set("t137:short", 1, timeout=60)
        later = time.time() + 30 * 86_400.0
        monkeypatch.setattr(cachelib.simple, "time", lambda: later)
        assert cache.get("t137:test-entry") == {"kept": True}
        assert cache.get("t137:short") is None  # an entry with a timeout does expire


@pytest.mark.usefixtures("app_context")
def test_overview_sums_in_the_store_and_agrees_with_the_full_read_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc = data.service()
    reads: list[tuple[object, ...]] = []
    raw = svc._raw_read_model

    def counted(*args: Any) -> pd.DataFrame:
        reads.append(args)
        return raw(*args)

    monkeypatch.setattr(svc, "_raw_read_model", counted)
    months = svc.months()
    filters = Filters.from_inputs(months[4].isoformat(), months[6].isoformat(), level="region")
    reads.clear()
    overview.overview_outputs(filters, "en")
    # totals, months and top categories are summed by the store: no read-model frame
    assert reads == []
    monthly = svc.monthly(filters)
    totals = svc.totals(filters)
    assert int(monthly["volume"].sum()) == int(totals["volume"])
    assert len(monthly) == 3
    full = svc.read_model(filters)
    reference = metrics.sum_measures(full, [])
    assert int(totals["volume"]) == int(reference[s.RM_CASES].iloc[0]) > 0
    by_category = svc.by_category(filters).set_index(s.CATEGORY)["volume"]
    expected = metrics.sum_measures(full, [s.CATEGORY]).set_index(s.CATEGORY)[s.RM_CASES]
    expected.index = expected.index.astype(str)
    assert by_category.sort_index().to_dict() == expected[expected > 0].sort_index().to_dict()


@pytest.mark.usefixtures("app_context")
def test_map_view_is_cached_but_still_for_staff_only(
    app: dash.Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = pages.map_view(Filters(), "volume", "en", ["clusters"])
    assert first["layout"]["map"]["style"] == "white-bg"
    fresh = pages.map_figure(Filters(), "volume", "en", ("clusters",)).to_plotly_json()
    assert pio.to_json(fresh) == pio.to_json(first)

    def rebuilt(*_args: object) -> None:
        raise AssertionError("the cached map was built again")

    monkeypatch.setattr(pages, "map_figure", rebuilt)
    again = pages.map_view(Filters(), "volume", "en", ("clusters",))
    assert pio.to_json(again) == pio.to_json(first)


@pytest.mark.usefixtures("anonymous_context")
def test_a_cached_map_view_is_refused_to_anonymous_visitors(
    app: dash.Dash, store_path: Path
) -> None:
    built: list[dict[str, Any]] = []

    def as_manager() -> None:  # another thread: its own, logged-in request context
        context = _login(app, store_path)
        try:
            built.append(pages.map_view(Filters(), "volume", "en"))
        finally:
            context.pop()

    worker = threading.Thread(target=as_manager)
    worker.start()
    worker.join(30)
    assert len(built) == 1  # the view is in the cache now
    with pytest.raises(AccessDeniedError):
        pages.map_view(Filters(), "volume", "en")


def test_warm_on_start_fills_the_default_views(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(AppSettings(store_url=str(store_path), warm_on_start=True))
    warming = app.server.extensions[data.WARMING]
    warming.join(60)
    assert not warming.is_alive()
    context = _login(app, store_path)
    try:
        svc = data.service()

        def no_read(*_args: object) -> pd.DataFrame:
            raise AssertionError("a warmed view read the store again")

        monkeypatch.setattr(svc, "_raw_read_model", no_read)
        assert svc.totals(Filters())["volume"] > 0
        assert len(svc.area_table(Filters())) == 20
        assert len(svc.monthly(Filters())) > 0
        assert len(svc.by_category(Filters())) > 0
        assert len(svc.months()) > 0
        assert svc.options()[s.CATEGORY]
        assert svc.cache.get(f"t137:{svc.store_version()}:subcategories:()")
        assert svc.map_layer(s.LEVEL_NEIGHBORHOOD) is not None
    finally:
        context.pop()


def test_apps_do_not_warm_unless_asked(app: dash.Dash) -> None:
    assert data.WARMING not in app.server.extensions
