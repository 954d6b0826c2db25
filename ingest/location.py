"""Points written in one text column: WKT, GeoJSON, Socrata's location, or a bare pair.

Many cities' 311 exports carry the location of a request in a single column rather than
in separate longitude and latitude columns. :func:`split_location` reads the common
spellings into longitude and latitude texts, which then go through the same checks as
separate columns (:func:`ingest.validate.check_coordinates`):

=====================================  ===========================================
spelling                               example
=====================================  ===========================================
WKT or EWKT ``POINT`` (x = lon, y = lat)  ``POINT (-73.98 40.75)``, ``SRID=4326;POINT(51.4 35.7)``
GeoJSON ``coordinates`` (lon, lat)     ``{"type": "Point", "coordinates": [51.4, 35.7]}``
``latitude`` / ``longitude`` keys      ``{'latitude': '41.88', 'longitude': '-87.63'}``
a bare pair (``lat_lon`` by default)   ``(40.75, -73.98)``, ``40.75,-73.98``, ``[35.7; 51.4]``
=====================================  ===========================================

Persian and Arabic-Indic digits, the Persian decimal separator (٫) and comma (،) are read
as their ASCII counterparts. A blank text or ``POINT EMPTY`` gives no point; a text in
none of these spellings stays whole in both outputs, so that it is quarantined as
non-numeric coordinates with its value shown.
"""

from __future__ import annotations

from typing import Final, Literal

import pyarrow as pa
import pyarrow.compute as pc

from .arrowtext import ascii_digits, strip_to_null, to_string_array

__all__ = ["LOCATION_ORDERS", "LocationOrder", "split_location"]

#: How a bare pair of numbers is ordered.
LocationOrder = Literal["lat_lon", "lon_lat"]
LOCATION_ORDERS: Final = ("lat_lon", "lon_lat")

#: A point with no coordinates (WKT): no location, like a blank.
_EMPTY: Final = r"^\s*(?i:point)\s*(?i:empty)\s*$"
_NUMBER: Final = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_WKT: Final = (
    rf"^\s*(?:(?i:srid)\s*=\s*\d+\s*;\s*)?(?i:point)\s*(?:(?i:zm|z|m)\s*)?"
    rf"\(\s*(?P<x>{_NUMBER})\s+(?P<y>{_NUMBER})(?:\s+{_NUMBER}){{0,2}}\s*\)\s*$"
)
_GEOJSON: Final = (
    rf"[\"']coordinates[\"']\s*:\s*\[\s*(?P<x>{_NUMBER})\s*,\s*(?P<y>{_NUMBER})\s*[,\]]"
)
_LATITUDE_KEY: Final = rf"[\"']?latitude[\"']?\s*[:=]\s*[\"']?(?P<y>{_NUMBER})[\"']?"
_LONGITUDE_KEY: Final = rf"[\"']?longitude[\"']?\s*[:=]\s*[\"']?(?P<x>{_NUMBER})[\"']?"
_PAIR: Final = rf"^\s*[\(\[]?\s*(?P<a>{_NUMBER})\s*(?:[,;]\s*|\s+)(?P<b>{_NUMBER})\s*[\)\]]?\s*$"


def _fields(text: pa.Array, pattern: str) -> dict[str, pa.Array]:
    """Return each named group of ``pattern`` per value (null where it does not match)."""
    found = pc.extract_regex(text, pattern)
    # struct_field, unlike StructArray.field, carries the nulls of the non-matching rows
    return {f.name: pc.struct_field(found, f.name) for f in found.type}


def split_location(
    values: object, *, order: LocationOrder = "lat_lon"
) -> tuple[pa.Array, pa.Array]:
    """Return (longitude, latitude) texts read from one location column.

    Parameters
    ----------
    values : pyarrow.Array, pandas.Series or sequence of str
        The location texts.
    order : {"lat_lon", "lon_lat"}
        Order of a bare pair of numbers (WKT and GeoJSON always give longitude first).

    Returns
    -------
    tuple of pyarrow.Array
        Longitude and latitude as ASCII decimal text, null where the location is blank; a
        value in no known spelling is returned whole in both, to be refused downstream.

    Examples
    --------
    >>> lon, lat = split_location(["POINT (-73.98 40.75)", "(35.7, 51.4)", "", "near the park"])
    >>> lon.to_pylist(), lat.to_pylist()
    (['-73.98', '51.4', None, 'near the park'], ['40.75', '35.7', None, 'near the park'])
    """
    if order not in LOCATION_ORDERS:
        msg = f"location order must be one of {LOCATION_ORDERS}, not {order!r}"
        raise ValueError(msg)
    original = strip_to_null(to_string_array(values))
    empty = pc.fill_null(pc.match_substring_regex(original, _EMPTY), False)
    original = pc.if_else(empty, pa.nulls(len(original), pa.string()), original)
    text = ascii_digits(original)
    for persian, ascii_mark in (("\u066b", "."), ("\u060c", ",")):  # ٫ decimal, ، comma
        text = pc.replace_substring(text, persian, ascii_mark)
    wkt = _fields(text, _WKT)
    geojson = _fields(text, _GEOJSON)
    latitude = _fields(text, _LATITUDE_KEY)["y"]
    longitude = _fields(text, _LONGITUDE_KEY)["x"]
    keyed = pc.and_(pc.is_valid(latitude), pc.is_valid(longitude))
    no_key = pa.nulls(len(text), pa.string())
    pair = _fields(text, _PAIR)
    pair_lon, pair_lat = (pair["b"], pair["a"]) if order == "lat_lon" else (pair["a"], pair["b"])
    lon = pc.coalesce(wkt["x"], geojson["x"], pc.if_else(keyed, longitude, no_key), pair_lon)
    lat = pc.coalesce(wkt["y"], geojson["y"], pc.if_else(keyed, latitude, no_key), pair_lat)
    # what matched nothing stays whole (both sides), to be refused as non-numeric
    unread = pc.and_(pc.is_valid(original), pc.is_null(lon))
    return pc.if_else(unread, original, lon), pc.if_else(unread, original, lat)
