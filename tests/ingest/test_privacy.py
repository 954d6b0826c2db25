"""Known phone numbers and national ids never appear in any output of the readers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ingest import schema as s
from ingest.pseudonymize import Pseudonymizer, hmac_sha256_hex
from ingest.readers.open311 import read_open311
from ingest.readers.result import ReadResult
from ingest.readers.tehran137 import DEFAULT_HEADER, LAYOUT, read_137

from .helpers import KEY, row, write_rows

PHONES = ["09121234567", "09351112233", "09198887766"]
NATIONAL_IDS = ["0084575948", "0013542419"]
# Every spelling the secrets may take in a file.
SPELLINGS = [
    *PHONES,
    "+98 912 123 4567",
    "۰۹۳۵۱۱۱۲۲۳۳",
    "9198887766",
    *NATIONAL_IDS,
    "008-457594-8",
]
NEEDLES = [*PHONES, *NATIONAL_IDS, "9121234567", "9351112233", "9198887766", "84575948", "13542419"]


def everything(result: ReadResult) -> str:
    parts = [
        result.cases.to_csv(),
        result.quarantine.to_csv(),
        result.flags.to_csv(),
        json.dumps(result.raw.to_pylist(), ensure_ascii=False),
        result.summary(),
        json.dumps(result.counts()),
    ]
    return "\n".join(parts)


def assert_no_secret(text: str) -> None:
    digits = text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    for needle in NEEDLES:
        assert needle not in digits, needle


def test_137_outputs_hold_no_identifier(tmp_path: Path) -> None:
    rows = [
        row(case_id="1", phone=SPELLINGS[0], national_id=SPELLINGS[5]),
        row(case_id="2", phone=SPELLINGS[3], description=f"با {PHONES[1]} تماس بگیرید"),
        row(case_id="3", phone=SPELLINGS[4], created_at="1402/13/01"),  # quarantined
        row(case_id="", national_id=SPELLINGS[7], address=f"کد ملی {NATIONAL_IDS[0]}"),
        row(case_id="5", phone=PHONES[2], kind="ناشناخته", description="0912 123 4567"),
    ]
    path = write_rows(tmp_path / "a.csv", rows)
    # A malformed line with identifiers in shifted fields.
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"6,1402/07/15,{PHONES[0]},{NATIONAL_IDS[1]},0935 111 2233\n")
    result = read_137(path, key=KEY, now=pd.Timestamp("2024-06-01", tz="UTC"))
    assert result.kept == 2
    assert result.quarantined == 4
    assert_no_secret(everything(result))
    assert_no_secret(path.name)
    # The same person gets the same key whatever the spelling of the number.
    keys = result.cases[s.CITIZEN_KEY].tolist()
    assert keys[0] == Pseudonymizer(KEY).hash_one("phone:09121234567")
    assert keys[1] == Pseudonymizer(KEY).hash_one("phone:09121234567")


def test_quarantine_raw_keeps_the_hash_not_the_number(tmp_path: Path) -> None:
    rows = [row(case_id="1", created_at="bad", phone="09121234567")]
    result = read_137(write_rows(tmp_path / "a.csv", rows), key=KEY)
    raw = json.loads(result.quarantine[s.Q_RAW].iloc[0])
    assert raw[LAYOUT["phone"][0]] == Pseudonymizer(KEY).hash_one("phone:09121234567")


def test_xlsx_numbers_are_hashed(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(DEFAULT_HEADER))
    values = dict.fromkeys(DEFAULT_HEADER, None)
    values.update(
        {
            LAYOUT["case_id"][0]: 1,
            LAYOUT["created_at"][0]: "1402/07/15",
            LAYOUT["kind"][0]: "شکایت",
            LAYOUT["phone"][0]: 9121234567,  # a number cell: the leading zero is lost
            LAYOUT["national_id"][0]: 84575948,
        }
    )
    sheet.append(list(values.values()))
    path = tmp_path / "a.xlsx"
    book.save(path)
    result = read_137(path, key=KEY)
    assert result.kept == 1
    assert_no_secret(everything(result))
    assert result.cases.iloc[0][s.CITIZEN_KEY] == Pseudonymizer(KEY).hash_one("phone:09121234567")


def test_open311_personal_fields_are_hashed_or_dropped(tmp_path: Path) -> None:
    records = [
        {
            "service_request_id": "1",
            "status": "open",
            "requested_datetime": "2023-01-01T10:00:00Z",
            "phone": "+989121234567",
            "email": "someone@example.org",
            "first_name": "Ali",
            "description": "call 09351112233",
        },
        {"service_request_id": "2", "requested_datetime": "no date", "phone": "09198887766"},
    ]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = read_open311(path, city="x", key=KEY)
    text = everything(result)
    assert_no_secret(text)
    assert "someone@example.org" not in text
    assert "Ali" not in text


def test_hash_is_hmac_sha256_with_the_key() -> None:
    expected = hmac_sha256_hex(KEY, "phone:09121234567")[:32]
    assert Pseudonymizer(KEY).hash_one("phone:09121234567") == expected
    assert Pseudonymizer(b"another key").hash_one("phone:09121234567") != expected
    assert "key" not in repr(Pseudonymizer(KEY)).lower().replace("key=***", "")
