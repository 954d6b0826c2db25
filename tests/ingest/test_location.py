"""One column holding the point: its spellings, and a city CSV read through a mapping with it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from ingest import schema as s
from ingest.location import split_location
from ingest.readers.mapped_csv import load_mapping, read_mapped_csv

from .helpers import KEY, accounted, reasons

NOW = pd.Timestamp("2024-06-01", tz="UTC")
PERSIAN_DIGITS = str.maketrans("0123456789.", "۰۱۲۳۴۵۶۷۸۹٫")

LON = st.floats(-180, 180, allow_nan=False).map(lambda v: round(v, 6))
LAT = st.floats(-90, 90, allow_nan=False).map(lambda v: round(v, 6))


def _spell(lon: float, lat: float, style: str, persian: bool) -> str:
    x, y = repr(lon), repr(lat)
    if persian:
        x, y = (v.translate(PERSIAN_DIGITS) for v in (x, y))
    return {
        "wkt": f"POINT ({x} {y})",
        "ewkt": f"SRID=4326;point({x}  {y})",
        "wkt_z": f"POINT Z ({x} {y} 12.5)",
        "geojson": f'{{"type": "Point", "coordinates": [{x}, {y}]}}',
        "socrata": f"{{'latitude': '{y}', 'longitude': '{x}', 'human_address': '{{}}'}}",
        "paren": f"({y}, {x})",
        "bare": f"{y},{x}",
        "bracket_semicolon": f"[{y}; {x}]",
        "space": f" {y} {x} ",
        "persian_comma": f"({y}، {x})",
    }[style]


STYLES = (
    "wkt",
    "ewkt",
    "wkt_z",
    "geojson",
    "socrata",
    "paren",
    "bare",
    "bracket_semicolon",
    "space",
    "persian_comma",
)


@settings(max_examples=300)
@given(
    points=st.lists(
        st.tuples(LON, LAT, st.sampled_from(STYLES), st.booleans()), min_size=1, max_size=20
    )
)
def test_every_spelling_gives_back_the_point(
    points: list[tuple[float, float, str, bool]],
) -> None:
    texts = [_spell(lon, lat, style, persian) for lon, lat, style, persian in points]
    lon_text, lat_text = split_location(texts)
    got = list(zip(lon_text.to_pylist(), lat_text.to_pylist(), strict=True))
    for (lon, lat, _, _), (x, y), text in zip(points, got, texts, strict=True):
        assert float(x) == pytest.approx(lon), text
        assert float(y) == pytest.approx(lat), text


@given(st.lists(st.text(alphabet=st.characters(exclude_categories=("Nd", "Cs")), max_size=30)))
def test_text_without_numbers_is_no_point_or_kept_whole(texts: list[str]) -> None:
    lon_text, lat_text = split_location(texts)
    assert len(lon_text) == len(lat_text) == len(texts)
    for text, x, y in zip(texts, lon_text.to_pylist(), lat_text.to_pylist(), strict=True):
        if not text.strip() or text.strip().lower().split() == ["point", "empty"]:
            assert x is None
            assert y is None
        else:  # never invented: the value goes on whole, to be refused as non-numeric
            assert x == y == text.strip()


def test_pair_order_and_empty_points() -> None:
    lon, lat = split_location(["35.7, 51.4", "POINT EMPTY", None, "  "], order="lon_lat")
    assert lon.to_pylist() == ["35.7", None, None, None]
    assert lat.to_pylist() == ["51.4", None, None, None]
    with pytest.raises(ValueError, match="location order"):
        split_location(["1 2"], order="yx")  # type: ignore[arg-type]


def _mapping(tmp_path: Path, columns: str, extra: str = "") -> Path:
    path = tmp_path / "city.yaml"
    path.write_text(
        "name: lakeside\ntimezone: America/Chicago\n"
        'date_formats: ["%m/%d/%Y %I:%M:%S %p"]\n'
        f"columns: {{case_id: SR_NUMBER, created_at: CREATED_DATE, {columns}}}\n"
        f"constants: {{kind: request}}\n{extra}",
        encoding="utf-8",
    )
    return path


def test_a_city_with_only_a_location_column(tmp_path: Path) -> None:
    csv = tmp_path / "city.csv"
    csv.write_text(
        "SR_NUMBER,CREATED_DATE,LOCATION\n"
        'SR1,01/05/2024 09:15:00 AM,"(41.8781, -87.6298)"\n'
        "SR2,01/05/2024 01:00:00 PM,POINT (-87.6298 41.8781)\n"
        "SR3,01/05/2024 01:00:00 PM,\n"
        "SR4,01/05/2024 01:00:00 PM,somewhere downtown\n"
        'SR5,01/05/2024 01:00:00 PM,"(0, 0)"\n',
        encoding="utf-8",
    )
    mapping = load_mapping(_mapping(tmp_path, "location: LOCATION"))
    result = read_mapped_csv(csv, mapping, key=KEY, now=NOW)
    assert accounted(result) == {2, 3, 4, 5, 6}
    assert reasons(result) == {5: "coord_non_numeric", 6: "coord_zero"}
    for line in (2, 3):
        assert result.cases.loc[line, s.LON] == pytest.approx(-87.6298)
        assert result.cases.loc[line, s.LAT] == pytest.approx(41.8781)
    assert pd.isna(result.cases.loc[4, s.LON])  # no point: the address fallback decides
    refused = result.quarantine.set_index(s.Q_ROW_NUMBER).loc[5]
    assert refused[s.Q_COLUMN] == "LOCATION"
    assert "somewhere downtown" in refused[s.Q_MESSAGE]
    # CST (UTC-6) in January
    assert result.cases.loc[2, s.CREATED_AT] == pd.Timestamp("2024-01-05 15:15", tz="UTC")


def test_location_fills_in_where_longitude_and_latitude_are_blank(tmp_path: Path) -> None:
    csv = tmp_path / "city.csv"
    csv.write_text(
        "SR_NUMBER,CREATED_DATE,LONGITUDE,LATITUDE,LOCATION\n"
        "SR1,01/05/2024 09:15:00 AM,-87.60,41.80,POINT (-87.0 41.0)\n"
        "SR2,01/05/2024 09:15:00 AM,,,POINT (-87.5 41.5)\n"
        'SR3,01/05/2024 09:15:00 AM,,,"41.7, -87.7"\n',
        encoding="utf-8",
    )
    columns = "lon: LONGITUDE, lat: LATITUDE, location: LOCATION"
    mapping = load_mapping(_mapping(tmp_path, columns))
    result = read_mapped_csv(csv, mapping, key=KEY, now=NOW)
    assert result.quarantined == 0
    assert result.cases[s.LON].tolist() == pytest.approx([-87.60, -87.5, -87.7])
    assert result.cases[s.LAT].tolist() == pytest.approx([41.80, 41.5, 41.7])


def test_location_order_is_checked(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="location_order"):
        load_mapping(_mapping(tmp_path, "location: LOCATION", "location_order: yx\n"))
    mapping = load_mapping(_mapping(tmp_path, "location: L", "location_order: lon_lat\n"))
    assert mapping.spec.location_order == "lon_lat"


def test_an_identifier_typed_into_the_location_is_masked_in_quarantine(tmp_path: Path) -> None:
    csv = tmp_path / "city.csv"
    csv.write_text(
        "SR_NUMBER,CREATED_DATE,LOCATION\n"
        "SR1,01/05/2024 09:15:00 AM,call 09121234567 at the corner\n",
        encoding="utf-8",
    )
    mapping = load_mapping(_mapping(tmp_path, "location: LOCATION"))
    result = read_mapped_csv(csv, mapping, key=KEY, now=NOW)
    assert reasons(result) == {2: "coord_non_numeric"}
    record = result.quarantine.iloc[0]
    for text in (record[s.Q_MESSAGE], record[s.Q_RAW]):
        assert "09121234567" not in text
        assert "corner" in text
