"""Place the kept rows of a read: point assignment first, the address as the fallback.

For every kept row of a :class:`~ingest.readers.result.ReadResult`:

1. a row with coordinates is assigned by :func:`geo.assign.assign_points` (precision
   ``point``, ``snapped`` or ``swapped``; a swapped pair is stored repaired, as (lon, lat));
2. a row whose point is outside the city beyond the snap tolerance, or that has no point,
   falls back to its address text (:func:`geo.geocode.geocode_addresses`), with the
   precision of the match (``address``, ``neighborhood`` or ``region``) and the matched
   area's representative point, never a more precise one;
3. a row whose point is outside the city and whose address does not match is quarantined
   (``outside_city``); a row with neither point nor matching address is kept with
   precision ``none`` and no area (it still counts for its unit).

Snapped and swapped points are flagged on the kept row, so that they can be reviewed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Final

import numpy as np
import pandas as pd

from geo.assign import REASON, REASON_OUTSIDE, BoundaryIndex, assign_points
from geo.gazetteer import Gazetteer
from geo.geocode import geocode_addresses

from . import schema as s
from .quarantine import Reason
from .readers.result import ReadResult

__all__ = ["FLAG_SNAPPED", "FLAG_SWAPPED", "locate"]

#: Flags put on kept rows whose point was repaired.
FLAG_SNAPPED: Final = "snapped"
FLAG_SWAPPED: Final = "swapped"
_AREA_COLUMNS: Final = (s.NEIGHBORHOOD_CODE, s.DISTRICT_CODE, s.REGION_CODE)


def _as_object(values: pd.Series) -> np.ndarray:
    out = values.astype(object).to_numpy()
    out[pd.isna(out)] = None
    return out


def _has_text(values: pd.Series) -> np.ndarray:
    """Return which values hold some non-blank text, testing each distinct value once."""
    codes, uniques = pd.factorize(values, sort=False)
    text = np.array([str(u).strip() != "" for u in uniques] + [False], dtype=bool)
    return text[np.where(codes < 0, len(uniques), codes)]


def _flags(labels: pd.Index, code: str, detail: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            s.NOTE_ROW: labels.to_numpy(dtype=np.int64),
            s.NOTE_CODE: code,
            s.NOTE_COLUMN: s.LON,
            s.NOTE_DETAIL: detail,
        }
    )


def locate(
    result: ReadResult,
    index: BoundaryIndex,
    *,
    gazetteer: Gazetteer | None = None,
    snap_tolerance_m: float = 200.0,
    placeholders: Sequence[tuple[float, float]] = (),
) -> ReadResult:
    """Assign every kept row to its areas, or quarantine it when it is outside the city.

    Parameters
    ----------
    result : ReadResult
        A reader's output; its coordinates are checked but not yet assigned.
    index : geo.assign.BoundaryIndex
        The boundary index (build once per boundary set).
    gazetteer : geo.gazetteer.Gazetteer, optional
        Names to match address texts against; without it, rows without a usable point get
        precision ``none``.
    snap_tolerance_m : float, default 200
        Points outside the city at most this far from it are snapped (metres).
    placeholders : sequence of (lon, lat)
        Placeholder points, refused.

    Returns
    -------
    ReadResult
        The kept rows with their area codes and ``geocode_precision``; rows outside the
        city with no address to fall back on moved to the quarantine (counts reconcile).
    """
    cases = result.cases.copy()
    n = len(cases)
    if n == 0:
        return result
    lon = pd.to_numeric(cases[s.LON], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(cases[s.LAT], errors="coerce").to_numpy(dtype=float)
    assigned = assign_points(
        index, lon=lon, lat=lat, snap_tolerance_m=snap_tolerance_m, placeholders=placeholders
    )
    assigned.index = cases.index
    precision = _as_object(assigned[s.GEOCODE_PRECISION])
    reason = _as_object(assigned[REASON])
    placed = precision != "none"
    codes = {c: _as_object(assigned[c]) for c in _AREA_COLUMNS}

    swapped = precision == "swapped"
    lon_out, lat_out = lon.copy(), lat.copy()
    lon_out[swapped], lat_out[swapped] = lat[swapped], lon[swapped]
    had_point = ~(np.isnan(lon) | np.isnan(lat))
    outside = (reason == REASON_OUTSIDE) & had_point

    fallback = ~placed
    matched = np.zeros(n, dtype=bool)
    if gazetteer is not None and s.ADDRESS in cases and fallback.any():
        texts = cases.loc[fallback, s.ADDRESS]
        has_text = _has_text(texts)
        if has_text.any():
            found = geocode_addresses(texts[has_text].astype("string"), gazetteer)
            positions = cases.index.get_indexer(found.index)
            found_precision = _as_object(found[s.GEOCODE_PRECISION])
            ok = found_precision != "none"
            rows = positions[ok]
            matched[rows] = True
            precision[rows] = found_precision[ok]
            for column in _AREA_COLUMNS:
                codes[column][rows] = _as_object(found[column])[ok]
            lon_out[rows] = found[s.LON].to_numpy(dtype=float)[ok]
            lat_out[rows] = found[s.LAT].to_numpy(dtype=float)[ok]

    cases[s.LON], cases[s.LAT] = lon_out, lat_out
    cases[s.GEOCODE_PRECISION] = precision
    for column in _AREA_COLUMNS:
        cases[column] = codes[column]
    # A point far outside the city with no matching address: the location is wrong.
    far = outside & ~matched
    # A refused point (placeholder, zero …) is already quarantined by the reader; a row with
    # no point and no matching address keeps precision "none" and its raw coordinates.
    located = replace(result, cases=cases)
    flags = [
        located.flags,
        _flags(cases.index[swapped], FLAG_SWAPPED, "latitude and longitude were swapped"),
        _flags(
            cases.index[precision == "snapped"],
            FLAG_SNAPPED,
            f"outside the city, within {snap_tolerance_m:g} m",
        ),
    ]
    located = replace(located, flags=pd.concat(flags, ignore_index=True))
    if far.any():
        located = located.move_to_quarantine(
            cases.index[far].to_numpy(),
            Reason.OUTSIDE_CITY,
            column=s.LON,
            details=f"more than {snap_tolerance_m:g} m outside the city and no address matched",
            values=[f"({x:.6f}, {y:.6f})" for x, y in zip(lon[far], lat[far], strict=True)],
        )
    return located
