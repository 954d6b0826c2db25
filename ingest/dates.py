"""Vectorized parsing of Jalali and Gregorian date-times into UTC.

137 exports write dates as ``1402/07/15 14:30``, ``1402-07-15 14:30:05``, ``۱۴۰۲-۰۷-۱۵``
or ``1402/7/5``; other sources write ISO 8601 with or without an offset. A value without
an offset is local time in the given zone (Asia/Tehran by default, whose rules come from
:mod:`zoneinfo`: UTC+03:30 with daylight saving time until 2022, without since). Every
parse returns UTC and never raises on bad data: each row that cannot be read gets an
error code (:class:`ingest.quarantine.Reason`) and a short detail.

The common spellings take a fixed-width fast path over the UTF-8 bytes (numpy), the rest
a regular expression (Arrow's RE2); Jalali dates are converted with the arithmetic of
jdatetime (33-year cycle), vectorized; local times are placed with the zone's transition
table. A million strings take well under a second.

Local times that do not exist (the hour skipped when clocks went forward) or exist twice
(the hour repeated when they went back) follow :pep:`495` with ``fold=0``: the offset in
force before the transition. Such rows are flagged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError

from .arrowtext import ascii_digits, byte_view, encode, to_string_array
from .quarantine import Reason

Calendar = Literal["auto", "jalali", "gregorian"]

#: Years below this are read as Jalali when the calendar is "auto".
JALALI_BEFORE_YEAR: Final = 1700
JALALI_YEARS: Final = (1200, 1700)
GREGORIAN_YEARS: Final = (1700, 2200)

_NS: Final = 1_000_000_000
_DAY_S: Final = 86_400
_NAT: Final = np.iinfo(np.int64).min
# Days before each Jalali month (months 1-6 have 31 days, 7-11 have 30, Esfand 29 or 30).
_J_CUM: Final = np.array([0, 0, 31, 62, 93, 124, 155, 186, 216, 246, 276, 306, 336], dtype=np.int64)
_G_DAYS: Final = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)

_PATTERN: Final = (
    r"^\s*(?P<y>\d{4})[/\-.](?P<m>\d{1,2})[/\-.](?P<d>\d{1,2})"
    r"(?:(?:T|t|\s+)(?P<H>\d{1,2}):(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"\s*(?P<z>Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_SEPARATORS: Final = np.array([ord("/"), ord("-"), ord(".")], dtype=np.uint8)


@dataclass(frozen=True, eq=False)
class ParsedDates:
    """The result of :func:`parse_datetimes`.

    Attributes
    ----------
    utc : pandas.Series
        ``datetime64[ns, UTC]``; NaT where the input is empty or has an error.
    error : pandas.Series
        Categorical :class:`~ingest.quarantine.Reason` code per row, NaN where fine or empty.
    detail : pandas.Series
        Categorical short explanation of each error (``"month 13"``), NaN elsewhere.
    ambiguous : numpy.ndarray
        Rows whose local time occurred twice (clocks set back); read as the first.
    nonexistent : numpy.ndarray
        Rows whose local time was skipped (clocks set forward); read with the old offset.
    """

    utc: pd.Series
    error: pd.Series
    detail: pd.Series
    ambiguous: np.ndarray
    nonexistent: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Rows without an error (empty rows included)."""
        return np.asarray(self.error.isna().to_numpy(), dtype=bool)


# --- calendars ----------------------------------------------------------------------------


