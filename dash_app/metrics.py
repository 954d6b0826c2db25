"""KPIs of area tables (pure functions on frames; no store access).

:func:`add_kpis` computes the KPIs of read-model sums; :func:`with_close_median` and
:func:`with_overdue_share` add the map's two KPIs computed from the cases
(:data:`dash_app.state.CASE_KPIS`) to an area table.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from ingest import schema as s

from . import derive

SECONDS_PER_DAY: Final = 86_400.0
HOURS_PER_DAY: Final = 24.0
#: Kaplan–Meier median time to close of each area, in days, with its 95 % interval.
CLOSE_MEDIAN: Final = "close_median"
CLOSE_MEDIAN_LO: Final = "close_median_lo"
CLOSE_MEDIAN_HI: Final = "close_median_hi"
#: The longest time seen (closed or still open), in days: where the median is not reached,
#: the median is longer than this.
CLOSE_MAX_DAYS: Final = "close_max_days"
#: True where an area has cases but more than half of them are still open (no median).
CLOSE_NOT_REACHED: Final = "close_median_not_reached"
#: Share of the open cases past their due time (%), with its two counts.
OVERDUE_SHARE: Final = "overdue_share"
OPEN_AT_END: Final = "open_at_end"
OVERDUE: Final = "overdue"
#: KPIs where a larger value is better (for rankings); the others rank small first.
HIGHER_IS_BETTER: Final = frozenset({"sla", "satisfaction"})
POPULATION: Final = "population"
OBJECTION_BASE: Final = "feedback_count"


def _ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    num = numerator.astype("float64").to_numpy()
    den = denominator.astype("float64").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0) * scale, np.nan)
    return pd.Series(out, index=numerator.index, dtype="float64")


def add_kpis(sums: pd.DataFrame) -> pd.DataFrame:
    """Return ``sums`` with one column per KPI of :data:`dash_app.state.KPIS` added.

    Parameters
    ----------
    sums : pandas.DataFrame
        Sums of the read-model measures (:data:`ingest.schema.READ_MODEL_MEASURES`), one
        row per group; an optional ``population`` column (residents) enables ``per_10k``.

    Returns
    -------
    pandas.DataFrame
        A new frame: ``volume`` (cases), ``per_10k`` (cases per 10,000 residents),
        ``backlog`` (cases still open), ``close_days`` (mean days from creation to close,
        among closed cases; the read model holds sums, so this is a mean, not a median),
        ``sla`` (% of closed cases with a due time closed on time), ``satisfaction`` (mean
        score 1–5), ``objection`` (% of feedback that objected) and ``feedback_count``.
    """
    out = sums.copy()
    out["volume"] = out[s.RM_CASES].astype("int64")
    if POPULATION in out.columns:
        population = pd.to_numeric(out[POPULATION], errors="coerce").astype("float64")
        out["per_10k"] = _ratio(out[s.RM_CASES], population, 10_000.0)
    else:
        out["per_10k"] = np.nan
    out["backlog"] = out[s.RM_OPEN].astype("int64")
    out["close_days"] = _ratio(out[s.RM_CLOSE_SECONDS], out[s.RM_CLOSED_COUNT], 1 / SECONDS_PER_DAY)
    out["sla"] = _ratio(out[s.RM_ON_TIME_COUNT], out[s.RM_DUE_CLOSED_COUNT], 100.0)
    out["satisfaction"] = _ratio(out[s.RM_SATISFACTION_SUM], out[s.RM_SATISFACTION_COUNT])
    out[OBJECTION_BASE] = out[s.RM_OBJECTED_COUNT] + out[s.RM_ACCEPTED_COUNT]
    out["objection"] = _ratio(out[s.RM_OBJECTED_COUNT], out[OBJECTION_BASE], 100.0)
    return out


def sum_measures(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Return the read-model measures of ``frame`` summed by ``by`` (groups with no row dropped).

    With ``by`` empty, one row holding the totals.
    """
    measures = list(s.READ_MODEL_MEASURES)
    if not by:
        totals = frame[measures].sum()
        return pd.DataFrame([totals.to_numpy()], columns=measures).astype(frame[measures].dtypes)
    grouped = frame.groupby(by, observed=True, dropna=True, sort=True)[measures].sum()
    return grouped.reset_index()


def _stats_by_code(table: pd.DataFrame, stats: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Return ``stats[columns]`` aligned with ``table``'s rows by area code (NaN if absent)."""
    keyed = stats.assign(**{s.CODE: stats[s.CODE].astype(str)}).set_index(s.CODE)[columns]
    return keyed.reindex(pd.Index(table[s.CODE].astype(str)))


def with_close_median(table: pd.DataFrame, stats: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with each area's Kaplan–Meier median time to close, in days.

    Parameters
    ----------
    table : pandas.DataFrame
        An area table (one row per area, ``code``).
    stats : pandas.DataFrame
        :func:`dash_app.derive.area_case_stats` of the same filters and level.

    Returns
    -------
    pandas.DataFrame
        A new frame with ``close_median``, ``close_median_lo`` and ``close_median_hi``
        (days; NaN where not reached or without cases), ``close_max_days`` (the longest
        time seen) and ``close_median_not_reached`` (the area has cases, but more than
        half are still open at the end of the follow-up).
    """
    in_days = {  # column of the table: hours column of the stats
        CLOSE_MEDIAN: derive.CLOSE_MEDIAN_H,
        CLOSE_MEDIAN_LO: derive.CLOSE_MEDIAN_LO_H,
        CLOSE_MEDIAN_HI: derive.CLOSE_MEDIAN_HI_H,
        CLOSE_MAX_DAYS: derive.CLOSE_MAX_H,
    }
    found = _stats_by_code(table, stats, [derive.CLOSE_N, *in_days.values()])
    out = table.copy()
    for name, hours in in_days.items():
        out[name] = found[hours].to_numpy(dtype=np.float64) / HOURS_PER_DAY
    n = found[derive.CLOSE_N].fillna(0).to_numpy(dtype=np.float64)
    out[CLOSE_NOT_REACHED] = (n > 0) & np.isnan(out[CLOSE_MEDIAN].to_numpy(dtype=np.float64))
    return out


def with_overdue_share(table: pd.DataFrame, overdue: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with each area's overdue share of its open cases, in percent.

    Parameters
    ----------
    table : pandas.DataFrame
        An area table (one row per area, ``code``).
    overdue : pandas.DataFrame
        :func:`dash_app.derive.area_overdue` of the same filters and level.

    Returns
    -------
    pandas.DataFrame
        A new frame with ``open_at_end`` (cases open at the latest instant of the data),
        ``overdue`` (of them, past their due time) and ``overdue_share`` (%; NaN where no
        case is open).
    """
    columns = [derive.OPEN_N, derive.OVERDUE_N]
    found = _stats_by_code(table, overdue, columns).fillna(0)
    out = table.copy()
    out[OPEN_AT_END] = found[derive.OPEN_N].to_numpy(dtype=np.int64)
    out[OVERDUE] = found[derive.OVERDUE_N].to_numpy(dtype=np.int64)
    out[OVERDUE_SHARE] = _ratio(out[OVERDUE], out[OPEN_AT_END], 100.0)
    return out
