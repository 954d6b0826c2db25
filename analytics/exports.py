"""Export any table (KPIs, rankings, hotspots, case lists) as CSV, XLSX, GeoJSON or GeoParquet.

:func:`export_bytes` returns the file's bytes (what a Dash ``dcc.Download`` sends) and
:func:`write_export` writes a file atomically, with the format taken from the suffix.

Formats
-------
``csv``
    UTF-8 **with a byte-order mark** (``utf-8-sig``) so Excel shows Persian text; timestamps
    as ISO 8601 text in Asia/Tehran time with the offset.
``xlsx``
    One sheet ``data`` (openpyxl); timestamps as Tehran wall-clock time (Excel has no time
    zones); geometry, if any, as WKT text.
``geojson``
    A FeatureCollection in EPSG:4326 (x = lon, y = lat); needs a geometry column.
``parquet``
    Apache Parquet; a GeoDataFrame becomes GeoParquet (geometry as WKB with ``geo``
    metadata), a plain frame plain Parquet.
``geoparquet``
    GeoParquet; needs a geometry column.

Provenance
----------
Every public figure carries the store's ingest-log head (:mod:`geo.store.chain`). Pass
``provenance={"chain_head": ..., ...}`` (string values) and each format carries it:

* csv: a constant column per key, prefixed ``t137_`` (``t137_chain_head``), so the note
  survives copy-paste and Excel;
* xlsx: the same columns, plus a second sheet ``provenance`` (key, value) and the head in
  the workbook's ``keywords`` property;
* geojson: a top-level foreign member ``"t137_provenance"`` (RFC 7946 §6.1);
* parquet/geoparquet: the file's key-value metadata under ``t137_provenance`` (JSON).

:func:`write_export` also writes a sidecar ``<file>.provenance.json`` next to the file.
:func:`read_provenance` reads the provenance back from any of these.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal, cast, get_args

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geo.crs import STORAGE_CRS
from geo.errors import InputError

Format = Literal["csv", "xlsx", "geojson", "parquet", "geoparquet"]
#: Every format :func:`export_bytes` writes.
FORMATS: Final[tuple[str, ...]] = get_args(Format)
#: Formats that need a geometry column.
GEO_FORMATS: Final = ("geojson", "geoparquet")
#: File suffix → format.
SUFFIXES: Final[dict[str, Format]] = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".geojson": "geojson",
    ".json": "geojson",
    ".parquet": "parquet",
    ".geoparquet": "geoparquet",
}
#: MIME type of each format (for HTTP downloads).
MIME_TYPES: Final[dict[str, str]] = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
    "parquet": "application/vnd.apache.parquet",
    "geoparquet": "application/vnd.apache.parquet",
}
#: Key of the provenance in Parquet metadata and GeoJSON, and prefix of CSV/XLSX columns.
PROVENANCE_KEY: Final = "t137_provenance"
COLUMN_PREFIX: Final = "t137_"
SIDECAR_SUFFIX: Final = ".provenance.json"
#: Time zone timestamps are shown in.
DISPLAY_TZ: Final = "Asia/Tehran"


def check_format(fmt: str) -> Format:
    """Return ``fmt`` normalized (lower case, no dot), or raise a clear error.

    Examples
    --------
    >>> check_format(".CSV")
    'csv'
    """
    name = str(fmt).lower().lstrip(".")
    if name not in FORMATS:
        msg = f"Unknown export format {fmt!r}; use one of {', '.join(FORMATS)}."
        raise InputError(msg)
    return cast(Format, name)


def format_for(path: str | os.PathLike[str]) -> Format:
    """Return the export format of a file name from its suffix.

    Examples
    --------
    >>> format_for("ranking.xlsx")
    'xlsx'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in SUFFIXES:
        shown = ", ".join(SUFFIXES)
        msg = f"Cannot tell the export format of {Path(path).name!r}; end the name in {shown}."
        raise InputError(msg)
    return SUFFIXES[suffix]


def _has_geometry(frame: pd.DataFrame) -> bool:
    if not isinstance(frame, gpd.GeoDataFrame):
        return False
    try:
        return frame.geometry is not None
    except AttributeError:  # a GeoDataFrame whose active geometry column is gone
        return False


