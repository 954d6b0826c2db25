"""Reading delimited text files: encoding detection, Arrow parsing, exact line numbers.

The file is decoded once (UTF-8, UTF-8 with a byte-order mark, UTF-16 with a BOM, or
Windows-1256, detected; see :func:`decode_bytes`) and parsed by Arrow's multithreaded CSV
reader with every column as text. Quoted values may hold line breaks.

Every record gets the 1-based number of the line it starts on, counted from the line
breaks inside the values of the records before it, so a quarantine message can send the
user to the right line of the file even after multi-line descriptions.

A record whose number of fields differs from the header's is set aside as malformed with
its line number, and the rest of the file goes on. An unclosed quote makes a CSV parser
swallow the following lines into one record: such a record's first line is declared
malformed and the lines after it are parsed again, so each of them is accounted for.
Lines without any value (blank lines, or separators only) are skipped and counted.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo.errors import InputError

REPLACEMENT: Final = "\ufffd"
#: Share of non-ASCII characters that may be undecodable before a file is read as Windows-1256.
MAX_REPLACED_SHARE: Final = 0.01
_LINE_BREAK: Final = r"\r\n|\r|\n"
_LINE_BREAK_RE: Final = re.compile(_LINE_BREAK)
_MAX_REPARSE_DEPTH: Final = 64
_DELIMITERS: Final = (",", ";", "\t", "|")


@dataclass(frozen=True)
class MalformedLine:
    """A line that could not be split into the header's columns.

    Attributes
    ----------
    line : int
        1-based line number in the file.
    text : str
        The line's text (to be masked before it is stored).
    detail : str
        What is wrong, such as ``"expected 22 fields, found 21"``.
    """

    line: int
    text: str
    detail: str


@dataclass(eq=False)
class TextTable:
    """A delimited file read as text columns.

    Attributes
    ----------
    table : pyarrow.Table
        One string column per header field (names as written, made unique), one row
        per record kept.
    row_numbers : numpy.ndarray
        int64 1-based line number where each record starts.
    malformed : list of MalformedLine
        Records set aside.
    encoding : str
        The encoding the file was read with.
    replaced : numpy.ndarray
        Rows holding characters that could not be decoded (replaced by U+FFFD).
    blank_lines : int
        Lines without any value, skipped.
    """

    table: pa.Table
    row_numbers: np.ndarray
    malformed: list[MalformedLine] = field(default_factory=list)
    encoding: str = "utf-8"
    replaced: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    blank_lines: int = 0


def _is_valid_utf8(data: bytes) -> bool:
    if not data:
        return True
    buf = pa.py_buffer(data)
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64).tobytes())
    arr = pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, buf])
    try:
        arr.cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def decode_bytes(data: bytes, encoding: str | None = None) -> tuple[bytes, str]:
    """Return the file's content as UTF-8 bytes, and the encoding it was read with.

    Parameters
    ----------
    data : bytes
        The raw file content.
    encoding : str, optional
        Force an encoding; by default it is detected: a UTF-8 or UTF-16 byte-order mark
        wins, then valid UTF-8, then UTF-8 with a few undecodable bytes (at most
        :data:`MAX_REPLACED_SHARE` of the non-ASCII characters, replaced by U+FFFD), and
        otherwise Windows-1256, the legacy Persian code page of Excel.

    Returns
    -------
    tuple of (bytes, str)
        UTF-8 content without a byte-order mark, and the encoding's name.

    Raises
    ------
    InputError
        When a forced encoding is unknown.

    Examples
    --------
    >>> decode_bytes("سلام".encode("cp1256"))[1]
    'windows-1256'
    >>> decode_bytes(codecs.BOM_UTF8 + "سلام".encode())[1]
    'utf-8-sig'
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError as exc:
            msg = f"Unknown encoding {encoding!r}; use utf-8, utf-8-sig or windows-1256."
            raise InputError(msg) from exc
        text = data.decode(encoding, errors="replace")
        return text.lstrip("\ufeff").encode("utf-8"), encoding
    if data.startswith(codecs.BOM_UTF8):
        body = data[len(codecs.BOM_UTF8) :]
        if _is_valid_utf8(body):
            return body, "utf-8-sig"
        return body.decode("utf-8", errors="replace").encode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace").encode("utf-8"), "utf-16"
    if _is_valid_utf8(data):
        return data, "utf-8"
    text = data.decode("utf-8", errors="replace")
    non_ascii = sum(1 for ch in text if ord(ch) > 127) if len(text) < 1_000_000 else None
    if non_ascii is None:
        sample = text[:1_000_000]
        non_ascii_sample = sum(1 for ch in sample if ord(ch) > 127)
        share = sample.count(REPLACEMENT) / max(non_ascii_sample, 1)
    else:
        share = text.count(REPLACEMENT) / max(non_ascii, 1)
    if share <= MAX_REPLACED_SHARE:
        return text.encode("utf-8"), "utf-8"
    return data.decode("cp1256", errors="replace").encode("utf-8"), "windows-1256"


