"""``t137 users add|list|remove`` through typer's CliRunner, and logging in with the result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dash_app.auth import check_login, load_users
from t137.cli import app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _add(runner: CliRunner, users: Path, *args: str, password: str = "long-enough-1") -> str:
    result = runner.invoke(
        app,
        ["users", "add", *args, "--users-file", str(users), "--password-stdin", "--json"],
        input=password + "\n",
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_add_stores_a_hash_that_logs_in(runner: CliRunner, tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    out = json.loads(_add(runner, users, "maryam", "--role", "manager"))
    assert out == {"name": "maryam", "role": "manager", "region": None, "users_file": str(users)}
    assert "long-enough-1" not in users.read_text(encoding="utf-8")
    assert check_login(users, "maryam", "long-enough-1") is not None
    assert check_login(users, "maryam", "wrong-password") is None


def test_region_manager_keeps_the_region(runner: CliRunner, tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    _add(runner, users, "reza", "--role", "region_manager", "--region", "7")
    assert load_users(users)["reza"].region == "7"
    listed = runner.invoke(app, ["users", "list", "--users-file", str(users), "--json"])
    assert json.loads(listed.output)["users"] == [
        {"name": "reza", "role": "region_manager", "region": "7"}
    ]
    assert "pbkdf2" not in listed.output
    assert "scrypt" not in listed.output


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["x", "--role", "admin"], "long-enough-1", "role must be one of"),
        (["x", "--role", "region_manager"], "long-enough-1", "needs --region"),
        (["x"], "short", "at least 8 characters"),
    ],
)
def test_bad_accounts_are_refused_in_one_sentence(
    runner: CliRunner, tmp_path: Path, args: list[str], password: str, message: str
) -> None:
    users = tmp_path / "users.json"
    result = runner.invoke(
        app,
        ["users", "add", *args, "--users-file", str(users), "--password-stdin"],
        input=password + "\n",
    )
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not users.exists()


def test_remove_ends_the_account(runner: CliRunner, tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    _add(runner, users, "a")
    _add(runner, users, "b")
    result = runner.invoke(app, ["users", "remove", "a", "--users-file", str(users)])
    assert result.exit_code == 0, result.output
    assert set(load_users(users)) == {"b"}
    again = runner.invoke(app, ["users", "remove", "a", "--users-file", str(users)])
    assert again.exit_code == 2
    assert "no user 'a'" in again.output


def test_default_file_is_inside_the_embedded_store(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "store"
    monkeypatch.setenv("T137_STORE_URL", str(store))
    result = runner.invoke(app, ["users", "add", "m", "--password-stdin"], input="long-enough-1\n")
    assert result.exit_code == 0, result.output
    assert set(load_users(store / "users.json")) == {"m"}


def test_database_store_needs_a_users_file(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        ["users", "list", "--store", "postgresql+psycopg://u@127.0.0.1:1/db"],
    )
    assert result.exit_code == 2
    assert "--users-file" in result.output
