"""The aggregate read model the dashboard reads, computed from cases with pandas.

One row per (source, level, area_code, day, category, kind, channel, unit, status) with
counts and sums (:data:`ingest.schema.READ_MODEL_MEASURES`) that are enough to compute
volume, backlog, durations, SLA compliance, feedback and satisfaction. Every case appears
once per boundary level (region, district, neighborhood), with ``area_code`` the case's code
at that level (missing when the case is outside every area of the level). Missing key values
form their own groups.

This is the reference computation: each backend's ``refresh_read_model`` must give the same
rows (PostGIS computes it in SQL; the contract tests compare both with this function).

Measures, per group:

* ``cases``: number of cases; ``open_cases``: cases whose status is not terminal
  (:data:`ingest.schema.TERMINAL_STATUSES`);
* ``first_response_count``/``first_response_seconds_sum``: cases with ``first_response_at``
  and the sum of ``first_response_at - created_at`` in seconds;
* ``closed_count``/``close_seconds_sum``: the same for ``closed_at``;
* ``closed_with_due_count``: cases with both ``closed_at`` and ``due_at``;
  ``closed_on_time_count``: those with ``closed_at <= due_at``;
* ``satisfaction_count``/``satisfaction_sum``: cases with a score, and the sum of scores;
* ``objected_count``/``accepted_count``: ``citizen_feedback`` objected (33) / accepted (31);
* ``reopened_count``/``reopen_sum``: cases with ``reopen_count > 0``, and the sum of
  ``reopen_count``.

``day`` is the Asia/Tehran calendar date of ``created_at`` (a :class:`datetime.date`). Text
keys are returned as ``category`` columns (see :func:`normalize_read_model`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import pandas as pd

from geo.errors import InputError
from ingest import schema as s

from .base import LOCAL_TZ

#: Measures that are sums of seconds (float64); the others are int64.
FLOAT_MEASURES: Final = (s.RM_FIRST_RESPONSE_SECONDS, s.RM_CLOSE_SECONDS)
INT_MEASURES: Final = tuple(m for m in s.READ_MODEL_MEASURES if m not in FLOAT_MEASURES)
#: Text key columns (everything but ``day``).
TEXT_KEYS: Final = tuple(k for k in s.READ_MODEL_KEYS if k != s.RM_DAY)
_MICROS: Final = 1_000_000


def _seconds(later: pd.Series, earlier: pd.Series) -> np.ndarray:
    """Seconds from ``earlier`` to ``later`` at microsecond resolution, NaN where missing."""
    delta = (later - earlier).to_numpy(dtype="timedelta64[us]")
    seconds = delta.astype("int64").astype("float64") / _MICROS
    seconds[np.isnat(delta)] = np.nan
    return seconds


def _text(values: pd.Series) -> np.ndarray:
    out = values.astype(object).to_numpy(dtype=object)
    missing = pd.isna(out)
    out[missing] = None
    return out


def local_day(created_at: pd.Series) -> pd.Series:
    """Return the Asia/Tehran calendar date of each instant, as ``datetime.date`` objects."""
    local = created_at.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None).dt.normalize()
    return pd.Series(local.dt.date, index=created_at.index, dtype=object)


def measures(cases: pd.DataFrame) -> pd.DataFrame:
    """Return the per-case measure columns that the read model sums.

    Parameters
    ----------
    cases : pandas.DataFrame
        Canonical cases.

    Returns
    -------
    pandas.DataFrame
        One row per case, the columns of :data:`ingest.schema.READ_MODEL_MEASURES`
        (``float64`` for seconds, ``int64`` otherwise); summing them by group gives the
        read model.
    """
    data = _measure_arrays(cases)
    return pd.DataFrame(data, index=cases.index, columns=list(s.READ_MODEL_MEASURES))


def _measure_arrays(cases: pd.DataFrame) -> dict[str, np.ndarray]:
    """Return the per-case measures as arrays (see :func:`measures`)."""
    created = cases[s.CREATED_AT]
    status = cases[s.STATUS].astype(object)
    feedback = cases[s.CITIZEN_FEEDBACK].astype(object)
    first = _seconds(cases[s.FIRST_RESPONSE_AT], created)
    close = _seconds(cases[s.CLOSED_AT], created)
    closed = cases[s.CLOSED_AT].notna().to_numpy()
    due = cases[s.DUE_AT].notna().to_numpy()
    with_due = closed & due
    on_time = with_due & (cases[s.CLOSED_AT] <= cases[s.DUE_AT]).fillna(False).to_numpy(dtype=bool)
    satisfaction = cases[s.SATISFACTION].astype("Int64")
    reopen = cases[s.REOPEN_COUNT].astype("Int64").fillna(0).to_numpy(dtype="int64")
    return {
        s.RM_CASES: np.ones(len(cases), dtype="int64"),
        s.RM_OPEN: (~status.isin(s.TERMINAL_STATUSES) & status.notna()).to_numpy(dtype="int64"),
        s.RM_FIRST_RESPONSE_COUNT: (~np.isnan(first)).astype("int64"),
        s.RM_FIRST_RESPONSE_SECONDS: np.nan_to_num(first, nan=0.0),
        s.RM_CLOSED_COUNT: (~np.isnan(close)).astype("int64"),
        s.RM_CLOSE_SECONDS: np.nan_to_num(close, nan=0.0),
        s.RM_DUE_CLOSED_COUNT: with_due.astype("int64"),
        s.RM_ON_TIME_COUNT: on_time.astype("int64"),
        s.RM_SATISFACTION_COUNT: satisfaction.notna().to_numpy(dtype="int64"),
        s.RM_SATISFACTION_SUM: satisfaction.fillna(0).to_numpy(dtype="int64"),
        s.RM_OBJECTED_COUNT: (feedback == "objected").to_numpy(dtype="int64"),
        s.RM_ACCEPTED_COUNT: (feedback == "accepted").to_numpy(dtype="int64"),
        s.RM_REOPENED_COUNT: (reopen > 0).astype("int64"),
        s.RM_REOPEN_SUM: reopen,
    }


def _ranked(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return (codes, labels): ``labels`` are the distinct values sorted as text.

    Missing values get the code ``len(labels)``, so sorting by code sorts by label with
    missing values last.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = np.asarray(values.cat.categories.astype(str), dtype=object)
        raw = values.cat.codes.to_numpy().astype(np.int64)
        order = np.argsort(categories, kind="stable")
        rank = np.empty(len(categories), dtype=np.int64)
        rank[order] = np.arange(len(categories))
        labels = categories[order]
        if len(labels) == 0:
            return np.zeros(len(raw), dtype=np.int64), labels
        return np.where(raw >= 0, rank[np.maximum(raw, 0)], len(labels)), labels
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=True)
    labels = np.asarray(uniques, dtype=object)
    return np.where(codes >= 0, codes, len(labels)).astype(np.int64), labels


def _categorical(codes: np.ndarray, labels: np.ndarray) -> pd.Categorical:
    """Categorical of ``labels[codes]`` (codes past the end are missing), unused dropped."""
    raw = np.where(codes < len(labels), codes, -1)
    cat = pd.Categorical.from_codes(raw, categories=pd.Index(labels, dtype=object))  # type: ignore[arg-type]
    return cat.remove_unused_categories()


def _with_missing(labels: np.ndarray) -> np.ndarray:
    """Return ``labels`` with a trailing None (the label of the missing code)."""
    return np.array([*labels.tolist(), None], dtype=object)


def _day_codes(created_at: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return (codes, labels) of the Asia/Tehran date of each instant (labels are dates)."""
    local = created_at.dt.tz_convert(LOCAL_TZ).dt.tz_localize(None)
    numbers = local.to_numpy().astype("datetime64[D]").astype(np.int64)
    unique, inverse = np.unique(numbers, return_inverse=True)
    epoch = dt.date(1970, 1, 1)
    labels = np.array([epoch + dt.timedelta(days=int(d)) for d in unique], dtype=object)
    return inverse.ravel().astype(np.int64), labels