def _header(data: bytes, delimiter: str | None) -> tuple[list[str], str, int]:
    """Return the header's field names, the delimiter and the header's byte length."""
    # The header ends at the first line break: LF, CR LF, or a lone CR (old Mac exports).
    end = data.find(b"\n")
    cr = data.find(b"\r", 0, end if end >= 0 else len(data))
    if cr >= 0:
        end = cr + 1 if data[cr + 1 : cr + 2] == b"\n" else cr
    first = data[: end if end >= 0 else len(data)].decode("utf-8", errors="replace")
    first = first.rstrip("\r")
    if delimiter is None:
        counts = {d: first.count(d) for d in _DELIMITERS}
        delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    names = next(csv.reader([first], delimiter=delimiter), [])
    if not names or not any(n.strip() for n in names):
        msg = "the file has no header line; the first line must name the columns"
        raise InputError(msg)
    seen: dict[str, int] = {}
    unique: list[str] = []
    for raw in names:
        name = raw.strip().lstrip("\ufeff") or f"column_{len(unique) + 1}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        unique.append(name if count == 0 else f"{name}.{count}")
    return unique, delimiter, (end + 1 if end >= 0 else len(data))


def _breaks(values: pa.Array) -> np.ndarray:
    counted = pc.count_substring_regex(values, _LINE_BREAK)
    return np.asarray(pc.fill_null(counted, 0).to_numpy(zero_copy_only=False), dtype=np.int64)


