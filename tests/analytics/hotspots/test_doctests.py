"""The examples in the hotspot docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "analytics.hotspots.grid",
    "analytics.hotspots.density",
    "analytics.hotspots.h3cells",
    "analytics.hotspots.gistar",
    "analytics.hotspots.emerging",
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
