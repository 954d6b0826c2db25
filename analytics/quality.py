"""Data-quality flags per unit and month: the signs of figures made to look good.

:func:`case_flags` marks each case; :func:`quality_flags` counts the marks per unit (or any
``by`` columns) and month (Jalali by default, in Asia/Tehran local time) and flags the months
whose counts are too high to be chance. Nothing is estimated where the data cannot say: a
statistic that needs case events is missing (``<NA>``) without them, and the output says so.

Per case
--------
quick close
    ``closed_at − created_at`` at most ``quick_close_minutes`` (10): closed within minutes of
    being opened, before anyone could have gone to look. A close *before* the creation (a
    negative time) counts too.
month-end close
    Closed (local date of ``closed_at``) in the last ``month_end_days`` (3) days of its month.
objected answer
    ``citizen_feedback == "objected"``: the citizen answered the SMS survey with 33, "not
    resolved", after the case was answered.
objection ignored
    An objected answer whose case is ``closed`` with ``reopen_count == 0`` (and no reopen
    event): closed over the citizen's objection.
reopened
    ``reopen_count > 0``, status ``reopened``, or (with events) a reopen event after a close.
referrals, bounced
    From the case events (:func:`analytics.custody.referral_custody`): the number of referrals
    to a new unit, and whether it is more than ``referral_limit`` (2). ``<NA>`` for a case
    without events.

Per group and month
-------------------
Cohort statistics describe the cases *created* in the month; the month-end statistic
describes the closures *made* in the month (whatever month the cases were created in).

quick-close share
    Quick closes among the cases closed (created in the month). Flagged when at least
    ``min_closed`` (10) cases were closed and the lower bound of the share's 95 % Wilson
    interval exceeds ``quick_close_share_max`` (5 %): a handful of cases cannot raise the
    flag, a unit that closes one case in five within minutes does.
month-end spike
    With ``n`` closures in the month, ``x`` of them in its last ``k`` days, and ``D`` days in
    the month (29–31 for Jalali months), closures spread evenly would put a share
    ``p0 = k / D`` in the last days. The statistic is the ratio ``(x / n) / p0``; its p-value
    is the one-sided binomial ``P(X ≥ x)`` for ``X ~ Binomial(n, p0)``. A month is flagged
    when ``n ≥ min_closures`` (20), the ratio is at least ``spike_ratio`` (2: twice the even
    share) and the p-value is at most ``spike_alpha`` (0.01). Only *assessed* months are
    flagged: complete by ``as_of`` and not the first month of the data (whose closures are
    of cases created during it, so they bunch toward its end by construction).
objection, reopen and bounce counts
    ``objected`` and ``objection_ignored`` among ``answered`` cases (status answered or
    closed, a close instant, or a survey answer), ``reopened`` among cases ever closed, and
    ``bounced`` among the cases with events (``referral_known``). Without events the last
    two are ``<NA>`` and ``referral_data`` reads ``"no case events"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import binom

from analytics.custody import REFERRALS, REOPENS, referral_custody
from analytics.periods import (
    NO_PERIOD,
    TEHRAN,
    Calendar,
    check_freq,
    day_start_utc,
    labels_of_keys,
    local_days,
    period_keys_of_days,
    start_day_of_keys,
    utc_ns,
)
from analytics.rates import proportion, wilson_interval
from geo.errors import InputError
from ingest import schema as s

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

# --- per-case columns ----------------------------------------------------------------------
QUICK_CLOSE: Final = "quick_close"
MONTH_END_CLOSE: Final = "month_end_close"
OBJECTED_ANSWER: Final = "objected_answer"
OBJECTION_IGNORED: Final = "objection_ignored"
REOPENED: Final = "reopened"
BOUNCED: Final = "bounced"
ANSWERED_CASE: Final = "answered"
CLOSED_CASE: Final = "closed"
EVER_CLOSED: Final = "ever_closed"
# --- per-group columns ---------------------------------------------------------------------
PERIOD: Final = "period"
VOLUME: Final = "volume"
CLOSED: Final = "closed"
QUICK_CLOSED: Final = "quick_closed"
QUICK_CLOSE_SHARE: Final = "quick_close_share"
QUICK_CLOSE_LO: Final = "quick_close_share_lo"
QUICK_CLOSE_FLAG: Final = "quick_close_flag"
CLOSURES: Final = "closures"
MONTH_END_CLOSURES: Final = "month_end_closures"
MONTH_DAYS: Final = "month_days"
MONTH_END_EXPECTED: Final = "month_end_expected_share"
MONTH_END_SHARE: Final = "month_end_share"
MONTH_END_RATIO: Final = "month_end_ratio"
MONTH_END_P: Final = "month_end_p"
MONTH_ASSESSED: Final = "month_assessed"
MONTH_END_FLAG: Final = "month_end_flag"
ANSWERED: Final = "answered"
OBJECTED: Final = "objected"
OBJECTION_SHARE: Final = "objection_share"
OBJECTION_IGNORED_N: Final = "objection_ignored"
REOPEN_N: Final = "reopen_n"
REOPENED_N: Final = "reopened"
REOPEN_SHARE: Final = "reopen_share"
REFERRAL_KNOWN: Final = "referral_known"
BOUNCED_N: Final = "bounced"
BOUNCED_SHARE: Final = "bounced_share"
REFERRAL_DATA: Final = "referral_data"
FROM_EVENTS: Final = "case events"
NO_EVENTS: Final = "no case events"
#: Columns that count flags (summed in :func:`quality_flags`).
FLAG_COLUMNS: Final = (
    QUICK_CLOSE_FLAG,
    MONTH_END_FLAG,
)

_NAT: Final = np.iinfo(np.int64).min
_MINUTE_NS: Final = 60 * 10**9
_OBJECTED: Final = "objected"
_ANSWERED_STATUSES: Final = ("answered", "closed")


def _times(cases: pd.DataFrame, name: str) -> I64:
    if name not in cases.columns:
        return np.full(len(cases), _NAT, dtype=np.int64)
    return utc_ns(cases[name], name=name)


def _is(cases: pd.DataFrame, name: str, values: Sequence[str]) -> B:
    if name not in cases.columns:
        return np.zeros(len(cases), dtype=bool)
    return np.asarray(cases[name].isin(list(values)), dtype=bool)


def _reopen_counts(cases: pd.DataFrame) -> I64:
    if s.REOPEN_COUNT not in cases.columns:
        return np.zeros(len(cases), dtype=np.int64)
    counts = pd.to_numeric(cases[s.REOPEN_COUNT], errors="coerce")
    return np.asarray(counts.fillna(0).to_numpy(dtype=np.float64), dtype=np.int64)


def _month_end(closed: I64, days: int, calendar: Calendar, tz: str) -> tuple[B, I64, I64]:
    """Return month-end closes, each close's month key, and the month's length in days.

    A close is a month-end close in its month's last ``days`` local days. Where there is no
    close: False, ``NO_PERIOD`` and 0.
    """
    valid = closed != _NAT
    local = local_days(closed, tz)
    keys = period_keys_of_days(local, "M", calendar)
    in_end = np.zeros(len(closed), dtype=bool)
    length = np.zeros(len(closed), dtype=np.int64)
    if valid.any():
        uniq, inverse = np.unique(keys[valid], return_inverse=True)
        starts = start_day_of_keys(uniq, "M", calendar)
        nexts = start_day_of_keys(uniq + 1, "M", calendar)
        length[valid] = (nexts - starts)[inverse]
        in_end[valid] = local[valid] >= nexts[inverse] - days
    return in_end, np.where(valid, keys, NO_PERIOD), length


def _events_per_case(cases: pd.DataFrame, events: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Referrals and reopens from the events, aligned with ``cases`` (``<NA>``: no events)."""
    per_case = referral_custody(events).cases
    if s.SOURCE in cases.columns and s.SOURCE in events.columns:
        left = [cases[s.SOURCE].astype("string"), cases[s.CASE_ID].astype("string")]
        keys = per_case[[s.SOURCE, s.CASE_ID]].astype("string")
    else:
        left = [cases[s.CASE_ID].astype("string")]
        keys = per_case[[s.CASE_ID]].astype("string")
    index = pd.MultiIndex.from_frame(keys) if keys.shape[1] > 1 else pd.Index(keys[s.CASE_ID])
    target = pd.MultiIndex.from_arrays(left) if len(left) > 1 else pd.Index(left[0])
    position = index.get_indexer(target)
    found = position >= 0
    out = []
    for column in (REFERRALS, REOPENS):
        values = np.zeros(len(cases), dtype=np.int64)
        values[found] = per_case[column].to_numpy(dtype=np.int64)[position[found]]
        out.append(pd.Series(pd.array(np.where(found, values, 0), dtype="Int64")).where(found))
    referrals, reopens = out
    return referrals.set_axis(cases.index), reopens.set_axis(cases.index)


