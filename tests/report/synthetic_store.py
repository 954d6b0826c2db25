"""A small embedded store for report tests: synthetic geography, a 137 export, one ingest run.

Built the way real data arrives (``generate_137`` writes the export CSV, the ingest pipeline
reads, locates and writes it as one hash-chained run), over Jalali 1403-02 … 1403-07, so the
report month 1403-07 has a previous month and five months of hotspot history.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Final

import geopandas as gpd

from geo.assign import BoundaryIndex
from geo.gazetteer import build_gazetteer
from geo.store import open_store
from geo.synthetic_geography import synthetic_boundaries
from ingest.pipeline import IngestOptions, IngestReport, ingest_file
from ingest.synthetic import SynthConfig, generate_137, write_137

MONTH: Final = "1403-07"
PREVIOUS: Final = "1403-06"
KEY: Final = "report-tests-key-" + "x" * 16
N_CASES: Final = 4000


def report_boundaries() -> gpd.GeoDataFrame:
    """Four regions and 40 neighborhoods of the labelled synthetic geography."""
    return synthetic_boundaries(n_regions=4, n_neighborhoods=40, seed=3)


def ingest_export(store_path: Path, csv_path: Path, boundaries: gpd.GeoDataFrame) -> IngestReport:
    """Ingest one 137 export into the store as one run."""
    with open_store(store_path) as store:
        return ingest_file(
            csv_path,
            store,
            BoundaryIndex.from_boundaries(boundaries),
            IngestOptions(key=KEY),
            gazetteer=build_gazetteer(boundaries),
        )


def build_report_store(folder: Path, *, cases: int = N_CASES, seed: int = 5) -> Path:
    """Build the store under ``folder`` and return its path (``folder/store``)."""
    boundaries = report_boundaries()
    config = SynthConfig(cases=cases, start="1403-02-01", months=6, seed=seed)
    export = generate_137(config, boundaries, synthetic_geography=True, today=date(2026, 1, 1))
    csv_path = write_137(export, folder / "generated" / "report_137.csv")["csv"]
    store_path = folder / "store"
    with open_store(store_path) as store:
        store.write_boundaries(boundaries)
    ingest_export(store_path, csv_path, boundaries)
    return store_path


def copy_store(store_path: Path, folder: Path) -> Path:
    """Return a private copy of a store (for tests that change it)."""
    target = folder / "store-copy"
    shutil.copytree(store_path, target)
    return target
