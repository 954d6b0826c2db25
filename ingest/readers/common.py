"""Building blocks shared by the readers: headers, identifiers, look-ups, spreadsheets."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError

from ..arrowtext import ascii_digits, encode, is_blank, take_values, to_string_array
from ..identifiers import (
    NATIONAL_ID_PREFIX,
    PHONE_PREFIX,
    NormalizedIds,
    mask_identifiers,
    mask_numbers,
    normalize_national_ids,
    normalize_phones,
)
from ..pseudonymize import Pseudonymizer
from ..quarantine import Flag, Reason, empty_quarantine, message, quarantine_frame
from ..taxonomy import match_key
from ..validate import notes
from .textfile import MalformedLine, TextTable

PathLike = str | os.PathLike[str]
_INT: Final = r"^\s*[+-]?\d+(?:\.0*)?\s*$"


def display_name(path: PathLike) -> str:
    """Return the name shown in messages for a file: its base name."""
    return Path(path).name


def read_bytes(path: PathLike) -> bytes:
    """Read a file, turning OS errors into one clear :class:`InputError`."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        msg = f"Cannot read {path}: {exc.strerror or exc}; check the path and permissions."
        raise InputError(msg) from exc


class BackgroundDigest:
    """The SHA-256 of some bytes, computed in a thread while the caller parses them.

    :mod:`hashlib` releases the GIL while it hashes a large buffer, so the ingest run's
    input digest costs no second pass over the file and little wall time.

    Parameters
    ----------
    data : bytes
        The file's content as read.

    Examples
    --------
    >>> BackgroundDigest(b"abc").hexdigest()[:16]
    'ba7816bf8f01cfea'
    """

    def __init__(self, data: bytes) -> None:
        self._digest: list[str] = []
        self._thread = threading.Thread(
            target=lambda: self._digest.append(hashlib.sha256(data).hexdigest()),
            name="t137-input-sha256",
            daemon=True,
        )
        self._thread.start()

    def hexdigest(self) -> str:
        """Wait for the hash and return it (64 hex digits)."""
        self._thread.join()
        return self._digest[0]


def resolve_columns(
    names: Sequence[str], layout: Mapping[str, Sequence[str]], *, required: Iterable[str]
) -> dict[str, str]:
    """Match a file's header names to canonical fields by their spellings.

    Parameters
    ----------
    names : sequence of str
        The header as written.
    layout : Mapping
        Field to accepted header spellings (first is the documented one); compared after
        Persian normalization, ignoring spaces, case and punctuation.
    required : iterable of str
        Fields that must be found.

    Returns
    -------
    dict
        Field to the header name as written in the file.

    Raises
    ------
    InputError
        Naming the missing fields and the header spellings they accept.
    """
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(match_key(name), name)
    found: dict[str, str] = {}
    for field, spellings in layout.items():
        for spelling in spellings:
            if (header := by_key.get(match_key(spelling))) is not None:
                found[field] = header
                break
    missing = [f for f in required if f not in found]
    if missing:
        wanted = "; ".join(f"{f}: «{layout[f][0]}»" for f in missing)
        msg = (
            f"the header lacks required columns ({wanted}); the header has "
            f"{', '.join(repr(n) for n in names[:30])}. Rename the columns or use a mapping."
        )
        raise InputError(msg)
    return found


def column(table: pa.Table, name: str | None) -> pa.Array | None:
    """Return a column of ``table`` as one string array, or None."""
    if name is None:
        return None
    return to_string_array(table.column(name))


def malformed_records(
    malformed: Sequence[MalformedLine], *, source_file: str, row_label: str = "line"
) -> pd.DataFrame:
    """Quarantine records of malformed lines (numbers in the text masked)."""
    if not malformed:
        return empty_quarantine()
    texts = mask_numbers([m.text for m in malformed]).to_pylist()
    return quarantine_frame(
        source_file=source_file,
        row_numbers=[m.line for m in malformed],
        reasons=[Reason.MALFORMED_LINE.value] * len(malformed),
        columns=[None] * len(malformed),
        messages=[
            message(
                Reason.MALFORMED_LINE,
                source_file=source_file,
                row_number=m.line,
                column=None,
                detail=m.detail,
                row_label=row_label,
            )
            for m in malformed
        ],
        raw=[json.dumps({"line": t}, ensure_ascii=False) for t in texts],
    )


def prefixed(prefix: str, values: pa.Array) -> pa.Array:
    """Return ``prefix + value`` for each value (nulls stay null)."""
    large = pa.large_string()
    return pc.binary_join_element_wise(
        pa.scalar(prefix, large), values.cast(large), pa.scalar("", large)
    )


