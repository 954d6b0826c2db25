"""The hash chain of ingest runs."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.store import IngestBatch, UpsertCounts
from geo.store.base import make_run, runs_frame
from geo.store.chain import (
    GENESIS_HASH,
    ChainError,
    canonical_json,
    canonical_timestamp,
    run_hash,
    verify_chain,
)
from ingest import schema as s


def chain(n: int) -> pd.DataFrame:
    runs = []
    previous = None
    for k in range(n):
        batch = IngestBatch(
            source="tehran137",
            input_sha256=f"{k:064x}",
            started_at=pd.Timestamp("2024-01-01 08:00", tz="Asia/Tehran") + pd.Timedelta(hours=k),
            finished_at=pd.Timestamp("2024-01-01 09:00", tz="Asia/Tehran") + pd.Timedelta(hours=k),
            rows_read=10 + k,
            cases=pd.DataFrame(),
            run_id=f"run-{k}",
        )
        previous = make_run(batch, UpsertCounts(k, 1, 2), quarantined=k % 2, previous=previous)
        runs.append(previous)
    return runs_frame(runs)


def test_a_fresh_chain_verifies_and_returns_its_head() -> None:
    runs = chain(4)
    assert list(runs[s.RUN_SEQ]) == [1, 2, 3, 4]
    assert runs[s.RUN_PREVIOUS_HASH].iloc[0] == GENESIS_HASH
    assert verify_chain(runs) == runs[s.RUN_HASH].iloc[-1]
    assert verify_chain(runs.iloc[::-1]) == runs[s.RUN_HASH].iloc[-1]
    assert verify_chain(runs.iloc[:0]) == GENESIS_HASH


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        (s.RUN_INSERTED, 99, "record was altered"),
        (s.RUN_SOURCE, "forged", "record was altered"),
        (s.RUN_PREVIOUS_HASH, "f" * 64, "log was altered"),
    ],
)
def test_any_change_breaks_the_chain(column: str, value: object, message: str) -> None:
    runs = chain(3)
    runs[column] = runs[column].astype(object)
    runs.at[1, column] = value  # type: ignore[assignment]
    with pytest.raises(ChainError, match=message):
        verify_chain(runs)


def test_a_dropped_run_breaks_the_chain() -> None:
    runs = chain(3).drop(index=1)
    with pytest.raises(ChainError, match="missing"):
        verify_chain(runs)


def test_canonical_json_is_stable_and_keeps_persian_text() -> None:
    record = {str(k): v for k, v in chain(1).iloc[0].items()}
    record[s.RUN_SOURCE] = "۱۳۷ تهران"
    text = canonical_json(record)
    assert "۱۳۷ تهران" in text
    assert '"started_at":"2024-01-01T04:30:00.000000Z"' in text
    assert text == canonical_json(dict(reversed(list(record.items()))))


@given(micros=st.integers(0, 10**15), offset_h=st.sampled_from(["UTC", "Asia/Tehran"]))
def test_timestamps_hash_the_same_in_any_zone(micros: int, offset_h: str) -> None:
    stamp = pd.Timestamp(micros, unit="us", tz="UTC")
    assert canonical_timestamp(stamp.tz_convert(offset_h)) == canonical_timestamp(stamp)
    assert canonical_timestamp(stamp + pd.Timedelta(999, unit="ns")) == canonical_timestamp(stamp)


def test_the_hash_covers_the_previous_hash() -> None:
    record = {str(k): v for k, v in chain(1).iloc[0].items()}
    other = {**record, s.RUN_PREVIOUS_HASH: "1" * 64}
    assert run_hash(record) != run_hash(other)
