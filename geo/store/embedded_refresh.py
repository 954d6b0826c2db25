"""Incremental refresh of the embedded store's read model.

The read model's rows are keyed by the Asia/Tehran day of ``created_at`` (among other
keys), so the rows of a set of days are the aggregate of exactly the cases created on those
days. The case files are partitioned by UTC month; the read-model file records, in its
Parquet metadata, which case file of each month it was computed from (its *basis*). A
refresh compares the basis with the live case files:

* nothing changed (a re-sent file, an ingest that only quarantined rows): nothing to do;
* some months changed: the local days those months cover are recomputed from the cases
  of those days (a local day can straddle two UTC months, so the neighbouring months are
  read as well, restricted to those days), and the stored rows of every other day are kept;
* most months changed, or no basis is recorded (a store written by an older version):
  everything is recomputed.

The merged table is sorted as :func:`geo.store.read_model.normalize_read_model` sorts, so
readers get the same rows in the same order as after a full refresh.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from ingest import schema as s

from .base import LOCAL_TZ
from .embedded_files import CASE_SCHEMA, month_code, month_label
from .read_model import TEXT_KEYS

#: Parquet metadata key of the read-model file holding its basis (month -> case file).
BASIS_KEY: Final = b"t137_read_model_basis"
#: Above this share of changed months a refresh recomputes everything: merging would read
#: and sort nearly the whole model for little saving.
FULL_REFRESH_SHARE: Final = 0.5
_UTC: Final = "UTC"


def with_basis(table: pa.Table, basis: Mapping[str, str]) -> pa.Table:
    """Return ``table`` with ``basis`` (month label -> case file path) in its metadata."""
    metadata = dict(table.schema.metadata or {})
    metadata[BASIS_KEY] = json.dumps(dict(sorted(basis.items()))).encode()
    return table.replace_schema_metadata(metadata)


def read_basis(path: Path) -> dict[str, str] | None:
    """Return the basis recorded in the read-model file at ``path``, or None if it has none."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(BASIS_KEY)
    if raw is None:
        return None
    loaded = json.loads(raw)
    return {str(month): str(part) for month, part in loaded.items()}


def changed_months(previous: Mapping[str, str], current: Mapping[str, str]) -> set[str]:
    """Return the month labels whose case file was added, replaced or removed."""
    return {m for m in set(previous) | set(current) if previous.get(m) != current.get(m)}


def needs_full_refresh(changed: Collection[str], previous: Mapping[str, str]) -> bool:
    """Return whether ``changed`` months are too many to merge (see :data:`FULL_REFRESH_SHARE`)."""
    if not previous:
        return True
    return len(changed) > FULL_REFRESH_SHARE * len(set(previous) | set(changed))


