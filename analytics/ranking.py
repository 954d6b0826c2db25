"""Fair rankings of areas: empirical Bayes shrinkage, rank intervals, a minimum-volume rule.

A neighborhood with 4 cases all answered within a day is not the best in Tehran: its perfect
figures are mostly luck. :func:`rank_areas` therefore

1. shrinks each area's figure toward its parent's (the district's, else the region's; the
   city's for regions) by empirical Bayes, so that an area moves away from its parent only
   as far as its own volume of evidence allows;
2. ranks the shrunk estimates, and gives each rank a 5–95 % interval by simulating from each
   area's posterior (``n_boot`` draws, ranked jointly);
3. lists areas below ``min_volume`` cases with status ``"not enough cases"`` and no rank.

Shrinkage by kind of metric
---------------------------
rates (SLA compliance, objection, reopen, overdue share, survey response)
    Beta-binomial empirical Bayes. Within each parent, the prior mean ``p`` is the pooled
    rate and the between-area variance is Marshall's method-of-moments estimate
    ``τ² = max(0, s² − p(1 − p)/n̄)`` (``s²`` the volume-weighted variance of the area
    rates, ``n̄`` the mean denominator) — the binomial form of esda's ``Empirical_Bayes``
    smoothing, with the parent in place of the whole map. The prior is
    ``Beta(p·M, (1 − p)·M)`` with ``M = p(1 − p)/τ² − 1``, so an area with ``k`` of ``n``
    gets ``(k + p·M)/(n + M)``, and its posterior ``Beta(k + p·M, n − k + (1 − p)·M)``.
durations (median time to close or to first response)
    Normal–normal shrinkage of the log Kaplan–Meier median, with its standard error from
    the median's confidence interval, floored at ``1.2533·σ/√events`` where σ is the typical
    within-area spread of log durations (from areas with 20 or more events): four quick
    closes say little about an area's own spread. The precision weight is
    ``τ²/(τ² + se²)`` and the parent's centre and ``τ²`` are DerSimonian–Laird estimates.
    Where the median is not reached (more than half the cases still open) the longest time
    seen (``close_max_h``), a lower bound of the median, stands in for it, so the slowest
    areas are not mistaken for average ones.
means (satisfaction)
    The same normal–normal shrinkage of the mean score, with ``se = sd/√n`` and the parent's
    pooled standard deviation.

Parents with fewer than three areas borrow the between-area variance of the whole map.

Composite index
---------------
``metric="composite"`` combines several metrics with explicit weights (default
:data:`DEFAULT_WEIGHTS`): SLA compliance in working time 0.30, median time to close 0.25,
objection rate 0.20, satisfaction 0.15 and the backlog's overdue share 0.10. Each component's
shrunk estimate is centred on the mean over the areas with enough cases and divided by the
spread (standard deviation) of those areas' *raw* figures (durations on the log scale), signed
so that higher is better (lower is better for durations, objection, reopen and overdue); the
index is the weighted sum. Dividing by the raw spread keeps a component that shrinkage
flattened (mostly noise) from being blown back up to full weight. A component an area has no
data for (no backlog, no survey) counts as the average (0). Weights must be non-negative and
sum to 1 (:func:`validate_weights`); pass ``weights={...}`` to change them.

Ranks and intervals
-------------------
``rank`` orders the shrunk estimates (ties share the best rank). ``rank_lo`` and ``rank_hi``
are the 5th and 95th percentiles of each area's rank over ``n_boot`` joint draws from the
posteriors (a 90 % interval). Areas with fewer than ``min_volume`` cases get no rank and the
status ``"not enough cases"``; areas with enough cases but no data for the metric get
``"no data"``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from analytics import indicators as k
from geo.errors import InputError
from ingest import schema as s

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Kind = Literal["rate", "duration", "mean"]

NOT_ENOUGH: Final = "not enough cases"
RANKED: Final = "ranked"
NO_DATA: Final = "no data"
COMPOSITE: Final = "composite"


@dataclass(frozen=True)
class Metric:
    """How a KPI is read from a :func:`analytics.kpis.kpis` frame and which way is better."""

    name: str
    kind: Kind
    higher_is_better: bool
    value: str  # the rate's numerator, the median, or the mean
    count: str  # the rate's denominator, the events behind the median, or the responses
    lo: str | None = None  # durations: the median's interval
    hi: str | None = None
    spread: str | None = None  # means: the standard deviation
    bound: str | None = None  # durations: the longest time seen (median not reached)
    total: str | None = None  # durations: the cases behind the bound (closed or open)


METRICS: Final = {
    m.name: m
    for m in (
        Metric("sla_compliance", "rate", True, k.SLA_MET_WORKING, k.SLA_N_WORKING),
        Metric("sla_compliance_wall", "rate", True, k.SLA_MET_WALL, k.SLA_N_WALL),
        Metric("objection_rate", "rate", False, k.OBJECTED, k.ANSWERED),
        Metric("reopen_rate", "rate", False, k.REOPENED, k.REOPEN_N),
        Metric("overdue_share", "rate", False, k.BACKLOG_OVERDUE, k.BACKLOG),
        Metric("survey_response_rate", "rate", True, k.SATISFACTION_N, k.ANSWERED),
        Metric(
            "close_median",
            "duration",
            False,
            "close_median_h",
            "close_events",
            "close_median_lo_h",
            "close_median_hi_h",
            bound="close_max_h",
            total="close_n",
        ),
        Metric(
            "response_median",
            "duration",
            False,
            "response_median_h",
            "response_events",
            "response_median_lo_h",
            "response_median_hi_h",
            bound="response_max_h",
            total="response_n",
        ),
        Metric(
            "satisfaction",
            "mean",
            True,
            k.SATISFACTION_MEAN,
            k.SATISFACTION_N,
            spread=k.SATISFACTION_SD,
        ),
    )
}

#: Default weights of the composite index (documented in the module docstring).
DEFAULT_WEIGHTS: Final = {
    "sla_compliance": 0.30,
    "close_median": 0.25,
    "objection_rate": 0.20,
    "satisfaction": 0.15,
    "overdue_share": 0.10,
}

_Z90: Final = NormalDist().inv_cdf(0.95)
_Z95: Final = NormalDist().inv_cdf(0.975)
_MIN_HOURS: Final = 1.0 / 60.0
_MAX_PRIOR: Final = 1e6
_MIN_PRIOR: Final = 0.5
_WEIGHT_TOL: Final = 1e-6
#: Standard error of a sample median in units of sd/√n (√(π/2)).
_MEDIAN_SE: Final = 1.2533
_MIN_EVENTS_FOR_SD: Final = 20


# --- shrinkage ----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Posterior:
    """Per area: the raw figure, the shrunk estimate, and how to draw from the posterior."""

    raw: F64
    estimate: F64  # on the metric's scale (hours for durations)
    kind: Kind
    a: F64  # rates: Beta a; others: posterior mean on the working scale (log hours)
    b: F64  # rates: Beta b; others: posterior sd on the working scale

    def draw(self, rng: np.random.Generator, n: int) -> F64:
        """Draws on the working scale (log hours for durations), shape (n, areas)."""
        if self.kind == "rate":
            return rng.beta(self.a, self.b, size=(n, len(self.a)))
        return self.a + self.b * rng.standard_normal((n, len(self.a)))

    def working(self) -> F64:
        """Return the shrunk estimate on the working scale."""
        if self.kind == "rate":
            out: F64 = self.a / (self.a + self.b)
            return out
        return self.a


def _shrink_rate(k_: F64, n: F64, parent: I64) -> _Posterior:
    """Beta-binomial empirical Bayes toward each parent's pooled rate (Marshall's moments)."""
    has = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(has, k_ / n, np.nan)
    n_parents = int(parent.max()) + 1 if len(parent) else 0
    k_sum = np.bincount(parent, weights=k_, minlength=n_parents)
    n_sum = np.bincount(parent, weights=n, minlength=n_parents)
    total_p = k_.sum() / n.sum() if n.sum() > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n_sum > 0, k_sum / n_sum, total_p)
    areas = np.bincount(parent, weights=has.astype(np.float64), minlength=n_parents)

    def tau2(centre: F64, group: I64, mask: npt.NDArray[np.bool_], m: int) -> F64:
        r = np.where(mask, raw, 0.0)
        dev = np.where(mask, n * (r - centre[group]) ** 2, 0.0)
        s2 = np.bincount(group, weights=dev, minlength=m) / np.maximum(
            np.bincount(group, weights=np.where(mask, n, 0.0), minlength=m), 1e-300
        )
        nbar = np.bincount(group, weights=np.where(mask, n, 0.0), minlength=m) / np.maximum(
            np.bincount(group, weights=mask.astype(np.float64), minlength=m), 1.0
        )
        out: F64 = np.maximum(s2 - centre * (1.0 - centre) / np.maximum(nbar, 1e-300), 0.0)
        return out

    local = tau2(p, parent, has, n_parents)
    world = tau2(np.array([total_p]), np.zeros(len(parent), np.int64), has, 1)[0]
    t2 = np.where(areas >= 3, local, world)
    var_p = p * (1.0 - p)
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = np.where(t2 > 0, var_p / t2 - 1.0, _MAX_PRIOR)
    strength = np.clip(np.nan_to_num(strength, nan=_MAX_PRIOR), _MIN_PRIOR, _MAX_PRIOR)
    prior = p[parent]
    m = strength[parent]
    # keep both Beta parameters positive when the parent's rate is exactly 0 or 1
    prior_c = np.clip(prior, 1e-6, 1.0 - 1e-6)
    a = k_ + prior_c * m
    b = (n - k_) + (1.0 - prior_c) * m
    return _Posterior(raw=raw, estimate=a / (a + b), kind="rate", a=a, b=b)


def _shrink_normal(y: F64, se: F64, parent: I64) -> tuple[F64, F64]:
    """Normal–normal EB (DerSimonian–Laird per parent); returns posterior mean and sd."""
    ok = np.isfinite(y) & np.isfinite(se) & (se > 0)
    n_parents = int(parent.max()) + 1 if len(parent) else 0
    w = np.where(ok, 1.0 / np.where(ok, se, 1.0) ** 2, 0.0)
    yy = np.where(ok, y, 0.0)

    def dl(group: I64, m: int) -> tuple[F64, F64]:
        sw = np.bincount(group, weights=w, minlength=m)
        sw2 = np.bincount(group, weights=w * w, minlength=m)
        swy = np.bincount(group, weights=w * yy, minlength=m)
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = swy / sw
            q = np.bincount(group, weights=w * (yy - centre[group]) ** 2, minlength=m)
            count = np.bincount(group, weights=ok.astype(np.float64), minlength=m)
            t2 = np.maximum((q - (count - 1.0)) / (sw - sw2 / sw), 0.0)
        return np.asarray(np.nan_to_num(t2, nan=0.0), dtype=np.float64), np.asarray(
            count, dtype=np.float64
        )

    t2_local, count = dl(parent, n_parents)
    t2_world = dl(np.zeros(len(y), np.int64), 1)[0][0]
    t2 = np.where(count >= 3, t2_local, t2_world)
    # random-effects centre of each parent; the whole map's where a parent has no data
    ws = np.where(ok, 1.0 / (np.where(ok, se, 1.0) ** 2 + t2[parent]), 0.0)
    num = np.bincount(parent, weights=ws * yy, minlength=n_parents)
    den = np.bincount(parent, weights=ws, minlength=n_parents)
    world = float(num.sum() / den.sum()) if den.sum() > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.where(den > 0, num / den, world)
    mu = centre[parent]
    tau2 = t2[parent]
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(ok, tau2 / (tau2 + se**2), 0.0)
    post = np.where(ok, mu + weight * (y - mu), mu)
    sd = np.where(ok, np.sqrt(weight) * np.where(ok, se, 0.0), np.sqrt(tau2))
    return post, sd


def _pooled_log_sd(se: F64, events: F64) -> float:
    """Typical within-area sd of log durations, from the areas with enough events.

    An area's median interval implies ``sd ≈ se·√events / 1.2533`` (the asymptotic standard
    error of a median); the median of that over areas with at least
    :data:`_MIN_EVENTS_FOR_SD` events, floored at 0.5 (1.0 when no area has enough events).
    """
    ok = np.isfinite(se) & (events >= _MIN_EVENTS_FOR_SD)
    if not ok.any():
        return 1.0
    return max(float(np.median(se[ok] * np.sqrt(events[ok]) / _MEDIAN_SE)), 0.5)


def _posterior(frame: pd.DataFrame, metric: Metric, parent: I64) -> _Posterior:
    value = frame[metric.value].to_numpy(dtype=np.float64, na_value=np.nan)
    count = frame[metric.count].to_numpy(dtype=np.float64, na_value=np.nan)
    count = np.nan_to_num(count, nan=0.0)
    if metric.kind == "rate":
        return _shrink_rate(np.nan_to_num(value, nan=0.0), count, parent)
    if metric.kind == "duration":
        assert metric.lo is not None
        assert metric.hi is not None
        if metric.bound is not None and metric.bound in frame.columns:
            # median not reached (most cases still open): it exceeds the longest time seen,
            # so that time stands in for it rather than the parent's mean
            longest = frame[metric.bound].to_numpy(dtype=np.float64, na_value=np.nan)
            stand_in = np.isnan(value) & (longest > 0)
            value = np.where(stand_in, longest, value)
            if metric.total is not None and metric.total in frame.columns:
                cases = frame[metric.total].to_numpy(dtype=np.float64, na_value=0.0)
                count = np.where(stand_in, np.maximum(count, cases), count)
        median = np.maximum(value, _MIN_HOURS)
        lo = np.log(
            np.maximum(frame[metric.lo].to_numpy(dtype=np.float64, na_value=np.nan), _MIN_HOURS)
        )
        hi = np.log(
            np.maximum(frame[metric.hi].to_numpy(dtype=np.float64, na_value=np.nan), _MIN_HOURS)
        )
        y = np.log(median)
        with np.errstate(invalid="ignore", divide="ignore"):
            se = np.where(
                np.isfinite(hi) & np.isfinite(lo),
                (hi - lo) / (2.0 * _Z95),
                np.where(np.isfinite(lo), (y - lo) / _Z95, np.nan),
            )
            # a handful of cases says little about its own spread: no area's standard error
            # is taken below what the typical within-area spread of log durations implies
            floor = _MEDIAN_SE * _pooled_log_sd(se, count) / np.sqrt(np.maximum(count, 1.0))
            se = np.fmax(se, floor)
        post, sd = _shrink_normal(y, se, parent)
        return _Posterior(raw=value, estimate=np.exp(post), kind="duration", a=post, b=sd)
    assert metric.spread is not None
    spread = frame[metric.spread].to_numpy(dtype=np.float64, na_value=np.nan)
    dof = np.maximum(count - 1.0, 0.0)
    n_parents = int(parent.max()) + 1 if len(parent) else 0
    good = np.isfinite(spread) & (dof > 0)
    ss = np.bincount(parent, weights=np.where(good, dof * spread**2, 0.0), minlength=n_parents)
    dd = np.bincount(parent, weights=np.where(good, dof, 0.0), minlength=n_parents)
    world_sd = np.sqrt(ss.sum() / dd.sum()) if dd.sum() > 0 else 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = np.where(dd > 0, np.sqrt(ss / dd), world_sd)
        se = np.where(count > 0, pooled[parent] / np.sqrt(count), np.nan)
    post, sd = _shrink_normal(value, se, parent)
    return _Posterior(raw=value, estimate=post, kind="mean", a=post, b=sd)


# --- ranks ----------------------------------------------------------------------------------
def _ranks(score: F64) -> F64:
    """Ranks of each row (1 = highest score), ties sharing the best rank."""
    return np.asarray(
        pd.Series(score).rank(ascending=False, method="min").to_numpy(), dtype=np.float64
    )


def _draw_ranks(draws: F64) -> I64:
    """Ranks (1 = highest) within each row of a (draws, areas) matrix, ties sharing the best."""
    from scipy.stats import rankdata

    return np.asarray(rankdata(-draws, method="min", axis=1), dtype=np.int64)


def _interval(values: F64, axis: int = 0) -> tuple[F64, F64]:
    lo = np.quantile(values, 0.05, axis=axis, method="lower")
    hi = np.quantile(values, 0.95, axis=axis, method="higher")
    return np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)


# --- inputs -------------------------------------------------------------------------------
def _level_column(level: str) -> str:
    if level in s.LEVEL_CODE_COLUMN:
        return s.LEVEL_CODE_COLUMN[level]
    if level in s.LEVEL_CODE_COLUMN.values():
        return level
    msg = (
        f"level {level!r} is not an area level; use one of {list(s.LEVEL_CODE_COLUMN)} "
        "or a code column such as 'district_code'."
    )
    raise InputError(msg)


def _parent_column(frame: pd.DataFrame, level_col: str) -> str | None:
    order = list(k.AREA_COLUMNS)
    for col in order[order.index(level_col) + 1 :]:
        if col in frame.columns and frame[col].notna().any():
            return col
    return None


def _area_frame(
    data: pd.DataFrame, level_col: str, kpis_options: Mapping[str, object] | None
) -> tuple[pd.DataFrame, str | None]:
    if not isinstance(data, pd.DataFrame):
        msg = f"rank_areas needs a DataFrame of cases or of KPIs, got {type(data).__name__}."
        raise InputError(msg)
    if level_col not in data.columns:
        msg = f"the frame has no {level_col!r} column; pass cases or KPIs grouped by it."
        raise InputError(msg)
    parent = _parent_column(data, level_col)
    if s.CREATED_AT in data.columns:  # cases: compute the KPIs per area
        by = [level_col] + ([parent] if parent else [])
        options = dict(kpis_options or {})
        options.pop("period", None)
        options.pop("by", None)
        frame = k.kpis(data, by=by, period=None, **options)  # type: ignore[arg-type]
    else:
        frame = data
        if k.PERIOD in frame.columns and frame[k.PERIOD].nunique(dropna=False) > 1:
            msg = (
                "the KPI frame holds several periods; rank one period (filter it) or compute "
                "the KPIs with period=None."
            )
            raise InputError(msg)
    frame = frame[frame[level_col].notna()]
    if frame.empty:
        msg = (
            f"no case or KPI row has a {level_col!r}; this city may lack that level, so rank "
            "another level (the levels present come from the boundary layer)."
        )
        raise InputError(msg)
    if frame[level_col].duplicated().any():
        msg = (
            f"the KPI frame has several rows per {level_col!r}; compute the KPIs by the area "
            "(and its parent) only."
        )
        raise InputError(msg)
    return frame.reset_index(drop=True), parent


def validate_weights(weights: Mapping[str, float] | None = None) -> dict[str, float]:
    """Check composite weights and return them as a plain dict (zero weights dropped).

    Parameters
    ----------
    weights : mapping of str to float, optional
        Metric name (a key of :data:`METRICS`) to weight; default :data:`DEFAULT_WEIGHTS`.
        Weights must be finite, non-negative and sum to 1, so each one reads as the
        component's share of the index.

    Returns
    -------
    dict of str to float

    Raises
    ------
    InputError
        If a name is not a known metric, a weight is negative or not a number, or the
        weights do not sum to 1.

    Examples
    --------
    >>> validate_weights({"sla_compliance": 0.5, "objection_rate": 0.5, "satisfaction": 0})
    {'sla_compliance': 0.5, 'objection_rate': 0.5}
    """
    chosen = dict(DEFAULT_WEIGHTS if weights is None else weights)
    if not chosen:
        msg = f"weights are empty; give at least one metric from {list(METRICS)}."
        raise InputError(msg)
    unknown = [m for m in chosen if m not in METRICS]
    if unknown:
        msg = f"weights name unknown metrics {unknown}; use names from {list(METRICS)}."
        raise InputError(msg)
    bad = {
        m: w
        for m, w in chosen.items()
        if isinstance(w, bool) or not isinstance(w, int | float) or not np.isfinite(w) or w < 0
    }
    if bad:
        msg = f"weights must be non-negative numbers, got {bad}."
        raise InputError(msg)
    total = float(sum(chosen.values()))
    if abs(total - 1.0) > _WEIGHT_TOL:
        msg = (
            f"weights must sum to 1 (each is its metric's share of the index), they sum to "
            f"{total:g}; divide each by {total:g}."
        )
        raise InputError(msg)
    return {m: float(w) for m, w in chosen.items() if w > 0}


def _metric_list(metric: str, weights: Mapping[str, float] | None) -> dict[str, float]:
    if metric != COMPOSITE:
        if metric not in METRICS:
            msg = f"metric {metric!r} is unknown; use one of {[*METRICS, COMPOSITE]}."
            raise InputError(msg)
        if weights is not None:
            msg = f"weights apply to metric='composite' only, not to {metric!r}; drop them."
            raise InputError(msg)
        return {metric: 1.0}
    return validate_weights(weights)


def _check_columns(frame: pd.DataFrame, metrics: Mapping[str, float]) -> None:
    needed = {k.VOLUME}
    for name in metrics:
        m = METRICS[name]
        needed |= {c for c in (m.value, m.count, m.lo, m.hi, m.spread) if c is not None}
    missing = sorted(needed - set(frame.columns))
    if missing:
        msg = f"the KPI frame lacks {missing}; pass the output of analytics.kpis() or cases."
        raise InputError(msg)


# --- public API ----------------------------------------------------------------------------
def rank_areas(
    kpis_or_cases: pd.DataFrame,
    metric: str = COMPOSITE,
    level: str = s.LEVEL_NEIGHBORHOOD,
    *,
    min_volume: int = 30,
    weights: Mapping[str, float] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    kpis_options: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Rank areas fairly: shrink small areas toward their parent, give every rank an interval.

    Parameters
    ----------
    kpis_or_cases : pandas.DataFrame
        Canonical cases (then the KPIs are computed per area and parent, with
        ``period=None``), or the output of :func:`analytics.kpis.kpis` with one row per area
        (grouped by the level's code column and, for shrinkage toward the parent, the
        parent's code column).
    metric : str
        ``"composite"`` (default) or one of :data:`METRICS`: ``sla_compliance``,
        ``sla_compliance_wall``, ``objection_rate``, ``reopen_rate``, ``overdue_share``,
        ``survey_response_rate``, ``close_median``, ``response_median``, ``satisfaction``.
    level : str
        ``"neighborhood"``, ``"district"``, ``"region"`` or the code column itself.
    min_volume : int
        Areas with fewer cases are listed as ``"not enough cases"`` without a rank.
    weights : mapping of str to float, optional
        Weights of the composite index (default :data:`DEFAULT_WEIGHTS`).
    n_boot : int
        Posterior draws for the rank intervals.
    seed : int
        Seed of the draws (results are reproducible).
    kpis_options : mapping, optional
        Keyword arguments for :func:`analytics.kpis.kpis` when cases are given (``as_of``,
        ``sla``, ``working_calendar`` …).

    Returns
    -------
    pandas.DataFrame
        One row per area, ranked areas first (best first): the level's code column, the
        parent's code column (when there is one), ``volume``, ``metric``, ``raw`` (the
        area's own figure; for a duration whose median is not reached, the longest time
        seen, a lower bound), ``estimate`` (shrunk; for the composite, the index, higher is
        better), ``estimate_lo`` and ``estimate_hi`` (5–95 % posterior interval),
        ``higher_is_better``, ``rank`` (1 = best), ``rank_lo``, ``rank_hi`` (5–95 %),
        ``n_ranked`` and ``status`` (``"ranked"``, ``"not enough cases"`` or ``"no data"``).
        For the composite, each component's shrunk estimate is added as ``<metric>``.

    Raises
    ------
    InputError
        If the level, metric or weights are unknown, or the frame lacks needed columns.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "neighborhood_code": ["101", "102", "103", "104"],
    ...     "region_code": ["1"] * 4,
    ...     "volume": [400, 420, 380, 4],
    ...     "objected": [80, 60, 100, 0],
    ...     "answered": [400, 420, 380, 4],
    ... })
    >>> out = rank_areas(frame, "objection_rate", min_volume=1)
    >>> out["neighborhood_code"].tolist()  # 104 has no objection, but only 4 cases
    ['102', '104', '101', '103']
    >>> out["rank"].tolist()
    [1.0, 2.0, 3.0, 4.0]
    """
    level_col = _level_column(level)
    metrics = _metric_list(metric, weights)
    if n_boot < 10:
        msg = f"n_boot must be at least 10 for 5-95 % intervals, got {n_boot}."
        raise InputError(msg)
    frame, parent_col = _area_frame(kpis_or_cases, level_col, kpis_options)
    _check_columns(frame, metrics)
    n_areas = len(frame)
    if parent_col is not None and parent_col in frame.columns:
        parent = pd.factorize(frame[parent_col], use_na_sentinel=False)[0].astype(np.int64)
    else:
        parent = np.zeros(n_areas, np.int64)
    volume = frame[k.VOLUME].to_numpy(dtype=np.float64, na_value=0.0)
    eligible = volume >= min_volume
    posts = {name: _posterior(frame, METRICS[name], parent) for name in metrics}
    posts_data = {name: np.isfinite(post.raw) for name, post in posts.items()}
    rng = np.random.default_rng(seed)
    out = pd.DataFrame({level_col: frame[level_col].to_numpy()})
    if parent_col is not None and parent_col in frame.columns:
        out[parent_col] = frame[parent_col].to_numpy()
    out[k.VOLUME] = frame[k.VOLUME].to_numpy()
    out["metric"] = metric

    if metric != COMPOSITE:
        m = METRICS[metric]
        post = posts[metric]
        sign = 1.0 if m.higher_is_better else -1.0
        working = post.working()
        has = eligible & np.isfinite(working) & posts_data[metric]
        draws = post.draw(rng, n_boot)
        est_lo, est_hi = _interval(draws)
        if m.kind == "duration":
            est_lo, est_hi = np.exp(est_lo), np.exp(est_hi)
        out["raw"] = post.raw
        out["estimate"] = post.estimate
        out["estimate_lo"], out["estimate_hi"] = est_lo, est_hi
        score, score_draws = sign * working, sign * draws
        out["higher_is_better"] = m.higher_is_better
    else:
        score, score_draws, raw_score = _composite(posts, metrics, eligible, rng, n_boot, frame)
        with_data = np.logical_or.reduce([posts_data[name] for name in metrics])
        has = eligible & np.isfinite(score) & with_data
        out["raw"] = raw_score
        out["estimate"] = score
        out["estimate_lo"], out["estimate_hi"] = _interval(score_draws)
        out["higher_is_better"] = True
        for name, post in posts.items():
            out[name] = post.estimate

    rank = np.full(n_areas, np.nan)
    rank_lo = np.full(n_areas, np.nan)
    rank_hi = np.full(n_areas, np.nan)
    idx = np.flatnonzero(has)
    if len(idx):
        rank[idx] = _ranks(score[idx])
        lo, hi = _interval(_draw_ranks(score_draws[:, idx]).astype(np.float64))
        # the point rank lies in its interval even when the estimates tie (tiny posterior
        # spread breaks the tie differently in every draw)
        rank_lo[idx] = np.minimum(lo, rank[idx])
        rank_hi[idx] = np.maximum(hi, rank[idx])
    out["rank"], out["rank_lo"], out["rank_hi"] = rank, rank_lo, rank_hi
    out["n_ranked"] = len(idx)
    out["status"] = np.where(has, RANKED, np.where(eligible, NO_DATA, NOT_ENOUGH))
    order = np.lexsort((-volume, np.nan_to_num(rank, nan=np.inf), ~has))
    return out.iloc[order].reset_index(drop=True)


