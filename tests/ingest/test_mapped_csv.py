from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from geo.errors import InputError
from ingest import schema as s
from ingest.quarantine import Flag
from ingest.readers.mapped_csv import MAPPINGS_DIR, load_mapping, read_mapped_csv

from .helpers import KEY, accounted, reasons

NOW = pd.Timestamp("2024-06-01", tz="UTC")


def test_template_and_shipped_mappings_load() -> None:
    template = load_mapping(MAPPINGS_DIR / "template.yaml")
    assert template.spec.tz == "Europe/Berlin"
    assert template.spec.placeholders == ((13.405, 52.52),)
    nyc = load_mapping("nyc311")
    assert nyc.spec.source == "open311:nyc"
    assert nyc.columns["case_id"] == "Unique Key"


def test_an_unnamed_city_reads_through_the_template(tmp_path: Path) -> None:
    text = (
        "Request ID;Opened;Closed;Type;Category;Subcategory;Description;Department;State;"
        "Address;Longitude;Latitude\n"
        "A1;07.10.2023 14:30;08.10.2023 09:00;Complaint;Waste;;Tonne voll;BSR;Done;"
        "Hauptstr. 1;13.40;52.51\n"
        "A2;30.02.2023 10:00;;Idea;Potholes;;;;New;;;\n"
        "A3;07.10.2023 14:30;;Request;Unbekannt;;;;Sonstwie;;13.4050;52.5200\n"
        "A4;07.10.2023 14:30;;Lob;;;;;New;;;\n"
        "A5;07.10.2023 14:30;;Complaint;Street lights;;;;New;;13,41;52,5\n"
    )
    path = tmp_path / "berlin.csv"
    path.write_bytes(text.encode("cp1252"))
    mapping = load_mapping(MAPPINGS_DIR / "template.yaml")
    result = read_mapped_csv(path, mapping, key=KEY, now=NOW)
    assert accounted(result) == {2, 3, 4, 5, 6}
    assert reasons(result) == {3: "date_impossible", 4: "coord_placeholder", 5: "unknown_kind"}
    first = result.cases.loc[2]
    assert first[s.SOURCE] == "csv:examplecity"
    assert first[s.CREATED_AT] == pd.Timestamp("2023-10-07 12:30", tz="UTC")  # CEST
    assert (first[s.CATEGORY], first[s.SUBCATEGORY]) == ("urban_services", "garbage")
    assert first[s.STATUS] == "closed"
    assert first[s.STATUS_RAW] == "Done"
    assert first[s.CHANNEL] == "web"  # a constant
    assert first[s.UNIT] == "BSR"  # unknown units pass through
    assert result.cases.loc[6, s.LON] == pytest.approx(13.41)  # decimal comma
    assert result.cases.loc[6, s.CATEGORY] == "technical"


def test_unknown_category_is_other_and_flagged(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,date,cat\n1,2023-01-01 10:00,Whatever\n2,2023-01-01 10:00,\n", "utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: c\ntimezone: UTC\ncolumns: {case_id: id, created_at: date, category: cat}\n"
        "constants: {kind: request}\n",
        encoding="utf-8",
    )
    result = read_mapped_csv(path, mapping, key=KEY, now=NOW)
    assert result.cases[s.CATEGORY].tolist() == ["other", "other"]
    assert list(result.flagged(Flag.UNKNOWN_CATEGORY)) == [2, 3]
    assert result.counts()["flags"]["unknown_category"] == 2


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("columns: {case_id: a, created_at: b}\nconstants: {kind: complaint}\n", "'name'"),
        ("name: x\ncolumns: {case_id: a}\nconstants: {kind: complaint}\n", "created_at"),
        ("name: x\ncolumns: {case_id: a, created_at: b}\n", "constants.kind"),
        ("name: x\ncolumns: {case_id: a, created_at: b, colour: c}\n", "unknown fields"),
        ("name: x\ncolumnz: {}\n", "unknown keys"),
        (
            "name: x\ncolumns: {case_id: a, created_at: b}\nconstants: {kind: complaint}\n"
            "status_map: {Done: finished}\n",
            "status_map value 'finished'",
        ),
        (
            "name: x\ncolumns: {case_id: a, created_at: b}\nconstants: {kind: complaint}\n"
            "timezone: Mars/Olympus\n",
            "Unknown time zone",
        ),
        ("name: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_mappings_fail_with_the_key_named(tmp_path: Path, body: str, match: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        load_mapping(path)


def test_header_without_a_mapped_column_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,when\n1,2023-01-01\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: c\ncolumns: {case_id: id, created_at: date}\nconstants: {kind: request}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"c\.csv: the header lacks .*created_at → «date»"):
        read_mapped_csv(path, mapping, key=KEY)


def test_dispatch_picks_the_reader(tmp_path: Path) -> None:
    from ingest.readers.dispatch import read_source

    path = tmp_path / "c.csv"
    path.write_text("id,date\n1,2023-01-01 10:00\n", encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "name: c\ncolumns: {case_id: id, created_at: date}\nconstants: {kind: request}\n",
        encoding="utf-8",
    )
    assert read_source(path, key=KEY, mapping=mapping).source == "csv:c"
    with pytest.raises(InputError, match="needs --mapping"):
        read_source(path, key=KEY, format="csv")
    with pytest.raises(InputError, match="lacks required columns"):
        read_source(path, key=KEY)  # read as a 137 export
