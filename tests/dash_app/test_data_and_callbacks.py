"""The data service, the callback functions and the HTTP callback endpoint on a small store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash
import geopandas as gpd
import pytest

from dash_app import auth, data, ids
from dash_app.callbacks import overview, pages, public, shell
from dash_app.state import Filters
from geo.store import IngestRun
from ingest import schema as s

pytestmark = pytest.mark.usefixtures("app_context")


def test_area_table_counts_every_case_with_an_area(small_cases: gpd.GeoDataFrame) -> None:
    svc = data.service()
    for level, column in (
        (s.LEVEL_REGION, s.REGION_CODE),
        (s.LEVEL_NEIGHBORHOOD, s.NEIGHBORHOOD_CODE),
    ):
        table = svc.area_table(Filters(level=level))
        expected = small_cases[column].astype(str).value_counts()
        got = table.set_index(s.CODE)["volume"]
        assert got.sum() == small_cases[column].notna().sum()
        assert got["1" if level == s.LEVEL_REGION else "101"] == expected.get(
            "1" if level == s.LEVEL_REGION else "101", 0
        )


def test_filters_restrict_the_table(small_cases: gpd.GeoDataFrame) -> None:
    svc = data.service()
    water = svc.area_table(Filters(level=s.LEVEL_REGION, categories=("water",)))
    expected = int(
        ((small_cases[s.CATEGORY] == "water") & small_cases[s.REGION_CODE].notna()).sum()
    )
    assert water["volume"].sum() == expected
    months = svc.months()
    window = Filters.from_inputs(months[2].isoformat(), months[2].isoformat(), level="region")
    assert 0 < svc.totals(window)["volume"] < len(small_cases)


def test_totals_count_all_cases(small_cases: gpd.GeoDataFrame) -> None:
    assert data.service().totals(Filters())["volume"] == len(small_cases)


def test_cached_results_are_copies() -> None:
    svc = data.service()
    first = svc.area_table(Filters())
    first["volume"] = -1
    assert (svc.area_table(Filters())["volume"] >= 0).all()


def test_map_layer_is_simplified_geojson_keyed_by_code() -> None:
    layer = data.service().map_layer(s.LEVEL_NEIGHBORHOOD)
    assert layer is not None
    codes = {f["id"] for f in layer.geojson["features"]}
    assert len(codes) == 20
    assert 51.0 < layer.center[0] < 52.0
    assert 35.0 < layer.center[1] < 36.5
    assert data.service().map_layer(s.LEVEL_DISTRICT) is None


def test_map_figure_is_offline_and_changes_with_the_filter() -> None:
    a = pages.map_figure(Filters(), "volume", "fa")
    b = pages.map_figure(Filters(categories=("water",)), "volume", "fa")
    assert a.layout.map.style == "white-bg"
    assert not a.layout.map.layers
    assert a.to_json() != b.to_json()
    hover = a.data[0].hovertemplate
    assert "%{hovertext}" in hover


@pytest.mark.parametrize(
    "kpi", ["volume", "per_10k", "backlog", "close_days", "sla", "satisfaction", "objection"]
)
def test_every_kpi_maps(kpi: str) -> None:
    fig = pages.map_figure(Filters(level="region"), kpi, "en")
    assert sum(len(trace.locations) for trace in fig.data) == 4


def test_overview_outputs_change_against_previous_period() -> None:
    months = data.service().months()
    filters = Filters.from_inputs(months[4].isoformat(), months[6].isoformat())
    cards, trend, categories = overview.overview_outputs(filters, "en")
    assert len(cards) == 6
    assert "vs previous period" in json.dumps(cards[0].to_plotly_json(), default=str)
    median = json.dumps(overview.median_output(filters, "en").to_plotly_json(), default=str)
    assert "Median time to close (days)" in median
    assert "95% interval" in median
    assert len(trend.data[0].x) == 3  # three Jalali months
    assert trend.data[0].x[0].split()[0] in {
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
    assert len(categories.data[0].y) > 0


def test_ranking_table_and_trend() -> None:
    rows, _columns, note = pages.ranking_table(Filters(level="neighborhood"), "sla", "fa")
    assert len(rows) == 20
    assert "۳۰" in note
    fig = pages.trend_figure(Filters(level="region"), "volume", "area", "en")
    assert len(fig.data) == 1 + 4  # the whole city, then each of the 4 regions


def test_shell_state_flips_direction_and_shows_login() -> None:
    manager = auth.Viewer("manager", name="boss")
    assert shell.shell_state("/", "?lang=en", manager)[:2] == ("ltr", "en")
    assert shell.shell_state("/", "", manager)[:2] == ("rtl", "fa")
    assert shell.shell_state("/map", "?lang=en", manager)[4] == "/map?lang=fa"
    assert shell.shell_state("/", "?lang=en", manager)[6:] == ("/logout", "Log out (boss)")
    public_state = shell.shell_state("/map", "?lang=en", auth.PUBLIC_VIEWER)
    assert public_state[6].startswith("/login?next=")
    assert [link.href for link in public_state[3]] == ["/public?lang=en"]


def test_public_outputs_show_the_chain_head(store_run: tuple[Path, IngestRun]) -> None:
    _, run = store_run
    _map, _bar, rows, _columns, chain = public.public_outputs("region", "satisfaction", "en")
    assert run.run_hash[:12] in chain
    assert "#1" in chain
    assert len(rows) == 4


# --- the HTTP endpoint, as a browser calls it ---------------------------------------------------
#: Case-level fields that must never reach the public page. Area polygons (GeoJSON) may.
FORBIDDEN = ("case_id", "description", "citizen_key", '"lon"', '"lat"', '"Point"', "C0000")
FORBIDDEN_KEYS = {"case_id", "description", "citizen_key", "lon", "lat", "address"}


def _forbidden_paths(node: Any, path: str = "") -> list[str]:
    """Return the JSON paths of case-level keys (the map view's centre is allowed)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}"
            if key in FORBIDDEN_KEYS and not path.endswith(".center"):
                found.append(here)
            found.extend(_forbidden_paths(value, here))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found.extend(_forbidden_paths(value, f"{path}[{i}]"))
    return found


def _callback_key(app: dash.Dash, component_id: str) -> str:
    return next(key for key in app.callback_map if f"{component_id}." in key)


def _post(
    app: dash.Dash, key: str, inputs: list[dict[str, Any]], state: list[dict[str, Any]]
) -> Any:
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]}
        for part in key.strip(".").split("...")
    ]
    body = {
        "output": key,
        "outputs": outputs,
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }
    client = app.server.test_client()
    return client.post("/_dash-update-component", json=body)


