"""How every command reports: a short human summary, or one JSON object with ``--json``.

Errors the project raises on purpose (:class:`geo.errors.T137Error`) end the command with
one clear sentence on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import typer

from geo.errors import T137Error


def emit(summary: Mapping[str, Any], *, as_json: bool, human: str) -> None:
    """Print ``human`` text, or ``summary`` as one JSON object when ``as_json`` is set.

    Parameters
    ----------
    summary : Mapping
        The machine-readable result; values must be JSON-serializable (``str`` is used
        as the fallback).
    as_json : bool
        Print JSON instead of the human text.
    human : str
        The short human summary.
    """
    if as_json:
        typer.echo(json.dumps(dict(summary), ensure_ascii=False, default=str))
    else:
        typer.echo(human)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn project errors and missing files into one sentence on stderr and exit code 2."""
    try:
        yield
    except (T137Error, FileNotFoundError) as exc:
        text = str(exc) if isinstance(exc, T137Error) else f"File not found: {exc.filename}."
        typer.echo(f"error: {text}", err=True)
        raise typer.Exit(code=2) from None


def fail(message: str) -> None:
    """End the command with ``message`` on stderr and exit code 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def progress_enabled(quiet: bool) -> bool:
    """Return whether a progress bar should be drawn (not quiet, and stderr is a terminal)."""
    return not quiet and sys.stderr.isatty()


Handler = Callable[..., None]
