"""Filters on the case table, hashable so that callers can cache results by filter.

:class:`CaseFilter` is what :meth:`geo.store.base.CaseStore.read_cases` accepts. Each
backend pushes it down (partition pruning and Parquet predicates in the embedded store, a
``WHERE`` clause in PostGIS); :meth:`CaseFilter.apply` is the pandas reference that both
must agree with.

Semantics (every condition that is set must hold; ``None`` means "no condition"):

* ``start``/``end``: ``start <= created_at < end`` (UTC instants; naive times are refused);
* ``sources``, ``categories``, ``kinds``, ``units``, ``statuses``: the value is one of the
  set (a missing value never matches; an empty set matches nothing);
* ``regions``, ``districts``, ``neighborhoods``: the case's code at that level is one of the
  set, so area codes can be given at any level (and combined: a region and a neighborhood);
* ``bbox``: ``(min_lon, min_lat, max_lon, max_lat)`` in EPSG:4326 degrees, bounds included;
  cases without a point never match.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from ingest import schema as s

from ..errors import InputError

#: Set-valued fields of :class:`CaseFilter` and the case column each one tests.
SET_FIELDS: Final = {
    "sources": s.SOURCE,
    "categories": s.CATEGORY,
    "kinds": s.KIND,
    "units": s.UNIT,
    "statuses": s.STATUS,
    "regions": s.REGION_CODE,
    "districts": s.DISTRICT_CODE,
    "neighborhoods": s.NEIGHBORHOOD_CODE,
}
#: Area fields by boundary level.
AREA_FIELDS: Final = {
    s.LEVEL_REGION: "regions",
    s.LEVEL_DISTRICT: "districts",
    s.LEVEL_NEIGHBORHOOD: "neighborhoods",
}

TimeLike = pd.Timestamp | dt.datetime | str


def _instant(value: TimeLike | None, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        msg = f"CaseFilter {name}={value!r} is not a timestamp ({exc})."
        raise InputError(msg) from None
    if pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        msg = (
            f"CaseFilter {name}={value!r} is naive; give a time zone-aware instant "
            "(for example pd.Timestamp('2024-01-01', tz='Asia/Tehran'))."
        )
        raise InputError(msg)
    return stamp.tz_convert("UTC")


def _codes(value: Collection[str] | str | None, name: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    out = frozenset(str(item) for item in value)
    if any(item in ("", "None", "nan") for item in out):
        msg = f"CaseFilter {name} holds an empty or missing value; give codes as text."
        raise InputError(msg)
    return out


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to read; every field that is not ``None`` must hold.

    Collections are stored as ``frozenset`` and times as UTC :class:`pandas.Timestamp`, so
    two filters that mean the same compare and hash equal.

    Parameters
    ----------
    start, end : pandas.Timestamp, datetime or str, optional
        The ``created_at`` window ``[start, end)``, time zone-aware.
    sources, categories, kinds, units, statuses : collection of str, optional
        Allowed values of the column of the same meaning.
    regions, districts, neighborhoods : collection of str, optional
        Allowed area codes at that boundary level.
    bbox : tuple of float, optional
        ``(min_lon, min_lat, max_lon, max_lat)`` in EPSG:4326 degrees, inclusive.

    Examples
    --------
    >>> f = CaseFilter(start="2024-01-01T00:00+03:30", kinds=["complaint"], regions="1")
    >>> f.regions
    frozenset({'1'})
    >>> f == CaseFilter(start="2023-12-31T20:30Z", kinds=("complaint",), regions=["1"])
    True
    """

    start: TimeLike | None = None
    end: TimeLike | None = None
    sources: Collection[str] | None = None
    categories: Collection[str] | None = None
    kinds: Collection[str] | None = None
    units: Collection[str] | None = None
    statuses: Collection[str] | None = None
    regions: Collection[str] | None = None
    districts: Collection[str] | None = None
    neighborhoods: Collection[str] | None = None
    bbox: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        start = _instant(self.start, "start")
        end = _instant(self.end, "end")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        for name in SET_FIELDS:
            object.__setattr__(self, name, _codes(getattr(self, name), name))
        if self.bbox is not None:
            box = tuple(float(v) for v in self.bbox)
            if len(box) != 4 or np.isnan(box).any():
                msg = f"CaseFilter bbox={self.bbox!r} must be (min_lon, min_lat, max_lon, max_lat)."
                raise InputError(msg)
            if box[0] > box[2] or box[1] > box[3]:
                msg = (
                    f"CaseFilter bbox={self.bbox!r} has a minimum above its maximum; "
                    "give (min_lon, min_lat, max_lon, max_lat) with x = lon."
                )
                raise InputError(msg)
            object.__setattr__(self, "bbox", box)

    # -- typed views of the normalized fields ------------------------------------------------
    @property
    def start_utc(self) -> pd.Timestamp | None:
        """The window start as a UTC timestamp, or None."""
        return self.start  # type: ignore[return-value]

    @property
    def end_utc(self) -> pd.Timestamp | None:
        """The window end (excluded) as a UTC timestamp, or None."""
        return self.end  # type: ignore[return-value]

    def values(self, name: str) -> frozenset[str] | None:
        """Return the normalized set of a set-valued field (see :data:`SET_FIELDS`)."""
        if name not in SET_FIELDS:
            fields = ", ".join(SET_FIELDS)
            msg = f"{name!r} is not a set-valued CaseFilter field; use one of {fields}."
            raise InputError(msg)
        return getattr(self, name)  # type: ignore[no-any-return]

    def column_sets(self) -> dict[str, frozenset[str]]:
        """Return ``{case column: allowed values}`` for every set-valued field that is set."""
        out: dict[str, frozenset[str]] = {}
        for name, column in SET_FIELDS.items():
            allowed = self.values(name)
            if allowed is not None:
                out[column] = allowed
        return out

    @property
    def is_empty(self) -> bool:
        """True when the filter has no condition at all (it matches every case)."""
        return all(getattr(self, f.name) is None for f in dataclasses.fields(self))

    def replace(self, **changes: object) -> CaseFilter:
        """Return a copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def for_area(cls, level: str, codes: Collection[str] | str, **others: object) -> CaseFilter:
        """Return a filter on area codes of one boundary level (plus any other fields).

        Examples
        --------
        >>> CaseFilter.for_area("region", ["3"]).regions
        frozenset({'3'})
        """
        if level not in AREA_FIELDS:
            msg = f"Unknown level {level!r}; use one of {', '.join(AREA_FIELDS)}."
            raise InputError(msg)
        return cls(**{AREA_FIELDS[level]: codes}, **others)  # type: ignore[arg-type]

    # -- the pandas reference ----------------------------------------------------------------
    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        """Return a boolean array: which rows of a canonical case frame match.

        Parameters
        ----------
        frame : pandas.DataFrame
            Cases in the canonical model (``created_at`` tz-aware, ``lon``/``lat`` degrees).
        """
        keep = np.ones(len(frame), dtype=bool)
        created = frame[s.CREATED_AT] if len(frame) else None
        if self.start_utc is not None and created is not None:
            keep &= (created >= self.start_utc).fillna(False).to_numpy(dtype=bool)
        if self.end_utc is not None and created is not None:
            keep &= (created < self.end_utc).fillna(False).to_numpy(dtype=bool)
        for column, allowed in self.column_sets().items():
            values = frame[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(object)
            keep &= values.isin(list(allowed)).to_numpy(dtype=bool)
        if self.bbox is not None:
            lon = pd.to_numeric(frame[s.LON]).to_numpy(dtype="float64", na_value=np.nan)
            lat = pd.to_numeric(frame[s.LAT]).to_numpy(dtype="float64", na_value=np.nan)
            x0, y0, x1, y1 = self.bbox
            with np.errstate(invalid="ignore"):
                keep &= (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
        return keep

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the rows of ``frame`` that match, as a new frame (index kept).

        This is the reference implementation the backends are tested against, and a
        fallback for frames already in memory.
        """
        return frame.loc[self.mask(frame)].copy()
