"""``t137 kpis``, ``t137 hotspots`` and ``t137 rank``: the analytics over the case store.

Each command reads the cases (and the boundaries) from ``--store``, calls one function or
estimator of :mod:`analytics`, optionally writes the result to ``--out`` (by suffix), and
prints a short human summary, or one JSON object with ``--json``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Final, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import typer

from analytics.hotspots import DensityHotspots, EmergingHotspots, GiStarHotspots
from analytics.indicators import kpis
from analytics.ranking import COMPOSITE, METRICS, NOT_ENOUGH, RANKED, rank_areas
from geo.crs import STORAGE_CRS
from geo.errors import InputError
from geo.store import CaseFilter, open_store
from ingest import schema as s

from ..options import AsJson, StoreUrl, store_url
from ..output import clear_errors, emit
from ..settings import get_settings

TABLE_SUFFIXES: Final = (".csv", ".xlsx", ".parquet")
GEO_SUFFIXES: Final = (".geojson", ".parquet")
CITY: Final = "city"


class Level(StrEnum):
    """Area level of the KPIs."""

    NEIGHBORHOOD = "neighborhood"
    DISTRICT = "district"
    REGION = "region"
    CITY = "city"


class RankLevel(StrEnum):
    """Area level of a ranking."""

    NEIGHBORHOOD = "neighborhood"
    DISTRICT = "district"
    REGION = "region"


class Period(StrEnum):
    """Period of the KPIs."""

    MONTH = "M"
    WEEK = "W"
    DAY = "D"
    NONE = "none"


class CalendarName(StrEnum):
    """Calendar of the periods."""

    JALALI = "jalali"
    GREGORIAN = "gregorian"


class Method(StrEnum):
    """Hotspot method."""

    DENSITY = "density"
    GISTAR = "gistar"
    EMERGING = "emerging"


class UnitLevel(StrEnum):
    """Spatial units of Gi* and emerging hotspots."""

    NEIGHBORHOOD = "neighborhood"
    H3 = "h3"


class SliceName(StrEnum):
    """Time slice of emerging hotspots."""

    MONTH = "month"
    WEEK = "week"


Start = Annotated[
    str | None,
    typer.Option("--start", help="Only cases created at or after this date/time (Tehran time)."),
]
End = Annotated[
    str | None,
    typer.Option("--end", help="Only cases created before this date/time (Tehran time)."),
]


# --- reading ---------------------------------------------------------------------------------
def _instant(value: str | None, option: str, tz: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        msg = f"{option} {value!r} is not a date or time; write it like 2024-09-22 or 1403-07-01."
        raise InputError(msg) from None
    if pd.isna(stamp):
        msg = f"{option} {value!r} is not a date or time; write it like 2024-09-22."
        raise InputError(msg)
    return stamp.tz_localize(tz) if stamp.tzinfo is None else stamp


def _read(
    store: str | None,
    start: str | None,
    end: str | None,
    categories: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """Return (cases, boundaries, store url) with one clear sentence when there is nothing."""
    settings = get_settings()
    url = store_url(store)
    window = CaseFilter(
        start=_instant(start, "--start", settings.timezone),
        end=_instant(end, "--end", settings.timezone),
        categories=categories or None,
    )
    with open_store(url) as opened:
        cases = opened.read_cases(window)
        boundaries = opened.read_boundaries()
        shown = opened.url
    if not len(cases):
        what = " matching the options" if not window.is_empty else ""
        msg = (
            f"The store at {shown} holds no cases{what}; ingest cases with `t137 ingest` "
            "or widen --start/--end/--category."
        )
        raise InputError(msg)
    return cases, boundaries, shown


# --- writing ---------------------------------------------------------------------------------
def _plain_table(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Return a copy Excel can hold: tz-aware timestamps as local wall-clock time."""
    out = pd.DataFrame(frame).copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert(tz).dt.tz_localize(None)
    return out


