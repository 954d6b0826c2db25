"""Validation: from a reader's staged columns to kept cases, quarantine records and flags.

A reader parses its source into canonical columns (:class:`Staged`) and notes the problems
it met (bad dates, unknown categories, ...). :func:`finish` then checks every row, all
vectorized:

========================  ======================================================
quarantined               why
========================  ======================================================
``missing_id``            empty case id
``missing_created``       empty creation date
``date_*``                unparseable or impossible date, or no offset (Open311)
``created_in_future``     created after the time of reading
``closed_before_created`` closing earlier than creation
``duplicate_conflict``    one id on several rows with different content (all go)
``duplicate_row``         a row repeating an earlier one exactly (the first stays)
``coord_*``               coordinates non-numeric, one missing, (0, 0), out of range,
                          or a placeholder point
``unknown_kind``          a request kind the taxonomy does not know
========================  ======================================================

Flagged, kept: unknown category (mapped to ``other``), closing within minutes of opening,
a status derived from the dates, unknown channel, odd satisfaction, a response dated
before creation, and a few more (:class:`~ingest.quarantine.Flag`).

A row with several problems is quarantined once, for the first in
:data:`~ingest.quarantine.REASON_PRIORITY`. :func:`validate_cases` checks the output
contract (columns, dtypes, vocabularies) like a pandera schema would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError

from . import schema as s
from .arrowtext import ascii_digits, is_blank, strip_to_null, to_string_array
from .quarantine import REASON_PRIORITY, Flag, Reason, empty_quarantine, message, quarantine_frame
from .readers.result import ROW_INDEX_NAME, ReadResult

#: Kept rows closed this soon after creation are flagged ``quick_close``.
QUICK_CLOSE: Final = pd.Timedelta(minutes=5)
#: Creation times this far past the time of reading are still accepted (clock skew).
FUTURE_TOLERANCE: Final = pd.Timedelta(minutes=5)
#: Distance in degrees under which a point equals a placeholder point.
PLACEHOLDER_TOLERANCE_DEG: Final = 1e-6
_NUMBER: Final = r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$"
_RANK: Final = {reason: i for i, reason in enumerate(REASON_PRIORITY)}
_NONE: Final = len(REASON_PRIORITY)
#: Source columns that make two rows with one id "the same content".
_CONTENT: Final = (
    s.KIND,
    s.CATEGORY,
    s.SUBCATEGORY,
    s.DESCRIPTION,
    s.UNIT,
    *s.TIMESTAMP_COLUMNS,
    s.STATUS,
    s.CITIZEN_FEEDBACK,
    s.SATISFACTION,
    s.REOPEN_COUNT,
    s.CITIZEN_KEY,
    s.ADDRESS,
)


def empty_notes() -> pd.DataFrame:
    """Return a notes frame with no rows (:data:`ingest.schema.NOTE_COLUMNS`)."""
    return pd.DataFrame(
        {
            s.NOTE_ROW: np.zeros(0, dtype=np.int64),
            s.NOTE_CODE: pd.Series([], dtype=object),
            s.NOTE_COLUMN: pd.Series([], dtype=object),
            s.NOTE_DETAIL: pd.Series([], dtype=object),
        }
    )


def notes(
    mask: np.ndarray, code: Reason | Flag, column: str | None, detail: object = ""
) -> pd.DataFrame:
    """Note ``code`` on the rows where ``mask`` is True (``row`` is the position).

    Parameters
    ----------
    mask : numpy.ndarray
        Boolean mask over the staged rows.
    code : Reason or Flag
        The problem.
    column : str or None
        The source column concerned.
    detail : str or array-like
        One detail for all rows, or one per row of ``mask`` (only masked ones are kept).

    Returns
    -------
    pandas.DataFrame
        Rows of :data:`ingest.schema.NOTE_COLUMNS`.
    """
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    if len(rows) == 0:
        return empty_notes()
    if isinstance(detail, str):
        details: Any = [detail] * len(rows)
    else:
        details = np.asarray(detail, dtype=object)[rows]
    return pd.DataFrame(
        {
            s.NOTE_ROW: rows.astype(np.int64),
            s.NOTE_CODE: [code.value] * len(rows),
            s.NOTE_COLUMN: [column] * len(rows),
            s.NOTE_DETAIL: list(details),
        }
    )


@dataclass(eq=False)
class Staged:
    """A source parsed into canonical columns, before validation.

    Attributes
    ----------
    source : str
        The case source label.
    source_file : str
        File name or URL shown in messages.
    row_numbers : numpy.ndarray
        int64 1-based row number of each staged row in the source.
    raw : pyarrow.Table
        The rows as read (text), identifiers already hashed; used for quarantine records.
    values : dict
        Canonical column name to values (length n). Timestamps are UTC Series; ``lon``
        and ``lat`` are the raw text (parsed and checked here); missing columns are null.
    columns : Mapping
        Canonical column name to the source column it came from (for messages).
    notes : list of pandas.DataFrame
        Problems and flags found while parsing (see :func:`notes`).
    rejected : pandas.DataFrame
        Rows already quarantined while reading (malformed lines), not among ``values``.
    row_label : str
        ``line``, ``row`` or ``record``.
    encoding : str or None
        Detected text encoding.
    blank_lines : int
        Skipped blank lines.
    placeholders : sequence of (lon, lat)
        Points typed when the location is unknown.
    events : pandas.DataFrame or None
        Case events, when the source has them.
    """

    source: str
    source_file: str
    row_numbers: np.ndarray
    raw: pa.Table
    values: dict[str, Any]
    columns: Mapping[str, str]
    notes: list[pd.DataFrame] = field(default_factory=list)
    rejected: pd.DataFrame = field(default_factory=empty_quarantine)
    row_label: str = "line"
    encoding: str | None = None
    blank_lines: int = 0
    placeholders: Sequence[tuple[float, float]] = ()
    events: pd.DataFrame | None = None

    @property
    def n(self) -> int:
        """Number of staged rows."""
        return len(self.row_numbers)


# --- coordinates --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Coordinates:
    """Parsed coordinates and the problem of each row (None where fine or absent)."""

    lon: np.ndarray
    lat: np.ndarray
    reason: np.ndarray
    detail: np.ndarray
    bad_column: np.ndarray


def _as_number_text(arr: pa.Array) -> pa.Array:
    text = ascii_digits(to_string_array(arr))
    # The Persian decimal separator (٫) and the slash Persian typists use for it.
    return pc.replace_substring_regex(text, r"^\s*([+-]?\d+)\s*[٫/,]\s*(\d+)\s*$", r"\1.\2")


def _as_array(values: object) -> pa.Array:
    if isinstance(values, np.ndarray) and values.dtype.kind in "fi":
        return pa.array(values, type=pa.float64(), from_pandas=True)
    return to_string_array(values)


def _matches(arr: pa.Array, pattern: str) -> np.ndarray:
    """Return whether each value matches ``pattern`` (False for null)."""
    hit = pc.fill_null(pc.match_substring_regex(arr, pattern), False)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def _to_float(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (values, blank mask, non-numeric mask)."""
    if pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type):
        values = np.array(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), float)
        blank = np.isnan(values)
        return values, blank, np.zeros(len(values), dtype=bool)
    stripped = strip_to_null(arr)
    try:  # the common case: plain ASCII decimals
        values = np.array(
            pc.cast(stripped, pa.float64()).to_numpy(zero_copy_only=False), dtype=float
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    else:
        blank = np.asarray(pc.is_null(stripped).to_numpy(zero_copy_only=False), dtype=bool)
        bad = ~blank & ~np.isfinite(values)
        values[bad] = np.nan
        return values, blank, bad
    # Rows already written as plain ASCII numbers are read as they are (the Persian digits
    # and decimal separators of the others cannot change them); only the rest is rewritten.
    arr = to_string_array(arr)
    numeric = _matches(arr, _NUMBER)
    empty = pc.fill_null(pc.equal(pc.binary_length(arr), 0), True)
    blank = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    values = np.full(len(arr), np.nan)
    if numeric.any():
        good = arr.filter(pa.array(numeric))
        values[numeric] = pc.cast(pc.utf8_trim_whitespace(good), pa.float64()).to_numpy(
            zero_copy_only=False
        )
    rest = np.flatnonzero(~numeric & ~blank)
    if len(rest):
        text = _as_number_text(arr.take(pa.array(rest)))
        blank[rest] = is_blank(text)
        rest_numeric = _matches(text, _NUMBER)
        if rest_numeric.any():
            good = text.filter(pa.array(rest_numeric))
            values[rest[rest_numeric]] = pc.cast(
                pc.utf8_trim_whitespace(good), pa.float64()
            ).to_numpy(zero_copy_only=False)
        numeric[rest] = rest_numeric
    bad = ~blank & ~numeric
    finite = np.isfinite(values)
    bad |= numeric & ~finite
    values[~finite] = np.nan
    return values, blank, bad


def check_coordinates(
    lon: object,
    lat: object,
    *,
    placeholders: Sequence[tuple[float, float]] = (),
    lon_column: str = s.LON,
    lat_column: str = s.LAT,
) -> Coordinates:
    """Parse longitude/latitude text and find the rows whose point must be refused.

    Parameters
    ----------
    lon, lat : array-like
        Raw values (text or numbers); blank means "no point".
    placeholders : sequence of (lon, lat)
        Points typed when the location is unknown.
    lon_column, lat_column : str
        Source column names, for the result's ``bad_column``.

    Returns
    -------
    Coordinates
        Degrees (NaN where absent or refused), and per row a Reason code or None.

    Examples
    --------
    >>> c = check_coordinates(["51.4", "0", "abc", "", "200"], ["35.7", "0", "35", "", "35"])
    >>> c.reason.tolist()
    [None, 'coord_zero', 'coord_non_numeric', None, 'coord_out_of_range']
    """
    x, x_blank, x_bad = _to_float(_as_array(lon))
    y, y_blank, y_bad = _to_float(_as_array(lat))
    n = len(x)
    reason = np.full(n, None, dtype=object)
    detail = np.full(n, None, dtype=object)
    column = np.full(n, None, dtype=object)
    taken = np.zeros(n, dtype=bool)  # rows with a reason (the first one put wins)

    def put(mask: np.ndarray, code: Reason, text: object, col: object) -> None:
        mask = mask & ~taken
        if not mask.any():
            return
        taken[mask] = True
        reason[mask] = code.value
        detail[mask] = text if isinstance(text, str) else np.asarray(text)[mask].astype(object)
        column[mask] = col if isinstance(col, str) else np.asarray(col)[mask].astype(object)

    put(x_bad | y_bad, Reason.COORD_NON_NUMERIC, "", np.where(x_bad, lon_column, lat_column))
    one = x_blank ^ y_blank
    put(
        one,
        Reason.COORD_INCOMPLETE,
        np.where(x_blank, "longitude empty", "latitude empty"),
        np.where(x_blank, lon_column, lat_column),
    )
    both = ~np.isnan(x) & ~np.isnan(y)
    put(both & (x == 0) & (y == 0), Reason.COORD_ZERO, "", lon_column)
    out = both & ((np.abs(x) > 180) | (np.abs(y) > 90))
    put(out, Reason.COORD_OUT_OF_RANGE, "", np.where(np.abs(x) > 180, lon_column, lat_column))
    for px, py in placeholders:
        hit = (
            both
            & (np.abs(x - px) <= PLACEHOLDER_TOLERANCE_DEG)
            & (np.abs(y - py) <= PLACEHOLDER_TOLERANCE_DEG)
        )
        put(hit, Reason.COORD_PLACEHOLDER, f"placeholder ({px}, {py})", lon_column)
    refused = taken
    x[refused | ~both] = np.nan
    y[refused | ~both] = np.nan
    return Coordinates(lon=x, lat=y, reason=reason, detail=detail, bad_column=column)


# --- status -------------------------------------------------------------------------------


def derive_status(
    created: pd.Series, referred: pd.Series, first_response: pd.Series, closed: pd.Series
) -> np.ndarray:
    """Return the status implied by the lifecycle dates (for rows whose status is unknown).

    Examples
    --------
    >>> t = pd.Series(pd.to_datetime(["2023-01-01", None], utc=True))
    >>> nat = pd.Series(pd.to_datetime([None, None], utc=True))
    >>> derive_status(t, nat, nat, t).tolist()
    ['closed', 'registered']
    """
    out = np.full(len(created), "registered", dtype=object)
    out[referred.notna().to_numpy()] = "referred"
    out[first_response.notna().to_numpy()] = "answered"
    out[closed.notna().to_numpy()] = "closed"
    return out


# --- the canonical frame ------------------------------------------------------------------

#: Categorical columns whose categories are a fixed vocabulary.
VOCABULARIES: Final[Mapping[str, tuple[str, ...]]] = {
    s.CHANNEL: s.CHANNELS,
    s.KIND: s.KINDS,
    s.STATUS: s.STATUSES,
    s.CITIZEN_FEEDBACK: s.FEEDBACKS,
    s.GEOCODE_PRECISION: s.GEOCODE_PRECISIONS,
}
TIMESTAMP_DTYPE: Final = pd.DatetimeTZDtype("ns", "UTC")
#: Columns of a reader's case frame: the canonical ones, then the source's own status text.
READER_CASE_COLUMNS: Final = s.CASE_COLUMNS


def _object(values: object, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, None, dtype=object)
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return _strings_to_objects(to_string_array(values))
    out = np.asarray(values, dtype=object)
    if out.shape != (n,):
        out = np.full(n, values, dtype=object)
    return out


_FEW: Final = 1_000


def _strings_to_objects(arr: pa.Array) -> np.ndarray:
    """Return strings as an object array (None for null), building each distinct one once.

    Making Python strings from non-ASCII UTF-8 is the cost; a Persian column of few distinct
    values (status text, descriptions, addresses) makes each once and shares it.
    """
    direct = len(arr) <= _FEW or pc.all(pc.string_is_ascii(arr), skip_nulls=True).as_py() in (
        True,
        None,
    )
    encoded = None if direct else pc.dictionary_encode(arr)
    if encoded is None or 2 * len(encoded.dictionary) > len(arr):
        return np.asarray(arr.to_numpy(zero_copy_only=False), dtype=object)
    uniques = np.empty(len(encoded.dictionary) + 1, dtype=object)
    uniques[:-1] = encoded.dictionary.to_numpy(zero_copy_only=False)
    uniques[-1] = None
    codes = pc.fill_null(encoded.indices, len(encoded.dictionary))
    return uniques[np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)]


