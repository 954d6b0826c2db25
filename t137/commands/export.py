"""``t137 export``: write a KPI table, ranking, hotspot set or filtered case list to a file.

The format follows ``--out``'s suffix (``.csv`` UTF-8 with BOM, ``.xlsx``, ``.geojson``,
``.parquet``/``.geoparquet``; see :mod:`analytics.exports`) unless ``--format`` names it. KPI
tables, rankings and hotspots are computed by the functions of :mod:`t137.commands.tables`
that ``t137 kpis``, ``t137 rank`` and ``t137 hotspots`` use, with the same options, and are
written the same way, so ``t137 export kpis --out x.csv`` and ``t137 kpis --out x.csv`` give
the same file. Every export carries the store's ingest-log head (``t137_chain_head`` column
in CSV/XLSX, file metadata in GeoJSON/Parquet, and a ``<file>.provenance.json`` sidecar).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from analytics.ranking import COMPOSITE
from geo.store import CaseFilter, open_store
from geo.store.chain import verify_chain
from ingest import schema as s

from ..options import AsJson, StoreUrl, store_url
from ..output import clear_errors, emit
from ..settings import get_settings
from . import analyze as a
from . import tables as t
from .tables import CalendarName, Level, Method, Period, RankLevel, SliceName

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


def _report(saved: t.Saved, what: str, url: str, *, as_json: bool) -> None:
    summary = {
        "table": what,
        "store": url,
        "rows": saved.rows,
        "columns": saved.columns,
        "format": saved.format,
        "out": str(saved.path),
        "provenance": str(saved.sidecar),
        "chain_head": saved.chain_head,
    }
    human = (
        f"Exported {saved.rows} rows of {what} as {saved.format} to {saved.path} "
        f"(chain head {saved.chain_head[:12]}…; provenance in {saved.sidecar.name})."
    )
    emit(summary, as_json=as_json, human=human)


@app.command("kpis")
def export_kpis(
    out: Out,
    level: a.KpiLevel = Level.NEIGHBORHOOD,
    period: a.KpiPeriod = Period.MONTH,
    by: a.By = None,
    calendar: a.Calendar = CalendarName.JALALI,
    fmt: Fmt = None,
    store: StoreUrl = None,
    start: a.Start = None,
    end: a.End = None,
    as_json: AsJson = False,
) -> None:
    """Export the KPI table of `t137 kpis` (joined to boundaries for GeoJSON/GeoParquet)."""
    with clear_errors():
        name = t.file_format(out, fmt)
        t.check_drawable(name, level.value)
        window = t.CaseWindow(start, end)
        table, saved = t.produce(
            store,
            lambda opened: t.kpi_table(
                opened, window, level=level, period=period, by=by or (), calendar=calendar
            ),
            out,
            name,
        )
        _report(saved, table.name, table.store, as_json=as_json)


@app.command("rank")
def export_rank(
    out: Out,
    metric: a.Metric = COMPOSITE,
    level: a.AreaLevel = RankLevel.NEIGHBORHOOD,
    min_volume: a.MinVolume = 30,
    n_boot: a.NBoot = 1000,
    fmt: Fmt = None,
    store: StoreUrl = None,
    start: a.Start = None,
    end: a.End = None,
    as_json: AsJson = False,
) -> None:
    """Export the fair ranking of `t137 rank` (with rank intervals)."""
    with clear_errors():
        t.check_metric(metric)
        name = t.file_format(out, fmt)
        window = t.CaseWindow(start, end)
        table, saved = t.produce(
            store,
            lambda opened: t.rank_table(
                opened, window, metric=metric, level=level, min_volume=min_volume, n_boot=n_boot
            ),
            out,
            name,
        )
        _report(saved, table.name, table.store, as_json=as_json)


@app.command("hotspots")
def export_hotspots(
    out: Out,
    method: a.HotspotMethod = Method.GISTAR,
    category: a.Category = None,
    level: a.Units = None,
    resolution: a.Resolution = 8,
    eps_m: a.EpsM = 150.0,
    min_cases: a.MinCases = "auto",
    time_slice: a.TimeSlice = SliceName.MONTH,
    alpha: a.Alpha = 0.05,
    fmt: Fmt = None,
    store: StoreUrl = None,
    start: a.Start = None,
    end: a.End = None,
    as_json: AsJson = False,
) -> None:
    """Export the hotspot units or clusters of `t137 hotspots` (with their geometry)."""
    with clear_errors():
        name = t.file_format(out, fmt)
        window = t.CaseWindow(start, end, tuple(category or ()))
        table, saved = t.produce(
            store,
            lambda opened: t.hotspot_table(
                opened,
                window,
                method=method,
                level=level,
                resolution=resolution,
                eps_m=eps_m,
                min_cases=min_cases,
                time_slice=time_slice,
                alpha=alpha,
            ),
            out,
            name,
        )
        _report(saved, table.name, table.store, as_json=as_json)


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
        start=t.parse_instant(start, "--start", tz),
        end=t.parse_instant(end, "--end", tz),
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
    start: a.Start = None,
    end: a.End = None,
    as_json: AsJson = False,
) -> None:
    """Export a filtered case list (never the citizen key; text only with --with-text)."""
    with clear_errors():
        name = t.file_format(out, fmt)
        window = _case_filter(
            start, end, region, district, neighborhood, category, kind, unit, status, source
        )
        url = store_url(store)
        with open_store(url) as opened:
            head = verify_chain(opened.read_runs())
            cases = opened.read_cases(window)
            shown = opened.url
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
        saved = t.save_table(cases, out, name, url=url, head=head, table=t.CASES, options=options)
        _report(saved, t.CASES, shown, as_json=as_json)
