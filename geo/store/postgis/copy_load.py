"""Bulk loads through binary ``COPY … FROM STDIN`` (psycopg 3).

PostgreSQL's binary COPY format is built column by column with NumPy and Arrow, never row
by row in Python: each value becomes a field (a big-endian ``int32`` length, ``-1`` for
NULL, then the value's binary form) and Arrow joins the fields of every row into one
buffer. Timestamps go as microseconds since 2000-01-01 UTC, floats as IEEE doubles, so
nothing is rounded or re-parsed as text; text goes as UTF-8; geometry as EWKB.

The COPY statement holds identifiers only (quoted by :mod:`psycopg.sql`), never values.
This module holds the format and :func:`copy_into` for Arrow tables; pandas frames (the
cases) go through :mod:`geo.store.postgis.row_encoder`, which builds the same bytes in
fewer passes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator, Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from psycopg import sql

#: Rows per chunk sent to the server (the server parses one while the next is built).
CHUNK_ROWS: Final = 50_000
HEADER: Final = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER: Final = b"\xff\xff"
#: 2000-01-01T00:00:00Z, PostgreSQL's epoch, in microseconds since the Unix epoch.
PG_EPOCH_US: Final = 946_684_800_000_000
PG_EPOCH_DAYS: Final = 10_957

#: Binary encodings by PostgreSQL type.
TEXT, INT2, INT4, INT8, FLOAT8, TIMESTAMPTZ, DATE, BYTES = (
    "text",
    "int2",
    "int4",
    "int8",
    "float8",
    "timestamptz",
    "date",
    "bytes",
)
_FIXED: Final[Mapping[str, str]] = {
    INT2: ">i2",
    INT4: ">i4",
    INT8: ">i8",
    FLOAT8: ">f8",
    TIMESTAMPTZ: ">i8",
    DATE: ">i4",
}


def encoding_of(column_type: sa.types.TypeEngine[object]) -> str:
    """Return the binary encoding of a column of SQLAlchemy type ``column_type``."""
    if isinstance(column_type, sa.SmallInteger):
        return INT2
    if isinstance(column_type, sa.BigInteger):
        return INT8
    if isinstance(column_type, sa.Integer):
        return INT4
    if isinstance(column_type, sa.Float | sa.Double):
        return FLOAT8
    if isinstance(column_type, sa.DateTime):
        return TIMESTAMPTZ
    if isinstance(column_type, sa.Date):
        return DATE
    if isinstance(column_type, sa.String):
        return TEXT
    return BYTES  # geometry: EWKB


def to_arrow(frame: pd.DataFrame, columns: Sequence[str]) -> pa.Table:
    """Return ``frame[columns]`` as an Arrow table (categories decoded, NaN as null)."""
    table = pa.Table.from_pandas(
        pd.DataFrame({name: frame[name] for name in columns}), preserve_index=False
    )
    arrays = []
    for name in columns:
        array = table.column(name)
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        arrays.append(array)
    return pa.table(arrays, names=list(columns))


def binary_array(data: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """Return the Arrow binary array whose values are ``data`` cut into ``lengths`` bytes."""
    n = len(lengths)
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def binary_bytes(rows: pa.Array) -> bytes:
    """Return the values of the binary array ``rows`` concatenated (one buffer copy)."""
    n = len(rows)
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)[rows.offset :][: n + 1]
    data = rows.buffers()[2]
    return bytes(data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes())


def _fixed_fields(values: np.ndarray, null: np.ndarray) -> pa.Array:
    """Fields of fixed-width big-endian ``values``; ``null`` rows become length -1."""
    n, width = len(values), values.dtype.itemsize
    field = np.empty((n, 4 + width), dtype=np.uint8)
    field[:, :4] = np.frombuffer(np.array(width, dtype=">i4").tobytes(), dtype=np.uint8)
    field[:, 4:] = np.ascontiguousarray(values).view(np.uint8).reshape(n, width)
    field[null, :4] = 0xFF
    keep = np.ones(field.shape, dtype=bool)
    keep[null, 4:] = False
    return binary_array(field[keep], np.where(null, 4, 4 + width))


def _variable_fields(array: pa.Array) -> pa.Array:
    """Fields of text or bytes: length prefix then the bytes."""
    n = len(array)
    data = array.cast(pa.binary())
    lengths = pc.binary_length(data).fill_null(-1).to_numpy(zero_copy_only=False)
    prefix = pa.Array.from_buffers(
        pa.binary(4), n, [None, pa.py_buffer(lengths.astype(">i4").tobytes())]
    ).cast(pa.binary())
    return pc.binary_join_element_wise(prefix, data.fill_null(b""), b"")


def field_array(array: pa.Array, encoding: str) -> pa.Array:
    """Return the binary COPY field (length prefix and value) of every value of ``array``."""
    if encoding in (TEXT, BYTES) or pa.types.is_null(array.type):
        if pa.types.is_null(array.type):
            array = pa.nulls(len(array), pa.binary())
        return _variable_fields(array)
    null = array.is_null().to_numpy(zero_copy_only=False)
    if encoding == TIMESTAMPTZ:
        micros = array.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).fill_null(0)
        values = micros.to_numpy() - PG_EPOCH_US
    elif encoding == DATE:
        values = array.cast(pa.date32()).cast(pa.int32()).fill_null(0).to_numpy() - PG_EPOCH_DAYS
    else:
        values = array.fill_null(0).to_numpy(zero_copy_only=False)
    return _fixed_fields(values.astype(_FIXED[encoding]), null)


def binary_chunks(
    table: pa.Table, encodings: Sequence[str], *, chunk_rows: int = CHUNK_ROWS
) -> Iterator[bytes]:
    """Yield ``table`` in PostgreSQL's binary COPY format, header and trailer included.

    Parameters
    ----------
    table : pyarrow.Table
        Rows to send; column ``i`` is encoded as ``encodings[i]``.
    encodings : sequence of str
        One of ``text``, ``int2``, ``int4``, ``int8``, ``float8``, ``timestamptz``,
        ``date``, ``bytes`` per column (see :func:`encoding_of`).
    chunk_rows : int, default 50_000
        Rows per yielded chunk.
    """
    yield HEADER
    for start in range(0, table.num_rows, chunk_rows):
        yield encode_rows(table.slice(start, chunk_rows), encodings)
    yield TRAILER


def encode_rows(table: pa.Table, encodings: Sequence[str]) -> bytes:
    """Return the tuples of ``table`` in binary COPY format (no header, no trailer)."""
    n = table.num_rows
    count = np.array(table.num_columns, dtype=">i2").tobytes()
    header = pa.Array.from_buffers(pa.binary(2), n, [None, pa.py_buffer(count * n)]).cast(
        pa.binary()
    )
    columns = [
        field_array(table.column(i).combine_chunks(), encodings[i])
        for i in range(table.num_columns)
    ]
    return binary_bytes(pc.binary_join_element_wise(header, *columns, b""))


def copy_statement(table: str, columns: Sequence[str]) -> sql.Composed:
    """Return ``COPY table (columns) FROM STDIN (FORMAT binary)`` with quoted identifiers."""
    return sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(name) for name in columns)
    )


def prefetched(chunks: Iterator[bytes], depth: int) -> Generator[bytes, None, None]:
    """Yield ``chunks`` built ahead in a worker thread (at most ``depth`` waiting).

    Arrow and NumPy release the GIL, so the next chunk is encoded while the server
    parses the current one.
    """
    ready: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ready.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            ready.put(exc)

    worker = threading.Thread(target=produce, name="t137-copy-encoder", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def copy_into(
    cursor: psycopg.Cursor[tuple[object, ...]],
    table: sa.Table,
    data: pa.Table,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """Stream ``data`` into ``table`` with binary COPY and return the number of rows sent.

    Parameters
    ----------
    cursor : psycopg.Cursor
        A cursor of the connection whose transaction receives the rows.
    table : sqlalchemy.Table
        Target table; its column types choose the binary encodings.
    data : pyarrow.Table
        Rows to load; its column names are target columns.
    chunk_rows : int, default 50_000
        Rows per chunk.

    Returns
    -------
    int
        Rows sent.
    """
    if data.num_rows == 0:
        return 0
    encodings = [encoding_of(table.c[name].type) for name in data.column_names]
    with cursor.copy(copy_statement(table.name, data.column_names)) as copy:
        for chunk in binary_chunks(data, encodings, chunk_rows=chunk_rows):
            copy.write(chunk)
    return int(data.num_rows)
