"""Reading real boundary layers into the boundary model, and keeping the hierarchy.

Any OGR-readable layer (Shapefile, GeoPackage, GeoJSON, OpenStreetMap exports mixing
polygons with lines and points) is read into the boundary model of DESIGN.md §3 by
:func:`read_boundaries`: one table of ``level``, ``code`` (str), ``name_fa``, ``name_en``,
``parent_code``, ``population`` and a Polygon/MultiPolygon geometry in EPSG:4326.

- Fields are mapped explicitly or detected for known layouts (:mod:`geo.boundary_layouts`).
- Names are normalized with :func:`geo.persian.normalize_text` (Arabic ي/ك → ی/ک …).
- Non-polygon features are skipped and counted; invalid polygons are repaired with
  ``make_valid`` (keeping the polygonal parts) and listed.
- The hierarchy comes from a parent field (dissolved) or a separate parent layer
  (:func:`attach_to_parents`, by largest overlap); the district level is optional.

:func:`write_boundaries` and :func:`load_boundaries` keep the normalized hierarchy as
GeoParquet (``DIR/boundaries.parquet``), the embedded default that ``t137 assign`` reads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from ingest import schema as s

from .boundary_layouts import FieldMapping, flatten_osm_tags, resolve_mapping
from .boundary_model import (
    POLYGONAL,
    canonical_order,
    coarser_present,
    empty_frame,
    levels_present,
    make_frame,
    normalize_codes,
    normalize_names,
    polygonal_part,
    require_consistent,
    require_model,
)
from .crs import STORAGE_CRS
from .errors import BoundaryError
from .hierarchy import attach_to_parents, dissolve_by_parent, hierarchy_lookup

__all__ = [
    "BOUNDARIES_FILE",
    "ImportResult",
    "ReadResult",
    "RepairedGeometry",
    "attach_to_parents",
    "combine_layers",
    "hierarchy_lookup",
    "import_boundaries",
    "load_boundaries",
    "load_tehran_boundaries",
    "read_boundaries",
    "read_boundaries_detailed",
    "write_boundaries",
]

logger = logging.getLogger(__name__)

#: File name of the normalized hierarchy inside a boundary directory.
BOUNDARIES_FILE: Final = "boundaries.parquet"
MAHALAT_FILE: Final = "Mahalat_Tehran.shp"
OSM_REGIONS_FILE: Final = "tehran_regions_osm.geojson"


@dataclass(frozen=True)
class RepairedGeometry:
    """An invalid geometry that was repaired with ``make_valid``."""

    level: str
    code: str | None
    reason: str
    dropped: bool = False
    """True when nothing polygonal remained and the feature was left out."""


@dataclass(frozen=True)
class ReadResult:
    """A layer read into the boundary model, with what had to be done to it.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The features in the boundary model, coarsest level first.
    source : str
        The file read.
    source_crs : str
        The layer's own CRS (such as ``EPSG:32639``), before re-projection to EPSG:4326.
    mapping : FieldMapping
        The field mapping used (its ``layout`` names a detected layout).
    repaired : list of RepairedGeometry
        Invalid geometries repaired with ``make_valid``, by code.
    skipped : dict
        Features left out, counted by reason (``"LineString"``, ``"Point"``, ``"empty"``,
        ``"no code"`` for OSM polygons without a region number …).
    derived_levels : tuple of str
        Levels derived by dissolving on the parent field.
    """

    frame: gpd.GeoDataFrame
    source: str
    source_crs: str
    mapping: FieldMapping
    repaired: list[RepairedGeometry] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    derived_levels: tuple[str, ...] = ()


def _is_written_hierarchy(path: Path) -> bool:
    return path.suffix.lower() in {".parquet", ".geoparquet"} or (path / BOUNDARIES_FILE).exists()


def _read_layer(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    """Read one layer with pyogrio, turning every failure into one clear sentence."""
    if not path.exists():
        msg = f"Boundary file {path} does not exist; check the path."
        raise BoundaryError(msg)
    try:
        if layer is None:
            layers = pyogrio.list_layers(path)
            polygon_layers = [
                str(name) for name, kind in layers if kind is None or "Polygon" in str(kind)
            ]
            if len(layers) > 1:
                if len(polygon_layers) != 1:
                    names = ", ".join(str(name) for name, _ in layers)
                    msg = f"{path} holds several layers ({names}); choose one with --layer."
                    raise BoundaryError(msg)
                layer = polygon_layers[0]
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except BoundaryError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        reason = str(exc).split(";")[0].strip().rstrip(".")
        msg = (
            f"{path} cannot be read as a boundary layer ({reason}); "
            "give a Shapefile, GeoPackage or GeoJSON file."
        )
        raise BoundaryError(msg) from None
    except (pyogrio.errors.FieldError, pyogrio.errors.GeometryError, ValueError) as exc:
        msg = f"{path} cannot be read as a boundary layer ({exc})."
        raise BoundaryError(msg) from None
    if "tags" in frame.columns:
        flat = flatten_osm_tags(pd.DataFrame(frame.drop(columns=frame.geometry.name)))
        frame = gpd.GeoDataFrame(flat, geometry=frame.geometry.values, crs=frame.crs)
    return frame


def _crs_of(frame: gpd.GeoDataFrame, path: Path) -> CRS:
    if frame.crs is None:
        hint = " (its .prj file is missing)" if path.suffix.lower() == ".shp" else ""
        msg = (
            f"{path} has no coordinate reference system{hint}; "
            "add the CRS to the file (for a shapefile, the .prj) and read it again."
        )
        raise BoundaryError(msg)
    return CRS.from_user_input(frame.crs)


def _crs_name(crs: CRS) -> str:
    authority = crs.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_string()


def _keep_polygons(
    frame: gpd.GeoDataFrame, path: Path, skipped: dict[str, int]
) -> gpd.GeoDataFrame:
    """Drop non-polygon features (counted in ``skipped``); keep polygonal parts of collections."""
    geometry = frame.geometry.values
    kinds = pd.Series(shapely.get_type_id(geometry), index=frame.index)
    kind_names = frame.geometry.geom_type
    empty = frame.geometry.isna().to_numpy() | shapely.is_empty(geometry)
    is_collection = kinds.to_numpy() == shapely.GeometryType.GEOMETRYCOLLECTION
    cleaned = geometry.copy()
    for i in np.flatnonzero(is_collection & ~empty):
        cleaned[i] = polygonal_part(geometry[i])
    keep = ~empty & np.array([g is not None and g.geom_type in POLYGONAL for g in cleaned])
    if (~keep & empty).any():
        skipped["empty"] = skipped.get("empty", 0) + int((~keep & empty).sum())
    for kind, count in kind_names[~keep & ~empty].value_counts().items():
        skipped[str(kind)] = skipped.get(str(kind), 0) + int(count)
    if not keep.any():
        found = ", ".join(f"{n} {k}" for k, n in skipped.items())
        msg = f"{path} holds no polygons (found {found}); give a layer with boundary polygons."
        raise BoundaryError(msg)
    out = frame.loc[keep].copy()
    return out.set_geometry(gpd.GeoSeries(cleaned[keep], index=out.index, crs=frame.crs))


def _repair(
    geometry: np.ndarray, levels: np.ndarray, codes: np.ndarray, *, stage: str = ""
) -> tuple[np.ndarray, list[RepairedGeometry], np.ndarray]:
    """Repair invalid geometries; return them, the repair notes and a keep mask."""
    invalid = ~shapely.is_valid(geometry) & ~shapely.is_missing(geometry)
    notes: list[RepairedGeometry] = []
    keep = np.ones(len(geometry), dtype=bool)
    if not invalid.any():
        return geometry, notes, keep
    repaired = geometry.copy()
    reasons = shapely.is_valid_reason(geometry[invalid])
    fixed = shapely.make_valid(geometry[invalid])
    for i, reason, geom in zip(np.flatnonzero(invalid), reasons, fixed, strict=True):
        part = polygonal_part(geom)
        dropped = part is None or bool(shapely.area(part) == 0)
        keep[i] = not dropped
        repaired[i] = part
        code = codes[i] if codes[i] is not None else None
        notes.append(RepairedGeometry(str(levels[i]), code, f"{stage}{reason}", dropped))
    return repaired, notes, keep


def _column(frame: pd.DataFrame, name: str | None) -> pd.Series | None:
    return None if name is None else frame[name]


def read_boundaries_detailed(
    path: str | os.PathLike[str],
    *,
    level: str | None = None,
    name_field: str | None = None,
    code_field: str | None = None,
    parent_field: str | None = None,
    name_en_field: str | None = None,
    layer: str | int | None = None,
    parent_level: str | None = None,
) -> ReadResult:
    """Read a boundary layer like :func:`read_boundaries` and say what was done to it.

    Returns
    -------
    ReadResult
        The frame, the source CRS, the mapping used, the repaired geometries, the skipped
        features and the levels derived by dissolving.
    """
    source = Path(path)
    if _is_written_hierarchy(source):
        # A hierarchy written by write_boundaries is already normalized: keep it as written.
        written = load_boundaries(source)
        mapping = FieldMapping(layout="boundaries_parquet")
        return ReadResult(written, str(source), STORAGE_CRS, mapping)
    raw = _read_layer(source, layer)
    if len(raw) == 0:
        msg = f"{source} holds no features; give a layer with boundary polygons."
        raise BoundaryError(msg)
    skipped: dict[str, int] = {}
    source_crs = _crs_of(raw, source)
    polygons = _keep_polygons(raw, source, skipped)
    mapping = resolve_mapping(
        raw.columns,
        source=str(source),
        level=level,
        name_field=name_field,
        code_field=code_field,
        parent_field=parent_field,
        name_en_field=name_en_field,
        parent_level=parent_level,
    )
    table = pd.DataFrame(polygons.drop(columns=polygons.geometry.name))

    if mapping.code_parser is not None:
        codes = normalize_codes(mapping.code_parser(table))
        without = codes.isna().to_numpy()
        if without.all():
            msg = (
                f"{source}: no polygon's name holds a region number; "
                "name the code field with --code-field."
            )
            raise BoundaryError(msg)
        if without.any():
            skipped["no code"] = int(without.sum())
            logger.info("%s: skipped %d polygons without a region number", source, without.sum())
            polygons, table, codes = polygons[~without], table[~without], codes[~without]
    else:
        assert mapping.code_field is not None  # resolve_mapping guarantees a code source
        codes = normalize_codes(table[mapping.code_field])

    if mapping.level_field is not None:
        levels = table[mapping.level_field].astype(str).str.strip().str.lower().to_numpy()
        unknown = sorted(set(levels) - set(s.LEVELS))
        if unknown:
            msg = (
                f"{source}: field {mapping.level_field!r} holds levels {', '.join(unknown)}; "
                f"use {', '.join(s.LEVELS)} or read one level with --level."
            )
            raise BoundaryError(msg)
    else:
        levels = np.full(len(table), mapping.level, dtype=object)

    geometry, repaired, keep = _repair(
        polygons.geometry.values, levels, codes.to_numpy(dtype=object)
    )
    geometry = gpd.GeoSeries(geometry, crs=source_crs).to_crs(STORAGE_CRS).values
    geometry, late, keep_late = _repair(
        geometry,
        levels,
        codes.to_numpy(dtype=object),
        stage=f"after re-projection to {STORAGE_CRS}: ",
    )
    repaired += late
    keep &= keep_late
    if not keep.all():
        skipped["no area after repair"] = int((~keep).sum())

    population = _column(table, mapping.population_field)
    if population is not None:
        population = pd.to_numeric(population, errors="coerce").round().astype("Int64")
    parent = _column(table, mapping.parent_field or mapping.parent_code_field)
    frame = make_frame(
        level=list(levels[keep]),
        code=codes[keep],
        name_fa=None
        if mapping.name_field is None
        else normalize_names(table[mapping.name_field])[keep],
        name_en=None
        if mapping.name_en_field is None
        else normalize_names(table[mapping.name_en_field])[keep],
        parent_code=None if parent is None else normalize_codes(parent)[keep],
        population=None if population is None else population[keep],
        geometry=geometry[keep],
    )
    derived: tuple[str, ...] = ()
    if mapping.parent_field is not None:
        assert mapping.parent_level is not None  # resolve_mapping sets it with parent_field
        parents = dissolve_by_parent(frame, parent_level=mapping.parent_level)
        frame = pd.concat([parents, frame], ignore_index=True)
        derived = (mapping.parent_level,)
    frame = canonical_order(gpd.GeoDataFrame(frame, geometry=s.GEOMETRY, crs=STORAGE_CRS))
    return ReadResult(
        frame, str(source), _crs_name(source_crs), mapping, repaired, skipped, derived
    )


def read_boundaries(
    path: str | os.PathLike[str],
    *,
    level: str | None = None,
    name_field: str | None = None,
    code_field: str | None = None,
    parent_field: str | None = None,
    name_en_field: str | None = None,
    layer: str | int | None = None,
    parent_level: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a boundary layer into the boundary model.

    Parameters
    ----------
    path : path-like
        A Shapefile, GeoPackage, GeoJSON (OpenStreetMap exports included) or any other
        OGR-readable file, or a directory written by :func:`write_boundaries`.
    level : str, optional
        Level of the layer's features (region, district or neighborhood). Default: the
        detected layout's level, else neighborhood.
    name_field, code_field, parent_field, name_en_field : str, optional
        Fields holding the (Persian) name, the code, the parent's code and the English
        name. Each one given wins over the detected layout. With ``parent_field`` the
        parent level is derived by dissolving on it and both levels are returned.
    layer : str or int, optional
        Layer of a multi-layer file (a GeoPackage, say).
    parent_level : str, optional
        Level of the dissolved parents (default: region).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`ingest.schema.BOUNDARY_COLUMNS`, EPSG:4326, coarsest level first:
        codes as str, ``parent_code`` str or None, ``population`` nullable Int64, names
        normalized, geometries valid Polygon/MultiPolygon.

    Raises
    ------
    BoundaryError
        With one sentence naming the file and the problem: a missing file, an unreadable
        format, no CRS, no polygons, a missing field.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> b = synthetic_boundaries(n_regions=2, n_neighborhoods=5, seed=1)
    >>> b[b.level == "neighborhood"].to_file(folder / "n.gpkg")
    >>> read_boundaries(folder / "n.gpkg", code_field="code", parent_field="parent_code",
    ...                 level="neighborhood")["level"].value_counts().to_dict()
    {'neighborhood': 5, 'region': 2}
    """
    return read_boundaries_detailed(
        path,
        level=level,
        name_field=name_field,
        code_field=code_field,
        parent_field=parent_field,
        name_en_field=name_en_field,
        layer=layer,
        parent_level=parent_level,
    ).frame


