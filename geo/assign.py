"""Point → neighborhood → district → region, exactly, fast and visibly forgiving.

A point is located in the finest boundary level with a :class:`~geo.point_index.BoundaryIndex`
(built once, reused); its district and region come from
:func:`geo.hierarchy.hierarchy_lookup` by array take, never from more spatial joins.

Each point gets a ``geocode_precision`` and, when it is not assigned, a ``reason``:

==========  ==============  ================================================================
precision   reason          when
==========  ==============  ================================================================
point       (none)          inside a polygon (on a shared border: the smallest code wins,
                            see :mod:`geo.point_index`)
swapped     (none)          outside as given, but (lat, lon) read the other way round falls
                            inside, or within the tolerance; the codes are those of the
                            repaired point
snapped     (none)          outside every polygon but within ``snap_tolerance_m`` metres
                            (EPSG:32639, the index's metric CRS) of one: the nearest (ties by
                            the smallest code)
none        missing         lon or lat is NaN / null
none        zero            (0, 0)
none        placeholder     within 1e-6 degrees of a placeholder point from the settings
none        out_of_range    not a longitude in [-180, 180] and a latitude in [-90, 90]
none        outside         farther than the tolerance from every polygon
==========  ==============  ================================================================

The order of the checks is: refused values, inside as given, inside swapped, snapped as
given, snapped swapped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from ingest import schema as s

from .crs import STORAGE_CRS
from .errors import InputError
from .point_index import DEFAULT_CELL_M, OUTSIDE, BoundaryIndex

__all__ = [
    "ASSIGN_COLUMNS",
    "INVALID_REASONS",
    "PLACEHOLDER_TOLERANCE_DEG",
    "REASON",
    "REASONS",
    "BoundaryIndex",
    "assign_frame",
    "assign_points",
    "load_index",
    "summarize_assignment",
]

#: Column holding why a point was not assigned (None when it was).
REASON: Final = s.Q_REASON
REASON_MISSING: Final = "missing"
REASON_ZERO: Final = "zero"
REASON_PLACEHOLDER: Final = "placeholder"
REASON_OUT_OF_RANGE: Final = "out_of_range"
REASON_OUTSIDE: Final = "outside"
#: Reasons of refused coordinates (the ``invalid`` count of ``t137 assign``).
INVALID_REASONS: Final = (REASON_MISSING, REASON_ZERO, REASON_PLACEHOLDER, REASON_OUT_OF_RANGE)
REASONS: Final = (*INVALID_REASONS, REASON_OUTSIDE)
PRECISION_POINT: Final = "point"
PRECISION_SNAPPED: Final = "snapped"
PRECISION_SWAPPED: Final = "swapped"
PRECISION_NONE: Final = "none"
#: Columns added by :func:`assign_points` and :func:`assign_frame`.
ASSIGN_COLUMNS: Final = (
    s.NEIGHBORHOOD_CODE,
    s.DISTRICT_CODE,
    s.REGION_CODE,
    s.GEOCODE_PRECISION,
    REASON,
)
#: A point this close (degrees, each axis) to a placeholder is refused.
PLACEHOLDER_TOLERANCE_DEG: Final = 1e-6
#: Points are processed in blocks of this many, which bounds temporary memory.
_CHUNK: Final = 1 << 21

_PRECISION_CODE: Final = {p: i for i, p in enumerate(s.GEOCODE_PRECISIONS)}
_NO_REASON: Final = -1
_REASON_CODE: Final = {r: i for i, r in enumerate(REASONS)}

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _require_index(index: object) -> None:
    """Raise a teaching error unless ``index`` is a :class:`BoundaryIndex`."""
    if isinstance(index, BoundaryIndex):
        return
    if isinstance(index, gpd.GeoDataFrame):
        msg = (
            "index must be a BoundaryIndex, not the boundary GeoDataFrame; build it once with "
            "`BoundaryIndex.from_boundaries(boundaries)` (or `load_index(folder)`) and reuse it."
        )
    else:
        msg = (
            f"index must be a BoundaryIndex, got {type(index).__name__}; build it with "
            "`BoundaryIndex.from_boundaries(boundaries)` or `load_index(folder)`."
        )
    raise InputError(msg)


def _as_float(values: object, name: str) -> FloatArray:
    """Turn lon or lat values into a float64 array, nulls into NaN."""
    try:
        if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
            series = pd.Series(values)
            if series.dtype == object:
                series = pd.to_numeric(series)
            return np.asarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
        return np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        msg = f"{name} values must be numbers (degrees, EPSG:4326): {exc}."
        raise InputError(msg) from None


def _codes_per_polygon(
    index: BoundaryIndex, column: str
) -> tuple[npt.NDArray[np.int32], list[str]]:
    """Return each polygon's category number in ``column`` and the categories.

    The numbers have one more entry, -1, at the end: :data:`OUTSIDE` picks it.
    """
    if column == s.LEVEL_CODE_COLUMN[index.level]:
        values = index.codes
    elif column in index.lookup.columns:
        values = index.lookup[column].to_numpy(dtype=object)
    else:
        values = np.full(len(index.codes), None, dtype=object)
    present = sorted({str(v) for v in values if isinstance(v, str)})
    number = {code: i for i, code in enumerate(present)}
    per_polygon = [number.get(v, -1) if isinstance(v, str) else -1 for v in values]
    return np.array([*per_polygon, -1], dtype=np.int32), present


def _placeholder_mask(
    lon: FloatArray, lat: FloatArray, placeholders: Iterable[tuple[float, float]]
) -> npt.NDArray[np.bool_]:
    mask = np.zeros(len(lon), dtype=bool)
    for p_lon, p_lat in placeholders:
        near_lon = np.flatnonzero(np.abs(lon - p_lon) <= PLACEHOLDER_TOLERANCE_DEG)
        mask[near_lon[np.abs(lat[near_lon] - p_lat) <= PLACEHOLDER_TOLERANCE_DEG]] = True
    return mask


def _assign_block(
    index: BoundaryIndex,
    lon: FloatArray,
    lat: FloatArray,
    snap_tolerance_m: float,
    placeholders: Sequence[tuple[float, float]],
) -> tuple[IntArray, npt.NDArray[np.int8], npt.NDArray[np.int8]]:
    """Return polygon number, precision number and reason number of each point."""
    n = len(lon)
    polygon = np.full(n, OUTSIDE, dtype=np.int64)
    precision = np.full(n, _PRECISION_CODE[PRECISION_NONE], dtype=np.int8)
    reason = np.full(n, _NO_REASON, dtype=np.int8)

    missing = np.isnan(lon) | np.isnan(lat)
    with np.errstate(invalid="ignore"):
        in_range = (np.abs(lon) <= 180.0) & (np.abs(lat) <= 90.0)
    zero = (lon == 0.0) & (lat == 0.0)
    placeholder = _placeholder_mask(lon, lat, placeholders) & ~zero
    refused = missing | zero | placeholder
    reason[missing] = _REASON_CODE[REASON_MISSING]
    reason[zero] = _REASON_CODE[REASON_ZERO]
    reason[placeholder] = _REASON_CODE[REASON_PLACEHOLDER]

    pending = ~refused

    def settle(points: IntArray, found: IntArray, flag: str) -> None:
        assigned = found != OUTSIDE
        hit = points[assigned]
        polygon[hit] = found[assigned]
        precision[hit] = _PRECISION_CODE[flag]
        pending[hit] = False

    def swappable(points: IntArray) -> IntArray:
        """Keep the points that, read as (lat, lon), are in range and may come near the city."""
        x, y = lat[points], lon[points]
        ok = (np.abs(x) <= 180.0) & (np.abs(y) <= 90.0)
        ok &= index.near.may_reach(lon=x, lat=y, max_distance_m=snap_tolerance_m)
        return points[ok]

    # Inside as given, then inside swapped (which may also repair values out of range).
    todo = np.flatnonzero(pending & in_range)
    settle(todo, index.locate(lon=lon[todo], lat=lat[todo]), PRECISION_POINT)
    # Only pairs that, read the other way round, come near the city are worth a look.
    todo = swappable(np.flatnonzero(pending))
    settle(todo, index.locate(lon=lat[todo], lat=lon[todo]), PRECISION_SWAPPED)
    if snap_tolerance_m > 0:
        todo = np.flatnonzero(pending & in_range)
        near = index.nearest_within(lon=lon[todo], lat=lat[todo], max_distance_m=snap_tolerance_m)
        settle(todo, near, PRECISION_SNAPPED)
        todo = swappable(np.flatnonzero(pending))
        near = index.nearest_within(lon=lat[todo], lat=lon[todo], max_distance_m=snap_tolerance_m)
        settle(todo, near, PRECISION_SWAPPED)
    unassigned = ~refused & (polygon == OUTSIDE)
    reason[unassigned & in_range] = _REASON_CODE[REASON_OUTSIDE]
    reason[unassigned & ~in_range] = _REASON_CODE[REASON_OUT_OF_RANGE]
    return polygon, precision, reason


def _categorical(codes: npt.NDArray[np.integer[Any]], categories: Sequence[str]) -> pd.Categorical:
    """Build a categorical from category numbers (-1 is missing) without a Python loop."""
    index = pd.Index(list(categories), dtype=object)
    return pd.Categorical.from_codes(codes, categories=index)  # type: ignore[arg-type]


def assign_points(
    index: BoundaryIndex,
    *,
    lon: object,
    lat: object,
    snap_tolerance_m: float = 200.0,
    placeholders: Sequence[tuple[float, float]] = (),
) -> pd.DataFrame:
    """Assign points to the finest level and its parents; flag and explain every point.

    Parameters
    ----------
    index : BoundaryIndex
        Built once from the boundaries (:meth:`BoundaryIndex.from_boundaries` or
        :func:`load_index`) and reused.
    lon, lat : array-like of float
        The points' longitude (x) and latitude (y) in degrees, EPSG:4326; nulls allowed.
    snap_tolerance_m : float, default 200.0
        Points outside every polygon but at most this many metres (EPSG:32639) from one are
        assigned to the nearest and flagged ``snapped``; 0 turns snapping off.
    placeholders : sequence of (lon, lat), default ()
        Points operators type when the location is unknown (the settings'
        ``placeholder_points``); they are refused.

    Returns
    -------
    pandas.DataFrame
        One row per point, in input order (RangeIndex), with the columns
        :data:`ASSIGN_COLUMNS`: ``neighborhood_code``, ``district_code``, ``region_code``
        (categorical strings, NaN when unknown or unassigned), ``geocode_precision``
        (categorical: point, snapped, swapped or none) and ``reason`` (categorical: NaN
        when assigned, else one of :data:`REASONS`).

    Raises
    ------
    InputError
        When ``index`` is not a :class:`BoundaryIndex` (a boundary GeoDataFrame, say: build
        the index from it), lon and lat differ in length or are not numbers, or the tolerance
        is negative.

    Examples
    --------
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> index = BoundaryIndex.from_boundaries(synthetic_boundaries(n_regions=2, n_neighborhoods=4))
    >>> out = assign_points(index, lon=[51.39, 0.0], lat=[35.69, 0.0])
    >>> out["geocode_precision"].tolist(), out["reason"].tolist()[1]
    (['point', 'none'], 'zero')
    """
    _require_index(index)
    lon_a = _as_float(lon, "lon")
    lat_a = _as_float(lat, "lat")
    if len(lon_a) != len(lat_a):
        msg = f"lon and lat must have the same length (got {len(lon_a)} and {len(lat_a)})."
        raise InputError(msg)
    if not snap_tolerance_m >= 0:
        msg = (
            f"snap_tolerance_m must be zero or a positive number of metres, not {snap_tolerance_m}."
        )
        raise InputError(msg)
    n = len(lon_a)
    polygon = np.empty(n, dtype=np.int64)
    precision = np.empty(n, dtype=np.int8)
    reason = np.empty(n, dtype=np.int8)
    pairs = [(float(x), float(y)) for x, y in placeholders]
    for start in range(0, n, _CHUNK):
        block = slice(start, start + _CHUNK)
        polygon[block], precision[block], reason[block] = _assign_block(
            index, lon_a[block], lat_a[block], snap_tolerance_m, pairs
        )
    columns: dict[str, object] = {}
    for column in (s.NEIGHBORHOOD_CODE, s.DISTRICT_CODE, s.REGION_CODE):
        per_polygon, categories = _codes_per_polygon(index, column)
        codes = per_polygon[polygon]
        columns[column] = _categorical(codes, categories)
    columns[s.GEOCODE_PRECISION] = _categorical(precision, s.GEOCODE_PRECISIONS)
    columns[REASON] = _categorical(reason, REASONS)
    return pd.DataFrame(columns)


def assign_frame(
    frame: pd.DataFrame,
    index: BoundaryIndex,
    *,
    lon_col: str = s.LON,
    lat_col: str = s.LAT,
    snap_tolerance_m: float = 200.0,
    placeholders: Sequence[tuple[float, float]] = (),
) -> pd.DataFrame:
    """Return a copy of ``frame`` with the columns of :func:`assign_points` added.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The points: ``lon_col`` and ``lat_col`` columns, or (for a GeoDataFrame without
        them) point geometry, re-projected to EPSG:4326 when it is in another CRS.
    index : BoundaryIndex
        Built once from the boundaries and reused.
    lon_col, lat_col : str, default "lon", "lat"
        Columns with longitude and latitude in degrees (EPSG:4326).
    snap_tolerance_m : float, default 200.0
        Snapping tolerance in metres (EPSG:32639); see :func:`assign_points`.
    placeholders : sequence of (lon, lat), default ()
        Placeholder points to refuse.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        A copy of ``frame`` (same type and index) with :data:`ASSIGN_COLUMNS` set; existing
        columns of those names are replaced. ``frame`` itself is not modified.

    Raises
    ------
    InputError
        When ``frame`` is not a DataFrame or ``index`` not a :class:`BoundaryIndex`, the
        coordinate columns are missing or not numeric, or the geometry is not made of points.
    CRSError
        When a GeoDataFrame without coordinate columns has no CRS.

    Examples
    --------
    >>> import pandas as pd
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> index = BoundaryIndex.from_boundaries(synthetic_boundaries(n_regions=2, n_neighborhoods=4))
    >>> cases = pd.DataFrame({"case_id": ["a", "b"], "lon": [51.39, None], "lat": [35.69, None]})
    >>> assign_frame(cases, index)[["case_id", "neighborhood_code", "region_code", "reason"]]
      case_id neighborhood_code region_code   reason
    0       a               201           2      NaN
    1       b               NaN         NaN  missing
    """
    if not isinstance(frame, pd.DataFrame):
        msg = (
            f"frame must be a DataFrame of points, got {type(frame).__name__}; the call is "
            "assign_frame(frame, index)."
        )
        raise InputError(msg)
    _require_index(index)
    has_columns = lon_col in frame.columns and lat_col in frame.columns
    if has_columns:
        lon: object = frame[lon_col]
        lat: object = frame[lat_col]
    elif isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        lon, lat = _geometry_xy(frame)
    else:
        absent = [c for c in (lon_col, lat_col) if c not in frame.columns]
        msg = (
            f"The points have no column {', '.join(map(repr, absent))} "
            f"(columns: {', '.join(map(str, frame.columns))}); name the coordinate columns."
        )
        raise InputError(msg)
    try:
        result = assign_points(
            index, lon=lon, lat=lat, snap_tolerance_m=snap_tolerance_m, placeholders=placeholders
        )
    except InputError as exc:
        if not has_columns:
            raise
        msg = f"Columns {lon_col!r}/{lat_col!r}: {exc}"
        raise InputError(msg) from None
    out = frame.copy()
    for column in ASSIGN_COLUMNS:
        out[column] = result[column].array
    return out


def _geometry_xy(frame: gpd.GeoDataFrame) -> tuple[FloatArray, FloatArray]:
    """Return lon/lat of point geometry (NaN for missing or empty), in EPSG:4326."""
    from .crs import require_crs

    geometry = frame.geometry
    if geometry.crs is None:
        require_crs(geometry.crs, STORAGE_CRS, what="points")
    kinds = set(geometry.geom_type.dropna().unique())
    if not kinds <= {"Point"}:
        msg = (
            f"The points' geometry must be Point, not {', '.join(sorted(kinds))}; "
            "give lon/lat columns or point geometry."
        )
        raise InputError(msg)
    geometry = geometry.to_crs(STORAGE_CRS)
    usable = ~(geometry.isna() | geometry.is_empty).to_numpy()
    lon = np.full(len(geometry), np.nan)
    lat = np.full(len(geometry), np.nan)
    lon[usable] = geometry.x.to_numpy()[usable] if usable.all() else geometry[usable].x.to_numpy()
    lat[usable] = geometry.y.to_numpy()[usable] if usable.all() else geometry[usable].y.to_numpy()
    return lon, lat


@lru_cache(maxsize=4)
def _cached_index(path: str, mtime_ns: int, size: int, cell_m: float) -> BoundaryIndex:
    from .boundaries import load_boundaries

    del mtime_ns, size  # parts of the cache key only
    return BoundaryIndex.from_boundaries(load_boundaries(path), cell_m=cell_m)


def load_index(
    directory: str | os.PathLike[str], *, cell_m: float = DEFAULT_CELL_M
) -> BoundaryIndex:
    """Load boundaries written by ``t137 boundaries import`` and build (or reuse) their index.

    The index is cached per boundary file, its modification time and size, so a process
    (such as the Dash server or a pipeline) builds it once and rebuilds it only when the
    file changes.

    Parameters
    ----------
    directory : path-like
        The boundary folder (or its ``boundaries.parquet``).
    cell_m : float, default 12.0
        Finest grid cell, in metres.

    Returns
    -------
    BoundaryIndex
        The index (shared: do not rely on its identity).

    Raises
    ------
    BoundaryError
        When there are no readable boundaries there.
    """
    from .boundaries import BOUNDARIES_FILE, load_boundaries

    path = Path(directory)
    file = path if path.suffix.lower() in {".parquet", ".geoparquet"} else path / BOUNDARIES_FILE
    if not file.exists():
        load_boundaries(path)  # raises the project's clear error
    stat = file.stat()
    return _cached_index(str(file.resolve()), stat.st_mtime_ns, stat.st_size, float(cell_m))


def summarize_assignment(frame: pd.DataFrame) -> dict[str, Any]:
    """Count the assignment outcomes: assigned (inside), snapped, swapped, outside, invalid.

    Parameters
    ----------
    frame : pandas.DataFrame
        The output of :func:`assign_points` or :func:`assign_frame`.

    Returns
    -------
    dict
        ``rows``, ``assigned``, ``snapped``, ``swapped``, ``outside``, ``invalid`` (disjoint,
        adding up to ``rows``) and ``invalid_reasons`` (``invalid`` split by reason).
    """
    precision = frame[s.GEOCODE_PRECISION].astype(object)
    reason = frame[REASON].astype(object)
    invalid = reason.isin(INVALID_REASONS)
    return {
        "rows": len(frame),
        "assigned": int((precision == "point").sum()),
        "snapped": int((precision == "snapped").sum()),
        "swapped": int((precision == "swapped").sum()),
        "outside": int((reason == "outside").sum()),
        "invalid": int(invalid.sum()),
        "invalid_reasons": {r: int((reason == r).sum()) for r in INVALID_REASONS},
    }
