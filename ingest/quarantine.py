"""Quarantine records: why a row was refused, where it was, and what to do about it.

Every input row ends in exactly one place. A row that cannot be stored goes to the
quarantine with a reason code (:class:`Reason`), the file, its 1-based line number in that
file (the record number for JSON), the column at fault, a human message in one sentence
(what, where, how to fix) and the raw source row as JSON. Phone numbers and national ids
never appear in clear in any of these: readers replace them by their keyed hash before a
record is built (see :mod:`ingest.pseudonymize`).

Rows that are kept but worth a look carry a :class:`Flag` instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Final

import numpy as np
import pandas as pd

from . import schema as s


class Reason(StrEnum):
    """Why a row was quarantined. The value is the code stored in the ``reason`` column."""

    MALFORMED_LINE = "malformed_line"
    MALFORMED_RECORD = "malformed_record"
    MISSING_ID = "missing_id"
    DATE_UNPARSEABLE = "date_unparseable"
    DATE_IMPOSSIBLE = "date_impossible"
    DATE_NO_OFFSET = "date_no_offset"
    MISSING_CREATED = "missing_created"
    CREATED_IN_FUTURE = "created_in_future"
    CLOSED_BEFORE_CREATED = "closed_before_created"
    DUPLICATE_CONFLICT = "duplicate_conflict"
    DUPLICATE_ROW = "duplicate_row"
    COORD_NON_NUMERIC = "coord_non_numeric"
    COORD_INCOMPLETE = "coord_incomplete"
    COORD_ZERO = "coord_zero"
    COORD_OUT_OF_RANGE = "coord_out_of_range"
    COORD_PLACEHOLDER = "coord_placeholder"
    OUTSIDE_CITY = "outside_city"
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_STATUS = "unknown_status"


class Flag(StrEnum):
    """Something worth a look on a row that is kept (not quarantined)."""

    UNKNOWN_CATEGORY = "unknown_category"
    QUICK_CLOSE = "quick_close"
    STATUS_DERIVED = "status_derived"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_FEEDBACK = "unknown_feedback"
    INVALID_SATISFACTION = "invalid_satisfaction"
    INVALID_REOPEN_COUNT = "invalid_reopen_count"
    INVALID_IDENTIFIER = "invalid_identifier"
    DST_AMBIGUOUS = "dst_ambiguous"
    DST_NONEXISTENT = "dst_nonexistent"
    RESPONSE_BEFORE_CREATED = "response_before_created"
    ENCODING_REPLACED = "encoding_replaced"


#: What each reason means and how to fix it; ``{value}`` and ``{detail}`` are filled in.
REASON_MESSAGES: Final[Mapping[Reason, str]] = {
    Reason.MALFORMED_LINE: (
        "the line cannot be split into the header's columns ({detail}); fix the quoting or "
        "the number of separators on that line"
    ),
    Reason.MALFORMED_RECORD: (
        "the record is not a JSON object with fields ({detail}); fix or drop it"
    ),
    Reason.MISSING_ID: "the case id is empty; every row needs the case id of the source",
    Reason.MISSING_CREATED: (
        "the creation date is empty; every case needs the date it was registered"
    ),
    Reason.DATE_UNPARSEABLE: (
        "{value} is not a date in a known spelling ({detail}); write it like 1402/07/15 14:30 "
        "or 2023-10-07T14:30:00+03:30"
    ),
    Reason.DATE_IMPOSSIBLE: "{value} is not a real date or time ({detail}); correct it",
    Reason.DATE_NO_OFFSET: (
        "{value} has no UTC offset, which this source requires; add one such as +03:30 or Z"
    ),
    Reason.CREATED_IN_FUTURE: (
        "the case is created at {value}, in the future ({detail}); check the date"
    ),
    Reason.CLOSED_BEFORE_CREATED: (
        "the case closes at {value}, before it was created ({detail}); check both dates"
    ),
    Reason.DUPLICATE_CONFLICT: (
        "case id {value} appears on several rows with different content ({detail}); keep one "
        "row per case"
    ),
    Reason.DUPLICATE_ROW: (
        "case id {value} repeats an earlier row exactly ({detail}); the earlier row is kept, "
        "so drop this one"
    ),
    Reason.COORD_NON_NUMERIC: "the coordinate {value} is not a number; write decimal degrees",
    Reason.COORD_INCOMPLETE: (
        "only one of longitude and latitude is given ({detail}); give both or neither"
    ),
    Reason.COORD_ZERO: "the point is (0, 0), a missing location written as zeros; leave both empty",
    Reason.COORD_OUT_OF_RANGE: (
        "the point {value} is outside longitude -180..180 / latitude -90..90; check the columns"
    ),
    Reason.COORD_PLACEHOLDER: (
        "the point {value} is a placeholder typed when the location is unknown ({detail}); "
        "leave the coordinates empty and give the address"
    ),
    Reason.OUTSIDE_CITY: (
        "the point {value} is outside the city beyond the snap tolerance and there is no "
        "address to fall back on ({detail}); check the coordinates"
    ),
    Reason.UNKNOWN_KIND: (
        "the request kind {value} is not known ({detail}); use a kind of data/taxonomy.yaml or "
        "add it there as an alias"
    ),
    Reason.UNKNOWN_STATUS: (
        "the status {value} is not known ({detail}); add it to the mapping's status map"
    ),
}

#: Order in which reasons win when one row has several problems (first wins).
REASON_PRIORITY: Final[tuple[Reason, ...]] = tuple(Reason)

_VALUE_CHARS: Final = 60


def _quote(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "(empty)"
    text = str(value)
    if len(text) > _VALUE_CHARS:
        text = text[: _VALUE_CHARS - 1] + "…"
    return f"«{text}»"


def where(source_file: str, row_number: int, column: str | None, *, row_label: str = "line") -> str:
    """Say where a problem is: file, 1-based line (or record) number and column.

    Parameters
    ----------
    source_file : str
        The file name (or URL) as shown to the user.
    row_number : int
        1-based line number in the file (the header is line 1), or record number.
    column : str or None
        The source column at fault, as spelled in the file.
    row_label : str
        ``"line"`` for text files, ``"record"`` for JSON, ``"row"`` for spreadsheets.

    Returns
    -------
    str
        For example ``"cases.csv, line 17, column «تاریخ ثبت»"``.

    Examples
    --------
    >>> where("a.csv", 3, "Created Date")
    'a.csv, line 3, column «Created Date»'
    """
    place = f"{source_file}, {row_label} {row_number}"
    return f"{place}, column «{column}»" if column else place


def message(
    reason: Reason,
    *,
    source_file: str,
    row_number: int,
    column: str | None,
    value: object = None,
    detail: str = "",
    row_label: str = "line",
) -> str:
    """Build the one-sentence human message of a quarantined row.

    Parameters
    ----------
    reason : Reason
        Why the row is quarantined.
    source_file, row_number, column, row_label
        Where, as for :func:`where`.
    value : object, optional
        The offending value, quoted and shortened. Never pass a phone number or national id.
    detail : str
        A short precision, such as ``"month 13"``.

    Returns
    -------
    str
        ``"<where>: <what>; <how to fix>."``

    Examples
    --------
    >>> message(Reason.MISSING_ID, source_file="a.csv", row_number=4, column="id")
    'a.csv, line 4, column «id»: the case id is empty; every row needs the case id of the source.'
    """
    text = REASON_MESSAGES[reason].format(value=_quote(value), detail=detail or "no detail")
    return f"{where(source_file, row_number, column, row_label=row_label)}: {text}."


def raw_json(record: Mapping[str, object]) -> str:
    """Serialize one raw source row (already pseudonymized) for the ``raw`` column.

    Parameters
    ----------
    record : Mapping
        Source field name to value.

    Returns
    -------
    str
        Compact JSON with Persian text kept readable; missing values become ``null``.

    Examples
    --------
    >>> raw_json({"id": "7", "x": None})
    '{"id":"7","x":null}'
    """
    clean = {str(k): (None if _missing(v) else v) for k, v in record.items()}
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":"), default=str)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and np.isnan(value)


def quarantine_frame(
    *,
    source_file: str,
    row_numbers: Sequence[int] | np.ndarray,
    reasons: Sequence[str] | np.ndarray,
    columns: Sequence[str | None] | np.ndarray,
    messages: Sequence[str] | np.ndarray,
    raw: Sequence[str] | np.ndarray,
    run_id: str | None = None,
) -> pd.DataFrame:
    """Assemble quarantine records in the layout of :data:`ingest.schema.QUARANTINE_COLUMNS`.

    Parameters
    ----------
    source_file : str
        File name (or URL without secrets) the rows come from.
    row_numbers : sequence of int
        1-based line (or record) number of each row.
    reasons : sequence of str
        A :class:`Reason` code per row.
    columns : sequence of str or None
        The source column at fault per row.
    messages : sequence of str
        The human message per row (see :func:`message`).
    raw : sequence of str
        The raw row as JSON (see :func:`raw_json`), identifiers already hashed.
    run_id : str, optional
        The ingest run, filled in by the pipeline.

    Returns
    -------
    pandas.DataFrame
        One row per quarantined input row.
    """
    n = len(row_numbers)
    frame = pd.DataFrame(
        {
            s.Q_RUN_ID: pd.array([run_id] * n, dtype="string"),
            s.Q_SOURCE_FILE: pd.array([source_file] * n, dtype="string"),
            s.Q_ROW_NUMBER: np.asarray(row_numbers, dtype=np.int64),
            s.Q_RAW: pd.array(list(raw), dtype="string"),
            s.Q_REASON: pd.array([str(r) for r in reasons], dtype="string"),
            s.Q_COLUMN: pd.array(list(columns), dtype="string"),
            s.Q_MESSAGE: pd.array(list(messages), dtype="string"),
        }
    )
    return frame.loc[:, list(s.QUARANTINE_COLUMNS)]


def empty_quarantine() -> pd.DataFrame:
    """Return a quarantine frame with no rows and the right columns and dtypes.

    Examples
    --------
    >>> list(empty_quarantine().columns) == list(s.QUARANTINE_COLUMNS)
    True
    """
    return quarantine_frame(
        source_file="", row_numbers=[], reasons=[], columns=[], messages=[], raw=[]
    )


def with_run_id(quarantine: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """Return a copy of ``quarantine`` with the ingest run id filled in.

    Parameters
    ----------
    quarantine : pandas.DataFrame
        Quarantine records.
    run_id : str
        The run id to record.

    Returns
    -------
    pandas.DataFrame
        The same records, ``run_id`` set on each.
    """
    out = quarantine.copy()
    out[s.Q_RUN_ID] = pd.array([run_id] * len(out), dtype="string")
    return out
