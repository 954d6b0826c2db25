"""Geocoding addresses: known matches, the precision rule, user places, accuracy on Tehran."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.gazetteer import build_gazetteer, read_places
from geo.geocode import ACCEPT_SCORE, MATCHED_NAME, SCORE, geocode_addresses
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from ingest.synthetic.addresses import noisy_addresses


def _layer(names: dict[str, tuple[str, str]]) -> gpd.GeoDataFrame:
    """Neighborhoods as 1 km squares in a row, with given Persian names and regions."""
    rows = []
    geoms = []
    regions = sorted({r for _, r in names.values()})
    for region in regions:
        rows.append(
            {
                s.LEVEL: s.LEVEL_REGION,
                s.CODE: region,
                s.NAME_FA: f"منطقه {region}",
                s.NAME_EN: None,
                s.PARENT_CODE: None,
                s.POPULATION: None,
            }
        )
        members = [c for c, (_, r) in names.items() if r == region]
        geoms.append(shapely.union_all([_square(list(names).index(c)) for c in members]))
    for i, (code, (name, region)) in enumerate(names.items()):
        rows.append(
            {
                s.LEVEL: s.LEVEL_NEIGHBORHOOD,
                s.CODE: code,
                s.NAME_FA: name,
                s.NAME_EN: None,
                s.PARENT_CODE: region,
                s.POPULATION: None,
            }
        )
        geoms.append(_square(i))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def _square(i: int) -> shapely.Polygon:
    x0 = 51.2 + 0.011 * i
    return shapely.box(x0, 35.70, x0 + 0.01, 35.71)


NAMES = {
    "801": ("نارمک", "8"),
    "802": ("مجیدیه", "8"),
    "803": ("شهرک شهید باقری", "8"),
    "301": ("ونک", "3"),
    "302": ("ارگ _پامنار", "3"),
    "303": ("دولت آباد", "3"),
    "304": ("مهران", "3"),
    "805": ("مهران", "8"),
}


@pytest.fixture(scope="module")
def gaz() -> object:
    return build_gazetteer(_layer(NAMES))


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("تهران، منطقه ۸، محله نارمك، خ گلبرگ، ک ۱۲، پ ۳۴", "801"),
        ("نارمک خ گلبرگ", "801"),
        ("نارمكک، کوچه ۵", "801"),  # a doubled letter
        ("مجيديه - ک لاله", "802"),
        ("شهرک باقری، خیابان ۵", "803"),  # honorific left out
        ("باقری، خیابان ۵", "803"),  # "شهرک" left out
        ("پامنار، خ ناصرخسرو", "302"),  # one part of a compound name
        ("دولتآباد، ک ۴", "303"),  # glued "آباد"
        ("ونك، نرسيده به ميدان", "301"),
        ("منطقه ۳، مهران، کوچه ۲", "304"),  # a shared name told apart by the region
    ],
)
def test_known_matches(gaz: object, address: str, code: str) -> None:
    out = geocode_addresses([address], gaz)  # type: ignore[arg-type]
    assert out[s.NEIGHBORHOOD_CODE].iloc[0] == code
    assert out[s.GEOCODE_PRECISION].iloc[0] == "neighborhood"
    assert out[SCORE].iloc[0] >= ACCEPT_SCORE


def test_neighborhood_match_gets_its_representative_point(gaz: object) -> None:
    out = geocode_addresses(["محله نارمک، خ گلبرگ", "ونک"], gaz)  # type: ignore[arg-type]
    areas = gaz.areas  # type: ignore[attr-defined]
    for i, code in enumerate(["801", "301"]):
        row = out.iloc[i]
        assert (row[s.LON], row[s.LAT]) == (areas.loc[code, s.LON], areas.loc[code, s.LAT])
        assert shapely.contains_xy(_square(list(NAMES).index(code)), row[s.LON], row[s.LAT])
        assert row[s.REGION_CODE] == NAMES[code][1]


def test_never_more_precise_than_the_match(gaz: object) -> None:
    out = geocode_addresses(
        ["منطقه ۸، خیابان ناشناخته", "مهران، کوچه ۲", "ناکجاآباد", None, ""],
        gaz,  # type: ignore[arg-type]
    )
    region, shared, nothing, missing, empty = (out.iloc[i] for i in range(5))
    areas = gaz.areas  # type: ignore[attr-defined]
    assert region[s.GEOCODE_PRECISION] == "region"
    assert pd.isna(region[s.NEIGHBORHOOD_CODE])
    assert (region[s.LON], region[s.LAT]) == (areas.loc["8", s.LON], areas.loc["8", s.LAT])
    # "مهران" names two neighborhoods in two regions: no neighborhood is certain.
    assert shared[s.GEOCODE_PRECISION] == "none"
    assert shared[SCORE] < ACCEPT_SCORE
    for row in (nothing, missing, empty):
        assert row[s.GEOCODE_PRECISION] == "none"
        assert np.isnan(row[s.LON])
        assert pd.isna(row[s.REGION_CODE])
    assert out[s.GEOCODE_PRECISION].isin(["address", "neighborhood", "region", "none"]).all()


def test_two_neighborhood_names_in_one_address_are_not_guessed(gaz: object) -> None:
    out = geocode_addresses(["نارمک، ونک، کوچه ۳"], gaz)  # type: ignore[arg-type]
    assert out[s.GEOCODE_PRECISION].iloc[0] == "none"


def test_accept_score_is_the_threshold(gaz: object) -> None:
    strict = geocode_addresses(["نارمكک"], gaz, accept_score=100.0)  # type: ignore[arg-type]
    assert strict[s.GEOCODE_PRECISION].iloc[0] == "none"
    assert 0 < strict[SCORE].iloc[0] < 100


def test_user_places_give_address_precision_inside_the_matched_area(tmp_path: Path) -> None:
    csv = tmp_path / "places.csv"
    x0 = 51.2 + 0.011 * list(NAMES).index("801")
    csv.write_text(
        f"name,lon,lat,kind\nخیابان گلبرگ شرقی,{x0 + 0.005},35.705,street\n"
        f"بیمارستان بوعلی,{x0 + 0.002},35.702,hospital\n",
        encoding="utf-8",
    )
    gaz = build_gazetteer(_layer(NAMES), read_places(csv))
    assert gaz.n_places == 2
    out = geocode_addresses(["نارمک، خ گلبرگ شرقی، ک ۲", "نارمک، بیمارستان بوعلی"], gaz)
    assert out[s.GEOCODE_PRECISION].tolist() == ["address", "address"]
    assert out[s.NEIGHBORHOOD_CODE].tolist() == ["801", "801"]
    assert out[s.LON].iloc[0] == pytest.approx(x0 + 0.005)
    assert out[MATCHED_NAME].iloc[1] == "بیمارستان بوعلی"


def test_bad_user_gazetteer_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("name,lon,lat\nمیدان,abc,35.7\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2, column lon"):
        read_places(csv)
    (tmp_path / "cols.csv").write_text("name,x\na,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks column"):
        read_places(tmp_path / "cols.csv")


def test_result_keeps_the_series_index_and_matches_duplicates_once(gaz: object) -> None:
    series = pd.Series(["ونک", "ونک", "نارمک"], index=[10, 20, 30])
    out = geocode_addresses(series, gaz)  # type: ignore[arg-type]
    assert out.index.tolist() == [10, 20, 30]
    assert out[s.NEIGHBORHOOD_CODE].tolist() == ["301", "301", "801"]


def test_synthetic_geography_accuracy() -> None:
    geo = synthetic_boundaries(n_regions=6, n_neighborhoods=60, seed=5)
    gaz = build_gazetteer(geo)
    hoods = gaz.areas[gaz.areas[s.LEVEL] == s.LEVEL_NEIGHBORHOOD].rename_axis(s.CODE)
    truth = noisy_addresses(hoods.reset_index(), 400, seed=3)
    out = geocode_addresses(truth[s.ADDRESS], gaz)
    got = out[s.NEIGHBORHOOD_CODE].fillna("").astype(str).to_numpy()
    right = (got == truth[s.NEIGHBORHOOD_CODE].to_numpy()).mean()
    assert right >= 0.9


def test_tehran_accuracy_goal(tehran_dir: Path) -> None:
    from geo.boundaries import load_tehran_boundaries

    gaz = build_gazetteer(load_tehran_boundaries(tehran_dir))
    hoods = gaz.areas[gaz.areas[s.LEVEL] == s.LEVEL_NEIGHBORHOOD].rename_axis(s.CODE)
    truth = noisy_addresses(hoods.reset_index(), 2_000, seed=7)
    out = geocode_addresses(truth[s.ADDRESS], gaz)
    got = out[s.NEIGHBORHOOD_CODE].fillna("").astype(str).to_numpy()
    right = got == truth[s.NEIGHBORHOOD_CODE].to_numpy()
    wrong = out[s.NEIGHBORHOOD_CODE].notna().to_numpy() & ~right & (out[SCORE] >= ACCEPT_SCORE)
    assert right.mean() >= 0.90
    assert wrong.mean() <= 0.02


def test_addresses_that_parse_alike_get_the_same_result(gaz: object) -> None:
    texts = ["منطقه ۸، نارمک، خ گلبرگ، پ ۱۲", "منطقه 8 نارمك خیابان گلبرگ پلاک 99"]
    out = geocode_addresses(texts, gaz)  # type: ignore[arg-type]
    assert out[s.NEIGHBORHOOD_CODE].tolist() == ["801", "801"]
    assert out.iloc[0].equals(out.iloc[1])


def test_small_batches_and_a_small_score_cache_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import geo.geocode as gc

    geo = synthetic_boundaries(n_regions=4, n_neighborhoods=30, seed=2)
    gazetteer = build_gazetteer(geo)
    hoods = gazetteer.areas[gazetteer.areas[s.LEVEL] == s.LEVEL_NEIGHBORHOOD].rename_axis(s.CODE)
    texts = noisy_addresses(hoods.reset_index(), 300, seed=4)[s.ADDRESS]
    whole = geocode_addresses(texts, gazetteer)
    names = len(gazetteer.names)
    monkeypatch.setattr(gc, "_BATCH_CELLS", 7 * names)  # batches of 7 addresses
    monkeypatch.setattr(gc, "_CACHE_CELLS", 20 * names)  # the score cache keeps 20 components
    pd.testing.assert_frame_equal(geocode_addresses(texts, gazetteer), whole)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=12),
    codes=st.lists(st.integers(0, 5), min_size=1, max_size=10),
    seed=st.integers(0, 2**16),
)
def test_group_maxima_equal_reduceat(sizes: list[int], codes: list[int], seed: int) -> None:
    from geo.geocode import _column_group_max, _group_max, _members

    rng = np.random.default_rng(seed)
    code_idx = pd.factorize(np.asarray(codes))[0]
    values = rng.integers(-5, 5, size=(sum(sizes), len(code_idx))).astype(np.float32)
    groups = np.repeat(np.arange(len(sizes)) * 2, sizes)  # every other group empty
    expected = np.full((2 * len(sizes), len(code_idx)), -np.inf, dtype=np.float32)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    expected[::2] = np.maximum.reduceat(values, starts, axis=0)
    np.testing.assert_array_equal(_group_max(values, groups, 2 * len(sizes)), expected)
    order = np.argsort(code_idx, kind="stable")
    by_code = np.maximum.reduceat(
        values[:, order], np.flatnonzero(np.r_[True, np.diff(code_idx[order]) != 0]), axis=1
    )
    np.testing.assert_array_equal(_column_group_max(values, _members(code_idx)), by_code)
