"""New York's 311 open data through data/mappings/nyc311.yaml (../shared/data/nyc311)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ingest import schema as s
from ingest.readers.mapped_csv import MAPPINGS_DIR, load_mapping, read_mapped_csv

from .helpers import KEY, accounted

SAMPLE = "nyc311_test_sample3.csv"
BOROUGHS = {"MANHATTAN": 1, "BRONX": 2, "BROOKLYN": 3, "QUEENS": 4, "STATEN ISLAND": 5}


@pytest.fixture(scope="module")
def nyc(nyc_dir: Path) -> object:
    return read_mapped_csv(
        nyc_dir / SAMPLE,
        load_mapping(MAPPINGS_DIR / "nyc311.yaml"),
        key=KEY,
        now=pd.Timestamp("2024-01-01", tz="UTC"),
    )


def test_every_row_is_accounted_for(nyc: object, nyc_dir: Path) -> None:
    expected = pd.read_csv(nyc_dir / SAMPLE, dtype=str, keep_default_na=False)
    assert nyc.rows_read == len(expected) == 4999  # type: ignore[attr-defined]
    numbers = accounted(nyc)  # type: ignore[arg-type]
    assert numbers == set(range(2, len(expected) + 2))  # one line per row in this file
    cases = nyc.cases  # type: ignore[attr-defined]
    assert cases[s.SOURCE].unique().tolist() == ["open311:nyc"]
    # The sample holds rows that close before they open: they are quarantined, not kept.
    q = nyc.quarantine  # type: ignore[attr-defined]
    assert set(q[s.Q_REASON]) <= {"closed_before_created"}
    assert (cases[s.CLOSED_AT].isna() | (cases[s.CLOSED_AT] >= cases[s.CREATED_AT])).all()
    # Status and raw status side by side; dates are New York local time stored in UTC.
    first = cases.iloc[0]
    raw = expected.iloc[first.name - 2]
    assert first[s.CASE_ID] == raw["Unique Key"]
    assert first[s.STATUS_RAW] == raw["Status"]
    local = pd.Timestamp(pd.to_datetime(raw["Created Date"], format="%m/%d/%Y %I:%M:%S %p"))
    assert first[s.CREATED_AT] == local.tz_localize("America/New_York").tz_convert("UTC")
    assert set(cases[s.CHANNEL]) <= {"phone", "web", "app", "unknown"}
    assert (cases[s.CATEGORY] != "other").mean() > 0.4
    with_point = cases[s.LON].notna()
    assert with_point.sum() == (expected["Longitude"] != "").sum() - int(
        (q[s.Q_RAW].str.contains('"Longitude":"-7')).sum()
    )


def _board_code(text: str) -> str | None:
    match = re.fullmatch(r"(\d{2}) (MANHATTAN|BRONX|BROOKLYN|QUEENS|STATEN ISLAND)", text)
    if not match or int(match.group(1)) > 18:
        return None
    return str(BOROUGHS[match.group(2)] * 100 + int(match.group(1)))


def test_assigned_community_district_agrees_with_the_record(nyc: object, nyc_dir: Path) -> None:
    assign = pytest.importorskip("geo.assign")
    from geo.boundaries import read_boundaries

    frame = read_boundaries(nyc_dir / "community_districts.geojson", code_field="BoroCD")
    finest = frame[s.LEVEL].iloc[-1]
    index = assign.BoundaryIndex.from_boundaries(frame)
    cases = nyc.cases  # type: ignore[attr-defined]
    has_point = cases[s.LON].notna().to_numpy()
    located = assign.assign_points(
        index, lon=cases[s.LON].to_numpy()[has_point], lat=cases[s.LAT].to_numpy()[has_point]
    )
    boards = nyc.raw.column("Community Board").to_pylist()  # type: ignore[attr-defined]
    expected = np.array([_board_code(b or "") for b in boards], dtype=object)[has_point]
    got = located[s.LEVEL_CODE_COLUMN[finest]].astype(object).to_numpy()
    comparable = pd.notna(expected)
    agree = (got[comparable] == expected[comparable]).mean()
    assert comparable.sum() > 4000
    assert agree >= 0.98, f"only {agree:.1%} of rows agree"
