"""The ``t137`` command line. Each command group lives in :mod:`t137.commands`.

Commands are imported when they run (:mod:`t137.lazy`), so a command pays only for the
libraries it uses.
"""

from __future__ import annotations

from typing import ClassVar

import typer

from .lazy import LazyCommand, LazyGroup


class Commands(LazyGroup):
    """Every ``t137`` command, by name, in the order ``t137 --help`` lists them."""

    lazy: ClassVar[dict[str, LazyCommand]] = {
        name: LazyCommand(f"t137.commands.{target}")
        for name, target in (
            ("boundaries", "boundaries:app"),
            ("store", "store:store_app"),
            ("db", "store:db_app"),
            ("users", "users:app"),
            ("assign", "assign:assign"),
            ("ingest", "ingest:ingest"),
            ("synth", "synth:synth"),
            ("kpis", "analyze:kpis_cmd"),
            ("hotspots", "analyze:hotspots_cmd"),
            ("rank", "analyze:rank_cmd"),
            ("serve", "serve:serve"),
            ("demo", "demo:demo"),
            ("export", "export:app"),
            ("report", "report:report"),
            ("verify", "verify:verify"),
        )
    }


app = typer.Typer(
    name="t137",
    cls=Commands,
    help="Tehran 137 Analytics: boundaries, assignment, the case store and the dashboard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Tehran 137 Analytics: boundaries, assignment, the case store and the dashboard."""


if __name__ == "__main__":  # pragma: no cover
    app()
