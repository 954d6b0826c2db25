"""Conversions between canonical frames and the Arrow tables of the embedded store.

Case files hold categories as plain text, timestamps as ``timestamp[us, UTC]`` and a WKB
``geometry`` column with GeoParquet metadata, so that ``geopandas.read_parquet`` reads any
single file. Readers rebuild the canonical dtypes (:mod:`geo.store.frames`) and the point
geometry from ``lon``/``lat``, which is cheaper than parsing WKB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ingest import schema as s

from . import frames
from .embedded_files import (
    CASE_SCHEMA,
    EVENT_SCHEMA,
    QUARANTINE_SCHEMA,
    READ_MODEL_SCHEMA,
    RUN_SCHEMA,
    geo_metadata,
    point_wkb,
)

#: Separator of the parts of a composite key (cannot occur in valid text keys).
KEY_SEP: Final = "\x1f"
INT_TYPES: Final = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype()}


def _column(series: pd.Series, kind: pa.DataType) -> pa.Array:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return pa.array(series, from_pandas=True).cast(kind)
    if kind == pa.date32():
        return pa.array(series.to_numpy(dtype=object), type=kind, from_pandas=True)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return pa.array(series, from_pandas=True).cast(kind, safe=False)
    if kind in (pa.int8(), pa.int16()):
        return pa.array(series.array, from_pandas=True).cast(kind)
    return pa.array(series.to_numpy(), type=kind, from_pandas=True)


def cases_to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Return canonical case columns (no geometry) as a case-file table with GeoParquet metadata."""
    lon = frame[s.LON].to_numpy(dtype="float64")
    lat = frame[s.LAT].to_numpy(dtype="float64")
    arrays = [_column(frame[f.name], f.type) for f in CASE_SCHEMA if f.name != s.GEOMETRY]
    arrays.append(point_wkb(lon, lat))
    schema = CASE_SCHEMA.with_metadata(geo_metadata(lon, lat))
    return pa.Table.from_arrays(arrays, schema=schema)


def key_array(table: pa.Table, columns: Sequence[str] = s.CASE_KEY) -> pa.Array:
    """Return one text key per row joining ``columns`` (timestamps as integer microseconds)."""
    parts = []
    for name in columns:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64()).cast(pa.string())
        elif not pa.types.is_string(column.type):
            column = column.cast(pa.string())
        parts.append(column)
    joined = pc.binary_join_element_wise(*parts, KEY_SEP)
    return joined.combine_chunks() if isinstance(joined, pa.ChunkedArray) else joined


def _category(
    column: pa.ChunkedArray, name: str, vocabulary: tuple[str, ...] | None
) -> pd.Categorical:
    encoded = pc.dictionary_encode(column).combine_chunks()
    if isinstance(encoded, pa.ChunkedArray):  # pragma: no cover - combine_chunks returns Array
        encoded = encoded.chunk(0)
    dictionary = encoded.dictionary.to_pylist()
    indices = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype("int64")
    cat = pd.Categorical.from_codes(indices, categories=pd.Index(dictionary, dtype=object))
    if vocabulary is not None:
        return cat.set_categories(list(vocabulary))
    used = np.bincount(indices[indices >= 0], minlength=len(dictionary)) > 0
    if not used.all():
        cat = cat.remove_unused_categories()
    return cat.reorder_categories(sorted(cat.categories))


def arrow_to_cases(table: pa.Table, *, geometry: bool = True) -> gpd.GeoDataFrame:
    """Return a case-file table as canonical cases with point geometry (see :mod:`frames`).

    With ``geometry=False`` a plain DataFrame without the geometry column is returned.
    """
    columns: dict[str, object] = {}
    n = table.num_rows
    for name in s.CASE_COLUMNS:
        if name not in table.column_names:
            continue
        column = table.column(name)
        if name in s.CATEGORICAL_COLUMNS:
            columns[name] = _category(column, name, frames.VOCABULARIES.get(name))
        elif name in s.TIMESTAMP_COLUMNS:
            values = column.to_numpy().astype("datetime64[ns]")
            columns[name] = pd.DatetimeIndex(values).tz_localize("UTC")
        elif name in frames.INT_DTYPES:
            columns[name] = column.to_pandas(types_mapper=INT_TYPES.get).array
        elif name in (s.LON, s.LAT):
            columns[name] = column.to_numpy().astype("float64")
        else:
            columns[name] = column.to_pandas().to_numpy(dtype=object)
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n))
    return frames.with_geometry(frame) if geometry else frame


def events_to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Return canonical events as an event-file table."""
    arrays = [_column(frame[f.name], f.type) for f in EVENT_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def arrow_to_events(table: pa.Table) -> pd.DataFrame:
    """Return an event-file table as canonical events."""
    raw = table.to_pandas()
    raw[s.EVENT_AT] = pd.to_datetime(raw[s.EVENT_AT], utc=True)
    return frames.canonical_events(raw) if len(raw) else _empty_events()


def _empty_events() -> pd.DataFrame:
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in s.EVENT_COLUMNS})
    frame[s.EVENT_AT] = pd.Series(dtype=frames.TIMESTAMP_DTYPE)
    return frames.canonical_events(frame)


def quarantine_to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Return canonical quarantine rows as a quarantine-file table."""
    arrays = [
        pa.array(frame[f.name].array, type=f.type, from_pandas=True) for f in QUARANTINE_SCHEMA
    ]
    return pa.Table.from_arrays(arrays, schema=QUARANTINE_SCHEMA)


def arrow_to_quarantine(table: pa.Table) -> pd.DataFrame:
    """Return a quarantine-file table in the quarantine model."""
    out = pd.DataFrame(index=pd.RangeIndex(table.num_rows))
    for name in s.QUARANTINE_COLUMNS:
        column = table.column(name)
        if name == s.Q_ROW_NUMBER:
            out[name] = column.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get).array
        else:
            out[name] = column.to_pandas().to_numpy(dtype=object)
    return out


def runs_to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Return a run-log frame (:func:`geo.store.base.runs_frame`) as a run-file table."""
    arrays = [_column(frame[f.name], f.type) for f in RUN_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=RUN_SCHEMA)


def read_model_to_arrow(columns: Mapping[str, object], day_numbers: np.ndarray) -> pa.Table:
    """Return read-model columns (:func:`geo.store.read_model.read_model_columns`) as a table.

    ``day`` is taken from ``day_numbers`` (days since 1970-01-01), not from date objects.
    """
    arrays = []
    for f in READ_MODEL_SCHEMA:
        if f.name == s.RM_DAY:
            arrays.append(pa.array(day_numbers.astype(np.int32), type=pa.int32()).cast(f.type))
        else:
            arrays.append(_column(pd.Series(columns[f.name], copy=False), f.type))
    return pa.Table.from_arrays(arrays, schema=READ_MODEL_SCHEMA)


def arrow_to_read_model(table: pa.Table) -> pd.DataFrame:
    """Return a stored (already normalized and sorted) read-model table as a frame.

    Same dtypes as :func:`geo.store.read_model.normalize_read_model`, without re-sorting.
    """
    columns: dict[str, object] = {}
    for name in s.READ_MODEL_COLUMNS:
        column = table.column(name)
        if name == s.RM_DAY:
            columns[name] = column.to_pandas(date_as_object=True).to_numpy(dtype=object)
        elif name in s.READ_MODEL_KEYS:
            columns[name] = _category(column, name, None)
        else:
            columns[name] = column.to_numpy()
    return pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))
