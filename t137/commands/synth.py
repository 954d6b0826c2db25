"""``t137 synth``: write a synthetic 137 export (real format) and its ground truth."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from ingest.synthetic.generator import SynthConfig, generate_137, write_137
from ingest.synthetic.space import default_boundaries

from ..output import clear_errors, emit


def synth(
    out: Annotated[Path, typer.Option("--out", help="The export CSV to write.")],
    cases: Annotated[int, typer.Option("--cases", help="Number of rows (cases).")] = 10_000,
    start: Annotated[
        str, typer.Option("--start", help="First Jalali day of the period.")
    ] = "1401-01-01",
    months: Annotated[int, typer.Option("--months", help="Length in Jalali months.")] = 12,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same file).")] = 137,
    dirty: Annotated[
        float, typer.Option("--dirty", help="Fraction of malformed rows, e.g. 0.02.")
    ] = 0.0,
    boundaries: Annotated[
        Path | None,
        typer.Option(
            "--boundaries",
            help="Folder with Mahalat_Tehran.shp or boundaries.parquet "
            "(default: $T137_SHARED_DATA/tehran, else the synthetic geography).",
        ),
    ] = None,
    encoding: Annotated[
        str, typer.Option("--encoding", help="utf-8 or utf-8-sig (with a BOM, as Excel).")
    ] = "utf-8",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Write a synthetic 137 export in the real format, plus its ground truth (Parquet)."""
    with clear_errors():
        started = time.perf_counter()
        layer, synthetic = default_boundaries(boundaries)
        config = SynthConfig(cases=cases, start=start, months=months, seed=seed, dirty=dirty)
        export = generate_137(config, layer, synthetic_geography=synthetic)
        paths = write_137(export, out, encoding=encoding)
        seconds = time.perf_counter() - started
        truth = export.truth
        quarantined = int(truth["expected_reason"].notna().sum())
        summary = {
            "cases": cases,
            "quarantine_expected": quarantined,
            "hotspots": len(export.hotspots),
            "synthetic_geography": synthetic,
            "seconds": round(seconds, 2),
            **{k: str(v) for k, v in paths.items()},
        }
        geography = "synthetic geography (not real Tehran)" if synthetic else "Tehran neighborhoods"
        human = (
            f"Wrote {cases:,} cases over {config.months} months ({geography}) to {paths['csv']} "
            f"in {seconds:.1f} s; {quarantined:,} rows should be quarantined. "
            f"Ground truth: {paths['truth']}, {paths['hotspots']}, {paths['units']}."
        )
        emit(summary, as_json=as_json, human=human)
