"""``t137 demo``: set up synthetic data and show what the platform does, offline."""

from __future__ import annotations


def demo() -> None:
    """Run the offline demo."""
    raise NotImplementedError
