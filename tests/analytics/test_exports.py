"""analytics.exports: every format round-trips, carries the provenance and fails clearly."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Point, box

from analytics.exports import (
    FORMATS,
    export_bytes,
    format_for,
    read_provenance,
    sidecar_path,
    write_export,
)
from geo.errors import InputError

HEAD = "ab" * 32
NOTES = {"chain_head": HEAD, "store": "/tmp/store"}


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region_code": ["1", "2"],
            "name_fa": ["منطقه یک", "منطقهٔ دو"],
            "volume": [120, 7],
            "rate": [0.25, None],
            "created_at": pd.to_datetime(["2024-09-22 04:30", "2024-10-01 20:00"], utc=True),
            "category": pd.Categorical(["waste", "water"]),
        }
    )


@pytest.fixture
def geo_table(table: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        table, geometry=[box(51.3, 35.6, 51.4, 35.7), Point(51.5, 35.75)], crs="EPSG:4326"
    )


def test_csv_has_bom_and_persian_survives(table: pd.DataFrame) -> None:
    content = export_bytes(table, "csv")
    assert content.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(content), encoding="utf-8-sig", dtype=str)
    assert list(back["name_fa"]) == ["منطقه یک", "منطقهٔ دو"]
    # timestamps are shown in Tehran time with the offset
    assert back["created_at"].iloc[0] == "2024-09-22T08:00:00+0330"
    assert table["created_at"].dt.tz is not None  # input untouched


def test_csv_carries_chain_head_column(table: pd.DataFrame) -> None:
    back = pd.read_csv(io.BytesIO(export_bytes(table, "csv", provenance=NOTES)), dtype=str)
    assert set(back["t137_chain_head"]) == {HEAD}
    assert "t137_chain_head" not in table.columns


def test_xlsx_round_trip_and_provenance(table: pd.DataFrame, tmp_path: Path) -> None:
    path = write_export(table, tmp_path / "ranking.xlsx", provenance=NOTES)
    data = pd.read_excel(path, sheet_name="data", engine="openpyxl")
    assert list(data["name_fa"]) == ["منطقه یک", "منطقهٔ دو"]
    assert data["created_at"].iloc[0] == pd.Timestamp("2024-09-22 08:00")
    assert read_provenance(path)["chain_head"] == HEAD
    assert HEAD in (openpyxl.load_workbook(path).properties.keywords or "")


def test_geojson_is_lonlat_and_carries_head(geo_table: gpd.GeoDataFrame) -> None:
    metric = geo_table.to_crs(32639)
    collection = json.loads(export_bytes(metric, "geojson", provenance=NOTES))
    assert collection["type"] == "FeatureCollection"
    assert collection["t137_provenance"]["chain_head"] == HEAD
    point = collection["features"][1]["geometry"]["coordinates"]
    assert point == pytest.approx([51.5, 35.75])
    props = collection["features"][0]["properties"]
    assert props["name_fa"] == "منطقه یک"
    assert props["created_at"].startswith("2024-09-22T08:00:00+03:30")
    assert collection["features"][1]["properties"]["rate"] is None


@pytest.mark.parametrize("fmt", ["parquet", "geoparquet"])
def test_geoparquet_round_trip(geo_table: gpd.GeoDataFrame, tmp_path: Path, fmt: str) -> None:
    path = write_export(geo_table, tmp_path / "hotspots.parquet", fmt, provenance=NOTES)
    back = gpd.read_parquet(path)
    assert back.crs is not None
    assert back.crs.to_epsg() == 4326
    assert back.geometry.iloc[1].equals(Point(51.5, 35.75))
    assert list(back["name_fa"]) == list(geo_table["name_fa"])
    assert read_provenance(path) == NOTES
    assert b"geo" in (pq.read_schema(path).metadata or {})


def test_plain_parquet_keeps_types(table: pd.DataFrame, tmp_path: Path) -> None:
    path = write_export(table, tmp_path / "kpis.parquet")
    back = pd.read_parquet(path)
    pd.testing.assert_frame_equal(back, table)
    assert read_provenance(path) == {}
    assert not sidecar_path(path).exists()


def test_write_export_sidecar(table: pd.DataFrame, tmp_path: Path) -> None:
    path = write_export(table, tmp_path / "sub" / "kpis.csv", provenance=NOTES)
    sidecar = json.loads(sidecar_path(path).read_text(encoding="utf-8"))
    assert sidecar["chain_head"] == HEAD
    assert sidecar["rows"] == 2
    assert sidecar["format"] == "csv"
    assert read_provenance(path) == NOTES


@pytest.mark.parametrize("fmt", ["geojson", "geoparquet"])
def test_geometry_formats_refuse_plain_tables(table: pd.DataFrame, fmt: str) -> None:
    with pytest.raises(InputError, match="no geometry column"):
        export_bytes(table, fmt)


def test_unknown_format_and_suffix(table: pd.DataFrame, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Unknown export format 'docx'"):
        export_bytes(table, "docx")
    with pytest.raises(InputError, match="Cannot tell the export format"):
        write_export(table, tmp_path / "table.txt")
    assert not (tmp_path / "table.txt").exists()


def test_every_format_of_a_geo_frame(geo_table: gpd.GeoDataFrame) -> None:
    for fmt in FORMATS:
        assert len(export_bytes(geo_table, fmt, provenance=NOTES)) > 0
    # geometry becomes WKT text in the tables
    back = pd.read_csv(io.BytesIO(export_bytes(geo_table, "csv")), encoding="utf-8-sig")
    assert back["geometry"].iloc[1] == "POINT (51.5 35.75)"


def test_format_for_suffixes() -> None:
    assert format_for("a.GeoJSON") == "geojson"
    assert format_for("a.geoparquet") == "geoparquet"
