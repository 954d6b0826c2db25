"""Fast paths of :mod:`geo.store.frames` give what the slow paths give.

``require_unique_keys`` first hashes the keys, ``as_utc`` skips the truncation to
microseconds when there is nothing to truncate; neither may change a result.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import InputError
from geo.store.frames import as_utc, require_unique_keys

KEYS = st.lists(
    st.tuples(
        st.sampled_from(["137", "open311", "nyc"]), st.one_of(st.none(), st.text(max_size=4))
    ),
    max_size=40,
)


@given(keys=KEYS)
def test_refused_exactly_when_a_key_repeats(keys: list[tuple[str, str | None]]) -> None:
    frame = pd.DataFrame(keys, columns=["source", "case_id"], dtype=object)
    repeats = len(set(keys)) < len(keys)
    if repeats:
        with pytest.raises(InputError, match="repeats the key"):
            require_unique_keys(frame, ["source", "case_id"], what="cases")
    else:
        require_unique_keys(frame, ["source", "case_id"], what="cases")


def test_a_repeat_far_into_a_large_batch_is_found() -> None:
    ids = [f"C{i}" for i in range(200_000)]
    ids[150_000] = "C17"
    frame = pd.DataFrame({"source": "137", "case_id": ids})
    with pytest.raises(InputError, match=r"case_id='C17'.*row 150000"):
        require_unique_keys(frame, ["source", "case_id"], what="cases")


def test_keys_that_are_not_text_fall_back_to_the_exact_test() -> None:
    frame = pd.DataFrame({"source": ["a", "a", "a"], "case_id": [1, "1", 2]}, dtype=object)
    require_unique_keys(frame, ["source", "case_id"], what="cases")  # 1 and "1" differ


@given(
    nanos=st.lists(
        st.one_of(st.none(), st.integers(0, 2_000_000_000_000_000_000)), min_size=1, max_size=30
    )
)
def test_timestamps_are_truncated_to_microseconds_only_when_needed(
    nanos: list[int | None],
) -> None:
    column = pd.Series(
        pd.to_datetime(pd.array(nanos, dtype="Int64"), unit="ns", utc=True), name="closed_at"
    )
    out = as_utc(column, what="cases")
    expected = column.dt.floor("us")
    pd.testing.assert_series_equal(out, expected)
    assert not (out.array.asi8[out.notna().to_numpy()] % 1000).any()
