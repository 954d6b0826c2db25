"""Kaplan–Meier quantiles with confidence intervals, for many groups at once.

Still-open cases are right-censored: a case open for 30 days tells us its time to close is
*more than* 30 days, which a "closed cases only" median throws away. The Kaplan–Meier
estimator keeps it.

The implementation sorts all rows once, by one packed 64-bit key (group, duration, event),
then works on the runs of equal (group, duration) with numpy reductions over group offsets,
so 5 million rows in 100,000 groups cost one sort, not 100,000 Python iterations.

Definitions (the same as lifelines and R's ``survfit``):

- at each distinct event time *t* of a group, with *n* rows still at risk (duration ≥ *t*,
  censored rows at *t* included) and *d* events, ``S(t) = Π (1 − d/n)``;
- the *q*-quantile (0.5 for the median, 0.9 for p90) is the smallest event time with
  ``S(t) ≤ 1 − q``, and is missing (NaN) when the curve never falls that low;
- its confidence interval is Brookmeyer–Crowley's: the times where the pointwise interval of
  ``S`` first falls to ``1 − q``, using Greenwood's variance on the log(−log) scale
  (Kalbfleisch–Prentice "exponential Greenwood"), which stays inside [0, 1];
- the naive median is the median of the event durations alone, ignoring censored rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.errors import InputError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

_KEY_BITS: Final = 62


@dataclass(frozen=True)
class _Runs:
    """Runs of equal (group, time) that hold at least one event, in sorted order."""

    group: I64  # group of each run
    time: I64  # tick of each run
    at_risk: I64  # rows of the group with duration >= time
    events: I64  # events in the run
    start: I64  # per group: index of its first run (valid where count > 0)
    count: I64  # per group: number of runs
    ev_ticks: I64  # ticks of every event row, sorted by (group, tick)
    ev_start: I64  # per group: offset of its first event row in ev_ticks
    ev_count: I64  # per group: number of event rows
    size: I64  # per group: number of rows


def _offsets(counts: I64) -> I64:
    out: I64 = np.cumsum(counts) - counts
    return out


def _event_runs(group: I64, ticks: I64, event: B, n_groups: int) -> _Runs:
    """Sort once by a packed (group, tick, not-event) key and find the event runs.

    Within a run of equal (group, tick) the events sort first, so the run's first row is an
    event exactly when the run holds one, and the rows at risk at that tick are the group's
    rows from that position on.
    """
    size = np.bincount(group, minlength=n_groups).astype(np.int64)
    tbits = max(int(ticks.max()).bit_length(), 1) if len(ticks) else 1
    gbits = max(int(n_groups - 1).bit_length(), 1)
    if tbits + gbits + 1 <= _KEY_BITS:
        key = (group << (tbits + 1)) | (ticks << 1)
        key |= ~event
        key.sort()
        pos = np.flatnonzero((key & 1) == 0)  # event rows, in sorted order
        run_key = key[pos] >> 1
        eg = run_key >> tbits
        et = run_key & ((1 << tbits) - 1)
    else:  # too wide to pack into 62 bits: a (slower) lexicographic sort
        order = np.lexsort((~event, ticks, group))
        pos = np.flatnonzero(event[order])
        eg, et = group[order][pos], ticks[order][pos]
        run_key = np.unique(np.stack([eg, et]), axis=1, return_inverse=True)[1].ravel()
    ev_count = np.bincount(eg, minlength=n_groups).astype(np.int64)
    if len(pos) > 1:
        heads = np.flatnonzero(run_key[1:] != run_key[:-1]) + 1
        heads = np.concatenate([np.zeros(1, np.int64), heads])
    else:
        heads = np.arange(len(pos), dtype=np.int64)
    if len(heads) == len(pos):  # no tied event times: every event row is a run
        rg, rt, first = eg, et, pos
        events = np.ones(len(pos), np.int64)
    else:
        rg, rt, first = eg[heads], et[heads], pos[heads]
        events = np.diff(heads, append=len(pos))
    count = np.bincount(rg, minlength=n_groups).astype(np.int64)
    gstart = _offsets(size)
    at_risk = np.repeat(size - (-gstart), count) - first  # size - (first - gstart)
    return _Runs(
        group=rg,
        time=rt,
        at_risk=at_risk,
        events=events,
        start=_offsets(count),
        count=count,
        ev_ticks=et,
        ev_start=_offsets(ev_count),
        ev_count=ev_count,
        size=size,
    )


def _groupwise_cumsum(values: F64, runs: _Runs) -> F64:
    """Cumulative sum restarting at each group (runs are sorted by group)."""
    total = np.cumsum(values)
    has = runs.count > 0
    before = np.zeros(len(runs.count))
    before[has] = np.concatenate([[0.0], total])[runs.start[has]]
    out: F64 = total - np.repeat(before, runs.count)
    return out


@dataclass(frozen=True)
class _Curve:
    """The survival curve at every event run, on scales that make the quantiles cheap.

    ``log_s`` is log S (−inf where S = 0) and ``width`` is z·se of log(−log S), so
    the interval of S is ``S ** exp(±width)`` and, with ``ll = log(−log S)``:
    ``S ≤ p`` ⇔ ``log_s ≤ log p``; ``S_lo ≤ p`` ⇔ ``width ≥ log(−log p) − ll``;
    ``S_hi ≤ p`` ⇔ ``ll − log(−log p) ≥ width``.
    """

    log_s: F64
    width: F64
    ll: F64


def _curve(runs: _Runs, z: float) -> _Curve:
    n = runs.at_risk.astype(np.float64)
    d = runs.events.astype(np.float64)
    dead = runs.at_risk == runs.events  # everyone left has the event: S falls to 0
    rest = n - d
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = np.log(rest / n)
        green = d / (n * rest)
    if dead.any():  # only ever a group's last run, so nothing after it is affected
        log_term[dead] = 0.0
        green[dead] = 0.0
    log_s = _groupwise_cumsum(log_term, runs)
    var = _groupwise_cumsum(green, runs)
    if dead.any():
        log_s[dead] = -np.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        neg = -log_s
        width = z * np.sqrt(var) / neg
        ll = np.log(neg)
    return _Curve(log_s=log_s, width=width, ll=ll)


def _first_hit(hit: B, runs: _Runs, n_groups: int) -> F64:
    """Per group, the time of the first run where ``hit`` holds (NaN if none)."""
    out = np.full(n_groups, np.nan)
    if not len(hit):
        return out
    pos = np.where(hit, np.arange(len(hit)), len(hit))
    has = runs.count > 0
    first = np.minimum.reduceat(pos, runs.start[has])
    found = first < len(hit)
    out[np.flatnonzero(has)[found]] = runs.time[first[found]].astype(np.float64)
    return out


def _quantile_times(curve: _Curve, q: float, runs: _Runs, n_groups: int) -> tuple[F64, ...]:
    """Point estimate and Brookmeyer–Crowley bounds of the q-quantile, per group."""
    level = 1.0 - q
    tol = 1e-9  # S exactly at the level (2 of 4 closed) counts as reached despite rounding
    log_p = np.log(level) + tol
    ll_p = np.log(-np.log(level))
    with np.errstate(invalid="ignore"):
        point = curve.log_s <= log_p
        lower = point | (curve.width >= ll_p - curve.ll - tol)
        upper = point & (curve.ll - ll_p + tol >= curve.width)
    return (
        _first_hit(point, runs, n_groups),
        _first_hit(lower, runs, n_groups),
        _first_hit(upper, runs, n_groups),
    )


def _naive_median(runs: _Runs, values: F64 | None) -> F64:
    """Median of each group's event durations (the average of the two middle ones)."""
    out = np.full(len(runs.ev_count), np.nan)
    has = runs.ev_count > 0
    a = runs.ev_ticks[runs.ev_start[has] + (runs.ev_count[has] - 1) // 2]
    b = runs.ev_ticks[runs.ev_start[has] + runs.ev_count[has] // 2]
    if values is None:
        out[has] = (a + b) / 2.0
    else:
        out[has] = (values[a] + values[b]) / 2.0
    return out


def _validate(
    duration: npt.ArrayLike, event: npt.ArrayLike, group: npt.ArrayLike | None
) -> tuple[npt.NDArray[Any], B, I64]:
    dur = np.asarray(duration)
    ev = np.asarray(event, dtype=bool)
    grp = np.zeros(len(dur), np.int64) if group is None else np.asarray(group, dtype=np.int64)
    if dur.ndim != 1 or ev.shape != dur.shape or grp.shape != dur.shape:
        msg = (
            f"duration, event and group must be 1-d arrays of one length; got shapes "
            f"{dur.shape}, {ev.shape} and {grp.shape}."
        )
        raise InputError(msg)
    if not (np.issubdtype(dur.dtype, np.integer) or np.issubdtype(dur.dtype, np.floating)):
        msg = f"duration must be numeric, got dtype {dur.dtype}; pass durations as numbers."
        raise InputError(msg)
    return dur, ev, grp


def km_quantiles(
    duration: npt.ArrayLike,
    event: npt.ArrayLike,
    group: npt.ArrayLike | None = None,
    *,
    n_groups: int | None = None,
    quantiles: tuple[float, ...] = (0.5, 0.9),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Kaplan–Meier quantiles with Brookmeyer–Crowley intervals, per group.

    Parameters
    ----------
    duration : array-like of float or int, shape (n,)
        Time from the start (case created) to the event (closed) or to censoring (the as-of
        instant for open cases), in any one unit; the results are in the same unit. Rows with
        a missing (NaN) duration or a negative group are ignored.
    event : array-like of bool, shape (n,)
        True where the event was observed, False where the row is censored.
    group : array-like of int, shape (n,), optional
        Group number of each row, 0 .. n_groups − 1 (negative: row ignored). One group if
        omitted.
    n_groups : int, optional
        Number of groups (default: max(group) + 1); groups without rows get NaN.
    quantiles : tuple of float
        Quantiles of the time to event, in (0, 1): 0.5 is the median, 0.9 the p90.
    alpha : float
        One minus the confidence level of the intervals (0.05 for 95 %).

    Returns
    -------
    pandas.DataFrame
        One row per group (index 0 .. n_groups − 1) with ``n`` (rows), ``events``, and for each
        quantile q (as a percent, ``p50``) the columns ``p50``, ``p50_lo``, ``p50_hi``; plus
        ``naive_p50``, the median of the event durations alone. NaN where the curve (or a
        bound) never falls to 1 − q within the follow-up.

    Raises
    ------
    InputError
        If the arrays do not match, a duration is negative, or a quantile is outside (0, 1).

    Examples
    --------
    >>> out = km_quantiles([1, 2, 3, 4, 5], [True, True, False, True, False])
    >>> float(out.loc[0, "p50"]), float(out.loc[0, "naive_p50"])
    (4.0, 2.0)
    """
    dur, ev, grp = _validate(duration, event, group)
    if any(not 0.0 < q < 1.0 for q in quantiles):
        msg = f"quantiles must lie strictly between 0 and 1, got {quantiles}."
        raise InputError(msg)
    if not 0.0 < alpha < 1.0:
        msg = f"alpha must lie strictly between 0 and 1, got {alpha}."
        raise InputError(msg)
    keep = grp >= 0
    if np.issubdtype(dur.dtype, np.floating):
        keep &= ~np.isnan(dur)
    if n_groups is None:
        n_groups = int(grp[keep].max()) + 1 if keep.any() else 0
    if (dur[keep] < 0).any():
        msg = "duration has negative values; an event cannot come before its start."
        raise InputError(msg)
    if keep.any() and int(grp[keep].max()) >= n_groups:
        msg = f"group numbers must be below n_groups={n_groups}."
        raise InputError(msg)
    if not keep.all():
        dur, ev, grp = dur[keep], ev[keep], grp[keep]
    if np.issubdtype(dur.dtype, np.integer):
        ticks = dur.astype(np.int64, copy=False)
        values: F64 | None = None
    else:
        uniq, inverse = np.unique(dur, return_inverse=True)
        ticks, values = inverse.astype(np.int64), uniq.astype(np.float64)
    return _km_table(grp, ticks, ev, n_groups, quantiles, alpha, values)


def _km_table(
    group: I64,
    ticks: I64,
    event: B,
    n_groups: int,
    quantiles: tuple[float, ...],
    alpha: float,
    values: F64 | None,
) -> pd.DataFrame:
    """Core on validated arrays: non-negative integer ticks, groups in 0 .. n_groups − 1."""
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    runs = _event_runs(group, ticks, event, n_groups)
    curve = _curve(runs, z)

    def to_values(t: F64) -> F64:
        if values is None:
            return t
        out = np.full(t.shape, np.nan)
        ok = ~np.isnan(t)
        out[ok] = values[t[ok].astype(np.int64)]
        return out

    cols: dict[str, npt.NDArray[np.generic]] = {"n": runs.size, "events": runs.ev_count}
    for q in quantiles:
        name = f"p{round(q * 100):d}"
        point, lo, hi = _quantile_times(curve, q, runs, n_groups)
        cols[name] = to_values(point)
        cols[f"{name}_lo"] = to_values(lo)
        cols[f"{name}_hi"] = to_values(hi)
    cols["naive_p50"] = _naive_median(runs, values)
    return pd.DataFrame(cols)


def km_quantiles_ticks(
    group: I64,
    ticks: I64,
    event: B,
    n_groups: int,
    *,
    quantiles: tuple[float, ...] = (0.5, 0.9),
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Fast path of :func:`km_quantiles` for trusted inputs (used by :mod:`analytics.kpis`).

    ``ticks`` are non-negative int64 durations (for example whole seconds) and every
    ``group`` lies in 0 .. n_groups − 1; nothing is checked or copied beyond what the sort
    needs. Results are in ticks.
    """
    return _km_table(group, ticks, event, n_groups, quantiles, alpha, None)


def kaplan_meier(
    duration: npt.ArrayLike, event: npt.ArrayLike, *, alpha: float = 0.05
) -> pd.DataFrame:
    """Return the Kaplan–Meier survival curve of one sample with its pointwise interval.

    Parameters
    ----------
    duration : array-like of float, shape (n,)
        Time to event or censoring.
    event : array-like of bool, shape (n,)
        True where the event was observed.
    alpha : float
        One minus the confidence level.

    Returns
    -------
    pandas.DataFrame
        One row per distinct event time: ``time``, ``at_risk``, ``events``, ``survival``,
        ``survival_lo``, ``survival_hi`` (log(−log) Greenwood interval).

    Examples
    --------
    >>> kaplan_meier([1, 2, 2, 3], [True, True, False, True])["survival"].tolist()
    [0.75, 0.5, 0.0]
    """
    dur, ev, _ = _validate(duration, event, None)
    keep = ~np.isnan(dur.astype(np.float64))
    dur, ev = dur[keep], ev[keep]
    if (dur < 0).any():
        msg = "duration has negative values; an event cannot come before its start."
        raise InputError(msg)
    uniq, inverse = np.unique(dur, return_inverse=True)
    runs = _event_runs(np.zeros(len(dur), np.int64), inverse.astype(np.int64), ev, 1)
    curve = _curve(runs, NormalDist().inv_cdf(1.0 - alpha / 2.0))
    surv = np.cumprod(1.0 - runs.events / runs.at_risk)  # one group: the exact product
    with np.errstate(invalid="ignore", over="ignore"):
        lo = np.where(np.isfinite(curve.width), np.exp(curve.log_s * np.exp(curve.width)), surv)
        hi = np.where(np.isfinite(curve.width), np.exp(curve.log_s * np.exp(-curve.width)), surv)
    return pd.DataFrame(
        {
            "time": uniq[runs.time].astype(np.float64),
            "at_risk": runs.at_risk,
            "events": runs.events,
            "survival": surv,
            "survival_lo": lo,
            "survival_hi": hi,
        }
    )
