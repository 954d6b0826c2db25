from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from ingest.readers.textfile import decode_bytes, read_text_table


def test_crlf_blank_lines_and_multiline_values() -> None:
    data = b'a,b,c\r\n1,2,3\r\n\r\n4,"x\r\ny\r\nz",6\r\n7,8\r\n9,10,11'
    t = read_text_table(data)
    assert t.row_numbers.tolist() == [2, 4, 8]
    assert t.table.column("b").to_pylist() == ["2", "x\r\ny\r\nz", "10"]
    assert [(m.line, m.detail) for m in t.malformed] == [(7, "expected 3 fields, found 2")]
    assert t.blank_lines == 1


def test_rows_blank_in_every_column_are_blank_lines_others_are_rows() -> None:
    data = b"a,b,c\n, ,\n,2,\n1,,\n ,\t, \n,,3\n"
    t = read_text_table(data)
    assert t.row_numbers.tolist() == [3, 4, 6]
    assert t.table.column("c").to_pylist() == ["", "", "3"]
    assert t.blank_lines == 2


def test_unclosed_quotes_lose_their_own_line_only() -> None:
    data = b'a,b,c\n1,2,3\n4,"5,6\n7,8,9\n10,11,12\n13,"14\n'
    t = read_text_table(data)
    assert t.row_numbers.tolist() == [2, 4, 5]
    assert [m.line for m in t.malformed] == [3, 6]


def test_two_stray_quotes_pair_up_as_csv_says() -> None:
    # CSV semantics: the quote opened on line 3 closes on line 5, so lines 3-5 are one
    # record with three fields; the line numbers after it stay right.
    data = b'a,b,c\n1,2,3\n4,"5,6\n7,8,9\n10,"11,12\n13,14,15\n'
    t = read_text_table(data)
    assert t.row_numbers.tolist() == [2, 3, 6]
    assert t.table.column("b").to_pylist()[1] == "5,6\n7,8,9\n10,11"


def test_delimiters_are_sniffed_and_duplicate_headers_renamed() -> None:
    t = read_text_table(b"x\ty\tx\n1\t2\t3\n")
    assert t.table.column_names == ["x", "y", "x.1"]
    assert read_text_table(b"x|y\n1|2\n").table.column("y").to_pylist() == ["2"]


def test_encodings() -> None:
    text = "نام,شهر\nعلي,تهران\n"
    assert decode_bytes(text.encode("utf-8"))[1] == "utf-8"
    assert decode_bytes(codecs.BOM_UTF8 + text.encode())[1] == "utf-8-sig"
    assert decode_bytes(text.encode("cp1256"))[1] == "windows-1256"
    assert decode_bytes(text.encode("utf-16"))[1] == "utf-16"
    t = read_text_table(text.encode("cp1256"))
    assert t.table.column("شهر").to_pylist() == ["تهران"]
    # A UTF-8 file with one stray byte stays UTF-8; the row is flagged.
    broken = ("نام,شهر\n" + "علی,تهران\n" * 200).encode() + b"x,\xff\n"
    t = read_text_table(broken)
    assert t.encoding == "utf-8"
    assert t.replaced.tolist()[-1]
    assert not t.replaced[0]
    with pytest.raises(InputError, match="Unknown encoding"):
        decode_bytes(b"x", "klingon")


def test_no_header_is_an_error() -> None:
    with pytest.raises(InputError, match="no header"):
        read_text_table(b"\n\n")
    assert read_text_table(b"a,b\n").table.num_rows == 0


def test_a_literal_replacement_character_is_found_after_many_other_ef_bytes() -> None:
    # U+F8FF and U+FB50 also start with the byte 0xEF: the search must look past them.
    rows = "".join(f"{i},\uf8ff\ufb50\n" for i in range(1_500))
    data = ("a,b\n" + rows + "x,\ufffd\n").encode()
    t = read_text_table(data)
    assert t.encoding == "utf-8"
    assert t.replaced.sum() == 1
    assert t.replaced.tolist()[-1]
    clean = read_text_table(("a,b\n" + rows).encode())
    assert not clean.replaced.any()


def test_lone_carriage_returns_and_no_final_line_break_keep_line_numbers() -> None:
    data = b'a,b\r1,"x\ry"\r2,3\r\n4,5'
    t = read_text_table(data)
    assert t.table.column("a").to_pylist() == ["1", "2", "4"]
    assert t.row_numbers.tolist() == [2, 4, 5]


def test_a_white_space_body_has_no_rows() -> None:
    t = read_text_table(b"a,b\n" + b" \n" * 100)
    assert t.table.num_rows == 0
    assert t.row_numbers.tolist() == []


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60).map(lambda b: bytes(b"\r\na,"[x % 4] for x in b)))
def test_physical_lines_count_like_bytes_methods_across_blocks(body: bytes) -> None:
    from ingest.readers import textfile

    lf, cr = body.count(b"\n"), body.count(b"\r")
    expected = lf + cr - body.count(b"\r\n") + (0 if body.endswith((b"\n", b"\r")) else 1)
    original = textfile._COUNT_BLOCK
    try:
        textfile._COUNT_BLOCK = 7  # type: ignore[misc]  # pairs straddle the small blocks
        assert textfile._physical_lines(body) == expected
        assert textfile._physical_lines(memoryview(body)) == expected
    finally:
        textfile._COUNT_BLOCK = original  # type: ignore[misc]
