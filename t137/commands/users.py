"""``t137 users``: the accounts that may log in to the Dash app (add, list, remove)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dash_app import auth

from ..options import AsJson, StoreUrl, store_url
from ..output import emit, fail

app = typer.Typer(help="Dashboard accounts: managers and region managers.", no_args_is_help=True)

UsersFile = Annotated[
    Path | None,
    typer.Option(
        "--users-file",
        help="The users JSON file (default: users.json inside an embedded store's folder).",
    ),
]


def users_path(store: str | None, users_file: Path | None) -> Path:
    """Return the users file: ``--users-file``, else ``users.json`` in the embedded store.

    A database store has no folder of its own, so it needs ``--users-file`` (the same path
    is given to ``t137 serve`` through ``T137_USERS_FILE`` or the app settings).
    """
    if users_file is not None:
        return users_file
    url = store_url(store)
    path = auth.default_users_path(url)
    if path is None:
        fail(f"{url} is a database store; give the users file with --users-file.")
        raise AssertionError  # pragma: no cover - fail() always exits
    return path


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The login name.")],
    role: Annotated[
        str, typer.Option(help=f"One of: {', '.join(auth.USER_ROLES)}.")
    ] = auth.ROLE_MANAGER,
    region: Annotated[
        str | None, typer.Option(help="The region code a region_manager may see cases of.")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from one line of stdin."),
    ] = False,
    store: StoreUrl = None,
    users_file: UsersFile = None,
    as_json: AsJson = False,
) -> None:
    """Add a user (or replace one of the same name) with a salted password hash."""
    path = users_path(store, users_file)
    password = _read_password(password_stdin)
    try:
        auth.add_user(path, name, password, role, region)
    except ValueError as exc:
        fail(str(exc))
    kept_region = region if role == auth.ROLE_REGION_MANAGER else None
    where = f" of region {kept_region}" if kept_region else ""
    emit(
        {"name": name, "role": role, "region": kept_region, "users_file": str(path)},
        as_json=as_json,
        human=f"User {name!r} saved as {role}{where} in {path}.",
    )


@app.command("list")
def list_users(
    store: StoreUrl = None, users_file: UsersFile = None, as_json: AsJson = False
) -> None:
    """List the users (names, roles and regions; never the password hashes)."""
    path = users_path(store, users_file)
    users = auth.load_users(path)
    rows = [
        {"name": user.name, "role": user.role, "region": user.region}
        for user in sorted(users.values(), key=lambda user: user.name)
    ]
    lines = [f"{row['name']}\t{row['role']}\t{row['region'] or ''}" for row in rows]
    emit(
        {"users_file": str(path), "users": rows},
        as_json=as_json,
        human="\n".join(lines) if lines else f"No users in {path}.",
    )


@app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The login name to remove.")],
    store: StoreUrl = None,
    users_file: UsersFile = None,
    as_json: AsJson = False,
) -> None:
    """Remove a user; their open sessions end at their next request."""
    path = users_path(store, users_file)
    if not auth.remove_user(path, name):
        fail(f"There is no user {name!r} in {path}.")
    emit({"removed": name}, as_json=as_json, human=f"User {name!r} removed from {path}.")
