"""Engines for the PostGIS store, and one-sentence errors when the server cannot be reached."""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ...errors import StoreError

DRIVER: Final = "postgresql+psycopg"
#: Seconds to wait for the server to accept a connection.
CONNECT_TIMEOUT_S: Final = 5


def parse_url(url: str) -> URL:
    """Return ``url`` as a SQLAlchemy URL with the psycopg 3 driver.

    ``postgresql://`` and ``postgres://`` are accepted and switched to ``postgresql+psycopg``.

    Raises
    ------
    geo.errors.StoreError
        The URL cannot be parsed or names another driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        msg = "Cannot parse the PostGIS URL; write it as postgresql+psycopg://user@host:port/db."
        raise StoreError(msg) from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in ("postgresql", "postgres") or driver not in ("", "psycopg"):
        msg = (
            f"The PostGIS store needs a postgresql+psycopg:// URL, not {parsed.drivername}://; "
            "the psycopg 3 driver is the one installed with t137."
        )
        raise StoreError(msg)
    return parsed.set(drivername=DRIVER)


def describe(url: URL) -> str:
    """Return where ``url`` points, for messages: ``host:port/database`` (never the password)."""
    host = url.host or "localhost"
    port = url.port or 5432
    return f"{host}:{port}/{url.database or ''}"


def redacted(url: URL) -> str:
    """Return ``url`` as text with the password hidden."""
    return url.render_as_string(hide_password=True)


def create_engine(url: URL) -> sa.Engine:
    """Return an engine whose sessions use UTC and time out quickly when unreachable."""
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "options": "-c timezone=UTC"},
    )


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    # psycopg: 'connection failed: connection to server at "h" (…), port p failed: REASON'
    reason = first.rsplit("failed: ", 1)[-1].strip().rstrip(".")
    return reason or first


def unreachable(url: URL, exc: BaseException) -> StoreError:
    """Return the one-sentence error for a server that refused or did not answer."""
    msg = (
        f"Cannot reach the PostGIS server at {describe(url)} as user {url.username or '?'!r} "
        f"({_reason(exc)}); check that the server is running and that --store or "
        "T137_STORE_URL is right."
    )
    return StoreError(msg)
