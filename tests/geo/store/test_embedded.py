"""What only the embedded store has: its files, partitions, manifest and garbage collection."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.dataset as pads
import pytest

from geo.errors import StoreError
from geo.store import CaseFilter, open_store
from geo.store.embedded import EmbeddedStore
from geo.store.embedded_files import MANIFEST, load_manifest
from geo.store.frames import canonical_cases
from ingest import schema as s
from tests.support.cases import random_cases


@pytest.fixture
def filled(tmp_path: Path) -> tuple[Path, gpd.GeoDataFrame]:
    cases = random_cases(3000, seed=1, months=6)
    root = tmp_path / "store"
    with open_store(root) as store:
        store.upsert_cases(cases)
    return root, cases


def test_one_geoparquet_file_per_month_readable_directly(
    filled: tuple[Path, gpd.GeoDataFrame],
) -> None:
    root, cases = filled
    manifest = load_manifest(root)
    months = sorted(manifest.cases)
    assert months[:6] == ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"]
    one = gpd.read_parquet(root / manifest.cases["2023-03"].path)
    assert one.crs is not None
    assert one.crs.equals("EPSG:4326")
    assert len(one) == manifest.cases["2023-03"].rows
    expected = canonical_cases(cases).set_index(s.CASE_ID).loc[one[s.CASE_ID]]
    assert one.geometry.reset_index(drop=True).equals(
        expected.geometry.reset_index(drop=True).set_crs("EPSG:4326")
    )
    table = pads.dataset(root / "cases", partitioning="hive").to_table()
    assert table.num_rows == len(cases)
    assert "month" in table.column_names


def test_an_upsert_rewrites_only_the_affected_month(
    filled: tuple[Path, gpd.GeoDataFrame],
) -> None:
    root, cases = filled
    before = load_manifest(root)
    changed = cases.copy()
    row = int(changed.index[changed[s.CREATED_AT].dt.strftime("%Y-%m") == "2023-04"][0])
    changed.loc[row, s.STATUS] = (
        "rejected" if changed.loc[row, s.STATUS] != "rejected" else "closed"
    )
    with open_store(root) as store:
        assert store.upsert_cases(changed).updated == 1
        again = store.upsert_cases(changed)
    after = load_manifest(root)
    rewritten = {m for m in before.cases if before.cases[m] != after.cases[m]}
    assert rewritten == {"2023-04"}
    assert after.version == before.version + 1
    assert again.unchanged == len(cases)
    assert load_manifest(root).version == after.version  # nothing written
    files = {p.relative_to(root).as_posix() for p in (root / "cases").rglob("*.parquet")}
    assert files == {p.path for p in after.cases.values()}  # the old file was collected


def test_a_time_window_reads_only_its_month(
    filled: tuple[Path, gpd.GeoDataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _ = filled
    opened: list[str] = []
    real = pads.dataset

    def spy(source: object, *args: object, **kwargs: object) -> object:
        opened.extend(str(p) for p in source)  # type: ignore[attr-defined]
        return real(source, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("geo.store.embedded.pads.dataset", spy)
    with open_store(root) as store:
        got = store.read_cases(
            CaseFilter(
                start=pd.Timestamp("2023-02-01", tz="UTC"),
                end=pd.Timestamp("2023-03-01", tz="UTC"),
                regions=["2"],
            )
        )
    assert len(opened) == 1
    assert "month=2023-02" in opened[0]
    assert set(got[s.REGION_CODE].astype(str)) == {"2"}


def test_leftovers_of_a_crash_are_ignored_then_collected(
    filled: tuple[Path, gpd.GeoDataFrame],
) -> None:
    root, cases = filled
    month = root / "cases" / "month=2023-02"
    (month / ".tmp-dead-part-x.parquet").write_bytes(b"half a file")
    live = next(month.glob("part-*.parquet"))
    orphan = month / "part-orphan.parquet"
    orphan.write_bytes(live.read_bytes())  # a complete file the manifest never listed
    with open_store(root) as store:
        assert len(store.read_cases()) == len(cases)
    assert not orphan.exists()
    assert not (month / ".tmp-dead-part-x.parquet").exists()


def test_a_manifest_listing_a_missing_file_is_refused(
    filled: tuple[Path, gpd.GeoDataFrame],
) -> None:
    root, _ = filled
    manifest = json.loads((root / MANIFEST).read_text())
    path = manifest["tables"]["cases"]["2023-01"]["path"]
    (root / path).unlink()
    with pytest.raises(StoreError, match="missing file"):
        EmbeddedStore(root)


def test_the_manifest_is_json_with_a_version(filled: tuple[Path, gpd.GeoDataFrame]) -> None:
    root, cases = filled
    data = json.loads((root / MANIFEST).read_text())
    assert data["format"] == "t137-embedded-store"
    assert data["version"] == 1
    assert sum(p["rows"] for p in data["tables"]["cases"].values()) == len(cases)
