"""A gazetteer of names for address geocoding: boundary names plus optional user places.

The gazetteer has two tables:

* ``names``: one row per matchable name: every neighborhood's ``name_fa`` and its aliases
  (the parts of compound names such as "ارگ _پامنار" or "صفائیه و چشمه علی"), and every
  row of the optional user gazetteer of streets and places. Each row carries the match key
  (:func:`geo.address.match_key`, spaces removed), the role it can match ("area" for
  neighborhoods and places, "street" for streets) and the codes of the area it lies in.
* ``areas``: one row per neighborhood and region code with its representative point
  (:func:`shapely.point_on_surface`, always inside the polygon) and its region code.

The user gazetteer is a CSV with columns ``name``, ``lon``, ``lat`` (EPSG:4326) and
optionally ``kind`` (free text such as street, hospital, park). A name that starts with a
street word (خیابان, کوچه, میدان, بلوار, ...) matches the street part of addresses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ingest import schema as s

from .address import ROLE_AREA, ROLE_STREET, STREET_WORDS, compact, match_key, parse_address
from .crs import STORAGE_CRS, require_crs
from .errors import InputError

#: Columns of :attr:`Gazetteer.names`.
NAME: Final = "name"
KEY: Final = "key"
ROLE: Final = "role"
PLACE_LEVEL: Final = "place"
IS_ALIAS: Final = "is_alias"
#: Columns a user gazetteer CSV must have.
PLACE_COLUMNS: Final = (NAME, s.LON, s.LAT)

_ALIAS_SPLIT = re.compile(r"\s*(?:[_/\-–،,]|\sو\s)\s*")
_MIN_ALIAS_CHARS: Final = 3
_SHAHRAK: Final = "شهرک "


@dataclass(frozen=True)
class Gazetteer:
    """Names to match and the areas they stand for.

    Attributes
    ----------
    names : pandas.DataFrame
        Columns ``name``, ``key``, ``role``, ``level`` (neighborhood or place), ``code``,
        ``is_alias``, ``lon``, ``lat``, ``neighborhood_code``, ``district_code``,
        ``region_code``. ``lon``/``lat`` are the representative point of a neighborhood or
        the point of a place, in EPSG:4326.
    areas : pandas.DataFrame
        Indexed by code; columns ``level``, ``name_fa``, ``lon``, ``lat`` (representative
        point), ``district_code``, ``region_code``.
    """

    names: pd.DataFrame
    areas: pd.DataFrame

    @property
    def naming_street_words(self) -> frozenset[str]:
        """Street words that begin some neighborhood name ("میدان" of "میدان ولیعصر")."""
        hoods = self.names[self.names[s.LEVEL] == s.LEVEL_NEIGHBORHOOD][NAME]
        first = {str(name).split()[0] for name in hoods if str(name).split()}
        return frozenset(first & set(STREET_WORDS))

    @property
    def n_places(self) -> int:
        """Number of user places (streets and points) in the gazetteer."""
        return int((self.names[s.LEVEL] == PLACE_LEVEL).sum())


def read_places(path: str | Path) -> pd.DataFrame:
    """Read a user gazetteer CSV of streets and places with coordinates.

    Parameters
    ----------
    path : str or Path
        A UTF-8 CSV with columns ``name``, ``lon``, ``lat`` (EPSG:4326) and optionally
        ``kind``.

    Returns
    -------
    pandas.DataFrame
        The rows, with ``lon``/``lat`` as float64.

    Raises
    ------
    InputError
        When a column is missing or a coordinate is not a number inside -180..180 / -90..90.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in PLACE_COLUMNS if c not in frame.columns]
    if missing:
        msg = (
            f"User gazetteer {path} lacks column(s) {', '.join(missing)}; "
            f"it needs {', '.join(PLACE_COLUMNS)} (lon/lat in EPSG:4326)."
        )
        raise InputError(msg)
    out = frame.copy()
    for col, bound in ((s.LON, 180.0), (s.LAT, 90.0)):
        values = pd.to_numeric(out[col], errors="coerce")
        bad = values.isna() | (values.abs() > bound)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
            msg = (
                f"User gazetteer {path}, line {row}, column {col}: {out[col].iloc[row - 2]!r} "
                f"is not a {col} in EPSG:4326; fix or remove the row."
            )
            raise InputError(msg)
        out[col] = values.astype("float64")
    return out


