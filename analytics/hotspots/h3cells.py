"""Vectorized H3 indexing of many points, and H3 cell geometry and adjacency.

h3 4.5 only offers a scalar ``latlng_to_cell`` (its ``numpy_int`` API wraps the same scalar
call), and a Python loop over 5 million points takes about 9 s. :func:`latlng_to_cells`
calls h3 once per *distinct coarse grid cell* instead and finds each point's cell with numpy:

1. points are binned into a lon/lat grid whose cells are an eighth, a quarter or 1/2.5 of the
   H3 edge length (finer when there are many points per grid cell);
2. h3 indexes each occupied grid cell's centre (a loop over grid cells, not points: at most
   about 150,000 for a whole city at resolution 8, whatever the number of cases);
3. a grid cell whose four corners lie in its centre's H3 cell lies wholly in it (H3 cells are
   convex spherical polygons), and all its points get that cell;
4. the other points (in grid cells crossed by an H3 edge) are tested, in chunks, against the
   centre cell and its six neighbours (``grid_disk(·, 1)``) by a vectorized point-in-polygon
   test on the sphere: H3 edges are great-circle arcs, so a point is inside when it is on the
   inner side of every edge's plane (unit vectors, ``p · (v_i × v_{i+1}) ≥ 0``);
5. the few points left undecided (on an edge, within rounding) get h3's scalar answer.

At resolutions finer than the spacing of the points (more occupied grid cells than half the
points; resolution 11 and finer for a city's cases) there is nothing to share and the points
are indexed one by one.

The result equals ``h3.latlng_to_cell`` except, possibly, for points within rounding error of
a cell edge (tests compare both on random points).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import h3
import h3.api.basic_int as h3i
import numpy as np
import numpy.typing as npt
import shapely

from geo.errors import InputError

F64 = npt.NDArray[np.float64]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

_M_PER_DEG: float = 111_320.0
_CHUNK: int = 262_144
_DENSE_MAX: int = 50_000_000


def latlng_to_cells(*, lat: F64, lng: F64, resolution: int) -> U64:
    """Return the H3 cell (as an unsigned 64-bit integer) of each point.

    Parameters
    ----------
    lat, lng : numpy.ndarray
        The points' latitudes and longitudes in degrees (EPSG:4326).
    resolution : int
        H3 resolution, 0–15.

    Returns
    -------
    numpy.ndarray
        ``uint64`` H3 indexes, aligned with the points.

    Examples
    --------
    >>> lat = np.array([35.70, 35.71, 35.7001]); lng = np.array([51.40, 51.42, 51.4001])
    >>> cells = latlng_to_cells(lat=lat, lng=lng, resolution=8)
    >>> [h3.int_to_str(int(c)) for c in cells] == [h3.latlng_to_cell(a, b, 8)
    ...                                            for a, b in zip(lat, lng)]
    True
    """
    lat = np.asarray(lat, dtype=np.float64)
    lng = np.asarray(lng, dtype=np.float64)
    if lat.shape != lng.shape or lat.ndim != 1:
        msg = "lat and lng must be one-dimensional arrays of the same length."
        raise InputError(msg)
    if not 0 <= resolution <= 15:
        msg = f"resolution must be between 0 and 15, got {resolution}."
        raise InputError(msg)
    if not (np.isfinite(lat).all() and np.isfinite(lng).all()):
        msg = "lat and lng must be finite; drop unlocated cases first."
        raise InputError(msg)
    out = np.zeros(len(lat), dtype=np.uint64)
    if len(lat) == 0:
        return out
    edge_m = float(h3.average_hexagon_edge_length(resolution, unit="m"))
    cos_lat = max(math.cos(math.radians(float(np.abs(lat).max()))), 1e-6)
    extent_m2 = (np.ptp(lat) * _M_PER_DEG + edge_m) * (np.ptp(lng) * _M_PER_DEG * cos_lat + edge_m)
    # Fine grid cells (more often wholly inside one H3 cell) when there are many points per
    # cell; coarser ones when points are sparse, so that h3 is called far less than once
    # per point. A grid cell's half-diagonal stays below 0.3 edge, so its points lie in the
    # centre's H3 cell or an adjacent one (leaving both takes a path of at least one edge).
    divisor = 2.5
    for candidate in (8.0, 4.0):
        if extent_m2 / (edge_m / candidate) ** 2 <= len(lat) / 8:
            divisor = candidate
            break
    step_lat = edge_m / divisor / _M_PER_DEG
    step_lng = edge_m / divisor / (_M_PER_DEG * cos_lat)
    gy = np.floor(lat / step_lat).astype(np.int64)
    gx = np.floor(lng / step_lng).astype(np.int64)
    gy0, gx0 = int(gy.min()), int(gx.min())
    rows = int(gy.max()) - gy0 + 1
    uniq, inverse = _dense_unique((gx - gx0) * rows + (gy - gy0), rows * (int(gx.max()) - gx0 + 1))
    if len(uniq) > len(lat) // 2:
        # Points sparser than the grid (a resolution finer than the case spacing): indexing
        # grid cells would cost as much as indexing the points, so index the points.
        return np.fromiter(
            (h3i.latlng_to_cell(a, b, resolution) for a, b in zip(lat, lng, strict=True)),
            dtype=np.uint64,
            count=len(lat),
        )
    ux, uy = uniq // rows + gx0, uniq % rows + gy0
    centre_cells = np.fromiter(
        (
            h3i.latlng_to_cell(a, b, resolution)
            for a, b in zip((uy + 0.5) * step_lat, (ux + 0.5) * step_lng, strict=True)
        ),
        dtype=np.uint64,
        count=len(uniq),
    )
    # Candidate table: each distinct centre cell and its neighbours (k = 1 ring).
    distinct, cell_of_grid = np.unique(centre_cells, return_inverse=True)
    cell_of_grid = cell_of_grid.reshape(-1)
    disks = [_disk(int(c)) for c in distinct]
    width = max(len(d) for d in disks)
    candidates = np.array([d + [d[0]] * (width - len(d)) for d in disks], dtype=np.uint64)
    every = np.unique(candidates)
    normals = _edge_normals(every)
    slot = np.searchsorted(every, candidates)
    # Grid cells whose four corners lie in their centre's cell lie wholly in it.
    corner_in = np.ones(len(uniq), dtype=bool)
    centre_slot = slot[cell_of_grid, 0]
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        p = _unit(
            ((uy + dy) * step_lat).astype(np.float64), ((ux + dx) * step_lng).astype(np.float64)
        )
        corner_in &= _inside(normals[centre_slot], p)
    whole = corner_in[inverse]
    out[whole] = centre_cells[inverse[whole]]
    todo_all = np.flatnonzero(~whole)
    for lo in range(0, len(todo_all), _CHUNK):
        todo = todo_all[lo : lo + _CHUNK]
        point_slots = slot[cell_of_grid[inverse[todo]]]  # (m, width): centre first
        p = _unit(lat[todo], lng[todo])
        for k in range(width):
            if len(todo) == 0:
                break
            cand = point_slots[:, k]
            inside = _inside(normals[cand], p)
            out[todo[inside]] = every[cand[inside]]
            todo, point_slots, p = todo[~inside], point_slots[~inside], p[~inside]
        for i in todo:  # points on an edge, within rounding: h3's own answer
            out[i] = h3i.latlng_to_cell(float(lat[i]), float(lng[i]), resolution)
    return out


def _dense_unique(keys: npt.NDArray[np.int64], size: int) -> tuple[I64, I64]:
    """``np.unique(keys, return_inverse=True)`` without sorting, for keys in ``[0, size)``."""
    if size > _DENSE_MAX or size > 4 * len(keys):
        uniq, inverse = np.unique(keys, return_inverse=True)
        return uniq.astype(np.int64), inverse.reshape(-1).astype(np.int64)
    seen = np.zeros(size, dtype=bool)
    seen[keys] = True
    uniq = np.flatnonzero(seen).astype(np.int64)
    position = np.zeros(size, dtype=np.int64)
    position[uniq] = np.arange(len(uniq), dtype=np.int64)
    return uniq, position[keys]


def _disk(cell: int) -> list[int]:
    ring = [c for c in h3i.grid_disk(cell, 1) if c != cell]
    return [cell, *sorted(ring)]


def _unit(lat: F64, lng: F64) -> F64:
    """Return unit vectors (n, 3) of points on the sphere."""
    phi, lam = np.radians(lat), np.radians(lng)
    cos_phi = np.cos(phi)
    return np.stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)], axis=-1)


def _edge_normals(cells: U64) -> F64:
    """Return, per cell, the inward normals (v_i × v_{i+1}) of its great-circle edges.

    H3 cell edges are great-circle arcs (straight in the gnomonic projection of each
    icosahedron face), so a point is in a cell when it is on the inner side of every edge's
    plane. Rings are padded by repeating their last vertex (a zero normal, always passed).
    """
    rings = [h3i.cell_to_boundary(int(c)) for c in cells]
    width = max(len(r) for r in rings)
    latlng = np.empty((len(rings), width, 2), dtype=np.float64)
    for i, ring in enumerate(rings):
        latlng[i, : len(ring)] = ring
        latlng[i, len(ring) :] = ring[-1]
    v = _unit(latlng[:, :, 0], latlng[:, :, 1])
    normals = np.cross(v, np.roll(v, -1, axis=1))
    # Close each ring: the last real vertex joins the first, not the padding.
    sizes = np.array([len(r) for r in rings])
    last = sizes - 1
    rows = np.arange(len(rings))
    normals[rows, last] = np.cross(v[rows, last], v[rows, 0])
    pad = np.arange(width)[None, :] > last[:, None]
    normals[pad] = 0.0
    centre = v.mean(axis=1)
    flip = np.einsum("nk,nk->n", normals[:, 0], centre) < 0  # clockwise ring
    normals[flip] *= -1.0
    result: F64 = normals
    return result


def _inside(normals: F64, p: F64) -> npt.NDArray[np.bool_]:
    """Whether each point (n, 3) is on the inner side of all its cell's edges (n, V, 3)."""
    result: npt.NDArray[np.bool_] = (np.einsum("nvk,nk->nv", normals, p) >= 0).all(axis=1)
    return result


def cell_polygons(cells: Iterable[int]) -> list[shapely.Polygon]:
    """Return each H3 cell's boundary as a shapely polygon in lon/lat (EPSG:4326)."""
    return [
        shapely.Polygon(np.asarray(h3i.cell_to_boundary(int(c)), dtype=np.float64)[:, ::-1])
        for c in cells
    ]


def cell_neighbors(cells: Sequence[int]) -> dict[int, list[int]]:
    """Return, for each cell, the positions of its adjacent cells among ``cells``.

    Examples
    --------
    >>> c = h3i.latlng_to_cell(35.7, 51.4, 8)
    >>> cells = sorted(h3i.grid_disk(c, 1))
    >>> sorted(len(v) for v in cell_neighbors(cells).values())
    [3, 3, 3, 3, 3, 3, 6]
    """
    position = {int(c): i for i, c in enumerate(cells)}
    return {
        i: sorted(position[n] for n in h3i.grid_ring(int(c), 1) if n in position)
        for i, c in enumerate(cells)
    }


def cell_strings(cells: Iterable[int]) -> list[str]:
    """Return the H3 cells' hexadecimal strings (the form h3's string API uses)."""
    return [h3.int_to_str(int(c)) for c in cells]
