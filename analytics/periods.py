"""Jalali and Gregorian period labels and boundaries, computed vectorized from UTC instants.

Every instant is converted to local time (``Asia/Tehran`` by default, with its daylight saving
history: UTC+04:30 in summer until 2022, UTC+03:30 since), its local date is taken, and the
date is mapped to a period of the chosen calendar:

- ``"M"``: the month, labelled ``"1403-07"`` (Jalali) or ``"2024-09"`` (Gregorian);
- ``"W"``: the week, starting on Saturday (Jalali, as in Iran) or Monday (Gregorian, ISO),
  labelled by its first day, ``"1403-07-07"`` or ``"2024-09-30"``;
- ``"D"``: the day, labelled ``"1403-07-01"`` or ``"2024-09-22"``.

Each period is half-open: it starts at the local midnight of its first day and ends (exclusive)
at the local midnight of the next period's first day; both instants are returned in UTC. A local
midnight that does not exist (Iran moved its clocks from 00:00 to 01:00 on 1 Farvardin until
1401) becomes the first instant of that day.

Periods are identified internally by an integer *key* that increases by one from each period to
the next, so a contiguous range of keys is a gap-free calendar.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

import jdatetime
import numpy as np
import numpy.typing as npt
import pandas as pd

from geo.errors import InputError

Freq = Literal["M", "W", "D"]
Calendar = Literal["jalali", "gregorian"]
I64 = npt.NDArray[np.int64]

TEHRAN: Final = "Asia/Tehran"
FREQS: Final = ("M", "W", "D")
CALENDARS: Final = ("jalali", "gregorian")
DAY_NS: Final = 86_400 * 10**9
#: Sentinel key of missing instants (NaT).
NO_PERIOD: Final = np.iinfo(np.int64).min
# Day numbers (days since 1970-01-01) of a Saturday and a Monday: the first day of the weeks.
_WEEK_ANCHOR: Final = {"jalali": 2, "gregorian": 4}
_NAT: Final = np.iinfo(np.int64).min
_BIN_NS: Final = 15 * 60 * 10**9
_UNIT_TO_NS: Final = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_MAX_BINS: Final = 2_000_000
_MAX_TABLE_DAYS: Final = 400_000


def check_freq(freq: str, calendar: str) -> None:
    """Raise InputError unless ``freq`` and ``calendar`` are supported."""
    if freq not in FREQS:
        msg = f"period {freq!r} is not supported; use one of {FREQS} (month, week, day) or None."
        raise InputError(msg)
    if calendar not in CALENDARS:
        msg = f"calendar {calendar!r} is not supported; use 'jalali' or 'gregorian'."
        raise InputError(msg)


def utc_ns(values: pd.Series | pd.DatetimeIndex, *, name: str = "timestamps") -> I64:
    """Return tz-aware instants as int64 nanoseconds since the epoch (UTC), NaT as int64 min.

    Parameters
    ----------
    values : pandas.Series or pandas.DatetimeIndex
        Time zone-aware timestamps (any unit, any zone).
    name : str
        The column name, used in the error message.

    Raises
    ------
    InputError
        If the values are not tz-aware datetimes.
    """
    dtype = values.dtype
    if not isinstance(dtype, pd.DatetimeTZDtype):
        if pd.isna(values).all() and not pd.api.types.is_datetime64_dtype(dtype):
            return np.full(len(values), _NAT, dtype=np.int64)
        msg = (
            f"column {name!r} has dtype {dtype}, not a time zone-aware timestamp; convert it "
            "with pd.to_datetime(..., utc=True) (the canonical case frame stores UTC)."
        )
        raise InputError(msg)
    array = values.array
    raw = _asi8(array)  # epoch values in the array's unit, UTC
    factor = _UNIT_TO_NS[array.unit]
    if factor == 1:
        return raw.copy()
    missing = raw == _NAT
    if not missing.any():
        return raw * factor
    return np.where(missing, _NAT, raw * factor)


def local_days(ns: I64, tz: str = TEHRAN) -> I64:
    """Return the local calendar day (days since 1970-01-01) of UTC instants in nanoseconds.

    Missing instants (int64 min) stay int64 min.
    """
    valid = ns != _NAT
    if valid.all():
        days: I64 = np.floor_divide(ns + utc_offsets_ns(ns, tz), DAY_NS)
        return days
    if not valid.any():
        return ns.copy()
    filled = np.where(valid, ns, ns[valid][0])
    days = np.floor_divide(filled + utc_offsets_ns(filled, tz), DAY_NS)
    return np.where(valid, days, _NAT)


def utc_offsets_ns(ns: I64, tz: str = TEHRAN) -> I64:
    """Return the UTC offset (local minus UTC, in ns) in force at each UTC instant.

    Offsets are looked up in a table of 15-minute bins spanning the data, built with pandas'
    time zone database (a handful of conversions, not one per row). Time zones change their
    offset only at quarter hours since long before 1970; if a bin nevertheless holds a change,
    the exact per-row conversion is used instead.
    """
    if not len(ns):
        return np.empty(0, dtype=np.int64)
    lo = int(np.floor_divide(ns.min(), _BIN_NS))
    hi = int(np.floor_divide(ns.max(), _BIN_NS))
    if hi - lo > _MAX_BINS:
        return _exact_offsets(ns, tz)
    edges = np.arange(lo, hi + 2, dtype=np.int64) * _BIN_NS
    at_start = _exact_offsets(edges[:-1], tz)
    at_end = _exact_offsets(edges[1:] - 1, tz)
    if not np.array_equal(at_start, at_end):
        return _exact_offsets(ns, tz)
    out: I64 = at_start[np.floor_divide(ns, _BIN_NS) - lo]
    return out


def _exact_offsets(ns: I64, tz: str) -> I64:
    index = pd.DatetimeIndex(ns.view("M8[ns]"), tz="UTC").tz_convert(tz).tz_localize(None)
    return _asi8(index) - ns


def _asi8(values: object) -> I64:
    """Epoch integers (in the values' own unit) of a DatetimeIndex or DatetimeArray."""
    return np.asarray(values.asi8, dtype=np.int64)  # type: ignore[attr-defined]


def _jalali_month_starts(day_lo: int, day_hi: int) -> tuple[I64, I64]:
    """Return (first day, key) of every Jalali month covering days ``day_lo..day_hi``."""
    lo = jdatetime.date.fromgregorian(date=_day_to_date(day_lo)).year - 1
    hi = jdatetime.date.fromgregorian(date=_day_to_date(day_hi)).year + 1
    starts: list[int] = []
    keys: list[int] = []
    for year in range(lo, hi + 1):
        for month in range(1, 13):
            starts.append(_date_to_day(jdatetime.date(year, month, 1).togregorian()))
            keys.append(year * 12 + month - 1)
    return np.asarray(starts, dtype=np.int64), np.asarray(keys, dtype=np.int64)


def _day_to_date(day: int) -> dt.date:
    date: dt.date = pd.Timestamp(np.datetime64(int(day), "D")).date()
    return date


def _date_to_day(date: dt.date) -> int:
    return int(np.datetime64(date, "D").astype(np.int64))


def _month_of_days(days: I64, calendar: Calendar) -> I64:
    """Return the month key (year * 12 + month - 1) of each day number.

    Built once per distinct day in the data's range (a lookup table), then indexed per row.
    """
    lo, hi = int(days.min()), int(days.max())
    if hi - lo <= _MAX_TABLE_DAYS and len(days) > 2 * (hi - lo + 1):
        table = _month_of_days(np.arange(lo, hi + 1, dtype=np.int64), calendar)
        return table[days - lo]
    if calendar == "gregorian":
        months = days.astype("M8[D]").astype("M8[M]").astype(np.int64)
        return months + 1970 * 12
    starts, keys = _jalali_month_starts(lo, hi)
    return keys[np.searchsorted(starts, days, side="right") - 1]


def period_keys_of_days(days: I64, freq: Freq, calendar: Calendar) -> I64:
    """Return the period key of each local day number (int64 min stays int64 min)."""
    check_freq(freq, calendar)
    valid = days != _NAT
    if not valid.any():
        return days.copy()
    d = days if valid.all() else np.where(valid, days, days[valid][0])
    if freq == "D":
        keys = d.copy()
    elif freq == "W":
        keys = np.floor_divide(d - _WEEK_ANCHOR[calendar], 7)
    else:
        keys = _month_of_days(d, calendar)
    return keys if valid.all() else np.where(valid, keys, NO_PERIOD)


def period_keys(
    ts: pd.Series | pd.DatetimeIndex,
    freq: Freq = "M",
    calendar: Calendar = "jalali",
    *,
    tz: str = TEHRAN,
) -> I64:
    """Return the integer period key of each timestamp (consecutive periods differ by one).

    Missing timestamps get :data:`NO_PERIOD`.
    """
    check_freq(freq, calendar)
    return period_keys_of_days(local_days(utc_ns(ts), tz), freq, calendar)


def start_day_of_keys(keys: I64, freq: Freq, calendar: Calendar) -> I64:
    """Return the first local day (days since 1970-01-01) of each period key."""
    check_freq(freq, calendar)
    keys = np.asarray(keys, dtype=np.int64)
    if freq == "D":
        return keys.copy()
    if freq == "W":
        return keys * 7 + _WEEK_ANCHOR[calendar]
    if calendar == "gregorian":
        months = (keys - 1970 * 12).astype("M8[M]")
        return months.astype("M8[D]").astype(np.int64)
    out = np.empty(keys.shape, dtype=np.int64)
    for i, key in enumerate(keys.tolist()):  # one call per period, not per row
        start = jdatetime.date(key // 12, key % 12 + 1, 1).togregorian()
        out[i] = _date_to_day(start)
    return out


def day_start_utc(days: I64, tz: str = TEHRAN) -> I64:
    """Return the UTC instant (ns) of the local start of each day number.

    A local midnight skipped by a clock change becomes the first instant of the day.
    """
    naive = pd.DatetimeIndex(np.asarray(days, dtype=np.int64).astype("M8[D]").astype("M8[ns]"))
    local = naive.tz_localize(
        tz, nonexistent="shift_forward", ambiguous=np.ones(len(naive), dtype=bool)
    )
    return _asi8(local.tz_convert("UTC"))


def local_day_start(day: dt.date, tz: str = TEHRAN) -> pd.Timestamp:
    """Return the tz-aware instant the local day ``day`` starts (see :func:`day_start_utc`).

    A midnight skipped by a clock change (Tehran's spring-forward until 2022 jumped from
    00:00 to 01:00) gives the first instant of the day, 01:00, instead of an error.

    Examples
    --------
    >>> import datetime as dt
    >>> str(local_day_start(dt.date(2022, 3, 22)))
    '2022-03-22 01:00:00+04:30'
    """
    return pd.Timestamp(day).tz_localize(tz, nonexistent="shift_forward", ambiguous=True)


def _format_days(days: I64, calendar: Calendar) -> list[str]:
    if calendar == "gregorian":
        return [str(d) for d in days.astype("M8[D]")]
    out = []
    for day in days.tolist():
        j = jdatetime.date.fromgregorian(date=_day_to_date(day))
        out.append(f"{j.year:04d}-{j.month:02d}-{j.day:02d}")
    return out


def labels_of_keys(keys: I64, freq: Freq, calendar: Calendar) -> list[str]:
    """Return the display label of each period key (one Python call per period, not per row)."""
    check_freq(freq, calendar)
    keys = np.asarray(keys, dtype=np.int64)
    if freq == "M":
        return [f"{k // 12:04d}-{k % 12 + 1:02d}" for k in keys.tolist()]
    return _format_days(start_day_of_keys(keys, freq, calendar), calendar)


@dataclass(frozen=True)
class PeriodGrid:
    """A gap-free run of consecutive periods.

    Attributes
    ----------
    keys : numpy.ndarray
        Integer period keys, consecutive.
    labels : list of str
        Display labels, such as ``"1403-07"``.
    start_ns, end_ns : numpy.ndarray
        UTC instants (int64 nanoseconds) of each period's start and exclusive end.
    freq, calendar, tz : str
        How the periods were made.
    """

    keys: I64
    labels: list[str]
    start_ns: I64
    end_ns: I64
    freq: Freq
    calendar: Calendar
    tz: str

    def frame(self) -> pd.DataFrame:
        """Return the grid as a frame: ``period``, ``period_start``, ``period_end`` (UTC)."""
        return pd.DataFrame(
            {
                "period": self.labels,
                "period_start": pd.to_datetime(self.start_ns, utc=True),
                "period_end": pd.to_datetime(self.end_ns, utc=True),
            }
        )


def period_grid(
    first_key: int, last_key: int, freq: Freq, calendar: Calendar, tz: str = TEHRAN
) -> PeriodGrid:
    """Return the periods with keys ``first_key..last_key`` and their UTC boundaries."""
    check_freq(freq, calendar)
    keys = np.arange(first_key, last_key + 1, dtype=np.int64)
    starts = start_day_of_keys(np.append(keys, last_key + 1), freq, calendar)
    instants = day_start_utc(starts, tz)
    return PeriodGrid(
        keys=keys,
        labels=labels_of_keys(keys, freq, calendar),
        start_ns=instants[:-1],
        end_ns=instants[1:],
        freq=freq,
        calendar=calendar,
        tz=tz,
    )


def period_labels(
    ts: pd.Series | pd.DatetimeIndex,
    freq: Freq = "M",
    calendar: Calendar = "jalali",
    *,
    tz: str = TEHRAN,
) -> pd.Series:
    """Label each instant with its local period, such as the Jalali month ``"1403-07"``.

    Parameters
    ----------
    ts : pandas.Series or pandas.DatetimeIndex
        Time zone-aware instants (UTC stored); missing values get a missing label.
    freq : {"M", "W", "D"}
        Month, week (Saturday-first for Jalali, Monday-first for Gregorian, labelled by the
        week's first day) or day.
    calendar : {"jalali", "gregorian"}
        The calendar of the labels.
    tz : str
        The local time zone whose dates are labelled.

    Returns
    -------
    pandas.Series
        String labels (dtype ``string``), aligned with ``ts``.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.Series(pd.to_datetime(["2024-09-21T20:29:00Z", "2024-09-21T20:30:00Z"]))
    >>> period_labels(ts).tolist()
    ['1403-06', '1403-07']
    """
    keys = period_keys(ts, freq, calendar, tz=tz)
    valid = keys != NO_PERIOD
    out = np.full(len(keys), None, dtype=object)
    if valid.any():
        uniq, inverse = np.unique(keys[valid], return_inverse=True)
        out[valid] = np.asarray(labels_of_keys(uniq, freq, calendar), dtype=object)[inverse]
    index = ts.index if isinstance(ts, pd.Series) else None
    return pd.Series(out, index=index, dtype="string", name="period")


def period_table(
    ts: pd.Series | pd.DatetimeIndex,
    freq: Freq = "M",
    calendar: Calendar = "jalali",
    *,
    tz: str = TEHRAN,
) -> pd.DataFrame:
    """Return every period from the earliest to the latest instant, with UTC boundaries.

    Parameters
    ----------
    ts : pandas.Series or pandas.DatetimeIndex
        Time zone-aware instants; missing values are ignored.
    freq, calendar, tz
        As in :func:`period_labels`.

    Returns
    -------
    pandas.DataFrame
        Columns ``period`` (label), ``period_start`` and ``period_end`` (exclusive), both
        tz-aware UTC; one row per period, gap-free.

    Examples
    --------
    >>> import pandas as pd
    >>> ts = pd.Series(pd.to_datetime(["2024-09-30T12:00:00Z"]))
    >>> row = period_table(ts).iloc[0]
    >>> row["period"], str(row["period_start"]), str(row["period_end"])
    ('1403-07', '2024-09-21 20:30:00+00:00', '2024-10-21 20:30:00+00:00')
    """
    keys = period_keys(ts, freq, calendar, tz=tz)
    keys = keys[keys != NO_PERIOD]
    if not len(keys):
        return PeriodGrid(
            np.empty(0, np.int64),
            [],
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            freq,
            calendar,
            tz,
        ).frame()
    return period_grid(int(keys.min()), int(keys.max()), freq, calendar, tz).frame()