def pseudonymize(
    table: pa.Table,
    *,
    phone: str | None,
    national_id: str | None,
    free_text: Sequence[str],
    pseudonymizer: Pseudonymizer,
) -> tuple[pa.Table, pa.Array | None, list[pd.DataFrame]]:
    """Hash the identifier columns and mask identifiers inside free text.

    Parameters
    ----------
    table : pyarrow.Table
        The rows as read.
    phone, national_id : str or None
        Source columns holding identifiers.
    free_text : sequence of str
        Source columns of free text to scan for identifiers.
    pseudonymizer : Pseudonymizer
        The keyed hash.

    Returns
    -------
    raw : pyarrow.Table
        ``table`` with identifiers replaced by their pseudonyms and free text masked.
    citizen_key : pyarrow.Array or None
        Pseudonym per row (phone first, else national id).
    notes : list of pandas.DataFrame
        ``invalid_identifier`` flags.
    """
    found: list[pd.DataFrame] = []
    phones = nids = None
    raw = table
    for name, normalize, prefix in (
        (phone, normalize_phones, PHONE_PREFIX),
        (national_id, normalize_national_ids, NATIONAL_ID_PREFIX),
    ):
        if name is None:
            continue
        valid, hashed = hash_identifiers(normalize, prefix, column(table, name), pseudonymizer)
        found.append(notes(~valid, Flag.INVALID_IDENTIFIER, name, "unexpected shape"))
        raw = raw.set_column(raw.schema.get_field_index(name), name, hashed)
        if prefix == PHONE_PREFIX:
            phones = hashed
        else:
            nids = hashed
    parts = [p for p in (phones, nids) if p is not None]
    key = None if not parts else parts[0] if len(parts) == 1 else pc.coalesce(*parts)
    for name in free_text:
        index = raw.schema.get_field_index(name)
        raw = raw.set_column(index, name, mask_identifiers(raw.column(name)))
    return raw, key, found


def hash_identifiers(
    normalize: Callable[[object], NormalizedIds],
    prefix: str,
    values: pa.Array | None,
    pseudonymizer: Pseudonymizer,
) -> tuple[np.ndarray, pa.Array]:
    """Normalize identifiers and hash them with ``prefix``, once per distinct value.

    The same as hashing ``prefix + normalize(values)`` row by row: citizens call again, so
    the distinct values are normalized and hashed, and the pseudonyms spread back over the
    rows with one look-up (one dictionary encoding of the column serves both steps).

    Parameters
    ----------
    normalize : callable
        :func:`~ingest.identifiers.normalize_phones` or ``normalize_national_ids``.
    prefix : str
        Prefix of the hashed text (:data:`~ingest.identifiers.PHONE_PREFIX`, …).
    values : pyarrow.Array or None
        The identifiers as typed.
    pseudonymizer : Pseudonymizer
        The keyed hash.

    Returns
    -------
    valid : numpy.ndarray
        Whether each row's identifier has the expected shape (blank rows are valid).
    hashed : pyarrow.Array
        ``large_string`` pseudonym per row, null where the identifier is blank.
    """
    arr = to_string_array(pa.nulls(0, pa.string()) if values is None else values)
    encoded = pc.dictionary_encode(arr)
    if 2 * len(encoded.dictionary) > len(arr):
        each = normalize(arr)
        return each.valid, pseudonymizer.hash_array(prefixed(prefix, each.value))
    distinct = normalize(encoded.dictionary)
    hashed = pseudonymizer.hash_each(prefixed(prefix, distinct.value)).take(encoded.indices)
    rows = pc.fill_null(encoded.indices, len(encoded.dictionary))
    index = np.asarray(rows.to_numpy(zero_copy_only=False), dtype=np.int64)
    valid = np.append(distinct.valid, True)  # a null is blank, and blank is valid
    return valid[index], hashed


def _per_distinct(
    normalize: Callable[[object], NormalizedIds], values: pa.Array | None
) -> NormalizedIds:
    """Normalize identifiers once per distinct value when they repeat (citizens call again)."""
    arr = to_string_array(pa.nulls(0, pa.string()) if values is None else values)
    encoded = pc.dictionary_encode(arr)
    if 2 * len(encoded.dictionary) > len(arr):
        return normalize(arr)
    distinct = normalize(encoded.dictionary)
    rows = pc.fill_null(encoded.indices, len(encoded.dictionary))
    index = np.asarray(rows.to_numpy(zero_copy_only=False), dtype=np.int64)
    valid = np.append(distinct.valid, True)  # a null is blank, and blank is valid
    return NormalizedIds(value=distinct.value.take(encoded.indices), valid=valid[index])