def read_text_table(
    data: bytes,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> TextTable:
    """Parse a delimited file's bytes into text columns with exact line numbers.

    Parameters
    ----------
    data : bytes
        The file content.
    encoding : str, optional
        Force an encoding (detected by default; see :func:`decode_bytes`).
    delimiter : str, optional
        The field separator; by default the most frequent of ``, ; TAB |`` in the header.

    Returns
    -------
    TextTable
        The records, their line numbers and the malformed lines.

    Raises
    ------
    InputError
        When the file has no header line.
    """
    utf8, used = decode_bytes(data, encoding)
    names, delim, header_end = _header(utf8, delimiter)
    body = memoryview(utf8)[header_end:]  # no copy of the file's bytes
    out = _parse(body, names, delim, first_line=2, depth=0)
    replaced = np.zeros(out.table.num_rows, dtype=bool)
    if _contains(utf8, REPLACEMENT.encode()):
        for column in out.table.columns:
            hit = pc.fill_null(pc.match_substring(column, REPLACEMENT), False)
            replaced |= np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    out.encoding = used
    out.replaced = replaced
    return out


def _contains(data: bytes, needle: bytes) -> bool:
    """Return whether ``needle`` occurs in ``data``, looking for its rare first byte first.

    ``needle in data`` scans a large file several times slower than a search for one byte;
    the lead byte of U+FFFD (0xEF) is rare in Persian text (only U+F000-U+FFFF start with
    it), so each hit of it is checked in place.
    """
    lead = needle[:1]
    at = data.find(lead)
    hits = 0
    while at >= 0:
        if data.startswith(needle, at):
            return True
        hits += 1
        if hits > 1_000:  # the byte is not rare in this file: search for the whole needle
            return data.find(needle, at) >= 0
        at = data.find(lead, at + 1)
    return False


def _is_blank_body(body: bytes | memoryview) -> bool:
    """Return whether ``body`` is empty or white space only (without copying a large one)."""
    if not len(body):
        return True
    if not bytes(body[:64]).isspace():
        return False
    return bytes(body).isspace()


def _empty_table(names: list[str]) -> pa.Table:
    return pa.table({n: pa.array([], pa.string()) for n in names})


def _parse(
    body: bytes | memoryview, names: list[str], delim: str, *, first_line: int, depth: int
) -> TextTable:
    if _is_blank_body(body):
        return TextTable(_empty_table(names), np.zeros(0, dtype=np.int64))
    invalid: list[tuple[int | None, str, int]] = []

    def handler(row: pacsv.InvalidRow) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    def run(threads: bool) -> pa.Table:
        invalid.clear()
        return pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=threads, block_size=1 << 24
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delim,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=handler,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                # decode_bytes returns valid UTF-8 (checked, or re-encoded from text), and a
                # field ends at an ASCII delimiter: no value can hold invalid UTF-8.
                check_utf8=False,
            ),
        )

    try:
        # One serial pass: invalid rows only get their record numbers without threads, and
        # a threaded pass followed by a serial one (whenever a line is malformed) costs more.
        table = run(threads=False)
    except pa.ArrowInvalid as exc:  # e.g. a value larger than a block: give up on the region
        return _line_by_line(body, names, delim, first_line=first_line, why=str(exc))
    table = table.combine_chunks()
    spans = np.ones(table.num_rows, dtype=np.int64)
    if _physical_lines(body) != table.num_rows + len(invalid):  # some values hold line breaks
        for column in table.columns:
            arr = column.chunk(0) if column.num_chunks else pa.array([], pa.string())
            if pc.any(pc.match_substring_regex(arr, "[\r\n]")).as_py():
                spans += _breaks(arr)
    blank = _all_blank(table)
    # Interleave the invalid records (record numbers are 1-based, the body's first is 1).
    total = table.num_rows + len(invalid)
    is_valid = np.ones(total, dtype=bool)
    if any(num is None for num, _, _ in invalid):
        return _line_by_line(body, names, delim, first_line=first_line, why="no record numbers")
    invalid_pos = np.array([int(num or 0) - 1 for num, _, _ in invalid], dtype=np.int64)
    if len(invalid_pos):
        if invalid_pos.max(initial=-1) >= total or len(np.unique(invalid_pos)) != len(invalid):
            return _line_by_line(body, names, delim, first_line=first_line, why="record order")
        is_valid[invalid_pos] = False
    all_spans = np.empty(total, dtype=np.int64)
    all_spans[is_valid] = spans
    invalid_spans = np.array([max(1, _count_lines(text)) for _, text, _ in invalid], np.int64)
    if len(invalid_pos):
        all_spans[invalid_pos] = invalid_spans
    starts = first_line + np.concatenate(([0], np.cumsum(all_spans)[:-1])).astype(np.int64)
    valid_starts = starts[is_valid]
    keep = ~blank
    kept = table.filter(pa.array(keep)) if blank.any() else table
    out = TextTable(kept, valid_starts[keep])
    out.blank_lines = int(blank.sum())
    pieces: list[TextTable] = []
    for (_, text, found), start, span in zip(
        invalid, starts[invalid_pos], invalid_spans, strict=True
    ):
        if not text.strip() and found <= 1:
            out.blank_lines += 1
            continue
        detail = f"expected {len(names)} fields, found {found}"
        if span > 1:
            lines = _split_lines(text)
            out.malformed.append(
                MalformedLine(int(start), lines[0], detail + " (an unclosed quote?)")
            )
            rest = "\n".join(lines[1:]).encode("utf-8")
            if depth >= _MAX_REPARSE_DEPTH:
                pieces.append(
                    _line_by_line(rest, names, delim, first_line=int(start) + 1, why=detail)
                )
            else:
                pieces.append(
                    _parse(rest, names, delim, first_line=int(start) + 1, depth=depth + 1)
                )
        else:
            out.malformed.append(MalformedLine(int(start), text, detail))
    if pieces:
        out = _merge([out, *pieces])
    return out


