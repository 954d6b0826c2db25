"""``t137 assign``: add neighborhood, district and region codes to a table of points."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import typer

from geo.assign import assign_frame, load_index, summarize_assignment
from geo.errors import InputError
from ingest import schema as s

from ..output import clear_errors, emit
from ..settings import get_settings

_READABLE = (".csv", ".parquet", ".geoparquet")


def _read_points(path: Path) -> pd.DataFrame:
    """Read a CSV or (Geo)Parquet table of points, with one clear sentence on failure."""
    if not path.exists():
        msg = f"Input file {path} does not exist; check the path."
        raise InputError(msg)
    suffix = path.suffix.lower()
    if suffix not in _READABLE:
        msg = f"{path} is not a .csv or .parquet file; convert it to one of those first."
        raise InputError(msg)
    try:
        if suffix == ".csv":
            return pd.read_csv(path, low_memory=False)
        metadata = pq.read_schema(path).metadata or {}
        if b"geo" in metadata:
            geo_frame: pd.DataFrame = gpd.read_parquet(path)
            return geo_frame
        return pd.read_parquet(path)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        reason = str(exc).strip().splitlines()[0].rstrip(".") if str(exc).strip() else "unreadable"
        msg = f"{path} cannot be read as a {suffix[1:]} table ({reason})."
        raise InputError(msg) from None


def _require_numeric(frame: pd.DataFrame, column: str, option: str, path: Path) -> None:
    if column not in frame.columns:
        shown = ", ".join(map(str, frame.columns[:20]))
        msg = f"{path} has no column {column!r} (columns: {shown}); name it with {option}."
        raise InputError(msg)
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return
    numbers = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        msg = (
            f"Column {column!r} of {path} is not numeric (row {first + 1}: "
            f"{values.iloc[first]!r}); give longitude/latitude in decimal degrees."
        )
        raise InputError(msg)
    frame[column] = numbers


def _write(frame: pd.DataFrame, out: Path) -> Path:
    """Write Parquet (GeoParquet for a GeoDataFrame) atomically: temporary file, then rename."""
    if out.suffix.lower() not in {".parquet", ".geoparquet"}:
        msg = f"--out {out} must end in .parquet; the output is written as Parquet."
        raise InputError(msg)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(handle)
    try:
        frame.to_parquet(temporary, index=False)
        Path(temporary).replace(out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out


def _human(summary: Mapping[str, Any]) -> str:
    reasons = ", ".join(f"{n} {r}" for r, n in summary["invalid_reasons"].items() if n)
    placed = summary["assigned"] + summary["snapped"] + summary["swapped"]
    return "\n".join(
        [
            f"Assigned {placed} of {summary['rows']} points to a {summary['level']} "
            f"(tolerance {summary['snap_tolerance_m']:g} m):",
            f"  assigned (inside)  {summary['assigned']}",
            f"  snapped            {summary['snapped']}",
            f"  swapped lat/lon    {summary['swapped']}",
            f"  outside            {summary['outside']}",
            f"  invalid            {summary['invalid']}" + (f" ({reasons})" if reasons else ""),
            f"Written to {summary['out']}",
        ]
    )


def assign(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="IN",
            help="Points: a .csv or .parquet table (GeoParquet: point geometry if no lon/lat).",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    boundaries: Annotated[
        Path | None,
        typer.Option(
            "--boundaries",
            help="Folder written by `t137 boundaries import` (default: T137_BOUNDARIES).",
        ),
    ] = None,
    lon_col: Annotated[str, typer.Option("--lon-col", help="Longitude column (degrees).")] = s.LON,
    lat_col: Annotated[str, typer.Option("--lat-col", help="Latitude column (degrees).")] = s.LAT,
    snap_tolerance_m: Annotated[
        float | None,
        typer.Option(
            "--snap-tolerance-m",
            min=0.0,
            help="Snap points this close outside the city, in metres (default: settings, 200).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead.")] = False,
) -> None:
    """Assign points to neighborhoods, districts and regions; write them to --out.

    Every row gets neighborhood_code, district_code, region_code, geocode_precision
    (point, snapped, swapped, none) and reason (why a point was not assigned).
    """
    settings = get_settings()
    tolerance = settings.snap_tolerance_m if snap_tolerance_m is None else snap_tolerance_m
    with clear_errors():
        folder = boundaries if boundaries is not None else settings.boundaries
        if folder is None:
            msg = "No boundaries given; pass --boundaries DIR (from `t137 boundaries import`)."
            raise InputError(msg)
        points = _read_points(input_path)
        uses_geometry = isinstance(points, gpd.GeoDataFrame) and not (
            {lon_col, lat_col} & set(points.columns)
        )
        if not uses_geometry:  # GeoParquet without the columns: its point geometry is used
            _require_numeric(points, lon_col, "--lon-col", input_path)
            _require_numeric(points, lat_col, "--lat-col", input_path)
        index = load_index(folder)
        result = assign_frame(
            points,
            index,
            lon_col=lon_col,
            lat_col=lat_col,
            snap_tolerance_m=tolerance,
            placeholders=settings.placeholder_points,
        )
        written = _write(result, out)
    summary = summarize_assignment(result)
    summary.update(
        {
            "input": str(input_path),
            "out": str(written),
            "boundaries": str(folder),
            "level": index.level,
            "snap_tolerance_m": tolerance,
        }
    )
    emit(summary, as_json=as_json, human=_human(summary))
