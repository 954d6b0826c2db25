"""Figures derived from case rows for the app (pure functions; no store access).

:mod:`dash_app.data` reads column-pruned, filter-pushed cases and hands them here:

* :func:`close_median` — the Kaplan–Meier median time to close of a set of cases, still-open
  cases censored at ``as_of`` (not dropped, as a mean over closed cases would);
* :func:`area_case_stats` — the same per area, with the satisfaction mean and spread, in the
  columns :func:`analytics.rank_areas` reads;
* :func:`area_overdue` — per area, the cases open at the latest instant of the data and the
  share of them past their due time (:func:`analytics.indicators.backlog_series`);
* :func:`ranking_input` — a one-row-per-area KPI frame for :func:`analytics.rank_areas`
  built from read-model sums and :func:`area_case_stats`;
* :func:`cluster_points` and :func:`duplicate_points` — map overlay markers (one per
  cluster, never one per case).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from analytics import indicators as k
from analytics.indicators import backlog_series
from analytics.periods import utc_ns
from analytics.survival import km_quantiles
from geo.crs import METRIC_CRS, STORAGE_CRS
from ingest import schema as s

SECONDS_PER_HOUR: Final = 3600.0
HOURS_PER_DAY: Final = 24.0
#: Columns of :func:`area_case_stats` (besides the area code).
CLOSE_N: Final = "close_n"
CLOSE_EVENTS: Final = "close_events"
CLOSE_MEDIAN_H: Final = "close_median_h"
CLOSE_MEDIAN_LO_H: Final = "close_median_lo_h"
CLOSE_MEDIAN_HI_H: Final = "close_median_hi_h"
CLOSE_MAX_H: Final = "close_max_h"
#: Columns of :func:`area_overdue` (besides the area code), as :mod:`analytics.indicators`
#: names them: cases open at the instant, those of them past due, and the share.
OPEN_N: Final = k.BACKLOG
OVERDUE_N: Final = k.BACKLOG_OVERDUE
OVERDUE_SHARE: Final = k.OVERDUE_SHARE
#: Case columns :func:`area_overdue` reads (besides the area code).
OVERDUE_INPUTS: Final = (s.CREATED_AT, s.CLOSED_AT, s.DUE_AT, s.STATUS)
#: Columns of the overlay frames.
OVERLAY_COLUMNS: Final = ("lon", "lat", "n_cases", "label")


@dataclass(frozen=True)
class Median:
    """A Kaplan–Meier median time to close, in days, with its 95 % interval.

    Attributes
    ----------
    days, lo_days, hi_days : float
        The median and its interval; NaN when the curve does not fall to one half within the
        follow-up (more than half the cases still open) or there are no cases.
    n : int
        Cases (closed or still open).
    closed : int
        Closed cases (events).
    """

    days: float
    lo_days: float
    hi_days: float
    n: int
    closed: int


_NAT: Final = np.iinfo(np.int64).min
_NS: Final = 10**9


def _durations_s(cases: pd.DataFrame, as_of: pd.Timestamp | None) -> tuple[np.ndarray, np.ndarray]:
    """Return whole seconds from creation to close (or to ``as_of``) and the closed mask.

    Rows without a creation time get NaN; a close recorded before the creation counts as a
    close at once (0 s): the quality page flags those cases.
    """
    created = utc_ns(cases[s.CREATED_AT], name=s.CREATED_AT)
    closed = utc_ns(cases[s.CLOSED_AT], name=s.CLOSED_AT)
    event = closed != _NAT
    stamp = as_of if as_of is not None else latest_instant(cases)
    end_ns = _NAT if stamp is None else int(pd.Timestamp(stamp).as_unit("ns").value)
    end = np.where(event, closed, end_ns)
    valid = (created != _NAT) & (end != _NAT)
    seconds = np.full(len(cases), np.nan)
    seconds[valid] = np.maximum((end[valid] - created[valid]) // _NS, 0).astype(np.float64)
    return seconds, event


def latest_instant(cases: pd.DataFrame) -> pd.Timestamp | None:
    """Return the latest creation or close instant of ``cases`` (None when there is none)."""
    latest = _NAT
    for column in (s.CREATED_AT, s.CLOSED_AT):
        if column in cases.columns and len(cases):
            latest = max(latest, int(utc_ns(cases[column], name=column).max()))
    return None if latest == _NAT else pd.Timestamp(latest, tz="UTC")


def close_median(cases: pd.DataFrame, as_of: pd.Timestamp | None = None) -> Median:
    """Return the Kaplan–Meier median time to close of ``cases``.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``created_at`` and ``closed_at`` (tz-aware).
    as_of : pandas.Timestamp, optional
        Instant at which still-open cases are censored; default the latest creation or close
        in ``cases`` (the convention of :func:`analytics.kpis`).
    """
    seconds, event = _durations_s(cases, as_of)
    keep = ~np.isnan(seconds)
    if not keep.any():
        return Median(np.nan, np.nan, np.nan, 0, 0)
    table = km_quantiles(seconds[keep], event[keep], quantiles=(0.5,))
    row = table.iloc[0]
    per_day = SECONDS_PER_HOUR * HOURS_PER_DAY
    return Median(
        float(row["p50"]) / per_day,
        float(row["p50_lo"]) / per_day,
        float(row["p50_hi"]) / per_day,
        int(row["n"]),
        int(row["events"]),
    )


def area_case_stats(
    cases: pd.DataFrame, code_column: str, as_of: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Return per-area Kaplan–Meier close medians and satisfaction figures.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``created_at``, ``closed_at``, ``satisfaction`` and ``code_column``.
    code_column : str
        The area code column (``neighborhood_code`` …); cases without one are left out.
    as_of : pandas.Timestamp, optional
        Censoring instant of open cases (default: the latest instant in ``cases``).

    Returns
    -------
    pandas.DataFrame
        One row per area with cases: ``code`` (str), ``close_n``, ``close_events``,
        ``close_median_h`` with ``close_median_lo_h``/``close_median_hi_h`` (95 %),
        ``close_max_h`` (the longest time seen: a lower bound where the median is not
        reached), ``satisfaction_n``, ``satisfaction_mean`` and ``satisfaction_sd``.
    """
    stamp = as_of if as_of is not None else latest_instant(cases)
    # factorize on the (categorical) codes, then order the few distinct areas by text:
    # no conversion of millions of rows to strings
    found, distinct = pd.factorize(cases[code_column], use_na_sentinel=True)
    text = np.asarray([str(v) for v in distinct], dtype=object)
    order = np.argsort(text, kind="stable")
    rank = np.empty(len(text), dtype=np.int64)
    rank[order] = np.arange(len(text))
    area = np.full(len(found), -1, dtype=np.int64)
    area[found >= 0] = rank[found[found >= 0]]
    uniques = text[order]
    n_groups = len(uniques)
    seconds, event = _durations_s(cases, stamp)
    group = np.where(np.isnan(seconds), -1, area)
    # whole seconds: integer durations skip the sort of millions of distinct floats in
    # km_quantiles, and a second is far below what an hour-scale median can show
    whole = np.rint(np.nan_to_num(seconds, nan=0.0)).astype(np.int64)
    km = km_quantiles(whole, event, group=group, n_groups=n_groups, quantiles=(0.5,))
    longest = np.full(n_groups, np.nan)
    ok = group >= 0
    if ok.any():
        longest_s = pd.Series(seconds[ok]).groupby(group[ok]).max()
        longest[longest_s.index.to_numpy()] = longest_s.to_numpy()
    score = pd.to_numeric(cases[s.SATISFACTION], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    rated = (area >= 0) & ~np.isnan(score)
    sat = pd.DataFrame({"g": area[rated], "score": score[rated]})
    grouped = sat.groupby("g")["score"]
    out = pd.DataFrame(
        {
            s.CODE: pd.Index(uniques).astype(str),
            CLOSE_N: km["n"].to_numpy(dtype=np.int64),
            CLOSE_EVENTS: km["events"].to_numpy(dtype=np.int64),
            CLOSE_MEDIAN_H: km["p50"].to_numpy() / SECONDS_PER_HOUR,
            CLOSE_MEDIAN_LO_H: km["p50_lo"].to_numpy() / SECONDS_PER_HOUR,
            CLOSE_MEDIAN_HI_H: km["p50_hi"].to_numpy() / SECONDS_PER_HOUR,
            CLOSE_MAX_H: longest / SECONDS_PER_HOUR,
        }
    )
    out[k.SATISFACTION_N] = grouped.size().reindex(range(n_groups), fill_value=0).to_numpy()
    out[k.SATISFACTION_MEAN] = grouped.mean().reindex(range(n_groups)).to_numpy()
    out[k.SATISFACTION_SD] = grouped.std(ddof=1).reindex(range(n_groups)).to_numpy()
    return out


def area_overdue(
    cases: pd.DataFrame, code_column: str, as_of: pd.Timestamp | None = None
) -> pd.DataFrame:
    """Return per area the cases open at ``as_of`` and the share of them past their due time.

    The definitions are those of :mod:`analytics.indicators` (computed by
    :func:`analytics.indicators.backlog_series`): a case is open at ``T`` when it was created
    at or before ``T`` and not closed by then (a case in a terminal status without a close
    instant is not counted), and overdue when, besides, ``due_at < T``. Cases that cannot be
    open at ``T`` (closed at or before it, or in a terminal status) may be left out of
    ``cases`` when ``as_of`` is given: they change no count.

    Parameters
    ----------
    cases : pandas.DataFrame
        ``created_at``, ``closed_at``, ``due_at``, ``status`` (tz-aware timestamps) and
        ``code_column``.
    code_column : str
        The area code column (``neighborhood_code`` …); cases without one are left out.
    as_of : pandas.Timestamp, optional
        The instant ``T``; default the latest creation or close in ``cases``
        (:func:`latest_instant`, as :func:`close_median` censors open cases).

    Returns
    -------
    pandas.DataFrame
        One row per area with cases, ordered by code: ``code`` (str), ``backlog`` (cases
        open at ``T``), ``backlog_overdue`` (of them, past due) and ``overdue_share``
        (their proportion, 0–1; NaN where nothing is open). ``attrs["as_of"]`` is ``T``.
    """
    stamp = as_of if as_of is not None else latest_instant(cases)
    located = cases[code_column].notna().to_numpy()
    if stamp is None or not located.any():
        out = pd.DataFrame(
            {
                s.CODE: pd.Series(dtype=object),
                OPEN_N: pd.Series(dtype="int64"),
                OVERDUE_N: pd.Series(dtype="int64"),
                OVERDUE_SHARE: pd.Series(dtype="float64"),
            }
        )
        out.attrs["as_of"] = stamp
        return out
    frame = cases if located.all() else cases.loc[located]
    series = backlog_series(frame, by=[code_column], period="M", as_of=stamp)
    # the last period's backlog is taken at T itself (the as-of instant)
    last = series.loc[(series["at"] == series["at"].max()).to_numpy()]
    last = last.loc[last[code_column].notna().to_numpy()]
    out = pd.DataFrame(
        {
            s.CODE: last[code_column].astype(str).to_numpy(dtype=object),
            OPEN_N: last[OPEN_N].to_numpy(dtype=np.int64),
            OVERDUE_N: last[OVERDUE_N].to_numpy(dtype=np.int64),
            OVERDUE_SHARE: last[OVERDUE_SHARE].to_numpy(dtype=np.float64),
        }
    )
    out = out.sort_values(s.CODE, kind="stable").reset_index(drop=True)
    out.attrs["as_of"] = pd.Timestamp(stamp)
    return out


def no_case_stats(area_table: pd.DataFrame) -> pd.DataFrame:
    """Return :func:`area_case_stats` columns with nothing known (for rate-only rankings)."""
    out = pd.DataFrame({s.CODE: area_table[s.CODE].astype(str).to_numpy()})
    for column in (CLOSE_N, CLOSE_EVENTS, k.SATISFACTION_N):
        out[column] = 0
    for column in (
        CLOSE_MEDIAN_H,
        CLOSE_MEDIAN_LO_H,
        CLOSE_MEDIAN_HI_H,
        CLOSE_MAX_H,
        k.SATISFACTION_MEAN,
        k.SATISFACTION_SD,
    ):
        out[column] = np.nan
    return out


def ranking_input(
    area_table: pd.DataFrame,
    stats: pd.DataFrame,
    level: str,
    parent_level: str | None,
) -> pd.DataFrame:
    """Return a one-row-per-area KPI frame in the columns :func:`analytics.rank_areas` reads.

    Parameters
    ----------
    area_table : pandas.DataFrame
        :meth:`dash_app.data.DataService.area_table` output (every area of ``level``, with
        read-model sums and ``parent_code``).
    stats : pandas.DataFrame
        :func:`area_case_stats` of the same cases at ``level``.
    level : str
        Boundary level of the areas.
    parent_level : str or None
        The level of the areas' parents (shrinkage pulls each area toward its parent), or
        None for the top level (shrinkage toward the city).

    Notes
    -----
    Rates come from the read-model sums: SLA compliance (wall clock) is closed on time over
    closed with a due time, the objection rate is objected over survey answers (objected +
    accepted), as the map shows them.
    """
    level_col = s.LEVEL_CODE_COLUMN[level]
    frame = pd.DataFrame({level_col: area_table[s.CODE].astype(str).to_numpy()})
    if parent_level is not None:
        frame[s.LEVEL_CODE_COLUMN[parent_level]] = area_table[s.PARENT_CODE].astype("string")
    frame[k.VOLUME] = area_table["volume"].astype("int64").to_numpy()
    frame[k.SLA_MET_WALL] = area_table[s.RM_ON_TIME_COUNT].astype("int64").to_numpy()
    frame[k.SLA_N_WALL] = area_table[s.RM_DUE_CLOSED_COUNT].astype("int64").to_numpy()
    frame[k.OBJECTED] = area_table[s.RM_OBJECTED_COUNT].astype("int64").to_numpy()
    frame[k.ANSWERED] = (
        area_table[s.RM_OBJECTED_COUNT].astype("int64")
        + area_table[s.RM_ACCEPTED_COUNT].astype("int64")
    ).to_numpy()
    merged = frame.merge(
        stats.rename(columns={s.CODE: level_col}), on=level_col, how="left", validate="1:1"
    )
    for column in (CLOSE_N, CLOSE_EVENTS, k.SATISFACTION_N):
        merged[column] = merged[column].fillna(0).astype("int64")
    return merged


def cluster_points(clusters: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return one marker per density cluster: centroid ``lon``/``lat``, ``n_cases``, ``label``.

    Centroids are taken in metres (the clusters' EPSG:32639) and then converted to
    EPSG:4326; ``label`` is the cluster's category (and dominant subcategory).
    """
    if clusters.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OVERLAY_COLUMNS})
    metric = clusters.to_crs(METRIC_CRS)
    centres = gpd.GeoSeries(metric.geometry.centroid, crs=METRIC_CRS).to_crs(STORAGE_CRS)
    category = clusters[s.CATEGORY].astype("string").fillna("")
    sub = clusters["dominant_subcategory"].astype("string").fillna("")
    label = [f"{c} / {d}" if d else str(c) for c, d in zip(category, sub, strict=True)]
    return pd.DataFrame(
        {
            "lon": centres.x.to_numpy(),
            "lat": centres.y.to_numpy(),
            "n_cases": clusters["n_cases"].astype("int64").to_numpy(),
            "label": label,
        }
    )


def duplicate_points(cases: pd.DataFrame, duplicate_of: pd.Series, min_size: int) -> pd.DataFrame:
    """Return one marker per group of duplicate reports (the first report and its repeats).

    Parameters
    ----------
    cases : pandas.DataFrame
        ``case_id``, ``lon``, ``lat`` and ``category`` of the cases.
    duplicate_of : pandas.Series
        Aligned with ``cases``: the first report's ``case_id`` of each repeat, missing
        otherwise.
    min_size : int
        Smallest number of reports (first one included) of a group that is shown.

    Returns
    -------
    pandas.DataFrame
        ``lon``/``lat`` (the mean of the reports' points, EPSG:4326), ``n_cases`` (reports)
        and ``label`` (category), largest groups first.
    """
    first = duplicate_of.astype("string")
    ids = cases[s.CASE_ID].astype("string")
    group = first.where(first.notna(), ids)
    repeated = set(first.dropna())
    member = group.isin(repeated).to_numpy() & cases[s.LON].notna().to_numpy()
    if not member.any():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in OVERLAY_COLUMNS})
    frame = pd.DataFrame(
        {
            "g": group.to_numpy(dtype=object)[member],
            "lon": cases[s.LON].to_numpy(dtype=np.float64)[member],
            "lat": cases[s.LAT].to_numpy(dtype=np.float64)[member],
            "label": cases[s.CATEGORY].astype("string").fillna("").to_numpy(dtype=object)[member],
        }
    )
    grouped = frame.groupby("g", sort=False)
    out = pd.DataFrame(
        {
            "lon": grouped["lon"].mean(),
            "lat": grouped["lat"].mean(),
            "n_cases": grouped.size(),
            "label": grouped["label"].first(),
        }
    )
    out = out.loc[out["n_cases"] >= min_size]
    return out.sort_values("n_cases", ascending=False, kind="stable").reset_index(drop=True)
