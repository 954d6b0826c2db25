"""The validation report of a boundary layer (``t137 boundaries check``).

It counts features per level and says what is wrong: invalid geometries (repaired with
``make_valid`` and listed by code), overlaps and gaps above a threshold, slivers, duplicate
or missing codes, empty names, and children that do not lie in their parent. Areas are in
square metres, computed in EPSG:32639.

Definitions:

- an **overlap** is the intersection of two features of one level;
- a **gap** is a hole in the union of one level's features (an area enclosed by the
  city that no feature covers); openings on the outer edge cannot be told from the city's
  outline and are not reported;
- a **sliver** is a gap smaller than the gap threshold (a crack between neighbours), or a
  part of a feature smaller than ``sliver_area_m2`` (a stray fragment);
- a child is **not nested** when it has no parent, an unknown parent code, or less than
  ``nested_min_share`` of its area inside its parent.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ingest import schema as s

from .boundaries import RepairedGeometry, read_boundaries_detailed
from .boundary_model import coarser_present, levels_present, polygonal_part, require_model
from .crs import METRIC_CRS, STORAGE_CRS


@dataclass(frozen=True)
class Overlap:
    """Two features of one level that overlap."""

    level: str
    code_a: str | None
    code_b: str | None
    area_m2: float


@dataclass(frozen=True)
class Gap:
    """An area enclosed by a level's features that none of them covers."""

    level: str
    area_m2: float
    lon: float
    lat: float


@dataclass(frozen=True)
class Sliver:
    """A tiny crack between features (``kind="gap"``) or a tiny part of one (``"part"``)."""

    level: str
    kind: str
    code: str | None
    area_m2: float
    lon: float
    lat: float


@dataclass(frozen=True)
class NotNested:
    """A child outside its parent: no parent, an unknown parent code, or a low share inside."""

    level: str
    code: str | None
    parent_code: str | None
    share_inside: float
    reason: str


