"""Binary COPY rows built from pandas columns with few passes per chunk.

:func:`geo.store.postgis.copy_load.encode_rows` joins one Arrow field array per column;
with the 26 case columns that join, and the Arrow conversion of every categorical column,
cost more than the server spends parsing the rows. :class:`FrameEncoder` does less work
for the same bytes:

* the fixed-width columns (timestamps, integers, floats) are sent first, and their fields,
  together with the tuple header, are written into one ``rows x bytes`` NumPy matrix (NULL
  fields are cut out of it with one boolean mask), so they are one argument of the join;
* a ``category`` column is encoded once per category, and its rows are one ``take``;
* the other text columns go through Arrow as before.

Columns of any other dtype fall back to the Arrow encoding of
:func:`geo.store.postgis.copy_load.field_array`. The encoder decides the column order,
so the COPY statement must list :attr:`FrameEncoder.columns`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa

from . import copy_load as cl

#: Bytes of each fixed-width encoding's value.
WIDTHS: Final[Mapping[str, int]] = {
    cl.INT2: 2,
    cl.INT4: 4,
    cl.INT8: 8,
    cl.FLOAT8: 8,
    cl.TIMESTAMPTZ: 8,
}
#: Computes a column of a chunk: the chunk's rows in, one value per row out.
Derived = Callable[[pd.DataFrame], np.ndarray]
_NULL_LENGTH: Final = np.frombuffer(np.array(-1, dtype=">i4").tobytes(), dtype=np.uint8)


def _is_fixed(series: pd.Series, encoding: str) -> bool:
    """Return whether ``series`` can be encoded by :func:`_fixed_values` as ``encoding``."""
    if encoding not in WIDTHS:
        return False
    dtype = series.dtype
    if encoding == cl.TIMESTAMPTZ:
        return isinstance(dtype, pd.DatetimeTZDtype) and dtype.unit == "ns"
    if encoding == cl.FLOAT8:
        return dtype == np.float64
    return pd.api.types.is_integer_dtype(dtype)


def _fixed_values(series: pd.Series, encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (big-endian values, null mask) of a column accepted by :func:`_is_fixed`."""
    if encoding == cl.TIMESTAMPTZ:
        nanos = series.to_numpy(dtype="datetime64[ns]").view(np.int64)
        null = series.isna().to_numpy()
        micros = nanos // 1000 - cl.PG_EPOCH_US
        return micros.astype(">i8"), null
    if encoding == cl.FLOAT8:
        values = series.to_numpy(dtype=np.float64)
        # NaN is missing, as Arrow's from_pandas reads it
        return values.astype(">f8"), np.isnan(values)
    null = series.isna().to_numpy()
    raw = series.to_numpy(dtype=np.int64, na_value=0)
    return raw.astype(f">i{WIDTHS[encoding]}"), null


def _category_fields(series: pd.Series) -> pa.Array:
    """Fields of each category of ``series`` (as text), then the NULL field."""
    labels = [str(label) for label in series.cat.categories]
    return cl.field_array(pa.array([*labels, None], type=pa.string()), cl.TEXT)


