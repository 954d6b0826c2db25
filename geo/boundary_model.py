"""The boundary model of DESIGN.md §3: levels, codes, names, checks and canonical order.

One table holds every level: ``level`` (region, district, neighborhood), ``code`` (str),
``name_fa``, ``name_en``, ``parent_code`` (str or None), ``population`` (nullable Int64) and
a polygonal geometry in EPSG:4326. Codes are unique within a level, and a ``parent_code``
names a feature of the next coarser level present in the table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from ingest import schema as s

from .crs import STORAGE_CRS, require_crs
from .errors import BoundaryError
from .persian import normalize_digits, normalize_text

#: How each level is called, in Persian and in English (for names made up by a dissolve).
LEVEL_NAMES_FA: Final = {
    s.LEVEL_REGION: "منطقه",
    s.LEVEL_DISTRICT: "ناحیه",
    s.LEVEL_NEIGHBORHOOD: "محله",
}
LEVEL_NAMES_EN: Final = {
    s.LEVEL_REGION: "Region",
    s.LEVEL_DISTRICT: "District",
    s.LEVEL_NEIGHBORHOOD: "Neighborhood",
}
POLYGONAL: Final = ("Polygon", "MultiPolygon")


def level_rank(level: str) -> int:
    """Return the position of ``level`` from the coarsest (0, region) to the finest.

    Parameters
    ----------
    level : str
        One of :data:`ingest.schema.LEVELS`.

    Returns
    -------
    int
        0 for region, 1 for district, 2 for neighborhood.

    Examples
    --------
    >>> level_rank("neighborhood")
    2
    """
    check_level(level)
    return s.LEVELS.index(level)


def check_level(level: str, *, what: str = "level") -> str:
    """Return ``level`` when it is a known level, else raise :class:`BoundaryError`."""
    if level not in s.LEVELS:
        msg = f"Unknown {what} {level!r}; use one of {', '.join(s.LEVELS)}."
        raise BoundaryError(msg)
    return level


def levels_present(frame: pd.DataFrame) -> list[str]:
    """Return the levels found in ``frame``, from the coarsest to the finest."""
    found = set(frame[s.LEVEL].dropna().unique())
    return [level for level in s.LEVELS if level in found]


def coarser_present(levels: Sequence[str], level: str) -> str | None:
    """Return the level just coarser than ``level`` among ``levels``, or None."""
    coarser = [other for other in levels if level_rank(other) < level_rank(level)]
    return max(coarser, key=level_rank) if coarser else None


def normalize_codes(values: pd.Series) -> pd.Series:
    """Turn codes of any type into stripped strings with ASCII digits; missing ones into None.

    Integral floats lose their ``.0`` (``101.0`` → ``"101"``), because shapefile readers
    often give integer fields as floats.

    Parameters
    ----------
    values : pandas.Series
        Codes as read (int, float, str or object).

    Returns
    -------
    pandas.Series
        Object dtype, each value a non-empty str or None, on the same index.

    Examples
    --------
    >>> normalize_codes(pd.Series([101, None, 102.0])).tolist()
    ['101', None, '102']
    >>> normalize_codes(pd.Series([" ۱۲ ", ""])).tolist()
    ['12', None]
    """
    out: list[str | None] = []
    for value in values.tolist():
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            out.append(None)
        elif isinstance(value, float | np.floating) and float(value).is_integer():
            out.append(str(int(value)))
        else:
            text = normalize_digits(str(value)).strip()
            out.append(text or None)
    return pd.Series(out, index=values.index, dtype=object)


def normalize_names(values: pd.Series) -> pd.Series:
    """Normalize names with :func:`geo.persian.normalize_text`; missing or blank ones become None.

    Examples
    --------
    >>> normalize_names(pd.Series(["شهرك غرب", " ", None])).tolist()
    ['شهرک غرب', None, None]
    """
    out: list[str | None] = []
    for value in values.tolist():
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            out.append(None)
        else:
            text = normalize_text(str(value))
            out.append(text or None)
    return pd.Series(out, index=values.index, dtype=object)


def make_frame(
    *,
    level: Sequence[str] | str,
    code: pd.Series,
    name_fa: pd.Series | None,
    name_en: pd.Series | None,
    parent_code: pd.Series | None,
    population: pd.Series | None,
    geometry: Iterable[BaseGeometry | None] | np.ndarray,
    crs: object = STORAGE_CRS,
) -> gpd.GeoDataFrame:
    """Assemble a frame in the boundary model from columns already normalized.

    Missing optional columns become all-None (names, parent code) or all-NA (population).
    """
    index = pd.RangeIndex(len(code))
    nothing = pd.Series([None] * len(code), index=index, dtype=object)
    data = pd.DataFrame(
        {
            s.LEVEL: list(level) if not isinstance(level, str) else [level] * len(code),
            s.CODE: code.to_numpy(dtype=object),
            s.NAME_FA: (nothing if name_fa is None else name_fa).to_numpy(dtype=object),
            s.NAME_EN: (nothing if name_en is None else name_en).to_numpy(dtype=object),
            s.PARENT_CODE: (nothing if parent_code is None else parent_code).to_numpy(dtype=object),
            s.POPULATION: pd.array(
                [pd.NA] * len(code) if population is None else population.to_numpy(),
                dtype="Int64",
            ),
        },
        index=index,
    )
    return gpd.GeoDataFrame(data, geometry=list(geometry), crs=crs)


def empty_frame() -> gpd.GeoDataFrame:
    """Return an empty frame in the boundary model."""
    return make_frame(
        level=[],
        code=pd.Series([], dtype=object),
        name_fa=None,
        name_en=None,
        parent_code=None,
        population=None,
        geometry=[],
    )


def canonical_order(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sort by level (coarsest first) then code (numerically where codes are numbers).

    Returns a new frame with a fresh RangeIndex and the columns of the boundary model.
    """
    rank = frame[s.LEVEL].map({level: i for i, level in enumerate(s.LEVELS)})
    numeric = pd.to_numeric(frame[s.CODE], errors="coerce")
    keys = pd.DataFrame(
        {"rank": rank, "numeric": numeric, "code": frame[s.CODE].astype(str)}, index=frame.index
    )
    order = keys.sort_values(["rank", "numeric", "code"], na_position="last").index
    out = frame.loc[order, list(s.BOUNDARY_COLUMNS)].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry=s.GEOMETRY, crs=frame.crs)


