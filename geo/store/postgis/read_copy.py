"""Fast reads: the filtered rows are COPYed out as CSV and parsed by Arrow.

``COPY (query) TO STDOUT`` takes no bound parameters, so the filtered ``SELECT`` (with its
parameters bound by the server) first fills a temporary table (``CREATE TEMPORARY TABLE …
AS SELECT``), which is then COPYed. Timestamps leave the server as exact integer
microseconds since the Unix epoch, floats as PostgreSQL's shortest exact text; NULL is an
unquoted empty field and an empty string a quoted one, which Arrow tells apart.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Final

import pyarrow as pa
import pyarrow.csv as pcsv
import sqlalchemy as sa
from psycopg import sql
from sqlalchemy.sql.elements import ColumnElement

from ingest import schema as s

from .upsert import psycopg_connection

_MICROS: Final = 1_000_000
_TEMP_PREFIX: Final = "t137_read_"
_counter = itertools.count()
#: Arrow types of the case columns as they arrive (timestamps as integer microseconds).
CASE_TYPES: Final[Mapping[str, pa.DataType]] = {
    name: (
        pa.int64()
        if name in s.TIMESTAMP_COLUMNS
        else pa.int8()
        if name == s.SATISFACTION
        else pa.int16()
        if name == s.REOPEN_COUNT
        else pa.float64()
        if name in s.FLOAT_COLUMNS
        else pa.string()
    )
    for name in s.CASE_COLUMNS
}


def epoch_micros(column: ColumnElement[Any]) -> ColumnElement[int]:
    """Return ``column`` (timestamptz) as exact integer microseconds since the Unix epoch."""
    return sa.cast(sa.extract("epoch", column) * _MICROS, sa.BigInteger)


def copy_out(
    connection: sa.Connection, query: sa.Select[Any], types: Mapping[str, pa.DataType]
) -> pa.Table:
    """Run ``query`` and return its rows as an Arrow table of ``types``.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        A connection in a transaction (the temporary table is dropped at its end).
    query : sqlalchemy.Select
        The rows to read; its labels must be the keys of ``types``, in order.
    types : mapping of str to pyarrow.DataType
        Arrow type of each selected column.
    """
    names: Sequence[str] = list(types)
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    temp = f"{_TEMP_PREFIX}{next(_counter)}"
    create = sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS ").format(sql.Identifier(temp))
    buffer = io.BytesIO()
    with psycopg_connection(connection).cursor() as cursor:
        statement = create.as_string(cursor) + str(compiled)
        cursor.execute(statement, compiled.params)  # type: ignore[call-overload]
        copy = sql.SQL("COPY {} TO STDOUT (FORMAT csv)").format(sql.Identifier(temp))
        with cursor.copy(copy) as stream:
            for chunk in stream:
                buffer.write(chunk)
        cursor.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(temp)))
    if buffer.tell() == 0:
        return pa.table({name: pa.array([], type=kind) for name, kind in types.items()})
    buffer.seek(0)
    return pcsv.read_csv(
        buffer,
        read_options=pcsv.ReadOptions(column_names=names),
        parse_options=pcsv.ParseOptions(newlines_in_values=True),
        convert_options=pcsv.ConvertOptions(
            column_types=dict(types), strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )


def with_timestamps(table: pa.Table) -> pa.Table:
    """Return ``table`` with its integer-microsecond timestamp columns as ``timestamp[us, UTC]``."""
    for i, name in enumerate(table.column_names):
        if name in s.TIMESTAMP_COLUMNS:
            stamps = table.column(i).cast(pa.timestamp("us", tz="UTC"))
            table = table.set_column(i, name, stamps)
    return table
