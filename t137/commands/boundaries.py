"""``t137 boundaries check|import``: validate boundary layers and import the hierarchy."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from geo.boundaries import ImportResult, import_boundaries, write_boundaries
from geo.boundary_check import check_boundaries
from geo.errors import BoundaryError
from geo.hierarchy import OVERLAP_SHARE, RUNNER_UP_CODE, RUNNER_UP_SHARE
from geo.population import PopulationJoin, join_population_detailed
from geo.store import open_store
from ingest import schema as s

from ..options import AsJson
from ..output import clear_errors, emit

app = typer.Typer(help="Read, check and import boundary layers.", no_args_is_help=True)

NameField = Annotated[
    list[str] | None,
    typer.Option(
        "--name-field",
        help='Field with the (Persian) name; once, or once per PATH ("" to detect).',
    ),
]
CodeField = Annotated[
    list[str] | None,
    typer.Option(
        "--code-field", help='Field with the code; once, or once per PATH ("" to detect).'
    ),
]
ParentField = Annotated[
    list[str] | None,
    typer.Option(
        "--parent-field",
        help="Field with the parent's code; parents are dissolved from it. Once, or per PATH.",
    ),
]
NameEnField = Annotated[
    list[str] | None,
    typer.Option("--name-en-field", help="Field with the English name; once, or once per PATH."),
]
Level = Annotated[
    list[str] | None,
    typer.Option("--level", help="Level of the features: region, district or neighborhood."),
]
ParentLevel = Annotated[
    str | None, typer.Option("--parent-level", help="Level of dissolved parents (region).")
]
Layer = Annotated[str | None, typer.Option("--layer", help="Layer of a multi-layer file.")]
OneName = Annotated[str | None, typer.Option("--name-field", help="Field with the (Persian) name.")]
OneCode = Annotated[str | None, typer.Option("--code-field", help="Field with the code.")]
OneParent = Annotated[
    str | None,
    typer.Option("--parent-field", help="Field with the parent's code; parents are dissolved."),
]
OneNameEn = Annotated[
    str | None, typer.Option("--name-en-field", help="Field with the English name.")
]
OneLevel = Annotated[
    str | None,
    typer.Option("--level", help="Level of the features: region, district, neighborhood."),
]


@app.command("check")
def check(
    path: Annotated[Path, typer.Argument(help="Shapefile, GeoPackage, GeoJSON or boundary dir.")],
    name_field: OneName = None,
    code_field: OneCode = None,
    parent_field: OneParent = None,
    name_en_field: OneNameEn = None,
    level: OneLevel = None,
    parent_level: ParentLevel = None,
    layer: Layer = None,
    overlap_threshold_m2: Annotated[
        float, typer.Option(help="Report overlaps at least this large, in m².")
    ] = 100.0,
    gap_threshold_m2: Annotated[
        float, typer.Option(help="Report holes at least this large as gaps, in m².")
    ] = 100.0,
    sliver_area_m2: Annotated[
        float, typer.Option(help="Feature parts smaller than this are slivers, in m².")
    ] = 1_000.0,
    strict: Annotated[bool, typer.Option(help="Exit with code 1 when problems are found.")] = False,
    as_json: AsJson = False,
) -> None:
    """Check a boundary layer: counts, CRS, repairs, overlaps, gaps, slivers, codes, names."""
    with clear_errors():
        report = check_boundaries(
            path,
            overlap_threshold_m2=overlap_threshold_m2,
            gap_threshold_m2=gap_threshold_m2,
            sliver_area_m2=sliver_area_m2,
            level=level,
            name_field=name_field,
            code_field=code_field,
            parent_field=parent_field,
            name_en_field=name_en_field,
            layer=layer,
            parent_level=parent_level,
        )
    emit(report.to_dict(), as_json=as_json, human=report.summary())
    if strict and not report.ok:
        raise typer.Exit(code=1)


def _per_path(
    paths: list[Path], layer: str | None, parent_level: str | None, **options: list[str] | None
) -> list[dict[str, str | None]]:
    """Spread field options given once (to every path) or once per path."""
    count = max([1, *(len(v) for v in options.values() if v)])
    if count not in (1, len(paths)):
        msg = (
            f"Field options were given {count} times for {len(paths)} files; "
            "give each once, or once per file in the same order."
        )
        raise BoundaryError(msg)
    spread: list[dict[str, str | None]] = []
    for i in range(len(paths)):
        fields: dict[str, str | None] = {"layer": layer, "parent_level": parent_level}
        for name, values in options.items():
            if values and len(values) not in (1, len(paths)):
                option = "--" + name.replace("_", "-")
                msg = f"{option} was given {len(values)} times for {len(paths)} files."
                raise BoundaryError(msg)
            value = (values[0] if len(values) == 1 else values[i]) if values else None
            fields[name] = value or None  # "" leaves this path to layout detection
        spread.append(fields)
    return spread


def _report_rows(report: pd.DataFrame) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for row in report.itertuples(index=False):
        record = dict(zip(report.columns, row, strict=True))
        record[OVERLAP_SHARE] = round(float(record[OVERLAP_SHARE]), 4)
        record[RUNNER_UP_SHARE] = round(float(record[RUNNER_UP_SHARE]), 4)
        rows.append(record)
    return rows


def _human(
    result: ImportResult, written: str, population: PopulationJoin | None, min_overlap: float
) -> str:
    frame = result.frame
    counts = frame[s.LEVEL].value_counts()
    levels = ", ".join(f"{int(counts[lv])} {lv}" for lv in s.LEVELS if lv in counts.index)
    lines = [f"Imported {levels} into {written}"]
    for read in result.reads:
        skipped = ", ".join(f"{n} {kind}" for kind, n in read.skipped.items())
        repaired = f", {len(read.repaired)} invalid geometries repaired" if read.repaired else ""
        lines.append(
            f"  {read.source}: layout {read.mapping.layout or 'explicit fields'}, CRS "
            f"{read.source_crs}{', skipped ' + skipped if skipped else ''}{repaired}"
        )
    for source, dropped in result.dropped_levels.items():
        lines.append(f"  {', '.join(dropped)} dissolved from {source} replaced by its own layer")
    for level, report in result.attach_reports.items():
        lines.append(
            f"  {level} features attached to parents by largest overlap: "
            f"{len(report)} below {min_overlap:.0%}"
        )
        for row in report.itertuples(index=False):
            record = dict(zip(report.columns, row, strict=True))
            runner = (
                f"; runner-up {record[RUNNER_UP_CODE]} ({record[RUNNER_UP_SHARE]:.0%})"
                if record[RUNNER_UP_CODE] is not None
                else ""
            )
            lines.append(
                f"    {record[s.CODE]} {record[s.NAME_FA] or ''} → {record[s.PARENT_CODE]} "
                f"({record[OVERLAP_SHARE]:.0%} inside){runner}"
            )
    if population is not None:
        unmatched = sum(len(codes) for codes in population.unmatched.values())
        filled = sum(len(codes) for codes in population.filled_from_children.values())
        lines.append(
            f"  population: {population.matched} matched, {filled} parents summed from "
            f"children, {unmatched} without population"
        )
    return "\n".join(lines)


@app.command("import")
def import_(
    paths: Annotated[
        list[Path], typer.Argument(help="Boundary layers, e.g. OSM regions + Mahalat.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory to write boundaries.parquet into.")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Also (or instead) write into a case store: folder or postgresql+psycopg:// URL.",
        ),
    ] = None,
    name_field: NameField = None,
    code_field: CodeField = None,
    parent_field: ParentField = None,
    name_en_field: NameEnField = None,
    level: Level = None,
    parent_level: ParentLevel = None,
    layer: Layer = None,
    population: Annotated[
        Path | None, typer.Option("--population", help="CSV of population keyed by code.")
    ] = None,
    code_column: Annotated[str, typer.Option(help="Code column of the population CSV.")] = "code",
    population_column: Annotated[
        str, typer.Option(help="Population column of the population CSV.")
    ] = "population",
    min_overlap: Annotated[
        float, typer.Option(help="Report children whose best parent holds less of their area.")
    ] = 0.9,
    as_json: AsJson = False,
) -> None:
    """Import boundary layers as one hierarchy (GeoParquet in --out, and/or into --store).

    With several files (for example OSM regions and Mahalat neighborhoods) each finer
    layer is attached to the next coarser one by largest overlap, and the features below
    --min-overlap are listed.
    """
    with clear_errors():
        if out is None and store is None:
            msg = "Say where to write the boundaries: --out DIR, --store URL, or both."
            raise BoundaryError(msg)
        options = _per_path(
            paths,
            layer,
            parent_level,
            name_field=name_field,
            code_field=code_field,
            parent_field=parent_field,
            name_en_field=name_en_field,
            level=level,
        )
        result = import_boundaries(paths, fields=options, min_overlap=min_overlap)
        frame = result.frame
        joined = None
        if population is not None:
            joined = join_population_detailed(
                frame, population, code_column=code_column, population_column=population_column
            )
            frame = joined.frame
        targets: list[str] = []
        if out is not None:
            targets.append(str(write_boundaries(frame, out)))
        if store is not None:
            with open_store(store) as opened:
                opened.write_boundaries(frame)
                targets.append(f"store {opened.url}")
    written = " and ".join(targets)
    counts = frame[s.LEVEL].value_counts()
    summary: dict[str, Any] = {
        "path": written,
        "feature_counts": {lv: int(counts[lv]) for lv in s.LEVELS if lv in counts.index},
        "sources": [
            {
                "source": read.source,
                "layout": read.mapping.layout,
                "crs": read.source_crs,
                "skipped": read.skipped,
                "repaired": [r.code for r in read.repaired],
            }
            for read in result.reads
        ],
        "replaced_dissolved_levels": result.dropped_levels,
        "attach_reports": {
            level: _report_rows(report) for level, report in result.attach_reports.items()
        },
        "min_overlap": min_overlap,
    }
    if joined is not None:
        summary["population"] = {
            "matched": joined.matched,
            "unmatched": joined.unmatched,
            "filled_from_children": joined.filled_from_children,
        }
    emit(summary, as_json=as_json, human=_human(result, written, joined, min_overlap))