def case_flags(
    cases: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    quick_close_minutes: float = 10.0,
    month_end_days: int = 3,
    referral_limit: int = 2,
    calendar: Calendar = "jalali",
    tz: str = TEHRAN,
) -> pd.DataFrame:
    """Mark each case with the data-quality signs of the module docstring.

    Parameters
    ----------
    cases : pandas.DataFrame
        Canonical cases: ``case_id`` and ``created_at`` required; ``closed_at``, ``status``,
        ``citizen_feedback``, ``reopen_count`` and ``source`` used when present. Not
        modified.
    events : pandas.DataFrame, optional
        Case events (:data:`ingest.schema.EVENT_COLUMNS`). Without them, ``referrals`` and
        ``bounced`` are ``<NA>``.
    quick_close_minutes : float, default 10
        A close this soon after creation is a quick close.
    month_end_days : int, default 3
        Closes in this many last local days of a month are month-end closes.
    referral_limit : int, default 2
        More referrals than this is a bounced case.
    calendar : {"jalali", "gregorian"}, default "jalali"
        Calendar of the months.
    tz : str, default "Asia/Tehran"
        Local time zone of the dates.

    Returns
    -------
    pandas.DataFrame
        Aligned with ``cases``' index: ``quick_close``, ``month_end_close``, ``answered``,
        ``objected_answer``, ``objection_ignored``, ``ever_closed``, ``reopened`` (bool),
        ``referrals`` (``Int64``) and ``bounced`` (``boolean``), both ``<NA>`` where the
        case has no events. ``attrs["referral_data"]`` is ``"case events"`` or
        ``"no case events"``.

    Examples
    --------
    >>> cases = pd.DataFrame({
    ...     "case_id": ["a", "b"],
    ...     "created_at": pd.to_datetime(["2024-09-25 08:00", "2024-09-25 08:00"], utc=True),
    ...     "closed_at": pd.to_datetime(["2024-09-25 08:05", "2024-09-27 08:00"], utc=True),
    ... })
    >>> flags = case_flags(cases)
    >>> flags["quick_close"].tolist(), flags["referrals"].isna().tolist()
    ([True, False], [True, True])
    """
    _check_cases(cases)
    _check_options(quick_close_minutes, month_end_days, referral_limit, calendar)
    created = _times(cases, s.CREATED_AT)
    closed = _times(cases, s.CLOSED_AT)
    has_close = (closed != _NAT) & (created != _NAT)
    quick = has_close & (closed - created <= round(quick_close_minutes * _MINUTE_NS))
    month_end, _, _ = _month_end(closed, month_end_days, calendar, tz)
    objected = _is(cases, s.CITIZEN_FEEDBACK, (_OBJECTED,))
    answered = (
        _is(cases, s.STATUS, _ANSWERED_STATUSES)
        | (closed != _NAT)
        | _is(cases, s.CITIZEN_FEEDBACK, ("accepted", _OBJECTED))
    )
    reopen_count = _reopen_counts(cases)
    status_reopened = _is(cases, s.STATUS, ("reopened",))
    ever_closed = (closed != _NAT) | _is(cases, s.STATUS, s.TERMINAL_STATUSES) | status_reopened
    reopened = (reopen_count > 0) | status_reopened
    if events is not None:
        referrals, reopens = _events_per_case(cases, events)
        reopened |= np.asarray(reopens.fillna(0).to_numpy(dtype=np.int64) > 0)
        bounced = (referrals > referral_limit).astype("boolean").array
        source = FROM_EVENTS
    else:
        referrals = pd.Series(pd.array([pd.NA] * len(cases), dtype="Int64"), index=cases.index)
        bounced = pd.array([pd.NA] * len(cases), dtype="boolean")
        source = NO_EVENTS
    ignored = objected & _is(cases, s.STATUS, ("closed",)) & ~reopened
    out = pd.DataFrame(
        {
            QUICK_CLOSE: quick,
            MONTH_END_CLOSE: month_end,
            ANSWERED_CASE: answered,
            OBJECTED_ANSWER: objected & answered,
            OBJECTION_IGNORED: ignored,
            EVER_CLOSED: ever_closed | reopened,
            REOPENED: reopened,
            REFERRALS: referrals.to_numpy(),
            BOUNCED: bounced,
        },
        index=cases.index,
    )
    out[REFERRALS] = out[REFERRALS].astype("Int64")
    out.attrs[REFERRAL_DATA] = source
    return out


