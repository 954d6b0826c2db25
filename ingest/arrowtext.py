"""Vectorized string kernels on Arrow arrays, for columns of a million values.

Readers hold every source column as an Arrow string array. These helpers turn any input
into such an array, turn Persian and Arabic-Indic digits into ASCII at the byte level (no
Python loop), trim white space and map a function over the distinct values only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")


def to_string_array(values: object) -> pa.Array:
    """Return ``values`` as one Arrow string array (nulls kept, other scalars as text).

    Parameters
    ----------
    values : pandas.Series, pyarrow.Array, pyarrow.ChunkedArray or sequence
        Text values; numbers are written with :func:`str`, missing values stay null.

    Returns
    -------
    pyarrow.Array
        A single-chunk ``string`` or ``large_string`` array.

    Examples
    --------
    >>> to_string_array(["a", None, 3]).to_pylist()
    ['a', None, '3']
    """
    if isinstance(values, pa.ChunkedArray):
        arr: pa.Array = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    elif isinstance(values, pa.Array):
        arr = values
    else:
        series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)  # type: ignore[call-overload]
        if isinstance(series.dtype, pd.ArrowDtype) or pd.api.types.is_string_dtype(series.dtype):
            try:
                arr = pa.array(series, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                arr = _from_objects(series)
        else:
            arr = _from_objects(series)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type == pa.null():
        arr = pa.nulls(len(arr), pa.large_string())
    elif not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.large_string())
    return arr


def _from_objects(series: pd.Series) -> pa.Array:
    mask = series.isna().to_numpy()
    text = [None if m else str(v) for v, m in zip(series.to_numpy(dtype=object), mask, strict=True)]
    return pa.array(text, type=pa.large_string())


def _buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Return (offsets relative to the data start, data bytes) of a string array."""
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=offset_type)[arr.offset : arr.offset + len(arr) + 1]
    offsets = offsets.astype(np.int64)
    data = (
        np.frombuffer(bufs[2], dtype=np.uint8)
        if bufs[2] is not None
        else np.zeros(0, dtype=np.uint8)
    )
    start, end = int(offsets[0]), int(offsets[-1])
    return offsets - start, data[start:end]


