"""Strip outputs from notebooks, or check that they are stripped.

The notebooks under ``notebooks/`` are stored without outputs, execution counts or run
metadata, so that a diff shows only what a person changed. Strip them before committing::

    .venv/bin/python -m tests.notebooks.strip notebooks/*.ipynb          # rewrite in place
    .venv/bin/python -m tests.notebooks.strip --check notebooks/*.ipynb  # exit 1 if not

(``jupyter nbconvert --clear-output --inplace`` does the same for outputs, but nbconvert is
not a dependency and leaves run metadata behind.)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import nbformat

#: Cell metadata written by a run or a UI, never by the author.
RUN_METADATA: Final = ("execution", "ExecuteTime", "collapsed", "scrolled")
#: Notebook metadata kept; the rest (widget state, papermill records …) is dropped.
NOTEBOOK_METADATA: Final = ("kernelspec", "language_info")
#: ``language_info`` keys kept (a run adds the Python version and codemirror details).
LANGUAGE_INFO: Final = ("name", "pygments_lexer")


def read(path: Path) -> Any:
    """Read a notebook as nbformat 4."""
    return nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]


def write(notebook: Any, path: Path) -> None:
    """Write a notebook (nbformat's layout: one-space indent, a final newline)."""
    nbformat.write(notebook, path)  # type: ignore[no-untyped-call]


def strip(notebook: Any) -> Any:
    """Return ``notebook`` without outputs, execution counts or run metadata (in place)."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        for key in RUN_METADATA:
            cell.metadata.pop(key, None)
    for key in list(notebook.metadata):
        if key not in NOTEBOOK_METADATA:
            del notebook.metadata[key]
    info = notebook.metadata.get("language_info")
    if info is not None:
        for key in list(info):
            if key not in LANGUAGE_INFO:
                del info[key]
    return notebook


def problems(notebook: Any) -> list[str]:
    """Return what is not stripped, one line per cell or metadata key (empty when clean)."""
    found: list[str] = []
    for number, cell in enumerate(notebook.cells, start=1):
        where = f"cell {number} ({cell.get('id', '?')})"
        if cell.cell_type == "code":
            if cell.get("outputs"):
                found.append(f"{where} has {len(cell.outputs)} output(s)")
            if cell.get("execution_count") is not None:
                found.append(f"{where} has execution_count {cell.execution_count}")
        found += [f"{where} has metadata {key!r}" for key in RUN_METADATA if key in cell.metadata]
    found += [
        f"notebook metadata {key!r}" for key in notebook.metadata if key not in NOTEBOOK_METADATA
    ]
    info = notebook.metadata.get("language_info", {})
    found += [f"language_info {key!r}" for key in info if key not in LANGUAGE_INFO]
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Strip (or with ``--check`` only check) the notebooks given; return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="notebooks (.ipynb)")
    parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    args = parser.parse_args(argv)
    dirty = 0
    for path in args.paths:
        notebook = read(path)
        found = problems(notebook)
        if not found:
            continue
        dirty += 1
        if args.check:
            print(f"{path}: not stripped: {'; '.join(found)}", file=sys.stderr)
        else:
            write(strip(notebook), path)
            print(f"{path}: stripped")
    return 1 if args.check and dirty else 0


if __name__ == "__main__":
    raise SystemExit(main())
