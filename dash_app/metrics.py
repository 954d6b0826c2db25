"""KPIs computed from read-model sums (pure functions on frames; no store access)."""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from ingest import schema as s

SECONDS_PER_DAY: Final = 86_400.0
#: KPIs where a larger value is better (for rankings); the others rank small first.
HIGHER_IS_BETTER: Final = frozenset({"sla", "satisfaction"})
POPULATION: Final = "population"
OBJECTION_BASE: Final = "feedback_count"


def _ratio(numerator: pd.Series, denominator: pd.Series, scale: float = 1.0) -> pd.Series:
    num = numerator.astype("float64").to_numpy()
    den = denominator.astype("float64").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0) * scale, np.nan)
    return pd.Series(out, index=numerator.index, dtype="float64")


def add_kpis(sums: pd.DataFrame) -> pd.DataFrame:
    """Return ``sums`` with one column per KPI of :data:`dash_app.state.KPIS` added.

    Parameters
    ----------
    sums : pandas.DataFrame
        Sums of the read-model measures (:data:`ingest.schema.READ_MODEL_MEASURES`), one
        row per group; an optional ``population`` column (residents) enables ``per_10k``.

    Returns
    -------
    pandas.DataFrame
        A new frame: ``volume`` (cases), ``per_10k`` (cases per 10,000 residents),
        ``backlog`` (cases still open), ``close_days`` (mean days from creation to close,
        among closed cases; the read model holds sums, so this is a mean, not a median),
        ``sla`` (% of closed cases with a due time closed on time), ``satisfaction`` (mean
        score 1–5), ``objection`` (% of feedback that objected) and ``feedback_count``.
    """
    out = sums.copy()
    out["volume"] = out[s.RM_CASES].astype("int64")
    if POPULATION in out.columns:
        population = pd.to_numeric(out[POPULATION], errors="coerce").astype("float64")
        out["per_10k"] = _ratio(out[s.RM_CASES], population, 10_000.0)
    else:
        out["per_10k"] = np.nan
    out["backlog"] = out[s.RM_OPEN].astype("int64")
    out["close_days"] = _ratio(out[s.RM_CLOSE_SECONDS], out[s.RM_CLOSED_COUNT], 1 / SECONDS_PER_DAY)
    out["sla"] = _ratio(out[s.RM_ON_TIME_COUNT], out[s.RM_DUE_CLOSED_COUNT], 100.0)
    out["satisfaction"] = _ratio(out[s.RM_SATISFACTION_SUM], out[s.RM_SATISFACTION_COUNT])
    out[OBJECTION_BASE] = out[s.RM_OBJECTED_COUNT] + out[s.RM_ACCEPTED_COUNT]
    out["objection"] = _ratio(out[s.RM_OBJECTED_COUNT], out[OBJECTION_BASE], 100.0)
    return out


def sum_measures(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Return the read-model measures of ``frame`` summed by ``by`` (groups with no row dropped).

    With ``by`` empty, one row holding the totals.
    """
    measures = list(s.READ_MODEL_MEASURES)
    if not by:
        totals = frame[measures].sum()
        return pd.DataFrame([totals.to_numpy()], columns=measures).astype(frame[measures].dtypes)
    grouped = frame.groupby(by, observed=True, dropna=True, sort=True)[measures].sum()
    return grouped.reset_index()
