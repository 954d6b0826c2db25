"""``t137 store info`` and ``t137 db upgrade``."""

from __future__ import annotations

import typer

store_app = typer.Typer(help="Inspect the case store.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the PostGIS schema.", no_args_is_help=True)
