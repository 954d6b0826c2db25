from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.errors import InputError
from ingest import schema as s
from ingest.quarantine import Flag, Reason
from ingest.readers.tehran137 import DEFAULT_HEADER, LAYOUT, read_137
from ingest.validate import validate_cases

from .helpers import KEY, accounted, reasons, row, write_rows

NOW = pd.Timestamp("2024-06-01", tz="UTC")


def read(path: Path, **kw: object) -> object:
    return read_137(path, key=KEY, now=NOW, **kw)  # type: ignore[arg-type]


def test_valid_row_is_read_into_the_canonical_layout(tmp_path: Path) -> None:
    result = read(write_rows(tmp_path / "a.csv", [row()]))
    assert result.rows_read == 1
    assert result.quarantined == 0
    case = result.cases.iloc[0]
    assert case[s.CASE_ID] == "1001"
    assert case[s.SOURCE] == "tehran137"
    assert case[s.KIND] == "complaint"
    assert (case[s.CATEGORY], case[s.SUBCATEGORY]) == ("urban_services", "garbage")
    assert case[s.UNIT] == "region_03"
    # 1402/07/15 14:30 Tehran (UTC+03:30 since 2022) is 11:00 UTC on 2023-10-07.
    assert case[s.CREATED_AT] == pd.Timestamp("2023-10-07 11:00", tz="UTC")
    assert case[s.STATUS] == "closed"
    assert case[s.STATUS_RAW] == "بسته شده"
    assert case[s.CITIZEN_FEEDBACK] == "accepted"
    assert case[s.SATISFACTION] == 4
    assert case[s.LON] == pytest.approx(51.41)
    assert case[s.GEOCODE_PRECISION] == "point"
    assert len(case[s.CITIZEN_KEY]) == 32
    assert result.cases.index.tolist() == [2]
    validate_cases(result.cases)
    assert list(result.cases.columns[: len(s.CASE_COLUMNS)]) == list(s.CASE_COLUMNS)


def test_validation_refuses_a_repeated_case_key_only(tmp_path: Path) -> None:
    result = read(write_rows(tmp_path / "a.csv", [row(), row(case_id="1002")]))
    cases = result.cases  # type: ignore[attr-defined]
    twice = cases.copy()
    twice[s.CASE_ID] = "1001"
    with pytest.raises(InputError, match="duplicated"):
        validate_cases(twice)
    other_source = twice.copy()
    other_source[s.SOURCE] = ["tehran137", "open311:x"]
    validate_cases(other_source)  # the same id in two sources is two cases


def test_sms_verdicts_map_to_feedback(tmp_path: Path) -> None:
    rows = [
        row(case_id=str(i), citizen_feedback=v) for i, v in enumerate(["31", "33", "", "۳۳", "7"])
    ]
    result = read(write_rows(tmp_path / "a.csv", rows))
    assert result.cases[s.CITIZEN_FEEDBACK].tolist() == [
        "accepted",
        "objected",
        "none",
        "objected",
        "none",
    ]
    assert list(result.flagged(Flag.UNKNOWN_FEEDBACK)) == [6]


