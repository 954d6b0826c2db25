"""``t137 assign``: add neighborhood, district and region codes to a table of points."""

from __future__ import annotations


def assign() -> None:
    """Assign points to neighborhoods, districts and regions."""
    raise NotImplementedError
