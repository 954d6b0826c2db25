"""A grid index over the finest boundary level that locates points without a loop per point.

The bounding box of the polygons is cut into cells of about ``cell_m`` metres (in degrees,
EPSG:4326), labelled once when the index is built:

- every boundary segment is sampled densely enough to mark each cell it crosses (or
  comes within 0.1 mm of); the marks are conservative, never missing a crossed cell;
- cells no boundary crosses form connected patches, each lying wholly inside the same
  polygons (or outside all of them), so one point-in-polygon test of one cell labels a
  whole patch (connected components, ``scipy.ndimage.label``);
- a crossed cell keeps the short list of polygons that may hold its points.

A point is then answered by one array lookup. Only points in crossed cells are tested
exactly (prepared point-in-polygon on their cell's few candidates).

**Tie rule (borders, vertices, overlaps).** A point in the interior of one or more
polygons goes to the one with the smallest code among them; a point on the boundary of
polygons but in none of their interiors (a shared border or vertex) goes to the one with
the smallest code among the polygons whose boundary it is on. Codes are compared in
natural order: all-digit codes as numbers and before other codes, the rest as strings
(:func:`code_order`). A point in a hole belongs to no polygon whose hole it is. So
wherever ``geopandas.sjoin(points, polygons, predicate="within")`` finds exactly one
polygon, this finds the same one.

Build the index once per boundary set and reuse it (:meth:`BoundaryIndex.from_boundaries`;
:func:`geo.assign.load_index` caches it per boundary file).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from scipy import ndimage  # type: ignore[import-untyped]

from ingest import schema as s

from .boundary_model import levels_present, require_model
from .crs import METRIC_CRS, STORAGE_CRS, require_crs
from .errors import BoundaryError
from .hierarchy import hierarchy_lookup

__all__ = ["DEFAULT_CELL_M", "OUTSIDE", "BoundaryIndex", "code_order"]

#: Default finest cell size, in metres.
DEFAULT_CELL_M: Final = 12.0
#: Polygon number of a point outside every polygon.
OUTSIDE: Final = -1
#: Cells are tested with boxes grown by this much (degrees, about 0.1 mm), so that rounding
#: in the cell arithmetic can never put a point into a cell whose test did not see it.
_PAD_DEG: Final = 1e-9
#: Target size of the coarse blocks that bound the distance to the nearest polygon, metres.
_NEAR_BLOCK_M: Final = 30.0
#: Largest number of finest cells; a larger extent gets coarser cells.
_MAX_CELLS: Final = 32_000_000
_M_PER_DEG_LAT: Final = 110_574.0
_M_PER_DEG_LON_EQUATOR: Final = 111_320.0

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def code_order(codes: Sequence[str]) -> IntArray:
    """Return the rank of each code in the tie rule's natural order (0 wins).

    All-digit codes come first, compared as numbers (``"99" < "101"``); the others follow,
    compared as strings.

    Parameters
    ----------
    codes : sequence of str
        Unique codes of one level.

    Returns
    -------
    numpy.ndarray
        ``rank[i]`` is the position of ``codes[i]`` in the natural order.

    Examples
    --------
    >>> code_order(["101", "99", "a1"]).tolist()
    [1, 0, 2]
    """

    def key(code: str) -> tuple[int, int, str]:
        return (0, int(code), code) if code.isdigit() else (1, 0, code)

    order = sorted(range(len(codes)), key=lambda i: key(codes[i]))
    rank = np.empty(len(codes), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(codes), dtype=np.int64)
    return rank


def _first_per_group(groups: IntArray, values: IntArray) -> tuple[IntArray, IntArray]:
    """Return each group and the first value in it (``groups`` sorted ascending)."""
    if len(groups) == 0:
        return groups, values
    first = np.ones(len(groups), dtype=bool)
    first[1:] = groups[1:] != groups[:-1]
    return groups[first], values[first]


def _segments(polygons: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.object_], IntArray]:
    """Cut every ring of every polygon into two-point segments; return them and their polygon."""
    rings = shapely.get_parts(shapely.boundary(polygons), return_index=True)
    lines, owner = rings
    coords, line_of = shapely.get_coordinates(lines, return_index=True)
    same_line = line_of[1:] == line_of[:-1]
    starts = coords[:-1][same_line]
    ends = coords[1:][same_line]
    segments: npt.NDArray[np.object_] = np.asarray(
        shapely.linestrings(np.stack([starts, ends], axis=1)), dtype=object
    )
    return segments, owner[line_of[:-1][same_line]].astype(np.int64)


@dataclass(frozen=True, eq=False, repr=False)
class BoundaryIndex:
    """Point-location index over one boundary level (build with :meth:`from_boundaries`).

    Attributes
    ----------
    level : str
        The level indexed (the finest level of the boundaries).
    codes : numpy.ndarray
        Codes of the polygons, in tie-rule order: polygon ``i`` beats polygon ``j > i``.
    polygons : numpy.ndarray
        The polygons (EPSG:4326, prepared), in the order of ``codes``.
    lookup : pandas.DataFrame
        :func:`geo.hierarchy.hierarchy_lookup` rows in the order of ``codes``.
    cell_deg : tuple of float
        Finest cell width and height, in degrees.
    origin : tuple of float
        Lower-left corner (lon, lat) of the grid.
    grid : numpy.ndarray
        ``(rows, cols)`` int32: ``p >= 0`` for a cell of patch ``p`` (no boundary crosses
        it; its polygon is ``patch_label[p]``), or ``-1 - k`` for the crossed cell ``k``
        whose candidates are ``cand_poly[cand_ptr[k]:cand_ptr[k + 1]]``.
    patch_label : numpy.ndarray
        Polygon number of each patch of uncrossed cells, or :data:`OUTSIDE`.
    cand_ptr, cand_poly : numpy.ndarray
        Candidate polygons of the crossed cells (CSR, ascending polygon number).
    build_seconds : float
        Wall-clock time the build took.
    metric_crs : str
        The CRS snapping distances are measured in: EPSG:32639 (UTM 39N) for Tehran, the
        local UTM zone for boundaries outside zone 39.
    near : _NearGrid
        Lower bounds on the distance to the nearest polygon (skips hopeless snapping).
    snap : _SnapSegments
        The boundary segments in EPSG:32639, for snapping.
    """

    level: str
    codes: npt.NDArray[np.object_]
    polygons: npt.NDArray[np.object_]
    lookup: pd.DataFrame
    cell_deg: tuple[float, float]
    origin: tuple[float, float]
    grid: npt.NDArray[np.int32]
    patch_label: IntArray
    cand_ptr: IntArray
    cand_poly: IntArray
    build_seconds: float
    metric_crs: str
    near: _NearGrid
    snap: _SnapSegments

    # --- building -------------------------------------------------------------------------

    @classmethod
    def from_boundaries(
        cls, frame: gpd.GeoDataFrame, *, cell_m: float = DEFAULT_CELL_M
    ) -> BoundaryIndex:
        """Build the index over the finest level of a boundary hierarchy.

        Parameters
        ----------
        frame : geopandas.GeoDataFrame
            A hierarchy in the boundary model, EPSG:4326 (any finest level works).
        cell_m : float, default 12.0
            Finest cell size, in metres. Smaller cells send fewer points to the exact test
            but take longer to build; a very large extent gets coarser cells so that the
            grid stays under 32 million cells.

        Returns
        -------
        BoundaryIndex
            The index; it does not change and may be shared between threads.

        Raises
        ------
        BoundaryError
            When the frame holds no polygon.
        CRSError
            When the frame is not in EPSG:4326.
        """
        started = time.perf_counter()
        require_model(frame, what="boundaries")
        require_crs(frame.crs, STORAGE_CRS, what="boundaries")
        if not cell_m > 0:
            msg = f"cell_m must be a positive number of metres, not {cell_m}."
            raise BoundaryError(msg)
        levels = levels_present(frame)
        rows = frame[frame[s.LEVEL] == levels[-1]] if levels else frame.iloc[:0]
        rows = rows[~(rows.geometry.isna() | rows.geometry.is_empty)]
        if len(rows) == 0:
            msg = "The boundaries hold no polygon to assign points to; import boundaries first."
            raise BoundaryError(msg)
        level = levels[-1]
        raw_codes = [str(c) for c in rows[s.CODE].to_numpy(dtype=object)]
        order = np.argsort(code_order(raw_codes), kind="stable")
        codes = np.asarray(raw_codes, dtype=object)[order]
        # Copies, so that preparing them leaves the caller's geometries alone.
        polygons = np.asarray(shapely.from_wkb(shapely.to_wkb(rows.geometry.values)), dtype=object)
        polygons = polygons[order]
        shapely.prepare(polygons)
        lookup = hierarchy_lookup(frame).reindex(pd.Index(codes, dtype=object))

        minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(polygons))
        mid_lat = math.radians((miny + maxy) / 2.0)
        dy = cell_m / _M_PER_DEG_LAT
        dx = cell_m / (_M_PER_DEG_LON_EQUATOR * max(math.cos(mid_lat), 0.05))
        width, height = maxx - minx + 4 * _PAD_DEG, maxy - miny + 4 * _PAD_DEG
        while (width / dx) * (height / dy) > _MAX_CELLS:
            dx, dy = dx * 2.0, dy * 2.0
        # Centre the grid on the polygons with at least two empty cells all round, so that
        # its outermost ring is never crossed: locate() clamps far points onto that ring.
        cols = math.ceil(width / dx) + 4
        rows_n = math.ceil(height / dy) + 4
        x0 = minx - (cols * dx - (maxx - minx)) / 2.0
        y0 = miny - (rows_n * dy - (maxy - miny)) / 2.0

        segments, seg_owner = _segments(polygons)
        tree = shapely.STRtree(polygons)
        grid, patch_label, cand_ptr, cand_poly = _label_grid(
            tree=tree,
            polygons=polygons,
            segments=segments,
            seg_owner=seg_owner,
            origin=(x0, y0),
            cell=(dx, dy),
            shape=(rows_n, cols),
        )
        metric_crs = _metric_crs(minx, miny, maxx, maxy)
        near = _NearGrid.from_crossed(
            grid < 0, origin=(x0, y0), cell=(dx, dy), metric_crs=metric_crs
        )
        snap = _SnapSegments.from_segments(segments, seg_owner, metric_crs)
        return cls(
            level=level,
            codes=codes,
            polygons=polygons,
            lookup=lookup,
            cell_deg=(dx, dy),
            origin=(x0, y0),
            grid=grid,
            patch_label=patch_label,
            cand_ptr=cand_ptr,
            cand_poly=cand_poly,
            build_seconds=time.perf_counter() - started,
            metric_crs=metric_crs,
            near=near,
            snap=snap,
        )

    def __repr__(self) -> str:
        rows_n, cols = self.grid.shape
        return (
            f"BoundaryIndex({len(self.codes)} {self.level} polygons, grid {rows_n}x{cols}, "
            f"{self.crossed_cells} crossed cells, {self.nbytes / 1e6:.1f} MB)"
        )

    # --- querying -------------------------------------------------------------------------

    @property
    def crossed_cells(self) -> int:
        """Number of finest cells crossed by a boundary (their points are tested exactly)."""
        return len(self.cand_ptr) - 1

    @property
    def nbytes(self) -> int:
        """Memory held by the grid and the candidate lists, in bytes."""
        arrays = (self.grid, self.patch_label, self.cand_ptr, self.cand_poly, self.near.bound_m)
        return sum(int(a.nbytes) for a in arrays)

    def cell_labels(self) -> npt.NDArray[np.int64]:
        """Return each cell's polygon number, :data:`OUTSIDE`, or ``-2 - k`` if crossed."""
        labels = self.patch_label[np.maximum(self.grid, 0)]
        crossed = self.grid < 0
        labels[crossed] = -1 + self.grid[crossed]
        return labels

    def locate(self, *, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Return the polygon number of each point, or :data:`OUTSIDE`.

        Parameters
        ----------
        lon, lat : numpy.ndarray of float
            The points' longitude and latitude (EPSG:4326); NaN is outside.

        Returns
        -------
        numpy.ndarray of int64
            Index into :attr:`codes` by the tie rule, or ``-1`` outside every polygon.
        """
        if len(lon) == 0:
            return np.full(0, OUTSIDE, dtype=np.int64)
        dx, dy = self.cell_deg
        rows_n, cols = self.grid.shape
        # Positions are clamped onto the grid: points off it land on its outermost ring,
        # which lies outside every polygon (fmax also sends NaN there). Truncation is the
        # floor of the clamped, non-negative positions.
        fx = lon - self.origin[0]
        fx /= dx
        np.fmin(np.fmax(fx, 0.0, out=fx), cols - 1, out=fx)
        fy = lat - self.origin[1]
        fy /= dy
        np.fmin(np.fmax(fy, 0.0, out=fy), rows_n - 1, out=fy)
        flat = fy.astype(np.intp)
        flat *= cols
        flat += fx.astype(np.intp)
        value = self.grid.ravel()[flat]
        result = self.patch_label[np.maximum(value, 0)]
        crossed = np.flatnonzero(value < 0)
        if len(crossed):
            cells = -1 - value[crossed].astype(np.int64)
            result[crossed] = self._exact(crossed, cells, lon, lat)
        return result

    def _exact(
        self, points: IntArray, cells: IntArray, lon: FloatArray, lat: FloatArray
    ) -> IntArray:
        """Test points of crossed cells against their cells' candidates; apply the tie rule."""
        start = self.cand_ptr[cells]
        count = self.cand_ptr[cells + 1] - start
        total = int(count.sum())
        pair_point = np.repeat(np.arange(len(points), dtype=np.int64), count)
        offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
        pair_poly = self.cand_poly[np.repeat(start, count) + offset]
        x, y = lon[points][pair_point], lat[points][pair_point]
        hit = shapely.intersects_xy(self.polygons[pair_poly], x, y)
        pair_point, pair_poly, x, y = pair_point[hit], pair_poly[hit], x[hit], y[hit]
        # A point covered by several polygons: interiors beat boundaries (shapely's
        # contains_xy is False on the boundary). Candidates are in ascending polygon
        # number, so the first pair left per point is the tie rule's winner.
        shared = np.bincount(pair_point, minlength=len(points))[pair_point] > 1
        on_edge = np.zeros(len(pair_point), dtype=bool)
        on_edge[shared] = ~shapely.contains_xy(
            self.polygons[pair_poly[shared]], x[shared], y[shared]
        )
        order = np.lexsort((pair_poly, on_edge, pair_point))
        won_point, won_poly = _first_per_group(pair_point[order], pair_poly[order])
        result = np.full(len(points), OUTSIDE, dtype=np.int64)
        result[won_point] = won_poly
        return result

    def nearest_within(
        self, *, lon: FloatArray, lat: FloatArray, max_distance_m: float
    ) -> IntArray:
        """Return the nearest polygon within ``max_distance_m`` of each point, or -1.

        Distances are measured in :attr:`metric_crs` (EPSG:32639 for Tehran); equally
        near polygons go by the tie rule.

        Parameters
        ----------
        lon, lat : numpy.ndarray of float
            The points (EPSG:4326), finite and in range.
        max_distance_m : float
            Search radius, in metres.

        Returns
        -------
        numpy.ndarray of int64
            Polygon number, or ``-1`` when none is that near.
        """
        result = np.full(len(lon), OUTSIDE, dtype=np.int64)
        if len(lon) == 0 or not max_distance_m > 0:
            return result
        near = np.flatnonzero(self.near.lower_bound_m(lon=lon, lat=lat) <= max_distance_m)
        x, y = _to_metric(self.metric_crs).transform(lon[near], lat[near])
        finite = np.isfinite(x) & np.isfinite(y)
        usable = near[finite]
        if len(usable) == 0:
            return result
        # Points are searched in groups: all the points of one coarse block share one
        # query box (the block's footprint grown by the radius); off the grid, one each.
        block = self.near.block_of(lon=lon[usable], lat=lat[usable])
        unit_key = np.where(block >= 0, block, self.near.bound_m.size + np.arange(len(usable)))
        units, unit_of_point = np.unique(unit_key, return_inverse=True)
        bounds = np.empty((len(units), 4))
        is_block = units < self.near.bound_m.size
        bounds[is_block] = self.near.block_bounds_m(units[is_block])
        loose = unit_of_point[block < 0]
        loose_x, loose_y = x[finite][block < 0], y[finite][block < 0]
        bounds[loose] = np.column_stack([loose_x, loose_y, loose_x, loose_y])
        found = self.snap.nearest_within(
            x=x[finite],
            y=y[finite],
            unit_of_point=unit_of_point.astype(np.int64),
            unit_bounds=bounds,
            max_distance_m=max_distance_m,
        )
        result[usable] = found
        return result


@dataclass(frozen=True, eq=False)
class _SnapSegments:
    """The polygons' boundary segments in EPSG:32639, for snapping points to the nearest one.

    The distance from a point outside every polygon to a polygon is its distance to the
    nearest segment of that polygon's boundary.
    """

    ax: FloatArray
    ay: FloatArray
    vx: FloatArray
    vy: FloatArray
    inv_length2: FloatArray
    owner: IntArray
    tree: shapely.STRtree

    @classmethod
    def from_segments(
        cls, segments: npt.NDArray[np.object_], owner: IntArray, metric_crs: str
    ) -> _SnapSegments:
        ends = shapely.get_coordinates(segments)
        x, y = _to_metric(metric_crs).transform(ends[:, 0], ends[:, 1])
        metric = np.column_stack([x, y]).reshape(-1, 2, 2)
        lines = np.asarray(shapely.linestrings(metric), dtype=object)
        vx = metric[:, 1, 0] - metric[:, 0, 0]
        vy = metric[:, 1, 1] - metric[:, 0, 1]
        length2 = vx * vx + vy * vy
        # A segment of length 0 is its start point (t = 0).
        inv_length2 = np.divide(1.0, length2, out=np.zeros_like(length2), where=length2 > 0)
        return cls(
            ax=np.ascontiguousarray(metric[:, 0, 0]),
            ay=np.ascontiguousarray(metric[:, 0, 1]),
            vx=vx,
            vy=vy,
            inv_length2=inv_length2,
            owner=owner,
            tree=shapely.STRtree(lines),
        )

    def nearest_within(
        self,
        *,
        x: FloatArray,
        y: FloatArray,
        unit_of_point: IntArray,
        unit_bounds: FloatArray,
        max_distance_m: float,
    ) -> IntArray:
        """Return the owner of the nearest segment within ``max_distance_m`` of each point.

        Points are grouped in units (``unit_of_point``) whose bounds ``unit_bounds``
        (minx, miny, maxx, maxy, metres) hold them: the segments near a unit are found
        once. Equal distances (within a micrometre) go to the smallest polygon number.
        """
        d = max_distance_m
        result = np.full(len(x), OUTSIDE, dtype=np.int64)
        b = unit_bounds
        unit, unit_seg = self.tree.query(
            shapely.box(b[:, 0] - d, b[:, 1] - d, b[:, 2] + d, b[:, 3] + d)
        )
        if len(unit) > 1 and (unit[1:] < unit[:-1]).any():  # STRtree keeps input order
            order = np.argsort(unit, kind="stable")
            unit, unit_seg = unit[order], unit_seg[order]
        ptr = np.zeros(len(b) + 1, dtype=np.int64)
        np.cumsum(np.bincount(unit, minlength=len(b)), out=ptr[1:])
        start = ptr[unit_of_point]
        count = ptr[unit_of_point + 1] - start
        pair_point = np.repeat(np.arange(len(x), dtype=np.int64), count)
        offset = np.arange(len(pair_point), dtype=np.int64) - np.repeat(
            np.cumsum(count) - count, count
        )
        pair_seg = unit_seg[np.repeat(start, count) + offset]
        vx, vy = self.vx[pair_seg], self.vy[pair_seg]
        px = x[pair_point]
        px -= self.ax[pair_seg]
        py = y[pair_point]
        py -= self.ay[pair_seg]
        # t: where the foot of the perpendicular falls on the segment, clipped to its ends.
        t = px * vx
        t += py * vy
        t *= self.inv_length2[pair_seg]
        np.clip(t, 0.0, 1.0, out=t)
        vx *= t
        vy *= t
        px -= vx
        py -= vy
        squared = px * px
        squared += py * py
        near = np.flatnonzero(squared <= d * d)
        if len(near) == 0:
            return result
        # Pairs come grouped by point; keep each point's nearest (to a micrometre), then the
        # smallest polygon number among those.
        point = pair_point[near]
        distance = np.sqrt(squared[near])
        poly = self.owner[pair_seg[near]]
        starts = np.flatnonzero(np.r_[True, point[1:] != point[:-1]])
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(point)]))
        nearest = np.minimum.reduceat(distance, starts)[group]
        best = np.where(distance <= nearest + 1e-6, poly, np.iinfo(np.int64).max)
        result[point[starts]] = np.minimum.reduceat(best, starts)
        return result