def compute_read_model(cases: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Return the read model of ``cases`` (the reference for every backend).

    Parameters
    ----------
    cases : pandas.DataFrame
        Canonical cases (as :meth:`geo.store.base.CaseStore.read_cases` returns them).
    as_of : pandas.Timestamp, optional
        Time zone-aware instant: when given, cases created at or after it are left out, so
        a model can be recomputed as it was at that moment. All cases when None.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ingest.schema.READ_MODEL_COLUMNS` with the dtypes and row order of
        :func:`normalize_read_model`.
    """
    if as_of is not None:
        stamp = pd.Timestamp(as_of)
        if stamp.tzinfo is None:
            msg = f"as_of={as_of!r} is naive; give a time zone-aware instant."
            raise ValueError(msg)
        cases = cases.loc[(cases[s.CREATED_AT] < stamp).to_numpy(dtype=bool)]
    if cases.empty:
        return empty_read_model()
    columns, _ = read_model_columns(cases)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(columns[s.RM_CASES])))  # type: ignore[arg-type]


def read_model_columns(cases: pd.DataFrame) -> tuple[dict[str, object], np.ndarray]:
    """Return the read model of non-empty ``cases`` as columns, and ``day`` as day numbers.

    The columns are those of :func:`compute_read_model` (categoricals, ``day`` as dates,
    measures as arrays); the second value gives each row's ``day`` as days since
    1970-01-01, for writers that store dates without Python objects.
    """
    n = len(cases)
    per_case = _measure_arrays(cases)
    ranked = {name: _ranked(cases[name]) for name in TEXT_KEYS if name in cases.columns}
    ranked[s.RM_DAY] = _day_codes(cases[s.CREATED_AT])
    epoch = dt.date(1970, 1, 1)
    day_codes = np.array([(d - epoch).days for d in ranked[s.RM_DAY][1]], dtype=np.int64)
    # Area codes of every level share one sorted label list.
    per_level = {level: _ranked(cases[s.LEVEL_CODE_COLUMN[level]]) for level in s.LEVELS}
    area_labels = np.asarray(
        sorted({str(v) for _, labels in per_level.values() for v in labels}), dtype=object
    )
    area_index = {label: i for i, label in enumerate(area_labels)}
    level_labels = np.asarray(sorted(s.LEVELS), dtype=object)
    radix = {name: len(labels) + 1 for name, (_, labels) in ranked.items()}
    radix[s.RM_LEVEL] = len(level_labels)
    radix[s.RM_AREA_CODE] = len(area_labels) + 1
    # One int64 per (case, level): the keys in mixed radix, the first key most significant,
    # so that sorting the numbers sorts the rows by the keys.
    numbers = []
    for level in s.LEVELS:
        codes, labels = per_level[level]
        remap = np.array([area_index[str(v)] for v in labels] + [len(area_labels)], np.int64)
        number = np.zeros(n, dtype=np.int64)
        for name in s.READ_MODEL_KEYS:
            if name == s.RM_LEVEL:
                part = np.full(n, int(np.flatnonzero(level_labels == level)[0]), dtype=np.int64)
            elif name == s.RM_AREA_CODE:
                part = remap[codes]
            else:
                part = ranked[name][0]
            number = number * radix[name] + part
        numbers.append(number)
    unique, inverse = np.unique(np.concatenate(numbers), return_inverse=True)
    inverse = inverse.ravel()
    decoded: dict[str, np.ndarray] = {}
    rest = unique.copy()
    for name in reversed(s.READ_MODEL_KEYS):
        decoded[name] = rest % radix[name]
        rest //= radix[name]
    columns: dict[str, object] = {}
    day_numbers = np.zeros(0, dtype=np.int64)
    for name in s.READ_MODEL_KEYS:
        if name == s.RM_LEVEL:
            columns[name] = _categorical(decoded[name], level_labels)
        elif name == s.RM_AREA_CODE:
            columns[name] = _categorical(decoded[name], area_labels)
        elif name == s.RM_DAY:
            columns[name] = _with_missing(ranked[name][1])[decoded[name]]
            day_numbers = day_codes[decoded[name]]
        else:
            columns[name] = _categorical(decoded[name], ranked[name][1])
    for name in s.READ_MODEL_MEASURES:
        values = per_case[name].astype("float64")
        total = np.zeros(len(unique), dtype="float64")
        for i in range(len(s.LEVELS)):
            total += np.bincount(
                inverse[i * n : (i + 1) * n], weights=values, minlength=len(unique)
            )
        columns[name] = total if name in FLOAT_MEASURES else np.rint(total).astype("int64")
    return columns, day_numbers


def empty_read_model() -> pd.DataFrame:
    """Return an empty read model with the normalized dtypes."""
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in s.READ_MODEL_COLUMNS})
    return normalize_read_model(frame)


def normalize_read_model(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with the read model's dtypes and order, for storage and comparison.

    Text keys become ``category`` (categories: the values present, sorted), ``day`` an
    ``object`` column of :class:`datetime.date`, seconds ``float64``, other measures
    ``int64``; rows sorted by the keys as text (missing last); fresh ``RangeIndex``.
    """
    plain = frame.reset_index(drop=True)
    codes: list[np.ndarray] = []
    columns: dict[str, object] = {}
    for name in s.READ_MODEL_KEYS:
        values = plain[name]
        if name == s.RM_DAY:
            values = pd.Series([_as_date(v) for v in values.tolist()], dtype=object)
            ranked, labels = _ranked(values)
            columns[name] = _with_missing(labels)[ranked]
        else:
            text = pd.Series(_text(values), dtype=object)
            present = text.notna().to_numpy()
            text[present] = text[present].astype(str)
            ranked, labels = _ranked(text)
            columns[name] = _categorical(ranked, labels)
        codes.append(ranked)
    for name in s.READ_MODEL_MEASURES:
        kind = "float64" if name in FLOAT_MEASURES else "int64"
        columns[name] = pd.to_numeric(plain[name]).to_numpy(dtype=kind)
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(plain)))
    if len(plain):
        out = out.iloc[np.lexsort(codes[::-1])].reset_index(drop=True)
    return out


def _as_date(value: object) -> dt.date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(str(value)).date()


def assert_read_models_equal(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Raise AssertionError unless two read models hold the same rows.

    Counts must be equal; sums of seconds equal to within 1 µs per summed case, because
    backends add floats in different orders.
    """
    a = normalize_read_model(left)
    b = normalize_read_model(right)
    pd.testing.assert_frame_equal(
        a.drop(columns=list(FLOAT_MEASURES)), b.drop(columns=list(FLOAT_MEASURES))
    )
    for name in FLOAT_MEASURES:
        np.testing.assert_allclose(
            a[name].to_numpy(), b[name].to_numpy(), rtol=1e-9, atol=1e-6, err_msg=name
        )


def check_sum_keys(by: Sequence[str], where: Mapping[str, Sequence[str]] | None) -> None:
    """Refuse grouping or filter columns that are not read-model keys, naming them.

    Raises
    ------
    geo.errors.InputError
        If ``by`` or ``where`` names a column outside :data:`ingest.schema.READ_MODEL_KEYS`.
    """
    unknown = [c for c in (*by, *(where or {})) if c not in s.READ_MODEL_KEYS]
    if unknown:
        names = ", ".join(map(repr, unknown))
        msg = f"sum_read_model takes read-model keys only, not {names}; see READ_MODEL_KEYS."
        raise InputError(msg)


def normalize_sums(frame: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Return summed read-model rows with plain dtypes, sorted by ``by`` (missing last).

    Keys are ``object`` (text, or :class:`datetime.date` for ``day``; None when missing),
    seconds ``float64``, the other measures ``int64``; fresh ``RangeIndex``.
    """
    columns: dict[str, object] = {}
    for name in by:
        values = frame[name].tolist() if name in frame.columns else []
        if name == s.RM_DAY:
            columns[name] = pd.Series([_as_date(v) for v in values], dtype=object)
        else:
            columns[name] = pd.Series(
                [None if v is None or v is pd.NA or v != v else str(v) for v in values],
                dtype=object,
            )
    for name in s.READ_MODEL_MEASURES:
        kind = "float64" if name in (s.RM_FIRST_RESPONSE_SECONDS, s.RM_CLOSE_SECONDS) else "int64"
        measure = frame[name] if name in frame.columns else pd.Series([], dtype=kind)
        columns[name] = pd.Series(np.asarray(measure, dtype=kind))
    out = pd.DataFrame(columns)
    if by and len(out):
        order = np.lexsort([_ranked(out[name].astype(object))[0] for name in reversed(list(by))])
        out = out.iloc[order]
    return out.reset_index(drop=True)


def sum_read_model_frame(
    frame: pd.DataFrame,
    by: Sequence[str],
    where: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Return the read-model measures of ``frame`` summed by ``by`` (the pandas reference).

    Parameters
    ----------
    frame : pandas.DataFrame
        Read-model rows (:func:`compute_read_model`, ``read_read_model``).
    by : sequence of str
        Read-model keys to group by; missing keys form their own group. Empty: one row of
        totals.
    where : mapping, optional
        Key → values kept (``isin``) before summing.
    """
    check_sum_keys(by, where)
    keep = np.ones(len(frame), dtype=bool)
    for name, values in (where or {}).items():
        keep &= frame[name].astype(object).isin([str(v) for v in values]).to_numpy()
    kept = frame.loc[keep, [*by, *s.READ_MODEL_MEASURES]]
    if not by:
        totals = kept[list(s.READ_MODEL_MEASURES)].sum().to_frame().T
        return normalize_sums(totals, by)
    keys = {name: kept[name].astype(object) for name in by}
    grouped = (
        kept[list(s.READ_MODEL_MEASURES)]
        .groupby([keys[name] for name in by], dropna=False, sort=False)
        .sum()
        .reset_index()
    )
    return normalize_sums(grouped, by)
