"""Benchmark: density hotspots on a metric grid vs scikit-learn DBSCAN on the raw points.

Also times vectorized H3 indexing against h3's scalar call in a Python loop, and an emerging
hotspot analysis (24 Jalali months x H3 resolution 8).

Every measured step runs in its own subprocess, so that its peak memory (read at the end of
the child: ``VmHWM``, the high-water mark of its own address space; ``ru_maxrss`` is printed
beside it but on Linux it keeps the parent's size at the fork) is its own. The cases are
generated once (background uniform over the labelled synthetic city plus 12 planted hotspots)
and handed to the children as ``.npy`` files (x/y metres in EPSG:32639, and lon/lat).

- density: ``sklearn.cluster.DBSCAN(eps=eps_m, min_samples=m)`` on the raw x/y metres
  against ``DensityHotspots(eps_m=eps_m, min_cases=m, by=None)`` on a case frame with
  ``lon``/``lat`` (projection to metres, 10 m grid, weighted DBSCAN on the occupied cells and
  the cluster summaries all included in its time). ``m`` is the "auto" rule: ten times the
  cases expected within ``eps_m`` at the city's mean density. Membership agreement is the
  adjusted Rand index of the two labelings (noise as one label).
- H3: ``latlng_to_cells`` against ``[h3.latlng_to_cell(lat, lng, 8) for ...]``.
- emerging: ``EmergingHotspots(level="h3", resolution=8)`` over 24 months (goal <= 60 s).

Usage::

    .venv/bin/python bench/hotspots.py                 # 1M cases (density), 5M (H3, emerging)
    .venv/bin/python bench/hotspots.py --n 200000 --n-h3 1000000 --skip-emerging

Prints one JSON object with timings, peak memories and the ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> dict[str, float]:
    """Return this process's peak memory in MB: ``VmHWM`` and ``ru_maxrss``.

    On Linux ``ru_maxrss`` survives ``execve``: a child started by fork/vfork + exec reports
    at least the parent's resident size at the fork. ``VmHWM`` (``/proc/self/status``) is the
    high-water mark of the child's own address space, so it is the figure compared.
    """
    rusage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    hwm = rusage
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = float(line.split()[1]) / 1024.0
    return {"peak_mb": hwm, "ru_maxrss_mb": rusage}


def _child(kind: str, folder: Path, eps_m: float, min_cases: int) -> None:
    """Run one measured step (in a subprocess) and print its JSON result."""
    if kind == "raw":
        from sklearn.cluster import DBSCAN

        xy = np.column_stack([np.load(folder / "x.npy"), np.load(folder / "y.npy")])
        start = time.perf_counter()
        labels = DBSCAN(eps=eps_m, min_samples=min_cases).fit(xy).labels_
        elapsed = time.perf_counter() - start
        np.save(folder / "raw_labels.npy", labels)
        out = {"seconds": elapsed, "clusters": int(labels.max()) + 1}
    elif kind == "grid":
        import pandas as pd

        from analytics.hotspots.density import DensityHotspots
        from ingest import schema as s

        cases = pd.DataFrame(
            {s.LON: np.load(folder / "lng.npy"), s.LAT: np.load(folder / "lat.npy")}
        )
        start = time.perf_counter()
        model = DensityHotspots(eps_m=eps_m, min_cases=min_cases, by=None).fit(cases)
        elapsed = time.perf_counter() - start
        np.save(folder / "grid_labels.npy", model.labels_)
        out = {"seconds": elapsed, "clusters": len(model.clusters_)}
    elif kind in ("h3_vector", "h3_loop"):
        import h3

        from analytics.hotspots.h3cells import latlng_to_cells

        lat, lng = np.load(folder / "lat.npy"), np.load(folder / "lng.npy")
        start = time.perf_counter()
        if kind == "h3_vector":
            cells = latlng_to_cells(lat=lat, lng=lng, resolution=8)
        else:
            cells = np.array(
                [h3.str_to_int(h3.latlng_to_cell(a, b, 8)) for a, b in zip(lat, lng, strict=True)],
                dtype=np.uint64,
            )
        elapsed = time.perf_counter() - start
        np.save(folder / f"{kind}.npy", cells)
        out = {"seconds": elapsed}
    elif kind == "emerging":
        from analytics.hotspots.emerging import EmergingHotspots
        from geo.synthetic_geography import synthetic_boundaries
        from tests.analytics.hotspots.planted import planted_cases

        geo = synthetic_boundaries()
        n = int(min_cases)
        planted = planted_cases(
            geo, n_slices=24, background_per_slice=n // 24, per_slice=400, seed=7
        )
        cases = planted.cases
        start = time.perf_counter()
        emerging = EmergingHotspots(level="h3", resolution=8).fit(cases, geo)
        elapsed = time.perf_counter() - start
        counts = emerging.units_["pattern"].value_counts().to_dict()
        out = {
            "seconds": elapsed,
            "cases": len(cases),
            "units": len(emerging.units_),
            "patterns": counts,
        }
    else:
        msg = f"unknown step {kind}"
        raise ValueError(msg)
    out.update(_peak_mb())
    print(json.dumps(out))


def _run(kind: str, folder: Path, eps_m: float, min_cases: int) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--child", kind, "--folder", str(folder)]
    cmd += ["--eps-m", str(eps_m), "--min-cases", str(min_cases)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        msg = f"step {kind} failed:\n{done.stderr}"
        raise RuntimeError(msg)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _cases(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    import shapely

    from geo.crs import METRIC_CRS
    from geo.synthetic_geography import synthetic_boundaries
    from ingest import schema as s

    geo = synthetic_boundaries().to_crs(METRIC_CRS)
    city = shapely.union_all(geo.loc[geo[s.LEVEL] == s.LEVEL_NEIGHBORHOOD].geometry.to_numpy())
    rng = np.random.default_rng(seed)
    n_hot = n // 10  # 10 % of cases in 12 planted hotspots of radius 150-350 m
    minx, miny, maxx, maxy = city.bounds
    parts: list[np.ndarray] = []
    count = 0
    while count < n - n_hot:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(n, 2))
        xy = xy[shapely.contains_xy(city, xy[:, 0], xy[:, 1])]
        parts.append(xy)
        count += len(xy)
    background = np.concatenate(parts)[: n - n_hot]
    inner = shapely.buffer(city, -2000.0)
    centres: list[np.ndarray] = []
    while len(centres) < 12:
        c = rng.uniform((minx, miny), (maxx, maxy))
        if shapely.contains_xy(inner, c[0], c[1]) and all(math.dist(c, o) > 3000 for o in centres):
            centres.append(c)
    which = rng.integers(0, 12, n_hot)
    radius = rng.uniform(150, 350, 12)[which] * np.sqrt(rng.random(n_hot))
    angle = rng.uniform(0, 2 * np.pi, n_hot)
    hot = (
        np.array(centres)[which] + np.column_stack([np.cos(angle), np.sin(angle)]) * radius[:, None]
    )
    xy = np.concatenate([background, hot])
    return xy[:, 0], xy[:, 1], float(city.area)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="cases for the density step")
    parser.add_argument("--n-h3", type=int, default=5_000_000, help="points for H3 indexing")
    parser.add_argument("--n-emerging", type=int, default=5_000_000)
    parser.add_argument("--eps-m", type=float, default=100.0)
    parser.add_argument("--skip-emerging", action="store_true")
    parser.add_argument("--child", default=None)
    parser.add_argument("--folder", default=None)
    parser.add_argument("--min-cases", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        _child(args.child, Path(args.folder), args.eps_m, args.min_cases)
        return

    from sklearn.metrics import adjusted_rand_score

    from analytics.hotspots.density import auto_min_cases
    from analytics.hotspots.grid import to_lonlat

    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        x, y, area = _cases(args.n, seed=137)
        np.save(folder / "x.npy", x)
        np.save(folder / "y.npy", y)
        lng, lat = to_lonlat(x, y)  # the grid side reads the case table's lon/lat
        np.save(folder / "lng.npy", lng)
        np.save(folder / "lat.npy", lat)
        min_cases = auto_min_cases(len(x), area, args.eps_m, 10.0, 10)
        grid = _run("grid", folder, args.eps_m, min_cases)
        raw = _run("raw", folder, args.eps_m, min_cases)
        ari = adjusted_rand_score(
            np.load(folder / "raw_labels.npy"), np.load(folder / "grid_labels.npy")
        )
        report["density"] = {
            "cases": len(x),
            "eps_m": args.eps_m,
            "min_cases": min_cases,
            "sklearn_raw": raw,
            "grid": grid,
            "speedup": float(raw["seconds"]) / float(grid["seconds"]),  # type: ignore[arg-type]
            "memory_ratio": float(grid["peak_mb"]) / float(raw["peak_mb"]),  # type: ignore[arg-type]
            "adjusted_rand_index": float(ari),
        }

        rng = np.random.default_rng(1)
        idx = rng.integers(0, len(x), args.n_h3)
        jitter = rng.normal(0, 50, (args.n_h3, 2))
        lng, lat = to_lonlat(x[idx] + jitter[:, 0], y[idx] + jitter[:, 1])
        np.save(folder / "lat.npy", lat)
        np.save(folder / "lng.npy", lng)
        vec = _run("h3_vector", folder, 0, 0)
        loop = _run("h3_loop", folder, 0, 0)
        same = bool(
            np.array_equal(np.load(folder / "h3_vector.npy"), np.load(folder / "h3_loop.npy"))
        )
        report["h3"] = {
            "points": args.n_h3,
            "vectorized": vec,
            "python_loop": loop,
            "speedup": float(loop["seconds"]) / float(vec["seconds"]),  # type: ignore[arg-type]
            "identical": same,
        }
        if not args.skip_emerging:
            report["emerging"] = _run("emerging", folder, 0, args.n_emerging)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
