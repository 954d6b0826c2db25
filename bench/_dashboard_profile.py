"""Profile the dashboard's map, rankings and trends callbacks in-process (where the time goes).

Run as ``python bench/_dashboard_profile.py [--cases N] [--scenario I] [--top K]``. The app
is built as the benchmark serves it (``require_login=False``) over the cached store of
``bench/_dashboard_store.py``, and each callback request (the same JSON body the benchmark
POSTs) goes through Flask's test client under :mod:`cProfile`: once cold (data cache
cleared first) and once warm. For each, the functions of this repository with the largest
cumulative time are printed, then the largest self times overall.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path
from typing import Any, Final

ROOT: Final = Path(__file__).resolve().parents[1]
BENCH: Final = Path(__file__).resolve().parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from _dashboard_client import UPDATE, Callback, callbacks_of, layout_values  # noqa: E402
from _dashboard_store import CACHE_DIR, ensure_store  # noqa: E402
from dashboard import TARGETS, scenarios  # noqa: E402

PROJECT: Final = tuple(f"{ROOT}/{p}/" for p in ("dash_app", "analytics", "geo", "ingest"))


def _post(client: Any, callback: Callback, values: dict[str, Any]) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.post(UPDATE, json=callback.body(values))
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        msg = f"{callback.output} answered {response.status_code}"
        raise RuntimeError(msg)
    return seconds, len(response.data)


def _report(profile: cProfile.Profile, top: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("cumulative").print_stats("|".join(PROJECT), top)
    stats.sort_stats("tottime").print_stats(top)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    return "\n".join(line for line in lines if not line.lstrip().startswith("List reduced"))


def main() -> None:
    """Profile each target callback cold and warm on one scenario."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=5_000_000)
    parser.add_argument("--scenario", type=int, default=0, help="Index of the scenario.")
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    args = parser.parse_args()

    from dash_app import AppSettings, create_app, data

    store, _ = ensure_store(args.cases, cache_dir=args.cache_dir)
    app = create_app(AppSettings(store_url=str(store), require_login=False))
    client = app.server.test_client()
    callbacks = callbacks_of(client.get("/_dash-dependencies").get_json())
    defaults: dict[str, Any] = {}
    for path in ("/map", "/rankings", "/trends"):
        location = {"_pages_location.pathname": path, "_pages_location.search": ""}
        body = callbacks["_pages_content"].body(location)
        content = client.post(UPDATE, json=body).get_json()
        found = layout_values(content["response"]["_pages_content"]["children"])
        defaults.update({k: v for k, v in found.items() if k not in defaults})
    scenario = scenarios(defaults)[args.scenario]
    values = {**defaults, **scenario}
    print(f"# scenario {args.scenario}: {scenario}")
    for name in args.targets.split(","):
        callback = callbacks[TARGETS[name][0]]
        for phase in ("cold", "warm"):
            if phase == "cold":
                data.service(app.server).cache.clear()
            profile = cProfile.Profile()
            profile.enable()
            seconds, size = _post(client, callback, values)
            profile.disable()
            print(f"\n## {name} {phase}: {seconds:.3f} s, {size:,} bytes")
            print(_report(profile, args.top))


if __name__ == "__main__":
    main()