def require_model(frame: object, *, what: str = "boundaries") -> gpd.GeoDataFrame:
    """Raise :class:`BoundaryError` unless ``frame`` is a GeoDataFrame in the boundary model.

    Checks the type, the columns, the CRS (EPSG:4326) and the level names; returns the frame.
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{what} must be a GeoDataFrame, not {type(frame).__name__}."
        raise BoundaryError(msg)
    missing = [column for column in s.BOUNDARY_COLUMNS if column not in frame.columns]
    if missing:
        msg = (
            f"{what} lacks the boundary-model columns {', '.join(missing)}; "
            "read the layer with geo.boundaries.read_boundaries first."
        )
        raise BoundaryError(msg)
    require_crs(frame.crs, STORAGE_CRS, what=what)
    unknown = sorted(set(frame[s.LEVEL].dropna().unique()) - set(s.LEVELS))
    if unknown or frame[s.LEVEL].isna().any():
        shown = ", ".join(map(repr, unknown)) if unknown else "empty"
        msg = f"{what} has level values {shown}; use only {', '.join(s.LEVELS)}."
        raise BoundaryError(msg)
    return frame


def require_consistent(frame: gpd.GeoDataFrame, *, what: str = "boundaries") -> None:
    """Raise :class:`BoundaryError` unless codes are present and unique per level and parents exist.

    This is what a hierarchy must satisfy before it is written or used for assignment.
    """
    require_model(frame, what=what)
    if frame[s.CODE].isna().any():
        count = int(frame[s.CODE].isna().sum())
        msg = f"{what} has {count} feature(s) without a code; every feature needs one."
        raise BoundaryError(msg)
    duplicated = frame.loc[frame.duplicated([s.LEVEL, s.CODE], keep=False), [s.LEVEL, s.CODE]]
    if len(duplicated):
        shown = ", ".join(sorted({f"{lv} {cd}" for lv, cd in duplicated.itertuples(index=False)}))
        msg = f"{what} has duplicate codes ({shown[:200]}); codes must be unique within a level."
        raise BoundaryError(msg)
    present = levels_present(frame)
    for level in present:
        rows = frame[frame[s.LEVEL] == level]
        parent_level = coarser_present(present, level)
        parents = rows[s.PARENT_CODE].dropna()
        if parent_level is None:
            if len(parents):
                msg = (
                    f"{what}: {len(parents)} {level} feature(s) have a parent_code but the table "
                    "has no coarser level; drop the parent codes or add the parent layer."
                )
                raise BoundaryError(msg)
            continue
        known = set(frame.loc[frame[s.LEVEL] == parent_level, s.CODE])
        dangling = sorted(set(parents) - known)
        if dangling:
            msg = (
                f"{what}: {level} parent codes {', '.join(dangling[:10])} are not "
                f"{parent_level} codes; fix the parent field or the parent layer."
            )
            raise BoundaryError(msg)


def polygonal_part(geometry: BaseGeometry | None) -> BaseGeometry | None:
    """Return the polygonal part of a geometry (Polygon or MultiPolygon), or None when it has none.

    Examples
    --------
    >>> collection = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)])
    >>> polygonal_part(collection).geom_type
    'Polygon'
    >>> polygonal_part(shapely.LineString([(0, 0), (1, 1)])) is None
    True
    """
    if geometry is None or geometry.is_empty:
        return None
    if geometry.geom_type in POLYGONAL:
        return geometry
    polygons: list[shapely.Polygon] = []
    for part in shapely.get_parts(geometry):
        found = polygonal_part(part) if part.geom_type == "GeometryCollection" else part
        if found is not None and found.geom_type in POLYGONAL and not found.is_empty:
            polygons.extend(p for p in shapely.get_parts(found) if isinstance(p, shapely.Polygon))
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
