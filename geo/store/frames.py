"""Coerce and validate the frames a store accepts: cases, events, boundaries, quarantine.

Every write goes through one of the ``canonical_*`` functions, so both backends store the
same values and every reader gets the same dtypes back:

* strings are ``object`` columns of ``str`` (``None`` where missing);
* the categorical columns of :data:`ingest.schema.CATEGORICAL_COLUMNS` are ``category``;
  those with a vocabulary (channel, kind, status, citizen feedback, geocode precision)
  have exactly the vocabulary as categories, the others their sorted values;
* timestamps are ``datetime64[ns, UTC]`` truncated to whole microseconds (PostgreSQL's
  resolution, so that both backends hold the same instants);
* ``satisfaction`` is ``Int8`` (1–5), ``reopen_count`` is ``Int16`` (0 or more);
* ``lon``/``lat`` are ``float64`` degrees in EPSG:4326 and the geometry is always
  ``POINT(lon lat)``, or missing when either coordinate is.

Inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ingest import schema as s

from ..crs import STORAGE_CRS, require_crs
from ..errors import BoundaryError, InputError

#: Categorical columns with a fixed vocabulary: their categories are the vocabulary.
VOCABULARIES: Final[Mapping[str, tuple[str, ...]]] = {
    s.CHANNEL: s.CHANNELS,
    s.KIND: s.KINDS,
    s.STATUS: s.STATUSES,
    s.CITIZEN_FEEDBACK: s.FEEDBACKS,
    s.GEOCODE_PRECISION: s.GEOCODE_PRECISIONS,
}
UTC: Final = "UTC"
TIMESTAMP_DTYPE: Final = pd.DatetimeTZDtype("ns", UTC)
INT_DTYPES: Final[Mapping[str, str]] = {s.SATISFACTION: "Int8", s.REOPEN_COUNT: "Int16"}
INT_RANGES: Final[Mapping[str, tuple[int, int]]] = {
    s.SATISFACTION: (1, 5),
    s.REOPEN_COUNT: (0, 32_767),
}
EVENT_REQUIRED: Final = (s.SOURCE, s.CASE_ID, s.EVENT_AT, s.EVENT)
EVENT_CATEGORICAL: Final = (s.EVENT, s.EVENT_UNIT)
BOUNDARY_REQUIRED: Final = (s.LEVEL, s.CODE, s.GEOMETRY)
QUARANTINE_REQUIRED: Final = (s.Q_SOURCE_FILE, s.Q_REASON)


def _label(frame: pd.DataFrame, position: int) -> object:
    return frame.index[position]


def require_columns(frame: pd.DataFrame, required: Iterable[str], *, what: str) -> None:
    """Raise :class:`InputError` naming every column of ``required`` absent from ``frame``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The frame to check.
    required : iterable of str
        Column names that must be present.
    what : str
        What the frame holds, for the message (``"cases"``).
    """
    if not isinstance(frame, pd.DataFrame):
        msg = f"{what} must be a pandas DataFrame, not {type(frame).__name__}."
        raise InputError(msg)
    missing = [name for name in required if name not in frame.columns]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        msg = (
            f"{what} lacks the required column(s) {names}; add them "
            "(the canonical names are in ingest.schema)."
        )
        raise InputError(msg)


def require_present(frame: pd.DataFrame, columns: Iterable[str], *, what: str) -> None:
    """Raise :class:`InputError` at the first missing value of any of ``columns``."""
    names = list(columns)
    _require_present_columns(frame, {name: frame[name] for name in names}, names, what=what)


def _require_present_columns(
    frame: pd.DataFrame, columns: Mapping[str, pd.Series], names: Iterable[str], *, what: str
) -> None:
    """:func:`require_present` on ``columns`` (aligned with ``frame``), without a new frame."""
    for name in names:
        missing = columns[name].isna().to_numpy()
        if missing.any():
            row = _label(frame, int(np.argmax(missing)))
            msg = (
                f"{what} has no value in required column {name!r} at row {row!r} "
                f"({int(missing.sum())} rows in all); fill it or quarantine those rows."
            )
            raise InputError(msg)


def as_strings(column: pd.Series, *, what: str) -> pd.Series:
    """Return ``column`` as an ``object`` column of ``str`` with ``None`` where missing."""
    kind = pd.api.types.infer_dtype(column, skipna=True)
    if kind in ("string", "empty") and column.dtype == object:
        # text already: one copy, with None for every kind of missing value
        text = column.to_numpy(dtype=object, copy=True)
        absent = pd.isna(text)
        if absent.any():
            text[absent] = None
        return pd.Series(text, index=column.index, name=column.name, copy=False)
    missing = column.isna().to_numpy()
    if isinstance(column.dtype, pd.CategoricalDtype):
        out = column.astype(str).astype(object)
    elif kind in ("bytes", "mixed") or pd.api.types.is_float_dtype(column.dtype):
        # Floats such as 101.0 would become "101.0": refuse rather than guess.
        if pd.api.types.is_float_dtype(column.dtype) and not missing.all():
            values = column.to_numpy(dtype="float64", na_value=np.nan)
            whole = np.isnan(values) | (values == np.round(values))
            if whole.all():
                return as_strings(column.astype("Int64"), what=what)
        row = _label(column.to_frame(), int(np.argmax(~missing)))
        msg = (
            f"{what} column {column.name!r} must hold text but holds {kind} values "
            f"(first at row {row!r}); convert it to str first."
        )
        raise InputError(msg)
    else:
        out = column.astype("string").astype(object)
    if missing.any():
        out = out.astype(object)
        out[missing] = None
    return out.astype(object)


def as_category(column: pd.Series, *, what: str, vocabulary: tuple[str, ...] | None) -> pd.Series:
    """Return ``column`` as ``category``; values outside ``vocabulary`` are refused."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        used = np.bincount(codes + 1, minlength=len(column.cat.categories) + 1)[1:] > 0
        cat = column if used.all() else column.cat.remove_unused_categories()
        if not all(isinstance(c, str) for c in cat.cat.categories):
            cat = cat.cat.rename_categories([str(c) for c in cat.cat.categories])
    else:
        cat = as_strings(column, what=what).astype("category")
    if vocabulary is None:
        ordered = sorted(cat.cat.categories)
        if list(cat.cat.categories) != ordered:
            cat = cat.cat.reorder_categories(ordered)
        return cat
    unknown = [c for c in cat.cat.categories if c not in vocabulary]
    if unknown:
        first = np.flatnonzero(cat.isin(unknown).to_numpy())[0]
        msg = (
            f"{what} column {column.name!r} holds {unknown[0]!r} at row "
            f"{_label(column.to_frame(), int(first))!r}, which is not one of "
            f"{', '.join(vocabulary)}; map it to the vocabulary of ingest.schema first."
        )
        raise InputError(msg)
    return cat.cat.set_categories(list(vocabulary))


