"""The ``t137`` command line imports a command's module only when that command runs.

A daily ``t137 ingest`` of a few thousand cases must not wait for Dash, matplotlib and
the analytics to load; ``t137 --help`` still lists every command with its help.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from t137.cli import Commands, app

ROOT = Path(__file__).resolve().parents[2]
#: Packages the ingest command has no use for.
HEAVY = ("analytics", "dash", "dash_app", "matplotlib", "folium", "mapclassify")

_PROBE = """
import json, sys
from typer.testing import CliRunner
from t137.cli import app
result = CliRunner().invoke(app, sys.argv[1:])
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(HEAVY)))
print(json.dumps({"exit": result.exit_code, "loaded": loaded, "output": result.output}))
"""


def _probe(*args: str) -> dict[str, object]:
    """Run the CLI with ``args`` in a fresh interpreter; return what it loaded."""
    code = _PROBE.replace("HEAVY", repr(json.dumps(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("command", [["ingest", "--help"], ["store", "info", "--help"]])
def test_a_command_loads_only_what_it_uses(command: list[str]) -> None:
    result = _probe(*command)
    assert result["exit"] == 0, result["output"]
    assert result["loaded"] == []


def test_an_analytics_command_loads_its_libraries() -> None:
    result = _probe("rank", "--help")
    assert result["exit"] == 0, result["output"]
    assert "analytics" in list(result["loaded"])  # type: ignore[call-overload]


def test_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    listed = [
        line.split()[1]
        for line in result.output.splitlines()
        if line.startswith("│ ") and len(line.split()) > 1 and line.split()[1] in Commands.lazy
    ]
    assert listed == list(Commands.lazy)


@pytest.mark.parametrize("name", list(Commands.lazy))
def test_every_command_loads_under_its_name(name: str) -> None:
    result = CliRunner().invoke(app, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"t137 {name}" in " ".join(result.output.split())


def test_an_unknown_command_is_refused() -> None:
    result = CliRunner().invoke(app, ["ingets"])
    assert result.exit_code == 2
    assert "No such command" in result.output