@dataclass(frozen=True)
class BoundaryReport:
    """What :func:`check_boundaries` found.

    ``problems`` lists the findings that need a fix; ``ok`` is True when there are none.
    Slivers, skipped non-polygon features and overlaps below the threshold are informative.
    """

    source: str
    crs: str
    layout: str | None
    feature_counts: dict[str, int]
    skipped_features: dict[str, int]
    repaired: list[RepairedGeometry]
    overlaps: list[Overlap]
    small_overlaps: int
    gaps: list[Gap]
    slivers: list[Sliver]
    duplicate_codes: dict[str, list[str]]
    missing_codes: dict[str, int]
    empty_names: dict[str, list[str | None]]
    not_nested: list[NotNested]
    area_km2: dict[str, float]
    derived_levels: tuple[str, ...] = ()
    thresholds: dict[str, float] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        """One short line per kind of problem found."""
        found: list[str] = []
        if self.repaired:
            found.append(f"{len(self.repaired)} invalid geometries (repaired)")
        if self.overlaps:
            found.append(f"{len(self.overlaps)} overlaps")
        if self.gaps:
            found.append(f"{len(self.gaps)} gaps")
        duplicates = sum(len(codes) for codes in self.duplicate_codes.values())
        if duplicates:
            found.append(f"{duplicates} duplicate codes")
        missing = sum(self.missing_codes.values())
        if missing:
            found.append(f"{missing} features without a code")
        empty = sum(len(codes) for codes in self.empty_names.values())
        if empty:
            found.append(f"{empty} empty names")
        if self.not_nested:
            found.append(f"{len(self.not_nested)} children not nested in their parent")
        return found

    @property
    def ok(self) -> bool:
        """True when no problem needs a fix."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-serializable data (with ``ok`` and ``problems``)."""
        data = asdict(self)
        data["ok"] = self.ok
        data["problems"] = self.problems
        return data

    def summary(self, *, max_items: int = 10) -> str:
        """Return the report as short human text, listing at most ``max_items`` per finding."""
        counts = ", ".join(f"{n} {level}" for level, n in self.feature_counts.items()) or "none"
        lines = [f"Boundary check of {self.source}"]
        lines.append(f"  layout: {self.layout or 'explicit fields'}; CRS: {self.crs}")
        derived = f" ({', '.join(self.derived_levels)} dissolved)" if self.derived_levels else ""
        lines.append(f"  features: {counts}{derived}")
        if self.area_km2:
            areas = ", ".join(f"{level} {a:,.1f} km²" for level, a in self.area_km2.items())
            lines.append(f"  area: {areas}")
        if self.skipped_features:
            skipped = ", ".join(f"{n} {kind}" for kind, n in self.skipped_features.items())
            lines.append(f"  skipped features: {skipped}")

        def listing(title: str, items: list[str]) -> None:
            if not items:
                lines.append(f"  {title}: none")
                return
            shown = "; ".join(items[:max_items])
            more = f"; … {len(items) - max_items} more" if len(items) > max_items else ""
            lines.append(f"  {title}: {len(items)} — {shown}{more}")

        listing(
            "invalid geometries repaired",
            [
                f"{r.level} {r.code}: {r.reason}{' (dropped: no area left)' if r.dropped else ''}"
                for r in self.repaired
            ],
        )
        overlap_title = f"overlaps ≥ {self.thresholds.get('overlap_threshold_m2', 0):g} m²"
        if self.small_overlaps:
            overlap_title += f" ({self.small_overlaps} smaller ignored)"
        listing(
            overlap_title,
            [f"{o.level} {o.code_a} × {o.code_b}: {o.area_m2:,.0f} m²" for o in self.overlaps],
        )
        listing(
            f"gaps ≥ {self.thresholds.get('gap_threshold_m2', 0):g} m²",
            [f"{g.level} {g.area_m2:,.0f} m² at {g.lon:.5f}, {g.lat:.5f}" for g in self.gaps],
        )
        listing(
            "slivers",
            [
                f"{v.level} {v.kind}{'' if v.code is None else ' of ' + v.code} "
                f"{v.area_m2:.3g} m² at {v.lon:.5f}, {v.lat:.5f}"
                for v in sorted(self.slivers, key=lambda v: -v.area_m2)
            ],
        )
        listing(
            "duplicate codes",
            [f"{level} {code}" for level, codes in self.duplicate_codes.items() for code in codes],
        )
        listing(
            "features without a code",
            [f"{n} {level}" for level, n in self.missing_codes.items() if n],
        )
        listing(
            "empty names",
            [f"{level} {code}" for level, codes in self.empty_names.items() for code in codes],
        )
        listing(
            "children not nested in their parent",
            [
                f"{n.level} {n.code} in {n.parent_code}: {n.reason} ({n.share_inside:.0%} inside)"
                for n in self.not_nested
            ],
        )
        verdict = "OK" if self.ok else "problems: " + ", ".join(self.problems)
        lines.append(f"  result: {verdict}")
        return "\n".join(lines)


