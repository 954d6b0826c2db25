"""The synthetic 137 generator: realism, dirt and the ground truth, on a small geography."""

from __future__ import annotations

import csv
import re
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest

from geo.errors import InputError
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from ingest.quarantine import Reason
from ingest.synthetic import generator as g
from ingest.synthetic.dirty import FLAG_SWAPPED, QUARANTINE_KINDS
from ingest.synthetic.export_format import HEADERS, NATIONAL_ID, PHONE
from ingest.synthetic.space import HOTSPOT_CLASS, MONTH_INTENSITY, RADIUS_M

N = 20_000


@pytest.fixture(scope="module")
def geo() -> gpd.GeoDataFrame:
    return synthetic_boundaries(n_regions=6, n_neighborhoods=40, seed=3)


@pytest.fixture(scope="module")
def clean(geo: gpd.GeoDataFrame) -> g.SyntheticExport:
    return g.generate_137(g.SynthConfig(cases=N, months=12, seed=11), geo)


@pytest.fixture(scope="module")
def dirty(geo: gpd.GeoDataFrame) -> g.SyntheticExport:
    return g.generate_137(g.SynthConfig(cases=8_000, months=6, seed=5, dirty=0.05), geo)


@pytest.fixture(scope="module")
def written(dirty: g.SyntheticExport, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return g.write_137(dirty, tmp_path_factory.mktemp("synth") / "export.csv")


def _local(truth: pd.DataFrame) -> pd.Series:
    return truth[s.CREATED_AT].dt.tz_convert("Asia/Tehran")


def test_same_seed_gives_the_same_export(geo: gpd.GeoDataFrame) -> None:
    a = g.generate_137(g.SynthConfig(cases=500, months=2, seed=3, dirty=0.04), geo)
    b = g.generate_137(g.SynthConfig(cases=500, months=2, seed=3, dirty=0.04), geo)
    c = g.generate_137(g.SynthConfig(cases=500, months=2, seed=4, dirty=0.04), geo)
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    pd.testing.assert_frame_equal(a.truth, b.truth)
    assert not a.to_frame().equals(c.to_frame())


def test_truth_has_one_row_per_data_line(clean: g.SyntheticExport) -> None:
    truth = clean.truth
    assert len(truth) == N
    assert truth[g.LINE].tolist() == list(range(2, N + 2))
    assert truth[s.CASE_ID].is_unique
    assert truth[g.EXPECTED_REASON].isna().all()
    assert (truth[s.CREATED_AT].diff().dropna() >= pd.Timedelta(0)).all()  # file order


def test_categories_follow_the_stated_shares(clean: g.SyntheticExport) -> None:
    share = clean.truth[s.CATEGORY].value_counts(normalize=True)
    assert 0.74 <= share["urban_services"] <= 0.86
    assert share.drop("urban_services").min() > 0.01
    for subject in ("garbage", "debris", "asphalt", "street_vendors", "illegal_construction"):
        assert (clean.truth[s.SUBCATEGORY] == subject).sum() > 50


def test_week_and_day_follow_the_iranian_calendar(clean: g.SyntheticExport) -> None:
    local = _local(clean.truth)
    by_weekday = local.dt.weekday.value_counts()
    assert by_weekday[4] < 0.7 * by_weekday[5]  # Friday < Saturday
    assert by_weekday[3] < by_weekday[5]  # Thursday, half a working day
    by_hour = local.dt.hour.value_counts()
    assert by_hour.idxmax() in (10, 11)
    assert by_hour[3] < 0.1 * by_hour[11]


def test_snow_is_a_winter_problem_of_the_north(clean: g.SyntheticExport) -> None:
    truth = clean.truth
    snow = truth[truth[s.SUBCATEGORY] == "snow"]
    month = _local(snow).dt.month  # Gregorian: Dec..Mar is Azar..Esfand/Farvardin
    assert month.isin([11, 12, 1, 2, 3]).mean() > 0.9
    region1_all = (truth[s.REGION_CODE] == "1").mean()
    assert (snow[s.REGION_CODE] == "1").mean() > 2 * region1_all


def test_duplicates_are_close_in_space_and_time(clean: g.SyntheticExport) -> None:
    truth = clean.truth.set_index(s.CASE_ID)
    dups = truth[truth[s.DUPLICATE_OF].notna()]
    assert len(dups) == pytest.approx(0.03 * N, rel=0.05)
    orig = truth.loc[dups[s.DUPLICATE_OF].to_numpy()]
    gap = dups[s.CREATED_AT].to_numpy() - orig[s.CREATED_AT].to_numpy()
    assert (gap >= np.timedelta64(0, "s")).all()
    assert (gap <= np.timedelta64(49, "h")).all()
    geod = pyproj.Geod(ellps="WGS84")
    _, _, dist = geod.inv(orig[g.TRUE_LON], orig[g.TRUE_LAT], dups[g.TRUE_LON], dups[g.TRUE_LAT])
    assert np.max(dist) <= 41.0


def test_hotspot_cases_lie_within_their_radius(clean: g.SyntheticExport) -> None:
    truth = clean.truth
    spots = clean.hotspots.set_index("hotspot_id")
    hot = truth[truth[g.HOTSPOT_ID].notna() & truth[s.DUPLICATE_OF].isna()]
    centre = spots.loc[hot[g.HOTSPOT_ID].astype(int).to_numpy()]
    geod = pyproj.Geod(ellps="WGS84")
    _, _, dist = geod.inv(centre[s.LON], centre[s.LAT], hot[g.TRUE_LON], hot[g.TRUE_LAT])
    assert np.all(dist <= centre[RADIUS_M].to_numpy() + 1.0)
    assert (hot[s.SUBCATEGORY].to_numpy() == centre[s.SUBCATEGORY].to_numpy()).all()
    assert set(spots[HOTSPOT_CLASS]) == {
        "persistent",
        "new",
        "intensifying",
        "sporadic",
        "diminishing",
    }


def test_hotspot_classes_shape_the_monthly_counts(clean: g.SyntheticExport) -> None:
    truth = clean.truth
    hot = truth[truth[g.HOTSPOT_ID].notna() & truth[s.DUPLICATE_OF].isna()]
    local = _local(hot)
    month = local.dt.year * 12 + local.dt.month  # Gregorian months are enough for thirds
    first, last = month.min(), month.max()
    spots = clean.hotspots
    for _, spot in spots.iterrows():
        mine = month[hot[g.HOTSPOT_ID] == spot["hotspot_id"]]
        early = (mine <= first + 3).sum()
        late = (mine >= last - 3).sum()
        if spot[HOTSPOT_CLASS] == "new":
            assert early == 0
            assert late > 0
            assert spot[MONTH_INTENSITY][0] == 0.0
        elif spot[HOTSPOT_CLASS] == "intensifying":
            assert late > 2 * early
        elif spot[HOTSPOT_CLASS] == "diminishing":
            assert early > 2 * late
    assert (spots["cases"] > 0).all()


def test_units_differ_in_speed_and_some_are_slow(clean: g.SyntheticExport) -> None:
    units = clean.units
    assert units["is_slow"].sum() >= 2
    assert units.loc[~units["is_slow"], "speed_factor"].median() < 1.5
    assert set(clean.truth[s.UNIT].astype(str)) <= set(units["unit"])


def test_missing_coordinates_come_with_an_address(clean: g.SyntheticExport) -> None:
    frame = clean.to_frame()
    no_point = frame[HEADERS[s.LON]].isna().to_numpy()
    assert no_point.mean() == pytest.approx(0.5, abs=0.15)
    assert (no_point == ~clean.truth[g.HAS_POINT].to_numpy()).all()
    assert frame.loc[no_point, HEADERS[s.ADDRESS]].notna().all()


def test_identifiers_are_fake_and_well_formed(clean: g.SyntheticExport) -> None:
    frame = clean.to_frame()
    phones = frame[HEADERS[PHONE]].astype(str)
    assert phones.str.fullmatch(r"09120\d{6}").all()
    ids = frame[HEADERS[NATIONAL_ID]].dropna().astype(str)
    assert ids.str.fullmatch(r"00\d{8}").all()
    digits = np.array([[int(c) for c in x] for x in ids.head(200)])
    r = (digits[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11
    assert (digits[:, 9] == np.where(r < 2, r, 11 - r)).all()
    assert phones.nunique() < 0.5 * len(phones)  # citizens report more than once


def test_dates_are_jalali_in_the_documented_spellings(clean: g.SyntheticExport) -> None:
    created = clean.to_frame()[HEADERS[s.CREATED_AT]].astype(str)
    plain = created.str.fullmatch(r"140[12]/\d\d/\d\d \d\d:\d\d")
    persian = created.str.fullmatch(r"۱۴۰[۱۲]/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}")
    seconds = created.str.fullmatch(r"140[12]-\d\d-\d\d \d\d:\d\d:\d\d")
    assert (plain | persian | seconds).all()
    assert plain.mean() > 0.75
    assert persian.any()
    assert seconds.any()


def test_dirty_export_has_every_kind_with_its_expected_reason(dirty: g.SyntheticExport) -> None:
    truth = dirty.truth
    reasons = set(truth[g.EXPECTED_REASON].dropna())
    assert reasons == {str(r) for r in QUARANTINE_KINDS}
    assert {FLAG_SWAPPED, "unknown_category"} <= set(truth[g.EXPECTED_FLAG].dropna())
    share = truth[g.EXPECTED_REASON].notna().mean()
    assert 0.04 <= share <= 0.07  # 5% corrupted; a duplicate-id conflict spoils two rows
    conflict = truth[truth[g.EXPECTED_REASON] == str(Reason.DUPLICATE_CONFLICT)]
    assert (conflict[s.CASE_ID].value_counts() == 2).all()
    assert truth.loc[truth[g.EXPECTED_REASON] == str(Reason.MISSING_ID), s.CASE_ID].isna().all()


def test_dirty_cells_say_what_the_truth_says(dirty: g.SyntheticExport) -> None:
    frame = dirty.to_frame()
    reason = dirty.truth[g.EXPECTED_REASON]
    lon = frame[HEADERS[s.LON]]
    assert (lon[reason == str(Reason.COORD_ZERO)] == "0").all()
    assert (lon[reason == str(Reason.COORD_PLACEHOLDER)] == "51.389").all()
    outside = reason == str(Reason.OUTSIDE_CITY)
    assert frame.loc[outside, HEADERS[s.ADDRESS]].isna().all()
    future = frame.loc[reason == str(Reason.CREATED_IN_FUTURE), HEADERS[s.CREATED_AT]]
    assert future.astype(str).str.startswith("1415/").all()
    swapped = dirty.truth[g.EXPECTED_FLAG] == FLAG_SWAPPED
    lat = frame[HEADERS[s.LAT]]
    assert (lat[swapped].astype(float) > 50).all()
    assert (lon[swapped].astype(float) < 40).all()


def test_written_csv_is_malformed_exactly_where_the_truth_says(
    dirty: g.SyntheticExport, written: dict[str, Path]
) -> None:
    with written["csv"].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(HEADERS.values())
    bad = [i + 1 for i, row in enumerate(rows) if len(row) != len(rows[0])]
    truth = pd.read_parquet(written["truth"])
    expected = truth.loc[truth[g.EXPECTED_REASON] == str(Reason.MALFORMED_LINE), g.LINE]
    assert bad == expected.tolist()
    assert len(rows) - 1 == len(dirty.truth)
    hotspots = pd.read_parquet(written["hotspots"])
    assert len(hotspots) == len(dirty.hotspots)
    assert pd.read_parquet(written["units"])["speed_factor"].gt(0).all()


def test_bom_encoding_is_written_and_others_refused(geo: gpd.GeoDataFrame, tmp_path: Path) -> None:
    export = g.generate_137(g.SynthConfig(cases=50, months=1), geo)
    paths = g.write_137(export, tmp_path / "bom.csv", encoding="utf-8-sig")
    assert paths["csv"].read_bytes().startswith(b"\xef\xbb\xbf")
    with pytest.raises(InputError, match="utf-8"):
        g.write_137(export, tmp_path / "x.csv", encoding="latin-1")


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (g.SynthConfig(cases=0), "cases"),
        (g.SynthConfig(cases=10, months=0), "months"),
        (g.SynthConfig(cases=10, dirty=0.9), "dirty"),
        (g.SynthConfig(cases=10, start="1401-13-01"), "start"),
        (g.SynthConfig(cases=10, start="1405-01-01"), "future"),
    ],
)
def test_bad_configurations_are_refused(
    geo: gpd.GeoDataFrame, config: g.SynthConfig, match: str
) -> None:
    with pytest.raises(InputError, match=match):
        g.generate_137(config, geo, today=date(2026, 1, 1))


def test_header_is_the_readers_default_layout() -> None:
    reader = pytest.importorskip("ingest.readers.tehran137")
    assert tuple(HEADERS.values()) == tuple(reader.DEFAULT_HEADER)
    assert tuple(HEADERS) == tuple(reader.LAYOUT)


def test_reader_quarantines_row_for_row_as_the_truth_says(written: dict[str, Path]) -> None:
    reader = pytest.importorskip("ingest.readers.tehran137")
    result = reader.read_137(
        written["csv"],
        key="test-key",
        placeholders=((51.389, 35.6892),),
        now=pd.Timestamp("2026-12-01", tz="UTC"),
    )
    truth = pd.read_parquet(written["truth"])
    assert result.rows_read == len(truth)
    got = result.quarantine.set_index(s.Q_ROW_NUMBER)[s.Q_REASON].astype(str)
    expected = truth.set_index(g.LINE)[g.EXPECTED_REASON].dropna().astype(str)
    # Outside-the-city needs the boundaries: the reader keeps those rows for assignment.
    expected = expected[expected != str(Reason.OUTSIDE_CITY)]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    flags = result.flags  # rows are labelled by their line number
    for code in ("quick_close", "unknown_category"):
        lines = set(flags.loc[flags[s.NOTE_CODE] == code, s.NOTE_ROW].astype(int))
        assert lines == set(truth.loc[truth[g.EXPECTED_FLAG] == code, g.LINE])
    assert not re.search(r"09120\d{6}", result.quarantine[s.Q_RAW].str.cat(sep=" "))
