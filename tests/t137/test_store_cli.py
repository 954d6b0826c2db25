"""``t137 db upgrade`` and ``t137 store info`` through typer's CliRunner."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from geo.store import IngestBatch, open_store
from geo.store.postgis import migrate
from t137.cli import app
from tests.geo.store.test_postgis_store import fresh_database
from tests.support.cases import random_cases


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def pg_url(postgis_url: str) -> Iterator[str]:
    with fresh_database(postgis_url, postgis=False) as url:
        yield url


def _batch(n: int) -> IngestBatch:
    return IngestBatch(
        source="synthetic",
        input_sha256="ab" * 32,
        started_at=pd.Timestamp("2024-03-01 10:00", tz="Asia/Tehran"),
        rows_read=n,
        cases=random_cases(n, seed=21, months=2, start="2023-03-01"),
    )


@pytest.mark.postgis
def test_db_upgrade_creates_then_reports_current(runner: CliRunner, pg_url: str) -> None:
    first = runner.invoke(app, ["db", "upgrade", "--store", pg_url])
    assert first.exit_code == 0, first.output
    assert f"upgraded from an empty database to revision {migrate.head_revision()}" in first.output
    second = runner.invoke(app, ["db", "upgrade", "--store", pg_url, "--json"])
    assert second.exit_code == 0, second.output
    payload = json.loads(second.stdout)
    head = migrate.head_revision()
    assert (payload["before"], payload["after"], payload["head"]) == (head, head, head)
    engine = sa.create_engine(pg_url)
    with engine.connect() as connection:
        assert "cases" in sa.inspect(connection).get_table_names()
    engine.dispose()


@pytest.mark.postgis
def test_store_info_json_on_postgis(runner: CliRunner, pg_url: str) -> None:
    with open_store(pg_url) as store:
        run = store.write_run(_batch(400))
    result = runner.invoke(app, ["store", "info", "--store", pg_url, "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["backend"] == "postgis"
    assert info["cases"] == 400
    assert sum(row["cases"] for row in info["cases_by_month"]) == 400
    assert {row["month"] for row in info["cases_by_month"]} <= {"2023-03", "2023-04", "2023-05"}
    assert info["last_run"]["run_hash"] == run.run_hash == info["chain_head"]
    text = runner.invoke(app, ["store", "info", "--store", pg_url])
    assert text.exit_code == 0
    assert "400 cases" in text.stdout
    assert run.run_hash in text.stdout


@pytest.mark.postgis
def test_store_url_comes_from_the_settings(
    runner: CliRunner, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from t137.settings import get_settings

    monkeypatch.setenv("T137_STORE_URL", pg_url)
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["store", "info", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["backend"] == "postgis"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", [["db", "upgrade"], ["store", "info"]])
def test_unreachable_server_is_one_sentence_and_exit_2(
    runner: CliRunner, command: list[str]
) -> None:
    port = _free_port()
    url = f"postgresql+psycopg://me:hunter2@127.0.0.1:{port}/t137"
    result = runner.invoke(app, [*command, "--store", url])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: Cannot reach the PostGIS server")
    assert f"127.0.0.1:{port}" in lines[0]
    assert "hunter2" not in result.stderr


def test_db_upgrade_refuses_an_embedded_store(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--store", str(tmp_path)])
    assert result.exit_code == 2
    assert "embedded stores need no upgrade" in result.stderr


def test_store_info_on_an_embedded_store(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["store", "info", "--store", str(tmp_path / "store"), "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert (info["backend"], info["cases"], info["last_run"]) == ("embedded", 0, None)


def test_store_refresh_brings_the_read_model_up_to_date(runner: CliRunner, tmp_path: Path) -> None:
    url = str(tmp_path / "store")
    with open_store(url) as store:
        store.write_run(_batch(40))
    first = runner.invoke(app, ["store", "refresh", "--store", url, "--json"])
    assert first.exit_code == 0, first.output
    done = json.loads(first.stdout)
    assert done["changed"] is True
    assert done["read_model_rows"] > 0
    again = runner.invoke(app, ["store", "refresh", "--store", url])
    assert again.exit_code == 0, again.output
    assert "already up to date" in again.stdout
    full = runner.invoke(app, ["store", "refresh", "--store", url, "--full", "--json"])
    assert json.loads(full.stdout)["read_model_rows"] == done["read_model_rows"]
    with open_store(url) as store:
        assert len(store.read_read_model()) == done["read_model_rows"]
