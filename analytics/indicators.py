"""Honest KPIs of 137 cases by area, period, category, kind, channel or unit.

:func:`kpis` returns one tidy row per group (and period) with volume, the open backlog at the
period's end (with age buckets and the overdue share), time to first response and to close
(Kaplan–Meier median and p90 with confidence intervals, still-open cases censored, beside the
naive closed-only median), SLA compliance in working and in wall-clock time, reopen and
objection rates with Wilson intervals, and satisfaction. :func:`backlog_series` gives the open
backlog at every period end.

Everything is computed with numpy reductions over integer group numbers (one sort per duration
KPI, bincounts for the rest), so 5 million cases cost seconds, not a Python loop per group.

Definitions
-----------
as-of instant
    ``as_of`` (default: the latest timestamp in the data). Cases created after it are left
    out, and anything that happened after it (a close, a first response) is treated as not
    having happened yet: the KPIs are what one would have seen at ``as_of``.
close instant
    ``closed_at``. A case in a terminal status (closed, rejected, duplicate) without a
    ``closed_at`` has no known close instant; it is left out of the backlog and of the time to
    close (it is still counted in volume and in the rates). A reopened case carries the
    ``closed_at`` of its last close, null while it is open again; without case events there
    is no reopen instant, so a case reopened and still open counts as open since its
    creation (also at period ends between its first close and its reopening).
period of a case
    The period (of the chosen calendar, in Asia/Tehran local time) in which it was created.
    Durations, SLA and rates describe the cases *created* in a period (a cohort).
backlog at a period end
    The cases open at instant ``T`` = the last instant of the period (or ``as_of`` if earlier):
    ``created_at <= T`` and not closed by then (``closed_at`` null or ``> T``), whatever period
    they were created in. Age buckets use ``T − created_at``: < 1 week, 1–4 weeks, 4–8 weeks,
    > 8 weeks; overdue means ``due_at < T``.
time to first response
    ``first_response_at − created_at``; a case closed without a recorded first response
    counts its close as the first response. Cases with neither are censored at ``as_of``.
time to close
    ``closed_at − created_at``; open cases are censored at ``as_of``.
SLA compliance
    Among cases whose outcome is known (closed, or open and already past the target), the
    share closed within the category's target hours (``data/sla.yaml`` or ``sla=``), counted
    in working time (Iranian calendar, :mod:`analytics.working_time`) and in wall-clock time.
    Open cases still within their target are not counted yet. A subcategory's target wins
    over its category's. By default a working day counts all its 24 hours and Fridays and
    official holidays (``data/holidays.yaml``) count none; pass
    ``working_calendar=iran_calendar(office_hours=(7.5, 14.5), thursday="half")`` for office
    hours.
reopen rate
    Cases with ``reopen_count > 0`` among cases ever closed (closed or reopened).
objection rate
    ``citizen_feedback == "objected"`` (SMS 33) among answered cases (a feedback was given,
    the status is answered or closed, or the case has a close instant).
satisfaction
    Mean (and standard deviation) of the survey scores (1–5); the survey response rate is
    the share of answered cases with a score.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from analytics.periods import (
    TEHRAN,
    Calendar,
    Freq,
    check_freq,
    local_days,
    period_grid,
    period_keys_of_days,
    utc_ns,
)
from analytics.rates import proportion, wilson_interval
from analytics.survival import km_quantiles_ticks
from analytics.working_time import WorkingCalendar, iran_calendar, working_hours_ns
from geo.errors import InputError
from ingest import schema as s

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

# --- output columns ------------------------------------------------------------------------
PERIOD: Final = "period"
PERIOD_START: Final = "period_start"
PERIOD_END: Final = "period_end"
VOLUME: Final = "volume"
POPULATION: Final = s.POPULATION
VOLUME_PER_1000: Final = "volume_per_1000"
BACKLOG: Final = "backlog"
BACKLOG_AGE_COLUMNS: Final = ("backlog_lt_1w", "backlog_1_4w", "backlog_4_8w", "backlog_gt_8w")
BACKLOG_OVERDUE: Final = "backlog_overdue"
OVERDUE_SHARE: Final = "overdue_share"
RESPONSE: Final = "response"
CLOSE: Final = "close"
#: Suffixes of the duration columns, after the prefix ``response_`` or ``close_`` (hours).
DURATION_SUFFIXES: Final = (
    "n",
    "events",
    "median_h",
    "median_lo_h",
    "median_hi_h",
    "p90_h",
    "p90_lo_h",
    "p90_hi_h",
    "naive_median_h",
    "max_h",
)
SLA_N_WORKING: Final = "sla_n_working"
SLA_MET_WORKING: Final = "sla_met_working"
SLA_WORKING: Final = "sla_working"
SLA_N_WALL: Final = "sla_n_wall"
SLA_MET_WALL: Final = "sla_met_wall"
SLA_WALL: Final = "sla_wall"
REOPEN_N: Final = "reopen_n"
REOPENED: Final = "reopened"
REOPEN_RATE: Final = "reopen_rate"
ANSWERED: Final = "answered"
OBJECTED: Final = "objected"
OBJECTION_RATE: Final = "objection_rate"
SATISFACTION_N: Final = "satisfaction_n"
SATISFACTION_MEAN: Final = "satisfaction_mean"
SATISFACTION_SD: Final = "satisfaction_sd"
SURVEY_RESPONSE_RATE: Final = "survey_response_rate"

#: Area code columns from the finest to the coarsest (population is keyed by the finest in by).
AREA_COLUMNS: Final = (s.NEIGHBORHOOD_CODE, s.DISTRICT_CODE, s.REGION_CODE)
#: Target hours for a category that the SLA file does not list.
DEFAULT_SLA_HOURS: Final = 72.0
#: The SLA targets shipped with the project (category -> target hours).
DEFAULT_SLA_PATH: Final = Path(__file__).resolve().parents[1] / "data" / "sla.yaml"
AGE_BUCKET_DAYS: Final = (7, 28, 56)

_NAT: Final = np.iinfo(np.int64).min
_YAML_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present
_SECOND_NS: Final = 10**9
_HOUR_NS: Final = 3600 * 10**9
_DAY_NS: Final = 86_400 * 10**9
_MAX_CELLS: Final = 30_000_000
_BIN_NS: Final = 15 * 60 * 10**9
_MAX_BINS: Final = 4_000_000
_ANSWERED_STATUSES: Final = ("answered", "closed")
_OBJECTED: Final = "objected"
_ACCEPTED: Final = "accepted"


# --- SLA targets ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SlaTargets:
    """Target hours per category and subcategory, with a default for the rest.

    A subcategory's target wins over its category's.
    """

    hours: Mapping[str, float]
    default: float = DEFAULT_SLA_HOURS
    sub_hours: Mapping[str, float] = field(default_factory=dict)

    def for_categories(self, categories: Sequence[object]) -> F64:
        """Return the target hours of each category (the default where not listed)."""
        return np.array(
            [float(self.hours.get(str(c), self.default)) for c in categories], dtype=np.float64
        )

    def for_subcategories(self, subcategories: Sequence[object]) -> F64:
        """Return the target hours of each subcategory (NaN where not listed)."""
        return np.array(
            [float(self.sub_hours.get(str(c), np.nan)) for c in subcategories], dtype=np.float64
        )


_HOUR_KEYS: Final = ("target_hours", "hours", "working_hours", "target_h", "sla_hours", "target")
_NEST_KEYS: Final = ("targets", "categories", "sla", "sla_hours")
_SUB_KEYS: Final = ("subcategories",)
_DEFAULT_KEYS: Final = ("default", "*", "_default", "default_hours")
_META_KEYS: Final = ("version", "description", "unit", "units", "clock", *_SUB_KEYS)


def load_sla_targets(sla: str | Path | Mapping[str, object] | None = None) -> SlaTargets:
    """Read SLA target hours per category (and subcategory).

    Parameters
    ----------
    sla : path, mapping or None
        ``None`` reads the project's ``data/sla.yaml`` when it exists (else every category
        gets :data:`DEFAULT_SLA_HOURS`). A path reads that YAML file. A mapping is used as
        is. Either maps category -> hours, or category -> ``{target_hours: ...}`` (also
        ``hours``); the map may sit under a ``categories`` (or ``targets``) key, a
        ``subcategories`` map gives targets that win over their category's, and a
        ``default`` (or ``default_hours``) entry sets the hours of anything unlisted.

    Returns
    -------
    SlaTargets

    Raises
    ------
    InputError
        If the file is missing (when given explicitly), not YAML, or a target is not a
        positive number.

    Examples
    --------
    >>> t = load_sla_targets({"waste": 24, "default": 48})
    >>> t.for_categories(["waste", "lighting"]).tolist()
    [24.0, 48.0]
    """
    where = "sla mapping"
    if sla is None:
        if not DEFAULT_SLA_PATH.exists():
            return SlaTargets(hours={})
        sla = DEFAULT_SLA_PATH
    if isinstance(sla, str | Path):
        path = Path(sla)
        where = str(path)
        if not path.exists():
            msg = f"SLA file {path} does not exist; pass an existing YAML file, a mapping or None."
            raise InputError(msg)
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
        except yaml.YAMLError as exc:
            msg = f"SLA file {path} is not valid YAML ({exc}); fix its syntax."
            raise InputError(msg) from exc
    else:
        data = sla
    if not isinstance(data, Mapping):
        msg = f"{where} must map category -> target hours, got {type(data).__name__}."
        raise InputError(msg)
    default = DEFAULT_SLA_HOURS
    for key in _DEFAULT_KEYS:
        if key in data:
            default = _hours(data[key], where, str(key))
    sub: dict[str, float] = {}
    for key in _SUB_KEYS:
        if isinstance(data.get(key), Mapping):
            sub = {str(k): _hours(v, where, f"{key}.{k}") for k, v in data[key].items()}
    top = data
    for key in _NEST_KEYS:
        if isinstance(data.get(key), Mapping):
            top = data[key]
            for dkey in _DEFAULT_KEYS:
                if dkey in top:
                    default = _hours(top[dkey], where, str(dkey))
            break
    hours = {
        str(cat): _hours(value, where, str(cat))
        for cat, value in top.items()
        if cat not in _DEFAULT_KEYS and cat not in _META_KEYS
    }
    return SlaTargets(hours=hours, default=default, sub_hours=sub)


def _hours(value: object, where: str, key: str) -> float:
    if isinstance(value, Mapping):
        for hk in _HOUR_KEYS:
            if hk in value:
                return _hours(value[hk], where, key)
        if "days" in value:
            return _hours(value["days"], where, key) * 24.0
        msg = f"{where}: entry {key!r} has no target hours (expected one of {_HOUR_KEYS})."
        raise InputError(msg)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        msg = f"{where}: target of {key!r} must be a positive number of hours, got {value!r}."
        raise InputError(msg)
    return float(value)


# --- inputs --------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Cases:
    """The arrays the KPIs need, for the cases created at or before ``as_of``."""

    keep: B | None  # rows of the input frame used (None: all)
    created: I64
    closed: I64  # NaT where not closed by as_of
    first: I64  # first response (or close), NaT where none by as_of
    due: I64
    gone: B  # terminal without a close instant: no backlog, no time to close
    as_of: int


def _codes_isin(values: pd.Series, wanted: Sequence[str]) -> B:
    """Boolean ``values.isin(wanted)``, via the categories when the column is categorical."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = values.cat.categories
        hit = np.flatnonzero(cats.isin(list(wanted)))
        codes = values.cat.codes.to_numpy()
        if len(hit) == 1:
            return np.asarray(codes == hit[0])
        return np.isin(codes, hit)
    return np.asarray(values.isin(list(wanted)).to_numpy(dtype=bool))