def _categorical(values: np.ndarray, categories: Sequence[str] | None) -> pd.Categorical:
    """``pd.Categorical(values, categories)`` (default: the sorted values as text).

    The values are hashed once: their distinct values are matched with the categories (as
    the Categorical constructor would match them) and the codes spread back.
    """
    codes, uniques = pd.factorize(values, sort=False, use_na_sentinel=True)
    if categories is None:
        categories = sorted(str(v) for v in uniques)
    index = pd.Index(list(categories), dtype=object)
    if not index.is_unique:  # let the constructor refuse them as it does
        return pd.Categorical(values, categories=list(categories))
    to_category = np.append(index.get_indexer(pd.Index(uniques, dtype=object)), -1)
    return pd.Categorical.from_codes(to_category[codes], categories=index)  # type: ignore[arg-type]


def build_frame(values: Mapping[str, Any], n: int) -> pd.DataFrame:
    """Assemble the canonical case columns (plus ``status_raw``) with their dtypes.

    Parameters
    ----------
    values : Mapping
        Column name to values of length ``n`` (missing columns become null).
    n : int
        Number of rows.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`READER_CASE_COLUMNS`.
    """
    data: dict[str, Any] = {}
    for name in READER_CASE_COLUMNS:
        value = values.get(name)
        if name in s.TIMESTAMP_COLUMNS:
            if value is None:
                data[name] = pd.Series(pd.NaT, index=range(n), dtype=TIMESTAMP_DTYPE).array
            else:
                data[name] = _utc_series(value).array
        elif name in s.FLOAT_COLUMNS:
            data[name] = np.full(n, np.nan) if value is None else np.asarray(value, np.float64)
        elif name == s.SATISFACTION:
            data[name] = pd.array([None] * n if value is None else value, dtype="Int8")
        elif name == s.REOPEN_COUNT:
            data[name] = pd.array([0] * n if value is None else value, dtype="Int16")
        elif name in s.CATEGORICAL_COLUMNS:
            data[name] = _categorical(_object(value, n), VOCABULARIES.get(name))
        else:
            data[name] = _object(value, n)
    return pd.DataFrame(data, copy=False)


