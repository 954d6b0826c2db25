"""Open a case store from a URL: a directory for the embedded store, or a PostGIS URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from ..errors import StoreError
from .base import CaseStore

#: Environment variable read when no URL is given (the CLI passes its settings value).
STORE_URL_ENV: Final = "T137_STORE_URL"
#: The store used when neither a URL nor ``T137_STORE_URL`` is given.
DEFAULT_STORE_URL: Final = "./data/store"
POSTGRES_SCHEMES: Final = ("postgresql", "postgres")


def resolve_url(url: str | os.PathLike[str] | None) -> str:
    """Return ``url``, or ``$T137_STORE_URL``, or :data:`DEFAULT_STORE_URL`."""
    if url is not None:
        return os.fspath(url)
    return os.environ.get(STORE_URL_ENV) or DEFAULT_STORE_URL


def redact(url: str) -> str:
    """Return ``url`` with any password replaced by ``***``.

    Examples
    --------
    >>> redact("postgresql+psycopg://me:secret@db:5432/t137")
    'postgresql+psycopg://me:***@db:5432/t137'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def _scheme(url: str) -> str:
    if "://" not in url:
        return ""
    return url.split("://", 1)[0].lower()


def open_store(
    url: str | os.PathLike[str] | None = None, *, lock_timeout_s: float = 60.0
) -> CaseStore:
    """Open the case store at ``url``.

    Parameters
    ----------
    url : str or path, optional
        A directory path (or ``file://`` URL) for the embedded GeoParquet store, created
        when missing; or ``postgresql+psycopg://user@host:port/db`` for PostGIS. When None,
        the ``T137_STORE_URL`` environment variable is used, else ``./data/store``. The
        ``t137`` command line passes its ``T137_STORE_URL`` setting (or ``--store``)
        explicitly; this package never reads the settings module.
    lock_timeout_s : float, default 60
        How long a writer waits for another writer's lock before failing.

    Returns
    -------
    CaseStore
        An :class:`geo.store.embedded.EmbeddedStore` or a ``geo.store.postgis.PostgisStore``.

    Raises
    ------
    geo.errors.StoreError
        The scheme is unknown, the path is not a store, PostGIS support is not installed,
        or the database cannot be reached (one sentence, password hidden).

    Examples
    --------
    >>> import tempfile
    >>> with open_store(tempfile.mkdtemp()) as store:
    ...     store.backend
    'embedded'
    """
    text = resolve_url(url)
    scheme = _scheme(text)
    base = scheme.split("+", 1)[0]
    if base in POSTGRES_SCHEMES:
        return _open_postgis(text, lock_timeout_s=lock_timeout_s)
    if scheme == "file":
        text = urlsplit(text).path
    elif scheme:
        msg = (
            f"Cannot open a case store at {redact(text)!r}: unknown scheme {scheme!r}; give a "
            "directory path or a postgresql+psycopg:// URL."
        )
        raise StoreError(msg)
    from .embedded import EmbeddedStore

    return EmbeddedStore(Path(text), lock_timeout_s=lock_timeout_s)


def _open_postgis(url: str, *, lock_timeout_s: float) -> CaseStore:
    try:
        from .postgis import PostgisStore  # type: ignore[attr-defined]
    except ImportError as exc:
        msg = (
            f"Cannot open the PostGIS store at {redact(url)!r}: "
            f"PostGIS support is unavailable ({exc})."
        )
        raise StoreError(msg) from exc
    try:
        store: CaseStore = PostgisStore(url, lock_timeout_s=lock_timeout_s)
    except StoreError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"Cannot reach the PostGIS store at {redact(url)!r}: {first}"
        raise StoreError(msg) from exc
    return store
