"""GeoJSON and GeoParquet downloads: rankings with area polygons, cases with their points."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import dash
import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest
from flask.testing import FlaskClient

from analytics.exports import PROVENANCE_KEY
from dash_app import auth, data, ids
from dash_app.callbacks import cases as cases_cb
from dash_app.callbacks import pages
from dash_app.state import Filters
from ingest import schema as s
from tests.dash_app.conftest import MANAGER, REGION, REGION_MANAGER

#: The synthetic geography's extent (it is drawn over Tehran), with a margin.
LON_RANGE = (51.0, 52.0)
LAT_RANGE = (35.0, 36.5)


def _content(payload: dict[str, Any]) -> bytes:
    return base64.b64decode(payload["content"])


def _positions(geometry: dict[str, Any]) -> list[list[float]]:
    """Return every [x, y] position of a GeoJSON geometry."""
    found: list[list[float]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list) and len(node) == 2 and all(isinstance(v, float) for v in node):
            found.append(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(geometry["coordinates"])
    return found


def _in_extent(positions: list[list[float]]) -> bool:
    """Whether every position is (lon, lat) inside the extent (swapped ones are not)."""
    return all(
        LON_RANGE[0] < x < LON_RANGE[1] and LAT_RANGE[0] < y < LAT_RANGE[1] for x, y in positions
    )


def _chain_head() -> str:
    return data.service().chain_head().run_hash


# --- rankings -----------------------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize("level", ["region", "neighborhood"])
def test_ranking_geojson_has_the_area_polygons_and_the_chain_head(level: str) -> None:
    payload = pages.ranking_download(Filters(level=level), "sla", "en", "geojson")
    assert payload["filename"] == f"ranking-sla-{level}.geojson"
    collection = json.loads(_content(payload))
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert len(features) == (4 if level == "region" else 20)
    for feature in features:
        assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
        assert _in_extent(_positions(feature["geometry"]))
    props = features[0]["properties"]
    assert {"rank", "rank_interval", "code", "name", "volume", "estimate", "status"} <= set(props)
    layer = data.service().map_layer(level)
    assert layer is not None
    by_code = {str(f["id"]): f["geometry"] for f in layer.geojson["features"]}
    for feature in features:  # each ranked area carries its own polygon
        assert feature["geometry"]["type"] == by_code[feature["properties"]["code"]]["type"]
        assert _positions(feature["geometry"])[0] == list(
            _positions(by_code[feature["properties"]["code"]])[0]
        )
    assert collection[PROVENANCE_KEY]["chain_head"] == _chain_head()
    assert collection[PROVENANCE_KEY]["crs"] == "EPSG:4326"


@pytest.mark.usefixtures("app_context")
def test_ranking_geoparquet_reads_back_with_geopandas() -> None:
    payload = pages.ranking_download(Filters(level="region"), "objection", "fa", "geoparquet")
    assert payload["filename"] == "ranking-objection-region.parquet"
    content = _content(payload)
    frame = gpd.read_parquet(io.BytesIO(content))
    assert frame.crs is not None
    assert frame.crs.equals("EPSG:4326")
    assert len(frame) == 4
    assert set(frame.geom_type) <= {"Polygon", "MultiPolygon"}
    minx, miny, maxx, maxy = frame.total_bounds
    assert LON_RANGE[0] < minx < maxx < LON_RANGE[1]
    assert LAT_RANGE[0] < miny < maxy < LAT_RANGE[1]
    assert frame["name"].str.contains("منطقه|SYNTHETIC", regex=True).all()
    notes = json.loads(pq.read_schema(io.BytesIO(content)).metadata[PROVENANCE_KEY.encode()])
    assert notes["chain_head"] == _chain_head()


# --- cases --------------------------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
def test_manager_cases_geojson_has_every_case_as_a_lon_lat_point(
    small_cases: gpd.GeoDataFrame,
) -> None:
    payload = cases_cb.cases_download(Filters(), None, "en", "geojson")
    assert payload["filename"] == "cases.geojson"
    collection = json.loads(_content(payload))
    features = collection["features"]
    assert len(features) == len(small_cases)
    assert collection[PROVENANCE_KEY]["chain_head"] == _chain_head()
    located = [f for f in features if f["geometry"] is not None]
    assert len(located) == int(small_cases[s.LON].notna().sum())
    assert len(features) > len(located)  # cases with no known place are kept, unlocated
    assert all(f["geometry"]["type"] == "Point" for f in located)
    assert _in_extent([f["geometry"]["coordinates"] for f in located])
    truth = pd.DataFrame(small_cases).set_index(s.CASE_ID)
    for feature in located[:25]:
        lon, lat = feature["geometry"]["coordinates"]
        case = truth.loc[feature["properties"][s.CASE_ID]]
        assert (lon, lat) == pytest.approx((case[s.LON], case[s.LAT]))
    props = features[0]["properties"]
    assert {s.CASE_ID, s.CREATED_AT, s.STATUS, s.REGION_CODE} <= set(props)
    assert not {s.CITIZEN_KEY, s.DESCRIPTION, s.ADDRESS, s.LON, s.LAT} & set(props)


@pytest.mark.usefixtures("app_context")
def test_cases_geoparquet_reads_back_with_geopandas(small_cases: gpd.GeoDataFrame) -> None:
    payload = cases_cb.cases_download(Filters(categories=("water",)), "1", "en", "geoparquet")
    assert payload["filename"] == "cases-1.parquet"
    content = _content(payload)
    frame = gpd.read_parquet(io.BytesIO(content))
    assert frame.crs is not None
    assert frame.crs.equals("EPSG:4326")
    want = small_cases.loc[
        (small_cases[s.CATEGORY] == "water") & (small_cases[s.REGION_CODE].astype(str) == "1")
    ]
    assert len(frame) == len(want) > 0
    assert set(frame[s.REGION_CODE].astype(str)) == {"1"}
    points = frame.loc[frame.geometry.notna()]
    assert set(points.geom_type) == {"Point"}
    assert (points.geometry.x.between(*LON_RANGE) & points.geometry.y.between(*LAT_RANGE)).all()
    assert str(frame[s.CREATED_AT].dt.tz) in {"UTC", "Asia/Tehran"}
    notes = json.loads(pq.read_schema(io.BytesIO(content)).metadata[PROVENANCE_KEY.encode()])
    assert notes["chain_head"] == _chain_head()


def test_region_manager_cases_geojson_holds_only_their_region(region_context: None) -> None:
    own = json.loads(_content(cases_cb.cases_download(Filters(), None, "en", "geojson")))
    assert len(own["features"]) > 0
    assert {f["properties"][s.REGION_CODE] for f in own["features"]} == {REGION}
    for area in ("2", "201"):  # another region, and a neighborhood of it
        other = cases_cb.cases_download(Filters(), area, "en", "geojson")
        assert json.loads(_content(other))["features"] == []
        frame = gpd.read_parquet(
            io.BytesIO(_content(cases_cb.cases_download(Filters(), area, "en", "geoparquet")))
        )
        assert frame.empty
    assert data.service().case_points(Filters(), "2").empty


def test_anonymous_viewers_get_no_points(anonymous_context: None) -> None:
    with pytest.raises(auth.AccessDeniedError):
        data.service().case_points(Filters(), None)
    with pytest.raises(auth.AccessDeniedError):
        cases_cb.cases_download(Filters(), None, "en", "geojson")
    with pytest.raises(auth.AccessDeniedError):
        pages.ranking_download(Filters(), "sla", "en", "geoparquet")


# --- over HTTP ----------------------------------------------------------------------------
def _body(app: dash.Dash, output: str, values: dict[str, Any], changed: str) -> dict[str, Any]:
    key = next(k for k in app.callback_map if k.startswith(f"{output}."))
    spec = app.callback_map[key]

    def items(kind: str) -> list[dict[str, Any]]:
        return [
            {"id": i["id"], "property": i["property"], "value": values.get(i["id"])}
            for i in spec[kind]
        ]

    part = key.strip(".")
    return {
        "output": key,
        "outputs": {"id": part.split(".")[0], "property": part.split(".")[1]},
        "inputs": items("inputs"),
        "state": items("state"),
        "changedPropIds": [changed],
    }


def _post(client: FlaskClient, body: dict[str, Any]) -> Any:
    return client.post("/_dash-update-component", json=body)


def _login(client: FlaskClient, name: str, password: str) -> None:
    response = client.post("/login", data={"username": name, "password": password, "next": "/"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("output", "button"),
    [
        (ids.CASES_DOWNLOAD, ids.CASES_GEOJSON),
        (ids.CASES_DOWNLOAD, ids.CASES_GEOPARQUET),
        (ids.RANK_DOWNLOAD, ids.RANK_GEOJSON),
        (ids.RANK_DOWNLOAD, ids.RANK_GEOPARQUET),
    ],
)
def test_anonymous_geo_download_requests_are_refused(
    app: dash.Dash, output: str, button: str
) -> None:
    body = _body(app, output, {button: 1, ids.F_LANG: "en"}, f"{button}.n_clicks")
    response = _post(app.server.test_client(), body)
    assert response.status_code == 403
    assert b"FeatureCollection" not in response.get_data()


def test_geo_downloads_over_http(app: dash.Dash) -> None:
    client = app.server.test_client()
    _login(client, *REGION_MANAGER)
    for area, expect_rows in (("2", False), ("201", False), (None, True)):
        values = {ids.CASES_GEOJSON: 1, ids.CASES_AREA: area, ids.F_LANG: "en"}
        body = _body(app, ids.CASES_DOWNLOAD, values, f"{ids.CASES_GEOJSON}.n_clicks")
        response = _post(client, body)
        assert response.status_code == 200
        download = json.loads(response.get_data(as_text=True))["response"][ids.CASES_DOWNLOAD]
        collection = json.loads(_content(download["data"]))
        assert (len(collection["features"]) > 0) == expect_rows, area
        assert {f["properties"][s.REGION_CODE] for f in collection["features"]} <= {REGION}
    manager = app.server.test_client()
    _login(manager, *MANAGER)
    values = {ids.RANK_GEOPARQUET: 1, ids.F_LEVEL: "region", ids.F_LANG: "en"}
    body = _body(app, ids.RANK_DOWNLOAD, values, f"{ids.RANK_GEOPARQUET}.n_clicks")
    response = _post(manager, body)
    assert response.status_code == 200
    download = json.loads(response.get_data(as_text=True))["response"][ids.RANK_DOWNLOAD]
    assert download["data"]["filename"] == "ranking-sla-region.parquet"
    frame = gpd.read_parquet(io.BytesIO(_content(download["data"])))
    assert len(frame) == 4
    assert frame.crs is not None
    assert frame.crs.equals("EPSG:4326")