def validate_cases(frame: pd.DataFrame, *, what: str = "cases") -> None:
    """Check a reader's case frame against the canonical schema.

    Parameters
    ----------
    frame : pandas.DataFrame
        Cases from a reader.
    what : str
        Name used in messages.

    Raises
    ------
    InputError
        On a missing column, a wrong dtype, a value outside a vocabulary, a missing
        required value, a bad range, or a duplicated case key.
    """
    missing = [c for c in s.CASE_COLUMNS if c not in frame.columns]
    if missing:
        msg = f"{what} lacks the columns {missing}; readers must emit ingest.schema.CASE_COLUMNS."
        raise InputError(msg)
    for name in s.TIMESTAMP_COLUMNS:
        if frame[name].dtype != TIMESTAMP_DTYPE:
            msg = f"{what} column {name!r} is {frame[name].dtype}, expected datetime64[ns, UTC]."
            raise InputError(msg)
    for name, vocabulary in VOCABULARIES.items():
        column = frame[name]
        if not isinstance(column.dtype, pd.CategoricalDtype) or list(column.cat.categories) != list(
            vocabulary
        ):
            msg = f"{what} column {name!r} must be categorical over {vocabulary}."
            raise InputError(msg)
    for name in s.REQUIRED_CASE_COLUMNS:
        if frame[name].isna().any():
            msg = f"{what} column {name!r} has missing values; such rows must be quarantined."
            raise InputError(msg)
    sat = frame[s.SATISFACTION].dropna()
    if len(sat) and (sat.min() < 1 or sat.max() > 5):
        msg = f"{what} column 'satisfaction' must lie in 1..5."
        raise InputError(msg)
    lon, lat = frame[s.LON].to_numpy(), frame[s.LAT].to_numpy()
    if (np.abs(lon[~np.isnan(lon)]) > 180).any() or (np.abs(lat[~np.isnan(lat)]) > 90).any():
        msg = f"{what} has coordinates out of range."
        raise InputError(msg)
    sources = frame[s.SOURCE]
    one_source = len(frame) == 0 or bool((sources == sources.iloc[0]).all())
    keys = frame[s.CASE_ID] if one_source and s.CASE_KEY == (s.SOURCE, s.CASE_ID) else None
    if (frame[list(s.CASE_KEY)].duplicated() if keys is None else keys.duplicated()).any():
        msg = f"{what} has duplicated (source, case_id) keys."
        raise InputError(msg)


