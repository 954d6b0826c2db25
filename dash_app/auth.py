"""Users, roles and login (flask-login; passwords hashed with werkzeug.security).

Roles:

* ``public`` (anonymous, no login): the public page only;
* ``manager``: every page and every case;
* ``region_manager``: every aggregate, but case details of their own region only.

Users live in a JSON file (by default ``users.json`` inside an embedded store's folder),
written by :func:`add_user`. Each holds a name, a password hash, a role and, for a region
manager, a region code. The checks that matter are made in :mod:`dash_app.data`; pages and
the callback guard here only avoid showing what would be refused.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import flask
import flask_login
from werkzeug.security import check_password_hash, generate_password_hash

ROLE_PUBLIC: Final = "public"
ROLE_MANAGER: Final = "manager"
ROLE_REGION_MANAGER: Final = "region_manager"
#: Roles a user account can have (``public`` is the anonymous visitor).
USER_ROLES: Final = (ROLE_MANAGER, ROLE_REGION_MANAGER)
#: Roles that may see aggregates beyond the public page.
STAFF_ROLES: Final = frozenset(USER_ROLES)
USERS_FILE: Final = "users.json"
SETTINGS_EXTENSION: Final = "t137_settings"
LOGIN_PATH: Final = "/login"
LOGOUT_PATH: Final = "/logout"


class AccessDeniedError(PermissionError):
    """The viewer's role does not allow the data asked for."""


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a role and, for a region manager, the region code."""

    role: str
    region: str | None = None
    name: str | None = None

    @property
    def is_staff(self) -> bool:
        """Whether the viewer may see manager aggregates."""
        return self.role in STAFF_ROLES


PUBLIC_VIEWER: Final = Viewer(ROLE_PUBLIC)
#: The viewer when login is switched off (local demos): a manager.
OPEN_VIEWER: Final = Viewer(ROLE_MANAGER, name="local")


@dataclass(frozen=True)
class UserRecord:
    """One stored user."""

    name: str
    password_hash: str
    role: str
    region: str | None = None


class LoginUser(flask_login.UserMixin):  # type: ignore[misc]
    """The flask-login user object of a :class:`UserRecord`."""

    def __init__(self, record: UserRecord) -> None:
        self.record = record

    def get_id(self) -> str:
        """Return the user's name (what the session stores)."""
        return self.record.name


def default_users_path(store_url: str) -> Path | None:
    """Return ``<store>/users.json`` for an embedded store, None for a database URL."""
    if "://" in store_url:
        return None
    return Path(store_url) / USERS_FILE


def load_users(path: Path | None) -> dict[str, UserRecord]:
    """Return the users of ``path`` by name (none when the file is missing)."""
    if path is None or not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {item["name"]: UserRecord(**item) for item in raw.get("users", [])}


def add_user(path: Path, name: str, password: str, role: str, region: str | None = None) -> None:
    """Add or replace a user in ``path`` with a salted password hash (scrypt).

    Raises
    ------
    ValueError
        If the role is unknown, a region manager has no region, or the password is short.
    """
    if role not in USER_ROLES:
        msg = f"role must be one of {', '.join(USER_ROLES)}, got {role!r}."
        raise ValueError(msg)
    if role == ROLE_REGION_MANAGER and not region:
        msg = "a region_manager needs --region (the region code they manage)."
        raise ValueError(msg)
    if len(password) < 8:
        msg = "the password must have at least 8 characters."
        raise ValueError(msg)
    users = load_users(path)
    users[name] = UserRecord(
        name=name,
        password_hash=generate_password_hash(password),
        role=role,
        region=str(region) if role == ROLE_REGION_MANAGER else None,
    )
    _save_users(path, users)


def remove_user(path: Path, name: str) -> bool:
    """Remove the user ``name`` from ``path``; return False when there is no such user.

    The user's open sessions end at their next request, because each request reloads
    the user from the file.
    """
    users = load_users(path)
    if users.pop(name, None) is None:
        return False
    _save_users(path, users)
    return True


def _save_users(path: Path, users: dict[str, UserRecord]) -> None:
    """Write ``users`` to ``path`` atomically (temporary file, then rename)."""
    payload = {"users": [asdict(user) for user in users.values()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


def check_login(path: Path | None, name: str, password: str) -> UserRecord | None:
    """Return the user when ``password`` is right, else None (same cost either way)."""
    user = load_users(path).get(name)
    if user is None:
        check_password_hash(generate_password_hash("x"), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def current_viewer() -> Viewer:
    """Return the viewer of the current request (public when nobody is logged in)."""
    settings = flask.current_app.extensions.get(SETTINGS_EXTENSION)
    if settings is not None and not settings.require_login:
        return OPEN_VIEWER
    if not flask.has_request_context():
        return PUBLIC_VIEWER
    user = flask_login.current_user
    if user is None or not user.is_authenticated or not isinstance(user, LoginUser):
        return PUBLIC_VIEWER
    record = user.record
    return Viewer(record.role, record.region, record.name)


def _safe_next(target: str | None) -> str:
    """Return ``target`` when it is a local path, else ``/`` (no open redirects)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


_FORM: Final = """<!DOCTYPE html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>ورود — Log in</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="/assets/app.css"></head>
<body><main class="login-page"><h1>ورود / Log in</h1>{error}
<form method="post" action="/login">
<input type="hidden" name="next" value="{next}">
<label for="username">نام کاربری / User name</label>
<input id="username" name="username" autocomplete="username" required>
<label for="password">گذرواژه / Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button id="login-button" type="submit">ورود / Log in</button>
</form></main></body></html>"""


def _form(next_path: str, error: str = "") -> str:
    from html import escape

    shown = f'<p class="error" id="login-error">{escape(error)}</p>' if error else ""
    return _FORM.format(error=shown, next=escape(next_path, quote=True))


def install(server: flask.Flask, users_path: Path | None) -> None:
    """Add flask-login, the ``/login`` and ``/logout`` routes to ``server``."""
    manager = flask_login.LoginManager()
    manager.session_protection = "strong"
    manager.init_app(server)

    @manager.user_loader  # type: ignore[untyped-decorator]
    def _load(name: str) -> LoginUser | None:
        record = load_users(users_path).get(name)
        return None if record is None else LoginUser(record)

    def login() -> Any:
        if flask.request.method == "POST":
            form = flask.request.form
            record = check_login(users_path, form.get("username", ""), form.get("password", ""))
            target = _safe_next(form.get("next"))
            if record is None:
                return _form(
                    target, "نام کاربری یا گذرواژه نادرست است / Wrong name or password"
                ), 401
            flask.session.clear()
            flask_login.login_user(LoginUser(record))
            return flask.redirect(target)
        return _form(_safe_next(flask.request.args.get("next")))

    def logout() -> Any:
        flask_login.logout_user()
        flask.session.clear()
        return flask.redirect("/")

    server.add_url_rule(LOGIN_PATH, "t137_login", login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "t137_logout", logout, methods=["GET", "POST"])