def _check_cases(cases: pd.DataFrame) -> None:
    if not isinstance(cases, pd.DataFrame):
        msg = f"cases must be a pandas DataFrame of canonical cases, got {type(cases).__name__}."
        raise InputError(msg)
    missing = [c for c in (s.CASE_ID, s.CREATED_AT) if c not in cases.columns]
    if missing:
        msg = f"cases lack the column(s) {missing}; pass canonical cases (ingest.schema)."
        raise InputError(msg)


def _check_options(
    quick_close_minutes: float, month_end_days: int, referral_limit: int, calendar: str
) -> None:
    check_freq("M", calendar)
    if not quick_close_minutes >= 0:
        msg = f"quick_close_minutes must be 0 or more, got {quick_close_minutes}."
        raise InputError(msg)
    if not 1 <= month_end_days <= 28:
        msg = f"month_end_days must be between 1 and 28, got {month_end_days}."
        raise InputError(msg)
    if referral_limit < 0:
        msg = f"referral_limit must be 0 or more, got {referral_limit}."
        raise InputError(msg)


def _as_of(as_of: object, cases: pd.DataFrame) -> int:
    if as_of is not None:
        stamp = pd.Timestamp(as_of)  # type: ignore[arg-type]
        if pd.isna(stamp) or stamp.tzinfo is None:
            msg = f"as_of {as_of!r} must be a time zone-aware instant."
            raise InputError(msg)
        return int(stamp.tz_convert("UTC").as_unit("ns").value)
    latest = [a[a != _NAT] for a in (_times(cases, s.CREATED_AT), _times(cases, s.CLOSED_AT))]
    values = np.concatenate(latest)
    return int(values.max()) if len(values) else 0


