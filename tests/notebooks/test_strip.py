"""The strip helper finds and removes outputs, execution counts and run metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .strip import main, problems, read, strip

EXECUTED: dict[str, Any] = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python", "version": "3.11.2", "pygments_lexer": "ipython3"},
        "widgets": {"state": {}},
    },
    "cells": [
        {"cell_type": "markdown", "id": "m1", "metadata": {}, "source": "# title"},
        {
            "cell_type": "code",
            "id": "c1",
            "metadata": {"tags": ["parameters"], "execution": {"iopub.status.busy": "…"}},
            "execution_count": 3,
            "source": "1 + 1",
            "outputs": [
                {
                    "output_type": "execute_result",
                    "execution_count": 3,
                    "data": {"text/plain": "2"},
                    "metadata": {},
                }
            ],
        },
    ],
}


@pytest.fixture
def executed(tmp_path: Path) -> Path:
    path = tmp_path / "executed.ipynb"
    path.write_text(json.dumps(EXECUTED), encoding="utf-8")
    return path


def test_problems_name_each_leftover(executed: Path) -> None:
    assert problems(read(executed)) == [
        "cell 2 (c1) has 1 output(s)",
        "cell 2 (c1) has execution_count 3",
        "cell 2 (c1) has metadata 'execution'",
        "notebook metadata 'widgets'",
        "language_info 'version'",
    ]


def test_strip_keeps_source_and_tags(executed: Path) -> None:
    notebook = strip(read(executed))
    assert problems(notebook) == []
    cell = notebook.cells[1]
    assert (cell.source, cell.outputs, cell.execution_count) == ("1 + 1", [], None)
    assert cell.metadata == {"tags": ["parameters"]}
    assert notebook.metadata["language_info"] == {"name": "python", "pygments_lexer": "ipython3"}
    assert notebook.cells[0].source == "# title"


def test_command_line_check_then_strip(executed: Path) -> None:
    assert main(["--check", str(executed)]) == 1
    assert problems(read(executed)) != []  # --check does not rewrite
    assert main([str(executed)]) == 0
    assert problems(read(executed)) == []
    assert main(["--check", str(executed)]) == 0