def test_public_callback_json_holds_no_case_details(app: dash.Dash) -> None:
    key = _callback_key(app, ids.PUB_GRAPH)
    for level in ("region", "neighborhood"):
        response = _post(
            app,
            key,
            [
                {"id": ids.PUB_LEVEL, "property": "value", "value": level},
                {"id": ids.PUB_KPI, "property": "value", "value": "volume"},
            ],
            [{"id": ids.F_LANG, "property": "data", "value": "en"}],
        )
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "SYNTHETIC" in text  # area names are there
        assert _forbidden_paths(json.loads(text)) == []
        for word in ("case_id", "description", "citizen_key", '"Point"', "C0000", "خیابان"):
            assert word not in text, word


def test_public_page_layout_holds_no_case_details(app: dash.Dash) -> None:
    from plotly.utils import PlotlyJSONEncoder

    layout = dash.page_registry["dash_app.pages.public"]["layout"](lang="en")
    text = json.dumps(layout, cls=PlotlyJSONEncoder)
    assert ids.PUB_TABLE in text
    for word in FORBIDDEN:
        assert word not in text


def test_map_click_shows_the_area_and_links_its_cases() -> None:
    click = {"points": [{"location": "101", "z": 2}]}
    assert pages.clicked_code(click) == "101"
    assert pages.clicked_code(None) is None
    assert pages.clicked_code({"points": []}) is None
    panel = pages.area_detail(click, Filters(), "en")
    text = json.dumps(panel.to_plotly_json(), default=str)
    assert "SYNTHETIC Neighborhood 101" in text
    assert "/cases?area=101&lang=en" in text
    with pytest.raises(dash.exceptions.PreventUpdate):
        pages.area_detail(None, Filters(), "en")


def test_ranking_excel_download_round_trips() -> None:
    import base64
    import io

    import pandas as pd

    payload = pages.ranking_download(Filters(level="region"), "sla", "en")
    assert payload["filename"] == "ranking-sla-region.xlsx"
    content = base64.b64decode(payload["content"])
    frame = pd.read_excel(io.BytesIO(content), engine="openpyxl", sheet_name="data")
    assert len(frame) == 4
    assert "Rank" in frame.columns
    assert frame["Cases"].sum() > 0


def test_hotspots_classify_every_neighborhood() -> None:
    hot = data.service().hotspots(Filters(level="region"))
    assert hot is not None
    assert len(hot) == 20
    assert set(hot["hotspot"]) <= {"hot", "cold", "not significant"}
    assert hot["n_cases"].sum() == data.service().area_table(Filters())["volume"].sum()
    fig, rows, columns = pages.hotspot_outputs(Filters(), "en")
    assert fig.layout.map.style == "white-bg"
    assert sum(len(trace.locations) for trace in fig.data) == 20
    assert len(rows) == int((hot["hotspot"] != "not significant").sum())
    assert [c["id"] for c in columns] == ["name", "hotspot", "n_cases", "z", "q"]


def test_the_scan_finds_case_level_keys() -> None:
    payload = {"a": [{"lon": 1.0}], "map": {"center": {"lon": 51.4}}, "case_id": "x"}
    assert _forbidden_paths(payload) == [".a[0].lon", ".case_id"]
