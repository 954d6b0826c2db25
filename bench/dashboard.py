"""Benchmark: dashboard callback latency (warm and cold), map payload, and 20 users of load.

Issue 6, "Performance": with 5M synthetic cases in the embedded store,

- filter changes: p50/p95 of the map, rankings and trends callbacks, warm (the same filters
  asked before: cache primed) and cold (the app's data cache cleared just before the call),
  over varied filters (date windows, categories, kinds, channels, units, levels, KPIs).
  Goals: p95 <= 300 ms warm, <= 2 s cold;
- payload: bytes of the neighborhood choropleth figure response (goal <= 1.5 MB);
- load: ``--users`` simulated users for ``--duration`` seconds (page loads and filter
  changes, with a think time between actions). Goals: 0 errors, p95 <= 1 s.

Every request is a real HTTP request on loopback to the app served in a subprocess by
``bench/_dashboard_server.py`` (``create_app`` with ``require_login=False``, run by Flask's
threaded server as ``t137 serve --open``). Callback bodies are built from the app's own
``/_dash-dependencies`` and page layouts. The store is built once into a cache folder
outside the repository (``bench/_dashboard_store.py``: synthetic 137 exports over the real
Tehran neighborhoods when the shared data holds them, ingested by the pipeline) and reused.

The machine is shared, so two baselines are measured in the same run: a trivial Flask
route (``/_bench/ping``) and a trivial Dash callback (the shell: language and links, no
data); callback figures are also given as multiples of the trivial callback's p50.

Usage::

    .venv/bin/python bench/dashboard.py                              # 5M cases, 20 users x 60 s
    .venv/bin/python bench/dashboard.py --cases 200000               # a quick look
    .venv/bin/python bench/dashboard.py --cases 20000 --duration 5   # smoke check
    .venv/bin/python bench/dashboard.py --json                       # one JSON object

Prints a Markdown table (or, with ``--json``, one JSON object).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np

ROOT: Final = Path(__file__).resolve().parents[1]
BENCH: Final = Path(__file__).resolve().parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from _dashboard_client import (  # noqa: E402
    PAGES_OUTPUT,
    BenchHTTPError,
    Callback,
    DashClient,
    Timed,
    callbacks_of,
    layout_values,
)
from _dashboard_server import CACHE_CLEAR, HOST, PING  # noqa: E402
from _dashboard_store import CACHE_DIR, ensure_store  # noqa: E402

GOAL_WARM_P95_S: Final = 0.300
GOAL_COLD_P95_S: Final = 2.0
GOAL_PAYLOAD_MB: Final = 1.5
GOAL_LOAD_P95_S: Final = 1.0
#: The measured callbacks: name -> (component id of an output, page path).
TARGETS: Final = {
    "map": ("map-graph", "/map"),
    "rankings": ("rank-table", "/rankings"),
    "trends": ("trend-graph", "/trends"),
}
#: Pages of the load test: path -> its data callback's output component (None: no data).
LOAD_PAGES: Final = {
    "/": "overview-kpis",
    "/map": "map-graph",
    "/rankings": "rank-table",
    "/trends": "trend-graph",
}
SHELL_OUTPUT: Final = "shell"
#: Names of the requests of a page load (see :meth:`App.page_load`).
PAGE_LOAD_REQUESTS: Final = (
    "page_html",
    "dash_layout",
    "dash_dependencies",
    "shell_callback",
    "page_content",
)
F_START, F_END = "filter-start.value", "filter-end.value"
F_CATEGORY, F_KIND = "filter-category.value", "filter-kind.value"
F_CHANNEL, F_UNIT, F_LEVEL = "filter-channel.value", "filter-unit.value", "filter-level.value"
KPI_INPUTS: Final = ("map-kpi.value", "rank-kpi.value", "trend-kpi.value")
TREND_BY: Final = "trend-by.value"


# -- helpers --------------------------------------------------------------------------------
def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def stats(seconds: list[float]) -> dict[str, Any]:
    """Return n, p50, p95 and max of ``seconds`` (in seconds, rounded to the millisecond)."""
    if not seconds:
        return {"n": 0, "p50_s": None, "p95_s": None, "max_s": None}
    values = np.asarray(seconds)
    return {
        "n": len(seconds),
        "p50_s": round(float(np.percentile(values, 50)), 4),
        "p95_s": round(float(np.percentile(values, 95)), 4),
        "max_s": round(float(values.max()), 4),
    }


def option_values(values: dict[str, Any], component: str) -> list[Any]:
    """Return the option values of a dropdown from the layout values (empty if none)."""
    options = values.get(f"{component}.options") or []
    return [o["value"] if isinstance(o, dict) else o for o in options]


@contextlib.contextmanager
def served(store: Path, port: int, log_path: Path, timeout_s: float = 300.0) -> Iterator[int]:
    """Serve the dashboard over ``store`` in a subprocess; yield its port, then stop it."""
    script = BENCH / "_dashboard_server.py"
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [sys.executable, str(script), str(store), str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            client = DashClient(HOST, port, timeout_s=10)
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    msg = f"the dashboard server exited with {process.returncode}; see {log_path}"
                    raise RuntimeError(msg)
                try:
                    client.request("GET", PING)
                    break
                except (OSError, BenchHTTPError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.3)
            client.close()
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# -- the app as the benchmark sees it --------------------------------------------------------
class App:
    """The served app's callbacks and the default values of its pages' components."""

    def __init__(self, client: DashClient) -> None:
        deps = client.request("GET", "/_dash-dependencies", parse=True).payload
        self.callbacks = callbacks_of(deps)
        self.pages = self.callbacks["_pages_content"]
        if self.pages.output != PAGES_OUTPUT:
            msg = f"unexpected Dash pages callback {self.pages.output!r}"
            raise RuntimeError(msg)
        self.defaults: dict[str, Any] = {}

    def callback(self, component: str) -> Callback:
        """Return the callback that writes ``component``."""
        return self.callbacks[component]

    def page_load(
        self, client: DashClient, path: str, *, learn: bool = True
    ) -> list[tuple[str, Timed]]:
        """Load ``path`` as a browser does (HTML, layout, dependencies, shell, page content).

        With ``learn``, the page content's component values not seen before are added to
        :attr:`defaults`. Returns the timed requests, named.
        """
        out = [
            ("page_html", client.request("GET", path)),
            ("dash_layout", client.request("GET", "/_dash-layout")),
            ("dash_dependencies", client.request("GET", "/_dash-dependencies")),
        ]
        url = {"url.pathname": path, "url.search": "", "url.href": path}
        out.append(("shell_callback", client.callback(self.callback(SHELL_OUTPUT), url)))
        location = {"_pages_location.pathname": path, "_pages_location.search": ""}
        content = client.callback(self.pages, location)
        out.append(("page_content", content))
        if learn:
            found = layout_values(content.payload["response"]["_pages_content"]["children"])
            self.defaults.update({k: v for k, v in found.items() if k not in self.defaults})
        return out

    def values(self, scenario: dict[str, Any]) -> dict[str, Any]:
        """Return the component values: the page defaults overridden by ``scenario``."""
        return {**self.defaults, **scenario}


def scenarios(defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """Return varied filter settings built from the filter options the pages offer.

    ``defaults`` holds the pages' component values (:attr:`App.defaults`).
    """
    months = option_values(defaults, "filter-start")
    levels = option_values(defaults, "filter-level")
    cats = option_values(defaults, "filter-category")
    kinds = option_values(defaults, "filter-kind")
    channels = option_values(defaults, "filter-channel")
    units = option_values(defaults, "filter-unit")
    kpis = option_values(defaults, "map-kpi") or [None]
    last = months[-1] if months else None

    def window(n: int) -> dict[str, Any]:
        return {F_START: months[-n], F_END: last} if len(months) >= n else {}

    def kpi(i: int) -> dict[str, Any]:
        value = kpis[i % len(kpis)]
        return dict.fromkeys(KPI_INPUTS, value)

    coarse = levels[0] if levels else None
    middle = levels[len(levels) // 2] if levels else None
    found: list[dict[str, Any]] = [
        {},  # everything, neighborhood level (the default view)
        {**window(12)},
        {**window(3), **kpi(2)},
        {**window(1), **kpi(1)},
        {F_CATEGORY: cats[:1], **window(12), **kpi(3)},
        {F_CATEGORY: cats[1:3], F_KIND: kinds[1:2], **kpi(4)},
        {F_LEVEL: coarse, **kpi(5)},
        {F_LEVEL: coarse, F_CHANNEL: channels[:1], **window(3), **kpi(6)},
        {F_KIND: kinds[:2], TREND_BY: "category"},
        {F_UNIT: units[-2:], **window(6), TREND_BY: "area"},
        {F_LEVEL: middle, **window(24)},
        {F_LEVEL: middle, F_CATEGORY: cats[-1:], F_CHANNEL: channels[-2:], **kpi(1)},
    ]
    if len(months) >= 24:
        found.append({F_START: months[-24], F_END: months[-13], **kpi(2)})
    return found


# -- phases ---------------------------------------------------------------------------------
def measure_baselines(client: DashClient, app: App, repeat: int) -> dict[str, Any]:
    """Time the trivial Flask route and the trivial (shell) callback."""
    shell = app.callback(SHELL_OUTPUT)
    url = {"url.pathname": "/map", "url.search": ""}
    for _ in range(3):
        client.request("GET", PING)
        client.callback(shell, url)
    ping = [client.request("GET", PING).seconds for _ in range(repeat)]
    trivial = [client.callback(shell, url).seconds for _ in range(repeat)]
    return {"ping": stats(ping), "trivial_callback": stats(trivial)}


def measure_cold(client: DashClient, app: App, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Time each target callback on each scenario just after clearing the data cache."""
    out: dict[str, list[float]] = {name: [] for name in TARGETS}
    for scenario in cases:
        for name, (component, _) in TARGETS.items():
            client.request("POST", CACHE_CLEAR)
            timed = client.callback(app.callback(component), app.values(scenario))
            out[name].append(timed.seconds)
    return {name: stats(values) for name, values in out.items()}