def _group_frame(
    cases: pd.DataFrame, by: list[str], keys: I64, flags: dict[str, npt.ArrayLike]
) -> pd.DataFrame:
    """Return the ``by`` columns, the month key and ``flags`` of the rows with a month."""
    frame = pd.DataFrame({c: cases[c].to_numpy() for c in by})
    frame["_key"] = keys
    for name, values in flags.items():
        frame[name] = np.asarray(values)
    return frame[frame["_key"] != NO_PERIOD]


def quality_flags(
    cases: pd.DataFrame,
    events: pd.DataFrame | None = None,
    *,
    by: Sequence[str] = (s.UNIT,),
    calendar: Calendar = "jalali",
    as_of: object = None,
    quick_close_minutes: float = 10.0,
    quick_close_share_max: float = 0.05,
    min_closed: int = 10,
    month_end_days: int = 3,
    spike_ratio: float = 2.0,
    spike_alpha: float = 0.01,
    min_closures: int = 20,
    referral_limit: int = 2,
    tz: str = TEHRAN,
) -> pd.DataFrame:
    """Count the data-quality signs per group (unit by default) and month, and flag months.

    Parameters
    ----------
    cases : pandas.DataFrame
        Canonical cases (see :func:`case_flags`) with the ``by`` columns. Not modified.
    events : pandas.DataFrame, optional
        Case events; without them the referral columns are ``<NA>`` and ``referral_data``
        says ``"no case events"``.
    by : sequence of str, default ("unit",)
        Group columns; null keys form their own group.
    calendar : {"jalali", "gregorian"}, default "jalali"
        Calendar of the months (local time ``tz``).
    as_of : timestamp-like, optional
        Tz-aware instant of the data; months ending after it are not assessed for month-end
        spikes. Default: the latest ``created_at`` or ``closed_at``.
    quick_close_minutes, month_end_days, referral_limit
        As in :func:`case_flags`.
    quick_close_share_max : float, default 0.05
        Flag a month whose quick-close share's Wilson lower bound exceeds this.
    min_closed : int, default 10
        Fewest closed cases (created in the month) for a quick-close flag.
    spike_ratio : float, default 2.0
        Smallest month-end ratio (observed over even share) that is flagged.
    spike_alpha : float, default 0.01
        Largest one-sided binomial p-value that is flagged.
    min_closures : int, default 20
        Fewest closures in a month for a month-end flag.
    tz : str, default "Asia/Tehran"
        Local time zone.

    Returns
    -------
    pandas.DataFrame
        One row per group and month with cases created or closed in it: the ``by`` columns,
        ``period`` (``"1403-07"``), ``volume``, ``closed``, ``quick_closed``,
        ``quick_close_share``, ``quick_close_share_lo``, ``quick_close_flag``,
        ``closures``, ``month_end_closures``, ``month_days``, ``month_end_expected_share``,
        ``month_end_share``, ``month_end_ratio``, ``month_end_p``, ``month_assessed``,
        ``month_end_flag``, ``answered``, ``objected``, ``objection_share``,
        ``objection_ignored``, ``reopen_n``, ``reopened``, ``reopen_share``,
        ``referral_known``, ``bounced``, ``bounced_share`` and ``referral_data``. Rows are
        sorted by the groups then the month; ``attrs["as_of"]`` holds the instant used.

    Raises
    ------
    InputError
        If a column is missing or an option is out of range.
    """
    by_list = [by] if isinstance(by, str) else list(by)
    _check_cases(cases)
    missing = [c for c in by_list if c not in cases.columns]
    if missing:
        msg = f"cases lack the group column(s) {missing}; group by existing columns such as 'unit'."
        raise InputError(msg)
    if not 0 <= quick_close_share_max < 1 or not 0 < spike_alpha < 1 or spike_ratio <= 0:
        msg = (
            "quick_close_share_max must be in [0, 1), spike_alpha in (0, 1) and spike_ratio "
            f"positive; got {quick_close_share_max}, {spike_alpha}, {spike_ratio}."
        )
        raise InputError(msg)
    flags = case_flags(
        cases,
        events,
        quick_close_minutes=quick_close_minutes,
        month_end_days=month_end_days,
        referral_limit=referral_limit,
        calendar=calendar,
        tz=tz,
    )
    as_of_ns = _as_of(as_of, cases)
    created = _times(cases, s.CREATED_AT)
    closed = _times(cases, s.CLOSED_AT)
    created_key = period_keys_of_days(local_days(created, tz), "M", calendar)
    _, closed_key, _ = _month_end(closed, month_end_days, calendar, tz)
    known = flags[REFERRALS].notna().to_numpy()
    cohort = _group_frame(
        cases,
        by_list,
        created_key,
        {
            VOLUME: np.ones(len(cases), dtype=np.int64),
            CLOSED: (closed != _NAT) & (created != _NAT),
            QUICK_CLOSED: flags[QUICK_CLOSE].to_numpy(),
            ANSWERED: flags[ANSWERED_CASE].to_numpy(),
            OBJECTED: flags[OBJECTED_ANSWER].to_numpy(),
            OBJECTION_IGNORED_N: flags[OBJECTION_IGNORED].to_numpy(),
            REOPEN_N: flags[EVER_CLOSED].to_numpy(),
            REOPENED_N: flags[REOPENED].to_numpy(),
            REFERRAL_KNOWN: known,
            BOUNCED_N: flags[BOUNCED].fillna(False).to_numpy(dtype=bool),
        },
    )
    closing = _group_frame(
        cases,
        by_list,
        closed_key,
        {
            CLOSURES: closed != _NAT,
            MONTH_END_CLOSURES: flags[MONTH_END_CLOSE].to_numpy(),
        },
    )
    both = pd.concat([cohort, closing], ignore_index=True)
    measures = [c for c in both.columns if c not in (*by_list, "_key")]
    both[measures] = both[measures].fillna(0).astype(np.int64)
    grouped = both.groupby([*by_list, "_key"], dropna=False, sort=False, observed=True)
    out = grouped[measures].sum().reset_index()
    out = out.sort_values(
        [*by_list, "_key"],
        key=lambda c: c if c.name == "_key" else c.astype("string"),
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)
    keys = out["_key"].to_numpy(dtype=np.int64)
    out.insert(len(by_list), PERIOD, labels_of_keys(keys, "M", calendar))
    _add_rates(out, quick_close_share_max, min_closed)
    _add_month_end(
        out,
        keys,
        month_end_days=month_end_days,
        calendar=calendar,
        tz=tz,
        as_of_ns=as_of_ns,
        first_key=int(created_key[created_key != NO_PERIOD].min()) if len(created) else 0,
        spike_ratio=spike_ratio,
        spike_alpha=spike_alpha,
        min_closures=min_closures,
    )
    if events is None:
        out[REFERRAL_KNOWN] = pd.array([pd.NA] * len(out), dtype="Int64")
        out[BOUNCED_N] = pd.array([pd.NA] * len(out), dtype="Int64")
        out[BOUNCED_SHARE] = np.nan
    else:
        out[BOUNCED_SHARE] = proportion(out[BOUNCED_N], out[REFERRAL_KNOWN])
    out[REFERRAL_DATA] = flags.attrs[REFERRAL_DATA]
    out = out.drop(columns="_key")
    out.attrs["as_of"] = pd.Timestamp(as_of_ns, tz="UTC")
    out.attrs[REFERRAL_DATA] = flags.attrs[REFERRAL_DATA]
    return out[_ordered(by_list)]


