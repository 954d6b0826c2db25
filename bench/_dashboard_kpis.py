"""Time the map callback for the KPIs read from the cases (median time to close, overdue share).

Run as ``python bench/_dashboard_kpis.py [--cases N] [--repeat R] [--json]``. The app is
served over HTTP on loopback as ``bench/dashboard.py`` serves it (the same cached store of
``bench/_dashboard_store.py``), and the map callback is timed for each KPI of
``--kpis`` on a few filter settings: cold (the app's data cache cleared just before the
call, as the benchmark's cold phase does) and warm (``--repeat`` calls after one priming
call). Goals as the benchmark's: p95 <= 300 ms warm, <= 2 s cold, payload <= 1.5 MB.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
BENCH: Final = Path(__file__).resolve().parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from _dashboard_client import DashClient  # noqa: E402
from _dashboard_server import CACHE_CLEAR, HOST  # noqa: E402
from _dashboard_store import CACHE_DIR, ensure_store  # noqa: E402
from dashboard import (  # noqa: E402
    F_CATEGORY,
    F_CHANNEL,
    F_END,
    F_LEVEL,
    F_START,
    GOAL_COLD_P95_S,
    GOAL_PAYLOAD_MB,
    GOAL_WARM_P95_S,
    App,
    free_port,
    option_values,
    served,
    stats,
)

MAP_OUTPUT: Final = "map-graph"
MAP_KPI: Final = "map-kpi.value"


def settings(defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """Return filter settings: all data, windows, a category, a channel, coarser levels."""
    months = option_values(defaults, "filter-start")
    levels = option_values(defaults, "filter-level")
    cats = option_values(defaults, "filter-category")
    channels = option_values(defaults, "filter-channel")
    found: list[dict[str, Any]] = [{}]  # everything, neighborhood level (the default view)
    if len(months) >= 12:
        found.append({F_START: months[-12], F_END: months[-1]})
        found.append({F_START: months[-3], F_END: months[-1], F_CATEGORY: cats[:1]})
    found.append({F_CHANNEL: channels[:1]})
    found.extend({F_LEVEL: level} for level in levels[:-1])
    return found


def measure(
    client: DashClient, app: App, kpi: str, cases: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    """Time the map callback for ``kpi`` on every setting, cold then warm."""
    callback = app.callback(MAP_OUTPUT)
    cold: list[float] = []
    warm: list[float] = []
    sizes: list[int] = []
    for case in cases:
        values = app.values({**case, MAP_KPI: kpi})
        client.request("POST", CACHE_CLEAR)
        timed = client.callback(callback, values)
        cold.append(timed.seconds)
        sizes.append(timed.size)
        warm.extend(client.callback(callback, values).seconds for _ in range(repeat))
    return {
        "cold": stats(cold),
        "cold_each_s": [round(v, 3) for v in cold],
        "warm": stats(warm),
        "payload_max_mb": round(max(sizes) / 1e6, 3),
    }


def main() -> None:
    """Serve the cached store, time the map callback per KPI, print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=5_000_000)
    parser.add_argument("--kpis", default="close_median,overdue_share")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    store, _ = ensure_store(args.cases, cache_dir=args.cache_dir)
    port = free_port()
    report: dict[str, Any] = {"cases": args.cases}
    with served(store, port, args.cache_dir / f"server-{port}.log"):
        client = DashClient(HOST, port, timeout_s=300)
        app = App(client)
        app.page_load(client, "/map")
        cases = settings(app.defaults)
        report["settings"] = cases
        for kpi in args.kpis.split(","):
            report[kpi] = measure(client, app, kpi, cases, args.repeat)
        client.close()
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"map callback, {args.cases:,} cases, {len(cases)} filter settings")
    print("| KPI | cold p50 | cold p95 | warm p50 | warm p95 | payload max | goals met |")
    print("|---|---|---|---|---|---|---|")
    for kpi in args.kpis.split(","):
        got = report[kpi]
        met = (
            got["cold"]["p95_s"] <= GOAL_COLD_P95_S
            and got["warm"]["p95_s"] <= GOAL_WARM_P95_S
            and got["payload_max_mb"] <= GOAL_PAYLOAD_MB
        )
        print(
            f"| {kpi} | {got['cold']['p50_s'] * 1000:.0f} ms | {got['cold']['p95_s'] * 1000:.0f} ms"
            f" | {got['warm']['p50_s'] * 1000:.0f} ms | {got['warm']['p95_s'] * 1000:.0f} ms"
            f" | {got['payload_max_mb']} MB | {'yes' if met else 'no'} |"
        )
        print(f"  cold per setting (s): {got['cold_each_s']}")


if __name__ == "__main__":
    main()
