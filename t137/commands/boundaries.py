"""``t137 boundaries check|import``."""

from __future__ import annotations

import typer

app = typer.Typer(help="Read, check and import boundary layers.", no_args_is_help=True)