_OFFSET: Final = r"(?:Z|z|[+-]\d\d(?::?\d\d)?)$"


def _parse_instants(column: pd.Series, *, what: str) -> pd.Series | None:
    """Parse an object column of datetimes or ISO 8601 text; None when any value is naive.

    Values may carry different offsets (Asia/Tehran and UTC in one column).
    """
    present = column.dropna()
    kind = pd.api.types.infer_dtype(present, skipna=True)
    if kind in ("datetime", "datetime64"):
        if any(getattr(value, "tzinfo", None) is None for value in present.tolist()):
            return None
    elif kind == "string":
        if not present.str.strip().str.contains(_OFFSET, regex=True).all():
            return None
    else:
        msg = (
            f"{what} column {column.name!r} holds {kind} values, not timestamps; give ISO "
            "8601 text with an offset or time zone-aware datetimes."
        )
        raise InputError(msg)
    try:
        return pd.to_datetime(column, format="ISO8601" if kind == "string" else None, utc=True)
    except (ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0]
        msg = (
            f"{what} column {column.name!r} holds values that are not timestamps ({first}); "
            "give ISO 8601 text with an offset or time zone-aware datetimes."
        )
        raise InputError(msg) from None


def as_utc(column: pd.Series, *, what: str) -> pd.Series:
    """Return ``column`` as ``datetime64[ns, UTC]`` truncated to microseconds.

    Naive timestamps are refused: their time zone is unknown.
    """
    values: pd.Series | None = column
    if not isinstance(column.dtype, pd.DatetimeTZDtype):
        if column.isna().all():  # nothing to localize (``frame[col] = pd.NaT`` is naive)
            return pd.Series(pd.NaT, index=column.index, dtype=TIMESTAMP_DTYPE, name=column.name)
        if pd.api.types.is_datetime64_dtype(column.dtype):
            values = None  # naive
        else:
            values = _parse_instants(column, what=what)
        if values is None:
            msg = (
                f"{what} column {column.name!r} holds naive timestamps; localize them first, "
                "for example `.dt.tz_localize('Asia/Tehran')`."
            )
            raise InputError(msg)
    if values is None:  # pragma: no cover - handled above
        msg = f"{what} column {column.name!r} holds no timestamps."
        raise InputError(msg)
    out: pd.Series = values.dt.tz_convert(UTC).astype(TIMESTAMP_DTYPE)
    nanos = out.array.asi8
    if ((nanos % 1000 != 0) & (nanos != np.iinfo(np.int64).min)).any():  # NaT aside
        out = out.dt.floor("us")
    else:
        out = out.copy()  # the caller gets its own data, as floor would give
    out.name = column.name
    return out