def _ordered(by: list[str]) -> list[str]:
    return [
        *by,
        PERIOD,
        VOLUME,
        CLOSED,
        QUICK_CLOSED,
        QUICK_CLOSE_SHARE,
        QUICK_CLOSE_LO,
        QUICK_CLOSE_FLAG,
        CLOSURES,
        MONTH_END_CLOSURES,
        MONTH_DAYS,
        MONTH_END_EXPECTED,
        MONTH_END_SHARE,
        MONTH_END_RATIO,
        MONTH_END_P,
        MONTH_ASSESSED,
        MONTH_END_FLAG,
        ANSWERED,
        OBJECTED,
        OBJECTION_SHARE,
        OBJECTION_IGNORED_N,
        REOPEN_N,
        REOPENED_N,
        REOPEN_SHARE,
        REFERRAL_KNOWN,
        BOUNCED_N,
        BOUNCED_SHARE,
        REFERRAL_DATA,
    ]


def _add_rates(out: pd.DataFrame, quick_close_share_max: float, min_closed: int) -> None:
    out[QUICK_CLOSE_SHARE] = proportion(out[QUICK_CLOSED], out[CLOSED])
    lo, _ = wilson_interval(out[QUICK_CLOSED], out[CLOSED])
    out[QUICK_CLOSE_LO] = lo
    enough = out[CLOSED].to_numpy() >= min_closed
    out[QUICK_CLOSE_FLAG] = enough & (np.nan_to_num(lo, nan=0.0) > quick_close_share_max)
    out[OBJECTION_SHARE] = proportion(out[OBJECTED], out[ANSWERED])
    out[REOPEN_SHARE] = proportion(out[REOPENED_N], out[REOPEN_N])


