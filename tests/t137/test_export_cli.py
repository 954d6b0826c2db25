"""``t137 export``: every table type, in every format, carrying the store's chain head."""

from __future__ import annotations

import io
import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from typer.testing import CliRunner

from analytics.exports import read_provenance, sidecar_path
from geo.store import open_store
from ingest import schema as s
from t137.cli import app
from tests.report.synthetic_store import build_report_store


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(store path, chain head)."""
    path = build_report_store(tmp_path_factory.mktemp("export-cli"), cases=2500)
    with open_store(path) as opened:
        return str(path), opened.info().chain_head


def _export(args: list[str], store_path: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["export", *args, "--store", store_path, "--json"])
    assert result.exit_code == 0, result.stderr
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def test_kpis_csv_has_bom_and_head(store: tuple[str, str], tmp_path: Path) -> None:
    path, head = store
    out = tmp_path / "kpis.csv"
    summary = _export(["kpis", "--level", "region", "--out", str(out)], path)
    assert summary["chain_head"] == head
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig", dtype={s.REGION_CODE: str})
    assert set(table["t137_chain_head"]) == {head}
    with open_store(path) as opened:
        n_cases = len(opened.read_cases())
    assert table["volume"].sum() == n_cases  # cases without a region form their own row
    assert json.loads(sidecar_path(out).read_text(encoding="utf-8"))["chain_head"] == head


def test_kpis_geojson_joins_the_areas(store: tuple[str, str], tmp_path: Path) -> None:
    path, head = store
    out = tmp_path / "kpis.geojson"
    _export(["kpis", "--level", "neighborhood", "--period", "none", "--out", str(out)], path)
    frame = gpd.read_file(out)
    assert frame.geometry.notna().sum() >= 30
    assert frame.crs is not None
    assert frame.crs.to_epsg() == 4326
    assert read_provenance(out)["chain_head"] == head


def test_ranking_xlsx(store: tuple[str, str], tmp_path: Path) -> None:
    path, head = store
    out = tmp_path / "ranking.xlsx"
    _export(["rank", "--level", "region", "--n-boot", "100", "--out", str(out)], path)
    table = pd.read_excel(out, sheet_name="data", engine="openpyxl")
    assert {"rank", "rank_lo", "rank_hi", "estimate", "name_fa"} <= set(table.columns)
    assert len(table) == 4
    assert read_provenance(out)["chain_head"] == head


def test_hotspots_geoparquet(store: tuple[str, str], tmp_path: Path) -> None:
    path, head = store
    out = tmp_path / "hot.parquet"
    _export(
        ["hotspots", "--method", "emerging", "--level", "neighborhood", "--out", str(out)], path
    )
    units = gpd.read_parquet(out)
    assert {"unit", "pattern", "recurring"} <= set(units.columns)
    assert units.crs is not None
    assert units.crs.to_epsg() == 4326
    assert read_provenance(out)["chain_head"] == head


def test_cases_keep_no_citizen_key(store: tuple[str, str], tmp_path: Path) -> None:
    path, head = store
    out = tmp_path / "cases.geojson"
    summary = _export(["cases", "--region", "2", "--status", "closed", "--out", str(out)], path)
    cases = gpd.read_file(out)
    assert summary["rows"] == len(cases) > 0
    assert set(cases[s.REGION_CODE].astype(str)) == {"2"}
    assert set(cases[s.STATUS]) == {"closed"}
    assert s.CITIZEN_KEY not in cases.columns
    assert s.DESCRIPTION not in cases.columns
    assert json.loads(out.read_text(encoding="utf-8"))["t137_provenance"]["chain_head"] == head
    with_text = tmp_path / "cases.parquet"
    _export(["cases", "--region", "2", "--with-text", "--out", str(with_text)], path)
    frame = gpd.read_parquet(with_text)
    assert s.DESCRIPTION in frame.columns
    assert s.CITIZEN_KEY not in frame.columns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kpis", "--level", "city", "--out", "city.geojson"], "no city code column"),
        (["kpis", "--out", "table.docx"], "Cannot tell the export format"),
        (["rank", "--out", "r.csv", "--format", "pdf"], "Unknown export format 'pdf'"),
    ],
)
def test_errors(store: tuple[str, str], tmp_path: Path, args: list[str], message: str) -> None:
    path, _ = store
    args = [a if not a.endswith((".geojson", ".docx", ".csv")) else str(tmp_path / a) for a in args]
    result = CliRunner().invoke(app, ["export", *args, "--store", path])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