def as_small_int(column: pd.Series, *, what: str) -> pd.Series:
    """Return ``column`` as its nullable integer dtype, refusing fractions and out-of-range."""
    name = str(column.name)
    low, high = INT_RANGES[name]
    numeric = pd.to_numeric(column, errors="coerce")
    bad = (numeric.isna() & column.notna()).to_numpy()
    values = numeric.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        bad |= ~np.isnan(values) & ((values != np.round(values)) | (values < low) | (values > high))
    if bad.any():
        row = _label(column.to_frame(), int(np.argmax(bad)))
        msg = (
            f"{what} column {name!r} holds {column.iloc[int(np.argmax(bad))]!r} at row {row!r}; "
            f"it must be a whole number from {low} to {high} or empty."
        )
        raise InputError(msg)
    result: pd.Series = numeric.astype("Float64").astype(
        pd.api.types.pandas_dtype(INT_DTYPES[name])
    )
    return result


def _coordinates(frame: pd.DataFrame, *, what: str) -> tuple[pd.Series, pd.Series]:
    """Return lon/lat as float64, from the columns or else from point geometry."""
    if s.LON in frame.columns and s.LAT in frame.columns:
        lon = pd.to_numeric(frame[s.LON], errors="coerce").astype("float64")
        lat = pd.to_numeric(frame[s.LAT], errors="coerce").astype("float64")
        for name, parsed in ((s.LON, lon), (s.LAT, lat)):
            bad = (parsed.isna() & frame[name].notna()).to_numpy()
            if bad.any():
                row = _label(frame, int(np.argmax(bad)))
                msg = f"{what} column {name!r} holds a non-number at row {row!r}; fix or clear it."
                raise InputError(msg)
    elif isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        geoms = frame.geometry.to_numpy()
        kinds = shapely.get_type_id(geoms)
        bad = (kinds != 0) & ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        if bad.any():
            row = _label(frame, int(np.argmax(bad)))
            msg = f"{what} geometry at row {row!r} is not a point; cases are located by points."
            raise InputError(msg)
        lon = pd.Series(shapely.get_x(geoms), index=frame.index, dtype="float64")
        lat = pd.Series(shapely.get_y(geoms), index=frame.index, dtype="float64")
    else:
        nan = pd.Series(np.nan, index=frame.index, dtype="float64")
        return nan, nan.copy()
    half = lon.isna().to_numpy() != lat.isna().to_numpy()
    if half.any():
        row = _label(frame, int(np.argmax(half)))
        msg = f"{what} has only one of lon/lat at row {row!r}; give both or neither."
        raise InputError(msg)
    with np.errstate(invalid="ignore"):
        outside = (lon.abs() > 180).to_numpy() | (lat.abs() > 90).to_numpy()
    if outside.any():
        i = int(np.argmax(outside))
        msg = (
            f"{what} has lon={lon.iloc[i]!r}, lat={lat.iloc[i]!r} at row {_label(frame, i)!r}, "
            "outside the range of degrees; lon/lat must be EPSG:4326 degrees (x = lon)."
        )
        raise InputError(msg)
    return lon, lat


