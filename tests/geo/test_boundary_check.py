"""The validation report: repairs, overlaps, gaps, slivers, codes, names, nesting."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from geo.boundary_check import BoundaryReport, check_boundaries
from geo.crs import METRIC_CRS
from geo.errors import BoundaryError
from ingest import schema as s

X0, Y0 = 535_000.0, 3_950_000.0


def box_m(a: float, b: float, c: float, d: float) -> shapely.Polygon:
    """A box from offsets in metres around Tehran's centre (EPSG:32639)."""
    return shapely.box(X0 + a, Y0 + b, X0 + c, Y0 + d)


def write_layer(
    tmp_path: Path,
    geoms: Sequence[BaseGeometry],
    codes: list[object],
    names: list[str | None] | None = None,
    parents: list[int] | None = None,
    name: str = "layer.gpkg",
) -> Path:
    data: dict[str, list[object]] = {
        "code": codes,
        "name": list(names) if names else [f"محله {c}" for c in codes],
    }
    if parents is not None:
        data["reg"] = list(parents)
    path = tmp_path / name
    gpd.GeoDataFrame(data, geometry=geoms, crs=METRIC_CRS).to_file(path)
    return path


def check(path: Path, parent_field: str | None = None) -> BoundaryReport:
    return check_boundaries(path, code_field="code", name_field="name", parent_field=parent_field)


def test_clean_grid_is_ok(tmp_path: Path) -> None:
    path = write_layer(
        tmp_path,
        [box_m(0, 0, 1000, 1000), box_m(1000, 0, 2000, 1000)],
        [101, 102],
        parents=[1, 1],
    )
    report = check(path, parent_field="reg")
    assert report.ok, report.summary()
    assert report.feature_counts == {"region": 1, "neighborhood": 2}
    assert report.crs == "EPSG:32639"
    assert report.derived_levels == ("region",)
    assert report.area_km2["neighborhood"] == pytest.approx(2.0, rel=1e-6)
    assert "result: OK" in report.summary()


def test_bowtie_is_repaired_and_listed(tmp_path: Path) -> None:
    bowtie = shapely.Polygon(
        [(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0), (X0, Y0 + 1000), (X0, Y0)]
    )
    assert not bowtie.is_valid
    path = write_layer(tmp_path, [bowtie, box_m(2000, 0, 3000, 1000)], [101, 102])
    report = check(path)
    assert [(r.level, r.code) for r in report.repaired] == [("neighborhood", "101")]
    assert "Self-intersection" in report.repaired[0].reason
    assert not report.ok
    assert "neighborhood 101: Self-intersection" in report.summary()
    # read_boundaries gives the repaired polygon: both triangles, 0.5 km².
    from geo.boundaries import read_boundaries

    frame = read_boundaries(path, code_field="code", name_field="name")
    repaired = frame[frame[s.CODE] == "101"]
    assert repaired.is_valid.all()
    assert repaired.geom_type.iloc[0] == "MultiPolygon"
    assert repaired.to_crs(METRIC_CRS).area.iloc[0] == pytest.approx(500_000, rel=1e-6)


def test_duplicate_codes_and_empty_names(tmp_path: Path) -> None:
    path = write_layer(
        tmp_path,
        [box_m(0, 0, 1000, 1000), box_m(1000, 0, 2000, 1000), box_m(2000, 0, 3000, 1000)],
        [101, 101, 102],
        names=["یک", "دو", "  "],
    )
    report = check(path)
    assert report.duplicate_codes == {"neighborhood": ["101"]}
    assert report.empty_names == {"neighborhood": ["102"]}
    assert set(report.problems) == {"1 duplicate codes", "1 empty names"}


def test_overlapping_polygons(tmp_path: Path) -> None:
    path = write_layer(
        tmp_path,
        [box_m(0, 0, 1000, 1000), box_m(900, 0, 2000, 1000), box_m(2000, 0, 3000, 1000)],
        [101, 102, 103],
    )
    report = check(path)
    assert len(report.overlaps) == 1
    overlap = report.overlaps[0]
    assert (overlap.code_a, overlap.code_b) == ("101", "102")
    assert overlap.area_m2 == pytest.approx(100_000, rel=1e-3)  # 100 m x 1000 m
    # Touching neighbours (102 and 103) are not overlaps.
    assert report.small_overlaps == 0
    high = check_boundaries(path, code_field="code", overlap_threshold_m2=200_000)
    assert high.overlaps == []
    assert high.small_overlaps == 1


