"""Keyed hashing of personal identifiers (phone numbers, national ids).

A clear phone number or national id never leaves the reader: it is replaced by its
HMAC-SHA256 under a secret key (the ``T137_HASH_KEY`` setting, passed in by the command
line; this package never reads settings itself). The same identifier under the same key
always gives the same pseudonym, so one citizen's cases can be linked without knowing who
the citizen is, and without the key nobody can test a guessed number against the store.

Hashing runs once per distinct value (a few hundred thousand citizens for a million
cases), with the HMAC's inner and outer states precomputed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Final, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError

from .arrowtext import to_string_array

#: Hex characters kept of each digest (128 bits: collisions are negligible below 10^18 ids).
PSEUDONYM_HEX_CHARS: Final = 32
_BLOCK: Final = 64


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


def key_bytes(key: bytes | str | _Secret) -> bytes:
    """Return the HMAC key as bytes, refusing an empty key.

    Parameters
    ----------
    key : bytes, str or pydantic SecretStr
        The secret; text is encoded as UTF-8.

    Returns
    -------
    bytes
        The key.

    Raises
    ------
    InputError
        When the key is empty.
    """
    if hasattr(key, "get_secret_value"):
        key = key.get_secret_value()
    raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if not raw:
        msg = "The pseudonymization key is empty; set T137_HASH_KEY to a long random secret."
        raise InputError(msg)
    return raw


class Pseudonymizer:
    """HMAC-SHA256 of identifiers under one secret key.

    Parameters
    ----------
    key : bytes, str or pydantic SecretStr
        The secret key (``get_settings().hash_key`` in the command line).

    Examples
    --------
    >>> p = Pseudonymizer(b"k")
    >>> p.hash_one("09121234567") == p.hash_one("09121234567")
    True
    >>> len(p.hash_one("09121234567"))
    32
    """

    def __init__(self, key: bytes | str | _Secret) -> None:
        raw = key_bytes(key)
        if len(raw) > _BLOCK:
            raw = hashlib.sha256(raw).digest()
        raw = raw.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in raw))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in raw))

    def __repr__(self) -> str:
        return "Pseudonymizer(key=***)"

    def hash_one(self, value: str) -> str:
        """Return the pseudonym (hex) of one identifier.

        Parameters
        ----------
        value : str
            The normalized identifier.

        Returns
        -------
        str
            The first :data:`PSEUDONYM_HEX_CHARS` hex digits of HMAC-SHA256(key, value).
        """
        inner = self._inner.copy()
        inner.update(value.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:PSEUDONYM_HEX_CHARS]

    def hash_array(self, values: object) -> pa.Array:
        """Return the pseudonyms of many identifiers (nulls stay null), once per distinct value.

        Parameters
        ----------
        values : pyarrow.Array, pandas.Series or sequence of str
            Normalized identifiers.

        Returns
        -------
        pyarrow.Array
            ``large_string`` pseudonyms aligned with ``values``.
        """
        arr = to_string_array(values)
        encoded = pc.dictionary_encode(arr)
        if isinstance(encoded, pa.ChunkedArray):  # pragma: no cover - arrays give arrays
            encoded = encoded.combine_chunks()
        return self.hash_each(encoded.dictionary).take(encoded.indices)

    def hash_each(self, values: object) -> pa.Array:
        """Return the pseudonym of every value, without looking for repeats (nulls stay null).

        For values already distinct (a dictionary), where :meth:`hash_array` would look for
        repeats in vain.

        Parameters
        ----------
        values : pyarrow.Array, pandas.Series or sequence of str
            Normalized identifiers.

        Returns
        -------
        pyarrow.Array
            ``large_string`` pseudonyms aligned with ``values``.
        """
        arr = to_string_array(values)
        raw = arr.cast(pa.large_binary()).to_pylist()  # UTF-8 bytes, None for null
        present = raw if arr.null_count == 0 else [v for v in raw if v is not None]
        inner_copy, outer_copy = self._inner.copy, self._outer.copy

        def digest(value: bytes) -> bytes:
            inner = inner_copy()
            inner.update(value)
            outer = outer_copy()
            outer.update(inner.digest())
            return outer.digest()

        hashed = _hex_prefixes(b"".join(map(digest, present)), len(present))
        if arr.null_count == 0:
            return hashed
        valid = np.asarray(pc.is_valid(arr).to_numpy(zero_copy_only=False), dtype=bool)
        positions = np.cumsum(valid, dtype=np.int64) - 1
        return hashed.take(pa.array(positions, type=pa.int64(), mask=~valid))


_HEX: Final = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_DIGEST_BYTES: Final = 32


def _hex_prefixes(digests: bytes, n: int) -> pa.Array:
    """Return the first :data:`PSEUDONYM_HEX_CHARS` hex digits of ``n`` joined SHA-256 digests."""
    raw = np.frombuffer(digests, dtype=np.uint8).reshape(n, _DIGEST_BYTES)
    head = raw[:, : PSEUDONYM_HEX_CHARS // 2]
    text = np.empty((n, PSEUDONYM_HEX_CHARS), dtype=np.uint8)
    text[:, 0::2] = _HEX[head >> 4]
    text[:, 1::2] = _HEX[head & 0x0F]
    offsets = np.arange(n + 1, dtype=np.int64) * PSEUDONYM_HEX_CHARS
    return pa.Array.from_buffers(
        pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())]
    )


def hmac_sha256_hex(key: bytes | str, value: str) -> str:
    """Return the full HMAC-SHA256 hex digest (reference implementation for tests).

    Examples
    --------
    >>> hmac_sha256_hex(b"k", "x")[:PSEUDONYM_HEX_CHARS] == Pseudonymizer(b"k").hash_one("x")
    True
    """
    return hmac.new(key_bytes(key), value.encode("utf-8"), hashlib.sha256).hexdigest()


def as_object(values: pa.Array) -> np.ndarray:
    """Return an Arrow string array as an object array of str with None for nulls."""
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