def point_geometry(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Return ``POINT(lon lat)`` geometries, missing where either coordinate is NaN."""
    points = np.asarray(shapely.points(lon, lat), dtype=object)
    points[np.isnan(lon) | np.isnan(lat)] = None
    return points


def _check_crs(frame: pd.DataFrame, *, what: str) -> None:
    if isinstance(frame, gpd.GeoDataFrame) and frame._geometry_column_name in frame.columns:
        require_crs(frame.crs, STORAGE_CRS, what=what)


def case_columns(frame: pd.DataFrame, *, what: str = "cases") -> pd.DataFrame:
    """Validate ``frame`` and return the canonical case columns, without geometry.

    This is :func:`canonical_cases` without building shapely points, for the write path
    (the stores derive the geometry from ``lon``/``lat``).
    """
    require_columns(frame, s.REQUIRED_CASE_COLUMNS, what=what)
    _check_crs(frame, what=what)
    lon, lat = _coordinates(frame, what=what)
    index = pd.RangeIndex(len(frame))
    out: dict[str, pd.Series] = {}
    for name in s.CASE_COLUMNS:
        if name in (s.LON, s.LAT):
            continue
        if name not in frame.columns:
            out[name] = pd.Series(None, index=frame.index, dtype=object, name=name)
        else:
            out[name] = frame[name]
    _require_present_columns(frame, out, s.REQUIRED_CASE_COLUMNS, what=what)
    columns: dict[str, pd.Series] = {}
    for name in s.CASE_COLUMNS:
        if name == s.LON:
            column = lon
        elif name == s.LAT:
            column = lat
        elif name in s.TIMESTAMP_COLUMNS:
            column = as_utc(out[name], what=what)
        elif name in s.CATEGORICAL_COLUMNS:
            column = as_category(out[name], what=what, vocabulary=VOCABULARIES.get(name))
        elif name in INT_DTYPES:
            column = as_small_int(out[name], what=what)
        else:
            column = as_strings(out[name], what=what)
        # positional: the checks above return new arrays, so no copy is needed here
        columns[name] = pd.Series(column.array, index=index, name=name, copy=False)
    # no consolidation into 2-D blocks either: on a million rows that copy costs as much as
    # all the checks above
    return pd.DataFrame(columns, index=index, copy=False)


def with_geometry(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return canonical case columns as a GeoDataFrame with ``POINT(lon lat)`` geometry."""
    geometry = point_geometry(frame[s.LON].to_numpy(), frame[s.LAT].to_numpy())
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=STORAGE_CRS, index=frame.index)


def canonical_events(frame: pd.DataFrame, *, what: str = "case events") -> pd.DataFrame:
    """Validate ``frame`` and return a copy in the case-event model.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns of :data:`ingest.schema.EVENT_COLUMNS`; ``unit`` and ``note`` may be absent.
    what : str, default "case events"
        Name of the frame in error messages.

    Returns
    -------
    pandas.DataFrame
        ``source``, ``case_id`` and ``note`` as text, ``at`` as UTC timestamps, ``event``
        and ``unit`` as categories.
    """
    require_columns(frame, EVENT_REQUIRED, what=what)
    require_present(frame, EVENT_REQUIRED, what=what)
    index = pd.RangeIndex(len(frame))
    columns: dict[str, object] = {}
    for name in s.EVENT_COLUMNS:
        raw = (
            frame[name]
            if name in frame.columns
            else pd.Series(None, index=frame.index, dtype=object, name=name)
        )
        if name == s.EVENT_AT:
            column = as_utc(raw, what=what)
        elif name in EVENT_CATEGORICAL:
            column = as_category(raw, what=what, vocabulary=None)
        else:
            column = as_strings(raw, what=what)
        columns[name] = (
            column.array if not isinstance(column.dtype, np.dtype) else column.to_numpy()
        )
    return pd.DataFrame(columns, index=index)


