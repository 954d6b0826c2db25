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
from geo.errors import InputError
from geo.store import open_store
from ingest import schema as s
from t137.cli import app
from t137.commands.tables import save_table
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


# --- one code path: `t137 kpis|rank|hotspots --out` and `t137 export` write the same files ----
TABLES = {
    "kpis": ["kpis", "--level", "region"],
    "rank": ["rank", "--level", "region", "--n-boot", "100"],
    "hotspots": ["hotspots", "--method", "gistar", "--level", "neighborhood"],
}


def _both(table: str, store_path: str, folder: Path, suffix: str) -> tuple[Path, Path]:
    """Write ``table`` with the analysis command and with ``t137 export``; return both files."""
    analysis, export = folder / f"analysis{suffix}", folder / f"export{suffix}"
    args = TABLES[table]
    for command, out in (([], analysis), (["export"], export)):
        argv = [*command, *args, "--store", store_path, "--out", str(out), "--json"]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0, result.stderr
    return analysis, export


def _stamp_free(path: Path) -> bytes:
    """The file's bytes with its one varying note, the generation time, blanked."""
    stamp = read_provenance(path)["generated_at"]
    assert len(stamp) == len("2026-01-01T00:00:00Z")
    return path.read_bytes().replace(stamp.encode(), b"<generated_at>")


def _notes(path: Path) -> dict[str, str]:
    notes = read_provenance(path)
    del notes["generated_at"]
    return notes


@pytest.mark.parametrize("table", list(TABLES))
def test_both_commands_write_byte_identical_csv(
    store: tuple[str, str], tmp_path: Path, table: str
) -> None:
    path, head = store
    analysis, export = _both(table, path, tmp_path, ".csv")
    assert _stamp_free(analysis) == _stamp_free(export)
    assert analysis.read_bytes().startswith(b"\xef\xbb\xbf")
    assert read_provenance(analysis)["chain_head"] == head


def _read_back(path: Path) -> pd.DataFrame:
    """The table in a Parquet or XLSX file (XLSX: sheet data, generation time left out)."""
    if path.suffix == ".xlsx":
        sheet = pd.read_excel(path, sheet_name="data", engine="openpyxl")
        return sheet.drop(columns="t137_generated_at")
    try:
        return gpd.read_parquet(path)
    except ValueError:  # plain Parquet: no geometry
        return pd.read_parquet(path)


@pytest.mark.parametrize(
    ("table", "suffix"),
    [(table, ".parquet") for table in TABLES] + [("kpis", ".xlsx"), ("rank", ".xlsx")],
)
def test_both_commands_write_equal_parquet_and_xlsx(
    store: tuple[str, str], tmp_path: Path, table: str, suffix: str
) -> None:
    path, head = store
    analysis, export = _both(table, path, tmp_path, suffix)
    ours = _read_back(analysis)
    pd.testing.assert_frame_equal(ours, _read_back(export))
    assert isinstance(ours, gpd.GeoDataFrame) == (table == "hotspots")
    assert _notes(analysis) == _notes(export)
    assert _notes(analysis)["chain_head"] == head
    if suffix == ".xlsx":
        assert set(ours["t137_chain_head"]) == {head}


@pytest.mark.parametrize(
    ("args", "suffix", "table"),
    [
        (["kpis", "--level", "region"], ".csv", "kpis"),
        (["kpis", "--level", "region"], ".xlsx", "kpis"),
        (["rank", "--level", "neighborhood", "--n-boot", "50"], ".geojson", "ranking"),
        (["hotspots", "--method", "gistar"], ".geojson", "hotspots"),
    ],
)
def test_analysis_commands_write_the_chain_head(
    store: tuple[str, str], tmp_path: Path, args: list[str], suffix: str, table: str
) -> None:
    path, head = store
    out = tmp_path / f"table{suffix}"
    result = CliRunner().invoke(app, [*args, "--store", path, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["out"] == str(out)  # the summary is the command's own
    notes = read_provenance(out)
    assert notes["chain_head"] == head
    assert notes["table"] == table
    assert notes["store"] == path
    sidecar = json.loads(sidecar_path(out).read_text(encoding="utf-8"))
    assert sidecar["chain_head"] == head
    assert sidecar["file"] == out.name
    if suffix == ".csv":
        frame = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
        assert set(frame["t137_chain_head"]) == {head}


@pytest.mark.parametrize("command", [[], ["export"]])
@pytest.mark.parametrize("table", list(TABLES))
def test_a_wrong_suffix_is_refused_by_both_commands(
    tmp_path: Path, command: list[str], table: str
) -> None:
    never = tmp_path / "never-opened"
    out = tmp_path / "table.docx"
    argv = [*command, table, "--store", str(never), "--out", str(out)]
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: Cannot tell the export format of 'table.docx'")
    for suffix in (".csv", ".xlsx", ".geojson", ".parquet", ".geoparquet"):
        assert suffix in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists()
    assert not never.exists()  # refused before the store was opened


def test_a_table_is_not_labelled_with_a_head_the_store_moved_away_from(
    store: tuple[str, str], tmp_path: Path
) -> None:
    path, head = store
    out = tmp_path / "stale.csv"
    stale = "f" * len(head)
    with pytest.raises(InputError, match="received an ingest run"):
        save_table(
            pd.DataFrame({"x": [1]}), out, "csv", url=path, head=stale, table="kpis", options={}
        )
    assert not out.exists()
    saved = save_table(
        pd.DataFrame({"x": [1]}), out, "csv", url=path, head=head, table="kpis", options={}
    )
    assert saved.chain_head == head
    assert saved.sidecar.exists()
