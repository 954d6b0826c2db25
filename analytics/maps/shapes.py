"""Polygons made light enough for a web map: simplified in metres, rounded, as GeoJSON."""

from __future__ import annotations

from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.geometry

from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.errors import CRSError, InputError

#: Decimals kept in lon/lat: 1e-5 degrees is about 1 m in Tehran.
DECIMALS: Final = 5


def require_geoframe(frame: object, what: str) -> gpd.GeoDataFrame:
    """Return ``frame`` if it is a GeoDataFrame with a CRS, else raise a teaching error."""
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = (
            f"{what} must be a GeoDataFrame (e.g. from geo.boundaries.read_boundaries), got "
            f"{type(frame).__name__}; wrap it with gpd.GeoDataFrame(df, geometry=..., crs=...)."
        )
        raise InputError(msg)
    if frame.crs is None:
        msg = (
            f"{what} has no CRS; set it with `.set_crs('EPSG:4326')` (lon/lat degrees) or "
            "`.set_crs('EPSG:32639')` (metres), whichever the coordinates are in."
        )
        raise CRSError(msg)
    return frame


def simplified(geometry: gpd.GeoSeries, tolerance_m: float) -> gpd.GeoSeries:
    """Simplify polygons by ``tolerance_m`` metres (EPSG:32639), then return them in EPSG:4326.

    Topology of each polygon is preserved; coordinates are rounded to :data:`DECIMALS`.
    Polygons that the simplification empties are kept as they were.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> ring = shapely.Point(535_000, 3_950_000).buffer(1000, quad_segs=64)
    >>> g = gpd.GeoSeries([ring], crs="EPSG:32639")
    >>> len(shapely.get_coordinates(simplified(g, 50.0).iloc[0])) < 60
    True
    """
    if not tolerance_m >= 0:
        msg = f"simplify_m must be zero or a positive number of metres, got {tolerance_m}."
        raise InputError(msg)
    metric = geometry.to_crs(METRIC_CRS)
    if tolerance_m > 0:
        light = metric.simplify(tolerance_m, preserve_topology=True)
        lost = (light.is_empty | light.isna()).to_numpy()
        if lost.any():
            kept = np.where(lost, metric.to_numpy(), light.to_numpy())
            light = gpd.GeoSeries(kept, crs=METRIC_CRS)
        metric = light
    degrees = metric.to_crs(STORAGE_CRS)
    rounded = shapely.transform(degrees.to_numpy(), lambda xy: np.round(xy, DECIMALS))
    return gpd.GeoSeries(rounded, index=geometry.index, crs=STORAGE_CRS)


def feature_collection(geometry: gpd.GeoSeries, properties: pd.DataFrame) -> dict[str, Any]:
    """Return a GeoJSON FeatureCollection (dict) of EPSG:4326 ``geometry`` and ``properties``.

    Each feature gets ``id`` = its position, as folium's style mapping needs.
    """
    features = []
    records = properties.to_dict(orient="records")
    for i, (geom, props) in enumerate(zip(geometry.to_numpy(), records, strict=True)):
        if geom is None or shapely.is_empty(geom):
            continue
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "properties": {k: _plain(v) for k, v in props.items()},
                "geometry": shapely.geometry.mapping(geom),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _plain(value: object) -> object:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
