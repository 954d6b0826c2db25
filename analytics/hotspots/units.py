"""Spatial units of the Gi* estimators: neighborhoods or H3 cells, with their adjacency.

A :class:`SpatialUnits` holds the units' codes, outlines (EPSG:32639), areas, optional
populations and neighbours, and assigns cases to units. Neighborhoods are adjacent by queen
contiguity (libpysal, sharing at least a vertex); H3 cells by ``grid_ring(·, 1)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.errors import CRSError, InputError
from ingest import schema as s

from .grid import F64, I64, metric_xy, to_lonlat
from .h3cells import cell_neighbors, cell_polygons, cell_strings, latlng_to_cells

Level = Literal["neighborhood", "h3"]


@dataclass(frozen=True)
class SpatialUnits:
    """The units cases are counted in.

    Attributes
    ----------
    level : {"neighborhood", "h3"}
        What the units are.
    codes : list of str
        Neighborhood codes, or H3 cells as hexadecimal strings.
    geometry : geopandas.GeoSeries
        The units' outlines, EPSG:32639.
    population : numpy.ndarray
        Residents per unit (NaN where unknown).
    neighbors : dict
        Positions of each unit's adjacent units (itself excluded).
    resolution : int
        H3 resolution (H3 units only).
    """

    level: Level
    codes: list[str]
    geometry: gpd.GeoSeries
    population: F64
    neighbors: dict[int, list[int]]
    resolution: int = -1

    @property
    def area_km2(self) -> F64:
        """Each unit's area, in km²."""
        return np.asarray(self.geometry.area, dtype=np.float64) / 1e6

    def assign(self, cases: pd.DataFrame, cells: np.ndarray | None = None) -> I64:
        """Return each case's unit position (``-1`` when it falls in no unit).

        Neighborhoods are read from the ``neighborhood_code`` column (the assignment
        already made when the cases were stored); H3 cells are computed from the points
        unless ``cells`` (from :func:`case_cells`) are given.
        """
        if self.level == "neighborhood":
            if s.NEIGHBORHOOD_CODE not in cases.columns:
                msg = (
                    f"cases have no `{s.NEIGHBORHOOD_CODE}` column; assign them to "
                    "neighborhoods first with geo.assign.assign_frame(cases, index) (cases read "
                    "from the store already have it), or use level='h3'."
                )
                raise InputError(msg)
            position = pd.Series(np.arange(len(self.codes)), index=pd.Index(self.codes))
            codes = cases[s.NEIGHBORHOOD_CODE].astype("string")
            found = codes.map(position)
            return found.fillna(-1).to_numpy(dtype=np.int64)
        if cells is None:
            cells = case_cells(cases, self.resolution)
        order = np.asarray([int(h3.str_to_int(c)) for c in self.codes], dtype=np.uint64)
        sorter = np.argsort(order)
        idx = np.searchsorted(order, cells, sorter=sorter)
        idx = np.minimum(idx, len(order) - 1)
        pos = sorter[idx]
        return np.where(order[pos] == cells, pos, -1).astype(np.int64)


def _require_boundaries(boundaries: object) -> None:
    """Raise a teaching error unless ``boundaries`` is a GeoDataFrame with a CRS."""
    if not isinstance(boundaries, gpd.GeoDataFrame):
        msg = (
            "boundaries must be the boundary GeoDataFrame (geo.boundaries.read_boundaries or "
            f"store.read_boundaries()), got {type(boundaries).__name__}; did you swap the "
            "arguments? The call is fit(cases, boundaries)."
        )
        raise InputError(msg)
    if boundaries.crs is None:
        msg = (
            "boundaries have no CRS; set it with `.set_crs('EPSG:4326')` (lon/lat degrees) or "
            "`.set_crs('EPSG:32639')` (metres), whichever the coordinates are in."
        )
        raise CRSError(msg)


def case_cells(cases: pd.DataFrame, resolution: int) -> np.ndarray:
    """Return the H3 cell (``uint64``) of each case, vectorized (see :mod:`.h3cells`)."""
    if isinstance(cases, gpd.GeoDataFrame) or s.LON not in cases.columns:
        lon, lat = to_lonlat(*metric_xy(cases))
    else:
        metric_xy(cases)  # validates the coordinates
        lon = cases[s.LON].to_numpy(dtype=np.float64)
        lat = cases[s.LAT].to_numpy(dtype=np.float64)
    return latlng_to_cells(lat=lat, lng=lon, resolution=resolution)


def neighborhood_units(boundaries: gpd.GeoDataFrame) -> SpatialUnits:
    """Build neighborhood units with queen contiguity from a boundary table.

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        The boundary model (``level``, ``code``, ``population``, geometry); rows of level
        ``neighborhood`` are used (all rows when there is no ``level`` column).
    """
    _require_boundaries(boundaries)
    frame = boundaries
    if s.LEVEL in frame.columns:
        frame = frame.loc[frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    if len(frame) == 0 or s.CODE not in frame.columns:
        msg = "boundaries hold no neighborhoods with a `code`; load the neighborhood layer."
        raise InputError(msg)
    metric = gpd.GeoDataFrame(
        {s.CODE: frame[s.CODE].astype("string").to_numpy()},
        geometry=frame.geometry.to_crs(METRIC_CRS).to_numpy(),
        crs=METRIC_CRS,
    )
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # islands / disconnected components
        queen = Queen.from_dataframe(metric, use_index=False, silence_warnings=True)
    neighbors = {int(i): sorted(int(j) for j in queen.neighbors[i]) for i in range(len(metric))}
    population = (
        frame[s.POPULATION].astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
        if s.POPULATION in frame.columns
        else np.full(len(frame), np.nan)
    )
    return SpatialUnits(
        level="neighborhood",
        codes=[str(c) for c in metric[s.CODE]],
        geometry=metric.geometry.reset_index(drop=True),
        population=population,
        neighbors=neighbors,
    )


def h3_units(
    cells: np.ndarray, resolution: int, boundaries: gpd.GeoDataFrame | None = None
) -> SpatialUnits:
    """Build H3 units: the cells holding cases, plus those covering ``boundaries`` if given.

    Parameters
    ----------
    cells : numpy.ndarray
        The cases' H3 cells (``uint64``, from :func:`case_cells`).
    resolution : int
        Their resolution.
    boundaries : geopandas.GeoDataFrame, optional
        Cells whose centre lies in the union of the neighborhoods (h3's polygon-to-cells
        rule) are added, so that empty places count as zeros.
    """
    wanted = {int(c) for c in np.unique(cells)}
    if boundaries is not None:
        _require_boundaries(boundaries)
        frame = boundaries
        if s.LEVEL in frame.columns and (frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD).any():
            frame = frame.loc[frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
        union = shapely.union_all(frame.geometry.to_crs(STORAGE_CRS).to_numpy())
        wanted |= {int(h3.str_to_int(c)) for c in h3.geo_to_cells(union, resolution)}
    ordered = sorted(wanted)
    polygons = gpd.GeoSeries(cell_polygons(ordered), crs=STORAGE_CRS).to_crs(METRIC_CRS)
    return SpatialUnits(
        level="h3",
        codes=cell_strings(ordered),
        geometry=polygons.reset_index(drop=True),
        population=np.full(len(ordered), np.nan),
        neighbors=cell_neighbors(ordered),
        resolution=resolution,
    )