# --- finishing ----------------------------------------------------------------------------


class _Verdict:
    """The winning quarantine reason of each row."""

    def __init__(self, n: int) -> None:
        self.rank = np.full(n, _NONE, dtype=np.int64)
        self.column = np.full(n, None, dtype=object)
        self.detail = np.full(n, None, dtype=object)

    def put(self, rows: np.ndarray, reason: Reason, column: object, detail: object) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        rank = _RANK[reason]
        columns = np.broadcast_to(np.asarray(column, dtype=object), rows.shape)
        details = np.broadcast_to(np.asarray(detail, dtype=object), rows.shape)
        better = rank < self.rank[rows]
        rows, columns, details = rows[better], columns[better], details[better]
        self.rank[rows] = rank
        self.column[rows] = columns
        self.detail[rows] = details

    @property
    def refused(self) -> np.ndarray:
        return self.rank < _NONE


def _utc_series(value: object) -> pd.Series:
    """Return timestamps as a UTC Series with a fresh 0..n-1 index (no object round trip)."""
    series = value if isinstance(value, pd.Series) else pd.Series(value)
    series = series.reset_index(drop=True)
    if series.dtype != TIMESTAMP_DTYPE:
        series = pd.to_datetime(series, utc=True).astype(TIMESTAMP_DTYPE)
    return series


