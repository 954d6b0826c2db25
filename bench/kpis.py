"""Benchmark: all KPIs by neighborhood x Jalali month x category vs hand-written DuckDB SQL.

Both sides start from the same Parquet file (microsecond UTC timestamps, dictionary-encoded
codes) and end with a pandas frame:

- ours: ``pd.read_parquet`` of the columns used, then ``analytics.kpis(...)`` (volume, backlog
  at each month end with age buckets and overdue share, KM median/p90 with intervals for time
  to first response and to close plus the naive medians, SLA compliance in working and in
  wall-clock time, reopen and objection rates with Wilson intervals, satisfaction);
- DuckDB: one SQL query for the per-cohort counts and the naive medians and p90s (closed cases
  only: SQL has no Kaplan–Meier), wall-clock SLA counts and rates, and one SQL range join for
  the open backlog at each month end with its age buckets and overdue count. The Jalali month
  of each case comes from a small day -> month table joined in SQL (DuckDB has no Jalali).

Usage::

    .venv/bin/python bench/kpis.py --n 5000000          # the issue's size
    .venv/bin/python bench/kpis.py --n 200000 --repeat 1  # a quick look

Prints one JSON object with the timings and the ratio ours / DuckDB.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import kpis
from analytics.indicators import load_sla_targets
from analytics.periods import local_days, period_keys_of_days, utc_ns
from ingest import schema as s

CATEGORIES = {  # category -> (share of cases, subcategories)
    "urban_services": (0.45, ["cleaning", "garbage", "debris", "tree_pruning", "flooding"]),
    "technical": (0.2, ["asphalt", "sidewalks", "street_lighting"]),
    "traffic": (0.12, ["traffic_signals", "abandoned_vehicle"]),
    "planning": (0.1, ["illegal_construction", "construction_nuisance"]),
    "social": (0.08, ["addiction", "homeless"]),
    "other": (0.05, ["misc"]),
}
OPEN_STATUSES = ["registered", "referred", "in_progress", "answered", "reopened"]
USED_COLUMNS = [
    s.CREATED_AT,
    s.FIRST_RESPONSE_AT,
    s.CLOSED_AT,
    s.DUE_AT,
    s.STATUS,
    s.CITIZEN_FEEDBACK,
    s.SATISFACTION,
    s.REOPEN_COUNT,
    s.CATEGORY,
    s.SUBCATEGORY,
    s.NEIGHBORHOOD_CODE,
]


def neighborhood_codes() -> tuple[np.ndarray, np.ndarray]:
    """375 neighborhood codes ("r*100+n") with their region codes, as in the boundary model."""
    rng = np.random.default_rng(375)
    sizes = rng.multinomial(375 - 22 * 8, np.full(22, 1 / 22)) + 8
    hood, region = [], []
    for r, k in enumerate(sizes, start=1):
        hood += [str(r * 100 + i) for i in range(1, k + 1)]
        region += [str(r)] * k
    return np.array(hood), np.array(region)


def make_cases(
    n: int, *, seed: int = 0, months: int = 24, as_of: str = "2025-03-20T20:29Z"
) -> pd.DataFrame:
    """A vectorized random canonical case frame (no Python loop per case)."""
    rng = np.random.default_rng(seed)
    end = pd.Timestamp(as_of).value
    start = end - months * 30 * 86_400 * 10**9
    created = rng.integers(start, end, n)
    hoods, regions = neighborhood_codes()
    weights = rng.gamma(2.0, 1.0, len(hoods))
    h = rng.choice(len(hoods), n, p=weights / weights.sum())
    cats = list(CATEGORIES)
    shares = np.array([CATEGORIES[c][0] for c in cats])
    c = rng.choice(len(cats), n, p=shares / shares.sum())
    subs = sorted({x for _, sub in CATEGORIES.values() for x in sub})
    sub_of_cat = [np.array([subs.index(x) for x in CATEGORIES[k][1]]) for k in cats]
    pick = rng.integers(0, 1 << 30, n)
    sub = np.empty(n, np.int64)
    for k, options in enumerate(sub_of_cat):  # one step per category, not per case
        mask = c == k
        sub[mask] = options[pick[mask] % len(options)]
    hour = 3600 * 10**9
    slow = rng.gamma(2.0, 1.0, len(hoods))[h]  # some neighborhoods are slower
    close_h = rng.lognormal(np.log(30.0), 1.2, n) * slow
    closed = created + (close_h * hour).astype(np.int64)
    never = rng.random(n) < 0.05
    closed_ok = (closed <= end) & ~never
    resp_h = np.minimum(rng.lognormal(np.log(4.0), 1.0, n) * slow, close_h)
    first = created + (resp_h * hour).astype(np.int64)
    first_ok = (first <= end) & (rng.random(n) < 0.9)
    sla = load_sla_targets()
    sub_target = np.array([sla.sub_hours.get(x, np.nan) for x in subs])[sub]
    target = np.array([sla.hours.get(k, sla.default) for k in cats])[c]
    target = np.where(np.isnan(sub_target), target, sub_target)
    due = created + (target * hour).astype(np.int64)
    status = np.where(closed_ok, "closed", np.array(OPEN_STATUSES)[pick % len(OPEN_STATUSES)])
    rejected = closed_ok & (rng.random(n) < 0.03)
    status = np.where(rejected, "rejected", status)
    u = rng.random(n)
    feedback = np.where(
        ~closed_ok, "none", np.where(u < 0.6, "accepted", np.where(u < 0.72, "objected", "none"))
    )
    surveyed = closed_ok & (rng.random(n) < 0.3)
    score = np.clip(np.round(rng.normal(3.6, 1.1, n) - (slow - 2) * 0.3), 1, 5)

    def ts(values: np.ndarray, ok: np.ndarray) -> pd.Series:
        out = pd.Series(pd.to_datetime(np.where(ok, values, np.iinfo(np.int64).min), utc=True))
        return out.dt.floor("s")

    return pd.DataFrame(
        {
            s.CASE_ID: pd.RangeIndex(n).astype(str),
            s.CREATED_AT: ts(created, np.ones(n, bool)),
            s.FIRST_RESPONSE_AT: ts(first, first_ok),
            s.CLOSED_AT: ts(closed, closed_ok),
            s.DUE_AT: ts(due, np.ones(n, bool)),
            s.STATUS: pd.Categorical(status, categories=s.STATUSES),
            s.CITIZEN_FEEDBACK: pd.Categorical(feedback, categories=s.FEEDBACKS),
            s.SATISFACTION: pd.array(np.where(surveyed, score, np.nan), dtype="Float64").astype(
                "Int8"
            ),
            s.REOPEN_COUNT: pd.array((rng.random(n) < 0.03).astype(np.int16), dtype="Int16"),
            s.CATEGORY: pd.Categorical.from_codes(c, categories=cats),
            s.SUBCATEGORY: pd.Categorical.from_codes(sub, categories=subs),
            s.NEIGHBORHOOD_CODE: pd.Categorical.from_codes(h, categories=list(hoods)),
            s.DISTRICT_CODE: pd.Categorical.from_codes(np.full(n, -1), categories=["0"]),
            s.REGION_CODE: pd.Categorical(regions[h]),
        }
    )


def write_parquet(cases: pd.DataFrame, path: Path) -> None:
    cases.to_parquet(path, coerce_timestamps="us", allow_truncated_timestamps=True, index=False)


def jalali_day_table(cases: pd.DataFrame) -> pd.DataFrame:
    """Local date -> Jalali month, for every day the data spans (DuckDB has no Jalali)."""
    days = local_days(utc_ns(cases[s.CREATED_AT]))
    lo, hi = int(days.min()), int(days.max())
    grid = np.arange(lo - 1, hi + 40, dtype=np.int64)
    keys = period_keys_of_days(grid, "M", "jalali")
    labels = [f"{k // 12:04d}-{k % 12 + 1:02d}" for k in keys]
    return pd.DataFrame({"d": grid.astype("M8[D]"), "jmonth": labels})


def month_ends(cases: pd.DataFrame, as_of_ns: int) -> pd.DataFrame:
    """Each Jalali month's backlog instant (its last microsecond, or as_of), for the SQL."""
    from analytics.periods import period_grid

    days = local_days(utc_ns(cases[s.CREATED_AT]))
    keys = period_keys_of_days(days, "M", "jalali")
    last = int(period_keys_of_days(local_days(np.array([as_of_ns])), "M", "jalali")[0])
    grid = period_grid(int(keys.min()), last, "M", "jalali")
    at = np.minimum(grid.end_ns - 1000, as_of_ns)  # Parquet holds microseconds
    return pd.DataFrame({"jmonth": grid.labels, "at": pd.to_datetime(at, utc=True)})