def _atomic(out: Path, write: Callable[[Path], None]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        Path(temporary).replace(out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out


def _check_out(out: Path | None, suffixes: tuple[str, ...]) -> None:
    if out is not None and out.suffix.lower() not in suffixes:
        shown = " or ".join(suffixes)
        msg = f"--out {out} must end in {shown}; the format follows the suffix."
        raise InputError(msg)


def _write_table(frame: pd.DataFrame, out: Path) -> Path:
    _check_out(out, TABLE_SUFFIXES)
    suffix = out.suffix.lower()
    tz = get_settings().timezone
    plain = pd.DataFrame(frame).copy()
    plain.attrs = {}

    def write(path: Path) -> None:
        if suffix == ".csv":
            plain.to_csv(path, index=False, encoding="utf-8-sig")
        elif suffix == ".xlsx":
            _plain_table(plain, tz).to_excel(path, index=False, engine="openpyxl")
        else:
            plain.to_parquet(path, index=False)

    return _atomic(out, write)


def _write_geo(frame: gpd.GeoDataFrame, out: Path) -> Path:
    _check_out(out, GEO_SUFFIXES)
    suffix = out.suffix.lower()
    lonlat = frame.to_crs(STORAGE_CRS)
    lonlat.attrs = {}

    def write(path: Path) -> None:
        if suffix == ".geojson":
            lonlat.to_file(path, driver="GeoJSON")
        else:
            lonlat.to_parquet(path, index=False)

    return _atomic(out, write)


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
    level: Annotated[
        Level, typer.Option("--level", help="Area level of the rows, or city for one area.")
    ] = Level.NEIGHBORHOOD,
    period: Annotated[
        Period, typer.Option("--period", help="M (month), W (week), D (day) or none.")
    ] = Period.MONTH,
    by: Annotated[
        list[str] | None,
        typer.Option("--by", help="Also group by this column (category, kind, channel, unit)."),
    ] = None,
    calendar: Annotated[
        CalendarName, typer.Option("--calendar", help="Calendar of the periods.")
    ] = CalendarName.JALALI,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the table: .csv, .xlsx or .parquet.")
    ] = None,
    store: StoreUrl = None,
    start: Start = None,
    end: End = None,
    as_json: AsJson = False,
) -> None:
    """Compute honest KPIs per area and period (volume, backlog, durations, SLA, rates)."""
    with clear_errors():
        _check_out(out, TABLE_SUFFIXES)
        cases, boundaries, url = _read(store, start, end)
        keys = [] if level is Level.CITY else [s.LEVEL_CODE_COLUMN[level.value]]
        keys += [c for c in (by or []) if c not in keys]
        has_population = (
            len(boundaries) > 0
            and s.POPULATION in boundaries.columns
            and bool(boundaries[s.POPULATION].notna().any())
        )
        table = kpis(
            cases,
            by=keys,
            period=None if period is Period.NONE else cast(Literal["M", "W", "D"], period.value),
            calendar=calendar.value,
            population=pd.DataFrame(boundaries.drop(columns=s.GEOMETRY))
            if has_population
            else None,
        )
        written = _write_table(table, out) if out is not None else None
    summary: dict[str, Any] = {
        "store": url,
        "cases": len(cases),
        "level": level.value,
        "by": keys,
        "period": None if period is Period.NONE else period.value,
        "calendar": calendar.value,
        "as_of": pd.Timestamp(table.attrs["as_of"]).isoformat(),
        "rows": len(table),
        "volume": int(table["volume"].sum()),
        "out": str(written) if written is not None else None,
    }
    if written is None:
        summary["records"] = _records(table, list(table.columns))
    emit(summary, as_json=as_json, human=_kpis_human(summary, table, keys))


# --- t137 hotspots ---------------------------------------------------------------------------
def _located(cases: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    ok = cases[s.LON].notna() & cases[s.LAT].notna()
    return cases.loc[ok.to_numpy()]


def _hotspots_summary(method: Method, model: Any) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    if method is Method.DENSITY:
        clusters: gpd.GeoDataFrame = model.clusters_
        top = clusters.sort_values("n_cases", ascending=False, kind="stable").head(10)
        columns = ["cluster", s.CATEGORY, "n_cases", "dominant_subcategory", "weeks_active"]
        return clusters, {
            "clusters": len(clusters),
            "clustered_cases": int((model.labels_ >= 0).sum()),
            "top": _records(top, [*columns, s.NEIGHBORHOOD_CODE]),
        }
    units: gpd.GeoDataFrame = model.units_
    if method is Method.GISTAR:
        counts = units["hotspot"].value_counts()
        hot = units[units["hotspot"] == "hot"].sort_values("z", ascending=False).head(10)
        return units, {
            "n_units": len(units),
            "classes": {str(k): int(v) for k, v in counts.items()},
            "regions": len(model.regions_),
            "top": _records(hot, ["unit", "n_cases", "z", "q"]),
        }
    patterns = units["pattern"].astype(str) + " " + units["spot"].astype(str)
    counts = patterns.str.strip().value_counts()
    recurring = units[units["recurring"].astype(bool)]
    return units, {
        "n_units": len(units),
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
    method: Annotated[
        Method, typer.Option("--method", help="density (clusters), gistar or emerging.")
    ] = Method.GISTAR,
    category: Annotated[
        list[str] | None, typer.Option("--category", help="Only this category (repeatable).")
    ] = None,
    level: Annotated[
        UnitLevel | None,
        typer.Option("--level", help="Units of gistar/emerging: neighborhood or h3."),
    ] = None,
    resolution: Annotated[int, typer.Option("--resolution", help="H3 resolution.")] = 8,
    eps_m: Annotated[
        float, typer.Option("--eps-m", help="Density radius in metres (density method).")
    ] = 150.0,
    min_cases: Annotated[
        str, typer.Option("--min-cases", help="Cases within --eps-m of a dense place, or auto.")
    ] = "auto",
    time_slice: Annotated[
        SliceName, typer.Option("--slice", help="Time slice of emerging hotspots.")
    ] = SliceName.MONTH,
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level (FDR).")] = 0.05,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the result: .geojson or .parquet.")
    ] = None,
    store: StoreUrl = None,
    start: Start = None,
    end: End = None,
    as_json: AsJson = False,
) -> None:
    """Find hotspots: density clusters, Gi* hot/cold spots, or emerging hot spot classes."""
    with clear_errors():
        _check_out(out, GEO_SUFFIXES)
        cases, boundaries, url = _read(store, start, end, category)
        n_read = len(cases)
        bounds = boundaries if len(boundaries) else None
        model: Any
        if method is Method.DENSITY:
            if min_cases != "auto" and not min_cases.isdigit():
                msg = f"--min-cases must be a whole number or auto, got {min_cases!r}."
                raise InputError(msg)
            threshold: int | Literal["auto"] = "auto" if min_cases == "auto" else int(min_cases)
            model = DensityHotspots(eps_m=eps_m, min_cases=threshold)
            units = "points"
        else:
            default = "neighborhood" if method is Method.GISTAR else "h3"
            units = level.value if level is not None else default
            if units == UnitLevel.NEIGHBORHOOD.value and bounds is None:
                msg = (
                    "The store holds no boundaries, so neighborhood hotspots cannot be computed; "
                    "import them with `t137 boundaries import --store URL` or use --level h3."
                )
                raise InputError(msg)
            unit_level = cast(Literal["neighborhood", "h3"], units)
            if method is Method.GISTAR:
                model = GiStarHotspots(level=unit_level, resolution=resolution, alpha=alpha)
            else:
                model = EmergingHotspots(
                    slice=time_slice.value,
                    level=unit_level,
                    resolution=resolution,
                    alpha=alpha,
                )
        if units != UnitLevel.NEIGHBORHOOD.value:  # points and H3 cells need coordinates
            cases = _located(cases)
            if not len(cases):
                msg = f"None of the {n_read} selected cases has a point (lon/lat)."
                raise InputError(msg)
        if method is Method.DENSITY:
            model.fit(cases)
        else:
            model.fit(cases, bounds)
        result, details = _hotspots_summary(method, model)
        written = _write_geo(result, out) if out is not None else None
    summary: dict[str, Any] = {
        "store": url,
        "method": method.value,
        "categories": list(category or []),
        "cases": n_read,
        "units": units,
        "unlocated": n_read - len(cases),
        **details,
        "out": str(written) if written is not None else None,
    }
    emit(summary, as_json=as_json, human=_hotspots_human(summary))


