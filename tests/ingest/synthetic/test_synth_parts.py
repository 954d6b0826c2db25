"""The generator's parts: calendar and patterns, date formatting, space, lifecycle, addresses."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jdatetime
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from ingest.synthetic import lifecycle as lc
from ingest.synthetic import patterns as p
from ingest.synthetic.addresses import CLEAN, address_pool, noisy_address, noisy_addresses, typo
from ingest.synthetic.export_format import format_jalali, jalali_text
from ingest.synthetic.space import HOTSPOT_CLASSES, build_city, class_intensity, scatter_around


def test_subject_shares_sum_to_one_with_urban_services_near_80_percent() -> None:
    shares = pd.Series({x.subcategory: x.share for x in p.SUBJECTS})
    assert shares.sum() == pytest.approx(1.0, abs=1e-9)
    urban = sum(x.share for x in p.SUBJECTS if x.category == "urban_services")
    assert urban == pytest.approx(0.8, abs=0.02)


def test_jalali_period_bounds() -> None:
    assert p.jalali_month_start("1401/01/01", 12) == (date(2022, 3, 21), date(2023, 3, 21))
    first, end = p.jalali_month_start("1401-07-01", 2)
    assert jdatetime.date.fromgregorian(date=end) == jdatetime.date(1401, 9, 1)
    assert (end - first).days == 60


def test_calendar_weights_the_iranian_week_and_seasons() -> None:
    first, end = p.jalali_month_start("1401-01-01", 12)
    cal = p.build_calendar(first, end, np.random.default_rng(0))
    assert len(cal.days) == 365
    assert cal.month_labels[0] == "1401-01"
    assert len(cal.month_labels) == 12
    fridays = cal.day_weight[cal.weekday == p.FRIDAY]
    saturdays = cal.day_weight[cal.weekday == 5]
    assert fridays.max() <= 0.5 < np.median(saturdays)
    assert cal.snow_day.any()
    assert (cal.jalali_month[cal.snow_day] >= 9).all()
    for season in ("flat", "snow", "rain", "summer", "pruning", "warm"):
        assert p.season_profile(season, cal).mean() == pytest.approx(1.0, abs=0.15)
    with pytest.raises(ValueError, match="Unknown season"):
        p.season_profile("monsoon", cal)


def test_hour_probabilities_peak_at_10_to_12() -> None:
    hours = p.hour_probabilities()
    assert hours.sum() == pytest.approx(1.0)
    assert int(np.argmax(hours)) in (10, 11)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1_600_000_000, max_value=1_750_000_000),
    st.integers(min_value=0, max_value=2),
)
def test_format_jalali_round_trips(local_s: int, style: int) -> None:
    text = format_jalali(
        np.array([local_s]),
        np.array([True]),
        np.array([style]),
        first_day=np.datetime64("2020-01-01"),
    ).to_pylist()[0]
    ascii_text = text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789"))
    fmt = "%Y-%m-%d %H:%M:%S" if style == 2 else "%Y/%m/%d %H:%M"
    parsed = jdatetime.datetime.strptime(ascii_text, fmt).togregorian()
    expected = pd.Timestamp(local_s, unit="s").to_pydatetime()
    if style != 2:
        expected = expected.replace(second=0)
    assert parsed == expected
    assert (text != ascii_text) == (style == 1)


def test_format_jalali_leaves_invalid_rows_empty_and_refuses_early_times() -> None:
    out = format_jalali(
        np.array([1_700_000_000, -1]),
        np.array([True, False]),
        np.array([0, 0]),
        first_day=np.datetime64("2023-01-01"),
    )
    assert out.to_pylist()[1] is None
    with pytest.raises(ValueError, match="first_day"):
        format_jalali(
            np.array([1_600_000_000]),
            np.array([True]),
            np.array([0]),
            first_day=np.datetime64("2023-01-01"),
        )
    assert jalali_text(1401, 2, 32, 9, 5) == "1401/02/32 09:05"


@pytest.mark.parametrize("kind", HOTSPOT_CLASSES)
def test_hotspot_class_intensities(kind: str) -> None:
    x = class_intensity(kind, 12, np.random.default_rng(1))
    assert len(x) == 12
    assert (x >= 0).all()
    assert x.sum() > 0
    if kind == "new":
        assert x[:8].sum() == 0
    if kind == "intensifying":
        assert (np.diff(x) > 0).all()
    if kind == "diminishing":
        assert (np.diff(x) < 0).all()
    if kind == "sporadic":
        assert 0 < (x > 0).sum() < 12


def test_unknown_hotspot_class_is_refused() -> None:
    with pytest.raises(ValueError, match="hotspot class"):
        class_intensity("oscillating", 6, np.random.default_rng(0))


def test_city_point_pools_lie_in_their_neighborhoods() -> None:
    geo = synthetic_boundaries(n_regions=3, n_neighborhoods=12, seed=2)
    city = build_city(geo, np.random.default_rng(0), points_per_hood=16)
    assert city.hoods["weight"].sum() == pytest.approx(1.0)
    assert city.regions == ["1", "2", "3"]
    located = city.locate(lon=city.pool_lon.ravel(), lat=city.pool_lat.ravel())
    expected = np.repeat(np.arange(len(city.hoods)), 16)
    assert (located == expected).mean() > 0.99  # only border points may go to a neighbour
    assert city.locate(lon=np.array([0.0]), lat=np.array([0.0])).tolist() == [-1]


def test_scatter_stays_within_the_radius() -> None:
    rng = np.random.default_rng(0)
    lon, lat = scatter_around(
        np.full(2_000, 51.4), np.full(2_000, 35.7), np.full(2_000, 200.0), rng
    )
    import pyproj

    _, _, dist = pyproj.Geod(ellps="WGS84").inv(
        np.full(2_000, 51.4), np.full(2_000, 35.7), lon, lat
    )
    assert dist.max() <= 200.5
    assert np.median(dist) < 150


def test_slow_units_close_later_and_draw_more_objections() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    created = np.full(n, 1_650_000_000, dtype=np.int64)
    speed = np.where(np.arange(n) < n // 2, 1.0, 3.0)
    life = lc.simulate(created, np.full(n, 48.0), speed, created[0] + 400 * 86_400, rng)
    closed = life.closed_s > 0
    days = np.where(closed, (life.closed_s - created) / 86_400, np.nan)
    fast, slow = np.arange(n) < n // 2, np.arange(n) >= n // 2
    assert np.nanmedian(days[slow]) > 2 * np.nanmedian(days[fast])
    objected = life.feedback == lc.FEEDBACK_CODES.index("objected")
    answered = life.feedback > 0
    assert objected[slow].sum() / answered[slow].sum() > objected[fast].sum() / answered[fast].sum()
    rated = life.satisfaction > 0
    assert life.satisfaction[slow & rated].mean() < life.satisfaction[fast & rated].mean()
    assert (life.reopen_count[objected] > 0).mean() > 0.2
    assert (life.reopen_count[~objected] == 0).all()
    quick = life.quick_close
    assert quick.any()
    assert ((life.closed_s[quick] - created[quick]) < 300).all()
    assert ((life.closed_s[closed & ~quick] - created[closed & ~quick]) >= 900).all()
    order = (life.referred_s <= life.first_response_s) & (life.first_response_s <= life.closed_s)
    assert order[closed].all()


def test_units_and_their_assignment() -> None:
    rng = np.random.default_rng(3)
    units = lc.build_units([str(r) for r in range(1, 23)], rng)
    assert units.loc["region_01", lc.UNIT_LABEL] == "شهرداری منطقه ۱"
    assert units[lc.IS_SLOW].sum() >= 3
    subjects = ["garbage", "cleaning"]
    idx = lc.assign_units(
        np.repeat([0, 1], 5_000),
        subjects,
        np.full(10_000, 4),
        [str(r) for r in range(1, 23)],
        units,
        rng,
    )
    names = units.index.to_numpy()[idx]
    assert set(names[5_000:]) == {"region_05"}
    assert 0.2 < (names[:5_000] == "waste_org").mean() < 0.4


def test_clean_address_and_typos() -> None:
    text, named = noisy_address("نارمک", "8", np.random.default_rng(1), CLEAN)
    assert text.startswith("تهران، منطقه 8، محله نارمک، خیابان ")
    assert named
    rng = np.random.default_rng(0)
    assert {typo("نارمک", rng) for _ in range(30)} - {"نارمک"}
    assert typo("ری", rng) == "ری"


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ابپتجچخدرزسشصعفقکگلمنوهی _آ", min_size=1, max_size=30), st.integers(0, 10**6)
)
def test_noisy_address_never_fails(name: str, seed: int) -> None:
    text, named = noisy_address(name, "12", np.random.default_rng(seed))
    assert isinstance(text, str)
    assert text.strip()
    assert isinstance(named, bool)


def test_noisy_addresses_and_pool_keep_their_truth() -> None:
    hoods = pd.DataFrame(
        {s.CODE: ["801", "802"], s.NAME_FA: ["نارمک", "مجیدیه"], s.PARENT_CODE: ["8", "8"]}
    )
    frame = noisy_addresses(hoods, 50, seed=2)
    assert set(frame[s.NEIGHBORHOOD_CODE]) == {"801", "802"}
    assert (frame[s.REGION_CODE] == "8").all()
    texts, named = address_pool(hoods, 10, seed=2)
    assert texts.shape == named.shape == (2, 10)
    assert named.mean() > 0.8


def test_default_boundaries_follow_the_setting_then_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingest.synthetic import space

    monkeypatch.setenv("T137_SHARED_DATA", str(tmp_path / "nothing-here"))
    layer, synthetic = space.default_boundaries()
    assert synthetic  # nothing at the configured path: the labelled synthetic geography
    assert len(layer) > 0
    monkeypatch.delenv("T137_SHARED_DATA")
    beside = space._CHECKOUT.parent / "shared" / "data" / "tehran" / "Mahalat_Tehran.shp"
    _, synthetic = space.default_boundaries()
    assert synthetic is not beside.exists()
