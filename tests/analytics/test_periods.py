"""Jalali and Gregorian periods of UTC instants."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import jdatetime
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.periods import period_labels, period_table
from geo.errors import InputError

TEHRAN = ZoneInfo("Asia/Tehran")


def _utc(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True))


def test_jalali_month_1402_01_starts_2023_03_21_tehran() -> None:
    # 2023-03-21 00:00 Tehran (UTC+03:30) is 2023-03-20 20:30 UTC
    ts = _utc("2023-03-20T20:29:59Z", "2023-03-20T20:30:00Z")
    assert period_labels(ts).tolist() == ["1401-12", "1402-01"]
    table = period_table(ts)
    row = table.set_index("period").loc["1402-01"]
    assert row["period_start"] == pd.Timestamp("2023-03-21T00:00", tz=TEHRAN)
    assert row["period_end"] == pd.Timestamp("2023-04-21T00:00", tz=TEHRAN)  # 31 days


def test_month_under_daylight_saving_1400() -> None:
    # 1400-07-01 = 2021-09-23; Tehran was on UTC+04:30 until 2021-09-22 00:00 local
    ts = _utc("2021-09-22T20:29:00Z", "2021-09-22T20:31:00Z")
    assert period_labels(ts).tolist() == ["1400-06", "1400-07"]


def test_gregorian_month_week_and_day() -> None:
    # 2024-09-30T21:00Z is 2024-10-01 00:30 in Tehran
    ts = _utc("2024-09-30T21:00:00Z")
    assert period_labels(ts, "M", "gregorian").tolist() == ["2024-10"]
    assert period_labels(ts, "D", "gregorian").tolist() == ["2024-10-01"]
    assert period_labels(ts, "W", "gregorian").tolist() == ["2024-09-30"]  # a Monday
    assert period_labels(ts, "D", "jalali").tolist() == ["1403-07-10"]


def test_jalali_week_starts_on_saturday() -> None:
    # Friday 2024-10-04 and Saturday 2024-10-05 (noon Tehran) are in different weeks
    ts = _utc("2024-10-04T08:30:00Z", "2024-10-05T08:30:00Z")
    labels = period_labels(ts, "W").tolist()
    assert labels == ["1403-07-07", "1403-07-14"]  # Saturdays 2024-09-28 and 2024-10-05


def test_missing_instants_get_missing_labels() -> None:
    ts = pd.Series(pd.to_datetime(["2024-01-01T00:00Z", None], utc=True))
    labels = period_labels(ts)
    assert labels.iloc[0] == "1402-10"
    assert pd.isna(labels.iloc[1])


def test_period_table_is_gap_free() -> None:
    ts = _utc("2023-01-05T00:00Z", "2023-12-25T00:00Z")
    table = period_table(ts)
    assert len(table) == 13  # 1401-10 .. 1402-10
    assert (
        table["period_start"].iloc[1:].to_numpy() == table["period_end"].iloc[:-1].to_numpy()
    ).all()


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(InputError, match="time zone-aware"):
        period_labels(pd.Series(pd.to_datetime(["2024-01-01"])))


@pytest.mark.parametrize(("freq", "calendar"), [("Y", "jalali"), ("M", "hijri")])
def test_unknown_period_or_calendar_raises(freq: str, calendar: str) -> None:
    with pytest.raises(InputError):
        period_labels(_utc("2024-01-01T00:00Z"), freq, calendar)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2015, 1, 1), max_value=dt.datetime(2030, 1, 1)))
def test_labels_match_jdatetime_per_instant(naive_utc: dt.datetime) -> None:
    instant = naive_utc.replace(tzinfo=dt.UTC)
    local = instant.astimezone(TEHRAN).date()
    j = jdatetime.date.fromgregorian(date=local)
    ts = pd.Series([pd.Timestamp(instant)])
    assert period_labels(ts, "M").iloc[0] == f"{j.year:04d}-{j.month:02d}"
    assert period_labels(ts, "D").iloc[0] == f"{j.year:04d}-{j.month:02d}-{j.day:02d}"
    assert period_labels(ts, "M", "gregorian").iloc[0] == local.strftime("%Y-%m")
    week = period_table(ts, "W").iloc[0]
    start = week["period_start"].tz_convert(TEHRAN)
    assert start.weekday() == 5  # Saturday
    assert start.date() <= local < week["period_end"].tz_convert(TEHRAN).date()
