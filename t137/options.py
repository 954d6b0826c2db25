"""Command-line options shared by the ``t137`` commands, and how they resolve."""

from __future__ import annotations

from typing import Annotated

import typer

from .settings import get_settings

StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="Store directory or postgresql+psycopg:// URL (default: T137_STORE_URL).",
    ),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]


def store_url(store: str | None) -> str:
    """Return the ``--store`` value, or the ``T137_STORE_URL`` setting when it is not given."""
    return store if store else get_settings().store_url
