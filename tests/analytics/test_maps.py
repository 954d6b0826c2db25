"""folium map helpers: joins, classes, size, offline base, layers, lat/lon order, languages."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import analytics
from analytics import maps
from analytics.hotspots import DensityHotspots, EmergingHotspots, GiStarHotspots
from analytics.maps.areas import NO_DATA_COLOUR, YL_OR_RD
from analytics.maps.hotspot_layers import GISTAR_COLOURS
from analytics.maps.shapes import simplified
from geo.boundaries import read_boundaries
from geo.errors import CRSError, InputError, NotFittedError
from tests.support.cases import random_cases

MAPS_DIR = Path(analytics.__file__).parent / "maps"
ONE_MB = 1_000_000


def _html(m: folium.Map) -> str:
    html: str = m.get_root().render()
    return html


def _geojson_layers(m: folium.Map) -> list[folium.GeoJson]:
    found: list[folium.GeoJson] = []

    def walk(element: Any) -> None:
        for child in element._children.values():
            if isinstance(child, folium.GeoJson):
                found.append(child)
            walk(child)

    walk(m)
    return found


def _features(m: folium.Map) -> list[dict[str, Any]]:
    layers = _geojson_layers(m)
    assert len(layers) == 1
    features: list[dict[str, Any]] = layers[0].data["features"]
    return features


def _fill_by_name(m: folium.Map) -> dict[str, str]:
    layer = _geojson_layers(m)[0]
    return {
        f["properties"]["name"]: layer.style_function(f)["fillColor"]
        for f in layer.data["features"]
    }


@pytest.fixture(scope="module")
def synthetic_cases(synthetic_geo: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return random_cases(4000, seed=7, boundaries=synthetic_geo, months=3, start="2024-06-21")


@pytest.fixture(scope="module")
def hood_kpis(synthetic_cases: gpd.GeoDataFrame, synthetic_geo: gpd.GeoDataFrame) -> pd.DataFrame:
    return analytics.kpis(
        synthetic_cases, by=["neighborhood"], period="M", population=synthetic_geo
    )


def _small_boundaries() -> gpd.GeoDataFrame:
    from geo.synthetic_geography import synthetic_boundaries

    return synthetic_boundaries(n_regions=2, n_neighborhoods=6, seed=1)


# --- choropleth ---------------------------------------------------------------------------------
def test_choropleth_of_375_synthetic_neighborhoods_is_under_one_megabyte(
    hood_kpis: pd.DataFrame, synthetic_geo: gpd.GeoDataFrame
) -> None:
    m = maps.choropleth(hood_kpis, metric="volume", level="neighborhood", boundaries=synthetic_geo)
    assert isinstance(m, folium.Map)
    html = _html(m)
    assert len(_features(m)) == 375
    assert len(html.encode("utf-8")) < ONE_MB
    assert "ساختگی" in html  # the synthetic geography is labelled on the map


def test_choropleth_of_real_tehran_is_under_one_megabyte(tehran_dir: Path) -> None:
    boundaries = read_boundaries(tehran_dir / "Mahalat_Tehran.shp")
    cases = random_cases(3000, seed=3, boundaries=boundaries, months=2, start="2024-06-21")
    table = analytics.kpis(cases, by=["neighborhood"], period=None, population=boundaries)
    m = maps.choropleth(table, "volume_per_1000", "neighborhood", boundaries)
    size = len(_html(m).encode("utf-8"))
    assert len(_features(m)) == 375
    assert size < ONE_MB, f"{size} bytes"
    unsimplified = maps.choropleth(
        table, "volume_per_1000", "neighborhood", boundaries, simplify_m=0
    )
    assert size < len(_html(unsimplified).encode("utf-8"))


def test_choropleth_joins_values_to_their_areas_and_classes_them() -> None:
    b = _small_boundaries()
    hoods = b[b.level == "neighborhood"]
    codes = hoods["code"].tolist()
    table = pd.DataFrame({"neighborhood_code": codes, "volume": [3, 9, 14, 0, 7, 21]})
    m = maps.choropleth(table, metric="volume", level="neighborhood", boundaries=b, lang="en")
    props = {f["properties"]["code"]: f["properties"]["value"] for f in _features(m)}
    assert props == {c: str(v) for c, v in zip(codes, [3, 9, 14, 0, 7, 21], strict=True)}
    fills = _fill_by_name(m)
    names = dict(zip(hoods["code"], hoods["name_en"], strict=True))
    assert fills[names[codes[5]]] == YL_OR_RD[-1]  # the largest value: darkest class
    assert fills[names[codes[3]]] == YL_OR_RD[0]  # zero: lightest class


def test_choropleth_areas_without_a_row_get_zero_counts_and_no_data_for_rates() -> None:
    b = _small_boundaries()
    codes = b.loc[b.level == "neighborhood", "code"].tolist()
    table = pd.DataFrame(
        {"neighborhood_code": codes[:3], "volume": [5, 6, 7], "objection_rate": [0.1, 0.2, 0.3]}
    )
    m = maps.choropleth(table, "volume", boundaries=b, lang="en")
    values = {f["properties"]["code"]: f["properties"]["value"] for f in _features(m)}
    assert values[codes[4]] == "0"
    m = maps.choropleth(table, "objection_rate", boundaries=b, lang="en")
    values = {f["properties"]["code"]: f["properties"]["value"] for f in _features(m)}
    assert values[codes[4]] == "No data"
    assert NO_DATA_COLOUR in set(_fill_by_name(m).values())
    assert "No data" in _html(m)


def test_choropleth_persian_by_default_english_on_request(
    hood_kpis: pd.DataFrame, synthetic_geo: gpd.GeoDataFrame
) -> None:
    fa = _html(maps.choropleth(hood_kpis, "volume", "neighborhood", synthetic_geo))
    en = _html(maps.choropleth(hood_kpis, "volume", "neighborhood", synthetic_geo, lang="en"))
    assert "تعداد درخواست" in fa
    assert 'dir="rtl"' in fa
    assert json.dumps("محله")[1:-1] in fa  # tooltip alias of the level (escaped in the JSON)
    assert re.search("[۰-۹]", fa)  # Persian digits in values and legend
    assert "Cases" in en
    assert "Neighborhood" in en
    assert 'dir="ltr"' in en
    assert "تعداد درخواست" not in en
    with pytest.raises(InputError, match="lang must be"):
        maps.choropleth(hood_kpis, "volume", "neighborhood", synthetic_geo, lang="de")  # type: ignore[arg-type]


def test_choropleth_picks_the_latest_period_or_the_one_asked(
    hood_kpis: pd.DataFrame, synthetic_geo: gpd.GeoDataFrame
) -> None:
    periods = sorted(hood_kpis["period"].unique())
    assert len(periods) > 1
    latest = _html(maps.choropleth(hood_kpis, "volume", boundaries=synthetic_geo, lang="en"))
    assert f"Cases — {periods[-1]}" in latest
    first = _html(
        maps.choropleth(hood_kpis, "volume", boundaries=synthetic_geo, lang="en", period=periods[0])
    )
    assert f"Cases — {periods[0]}" in first
    with pytest.raises(InputError, match="choose one of"):
        maps.choropleth(hood_kpis, "volume", boundaries=synthetic_geo, period="1390-01")


def test_choropleth_region_level(
    synthetic_cases: gpd.GeoDataFrame, synthetic_geo: gpd.GeoDataFrame
) -> None:
    table = analytics.kpis(synthetic_cases, by=["region"], period=None)
    m = maps.choropleth(table, "backlog", level="region", boundaries=synthetic_geo)
    assert len(_features(m)) == 22


def test_choropleth_accepts_a_geodataframe_without_boundaries() -> None:
    b = _small_boundaries()
    hoods = b[b.level == "neighborhood"].copy()
    hoods["volume"] = np.arange(len(hoods))
    m = maps.choropleth(hoods, "volume", "neighborhood")
    assert len(_features(m)) == len(hoods)


def test_choropleth_schemes_and_few_distinct_values() -> None:
    b = _small_boundaries()
    codes = b.loc[b.level == "neighborhood", "code"].tolist()
    table = pd.DataFrame({"neighborhood_code": codes, "volume": [1, 1, 1, 1, 2, 2]})
    for scheme in ("quantiles", "fisher_jenks", "equal_interval"):
        m = maps.choropleth(table, "volume", boundaries=b, scheme=scheme, k=5)
        assert len(set(_fill_by_name(m).values())) == 2  # two distinct values, two classes
    with pytest.raises(InputError, match="scheme must be one of"):
        maps.choropleth(table, "volume", boundaries=b, scheme="magic")


def test_choropleth_teaching_errors(
    hood_kpis: pd.DataFrame, synthetic_geo: gpd.GeoDataFrame
) -> None:
    with pytest.raises(InputError, match="Did you mean \\['volume"):
        maps.choropleth(hood_kpis, "volumes", boundaries=synthetic_geo)
    with pytest.raises(InputError, match="pass boundaries="):
        maps.choropleth(hood_kpis, "volume")
    with pytest.raises(InputError, match="by=\\['district'\\]"):
        maps.choropleth(hood_kpis, "volume", level="district", boundaries=synthetic_geo)
    naive = synthetic_geo.set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match="set_crs"):
        maps.choropleth(hood_kpis, "volume", boundaries=naive)
    with pytest.raises(InputError, match="must be a GeoDataFrame"):
        maps.choropleth(hood_kpis, "volume", boundaries=pd.DataFrame(synthetic_geo))  # type: ignore[arg-type]


def test_choropleth_refuses_several_rows_per_area_and_names_the_column(
    synthetic_cases: gpd.GeoDataFrame, synthetic_geo: gpd.GeoDataFrame
) -> None:
    table = analytics.kpis(synthetic_cases, by=["neighborhood", "category"], period=None)
    with pytest.raises(InputError, match="differ in \\['category'\\]"):
        maps.choropleth(table, "volume", boundaries=synthetic_geo)
    one = table[table["category"] == table["category"].iloc[0]]
    assert len(_features(maps.choropleth(one, "volume", boundaries=synthetic_geo))) == 375


def test_simplification_is_in_metres_and_within_tolerance(synthetic_geo: gpd.GeoDataFrame) -> None:
    hoods = synthetic_geo[synthetic_geo.level == "neighborhood"].geometry
    light = simplified(hoods, 20.0)
    assert light.crs == "EPSG:4326"
    before = shapely.get_num_coordinates(hoods.to_numpy()).sum()
    after = shapely.get_num_coordinates(light.to_numpy()).sum()
    assert after < before
    gap = shapely.hausdorff_distance(
        hoods.to_crs("EPSG:32639").to_numpy(), light.to_crs("EPSG:32639").to_numpy()
    )
    assert gap.max() <= 20.0 + 2.0  # the tolerance, plus 1e-5 degree rounding


# --- offline base, tiles, layers ----------------------------------------------------------------
def test_no_tile_layer_by_default_tiles_on_request() -> None:
    b = _small_boundaries()
    table = pd.DataFrame({"neighborhood_code": ["101"], "volume": [1]})
    blank = maps.choropleth(table, "volume", boundaries=b)
    assert not any(isinstance(c, folium.TileLayer) for c in blank._children.values())
    assert "tile.openstreetmap" not in _html(blank)
    tiled = maps.choropleth(table, "volume", boundaries=b, tiles="OpenStreetMap")
    assert any(isinstance(c, folium.TileLayer) for c in tiled._children.values())
    assert "tile.openstreetmap" in _html(tiled)


def test_layer_control_appears_once_layers_are_combined_and_renders_last(
    hood_kpis: pd.DataFrame, synthetic_geo: gpd.GeoDataFrame, synthetic_cases: gpd.GeoDataFrame
) -> None:
    m = maps.choropleth(hood_kpis, "volume", boundaries=synthetic_geo)
    assert "L.control.layers" not in _html(m)
    same = maps.heatmap(synthetic_cases, m=m)
    assert same is m
    same = maps.hotspots(GiStarHotspots().fit(synthetic_cases, synthetic_geo), m=m)
    html = _html(m)
    assert html.count("L.control.layers") == 1
    children = list(m._children.values())
    control_at = [i for i, c in enumerate(children) if isinstance(c, folium.LayerControl)]
    groups_at = [i for i, c in enumerate(children) if isinstance(c, folium.FeatureGroup)]
    assert len(control_at) == 1
    assert control_at[0] > max(groups_at)
    layer_names = [c.get_name() for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert len(layer_names) == 3
    for name in layer_names:  # each layer's variable is defined before the control uses it
        assert html.index(f"var {name} =") < html.index("L.control.layers")
    with pytest.raises(InputError, match="tiles is set when the map is created"):
        maps.heatmap(synthetic_cases, m=m, tiles="OpenStreetMap")


def test_layer_names_stay_unique_when_a_helper_is_used_twice(
    synthetic_cases: gpd.GeoDataFrame,
) -> None:
    m = maps.heatmap(synthetic_cases, lang="en")
    maps.heatmap(synthetic_cases, lang="en", m=m)
    names = [c.layer_name for c in m._children.values() if isinstance(c, folium.FeatureGroup)]
    assert len(set(names)) == 2


# --- points: [lat, lon] in one place ------------------------------------------------------------
def test_latlon_puts_latitude_first() -> None:
    frame = pd.DataFrame({"lon": [51.4, 51.2], "lat": [35.7, 35.6]})
    assert maps.latlon(frame) == [[35.7, 51.4], [35.6, 51.2]]
    metric = gpd.GeoSeries.from_xy([535_000.0], [3_950_000.0], crs="EPSG:32639")
    lat, lon = maps.latlon(metric)[0]
    assert 35.6 < lat < 35.8
    assert 51.3 < lon < 51.5
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy([51.4], [35.7]), crs="EPSG:4326")
    assert maps.latlon(points) == [[35.7, 51.4]]


def test_latlon_refuses_metres_as_degrees_and_missing_crs() -> None:
    with pytest.raises(CRSError, match="not degrees"):
        maps.latlon(pd.DataFrame({"lon": [535_000.0], "lat": [3_950_000.0]}))
    with pytest.raises(CRSError, match="set_crs"):
        maps.latlon(gpd.GeoSeries.from_xy([51.4], [35.7]))
    with pytest.raises(InputError, match="drop them first"):
        maps.latlon(pd.DataFrame({"lon": [51.4, None], "lat": [35.7, None]}))


def test_rendered_points_are_lat_then_lon() -> None:
    frame = pd.DataFrame(
        {
            "case_id": ["A1"],
            "lon": [51.4123],
            "lat": [35.7456],
            "created_at": pd.to_datetime(["2024-09-26T11:00Z"]),
        }
    )
    heat = _html(maps.heatmap(frame))
    assert "[35.7456, 51.4123]" in heat
    assert "[51.4123, 35.7456]" not in heat
    markers = _html(maps.cases(frame))
    assert re.search(r"L\.circleMarker\(\s*\[35\.7456, 51\.4123\]", markers)
    assert "[[35.7456, 51.4123], [35.7456, 51.4123]]" in markers  # fit_bounds, south-west first


def test_only_coords_module_orders_coordinates() -> None:
    """No map module but coords.py reads x/y (or lon/lat values) to build [lat, lon]."""
    banned_attrs = {"x", "y", "get_x", "get_y", "get_coordinates", "column_stack"}
    offenders = []
    for path in sorted(MAPS_DIR.glob("*.py")):
        if path.name == "coords.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in banned_attrs:
                offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
            is_transform = isinstance(node, ast.Call) and getattr(node.func, "attr", "") == (
                "transform"
            )
            # shapely.transform in shapes.py only rounds polygon coordinates, in place
            if is_transform and path.name != "shapes.py":
                offenders.append(f"{path.name}:{node.lineno} transform")
    assert offenders == []
    coords_uses = sum("latlon(" in p.read_text(encoding="utf-8") for p in MAPS_DIR.glob("*.py"))
    assert coords_uses >= 3  # coords.py itself, canvas.py and points.py


def test_cases_popups_show_jalali_dates_in_tehran_and_no_private_text() -> None:
    frame = pd.DataFrame(
        {
            "case_id": ["C1"],
            "lon": [51.39],
            "lat": [35.69],
            "status": ["closed"],
            "category": ["urban_services"],
            "created_at": pd.to_datetime(["2024-09-26T11:00Z"]),  # 14:30 in Tehran
            "description": ["متن محرمانه شهروند"],
            "citizen_key": ["secret-key-123"],
        }
    )
    fa = _html(maps.cases(frame))
    assert "۱۴۰۳/۰۷/۰۵ ۱۴:۳۰" in fa
    assert "بسته‌شده" in fa
    assert "خدمات شهری" in fa
    assert "متن محرمانه" not in fa
    assert "secret-key-123" not in fa
    en = _html(maps.cases(frame, lang="en"))
    assert "1403/07/05 14:30" in en
    assert "Urban services" in en


def test_cases_cluster_beyond_the_threshold_and_sample_beyond_max_points(
    synthetic_cases: gpd.GeoDataFrame,
) -> None:
    located = synthetic_cases.dropna(subset=["lon", "lat"])
    few = maps.cases(located.iloc[:50], cluster_above=100)
    assert not _find(few, folium.plugins.FastMarkerCluster)
    assert len(_find(few, folium.CircleMarker)) == 50
    many = maps.cases(located, max_points=3000, cluster_above=2000, lang="en")
    clusters = _find(many, folium.plugins.FastMarkerCluster)
    assert len(clusters) == 1
    assert len(clusters[0].data) == 3000
    assert f"3,000 of {len(located):,}" in clusters[0].layer_name
    assert not _find(many, folium.CircleMarker)
    again = maps.cases(located, max_points=3000, cluster_above=2000, lang="en")
    assert _find(again, folium.plugins.FastMarkerCluster)[0].data == clusters[0].data  # seeded


def _find(m: folium.Map, kind: type) -> list[Any]:
    found: list[Any] = []

    def walk(element: Any) -> None:
        for child in element._children.values():
            if isinstance(child, kind):
                found.append(child)
            walk(child)

    walk(m)
    return found


def test_heatmap_skips_unlocated_cases_and_samples(synthetic_cases: gpd.GeoDataFrame) -> None:
    m = maps.heatmap(synthetic_cases, max_points=500)
    heat = _find(m, folium.plugins.HeatMap)
    assert len(heat) == 1
    assert len(heat[0].data) == 500
    with pytest.raises(InputError, match="lon`/`lat` columns"):
        maps.heatmap(pd.DataFrame({"x": [1.0]}))


# --- hotspots -----------------------------------------------------------------------------------
def test_gistar_hotspots_coloured_by_class(synthetic_geo: gpd.GeoDataFrame) -> None:
    hoods = synthetic_geo[synthetic_geo.level == "neighborhood"]
    centres = hoods.to_crs("EPSG:32639").centroid
    busy = (centres.distance(centres.iloc[0]) < 3000).to_numpy()
    codes = np.repeat(hoods["code"].to_numpy(), np.where(busy, 150, 10))
    model = GiStarHotspots().fit(pd.DataFrame({"neighborhood_code": codes}), synthetic_geo)
    hot = set(model.units_.loc[model.units_.hotspot == "hot", "unit"])
    assert hot
    m = maps.hotspots(model, lang="en")
    layer = _geojson_layers(m)[0]
    colours = {
        f["properties"]["unit"]: layer.style_function(f)["fillColor"]
        for f in layer.data["features"]
    }
    assert len(colours) == 375
    assert {colours[u] for u in hot} == {GISTAR_COLOURS["hot"]}
    assert "Hot spot" in _html(m)
    only = maps.hotspots(model, significant_only=True)
    assert len(_geojson_layers(only)[0].data["features"]) == len(
        model.units_[model.units_.hotspot != "not significant"]
    )
    assert "کانون داغ" in _html(only)


def test_emerging_and_density_hotspots_are_drawn() -> None:
    rng = np.random.default_rng(1)
    hot = np.tile(np.arange(360) < 60, 6)
    cases = pd.DataFrame(
        {
            "lon": np.where(hot, rng.normal(51.40, 0.002, 2160), rng.uniform(51.25, 51.55, 2160)),
            "lat": np.where(hot, rng.normal(35.70, 0.002, 2160), rng.uniform(35.62, 35.76, 2160)),
            "created_at": np.repeat(
                pd.date_range("2024-04-05", periods=6, freq="30D", tz="UTC"), 360
            ),
            "category": "urban_services",
        }
    )
    emerging = EmergingHotspots(resolution=8).fit(cases)
    html = _html(maps.hotspots(emerging, lang="en"))
    assert "Persistent (Hot spot)" in html
    assert "Recurring problem" in html
    density = DensityHotspots(eps_m=150, min_cases=30).fit(cases)
    assert len(density.clusters_) >= 1
    m = maps.hotspots(density, lang="en")
    assert len(_geojson_layers(m)[0].data["features"]) == len(density.clusters_)
    assert "Urban services" in _html(m)


def test_hotspots_teaching_errors() -> None:
    for estimator in (GiStarHotspots(), EmergingHotspots(), DensityHotspots()):
        with pytest.raises(NotFittedError, match=r"call \.fit\(cases"):
            maps.hotspots(estimator)
    with pytest.raises(InputError, match="fitted DensityHotspots, GiStarHotspots"):
        maps.hotspots("not an estimator")  # type: ignore[arg-type]
