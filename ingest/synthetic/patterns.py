"""When synthetic cases happen: subjects with their shares and seasons, weekdays, hours.

Every weight here is a stated assumption about Tehran's 137, not a measurement:

* **subjects** (:data:`SUBJECTS`): urban services about 80% (cleaning, garbage, debris,
  tree pruning, snow, flooding, bin odour, street vendors, noise, pests), then planning,
  technical/civil works, traffic and social subjects;
* **seasons**: snow clearing (برف‌روبی, sand and salt) on a dozen snow days between Azar and
  Esfand, mostly in region 1 (north, highest); flooding in bursts on rain days and the day
  after (autumn to spring); bin odour three times as frequent in summer; tree pruning in
  autumn and winter; street vendors before Nowruz; fewer cases in the Nowruz holidays;
* **week**: Friday is the weekend (about half a working day's volume), Thursday is a half
  working day for many offices (about three quarters); official holidays of
  ``data/holidays.yaml`` weigh like a Friday;
* **day**: a morning peak at 10–12 local time, a plateau in the afternoon, a trough at night.

Each seasonal profile has a mean of about 1 over a year, so a subject's share is its share
of a whole year; a period that misses winter has almost no snow cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

import jdatetime
import numpy as np
import yaml

#: Mean yearly volume of Tehran's 137 at full scale (cases per year), for reference.
FULL_SCALE_CASES_PER_YEAR: Final = 2_000_000

DATA_DIR: Final = Path(__file__).resolve().parents[2] / "data"

SEASON_FLAT: Final = "flat"
SEASON_SNOW: Final = "snow"
SEASON_RAIN: Final = "rain"
SEASON_SUMMER: Final = "summer"
SEASON_PRUNING: Final = "pruning"
SEASON_NOWRUZ_SHOPPING: Final = "nowruz_shopping"
SEASON_WARM: Final = "warm"


@dataclass(frozen=True)
class Subject:
    """One subject of complaints: its taxonomy codes, yearly share and seasonal profile."""

    category: str
    subcategory: str
    share: float
    season: str = SEASON_FLAT


#: Subjects and their shares of a year's cases (they sum to 1).
SUBJECTS: Final = (
    Subject("urban_services", "cleaning", 0.18),
    Subject("urban_services", "garbage", 0.17),
    Subject("urban_services", "debris", 0.09),
    Subject("urban_services", "tree_pruning", 0.06, SEASON_PRUNING),
    Subject("urban_services", "snow", 0.05, SEASON_SNOW),
    Subject("urban_services", "flooding", 0.03, SEASON_RAIN),
    Subject("urban_services", "bin_odour", 0.05, SEASON_SUMMER),
    Subject("urban_services", "street_vendors", 0.08, SEASON_NOWRUZ_SHOPPING),
    Subject("urban_services", "noise", 0.05, SEASON_WARM),
    Subject("urban_services", "pests", 0.04, SEASON_WARM),
    Subject("planning", "illegal_construction", 0.04),
    Subject("planning", "construction_nuisance", 0.015),
    Subject("planning", "land_use", 0.005),
    Subject("technical", "asphalt", 0.035),
    Subject("technical", "sidewalks", 0.012),
    Subject("technical", "drainage", 0.013, SEASON_RAIN),
    Subject("technical", "street_lighting", 0.01),
    Subject("traffic", "traffic_signals", 0.006),
    Subject("traffic", "illegal_parking", 0.015),
    Subject("traffic", "abandoned_vehicle", 0.01),
    Subject("traffic", "public_transport", 0.005),
    Subject("traffic", "signs_markings", 0.004),
    Subject("social", "rough_sleepers", 0.008),
    Subject("social", "begging", 0.008),
    Subject("social", "stray_animals", 0.01),
    Subject("social", "public_drug_use", 0.004),
)

#: Kinds of request and their shares.
KIND_SHARES: Final = {
    "complaint": 0.55,
    "request": 0.33,
    "suggestion": 0.03,
    "idea": 0.01,
    "plan": 0.005,
    "appreciation": 0.03,
    "criticism": 0.035,
    "question": 0.01,
}
#: Channels and their shares.
CHANNEL_SHARES: Final = {
    "phone": 0.6,
    "app": 0.2,
    "web": 0.12,
    "sms": 0.03,
    "social": 0.03,
    "in_person": 0.02,
}

#: Relative volume by weekday, Monday first (Python's ``date.weekday()``).
WEEKDAY_WEIGHTS: Final = np.array([0.98, 0.97, 0.95, 0.75, 0.5, 1.0, 1.0])
FRIDAY: Final = 4
#: Relative volume by local hour 0..23: a peak at 10–12.
HOUR_WEIGHTS: Final = np.array(
    [
        *(0.25, 0.12, 0.06, 0.05, 0.05, 0.1, 0.3, 0.8, 1.6, 2.4, 3.2, 3.3),
        *(2.7, 2.0, 2.0, 2.0, 1.8, 1.6, 1.5, 1.4, 1.2, 1.0, 0.7, 0.4),
    ]
)
HOLIDAY_WEIGHT: Final = 0.5
NOWRUZ_WEIGHT: Final = 0.6
SNOW_DAYS_PER_WINTER: Final = 12
RAIN_DAYS_PER_YEAR: Final = 28
# Monthly profiles by Jalali month 1..12 (index 0 unused); each has a mean of 1.
_MONTHLY: Final = {
    SEASON_SUMMER: np.array([0, 0.6, 0.8, 1.4, 2.2, 2.4, 2.0, 1.0, 0.6, 0.4, 0.3, 0.3, 0.4]),
    SEASON_PRUNING: np.array([0, 0.6, 0.5, 0.5, 0.5, 0.5, 0.6, 1.0, 1.6, 2.0, 1.8, 1.4, 1.0]),
    SEASON_NOWRUZ_SHOPPING: np.array(
        [0, 0.8, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.1, 2.0]
    ),
    SEASON_WARM: np.array([0, 0.9, 1.1, 1.3, 1.4, 1.4, 1.2, 1.0, 0.8, 0.7, 0.7, 0.7, 0.8]),
}
# Rain is likelier in these Jalali months (autumn to spring).
_RAIN_MONTH_WEIGHT: Final = np.array(
    [0, 1.5, 1.2, 0.4, 0.1, 0.1, 0.1, 0.3, 1.0, 1.4, 1.6, 1.6, 1.6]
)


@dataclass(frozen=True)
class Calendar:
    """The days of a generation period with their Jalali dates and weights.

    Attributes
    ----------
    days : numpy.ndarray
        Local calendar days (Asia/Tehran) as ``datetime64[D]``.
    jalali_year, jalali_month, jalali_day : numpy.ndarray
        Jalali date of each day.
    month_index : numpy.ndarray
        0-based index of each day's Jalali month within the period.
    month_labels : tuple of str
        ``"1401-01"``, ``"1401-02"``, ... one per Jalali month of the period.
    weekday : numpy.ndarray
        ``date.weekday()`` of each day (Friday is 4).
    day_weight : numpy.ndarray
        Weekday, holiday and Nowruz weight of each day.
    snow_day, rain_day : numpy.ndarray
        Boolean masks of the days with snow and with rain.
    """

    days: np.ndarray
    jalali_year: np.ndarray
    jalali_month: np.ndarray
    jalali_day: np.ndarray
    month_index: np.ndarray
    month_labels: tuple[str, ...]
    weekday: np.ndarray
    day_weight: np.ndarray
    snow_day: np.ndarray
    rain_day: np.ndarray


def jalali_month_start(start: str | date | jdatetime.date, months: int) -> tuple[date, date]:
    """Return the Gregorian first day of the period and the first day after it.

    Parameters
    ----------
    start : str, datetime.date or jdatetime.date
        A Jalali date as ``"1401-01-01"`` (or ``1401/01/01``), or a Gregorian
        :class:`datetime.date` (taken as is).
    months : int
        Length of the period in Jalali months.

    Returns
    -------
    tuple of datetime.date
        ``(first, end)`` with ``end`` excluded.

    Examples
    --------
    >>> jalali_month_start("1401-01-01", 12)
    (datetime.date(2022, 3, 21), datetime.date(2023, 3, 21))
    """
    if isinstance(start, jdatetime.date):
        j = start
    elif isinstance(start, date):
        j = jdatetime.date.fromgregorian(date=start)
    else:
        text = start.strip().replace("/", "-")
        y, m, d = (int(p) for p in text.split("-"))
        j = jdatetime.date(y, m, d)
    total = j.month - 1 + months
    end = jdatetime.date(j.year + total // 12, total % 12 + 1, 1)
    if j.day != 1:
        end = jdatetime.date(end.year, end.month, min(j.day, 29))
    return j.togregorian(), end.togregorian()


def holidays(path: Path = DATA_DIR / "holidays.yaml") -> frozenset[date]:
    """Read the official holidays (Jalali dates in ``data/holidays.yaml``) as Gregorian dates.

    Returns an empty set when the file is absent.
    """
    if not path.exists():
        return frozenset()
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: set[date] = set()
    for item in raw.get("holidays", []) or []:
        y, m, d = (int(p) for p in str(item["date"]).split("-"))
        out.add(jdatetime.date(y, m, d).togregorian())
    return frozenset(out)


def build_calendar(first: date, end: date, rng: np.random.Generator) -> Calendar:
    """Lay out the days of ``[first, end)`` with their weights, snow days and rain days.

    Parameters
    ----------
    first, end : datetime.date
        The period, ``end`` excluded.
    rng : numpy.random.Generator
        Draws the snow and rain days.

    Returns
    -------
    Calendar
        One entry per day.
    """
    days = np.arange(np.datetime64(first, "D"), np.datetime64(end, "D"))
    jal = [jdatetime.date.fromgregorian(date=d.item()) for d in days]
    jy = np.array([j.year for j in jal])
    jm = np.array([j.month for j in jal])
    jd = np.array([j.day for j in jal])
    labels_per_day = np.array([f"{y:04d}-{m:02d}" for y, m in zip(jy, jm, strict=True)])
    month_labels, month_index = np.unique(labels_per_day, return_inverse=True)
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    weight = WEEKDAY_WEIGHTS[weekday].copy()
    official = holidays()
    is_holiday = np.array([d.item() in official for d in days])
    weight[is_holiday & (weekday != FRIDAY)] = HOLIDAY_WEIGHT
    nowruz = (jm == 1) & (jd <= 13)
    weight[nowruz] *= NOWRUZ_WEIGHT
    # Snow: a dozen days per winter (Azar 20 to Esfand), in short spells.
    winter = ((jm == 9) & (jd >= 20)) | (jm >= 10)
    snow = np.zeros(len(days), dtype=bool)
    for year in np.unique(jy[winter]):
        idx = np.flatnonzero(winter & (jy == year))
        spells = max(1, SNOW_DAYS_PER_WINTER // 3)
        for start in rng.choice(idx, size=min(spells, len(idx)), replace=False):
            snow[start : start + int(rng.integers(2, 5))] = True
    snow &= winter
    # Rain: about 28 days a year, likelier from autumn to spring.
    p_rain = _RAIN_MONTH_WEIGHT[jm]
    p_rain = p_rain / p_rain.mean() * RAIN_DAYS_PER_YEAR / 365.0
    rain = rng.random(len(days)) < np.clip(p_rain, 0.0, 0.9)
    return Calendar(
        days=days,
        jalali_year=jy,
        jalali_month=jm,
        jalali_day=jd,
        month_index=month_index.astype(np.int64),
        month_labels=tuple(str(x) for x in month_labels),
        weekday=weekday,
        day_weight=weight,
        snow_day=snow,
        rain_day=rain,
    )


def season_profile(season: str, cal: Calendar) -> np.ndarray:
    """Return the seasonal multiplier of each day of ``cal`` for a season (mean about 1)."""
    n = len(cal.days)
    if season == SEASON_FLAT:
        return np.ones(n)
    if season in _MONTHLY:
        monthly: np.ndarray = _MONTHLY[season][cal.jalali_month].astype(float)
        return monthly
    if season == SEASON_SNOW:
        # Expected snow days per year ~ SNOW_DAYS_PER_WINTER: a snow day weighs 365/12 × 0.9,
        # other days 0.1 (salt and sand requests before and after the storms).
        on = 365.0 / SNOW_DAYS_PER_WINTER * 0.9
        winter = (cal.jalali_month >= 9) | (cal.jalali_month <= 1)
        snow: np.ndarray = np.where(cal.snow_day, on, np.where(winter, 0.15, 0.02))
        return snow
    if season == SEASON_RAIN:
        on = 365.0 / RAIN_DAYS_PER_YEAR * 0.6
        after = np.r_[False, cal.rain_day[:-1]]
        return np.where(cal.rain_day, on, np.where(after, on / 3.0, 0.25))
    msg = f"Unknown season {season!r}; use one of flat, snow, rain, summer, pruning, warm."
    raise ValueError(msg)


def subject_day_weights(cal: Calendar, subjects: tuple[Subject, ...] = SUBJECTS) -> np.ndarray:
    """Return the (subject × day) matrix of relative case volume.

    Parameters
    ----------
    cal : Calendar
        The period.
    subjects : tuple of Subject
        The subjects (rows).

    Returns
    -------
    numpy.ndarray
        ``share × season(day) × day_weight(day)``; normalize it to sample cases.
    """
    rows = [s.share * season_profile(s.season, cal) * cal.day_weight for s in subjects]
    out: np.ndarray = np.vstack(rows)
    return out


def hour_probabilities() -> np.ndarray:
    """Return the probability of each local hour 0..23 (peak at 10–12)."""
    out: np.ndarray = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
    return out
