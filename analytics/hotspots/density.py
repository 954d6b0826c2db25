"""Density hotspots: clusters of case points in metres, per category.

:class:`DensityHotspots` never runs DBSCAN on raw points. It bins the points of each category
into square cells of ``cell_m`` metres (:func:`analytics.hotspots.grid.grid_cells`) and runs a
*weighted* DBSCAN on the occupied cells, each cell standing at its centre with its number of
cases as weight. :func:`grid_dbscan` computes exactly what
``sklearn.cluster.DBSCAN(eps=eps_m, min_samples=min_cases).fit(centres, sample_weight=counts)``
computes (up to which cluster a border cell joins when it is near two), but faster:

1. the weighted count within ``eps_m`` of an occupied cell is a sum over a disc of cells,
   read from row-wise prefix sums of the count raster (one gather per row of the disc); it
   is computed only for cells whose 3 × 3 surrounding blocks (``eps_m`` wide or more) hold
   at least ``min_cases`` cases, since no other cell can reach it;
2. cells whose count reaches ``min_cases`` are core cells; core cells closer than ``eps_m``
   are linked (k-d tree pairs) and the connected components are the clusters;
3. every other occupied cell within ``eps_m`` of a core cell joins its nearest core cell's
   cluster (a border cell); the rest are noise (label -1).

A case takes its cell's label, so memberships agree with DBSCAN on the raw points except for
cases within about ``cell_m`` of a cluster's edge (``cell_m`` defaults to ``eps_m / 10``).

Scaling the density parameters with case density
------------------------------------------------
A fixed ``min_cases`` merges a dense city into a few huge clusters, or finds nothing in a
quiet month. With ``min_cases="auto"`` each category gets
``min_cases = ceil(density_factor · n / A · π · eps_m²)``: ``density_factor`` times the number
of cases within ``eps_m`` of a point if the category's ``n`` cases were spread evenly over the
study area ``A`` (``area_km2``, else the convex hull of the category's cases), and at least
``min_cases_floor``. A cluster is then a place at least ``density_factor`` times denser than the
category's average, whatever the period length or the category's volume. The default factor,
10, keeps busy neighborhoods (several times the city's average density in a real city) from
coming out as clusters: on the project's synthetic 137 export (300,000 cases, lognormal
neighborhood weights) a factor of 5 reported 112 clusters of which 9 % were planted
hotspots, a factor of 10 reported 11, 91 % of them planted, and found all 10 planted ones.

``method="hdbscan"`` runs scikit-learn's HDBSCAN on the *dense* cells only (cells whose count
within ``eps_m`` reaches ``min_cases``), with ``min_cluster_size=min_cluster_cells``: it splits
dense areas of different densities that DBSCAN would merge. Other cells are noise.
"""

from __future__ import annotations

import math
from typing import Final, Literal, Self

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from analytics.periods import NO_PERIOD, period_keys
from geo.crs import METRIC_CRS
from geo.errors import InputError
from ingest import schema as s

from .fitted import FittedAttributes
from .grid import F64, I64, GridCells, grid_cells, metric_xy

Method = Literal["dbscan", "hdbscan"]

#: Columns of :attr:`DensityHotspots.clusters_` (besides the geometry).
CLUSTER_ID: Final = "cluster"
N_CASES: Final = "n_cases"
DOMINANT_SUBCATEGORY: Final = "dominant_subcategory"
WEEKS_ACTIVE: Final = "weeks_active"
MIN_CASES: Final = "min_cases"
AREA_M2: Final = "area_m2"
CLUSTER_COLUMNS: Final = (
    CLUSTER_ID,
    s.CATEGORY,
    N_CASES,
    DOMINANT_SUBCATEGORY,
    WEEKS_ACTIVE,
    s.NEIGHBORHOOD_CODE,
    MIN_CASES,
    AREA_M2,
)
#: Largest count raster (cells) :func:`grid_dbscan` builds; beyond it, it uses scikit-learn.
MAX_RASTER_CELLS: Final = 200_000_000
_ALL: Final = "all"