def build_gazetteer(boundaries: gpd.GeoDataFrame, places: pd.DataFrame | None = None) -> Gazetteer:
    """Build a gazetteer from a boundary layer and an optional table of user places.

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        The boundary model (:data:`ingest.schema.BOUNDARY_COLUMNS`) in EPSG:4326, with at
        least the neighborhood level. Region codes are found by following ``parent_code``.
    places : pandas.DataFrame, optional
        User streets and places with ``name``, ``lon``, ``lat`` (see :func:`read_places`).
        Each is placed in the neighborhood that contains it (codes stay null outside).

    Returns
    -------
    Gazetteer
        The names and areas to geocode against.

    Raises
    ------
    InputError
        When the layer has no neighborhood level or misses a boundary column.

    Examples
    --------
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> gaz = build_gazetteer(synthetic_boundaries(n_regions=2, n_neighborhoods=4, seed=1))
    >>> sorted(gaz.areas.index)[:3]
    ['1', '101', '102']
    """
    missing = [c for c in (s.LEVEL, s.CODE, s.NAME_FA, s.PARENT_CODE) if c not in boundaries]
    if missing:
        msg = f"Boundary layer lacks column(s) {', '.join(missing)}; load it with geo.boundaries."
        raise InputError(msg)
    require_crs(boundaries.crs, STORAGE_CRS, what="boundaries")
    areas = _areas(boundaries)
    hoods = areas[areas[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    if hoods.empty:
        msg = "Boundary layer has no neighborhood rows; the gazetteer needs level 'neighborhood'."
        raise InputError(msg)
    rows: list[dict[str, object]] = []
    for code, area in hoods.iterrows():
        name = str(area[s.NAME_FA])
        for alias, is_alias in _aliases(name):
            rows.append(
                {
                    NAME: name,
                    KEY: alias,
                    ROLE: ROLE_AREA,
                    s.LEVEL: s.LEVEL_NEIGHBORHOOD,
                    s.CODE: str(code),
                    IS_ALIAS: is_alias,
                    s.LON: area[s.LON],
                    s.LAT: area[s.LAT],
                    s.NEIGHBORHOOD_CODE: str(code),
                    s.DISTRICT_CODE: area[s.DISTRICT_CODE],
                    s.REGION_CODE: area[s.REGION_CODE],
                }
            )
    names = pd.DataFrame(rows)
    if places is not None and len(places):
        names = pd.concat([names, _place_rows(places, boundaries, areas)], ignore_index=True)
    names = names.drop_duplicates([KEY, ROLE, s.CODE]).reset_index(drop=True)
    return Gazetteer(names=names, areas=areas)


def _areas(boundaries: gpd.GeoDataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            s.LEVEL: boundaries[s.LEVEL].astype(str).to_numpy(),
            s.CODE: boundaries[s.CODE].astype(str).to_numpy(),
            s.NAME_FA: boundaries[s.NAME_FA].fillna("").astype(str).to_numpy(),
            s.PARENT_CODE: boundaries[s.PARENT_CODE].astype("string").to_numpy(),
        }
    )
    points = shapely.point_on_surface(boundaries.geometry.to_numpy())
    frame[s.LON] = shapely.get_x(points)
    frame[s.LAT] = shapely.get_y(points)
    frame = frame.drop_duplicates([s.LEVEL, s.CODE]).set_index(s.CODE)
    level_of = frame[s.LEVEL].to_dict()
    parent_of = frame[s.PARENT_CODE].to_dict()

    def ancestor(code: str, level: str) -> str | None:
        seen = 0
        current: object = code
        while isinstance(current, str) and seen < 8:
            if level_of.get(current) == level:
                return current
            current = parent_of.get(current)
            seen += 1
        return None

    frame[s.REGION_CODE] = [ancestor(c, s.LEVEL_REGION) for c in frame.index]
    frame[s.DISTRICT_CODE] = [ancestor(c, s.LEVEL_DISTRICT) for c in frame.index]
    return frame.drop(columns=[s.PARENT_CODE])


def _aliases(name: str) -> list[tuple[str, bool]]:
    """Return the compact keys of a name: the whole name, then its parts (aliases)."""
    out = [(compact(match_key(name)), False)]
    parts = [p for p in _ALIAS_SPLIT.split(name) if p.strip()]
    # "شهرک غزالی" is often written "غزالی".
    parts += [p[len(_SHAHRAK) :] for p in parts if p.startswith(_SHAHRAK)]
    if len(parts) > 1:
        for part in parts:
            key = compact(match_key(part))
            if len(key) >= _MIN_ALIAS_CHARS:
                out.append((key, True))
    return [(k, a) for k, a in out if k]


def _place_rows(
    places: pd.DataFrame, boundaries: gpd.GeoDataFrame, areas: pd.DataFrame
) -> pd.DataFrame:
    missing = [c for c in PLACE_COLUMNS if c not in places]
    if missing:
        msg = f"User places lack column(s) {', '.join(missing)}; use read_places() to load them."
        raise InputError(msg)
    hoods = boundaries[boundaries[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    lon = places[s.LON].to_numpy(dtype="float64")
    lat = places[s.LAT].to_numpy(dtype="float64")
    tree = shapely.STRtree(hoods.geometry.to_numpy())
    point_idx, hood_idx = tree.query(shapely.points(lon, lat), predicate="intersects")
    first = pd.Series(hood_idx).groupby(point_idx).min()
    hood_code = np.full(len(places), None, dtype=object)
    hood_code[first.index.to_numpy()] = hoods[s.CODE].astype(str).to_numpy()[first.to_numpy()]
    rows: list[dict[str, object]] = []
    for i, name in enumerate(places[NAME].astype(str)):
        parts = parse_address(name)
        if not parts.components:
            continue
        lead = parts.components[0]
        role = ROLE_STREET if lead.role == ROLE_STREET else ROLE_AREA
        code = hood_code[i]
        rows.append(
            {
                NAME: name,
                KEY: compact(lead.key),
                ROLE: role,
                s.LEVEL: PLACE_LEVEL,
                s.CODE: f"place:{i}",
                IS_ALIAS: False,
                s.LON: lon[i],
                s.LAT: lat[i],
                s.NEIGHBORHOOD_CODE: code,
                s.DISTRICT_CODE: areas[s.DISTRICT_CODE].get(code) if code else None,
                s.REGION_CODE: areas[s.REGION_CODE].get(code) if code else None,
            }
        )
    return pd.DataFrame(rows)
