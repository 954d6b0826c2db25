"""Fixtures of the store tests: a store URL per backend, each test with an empty store.

``store_url`` is parametrized over ``embedded`` (a temporary directory) and ``postgis`` (a
fresh database on the session's throwaway server; marked ``postgis``). The PostGIS case is
skipped with the reason when ``geo.store.postgis`` cannot be imported.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

BACKENDS = ["embedded", pytest.param("postgis", marks=pytest.mark.postgis)]


def postgis_importable() -> str | None:
    """Return why the PostGIS backend cannot be imported, or None when it can."""
    try:
        importlib.import_module("geo.store.postgis")
    except ImportError as exc:
        return f"geo.store.postgis cannot be imported ({exc})"
    return None


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database with PostGIS on ``server_url``'s server; yield its URL."""
    import sqlalchemy as sa

    url = sa.make_url(server_url)
    name = f"t137_contract_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    quoted = admin.dialect.identifier_preparer.quote(name)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
        engine = sa.create_engine(url.set(database=name), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        engine.dispose()
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def empty_store_url(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Iterator[str]:
    """Yield the URL of a new, empty store of ``backend``."""
    if backend == "embedded":
        yield str(tmp / f"store-{uuid.uuid4().hex[:8]}")
        return
    reason = postgis_importable()
    if reason is not None:
        pytest.skip(reason)
    server = request.getfixturevalue("postgis_url")
    with fresh_database(server) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend name of the current contract case."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new, empty store of each backend."""
    with empty_store_url(backend, request, tmp_path) as url:
        yield url
