"""The boundary hierarchy: derive parents by dissolving, attach children by overlap, look up.

A case is assigned to the finest level only; its coarser codes come from
:func:`hierarchy_lookup`, never from more spatial joins. Parents are either dissolved from
a parent field of the finest layer (:func:`dissolve_by_parent`) or taken from a separate
layer, each child going to the parent polygon it overlaps most (:func:`attach_to_parents`).
"""

from __future__ import annotations

from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ingest import schema as s

from .boundary_model import (
    LEVEL_NAMES_EN,
    LEVEL_NAMES_FA,
    coarser_present,
    level_rank,
    levels_present,
    make_frame,
    require_consistent,
    require_model,
)
from .crs import METRIC_CRS
from .errors import BoundaryError

#: Columns of the report of :func:`attach_to_parents` (besides code, name_fa, parent_code).
OVERLAP_SHARE: Final = "overlap_share"
RUNNER_UP_CODE: Final = "runner_up_code"
RUNNER_UP_SHARE: Final = "runner_up_share"
ATTACH_REPORT_COLUMNS: Final = (
    s.CODE,
    s.NAME_FA,
    s.PARENT_CODE,
    OVERLAP_SHARE,
    RUNNER_UP_CODE,
    RUNNER_UP_SHARE,
)


def dissolve_by_parent(children: gpd.GeoDataFrame, *, parent_level: str) -> gpd.GeoDataFrame:
    """Derive the parent level by dissolving children on their ``parent_code``.

    Parameters
    ----------
    children : geopandas.GeoDataFrame
        One level of the boundary model with ``parent_code`` set (children without one are
        left out of every parent).
    parent_level : str
        Level of the derived parents, coarser than the children's.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per parent code in the boundary model: names made up from the level and the
        code ("منطقه 7", "Region 7"), no parent, and the children's population summed where
        every child's is known.

    Examples
    --------
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> b = synthetic_boundaries(n_regions=2, n_neighborhoods=6, seed=1)
    >>> hoods = b[b["level"] == "neighborhood"]
    >>> dissolve_by_parent(hoods, parent_level="region")["code"].tolist()
    ['1', '2']
    """
    require_model(children, what="children")
    child_levels = levels_present(children)
    if child_levels and any(level_rank(parent_level) >= level_rank(c) for c in child_levels):
        msg = f"Cannot dissolve {', '.join(child_levels)} into the finer or equal {parent_level!r}."
        raise BoundaryError(msg)
    keyed = children[children[s.PARENT_CODE].notna()]
    groups = keyed.groupby(s.PARENT_CODE, sort=False)
    codes = list(groups.groups.keys())
    geometry = [shapely.union_all(keyed.geometry.values[idx]) for idx in groups.indices.values()]
    population = groups[s.POPULATION].agg(lambda v: v.sum() if v.notna().all() else pd.NA)
    code = pd.Series([str(c) for c in codes], dtype=object)
    return make_frame(
        level=parent_level,
        code=code,
        name_fa=code.map(lambda c: f"{LEVEL_NAMES_FA[parent_level]} {c}"),
        name_en=code.map(lambda c: f"{LEVEL_NAMES_EN[parent_level]} {c}"),
        parent_code=None,
        population=population.reindex(codes).astype("Int64").reset_index(drop=True),
        geometry=geometry,
        crs=children.crs,
    )


def _single_level(frame: gpd.GeoDataFrame, what: str) -> str:
    levels = levels_present(frame)
    if len(levels) != 1:
        found = ", ".join(levels) or "none"
        msg = f"{what} must hold exactly one level (found: {found}); select one level first."
        raise BoundaryError(msg)
    return levels[0]