def _timestamps(values: Mapping[str, Any], name: str, n: int) -> pd.Series:
    value = values.get(name)
    if value is None:
        return pd.Series(pd.NaT, index=range(n), dtype=TIMESTAMP_DTYPE)
    return _utc_series(value)


def finish(
    staged: Staged,
    *,
    now: pd.Timestamp | None = None,
    quick_close: pd.Timedelta = QUICK_CLOSE,
    future_tolerance: pd.Timedelta = FUTURE_TOLERANCE,
) -> ReadResult:
    """Validate staged rows and build the reader's result.

    Parameters
    ----------
    staged : Staged
        The parsed source.
    now : pandas.Timestamp, optional
        The time of reading (UTC now by default); later creation dates are refused.
    quick_close : pandas.Timedelta
        Closings sooner than this after creation are flagged.
    future_tolerance : pandas.Timedelta
        Clock skew allowed on creation dates.

    Returns
    -------
    ReadResult
        Kept cases, quarantine records and flags; ``rows_read = kept + quarantined``.
    """
    n = staged.n
    values = dict(staged.values)
    col = staged.columns
    verdict = _Verdict(n)
    flag_notes: list[pd.DataFrame] = []
    for frame in staged.notes:
        if frame.empty:
            continue
        codes = frame[s.NOTE_CODE].astype(str)
        is_reason = codes.isin([r.value for r in Reason]).to_numpy()
        for code, group in frame[is_reason].groupby(codes[is_reason], sort=False):
            verdict.put(
                group[s.NOTE_ROW].to_numpy(),
                Reason(str(code)),
                group[s.NOTE_COLUMN].to_numpy(dtype=object),
                group[s.NOTE_DETAIL].to_numpy(dtype=object),
            )
        flag_notes.append(frame[~is_reason])

    ids = to_string_array(
        pa.nulls(n, pa.string()) if values.get(s.CASE_ID) is None else values[s.CASE_ID]
    )
    ids = pc.utf8_trim_whitespace(ids)
    values[s.CASE_ID] = ids
    no_id = is_blank(ids)
    verdict.put(np.flatnonzero(no_id), Reason.MISSING_ID, col.get(s.CASE_ID), "")

    created = _timestamps(values, s.CREATED_AT, n)
    closed = _timestamps(values, s.CLOSED_AT, n)
    no_created = created.isna().to_numpy()
    verdict.put(np.flatnonzero(no_created), Reason.MISSING_CREATED, col.get(s.CREATED_AT), "")
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now).tz_convert("UTC")
    future = (created > now + future_tolerance).to_numpy()
    verdict.put(
        np.flatnonzero(future),
        Reason.CREATED_IN_FUTURE,
        col.get(s.CREATED_AT),
        f"read at {now:%Y-%m-%d %H:%M} UTC",
    )
    span = closed - created
    before = (span < pd.Timedelta(0)).to_numpy()
    verdict.put(
        np.flatnonzero(before),
        Reason.CLOSED_BEFORE_CREATED,
        col.get(s.CLOSED_AT),
        [f"created {c:%Y-%m-%d %H:%M} UTC" for c in created[before]],
    )
    quick = ((span >= pd.Timedelta(0)) & (span < quick_close)).to_numpy()
    flag_notes.append(
        notes(
            quick,
            Flag.QUICK_CLOSE,
            col.get(s.CLOSED_AT),
            f"closed within {quick_close.total_seconds() / 60:g} minutes",
        )
    )
    for name in (s.REFERRED_AT, s.FIRST_RESPONSE_AT):
        early = (_timestamps(values, name, n) < created).to_numpy()
        flag_notes.append(notes(early, Flag.RESPONSE_BEFORE_CREATED, col.get(name), name))

    nothing = pa.nulls(n, pa.string())
    coords = check_coordinates(
        nothing if values.get(s.LON) is None else values[s.LON],
        nothing if values.get(s.LAT) is None else values[s.LAT],
        placeholders=staged.placeholders,
        lon_column=col.get(s.LON, s.LON),
        lat_column=col.get(s.LAT, s.LAT),
    )
    for code in np.unique(coords.reason[coords.reason != None]).tolist():  # noqa: E711
        rows = np.flatnonzero(coords.reason == code)
        verdict.put(rows, Reason(code), coords.bad_column[rows], coords.detail[rows])
    values[s.LON], values[s.LAT] = coords.lon, coords.lat

    kind = _object(values.get(s.KIND), n)
    no_kind = pd.isna(kind)
    verdict.put(
        np.flatnonzero(no_kind), Reason.UNKNOWN_KIND, col.get(s.KIND), "not in the taxonomy"
    )

    frame = build_frame(values, n)
    _duplicates(frame, verdict, staged, col.get(s.CASE_ID))

    refused = verdict.refused
    keep = ~refused
    frame[s.SOURCE] = staged.source
    geo_known = ~np.isnan(coords.lon)
    precision = np.where(geo_known, "point", "none").astype(object)
    frame[s.GEOCODE_PRECISION] = pd.Categorical(precision, categories=list(s.GEOCODE_PRECISIONS))
    status = frame[s.STATUS]
    no_status = status.isna().to_numpy()
    if no_status.any():
        derived = derive_status(
            frame[s.CREATED_AT],
            frame[s.REFERRED_AT],
            frame[s.FIRST_RESPONSE_AT],
            frame[s.CLOSED_AT],
        )
        filled = np.where(no_status, derived, status.astype(object).to_numpy())
        frame[s.STATUS] = pd.Categorical(filled, categories=list(s.STATUSES))
        flag_notes.append(
            notes(no_status, Flag.STATUS_DERIVED, col.get(s.STATUS), "from the dates")
        )

    positions = np.flatnonzero(keep)
    cases = frame if len(positions) == n else frame.take(positions)
    labels = staged.row_numbers[positions]
    cases.index = pd.Index(labels, name=ROW_INDEX_NAME)
    for name in (s.CATEGORY, s.SUBCATEGORY, s.UNIT):
        cases[name] = cases[name].cat.remove_unused_categories()
    validate_cases(cases, what=f"{staged.source_file} cases")

    flags = pd.concat([f for f in flag_notes if not f.empty] or [empty_notes()], ignore_index=True)
    label_of = np.full(n, -1, dtype=np.int64)
    label_of[positions] = labels
    if not flags.empty:
        rows = flags[s.NOTE_ROW].to_numpy(dtype=np.int64)
        flags = flags[keep[rows]].copy()
        flags[s.NOTE_ROW] = label_of[flags[s.NOTE_ROW].to_numpy(dtype=np.int64)]
        flags = flags.drop_duplicates([s.NOTE_ROW, s.NOTE_CODE, s.NOTE_COLUMN])
        flags = flags.sort_values(s.NOTE_ROW, kind="stable", ignore_index=True)

    quarantine = _quarantine(staged, verdict)
    return ReadResult(
        source=staged.source,
        source_file=staged.source_file,
        cases=cases,
        quarantine=quarantine,
        flags=flags.reset_index(drop=True),
        rows_read=n + len(staged.rejected),
        raw_table=staged.raw,
        raw_rows=None if len(positions) == n else positions,
        events=staged.events,
        row_label=staged.row_label,
        encoding=staged.encoding,
        blank_lines=staged.blank_lines,
    )


