"""``t137 export``: write a KPI table, ranking, hotspot set or filtered case list to a file.

The format follows ``--out``'s suffix (``.csv`` UTF-8 with BOM, ``.xlsx``, ``.geojson``,
``.parquet``/``.geoparquet``; see :mod:`analytics.exports`). KPI tables, rankings and hotspots
are computed by the very commands ``t137 kpis``, ``t137 rank`` and ``t137 hotspots`` (their
options are the same), so an export always equals what those commands show. Every export
carries the store's ingest-log head (``t137_chain_head`` column in CSV/XLSX, file metadata in
GeoJSON/Parquet, and a ``<file>.provenance.json`` sidecar).
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import typer

from analytics.exports import GEO_FORMATS, check_format, format_for, sidecar_path, write_export
from geo.errors import InputError
from geo.store import CaseFilter, open_store
from geo.store.chain import verify_chain
from ingest import schema as s

from ..options import AsJson, StoreUrl, store_url
from ..output import clear_errors, emit
from ..settings import get_settings
from . import analyze

app = typer.Typer(
    name="export",
    help="Export KPIs, rankings, hotspots or cases (CSV, XLSX, GeoJSON, GeoParquet).",
    no_args_is_help=True,
)

Out = Annotated[
    Path,
    typer.Option(
        "--out", help="Output file: .csv, .xlsx, .geojson or .parquet (format from the suffix)."
    ),
]
Fmt = Annotated[
    str | None,
    typer.Option("--format", help="Override the format: csv, xlsx, geojson, parquet, geoparquet."),
]
#: Case columns never exported (the keyed citizen hash).
PRIVATE_COLUMNS = (s.CITIZEN_KEY,)
#: Case columns exported only with --with-text.
TEXT_COLUMNS = (s.DESCRIPTION, s.ADDRESS)


def _format(out: Path, fmt: str | None) -> str:
    return check_format(fmt) if fmt is not None else format_for(out)


def _chain_head(url: str) -> tuple[str, str]:
    """Return (checked chain head, shown store url)."""
    with open_store(url) as store:
        return verify_chain(store.read_runs()), store.url


def _analysis(command: Callable[..., None], **options: Any) -> pd.DataFrame:
    """Run an analyze command writing Parquet to a temporary file and return the result.

    The command prints its summary; it is discarded (the export prints its own). Errors are
    reported by the command itself (one sentence on stderr, exit code 2).
    """
    with tempfile.TemporaryDirectory(prefix="t137-export-") as folder:
        path = Path(folder) / "result.parquet"
        with contextlib.redirect_stdout(io.StringIO()):
            command(out=path, as_json=True, **options)
        frame: pd.DataFrame
        try:
            frame = gpd.read_parquet(path)
        except ValueError:  # not GeoParquet: a plain table
            frame = pd.read_parquet(path)
        return frame


def _attach_geometry(table: pd.DataFrame, url: str, level: str) -> gpd.GeoDataFrame:
    """Join the boundaries of ``level`` to a table keyed by that level's code column."""
    column = s.LEVEL_CODE_COLUMN.get(level)
    if column is None or column not in table.columns:
        msg = (
            f"This table has no {level} code column to join boundaries on; export it as csv, "
            "xlsx or parquet, or choose a --level with areas."
        )
        raise InputError(msg)
    with open_store(url) as store:
        boundaries = store.read_boundaries()
    areas = boundaries[boundaries[s.LEVEL] == level]
    if areas.empty:
        msg = f"The store holds no {level} boundaries to draw this table; export it as csv."
        raise InputError(msg)
    shapes = gpd.GeoDataFrame(
        {column: areas[s.CODE].astype(str).to_numpy()}, geometry=areas.geometry.to_numpy()
    ).set_crs(areas.crs)
    keyed = pd.DataFrame(table).assign(**{column: table[column].astype(str)})
    joined = keyed.merge(pd.DataFrame(shapes), on=column, how="left")
    return gpd.GeoDataFrame(joined, geometry="geometry", crs=areas.crs)


def _same_head(url: str, head: str) -> None:
    """Refuse to label a result with a head the store moved away from while computing it."""
    now, _ = _chain_head(url)
    if now != head:
        msg = (
            "The store received an ingest run while the export was computed; run the export "
            "again so that its figures and its chain head agree."
        )
        raise InputError(msg)