# --- several layers into one hierarchy -----------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """Layers combined into one hierarchy, with the reports made on the way.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        The hierarchy in the boundary model.
    reads : list of ReadResult
        One per input layer.
    attach_reports : dict
        For each level attached to a separate parent layer by overlap, the children whose
        best overlap share is below ``min_overlap`` (see :func:`attach_to_parents`).
    dropped_levels : dict
        Levels derived by dissolving that were replaced by a separate layer, by source.
    """

    frame: gpd.GeoDataFrame
    reads: list[ReadResult]
    attach_reports: dict[str, pd.DataFrame] = field(default_factory=dict)
    dropped_levels: dict[str, list[str]] = field(default_factory=dict)


def combine_layers(reads: Sequence[ReadResult], *, min_overlap: float = 0.9) -> ImportResult:
    """Stack layers read separately into one hierarchy.

    A level given by a layer of its own replaces the same level derived by dissolving
    another layer. Each level whose parents come from a separate layer is attached to the
    next coarser level by largest overlap (:func:`attach_to_parents`).

    Raises
    ------
    BoundaryError
        When two layers give the same level.
    """
    own: dict[str, int] = {}
    for i, read in enumerate(reads):
        for level in levels_present(read.frame):
            if level in read.derived_levels:
                continue
            if level in own:
                msg = (
                    f"Both {reads[own[level]].source} and {read.source} hold the {level} level; "
                    "import one layer per level."
                )
                raise BoundaryError(msg)
            own[level] = i
    pieces: list[gpd.GeoDataFrame] = []
    dropped: dict[str, list[str]] = {}
    source_of: dict[str, int] = dict(own)
    for i, read in enumerate(reads):
        for level in levels_present(read.frame):
            if level in read.derived_levels and level in own:
                dropped.setdefault(read.source, []).append(level)
                continue
            source_of.setdefault(level, i)
            pieces.append(read.frame[read.frame[s.LEVEL] == level])
    frame = pd.concat(pieces, ignore_index=True) if pieces else empty_frame()
    frame = gpd.GeoDataFrame(frame, geometry=s.GEOMETRY, crs=STORAGE_CRS)

    reports: dict[str, pd.DataFrame] = {}
    present = levels_present(frame)
    for level in present:
        parent_level = coarser_present(present, level)
        if parent_level is None or source_of[level] == source_of[parent_level]:
            continue
        is_child = (frame[s.LEVEL] == level).to_numpy()
        attached, report = attach_to_parents(
            frame[is_child], frame[frame[s.LEVEL] == parent_level], min_overlap=min_overlap
        )
        frame.loc[is_child, s.PARENT_CODE] = attached[s.PARENT_CODE].to_numpy(dtype=object)
        reports[level] = report
    return ImportResult(canonical_order(frame), list(reads), reports, dropped)


def import_boundaries(
    paths: Sequence[str | os.PathLike[str]],
    *,
    fields: Sequence[dict[str, str | None]] | None = None,
    min_overlap: float = 0.9,
) -> ImportResult:
    """Read one or more layers and combine them into one hierarchy.

    Parameters
    ----------
    paths : sequence of path-like
        The layers, in any order (for example OSM regions and Mahalat neighborhoods).
    fields : sequence of dict, optional
        Keyword arguments of :func:`read_boundaries_detailed` for each path (``level``,
        ``code_field`` …); one dict for all paths, or one per path.
    min_overlap : float, default 0.9
        Share under which a child attached by overlap is reported.

    Returns
    -------
    ImportResult
        The hierarchy and the reports.
    """
    if not paths:
        msg = "Give at least one boundary file to import."
        raise BoundaryError(msg)
    options = list(fields) if fields else [{}]
    if len(options) == 1:
        options = options * len(paths)
    if len(options) != len(paths):
        msg = (
            f"Field options were given {len(options)} times for {len(paths)} files; "
            "give them once, or once per file in the same order."
        )
        raise BoundaryError(msg)
    reads = [
        read_boundaries_detailed(path, **{k: v for k, v in opts.items() if v is not None})
        for path, opts in zip(paths, options, strict=True)
    ]
    return combine_layers(reads, min_overlap=min_overlap)


def load_tehran_boundaries(
    tehran_dir: Path, *, regions_from: Literal["dissolve", "osm"] = "dissolve"
) -> gpd.GeoDataFrame:
    """Load the real Tehran hierarchy: 375 neighborhoods and 22 regions.

    Parameters
    ----------
    tehran_dir : pathlib.Path
        The folder holding ``Mahalat_Tehran.shp`` and ``tehran_regions_osm.geojson``
        (``../shared/data/tehran``).
    regions_from : {"dissolve", "osm"}, default "dissolve"
        ``"dissolve"``: regions are the neighborhoods dissolved on ``reg_no``, so they
        nest exactly. ``"osm"``: the OpenStreetMap region polygons, each neighborhood
        attached to the region it overlaps most (use :func:`attach_to_parents` directly for
        the report of weak overlaps).

    Returns
    -------
    geopandas.GeoDataFrame
        The hierarchy in the boundary model (no district level: no public layer exists).
    """
    mahalat = Path(tehran_dir) / MAHALAT_FILE
    if regions_from == "dissolve":
        return read_boundaries(mahalat)
    if regions_from != "osm":
        msg = f"regions_from must be 'dissolve' or 'osm', not {regions_from!r}."
        raise BoundaryError(msg)
    result = import_boundaries([Path(tehran_dir) / OSM_REGIONS_FILE, mahalat])
    return result.frame


# --- the normalized hierarchy on disk ------------------------------------------------------


def _parquet_path(directory: str | os.PathLike[str]) -> Path:
    path = Path(directory)
    return path if path.suffix.lower() in {".parquet", ".geoparquet"} else path / BOUNDARIES_FILE


def write_boundaries(frame: gpd.GeoDataFrame, directory: str | os.PathLike[str]) -> Path:
    """Write the normalized hierarchy as GeoParquet, atomically.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A hierarchy in the boundary model (codes unique per level, parents present).
    directory : path-like
        Folder to write ``boundaries.parquet`` into (created when missing).

    Returns
    -------
    pathlib.Path
        The file written. It is written to a temporary file first, then renamed, so a
        reader never sees half a file.

    Raises
    ------
    BoundaryError
        When the frame is not a consistent hierarchy (duplicate codes, dangling parents …).
    """
    require_consistent(frame, what="boundaries to write")
    target = _parquet_path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    ordered = canonical_order(frame)
    handle, temporary = tempfile.mkstemp(prefix=".boundaries-", suffix=".tmp", dir=target.parent)
    os.close(handle)
    try:
        ordered.to_parquet(temporary, index=False)
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return target


def load_boundaries(directory: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read a hierarchy written by :func:`write_boundaries`.

    Parameters
    ----------
    directory : path-like
        The folder given to :func:`write_boundaries` (or the ``.parquet`` file itself).

    Returns
    -------
    geopandas.GeoDataFrame
        The hierarchy in the boundary model, EPSG:4326.

    Examples
    --------
    >>> import tempfile
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> folder = tempfile.mkdtemp()
    >>> b = synthetic_boundaries(n_regions=2, n_neighborhoods=4, seed=1)
    >>> len(load_boundaries(write_boundaries(b, folder).parent)) == len(b)
    True
    """
    path = _parquet_path(directory)
    if not path.exists():
        msg = (
            f"No boundaries found at {path}; write them with "
            "`t137 boundaries import PATH --out DIR` first."
        )
        raise BoundaryError(msg)
    try:
        frame = gpd.read_parquet(path)
    except (OSError, ValueError) as exc:
        msg = f"{path} cannot be read as GeoParquet boundaries ({exc})."
        raise BoundaryError(msg) from None
    require_model(frame, what=str(path))
    frame = frame[list(s.BOUNDARY_COLUMNS)].copy()
    for column in (s.CODE, s.NAME_FA, s.NAME_EN, s.PARENT_CODE):
        values = frame[column].astype(object)
        frame[column] = values.where(values.notna(), None)
    frame[s.POPULATION] = frame[s.POPULATION].astype("Int64")
    return gpd.GeoDataFrame(frame, geometry=s.GEOMETRY, crs=STORAGE_CRS)