def _require_geometry(frame: pd.DataFrame, fmt: str) -> gpd.GeoDataFrame:
    if not _has_geometry(frame):
        msg = (
            f"Cannot export as {fmt}: the table has no geometry column; export it as csv, "
            "xlsx or parquet, or join the areas' boundaries first."
        )
        raise InputError(msg)
    geo = cast(gpd.GeoDataFrame, frame)
    if geo.crs is None:
        msg = (
            f"Cannot export as {fmt}: the geometry has no CRS; set it with "
            "GeoDataFrame.set_crs (EPSG:4326 for lon/lat)."
        )
        raise InputError(msg)
    return geo


def _provenance(provenance: Mapping[str, object] | None) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in (provenance or {}).items()}


def _plain(frame: pd.DataFrame, *, wall_clock: bool) -> pd.DataFrame:
    """Return a plain DataFrame copy: Tehran timestamps, geometry as WKT, no attrs."""
    out = pd.DataFrame(frame).copy()
    out.attrs = {}
    if _has_geometry(frame):
        geo = cast(gpd.GeoDataFrame, frame)
        name = geo.geometry.name
        out[name] = geo.geometry.to_wkt()
    for column in out.columns:
        values = out[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            local = values.dt.tz_convert(DISPLAY_TZ)
            out[column] = local.dt.tz_localize(None) if wall_clock else local
        elif values.dtype == object:
            kinds = {type(v) for v in values.dropna()}
            if any(issubclass(k, gpd.array.GeometryDtype.type) for k in kinds):
                out[column] = gpd.GeoSeries(values).to_wkt()
    return out


def _with_columns(frame: pd.DataFrame, notes: Mapping[str, str]) -> pd.DataFrame:
    if not notes:
        return frame
    return frame.assign(**{f"{COLUMN_PREFIX}{k}": v for k, v in notes.items()})


def _csv(frame: pd.DataFrame, notes: Mapping[str, str]) -> bytes:
    table = _with_columns(_plain(frame, wall_clock=False), notes)
    text = table.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S%z")
    return text.encode("utf-8-sig")


def _xlsx(frame: pd.DataFrame, notes: Mapping[str, str]) -> bytes:
    table = _with_columns(_plain(frame, wall_clock=True), notes)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        table.to_excel(writer, sheet_name="data", index=False)
        if notes:
            sheet = pd.DataFrame({"key": list(notes), "value": list(notes.values())})
            sheet.to_excel(writer, sheet_name="provenance", index=False)
            book = writer.book
            book.properties.keywords = json.dumps(dict(notes), ensure_ascii=False)
            book.properties.title = notes.get("title", book.properties.title)
    return buffer.getvalue()


def _geojson(frame: pd.DataFrame, notes: Mapping[str, str]) -> bytes:
    geo = _require_geometry(frame, "geojson").to_crs(STORAGE_CRS)
    props = _plain(pd.DataFrame(geo.drop(columns=geo.geometry.name)), wall_clock=False)
    for column in props.columns:
        if pd.api.types.is_datetime64_any_dtype(props[column].dtype):
            props[column] = [None if pd.isna(t) else t.isoformat() for t in props[column]]
    out = gpd.GeoDataFrame(props, geometry=geo.geometry.to_numpy(), crs=STORAGE_CRS)
    collection = json.loads(out.to_json(na="null", drop_id=True))
    if notes:
        collection[PROVENANCE_KEY] = dict(notes)
    return json.dumps(collection, ensure_ascii=False).encode("utf-8")


def _parquet(frame: pd.DataFrame, notes: Mapping[str, str], *, geo: bool) -> bytes:
    table: pd.DataFrame
    if geo:
        table = _require_geometry(frame, "geoparquet").to_crs(STORAGE_CRS)
    elif _has_geometry(frame):
        geo_frame = cast(gpd.GeoDataFrame, frame)
        table = geo_frame if geo_frame.crs is None else geo_frame.to_crs(STORAGE_CRS)
    else:
        table = pd.DataFrame(frame)
    table = table.copy()
    table.attrs = {}
    buffer = io.BytesIO()
    table.to_parquet(buffer, index=False)
    if not notes:
        return buffer.getvalue()
    arrow = pq.read_table(pa.BufferReader(buffer.getvalue()))
    metadata = dict(arrow.schema.metadata or {})
    metadata[PROVENANCE_KEY.encode()] = json.dumps(dict(notes), ensure_ascii=False).encode()
    out = io.BytesIO()
    pq.write_table(arrow.replace_schema_metadata(metadata), out)
    return out.getvalue()


def export_bytes(
    frame: pd.DataFrame,
    fmt: str,
    *,
    provenance: Mapping[str, object] | None = None,
) -> bytes:
    """Return ``frame`` encoded as an export file.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        Any table: KPIs, a ranking, hotspot units or a case list. It is not modified.
    fmt : {"csv", "xlsx", "geojson", "parquet", "geoparquet"}
        The file format (a leading dot and upper case are accepted).
    provenance : mapping of str to str, optional
        Notes every copy must carry, above all ``chain_head`` (the store's ingest-log
        head); see the module docstring for where each format puts them.

    Returns
    -------
    bytes
        The file's content.

    Raises
    ------
    geo.errors.InputError
        ``fmt`` is unknown, or GeoJSON/GeoParquet is asked of a frame without geometry.

    Examples
    --------
    >>> table = pd.DataFrame({"name_fa": ["منطقه ۱"], "volume": [12]})
    >>> export_bytes(table, "csv").decode("utf-8")[0] == chr(0xFEFF)  # the BOM
    True
    """
    name = check_format(fmt)
    notes = _provenance(provenance)
    if name == "csv":
        return _csv(frame, notes)
    if name == "xlsx":
        return _xlsx(frame, notes)
    if name == "geojson":
        return _geojson(frame, notes)
    return _parquet(frame, notes, geo=name == "geoparquet")


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Return the provenance sidecar of an export file (``<file>.provenance.json``)."""
    path = Path(path)
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _atomic_write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        Path(temporary).chmod(0o644)  # mkstemp makes 0600; an export is meant to be shared
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_export(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    provenance: Mapping[str, object] | None = None,
) -> Path:
    """Write ``frame`` to ``path`` atomically and return the path.

    Parameters
    ----------
    frame : pandas.DataFrame or geopandas.GeoDataFrame
        The table to write; not modified.
    path : str or path-like
        The output file. Missing parent folders are created.
    fmt : str, optional
        The format; taken from the suffix when omitted (``.csv``, ``.xlsx``, ``.geojson``,
        ``.json``, ``.parquet``, ``.geoparquet``).
    provenance : mapping of str to str, optional
        Notes carried in the file (see :func:`export_bytes`) and in a sidecar
        ``<file>.provenance.json``.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    out = Path(path)
    name = check_format(fmt) if fmt is not None else format_for(out)
    _atomic_write(out, export_bytes(frame, name, provenance=provenance))
    notes = _provenance(provenance)
    if notes:
        sidecar = {"file": out.name, "format": name, "rows": len(frame), **notes}
        text = json.dumps(sidecar, ensure_ascii=False, indent=2) + "\n"
        _atomic_write(sidecar_path(out), text.encode("utf-8"))
    return out


def read_provenance(path: str | os.PathLike[str]) -> dict[str, str]:
    """Return the provenance notes carried inside an export file (empty when none).

    Reads the Parquet metadata, the GeoJSON foreign member, the XLSX ``provenance`` sheet
    or the ``t137_*`` columns of a CSV.
    """
    path = Path(path)
    name = format_for(path)
    if name in ("parquet", "geoparquet"):
        metadata = pq.read_schema(path).metadata or {}
        raw = metadata.get(PROVENANCE_KEY.encode())
        return {} if raw is None else dict(json.loads(raw.decode("utf-8")))
    if name == "geojson":
        content = json.loads(path.read_text(encoding="utf-8"))
        return dict(content.get(PROVENANCE_KEY, {}))
    if name == "xlsx":
        sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl", dtype=str)
        if "provenance" not in sheets:
            return {}
        sheet = sheets["provenance"]
        return dict(zip(sheet["key"], sheet["value"], strict=True))
    table = pd.read_csv(path, encoding="utf-8-sig", dtype=str, nrows=1)
    return {
        str(c)[len(COLUMN_PREFIX) :]: str(table[c].iloc[0])
        for c in table.columns
        if str(c).startswith(COLUMN_PREFIX) and len(table)
    }
