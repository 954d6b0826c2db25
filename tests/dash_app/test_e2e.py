"""Browser tests: the app in Debian's headless Chromium through dash[testing] (``dash_duo``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flask
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from dash_app import AppSettings, create_app, ids
from ingest import schema as s
from tests.dash_app.conftest import MANAGER, REGION, REGION_MANAGER

pytestmark = pytest.mark.e2e

TIMEOUT_S = 20
#: Each page, and an element that only appears once its callbacks have drawn it.
PAGES = (
    ("overview", "/", f"#{ids.OV_TREND} .main-svg"),
    ("map", "/map", f"#{ids.MAP_GRAPH} .maplibregl-canvas"),
    ("rankings", "/rankings", f"#{ids.RANK_TABLE} td"),
    ("trends", "/trends", f"#{ids.TREND_GRAPH} .main-svg"),
    ("hotspots", "/hotspots", f"#{ids.HOT_GRAPH} .maplibregl-canvas"),
    ("cases", "/cases", f"#{ids.CASES_TABLE} td"),
    ("quality", "/quality", f"#{ids.QUALITY_TABLE} td"),
    ("public", "/public", f"#{ids.PUB_TABLE} td"),
)
MAP_LOCATIONS_JS = (
    f"var g = document.querySelector('#{ids.MAP_GRAPH} .js-plotly-plot');"
    "if (!g || !g.data) { return -1; }"
    "return g.data.reduce(function (n, t) { return n + (t.locations || []).length; }, 0);"
)
REGION_CELLS = f"#{ids.CASES_TABLE} td[data-dash-column='{s.REGION_CODE}']"


class InFlight:
    """Counts the requests the test server is handling (to stop it only when idle)."""

    def __init__(self, server: flask.Flask) -> None:
        self.count = 0
        self._lock = threading.Lock()
        # First of the before-request hooks: a later hook may answer early (the guard's 403),
        # which skips the hooks after it, while every teardown hook still runs.
        server.before_request_funcs.setdefault(None, []).insert(0, self._begin)
        server.teardown_request(self._end)

    def _begin(self) -> None:
        with self._lock:
            self.count += 1

    def _end(self, _exc: BaseException | None) -> None:
        with self._lock:
            self.count -= 1


@pytest.fixture
def served(dash_duo: Any, settings: AppSettings) -> Iterator[Any]:
    """``dash_duo`` with the app started; teardown waits until no request is running.

    dash[testing] stops its threaded server by killing the request threads, so a callback
    still running at teardown would end with SystemExit in its thread.
    """
    app = create_app(settings)
    in_flight = InFlight(app.server)
    dash_duo.start_server(app)
    yield dash_duo
    until(dash_duo._wait_for_callbacks, timeout=TIMEOUT_S, poll=0.1)
    until(lambda: in_flight.count == 0, timeout=TIMEOUT_S, poll=0.1)


def _open(dash_duo: Any, path: str) -> None:
    dash_duo.wait_for_page(url=dash_duo.server_url + path, timeout=TIMEOUT_S)


def _login(dash_duo: Any, name: str, password: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + "/login")
    dash_duo.wait_for_element("#username", timeout=TIMEOUT_S).send_keys(name)
    dash_duo.find_element("#password").send_keys(password)
    dash_duo.find_element("#login-button").click()
    dash_duo.wait_for_element(f"#{ids.SHELL}", timeout=TIMEOUT_S)
    dash_duo.wait_for_text_to_equal(f"#{ids.LOGIN_LINK}", f"خروج ({name})", timeout=TIMEOUT_S)


def test_every_page_loads_without_console_errors(served: Any, artifacts_dir: Path) -> None:
    dash_duo = served
    _open(dash_duo, "/public")
    dash_duo.wait_for_element(PAGES[-1][2], timeout=TIMEOUT_S)
    assert dash_duo.get_logs() == [], "console errors on the anonymous public page"
    _login(dash_duo, *MANAGER)
    for name, path, ready in PAGES:
        for lang in ("fa", "en"):
            _open(dash_duo, f"{path}?lang={lang}")
            dash_duo.wait_for_element(ready, timeout=TIMEOUT_S)
            direction = "rtl" if lang == "fa" else "ltr"
            dash_duo.wait_for_element(f"#{ids.SHELL}[dir='{direction}']", timeout=TIMEOUT_S)
            dash_duo.driver.save_screenshot(str(artifacts_dir / f"dash-{name}-{lang}.png"))
            assert dash_duo.get_logs() == [], f"console errors on {path}?lang={lang}"


def test_changing_a_filter_changes_the_map(served: Any) -> None:
    dash_duo = served
    _login(dash_duo, *MANAGER)
    _open(dash_duo, "/map?lang=en&level=neighborhood")
    dash_duo.wait_for_element(f"#{ids.MAP_GRAPH} .maplibregl-canvas", timeout=TIMEOUT_S)
    until(lambda: dash_duo.driver.execute_script(MAP_LOCATIONS_JS) == 20, timeout=TIMEOUT_S)
    dash_duo.select_dcc_dropdown(f"#{ids.F_LEVEL}", value="Region")
    until(lambda: dash_duo.driver.execute_script(MAP_LOCATIONS_JS) == 4, timeout=TIMEOUT_S)
    # The filter is written into the URL, so the view can be bookmarked and reopened.
    until(lambda: "level=region" in dash_duo.driver.current_url, timeout=TIMEOUT_S)
    bookmark = dash_duo.driver.current_url
    assert "lang=en" in bookmark
    dash_duo.wait_for_page(url=bookmark, timeout=TIMEOUT_S)
    dash_duo.wait_for_element(f"#{ids.MAP_GRAPH} .maplibregl-canvas", timeout=TIMEOUT_S)
    until(lambda: dash_duo.driver.execute_script(MAP_LOCATIONS_JS) == 4, timeout=TIMEOUT_S)
    assert dash_duo.get_logs() == []


MAP_LEGEND_JS = (
    f"var g = document.querySelector('#{ids.MAP_GRAPH} .js-plotly-plot');"
    "if (!g || !g.layout || !g.layout.legend || !g.layout.legend.title) { return ''; }"
    "return g.layout.legend.title.text;"
)


def test_the_map_shows_the_kpis_read_from_the_cases(served: Any, artifacts_dir: Path) -> None:
    dash_duo = served
    _login(dash_duo, *MANAGER)
    _open(dash_duo, "/map?lang=en&level=region")
    dash_duo.wait_for_element(f"#{ids.MAP_GRAPH} .maplibregl-canvas", timeout=TIMEOUT_S)
    until(lambda: dash_duo.driver.execute_script(MAP_LEGEND_JS) == "Cases", timeout=TIMEOUT_S)
    for key, label in (
        ("overdue_share", "Open cases past their due time (%)"),
        ("close_median", "Median time to close (days)"),
    ):
        dash_duo.select_dcc_dropdown(f"#{ids.MAP_KPI}", value=label)

        def legend_shows(expected: str = label) -> bool:
            return bool(dash_duo.driver.execute_script(MAP_LEGEND_JS) == expected)

        until(legend_shows, timeout=TIMEOUT_S)
        until(lambda: dash_duo.driver.execute_script(MAP_LOCATIONS_JS) == 4, timeout=TIMEOUT_S)
        until(lambda k=key: f"kpi={k}" in dash_duo.driver.current_url, timeout=TIMEOUT_S)
        dash_duo.driver.save_screenshot(str(artifacts_dir / f"dash-map-{key}-en.png"))
    assert dash_duo.get_logs() == []


def test_language_switch_flips_direction(served: Any) -> None:
    dash_duo = served
    _open(dash_duo, "/public")
    dash_duo.wait_for_element(f"#{ids.SHELL}[dir='rtl']", timeout=TIMEOUT_S)
    dash_duo.wait_for_text_to_equal(f"#{ids.TITLE}", "تحلیل سامانه ۱۳۷ تهران", timeout=TIMEOUT_S)
    dash_duo.find_element(f"#{ids.LANG_LINK}").click()
    dash_duo.wait_for_element(f"#{ids.SHELL}[dir='ltr']", timeout=TIMEOUT_S)
    dash_duo.wait_for_text_to_equal(f"#{ids.TITLE}", "Tehran 137 Analytics", timeout=TIMEOUT_S)
    until(lambda: "lang=en" in dash_duo.driver.current_url, timeout=TIMEOUT_S)
    dash_duo.find_element(f"#{ids.LANG_LINK}").click()
    dash_duo.wait_for_element(f"#{ids.SHELL}[dir='rtl']", timeout=TIMEOUT_S)
    assert dash_duo.get_logs() == []


def test_login_works_and_logout_ends_the_session(served: Any) -> None:
    dash_duo = served
    _open(dash_duo, "/map")
    dash_duo.wait_for_element("#login-required", timeout=TIMEOUT_S)
    _login(dash_duo, *MANAGER)
    _open(dash_duo, "/map")
    dash_duo.wait_for_element(f"#{ids.MAP_GRAPH} .maplibregl-canvas", timeout=TIMEOUT_S)
    dash_duo.find_element(f"#{ids.LOGIN_LINK}").click()
    dash_duo.wait_for_text_to_equal(f"#{ids.LOGIN_LINK}", "ورود", timeout=TIMEOUT_S)
    _open(dash_duo, "/map")
    dash_duo.wait_for_element("#login-required", timeout=TIMEOUT_S)
    assert dash_duo.get_logs() == []


def test_region_manager_sees_no_other_region_cases(served: Any) -> None:
    dash_duo = served
    _login(dash_duo, *REGION_MANAGER)
    _open(dash_duo, "/cases?lang=en")
    dash_duo.wait_for_element(REGION_CELLS, timeout=TIMEOUT_S)
    cells = dash_duo.find_elements(REGION_CELLS)
    assert cells
    assert {cell.text for cell in cells} == {REGION}
    _open(dash_duo, "/cases?lang=en&area=2")
    dash_duo.wait_for_text_to_equal(
        f"#{ids.CASES_COUNT}", "0 cases, page 1 of 1", timeout=TIMEOUT_S
    )
    assert dash_duo.find_elements(REGION_CELLS) == []
    assert dash_duo.get_logs() == []


def test_quality_page_and_subcategory_filter(served: Any, artifacts_dir: Path) -> None:
    dash_duo = served
    _open(dash_duo, "/quality?lang=en")
    dash_duo.wait_for_element("#login-required", timeout=TIMEOUT_S)
    _login(dash_duo, *MANAGER)
    _open(dash_duo, "/quality?lang=en")
    dash_duo.wait_for_element(f"#{ids.QUALITY_TABLE} td", timeout=TIMEOUT_S)
    dash_duo.wait_for_element(f"#{ids.QUALITY_GRAPH} .main-svg", timeout=TIMEOUT_S)
    assert "Quick close" in dash_duo.find_element(f"#{ids.QUALITY_NOTE}").text
    # choosing a category narrows the subcategory choices, and the choice reaches the URL
    dash_duo.select_dcc_dropdown(f"#{ids.F_CATEGORY}", value="traffic")
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    until(lambda: "category=traffic" in dash_duo.driver.current_url, timeout=TIMEOUT_S)
    until(dash_duo._wait_for_callbacks, timeout=TIMEOUT_S, poll=0.1)
    dash_duo.find_element(f"#{ids.F_SUBCATEGORY}").click()
    menu = dash_duo.wait_for_element(".dash-dropdown-options", timeout=TIMEOUT_S)
    shown = menu.text.split("\n")
    assert "parking" in shown
    assert "waste" not in shown
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    dash_duo.select_dcc_dropdown(f"#{ids.F_SUBCATEGORY}", value="parking")
    until(lambda: "subcategory=parking" in dash_duo.driver.current_url, timeout=TIMEOUT_S)
    dash_duo.find_element("body").send_keys(Keys.ESCAPE)
    dash_duo.wait_for_element(f"#{ids.QUALITY_TABLE} td", timeout=TIMEOUT_S)
    dash_duo.driver.save_screenshot(str(artifacts_dir / "dash-quality-parking-en.png"))
    assert dash_duo.get_logs() == []


OVERLAY_TRACES_JS = (
    f"var g = document.querySelector('#{ids.MAP_GRAPH} .js-plotly-plot');"
    "if (!g || !g.data) { return -1; }"
    "return g.data.filter(function (t) { return t.type === 'scattermap'; }).length;"
)


def test_map_overlay_draws_cluster_markers(
    dash_duo: Any, clustered_store: Path, artifacts_dir: Path
) -> None:
    app = create_app(AppSettings(store_url=str(clustered_store), require_login=False))
    in_flight = InFlight(app.server)
    dash_duo.start_server(app)
    try:
        _open(dash_duo, "/map?lang=en&level=region")
        dash_duo.wait_for_element(f"#{ids.MAP_GRAPH} .maplibregl-canvas", timeout=TIMEOUT_S)
        until(lambda: dash_duo.driver.execute_script(OVERLAY_TRACES_JS) == 0, timeout=TIMEOUT_S)
        boxes = dash_duo.find_elements(f"#{ids.MAP_OVERLAY} input[type='checkbox']")
        assert len(boxes) == 2
        boxes[0].click()
        until(lambda: dash_duo.driver.execute_script(OVERLAY_TRACES_JS) == 1, timeout=TIMEOUT_S)
        until(lambda: "overlay=clusters" in dash_duo.driver.current_url, timeout=TIMEOUT_S)
        boxes[1].click()
        until(lambda: dash_duo.driver.execute_script(OVERLAY_TRACES_JS) == 2, timeout=TIMEOUT_S)
        dash_duo.driver.save_screenshot(str(artifacts_dir / "dash-map-overlay-en.png"))
        # the overlay is part of the bookmark
        dash_duo.wait_for_page(url=dash_duo.driver.current_url, timeout=TIMEOUT_S)
        until(lambda: dash_duo.driver.execute_script(OVERLAY_TRACES_JS) == 2, timeout=TIMEOUT_S)
        assert dash_duo.get_logs() == []
    finally:
        until(dash_duo._wait_for_callbacks, timeout=TIMEOUT_S, poll=0.1)
        until(lambda: in_flight.count == 0, timeout=TIMEOUT_S, poll=0.1)