def _write(
    frame: pd.DataFrame,
    *,
    out: Path,
    fmt: str | None,
    url: str,
    head: str,
    what: str,
    options: dict[str, Any],
    as_json: bool,
) -> None:
    name = _format(out, fmt)
    _same_head(url, head)
    provenance = {
        "chain_head": head,
        "store": url,
        "table": what,
        "generated_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "options": json.dumps(options, ensure_ascii=False, default=str, sort_keys=True),
    }
    written = write_export(frame, out, name, provenance=provenance)
    summary = {
        "table": what,
        "store": url,
        "rows": len(frame),
        "columns": len(frame.columns),
        "format": name,
        "out": str(written),
        "provenance": str(sidecar_path(written)),
        "chain_head": head,
    }
    human = (
        f"Exported {len(frame)} rows of {what} as {name} to {written} "
        f"(chain head {head[:12]}…; provenance in {sidecar_path(written).name})."
    )
    emit(summary, as_json=as_json, human=human)


def _level_geometry(frame: pd.DataFrame, name: str, url: str, level: str) -> pd.DataFrame:
    if name in GEO_FORMATS and not isinstance(frame, gpd.GeoDataFrame):
        geo: pd.DataFrame = _attach_geometry(frame, url, level)
        return geo
    return frame


@app.command("kpis")
def export_kpis(
    out: Out,
    level: Annotated[
        analyze.Level, typer.Option("--level", help="Area level of the rows, or city.")
    ] = analyze.Level.NEIGHBORHOOD,
    period: Annotated[
        analyze.Period, typer.Option("--period", help="M (month), W (week), D (day) or none.")
    ] = analyze.Period.MONTH,
    by: Annotated[list[str] | None, typer.Option("--by", help="Also group by this column.")] = None,
    calendar: Annotated[
        analyze.CalendarName, typer.Option("--calendar", help="Calendar of the periods.")
    ] = analyze.CalendarName.JALALI,
    fmt: Fmt = None,
    store: StoreUrl = None,
    start: analyze.Start = None,
    end: analyze.End = None,
    as_json: AsJson = False,
) -> None:
    """Export the KPI table of `t137 kpis` (joined to boundaries for GeoJSON/GeoParquet)."""
    with clear_errors():
        name = _format(out, fmt)
        head, url = _chain_head(store_url(store))
        table = _analysis(
            analyze.kpis_cmd,
            level=level,
            period=period,
            by=by,
            calendar=calendar,
            store=store,
            start=start,
            end=end,
        )
        table = _level_geometry(table, name, url, level.value)
        options = {
            "level": level.value,
            "period": period.value,
            "by": by,
            "start": start,
            "end": end,
        }
        _write(
            table,
            out=out,
            fmt=name,
            url=url,
            head=head,
            what="kpis",
            options=options,
            as_json=as_json,
        )


@app.command("rank")
def export_rank(
    out: Out,
    metric: Annotated[str, typer.Option("--metric", help="composite or one metric.")] = "composite",
    level: Annotated[
        analyze.RankLevel, typer.Option("--level", help="Area level to rank.")
    ] = analyze.RankLevel.NEIGHBORHOOD,
    min_volume: Annotated[int, typer.Option("--min-volume", min=1)] = 30,
    n_boot: Annotated[int, typer.Option("--n-boot", min=10)] = 1000,
    fmt: Fmt = None,
    store: StoreUrl = None,
    start: analyze.Start = None,
    end: analyze.End = None,
    as_json: AsJson = False,
) -> None:
    """Export the fair ranking of `t137 rank` (with rank intervals)."""
    with clear_errors():
        name = _format(out, fmt)
        head, url = _chain_head(store_url(store))
        table = _analysis(
            analyze.rank_cmd,
            metric=metric,
            level=level,
            min_volume=min_volume,
            top=0,
            n_boot=n_boot,
            store=store,
            start=start,
            end=end,
        )
        table = _level_geometry(table, name, url, level.value)
        options = {
            "metric": metric,
            "level": level.value,
            "min_volume": min_volume,
            "n_boot": n_boot,
            "start": start,
            "end": end,
        }
        _write(
            table,
            out=out,
            fmt=name,
            url=url,
            head=head,
            what="ranking",
            options=options,
            as_json=as_json,
        )