@pytest.mark.parametrize(
    ("fields", "reason", "column"),
    [
        ({"case_id": ""}, Reason.MISSING_ID, "شماره پیگیری"),
        ({"created_at": ""}, Reason.MISSING_CREATED, "تاریخ ثبت"),
        ({"created_at": "1402/13/40"}, Reason.DATE_IMPOSSIBLE, "تاریخ ثبت"),
        ({"created_at": "1402/12/30"}, Reason.DATE_IMPOSSIBLE, "تاریخ ثبت"),
        ({"created_at": "2023-02-30 10:00"}, Reason.DATE_IMPOSSIBLE, "تاریخ ثبت"),
        ({"created_at": "yesterday"}, Reason.DATE_UNPARSEABLE, "تاریخ ثبت"),
        ({"created_at": "1404/01/01", "closed_at": ""}, Reason.CREATED_IN_FUTURE, "تاریخ ثبت"),
        ({"closed_at": "1402/07/14 10:00"}, Reason.CLOSED_BEFORE_CREATED, "تاریخ بسته شدن"),
        ({"lon": "abc"}, Reason.COORD_NON_NUMERIC, "طول جغرافیایی"),
        ({"lon": "0", "lat": "0"}, Reason.COORD_ZERO, "طول جغرافیایی"),
        ({"lat": "135.7"}, Reason.COORD_OUT_OF_RANGE, "عرض جغرافیایی"),
        ({"lat": ""}, Reason.COORD_INCOMPLETE, "عرض جغرافیایی"),
        ({"lon": "51.389", "lat": "35.6892"}, Reason.COORD_PLACEHOLDER, "طول جغرافیایی"),
        ({"kind": "چیز عجیب"}, Reason.UNKNOWN_KIND, "نوع درخواست"),
        ({"kind": ""}, Reason.UNKNOWN_KIND, "نوع درخواست"),
    ],
)
def test_each_reason_is_quarantined_with_file_line_and_column(
    tmp_path: Path, fields: dict[str, str], reason: Reason, column: str
) -> None:
    path = write_rows(tmp_path / "cases.csv", [row(case_id="1"), row(**{"case_id": "2", **fields})])
    result = read(path, placeholders=[(51.389, 35.6892)])
    assert result.cases[s.CASE_ID].tolist() == ["1"]
    record = result.quarantine.iloc[0]
    assert record[s.Q_REASON] == reason.value
    assert record[s.Q_ROW_NUMBER] == 3
    assert record[s.Q_COLUMN] == column
    assert record[s.Q_MESSAGE].startswith(f"cases.csv, line 3, column «{column}»: ")
    assert record[s.Q_MESSAGE].endswith(".")
    assert pd.isna(record[s.Q_RUN_ID])
    assert '"شماره پیگیری"' in record[s.Q_RAW]


def test_jalali_spellings_persian_digits_and_seconds(tmp_path: Path) -> None:
    spellings = ["1402/07/15 14:30", "۱۴۰۲-۰۷-۱۵ ۱۴:۳۰", "1402.07.15 14:30:00", "1402/7/15 14:30"]
    rows = [row(case_id=str(i), created_at=v, closed_at="") for i, v in enumerate(spellings)]
    result = read(write_rows(tmp_path / "a.csv", rows))
    assert result.quarantined == 0
    assert set(result.cases[s.CREATED_AT]) == {pd.Timestamp("2023-10-07 11:00", tz="UTC")}


def test_duplicates_conflicting_go_identical_repeat_once(tmp_path: Path) -> None:
    rows = [
        row(case_id="1"),
        row(case_id="1"),  # identical: the second goes
        row(case_id="2"),
        row(case_id="2", description="دیگر"),  # conflict: both go
        row(case_id="3"),
    ]
    result = read(write_rows(tmp_path / "a.csv", rows))
    assert result.cases[s.CASE_ID].tolist() == ["1", "3"]
    assert reasons(result) == {
        3: Reason.DUPLICATE_ROW.value,
        4: Reason.DUPLICATE_CONFLICT.value,
        5: Reason.DUPLICATE_CONFLICT.value,
    }
    assert "lines 4, 5" in result.quarantine[s.Q_MESSAGE].iloc[1]


def test_flags_unknown_category_quick_close_derived_status(tmp_path: Path) -> None:
    rows = [
        row(case_id="1", subcategory="موضوع ناشناخته", category=""),
        row(case_id="2", closed_at="1402/07/15 14:32"),
        row(case_id="3", status="", closed_at=""),
    ]
    result = read(write_rows(tmp_path / "a.csv", rows))
    assert result.quarantined == 0
    assert result.cases.loc[2, s.CATEGORY] == "other"
    assert list(result.flagged(Flag.UNKNOWN_CATEGORY)) == [2]
    assert list(result.flagged(Flag.QUICK_CLOSE)) == [3]
    assert list(result.flagged(Flag.STATUS_DERIVED)) == [4]
    assert result.cases.loc[4, s.STATUS] == "registered"
    assert result.counts()["flags"][Flag.UNKNOWN_CATEGORY.value] == 1


