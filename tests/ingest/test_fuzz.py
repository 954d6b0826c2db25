"""Hypothesis fuzzing of the readers and normalizers: no crash, no row unaccounted.

In all, the tests here generate well over 10,000 malformed rows per run.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import schema as s
from ingest.arrowtext import ascii_digits, normalize_text_array, to_string_array
from ingest.dates import parse_datetimes
from ingest.identifiers import mask_identifiers, normalize_national_ids, normalize_phones
from ingest.readers.mapped_csv import load_mapping, read_mapped_csv
from ingest.readers.open311 import read_open311_records
from ingest.readers.tehran137 import DEFAULT_HEADER, LAYOUT, read_137

from .helpers import KEY, accounted

NOW = pd.Timestamp("2024-06-01", tz="UTC")
FIELDS = list(LAYOUT)
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example,
        HealthCheck.data_too_large,
    ],
)

# Cell values: mostly plausible, often broken.
persian = st.text(alphabet="ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيك ‌۰۱۲۳۴۵۶۷۸۹", max_size=12)
dates = st.one_of(
    st.builds(
        lambda y, m, d, h, mi: f"{y}/{m:02d}/{d:02d} {h:02d}:{mi:02d}",
        st.integers(1300, 1410),
        st.integers(0, 14),
        st.integers(0, 40),
        st.integers(0, 25),
        st.integers(0, 61),
    ),
    st.sampled_from(
        ["۱۴۰۲-۰۷-۱۵", "2023-02-30", "1402/12/30", "", "13/40/1402", "2023-10-07T10:00Z"]
    ),
    st.text(max_size=10),
)
cells = st.one_of(
    persian,
    dates,
    st.sampled_from(["", "0", "31", "33", "51.4", "35.7", "abc", "شکایت", "درخواست", "پسماند"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    st.floats(allow_nan=True).map(str),
)
line_noise = st.sampled_from(['"', '""', ",", "\r", "\n", ",,", '"x,y'])


ROWS = (150, 300)


@st.composite
def csv_lines(draw: st.DrawFn) -> list[str]:
    """Rows built by a seeded generator from a pool of cells Hypothesis draws (fast)."""
    pool = draw(st.lists(cells, min_size=10, max_size=30))
    pool += ["", "شکایت", "1402/07/15 10:00", "51.4", "35.7", "31", "پسماند"]
    noise = draw(st.lists(line_noise, min_size=1, max_size=4))
    rng = random.Random(draw(st.integers(0, 2**32)))
    damage = draw(st.integers(0, 20))
    rows = []
    for _ in range(rng.randint(*ROWS)):
        values = [rng.choice(pool) for _ in FIELDS]
        if rng.random() < 0.5:
            values[0] = str(rng.randint(0, 80))
        line = ",".join('"' + v.replace('"', '""') + '"' for v in values)
        if rng.randint(0, 99) < damage:
            cut = rng.randint(0, len(line))
            line = line[:cut] + rng.choice(noise) + (line[cut:] if rng.random() < 0.5 else "")
        elif rng.random() < 0.05:
            line = ",".join(values[: rng.randint(1, len(values))])
        rows.append(line)
    return rows


@FUZZ
@given(lines=csv_lines(), encoding=st.sampled_from(["utf-8", "utf-8-sig"]))
def test_137_reader_never_crashes_and_accounts_for_every_row(
    tmp_path: Path, lines: list[str], encoding: str
) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(",".join(DEFAULT_HEADER) + "\n" + "\n".join(lines) + "\n", encoding=encoding)
    result = read_137(path, key=KEY, now=NOW)
    numbers = accounted(result)
    physical = len(re.split(r"\r\n|\r|\n", path.read_text(encoding=encoding).rstrip("\n")))
    assert all(2 <= n <= physical for n in numbers)
    assert result.rows_read + result.blank_lines <= physical - 1
    assert set(result.quarantine[s.Q_REASON]) <= {
        r.value for r in __import__("ingest.quarantine").quarantine.Reason
    }
    for raw in result.quarantine[s.Q_RAW]:
        json.loads(raw)


@FUZZ
@given(lines=csv_lines())
def test_137_reader_accounts_for_rows_without_quote_damage(
    tmp_path: Path, lines: list[str]
) -> None:
    # Without broken quoting each written line is exactly one row, kept or quarantined.
    clean = [ln.replace("\r", " ").replace("\n", " ") for ln in lines]
    clean = [ln for ln in clean if ln.count('"') % 2 == 0 and ln.strip(", ")]
    path = tmp_path / "fuzz.csv"
    path.write_text(",".join(DEFAULT_HEADER) + "\n" + "\n".join(clean) + "\n", encoding="utf-8")
    result = read_137(path, key=KEY, now=NOW)
    numbers = accounted(result)
    assert result.rows_read + result.blank_lines == len(clean)
    assert numbers <= set(range(2, len(clean) + 2))


records = st.one_of(
    st.fixed_dictionaries(
        {
            "service_request_id": st.one_of(st.none(), st.text(max_size=4), st.integers()),
            "status": st.one_of(st.none(), st.sampled_from(["open", "closed", "x", ""])),
            "service_name": st.one_of(st.none(), persian, st.text(max_size=6)),
            "requested_datetime": st.one_of(
                st.none(),
                dates,
                st.sampled_from(["2023-01-01T10:00:00-05:00", "2023-01-01T10:00:00Z"]),
            ),
            "updated_datetime": st.one_of(st.none(), dates),
            "lat": st.one_of(st.none(), st.floats(), st.text(max_size=5)),
            "long": st.one_of(st.none(), st.floats(), st.text(max_size=5)),
            "phone": st.one_of(st.none(), st.just("09121234567")),
        },
        optional={"media_url": st.text(max_size=4), "extra": st.lists(st.integers(), max_size=2)},
    ),
    st.none(),
    st.integers(),
    st.lists(st.integers(), max_size=2),
    st.just({}),
)


@FUZZ
@given(batch=st.lists(records, min_size=40, max_size=80))
def test_open311_reader_never_crashes_and_accounts_for_every_record(batch: list[object]) -> None:
    result = read_open311_records(batch, source_file="fuzz.json", city="x", key=KEY, now=NOW)
    assert accounted(result) == set(range(1, len(batch) + 1))
    assert "09121234567" not in result.quarantine[s.Q_RAW].str.cat()


@FUZZ
@given(lines=csv_lines())
def test_mapped_csv_reader_never_crashes(tmp_path: Path, lines: list[str]) -> None:
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: fuzz\ntimezone: Europe/Berlin\ndate_formats: ['%d.%m.%Y %H:%M', auto]\n"
        "columns: {case_id: a, created_at: b, closed_at: c, category: d, lon: e, lat: f}\n"
        "constants: {kind: complaint}\nplaceholders: [[13.4, 52.5]]\n",
        encoding="utf-8",
    )
    path = tmp_path / "fuzz.csv"
    body = [",".join(ln.split(",")[:6]) for ln in lines]
    path.write_text("a,b,c,d,e,f\n" + "\n".join(body) + "\n", encoding="utf-8")
    result = read_mapped_csv(path, load_mapping(mapping), key=KEY, now=NOW)
    accounted(result)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.none(), dates, st.text(max_size=30)), max_size=40))
def test_date_parser_aligns_and_never_raises(values: list[str | None]) -> None:
    parsed = parse_datetimes(values)
    assert len(parsed.utc) == len(parsed.error) == len(values)
    both = parsed.utc.notna().to_numpy() & parsed.error.notna().to_numpy()
    assert not both.any()
    for value, stamp, error in zip(values, parsed.utc, parsed.error, strict=True):
        if value is None or not value.strip():
            assert pd.isna(stamp)
            assert pd.isna(error)
        else:
            assert pd.isna(stamp) != pd.isna(error)


text_values = st.lists(
    st.one_of(
        st.none(), st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(values=text_values)
def test_text_normalizers_keep_length_and_nulls(values: list[str | None]) -> None:
    for func in (ascii_digits, normalize_text_array, mask_identifiers):
        out = func(to_string_array(values))
        assert len(out) == len(values)
        for before, after in zip(values, out.to_pylist(), strict=True):
            if before is None:
                assert after is None
    for norm in (normalize_phones, normalize_national_ids):
        ids = norm(values)
        assert len(ids.value) == len(values)
        assert len(ids.valid) == len(values)
