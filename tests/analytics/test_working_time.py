"""Working hours on the Iranian calendar: Friday weekend, official holidays, office hours."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.working_time import (
    WorkingCalendar,
    iran_calendar,
    load_holidays,
    wall_hours_between,
    working_hours_between,
)
from geo.errors import InputError

TEHRAN = ZoneInfo("Asia/Tehran")
NO_HOLIDAYS: frozenset[dt.date] = frozenset()


def _tehran(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime([pd.Timestamp(v, tz=TEHRAN) for v in values])).dt.tz_convert(
        "UTC"
    )


def test_friday_is_not_working_time() -> None:
    start = _tehran("2024-10-03 12:00")  # Thursday
    end = _tehran("2024-10-05 12:00")  # Saturday
    assert working_hours_between(start, end, iran_calendar(holidays=NO_HOLIDAYS)).tolist() == [24.0]
    assert wall_hours_between(start, end).tolist() == [48.0]


def test_thursday_rules() -> None:
    start, end = _tehran("2024-10-03 00:00"), _tehran("2024-10-04 00:00")  # all of Thursday
    for rule, hours in (("working", 24.0), ("half", 12.0), ("off", 0.0)):
        cal = iran_calendar(thursday=rule, holidays=NO_HOLIDAYS)  # type: ignore[arg-type]
        assert working_hours_between(start, end, cal).tolist() == [hours]


def test_office_hours_and_a_holiday() -> None:
    # Sunday 1403-11-21 (2025-02-09) 13:00 to Tuesday 2025-02-11 09:00; Monday 22 Bahman
    # (2025-02-10) is the Victory of the Revolution holiday.
    start, end = _tehran("2025-02-09 13:00"), _tehran("2025-02-11 09:00")
    cal = iran_calendar(office_hours=(7.5, 14.5))
    assert working_hours_between(start, end, cal).tolist() == pytest.approx([1.5 + 1.5])
    cal_no = iran_calendar(office_hours=(7.5, 14.5), holidays=NO_HOLIDAYS)
    assert working_hours_between(start, end, cal_no).tolist() == pytest.approx([1.5 + 7 + 1.5])


def test_default_holiday_file_parses_and_has_nowruz() -> None:
    holidays = load_holidays()
    assert dt.date(2024, 3, 20) in holidays  # 1403-01-01
    assert dt.date(2025, 2, 10) in holidays  # 1403-11-22
    assert dt.date(2024, 3, 22) in holidays  # 1403-01-03, Nowruz
    assert dt.date(2024, 10, 6) not in holidays  # 1403-07-15, an ordinary Sunday
    assert len(holidays) > 100


def test_holiday_file_errors_say_how_to_fix(tmp_path: Path) -> None:
    bad = tmp_path / "h.yaml"
    bad.write_text("holidays:\n  - {date: 1403-01-01}\n", encoding="utf-8")
    with pytest.raises(InputError, match="quote"):
        load_holidays(bad)
    bad.write_text('holidays:\n  - {date: "1403-13-01"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="not a valid Jalali date"):
        load_holidays(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_holidays(tmp_path / "missing.yaml")


def test_user_holiday_file_with_persian_digits(tmp_path: Path) -> None:
    path = tmp_path / "h.yaml"
    path.write_text('holidays:\n  - "۱۴۰۳-۰۷-۱۵"\n', encoding="utf-8")
    assert load_holidays(path) == frozenset({dt.date(2024, 10, 6)})


def test_missing_ends_give_nan() -> None:
    start = _tehran("2024-10-03 12:00", "2024-10-03 12:00")
    end = pd.Series([pd.Timestamp("2024-10-05T00:00Z"), pd.NaT]).astype("datetime64[ns, UTC]")
    out = working_hours_between(start, end, iran_calendar(holidays=NO_HOLIDAYS))
    assert not np.isnan(out[0])
    assert np.isnan(out[1])


def test_bad_office_hours_raise() -> None:
    with pytest.raises(InputError):
        WorkingCalendar(office_hours=(15.0, 8.0))


def _brute_force(start: dt.datetime, end: dt.datetime, cal: WorkingCalendar) -> float:
    """Sum, over local days, the overlap of [start, end) with the day's working window."""
    open_h, close_h = cal.office_hours or (0.0, 24.0)
    total = 0.0
    day = start.astimezone(TEHRAN).date() - dt.timedelta(days=1)
    while day <= end.astimezone(TEHRAN).date():
        length = close_h - open_h
        if day.weekday() in cal.weekend or day in cal.holidays:
            length = 0.0
        elif day.weekday() == 3 and cal.thursday != "working":
            length = length / 2 if cal.thursday == "half" else 0.0
        if length > 0:
            midnight = dt.datetime.combine(day, dt.time())
            lo = (midnight + dt.timedelta(hours=open_h)).replace(tzinfo=TEHRAN)
            hi = (midnight + dt.timedelta(hours=open_h + length)).replace(tzinfo=TEHRAN)
            lo_u, hi_u = lo.astimezone(dt.UTC), hi.astimezone(dt.UTC)
            overlap = min(hi_u, end) - max(lo_u, start)
            total += max(overlap.total_seconds(), 0.0) / 3600
        day += dt.timedelta(days=1)
    return total


@settings(max_examples=80, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2022, 6, 1), max_value=dt.datetime(2025, 3, 1)),
    hours=st.floats(min_value=0.0, max_value=24.0 * 40),
    thursday=st.sampled_from(["working", "half", "off"]),
    office=st.sampled_from([None, (7.5, 14.5), (8.0, 16.0)]),
)
def test_matches_brute_force(
    start: dt.datetime, hours: float, thursday: str, office: tuple[float, float] | None
) -> None:
    cal = iran_calendar(thursday=thursday, office_hours=office)  # type: ignore[arg-type]
    s_utc = start.replace(tzinfo=dt.UTC, microsecond=0)
    e_utc = s_utc + dt.timedelta(seconds=round(hours * 3600))
    got = working_hours_between(
        pd.Series([pd.Timestamp(s_utc)]), pd.Series([pd.Timestamp(e_utc)]), cal
    )[0]
    assert got == pytest.approx(_brute_force(s_utc, e_utc, cal), abs=1e-6)
