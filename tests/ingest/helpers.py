"""Helpers shared by the ingest tests: writing small 137 exports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from ingest import schema as s
from ingest.readers.result import ReadResult
from ingest.readers.tehran137 import write_137_csv

KEY = b"test-key-of-the-ingest-tests"
ARABIC_YEH = str.maketrans("ی۰۱۲۳۴۵۶۷۸۹", "ي0123456789")


def row(**fields: str) -> dict[str, str]:
    """A valid 137 row, overridden by ``fields``."""
    base = {
        "case_id": "1001",
        "created_at": "1402/07/15 14:30",
        "kind": "شکایت",
        "channel": "تلفن",
        "category": "خدمات شهری",
        "subcategory": "پسماند",
        "description": "زباله جمع نشده",
        "unit": "منطقه 3",
        "status": "بسته شده",
        "closed_at": "1402/07/16 09:00",
        "citizen_feedback": "31",
        "satisfaction": "4",
        "phone": "09121234567",
        "address": "خیابان ولیعصر",
        "lon": "51.41",
        "lat": "35.72",
    }
    base.update(fields)
    return base


def write_rows(path: Path, rows: Sequence[Mapping[str, str]], encoding: str = "utf-8") -> Path:
    """Write rows (field → text) as a 137 CSV under the default header."""
    if encoding != "cp1256":
        write_137_csv(pd.DataFrame(list(rows)).fillna(""), path, encoding=encoding)
        return path
    # Legacy Windows-1256 files hold the Arabic yeh (ي) where Persian text has ی.
    write_137_csv(pd.DataFrame(list(rows)).fillna(""), path, encoding="utf-8")
    text = path.read_text(encoding="utf-8").translate(ARABIC_YEH)
    path.write_bytes(text.encode("cp1256"))
    return path


def accounted(result: ReadResult) -> set[int]:
    """Row numbers of every kept or quarantined row; checks none is counted twice."""
    kept = list(result.cases.index)
    quarantined = result.quarantine[s.Q_ROW_NUMBER].tolist()
    assert len(set(kept)) == len(kept)
    assert len(set(quarantined)) == len(quarantined)
    assert not set(kept) & set(quarantined)
    assert result.rows_read == len(kept) + len(quarantined)
    return set(kept) | set(quarantined)


def reasons(result: ReadResult) -> dict[int, str]:
    """Quarantine reason by row number."""
    q = result.quarantine
    return dict(zip(q[s.Q_ROW_NUMBER].tolist(), q[s.Q_REASON].tolist(), strict=True))
