"""The examples in the analytics docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = (
    "analytics.indicators",
    "analytics.periods",
    "analytics.ranking",
    "analytics.rates",
    "analytics.survival",
    "analytics.working_time",
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