def canonical_quarantine(
    frame: pd.DataFrame, *, run_id: str | None = None, what: str = "quarantine"
) -> pd.DataFrame:
    """Validate ``frame`` and return a copy in the quarantine model.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns of :data:`ingest.schema.QUARANTINE_COLUMNS`. ``raw`` is the original row
        as JSON text. ``run_id`` may be absent when given as an argument.
    run_id : str, optional
        Fills missing ``run_id`` values.
    what : str, default "quarantine"
        Name of the frame in error messages.

    Returns
    -------
    pandas.DataFrame
        Text columns, and ``row_number`` as ``Int64``.
    """
    require_columns(frame, QUARANTINE_REQUIRED, what=what)
    index = pd.RangeIndex(len(frame))
    columns: dict[str, object] = {}
    for name in s.QUARANTINE_COLUMNS:
        raw = (
            frame[name]
            if name in frame.columns
            else pd.Series(None, index=frame.index, dtype=object, name=name)
        )
        if name == s.Q_ROW_NUMBER:
            number = pd.to_numeric(raw, errors="coerce")
            if (number.isna() & raw.notna()).any():
                msg = f"{what} column {name!r} must hold whole row numbers."
                raise InputError(msg)
            columns[name] = number.astype("Float64").astype("Int64").array
            continue
        column = as_strings(raw, what=what)
        if name == s.Q_RUN_ID and run_id is not None:
            column = column.where(column.notna(), run_id)
        columns[name] = column.to_numpy()
    out = pd.DataFrame(columns, index=index)
    require_present(out, (s.Q_RUN_ID, *QUARANTINE_REQUIRED), what=what)
    return out