def measure_warm(
    client: DashClient, app: App, cases: list[dict[str, Any]], repeat: int
) -> dict[str, Any]:
    """Time each target callback ``repeat`` times per scenario after one priming call."""
    out: dict[str, list[float]] = {name: [] for name in TARGETS}
    for scenario in cases:
        for name, (component, _) in TARGETS.items():
            callback = app.callback(component)
            values = app.values(scenario)
            client.callback(callback, values)
            out[name].extend(client.callback(callback, values).seconds for _ in range(repeat))
    return {name: stats(values) for name, values in out.items()}


def measure_payload(client: DashClient, app: App, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the size of the neighborhood choropleth response (default view, and largest)."""
    callback = app.callback(TARGETS["map"][0])
    sizes = []
    for scenario in cases:
        values = app.values(scenario)
        if values.get(F_LEVEL) != "neighborhood":
            continue
        body = json.dumps(client.callback(callback, values).payload).encode("utf-8")
        sizes.append((len(body), len(gzip.compress(body, 6))))
    default = sizes[0]
    largest = max(sizes)
    return {
        "neighborhood_map_bytes": default[0],
        "neighborhood_map_gzip_bytes": default[1],
        "largest_neighborhood_map_bytes": largest[0],
        "maps_measured": len(sizes),
    }


class LoadResult:
    """Thread-safe collection of the load test's timings and errors."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.timings: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def add(self, name: str, seconds: float) -> None:
        """Record one successful request."""
        with self.lock:
            self.timings.setdefault(name, []).append(seconds)

    def fail(self, name: str, error: Exception) -> None:
        """Record one failed request."""
        with self.lock:
            self.errors.append(f"{name}: {type(error).__name__}: {error}"[:300])


def simulated_user(
    app: App,
    port: int,
    cases: list[dict[str, Any]],
    *,
    stop_at: float,
    think_s: float,
    seed: int,
    result: LoadResult,
    start_delay_s: float = 0.0,
) -> None:
    """Start after ``start_delay_s``, then load pages and change filters until ``stop_at``."""
    rng = random.Random(seed)
    client = DashClient(HOST, port, timeout_s=60)
    paths = list(LOAD_PAGES)

    def pause() -> None:
        time.sleep(min(rng.uniform(0, 2 * think_s), max(0.0, stop_at - time.monotonic())))

    time.sleep(start_delay_s)
    try:
        while time.monotonic() < stop_at:
            path = rng.choice(paths)
            try:
                for name, timed in app.page_load(client, path, learn=False):
                    result.add(name, timed.seconds)
                callback = app.callback(LOAD_PAGES[path])
                timed = client.callback(callback, app.values({}))
                result.add(f"initial_{path}", timed.seconds)
            except (OSError, BenchHTTPError, KeyError, ValueError) as exc:
                result.fail(f"page {path}", exc)
                continue
            for _ in range(rng.randint(2, 4)):
                pause()
                if time.monotonic() >= stop_at:
                    break
                try:
                    timed = client.callback(callback, app.values(rng.choice(cases)))
                    result.add("filter_change", timed.seconds)
                except (OSError, BenchHTTPError, KeyError, ValueError) as exc:
                    result.fail(f"filter {path}", exc)
            pause()
    finally:
        client.close()


def prime(client: DashClient, app: App, cases: list[dict[str, Any]]) -> dict[str, Any]:
    """Load every load-test page, call its callback once per scenario; return time, errors.

    Its users then find the cache as a server in steady use has it (entries are keyed on
    the store's data version and do not expire by default, ``AppSettings.cache_timeout_s``).
    A failed callback is recorded (the load test will meet it too), not raised.
    """
    started = time.perf_counter()
    errors: list[str] = []
    for path in LOAD_PAGES:
        app.page_load(client, path, learn=False)
    for i, scenario in enumerate(cases):
        for component in LOAD_PAGES.values():
            try:
                client.callback(app.callback(component), app.values(scenario))
            except BenchHTTPError as exc:
                errors.append(f"{component} on scenario {i}: {exc}"[:300])
    return {"seconds": round(time.perf_counter() - started, 1), "errors": errors}


def run_load(
    app: App,
    port: int,
    cases: list[dict[str, Any]],
    users: int,
    duration_s: float,
    think_s: float,
    ramp_s: float,
) -> dict[str, Any]:
    """Run ``users`` simulated users for ``duration_s`` seconds; return timings and errors.

    User ``i`` starts ``i * ramp_s / users`` seconds in (a steady spawn rate, as locust's);
    the ramp is at most half the duration.
    """
    ramp_s = min(ramp_s, duration_s / 2)
    result = LoadResult()
    started = time.monotonic()
    stop_at = started + duration_s
    threads = [
        threading.Thread(
            target=simulated_user,
            args=(app, port, cases),
            kwargs={
                "stop_at": stop_at,
                "think_s": think_s,
                "seed": 1000 + i,
                "result": result,
                "start_delay_s": i * ramp_s / max(users, 1),
            },
            daemon=True,
        )
        for i in range(users)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    every = [s for values in result.timings.values() for s in values]
    groups = {
        "page_load": [s for name in PAGE_LOAD_REQUESTS for s in result.timings.get(name, [])],
        "initial_callbacks": [
            s for name, v in result.timings.items() if name.startswith("initial_") for s in v
        ],
        "filter_change": result.timings.get("filter_change", []),
    }
    return {
        "users": users,
        "duration_s": round(elapsed, 1),
        "think_s": think_s,
        "ramp_s": ramp_s,
        "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1),
        "errors": len(result.errors),
        "error_samples": result.errors[:5],
        "all": stats(every),
        **{name: stats(values) for name, values in groups.items()},
    }


# -- report ---------------------------------------------------------------------------------
def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.0f}"


def _times(value: float | None, base: float | None) -> str:
    return "–" if value is None or not base else f"{value / base:.0f}x"


def goals(report: dict[str, Any]) -> dict[str, bool]:
    """Return whether each goal of issue 6 was met."""
    warm, cold, load = report["warm"], report["cold"], report["load"]
    return {
        "warm_p95": all(warm[n]["p95_s"] <= GOAL_WARM_P95_S for n in TARGETS),
        "cold_p95": all(cold[n]["p95_s"] <= GOAL_COLD_P95_S for n in TARGETS),
        "payload": report["payload"]["largest_neighborhood_map_bytes"] <= GOAL_PAYLOAD_MB * 1e6,
        "load_errors": load["errors"] == 0,
        "load_p95": load["all"]["p95_s"] is not None and load["all"]["p95_s"] <= GOAL_LOAD_P95_S,
    }


def markdown(report: dict[str, Any]) -> str:
    """Return the report as a compact Markdown table."""
    base = report["baselines"]["trivial_callback"]["p50_s"]
    lines = [
        "| measure | n | p50 (ms) | p95 (ms) | max (ms) | p50 / trivial callback | goal | met |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]

    def row(label: str, st: dict[str, Any], goal: str = "", met: bool | None = None) -> None:
        mark = "" if met is None else ("yes" if met else "**no**")
        lines.append(
            f"| {label} | {st['n']} | {_ms(st['p50_s'])} | {_ms(st['p95_s'])} "
            f"| {_ms(st['max_s'])} | {_times(st['p50_s'], base)} | {goal} | {mark} |"
        )

    row("baseline: trivial Flask route", report["baselines"]["ping"])
    row("baseline: trivial Dash callback (shell)", report["baselines"]["trivial_callback"])
    row("first page load, cold (all requests)", report["first_page_load"])
    for phase, goal_s in (("warm", GOAL_WARM_P95_S), ("cold", GOAL_COLD_P95_S)):
        for name in TARGETS:
            st = report[phase][name]
            ok = st["p95_s"] is not None and st["p95_s"] <= goal_s
            row(f"{name} callback, {phase}", st, f"p95 ≤ {goal_s * 1000:.0f} ms", ok)
    load = report["load"]
    who = f"{load['users']} users x {load['duration_s']:.0f} s"
    row(
        f"load: all requests ({who})",
        load["all"],
        f"p95 ≤ {GOAL_LOAD_P95_S * 1000:.0f} ms",
        load["all"]["p95_s"] is not None and load["all"]["p95_s"] <= GOAL_LOAD_P95_S,
    )
    row("load: page-load requests", load["page_load"])
    row("load: pages' initial data callbacks", load["initial_callbacks"])
    row("load: filter changes", load["filter_change"])
    pay = report["payload"]
    mb = pay["largest_neighborhood_map_bytes"] / 1e6
    lines += [
        "",
        f"- payload: neighborhood choropleth response {pay['neighborhood_map_bytes'] / 1e6:.2f} MB "
        f"({pay['neighborhood_map_gzip_bytes'] / 1e6:.2f} MB gzipped), largest of "
        f"{pay['maps_measured']} {mb:.2f} MB (goal ≤ {GOAL_PAYLOAD_MB} MB: "
        f"{'met' if mb <= GOAL_PAYLOAD_MB else 'NOT met'})",
        f"- load: {load['requests']:,} requests ({load['requests_per_s']}/s), "
        f"{load['errors']} errors (goal 0), think time mean {load['think_s']} s, users "
        f"spawned over {load['ramp_s']} s after priming every page callback on every "
        f"scenario ({report['prime']['seconds']} s, {len(report['prime']['errors'])} errors)",
        f"- store: {report['store']['cases']:,} cases ({report['store']['geography']}), "
        f"{report['store']['read_model_rows']:,} read-model rows; load average "
        f"{report['loadavg_start']} at start, {report['loadavg_end']} at end; "
        f"{report['machine']}",
    ]
    for sample in [*load["error_samples"], *report["prime"]["errors"][:5]]:
        lines.append(f"- error sample: {sample}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build or reuse the store, serve it, and run every phase."""
    store, record = ensure_store(args.cases, cache_dir=args.cache_dir)
    port = args.port or free_port()
    log_path = args.cache_dir / f"server-{port}.log"
    report: dict[str, Any] = {
        "store": {k: record[k] for k in ("cases", "geography", "read_model_rows", "build_s")},
        "store_path": str(store),
        "store_reused": record["reused"],
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python "
        f"{platform.python_version()}",
        "loadavg_start": [round(v, 2) for v in os.getloadavg()],
    }
    with served(store, port, log_path):
        client = DashClient(HOST, port, timeout_s=args.timeout)
        app = App(client)
        first: list[float] = []
        for path in ("/map", "/rankings", "/trends", "/"):
            first.extend(timed.seconds for _, timed in app.page_load(client, path))
        report["first_page_load"] = stats(first)
        cases = scenarios(app.defaults)
        report["scenarios"] = len(cases)
        report["baselines"] = measure_baselines(client, app, args.repeat * 10)
        report["cold"] = measure_cold(client, app, cases)
        report["warm"] = measure_warm(client, app, cases, args.repeat)
        report["payload"] = measure_payload(client, app, cases)
        report["prime"] = prime(client, app, cases)
        client.close()
        report["load"] = run_load(
            app, port, cases, args.users, args.duration, args.think, args.ramp
        )
    report["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
    report["goals"] = goals(report)
    return report


def main() -> None:
    """Parse the command line, run the benchmark, print the table or JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=5_000_000, help="Cases in the store.")
    parser.add_argument("--users", type=int, default=20, help="Simulated users of the load test.")
    parser.add_argument("--duration", type=float, default=60.0, help="Load test length (s).")
    parser.add_argument("--think", type=float, default=1.0, help="Mean think time (s).")
    parser.add_argument("--ramp", type=float, default=10.0, help="Spawn all users over (s).")
    parser.add_argument("--repeat", type=int, default=5, help="Warm calls per scenario.")
    parser.add_argument("--port", type=int, default=0, help="Server port (default: free).")
    parser.add_argument("--timeout", type=float, default=300.0, help="Request timeout (s).")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="Store cache folder.")
    parser.add_argument("--json", action="store_true", help="Print one JSON object.")
    args = parser.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    report = run(args)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(markdown(report))


if __name__ == "__main__":
    main()
