"""The hash chain of ingest runs, shared by every store backend.

Each ingest run is recorded with the hash of the run before it. A run's hash is the SHA-256
of the canonical JSON of its record (every column of :data:`ingest.schema.RUN_COLUMNS`
except ``run_hash``, which includes ``previous_hash``), so changing, dropping or reordering
any recorded run breaks every later link. The first run's previous hash is
:data:`GENESIS_HASH`.

Canonical JSON: keys sorted, no whitespace, UTF-8 (non-ASCII kept as is), integers as
integers, timestamps as UTC ISO 8601 text with exactly six fractional digits and a ``Z``
(``2024-01-01T04:30:00.000000Z``), missing values as ``null``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Final

import numpy as np
import pandas as pd

from ingest import schema as s

from ..errors import StoreError

#: The previous hash of the first run of a store.
GENESIS_HASH: Final = "0" * 64
#: The record fields a run hash covers, in :data:`ingest.schema.RUN_COLUMNS` order.
HASHED_FIELDS: Final = tuple(name for name in s.RUN_COLUMNS if name != s.RUN_HASH)
TIMESTAMP_FIELDS: Final = (s.RUN_STARTED_AT, s.RUN_FINISHED_AT)


class ChainError(StoreError):
    """The ingest-run log is not an unbroken hash chain."""


def canonical_timestamp(value: object) -> str:
    """Return ``value`` as UTC ISO 8601 text with microseconds and a ``Z``.

    Parameters
    ----------
    value : pandas.Timestamp, datetime.datetime or str
        A time zone-aware instant. Nanoseconds are truncated to microseconds, the
        resolution both backends keep.

    Returns
    -------
    str
        For example ``"2024-01-01T04:30:00.000000Z"``.

    Examples
    --------
    >>> canonical_timestamp(pd.Timestamp("2024-01-01 08:00", tz="Asia/Tehran"))
    '2024-01-01T04:30:00.000000Z'
    """
    stamp = pd.Timestamp(value)  # type: ignore[arg-type]
    if stamp.tzinfo is None:
        msg = f"run timestamp {value!r} is naive; give a time zone-aware instant."
        raise StoreError(msg)
    stamp = stamp.tz_convert("UTC").floor("us")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(name: str, value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if name in TIMESTAMP_FIELDS:
        return canonical_timestamp(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    if isinstance(value, dt.datetime | pd.Timestamp):
        return canonical_timestamp(value)
    return str(value)


def canonical_json(record: Mapping[str, object]) -> str:
    """Return the canonical JSON text of the hashed fields of a run record.

    Parameters
    ----------
    record : mapping
        At least the fields of :data:`HASHED_FIELDS`; other keys (``run_hash``) are ignored.

    Returns
    -------
    str
        Sorted keys, compact separators, non-ASCII kept.
    """
    missing = [name for name in HASHED_FIELDS if name not in record]
    if missing:
        msg = f"run record lacks the field(s) {', '.join(missing)}; cannot compute its hash."
        raise StoreError(msg)
    plain = {name: _plain(name, record[name]) for name in HASHED_FIELDS}
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def run_hash(record: Mapping[str, object]) -> str:
    """Return the SHA-256 hex digest of :func:`canonical_json` of ``record``.

    The record's ``previous_hash`` is part of what is hashed, which links the chain.

    Examples
    --------
    >>> record = {
    ...     "seq": 1, "run_id": "r1", "source": "synthetic", "input_sha256": "ab",
    ...     "started_at": "2024-01-01T00:00:00Z", "finished_at": "2024-01-01T00:00:01Z",
    ...     "rows_read": 3, "inserted": 3, "updated": 0, "unchanged": 0, "quarantined": 0,
    ...     "previous_hash": GENESIS_HASH,
    ... }
    >>> len(run_hash(record))
    64
    """
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def _records(runs: pd.DataFrame | Iterable[Mapping[str, object]]) -> list[Mapping[str, object]]:
    if isinstance(runs, pd.DataFrame):
        return list(runs.to_dict(orient="records"))  # type: ignore[arg-type]
    return [dict(run) for run in runs]


def verify_chain(runs: pd.DataFrame | Iterable[Mapping[str, object]]) -> str:
    """Check that ``runs`` form an unbroken hash chain and return the chain head.

    Parameters
    ----------
    runs : pandas.DataFrame or iterable of mappings
        The ingest-run log (as :meth:`geo.store.base.CaseStore.read_runs` returns it, or
        :meth:`geo.store.base.IngestRun.as_record` mappings), in any order: it is sorted by
        ``seq``.

    Returns
    -------
    str
        The hash of the last run, or :data:`GENESIS_HASH` when there is none.

    Raises
    ------
    ChainError
        Sequence numbers are not 1, 2, 3…, a run's ``previous_hash`` is not the hash of
        the run before it, or a run's stored hash differs from the hash of its record.
    """
    records = sorted(_records(runs), key=lambda record: int(record[s.RUN_SEQ]))  # type: ignore[call-overload]
    head = GENESIS_HASH
    for expected_seq, record in enumerate(records, start=1):
        seq = int(record[s.RUN_SEQ])  # type: ignore[call-overload]
        if seq != expected_seq:
            msg = (
                f"ingest run log jumps to seq {seq} where {expected_seq} was expected; "
                "a run is missing."
            )
            raise ChainError(msg)
        if record[s.RUN_PREVIOUS_HASH] != head:
            msg = (
                f"ingest run {seq} names previous hash {record[s.RUN_PREVIOUS_HASH]!r} but the "
                f"run before it hashes to {head!r}; the log was altered."
            )
            raise ChainError(msg)
        computed = run_hash(record)
        if record[s.RUN_HASH] != computed:
            msg = (
                f"ingest run {seq} is stored with hash {record[s.RUN_HASH]!r} but its record "
                f"hashes to {computed!r}; the run record was altered."
            )
            raise ChainError(msg)
        head = computed
    return head