def sla_table() -> pd.DataFrame:
    """Target hours of every (category, subcategory) pair: a subcategory's target wins."""
    t = load_sla_targets()
    rows = [
        (cat, sub, t.sub_hours.get(sub, t.hours.get(cat, t.default)))
        for cat, (_, subs) in CATEGORIES.items()
        for sub in subs
    ]
    return pd.DataFrame(rows, columns=["category", "subcategory", "target_h"])


COHORT_SQL = """
WITH c AS (
  SELECT x.neighborhood_code, x.category, j.jmonth, x.status, x.citizen_feedback,
         x.satisfaction, x.reopen_count, x.closed_at, t.target_h,
         (epoch(x.closed_at) - epoch(x.created_at)) / 3600.0 AS close_h,
         (epoch(coalesce(x.first_response_at, x.closed_at)) - epoch(x.created_at))
           / 3600.0 AS resp_h,
         (epoch(coalesce(x.closed_at, $as_of)) - epoch(x.created_at)) / 3600.0 AS elapsed_h
  FROM read_parquet($path) x
  JOIN jcal j ON j.d = CAST(timezone('Asia/Tehran', x.created_at) AS DATE)
  JOIN sla t ON t.category = x.category AND t.subcategory = x.subcategory
)
SELECT neighborhood_code, jmonth, category,
  count(*) AS volume,
  count(resp_h) AS response_events,
  median(resp_h) AS response_naive_median_h,
  quantile_cont(resp_h, 0.9) AS response_naive_p90_h,
  count(close_h) AS close_events,
  median(close_h) AS close_naive_median_h,
  quantile_cont(close_h, 0.9) AS close_naive_p90_h,
  count(*) FILTER (WHERE closed_at IS NOT NULL OR elapsed_h > target_h) AS sla_n_wall,
  count(*) FILTER (WHERE closed_at IS NOT NULL AND elapsed_h <= target_h) AS sla_met_wall,
  count(*) FILTER (WHERE reopen_count > 0) AS reopened,
  count(*) FILTER (WHERE closed_at IS NOT NULL OR reopen_count > 0) AS reopen_n,
  count(*) FILTER (WHERE citizen_feedback = 'objected') AS objected,
  count(*) FILTER (WHERE closed_at IS NOT NULL OR citizen_feedback <> 'none'
                   OR status IN ('answered', 'closed') OR satisfaction IS NOT NULL) AS answered,
  avg(satisfaction) AS satisfaction_mean,
  count(satisfaction) AS satisfaction_n
FROM c GROUP BY ALL
"""

