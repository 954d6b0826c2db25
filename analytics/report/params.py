"""The parameters of a monthly report, and the Jalali month they describe.

A report is fully determined by its parameters and the cases: :class:`ReportParams` is
embedded in the HTML (as JSON) so that :func:`analytics.report.figures.compute_figures` can
recompute every figure from the store.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import jdatetime
import pandas as pd

from analytics.periods import TEHRAN
from geo.errors import InputError

Lang = Literal["fa", "en"]
LANGS: Final = ("fa", "en")
#: Version of the report format (bump when the figures or their keys change).
REPORT_VERSION: Final = 1
_MONTH: Final = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse_month(label: str) -> tuple[int, int]:
    """Return ``(year, month)`` of a Jalali month label such as ``"1403-07"``.

    Examples
    --------
    >>> parse_month("1403-07")
    (1403, 7)
    """
    match = _MONTH.match(str(label).strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        msg = f"--month {label!r} is not a Jalali month; write it like 1403-07."
        raise InputError(msg)
    return int(match.group(1)), int(match.group(2))


def month_label(year: int, month: int) -> str:
    """Return the label ``"YYYY-MM"`` of a Jalali month."""
    return f"{year:04d}-{month:02d}"


def shift_month(label: str, months: int) -> str:
    """Return the Jalali month ``months`` after (negative: before) ``label``.

    Examples
    --------
    >>> shift_month("1403-01", -1)
    '1402-12'
    """
    year, month = parse_month(label)
    index = year * 12 + (month - 1) + months
    return month_label(index // 12, index % 12 + 1)


def month_window(label: str, tz: str = TEHRAN) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the UTC instants ``[start, end)`` of a Jalali month in local time ``tz``.

    Examples
    --------
    >>> start, end = month_window("1403-07")
    >>> str(start), str(end)
    ('2024-09-21 20:30:00+00:00', '2024-10-21 20:30:00+00:00')
    """
    year, month = parse_month(label)
    first = jdatetime.date(year, month, 1).togregorian()
    following = parse_month(shift_month(label, 1))
    last = jdatetime.date(following[0], following[1], 1).togregorian()
    start = pd.Timestamp(first).tz_localize(tz).tz_convert("UTC")
    end = pd.Timestamp(last).tz_localize(tz).tz_convert("UTC")
    return start, end


@dataclass(frozen=True)
class ReportParams:
    """What a monthly report shows, and how its figures are computed.

    Parameters
    ----------
    month : str
        The Jalali month, ``"1403-07"``.
    region : str, optional
        Restrict the report to one region (its code); the whole city when None.
    lang : {"fa", "en"}
        Language of the text (Persian, right to left, by default).
    as_of : str, optional
        ISO 8601 UTC instant the figures describe; :func:`resolve_as_of` sets it to the
        month's end, or the report's clock when the month is not over.
    min_volume : int
        Areas with fewer cases in the month are not ranked.
    n_boot : int
        Posterior draws of the rank intervals.
    seed : int
        Seed of the draws (the ranking is reproducible).
    hotspot_months : int
        Months (ending with ``month``) of the emerging-hotspot analysis and quality flags.
    top_hotspots : int
        Recurring hotspots shown.
    top_units : int
        Units shown in the data-quality table.
    top_areas : int
        Neighborhoods listed beside each map.
    """

    month: str
    region: str | None = None
    lang: Lang = "fa"
    as_of: str | None = None
    min_volume: int = 30
    n_boot: int = 1000
    seed: int = 0
    hotspot_months: int = 6
    top_hotspots: int = 5
    top_units: int = 12
    top_areas: int = 5

    def __post_init__(self) -> None:
        parse_month(self.month)
        if self.lang not in LANGS:
            msg = f"--lang {self.lang!r} is not supported; use fa or en."
            raise InputError(msg)
        if self.region is not None and not str(self.region).strip():
            msg = "--region is empty; give a region code such as 6."
            raise InputError(msg)
        for name in ("min_volume", "n_boot", "hotspot_months", "top_hotspots", "top_units"):
            if int(getattr(self, name)) < 1:
                msg = f"report parameter {name} must be at least 1, got {getattr(self, name)}."
                raise InputError(msg)

    @property
    def window(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The month's UTC instants ``[start, end)``."""
        return month_window(self.month)

    @property
    def previous_month(self) -> str:
        """The label of the month before."""
        return shift_month(self.month, -1)

    @property
    def history_start(self) -> pd.Timestamp:
        """Start of the ``hotspot_months`` window ending with the month."""
        return month_window(shift_month(self.month, 1 - self.hotspot_months))[0]

    @property
    def as_of_utc(self) -> pd.Timestamp:
        """The as-of instant (the month's end when not set)."""
        if self.as_of is None:
            return self.window[1]
        return pd.Timestamp(self.as_of).tz_convert("UTC")

    def resolve_as_of(self, now: pd.Timestamp | None = None) -> ReportParams:
        """Return a copy whose ``as_of`` is the month's end, or ``now`` if that is earlier."""
        end = self.window[1]
        clock = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
        instant = min(end, clock.tz_convert("UTC")).floor("s")
        return dataclasses.replace(self, as_of=instant.strftime("%Y-%m-%dT%H:%M:%SZ"))

    def as_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON-ready values."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> ReportParams:
        """Build parameters from :meth:`as_dict` output (unknown keys are refused)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            msg = (
                f"report parameters hold unknown key(s) {unknown}; the report was made by a "
                "newer version of t137."
            )
            raise InputError(msg)
        if "month" not in values:
            msg = "report parameters lack the month; the report was not made by `t137 report`."
            raise InputError(msg)
        return cls(**cast(dict[str, Any], dict(values)))
