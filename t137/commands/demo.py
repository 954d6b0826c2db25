"""``t137 demo``: build the demo data offline, show what the platform does, serve the app.

The demo uses the real Tehran boundaries when ``T137_SHARED_DATA`` holds them and the
labelled synthetic geography otherwise. It

1. checks the boundaries and writes the hierarchy to ``OUT/boundaries`` and ``OUT/store``;
2. draws sample points with a known outcome (inside, just outside, far outside, swapped,
   invalid), assigns them, and prints how each outcome was handled;
3. generates a synthetic 137 export (the real format, 2% malformed rows) and ingests it into
   the embedded store ``OUT/store``, printing the reconciled counts;
4. serves the dashboard over that store on loopback (unless ``--no-serve``).
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
from geo.gazetteer import build_gazetteer
from geo.sample_points import EXPECTED, sample_points
from geo.store import open_store
from geo.synthetic_geography import SYNTHETIC_LABEL, synthetic_boundaries
from ingest import schema as s
from ingest.pipeline import IngestOptions, IngestReport, ingest_file
from ingest.synthetic import SynthConfig, generate_137, write_137

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


def _ingest_synthetic(
    boundaries: gpd.GeoDataFrame,
    index: BoundaryIndex,
    *,
    out: Path,
    cases: int,
    seed: int,
    synthetic: bool,
) -> IngestReport:
    """Generate a synthetic 137 export over ``boundaries`` and ingest it into ``OUT/store``."""
    settings = get_settings()
    config = SynthConfig(cases=cases, start=DEMO_START, months=DEMO_MONTHS, seed=seed, dirty=0.02)
    export = generate_137(config, boundaries, synthetic_geography=synthetic)
    csv_path = write_137(export, out / "generated" / "demo_137.csv")["csv"]
    options = IngestOptions(
        key=settings.hash_key.get_secret_value(),
        snap_tolerance_m=settings.snap_tolerance_m,
        placeholders=settings.placeholder_points,
    )
    with open_store(out / "store") as store:
        store.write_boundaries(boundaries)
        return ingest_file(csv_path, store, index, options, gazetteer=build_gazetteer(boundaries))


def _serve(store_url: str, host: str, port: int) -> None:
    """Serve the dashboard over the demo store (no login: loopback only)."""
    from dash_app import AppSettings, create_app

    app = create_app(AppSettings(store_url=store_url, require_login=False))
    typer.echo(f"Serving the dashboard at http://{host}:{port}/ (Ctrl+C to stop)")
    app.run(host=host, port=port, debug=False)


#: The demo's synthetic year: Jalali 1404 (March 2025 to March 2026), a finished period.
DEMO_START = "1404-01-01"
DEMO_MONTHS = 12


def demo(
    points: Annotated[int, typer.Option(min=1, help="Number of sample points.")] = 20_000,
    cases: Annotated[int, typer.Option(min=0, help="Synthetic 137 cases to ingest.")] = 100_000,
    seed: Annotated[int, typer.Option(help="Seed of the sample points and cases.")] = 137,
    out: Annotated[Path, typer.Option(help="Folder for the demo's data.")] = Path("data"),
    geography: Annotated[
        Geography, typer.Option(help="auto: real Tehran when available, else synthetic.")
    ] = Geography.AUTO,
    serve: Annotated[bool, typer.Option(help="Serve the dashboard when the data is ready.")] = True,
    host: Annotated[str, typer.Option(help="Interface of the dashboard.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the dashboard.")] = 8050,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Build the demo offline (boundaries, assignment, a synthetic 137 year) and serve it."""
    settings = get_settings()
    if serve and host not in ("127.0.0.1", "localhost", "::1"):
        fail(f"The demo has no login, so it only serves on loopback, not on {host}.")
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
        ingested = None
        if cases:
            ingested = _ingest_synthetic(
                boundaries,
                index,
                out=out,
                cases=cases,
                seed=seed,
                synthetic=checked == "synthetic",
            )
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
        "store": str(out / "store"),
        "ingest": None if ingested is None else ingested.as_dict(),
    }
    lines = [
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
    ]
    if ingested is not None:
        lines += ["", "Synthetic 137 export ingested into the embedded store:", ingested.summary()]
    emit(summary, as_json=as_json, human="\n".join(lines))
    if serve:
        _serve(str(out / "store"), host, port)