_COUNT_BLOCK: Final = 1 << 22


def _count_byte(view: np.ndarray, value: int) -> int:
    """Count the bytes equal to ``value`` in blocks (no file-sized temporary mask)."""
    return sum(
        int(np.count_nonzero(view[i : i + _COUNT_BLOCK] == value))
        for i in range(0, len(view), _COUNT_BLOCK)
    )


def _physical_lines(body: bytes | memoryview) -> int:
    """Count the lines of ``body`` (a last line without a terminator counts)."""
    view = np.frombuffer(body, dtype=np.uint8)
    if not len(view):
        return 1
    lf = _count_byte(view, 0x0A)
    cr = _count_byte(view, 0x0D)
    lines = lf if cr == 0 else lf + cr - _count_crlf(view)
    return lines + (0 if view[-1] in (0x0A, 0x0D) else 1)


def _count_crlf(view: np.ndarray) -> int:
    """Count CR LF pairs in blocks (a pair across two blocks is counted in the first)."""
    total = 0
    for i in range(0, len(view), _COUNT_BLOCK):
        block = view[i : i + _COUNT_BLOCK + 1]
        total += int(np.count_nonzero((block[:-1] == 0x0D) & (block[1:] == 0x0A)))
    return total


def _split_lines(text: str) -> list[str]:
    """Split on CSV line breaks only (CR LF, CR, LF), unlike :meth:`str.splitlines`."""
    return _LINE_BREAK_RE.split(text)


def _count_lines(text: str) -> int:
    return len(_split_lines(text))


def _all_blank(table: pa.Table) -> np.ndarray:
    blank = np.ones(table.num_rows, dtype=bool)
    rows = np.arange(table.num_rows)  # rows blank so far: only these are tested further
    for column in table.columns:
        arr = column.chunk(0) if column.num_chunks else pa.array([], pa.string())
        if len(rows) < len(arr):
            arr = arr.take(pa.array(rows))
        empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arr), ""), True)
        still = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
        blank[rows[~still]] = False
        rows = rows[still]
        if not len(rows):
            break
    return blank


def _merge(parts: list[TextTable]) -> TextTable:
    table = pa.concat_tables([p.table for p in parts]).combine_chunks()
    rows = np.concatenate([p.row_numbers for p in parts])
    order = np.argsort(rows, kind="stable")
    merged = TextTable(table.take(pa.array(order)), rows[order])
    merged.malformed = sorted((m for p in parts for m in p.malformed), key=lambda m: m.line)
    merged.blank_lines = sum(p.blank_lines for p in parts)
    return merged


def _line_by_line(
    body: bytes | memoryview, names: list[str], delim: str, *, first_line: int, why: str
) -> TextTable:
    """Slow path: every physical line on its own (Python's csv module)."""
    text = bytes(body).decode("utf-8", errors="replace")
    rows: list[list[str]] = []
    numbers: list[int] = []
    malformed: list[MalformedLine] = []
    blank = 0
    lines = _split_lines(text)
    if lines and lines[-1] == "":
        lines.pop()
    for offset, line in enumerate(lines):
        number = first_line + offset
        if not line.strip():
            blank += 1
            continue
        try:
            fields = next(csv.reader([line], delimiter=delim, strict=True))
        except csv.Error as exc:
            malformed.append(MalformedLine(number, line, f"broken quoting ({exc})"))
            continue
        if len(fields) != len(names):
            detail = f"expected {len(names)} fields, found {len(fields)}"
            malformed.append(MalformedLine(number, line, detail))
            continue
        rows.append(fields)
        numbers.append(number)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    table = pa.table(
        {n: pa.array(list(c), pa.string()) for n, c in zip(names, columns, strict=True)}
    )
    del why
    return TextTable(table, np.array(numbers, dtype=np.int64), malformed, blank_lines=blank)
