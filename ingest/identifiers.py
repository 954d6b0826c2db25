"""Normalization of Iranian phone numbers and national ids, vectorized, before hashing.

The same person's number is typed many ways: ``09121234567``, ``+98 912 123 4567``,
``00989121234567``, ``9121234567`` (a spreadsheet dropped the leading zero) or in Persian
digits. Each is reduced to one canonical form so that its keyed hash
(:mod:`ingest.pseudonymize`) links the same citizen's cases:

* a mobile number becomes ``09XXXXXXXXX`` (11 digits);
* a landline keeps its digits with the area code and a leading ``0`` (``02188776655``),
  or its 8 digits when written without an area code;
* a national id (کد ملی) becomes its 10 digits, left-padded with zeros when a spreadsheet
  dropped them (8 or 9 digits), and is checked with its check digit.

Values that do not fit are still hashed (their digits, or their text when they have none),
and flagged, so that nothing in clear survives. Text fields are scanned for numbers that
look like a mobile number or a national id, which are masked (:func:`mask_identifiers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .arrowtext import ascii_digits, byte_view, to_string_array
from .pseudonymize import Pseudonymizer

PHONE_PREFIX: Final = "phone:"
NATIONAL_ID_PREFIX: Final = "nid:"
#: What replaces an identifier found inside free text.
MASK: Final = "[***]"

#: A run of 10 or more digits (a phone with its prefix, or a national id) in free text.
_LONG_NUMBER: Final = r"\+?\d{10,}"
#: A mobile number written in groups: 0912 123 4567, +98 912-123-4567.
_GROUPED_MOBILE: Final = r"(?:\+98[\s\-]?|0098[\s\-]?|0)9\d{2}[\s\-]?\d{3}[\s\-]?\d{4}"
_DIGITS_ONLY: Final = r"[^0-9]"


@dataclass(frozen=True, eq=False)
class NormalizedIds:
    """Identifiers in canonical form.

    Attributes
    ----------
    value : pyarrow.Array
        The canonical text (null where the input was blank).
    valid : numpy.ndarray
        True where the value has the expected shape (and check digit); blank rows are True.
    """

    value: pa.Array
    valid: np.ndarray


def _digits(values: object) -> tuple[pa.Array, np.ndarray]:
    arr = ascii_digits(to_string_array(values))
    digits = pc.replace_substring_regex(arr, _DIGITS_ONLY, "")
    blank = np.asarray(
        pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arr), ""), True).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    return digits, blank


def _fallback(arr: pa.Array, digits: pa.Array) -> pa.Array:
    """Digits where there are some, else the trimmed text (still hashed, never kept)."""
    no_digits = pc.fill_null(pc.equal(digits, ""), True)
    text = pc.utf8_trim_whitespace(ascii_digits(to_string_array(arr)))
    return pc.if_else(no_digits, text, digits)


def normalize_phones(values: object) -> NormalizedIds:
    """Reduce phone numbers to one canonical form each.

    Parameters
    ----------
    values : pyarrow.Array, pandas.Series or sequence of str
        Phone numbers as typed.

    Returns
    -------
    NormalizedIds
        Canonical numbers and a validity mask.

    Examples
    --------
    >>> n = normalize_phones(["+98 912 123 4567", "۰۹۱۲۱۲۳۴۵۶۷", "9121234567", "88776655", "12"])
    >>> n.value.to_pylist()
    ['09121234567', '09121234567', '09121234567', '88776655', '12']
    >>> n.valid.tolist()
    [True, True, True, True, False]
    """
    digits, blank = _digits(values)
    canon = pc.replace_substring_regex(digits, r"^(?:0098|98)(\d{10})$", r"0\1")
    canon = pc.replace_substring_regex(canon, r"^([1-9]\d{9})$", r"0\1")
    valid_arr = pc.match_substring_regex(canon, r"^(?:0\d{10}|\d{8})$")
    valid = np.asarray(pc.fill_null(valid_arr, False).to_numpy(zero_copy_only=False), dtype=bool)
    out = _fallback(values if isinstance(values, pa.Array) else to_string_array(values), canon)
    out = pc.if_else(pa.array(blank), pa.scalar(None, out.type), out)
    return NormalizedIds(value=out, valid=valid | blank)


def national_id_checksum_ok(ids: np.ndarray) -> np.ndarray:
    """Return whether 10-digit national ids (a uint8 matrix of digits) pass the check digit.

    Parameters
    ----------
    ids : numpy.ndarray
        Shape (n, 10), each row the digits 0–9 of one id.

    Returns
    -------
    numpy.ndarray
        Boolean mask; ids of ten equal digits are refused too.

    Examples
    --------
    >>> national_id_checksum_ok(np.array([[0, 0, 8, 4, 5, 7, 5, 9, 4, 8]])).tolist()
    [True]
    """
    d = ids.astype(np.int64)
    weights = np.arange(10, 1, -1, dtype=np.int64)
    remainder = (d[:, :9] * weights).sum(axis=1) % 11
    check = np.where(remainder < 2, remainder, 11 - remainder)
    same = (d == d[:, :1]).all(axis=1)
    return np.asarray((d[:, 9] == check) & ~same)


def normalize_national_ids(values: object) -> NormalizedIds:
    """Reduce national ids to their 10 digits and check them.

    Parameters
    ----------
    values : pyarrow.Array, pandas.Series or sequence of str
        National ids as typed (Persian digits and dashes allowed).

    Returns
    -------
    NormalizedIds
        Canonical ids and a validity mask (check digit included).

    Examples
    --------
    >>> n = normalize_national_ids(["008-457594-8", "8457594", "84575948", "1234567890"])
    >>> n.value.to_pylist(), n.valid.tolist()
    (['0084575948', '8457594', '0084575948', '1234567890'], [True, False, True, False])
    """
    digits, blank = _digits(values)
    padded = pc.if_else(
        pc.fill_null(pc.match_substring_regex(digits, r"^\d{8,9}$"), False),
        pc.utf8_lpad(digits, 10, "0"),
        digits,
    )
    offsets, data = byte_view(padded.cast(pa.large_string()))
    lengths = np.diff(offsets)
    ten = np.flatnonzero((lengths == 10) & ~blank)
    valid = blank.copy()
    if len(ten):
        mat = data[offsets[ten][:, None] + np.arange(10)] - np.uint8(48)
        valid[ten] = national_id_checksum_ok(mat)
    out = _fallback(values if isinstance(values, pa.Array) else to_string_array(values), padded)
    out = pc.if_else(pa.array(blank), pa.scalar(None, out.type), out)
    return NormalizedIds(value=out, valid=valid)


def citizen_keys(
    pseudonymizer: Pseudonymizer, *, phone: pa.Array | None, national_id: pa.Array | None
) -> pa.Array | None:
    """Return the citizen key of each row: the hash of the phone, else of the national id.

    Parameters
    ----------
    pseudonymizer : Pseudonymizer
        The keyed hash.
    phone, national_id : pyarrow.Array or None
        Canonical identifiers (see :func:`normalize_phones`, :func:`normalize_national_ids`).

    Returns
    -------
    pyarrow.Array or None
        Pseudonyms (null when a row has neither), or None when neither column exists.
    """
    large = pa.large_string()
    parts = []
    for prefix, values in ((PHONE_PREFIX, phone), (NATIONAL_ID_PREFIX, national_id)):
        if values is not None:
            parts.append(
                pc.binary_join_element_wise(
                    pa.scalar(prefix, large), values.cast(large), pa.scalar("", large)
                )
            )
    if not parts:
        return None
    chosen = parts[0] if len(parts) == 1 else pc.coalesce(*parts)
    return pseudonymizer.hash_array(chosen)


def mask_identifiers(values: object) -> pa.Array:
    """Mask numbers that look like a mobile number or a national id inside free text.

    Digits of any script are compared as ASCII; the rest of the text is kept as written.

    Parameters
    ----------
    values : pyarrow.Array, pandas.Series or sequence of str
        Free text (descriptions, addresses, raw lines).

    Returns
    -------
    pyarrow.Array
        The text with each such number replaced by :data:`MASK`.

    Examples
    --------
    >>> mask_identifiers(["تماس ۰۹۱۲۱۲۳۴۵۶۷ لطفا", "پلاک 12", None]).to_pylist()
    ['تماس [***] لطفا', 'پلاک 12', None]
    """
    arr = to_string_array(values)
    if len(arr) == 0:
        return arr
    has_digits = pc.fill_null(pc.match_substring_regex(arr, r"[0-9۰-۹٠-٩]{7}"), False)
    if not pc.any(has_digits).as_py():
        return arr
    digits = ascii_digits(arr)
    masked = pc.replace_substring_regex(digits, _GROUPED_MOBILE, MASK)
    masked = pc.replace_substring_regex(masked, _LONG_NUMBER, MASK)
    # Keep the original (non-ASCII digits) where nothing was masked.
    changed = pc.fill_null(pc.not_equal(masked, digits), False)
    return pc.if_else(changed, masked, arr.cast(masked.type))


#: Any run of 7 or more digits, or a national id written with dashes (123-456789-0).
_ANY_NUMBER: Final = r"\+?\d{7,}|\d{3}-\d{6}-\d"


def mask_numbers(values: object) -> pa.Array:
    """Mask identifier-like numbers and every run of 7 or more digits (for unparsed lines).

    Used on the raw text of malformed lines, where the identifier columns cannot be told
    apart: a phone number or national id there may sit in any field.

    Examples
    --------
    >>> mask_numbers(["1,۰۹۱۲ ۱۲۳ ۴۵۶۷,88776655,008-457594-8,12"]).to_pylist()
    ['1,[***],[***],[***],12']
    """
    arr = ascii_digits(to_string_array(values))
    if len(arr) == 0:
        return arr
    masked = pc.replace_substring_regex(arr, _GROUPED_MOBILE, MASK)
    return pc.replace_substring_regex(masked, _ANY_NUMBER, MASK)
