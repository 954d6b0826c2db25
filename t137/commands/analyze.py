"""``t137 kpis``, ``t137 hotspots`` and ``t137 rank``: the analytics over the case store.

Each command computes its table with :mod:`t137.commands.tables` (the functions
``t137 export`` uses too), optionally writes it to ``--out`` (the format follows the suffix;
the file carries the store's ingest-log head, see :mod:`analytics.exports`), and prints a
short human summary, or one JSON object with ``--json``.

The options are declared here once, for these commands and for ``t137 export``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
import typer

from analytics.hotspots import DensityHotspots, GiStarHotspots
from analytics.ranking import COMPOSITE, METRICS, NOT_ENOUGH, RANKED
from ingest import schema as s

from ..options import AsJson, StoreUrl
from ..output import clear_errors, emit
from . import tables as t
from .tables import CalendarName, Level, Method, Period, RankLevel, SliceName, UnitLevel

# --- options shared with t137 export ---------------------------------------------------------
Start = Annotated[
    str | None,
    typer.Option("--start", help="Only cases created at or after this date/time (Tehran time)."),
]
End = Annotated[
    str | None,
    typer.Option("--end", help="Only cases created before this date/time (Tehran time)."),
]
KpiLevel = Annotated[
    Level, typer.Option("--level", help="Area level of the rows, or city for one area.")
]
KpiPeriod = Annotated[
    Period, typer.Option("--period", help="M (month), W (week), D (day) or none.")
]
By = Annotated[
    list[str] | None,
    typer.Option("--by", help="Also group by this column (category, kind, channel, unit)."),
]
Calendar = Annotated[CalendarName, typer.Option("--calendar", help="Calendar of the periods.")]
Metric = Annotated[
    str, typer.Option("--metric", help=f"{COMPOSITE} or one of: {', '.join(METRICS)}.")
]
AreaLevel = Annotated[RankLevel, typer.Option("--level", help="Area level to rank.")]
MinVolume = Annotated[int, typer.Option("--min-volume", min=1, help="Fewer cases: not ranked.")]
NBoot = Annotated[
    int, typer.Option("--n-boot", min=10, help="Posterior draws for the rank intervals.")
]
HotspotMethod = Annotated[
    Method, typer.Option("--method", help="density (clusters), gistar or emerging.")
]
Category = Annotated[
    list[str] | None, typer.Option("--category", help="Only this category (repeatable).")
]
Units = Annotated[
    UnitLevel | None,
    typer.Option("--level", help="Units of gistar/emerging: neighborhood or h3."),
]
Resolution = Annotated[int, typer.Option("--resolution", help="H3 resolution.")]
EpsM = Annotated[float, typer.Option("--eps-m", help="Density radius in metres (density method).")]
MinCases = Annotated[
    str, typer.Option("--min-cases", help="Cases within --eps-m of a dense place, or auto.")
]
TimeSlice = Annotated[SliceName, typer.Option("--slice", help="Time slice of emerging hotspots.")]
Alpha = Annotated[float, typer.Option("--alpha", help="Significance level (FDR).")]
SUFFIX_HELP = (
    "the format follows the suffix: .csv, .xlsx, .parquet, or .geojson/.geoparquet "
    "(with the areas' shapes); the file carries the store's chain head."
)


def _out(what: str) -> Any:
    return typer.Option("--out", help=f"Write the {what}; {SUFFIX_HELP}")


# --- summaries -------------------------------------------------------------------------------
def _number(value: object) -> object:
    """Return a JSON-friendly scalar (NaN and NA as None, numpy scalars as Python ones)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, object]]:
    present = [c for c in columns if c in frame.columns]
    return [
        {str(k): _number(v) for k, v in row.items()} for row in frame[present].to_dict("records")
    ]


def _written(saved: t.Saved | None) -> str | None:
    return None if saved is None else str(saved.path)


# --- t137 kpis -------------------------------------------------------------------------------
def _kpis_human(summary: Mapping[str, Any], table: pd.DataFrame, keys: list[str]) -> str:
    period = summary["period"] or "whole span"
    lines = [
        f"KPIs of {summary['cases']} cases by {', '.join(keys) or 'city'} per {period} "
        f"({summary['calendar']}), as of {summary['as_of']}: {summary['rows']} rows."
    ]
    preview = table.sort_values("volume", ascending=False, kind="stable").head(5)
    for row in _records(preview, [*keys, "period", "volume", "backlog", "close_median_h"]):
        label = " ".join(str(row[k]) for k in [*keys, "period"] if k in row)
        median = row.get("close_median_h")
        shown = "not reached" if median is None else f"{median:.1f} h"
        lines.append(
            f"  {label or 'city'}: {row['volume']} cases, backlog {row['backlog']}, "
            f"median close {shown}"
        )
    if summary.get("out"):
        lines.append(f"Written to {summary['out']}")
    return "\n".join(lines)


