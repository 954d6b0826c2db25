"""The view state shared by pages and callbacks: hashable filters read from the URL or inputs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final
from urllib.parse import parse_qsl, urlencode

from ingest import schema as s

from . import i18n
from .i18n import Lang

#: KPIs the map can show, in menu order. Most come from the read-model sums
#: (:data:`SUM_KPIS`); those of :data:`CASE_KPIS` are computed from the cases.
KPIS: Final = (
    "volume",
    "per_10k",
    "backlog",
    "overdue_share",
    "close_median",
    "sla",
    "satisfaction",
    "objection",
)
#: Map KPIs read from the cases (column-pruned, filters pushed down) rather than the read
#: model: the Kaplan–Meier median time to close, and the overdue share of the open cases.
CASE_KPIS: Final = frozenset({"overdue_share", "close_median"})
#: KPIs computed from the read-model sums (trends and the public page show these).
SUM_KPIS: Final = (
    "volume",
    "per_10k",
    "backlog",
    "close_days",
    "sla",
    "satisfaction",
    "objection",
)
DEFAULT_KPI: Final = "volume"
#: Map KPIs of earlier bookmarks -> the KPI that replaced them.
KPI_ALIASES: Final = {"close_days": "close_median"}
#: KPIs the rankings page ranks with :func:`analytics.rank_areas`, default first.
RANK_KPIS: Final = ("sla", "close_median", "satisfaction", "objection")
#: Map overlays: density clusters of cases, and groups of duplicate reports.
OVERLAYS: Final = ("clusters", "duplicates")
LEVELS: Final = s.LEVELS
DEFAULT_LEVEL: Final = s.LEVEL_NEIGHBORHOOD
#: Query keys of the set-valued filters and the read-model column each one tests.
SET_KEYS: Final = {
    "category": s.CATEGORY,
    "kind": s.KIND,
    "channel": s.CHANNEL,
    "unit": s.UNIT,
}


def _day(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _values(value: object) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items: Sequence[object] = value.split(",") if isinstance(value, str) else list(value)  # type: ignore[call-overload]
    return tuple(sorted({str(item) for item in items if str(item)}))


def kpi_of(value: object) -> str:
    """Return the map KPI ``value`` names (:data:`KPIS`), else the default KPI.

    The map's former mean time to close (``close_days``) gives its median.
    """
    if isinstance(value, str) and value in KPI_ALIASES:
        return KPI_ALIASES[value]
    return str(value) if value in KPIS else DEFAULT_KPI


def sum_kpi_of(value: object) -> str:
    """Return ``value`` when it names a read-model KPI (:data:`SUM_KPIS`), else the default."""
    return str(value) if value in SUM_KPIS else DEFAULT_KPI


def rank_kpi_of(value: object) -> str:
    """Return ``value`` when the rankings page can rank by it, else its default KPI."""
    return str(value) if value in RANK_KPIS else RANK_KPIS[0]


def overlays_of(value: object) -> tuple[str, ...]:
    """Return the known overlays named by a checklist value (a list, or comma-joined text)."""
    if isinstance(value, str):
        items = set(value.split(","))
    elif isinstance(value, list | tuple):
        items = {str(item) for item in value}
    else:
        items = set()
    return tuple(kind for kind in OVERLAYS if kind in items)


def level_of(value: object) -> str:
    """Return ``value`` when it names a boundary level, else the neighborhood level."""
    return str(value) if value in LEVELS else DEFAULT_LEVEL


@dataclass(frozen=True)
class Filters:
    """Filters of the manager pages; hashable, so results can be cached by them.

    Attributes
    ----------
    level : str
        Boundary level of the areas (``region``, ``district``, ``neighborhood``).
    start : datetime.date or None
        First local (Asia/Tehran) day included, or no lower bound.
    stop : datetime.date or None
        First local day after the window, or no upper bound.
    categories, kinds, channels, units : tuple of str
        Keep only these values (sorted); empty means no condition.
    subcategories : tuple of str
        Keep only these subcategories (sorted); empty means no condition. The read model
        has no subcategory key, so :mod:`dash_app.data` aggregates the matching cases
        itself when this is set.
    """

    level: str = DEFAULT_LEVEL
    start: dt.date | None = None
    stop: dt.date | None = None
    categories: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    subcategories: tuple[str, ...] = ()

    @property
    def end_month(self) -> dt.date | None:
        """First day of the last Jalali month in the window (the "to month" selector)."""
        if self.stop is None:
            return None
        return i18n.jalali_month_start(self.stop - dt.timedelta(days=1))

    def sets(self) -> dict[str, tuple[str, ...]]:
        """Return ``{read-model column: values}`` of the set filters that are given.

        The subcategory is not a read-model column and is not included (see
        :attr:`subcategories`).
        """
        pairs = {
            s.CATEGORY: self.categories,
            s.KIND: self.kinds,
            s.CHANNEL: self.channels,
            s.UNIT: self.units,
        }
        return {column: values for column, values in pairs.items() if values}

    def previous(self) -> Filters | None:
        """Return the same filters over the window of equal length just before this one."""
        if self.start is None or self.stop is None:
            return None
        length = self.stop - self.start
        return replace(self, start=self.start - length, stop=self.start)

    @classmethod
    def from_inputs(
        cls,
        start: object = None,
        end: object = None,
        categories: object = None,
        kinds: object = None,
        channels: object = None,
        units: object = None,
        level: object = None,
        subcategories: object = None,
    ) -> Filters:
        """Build filters from the filter components' values (bad values are ignored).

        ``start`` and ``end`` are ISO dates of Jalali month starts: the window runs from
        ``start`` to the end of ``end``'s Jalali month. The arguments follow
        :data:`dash_app.ids.FILTERS` (the subcategory comes last, after the level).
        """
        first, last = _day(start), _day(end)
        if first is not None and last is not None and last < first:
            first, last = last, first
        return cls(
            level=level_of(level),
            start=first,
            stop=None if last is None else i18n.next_jalali_month_start(last),
            categories=_values(categories),
            kinds=_values(kinds),
            channels=_values(channels),
            units=_values(units),
            subcategories=_values(subcategories),
        )

    @classmethod
    def from_query(cls, query: Mapping[str, object]) -> Filters:
        """Build filters from URL query values (``start``, ``end``, ``category`` …)."""
        return cls.from_inputs(
            query.get("start"),
            query.get("end"),
            query.get("category"),
            query.get("kind"),
            query.get("channel"),
            query.get("unit"),
            query.get("level"),
            query.get("subcategory"),
        )

    def to_query(self) -> dict[str, str]:
        """Return the URL query values of these filters (inverse of :meth:`from_query`)."""
        out: dict[str, str] = {"level": self.level}
        if self.start is not None:
            out["start"] = self.start.isoformat()
        if self.end_month is not None:
            out["end"] = self.end_month.isoformat()
        for key, values in (
            ("category", self.categories),
            ("kind", self.kinds),
            ("channel", self.channels),
            ("unit", self.units),
            ("subcategory", self.subcategories),
        ):
            if values:
                out[key] = ",".join(values)
        return out


def parse_search(search: str | None) -> dict[str, str]:
    """Return the query values of a URL search string (``"?lang=en&kpi=sla"``)."""
    return dict(parse_qsl((search or "").lstrip("?")))


def with_query(search: str | None, **values: str | None) -> str:
    """Return ``search`` with ``values`` set (None removes a key), as ``"?a=1&b=2"``."""
    query = parse_search(search)
    for key, value in values.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return "?" + urlencode(query) if query else ""


def lang_from_search(search: str | None) -> Lang:
    """Return the language named by a URL search string (Persian by default)."""
    return i18n.lang_of(parse_search(search).get("lang"))