def attach_to_parents(
    children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, *, min_overlap: float = 0.9
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Give each child the code of the parent polygon it overlaps most.

    Areas are computed in metres (EPSG:32639). A child overlapping no parent keeps no
    parent (``parent_code`` None) and is reported with share 0.

    Parameters
    ----------
    children : geopandas.GeoDataFrame
        One level of the boundary model (for example Mahalat's neighborhoods).
    parents : geopandas.GeoDataFrame
        One coarser level (for example OpenStreetMap's regions).
    min_overlap : float, default 0.9
        Children whose best parent holds less than this share of their area are reported.

    Returns
    -------
    children : geopandas.GeoDataFrame
        A copy of ``children`` with ``parent_code`` set.
    report : pandas.DataFrame
        The children below ``min_overlap``, lowest share first, with columns
        :data:`ATTACH_REPORT_COLUMNS` (``overlap_share`` is the best parent's share of the
        child's area; the runner-up is the second best parent, if any).

    Examples
    --------
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> b = synthetic_boundaries(n_regions=2, n_neighborhoods=6, seed=1)
    >>> hoods, regions = b[b["level"] == "neighborhood"], b[b["level"] == "region"]
    >>> attached, report = attach_to_parents(hoods, regions)
    >>> (attached["parent_code"] == hoods["parent_code"]).all(), len(report)
    (np.True_, 0)
    """
    require_model(children, what="children")
    require_model(parents, what="parents")
    if not 0.0 <= min_overlap <= 1.0:
        msg = f"min_overlap must be a share between 0 and 1, not {min_overlap}."
        raise BoundaryError(msg)
    child_level = _single_level(children, "children")
    parent_level = _single_level(parents, "parents")
    if level_rank(parent_level) >= level_rank(child_level):
        msg = f"Parents ({parent_level}) must be a coarser level than children ({child_level})."
        raise BoundaryError(msg)

    child_geoms = children.geometry.to_crs(METRIC_CRS).values
    parent_geoms = parents.geometry.to_crs(METRIC_CRS).values
    child_idx, parent_idx = shapely.STRtree(parent_geoms).query(child_geoms, predicate="intersects")
    shared = shapely.area(shapely.intersection(child_geoms[child_idx], parent_geoms[parent_idx]))
    child_area = shapely.area(child_geoms)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(child_area[child_idx] > 0, shared / child_area[child_idx], 0.0)
    pairs = pd.DataFrame({"child": child_idx, "parent": parent_idx, "share": share})
    # Ties go to the parent listed first, so the result does not depend on the sort.
    pairs = pairs[pairs["share"] > 0].sort_values(
        ["child", "share", "parent"], ascending=[True, False, True], kind="stable"
    )
    pairs["rank"] = pairs.groupby("child").cumcount()
    parent_codes = parents[s.CODE].to_numpy(dtype=object)

    def ranked(rank: int) -> tuple[np.ndarray, np.ndarray]:
        chosen = pairs[pairs["rank"] == rank]
        codes = np.full(len(children), None, dtype=object)
        shares = np.zeros(len(children))
        codes[chosen["child"].to_numpy()] = parent_codes[chosen["parent"].to_numpy()]
        shares[chosen["child"].to_numpy()] = chosen["share"].to_numpy()
        return codes, shares

    best_code, best_share = ranked(0)
    second_code, second_share = ranked(1)
    attached = children.copy()
    attached[s.PARENT_CODE] = best_code
    report = pd.DataFrame(
        {
            s.CODE: children[s.CODE].to_numpy(dtype=object),
            s.NAME_FA: children[s.NAME_FA].to_numpy(dtype=object),
            s.PARENT_CODE: best_code,
            OVERLAP_SHARE: best_share,
            RUNNER_UP_CODE: second_code,
            RUNNER_UP_SHARE: second_share,
        }
    )
    report = report[report[OVERLAP_SHARE] < min_overlap].sort_values(OVERLAP_SHARE)
    return attached, report.reset_index(drop=True)


def hierarchy_lookup(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Map each code of the finest level to its district and region codes.

    Levels are discovered from the data: a city with neighborhoods and regions only gets an
    all-null ``district_code``; a city with one level gets null parents (or, when that
    level is the region or district level, the code itself in its own column).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        A hierarchy in the boundary model (codes unique per level, parents present).

    Returns
    -------
    pandas.DataFrame
        Indexed by the finest level's code (index name ``neighborhood_code`` when the finest
        level is the neighborhood), with columns ``district_code`` and ``region_code``
        (object dtype, None where unknown).

    Examples
    --------
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> lookup = hierarchy_lookup(synthetic_boundaries(n_regions=2, n_neighborhoods=4, seed=1))
    >>> lookup.loc["101", "region_code"], lookup["district_code"].isna().all()
    ('1', np.True_)
    """
    require_consistent(frame, what="boundary hierarchy")
    present = levels_present(frame)
    columns = [s.DISTRICT_CODE, s.REGION_CODE]
    if not present:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
        empty.index = pd.Index([], dtype=object, name=s.NEIGHBORHOOD_CODE)
        return empty
    finest = present[-1]
    rows = frame[frame[s.LEVEL] == finest]
    index = pd.Index(rows[s.CODE].to_numpy(dtype=object), name=s.LEVEL_CODE_COLUMN[finest])
    result = pd.DataFrame({c: np.full(len(rows), None, dtype=object) for c in columns}, index=index)
    if s.LEVEL_CODE_COLUMN[finest] in columns:
        result[s.LEVEL_CODE_COLUMN[finest]] = index.to_numpy(dtype=object)

    current = pd.Series(rows[s.PARENT_CODE].to_numpy(dtype=object), index=index, dtype=object)
    level = coarser_present(present, finest)
    while level is not None:
        result[s.LEVEL_CODE_COLUMN[level]] = current.to_numpy(dtype=object)
        at_level = frame[frame[s.LEVEL] == level]
        up = pd.Series(
            at_level[s.PARENT_CODE].to_numpy(dtype=object),
            index=at_level[s.CODE].to_numpy(dtype=object),
            dtype=object,
        )
        mapped = current.map(up).tolist()
        current = pd.Series(
            [code if isinstance(code, str) else None for code in mapped], index=index, dtype=object
        )
        level = coarser_present(present, level)
    return result