def _composite(
    posts: Mapping[str, _Posterior],
    metrics: Mapping[str, float],
    eligible: npt.NDArray[np.bool_],
    rng: np.random.Generator,
    n_boot: int,
    frame: pd.DataFrame,
) -> tuple[F64, F64, F64]:
    """Weighted mean of signed z-scores: point, draws (n_boot, areas), and the raw version."""
    total = sum(metrics.values())
    n = len(eligible)
    score = np.zeros(n)
    raw_score = np.zeros(n)
    draws = np.zeros((n_boot, n))
    for name, weight in metrics.items():
        m = METRICS[name]
        post = posts[name]
        sign = 1.0 if m.higher_is_better else -1.0
        working = post.working()
        raw = post.raw if m.kind != "duration" else np.log(np.maximum(post.raw, _MIN_HOURS))
        ref = working[eligible & np.isfinite(working)]
        ref_raw = raw[eligible & np.isfinite(raw)]
        centre = float(ref.mean()) if len(ref) else 0.0
        # the spread of the raw figures: a component that shrinkage flattened (mostly noise)
        # keeps small differences instead of being blown back up to unit variance
        spread = float(ref_raw.std()) if len(ref_raw) > 1 else 0.0
        if not spread > 0:
            spread = float(ref.std()) if len(ref) > 1 and ref.std() > 0 else 1.0
        share = weight / total
        z = np.nan_to_num(sign * (working - centre) / spread, nan=0.0)
        score += share * z
        raw_score += share * np.nan_to_num(sign * (raw - centre) / spread, nan=0.0)
        draws += share * np.nan_to_num(sign * (post.draw(rng, n_boot) - centre) / spread, nan=0.0)
    return score, draws, raw_score