@app.command("hotspots")
def export_hotspots(
    out: Out,
    method: Annotated[
        analyze.Method, typer.Option("--method", help="density, gistar or emerging.")
    ] = analyze.Method.GISTAR,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Only this category.")
    ] = None,
    level: Annotated[
        analyze.UnitLevel | None, typer.Option("--level", help="neighborhood or h3.")
    ] = None,
    resolution: Annotated[int, typer.Option("--resolution", help="H3 resolution.")] = 8,
    eps_m: Annotated[float, typer.Option("--eps-m", help="Density radius in metres.")] = 150.0,
    min_cases: Annotated[
        str, typer.Option("--min-cases", help="Density threshold or auto.")
    ] = "auto",
    time_slice: Annotated[
        analyze.SliceName, typer.Option("--slice", help="Slice of emerging hotspots.")
    ] = analyze.SliceName.MONTH,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level (FDR).")] = 0.05,
    fmt: Fmt = None,
    store: StoreUrl = None,
    start: analyze.Start = None,
    end: analyze.End = None,
    as_json: AsJson = False,
) -> None:
    """Export the hotspot units or clusters of `t137 hotspots` (with their geometry)."""
    with clear_errors():
        name = _format(out, fmt)
        head, url = _chain_head(store_url(store))
        result = _analysis(
            analyze.hotspots_cmd,
            method=method,
            category=category,
            level=level,
            resolution=resolution,
            eps_m=eps_m,
            min_cases=min_cases,
            time_slice=time_slice,
            alpha=alpha,
            store=store,
            start=start,
            end=end,
        )
        options = {
            "method": method.value,
            "category": category,
            "level": None if level is None else level.value,
            "resolution": resolution,
            "eps_m": eps_m,
            "min_cases": min_cases,
            "slice": time_slice.value,
            "alpha": alpha,
            "start": start,
            "end": end,
        }
        _write(
            result,
            out=out,
            fmt=name,
            url=url,
            head=head,
            what="hotspots",
            options=options,
            as_json=as_json,
        )


def _case_filter(
    start: str | None,
    end: str | None,
    regions: list[str] | None,
    districts: list[str] | None,
    neighborhoods: list[str] | None,
    categories: list[str] | None,
    kinds: list[str] | None,
    units: list[str] | None,
    statuses: list[str] | None,
    sources: list[str] | None,
) -> CaseFilter:
    tz = get_settings().timezone
    return CaseFilter(
        start=analyze._instant(start, "--start", tz),
        end=analyze._instant(end, "--end", tz),
        regions=regions or None,
        districts=districts or None,
        neighborhoods=neighborhoods or None,
        categories=categories or None,
        kinds=kinds or None,
        units=units or None,
        statuses=statuses or None,
        sources=sources or None,
    )


def _repeat(flag: str, what: str) -> Any:
    return typer.Option(flag, help=f"Only cases of this {what} (repeatable).")


@app.command("cases")
def export_cases(
    out: Out,
    region: Annotated[list[str] | None, _repeat("--region", "region code")] = None,
    district: Annotated[list[str] | None, _repeat("--district", "district code")] = None,
    neighborhood: Annotated[
        list[str] | None, _repeat("--neighborhood", "neighborhood code")
    ] = None,
    category: Annotated[list[str] | None, _repeat("--category", "category")] = None,
    kind: Annotated[list[str] | None, _repeat("--kind", "kind")] = None,
    unit: Annotated[list[str] | None, _repeat("--unit", "responsible unit")] = None,
    status: Annotated[list[str] | None, _repeat("--status", "status")] = None,
    source: Annotated[list[str] | None, _repeat("--source", "source")] = None,
    with_text: Annotated[
        bool, typer.Option("--with-text", help="Include descriptions and addresses (internal use).")
    ] = False,
    fmt: Fmt = None,
    store: StoreUrl = None,
    start: analyze.Start = None,
    end: analyze.End = None,
    as_json: AsJson = False,
) -> None:
    """Export a filtered case list (never the citizen key; text only with --with-text)."""
    with clear_errors():
        name = _format(out, fmt)
        window = _case_filter(
            start, end, region, district, neighborhood, category, kind, unit, status, source
        )
        with open_store(store_url(store)) as opened:
            head = verify_chain(opened.read_runs())
            cases = opened.read_cases(window)
            url = opened.url
        dropped = [*PRIVATE_COLUMNS, *(() if with_text else TEXT_COLUMNS)]
        cases = cases.drop(columns=[c for c in dropped if c in cases.columns])
        order = [c for c in (s.SOURCE, s.CASE_ID) if c in cases.columns]
        cases = cases.sort_values(order, kind="stable").reset_index(drop=True)
        options = {
            "regions": region,
            "districts": district,
            "neighborhoods": neighborhood,
            "categories": category,
            "kinds": kind,
            "units": unit,
            "statuses": status,
            "sources": source,
            "start": start,
            "end": end,
            "with_text": with_text,
        }
        _write(
            cases,
            out=out,
            fmt=name,
            url=url,
            head=head,
            what="cases",
            options=options,
            as_json=as_json,
        )