def jalali_days(
    year: np.ndarray, month: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Convert Jalali dates to days since 1970-01-01, with a validity mask.

    Uses the arithmetic of jdatetime (FarsiWeb's jalali.c, 33-year cycle), so the two agree
    on every date; Esfand 30 exists only in leap years.

    Parameters
    ----------
    year, month, day : numpy.ndarray
        Integer components (any shape, broadcast together).

    Returns
    -------
    days : numpy.ndarray
        int64 days since the Unix epoch (meaningless where invalid).
    valid : numpy.ndarray
        True where the date exists.

    Examples
    --------
    >>> days, ok = jalali_days(np.array([1402, 1402]), np.array([7, 12]), np.array([15, 30]))
    >>> (np.datetime64("1970-01-01") + days[0]).item(), ok.tolist()
    (datetime.date(2023, 10, 7), [True, False])
    """
    y = np.asarray(year, dtype=np.int64)
    m = np.asarray(month, dtype=np.int64)
    d = np.asarray(day, dtype=np.int64)
    y, m, d = np.broadcast_arrays(y, m, d)
    month_ok = (m >= 1) & (m <= 12)
    mc = np.clip(m, 1, 12)
    length = np.where(mc <= 6, 31, 30)
    esfand = np.flatnonzero(mc == 12)
    if len(esfand):
        length[esfand] = np.where(jalali_is_leap(y[esfand]), 30, 29)
    valid = month_ok & (d >= 1) & (d <= length)
    days = _jalali_ordinal(y, mc, d) - _JALALI_EPOCH
    return days, valid


def _jalali_ordinal(y: np.ndarray | int, m: np.ndarray | int, d: np.ndarray | int) -> np.ndarray:
    jy = np.asarray(y, dtype=np.int64) - 979
    cum = _J_CUM[np.asarray(m, dtype=np.int64)]
    return 365 * jy + (jy // 33) * 8 + (jy % 33 + 3) // 4 + cum + np.asarray(d, dtype=np.int64) - 1


_JALALI_EPOCH: Final = int(_jalali_ordinal(1348, 10, 11))  # 1348/10/11 is 1970-01-01


def jalali_is_leap(year: np.ndarray) -> np.ndarray:
    """Return whether each Jalali year has 366 days (Esfand 30 exists).

    Examples
    --------
    >>> jalali_is_leap(np.array([1399, 1402, 1403])).tolist()
    [True, False, True]
    """
    y = np.asarray(year, dtype=np.int64)
    return np.asarray((_jalali_ordinal(y + 1, 1, 1) - _jalali_ordinal(y, 1, 1)) == 366)


def gregorian_days(
    year: np.ndarray, month: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Convert Gregorian dates to days since 1970-01-01, with a validity mask.

    Examples
    --------
    >>> days, ok = gregorian_days(np.array([2023, 2023]), np.array([2, 2]), np.array([28, 30]))
    >>> days[0].item(), ok.tolist()
    (19416, [True, False])
    """
    y = np.asarray(year, dtype=np.int64)
    m = np.asarray(month, dtype=np.int64)
    d = np.asarray(day, dtype=np.int64)
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    mc = np.clip(m, 1, 12)
    length = _G_DAYS[mc] + ((mc == 2) & leap)
    valid = (m >= 1) & (m <= 12) & (d >= 1) & (d <= length)
    # Howard Hinnant's days_from_civil.
    yy = y - (mc <= 2)
    era = yy // 400
    yoe = yy - era * 400
    doy = (153 * np.where(mc > 2, mc - 3, mc + 9) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468, valid


# --- time zones ---------------------------------------------------------------------------


@lru_cache(maxsize=32)
def zone_transitions(tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Return a zone's UTC transition instants and the offset in force from each.

    The table comes from :mod:`zoneinfo` (probed weekly from 1850 to 2200, each change
    bisected to the second), so it follows the tzdata the system or the ``tzdata``
    package provides.

    Parameters
    ----------
    tz : str
        An IANA zone name such as ``"Asia/Tehran"``.

    Returns
    -------
    starts : numpy.ndarray
        int64 UTC seconds; ``starts[0]`` is a sentinel far in the past.
    offsets : numpy.ndarray
        int64 offset seconds in force from ``starts[k]`` until ``starts[k + 1]``.

    Raises
    ------
    InputError
        When ``tz`` is not a known zone.
    """
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        msg = (
            f"Unknown time zone {tz!r}; use an IANA name such as 'Asia/Tehran' or "
            "'America/New_York'."
        )
        raise InputError(msg) from exc

    def offset(t: int) -> int:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=t)
        delta = moment.astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    first = int(
        (datetime(1850, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
    )
    last = int(
        (datetime(2200, 1, 1, tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()
    )
    week = 7 * _DAY_S
    starts, offsets = [np.iinfo(np.int64).min // 2], [offset(first)]
    t, current = first, offsets[0]
    while t < last:
        nxt = t + week
        value = offset(nxt)
        if value != current:
            lo, hi = t, nxt  # offset(lo) == current, offset(hi) == value
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == current:
                    lo = mid
                else:
                    hi = mid
            starts.append(hi)
            offsets.append(offset(hi))
            current = offsets[-1]
        t = nxt
    return np.array(starts, dtype=np.int64), np.array(offsets, dtype=np.int64)


def local_to_utc_seconds(local_s: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place naive local wall-clock seconds in a zone: UTC seconds and DST edge masks.

    Follows :pep:`495` with ``fold=0``: a repeated local time is its first occurrence and a
    skipped one uses the offset in force before the transition.

    Parameters
    ----------
    local_s : numpy.ndarray
        int64 local wall-clock seconds since 1970-01-01T00:00 (naive).
    tz : str
        IANA zone name.

    Returns
    -------
    utc_s : numpy.ndarray
        int64 UTC seconds since the epoch.
    ambiguous, nonexistent : numpy.ndarray
        Boolean masks of repeated and skipped local times.

    Examples
    --------
    >>> utc, amb, gap = local_to_utc_seconds(np.array([1_696_689_000]), "Asia/Tehran")
    >>> int(1_696_689_000 - utc[0]) // 60, amb.tolist(), gap.tolist()
    (210, [False], [False])
    """
    starts, offsets = zone_transitions(tz)
    t = np.asarray(local_s, dtype=np.int64)
    local_start = starts + offsets
    local_start[0] = starts[0]
    local_end = np.empty_like(local_start)
    local_end[:-1] = starts[1:] + offsets[:-1]
    local_end[-1] = np.iinfo(np.int64).max
    k = np.searchsorted(local_start, t, side="right") - 1
    k = np.clip(k, 0, len(starts) - 1)
    nonexistent = t >= local_end[k]
    prev = np.clip(k - 1, 0, None)
    ambiguous = (k >= 1) & (t < local_end[prev]) & ~nonexistent
    use = np.where(ambiguous, prev, k)
    return t - offsets[use], ambiguous, nonexistent


# --- parsing ------------------------------------------------------------------------------


def _number(mat: np.ndarray, cols: Sequence[int]) -> np.ndarray:
    out = mat[:, cols[0]].astype(np.int64) - 48
    for c in cols[1:]:
        out = out * 10 + (mat[:, c].astype(np.int64) - 48)
    return out


_DIGIT_COLS: Final = {
    10: (0, 1, 2, 3, 5, 6, 8, 9),
    16: (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15),
    19: (0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18),
}


def _fixed_width(arr: pa.Array, todo: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Read the common spellings (10, 16 or 19 ASCII characters) straight from the bytes.

    ``YYYY?MM?DD``, ``YYYY?MM?DD HH:MM`` and ``YYYY?MM?DD HH:MM:SS`` with ``?`` one of
    ``/ - .`` (the same twice) and a space or ``T`` before the time.
    """
    offsets, data = byte_view(arr)
    lengths = np.diff(offsets)
    found: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
    for width, digit_cols in _DIGIT_COLS.items():
        rows = np.flatnonzero((lengths == width) & todo)
        if len(rows) == 0:
            continue
        if len(rows) == len(lengths) and len(data) == width * len(rows):
            mat = data.reshape(len(rows), width)  # every value has this width: no copy
        else:
            index_type = np.int32 if len(data) < 2**31 - width else np.int64
            starts: np.ndarray = offsets[rows].astype(index_type)
            steps: np.ndarray = np.arange(width, dtype=index_type)
            mat = data[starts[:, None] + steps]
        ok = np.ones(len(rows), dtype=bool)
        for c in digit_cols:
            ok &= (mat[:, c] - np.uint8(48)) <= 9  # uint8 wraps below "0"
        sep = mat[:, 4]
        ok &= ((sep == 47) | (sep == 45) | (sep == 46)) & (mat[:, 7] == sep)
        if width >= 16:
            ok &= ((mat[:, 10] == 32) | (mat[:, 10] == 84)) & (mat[:, 13] == 58)
        if width == 19:
            ok &= mat[:, 16] == 58
        if not ok.all():
            rows, mat = rows[ok], mat[ok]
        zeros = np.zeros(len(rows), dtype=np.int64)
        parts = {
            "y": _number(mat, (0, 1, 2, 3)),
            "m": _number(mat, (5, 6)),
            "d": _number(mat, (8, 9)),
            "H": _number(mat, (11, 12)) if width >= 16 else zeros,
            "M": _number(mat, (14, 15)) if width >= 16 else zeros,
            "S": _number(mat, (17, 18)) if width == 19 else zeros,
        }
        found.append((rows, parts))
    if len(found) == 1:
        return found[0]
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, dict.fromkeys(("y", "m", "d", "H", "M", "S"), empty)
    rows_all = np.concatenate([rows for rows, _ in found])
    return rows_all, {k: np.concatenate([parts[k] for _, parts in found]) for k in found[0][1]}


def _int_field(struct: pa.Array, name: str, default: int) -> np.ndarray:
    field = pc.struct_field(struct, name)
    field = pc.if_else(pc.equal(field, ""), pa.scalar(None, field.type), field)
    values = pc.fill_null(pc.cast(field, pa.int64()), default)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.int64)


def _zone_offsets(struct: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets in seconds of the ``z`` group and whether one was given."""
    codes, uniques = encode(struct.field("z"))
    seconds = np.zeros(len(uniques) + 1, dtype=np.int64)
    given = np.zeros(len(uniques) + 1, dtype=bool)
    for i, text in enumerate(uniques):
        if not text:
            continue
        given[i] = True
        if text in ("Z", "z", "UTC"):
            continue
        sign = -1 if text[0] == "-" else 1
        digits = text[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
        seconds[i] = sign * minutes * 60
    idx = np.where(codes < 0, len(uniques), codes)
    return seconds[idx], given[idx]


def _fraction_ns(struct: pa.Array) -> np.ndarray:
    f = struct.field("f")
    padded = pc.utf8_slice_codeunits(pc.utf8_rpad(f, 9, "0"), 0, 9)
    return np.asarray(pc.cast(padded, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _format_shape(fmt: str) -> re.Pattern[str]:
    """Return a loose regular expression of what a strptime format's output looks like."""
    pieces = {
        "Y": r"\d{4}",
        "y": r"\d{2}",
        "m": r"\d{1,2}",
        "d": r"\d{1,2}",
        "H": r"\d{1,2}",
        "I": r"\d{1,2}",
        "M": r"\d{1,2}",
        "S": r"\d{1,2}",
        "f": r"\d{1,9}",
        "p": r"(?:AM|PM|am|pm)",
        "z": r"(?:Z|[+-]\d{2}:?\d{2})",
        "b": r"[A-Za-z]{3}",
        "B": r"[A-Za-z]+",
        "j": r"\d{1,3}",
        "%": "%",
    }
    out, i = [], 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            out.append(pieces.get(fmt[i + 1], ".+?"))
            i += 2
        else:
            out.append(re.escape(fmt[i]))
            i += 1
    return re.compile(r"^\s*" + "".join(out) + r"\s*$")


_ERROR_CODES: Final = pd.Index(
    [Reason.DATE_UNPARSEABLE.value, Reason.DATE_IMPOSSIBLE.value, Reason.DATE_NO_OFFSET.value],
    dtype=object,
)
_OK, _UNPARSEABLE, _IMPOSSIBLE, _NO_OFFSET = 0, 1, 2, 3
_SPELLINGS: Final = "a date like 1402/07/15 14:30 or 2023-10-07T14:30:00+03:30"


@dataclass
class _State:
    """Per-row working arrays of one parse."""

    n: int
    tz: str
    ns: np.ndarray = field(init=False)
    code: np.ndarray = field(init=False)
    detail: np.ndarray = field(init=False)
    ambiguous: np.ndarray = field(init=False)
    nonexistent: np.ndarray = field(init=False)
    looks_right: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.ns = np.full(self.n, _NAT, dtype=np.int64)
        self.code = np.zeros(self.n, dtype=np.int8)
        self.detail = np.full(self.n, None, dtype=object)
        self.ambiguous = np.zeros(self.n, dtype=bool)
        self.nonexistent = np.zeros(self.n, dtype=bool)
        self.looks_right = np.zeros(self.n, dtype=bool)

    def place_local(self, rows: np.ndarray, local_ns: np.ndarray) -> None:
        """Store naive local nanoseconds of ``rows`` as UTC, flagging DST edges."""
        local_s = np.floor_divide(local_ns, _NS)
        utc_s, amb, gap = local_to_utc_seconds(local_s, self.tz)
        self.ns[rows] = local_ns + (utc_s - local_s) * _NS
        self.ambiguous[rows] = amb
        self.nonexistent[rows] = gap


def parse_datetimes(
    values: object,
    *,
    tz: str = "Asia/Tehran",
    calendar: Calendar = "auto",
    formats: Sequence[str] = ("auto",),
    require_offset: bool = False,
) -> ParsedDates:
    """Parse date-time strings in many spellings into UTC, reporting bad rows, never raising.

    Parameters
    ----------
    values : pandas.Series, pyarrow.Array or sequence of str
        The raw strings; null or blank means "no date" (not an error).
    tz : str
        IANA zone of values written without an offset.
    calendar : {"auto", "jalali", "gregorian"}
        How to read the year of the built-in spellings: "auto" reads years before 1700 as
        Jalali, later ones as Gregorian.
    formats : sequence of str
        :func:`~datetime.datetime.strptime` formats tried in order; ``"auto"`` stands for
        the built-in spellings (``1402/07/15 14:30``, ``1402-7-5``, ``1402.07.15``, ISO 8601
        with ``T``, seconds, fractions and offsets ``Z``, ``+03:30``, ``+0330``, ``+03``).
    require_offset : bool
        Refuse values without a UTC offset (error ``date_no_offset``).

    Returns
    -------
    ParsedDates
        UTC timestamps, error codes and DST edge masks, aligned with ``values``.

    Raises
    ------
    InputError
        Only for a bad argument (an unknown time zone), never for bad data.

    Examples
    --------
    >>> p = parse_datetimes(["1402/07/15 14:30", "۱۴۰۲-۰۷-۱۵", "2023-02-30", None])
    >>> [str(t) for t in p.utc]
    ['2023-10-07 11:00:00+00:00', '2023-10-06 20:30:00+00:00', 'NaT', 'NaT']
    >>> p.error.tolist()
    [nan, nan, 'date_impossible', nan]
    """
    zone_transitions(tz)  # fail early on an unknown zone
    index = values.index if isinstance(values, pd.Series) else None
    arr = ascii_digits(to_string_array(values))
    state = _State(len(arr), tz)
    blank = np.asarray(
        pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arr), ""), True).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    todo = ~blank
    for fmt in formats:
        if not todo.any():
            break
        if fmt == "auto":
            _parse_auto(arr, todo, state, calendar, require_offset)
        else:
            _parse_format(arr, todo, fmt, state)
        todo &= (state.code == _OK) & (state.ns == _NAT)
    # Rows no format could read: impossible if they look right, otherwise unparseable.
    state.code[todo & state.looks_right] = _IMPOSSIBLE
    state.detail[todo & state.looks_right] = "not a real date or time"
    state.code[todo & ~state.looks_right] = _UNPARSEABLE
    state.detail[todo & ~state.looks_right] = "expected " + " or ".join(
        _SPELLINGS if f == "auto" else f"the format {f!r}" for f in formats
    )
    bad = state.code != _OK
    state.ns[bad] = _NAT
    state.ambiguous &= ~bad
    state.nonexistent &= ~bad
    utc = pd.Series(state.ns.view("M8[ns]"), index=index).dt.tz_localize("UTC")
    error_codes = state.code.astype(np.int64) - 1
    error = pd.Categorical.from_codes(error_codes, categories=_ERROR_CODES)  # type: ignore[arg-type]
    bad_rows = np.flatnonzero(bad)
    detail_codes = np.full(len(arr), -1, dtype=np.int64)
    labels: list[str] = []
    if len(bad_rows):
        uniques, inverse = np.unique(state.detail[bad_rows].astype(str), return_inverse=True)
        detail_codes[bad_rows] = inverse
        labels = [str(u) for u in uniques]
    detail = pd.Categorical.from_codes(
        detail_codes,  # type: ignore[arg-type]
        categories=pd.Index(labels, dtype=object),
    )
    return ParsedDates(
        utc=utc,
        error=pd.Series(error, index=index),
        detail=pd.Series(detail, index=index),
        ambiguous=state.ambiguous,
        nonexistent=state.nonexistent,
    )


def _parse_auto(
    arr: pa.Array, todo: np.ndarray, state: _State, calendar: Calendar, require_offset: bool
) -> None:
    idx, comp = _fixed_width(arr, todo)
    zeros = np.zeros(len(idx), dtype=np.int64)
    comp["f"], comp["z"] = zeros, zeros
    has_offset = np.zeros(len(idx), dtype=bool)
    rest_mask = todo.copy()
    rest_mask[idx] = False
    rest = np.flatnonzero(rest_mask)
    if len(rest):
        sub = arr.take(pa.array(rest))
        matched = np.asarray(
            pc.fill_null(pc.match_substring_regex(sub, _PATTERN), False).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        hit = rest[matched]
        if len(hit):
            struct = pc.extract_regex(sub.filter(pa.array(matched)), _PATTERN)
            more = {name: _int_field(struct, name, 0) for name in ("y", "m", "d", "H", "M", "S")}
            more["f"] = _fraction_ns(struct)
            more["z"], given = _zone_offsets(struct)
            comp = {k: np.concatenate([comp[k], more[k]]) for k in comp}
            idx = np.concatenate([idx, hit])
            has_offset = np.concatenate([has_offset, given])
    if len(idx) == 0:
        return
    state.looks_right[idx] = True
    yy, mo, dd, hh, mi, ss = (comp[k] for k in ("y", "m", "d", "H", "M", "S"))
    if calendar == "jalali":
        jalali = np.ones(len(idx), dtype=bool)
    elif calendar == "gregorian":
        jalali = np.zeros(len(idx), dtype=bool)
    else:
        jalali = yy < JALALI_BEFORE_YEAR
    year_ok = (yy >= np.where(jalali, JALALI_YEARS[0], GREGORIAN_YEARS[0])) & (
        yy < np.where(jalali, JALALI_YEARS[1], GREGORIAN_YEARS[1])
    )
    days = np.zeros(len(idx), dtype=np.int64)
    date_ok = np.zeros(len(idx), dtype=bool)
    for use_jalali, convert in ((True, jalali_days), (False, gregorian_days)):
        sel = np.flatnonzero(jalali == use_jalali)
        if len(sel):
            days[sel], date_ok[sel] = convert(yy[sel], mo[sel], dd[sel])
    date_ok &= year_ok
    time_ok = (hh <= 23) & (mi <= 59) & (ss <= 59)
    offset_ok = has_offset | (not require_offset)
    good = date_ok & time_ok & offset_ok
    local_ns = (days * _DAY_S + hh * 3600 + mi * 60 + ss) * _NS + comp["f"]
    given = good & has_offset
    if given.any():
        state.ns[idx[given]] = local_ns[given] - comp["z"][given] * _NS
    local = good & ~has_offset
    if local.all():
        state.place_local(idx, local_ns)
    elif local.any():
        state.place_local(idx[local], local_ns[local])
    if good.all():
        return
    bad_date = ~date_ok
    state.code[idx[bad_date]] = _IMPOSSIBLE
    state.detail[idx[bad_date]] = [
        _impossible_detail(int(a), int(b), int(c), bool(j), bool(ok))
        for a, b, c, j, ok in zip(
            yy[bad_date],
            mo[bad_date],
            dd[bad_date],
            jalali[bad_date],
            year_ok[bad_date],
            strict=True,
        )
    ]
    bad_time = date_ok & ~time_ok
    state.code[idx[bad_time]] = _IMPOSSIBLE
    state.detail[idx[bad_time]] = [
        f"time {int(a):02d}:{int(b):02d}:{int(c):02d} does not exist"
        for a, b, c in zip(hh[bad_time], mi[bad_time], ss[bad_time], strict=True)
    ]
    missing = date_ok & time_ok & ~offset_ok
    state.code[idx[missing]] = _NO_OFFSET
    state.detail[idx[missing]] = "no UTC offset"


def _impossible_detail(year: int, month: int, day: int, jalali: bool, year_ok: bool) -> str:
    calendar = "Jalali" if jalali else "Gregorian"
    if not year_ok:
        return f"year {year} is out of the supported {calendar} range"
    if not 1 <= month <= 12:
        return f"month {month} does not exist"
    if jalali and month == 12 and day == 30:
        return f"Esfand 30 does not exist in {year}, which is not a leap year"
    return f"day {day} does not exist in {calendar} month {month} of {year}"


def _parse_format(arr: pa.Array, todo: np.ndarray, fmt: str, state: _State) -> None:
    rows = np.flatnonzero(todo)
    text = pd.Series(arr.take(pa.array(rows)).to_pylist(), dtype=object).str.strip()
    with_zone = "%z" in fmt or "%Z" in fmt
    parsed = pd.to_datetime(text, format=fmt, errors="coerce", utc=with_zone)
    got = parsed.notna().to_numpy()
    shape = _format_shape(fmt)
    state.looks_right[rows[~got]] |= np.array(
        [bool(shape.match(str(t))) for t in text[~got]], dtype=bool
    )
    if not got.any():
        return
    stamps = pd.DatetimeIndex(parsed[got])
    if stamps.tz is not None:
        naive = stamps.tz_convert("UTC").tz_localize(None).as_unit("ns")
        state.ns[rows[got]] = naive.to_numpy().view(np.int64)
        return
    state.place_local(rows[got], stamps.as_unit("ns").to_numpy().view(np.int64))