def _column(cases: pd.DataFrame, name: str) -> pd.Series | None:
    return cases[name] if name in cases.columns else None


def _timestamps(cases: pd.DataFrame, name: str) -> I64:
    col = _column(cases, name)
    if col is None:
        return np.full(len(cases), _NAT, dtype=np.int64)
    return utc_ns(col, name=name)


def _as_of_ns(as_of: object, cases: pd.DataFrame, created: I64, tz: str) -> int:
    if as_of is not None:
        try:
            ts = pd.Timestamp(as_of)  # type: ignore[arg-type]
        except (TypeError, ValueError) as exc:
            msg = f"as_of {as_of!r} is not a timestamp; pass e.g. '2024-10-01T00:00+03:30'."
            raise InputError(msg) from exc
        if pd.isna(ts):
            msg = "as_of is missing (NaT); pass an instant or None for the latest in the data."
            raise InputError(msg)
        if ts.tzinfo is None:
            ts = ts.tz_localize(tz)
        return int(ts.tz_convert("UTC").as_unit("ns").value)
    latest = [created]
    for name in (s.FIRST_RESPONSE_AT, s.CLOSED_AT):
        latest.append(_timestamps(cases, name))
    values = np.concatenate([a[a != _NAT] for a in latest])
    if not len(values):
        msg = "cases have no created_at timestamps; pass cases with created_at or an as_of."
        raise InputError(msg)
    return int(values.max())