def kpis_cmd(
    level: KpiLevel = Level.NEIGHBORHOOD,
    period: KpiPeriod = Period.MONTH,
    by: By = None,
    calendar: Calendar = CalendarName.JALALI,
    out: Annotated[Path | None, _out("table")] = None,
    store: StoreUrl = None,
    start: Start = None,
    end: End = None,
    as_json: AsJson = False,
) -> None:
    """Compute honest KPIs per area and period (volume, backlog, durations, SLA, rates)."""
    with clear_errors():
        fmt = t.output_format(out)
        t.check_drawable(fmt, level.value)
        window = t.CaseWindow(start, end)
        result, saved = t.produce(
            store,
            lambda opened: t.kpi_table(
                opened, window, level=level, period=period, by=by or (), calendar=calendar
            ),
            out,
            fmt,
        )
    table, keys = result.frame, list(result.keys)
    summary: dict[str, Any] = {
        "store": result.store,
        "cases": result.n_cases,
        "level": level.value,
        "by": keys,
        "period": None if period is Period.NONE else period.value,
        "calendar": calendar.value,
        "as_of": pd.Timestamp(table.attrs["as_of"]).isoformat(),
        "rows": len(table),
        "volume": int(table["volume"].sum()),
        "out": _written(saved),
    }
    if saved is None:
        summary["records"] = _records(table, list(table.columns))
    emit(summary, as_json=as_json, human=_kpis_human(summary, table, keys))


# --- t137 hotspots ---------------------------------------------------------------------------
def _hotspot_details(result: t.HotspotTable) -> dict[str, Any]:
    model, frame = result.model, result.frame
    if isinstance(model, DensityHotspots):
        top = frame.sort_values("n_cases", ascending=False, kind="stable").head(10)
        columns = ["cluster", s.CATEGORY, "n_cases", "dominant_subcategory", "weeks_active"]
        return {
            "clusters": len(frame),
            "clustered_cases": int((model.labels_ >= 0).sum()),
            "top": _records(top, [*columns, s.NEIGHBORHOOD_CODE]),
        }
    if isinstance(model, GiStarHotspots):
        counts = frame["hotspot"].value_counts()
        hot = frame[frame["hotspot"] == "hot"].sort_values("z", ascending=False).head(10)
        return {
            "n_units": len(frame),
            "classes": {str(k): int(v) for k, v in counts.items()},
            "regions": len(model.regions_),
            "top": _records(hot, ["unit", "n_cases", "z", "q"]),
        }
    patterns = frame["pattern"].astype(str) + " " + frame["spot"].astype(str)
    counts = patterns.str.strip().value_counts()
    recurring = frame[frame["recurring"].astype(bool)]
    return {
        "n_units": len(frame),
        "slices": list(model.slices_),
        "classes": {str(k): int(v) for k, v in counts.items()},
        "recurring": len(recurring),
        "top": _records(
            recurring.sort_values("n_cases", ascending=False).head(10),
            ["unit", "n_cases", "pattern", "n_hot", "trend_tau"],
        ),
    }


def _hotspots_human(summary: Mapping[str, Any]) -> str:
    head = (
        f"{summary['method']} hotspots of {summary['cases']} cases"
        + (f" ({', '.join(summary['categories'])})" if summary["categories"] else "")
        + ":"
    )
    lines = [head]
    if summary["method"] == Method.DENSITY.value:
        lines.append(
            f"  {summary['clusters']} clusters holding {summary['clustered_cases']} cases "
            f"({summary['unlocated']} cases without a point left out)"
        )
        for row in summary["top"][:5]:
            lines.append(
                f"  cluster {row['cluster']}: {row[s.CATEGORY]}, {row['n_cases']} cases, "
                f"neighborhood {row.get(s.NEIGHBORHOOD_CODE)}"
            )
    else:
        classes = ", ".join(f"{n} {k}" for k, n in summary["classes"].items())
        lines.append(f"  {summary['n_units']} {summary['units']} units: {classes}")
        if summary["unlocated"]:
            lines.append(f"  {summary['unlocated']} cases without a point left out")
        if "recurring" in summary:
            lines.append(f"  {summary['recurring']} recurring problem hotspots")
        for row in summary["top"][:5]:
            lines.append(f"  {row['unit']}: {row['n_cases']} cases")
    if summary.get("out"):
        lines.append(f"Written to {summary['out']}")
    return "\n".join(lines)


