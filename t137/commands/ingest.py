"""``t137 ingest FILE...``: read, validate, pseudonymize, locate and store cases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from geo.assign import BoundaryIndex, load_index
from geo.errors import InputError
from geo.gazetteer import build_gazetteer, read_places
from geo.store import CaseStore, open_store
from ingest.pipeline import IngestOptions, IngestReport, ingest_file
from ingest.readers.dispatch import FORMATS, Format

from ..options import AsJson, StoreUrl, store_url
from ..output import clear_errors, emit, fail, progress_enabled
from ..settings import get_settings


def _boundaries(store: CaseStore, folder: Path | None) -> tuple[BoundaryIndex, Any, str]:
    """Return the boundary index, the boundaries and where they came from."""
    if folder is not None:
        index = load_index(folder)
        from geo.boundaries import load_boundaries

        return index, load_boundaries(folder), str(folder)
    stored = store.read_boundaries()
    if len(stored):
        return BoundaryIndex.from_boundaries(stored), stored, f"store {store.url}"
    configured = get_settings().boundaries
    if configured is not None:
        return _boundaries(store, configured)
    msg = (
        "No boundaries to place the cases in: pass --boundaries DIR, set T137_BOUNDARIES, or "
        "import them into the store with `t137 boundaries import PATH --store URL`."
    )
    raise InputError(msg)


def ingest(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Files to ingest.")],
    source_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="137, open311 or csv (with --mapping); guessed from the file name by default.",
        ),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option(help="YAML column mapping for --format csv (data/mappings/).")
    ] = None,
    city: Annotated[str | None, typer.Option(help="City of an Open311 source.")] = None,
    store: StoreUrl = None,
    boundaries: Annotated[
        Path | None,
        typer.Option(help="Boundary folder (default: the store's boundaries, T137_BOUNDARIES)."),
    ] = None,
    places: Annotated[
        Path | None,
        typer.Option(help="CSV of streets/places with coordinates for address matching."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress display.")] = False,
    as_json: AsJson = False,
) -> None:
    """Ingest case files: every row is stored, updated, unchanged or quarantined with a reason."""
    settings = get_settings()
    if source_format is not None and source_format not in FORMATS:
        fail(f"--format {source_format!r} is not one of {', '.join(FORMATS)}.")
    options = IngestOptions(
        key=settings.hash_key.get_secret_value(),
        source_format=cast(Format | None, source_format),
        mapping=mapping,
        city=city,
        snap_tolerance_m=settings.snap_tolerance_m,
        placeholders=settings.placeholder_points,
    )
    reports: list[IngestReport] = []
    with clear_errors(), open_store(store_url(store)) as opened:
        index, frame, origin = _boundaries(opened, boundaries)
        gazetteer = build_gazetteer(frame, read_places(places) if places else None)
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            disable=not progress_enabled(quiet) or as_json,
            transient=True,
        ) as progress:
            for file in files:
                task = progress.add_task(f"{file.name}: starting", total=None)

                def show(stage: str, task: Any = task, name: str = file.name) -> None:
                    progress.update(task, description=f"{name}: {stage}")

                reports.append(
                    ingest_file(
                        file,
                        opened,
                        index,
                        options,
                        gazetteer=gazetteer,
                        refresh=False,
                        on_stage=show,
                    )
                )
                progress.remove_task(task)
            # one refresh for all the files: it recomputes only the days they changed
            task = progress.add_task("read model: refreshing", total=None)
            opened.refresh_read_model()
            progress.remove_task(task)
        url = opened.url
    summary = {
        "store": url,
        "boundaries": origin,
        "files": [r.as_dict() for r in reports],
        "reconciles": all(r.reconciles for r in reports),
    }
    human = "\n".join([*(r.summary() for r in reports), f"Store: {url}"])
    emit(summary, as_json=as_json, human=human)
