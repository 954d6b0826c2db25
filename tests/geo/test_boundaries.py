"""Reading boundary layers: the real Tehran files, explicit fields, broken files, GeoParquet."""

from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geo.boundaries import (
    BOUNDARIES_FILE,
    import_boundaries,
    load_boundaries,
    load_tehran_boundaries,
    read_boundaries,
    read_boundaries_detailed,
    write_boundaries,
)
from geo.crs import METRIC_CRS
from geo.errors import BoundaryError, InputError
from geo.population import join_population, join_population_detailed
from ingest import schema as s

ARABIC_YEH_KAF = ("\u064a", "\u0643")
# A 3 x 2 grid of 1 km squares near Tehran's centre, in EPSG:32639 metres.
X0, Y0 = 535_000.0, 3_950_000.0


def square(col: int, row: int, size_m: float = 1_000.0) -> shapely.Polygon:
    return shapely.box(
        X0 + col * size_m, Y0 + row * size_m, X0 + (col + 1) * size_m, Y0 + (row + 1) * size_m
    )


def grid_layer() -> gpd.GeoDataFrame:
    """Six neighborhoods in two regions, with fields named like a municipal layer."""
    cells = [(c, r) for r in range(2) for c in range(3)]
    return gpd.GeoDataFrame(
        {
            "KOD": [101, 102, 103, 201, 202, 203],
            "NAM": ["نارمك", "ولي عصر", "  شهرك  غرب ", "يوسف آباد", "كوي ۷", None],
            "REG": [1, 1, 1, 2, 2, 2],
            "ENG": ["Narmak", "Vali Asr", "Shahrak Gharb", "Yousef Abad", "Kuy 7", None],
        },
        geometry=[square(c, r) for c, r in cells],
        crs=METRIC_CRS,
    )


def assert_model(frame: gpd.GeoDataFrame) -> None:
    assert list(frame.columns) == list(s.BOUNDARY_COLUMNS)
    assert frame.crs.to_epsg() == 4326
    assert frame[s.CODE].map(type).eq(str).all()
    assert frame[s.PARENT_CODE].map(lambda v: v is None or isinstance(v, str)).all()
    assert str(frame[s.POPULATION].dtype) == "Int64"
    assert frame.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert frame.is_valid.all()


# --- the real Tehran layers ---------------------------------------------------------------


def test_mahalat_loads_375_neighborhoods_and_22_dissolved_regions(tehran_dir: Path) -> None:
    started = time.perf_counter()
    read = read_boundaries_detailed(tehran_dir / "Mahalat_Tehran.shp")
    elapsed = time.perf_counter() - started
    frame = read.frame
    assert_model(frame)
    assert read.mapping.layout == "mahalat_tehran"
    assert read.source_crs == "EPSG:32639"
    assert frame[s.LEVEL].value_counts().to_dict() == {"neighborhood": 375, "region": 22}
    regions = frame[frame[s.LEVEL] == s.LEVEL_REGION]
    assert sorted(regions[s.CODE].astype(int)) == list(range(1, 23))
    hoods = frame[frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    # code = region * 100 + n, so the parent is the code's leading digits.
    assert (hoods[s.CODE].astype(int) // 100).astype(str).tolist() == hoods[s.PARENT_CODE].tolist()
    assert elapsed < 5.0, f"reading Mahalat and dissolving took {elapsed:.1f} s"


def test_mahalat_names_are_normalized(tehran_dir: Path) -> None:
    raw = gpd.read_file(tehran_dir / "Mahalat_Tehran.shp")
    assert raw["NAME_MAHAL"].str.contains("|".join(ARABIC_YEH_KAF)).any(), (
        "fixture lost its Arabic letters"
    )
    frame = read_boundaries(tehran_dir / "Mahalat_Tehran.shp")
    names = frame[s.NAME_FA]
    assert names.notna().all()
    assert not names.str.contains("|".join(ARABIC_YEH_KAF)).any()
    by_code = frame.set_index(s.CODE)[s.NAME_FA]
    assert by_code["2005"] == "صفائیه و چشمه علی"
    assert by_code["1"] == "منطقه 1"


def test_osm_regions_load_22_polygons_and_skip_lines_and_points(tehran_dir: Path) -> None:
    read = read_boundaries_detailed(tehran_dir / "tehran_regions_osm.geojson")
    frame = read.frame
    assert_model(frame)
    assert read.mapping.layout == "osm_admin"
    assert read.skipped == {"LineString": 220, "Point": 24}
    assert (frame[s.LEVEL] == s.LEVEL_REGION).all()
    assert sorted(frame[s.CODE].astype(int)) == list(range(1, 23))
    by_code = frame.set_index(s.CODE)
    assert by_code.loc["7", s.NAME_FA] == "منطقه 7 شهر تهران"
    assert by_code.loc["7", s.NAME_EN] == "District 7"


def test_dissolved_regions_match_osm_regions(tehran_dir: Path) -> None:
    dissolved = read_boundaries(tehran_dir / "Mahalat_Tehran.shp")
    dissolved = dissolved[dissolved[s.LEVEL] == s.LEVEL_REGION].set_index(s.CODE)
    osm = read_boundaries(tehran_dir / "tehran_regions_osm.geojson").set_index(s.CODE)
    assert set(dissolved.index) == set(osm.index)
    a = dissolved.geometry.to_crs(METRIC_CRS).sort_index().to_numpy()
    b = osm.geometry.to_crs(METRIC_CRS).reindex(dissolved.index).sort_index().to_numpy()
    iou = shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b))
    assert iou.mean() >= 0.95, f"mean IoU {iou.mean():.3f}"
    assert iou.min() > 0.85