def _duplicates(frame: pd.DataFrame, verdict: _Verdict, staged: Staged, column: str | None) -> None:
    """Quarantine repeated ids among otherwise valid rows.

    Rows repeating an earlier row exactly go (the first stays); when the rows of one id
    differ, all of them go, since nothing says which is right.
    """
    ids = frame[s.CASE_ID]
    candidates = np.flatnonzero(~verdict.refused & ids.notna().to_numpy())
    repeated = ids.iloc[candidates].duplicated(keep=False).to_numpy()
    rows = candidates[repeated]
    if len(rows) == 0:
        return
    content = [c for c in _CONTENT if c in frame.columns]
    sub = frame.iloc[rows]
    keys = sub[content].astype(object).astype(str).agg("\x1f".join, axis=1).to_numpy()
    row_numbers = staged.row_numbers
    label = staged.row_label
    for members in pd.Series(rows).groupby(sub[s.CASE_ID].to_numpy(), sort=False).indices.values():
        member_rows = rows[members]
        lines = ", ".join(str(int(row_numbers[m])) for m in member_rows[:8])
        if len(set(keys[members].tolist())) > 1:
            verdict.put(member_rows, Reason.DUPLICATE_CONFLICT, column, f"{label}s {lines}")
        else:
            first = int(row_numbers[member_rows[0]])
            verdict.put(member_rows[1:], Reason.DUPLICATE_ROW, column, f"same as {label} {first}")


