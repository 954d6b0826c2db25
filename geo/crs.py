"""Coordinate reference systems used across the project.

Geometry is stored in EPSG:4326 with x = longitude and y = latitude. Distances, areas and
clustering are computed in metres in EPSG:32639 (UTM zone 39N, which covers Tehran).
"""

from __future__ import annotations

from typing import Final

from pyproj import CRS

from .errors import CRSError

STORAGE_CRS: Final = "EPSG:4326"
METRIC_CRS: Final = "EPSG:32639"


def require_crs(crs: object, expected: str, *, what: str) -> None:
    """Raise :class:`CRSError` unless ``crs`` equals ``expected``.

    Parameters
    ----------
    crs : object
        The CRS found (anything :class:`pyproj.CRS` accepts, or None).
    expected : str
        The CRS required, such as ``"EPSG:4326"``.
    what : str
        What carries the CRS, for the message (for example ``"cases"``).
    """
    if crs is None:
        msg = f"{what} has no CRS; set it with `.set_crs()` (expected {expected})."
        raise CRSError(msg)
    if not CRS.from_user_input(crs).equals(CRS.from_user_input(expected)):
        found = CRS.from_user_input(crs).to_string()
        msg = (
            f"{what} is in {found} but {expected} is required; "
            f"re-project with `.to_crs({expected!r})` first."
        )
        raise CRSError(msg)
