"""The boundary hierarchy: dissolving, attaching by overlap, and the code lookup."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.boundaries import attach_to_parents as reexported_attach
from geo.boundaries import hierarchy_lookup as reexported_lookup
from geo.boundary_model import make_frame
from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.errors import BoundaryError
from geo.hierarchy import (
    ATTACH_REPORT_COLUMNS,
    OVERLAP_SHARE,
    RUNNER_UP_CODE,
    RUNNER_UP_SHARE,
    attach_to_parents,
    dissolve_by_parent,
    hierarchy_lookup,
)
from ingest import schema as s

X0, Y0 = 535_000.0, 3_950_000.0


def layer(
    level: str,
    codes: list[str],
    boxes: list[tuple[float, float, float, float]],
    parents: list[str | None] | None = None,
    population: list[int | None] | None = None,
) -> gpd.GeoDataFrame:
    """A one-level frame in the boundary model from boxes in km offsets (EPSG:32639)."""
    geoms = [
        shapely.box(X0 + a * 1000, Y0 + b * 1000, X0 + c * 1000, Y0 + d * 1000)
        for a, b, c, d in boxes
    ]
    frame = make_frame(
        level=level,
        code=pd.Series(codes, dtype=object),
        name_fa=pd.Series([f"نام {c}" for c in codes], dtype=object),
        name_en=None,
        parent_code=None if parents is None else pd.Series(parents, dtype=object),
        population=None if population is None else pd.Series(population, dtype="Int64"),
        geometry=geoms,
        crs=METRIC_CRS,
    )
    return frame.to_crs(STORAGE_CRS)


def test_reexported_from_geo_boundaries() -> None:
    assert reexported_attach is attach_to_parents
    assert reexported_lookup is hierarchy_lookup


def test_dissolve_unions_children_and_sums_complete_populations() -> None:
    hoods = layer(
        s.LEVEL_NEIGHBORHOOD,
        ["101", "102", "201", "202", "999"],
        [(0, 0, 1, 1), (1, 0, 2, 1), (0, 1, 1, 2), (1, 1, 2, 2), (5, 5, 6, 6)],
        parents=["1", "1", "2", "2", None],
        population=[10, 20, 5, None, 1],
    )
    regions = dissolve_by_parent(hoods, parent_level=s.LEVEL_REGION)
    assert regions[s.CODE].tolist() == ["1", "2"]
    assert (regions[s.LEVEL] == s.LEVEL_REGION).all()
    assert regions[s.NAME_FA].tolist() == ["منطقه 1", "منطقه 2"]
    assert regions[s.NAME_EN].tolist() == ["Region 1", "Region 2"]
    assert regions[s.PARENT_CODE].isna().all()
    assert regions[s.POPULATION].tolist()[0] == 30
    assert regions[s.POPULATION].isna().tolist() == [False, True]
    areas = regions.to_crs(METRIC_CRS).area.to_numpy()
    assert areas == pytest.approx([2e6, 2e6], rel=1e-6)
    assert regions.geom_type.tolist() == ["Polygon", "Polygon"]  # neighbours merge into one


def test_dissolve_refuses_a_finer_parent_level() -> None:
    regions = layer(s.LEVEL_REGION, ["1"], [(0, 0, 1, 1)])
    with pytest.raises(BoundaryError, match="finer or equal"):
        dissolve_by_parent(regions, parent_level=s.LEVEL_NEIGHBORHOOD)


def test_attach_by_largest_overlap_with_report() -> None:
    parents = layer(s.LEVEL_REGION, ["1", "2"], [(0, 0, 2, 2), (2, 0, 4, 2)])
    children = layer(
        s.LEVEL_NEIGHBORHOOD,
        ["a", "b", "c", "d"],
        [
            (0, 0, 1, 1),  # wholly in 1
            (1.5, 0, 2.5, 1),  # half and half: tie broken deterministically, reported
            (1.9, 0, 3, 1),  # 1.0 of 1.1 km² in 2: share 0.909, not reported
            (10, 10, 11, 11),  # outside every parent
        ],
        parents=["x", "x", "x", "x"],
    )
    before = children.copy()
    attached, report = attach_to_parents(children, parents)
    pd.testing.assert_frame_equal(children, before)  # input not modified
    assert attached[s.PARENT_CODE].tolist()[0] == "1"
    assert attached[s.PARENT_CODE].tolist()[2] == "2"
    assert attached[s.PARENT_CODE].tolist()[3] is None
    assert attached[s.PARENT_CODE].tolist()[1] in {"1", "2"}
    assert list(report.columns) == list(ATTACH_REPORT_COLUMNS)
    assert report[s.CODE].tolist() == ["d", "b"]  # lowest share first
    by_code = report.set_index(s.CODE)
    assert by_code.loc["d", OVERLAP_SHARE] == 0.0
    assert by_code.loc["d", s.PARENT_CODE] is None
    assert by_code.loc["b", OVERLAP_SHARE] == pytest.approx(0.5, abs=1e-6)
    assert by_code.loc["b", RUNNER_UP_SHARE] == pytest.approx(0.5, abs=1e-6)
    assert {by_code.loc["b", s.PARENT_CODE], by_code.loc["b", RUNNER_UP_CODE]} == {"1", "2"}

    _, strict = attach_to_parents(children, parents, min_overlap=0.95)
    assert set(strict[s.CODE]) == {"b", "c", "d"}


def test_attach_is_deterministic() -> None:
    parents = layer(s.LEVEL_REGION, ["1", "2"], [(0, 0, 2, 2), (2, 0, 4, 2)])
    children = layer(s.LEVEL_NEIGHBORHOOD, ["b"], [(1.5, 0, 2.5, 1)])
    first = attach_to_parents(children, parents)[0][s.PARENT_CODE].tolist()
    for _ in range(3):
        assert attach_to_parents(children, parents)[0][s.PARENT_CODE].tolist() == first


def test_attach_refuses_bad_levels_and_shares() -> None:
    regions = layer(s.LEVEL_REGION, ["1"], [(0, 0, 1, 1)])
    hoods = layer(s.LEVEL_NEIGHBORHOOD, ["a"], [(0, 0, 1, 1)])
    with pytest.raises(BoundaryError, match="coarser level"):
        attach_to_parents(regions, hoods)
    with pytest.raises(BoundaryError, match="exactly one level"):
        attach_to_parents(pd.concat([regions, hoods]), regions)  # type: ignore[arg-type]
    with pytest.raises(BoundaryError, match="between 0 and 1"):
        attach_to_parents(hoods, regions, min_overlap=90)


def test_lookup_three_levels() -> None:
    frame = pd.concat(
        [
            layer(s.LEVEL_REGION, ["1"], [(0, 0, 2, 2)]),
            layer(s.LEVEL_DISTRICT, ["11", "12"], [(0, 0, 1, 2), (1, 0, 2, 2)], ["1", "1"]),
            layer(
                s.LEVEL_NEIGHBORHOOD,
                ["111", "112", "121"],
                [(0, 0, 1, 1), (0, 1, 1, 2), (1, 0, 2, 2)],
                ["11", "11", "12"],
            ),
        ],
        ignore_index=True,
    )
    lookup = hierarchy_lookup(gpd.GeoDataFrame(frame, crs=STORAGE_CRS))
    assert lookup.index.name == s.NEIGHBORHOOD_CODE
    assert list(lookup.columns) == [s.DISTRICT_CODE, s.REGION_CODE]
    assert lookup.to_dict("index") == {
        "111": {s.DISTRICT_CODE: "11", s.REGION_CODE: "1"},
        "112": {s.DISTRICT_CODE: "11", s.REGION_CODE: "1"},
        "121": {s.DISTRICT_CODE: "12", s.REGION_CODE: "1"},
    }


def test_lookup_without_district_level(synthetic_geo: gpd.GeoDataFrame) -> None:
    lookup = hierarchy_lookup(synthetic_geo)
    assert len(lookup) == 375
    assert lookup[s.DISTRICT_CODE].isna().all()
    hoods = synthetic_geo[synthetic_geo[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    assert lookup.loc[hoods[s.CODE], s.REGION_CODE].tolist() == hoods[s.PARENT_CODE].tolist()


def test_lookup_single_levels() -> None:
    hoods = layer(s.LEVEL_NEIGHBORHOOD, ["a", "b"], [(0, 0, 1, 1), (1, 0, 2, 1)])
    only_hoods = hierarchy_lookup(hoods)
    assert only_hoods.index.tolist() == ["a", "b"]
    assert only_hoods.isna().all().all()

    regions = layer(s.LEVEL_REGION, ["1", "2"], [(0, 0, 1, 1), (1, 0, 2, 1)])
    only_regions = hierarchy_lookup(regions)
    assert only_regions.index.name == s.REGION_CODE
    assert only_regions[s.REGION_CODE].tolist() == ["1", "2"]
    assert only_regions[s.DISTRICT_CODE].isna().all()


def test_lookup_keeps_children_without_parent_as_null() -> None:
    frame = pd.concat(
        [
            layer(s.LEVEL_REGION, ["1"], [(0, 0, 1, 1)]),
            layer(s.LEVEL_NEIGHBORHOOD, ["a", "b"], [(0, 0, 1, 1), (5, 5, 6, 6)], ["1", None]),
        ],
        ignore_index=True,
    )
    lookup = hierarchy_lookup(gpd.GeoDataFrame(frame, crs=STORAGE_CRS))
    assert lookup[s.REGION_CODE].tolist() == ["1", None]


def test_lookup_refuses_dangling_parents_and_duplicates() -> None:
    frame = pd.concat(
        [
            layer(s.LEVEL_REGION, ["1"], [(0, 0, 1, 1)]),
            layer(s.LEVEL_NEIGHBORHOOD, ["a"], [(0, 0, 1, 1)], ["7"]),
        ],
        ignore_index=True,
    )
    with pytest.raises(BoundaryError, match="parent codes 7 are not region codes"):
        hierarchy_lookup(gpd.GeoDataFrame(frame, crs=STORAGE_CRS))
    doubled = layer(s.LEVEL_NEIGHBORHOOD, ["a", "a"], [(0, 0, 1, 1), (1, 0, 2, 1)])
    with pytest.raises(BoundaryError, match="duplicate codes"):
        hierarchy_lookup(doubled)


def test_lookup_of_real_tehran(tehran_dir: object) -> None:
    from pathlib import Path

    from geo.boundaries import load_tehran_boundaries

    lookup = hierarchy_lookup(load_tehran_boundaries(Path(str(tehran_dir))))
    assert len(lookup) == 375
    assert lookup.loc["101", s.REGION_CODE] == "1"
    assert lookup.loc["2210", s.REGION_CODE] == "22"
    assert lookup[s.DISTRICT_CODE].isna().all()
