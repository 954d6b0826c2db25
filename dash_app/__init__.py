"""The Dash application for city managers, planners and citizens.

Build it with :func:`create_app`; ``t137 serve`` runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import dash
import flask

from . import auth, callbacks, data, guard
from .config import AppSettings as AppSettings
from .shell import shell

PACKAGE_DIR: Final = Path(__file__).resolve().parent

__all__ = ["AppSettings", "create_app"]


def create_app(settings: AppSettings | None = None) -> dash.Dash:
    """Build the Dash app over one store.

    Parameters
    ----------
    settings : AppSettings, optional
        Store URL, secret key, cache and display settings; read from the environment
        (``T137_STORE_URL``, ``T137_SECRET_KEY``) when omitted.

    Returns
    -------
    dash.Dash
        A multi-page app (``use_pages=True``) whose CSS, fonts and scripts are all served
        locally (no CDN). Its Flask server is ``app.server``. With
        ``settings.warm_on_start`` the default views' data is computed in a background
        thread (``app.server.extensions["t137_warming"]``).
    """
    chosen = settings if settings is not None else AppSettings.from_env()
    server = flask.Flask(__name__)
    server.config.update(
        SECRET_KEY=chosen.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=chosen.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=chosen.secure_cookies,
    )
    cache = data.make_cache(chosen, server)
    server.extensions[data.EXTENSION] = data.DataService(chosen, cache)
    server.extensions[auth.SETTINGS_EXTENSION] = chosen
    users = (
        Path(chosen.users_path) if chosen.users_path else auth.default_users_path(chosen.store_url)
    )
    auth.install(server, users)
    guard.install(server)
    app = dash.Dash(
        __name__,
        server=server,  # type: ignore[arg-type]
        use_pages=True,
        pages_folder=str(PACKAGE_DIR / "pages"),
        assets_folder=str(PACKAGE_DIR / "assets"),
        serve_locally=True,
        suppress_callback_exceptions=True,
        title="Tehran 137",
        update_title="",
    )
    app.layout = shell()
    callbacks.register(app)
    if chosen.warm_on_start:
        server.extensions[data.WARMING] = data.start_warming(server)
    return app
