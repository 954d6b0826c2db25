"""``t137 store info``, ``t137 store refresh`` and ``t137 db upgrade``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from geo.errors import StoreError
from geo.store import StoreInfo, open_store

from ..options import AsJson, StoreUrl
from ..options import store_url as _url
from ..output import clear_errors, emit

store_app = typer.Typer(help="Inspect the case store.", no_args_is_help=True)
db_app = typer.Typer(help="Manage the PostGIS schema.", no_args_is_help=True)


def _info_text(info: StoreInfo) -> str:
    lines = [f"{info.backend} store at {info.url}: {info.cases} cases"]
    sources: dict[str, list[tuple[str, int]]] = {}
    for source, month, count in info.cases_by_month:
        sources.setdefault(source, []).append((month, count))
    for source, months in sources.items():
        span = f"{months[0][0]} to {months[-1][0]}" if months else ""
        total = sum(count for _, count in months)
        lines.append(f"  {source}: {total} cases, {span}")
        lines.extend(f"    {month}  {count}" for month, count in months)
    lines.append(
        f"  {info.events} events, {info.quarantined} quarantined rows, {info.boundaries} "
        f"boundary features, {info.read_model_rows} read-model rows"
    )
    run = info.last_run
    if run is None:
        lines.append("  no ingest run recorded yet")
    else:
        lines.append(
            f"  last run #{run.seq} ({run.source}, finished {run.finished_at:%Y-%m-%d %H:%M} "
            f"UTC): {run.inserted} inserted, {run.updated} updated, {run.unchanged} "
            f"unchanged, {run.quarantined} quarantined"
        )
    lines.append(f"  {info.runs} runs, chain head {info.chain_head}")
    return "\n".join(lines)


@store_app.command("info")
def info(store: StoreUrl = None, as_json: AsJson = False) -> None:
    """Show the store: cases by source and month, the last ingest run and the chain head."""
    with clear_errors(), open_store(_url(store)) as opened:
        summary = opened.info()
    emit(summary.as_dict(), as_json=as_json, human=_info_text(summary))


@store_app.command("refresh")
def refresh(
    store: StoreUrl = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Recompute every day, not only the days whose cases changed (after "
            "restoring files or editing cases outside t137).",
        ),
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Bring the dashboard's read model up to date with the stored cases.

    `t137 ingest` does this after its files (only the days they changed are recomputed);
    --full rebuilds the whole model.
    """
    with clear_errors(), open_store(_url(store)) as opened:
        before = opened.data_version()
        rows = opened.refresh_read_model(full=full)
        changed = opened.data_version() != before
    result = {"url": opened.url, "read_model_rows": rows, "full": full, "changed": changed}
    state = "rebuilt" if full else "refreshed" if changed else "already up to date"
    emit(result, as_json=as_json, human=f"read model {state}: {rows} rows")


@db_app.command("upgrade")
def upgrade(
    store: StoreUrl = None,
    revision: Annotated[str, typer.Option(help="Target Alembic revision.")] = "head",
    as_json: AsJson = False,
) -> None:
    """Create or migrate the PostGIS schema (Alembic) to the newest revision."""
    with clear_errors():
        result = _upgrade(_url(store), revision)
    before = result["before"] or "an empty database"
    human = (
        f"{result['url']}: already at revision {result['after']}"
        if result["before"] == result["after"]
        else f"{result['url']}: upgraded from {before} to revision {result['after']}"
    )
    emit(result, as_json=as_json, human=human)


def _upgrade(url: str, revision: str) -> dict[str, Any]:
    if "://" not in url or not url.split("://", 1)[0].lower().startswith("postgres"):
        msg = (
            f"`t137 db upgrade` migrates a PostGIS database, but the store is {url!r}; "
            "give --store postgresql+psycopg://user@host:port/db (embedded stores need no upgrade)."
        )
        raise StoreError(msg)
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError, OperationalError

    from geo.store.postgis import migrate
    from geo.store.postgis.connect import create_engine, describe, parse_url, redacted, unreachable

    parsed = parse_url(url)
    engine = create_engine(parsed)
    try:
        before, after = migrate.upgrade(engine, revision)
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) is None:
            raise unreachable(parsed, exc) from None
        msg = f"Migrating {describe(parsed)} failed: {str(exc.orig).strip().splitlines()[0]}."
        raise StoreError(msg) from None
    except DBAPIError as exc:
        msg = f"Migrating {describe(parsed)} failed: {str(exc.orig).strip().splitlines()[0]}."
        raise StoreError(msg) from None
    except CommandError as exc:
        msg = f"Cannot migrate {describe(parsed)} to revision {revision!r}: {exc}."
        raise StoreError(msg) from None
    finally:
        engine.dispose()
    return {
        "url": redacted(parsed),
        "before": before,
        "after": after,
        "head": migrate.head_revision(),
    }