BACKLOG_SQL = """
WITH c AS (
  SELECT x.neighborhood_code, x.category, x.created_at, x.closed_at, x.due_at
  FROM read_parquet($path) x
  WHERE NOT (x.status IN ('closed', 'rejected', 'duplicate') AND x.closed_at IS NULL)
)
SELECT c.neighborhood_code, e.jmonth, c.category,
  count(*) AS backlog,
  count(*) FILTER (WHERE e.at - c.created_at < INTERVAL 7 DAY) AS backlog_lt_1w,
  count(*) FILTER (WHERE e.at - c.created_at >= INTERVAL 7 DAY
                     AND e.at - c.created_at < INTERVAL 28 DAY) AS backlog_1_4w,
  count(*) FILTER (WHERE e.at - c.created_at >= INTERVAL 28 DAY
                     AND e.at - c.created_at < INTERVAL 56 DAY) AS backlog_4_8w,
  count(*) FILTER (WHERE e.at - c.created_at >= INTERVAL 56 DAY) AS backlog_gt_8w,
  count(*) FILTER (WHERE c.due_at < e.at) AS backlog_overdue
FROM c JOIN ends e
  ON c.created_at <= e.at AND (c.closed_at IS NULL OR c.closed_at > e.at)
GROUP BY ALL
"""


