"""The one place where points become folium's ``[lat, lon]``.

Everything in the project is x = longitude, y = latitude (EPSG:4326) or metres
(EPSG:32639). Leaflet, and so folium, wants ``[lat, lon]``. Every map helper converts through
:func:`latlon` and nowhere else, so the order is right once and for all.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS

from geo.crs import STORAGE_CRS
from geo.errors import CRSError, InputError
from ingest import schema as s

F64 = npt.NDArray[np.float64]


def _lonlat_of_geometry(points: gpd.GeoSeries) -> tuple[F64, F64]:
    if points.crs is None:
        msg = (
            "the points have no CRS; set it with `.set_crs('EPSG:4326')` for lon/lat degrees "
            "or `.set_crs('EPSG:32639')` for metres, then try again."
        )
        raise CRSError(msg)
    if not CRS.from_user_input(points.crs).equals(CRS.from_user_input(STORAGE_CRS)):
        points = points.to_crs(STORAGE_CRS)
    values = points.to_numpy()
    kinds = set(shapely.get_type_id(values[~shapely.is_missing(values)]).tolist())
    if not kinds <= {0}:
        msg = "the map helpers need point geometry; use .centroid or .representative_point()."
        raise InputError(msg)
    lon = shapely.get_x(values).astype(np.float64)
    lat = shapely.get_y(values).astype(np.float64)
    return lon, lat


def _lonlat(points: object) -> tuple[F64, F64]:
    if isinstance(points, gpd.GeoSeries):
        return _lonlat_of_geometry(points)
    if isinstance(points, gpd.GeoDataFrame) and points.geometry.name in points.columns:
        if s.LON in points.columns and s.LAT in points.columns:
            return _lonlat(pd.DataFrame(points[[s.LON, s.LAT]]))
        return _lonlat_of_geometry(points.geometry)
    if isinstance(points, pd.DataFrame):
        if s.LON not in points.columns or s.LAT not in points.columns:
            msg = (
                f"the frame has no `{s.LON}`/`{s.LAT}` columns (EPSG:4326 degrees) and no point "
                "geometry; pass canonical cases or a GeoDataFrame of points."
            )
            raise InputError(msg)
        lon = pd.to_numeric(points[s.LON], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        lat = pd.to_numeric(points[s.LAT], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        return lon, lat
    msg = (
        "expected a GeoSeries/GeoDataFrame of points or a DataFrame with lon/lat columns, "
        f"got {type(points).__name__}."
    )
    raise InputError(msg)


def latlon(points: pd.DataFrame | gpd.GeoSeries) -> list[list[float]]:
    """Return folium's ``[lat, lon]`` pair of each point, in order.

    This is the only function of the map helpers that orders coordinates for folium.

    Parameters
    ----------
    points : geopandas.GeoSeries, geopandas.GeoDataFrame or pandas.DataFrame
        Points in any CRS (re-projected to EPSG:4326), or a frame with ``lon`` (x) and ``lat``
        (y) columns in degrees (EPSG:4326). Missing points must be dropped first.

    Returns
    -------
    list of [float, float]
        ``[lat, lon]`` per point (latitude first, as Leaflet wants).

    Raises
    ------
    geo.errors.CRSError
        If a GeoSeries has no CRS, or the lon/lat values are not degrees (metres given as
        lon/lat, say).
    geo.errors.InputError
        If there are no coordinates, some are missing, or the geometry is not points.

    Examples
    --------
    >>> import pandas as pd
    >>> latlon(pd.DataFrame({"lon": [51.39], "lat": [35.69]}))
    [[35.69, 51.39]]
    >>> import geopandas as gpd
    >>> p = gpd.GeoSeries.from_xy([535_000], [3_950_000], crs="EPSG:32639")
    >>> [round(v, 3) for v in latlon(p)[0]]
    [35.693, 51.387]
    """
    lon, lat = _lonlat(points)
    if np.isnan(lon).any() or np.isnan(lat).any():
        msg = (
            f"{int((np.isnan(lon) | np.isnan(lat)).sum())} points have no coordinates; drop "
            "them first (e.g. cases.dropna(subset=['lon', 'lat']))."
        )
        raise InputError(msg)
    if len(lon) and (np.abs(lon).max() > 180 or np.abs(lat).max() > 90):
        msg = (
            "lon/lat values are outside [-180, 180] x [-90, 90], so they are not degrees: "
            "metres (EPSG:32639) given as lon/lat? Build a GeoDataFrame with "
            "`gpd.points_from_xy(x, y, crs='EPSG:32639')` and `.to_crs('EPSG:4326')`."
        )
        raise CRSError(msg)
    pairs: list[list[float]] = np.column_stack([lat, lon]).tolist()
    return pairs