def _quarantine(staged: Staged, verdict: _Verdict) -> pd.DataFrame:
    rows = np.flatnonzero(verdict.refused)
    parts = [staged.rejected] if len(staged.rejected) else []
    if len(rows):
        raw_rows = staged.raw.take(pa.array(rows)).to_pylist()
        reasons = [REASON_PRIORITY[r] for r in verdict.rank[rows]]
        columns = verdict.column[rows]
        messages = []
        for raw, reason, column, detail, row in zip(
            raw_rows, reasons, columns, verdict.detail[rows], rows, strict=True
        ):
            value = raw.get(column) if column and reason != Reason.MISSING_ID else None
            if reason in (Reason.DUPLICATE_CONFLICT, Reason.DUPLICATE_ROW):
                value = raw.get(column) if column else None
            messages.append(
                message(
                    reason,
                    source_file=staged.source_file,
                    row_number=int(staged.row_numbers[row]),
                    column=column,
                    value=value,
                    detail="" if detail is None else str(detail),
                    row_label=staged.row_label,
                )
            )
        parts.append(
            quarantine_frame(
                source_file=staged.source_file,
                row_numbers=staged.row_numbers[rows],
                reasons=[r.value for r in reasons],
                columns=list(columns),
                messages=messages,
                raw=[json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in raw_rows],
            )
        )
    if not parts:
        return empty_quarantine()
    out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return out.sort_values(s.Q_ROW_NUMBER, kind="stable", ignore_index=True)
