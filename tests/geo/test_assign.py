"""geo.assign and geo.point_index: exact point → neighborhood → region assignment."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry.base import BaseGeometry

from geo.assign import (
    ASSIGN_COLUMNS,
    REASON,
    BoundaryIndex,
    assign_frame,
    assign_points,
    load_index,
)
from geo.boundaries import write_boundaries
from geo.boundary_model import make_frame
from geo.crs import METRIC_CRS
from geo.errors import BoundaryError, CRSError, InputError
from geo.hierarchy import dissolve_by_parent
from geo.point_index import code_order
from ingest import schema as s

HOOD, DISTRICT, REGION, PRECISION = (
    s.NEIGHBORHOOD_CODE,
    s.DISTRICT_CODE,
    s.REGION_CODE,
    s.GEOCODE_PRECISION,
)
#: Metres per degree of longitude at 35.65° N (for offsets in the tests, ±1 %).
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(35.65))


def hierarchy(
    codes: list[str], geoms: Sequence[BaseGeometry], parents: list[str]
) -> gpd.GeoDataFrame:
    """Neighborhoods (EPSG:4326) plus regions dissolved from their parent codes."""
    hoods = make_frame(
        level=s.LEVEL_NEIGHBORHOOD,
        code=pd.Series(codes, dtype=object),
        name_fa=pd.Series([f"محله {c}" for c in codes], dtype=object),
        name_en=None,
        parent_code=pd.Series(parents, dtype=object),
        population=None,
        geometry=geoms,
    )
    regions = dissolve_by_parent(hoods, parent_level=s.LEVEL_REGION)
    frame = pd.concat([regions, hoods], ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry=s.GEOMETRY, crs="EPSG:4326")


HOLE = shapely.box(51.36, 35.72, 51.44, 35.78)
TOY_CODES = ["99", "101", "201", "203", "301"]
TOY_GEOMS = [
    shapely.box(51.30, 35.60, 51.40, 35.70),  # 99, west square
    shapely.box(51.40, 35.60, 51.50, 35.70),  # 101, east square sharing x = 51.40
    shapely.Polygon(  # 201, north strip with a hole
        shapely.box(51.30, 35.70, 51.50, 35.80).exterior.coords, [HOLE.exterior.coords]
    ),
    shapely.box(51.395, 35.745, 51.405, 35.755),  # 203, an island inside the hole
    shapely.MultiPolygon(  # 301, two separate parts
        [shapely.box(51.55, 35.60, 51.57, 35.62), shapely.box(51.60, 35.60, 51.62, 35.62)]
    ),
]
TOY_PARENTS = ["1", "2", "2", "3", "3"]


@pytest.fixture(scope="module")
def toy() -> gpd.GeoDataFrame:
    return hierarchy(TOY_CODES, TOY_GEOMS, TOY_PARENTS)


@pytest.fixture(scope="module")
def toy_index(toy: gpd.GeoDataFrame) -> BoundaryIndex:
    return BoundaryIndex.from_boundaries(toy)


@pytest.fixture(scope="module")
def synthetic_index(synthetic_geo: gpd.GeoDataFrame) -> BoundaryIndex:
    return BoundaryIndex.from_boundaries(synthetic_geo)


class Held:
    """Holds an index with a short repr (hypothesis prints a dataclass field by field)."""

    def __init__(self, index: BoundaryIndex) -> None:
        self.index = index

    def __repr__(self) -> str:
        return "Held(synthetic index)"


@pytest.fixture(scope="module")
def held(synthetic_index: BoundaryIndex) -> Held:
    return Held(synthetic_index)


def as_list(values: pd.Series) -> list[object]:
    """Categorical values as a list, missing ones as None."""
    return [None if pd.isna(v) else v for v in values.astype(object)]


def one(index: BoundaryIndex, lon: float, lat: float, **kwargs: object) -> dict[str, object]:
    out = assign_points(index, lon=[lon], lat=[lat], **kwargs)  # type: ignore[arg-type]
    row = out.astype(object).iloc[0]
    return {str(k): (None if pd.isna(v) else v) for k, v in row.items()}


# --- exact location, borders, holes, multipolygons ------------------------------------------


def test_interior_points_get_their_polygon_and_parents(toy_index: BoundaryIndex) -> None:
    assert one(toy_index, 51.35, 35.65) == {
        HOOD: "99",
        DISTRICT: None,
        REGION: "1",
        PRECISION: "point",
        REASON: None,
    }
    assert one(toy_index, 51.45, 35.65)[HOOD] == "101"
    assert one(toy_index, 51.45, 35.65)[REGION] == "2"


@pytest.mark.parametrize("lat", [35.60, 35.63, 35.65, 35.6999999])
def test_shared_border_goes_to_the_smallest_code(toy_index: BoundaryIndex, lat: float) -> None:
    # x = 51.40 is the border of 99 and 101: natural order puts 99 first ("101" < "99" as text).
    result = one(toy_index, 51.40, lat)
    assert (result[HOOD], result[PRECISION]) == ("99", "point")


def test_border_between_square_and_holed_strip(toy_index: BoundaryIndex) -> None:
    # y = 35.70 is shared by 99 / 201 and by 101 / 201.
    assert one(toy_index, 51.35, 35.70)[HOOD] == "99"
    assert one(toy_index, 51.45, 35.70)[HOOD] == "101"


def test_shared_vertex_goes_to_the_smallest_code() -> None:
    # Four squares meet at (51.4, 35.7); codes chosen so that text order would differ.
    codes = ["12", "7", "30", "100"]
    geoms = [
        shapely.box(51.3, 35.6, 51.4, 35.7),
        shapely.box(51.4, 35.6, 51.5, 35.7),
        shapely.box(51.3, 35.7, 51.4, 35.8),
        shapely.box(51.4, 35.7, 51.5, 35.8),
    ]
    index = BoundaryIndex.from_boundaries(hierarchy(codes, geoms, ["1", "1", "2", "2"]))
    assert one(index, 51.4, 35.7)[HOOD] == "7"
    # Each polygon wins its own interior, and the vertical border above the vertex goes to 30.
    got = assign_points(
        index, lon=[51.35, 51.45, 51.35, 51.45, 51.4], lat=[35.65] * 2 + [35.75] * 3
    )
    assert got[HOOD].astype(object).tolist() == ["12", "7", "30", "100", "30"]


def test_points_in_a_hole_are_not_given_to_the_holed_polygon(toy_index: BoundaryIndex) -> None:
    # Far from every edge (about 0.9 km from the hole's rim), so snapping does not apply.
    in_hole = one(toy_index, 51.37, 35.73)
    assert (in_hole[HOOD], in_hole[PRECISION], in_hole[REASON]) == (None, "none", "outside")
    assert one(toy_index, 51.40, 35.75)[HOOD] == "203"  # the island inside the hole
    assert one(toy_index, 51.33, 35.75)[HOOD] == "201"  # the strip itself
    rim = one(toy_index, 51.36, 35.75)  # on the hole's rim: covered by 201
    assert (rim[HOOD], rim[PRECISION]) == ("201", "point")


def test_multipolygon_parts_and_the_gap_between(toy_index: BoundaryIndex) -> None:
    assert one(toy_index, 51.56, 35.61)[HOOD] == "301"
    assert one(toy_index, 51.61, 35.61)[HOOD] == "301"
    gap = one(toy_index, 51.585, 35.61, snap_tolerance_m=0.0)
    assert (gap[HOOD], gap[REASON]) == (None, "outside")


def test_a_polygon_smaller_than_a_grid_cell_is_found() -> None:
    tiny = shapely.box(51.40000, 35.70000, 51.40003, 35.70003)  # about 3 m across
    big = shapely.box(51.3, 35.6, 51.5, 35.8).difference(tiny)
    index = BoundaryIndex.from_boundaries(hierarchy(["1", "2"], [big, tiny], ["1", "1"]))
    got = assign_points(index, lon=[51.400015, 51.40005], lat=[35.700015, 35.70005])
    assert got[HOOD].astype(object).tolist() == ["2", "1"]


# --- snapping and swapped coordinates -------------------------------------------------------


def test_snapping_within_and_beyond_tolerance(toy_index: BoundaryIndex) -> None:
    east = 51.50
    near = one(toy_index, east + 100 / M_PER_DEG_LON, 35.65)
    assert (near[HOOD], near[REGION], near[PRECISION], near[REASON]) == (
        "101",
        "2",
        "snapped",
        None,
    )
    far = one(toy_index, east + 300 / M_PER_DEG_LON, 35.65)
    assert (far[HOOD], far[PRECISION], far[REASON]) == (None, "none", "outside")
    wider = one(toy_index, east + 300 / M_PER_DEG_LON, 35.65, snap_tolerance_m=400.0)
    assert (wider[HOOD], wider[PRECISION]) == ("101", "snapped")
    off = one(toy_index, east + 100 / M_PER_DEG_LON, 35.65, snap_tolerance_m=0.0)
    assert off[REASON] == "outside"


def test_snapping_goes_to_the_nearest_polygon(toy_index: BoundaryIndex) -> None:
    # South of the shared border x = 51.40: 99 is 30 m away, 101 is 60 m away.
    south = 35.60 - 50 / 110_574
    west_of_border = one(toy_index, 51.40 - 30 / M_PER_DEG_LON, south)
    east_of_border = one(toy_index, 51.40 + 30 / M_PER_DEG_LON, south)
    assert (west_of_border[HOOD], east_of_border[HOOD]) == ("99", "101")
    # Straight below the border both are equally near: the smallest code wins.
    assert one(toy_index, 51.40, south)[HOOD] == "99"


def test_swapped_coordinates_are_repaired_and_flagged(toy_index: BoundaryIndex) -> None:
    swapped = one(toy_index, 35.65, 51.35)  # (lat, lon) given as (lon, lat)
    assert (swapped[HOOD], swapped[REGION], swapped[PRECISION]) == ("99", "1", "swapped")
    near_swapped = one(toy_index, 35.65, 51.50 + 100 / M_PER_DEG_LON)
    assert (near_swapped[HOOD], near_swapped[PRECISION]) == ("101", "swapped")
    far_swapped = one(toy_index, 35.65, 51.60 + 0.1)
    assert (far_swapped[PRECISION], far_swapped[REASON]) == ("none", "outside")


# --- refused values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "reason"),
    [
        (float("nan"), 35.65, "missing"),
        (51.35, float("nan"), "missing"),
        (0.0, 0.0, "zero"),
        (-0.0, 0.0, "zero"),
        (200.0, 35.65, "out_of_range"),
        (51.35, 95.0, "out_of_range"),
        (float("inf"), 35.65, "out_of_range"),
        (51.35, 35.65, "placeholder"),
        (51.35 + 5e-7, 35.65 - 5e-7, "placeholder"),
    ],
)
def test_refused_values_carry_a_reason(
    toy_index: BoundaryIndex, lon: float, lat: float, reason: str
) -> None:
    result = one(toy_index, lon, lat, placeholders=[(51.35, 35.65)])
    assert (result[HOOD], result[REGION], result[PRECISION], result[REASON]) == (
        None,
        None,
        "none",
        reason,
    )


def test_a_point_just_off_a_placeholder_is_assigned(toy_index: BoundaryIndex) -> None:
    result = one(toy_index, 51.35 + 1e-5, 35.65, placeholders=[(51.35, 35.65)])
    assert (result[HOOD], result[PRECISION]) == ("99", "point")


def test_nulls_in_nullable_series(toy_index: BoundaryIndex) -> None:
    lon = pd.Series([51.35, None, pd.NA], dtype="Float64")
    lat = pd.Series([35.65, 35.65, 35.65], dtype="Float64")
    out = assign_points(toy_index, lon=lon, lat=lat)
    assert out[REASON].astype(object).tolist()[1:] == ["missing", "missing"]
    assert out[HOOD].astype(object).tolist()[0] == "99"


# --- shapes of input and output --------------------------------------------------------------


def test_empty_input_gives_an_empty_frame_with_the_columns(toy_index: BoundaryIndex) -> None:
    out = assign_points(toy_index, lon=[], lat=[])
    assert list(out.columns) == list(ASSIGN_COLUMNS)
    assert len(out) == 0
    assert isinstance(out[PRECISION].dtype, pd.CategoricalDtype)


def test_one_point(toy_index: BoundaryIndex) -> None:
    out = assign_points(toy_index, lon=np.array([51.45]), lat=np.array([35.65]))
    assert len(out) == 1
    assert out[HOOD].iloc[0] == "101"
    assert list(out[PRECISION].cat.categories) == list(s.GEOCODE_PRECISIONS)


def test_parents_come_from_the_hierarchy(
    synthetic_geo: gpd.GeoDataFrame, synthetic_index: BoundaryIndex
) -> None:
    index = synthetic_index
    hoods = synthetic_geo[synthetic_geo[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    inside = shapely.get_coordinates(shapely.point_on_surface(hoods.geometry.values))
    out = assign_points(index, lon=inside[:, 0], lat=inside[:, 1])
    assert out[HOOD].astype(object).tolist() == hoods[s.CODE].tolist()
    assert out[REGION].astype(object).tolist() == hoods[s.PARENT_CODE].tolist()
    assert out[DISTRICT].isna().all()


def test_lengths_types_and_tolerance_are_checked(toy_index: BoundaryIndex) -> None:
    with pytest.raises(InputError, match="same length"):
        assign_points(toy_index, lon=[1.0, 2.0], lat=[1.0])
    with pytest.raises(InputError, match="must be numbers"):
        assign_points(toy_index, lon=pd.Series(["a"]), lat=pd.Series([35.0]))
    with pytest.raises(InputError, match="snap_tolerance_m"):
        assign_points(toy_index, lon=[51.35], lat=[35.65], snap_tolerance_m=-1.0)


def test_assign_frame_adds_columns_to_a_copy(toy_index: BoundaryIndex) -> None:
    frame = pd.DataFrame(
        {"x": [51.35, 51.45, 0.0], "y": [35.65, 35.65, 0.0], "keep": [1, 2, 3]},
        index=pd.Index([10, 20, 30]),
    )
    before = frame.copy()
    out = assign_frame(frame, toy_index, lon_col="x", lat_col="y")
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.index) == [10, 20, 30]
    assert out[HOOD].astype(object).tolist()[:2] == ["99", "101"]
    assert out[REASON].astype(object).tolist()[2] == "zero"
    assert out["keep"].tolist() == [1, 2, 3]


def test_assign_frame_reads_point_geometry_in_any_crs(toy_index: BoundaryIndex) -> None:
    points = gpd.GeoDataFrame(
        geometry=[shapely.Point(51.35, 35.65), None, shapely.Point(51.45, 35.65)],
        crs="EPSG:4326",
    ).to_crs(METRIC_CRS)
    out = assign_frame(points, toy_index)
    assert isinstance(out, gpd.GeoDataFrame)
    assert as_list(out[HOOD]) == ["99", None, "101"]
    assert out[REASON].astype(object).tolist()[1] == "missing"


def test_assign_frame_refuses_what_it_cannot_use(toy_index: BoundaryIndex) -> None:
    with pytest.raises(InputError, match="no column 'lon'"):
        assign_frame(pd.DataFrame({"lat": [35.0]}), toy_index)
    lines = gpd.GeoDataFrame(geometry=[shapely.LineString([(51.3, 35.6), (51.4, 35.7)])], crs=4326)
    with pytest.raises(InputError, match="must be Point"):
        assign_frame(lines, toy_index)
    with pytest.raises(CRSError):
        assign_frame(gpd.GeoDataFrame(geometry=[shapely.Point(51.35, 35.65)]), toy_index)
    with pytest.raises(InputError, match="'lon'/'lat'"):
        assign_frame(pd.DataFrame({"lon": ["x"], "lat": [35.0]}), toy_index)


# --- the index --------------------------------------------------------------------------------


def test_index_needs_polygons_in_epsg_4326(toy: gpd.GeoDataFrame) -> None:
    with pytest.raises(BoundaryError, match="no polygon"):
        BoundaryIndex.from_boundaries(toy.iloc[:0])
    with pytest.raises(CRSError):
        BoundaryIndex.from_boundaries(toy.to_crs(METRIC_CRS))
    with pytest.raises(BoundaryError, match="cell_m"):
        BoundaryIndex.from_boundaries(toy, cell_m=0.0)


def test_index_works_with_a_region_only_hierarchy(toy: gpd.GeoDataFrame) -> None:
    regions = toy[toy[s.LEVEL] == s.LEVEL_REGION]
    index = BoundaryIndex.from_boundaries(regions)
    result = one(index, 51.45, 35.65)
    assert (result[HOOD], result[REGION], index.level) == (None, "2", s.LEVEL_REGION)


def test_index_does_not_modify_the_boundaries(toy: gpd.GeoDataFrame) -> None:
    before = toy.copy()
    BoundaryIndex.from_boundaries(toy)
    pd.testing.assert_frame_equal(toy, before)
    assert not any(shapely.is_prepared(toy.geometry.values))


@pytest.mark.parametrize("cell_m", [3.0, 12.0, 250.0, 5_000.0])
def test_cell_size_does_not_change_results(toy: gpd.GeoDataFrame, cell_m: float) -> None:
    reference = BoundaryIndex.from_boundaries(toy)
    index = BoundaryIndex.from_boundaries(toy, cell_m=cell_m)
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(51.28, 51.64, 3000), [51.4, 51.36, 51.55, 51.395]])
    lat = np.concatenate([rng.uniform(35.58, 35.82, 3000), [35.7, 35.75, 35.61, 35.745]])
    a = assign_points(reference, lon=lon, lat=lat)
    b = assign_points(index, lon=lon, lat=lat)
    pd.testing.assert_frame_equal(a, b)


def test_code_order_is_natural() -> None:
    assert code_order(["101", "99", "a", "0100", "B"]).tolist() == [2, 0, 4, 1, 3]


def test_load_index_is_cached_per_file_version(toy: gpd.GeoDataFrame, tmp_path: Path) -> None:
    write_boundaries(toy, tmp_path)
    first = load_index(tmp_path)
    assert load_index(tmp_path) is first
    assert load_index(tmp_path / "boundaries.parquet") is first
    time.sleep(0.01)
    write_boundaries(toy, tmp_path)
    stamp = time.time() + 5
    os.utime(tmp_path / "boundaries.parquet", (stamp, stamp))
    assert load_index(tmp_path) is not first
    with pytest.raises(BoundaryError, match="No boundaries found"):
        load_index(tmp_path / "missing")


# --- agreement with sjoin, and the tie rule everywhere ----------------------------------------


def brute_force(index: BoundaryIndex, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    """The tie rule by brute force over all polygons: interiors first, then boundaries."""
    order = code_order(list(index.codes))
    winners: list[str | None] = []
    for x, y in zip(lon, lat, strict=True):
        inside = np.flatnonzero(shapely.contains_xy(index.polygons, x, y))
        covering = np.flatnonzero(shapely.intersects_xy(index.polygons, x, y))
        pool = inside if len(inside) else covering
        winners.append(str(index.codes[pool[np.argmin(order[pool])]]) if len(pool) else None)
    return winners


def sjoin_single(polygons: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> pd.Series:
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    joined = gpd.sjoin(points, polygons, predicate="within")
    counts = joined.index.value_counts()
    single = joined[joined.index.isin(counts[counts == 1].index)]
    codes: pd.Series = single[s.CODE]
    return codes


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    vertex_share=st.floats(0.0, 0.5),
)
def test_random_points_match_sjoin_and_the_tie_rule(
    held: Held, seed: int, n: int, vertex_share: float
) -> None:
    synthetic_index = held.index
    rng = np.random.default_rng(seed)
    polygons = gpd.GeoDataFrame(
        {s.CODE: synthetic_index.codes}, geometry=list(synthetic_index.polygons), crs=4326
    )
    minx, miny, maxx, maxy = polygons.total_bounds
    lon = rng.uniform(minx - 0.01, maxx + 0.01, n)
    lat = rng.uniform(miny - 0.01, maxy + 0.01, n)
    # Some points exactly on vertices (borders shared by several neighborhoods).
    vertices = shapely.get_coordinates(polygons.geometry.values)
    on_vertex = rng.random(n) < vertex_share
    picked = vertices[rng.integers(0, len(vertices), int(on_vertex.sum()))]
    lon[on_vertex], lat[on_vertex] = picked[:, 0], picked[:, 1]

    out = assign_points(synthetic_index, lon=lon, lat=lat, snap_tolerance_m=0.0)
    codes = as_list(out[HOOD])
    single = sjoin_single(polygons, lon, lat)
    assert [codes[i] for i in single.index] == single.tolist()
    assert codes == brute_force(synthetic_index, lon, lat)


@pytest.mark.parametrize("cell_m", [100.0, 250.0])
def test_every_uncrossed_cell_lies_wholly_in_its_label(
    toy: gpd.GeoDataFrame, cell_m: float
) -> None:
    index = BoundaryIndex.from_boundaries(toy, cell_m=cell_m)
    rows, cols = np.indices(index.grid.shape)
    dx, dy = index.cell_deg
    x0 = index.origin[0] + cols.ravel() * dx
    y0 = index.origin[1] + rows.ravel() * dy
    boxes = shapely.box(x0, y0, x0 + dx, y0 + dy)
    label = index.cell_labels().ravel()
    union = shapely.union_all(index.polygons)
    outside = label == -1
    assert not shapely.intersects(boxes[outside], union).any()
    for number, polygon in enumerate(index.polygons):
        mine = label == number
        assert shapely.contains_properly(polygon, boxes[mine]).all()
    crossed = label < -1
    assert crossed.any()
    # Crossed cells are listed with every polygon that touches them.
    for k in np.flatnonzero(crossed)[:: max(1, int(crossed.sum()) // 300)]:
        cell = -2 - int(label[k])
        listed = set(index.cand_poly[index.cand_ptr[cell] : index.cand_ptr[cell + 1]].tolist())
        touching = set(np.flatnonzero(shapely.intersects(index.polygons, boxes[k])).tolist())
        assert touching <= listed


def test_point_in_a_hole_near_its_rim_is_snapped(toy_index: BoundaryIndex) -> None:
    result = one(toy_index, 51.36 + 130 / M_PER_DEG_LON, 35.75)
    assert (result[HOOD], result[PRECISION]) == ("201", "snapped")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), tolerance_m=st.floats(1.0, 600.0))
def test_snapping_matches_brute_force_distances(held: Held, seed: int, tolerance_m: float) -> None:
    synthetic_index = held.index
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = shapely.total_bounds(synthetic_index.polygons)
    lon = rng.uniform(minx - 0.01, maxx + 0.01, 300)
    lat = rng.uniform(miny - 0.01, maxy + 0.01, 300)
    outside = synthetic_index.locate(lon=lon, lat=lat) == -1
    lon, lat = lon[outside], lat[outside]
    got = synthetic_index.nearest_within(lon=lon, lat=lat, max_distance_m=tolerance_m)
    polygons = gpd.GeoSeries(list(synthetic_index.polygons), crs=4326).to_crs(METRIC_CRS)
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(METRIC_CRS)
    point_geoms = np.asarray(points.to_numpy(), dtype=object)
    polygon_geoms = np.asarray(polygons.to_numpy(), dtype=object)
    distance = shapely.distance(point_geoms[:, None], polygon_geoms[None, :])
    nearest = distance.min(axis=1)
    assert ((got >= 0) == (nearest <= tolerance_m)).all()
    chosen = got[got >= 0]
    assert np.allclose(distance[np.flatnonzero(got >= 0), chosen], nearest[got >= 0], atol=1e-6)


def test_locate_sends_far_and_nan_points_outside(toy_index: BoundaryIndex) -> None:
    lon = np.array([np.nan, np.inf, -np.inf, -170.0, 179.0, 51.35])
    lat = np.array([35.65, 35.65, 35.65, -80.0, 89.0, 35.65])
    assert toy_index.locate(lon=lon, lat=lat).tolist() == [-1, -1, -1, -1, -1, 0]
    assert toy_index.locate(lon=np.array([]), lat=np.array([])).tolist() == []


def test_assign_frame_keeps_categorical_codes(toy_index: BoundaryIndex) -> None:
    out = assign_frame(pd.DataFrame({"lon": [51.35], "lat": [35.65]}), toy_index)
    for column in (HOOD, REGION, PRECISION, REASON):
        assert isinstance(out[column].dtype, pd.CategoricalDtype)


def test_a_city_outside_utm_zone_39_snaps_in_its_own_zone() -> None:
    # Two squares in Manhattan: EPSG:32639 would be meaningless there.
    geoms = [shapely.box(-74.02, 40.70, -74.00, 40.72), shapely.box(-74.00, 40.70, -73.98, 40.72)]
    index = BoundaryIndex.from_boundaries(hierarchy(["1", "2"], geoms, ["1", "1"]))
    assert index.metric_crs == "EPSG:32618"
    m_per_deg = 111_320.0 * math.cos(math.radians(40.71))
    near = one(index, -73.98 + 100 / m_per_deg, 40.71)
    far = one(index, -73.98 + 300 / m_per_deg, 40.71)
    assert (near[HOOD], near[PRECISION], far[REASON]) == ("2", "snapped", "outside")