def byte_view(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Return the offsets (int64, ``len + 1``) and UTF-8 bytes of a string array.

    Parameters
    ----------
    arr : pyarrow.Array
        A ``string`` or ``large_string`` array.

    Returns
    -------
    tuple of numpy.ndarray
        ``offsets`` such that value ``i`` is ``data[offsets[i]:offsets[i + 1]]``, and ``data``.
    """
    return _buffers(arr)


def ascii_digits(arr: pa.Array) -> pa.Array:
    """Replace Persian (۰–۹) and Arabic-Indic (٠–٩) digits with ASCII digits, vectorized.

    Parameters
    ----------
    arr : pyarrow.Array
        A string array (see :func:`to_string_array`).

    Returns
    -------
    pyarrow.Array
        A ``large_string`` array with the same nulls; unchanged when already ASCII-only.

    Examples
    --------
    >>> ascii_digits(to_string_array(["۱۴۰۲/٠٧/15", None])).to_pylist()
    ['1402/07/15', None]
    """
    arr = to_string_array(arr)
    if len(arr) == 0:
        return arr
    other = pc.invert(pc.fill_null(pc.string_is_ascii(arr), True))
    count = pc.sum(other).as_py() or 0
    if count == 0:
        return arr
    large = arr.cast(pa.large_string())
    if 2 * count > len(arr):
        return _map_pairs(large, _LUT_DIGITS)
    # Few values hold other digits (or letters): rewrite those only.
    return pc.replace_with_mask(large, other, _map_pairs(large.filter(other), _LUT_DIGITS))


def strip_to_null(arr: pa.Array) -> pa.Array:
    """Trim white space; values left empty become null.

    Examples
    --------
    >>> strip_to_null(to_string_array([" a ", "  ", None])).to_pylist()
    ['a', None, None]
    """
    arr = pc.utf8_trim_whitespace(to_string_array(arr))
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def is_blank(arr: pa.Array) -> np.ndarray:
    """Return a boolean mask of null or white-space-only values.

    Examples
    --------
    >>> is_blank(to_string_array(["a", " ", None])).tolist()
    [False, True, True]
    """
    stripped = pc.utf8_trim_whitespace(to_string_array(arr))
    blank = pc.fill_null(pc.equal(stripped, ""), True)
    return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)


def map_unique(arr: pa.Array, func: Callable[[str], T], *, null: T) -> list[T]:
    """Apply ``func`` to each distinct non-null value once and spread the results.

    Parameters
    ----------
    arr : pyarrow.Array
        Strings, typically of low cardinality (status, category, unit).
    func : callable
        Applied to each distinct value.
    null : object
        The result for null entries.

    Returns
    -------
    list
        One result per entry of ``arr``.

    Examples
    --------
    >>> map_unique(to_string_array(["a", "b", "a", None]), str.upper, null="")
    ['A', 'B', 'A', '']
    """
    codes, uniques = encode(arr)
    mapped = [func(u) for u in uniques]
    table: list[T] = [*mapped, null]
    idx = np.where(codes < 0, len(mapped), codes)
    return [table[i] for i in idx.tolist()]


def map_array_distinct(arr: pa.Array, func: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """Apply an element-wise array function to the distinct values only, when they are few.

    Parameters
    ----------
    arr : pyarrow.Array
        Strings.
    func : callable
        Takes and returns a string array of the same length; each output value must
        depend on its input value only.

    Returns
    -------
    pyarrow.Array
        ``func(arr)``, computed on the distinct values and spread back when there are at
        most half as many as values (addresses, canned descriptions), else directly.

    Examples
    --------
    >>> map_array_distinct(to_string_array(["a", None, "a"]), pc.utf8_upper).to_pylist()
    ['A', None, 'A']
    """
    arr = to_string_array(arr)
    encoded = pc.dictionary_encode(arr, null_encoding="encode")
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    if 2 * len(encoded.dictionary) > len(arr):
        return func(arr)
    mapped = func(encoded.dictionary)
    return mapped.take(encoded.indices)


def encode(arr: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Dictionary-encode strings: integer codes (-1 for null) and the distinct values.

    Examples
    --------
    >>> codes, uniques = encode(to_string_array(["x", None, "x", "y"]))
    >>> codes.tolist(), uniques
    ([0, -1, 0, 1], ['x', 'y'])
    """
    arr = to_string_array(arr)
    encoded = pc.dictionary_encode(arr)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    codes = np.where(
        pc.is_null(arr).to_numpy(zero_copy_only=False), -1, np.nan_to_num(indices, nan=-1)
    )
    return codes.astype(np.int64), list(encoded.dictionary.to_pylist())


def take_values(values: Sequence[Any], codes: np.ndarray, *, null: Any) -> np.ndarray:
    """Spread per-unique ``values`` over ``codes`` (``-1`` gives ``null``) as an object array.

    Examples
    --------
    >>> take_values(["a", "b"], np.array([1, -1, 0]), null=None).tolist()
    ['b', None, 'a']
    """
    table = np.empty(len(values) + 1, dtype=object)
    table[: len(values)] = list(values)
    table[len(values)] = null
    return table[np.where(codes < 0, len(values), codes)]


def _two_byte_lut(*, digits_only: bool) -> np.ndarray:
    """Look-up of big-endian UTF-8 byte pairs: 0 keep, -1 drop, else the new code point.

    Only two-byte characters of the Arabic block (lead bytes 0xD8–0xDB) are listed, as
    :func:`geo.persian.normalize_text` maps them (Arabic ي/ك, ة, أ, digits, vowel marks).
    """
    from geo.persian import normalize_text  # the reference normalization

    lut = np.zeros(0x10000, dtype=np.int32)
    for cp in range(0x600, 0x700):
        char = chr(cp)
        if digits_only:
            out = (
                str(int(char))
                if ("\u06f0" <= char <= "\u06f9" or "\u0660" <= char <= "\u0669")
                else char
            )
            out = "ب" + out + "ب"
        else:
            out = normalize_text("ب" + char + "ب")
        encoded = char.encode("utf-8")
        pair = (encoded[0] << 8) | encoded[1]
        if out == "بب":
            lut[pair] = -1
        elif len(out) == 3 and out[1] != char:
            lut[pair] = ord(out[1])
    return lut


_LUT_DIGITS: Final = _two_byte_lut(digits_only=True)
_LUT_TEXT: Final = _two_byte_lut(digits_only=False)


def _map_pairs(arr: pa.Array, lut: np.ndarray) -> pa.Array:
    """Replace or drop two-byte characters of ``arr`` per ``lut``, with NumPy on the bytes."""
    offsets, data = _buffers(arr)
    if len(data) < 2:
        return arr
    # Test the pairs at even and at odd byte positions (zero-copy views), then merge the two
    # masks so that the positions come out sorted.
    lut_any = lut != 0
    hit = np.zeros(len(data), dtype=bool)
    for start in (0, 1):
        usable = (len(data) - start) // 2 * 2
        pairs = data[start : start + usable].view(">u2")
        hit[start : start + usable : 2] = lut_any[pairs]
    pos = np.flatnonzero(hit)
    if len(pos) == 0:
        return arr
    repl = lut[(data[pos].astype(np.int64) << 8) | data[pos + 1]].astype(np.int64)
    out = data.copy()
    ascii_ = (repl > 0) & (repl < 0x80)
    two = repl >= 0x80
    out[pos[two]] = (0xC0 | (repl[two] >> 6)).astype(np.uint8)
    out[pos[two] + 1] = (0x80 | (repl[two] & 0x3F)).astype(np.uint8)
    out[pos[ascii_] + 1] = repl[ascii_].astype(np.uint8)
    gone = pos[repl == -1]
    if len(gone) or ascii_.any():
        dropped = np.zeros(len(out), dtype=bool)
        dropped[gone] = True
        dropped[gone + 1] = True
        dropped[pos[ascii_]] = True
        # Each offset moves back by the number of bytes dropped before it.
        new_offsets = offsets - np.searchsorted(np.flatnonzero(dropped), offsets, side="left")
        out = out[~dropped]
    else:
        new_offsets = offsets
    validity = arr.buffers()[0]
    if validity is not None and arr.offset:
        validity = pc.is_valid(arr).buffers()[1]
    return pa.Array.from_buffers(
        pa.large_string(),
        len(arr),
        [validity, pa.py_buffer(new_offsets.astype(np.int64)), pa.py_buffer(out)],
        null_count=arr.null_count,
    )


_INVISIBLE_RE: Final = "[\u200d\u200e\u200f\ufeff\u00ad]"
#: Rows matching this need their white space collapsed.
_NEEDS_GAP_RE: Final = (
    "[\t\n\r\v\f\u00a0\u2000-\u200a\u202f\u205f\u3000]|  | \u200c|\u200c |\u200c\u200c"
)
_SPACE: Final = "\\s\u00a0\u2000-\u200a\u202f\u205f\u3000"
#: A run of white space and ZWNJ holding at least one white space character.
_GAP_WITH_SPACE_RE: Final = f"[{_SPACE}\u200c]*[{_SPACE}][{_SPACE}\u200c]*"


def normalize_text_array(values: object) -> pa.Array:
    """Normalize Persian text column-wide, like :func:`geo.persian.normalize_text`.

    Arabic letters become their Persian forms (ي→ی, ك→ک, ة→ه, …), Persian and
    Arabic-Indic digits become ASCII, vowel marks and tatweel are dropped, invisible marks
    (ZWJ, LRM, RLM, BOM, soft hyphen) removed, runs of white space (with or without ZWNJ)
    become one space, runs of ZWNJ one ZWNJ, and both ends are trimmed; blank becomes null.
    It works on the UTF-8 bytes with NumPy and Arrow's regular expressions, so a million
    descriptions take a fraction of a second. Unlike the scalar function it does not join
    the "می" prefix or plural suffixes with a ZWNJ, nor unfold presentation forms.

    Parameters
    ----------
    values : pyarrow.Array, pandas.Series or sequence of str
        Free text.

    Returns
    -------
    pyarrow.Array
        ``large_string`` normalized text.

    Examples
    --------
    >>> normalize_text_array([" خيابان  ولي\u200c\u200cعصر ", "كوچه ۱۲", "  ", None]).to_pylist()
    ['خیابان ولی\u200cعصر', 'کوچه 12', None, None]
    """
    arr = to_string_array(values).cast(pa.large_string())
    if len(arr) == 0:
        return arr
    if pc.all(pc.string_is_ascii(arr), skip_nulls=True).as_py() not in (True, None):
        arr = _map_pairs(arr, _LUT_TEXT)
    if pc.any(pc.match_substring_regex(arr, _INVISIBLE_RE)).as_py():
        arr = pc.replace_substring_regex(arr, _INVISIBLE_RE, "")
    rows = pc.fill_null(pc.match_substring_regex(arr, _NEEDS_GAP_RE), False)
    if pc.any(rows).as_py():
        subset = arr.filter(rows)
        fixed = pc.replace_substring_regex(subset, _GAP_WITH_SPACE_RE, " ")
        fixed = pc.replace_substring_regex(fixed, "\u200c{2,}", "\u200c")
        arr = pc.replace_with_mask(arr, rows, fixed)
    arr = pc.utf8_trim(arr, " \u200c")
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)