@dataclass(frozen=True, eq=False)
class _NearGrid:
    """A coarse grid of lower bounds on the distance (metres) to the nearest polygon.

    It lets snapping skip the points that cannot be within the tolerance without
    projecting them: the bound is the distance transform of the coarse blocks that hold
    a boundary, less a block diagonal, with the smallest metres-per-degree of the extent.
    """

    origin: tuple[float, float]
    metric_crs: str
    block_deg: tuple[float, float]
    extent_deg: tuple[float, float]
    m_per_deg: tuple[float, float]
    bound_m: npt.NDArray[np.float32]

    @classmethod
    def from_crossed(
        cls,
        crossed: npt.NDArray[np.bool_],
        *,
        origin: tuple[float, float],
        cell: tuple[float, float],
        metric_crs: str,
    ) -> _NearGrid:
        # The nearest polygon point of a point outside every polygon is on a boundary,
        # and every boundary lies in crossed cells.
        rows_n, cols = crossed.shape
        extent = (cols * cell[0], rows_n * cell[1])
        lon_scale, lat_scale = _metres_per_degree(origin, extent, metric_crs)
        cell_m = min(cell[0] * lon_scale[0], cell[1] * lat_scale[0])
        factor = max(1, round(_NEAR_BLOCK_M / cell_m))
        blocks_r, blocks_c = -(-rows_n // factor), -(-cols // factor)
        occupied = np.zeros((blocks_r * factor, blocks_c * factor), dtype=bool)
        occupied[:rows_n, :cols] = crossed
        held = occupied.reshape(blocks_r, factor, blocks_c, factor).any(axis=(1, 3))
        bx, by = cell[0] * factor, cell[1] * factor
        distance = ndimage.distance_transform_edt(
            ~held, sampling=(by * lat_scale[0], bx * lon_scale[0])
        )
        diagonal = math.hypot(bx * lon_scale[1], by * lat_scale[1])
        bound = np.maximum(distance - diagonal, 0.0).astype(np.float32)
        return cls(
            origin=origin,
            metric_crs=metric_crs,
            block_deg=(bx, by),
            extent_deg=(cols * cell[0], rows_n * cell[1]),
            m_per_deg=(lon_scale[0], lat_scale[0]),
            bound_m=bound,
        )

    def may_reach(
        self, *, lon: FloatArray, lat: FloatArray, max_distance_m: float
    ) -> npt.NDArray[np.bool_]:
        """Return False for points surely farther than ``max_distance_m`` from the grid."""
        margin_x = max_distance_m / self.m_per_deg[0]
        margin_y = max_distance_m / self.m_per_deg[1]
        rel_x = lon - self.origin[0]
        rel_y = lat - self.origin[1]
        return (
            (rel_x >= -margin_x)
            & (rel_x <= self.extent_deg[0] + margin_x)
            & (rel_y >= -margin_y)
            & (rel_y <= self.extent_deg[1] + margin_y)
        )

    def block_of(self, *, lon: FloatArray, lat: FloatArray) -> IntArray:
        """Return the flat coarse block of each point, or -1 off the grid."""
        blocks_r, blocks_c = self.bound_m.shape
        fx = (lon - self.origin[0]) / self.block_deg[0]
        fy = (lat - self.origin[1]) / self.block_deg[1]
        on = (fx >= 0) & (fx < blocks_c) & (fy >= 0) & (fy < blocks_r)
        block = np.full(len(lon), -1, dtype=np.int64)
        block[on] = fy[on].astype(np.int64) * blocks_c + fx[on].astype(np.int64)
        return block

    def block_bounds_m(self, blocks: IntArray) -> FloatArray:
        """Return (minx, miny, maxx, maxy) in the metric CRS of flat blocks, grown by 1 m."""
        blocks_c = self.bound_m.shape[1]
        left = self.origin[0] + (blocks % blocks_c) * self.block_deg[0]
        bottom = self.origin[1] + (blocks // blocks_c) * self.block_deg[1]
        corner_lon = np.concatenate([left, left + self.block_deg[0]] * 2)
        corner_lat = np.concatenate([bottom] * 2 + [bottom + self.block_deg[1]] * 2)
        cx, cy = _to_metric(self.metric_crs).transform(corner_lon, corner_lat)
        cx, cy = cx.reshape(4, -1), cy.reshape(4, -1)
        return np.column_stack(
            [cx.min(axis=0) - 1, cy.min(axis=0) - 1, cx.max(axis=0) + 1, cy.max(axis=0) + 1]
        )

    def lower_bound_m(self, *, lon: FloatArray, lat: FloatArray) -> FloatArray:
        """Return a lower bound on each point's distance to the nearest polygon, in metres."""
        rel_x = lon - self.origin[0]
        rel_y = lat - self.origin[1]
        gap_x = np.maximum(np.maximum(-rel_x, rel_x - self.extent_deg[0]), 0.0)
        gap_y = np.maximum(np.maximum(-rel_y, rel_y - self.extent_deg[1]), 0.0)
        bound = np.hypot(gap_x * self.m_per_deg[0], gap_y * self.m_per_deg[1])
        blocks_r, blocks_c = self.bound_m.shape
        col = np.floor(rel_x / self.block_deg[0])
        row = np.floor(rel_y / self.block_deg[1])
        on = np.flatnonzero((col >= 0) & (col < blocks_c) & (row >= 0) & (row < blocks_r))
        bound[on] = self.bound_m[row[on].astype(np.int64), col[on].astype(np.int64)]
        return bound


def _metres_per_degree(
    origin: tuple[float, float], extent: tuple[float, float], metric_crs: str
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return (min, max) metres per degree of longitude and of latitude over the extent.

    Measured in ``metric_crs`` on a 7 x 7 lattice, with a 2 % margin each way.
    """
    lon = origin[0] + np.linspace(0.0, extent[0], 7)
    lat = origin[1] + np.linspace(0.0, extent[1], 7)
    lon_g, lat_g = (a.ravel() for a in np.meshgrid(lon, lat))
    step = 1e-3
    to_metric = _to_metric(metric_crs)
    x0, y0 = to_metric.transform(lon_g, lat_g)
    x1, y1 = to_metric.transform(lon_g + step, lat_g)
    x2, y2 = to_metric.transform(lon_g, lat_g + step)
    along_lon = np.hypot(x1 - x0, y1 - y0) / step
    along_lat = np.hypot(x2 - x0, y2 - y0) / step
    return (
        (float(np.min(along_lon)) * 0.98, float(np.max(along_lon)) * 1.02),
        (float(np.min(along_lat)) * 0.98, float(np.max(along_lat)) * 1.02),
    )


_TRANSFORMERS = threading.local()


def _to_metric(metric_crs: str) -> Transformer:
    """Return this thread's transformer from EPSG:4326 (pyproj's are not thread-safe)."""
    cache: dict[str, Transformer] | None = getattr(_TRANSFORMERS, "cache", None)
    if cache is None:
        cache = {}
        _TRANSFORMERS.cache = cache
    if metric_crs not in cache:
        cache[metric_crs] = Transformer.from_crs(STORAGE_CRS, metric_crs, always_xy=True)
    return cache[metric_crs]


def _metric_crs(minx: float, miny: float, maxx: float, maxy: float) -> str:
    """Return EPSG:32639 for an extent in UTM zone 39N (48–54° E), else its own UTM zone."""
    centre_lon, centre_lat = (minx + maxx) / 2.0, (miny + maxy) / 2.0
    if 48.0 <= centre_lon <= 54.0 and 0.0 <= centre_lat <= 84.0:
        return METRIC_CRS
    utm = gpd.GeoSeries([shapely.box(minx, miny, maxx, maxy)], crs=STORAGE_CRS).estimate_utm_crs()
    return str(utm.to_string())


def _covering(
    tree: shapely.STRtree,
    polygons: npt.NDArray[np.object_],
    x: npt.NDArray[np.floating[Any]],
    y: npt.NDArray[np.floating[Any]],
) -> tuple[IntArray, IntArray]:
    """Return (point, polygon) pairs where the polygon covers the point."""
    pair_point, pair_poly = tree.query(shapely.points(x, y))
    hit = shapely.intersects_xy(polygons[pair_poly], x[pair_point], y[pair_point])
    return pair_point[hit].astype(np.int64), pair_poly[hit].astype(np.int64)


def _winners(n: int, pair_point: IntArray, pair_poly: IntArray) -> IntArray:
    """Return the smallest polygon number per point (the tie rule), or -1."""
    best = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(best, pair_point, pair_poly)
    best[best == np.iinfo(np.int64).max] = OUTSIDE
    return best


def _crossed_cells(
    segments: npt.NDArray[np.object_],
    seg_owner: IntArray,
    *,
    origin: tuple[float, float],
    cell: tuple[float, float],
    shape: tuple[int, int],
) -> tuple[IntArray, IntArray]:
    """Return (flat cell, polygon) pairs: every cell whose padded box a boundary may touch.

    Each segment is sampled every quarter cell. A sample marks its own cell and each
    neighbour whose edge it is within half a sample spacing (plus the padding) of, so every
    cell a segment passes through, or comes within the padding of, is marked; a few cells
    it only passes near are marked too, which costs an exact test but never a wrong answer.
    """
    dx, dy = cell
    rows_n, cols = shape
    ends = shapely.get_coordinates(segments).reshape(-1, 2, 2)
    # Work in cell units, where the grid's cells are unit squares.
    fx = (ends[:, :, 0] - origin[0]) / dx
    fy = (ends[:, :, 1] - origin[1]) / dy
    step = 0.25
    length = np.hypot(fx[:, 1] - fx[:, 0], fy[:, 1] - fy[:, 0])
    pieces = np.maximum(np.ceil(length / step), 1).astype(np.int64)
    seg = np.repeat(np.arange(len(segments), dtype=np.int64), pieces + 1)
    first = np.repeat(np.cumsum(pieces + 1) - (pieces + 1), pieces + 1)
    t = (np.arange(len(seg), dtype=np.int64) - first) / pieces[seg]
    sx = fx[seg, 0] + t * (fx[seg, 1] - fx[seg, 0])
    sy = fy[seg, 0] + t * (fy[seg, 1] - fy[seg, 0])
    reach = step / 2.0 + 2.0 * _PAD_DEG / min(dx, dy)
    col0, row0 = np.floor(sx), np.floor(sy)
    frac_x, frac_y = sx - col0, sy - row0
    owner = seg_owner[seg]
    cell_ids: list[IntArray] = []
    owner_ids: list[IntArray] = []
    for ax, near_x in ((0, None), (-1, frac_x <= reach), (1, frac_x >= 1.0 - reach)):
        for ay, near_y in ((0, None), (-1, frac_y <= reach), (1, frac_y >= 1.0 - reach)):
            keep = np.ones(len(seg), dtype=bool)
            if near_x is not None:
                keep &= near_x
            if near_y is not None:
                keep &= near_y
            c = col0[keep].astype(np.int64) + ax
            r = row0[keep].astype(np.int64) + ay
            inside = (c >= 0) & (c < cols) & (r >= 0) & (r < rows_n)
            flat = r[inside] * cols + c[inside]
            who = owner[keep][inside]
            # Consecutive samples mostly repeat the same (cell, polygon): drop those early.
            new = np.ones(len(flat), dtype=bool)
            new[1:] = (flat[1:] != flat[:-1]) | (who[1:] != who[:-1])
            cell_ids.append(flat[new])
            owner_ids.append(who[new])
    return np.concatenate(cell_ids), np.concatenate(owner_ids)


def _label_grid(
    *,
    tree: shapely.STRtree,
    polygons: npt.NDArray[np.object_],
    segments: npt.NDArray[np.object_],
    seg_owner: IntArray,
    origin: tuple[float, float],
    cell: tuple[float, float],
    shape: tuple[int, int],
) -> tuple[npt.NDArray[np.int32], IntArray, IntArray, IntArray]:
    """Label every cell; return the grid, the patch labels and the candidates (CSR).

    Cells no boundary crosses form connected patches (4-neighbour components) that lie
    wholly inside the same polygons, so one centre test labels a whole patch. A crossed
    cell keeps the polygons whose boundary crosses it plus those covering its centre (a
    polygon covering part of a cell either crosses it or covers all of it).
    """
    dx, dy = cell
    rows_n, cols = shape
    mark_cell, mark_poly = _crossed_cells(
        segments, seg_owner, origin=origin, cell=cell, shape=shape
    )
    crossed = np.zeros(rows_n * cols, dtype=bool)
    crossed[mark_cell] = True
    patches, n_patches = ndimage.label(~crossed.reshape(shape), output=np.int32)
    flat_patch = patches.ravel()
    # Any one cell of each patch will do as its representative.
    representative = np.zeros(n_patches + 1, dtype=np.int64)
    representative[flat_patch] = np.arange(len(flat_patch), dtype=np.int32)
    rep = representative[1:]
    rep_x = origin[0] + (rep % cols + 0.5) * dx
    rep_y = origin[1] + (rep // cols + 0.5) * dy
    patch_label = np.full(n_patches + 1, OUTSIDE, dtype=np.int64)
    patch_label[1:] = _winners(n_patches, *_covering(tree, polygons, rep_x, rep_y))

    hot = np.flatnonzero(crossed)
    grid = flat_patch
    grid[hot] = -1 - np.arange(len(hot), dtype=np.int32)
    hot_x = origin[0] + (hot % cols + 0.5) * dx
    hot_y = origin[1] + (hot // cols + 0.5) * dy
    hot_point, hot_poly = _covering(tree, polygons, hot_x, hot_y)
    n_poly = len(polygons)
    pair_cell = np.concatenate([np.searchsorted(hot, mark_cell), hot_point])
    pair_poly = np.concatenate([mark_poly, hot_poly])
    key = np.unique(pair_cell * n_poly + pair_poly)
    cand_cell, cand_poly = key // n_poly, key % n_poly
    cand_ptr = np.zeros(len(hot) + 1, dtype=np.int64)
    np.cumsum(np.bincount(cand_cell, minlength=len(hot)), out=cand_ptr[1:])
    return grid.reshape(shape), patch_label, cand_ptr, cand_poly.astype(np.int64)
