"""Elapsed time in working hours on the Iranian calendar, vectorized, and its wall-clock twin.

A working calendar says, for each local day, which part of it is working time:

- Friday is the weekend (no working time);
- Thursday is configurable: ``"working"`` (a full day), ``"half"`` (the first half of the
  day's working hours) or ``"off"``;
- official holidays (``data/holidays.yaml``, Jalali dates, user-updatable) have none;
- ``office_hours=(7.5, 14.5)`` limits working days to 07:30–14:30 local time; without office
  hours a working day counts all its 24 hours (a half day: 00:00–12:00), so "72 working
  hours" means three full working days.

Elapsed working time between two instants is ``W(end) − W(start)``, where ``W`` is the working
time accumulated since the first day of a day table built once for the range of the data
(a few thousand days), so millions of intervals cost a few array lookups. The day table uses
real UTC instants of each local opening and closing, so days made 23 or 25 hours long by
Tehran's daylight saving (until 2022) count what the clock really ran.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import jdatetime
import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from analytics.periods import DAY_NS, TEHRAN, local_days, utc_ns
from geo.errors import InputError
from geo.persian import normalize_digits

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
ThursdayRule = Literal["working", "half", "off"]

#: The holiday file shipped with the project (user-updatable).
DEFAULT_HOLIDAYS_PATH: Final = Path(__file__).resolve().parents[1] / "data" / "holidays.yaml"
HOUR_NS: Final = 3600 * 10**9
FRIDAY: Final = 4  # Python weekday numbers: Monday 0 … Sunday 6
THURSDAY: Final = 3
_NAT: Final = np.iinfo(np.int64).min
_YAML_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present
_BIN_NS: Final = 15 * 60 * 10**9
_MAX_BINS: Final = 4_000_000
_DATE = re.compile(r"^\s*(\d{4})[-/](\d{1,2})[-/](\d{1,2})\s*$")


@dataclass(frozen=True)
class WorkingCalendar:
    """Which local time counts as working time.

    Parameters
    ----------
    holidays : frozenset of datetime.date
        Gregorian dates of official holidays (local dates).
    thursday : {"working", "half", "off"}
        How Thursday counts.
    office_hours : tuple of float, optional
        Local opening and closing hours, such as ``(7.5, 14.5)``; None counts whole days.
    weekend : tuple of int
        Python weekday numbers without working time (Friday is 4).
    tz : str
        The local time zone.
    """

    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    thursday: ThursdayRule = "working"
    office_hours: tuple[float, float] | None = None
    weekend: tuple[int, ...] = (FRIDAY,)
    tz: str = TEHRAN

    def __post_init__(self) -> None:
        """Validate the rules."""
        if self.thursday not in ("working", "half", "off"):
            msg = f"thursday must be 'working', 'half' or 'off', got {self.thursday!r}."
            raise InputError(msg)
        if self.office_hours is not None:
            start, end = self.office_hours
            if not 0.0 <= start < end <= 24.0:
                msg = (
                    f"office_hours must be (start, end) local hours with 0 <= start < end <= 24, "
                    f"got {self.office_hours}."
                )
                raise InputError(msg)

    def day_table(self, first_day: int, last_day: int) -> tuple[I64, I64]:
        """Return the UTC opening instant and working length (ns) of each local day.

        Days are numbered from 1970-01-01; the table covers ``first_day..last_day``.
        """
        days = np.arange(first_day, last_day + 1, dtype=np.int64)
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday
        start_h, end_h = self.office_hours if self.office_hours is not None else (0.0, 24.0)
        hours = np.full(len(days), end_h - start_h)
        if self.thursday == "half":
            hours[weekday == THURSDAY] /= 2.0
        elif self.thursday == "off":
            hours[weekday == THURSDAY] = 0.0
        hours[np.isin(weekday, self.weekend)] = 0.0
        if self.holidays:
            holiday_days = np.array(sorted(self.holidays), dtype="M8[D]").astype(np.int64)
            hours[np.isin(days, holiday_days)] = 0.0
        opening = _local_to_utc(days * DAY_NS + round(start_h * HOUR_NS), self.tz)
        closing_local = np.round((start_h + hours) * HOUR_NS).astype(np.int64)
        closing = _local_to_utc(days * DAY_NS + closing_local, self.tz)
        return opening, closing - opening


def _local_to_utc(local_ns: I64, tz: str) -> I64:
    """UTC instants of local wall times; skipped ones move forward, repeated take the first."""
    naive = pd.DatetimeIndex(local_ns.astype("M8[ns]"))
    aware = naive.tz_localize(
        tz, nonexistent="shift_forward", ambiguous=np.ones(len(naive), dtype=bool)
    )
    return np.asarray(aware.tz_convert("UTC").asi8, dtype=np.int64)  # type: ignore[attr-defined]


def load_holidays(path: str | Path | None = None) -> frozenset[dt.date]:
    """Read official holidays (Jalali dates) from a YAML file into Gregorian dates.

    Parameters
    ----------
    path : str or pathlib.Path, optional
        A YAML file with a ``holidays`` list of ``{date: "1403-01-01", name: ...}`` entries
        (or plain date strings). Default: the project's ``data/holidays.yaml``; when that
        file is absent there are no holidays.

    Returns
    -------
    frozenset of datetime.date

    Raises
    ------
    InputError
        If the file is missing (when given explicitly) or an entry is not a Jalali date.
    """
    if path is None:
        if not DEFAULT_HOLIDAYS_PATH.exists():
            return frozenset()
        path = DEFAULT_HOLIDAYS_PATH
    path = Path(path)
    if not path.exists():
        msg = f"holiday file {path} does not exist; pass an existing YAML file or None."
        raise InputError(msg)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        msg = f"holiday file {path} is not valid YAML ({exc}); fix its syntax."
        raise InputError(msg) from exc
    entries = data.get("holidays", []) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        msg = f"holiday file {path} must hold a list under 'holidays'; see data/holidays.yaml."
        raise InputError(msg)
    out = set()
    for i, entry in enumerate(entries):
        raw = entry.get("date") if isinstance(entry, dict) else entry
        out.add(_jalali_to_gregorian(raw, f"{path}, entry {i + 1}"))
    return frozenset(out)


def _jalali_to_gregorian(raw: object, where: str) -> dt.date:
    match = _DATE.match(normalize_digits(str(raw))) if isinstance(raw, str) else None
    if match is None:
        msg = (
            f'{where}: date {raw!r} is not a quoted Jalali date like "1403-01-01"; '
            "quote it so YAML does not read it as a Gregorian date."
        )
        raise InputError(msg)
    year, month, day = (int(g) for g in match.groups())
    try:
        result: dt.date = jdatetime.date(year, month, day).togregorian()
    except ValueError as exc:
        msg = f"{where}: {raw!r} is not a valid Jalali date ({exc})."
        raise InputError(msg) from exc
    return result


def iran_calendar(
    *,
    thursday: ThursdayRule = "working",
    office_hours: tuple[float, float] | None = None,
    holidays: str | Path | frozenset[dt.date] | None = None,
    tz: str = TEHRAN,
) -> WorkingCalendar:
    """Return the Iranian working calendar: Friday weekend plus official holidays.

    Parameters
    ----------
    thursday : {"working", "half", "off"}
        How Thursday counts (government offices often close; field services work).
    office_hours : tuple of float, optional
        Local opening and closing hours, such as ``(7.5, 14.5)``.
    holidays : path or frozenset of datetime.date, optional
        A holiday YAML file (default ``data/holidays.yaml``) or the dates themselves.
    tz : str
        The local time zone.

    Examples
    --------
    >>> cal = iran_calendar(thursday="half")
    >>> cal.thursday, cal.weekend
    ('half', (4,))
    """
    dates = holidays if isinstance(holidays, frozenset) else load_holidays(holidays)
    return WorkingCalendar(holidays=dates, thursday=thursday, office_hours=office_hours, tz=tz)


def working_hours_ns(start_ns: I64, end_ns: I64, calendar: WorkingCalendar) -> F64:
    """Working hours from ``start_ns`` to ``end_ns`` (int64 UTC nanoseconds; NaT gives NaN).

    Negative where the end comes before the start.
    """
    valid = (start_ns != _NAT) & (end_ns != _NAT)
    out = np.full(len(start_ns), np.nan)
    if not valid.any():
        return out
    all_valid = bool(valid.all())
    s = start_ns if all_valid else start_ns[valid]
    e = end_ns if all_valid else end_ns[valid]
    clock = _WorkClock.build(int(min(s.min(), e.min())), int(max(s.max(), e.max())), calendar)
    hours = (clock.at(e) - clock.at(s)) / HOUR_NS
    if all_valid:
        return hours
    out[valid] = hours
    return out


@dataclass(frozen=True)
class _WorkClock:
    """Working time accumulated since the first day of a day table, at any UTC instant.

    When every opening and closing instant falls on a quarter hour (true of any office hours
    given in quarter hours in any real time zone), accumulated working time is linear inside
    each 15-minute bin and is read from a table of bin edges: a few array operations per
    instant, no time zone conversion. Otherwise each instant's local day is looked up.
    """

    tz: str
    first_day: int
    opening: I64
    length: I64
    before: I64
    bin0: int | None  # first bin number when the bin table is used
    at_edges: I64 | None  # accumulated working ns at each bin edge

    @classmethod
    def build(cls, lo_ns: int, hi_ns: int, calendar: WorkingCalendar) -> _WorkClock:
        first_day = int(lo_ns // DAY_NS) - 2  # local days lie within a day of UTC days
        last_day = int(hi_ns // DAY_NS) + 2
        opening, length = calendar.day_table(first_day, last_day)
        before = np.cumsum(length) - length
        clock = cls(calendar.tz, first_day, opening, length, before, None, None)
        bin0, bin1 = lo_ns // _BIN_NS, hi_ns // _BIN_NS + 1
        working = length > 0
        aligned = not (
            (opening[working] % _BIN_NS).any() or ((opening + length)[working] % _BIN_NS).any()
        )
        if not aligned or bin1 - bin0 > _MAX_BINS:
            return clock
        edges = np.arange(bin0, bin1 + 1, dtype=np.int64) * _BIN_NS
        return cls(calendar.tz, first_day, opening, length, before, bin0, clock._exact(edges))

    def _exact(self, t: I64) -> I64:
        idx = local_days(t, self.tz) - self.first_day
        within = np.clip(t - self.opening[idx], 0, self.length[idx])
        out: I64 = self.before[idx] + within
        return out

    def at(self, t: I64) -> I64:
        """Accumulated working ns at each instant."""
        if self.at_edges is None or self.bin0 is None:
            return self._exact(t)
        rel = t - self.bin0 * _BIN_NS
        b = rel // _BIN_NS
        low = self.at_edges[b]
        # each bin is wholly working or not, so it adds 0 or one whole bin: slope 0 or 1
        working = (self.at_edges[b + 1] - low) // _BIN_NS
        out: I64 = low + working * (rel - b * _BIN_NS)
        return out


def working_hours_between(
    start: pd.Series | pd.DatetimeIndex,
    end: pd.Series | pd.DatetimeIndex,
    calendar: WorkingCalendar | None = None,
) -> F64:
    """Return the working hours elapsed between two arrays of instants.

    Parameters
    ----------
    start, end : pandas.Series or pandas.DatetimeIndex
        Time zone-aware instants of one length (for example ``created_at`` and
        ``closed_at``); missing values give NaN.
    calendar : WorkingCalendar, optional
        Default: :func:`iran_calendar` with its defaults (Friday weekend, official holidays,
        whole days).

    Returns
    -------
    numpy.ndarray of float
        Working hours; negative where ``end`` is before ``start``.

    Examples
    --------
    >>> import pandas as pd
    >>> start = pd.Series(pd.to_datetime(["2024-10-03T08:30:00Z"]))  # Thursday 12:00 Tehran
    >>> end = pd.Series(pd.to_datetime(["2024-10-05T08:30:00Z"]))  # Saturday 12:00 Tehran
    >>> working_hours_between(start, end, iran_calendar(holidays=frozenset())).tolist()
    [24.0]
    """
    if len(start) != len(end):
        msg = f"start and end must have one length, got {len(start)} and {len(end)}."
        raise InputError(msg)
    cal = calendar if calendar is not None else iran_calendar()
    return working_hours_ns(utc_ns(start, name="start"), utc_ns(end, name="end"), cal)


def wall_hours_between(
    start: pd.Series | pd.DatetimeIndex, end: pd.Series | pd.DatetimeIndex
) -> F64:
    """Return the wall-clock hours elapsed between two arrays of instants (NaN where missing).

    Examples
    --------
    >>> import pandas as pd
    >>> start = pd.Series(pd.to_datetime(["2024-10-03T08:30:00Z"]))
    >>> end = pd.Series(pd.to_datetime(["2024-10-05T08:30:00Z"]))
    >>> wall_hours_between(start, end).tolist()
    [48.0]
    """
    if len(start) != len(end):
        msg = f"start and end must have one length, got {len(start)} and {len(end)}."
        raise InputError(msg)
    s = utc_ns(start, name="start")
    e = utc_ns(end, name="end")
    valid = (s != _NAT) & (e != _NAT)
    return np.where(valid, (e - s) / HOUR_NS, np.nan)