def disc_counts(cells: GridCells, radius_cells: float, subset: I64 | None = None) -> I64:
    """Return, for occupied cells, the number of points in cells within a radius.

    Parameters
    ----------
    cells : GridCells
        The occupied cells and their counts.
    radius_cells : float
        The radius, in cells: cells whose centres are at most this far (in units of
        ``cell_m``) from the cell's centre count, the cell itself included.
    subset : numpy.ndarray, optional
        Positions of the cells to compute the count for (default: all).

    Returns
    -------
    numpy.ndarray
        The weighted count around each (selected) occupied cell.

    Examples
    --------
    >>> g = grid_cells(np.array([0.5, 1.5, 1.6, 5.5]), np.array([0.5, 0.5, 0.5, 0.5]), 1.0)
    >>> disc_counts(g, 1.0).tolist()
    [3, 3, 1]
    """
    idx = np.arange(len(cells.count)) if subset is None else np.asarray(subset)
    if len(idx) == 0:
        return np.zeros(0, dtype=np.int64)
    reach = math.floor(radius_cells + 1e-9)
    # The raster covers the selected cells and everything within reach of them.
    x_lo, x_hi = int(cells.ix[idx].min()) - reach, int(cells.ix[idx].max()) + reach
    y_lo, y_hi = int(cells.iy[idx].min()) - reach, int(cells.iy[idx].max()) + reach
    width, height = x_hi - x_lo + 1, y_hi - y_lo + 1
    inside = (cells.ix >= x_lo) & (cells.ix <= x_hi) & (cells.iy >= y_lo) & (cells.iy <= y_hi)
    flat = (cells.iy[inside] - y_lo) * (width + 1) + (cells.ix[inside] - x_lo + 1)
    raster = np.bincount(flat, weights=cells.count[inside], minlength=height * (width + 1))
    prefix = np.cumsum(raster.reshape(height, width + 1), axis=1).astype(np.int64)
    del raster  # prefix[y, k] = sum of row y over columns < k
    ix0 = cells.ix[idx] - x_lo
    iy0 = cells.iy[idx] - y_lo
    total = np.zeros(len(idx), dtype=np.int64)
    for dy in range(-reach, reach + 1):
        half = math.floor(math.sqrt(max(radius_cells**2 - dy * dy, 0.0)) + 1e-9)
        row = iy0 + dy
        total += prefix[row, np.minimum(ix0 + half + 1, width)] - prefix[row, ix0 - half]
    return total


def _blocks(cells: GridCells, side: int) -> tuple[I64, I64, I64]:
    """Return each cell's block (``side`` × ``side`` cells) and each block's 3 × 3 sum."""
    bx = np.floor_divide(cells.ix - cells.ix.min(), side) + 1
    by = np.floor_divide(cells.iy - cells.iy.min(), side) + 1
    nx, ny = int(bx.max()) + 2, int(by.max()) + 2
    block = np.bincount(bx * ny + by, weights=cells.count, minlength=nx * ny).reshape(nx, ny)
    around = np.zeros_like(block)
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            around[1:-1, 1:-1] += block[1 + dx : nx - 1 + dx, 1 + dy : ny - 1 + dy]
    return bx, by, around.astype(np.int64)


def grid_dbscan(cells: GridCells, eps_m: float, min_cases: int) -> I64:
    """Weighted DBSCAN of occupied grid cells (weights: the cells' counts).

    Cells are first pruned with blocks at least ``eps_m`` wide: a cell's ``eps_m``-disc lies
    within the 3 × 3 blocks around its own, so where those hold fewer than ``min_cases``
    cases no cell can be a core cell, and the (costlier) disc counts are computed only for
    the others. Likewise only cells in blocks next to a block with a core cell can be border
    cells.

    Parameters
    ----------
    cells : GridCells
        The occupied cells.
    eps_m : float
        Neighbourhood radius in metres, between cell centres.
    min_cases : int
        Weighted count within ``eps_m`` (the cell included) that makes a cell a core cell.

    Returns
    -------
    numpy.ndarray
        The cluster label of each occupied cell, ``-1`` for noise; labels are ``0..k-1``.
    """
    n = len(cells.count)
    labels = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return labels
    radius = eps_m / cells.cell_m
    span = (int(np.ptp(cells.ix)) + 2) * (int(np.ptp(cells.iy)) + 1)
    if span > MAX_RASTER_CELLS:
        return _sklearn_weighted_dbscan(cells, eps_m, min_cases)
    side = math.ceil(radius)
    bx, by, around = _blocks(cells, side)
    candidates = np.flatnonzero(around[bx, by] >= min_cases)
    core = np.zeros(n, dtype=bool)
    core[candidates] = disc_counts(cells, radius, candidates) >= min_cases
    if not core.any():
        return labels
    xy = np.column_stack([cells.ix, cells.iy]).astype(np.float64)
    core_idx = np.flatnonzero(core)
    tree = cKDTree(xy[core_idx])
    pairs = tree.query_pairs(radius + 1e-9, output_type="ndarray")
    m = len(core_idx)
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(m, m)
    )
    _, comp = connected_components(graph, directed=False)
    labels[core_idx] = comp
    # Border cells: within eps_m of a core cell, so in a block next to a core cell's block.
    has_core = np.zeros_like(around, dtype=bool)
    has_core[bx[core_idx], by[core_idx]] = True
    near_core = np.zeros_like(has_core)
    nx, ny = has_core.shape
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            near_core[1:-1, 1:-1] |= has_core[1 + dx : nx - 1 + dx, 1 + dy : ny - 1 + dy]
    border_idx = np.flatnonzero(~core & near_core[bx, by])
    if len(border_idx):
        dist, nearest = tree.query(xy[border_idx], distance_upper_bound=radius + 1e-9)
        near = np.isfinite(dist)
        labels[border_idx[near]] = comp[nearest[near]]
    return labels


