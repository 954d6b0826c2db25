"""Roles: login and logout, the callback guard, and the role checks in the data layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash
import geopandas as gpd
import pytest
from flask.testing import FlaskClient

from dash_app import auth, data, ids
from dash_app.auth import AccessDeniedError, add_user, check_login
from dash_app.state import Filters
from ingest import schema as s
from tests.dash_app.conftest import MANAGER, REGION, REGION_MANAGER


def test_passwords_are_hashed(store_path: Path) -> None:
    text = (store_path / "users.json").read_text()
    assert MANAGER[1] not in text
    assert "scrypt" in text or "pbkdf2" in text
    assert check_login(store_path / "users.json", *MANAGER) is not None
    assert check_login(store_path / "users.json", MANAGER[0], "wrong-password") is None
    assert check_login(store_path / "users.json", "nobody", "whatever-pass") is None


def test_add_user_refuses_bad_accounts(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="role"):
        add_user(tmp_path / "u.json", "a", "long-enough-pw", role="admin")
    with pytest.raises(ValueError, match="region"):
        add_user(tmp_path / "u.json", "a", "long-enough-pw", role="region_manager")
    with pytest.raises(ValueError, match="8 characters"):
        add_user(tmp_path / "u.json", "a", "short", role="manager")


@pytest.mark.usefixtures("anonymous_context")
def test_anonymous_viewer_gets_no_manager_data() -> None:
    svc = data.service()
    with pytest.raises(AccessDeniedError):
        svc.area_table(Filters())
    with pytest.raises(AccessDeniedError):
        svc.cases(Filters(), None, 0)
    assert len(svc.public_table("region", "volume")) == 4  # the public page still works


def test_region_manager_sees_only_own_region_cases(region_context: None) -> None:
    svc = data.service()
    own = svc.cases(Filters(), None, 0)
    assert own.total > 0
    assert set(own.rows[s.REGION_CODE].astype(str)) == {REGION}
    assert svc.cases(Filters(), "2", 0).total == 0  # another region: nothing
    assert not {"citizen_key", "lon", "lat", "description"} & set(own.rows.columns)


def test_manager_sees_every_region(app_context: None, small_cases: gpd.GeoDataFrame) -> None:
    svc = data.service()
    everything = svc.cases(Filters(), None, 0)
    assert everything.total == len(small_cases)
    assert len(everything.rows) == 50
    other = svc.cases(Filters(), "2", 3)
    assert set(other.rows[s.REGION_CODE].astype(str)) == {"2"}
    assert other.page == 3


# --- over HTTP -------------------------------------------------------------------------------
def _request(app: dash.Dash, component_id: str, values: dict[str, Any]) -> dict[str, Any]:
    key = next(k for k in app.callback_map if f"{component_id}." in k)
    spec = app.callback_map[key]
    inputs = [
        {"id": i["id"], "property": i["property"], "value": values.get(i["id"])}
        for i in spec["inputs"]
    ]
    state = [
        {"id": i["id"], "property": i["property"], "value": values.get(i["id"])}
        for i in spec["state"]
    ]
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]}
        for part in key.strip(".").split("...")
    ]
    return {
        "output": key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": inputs,
        "state": state,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
    }


def _login(client: FlaskClient, name: str, password: str) -> int:
    response = client.post("/login", data={"username": name, "password": password, "next": "/"})
    return response.status_code


def test_anonymous_request_to_a_manager_callback_is_refused(app: dash.Dash) -> None:
    client = app.server.test_client()
    body = _request(app, ids.MAP_GRAPH, {ids.MAP_KPI: "volume", ids.F_LANG: "en"})
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 403
    assert "SYNTHETIC" not in response.get_data(as_text=True)


def test_login_then_logout_ends_the_session(app: dash.Dash) -> None:
    client = app.server.test_client()
    body = _request(app, ids.MAP_GRAPH, {ids.MAP_KPI: "volume", ids.F_LANG: "en"})
    assert _login(client, MANAGER[0], "not-the-password") == 401
    assert _login(client, *MANAGER) == 302
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    assert "SYNTHETIC" in response.get_data(as_text=True)
    client.get("/logout")
    assert client.post("/_dash-update-component", json=body).status_code == 403


def test_login_redirects_only_to_local_paths(app: dash.Dash) -> None:
    client = app.server.test_client()
    response = client.post(
        "/login",
        data={"username": MANAGER[0], "password": MANAGER[1], "next": "https://evil.example/"},
    )
    assert response.headers["Location"] == "/"


def test_crafted_request_for_another_region_gets_nothing(app: dash.Dash) -> None:
    client = app.server.test_client()
    assert _login(client, *REGION_MANAGER) == 302
    body = _request(app, ids.CASES_TABLE, {ids.CASES_AREA: "2", ids.F_LANG: "en"})
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200
    payload = json.loads(response.get_data(as_text=True))
    assert payload["response"][ids.CASES_TABLE]["data"] == []
    body = _request(app, ids.CASES_TABLE, {ids.CASES_AREA: None, ids.F_LANG: "en"})
    payload = json.loads(client.post("/_dash-update-component", json=body).get_data(as_text=True))
    rows = payload["response"][ids.CASES_TABLE]["data"]
    assert rows
    assert {row[s.REGION_CODE] for row in rows} == {REGION}


def test_the_session_cookie_is_http_only(app: dash.Dash) -> None:
    client = app.server.test_client()
    response = client.post(
        "/login", data={"username": MANAGER[0], "password": MANAGER[1], "next": "/"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_open_mode_treats_everyone_as_manager(store_path: Path) -> None:
    from dash_app import AppSettings, create_app

    app = create_app(AppSettings(store_url=str(store_path), require_login=False))
    with app.server.test_request_context():
        assert auth.current_viewer().is_staff
        assert len(data.service().area_table(Filters(level="region"))) == 4


def test_region_manager_drills_into_own_neighborhoods_only(region_context: None) -> None:
    svc = data.service()
    own = svc.cases(Filters(), "101", 0)  # neighborhood 101 lies in region 1
    assert own.total > 0
    assert set(own.rows[s.NEIGHBORHOOD_CODE].astype(str)) == {"101"}
    assert svc.cases(Filters(), "201", 0).total == 0  # a neighborhood of region 2
    assert svc.cases(Filters(), "no-such-area", 0).total == 0
