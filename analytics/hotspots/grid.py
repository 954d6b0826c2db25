"""Case points in metres and their aggregation to a fine square grid.

Every hotspot estimator works in metres (EPSG:32639, :data:`geo.crs.METRIC_CRS`). Cases come
either as a frame with ``lon``/``lat`` columns in EPSG:4326 (the canonical case table) or as a
GeoDataFrame of points in any CRS; :func:`metric_xy` returns their x and y in metres.

:func:`grid_cells` bins points into square cells of ``cell_m`` metres anchored at a multiple of
``cell_m`` (so the same point always falls in the same cell, whatever the other points) and
returns the occupied cells with their counts and each point's cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.errors import CRSError, InputError
from ingest import schema as s

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


def metric_xy(cases: pd.DataFrame) -> tuple[F64, F64]:
    """Return the cases' x and y in metres (EPSG:32639).

    Parameters
    ----------
    cases : pandas.DataFrame or geopandas.GeoDataFrame
        A GeoDataFrame of points with a CRS, or a frame with ``lon`` and ``lat`` columns
        (EPSG:4326, x = longitude). Rows must all be located.

    Returns
    -------
    tuple of numpy.ndarray
        The x (easting) and y (northing) of each row, in metres.

    Raises
    ------
    InputError
        When the cases carry no coordinates or some are missing.
    CRSError
        When a GeoDataFrame has no CRS, or the coordinates do not fit the CRS (metres given
        as lon/lat degrees); the message says how to fix it.
    """
    if isinstance(cases, gpd.GeoDataFrame) and cases.geometry.name in cases.columns:
        if cases.crs is None:
            msg = (
                "cases have no CRS; set it with `.set_crs('EPSG:4326')` for lon/lat degrees or "
                "`.set_crs('EPSG:32639')` for metres, whichever the coordinates are in."
            )
            raise CRSError(msg)
        geoms = cases.geometry
        if not CRS.from_user_input(cases.crs).equals(CRS.from_user_input(METRIC_CRS)):
            geoms = geoms.to_crs(METRIC_CRS)
        values = geoms.to_numpy()
        points = shapely.get_type_id(values) == 0
        if not points.all() or shapely.is_empty(values).any():
            msg = (
                "every case must have a point geometry; drop unlocated cases before hotspot "
                "analysis."
            )
            raise InputError(msg)
        xy = shapely.get_coordinates(values)
        if not np.isfinite(xy).all():
            crs = CRS.from_user_input(cases.crs).to_string()
            msg = (
                f"the cases' coordinates do not fit their CRS ({crs}): some cannot be projected "
                "to metres. Metres labelled as degrees? Fix the label with "
                "`.set_crs('EPSG:32639', allow_override=True)`, or reproject real data with "
                "`.to_crs('EPSG:4326')` before."
            )
            raise CRSError(msg)
        return np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    if s.LON not in cases.columns or s.LAT not in cases.columns:
        msg = f"cases need `{s.LON}` and `{s.LAT}` columns (EPSG:4326) or a point geometry."
        raise InputError(msg)
    lon = cases[s.LON].to_numpy(dtype=np.float64, na_value=np.nan)
    lat = cases[s.LAT].to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(lon).any() or np.isnan(lat).any():
        msg = (
            f"{int(np.isnan(lon).sum() + np.isnan(lat).sum())} missing `{s.LON}`/`{s.LAT}` "
            "values; drop unlocated cases before hotspot analysis."
        )
        raise InputError(msg)
    if len(lon) and (np.abs(lon).max() > 180 or np.abs(lat).max() > 90):
        msg = (
            f"`{s.LON}`/`{s.LAT}` hold values outside [-180, 180] x [-90, 90], so they are not "
            "degrees (EPSG:4326). Metres? Pass a GeoDataFrame instead: "
            "`gpd.GeoDataFrame(cases, geometry=gpd.points_from_xy(x, y), crs='EPSG:32639')`."
        )
        raise CRSError(msg)
    x, y = _to_metric().transform(lon, lat)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def to_lonlat(x_m: F64, y_m: F64) -> tuple[F64, F64]:
    """Return longitude and latitude (EPSG:4326) of points given in metres (EPSG:32639)."""
    lon, lat = Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True).transform(x_m, y_m)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _to_metric() -> Transformer:
    return Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)


@dataclass(frozen=True)
class GridCells:
    """Occupied cells of a square metric grid.

    Attributes
    ----------
    cell_m : float
        Side of a cell, in metres.
    ix, iy : numpy.ndarray
        Column and row of each occupied cell (cell ``(i, j)`` spans
        ``[i·cell_m, (i+1)·cell_m)`` in x and likewise in y).
    count : numpy.ndarray
        Number of points in each occupied cell.
    inverse : numpy.ndarray
        For each input point, the position of its cell in ``ix``/``iy``/``count``.
    """

    cell_m: float
    ix: I64
    iy: I64
    count: I64
    inverse: I64

    @property
    def x_m(self) -> F64:
        """Cell centres' x, in metres."""
        return (self.ix.astype(np.float64) + 0.5) * self.cell_m

    @property
    def y_m(self) -> F64:
        """Cell centres' y, in metres."""
        return (self.iy.astype(np.float64) + 0.5) * self.cell_m


def grid_cells(x_m: F64, y_m: F64, cell_m: float) -> GridCells:
    """Bin points into square cells of ``cell_m`` metres.

    Parameters
    ----------
    x_m, y_m : numpy.ndarray
        The points' coordinates in metres (EPSG:32639).
    cell_m : float
        Side of a cell, in metres; positive.

    Returns
    -------
    GridCells
        The occupied cells, their counts and each point's cell.

    Examples
    --------
    >>> g = grid_cells(np.array([1.0, 2.0, 15.0]), np.array([1.0, 3.0, 1.0]), 10.0)
    >>> g.count.tolist(), g.inverse.tolist(), g.x_m.tolist()
    ([2, 1], [0, 0, 1], [5.0, 15.0])
    """
    if not cell_m > 0:
        msg = f"cell_m must be positive, got {cell_m}."
        raise InputError(msg)
    ix = np.floor(np.asarray(x_m) / cell_m).astype(np.int64)
    iy = np.floor(np.asarray(y_m) / cell_m).astype(np.int64)
    if len(ix) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return GridCells(float(cell_m), empty, empty, empty, empty)
    x0, y0 = ix.min(), iy.min()
    height = int(iy.max() - y0) + 1
    key = (ix - x0) * height + (iy - y0)
    uniq, inverse, count = np.unique(key, return_inverse=True, return_counts=True)
    return GridCells(
        cell_m=float(cell_m),
        ix=(uniq // height + x0).astype(np.int64),
        iy=(uniq % height + y0).astype(np.int64),
        count=count.astype(np.int64),
        inverse=inverse.reshape(-1).astype(np.int64),
    )