# --- t137 rank -------------------------------------------------------------------------------
def _names(boundaries: gpd.GeoDataFrame, level: str) -> pd.DataFrame:
    if not len(boundaries):
        return pd.DataFrame(columns=[s.CODE, s.NAME_FA, s.NAME_EN])
    rows = boundaries[boundaries[s.LEVEL] == level]
    return pd.DataFrame(
        {
            s.CODE: rows[s.CODE].astype(str).to_numpy(),
            s.NAME_FA: rows[s.NAME_FA].to_numpy(),
            s.NAME_EN: rows[s.NAME_EN].to_numpy(),
        }
    )


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
    metric: Annotated[
        str,
        typer.Option("--metric", help=f"{COMPOSITE} or one of: {', '.join(METRICS)}."),
    ] = COMPOSITE,
    level: Annotated[
        RankLevel, typer.Option("--level", help="Area level to rank.")
    ] = RankLevel.NEIGHBORHOOD,
    min_volume: Annotated[
        int, typer.Option("--min-volume", min=1, help="Fewer cases: not ranked.")
    ] = 30,
    top: Annotated[int, typer.Option("--top", min=0, help="Areas shown in the summary.")] = 10,
    n_boot: Annotated[
        int, typer.Option("--n-boot", min=10, help="Posterior draws for the rank intervals.")
    ] = 1000,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the ranking: .csv, .xlsx or .parquet.")
    ] = None,
    store: StoreUrl = None,
    start: Start = None,
    end: End = None,
    as_json: AsJson = False,
) -> None:
    """Rank areas fairly: shrunk estimates, rank intervals and a minimum-volume rule."""
    with clear_errors():
        if metric != COMPOSITE and metric not in METRICS:
            msg = f"--metric {metric!r} is unknown; use {COMPOSITE} or one of {', '.join(METRICS)}."
            raise InputError(msg)
        _check_out(out, TABLE_SUFFIXES)
        cases, boundaries, url = _read(store, start, end)
        ranking = rank_areas(
            cases, metric=metric, level=level.value, min_volume=min_volume, n_boot=n_boot
        )
        code_column = s.LEVEL_CODE_COLUMN[level.value]
        ranking = ranking.assign(**{code_column: ranking[code_column].astype(str)})
        table = ranking.merge(
            _names(boundaries, level.value).rename(columns={s.CODE: code_column}),
            on=code_column,
            how="left",
        )
        written = _write_table(table, out) if out is not None else None
    status = table["status"].value_counts()
    shown = table.head(top).rename(columns={code_column: "code"})
    summary: dict[str, Any] = {
        "store": url,
        "metric": metric,
        "level": level.value,
        "cases": len(cases),
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
        "out": str(written) if written is not None else None,
    }
    emit(summary, as_json=as_json, human=_rank_human(summary))
