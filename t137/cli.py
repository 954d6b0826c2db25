"""The ``t137`` command line. Each command group lives in :mod:`t137.commands`."""

from __future__ import annotations

import typer

from .commands import (
    analyze,
    assign,
    boundaries,
    demo,
    export,
    ingest,
    report,
    serve,
    store,
    synth,
    users,
    verify,
)

app = typer.Typer(
    name="t137",
    help="Tehran 137 Analytics: boundaries, assignment, the case store and the dashboard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(boundaries.app, name="boundaries")
app.add_typer(store.store_app, name="store")
app.add_typer(store.db_app, name="db")
app.add_typer(users.app, name="users")
app.command("assign")(assign.assign)
app.command("ingest")(ingest.ingest)
app.command("synth")(synth.synth)
app.command("kpis")(analyze.kpis_cmd)
app.command("hotspots")(analyze.hotspots_cmd)
app.command("rank")(analyze.rank_cmd)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.add_typer(export.app, name="export")
app.command("report")(report.report)
app.command("verify")(verify.verify)

if __name__ == "__main__":  # pragma: no cover
    app()