def hotspots_cmd(
    method: HotspotMethod = Method.GISTAR,
    category: Category = None,
    level: Units = None,
    resolution: Resolution = 8,
    eps_m: EpsM = 150.0,
    min_cases: MinCases = "auto",
    time_slice: TimeSlice = SliceName.MONTH,
    alpha: Alpha = 0.05,
    out: Annotated[Path | None, _out("clusters or units")] = None,
    store: StoreUrl = None,
    start: Start = None,
    end: End = None,
    as_json: AsJson = False,
) -> None:
    """Find hotspots: density clusters, Gi* hot/cold spots, or emerging hot spot classes."""
    with clear_errors():
        fmt = t.output_format(out)
        window = t.CaseWindow(start, end, tuple(category or ()))
        result, saved = t.produce(
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
            fmt,
        )
    summary: dict[str, Any] = {
        "store": result.store,
        "method": method.value,
        "categories": list(category or []),
        "cases": result.n_cases,
        "units": result.units,
        "unlocated": result.n_cases - result.n_fitted,
        **_hotspot_details(result),
        "out": _written(saved),
    }
    emit(summary, as_json=as_json, human=_hotspots_human(summary))


# --- t137 rank -------------------------------------------------------------------------------
def _rank_human(summary: Mapping[str, Any]) -> str:
    lines = [
        f"Ranking of {summary['areas']} {summary['level']} areas by {summary['metric']} "
        f"({summary['cases']} cases): {summary['ranked']} ranked, {summary['not_enough']} with "
        f"fewer than {summary['min_volume']} cases, {summary['no_data']} without data."
    ]
    for row in summary["top"]:
        name = row.get(s.NAME_FA) or row.get(s.NAME_EN) or ""
        rank = "-" if row["rank"] is None else f"{row['rank']:.0f}"
        interval = "" if row["rank_lo"] is None else f" ({row['rank_lo']:.0f}–{row['rank_hi']:.0f})"
        estimate = "" if row["estimate"] is None else f"{row['estimate']:.3g}"
        lines.append(
            f"  {rank:>3}{interval} {row['code']} {name}: {estimate} [{row['volume']} cases]"
        )
    if summary.get("out"):
        lines.append(f"Written to {summary['out']}")
    return "\n".join(lines)


def rank_cmd(
    metric: Metric = COMPOSITE,
    level: AreaLevel = RankLevel.NEIGHBORHOOD,
    min_volume: MinVolume = 30,
    top: Annotated[int, typer.Option("--top", min=0, help="Areas shown in the summary.")] = 10,
    n_boot: NBoot = 1000,
    out: Annotated[Path | None, _out("ranking")] = None,
    store: StoreUrl = None,
    start: Start = None,
    end: End = None,
    as_json: AsJson = False,
) -> None:
    """Rank areas fairly: shrunk estimates, rank intervals and a minimum-volume rule."""
    with clear_errors():
        t.check_metric(metric)
        fmt = t.output_format(out)
        window = t.CaseWindow(start, end)
        result, saved = t.produce(
            store,
            lambda opened: t.rank_table(
                opened, window, metric=metric, level=level, min_volume=min_volume, n_boot=n_boot
            ),
            out,
            fmt,
        )
    table = result.frame
    status = table["status"].value_counts()
    shown = table.head(top).rename(columns={result.keys[0]: "code"})
    summary: dict[str, Any] = {
        "store": result.store,
        "metric": metric,
        "level": level.value,
        "cases": result.n_cases,
        "min_volume": min_volume,
        "areas": len(table),
        "ranked": int(status.get(RANKED, 0)),
        "not_enough": int(status.get(NOT_ENOUGH, 0)),
        "no_data": int(len(table) - status.get(RANKED, 0) - status.get(NOT_ENOUGH, 0)),
        "top": _records(
            shown,
            [
                "code",
                s.NAME_FA,
                s.NAME_EN,
                "volume",
                "raw",
                "estimate",
                "estimate_lo",
                "estimate_hi",
                "rank",
                "rank_lo",
                "rank_hi",
                "status",
            ],
        ),
        "out": _written(saved),
    }
    emit(summary, as_json=as_json, human=_rank_human(summary))
