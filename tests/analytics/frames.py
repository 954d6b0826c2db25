"""Small canonical case frames for the analytics tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ingest import schema as s

TEHRAN = "Asia/Tehran"
_TIMES = (s.CREATED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT)
_DEFAULTS: Mapping[str, Any] = {
    s.STATUS: "in_progress",
    s.CATEGORY: "urban_services",
    s.SUBCATEGORY: None,
    s.CITIZEN_FEEDBACK: "none",
    s.SATISFACTION: None,
    s.REOPEN_COUNT: 0,
    s.NEIGHBORHOOD_CODE: "101",
    s.DISTRICT_CODE: "11",
    s.REGION_CODE: "1",
    s.UNIT: "region 1",
}


def tehran(value: str | None) -> pd.Timestamp | None:
    """A Tehran wall-clock time ("2024-10-03 12:00") as a UTC instant."""
    if value is None:
        return None
    return pd.Timestamp(value, tz=TEHRAN).tz_convert("UTC")


def case_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """A canonical case frame from short row dicts; timestamps are Tehran wall-clock strings.

    Statuses closed/rejected/duplicate get no automatic ``closed_at``: give it in the row.
    """
    records = []
    for i, row in enumerate(rows):
        rec = {s.CASE_ID: f"C{i:05d}", s.SOURCE: "test", **_DEFAULTS, **row}
        for col in _TIMES:
            value = rec.get(col)
            rec[col] = tehran(value) if isinstance(value, str) else value
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    for col in _TIMES:
        frame[col] = pd.to_datetime(frame[col], utc=True) if col in frame else pd.NaT
        frame[col] = frame[col].astype("datetime64[ns, UTC]")
    frame[s.STATUS] = pd.Categorical(frame[s.STATUS], categories=s.STATUSES)
    frame[s.CITIZEN_FEEDBACK] = pd.Categorical(frame[s.CITIZEN_FEEDBACK], categories=s.FEEDBACKS)
    frame[s.SATISFACTION] = pd.array(
        [None if v is None or v != v else int(v) for v in frame[s.SATISFACTION]], dtype="Int8"
    )
    frame[s.REOPEN_COUNT] = pd.array(frame[s.REOPEN_COUNT].to_numpy(), dtype="Int16")
    for col in (s.CATEGORY, s.SUBCATEGORY, s.UNIT, *s.LEVEL_CODE_COLUMN.values()):
        frame[col] = frame[col].astype("category")
    return frame


def random_lifecycles(
    n: int, *, seed: int, start: str = "2024-01-01", days: int = 120, areas: int = 5
) -> pd.DataFrame:
    """Random cases with closes, open cases, rejections without a close and due dates."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start, tz="UTC").value
    day = 86_400 * 10**9
    created = t0 + rng.integers(0, days * day, n)
    closed = created + (rng.exponential(12.0, n) * day).astype(np.int64)
    is_closed = rng.random(n) < 0.6
    gone = ~is_closed & (rng.random(n) < 0.1)
    due = created + rng.integers(1, 30, n) * day
    no_due = rng.random(n) < 0.1
    status = np.where(is_closed, "closed", np.where(gone, "rejected", "in_progress"))
    nat = np.iinfo(np.int64).min

    def ts(values: np.ndarray) -> pd.Series:
        return pd.Series(pd.to_datetime(values, utc=True)).astype("datetime64[ns, UTC]")

    hoods = np.array([str(100 + a) for a in range(areas)])
    return pd.DataFrame(
        {
            s.CASE_ID: [f"R{i}" for i in range(n)],
            s.CREATED_AT: ts(created),
            s.CLOSED_AT: ts(np.where(is_closed, closed, nat)),
            s.DUE_AT: ts(np.where(no_due, nat, due)),
            s.STATUS: pd.Categorical(status, categories=s.STATUSES),
            s.NEIGHBORHOOD_CODE: pd.Categorical(hoods[rng.integers(0, areas, n)]),
        }
    )


def area_cases(
    specs: Sequence[tuple[str, str, int, float, float, float]],
    *,
    seed: int,
    start: str = "2024-03-01",
    sigma: float = 1.2,
) -> pd.DataFrame:
    """Cases of areas with given behaviour, all closed before the last one's creation + 60 d.

    Each spec is (neighborhood code, district code, cases, median hours to close, share of
    answered cases objected, mean satisfaction 1-5). Every case is closed; its due instant
    is 72 h after creation. Times to close are log-normal with log-scale spread ``sigma``
    (1.2 is typical of 137 data: minutes to weeks).
    """
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start, tz="UTC")
    frames = []
    for hood, district, n, median_h, objected, sat in specs:
        created = t0 + pd.to_timedelta(rng.integers(0, 30 * 86_400, n), unit="s")
        hours = rng.lognormal(np.log(median_h), sigma, n)
        closed = created + pd.to_timedelta(np.round(hours * 3600), unit="s")
        feedback = np.where(rng.random(n) < objected, "objected", "accepted")
        score = np.clip(np.round(rng.normal(sat, 0.8, n)), 1, 5).astype(int)
        frames.append(
            pd.DataFrame(
                {
                    s.CREATED_AT: created,
                    s.CLOSED_AT: closed,
                    s.FIRST_RESPONSE_AT: created + (closed - created) / 3,
                    s.DUE_AT: created + pd.Timedelta(hours=72),
                    s.STATUS: "closed",
                    s.CITIZEN_FEEDBACK: feedback,
                    s.SATISFACTION: score,
                    s.REOPEN_COUNT: 0,
                    s.CATEGORY: "urban_services",
                    s.NEIGHBORHOOD_CODE: hood,
                    s.DISTRICT_CODE: district,
                    s.REGION_CODE: "1",
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out[s.CASE_ID] = [f"A{i}" for i in range(len(out))]
    for col in (s.CREATED_AT, s.CLOSED_AT, s.FIRST_RESPONSE_AT, s.DUE_AT):
        out[col] = out[col].astype("datetime64[ns, UTC]")
    out[s.STATUS] = pd.Categorical(out[s.STATUS], categories=s.STATUSES)
    out[s.CITIZEN_FEEDBACK] = pd.Categorical(out[s.CITIZEN_FEEDBACK], categories=s.FEEDBACKS)
    out[s.SATISFACTION] = out[s.SATISFACTION].astype("Int8")
    out[s.REOPEN_COUNT] = out[s.REOPEN_COUNT].astype("Int16")
    return out
