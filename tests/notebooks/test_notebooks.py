"""The analysts' notebooks: stored stripped, and each one executes from top to bottom.

Execution runs a copy of the notebook in a temporary folder with a kernel started from this
interpreter (the project's ``.venv``), through a kernel spec written into the temporary
folder, so that no ``jupyter kernelspec install`` is needed and no other ``python3`` kernel
on the machine can be picked up instead. ``TMPDIR`` points into the test's folder, so the
notebooks' temporary directories end up there too. The executed copies are kept in
``tests/artifacts/notebooks/`` (git-ignored) for inspection.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any, Final

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tests.conftest import REPO, _shared_data_dir

from .strip import problems, read, write

NOTEBOOKS_DIR: Final = REPO / "notebooks"
KERNEL_NAME: Final = "t137-venv"
#: Seconds allowed per notebook (whole run), and per cell.
TIMEOUT_S: Final = {
    "01_quickstart": 240,
    "02_hotspots": 300,
    "03_district_rankings": 240,
    "04_other_city": 240,
}
CELL_TIMEOUT_S: Final = 180
NOTEBOOKS: Final = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))


def test_the_four_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == sorted(TIMEOUT_S)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_without_outputs(path: Path) -> None:
    notebook = read(path)
    nbformat.validate(notebook)
    assert problems(notebook) == []
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_one_parameters_cell(path: Path) -> None:
    notebook = read(path)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assert tagged[0].cell_type == "code"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def _kernel_manager(folder: Path) -> KernelManager:
    """A kernel manager that starts ipykernel with this very interpreter."""
    spec_dir = folder / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (t137 .venv)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    specs = KernelSpecManager(kernel_dirs=[str(folder / "kernels")])
    return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)


def execute(
    path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, *, artifact: str | None = None
) -> Any:
    """Execute a copy of the notebook at ``path`` inside ``folder``; return the executed copy.

    The executed notebook is also written to ``tests/artifacts/notebooks/`` (as ``artifact``,
    default the notebook's name), even when a cell fails.
    """
    run_dir = folder / "run"
    run_dir.mkdir()
    temp_dir = folder / "tmp"
    temp_dir.mkdir()
    copy = run_dir / path.name
    shutil.copy2(path, copy)
    monkeypatch.setenv("TMPDIR", str(temp_dir))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    notebook = read(copy)
    client = NotebookClient(
        notebook,
        km=_kernel_manager(folder),
        kernel_name=KERNEL_NAME,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(run_dir)}},
    )
    try:
        client.execute()
    finally:
        artifacts = REPO / "tests" / "artifacts" / "notebooks"
        artifacts.mkdir(parents=True, exist_ok=True)
        write(notebook, artifacts / (artifact or path.name))
    return notebook


def text_of(notebook: Any) -> str:
    """All text outputs of the executed notebook (streams and plain-text results)."""
    parts: list[str] = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type in ("execute_result", "display_data"):
                parts.append(output.get("data", {}).get("text/plain", ""))
            elif output.output_type == "error":
                parts.append("\n".join(output.traceback))
    return "\n".join(parts)


def _use_shared_data(monkeypatch: pytest.MonkeyPatch) -> bool:
    """Point the kernel at ../shared/data like the other tests do, when it is there.

    Returns whether the NYC 311 sample is there. Without the folder the notebooks fall back to
    the synthetic geography, and ``04_other_city`` skips its cells.
    """
    shared = _shared_data_dir()
    if not shared.is_dir():
        return False
    monkeypatch.setenv("T137_SHARED_DATA", str(shared))
    return (shared / "nyc311" / "nyc311_test_sample3.csv").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.timeout(TIMEOUT_S.get(p.stem, 240))) for p in NOTEBOOKS],
    ids=[p.stem for p in NOTEBOOKS],
)
def test_notebook_executes(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    has_nyc = _use_shared_data(monkeypatch)
    notebook = execute(path, tmp_path, monkeypatch)
    text = text_of(notebook)
    assert "Traceback" not in text
    if path.stem == "04_other_city" and has_nyc:
        assert "4,999 rows read" in text  # the sample was there, so it was ingested
    left = [p.name for p in (tmp_path / "tmp").iterdir() if p.name.startswith("t137-")]
    assert left == []  # the notebook removed its working folder
    assert [p.name for p in (tmp_path / "run").iterdir()] == [path.name]  # nothing written beside


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_other_city_without_shared_data_stops_gracefully(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-shared-data"
    empty.mkdir()
    monkeypatch.setenv("T137_SHARED_DATA", str(empty))
    notebook = execute(
        NOTEBOOKS_DIR / "04_other_city.ipynb",
        tmp_path,
        monkeypatch,
        artifact="04_other_city.no-shared-data.ipynb",
    )
    text = text_of(notebook)
    assert "NYC 311 sample not found" in text
    assert "skipped" in text
    assert "rows read" not in text  # nothing was ingested