def _prepare(cases: pd.DataFrame, as_of: object, tz: str) -> _Cases:
    created = _timestamps(cases, s.CREATED_AT)
    as_of_ns = _as_of_ns(as_of, cases, created, tz)
    closed_raw = _timestamps(cases, s.CLOSED_AT)
    first_raw = _timestamps(cases, s.FIRST_RESPONSE_AT)
    due = _timestamps(cases, s.DUE_AT)
    status = _column(cases, s.STATUS)
    terminal = (
        _codes_isin(status, s.TERMINAL_STATUSES)
        if status is not None
        else np.zeros(len(cases), bool)
    )
    keep_mask = (created != _NAT) & (created <= as_of_ns)
    keep = None if keep_mask.all() else keep_mask
    if keep is not None:
        created, closed_raw, first_raw = created[keep], closed_raw[keep], first_raw[keep]
        due, terminal = due[keep], terminal[keep]
    closed = np.where(closed_raw > as_of_ns, _NAT, closed_raw)
    first = np.where(first_raw == _NAT, closed_raw, first_raw)
    first = np.where(first > as_of_ns, _NAT, first)
    gone = terminal & (closed_raw == _NAT)
    return _Cases(keep, created, closed, first, due, gone, as_of_ns)


def _factorize(values: pd.Series, keep: B | None) -> tuple[I64, pd.Index, bool]:
    """Return (codes with nulls as len(uniques), uniques, categorical?) of a by column."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        uniques = pd.Index(values.cat.categories)
        categorical = True
    else:
        raw, uniq = pd.factorize(values, use_na_sentinel=True)
        codes, uniques, categorical = raw.astype(np.int64), pd.Index(uniq), False
    if keep is not None:
        codes = codes[keep]
    codes[codes < 0] = len(uniques)
    return codes, uniques, categorical


@dataclass(frozen=True)
class _Groups:
    gid: I64  # group number of each kept row
    n_groups: int
    keys: pd.DataFrame  # one row per group: the by columns


def _groups(cases: pd.DataFrame, by: Sequence[str], keep: B | None, n_rows: int) -> _Groups:
    if not by:
        return _Groups(np.zeros(n_rows, np.int64), 1, pd.DataFrame(index=range(1)))
    parts = [_factorize(cases[col], keep) for col in by]
    radix = [len(u) + 1 for _, u, _ in parts]
    key = np.zeros(n_rows, np.int64)
    for (codes, _, _), r in zip(parts, radix, strict=True):
        key = key * r + codes
    total = int(np.prod(radix, dtype=np.float64))
    if total <= _MAX_CELLS:
        present = np.bincount(key, minlength=total) > 0
        uniq_keys = np.flatnonzero(present)
        remap = np.cumsum(present) - 1
        gid = remap[key]
    else:
        uniq_keys, inverse = np.unique(key, return_inverse=True)
        gid = inverse.astype(np.int64)
    columns: dict[str, pd.Series | pd.Categorical | pd.Index] = {}
    rest = uniq_keys.copy()
    decoded = []
    for r in reversed(radix):
        decoded.append(rest % r)
        rest //= r
    decoded.reverse()
    for col, (_, uniques, categorical), codes in zip(by, parts, decoded, strict=True):
        codes = np.where(codes == len(uniques), -1, codes)
        if categorical:
            columns[col] = pd.Categorical.from_codes(codes, dtype=cases[col].dtype)  # type: ignore[arg-type]
        else:
            if not len(uniques):  # the column is all null
                columns[col] = pd.Series(np.full(len(codes), None, dtype=object))
                continue
            series = pd.Series(uniques.take(np.where(codes < 0, 0, codes)), dtype=uniques.dtype)
            columns[col] = series.where(codes >= 0)
    keys = pd.DataFrame(
        {c: (v.to_numpy() if isinstance(v, pd.Series) else v) for c, v in columns.items()}
    )
    return _Groups(gid, len(uniq_keys), keys)


# --- backlog -------------------------------------------------------------------------------
def _range_counts(gid: I64, lo: I64, hi: I64, n_groups: int, n_periods: int) -> I64:
    """Count, per (group, period k), the rows whose half-open range [lo, hi) contains k."""
    width = n_periods + 1
    ok = lo < hi
    if not ok.all():
        gid, lo, hi = gid[ok], lo[ok], hi[ok]
    base = gid * width
    diff = np.bincount(base + lo, minlength=n_groups * width).astype(np.int64)
    diff -= np.bincount(base + hi, minlength=n_groups * width)
    counts: I64 = np.cumsum(diff.reshape(n_groups, width), axis=1)[:, :n_periods]
    return counts.reshape(-1)


def _searchsorted(ends: I64, x: I64, side: Literal["left", "right"]) -> I64:
    """``np.searchsorted(ends, x, side)`` for a short sorted ``ends`` and many ``x``.

    Looks each value up in a table of 15-minute bins (period ends are local midnights, which
    fall on quarter hours in UTC); values in the rare bin that holds an end inside it (the
    as-of instant) are searched exactly. About twice as fast as a binary search per value.
    """
    if not len(ends):
        return np.zeros(len(x), np.int64)
    base = (int(ends[0]) // _BIN_NS - 1) * _BIN_NS
    n_bins = (int(ends[-1]) - base) // _BIN_NS + 2
    if n_bins > _MAX_BINS:
        return np.searchsorted(ends, x, side=side).astype(np.int64)
    starts = base + np.arange(n_bins, dtype=np.int64) * _BIN_NS
    at_start = np.searchsorted(ends, starts, side=side).astype(np.int64)
    at_last = np.searchsorted(ends, starts + (_BIN_NS - 1), side=side)
    b = np.maximum(x, base)  # NaT (int64 min) lands in bin 0, before every end
    b -= base
    b //= _BIN_NS
    np.minimum(b, n_bins - 1, out=b)
    out = at_start[b]
    mixed = at_start != at_last
    if mixed.any():
        exact = mixed[b]
        if exact.any():
            out[exact] = np.searchsorted(ends, x[exact], side=side)
    return out


def _backlog(gid: I64, opened: I64, data: _Cases, ends: I64, n_groups: int) -> dict[str, I64]:
    """Open backlog at each instant of ``ends`` (sorted), per group, with ages and overdue.

    ``opened`` is the first period end at or after each case's creation (its period).
    """
    n_periods = len(ends)
    live = ~data.gone
    everyone = bool(live.all())
    g = gid if everyone else gid[live]
    opened = opened if everyone else opened[live]
    created = data.created if everyone else data.created[live]
    closed = data.closed if everyone else data.closed[live]
    due = data.due if everyone else data.due[live]
    # open at ends[k] for k in [opened, shut): created <= T and not closed by T
    shut = _searchsorted(ends, closed, "left")
    shut[closed == _NAT] = n_periods
    out = {BACKLOG: _range_counts(g, opened, shut, n_groups, n_periods)}
    edges = [opened]
    for days in AGE_BUCKET_DAYS:  # first period end at which the case is that old
        edges.append(np.maximum(opened, _searchsorted(ends, created + days * _DAY_NS, "left")))
    edges.append(shut)
    for name, lo, hi in zip(BACKLOG_AGE_COLUMNS, edges[:-1], edges[1:], strict=True):
        out[name] = _range_counts(g, lo, np.minimum(hi, shut), n_groups, n_periods)
    late = _searchsorted(ends, due, "right")  # first period end after the due instant
    late[due == _NAT] = n_periods
    out[BACKLOG_OVERDUE] = _range_counts(g, np.maximum(opened, late), shut, n_groups, n_periods)
    return out


# --- durations ----------------------------------------------------------------------------
def _duration_columns(
    prefix: str,
    cell: I64,
    start: I64,
    end: I64,
    eligible: B,
    as_of: int,
    n_cells: int,
    alpha: float,
) -> dict[str, F64 | I64]:
    """KM median and p90 (hours) of ``end − start`` per cell, open rows censored at as_of."""
    if not eligible.all():
        cell, start, end = cell[eligible], start[eligible], end[eligible]
    event = end != _NAT
    stop = np.where(event, end, as_of)
    ticks = np.maximum(stop - start, 0) // _SECOND_NS
    table = km_quantiles_ticks(cell, ticks, event, n_cells, alpha=alpha)
    out: dict[str, F64 | I64] = {
        f"{prefix}_n": table["n"].to_numpy(),
        f"{prefix}_events": table["events"].to_numpy(),
    }
    for src, dst in (
        ("p50", "median_h"),
        ("p50_lo", "median_lo_h"),
        ("p50_hi", "median_hi_h"),
        ("p90", "p90_h"),
        ("p90_lo", "p90_lo_h"),
        ("p90_hi", "p90_hi_h"),
        ("naive_p50", "naive_median_h"),
    ):
        out[f"{prefix}_{dst}"] = table[src].to_numpy() / 3600.0
    longest = np.zeros(n_cells, np.int64)
    np.maximum.at(longest, cell, ticks)
    out[f"{prefix}_max_h"] = np.where(table["n"].to_numpy() > 0, longest / 3600.0, np.nan)
    return out


# --- SLA -----------------------------------------------------------------------------------
def _sla_columns(
    cases: pd.DataFrame,
    data: _Cases,
    cell: I64,
    n_cells: int,
    targets: SlaTargets,
    calendar: WorkingCalendar,
    alpha: float,
) -> dict[str, F64 | I64]:
    target = np.full(len(cell), targets.default)
    category = _column(cases, s.CATEGORY)
    if category is not None:
        codes, uniques, _ = _factorize(category, data.keep)
        target = np.append(targets.for_categories(list(uniques)), targets.default)[codes]
    subcategory = _column(cases, s.SUBCATEGORY)
    if subcategory is not None and targets.sub_hours:
        codes, uniques, _ = _factorize(subcategory, data.keep)
        sub = np.append(targets.for_subcategories(list(uniques)), np.nan)[codes]
        target = np.where(np.isnan(sub), target, sub)
    live = ~data.gone
    closed = data.closed != _NAT
    stop = np.where(closed, data.closed, data.as_of)
    out: dict[str, F64 | I64] = {}
    elapsed_wall = (stop - data.created) / _HOUR_NS
    elapsed_work = working_hours_ns(data.created, stop, calendar)
    for suffix, elapsed, n_col, met_col in (
        ("working", elapsed_work, SLA_N_WORKING, SLA_MET_WORKING),
        ("wall", elapsed_wall, SLA_N_WALL, SLA_MET_WALL),
    ):
        known = live & (closed | (elapsed > target))
        met = known & closed & (elapsed <= target)
        n = np.bincount(cell, weights=known, minlength=n_cells).astype(np.int64)
        k = np.bincount(cell, weights=met, minlength=n_cells).astype(np.int64)
        lo, hi = wilson_interval(k, n, alpha=alpha)
        out[n_col], out[met_col] = n, k
        out[f"sla_{suffix}"] = proportion(k, n)
        out[f"sla_{suffix}_lo"], out[f"sla_{suffix}_hi"] = lo, hi
    return out


# --- rates ---------------------------------------------------------------------------------
def _rate_columns(
    cases: pd.DataFrame, data: _Cases, cell: I64, n_cells: int, alpha: float
) -> dict[str, F64 | I64]:
    def take(values: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return values if data.keep is None else values[data.keep]

    n_rows = len(cell)
    reopen_col = _column(cases, s.REOPEN_COUNT)
    reopen: F64 = np.asarray(
        take(reopen_col.to_numpy(dtype=np.float64, na_value=0.0))
        if reopen_col is not None
        else np.zeros(n_rows)
    )
    reopened = reopen > 0
    ever_closed = (data.closed != _NAT) | reopened
    status = _column(cases, s.STATUS)
    feedback = _column(cases, s.CITIZEN_FEEDBACK)
    objected = (
        take(_codes_isin(feedback, (_OBJECTED,)))
        if feedback is not None
        else np.zeros(n_rows, bool)
    )
    answered = (data.closed != _NAT) | objected
    if feedback is not None:
        answered |= take(_codes_isin(feedback, (_ACCEPTED,)))
    if status is not None:
        answered |= take(_codes_isin(status, _ANSWERED_STATUSES))
    sat_col = _column(cases, s.SATISFACTION)
    score = (
        take(sat_col.to_numpy(dtype=np.float64, na_value=np.nan))
        if sat_col is not None
        else np.full(n_rows, np.nan)
    )
    scored = ~np.isnan(score)
    answered |= scored

    def count(mask: B) -> I64:
        return np.bincount(cell, weights=mask, minlength=n_cells).astype(np.int64)

    out: dict[str, F64 | I64] = {}
    for n_col, k_col, rate_col, n_mask, k_mask in (
        (REOPEN_N, REOPENED, REOPEN_RATE, ever_closed, reopened),
        (ANSWERED, OBJECTED, OBJECTION_RATE, answered, objected & answered),
    ):
        n, k = count(n_mask), count(k_mask)
        lo, hi = wilson_interval(k, n, alpha=alpha)
        out[n_col], out[k_col], out[rate_col] = n, k, proportion(k, n)
        out[f"{rate_col}_lo"], out[f"{rate_col}_hi"] = lo, hi
    sat_n = count(scored)
    filled = np.where(scored, score, 0.0)
    sat_sum = np.bincount(cell, weights=filled, minlength=n_cells)
    sat_sq = np.bincount(cell, weights=filled * filled, minlength=n_cells)
    mean = proportion(sat_sum, sat_n)
    out[SATISFACTION_N] = sat_n
    out[SATISFACTION_MEAN] = mean
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (sat_sq - sat_n * mean * mean) / (sat_n - 1)
    out[SATISFACTION_SD] = np.where(sat_n > 1, np.sqrt(np.maximum(var, 0.0)), np.nan)
    out[SURVEY_RESPONSE_RATE] = proportion(sat_n, out[ANSWERED])
    return out


# --- periods -------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Periods:
    index: I64  # period number of each kept row (0 when no period)
    ends: I64  # the instant each period's backlog is taken at
    frame: pd.DataFrame | None  # period, period_start, period_end; None when no period


def _periods(data: _Cases, period: Freq | None, calendar: Calendar, tz: str) -> _Periods:
    if period is None:
        return _Periods(np.zeros(len(data.created), np.int64), np.array([data.as_of]), None)
    check_freq(period, calendar)
    keys = period_keys_of_days(local_days(data.created, tz), period, calendar)
    last = int(period_keys_of_days(local_days(np.array([data.as_of]), tz), period, calendar)[0])
    first = int(keys.min()) if len(keys) else last
    grid = period_grid(first, last, period, calendar, tz)
    ends = np.minimum(grid.end_ns - 1, data.as_of)
    return _Periods(keys - first, ends, grid.frame())


# --- public API ----------------------------------------------------------------------------
def _check(cases: pd.DataFrame, by: Sequence[str]) -> list[str]:
    if not isinstance(cases, pd.DataFrame):
        msg = f"cases must be a pandas DataFrame of canonical cases, got {type(cases).__name__}."
        raise InputError(msg)
    by_list = [by] if isinstance(by, str) else list(by)
    # an area level may be named by its level ("district") instead of its code column
    by_list = [s.LEVEL_CODE_COLUMN.get(c, c) for c in by_list]
    missing = [c for c in (s.CREATED_AT, *by_list) if c not in cases.columns]
    if missing:
        close = {
            c: found
            for c in missing
            if (found := difflib.get_close_matches(str(c), [str(x) for x in cases.columns], n=1))
        }
        hint = "".join(f" Did you mean {v[0]!r} for {c!r}?" for c, v in close.items())
        msg = (
            f"cases lack the column(s) {missing}.{hint} Group by existing columns such as "
            f"{s.NEIGHBORHOOD_CODE!r} (or the level name 'neighborhood'), {s.CATEGORY!r} or "
            f"{s.UNIT!r}; area codes come from geo.assign.assign_frame or the store."
        )
        raise InputError(msg)
    if len(set(by_list)) != len(by_list):
        msg = f"by lists a column twice: {by_list}."
        raise InputError(msg)
    return by_list


_COLUMN_LEVEL: Final = {column: level for level, column in s.LEVEL_CODE_COLUMN.items()}


def _population_series(population: pd.Series | pd.DataFrame, area: str | None) -> pd.Series:
    """Residents per code (float, NaN where unknown) of the level of ``area``.

    A boundary table (``level``, ``code``, ``population``) is cut to that level; without an
    area column, to the coarsest level present, whose sum is the city's population.
    """
    if isinstance(population, pd.DataFrame):
        needed = [s.LEVEL, s.CODE, s.POPULATION]
        missing = [c for c in needed if c not in population.columns]
        if missing:
            msg = (
                f"the population table lacks {missing}; pass the boundary table (level, code, "
                "population) or a Series of residents indexed by area code."
            )
            raise InputError(msg)
        levels = population[s.LEVEL].astype(str)
        if area is not None:
            level = _COLUMN_LEVEL.get(area, area)
        else:
            present = [lv for lv in s.LEVELS if (levels == lv).any()]
            level = present[0] if present else s.LEVEL_NEIGHBORHOOD
        rows = population[levels == level]
        if rows[s.CODE].astype(str).duplicated().any():
            msg = f"the population table has several rows for one {level} code; fix the table."
            raise InputError(msg)
        values, index = rows[s.POPULATION], rows[s.CODE]
    elif isinstance(population, pd.Series):
        values, index = population, population.index.to_series()
    else:
        msg = (
            "population must be the boundary table (level, code, population) or a Series of "
            f"residents indexed by area code, got {type(population).__name__}."
        )
        raise InputError(msg)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    return pd.Series(numbers, index=pd.Index(index.astype(str).to_numpy()))


def _population_column(
    keys: pd.DataFrame, by: Sequence[str], population: pd.Series | pd.DataFrame | None
) -> F64 | None:
    """Return the population of each group's area (NaN where unknown), or the city's."""
    if population is None:
        return None
    area = next((c for c in AREA_COLUMNS if c in by), None)
    pop = _population_series(population, area)
    if area is None:
        total = float(pop.sum(skipna=False)) if len(pop) else np.nan
        return np.full(len(keys), total)  # one unknown area makes the city's total unknown
    codes = keys[area].tolist()
    return np.array(
        [np.nan if pd.isna(c) else pop.get(str(c), np.nan) for c in codes], dtype=np.float64
    )


def kpis(
    cases: pd.DataFrame,
    by: Sequence[str] = (),
    period: Freq | None = "M",
    *,
    calendar: Calendar = "jalali",
    as_of: object = None,
    population: pd.Series | pd.DataFrame | None = None,
    sla: str | Path | Mapping[str, object] | None = None,
    working_calendar: WorkingCalendar | None = None,
    alpha: float = 0.05,
    tz: str = TEHRAN,
) -> pd.DataFrame:
    """Compute the KPIs of cases per group and period, in one tidy frame.

    Parameters
    ----------
    cases : pandas.DataFrame
        Canonical cases (``ingest.schema``): ``created_at`` (tz-aware) is required; the
        other lifecycle columns (``first_response_at``, ``closed_at``, ``due_at``,
        ``status``, ``citizen_feedback``, ``satisfaction``, ``reopen_count``,
        ``category``) are used when present. Not modified.
    by : sequence of str
        Columns to group by, any combination of ``neighborhood_code``, ``district_code``,
        ``region_code``, ``category``, ``subcategory``, ``kind``, ``channel``, ``unit`` (or any
        other column); a level name (``"neighborhood"``, ``"district"``, ``"region"``) stands
        for its code column. Null keys form their own group. Empty: the whole city.
    period : {"M", "W", "D"} or None
        Month, week or day of creation (local time), or None for one row per group.
    calendar : {"jalali", "gregorian"}
        Calendar of the periods; Jalali months (``"1403-07"``) by default.
    as_of : timestamp-like, optional
        The instant the KPIs describe (naive values are Tehran local time). Default: the
        latest timestamp in the data.
    population : pandas.DataFrame or pandas.Series, optional
        The boundary table (``level``, ``code``, ``population``; nullable integers) or a
        Series of residents indexed by area code (of the finest area column in ``by``).
        Adds ``population`` and ``volume_per_1000`` (NaN where the population is unknown
        or zero). Without an area column in ``by``: the city's population (the sum over
        the coarsest level; unknown if any area's is).
    sla : path, mapping or None
        SLA target hours per category (see :func:`load_sla_targets`); default
        ``data/sla.yaml``, and :data:`DEFAULT_SLA_HOURS` for unlisted categories.
    working_calendar : WorkingCalendar, optional
        Working time rules for SLA compliance; default :func:`iran_calendar` (Friday
        weekend, official holidays of ``data/holidays.yaml``).
    alpha : float
        One minus the confidence level of every interval (0.05: 95 %).
    tz : str
        Local time zone of the periods.

    Returns
    -------
    pandas.DataFrame
        One row per group and period that has cases created in it or open at its end. The
        ``by`` columns, then ``period``, ``period_start``, ``period_end`` (UTC, exclusive;
        when ``period`` is not None), ``volume``, ``population`` and ``volume_per_1000``
        (with ``population``), ``backlog`` with ``backlog_lt_1w``, ``backlog_1_4w``,
        ``backlog_4_8w``, ``backlog_gt_8w``, ``backlog_overdue``, ``overdue_share``; for
        ``response_`` and ``close_``: ``n``, ``events``, ``median_h``, ``median_lo_h``,
        ``median_hi_h``, ``p90_h``, ``p90_lo_h``, ``p90_hi_h``, ``naive_median_h`` and
        ``max_h`` (the longest time observed, closed or still open: where the median is not
        reached it is a lower bound of the median), all in hours; ``sla_n_working``,
        ``sla_met_working``, ``sla_working`` with ``_lo``/``_hi`` and the same for ``wall``;
        ``reopen_n``, ``reopened``, ``reopen_rate`` (``_lo``, ``_hi``); ``answered``,
        ``objected``, ``objection_rate`` (``_lo``, ``_hi``); ``satisfaction_n``,
        ``satisfaction_mean``, ``satisfaction_sd``, ``survey_response_rate``. The as-of
        instant is in ``attrs["as_of"]``. See the module docstring for the definitions.

    Raises
    ------
    InputError
        If a column is missing, a timestamp column is not tz-aware, or an option is invalid.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({
    ...     "created_at": pd.to_datetime(["2024-09-25T06:00Z"] * 2 + ["2024-09-26T06:00Z"]),
    ...     "closed_at": pd.to_datetime(["2024-09-25T10:00Z", "2024-09-25T16:00Z", None]),
    ...     "status": ["closed", "closed", "in_progress"],
    ... })
    >>> out = kpis(cases, as_of="2024-10-01T00:00Z", sla={"default": 72})
    >>> out[["period", "volume", "backlog", "close_median_h", "close_naive_median_h"]]
        period  volume  backlog  close_median_h  close_naive_median_h
    0  1403-07       3        1            10.0                   7.0
    """
    by_list = _check(cases, by)
    data = _prepare(cases, as_of, tz)
    n_rows = len(data.created)
    groups = _groups(cases, by_list, data.keep, n_rows)
    periods = _periods(data, period, calendar, tz)
    n_periods = len(periods.ends)
    if groups.n_groups * n_periods > _MAX_CELLS:
        msg = (
            f"{groups.n_groups} groups x {n_periods} periods is too many cells; group by fewer "
            "columns or use a longer period."
        )
        raise InputError(msg)
    n_cells = groups.n_groups * n_periods
    cell = groups.gid * n_periods + periods.index
    cols: dict[str, npt.NDArray[np.generic]] = {
        VOLUME: np.bincount(cell, minlength=n_cells).astype(np.int64)
    }
    cols.update(_backlog(groups.gid, periods.index, data, periods.ends, groups.n_groups))
    with np.errstate(divide="ignore", invalid="ignore"):
        cols[OVERDUE_SHARE] = proportion(cols[BACKLOG_OVERDUE], cols[BACKLOG])
    no_close = ~data.gone
    cols.update(
        _duration_columns(
            RESPONSE,
            cell,
            data.created,
            data.first,
            no_close | (data.first != _NAT),
            data.as_of,
            n_cells,
            alpha,
        )
    )
    cols.update(
        _duration_columns(
            CLOSE, cell, data.created, data.closed, no_close, data.as_of, n_cells, alpha
        )
    )
    calendar_w = working_calendar if working_calendar is not None else iran_calendar()
    cols.update(_sla_columns(cases, data, cell, n_cells, load_sla_targets(sla), calendar_w, alpha))
    cols.update(_rate_columns(cases, data, cell, n_cells, alpha))

    rows = np.flatnonzero((np.asarray(cols[VOLUME]) > 0) | (np.asarray(cols[BACKLOG]) > 0))
    group_of_row, period_of_row = np.divmod(rows, n_periods)
    out = groups.keys.iloc[group_of_row].reset_index(drop=True)
    if periods.frame is not None:
        pf = periods.frame.iloc[period_of_row].reset_index(drop=True)
        out = pd.concat([out, pf], axis=1)
    out[VOLUME] = cols[VOLUME][rows]
    pop = _population_column(groups.keys, by_list, population)
    if pop is not None:
        out[POPULATION] = pop[group_of_row]
        with np.errstate(divide="ignore", invalid="ignore"):
            out[VOLUME_PER_1000] = np.where(
                out[POPULATION] > 0, out[VOLUME] * 1000.0 / out[POPULATION], np.nan
            )
    for name, values in cols.items():
        if name != VOLUME:
            out[name] = values[rows]
    out.attrs["as_of"] = pd.Timestamp(data.as_of, tz="UTC")
    return out


def backlog_series(
    cases: pd.DataFrame,
    by: Sequence[str] = (),
    period: Freq = "M",
    *,
    calendar: Calendar = "jalali",
    as_of: object = None,
    tz: str = TEHRAN,
) -> pd.DataFrame:
    """Return the open backlog at every period end, per group, with ages and overdue cases.

    Parameters
    ----------
    cases : pandas.DataFrame
        Canonical cases (``created_at``, ``closed_at``, ``status``, ``due_at``); not
        modified.
    by : sequence of str
        Group columns, as in :func:`kpis`.
    period : {"M", "W", "D"}
        Month, week or day (local time).
    calendar : {"jalali", "gregorian"}
        Calendar of the periods.
    as_of : timestamp-like, optional
        The last instant; the last period's backlog is taken there. Default: the latest
        timestamp in the data.
    tz : str
        Local time zone.

    Returns
    -------
    pandas.DataFrame
        One row per group and period from the first case's period to ``as_of`` (zeros
        included): the ``by`` columns, ``period``, ``period_start``, ``period_end``, ``at``
        (the instant counted: the period's last instant, or ``as_of``), ``backlog``, the age
        buckets, ``backlog_overdue`` and ``overdue_share``.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({
    ...     "created_at": pd.to_datetime(["2024-08-25T06:00Z", "2024-09-25T06:00Z"]),
    ...     "closed_at": pd.to_datetime(["2024-09-30T10:00Z", None], utc=True),
    ...     "status": ["closed", "in_progress"],
    ... })
    >>> backlog_series(cases, as_of="2024-10-01T00:00Z")[["period", "backlog"]]
        period  backlog
    0  1403-06        1
    1  1403-07        1
    """
    by_list = _check(cases, by)
    data = _prepare(cases, as_of, tz)
    groups = _groups(cases, by_list, data.keep, len(data.created))
    periods = _periods(data, period, calendar, tz)
    n_periods = len(periods.ends)
    counts = _backlog(groups.gid, periods.index, data, periods.ends, groups.n_groups)
    rows = np.arange(groups.n_groups * n_periods)
    group_of_row, period_of_row = np.divmod(rows, n_periods)
    out = groups.keys.iloc[group_of_row].reset_index(drop=True)
    if periods.frame is not None:
        pf = periods.frame.iloc[period_of_row].reset_index(drop=True)
        out = pd.concat([out, pf], axis=1)
    out["at"] = pd.to_datetime(periods.ends[period_of_row], utc=True)
    for name, values in counts.items():
        out[name] = values
    out[OVERDUE_SHARE] = proportion(counts[BACKLOG_OVERDUE], counts[BACKLOG])
    out.attrs["as_of"] = pd.Timestamp(data.as_of, tz="UTC")
    return out