def _sklearn_weighted_dbscan(cells: GridCells, eps_m: float, min_cases: int) -> I64:
    from sklearn.cluster import DBSCAN

    xy = np.column_stack([cells.x_m, cells.y_m])
    model = DBSCAN(eps=eps_m, min_samples=min_cases).fit(xy, sample_weight=cells.count)
    return np.asarray(model.labels_, dtype=np.int64)


def auto_min_cases(
    n_cases: int, area_m2: float, eps_m: float, density_factor: float, floor: int
) -> int:
    """Return ``min_cases`` scaled to case density (see the module docstring).

    Examples
    --------
    >>> auto_min_cases(10_000, 100e6, 100.0, 5.0, 5)  # 1e-4 cases/m², 3.14 per disc
    16
    """
    if area_m2 <= 0:
        return max(floor, 1)
    expected = n_cases / area_m2 * math.pi * eps_m**2
    return max(int(floor), math.ceil(density_factor * expected))


class DensityHotspots(FittedAttributes):
    """Density clusters of cases per category, found on a fine metric grid.

    Parameters
    ----------
    eps_m : float, default 150
        DBSCAN's neighbourhood radius, in metres.
    min_cases : int or "auto", default "auto"
        Cases within ``eps_m`` that make a dense place (DBSCAN's ``min_samples``); ``"auto"``
        scales it with each category's case density (module docstring).
    method : {"dbscan", "hdbscan"}, default "dbscan"
        Weighted DBSCAN on the grid cells, or HDBSCAN on the dense cells.
    cell_m : float, optional
        Side of the grid cells in metres; default ``eps_m / 10``.
    by : str or None, default "category"
        Column whose values are clustered separately; None clusters all cases together.
    density_factor : float, default 10
        With ``min_cases="auto"``: how many times denser than average a cluster must be.
    min_cases_floor : int, default 10
        With ``min_cases="auto"``: the smallest ``min_cases`` used.
    area_km2 : float, optional
        With ``min_cases="auto"``: the study area; default the convex hull of each category.
    min_cluster_cells : int, default 5
        With ``method="hdbscan"``: HDBSCAN's ``min_cluster_size``, in cells.
    hull_ratio : float, default 0.3
        ``ratio`` of :func:`shapely.concave_hull` (0 concave, 1 convex) for cluster outlines.

    Attributes
    ----------
    labels_ : numpy.ndarray
        Cluster id of each case in the order given to ``fit``; ``-1`` for noise.
    clusters_ : geopandas.GeoDataFrame
        One row per cluster (EPSG:32639): ``cluster``, ``category``, ``n_cases``,
        ``dominant_subcategory``, ``weeks_active`` (distinct Jalali weeks with a case),
        ``neighborhood_code`` (the most frequent among its cases), ``min_cases`` (used),
        ``area_m2`` and the concave hull (buffered by half a cell) as geometry.
    min_cases_ : dict
        ``min_cases`` used for each group.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> xy = np.vstack([rng.normal(0, 30, (300, 2)), rng.uniform(-3000, 3000, (300, 2))])
    >>> cases = gpd.GeoDataFrame(geometry=gpd.points_from_xy(
    ...     535_000 + xy[:, 0], 3_950_000 + xy[:, 1]), crs="EPSG:32639")
    >>> model = DensityHotspots(eps_m=100, min_cases=20, by=None).fit(cases)
    >>> len(model.clusters_), bool(300 <= model.clusters_["n_cases"].iloc[0] <= 310)
    (1, True)
    """

    fit_call = "fit(cases)"

    def __init__(
        self,
        eps_m: float = 150.0,
        min_cases: int | Literal["auto"] = "auto",
        method: Method = "dbscan",
        cell_m: float | None = None,
        by: str | None = s.CATEGORY,
        density_factor: float = 10.0,
        min_cases_floor: int = 10,
        area_km2: float | None = None,
        min_cluster_cells: int = 5,
        hull_ratio: float = 0.3,
    ) -> None:
        self.eps_m = eps_m
        self.min_cases = min_cases
        self.method = method
        self.cell_m = cell_m
        self.by = by
        self.density_factor = density_factor
        self.min_cases_floor = min_cases_floor
        self.area_km2 = area_km2
        self.min_cluster_cells = min_cluster_cells
        self.hull_ratio = hull_ratio

    def _check_params(self) -> float:
        if not self.eps_m > 0:
            msg = f"eps_m must be positive, got {self.eps_m}."
            raise InputError(msg)
        if self.method not in ("dbscan", "hdbscan"):
            msg = f"method must be 'dbscan' or 'hdbscan', got {self.method!r}."
            raise InputError(msg)
        if self.min_cases != "auto" and (
            isinstance(self.min_cases, bool) or not int(self.min_cases) >= 1
        ):
            msg = f"min_cases must be a positive integer or 'auto', got {self.min_cases!r}."
            raise InputError(msg)
        cell_m = self.eps_m / 10.0 if self.cell_m is None else float(self.cell_m)
        if not 0 < cell_m <= self.eps_m:
            msg = f"cell_m must be positive and at most eps_m ({self.eps_m}), got {cell_m}."
            raise InputError(msg)
        return cell_m

    def fit(self, cases: pd.DataFrame) -> Self:
        """Find the clusters.

        Parameters
        ----------
        cases : pandas.DataFrame or geopandas.GeoDataFrame
            Located cases: ``lon``/``lat`` (EPSG:4326) or point geometry; optionally the
            ``by`` column, ``subcategory``, ``created_at`` and ``neighborhood_code``.

        Returns
        -------
        DensityHotspots
            The fitted estimator.
        """
        cell_m = self._check_params()
        if self.by is not None and self.by not in cases.columns:
            msg = f"cases have no `{self.by}` column; pass by=None to cluster all cases."
            raise InputError(msg)
        x, y = metric_xy(cases)
        groups = (
            np.full(len(cases), _ALL, dtype=object)
            if self.by is None
            else cases[self.by].astype("string").fillna("").to_numpy(dtype=object)
        )
        labels = np.full(len(cases), -1, dtype=np.int64)
        used: dict[str, int] = {}
        next_id = 0
        for group in sorted(pd.unique(groups)):
            rows = np.flatnonzero(groups == group)
            cells = grid_cells(x[rows], y[rows], cell_m)
            min_cases = self._min_cases_for(cells)
            used[str(group)] = min_cases
            cell_labels = self._cluster_cells(cells, min_cases)
            point_labels = cell_labels[cells.inverse]
            found = point_labels >= 0
            labels[rows[found]] = point_labels[found] + next_id
            next_id += int(cell_labels.max()) + 1 if len(cell_labels) else 0
        self.labels_ = labels
        self.min_cases_ = used
        self.clusters_ = self._summarize(cases, x, y, groups, labels, cell_m)
        return self

    def _min_cases_for(self, cells: GridCells) -> int:
        if self.min_cases != "auto":
            return int(self.min_cases)
        n = int(cells.count.sum())
        if self.area_km2 is not None:
            area = float(self.area_km2) * 1e6
        else:
            hull = shapely.convex_hull(shapely.multipoints(np.column_stack([cells.x_m, cells.y_m])))
            area = float(shapely.area(hull)) + cells.cell_m**2
        return auto_min_cases(n, area, self.eps_m, self.density_factor, self.min_cases_floor)

    def _cluster_cells(self, cells: GridCells, min_cases: int) -> I64:
        if self.method == "dbscan":
            return grid_dbscan(cells, self.eps_m, min_cases)
        from sklearn.cluster import HDBSCAN

        labels = np.full(len(cells.count), -1, dtype=np.int64)
        radius = self.eps_m / cells.cell_m
        bx, by, around = _blocks(cells, math.ceil(radius))
        candidates = np.flatnonzero(around[bx, by] >= min_cases)
        dense = candidates[disc_counts(cells, radius, candidates) >= min_cases]
        if len(dense) < max(self.min_cluster_cells, 2):
            return labels
        xy = np.column_stack([cells.x_m[dense], cells.y_m[dense]])
        model = HDBSCAN(min_cluster_size=self.min_cluster_cells, copy=True).fit(xy)
        labels[dense] = np.asarray(model.labels_, dtype=np.int64)
        return labels

    def _summarize(
        self,
        cases: pd.DataFrame,
        x: F64,
        y: F64,
        groups: np.ndarray,
        labels: I64,
        cell_m: float,
    ) -> gpd.GeoDataFrame:
        member = labels >= 0
        ids = labels[member]
        frame = pd.DataFrame({CLUSTER_ID: ids, "_group": groups[member]})
        columns = list(CLUSTER_COLUMNS)
        if len(frame) == 0:
            empty = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
            return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=METRIC_CRS))
        rows = np.flatnonzero(member)
        if s.SUBCATEGORY in cases.columns:
            frame["_sub"] = cases[s.SUBCATEGORY].astype("string").to_numpy(dtype=object)[rows]
        if s.NEIGHBORHOOD_CODE in cases.columns:
            hood = cases[s.NEIGHBORHOOD_CODE].astype("string").to_numpy(dtype=object)[rows]
            frame["_hood"] = hood
        if s.CREATED_AT in cases.columns:
            weeks = period_keys(cases[s.CREATED_AT], "W", "jalali")[rows]
            frame["_week"] = np.where(weeks == NO_PERIOD, np.nan, weeks.astype(np.float64))
        grouped = frame.groupby(CLUSTER_ID, sort=True)
        out = pd.DataFrame({N_CASES: grouped.size()})
        out[s.CATEGORY] = grouped["_group"].first()
        out[DOMINANT_SUBCATEGORY] = _mode(frame, "_sub")
        out[WEEKS_ACTIVE] = grouped["_week"].nunique() if "_week" in frame else pd.NA
        out[s.NEIGHBORHOOD_CODE] = _mode(frame, "_hood")
        out[MIN_CASES] = out[s.CATEGORY].map(self.min_cases_)
        if self.by is None:
            out[s.CATEGORY] = None
        out = out.reset_index()
        # Outline: concave hull of the cluster's distinct cell centres, buffered by half a cell.
        cx = (np.floor(x[rows] / cell_m) + 0.5) * cell_m
        cy = (np.floor(y[rows] / cell_m) + 0.5) * cell_m
        centres = pd.DataFrame({CLUSTER_ID: ids, "x": cx, "y": cy}).drop_duplicates()
        hulls = []
        for _, part in centres.groupby(CLUSTER_ID, sort=True):
            pts = shapely.multipoints(part[["x", "y"]].to_numpy())
            hull = shapely.concave_hull(pts, ratio=self.hull_ratio)
            hulls.append(shapely.buffer(hull, cell_m / 2.0, join_style="mitre"))
        geometry = gpd.GeoSeries(hulls, crs=METRIC_CRS)
        out[AREA_M2] = geometry.area.to_numpy()
        return gpd.GeoDataFrame(out[columns], geometry=geometry.values, crs=METRIC_CRS)

    def fit_predict(self, cases: pd.DataFrame) -> I64:
        """Fit and return :attr:`labels_`."""
        return self.fit(cases).labels_


def _mode(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NA, index=pd.Index(sorted(frame[CLUSTER_ID].unique())), dtype=object)
    counts = frame.dropna(subset=[column]).groupby([CLUSTER_ID, column]).size()
    if counts.empty:
        return pd.Series(pd.NA, index=pd.Index(sorted(frame[CLUSTER_ID].unique())), dtype=object)
    ranked = counts.sort_values(ascending=False, kind="stable").reset_index()
    top: pd.Series = ranked.drop_duplicates(CLUSTER_ID).set_index(CLUSTER_ID)[column]
    return top.reindex(sorted(frame[CLUSTER_ID].unique()))