def _month_bounds(label: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    code = month_code(label)
    start, end = (pd.Timestamp(np.datetime64(c, "M"), tz=_UTC) for c in (code, code + 1))
    return start, end


def local_days(months: Collection[str]) -> set[dt.date]:
    """Return the Asia/Tehran days that overlap the UTC months ``months`` (``YYYY-MM``)."""
    days: set[dt.date] = set()
    for label in months:
        start, end = _month_bounds(label)
        first = start.tz_convert(LOCAL_TZ).date()
        last = (end - pd.Timedelta(microseconds=1)).tz_convert(LOCAL_TZ).date()
        days.update(pd.date_range(first, last, freq="D").date)
    return days


def neighbour_months(months: Collection[str], stored: Collection[str]) -> list[str]:
    """Return the stored months among ``months`` and the months next to them, sorted.

    A local day lies within one UTC day of its UTC month, so the cases of the local days
    of ``months`` are all in these files.
    """
    wanted = {month_label(month_code(m) + shift) for m in months for shift in (-1, 0, 1)}
    return sorted(wanted & set(stored))


def created_window(days: Collection[dt.date]) -> pads.Expression:
    """Return a scan filter on ``created_at`` that keeps (at least) the cases of ``days``.

    One UTC interval per run of consecutive days, a day wide on each side; the exact local
    day of each case is tested after the scan.
    """
    ordered = sorted(days)
    runs: list[tuple[dt.date, dt.date]] = []
    for day in ordered:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    field = pads.field(s.CREATED_AT)
    kind = CASE_SCHEMA.field(s.CREATED_AT).type
    expression: pads.Expression | None = None
    for first, last in runs:
        low = pd.Timestamp(first - dt.timedelta(days=1), tz=_UTC)
        high = pd.Timestamp(last + dt.timedelta(days=2), tz=_UTC)
        span = (field >= pa.scalar(low, kind)) & (field < pa.scalar(high, kind))
        expression = span if expression is None else expression | span
    if expression is None:
        return pads.scalar(False)
    return expression


def _day_array(days: Collection[dt.date]) -> pa.Array:
    return pa.array(sorted(days), type=pa.date32())


def _dictionary_schema(schema: pa.Schema) -> pa.Schema:
    """Return ``schema`` with the text keys dictionary-encoded (cheap to sort and take)."""
    fields = [
        f.with_type(pa.dictionary(pa.int32(), f.type)) if f.name in TEXT_KEYS else f for f in schema
    ]
    return pa.schema(fields)


def read_for_merge(path: Path, schema: pa.Schema) -> pa.Table:
    """Read a stored read model with its text keys as dictionaries (see :func:`merge_days`)."""
    table = pq.read_table(path, read_dictionary=list(TEXT_KEYS))
    return table.replace_schema_metadata(None).cast(_dictionary_schema(schema))


def merge_days(stored: pa.Table, fresh: pa.Table, days: Collection[dt.date]) -> pa.Table:
    """Replace the rows of ``days`` in ``stored`` by ``fresh``; return them sorted as stored.

    ``stored`` comes from :func:`read_for_merge`; ``fresh`` holds the recomputed rows of
    ``days`` (plain text keys). The result has ``fresh``'s schema.
    """
    schema = fresh.schema
    inside = pc.is_in(stored.column(s.RM_DAY), value_set=_day_array(days))
    kept = stored.filter(pc.invert(pc.fill_null(inside, False)))
    both = pa.concat_tables([kept, fresh.cast(stored.schema)]).unify_dictionaries()
    both = both.combine_chunks()
    return both.take(pa.array(_key_order(both))).cast(schema)


def _key_order(table: pa.Table) -> np.ndarray:
    """Return the row order that sorts ``table`` by the read-model keys, missing last.

    Text keys compare as Python compares ``str`` (code points), the order of
    :func:`geo.store.read_model.normalize_read_model`.
    """
    ranks: list[np.ndarray] = []
    sizes: list[int] = []
    for name in s.READ_MODEL_KEYS:
        column = table.column(name)
        array = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        if isinstance(array, pa.DictionaryArray):
            labels = array.dictionary.to_pylist()
            by_text = sorted(range(len(labels)), key=labels.__getitem__)
            rank = np.empty(len(labels) + 1, dtype=np.int64)
            rank[by_text] = np.arange(len(labels))
            rank[len(labels)] = len(labels)  # missing last
            indices = pc.fill_null(array.indices, len(labels)).to_numpy(zero_copy_only=False)
            ranks.append(rank[indices.astype(np.int64)])
        else:
            days = pc.fill_null(array.cast(pa.int32()), np.iinfo(np.int32).max)
            _, codes = np.unique(days.to_numpy(zero_copy_only=False), return_inverse=True)
            ranks.append(codes.ravel().astype(np.int64))
        sizes.append(int(ranks[-1].max(initial=0)) + 1)
    if float(np.prod(np.asarray(sizes, dtype=np.float64))) < 2.0**62:
        # one int64 per row in mixed radix, the first key most significant: one argsort
        number = np.zeros(table.num_rows, dtype=np.int64)
        for rank, size in zip(ranks, sizes, strict=True):
            number = number * size + rank
        return np.argsort(number, kind="stable")
    return np.lexsort(ranks[::-1])
