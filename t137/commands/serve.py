"""``t137 serve``: run the Dash app over a store."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from dash_app import AppSettings, create_app
from dash_app.config import DEV_SECRET, SECRET_ENV
from geo.errors import StoreError
from geo.store import open_store

from ..output import clear_errors, fail
from ..settings import get_settings

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def app_settings(
    store_url: str,
    *,
    require_login: bool = True,
    users_file: Path | None = None,
    secure_cookies: bool = False,
    warm_on_start: bool = False,
) -> AppSettings:
    """Return the app settings for ``store_url``, refusing a store with no boundaries.

    The session secret comes from ``T137_SECRET_KEY`` (a development default otherwise).
    With ``require_login=False`` every visitor is a manager (local demos only).
    ``users_file`` overrides where the accounts live (``users.json`` in an embedded store
    by default; a database store needs it). ``warm_on_start`` computes the default views
    in the background as the app starts, so the first visitors do not wait for them.

    Raises
    ------
    geo.errors.StoreError
        If the store cannot be opened or holds no boundaries to draw.
    """
    if "://" not in store_url and not Path(store_url).is_dir():
        msg = f"There is no store at {store_url}; run `t137 demo` or `t137 ingest` first."
        raise StoreError(msg)
    with open_store(store_url) as store:
        info = store.info()
    if info.boundaries == 0:
        msg = (
            f"The store at {info.url} holds no boundaries, so the app has nothing to draw; "
            "run `t137 boundaries import` (or `t137 demo`) first."
        )
        raise StoreError(msg)
    return AppSettings(
        store_url=store_url,
        secret_key=os.environ.get(SECRET_ENV, DEV_SECRET),
        require_login=require_login,
        users_path=str(users_file) if users_file is not None else None,
        secure_cookies=secure_cookies,
        warm_on_start=warm_on_start,
    )


def serve(
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Store directory or postgresql+psycopg:// URL (default: T137_STORE_URL).",
        ),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8050,
    open_access: Annotated[
        bool,
        typer.Option(
            "--open",
            help="No login: every visitor is a manager. Only on a loopback host (demos).",
        ),
    ] = False,
    users_file: Annotated[
        Path | None,
        typer.Option(
            "--users-file",
            help="Accounts file written by `t137 users add` (default: <store>/users.json).",
        ),
    ] = None,
    https: Annotated[
        bool,
        typer.Option(
            "--https",
            help="Served behind TLS: send the session cookie over HTTPS only.",
        ),
    ] = False,
    warm: Annotated[
        bool,
        typer.Option(
            "--warm/--no-warm",
            help="Compute the default views in the background at start-up.",
        ),
    ] = True,
) -> None:
    """Serve the dashboard (Persian by default, English at ?lang=en) over a store.

    Managers log in at /login (accounts from ``t137 users add``, kept in
    ``<store>/users.json`` or ``--users-file``); anonymous visitors see the public page only.
    """
    url = store if store else get_settings().store_url
    if open_access and host not in LOOPBACK:
        fail(f"--open serves every page without login, so it is refused on {host}; use 127.0.0.1.")
    with clear_errors():
        settings = app_settings(
            url,
            require_login=not open_access,
            users_file=users_file,
            secure_cookies=https,
            warm_on_start=warm,
        )
    if settings.secret_key == DEV_SECRET and host not in LOOPBACK:
        typer.echo(
            f"warning: serving on {host} with the development secret; set {SECRET_ENV}.",
            err=True,
        )
    if not https and host not in LOOPBACK:
        typer.echo(
            f"warning: serving on {host} without --https; put the app behind TLS and pass "
            "--https so the session cookie never travels in clear.",
            err=True,
        )
    app = create_app(settings)
    typer.echo(f"Serving {url} at http://{host}:{port}/ (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False)