def test_gap_enclosed_by_features(tmp_path: Path) -> None:
    # A ring of four features around an empty 200 m x 200 m courtyard.
    geoms = [
        box_m(0, 0, 1000, 400),
        box_m(0, 600, 1000, 1000),
        box_m(0, 400, 400, 600),
        box_m(600, 400, 1000, 600),
    ]
    path = write_layer(tmp_path, geoms, [1, 2, 3, 4])
    report = check(path)
    assert len(report.gaps) == 1
    gap = report.gaps[0]
    assert gap.area_m2 == pytest.approx(40_000, rel=1e-3)
    assert 51.0 < gap.lon < 52.0
    assert 35.0 < gap.lat < 36.0
    assert check_boundaries(path, code_field="code", gap_threshold_m2=50_000).gaps == []


def test_slivers_are_small_cracks_and_fragments(tmp_path: Path) -> None:
    # A 5 cm crack between 1 and 2, closed above by 3 and below by 5: 50 m², a sliver.
    # 3 and 5 carry the crack's corners as vertices, so that re-projection keeps them shared.
    def closing(y_edge: float, y_far: float) -> shapely.Polygon:
        xs = [0, 1000, 1000.05, 2000]
        ring = [(X0 + x, Y0 + y_edge) for x in xs] + [(X0 + 2000, Y0 + y_far), (X0, Y0 + y_far)]
        return shapely.Polygon(ring)

    crack = [
        box_m(0, 0, 1000, 1000),
        box_m(1000.05, 0, 2000, 1000),
        closing(1000, 2000),
        closing(0, -1000),
    ]
    fragment = shapely.MultiPolygon([box_m(3000, 0, 4000, 1000), box_m(4100, 0, 4110, 10)])
    path = write_layer(tmp_path, [*crack, fragment], [1, 2, 3, 5, 4])
    report = check(path)
    kinds = sorted((v.kind, v.code) for v in report.slivers)
    assert kinds == [("gap", None), ("part", "4")]
    assert report.gaps == []
    assert report.ok  # slivers are informative
    assert "slivers: 2" in report.summary()


def test_children_not_nested_in_parents(synthetic_geo: gpd.GeoDataFrame) -> None:
    frame = synthetic_geo.copy()
    hoods = frame.index[frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    frame.loc[hoods[0], s.PARENT_CODE] = "99"  # unknown parent
    frame.loc[hoods[1], s.PARENT_CODE] = None  # no parent
    wrong = frame.loc[hoods[2], s.PARENT_CODE]
    frame.loc[hoods[2], s.PARENT_CODE] = "1" if wrong != "1" else "2"  # wrong parent
    report = check_boundaries(frame)
    reasons = {(n.code, n.reason) for n in report.not_nested}
    codes = frame.loc[hoods[:3], s.CODE].tolist()
    assert reasons == {
        (codes[0], "unknown region"),
        (codes[1], "no region"),
        (codes[2], "outside parent"),
    }
    assert report.source == "<frame>"
    assert synthetic_geo[s.PARENT_CODE].notna().sum() == 375  # input untouched


def test_frame_with_invalid_geometry_is_repaired_in_a_copy(
    synthetic_geo: gpd.GeoDataFrame,
) -> None:
    frame = synthetic_geo.copy()
    bowtie = shapely.Polygon([(51.3, 35.6), (51.31, 35.61), (51.31, 35.6), (51.3, 35.61)])
    frame.loc[frame.index[-1], s.GEOMETRY] = bowtie
    report = check_boundaries(frame)
    assert [r.code for r in report.repaired] == [frame[s.CODE].iloc[-1]]
    assert not frame.geometry.iloc[-1].is_valid  # the caller's frame is not changed


def test_to_dict_is_json(tmp_path: Path) -> None:
    path = write_layer(tmp_path, [box_m(0, 0, 1000, 1000), box_m(500, 0, 1500, 1000)], [101, 101])
    data = check(path).to_dict()
    decoded = json.loads(json.dumps(data, ensure_ascii=False))
    assert decoded["ok"] is False
    assert decoded["duplicate_codes"] == {"neighborhood": ["101"]}
    assert decoded["overlaps"][0]["area_m2"] == pytest.approx(500_000, rel=1e-3)
    assert decoded["feature_counts"] == {"neighborhood": 2}


def test_broken_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "x.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(BoundaryError, match="cannot be read"):
        check_boundaries(path)


def test_real_mahalat_report(tehran_dir: Path) -> None:
    report = check_boundaries(tehran_dir / "Mahalat_Tehran.shp")
    assert report.ok, report.summary()
    assert report.feature_counts == {"region": 22, "neighborhood": 375}
    assert report.area_km2["neighborhood"] == pytest.approx(628.9, abs=0.1)
    # PROVENANCE.md: "union is one piece with 5 slivers of ~0 km²".
    assert len(report.slivers) == 5
    assert all(v.area_m2 < 1 for v in report.slivers)


def test_real_osm_report(tehran_dir: Path) -> None:
    report = check_boundaries(tehran_dir / "tehran_regions_osm.geojson")
    assert report.ok, report.summary()
    assert report.skipped_features == {"LineString": 220, "Point": 24}
    assert "skipped features: 220 LineString, 24 Point" in report.summary()