def lookup(
    values: pa.Array | None, table: Mapping[str, str], *, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Map texts to codes through ``table`` (keys compared by :func:`match_key`).

    Returns
    -------
    codes : numpy.ndarray
        Object array of codes, None where blank or unknown.
    unknown : numpy.ndarray
        Rows with text that matched nothing.
    """
    if values is None:
        return np.full(n, None, dtype=object), np.zeros(n, dtype=bool)
    keys = {match_key(k): v for k, v in table.items()}
    codes, uniques = encode(values)
    mapped = [keys.get(match_key(u)) for u in uniques]
    out = take_values(mapped, codes, null=None)
    unknown = pd.isna(out) & ~is_blank(values)
    return out, np.asarray(unknown, dtype=bool)


def integers(values: pa.Array | None, lo: int, hi: int, *, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Parse integers in ``lo..hi`` (any digits).

    Returns
    -------
    values : numpy.ndarray
        Object array of int, None where absent or bad.
    bad : numpy.ndarray
        Rows with text that is not such an integer.
    """
    out = np.full(n, None, dtype=object)
    if values is None:
        return out, np.zeros(n, dtype=bool)
    text = ascii_digits(values)
    is_int = np.asarray(
        pc.fill_null(pc.match_substring_regex(text, _INT), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    numbers = np.full(n, np.nan)
    if is_int.any():
        good = pc.utf8_trim_whitespace(text.filter(pa.array(is_int)))
        numbers[is_int] = pc.cast(pc.cast(good, pa.float64()), pa.float64()).to_numpy(
            zero_copy_only=False
        )
    inside = is_int & (numbers >= lo) & (numbers <= hi)
    bad = ~inside & ~is_blank(text)
    out[inside] = numbers[inside].astype(np.int64).tolist()
    return out, bad


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def read_xlsx_table(path: PathLike, *, sheet: str | int | None = None) -> TextTable:
    """Read a spreadsheet's sheet as text columns (row numbers as Excel shows them).

    Dates stored as Excel dates become ``YYYY-MM-DD HH:MM:SS`` (local wall time), whole
    numbers lose their ``.0``. A row with values beyond the header's last column is
    malformed.

    Parameters
    ----------
    path : path-like
        The ``.xlsx`` file.
    sheet : str or int, optional
        Sheet name or 0-based index; the first sheet by default.

    Returns
    -------
    TextTable
        Records, their sheet row numbers and malformed rows.

    Raises
    ------
    InputError
        When the file is not a readable workbook or has no header row.
    """
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        book = load_workbook(Path(path), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        msg = f"Cannot read {path} as an Excel workbook ({exc}); save it as .xlsx or CSV."
        raise InputError(msg) from exc
    try:
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int):
            ws = book.worksheets[sheet]
        else:
            ws = book[sheet]
        header: list[str] | None = None
        width = 0
        rows: list[list[str | None]] = []
        numbers: list[int] = []
        malformed: list[MalformedLine] = []
        blank = 0
        for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            texts = [_cell_text(c) for c in cells]
            if not any(t is not None and t.strip() for t in texts):
                if header is not None:
                    blank += 1
                continue
            if header is None:
                width = max(i + 1 for i, t in enumerate(texts) if t is not None and t.strip())
                header = _unique([(t or "").strip() for t in texts[:width]])
                continue
            extra = [t for t in texts[width:] if t is not None and t.strip()]
            if extra:
                found = width + len(extra)
                line = ",".join(t or "" for t in texts)
                malformed.append(
                    MalformedLine(number, line, f"expected {width} cells, found {found}")
                )
                continue
            padded = texts[:width] + [None] * (width - len(texts[:width]))
            rows.append(padded)
            numbers.append(number)
    finally:
        book.close()
    if header is None:
        msg = f"{path} has no header row; the first non-empty row must name the columns."
        raise InputError(msg)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    table = pa.table(
        {n: pa.array(list(c), pa.string()) for n, c in zip(header, columns, strict=True)}
    )
    return TextTable(
        table,
        np.array(numbers, dtype=np.int64),
        malformed,
        encoding="xlsx",
        replaced=np.zeros(len(numbers), dtype=bool),
        blank_lines=blank,
    )


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, raw in enumerate(names):
        name = raw or f"column_{i + 1}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}.{count}")
    return out


def encoding_notes(table: TextTable) -> list[pd.DataFrame]:
    """Flag rows holding characters that could not be decoded."""
    if not table.replaced.any():
        return []
    return [notes(table.replaced, Flag.ENCODING_REPLACED, None, f"read as {table.encoding}")]


def note_dates(parsed: Any, name: str, column_name: str) -> list[pd.DataFrame]:
    """Turn a :class:`~ingest.dates.ParsedDates`' errors and DST edges into notes."""
    out: list[pd.DataFrame] = []
    error = pd.Categorical(parsed.error)
    codes = np.asarray(error.codes)
    bad = codes >= 0
    if bad.any():
        detail = np.full(len(codes), None, dtype=object)
        details = pd.Categorical(parsed.detail)
        labels = np.append(np.asarray(details.categories, dtype=object), np.nan)
        detail[bad] = labels[np.asarray(details.codes)[bad]]  # code -1 (none) is the NaN
        for code in pd.unique(codes[bad]):
            mask = codes == code
            out.append(notes(mask, Reason(str(error.categories[code])), column_name, detail))
    out.append(notes(parsed.ambiguous, Flag.DST_AMBIGUOUS, column_name, name))
    out.append(notes(parsed.nonexistent, Flag.DST_NONEXISTENT, column_name, name))
    return out
