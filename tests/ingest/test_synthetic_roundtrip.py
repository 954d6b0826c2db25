"""A dirty synthetic export read back: quarantine reasons match the ground truth row for row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from ingest import schema as s
from ingest.readers.tehran137 import read_137

from .helpers import KEY, accounted

#: Reasons decided later, when points are assigned to areas (geo.assign in the pipeline).
PIPELINE_REASONS = {"outside_city"}
PIPELINE_FLAGS = {"swapped", "snapped"}


def test_dirty_export_quarantine_matches_ground_truth(tmp_path: Path) -> None:
    generator = pytest.importorskip("ingest.synthetic.generator")
    config = generator.SynthConfig(cases=6000, dirty=0.06, seed=11)
    export = generator.generate_137(config, today=date(2026, 1, 1))
    paths = generator.write_137(export, tmp_path / "dirty.csv", encoding="utf-8-sig")
    truth = pd.read_parquet(paths["truth"])
    result = read_137(
        paths["csv"],
        key=KEY,
        placeholders=[(51.389, 35.6892), (51.4, 35.7)],
        now=pd.Timestamp("2026-01-01", tz="UTC"),
    )
    accounted(result)
    assert result.rows_read == len(truth)
    expected = truth.dropna(subset=["expected_reason"])
    expected = expected[~expected["expected_reason"].isin(PIPELINE_REASONS)]
    got = result.quarantine.set_index(s.Q_ROW_NUMBER)[s.Q_REASON]
    assert dict(got) == dict(zip(expected["line"], expected["expected_reason"], strict=True))
    flags = result.flags.groupby(s.NOTE_CODE)[s.NOTE_ROW].apply(set).to_dict()
    for flag, group in truth.dropna(subset=["expected_flag"]).groupby("expected_flag"):
        if flag not in PIPELINE_FLAGS:
            assert flags.get(flag, set()) >= set(group["line"]), flag
