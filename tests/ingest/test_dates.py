from __future__ import annotations

from datetime import date

import jdatetime
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from ingest.dates import gregorian_days, jalali_days, jalali_is_leap, parse_datetimes

EPOCH = date(1970, 1, 1)


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("1402/07/15 14:30", "2023-10-07 11:00"),
        ("1402/07/15 14:30:45", "2023-10-07 11:00:45"),
        ("۱۴۰۲/۰۷/۱۵ ۱۴:۳۰", "2023-10-07 11:00"),
        ("١٤٠٢-٠٧-١٥ ١٤:٣٠:٠٠", "2023-10-07 11:00"),
        ("۱۴۰۲-۰۷-۱۵", "2023-10-06 20:30"),
        ("1402/7/5 9:05", "2023-09-27 05:35"),
        ("1402.07.15", "2023-10-06 20:30"),
        (" 1402/07/15T14:30 ", "2023-10-07 11:00"),
        ("2023-10-07 14:30", "2023-10-07 11:00"),
        ("2023-10-07T14:30:00+03:30", "2023-10-07 11:00"),
        ("2023-10-07T11:00:00Z", "2023-10-07 11:00"),
        ("2023-10-07T11:00:00.250Z", "2023-10-07 11:00:00.250"),
        ("1399/12/30", "2021-03-19 20:30"),  # Esfand 30 of a leap year
    ],
)
def test_spellings(text: str, utc: str) -> None:
    parsed = parse_datetimes([text])
    assert parsed.error.isna().all(), parsed.detail.tolist()
    assert parsed.utc.iloc[0] == pd.Timestamp(utc, tz="UTC")


@pytest.mark.parametrize(
    ("text", "code", "detail"),
    [
        ("1402/13/40", "date_impossible", "month 13"),
        ("1402/12/30", "date_impossible", "Esfand 30"),
        ("1402/07/31", "date_impossible", "day 31"),
        ("2023-02-30", "date_impossible", "day 30"),
        ("2023-02-29 10:00", "date_impossible", "day 29"),
        ("1402/07/15 25:00", "date_impossible", "25:00"),
        ("1402/07/15 10:61", "date_impossible", "10:61"),
        ("15/07/1402", "date_unparseable", "expected"),
        ("tomorrow", "date_unparseable", "expected"),
        ("0999/01/01", "date_impossible", "out of the supported"),
    ],
)
def test_impossible_and_unparseable(text: str, code: str, detail: str) -> None:
    parsed = parse_datetimes(["1402/07/15", text])
    assert parsed.error.tolist()[0] != parsed.error.tolist()[0]  # NaN for the good one
    assert parsed.error.iloc[1] == code
    assert detail in parsed.detail.iloc[1]
    assert pd.isna(parsed.utc.iloc[1])


def test_blank_is_no_date_and_offsets_can_be_required() -> None:
    parsed = parse_datetimes(["", None, "  "])
    assert parsed.utc.isna().all()
    assert parsed.error.isna().all()
    strict = parse_datetimes(
        ["2023-10-07T14:30:00", "2023-10-07T14:30:00+00:00"], require_offset=True
    )
    assert strict.error.tolist()[0] == "date_no_offset"
    assert strict.utc.iloc[1] == pd.Timestamp("2023-10-07 14:30", tz="UTC")


def test_daylight_saving_edges_in_tehran_2021() -> None:
    # Clocks went from 00:00 to 01:00 on 1400/01/02 (2021-03-22) and back on 1400/06/31.
    parsed = parse_datetimes(["1400/01/02 00:30", "1400/06/30 23:30", "1400/03/01 12:00"])
    assert parsed.nonexistent.tolist() == [True, False, False]
    assert parsed.ambiguous.tolist() == [False, True, False]
    assert parsed.utc.iloc[2] == pd.Timestamp("2021-05-22 07:30", tz="UTC")


def test_formats_and_zones() -> None:
    parsed = parse_datetimes(
        ["03/01/2023 11:45:00 PM", "nope"], tz="America/New_York", formats=["%m/%d/%Y %I:%M:%S %p"]
    )
    assert parsed.utc.iloc[0] == pd.Timestamp("2023-03-02 04:45", tz="UTC")
    assert parsed.error.iloc[1] == "date_unparseable"
    with pytest.raises(InputError, match="Unknown time zone"):
        parse_datetimes(["2023-01-01"], tz="Asia/Nowhere")


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=date(1925, 3, 21), max_value=date(2100, 1, 1)))
def test_jalali_conversion_agrees_with_jdatetime(day: date) -> None:
    j = jdatetime.date.fromgregorian(date=day)
    days, ok = jalali_days(np.array([j.year]), np.array([j.month]), np.array([j.day]))
    assert ok.all()
    assert int(days[0]) == (day - EPOCH).days
    assert bool(jalali_is_leap(np.array([j.year]))[0]) == j.isleap()
    g_days, g_ok = gregorian_days(np.array([day.year]), np.array([day.month]), np.array([day.day]))
    assert g_ok.all()
    assert int(g_days[0]) == (day - EPOCH).days


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1300, 1500),
    st.integers(1, 12),
    st.integers(1, 31),
    st.integers(0, 23),
    st.integers(0, 59),
    st.booleans(),
)
def test_persian_digits_parse_like_latin(
    year: int, month: int, day: int, hour: int, minute: int, persian: bool
) -> None:
    latin = f"{year}/{month:02d}/{day:02d} {hour:02d}:{minute:02d}"
    text = latin.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")) if persian else latin
    a, b = parse_datetimes([latin]), parse_datetimes([text])
    assert a.utc.equals(b.utc)
    assert a.error.astype(object).equals(b.error.astype(object))
    try:
        jdatetime.date(year, month, day)
        valid = True
    except ValueError:
        valid = False
    assert a.error.isna().iloc[0] == valid