def run_duckdb(
    path: Path, jcal: pd.DataFrame, ends: pd.DataFrame, sla: pd.DataFrame, as_of: pd.Timestamp
) -> tuple[float, float, pd.DataFrame, pd.DataFrame]:
    import duckdb

    con = duckdb.connect()
    con.register("jcal", jcal)
    con.register("ends", ends)
    con.register("sla", sla)
    params = {"path": str(path), "as_of": as_of.to_pydatetime()}
    t0 = time.perf_counter()
    cohort = con.execute(COHORT_SQL, params).df()
    t1 = time.perf_counter()
    backlog = con.execute(BACKLOG_SQL, {"path": str(path)}).df()
    t2 = time.perf_counter()
    con.close()
    return t1 - t0, t2 - t1, cohort, backlog


def run_ours(path: Path, as_of: pd.Timestamp) -> tuple[float, float, pd.DataFrame]:
    t0 = time.perf_counter()
    cases = pd.read_parquet(path, columns=USED_COLUMNS)
    t1 = time.perf_counter()
    out = kpis(cases, by=[s.NEIGHBORHOOD_CODE, s.CATEGORY], period="M", as_of=as_of)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, out


def check_agreement(
    ours: pd.DataFrame, cohort: pd.DataFrame, backlog: pd.DataFrame
) -> dict[str, float]:
    """Largest differences between the two sides on the shared figures."""
    keys = [s.NEIGHBORHOOD_CODE, "period", s.CATEGORY]
    o = ours.assign(**{c: ours[c].astype(str) for c in (s.NEIGHBORHOOD_CODE, s.CATEGORY)})
    d = cohort.rename(columns={"jmonth": "period"})
    d = d.assign(**{c: d[c].astype(str) for c in (s.NEIGHBORHOOD_CODE, s.CATEGORY)})
    m = o.merge(d, on=keys, suffixes=("", "_sql"))
    b = backlog.rename(columns={"jmonth": "period"})
    b = b.assign(**{c: b[c].astype(str) for c in (s.NEIGHBORHOOD_CODE, s.CATEGORY)})
    mb = o.merge(b, on=keys, suffixes=("", "_sql"), how="outer").fillna(0)
    out = {"cohort_rows_ours": float((o["volume"] > 0).sum()), "cohort_rows_sql": float(len(d))}
    for col in (
        "volume",
        "close_events",
        "objected",
        "reopened",
        "satisfaction_n",
        "sla_n_wall",
        "sla_met_wall",
    ):
        out[f"max_abs_diff_{col}"] = float((m[col] - m[f"{col}_sql"]).abs().max())
    for col in ("close_naive_median_h", "response_naive_median_h"):
        out[f"max_abs_diff_{col}"] = float((m[col] - m[f"{col}_sql"]).abs().max())
    for col in ("backlog", "backlog_lt_1w", "backlog_gt_8w", "backlog_overdue"):
        out[f"max_abs_diff_{col}"] = float((mb[col] - mb[f"{col}_sql"]).abs().max())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each side (best kept)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    as_of = pd.Timestamp("2025-03-20T20:29:00Z")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.parquet"
        t = time.perf_counter()
        cases = make_cases(args.n, seed=args.seed, as_of=str(as_of))
        write_parquet(cases, path)
        make_s = time.perf_counter() - t
        jcal = jalali_day_table(cases)
        ends = month_ends(cases, as_of.value)
        del cases
        sla = sla_table()
        best_duck = (np.inf, np.inf)
        best_ours = (np.inf, np.inf)
        for _ in range(args.repeat):
            dc, db, cohort, backlog = run_duckdb(path, jcal, ends, sla, as_of)
            if dc + db < sum(best_duck):
                best_duck = (dc, db)
            read_s, kpi_s, ours = run_ours(path, as_of)
            if read_s + kpi_s < sum(best_ours):
                best_ours = (read_s, kpi_s)
        agreement = check_agreement(ours, cohort, backlog)
    duck_total = sum(best_duck)
    ours_total = sum(best_ours)
    result = {
        "n_cases": args.n,
        "groups": len(ours),
        "cpu_count": os.cpu_count(),
        "make_and_write_s": round(make_s, 2),
        "duckdb_cohort_s": round(best_duck[0], 3),
        "duckdb_backlog_s": round(best_duck[1], 3),
        "duckdb_total_s": round(duck_total, 3),
        "ours_read_s": round(best_ours[0], 3),
        "ours_kpis_s": round(best_ours[1], 3),
        "ours_total_s": round(ours_total, 3),
        "ratio_ours_over_duckdb": round(ours_total / duck_total, 2),
        "ratio_vs_duckdb_cohort_only": round(ours_total / best_duck[0], 2),
        "agreement": agreement,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