def _to_lonlat(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(points) == 0:
        return np.array([]), np.array([])
    geographic = gpd.GeoSeries(points, crs=METRIC_CRS).to_crs(STORAGE_CRS)
    return geographic.x.to_numpy(), geographic.y.to_numpy()


def _overlaps(
    level: str, codes: np.ndarray, geoms: np.ndarray, threshold_m2: float
) -> tuple[list[Overlap], int]:
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    big = areas >= threshold_m2
    found = [
        Overlap(level, codes[i], codes[j], float(a))
        for i, j, a in zip(left[big], right[big], areas[big], strict=True)
    ]
    found.sort(key=lambda o: -o.area_m2)
    return found, int(((areas > 0) & ~big).sum())


def _holes(geoms: np.ndarray) -> np.ndarray:
    """Return the holes of the union of ``geoms`` as polygons."""
    polygons = shapely.get_parts(shapely.union_all(geoms))
    counts = shapely.get_num_interior_rings(polygons)
    which = np.repeat(np.arange(len(polygons)), counts)
    ring = np.concatenate([np.arange(n) for n in counts]) if len(counts) else np.array([], int)
    rings = shapely.get_interior_ring(polygons[which], ring.astype(int))
    return np.asarray(shapely.polygons(rings), dtype=object)


def _gaps_and_slivers(
    level: str,
    codes: np.ndarray,
    geoms: np.ndarray,
    *,
    gap_threshold_m2: float,
    sliver_area_m2: float,
) -> tuple[list[Gap], list[Sliver]]:
    holes = _holes(geoms)
    hole_area = shapely.area(holes)
    lon, lat = _to_lonlat(shapely.point_on_surface(holes))
    gaps = [
        Gap(level, float(hole_area[i]), float(lon[i]), float(lat[i]))
        for i in np.flatnonzero(hole_area >= gap_threshold_m2)
    ]
    slivers = [
        Sliver(level, "gap", None, float(hole_area[i]), float(lon[i]), float(lat[i]))
        for i in np.flatnonzero((hole_area < gap_threshold_m2) & (hole_area > 0))
    ]
    parts, owner = shapely.get_parts(geoms, return_index=True)
    part_area = shapely.area(parts)
    small = np.flatnonzero(part_area < sliver_area_m2)
    plon, plat = _to_lonlat(shapely.point_on_surface(parts[small]))
    slivers += [
        Sliver(level, "part", codes[owner[i]], float(part_area[i]), float(x), float(y))
        for i, x, y in zip(small, plon, plat, strict=True)
    ]
    gaps.sort(key=lambda g: -g.area_m2)
    return gaps, slivers


def _not_nested(
    frame: gpd.GeoDataFrame, metric: np.ndarray, level: str, parent_level: str, min_share: float
) -> list[NotNested]:
    is_child = (frame[s.LEVEL] == level).to_numpy()
    is_parent = (frame[s.LEVEL] == parent_level).to_numpy()
    parent_codes = frame.loc[is_parent, s.CODE].to_numpy(dtype=object)
    parent_geoms = metric[is_parent]
    # First feature of each parent code (duplicates are reported separately).
    first = pd.Series(np.arange(len(parent_codes))).groupby(parent_codes).first()
    codes = frame.loc[is_child, s.CODE].to_numpy(dtype=object)
    parents = frame.loc[is_child, s.PARENT_CODE].to_numpy(dtype=object)
    child_geoms = metric[is_child]
    position = pd.Series(parents, dtype=object).map(first)
    known = position.notna().to_numpy()
    share = np.zeros(len(codes))
    if known.any():
        matched = parent_geoms[position[known].astype(int).to_numpy()]
        inside = shapely.area(shapely.intersection(child_geoms[known], matched))
        area = shapely.area(child_geoms[known])
        share[known] = np.divide(inside, area, out=np.zeros_like(inside), where=area > 0)
    found: list[NotNested] = []
    for i in range(len(codes)):
        if parents[i] is None:
            found.append(NotNested(level, codes[i], None, 0.0, f"no {parent_level}"))
        elif not known[i]:
            found.append(NotNested(level, codes[i], parents[i], 0.0, f"unknown {parent_level}"))
        elif share[i] < min_share:
            found.append(NotNested(level, codes[i], parents[i], float(share[i]), "outside parent"))
    found.sort(key=lambda n: n.share_inside)
    return found


def check_boundaries(
    frame_or_path: gpd.GeoDataFrame | str | os.PathLike[str],
    *,
    overlap_threshold_m2: float = 100.0,
    gap_threshold_m2: float = 100.0,
    sliver_area_m2: float = 1_000.0,
    nested_min_share: float = 0.99,
    level: str | None = None,
    name_field: str | None = None,
    code_field: str | None = None,
    parent_field: str | None = None,
    name_en_field: str | None = None,
    layer: str | int | None = None,
    parent_level: str | None = None,
) -> BoundaryReport:
    """Check a boundary layer (a file, or a frame in the boundary model).

    Parameters
    ----------
    frame_or_path : GeoDataFrame or path-like
        A frame in the boundary model, or a file read with
        :func:`geo.boundaries.read_boundaries` (field options as there).
    overlap_threshold_m2 : float, default 100
        Overlaps between features of one level at least this large, in m², are problems;
        smaller ones are counted only.
    gap_threshold_m2 : float, default 100
        Holes in the union of one level at least this large, in m², are gaps; smaller
        ones are slivers.
    sliver_area_m2 : float, default 1000
        Feature parts smaller than this, in m², are slivers.
    nested_min_share : float, default 0.99
        A child with less of its area inside its parent is reported as not nested.
    level, name_field, code_field, parent_field, name_en_field, layer, parent_level
        Field mapping, for a path (see :func:`geo.boundaries.read_boundaries`).

    Returns
    -------
    BoundaryReport
        The findings; ``summary()`` for people, ``to_dict()`` for machines.

    Raises
    ------
    BoundaryError
        When the file cannot be read as a boundary layer.

    Examples
    --------
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> report = check_boundaries(synthetic_boundaries(n_regions=2, n_neighborhoods=6, seed=1))
    >>> report.feature_counts, report.duplicate_codes
    ({'region': 2, 'neighborhood': 6}, {})
    """
    if isinstance(frame_or_path, gpd.GeoDataFrame):
        frame = require_model(frame_or_path, what="boundaries").copy()
        source, crs = "<frame>", STORAGE_CRS
        layout: str | None = "frame in the boundary model"
        skipped: dict[str, int] = {}
        derived: tuple[str, ...] = ()
        repaired = _repair_frame(frame)
    else:
        read = read_boundaries_detailed(
            frame_or_path,
            level=level,
            name_field=name_field,
            code_field=code_field,
            parent_field=parent_field,
            name_en_field=name_en_field,
            layer=layer,
            parent_level=parent_level,
        )
        frame, source, crs = read.frame, read.source, read.source_crs
        layout, skipped, repaired = read.mapping.layout, read.skipped, read.repaired
        derived = read.derived_levels

    metric = frame.geometry.to_crs(METRIC_CRS).to_numpy()
    present = levels_present(frame)
    counts = {lv: int((frame[s.LEVEL] == lv).sum()) for lv in present}
    overlaps: list[Overlap] = []
    small_overlaps = 0
    gaps: list[Gap] = []
    slivers: list[Sliver] = []
    duplicates: dict[str, list[str]] = {}
    missing: dict[str, int] = {}
    empty_names: dict[str, list[str | None]] = {}
    not_nested: list[NotNested] = []
    area_km2: dict[str, float] = {}
    for lv in present:
        rows = (frame[s.LEVEL] == lv).to_numpy()
        codes = frame.loc[rows, s.CODE].to_numpy(dtype=object)
        geoms = metric[rows]
        area_km2[lv] = float(shapely.area(geoms).sum() / 1e6)
        if lv not in derived:
            # A dissolved level repeats its children's overlaps and gaps: check those once.
            found, small = _overlaps(lv, codes, geoms, overlap_threshold_m2)
            overlaps += found
            small_overlaps += small
            level_gaps, level_slivers = _gaps_and_slivers(
                lv, codes, geoms, gap_threshold_m2=gap_threshold_m2, sliver_area_m2=sliver_area_m2
            )
            gaps += level_gaps
            slivers += level_slivers
        code_series = pd.Series(codes, dtype=object)
        doubled = sorted(set(code_series[code_series.duplicated() & code_series.notna()]))
        if doubled:
            duplicates[lv] = doubled
        if code_series.isna().any():
            missing[lv] = int(code_series.isna().sum())
        unnamed = frame.loc[rows, s.NAME_FA].isna().to_numpy()
        if unnamed.any():
            empty_names[lv] = list(codes[unnamed])
        parent_level = coarser_present(present, lv)
        if parent_level is not None:
            not_nested += _not_nested(frame, metric, lv, parent_level, nested_min_share)
    return BoundaryReport(
        source=source,
        crs=crs,
        layout=layout,
        feature_counts=counts,
        skipped_features=skipped,
        repaired=repaired,
        overlaps=overlaps,
        small_overlaps=small_overlaps,
        gaps=gaps,
        slivers=slivers,
        duplicate_codes=duplicates,
        missing_codes=missing,
        empty_names=empty_names,
        not_nested=not_nested,
        area_km2=area_km2,
        derived_levels=derived,
        thresholds={
            "overlap_threshold_m2": overlap_threshold_m2,
            "gap_threshold_m2": gap_threshold_m2,
            "sliver_area_m2": sliver_area_m2,
            "nested_min_share": nested_min_share,
        },
    )


def _repair_frame(frame: gpd.GeoDataFrame) -> list[RepairedGeometry]:
    """Repair invalid geometries of ``frame`` in place (it is a copy) and list them."""
    geometry = frame.geometry.to_numpy()
    invalid = np.flatnonzero(~shapely.is_valid(geometry) & ~shapely.is_missing(geometry))
    notes: list[RepairedGeometry] = []
    if len(invalid) == 0:
        return notes
    reasons = shapely.is_valid_reason(geometry[invalid])
    fixed = [polygonal_part(g) for g in shapely.make_valid(geometry[invalid])]
    for i, reason, part in zip(invalid, reasons, fixed, strict=True):
        level, code = frame[s.LEVEL].iat[i], frame[s.CODE].iat[i]
        notes.append(RepairedGeometry(str(level), code, str(reason), part is None))
        geometry[i] = part if part is not None else shapely.Polygon()
    frame[s.GEOMETRY] = gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs)
    return notes