def test_load_tehran_boundaries_dissolve_and_osm(tehran_dir: Path) -> None:
    dissolved = load_tehran_boundaries(tehran_dir)
    assert dissolved[s.LEVEL].value_counts().to_dict() == {"neighborhood": 375, "region": 22}

    osm = load_tehran_boundaries(tehran_dir, regions_from="osm")
    assert_model(osm)
    assert osm[s.LEVEL].value_counts().to_dict() == {"neighborhood": 375, "region": 22}
    osm_regions = read_boundaries(tehran_dir / "tehran_regions_osm.geojson")
    got = osm[osm[s.LEVEL] == s.LEVEL_REGION].set_index(s.CODE).geometry
    want = osm_regions.set_index(s.CODE).geometry.reindex(got.index)
    assert shapely.equals(got.to_numpy(), want.to_numpy()).all(), "OSM polygons must be used"
    hoods = osm[osm[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    agree = (hoods[s.CODE].astype(int) // 100).astype(str) == hoods[s.PARENT_CODE]
    assert agree.mean() > 0.97


def test_import_osm_and_mahalat_reports_weak_overlaps(tehran_dir: Path) -> None:
    result = import_boundaries(
        [tehran_dir / "Mahalat_Tehran.shp", tehran_dir / "tehran_regions_osm.geojson"]
    )
    report = result.attach_reports[s.LEVEL_NEIGHBORHOOD]
    assert 0 < len(report) < 30
    assert (report["overlap_share"] < 0.9).all()
    assert report["overlap_share"].is_monotonic_increasing
    assert result.dropped_levels == {str(tehran_dir / "Mahalat_Tehran.shp"): [s.LEVEL_REGION]}


# --- explicit fields and other layouts ------------------------------------------------------


def test_explicit_fields_dissolve_parents_and_normalize(tmp_path: Path) -> None:
    path = tmp_path / "hoods.gpkg"
    grid_layer().to_file(path)
    frame = read_boundaries(
        path, name_field="NAM", code_field="kod", parent_field="REG", name_en_field="ENG"
    )
    assert_model(frame)
    assert frame[s.LEVEL].tolist() == ["region"] * 2 + ["neighborhood"] * 6
    assert frame[s.CODE].tolist() == ["1", "2", "101", "102", "103", "201", "202", "203"]
    hoods = frame.set_index(s.CODE)
    assert hoods.loc["101", s.NAME_FA] == "نارمک"
    assert hoods.loc["103", s.NAME_FA] == "شهرک غرب"
    assert hoods.loc["202", s.NAME_FA] == "کوی 7"
    assert hoods.loc["203", s.NAME_FA] is None
    assert hoods.loc["101", s.NAME_EN] == "Narmak"
    assert hoods.loc["1", s.NAME_FA] == "منطقه 1"
    # Region 1 is the union of three 1 km squares: 3 km².
    region_area = frame[frame[s.CODE] == "1"].to_crs(METRIC_CRS).area.iloc[0]
    assert region_area == pytest.approx(3e6, rel=1e-6)
    # Input not modified.
    assert gpd.read_file(path)["NAM"].iloc[0] == "نارمك"


def test_level_and_parent_level_options(tmp_path: Path) -> None:
    path = tmp_path / "districts.geojson"
    grid_layer().to_crs("EPSG:4326").to_file(path)
    frame = read_boundaries(path, code_field="KOD", parent_field="REG", level="district")
    assert frame[s.LEVEL].value_counts().to_dict() == {"district": 6, "region": 2}
    with pytest.raises(BoundaryError, match="not coarser"):
        read_boundaries(path, code_field="KOD", parent_field="REG", level="region")
    with pytest.raises(BoundaryError, match="Unknown level 'ward'"):
        read_boundaries(path, code_field="KOD", level="ward")


def test_float_codes_lose_their_decimal_point(tmp_path: Path) -> None:
    layer = grid_layer()
    layer["KOD"] = layer["KOD"].astype(float)
    path = tmp_path / "floats.geojson"
    layer.to_file(path)
    frame = read_boundaries(path, code_field="KOD")
    assert frame[s.CODE].tolist() == ["101", "102", "103", "201", "202", "203"]
    assert (frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD).all()


def test_osm_export_with_nested_tags_and_a_city_outline(tmp_path: Path) -> None:
    features = []
    for number, (c, r) in enumerate([(0, 0), (1, 0)], start=1):
        polygon = gpd.GeoSeries([square(c, r)], crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": f"relation/{number}",
                    "tags": {"name": f"منطقه {'۱۲'[number - 1]} شهر تهران", "admin_level": "9"},
                },
                "geometry": shapely.geometry.mapping(polygon),
            }
        )
    outline = gpd.GeoSeries([shapely.box(X0, Y0, X0 + 2000, Y0 + 1000)], crs=METRIC_CRS)
    features.append(
        {
            "type": "Feature",
            "properties": {"id": "relation/9", "tags": {"name": "تهران", "admin_level": "8"}},
            "geometry": shapely.geometry.mapping(outline.to_crs("EPSG:4326").iloc[0]),
        }
    )
    path = tmp_path / "osm.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    read = read_boundaries_detailed(path)
    assert read.mapping.layout == "osm_admin"
    assert read.frame[s.CODE].tolist() == ["1", "2"]
    assert read.skipped == {"no code": 1}


def test_geometry_collections_keep_their_polygons(tmp_path: Path) -> None:
    layer = grid_layer().head(2)
    layer.loc[0, "geometry"] = shapely.GeometryCollection(
        [square(0, 0), shapely.LineString([(X0, Y0), (X0 - 500, Y0 - 500)])]
    )
    path = tmp_path / "collection.geojson"
    layer.to_crs("EPSG:4326").to_file(path)
    frame = read_boundaries(path, code_field="KOD")
    assert frame.geom_type.tolist() == ["Polygon", "Polygon"]


def test_multilayer_geopackage_needs_a_layer(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    grid_layer().to_file(path, layer="hoods")
    grid_layer().to_file(path, layer="copy")
    with pytest.raises(BoundaryError, match="several layers"):
        read_boundaries(path, code_field="KOD")
    assert len(read_boundaries(path, code_field="KOD", layer="copy")) == 6


# --- broken files: one sentence naming the file ------------------------------------------------


def _one_sentence(error: BoundaryError, path: Path) -> str:
    text = str(error)
    assert str(path) in text
    assert "\n" not in text
    assert text.endswith(".")
    return text


def test_text_file_named_shp(tmp_path: Path) -> None:
    path = tmp_path / "fake.shp"
    path.write_text("this is not a shapefile\n", encoding="utf-8")
    with pytest.raises(BoundaryError) as info:
        read_boundaries(path)
    assert "cannot be read" in _one_sentence(info.value, path)


def test_missing_path(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.shp"
    with pytest.raises(BoundaryError) as info:
        read_boundaries(path)
    assert "does not exist" in _one_sentence(info.value, path)


def test_geojson_without_polygons(tmp_path: Path) -> None:
    path = tmp_path / "lines.geojson"
    lines = gpd.GeoDataFrame(
        {"name": ["a", "b"], "admin_level": ["9", "9"]},
        geometry=[shapely.LineString([(51.3, 35.7), (51.4, 35.7)]), shapely.Point(51.3, 35.7)],
        crs="EPSG:4326",
    )
    lines.to_file(path)
    with pytest.raises(BoundaryError) as info:
        read_boundaries(path)
    text = _one_sentence(info.value, path)
    assert "no polygons" in text
    assert "1 LineString" in text


def test_empty_geojson(tmp_path: Path) -> None:
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(BoundaryError) as info:
        read_boundaries(path, code_field="code")
    assert "no features" in _one_sentence(info.value, path)


def test_shapefile_without_prj(tmp_path: Path) -> None:
    path = tmp_path / "noprj.shp"
    grid_layer().to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(BoundaryError) as info:
        read_boundaries(path, code_field="KOD")
    assert ".prj" in _one_sentence(info.value, path)


def test_missing_field(tmp_path: Path) -> None:
    path = tmp_path / "hoods.gpkg"
    grid_layer().to_file(path)
    with pytest.raises(BoundaryError) as info:
        read_boundaries(path, code_field="NAME_MAHAL")
    text = _one_sentence(info.value, path)
    assert "'NAME_MAHAL'" in text
    assert "KOD" in text  # lists the fields that exist


def test_unknown_layout_without_fields(tmp_path: Path) -> None:
    path = tmp_path / "hoods.gpkg"
    grid_layer().to_file(path)
    with pytest.raises(BoundaryError) as info:
        read_boundaries(path)
    assert "--code-field" in _one_sentence(info.value, path)


def test_boundary_error_is_an_input_error() -> None:
    assert issubclass(BoundaryError, InputError)
    assert issubclass(BoundaryError, ValueError)


# --- GeoParquet on disk ---------------------------------------------------------------------


def test_write_and_load_round_trip(tmp_path: Path, synthetic_geo: gpd.GeoDataFrame) -> None:
    target = write_boundaries(synthetic_geo, tmp_path / "out")
    assert target == tmp_path / "out" / BOUNDARIES_FILE
    assert sorted(p.name for p in target.parent.iterdir()) == [BOUNDARIES_FILE]
    loaded = load_boundaries(tmp_path / "out")
    assert_model(loaded)
    # Written coarsest level first, then by code.
    assert loaded[s.LEVEL].iloc[0] == s.LEVEL_REGION
    assert loaded[s.CODE].iloc[:3].tolist() == ["1", "2", "3"]
    expected = synthetic_geo.set_index([s.LEVEL, s.CODE]).loc[
        list(zip(loaded[s.LEVEL], loaded[s.CODE], strict=True))
    ]
    pd.testing.assert_frame_equal(
        pd.DataFrame(loaded.set_index([s.LEVEL, s.CODE]).drop(columns=s.GEOMETRY)),
        pd.DataFrame(expected.drop(columns=s.GEOMETRY)),
    )
    assert shapely.equals(loaded.geometry.to_numpy(), expected.geometry.to_numpy()).all()
    # A written directory reads back through read_boundaries too.
    assert len(read_boundaries(tmp_path / "out")) == len(synthetic_geo)


def test_write_overwrites_atomically(tmp_path: Path, synthetic_geo: gpd.GeoDataFrame) -> None:
    write_boundaries(synthetic_geo, tmp_path)
    regions = synthetic_geo[synthetic_geo[s.LEVEL] == s.LEVEL_REGION]
    write_boundaries(regions, tmp_path)
    assert len(load_boundaries(tmp_path)) == 22
    assert [p.name for p in tmp_path.iterdir()] == [BOUNDARIES_FILE]


def test_write_refuses_duplicate_codes_and_dangling_parents(
    tmp_path: Path, synthetic_geo: gpd.GeoDataFrame
) -> None:
    doubled = pd.concat([synthetic_geo, synthetic_geo.tail(1)], ignore_index=True)
    with pytest.raises(BoundaryError, match="duplicate codes"):
        write_boundaries(gpd.GeoDataFrame(doubled, crs=synthetic_geo.crs), tmp_path)
    dangling = synthetic_geo.copy()
    dangling.loc[dangling[s.LEVEL] == s.LEVEL_NEIGHBORHOOD, s.PARENT_CODE] = "99"
    with pytest.raises(BoundaryError, match="parent codes 99"):
        write_boundaries(dangling, tmp_path)
    assert not any(tmp_path.iterdir())


def test_load_boundaries_missing(tmp_path: Path) -> None:
    with pytest.raises(BoundaryError, match="t137 boundaries import"):
        load_boundaries(tmp_path)


# --- population -----------------------------------------------------------------------------


def _hoods_and_regions(tmp_path: Path) -> gpd.GeoDataFrame:
    path = tmp_path / "hoods.gpkg"
    grid_layer().to_file(path)
    return read_boundaries(path, code_field="KOD", parent_field="REG", name_field="NAM")


def test_population_join_sums_parents_and_reports_unmatched(tmp_path: Path) -> None:
    frame = _hoods_and_regions(tmp_path)
    before = frame.copy()
    csv = tmp_path / "population.csv"
    csv.write_text(
        'code,population\n101,۱۲٬۰۰۰\n102,"3,500"\n103,100\n201,7\n202,8\n', encoding="utf-8"
    )
    joined = join_population_detailed(frame, csv)
    people = joined.frame.set_index(s.CODE)[s.POPULATION]
    assert str(joined.frame[s.POPULATION].dtype) == "Int64"
    assert people["101"] == 12_000
    assert people["102"] == 3_500
    assert people["1"] == 15_600  # every neighborhood of region 1 known: summed
    assert people["2"] is pd.NA  # 203 missing: no sum
    assert joined.matched == 5
    assert joined.unmatched == {"region": ["2"], "neighborhood": ["203"]}
    assert joined.filled_from_children == {"region": ["1"]}
    pd.testing.assert_frame_equal(frame, before)  # input not modified
    assert join_population(frame, csv).set_index(s.CODE)[s.POPULATION]["103"] == 100


def test_population_errors(tmp_path: Path) -> None:
    frame = _hoods_and_regions(tmp_path)
    csv = tmp_path / "p.csv"
    csv.write_text("kod,pop\n101,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column 'code', 'population'"):
        join_population(frame, csv)
    assert (
        join_population(frame, csv, code_column="kod", population_column="pop")[s.POPULATION]
        .notna()
        .sum()
        == 1
    )
    csv.write_text("code,population\n101,5\n999,6\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3: 1 code\(s\) are not boundary codes \(999\)"):
        join_population(frame, csv)
    csv.write_text("code,population\n101,many\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2, column 'population': 'many'"):
        join_population(frame, csv)
    csv.write_text("code,population\n101,5\n101,6\n", encoding="utf-8")
    with pytest.raises(InputError, match="appears twice"):
        join_population(frame, csv)
    with pytest.raises(InputError, match="does not exist"):
        join_population(frame, tmp_path / "none.csv")


def test_population_with_level_column_for_codes_shared_by_levels(tmp_path: Path) -> None:
    frame = _hoods_and_regions(tmp_path)
    frame.loc[frame[s.CODE] == "101", s.CODE] = "1"  # neighborhood 1 clashes with region 1
    csv = tmp_path / "p.csv"
    csv.write_text("code,population\n1,5\n", encoding="utf-8")
    with pytest.raises(InputError, match="more than one level"):
        join_population(frame, csv)
    csv.write_text("level,code,population\nneighborhood,1,5\nregion,2,9\n", encoding="utf-8")
    joined = join_population(frame, csv)
    people = joined.set_index([s.LEVEL, s.CODE])[s.POPULATION]
    assert people[("neighborhood", "1")] == 5
    assert people[("region", "2")] == 9
    assert people[("region", "1")] is pd.NA  # its other neighborhoods are unknown
