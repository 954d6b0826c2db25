"""Settings of the Dash app: a small frozen dataclass, so ``dash_app`` does not import ``t137``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

#: Environment variable read by :meth:`AppSettings.from_env` for the store location.
STORE_ENV: Final = "T137_STORE_URL"
#: Environment variable read by :meth:`AppSettings.from_env` for the session secret.
SECRET_ENV: Final = "T137_SECRET_KEY"
DEV_SECRET: Final = "t137-development-secret-change-me"


@dataclass(frozen=True)
class AppSettings:
    """Frozen settings of one app instance.

    Parameters
    ----------
    store_url : str
        Embedded store directory or ``postgresql+psycopg://`` URL (see
        :func:`geo.store.open_store`).
    secret_key : str
        Flask secret key that signs the session cookie.
    k_anonymity : int, default 5
        The public page suppresses every cell computed from fewer cases than this.
    cache_type : str, default "SimpleCache"
        flask-caching backend (``SimpleCache`` in development, ``FileSystemCache`` or
        ``RedisCache`` in production).
    cache_dir : str, optional
        Folder of ``FileSystemCache``.
    cache_timeout_s : int, default 0
        How long cached results live, in seconds; 0 keeps them until the cache's size
        bound evicts them. Every key holds the store's version, so entries never go
        stale: a timeout only forces recomputations.
    store_check_s : int, default 2
        How often the store's last ingest run is read, in seconds: it is part of every
        cache key, so a new ingest run shows after at most this delay. 0 reads it on every
        request.
    simplify_tolerance_m : float, default 25.0
        Douglas-Peucker tolerance of the map geometries, in metres (EPSG:32639).
    min_volume : int, default 30
        Areas with fewer cases get no rank on the rankings page.
    map_tiles_url : str, optional
        An XYZ raster tile URL drawn under the polygons; blank base when None (offline).
    users_path : str, optional
        JSON file of the users (:mod:`dash_app.auth`); ``<store>/users.json`` for an
        embedded store when None.
    require_login : bool, default True
        When False every visitor is a manager (only for a local demo on loopback).
    secure_cookies : bool, default False
        Send the session cookie over HTTPS only (set it behind TLS).
    cases_page_size : int, default 50
        Rows per page of the cases list (paginated on the server).
    export_max_rows : int, default 1_000_000
        Most case rows a CSV or Excel download holds (an Excel sheet holds 1,048,576).
    warm_on_start : bool, default False
        Compute the default views' data in a background thread when the app is built
        (:func:`dash_app.data.start_warming`), so the first visitors do not wait for cold
        reads. Off by default (tests and short-lived apps).
    """

    store_url: str
    secret_key: str = DEV_SECRET
    k_anonymity: int = 5
    cache_type: str = "SimpleCache"
    cache_dir: str | None = None
    cache_timeout_s: int = 0
    store_check_s: int = 2
    simplify_tolerance_m: float = 25.0
    min_volume: int = 30
    map_tiles_url: str | None = None
    users_path: str | None = None
    require_login: bool = True
    secure_cookies: bool = False
    cases_page_size: int = 50
    export_max_rows: int = 1_000_000
    warm_on_start: bool = False

    def __post_init__(self) -> None:
        if self.k_anonymity < 1:
            msg = f"k_anonymity must be at least 1, got {self.k_anonymity}."
            raise ValueError(msg)
        if self.store_check_s < 0:
            msg = f"store_check_s must be >= 0 seconds, got {self.store_check_s}."
            raise ValueError(msg)
        if self.simplify_tolerance_m < 0:
            msg = f"simplify_tolerance_m must be >= 0 metres, got {self.simplify_tolerance_m}."
            raise ValueError(msg)

    @classmethod
    def from_env(cls) -> AppSettings:
        """Return settings from ``T137_STORE_URL`` and ``T137_SECRET_KEY`` (defaults otherwise)."""
        return cls(
            store_url=os.environ.get(STORE_ENV, "data/store"),
            secret_key=os.environ.get(SECRET_ENV, DEV_SECRET),
        )