class FrameEncoder:
    """Encode chunks of one frame's columns as binary COPY tuples.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows (a canonical model of :mod:`geo.store.frames`).
    columns : sequence of str
        Target columns, each in ``frame`` or in ``derived``.
    encodings : sequence of str
        Binary encoding of each of ``columns`` (:func:`copy_load.encoding_of`).
    derived : mapping of str to callable, optional
        Integer or float columns computed per chunk: ``derived[name](chunk)`` returns the
        chunk's values (so the work runs in the encoder thread, overlapping the COPY).

    Attributes
    ----------
    columns : list of str
        The columns in the order their fields are sent: name them so in ``COPY``.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        columns: Sequence[str],
        encodings: Sequence[str],
        *,
        derived: Mapping[str, Derived] | None = None,
    ) -> None:
        if len(columns) != len(encodings):
            msg = f"{len(columns)} columns but {len(encodings)} encodings"
            raise ValueError(msg)
        self._frame = frame
        self._derived = dict(derived or {})
        kinds = dict(zip(columns, encodings, strict=True))
        self._fixed = [n for n in columns if n in self._derived or _is_fixed(frame[n], kinds[n])]
        self._other = [n for n in columns if n not in self._fixed]
        self._encodings = kinds
        self._categories = {
            n: _category_fields(frame[n])
            for n in self._other
            if kinds[n] == cl.TEXT and isinstance(frame[n].dtype, pd.CategoricalDtype)
        }
        self.columns = [*self._fixed, *self._other]
        self._count = np.frombuffer(np.array(len(columns), dtype=">i2").tobytes(), np.uint8)

    def encode(self, start: int, stop: int) -> bytes:
        """Return rows ``start:stop`` as binary COPY tuples (no header, no trailer)."""
        chunk = self._frame.iloc[start:stop]
        n = len(chunk)
        if n == 0:
            return b""
        fields = [self._fixed_block(chunk)]
        for name in self._other:
            table = self._categories.get(name)
            if table is not None:
                codes = chunk[name].cat.codes.to_numpy().astype(np.int64)
                codes[codes < 0] = len(table) - 1
                fields.append(table.take(pa.array(codes)))
            else:
                array = cl.to_arrow(chunk, [name]).column(0).combine_chunks()
                fields.append(cl.field_array(array, self._encodings[name]))
        rows = fields[0] if len(fields) == 1 else pc.binary_join_element_wise(*fields, b"")
        return cl.binary_bytes(rows)

    def _fixed_block(self, chunk: pd.DataFrame) -> pa.Array:
        """Return the tuple header and every fixed-width field, one binary value per row."""
        n = len(chunk)
        widths = [4 + WIDTHS[self._encodings[name]] for name in self._fixed]
        block = np.empty((n, 2 + sum(widths)), dtype=np.uint8)
        block[:, :2] = self._count
        keep: np.ndarray | None = None
        at = 2
        for name, width in zip(self._fixed, widths, strict=True):
            derive = self._derived.get(name)
            column = chunk[name] if derive is None else pd.Series(derive(chunk), index=chunk.index)
            values, null = _fixed_values(column, self._encodings[name])
            block[:, at : at + 4] = np.frombuffer(np.array(width - 4, ">i4").tobytes(), np.uint8)
            block[:, at + 4 : at + width] = values.view(np.uint8).reshape(n, width - 4)
            if null.any():
                block[null, at : at + 4] = _NULL_LENGTH
                if keep is None:
                    keep = np.ones(block.shape, dtype=bool)
                keep[null, at + 4 : at + width] = False
            at += width
        if keep is None:
            lengths = np.full(n, block.shape[1], dtype=np.int64)
            return cl.binary_array(block.reshape(-1), lengths)
        return cl.binary_array(block[keep], keep.sum(axis=1))


def frame_chunks(encoder: FrameEncoder, rows: int, chunk_rows: int) -> Iterator[bytes]:
    """Yield the binary COPY stream of ``rows`` rows of ``encoder``: header, tuples, trailer."""
    yield cl.HEADER
    for start in range(0, rows, chunk_rows):
        yield encoder.encode(start, min(start + chunk_rows, rows))
    yield cl.TRAILER


def copy_frame_into(
    cursor: psycopg.Cursor[tuple[object, ...]],
    table: sa.Table,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    derived: Mapping[str, Derived] | None = None,
    chunk_rows: int = cl.CHUNK_ROWS,
) -> int:
    """Stream ``frame[columns]`` into ``table`` with binary COPY; return the rows sent.

    Chunks are encoded (:class:`FrameEncoder`) in a worker thread while the previous
    chunk is sent.

    Parameters
    ----------
    cursor : psycopg.Cursor
        A cursor of the connection whose transaction receives the rows.
    table : sqlalchemy.Table
        Target table; its column types choose the binary encodings.
    frame : pandas.DataFrame
        Rows in a canonical model (:mod:`geo.store.frames`).
    columns : sequence of str
        Target columns, each in ``frame`` or in ``derived``.
    derived : mapping of str to callable, optional
        Integer or float columns computed per chunk (see :class:`FrameEncoder`).
    chunk_rows : int, default 50_000
        Rows per chunk.
    """
    if len(frame) == 0:
        return 0
    encodings = [cl.encoding_of(table.c[name].type) for name in columns]
    encoder = FrameEncoder(frame, columns, encodings, derived=derived)
    chunks = cl.prefetched(frame_chunks(encoder, len(frame), chunk_rows), depth=2)
    with cursor.copy(cl.copy_statement(table.name, encoder.columns)) as copy:
        for chunk in chunks:
            copy.write(chunk)
    return len(frame)
