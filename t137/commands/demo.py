"""``t137 demo``: build the demo data offline and show what the platform does with it.

The demo uses the real Tehran boundaries when ``T137_SHARED_DATA`` holds them and the
labelled synthetic geography otherwise. It checks the boundaries, writes the hierarchy to
``OUT/boundaries``, draws sample points with a known outcome (inside, just outside, far
outside, swapped, invalid), assigns them, and prints how each outcome was handled.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import typer

from geo.assign import BoundaryIndex, assign_frame, summarize_assignment
from geo.boundaries import MAHALAT_FILE, load_tehran_boundaries, write_boundaries
from geo.boundary_check import check_boundaries
from geo.sample_points import EXPECTED, sample_points
from geo.synthetic_geography import SYNTHETIC_LABEL, synthetic_boundaries
from ingest import schema as s

from ..output import clear_errors, emit, fail
from ..settings import get_settings


class Geography(StrEnum):
    """Which boundaries the demo uses."""

    AUTO = "auto"
    REAL = "real"
    SYNTHETIC = "synthetic"


def _boundaries(geography: Geography) -> tuple[gpd.GeoDataFrame, str, Path | str]:
    """Return the boundaries, a label saying what they are, and what to check."""
    tehran = None if geography is Geography.SYNTHETIC else get_settings().tehran_dir()
    if tehran is None:
        if geography is Geography.REAL:
            fail(
                "The real Tehran boundaries were not found; set T137_SHARED_DATA to the folder "
                "holding tehran/Mahalat_Tehran.shp, or use --geography synthetic."
            )
        frame = synthetic_boundaries()
        return frame, SYNTHETIC_LABEL, "synthetic"
    label = f"Real Tehran boundaries from {tehran} (regions dissolved from reg_no)"
    return load_tehran_boundaries(tehran), label, tehran / MAHALAT_FILE


def _outcome_table(result: pd.DataFrame) -> pd.DataFrame:
    """Cross-tabulate the outcome each point was drawn for against what it got."""
    got = (
        result[s.GEOCODE_PRECISION]
        .astype(object)
        .where(result["reason"].isna(), result["reason"].astype(object))
    )
    return pd.crosstab(result[EXPECTED], got.rename("result"))


def _busiest(result: pd.DataFrame, boundaries: gpd.GeoDataFrame, level: str) -> pd.DataFrame:
    """Return the five areas of `level` with the most points, with their names."""
    column = s.LEVEL_CODE_COLUMN[level]
    counts = result[column].astype(object).dropna().value_counts().head(5)
    names = boundaries[boundaries[s.LEVEL] == level].set_index(s.CODE)
    return pd.DataFrame(
        {
            "code": counts.index,
            "name_fa": names[s.NAME_FA].reindex(counts.index).to_numpy(),
            "name_en": names[s.NAME_EN].reindex(counts.index).to_numpy(),
            "points": counts.to_numpy(),
        }
    )


def demo(
    points: Annotated[int, typer.Option(min=1, help="Number of sample points.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Seed of the sample points.")] = 137,
    out: Annotated[Path, typer.Option(help="Folder for the demo's data.")] = Path("data"),
    geography: Annotated[
        Geography, typer.Option(help="auto: real Tehran when available, else synthetic.")
    ] = Geography.AUTO,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Build the demo data offline: boundaries, their check, sample points and their assignment."""
    settings = get_settings()
    with clear_errors():
        boundaries, label, checked = _boundaries(geography)
        report = check_boundaries(boundaries if checked == "synthetic" else checked)
        boundary_dir = write_boundaries(boundaries, out / "boundaries").parent
        sample = sample_points(
            boundaries,
            points,
            seed=seed,
            snap_tolerance_m=settings.snap_tolerance_m,
            placeholders=settings.placeholder_points,
        )
        index = BoundaryIndex.from_boundaries(boundaries)
        result = assign_frame(
            sample,
            index,
            snap_tolerance_m=settings.snap_tolerance_m,
            placeholders=settings.placeholder_points,
        )
        points_file = out / "generated" / "demo_points.parquet"
        points_file.parent.mkdir(parents=True, exist_ok=True)
        result.to_parquet(points_file, index=False)
    outcomes = _outcome_table(result)
    busiest = _busiest(result, boundaries, s.LEVEL_REGION)
    summary: dict[str, Any] = {
        "geography": label,
        "boundaries": str(boundary_dir),
        "boundary_check": report.to_dict(),
        "points_file": str(points_file),
        "assignment": summarize_assignment(result),
        "outcomes": {
            str(k): {str(c): int(v) for c, v in row.items()} for k, row in outcomes.iterrows()
        },
        "busiest_regions": busiest.to_dict(orient="records"),
        "index_build_seconds": round(index.build_seconds, 3),
    }
    human = "\n".join(
        [
            label,
            "",
            report.summary(),
            f"Boundary hierarchy written to {boundary_dir}",
            "",
            f"{points:,} sample points (seed {seed}) assigned in a grid index built in "
            f"{index.build_seconds:.2f} s; written to {points_file}.",
            "Drawn as (rows) → result (columns):",
            outcomes.to_string(),
            "",
            "Regions with the most points:",
            busiest.to_string(index=False),
            "",
            "Next: `t137 boundaries import`, `t137 assign` (see README.md).",
        ]
    )
    emit(summary, as_json=as_json, human=human)