def canonical_boundaries(frame: pd.DataFrame, *, what: str = "boundaries") -> gpd.GeoDataFrame:
    """Validate ``frame`` and return a copy in the boundary model.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Columns of :data:`ingest.schema.BOUNDARY_COLUMNS` in EPSG:4326; ``name_fa``,
        ``name_en``, ``parent_code`` and ``population`` may be absent.
    what : str, default "boundaries"
        Name of the frame in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Text columns, ``population`` as ``Int64`` and MultiPolygon geometry (polygons are
        promoted), EPSG:4326.

    Raises
    ------
    geo.errors.BoundaryError
        A level is unknown, a (level, code) pair repeats, or a geometry is not polygonal.
    geo.errors.CRSError
        The layer is in a CRS other than EPSG:4326.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{what} must be a GeoDataFrame with polygon geometry in EPSG:4326."
        raise BoundaryError(msg)
    require_columns(frame, (s.LEVEL, s.CODE), what=what)
    require_crs(frame.crs, STORAGE_CRS, what=what)
    require_present(frame, (s.LEVEL, s.CODE), what=what)
    index = pd.RangeIndex(len(frame))
    columns: dict[str, object] = {}
    for name in s.BOUNDARY_COLUMNS:
        if name == s.GEOMETRY:
            continue
        raw = (
            frame[name]
            if name in frame.columns
            else pd.Series(None, index=frame.index, dtype=object, name=name)
        )
        if name == s.POPULATION:
            columns[name] = (
                pd.to_numeric(raw, errors="coerce").astype("Float64").astype("Int64").array
            )
        else:
            columns[name] = as_strings(raw, what=what).to_numpy()
    out = pd.DataFrame(columns, index=index)
    unknown = ~out[s.LEVEL].isin(s.LEVELS).to_numpy()
    if unknown.any():
        i = int(np.argmax(unknown))
        levels = ", ".join(s.LEVELS)
        msg = f"{what} has level {out[s.LEVEL].iloc[i]!r} at row {i}; use one of {levels}."
        raise BoundaryError(msg)
    repeated = out.duplicated(subset=[s.LEVEL, s.CODE]).to_numpy()
    if repeated.any():
        i = int(np.argmax(repeated))
        msg = (
            f"{what} repeats {out[s.LEVEL].iloc[i]} code {out[s.CODE].iloc[i]!r} (row {i}); "
            "codes must be unique per level."
        )
        raise BoundaryError(msg)
    geoms = frame.geometry.to_numpy()
    kinds = shapely.get_type_id(geoms)
    bad = ~np.isin(kinds, (3, 6))
    if bad.any():
        i = int(np.argmax(bad))
        msg = (
            f"{what} geometry of {out[s.LEVEL].iloc[i]} {out[s.CODE].iloc[i]!r} "
            "is not a polygon; fix the layer."
        )
        raise BoundaryError(msg)
    multi = np.array(
        [g if k == 6 else shapely.MultiPolygon([g]) for g, k in zip(geoms, kinds, strict=True)],
        dtype=object,
    )
    return gpd.GeoDataFrame(out, geometry=multi, crs=STORAGE_CRS)


def empty_cases() -> gpd.GeoDataFrame:
    """Return an empty frame in the canonical case model."""
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in s.REQUIRED_CASE_COLUMNS})
    frame[s.CREATED_AT] = pd.Series(dtype=TIMESTAMP_DTYPE)
    return canonical_cases(frame)


def canonical_cases(frame: pd.DataFrame, *, what: str = "cases") -> gpd.GeoDataFrame:
    """Validate ``frame`` and return a copy in the canonical case model.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        Cases with at least :data:`ingest.schema.REQUIRED_CASE_COLUMNS`. Absent optional
        columns become missing values; columns outside the model are dropped. When
        ``lon``/``lat`` are absent they are taken from point geometry, which must then be
        in EPSG:4326.
    what : str, default "cases"
        Name of the frame in error messages.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of :data:`ingest.schema.CASE_COLUMNS` plus ``geometry``, canonical dtypes,
        EPSG:4326, a fresh ``RangeIndex``.

    Raises
    ------
    geo.errors.InputError
        A required column or value is missing, a value is outside its vocabulary or
        range, a timestamp is naive, or coordinates are not degrees.
    geo.errors.CRSError
        The geometry is in a CRS other than EPSG:4326 (the message names both).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"case_id": ["1"], "source": ["synthetic"], "kind": ["complaint"],
    ...                     "created_at": [pd.Timestamp("2024-01-01 08:00", tz="Asia/Tehran")],
    ...                     "status": ["registered"], "lon": [51.4], "lat": [35.7]})
    >>> cases = canonical_cases(raw)
    >>> str(cases["created_at"].iloc[0]), cases.geometry.iloc[0].wkt
    ('2024-01-01 04:30:00+00:00', 'POINT (51.4 35.7)')
    """
    return with_geometry(case_columns(frame, what=what))


def require_unique_keys(frame: pd.DataFrame, key: Iterable[str], *, what: str) -> None:
    """Raise :class:`InputError` when two rows of ``frame`` share the same ``key`` values.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows to check (such as canonical cases with the key (source, case_id)).
    key : iterable of str
        The key columns.
    what : str
        What the frame holds, for the message.
    """
    columns = list(key)
    if not _may_repeat(frame, columns):
        return
    repeated = frame.duplicated(subset=columns, keep="first").to_numpy()
    if repeated.any():
        i = int(np.argmax(repeated))
        shown = ", ".join(f"{name}={frame[name].iloc[i]!r}" for name in columns)
        msg = (
            f"{what} repeats the key ({shown}) at row {_label(frame, i)!r} "
            f"({int(repeated.sum())} repeats in all); keep one row per key."
        )
        raise InputError(msg)


def _may_repeat(frame: pd.DataFrame, columns: list[str]) -> bool:
    """Return False when the rows' ``columns`` are surely distinct (a quick hash test).

    One 64-bit hash per row and a sort: equal hashes are rare, and only when some occur
    does the caller look for repeats exactly (``DataFrame.duplicated`` hashes every text
    object into a table, several times slower on millions of rows).
    """
    if len(frame) < 2:
        return False
    combined = np.zeros(len(frame), dtype=np.uint64)
    for name in columns:
        values = frame[name].to_numpy(dtype=object)
        if values[0] is not None and bool((values == values[0]).all()):
            continue  # one value throughout (a batch's source): it separates no rows
        try:
            hashed = pd.util.hash_array(values, categorize=False)
        except (TypeError, ValueError):  # not all text: let the exact test decide
            return True
        combined = combined * np.uint64(0x9E3779B97F4A7C15) + hashed
    combined.sort()
    return bool((combined[1:] == combined[:-1]).any())
