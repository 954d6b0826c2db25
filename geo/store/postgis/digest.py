"""Row digests: one 64-bit hash of a case's stored content, computed client-side.

Each stored case carries the digest of its compared columns (every case column but the
key) in ``cases.row_digest``. A re-sent case whose digest equals the stored one is
unchanged and is never sent or touched again; only cases whose digest differs (or that
have none, such as rows written before the column existed) are staged and compared
column by column, so a digest can only ever make a write slower, never wrong — except
for a 64-bit collision between the old and new content of the same case (probability
2**-64 per changed case).

The digest is :func:`pandas.util.hash_pandas_object` of the canonical columns
(:func:`geo.store.frames.case_columns`): it hashes values, not codes, so a category's
digest does not depend on the other categories of the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def row_digests(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Return the digest of ``frame[columns]`` per row, as ``int64`` (PostgreSQL ``bigint``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical rows.
    columns : sequence of str
        The columns hashed, in this order.

    Returns
    -------
    numpy.ndarray
        One signed 64-bit digest per row.
    """
    if len(frame) == 0:
        return np.empty(0, dtype=np.int64)
    hashed = pd.util.hash_pandas_object(frame[list(columns)], index=False, categorize=True)
    return hashed.to_numpy(dtype=np.uint64).view(np.int64)