def test_malformed_lines_are_quarantined_and_the_rest_goes_on(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "a.csv", [row(case_id="1")])
    good = path.read_text(encoding="utf-8").splitlines()[1]
    lines = [
        ",".join(DEFAULT_HEADER),
        good.replace("1001", "1", 1),
        "2,1402/07/15",  # too few fields
        good.replace(",1402/07/15 14:30,", ",1402/07/15 14:30,x,", 1).replace("1,", "3,", 1),
        "",  # blank line: skipped
        good.replace("1,", "4,", 1),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read(path)
    assert result.cases.index.tolist() == [2, 6]
    assert reasons(result) == {3: "malformed_line", 4: "malformed_line"}
    assert result.blank_lines == 1
    assert "line 3" in result.quarantine[s.Q_MESSAGE].iloc[0]


def test_line_numbers_count_line_breaks_inside_quoted_values(tmp_path: Path) -> None:
    rows = [
        row(case_id="1", description="سطر اول\nسطر دوم\nسطر سوم"),
        row(case_id="2", created_at="1402/13/01"),
    ]
    result = read(write_rows(tmp_path / "a.csv", rows))
    assert result.cases.index.tolist() == [2]
    assert reasons(result) == {5: Reason.DATE_IMPOSSIBLE.value}
    assert result.cases.iloc[0][s.DESCRIPTION] == "سطر اول سطر دوم سطر سوم"


def test_unclosed_quote_loses_one_line_only(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "a.csv", [row(case_id=str(i)) for i in range(1, 6)])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("زباله جمع نشده", '"زباله جمع نشده')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read(path)
    assert reasons(result) == {3: "malformed_line"}
    assert result.cases.index.tolist() == [2, 4, 5, 6]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1256"])
def test_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    rows = [row(case_id="1", description="كوچه يك", created_at="۱۴۰۲/۰۷/۱۵ ۱۴:۳۰")]
    result = read(write_rows(tmp_path / "a.csv", rows, encoding=encoding))
    expected = {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig", "cp1256": "windows-1256"}
    assert result.encoding == expected[encoding]
    assert result.quarantined == 0
    assert result.cases.iloc[0][s.DESCRIPTION] == "کوچه یک"
    assert result.cases.iloc[0][s.KIND] == "complaint"


def test_bom_header_still_finds_columns(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "a.csv", [row()])
    path.write_bytes(codecs.BOM_UTF8 + path.read_bytes())
    assert read(path).kept == 1


def test_semicolon_separated_and_reordered_columns(tmp_path: Path) -> None:
    header = ["وضعیت", "تاريخ ثبت", "نوع درخواست", "کد رهگیری"]  # Arabic ي, an alias
    text = ";".join(header) + "\n" + "مختومه;1402/07/15;درخواست;77\n"
    path = tmp_path / "a.csv"
    path.write_text(text, encoding="utf-8")
    result = read(path)
    assert result.cases[s.CASE_ID].tolist() == ["77"]
    assert result.cases[s.STATUS].tolist() == ["closed"]


def test_missing_required_column_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("شماره پیگیری,نوع درخواست\n1,شکایت\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"a\.csv: the header lacks required columns.*تاریخ ثبت"):
        read(path)


def test_xlsx_export(tmp_path: Path) -> None:
    from datetime import datetime

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    fields = ["case_id", "created_at", "kind", "phone", "lon", "lat"]
    sheet.append([LAYOUT[f][0] for f in fields])
    sheet.append([1001, "1402/07/15 14:30", "شکایت", 9121234567, 51.4, 35.7])
    sheet.append([1002, datetime(2023, 10, 7, 14, 30), "درخواست", None, None, None])
    sheet.append([None, None, None, None, None, None])
    sheet.append([1003, "1402/13/01", "شکایت", None, None, None])
    sheet.append([1004, "1402/07/15", "شکایت", None, None, None, "extra"])
    path = tmp_path / "a.xlsx"
    book.save(path)
    result = read(path)
    assert result.cases[s.CASE_ID].tolist() == ["1001", "1002"]
    assert result.cases[s.CREATED_AT].nunique() == 1
    assert reasons(result) == {5: "date_impossible", 6: "malformed_line"}
    assert result.quarantine[s.Q_MESSAGE].iloc[0].startswith("a.xlsx, row 5, column «تاریخ ثبت»")
    assert result.blank_lines == 1
    assert (
        result.cases.iloc[0][s.CITIZEN_KEY]
        == read(write_rows(tmp_path / "b.csv", [row(phone="09121234567")])).cases.iloc[0][
            s.CITIZEN_KEY
        ]
    )


def test_move_to_quarantine_keeps_counts_reconciled(tmp_path: Path) -> None:
    result = read(write_rows(tmp_path / "a.csv", [row(case_id=str(i)) for i in range(5)]))
    moved = result.move_to_quarantine(
        [3, 5], Reason.OUTSIDE_CITY, column="طول جغرافیایی", details="12 km from the city"
    )
    assert moved.kept == 3
    assert moved.quarantined == 2
    assert moved.rows_read == 5
    assert moved.quarantine[s.Q_REASON].tolist() == ["outside_city"] * 2
    assert len(moved.raw) == 3
    assert "line 3" in moved.quarantine[s.Q_MESSAGE].iloc[0]
    assert accounted(moved) == {2, 3, 4, 5, 6}


def test_dst_local_time_of_2021_uses_the_offset_then_in_force(tmp_path: Path) -> None:
    rows = [row(case_id="1", created_at="1400/05/01 12:00", closed_at="")]
    result = read(write_rows(tmp_path / "a.csv", rows))
    # Summer 2021 Tehran was UTC+04:30.
    assert result.cases.iloc[0][s.CREATED_AT] == pd.Timestamp("2021-07-23 07:30", tz="UTC")


def test_counts_are_reported(tmp_path: Path) -> None:
    rows = [row(case_id="1"), row(case_id="", kind="x")]
    result = read(write_rows(tmp_path / "a.csv", rows))
    counts = result.counts()
    assert counts["rows_read"] == 2
    assert counts["kept"] == 1
    assert counts["reasons"] == {"missing_id": 1}
    assert "2 rows read, 1 kept, 1 quarantined (missing_id 1)" in result.summary()
    assert np.array_equal(result.cases.index.to_numpy(), [2])


def test_the_identifier_pass_runs_beside_the_dates_and_its_failure_surfaces(
    tmp_path: Path,
) -> None:
    # the masking and hashing run in a thread of their own while the dates are parsed; a
    # failure there must reach the caller as it is, and no thread may be left behind
    import threading
    from unittest import mock

    from ingest.readers import staging

    path = write_rows(tmp_path / "a.csv", [row(), row(case_id="1002")])
    seen: list[str] = []
    real = staging._protect_identifiers

    def watched(*args: object) -> object:
        seen.append(threading.current_thread().name)
        return real(*args)  # type: ignore[arg-type]

    with mock.patch.object(staging, "_protect_identifiers", watched):
        result = read(path)
    assert result.rows_read == 2
    assert result.quarantined == 0
    assert len(seen) == 1
    assert seen[0].startswith("t137-identifiers")
    assert result.cases[s.CITIZEN_KEY].notna().all()

    def broken(*args: object) -> object:
        raise RuntimeError("identifier pass failed")

    before = threading.active_count()
    with (
        mock.patch.object(staging, "_protect_identifiers", broken),
        pytest.raises(RuntimeError, match="identifier pass failed"),
    ):
        read(path)
    assert threading.active_count() == before
