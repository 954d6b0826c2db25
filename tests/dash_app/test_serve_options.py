"""``t137 serve --users-file --https``: accounts from any file, secure cookies behind TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
import pytest
import typer
from typer.testing import CliRunner

from dash_app.auth import add_user
from t137.commands.serve import serve


def _serve(store_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> dash.Dash:
    apps: list[dash.Dash] = []

    def fake_run(self: dash.Dash, **kwargs: Any) -> None:
        apps.append(self)

    monkeypatch.setattr(dash.Dash, "run", fake_run)
    command = typer.Typer()
    command.command()(serve)
    result = CliRunner().invoke(command, ["--store", str(store_path), *args])
    assert result.exit_code == 0, result.output
    return apps[0]


def test_users_file_accounts_can_log_in(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = tmp_path / "elsewhere" / "users.json"
    add_user(users, "sara", "long-enough-1", "manager")
    app = _serve(store_path, monkeypatch, "--users-file", str(users))
    client = app.server.test_client()
    response = client.post("/login", data={"username": "sara", "password": "long-enough-1"})
    assert response.status_code in (302, 303)
    assert "session" in response.headers.get("Set-Cookie", "")
    refused = app.server.test_client().post(
        "/login", data={"username": "sara", "password": "wrong-password"}
    )
    assert refused.status_code == 401


def test_https_marks_the_session_cookie_secure(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = _serve(store_path, monkeypatch)
    assert plain.server.config["SESSION_COOKIE_SECURE"] is False
    behind_tls = _serve(store_path, monkeypatch, "--https")
    assert behind_tls.server.config["SESSION_COOKIE_SECURE"] is True


def test_serve_warms_the_default_views_unless_told_not_to(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = _serve(store_path, monkeypatch, "--no-warm")
    assert cold.server.extensions["t137_settings"].warm_on_start is False
    default = _serve(store_path, monkeypatch)
    assert default.server.extensions["t137_settings"].warm_on_start is True
