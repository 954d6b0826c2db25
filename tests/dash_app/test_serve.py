"""``t137 serve`` (the command function; the server itself is not started)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
import geopandas as gpd
import pytest
import typer
from typer.testing import CliRunner

from dash_app.config import DEV_SECRET
from geo.errors import StoreError
from geo.store import open_store
from t137.commands.serve import app_settings, serve


def test_app_settings_refuses_a_store_without_boundaries(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "empty")):
        pass
    with pytest.raises(StoreError, match="no boundaries"):
        app_settings(str(tmp_path / "empty"))


def test_app_settings_read_the_secret(store_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T137_SECRET_KEY", "s3cret")
    assert app_settings(str(store_path)).secret_key == "s3cret"
    monkeypatch.delenv("T137_SECRET_KEY")
    assert app_settings(str(store_path)).secret_key == DEV_SECRET


def test_serve_runs_the_app(
    store_path: Path, small_boundaries: gpd.GeoDataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def fake_run(self: dash.Dash, **kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(dash.Dash, "run", fake_run)
    command = typer.Typer()
    command.command()(serve)
    result = CliRunner().invoke(command, ["--store", str(store_path), "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls == [{"host": "127.0.0.1", "port": 8123, "debug": False}]


def test_serve_reports_an_empty_store(tmp_path: Path) -> None:
    command = typer.Typer()
    command.command()(serve)
    result = CliRunner().invoke(command, ["--store", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "no store at" in result.output
    assert not (tmp_path / "nothing").exists()


def test_serve_open_mode_only_on_loopback(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    apps: list[dash.Dash] = []

    def fake_run(self: dash.Dash, **kwargs: Any) -> None:
        apps.append(self)

    monkeypatch.setattr(dash.Dash, "run", fake_run)
    command = typer.Typer()
    command.command()(serve)
    refused = CliRunner().invoke(
        command, ["--store", str(store_path), "--open", "--host", "0.0.0.0"]
    )
    assert refused.exit_code == 2
    assert "refused" in refused.output
    assert apps == []
    opened = CliRunner().invoke(command, ["--store", str(store_path), "--open"])
    assert opened.exit_code == 0, opened.output
    assert apps[0].server.extensions["t137_settings"].require_login is False