def _add_month_end(
    out: pd.DataFrame,
    keys: I64,
    *,
    month_end_days: int,
    calendar: Calendar,
    tz: str,
    as_of_ns: int,
    first_key: int,
    spike_ratio: float,
    spike_alpha: float,
    min_closures: int,
) -> None:
    uniq, inverse = np.unique(keys, return_inverse=True)
    nexts = start_day_of_keys(uniq + 1, "M", calendar)
    days = (nexts - start_day_of_keys(uniq, "M", calendar))[inverse]
    ends = day_start_utc(nexts, tz)[inverse]
    n = out[CLOSURES].to_numpy(dtype=np.int64)
    x = out[MONTH_END_CLOSURES].to_numpy(dtype=np.int64)
    p0 = month_end_days / days.astype(np.float64)
    share = proportion(x, n)
    ratio = share / p0
    p_value = np.where(n > 0, binom.sf(x - 1, n, p0), np.nan)
    assessed = (ends <= as_of_ns) & (keys > first_key)
    out[MONTH_DAYS] = days
    out[MONTH_END_EXPECTED] = p0
    out[MONTH_END_SHARE] = share
    out[MONTH_END_RATIO] = ratio
    out[MONTH_END_P] = p_value
    out[MONTH_ASSESSED] = assessed
    out[MONTH_END_FLAG] = (
        assessed
        & (n >= min_closures)
        & (np.nan_to_num(ratio, nan=0.0) >= spike_ratio)
        & (np.nan_to_num(p_value, nan=1.0) <= spike_alpha)
    )
