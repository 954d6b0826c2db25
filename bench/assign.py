"""Benchmark: ``geo.assign`` against geopandas ``sjoin`` and shapely ``STRtree.query``.

All three start from the same lon/lat arrays (EPSG:4326) and the same polygons: the real
375 Tehran neighborhoods (``load_tehran_boundaries`` from ``$T137_SHARED_DATA/tehran``,
default ``/work/shared/data/tehran``), or the labelled synthetic geography when those files
are missing (a note says so).

The points: 60 % uniform over the polygons' bounding box (about half of it lies outside
the city, so snapping and refusals are exercised), 40 % in Gaussian clusters (σ 400 m)
around 40 neighborhoods, plus a few refused values (NaN, (0, 0), placeholders) and
swapped (lat, lon) pairs (0.1 % each).

- **ours**: ``assign_points`` with everything on (refusals, tie rule, swapped repair,
  snapping within 200 m, district/region from the hierarchy), and with snapping off (the
  job sjoin does); the index build is timed separately.
- **sjoin**: ``geopandas.sjoin(points, polygons, predicate="within")``, timed with and
  without building the points GeoDataFrame from the arrays.
- **STRtree**: ``shapely.STRtree(polygons).query(points, predicate="within")``.

Exactness is checked on the whole sample: every point with exactly one sjoin match must
get that polygon (precision ``point``); points on a border (no sjoin match, but covered by
a polygon) and in overlaps (several matches) are counted and checked against the tie rule.

Peak memory of our method is measured in a separate, fresh subprocess that loads the
boundaries, makes the points, builds the index and assigns them: ``resource.getrusage``
``ru_maxrss`` of that process (whole-process peak RSS, interpreter and imports included).

Each method runs once on a 10,000-point warm-up sample, then once timed on the full
sample (the machine is shared: do not loop it).

Usage::

    .venv/bin/python bench/assign.py                      # 5,000,000 points (the issue's goal)
    .venv/bin/python bench/assign.py --points 200000      # a quick look
    .venv/bin/python bench/assign.py --json-out bench/assign.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.assign import INVALID_REASONS, BoundaryIndex, assign_points
from geo.boundaries import load_tehran_boundaries
from geo.point_index import DEFAULT_CELL_M, code_order
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s

PLACEHOLDERS = ((51.389, 35.6892), (51.4, 35.7))
SNAP_TOLERANCE_M = 200.0


def load_polygons() -> tuple[gpd.GeoDataFrame, str]:
    """Return the boundaries and a label saying which ones they are."""
    shared = Path(os.environ.get("T137_SHARED_DATA", "/work/shared/data"))
    tehran = shared / "tehran"
    if (tehran / "Mahalat_Tehran.shp").exists():
        return load_tehran_boundaries(tehran), f"real Tehran neighborhoods ({tehran})"
    print(
        f"NOTE: {tehran} not found; benchmarking on the SYNTHETIC geography "
        "(geo.synthetic_geography), not real Tehran.",
        file=sys.stderr,
    )
    return synthetic_boundaries(), "SYNTHETIC geography (real Tehran files not found)"


def finest(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    level = s.LEVEL_NEIGHBORHOOD if (frame[s.LEVEL] == s.LEVEL_NEIGHBORHOOD).any() else None
    rows = frame[frame[s.LEVEL] == level] if level else frame
    return rows[[s.CODE, s.GEOMETRY]].reset_index(drop=True)


def make_points(
    polygons: gpd.GeoDataFrame, n: int, seed: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Uniform over the bbox, Gaussian clusters, and a few refused or swapped points."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = polygons.total_bounds
    n_uniform = int(n * 0.6)
    lon = np.empty(n)
    lat = np.empty(n)
    lon[:n_uniform] = rng.uniform(minx, maxx, n_uniform)
    lat[:n_uniform] = rng.uniform(miny, maxy, n_uniform)
    centres = shapely.get_coordinates(
        shapely.point_on_surface(polygons.geometry.values[rng.choice(len(polygons), 40)])
    )
    which = rng.integers(0, len(centres), n - n_uniform)
    sigma_lon, sigma_lat = 400 / 90_000, 400 / 110_574
    lon[n_uniform:] = centres[which, 0] + rng.normal(0, sigma_lon, n - n_uniform)
    lat[n_uniform:] = centres[which, 1] + rng.normal(0, sigma_lat, n - n_uniform)
    order = rng.permutation(n)
    lon, lat = lon[order], lat[order]
    special = rng.choice(n, size=min(n, 4 * max(1, n // 1000)), replace=False)
    quarter = len(special) // 4
    lon[special[:quarter]] = np.nan
    lon[special[quarter : 2 * quarter]] = 0.0
    lat[special[quarter : 2 * quarter]] = 0.0
    lon[special[2 * quarter : 3 * quarter]] = PLACEHOLDERS[0][0]
    lat[special[2 * quarter : 3 * quarter]] = PLACEHOLDERS[0][1]
    swap = special[3 * quarter :]
    lon[swap], lat[swap] = lat[swap].copy(), lon[swap].copy()
    return lon, lat


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def warm_up(
    index: BoundaryIndex,
    polygons: gpd.GeoDataFrame,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
) -> None:
    """Run every method once on a few points, so that no timing pays first-call costs."""
    assign_points(index, lon=lon, lat=lat, placeholders=PLACEHOLDERS)
    shapely.STRtree(polygons.geometry.values).query(shapely.points(lon, lat), predicate="within")
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    gpd.sjoin(points, polygons, predicate="within")


def memory_probe(n: int, seed: int, cell_m: float) -> dict[str, Any]:
    """Run our method alone in this (fresh) process and report its peak RSS."""
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    frame, _ = load_polygons()
    lon, lat = make_points(finest(frame), n, seed)
    data_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index = BoundaryIndex.from_boundaries(frame, cell_m=cell_m)
    result = assign_points(
        index, lon=lon, lat=lat, snap_tolerance_m=SNAP_TOLERANCE_M, placeholders=PLACEHOLDERS
    )
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rows": len(result),
        "peak_rss_mb": peak_kib / 1024,
        "rss_after_imports_mb": before_kib / 1024,
        "rss_after_points_mb": data_kib / 1024,
        "index_mb": index.nbytes / 1e6,
    }


def exactness(
    ours: pd.DataFrame,
    index: BoundaryIndex,
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    point_idx: npt.NDArray[np.int64],
    poly_codes: npt.NDArray[np.object_],
) -> dict[str, int]:
    """Compare with the sjoin pairs (point_idx, code) on every point."""
    n = len(ours)
    matches = np.bincount(point_idx, minlength=n)
    code = ours[s.LEVEL_CODE_COLUMN[index.level]].astype(object).to_numpy()
    precision = ours[s.GEOCODE_PRECISION].astype(object).to_numpy()
    single = matches == 1
    sj_code = np.full(n, None, dtype=object)
    one_pairs = single[point_idx]
    sj_code[point_idx[one_pairs]] = poly_codes[one_pairs]
    # Refused by design (placeholders, which may lie inside the city) are left out.
    refused = ours["reason"].isin(INVALID_REASONS).to_numpy()
    single &= ~refused
    agree = single & (precision == "point") & (code == sj_code)
    # Overlaps: several sjoin matches; the tie rule picks the smallest code among them.
    rank = dict(zip(index.codes, code_order(list(index.codes)), strict=True))
    multi = np.flatnonzero(matches > 1)
    overlap_ok = 0
    if len(multi):
        pairs = pd.DataFrame({"p": point_idx, "r": [rank[c] for c in poly_codes]})
        best = pairs[np.isin(pairs["p"], multi)].groupby("p")["r"].min()
        expected = index.codes[np.argsort(code_order(list(index.codes)))][best.to_numpy()]
        overlap_ok = int((code[best.index.to_numpy()] == expected).sum())
    # Borders: no sjoin match (not strictly inside) but assigned as inside; must be covered.
    border = np.flatnonzero((matches == 0) & (precision == "point"))
    covered = 0
    if len(border):
        number = {c: i for i, c in enumerate(index.codes)}
        polys = index.polygons[[number[c] for c in code[border]]]
        covered = int(shapely.intersects_xy(polys, lon[border], lat[border]).sum())
    return {
        "points_one_sjoin_match": int(single.sum()),
        "agree_one_match": int(agree.sum()),
        "disagree_one_match": int(single.sum() - agree.sum()),
        "points_several_matches_overlap": len(multi),
        "overlap_tie_rule_ok": overlap_ok,
        "border_points_no_within_match_assigned": len(border),
        "border_points_covered_by_assigned_polygon": covered,
        "points_no_sjoin_match": int((matches == 0).sum()),
        "refused_by_design": int(refused.sum()),
    }


def run(n: int, seed: int, cell_m: float) -> dict[str, Any]:
    frame, label = load_polygons()
    polygons = finest(frame)
    lon, lat = make_points(polygons, n, seed)
    print(f"{n:,} points over {len(polygons)} polygons: {label}", file=sys.stderr)

    index, build_s = timed(BoundaryIndex.from_boundaries, frame, cell_m=cell_m)
    warm_up(index, polygons, lon[:10_000], lat[:10_000])
    ours, ours_s = timed(
        assign_points,
        index,
        lon=lon,
        lat=lat,
        snap_tolerance_m=SNAP_TOLERANCE_M,
        placeholders=PLACEHOLDERS,
    )
    _, ours_nosnap_s = timed(
        assign_points, index, lon=lon, lat=lat, snap_tolerance_m=0.0, placeholders=PLACEHOLDERS
    )
    print(f"ours: build {build_s:.2f} s, assign {ours_s:.2f} s", file=sys.stderr)

    started = time.perf_counter()
    shp_points = shapely.points(lon, lat)
    tree = shapely.STRtree(polygons.geometry.values)
    tree_pairs = tree.query(shp_points, predicate="within")
    strtree_s = time.perf_counter() - started
    del shp_points, tree_pairs
    print(f"STRtree.query: {strtree_s:.2f} s", file=sys.stderr)

    started = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    points_s = time.perf_counter() - started
    joined, sjoin_s = timed(gpd.sjoin, points, polygons, predicate="within", how="inner")
    print(f"sjoin: points {points_s:.2f} s, join {sjoin_s:.2f} s", file=sys.stderr)
    point_idx = joined.index.to_numpy().astype(np.int64)
    poly_codes = joined[s.CODE].to_numpy(dtype=object)
    del joined, points

    check = exactness(ours, index, lon, lat, point_idx, poly_codes)
    counts = ours[s.GEOCODE_PRECISION].value_counts()
    reasons = ours["reason"].value_counts()
    sjoin_total_s = points_s + sjoin_s
    ratios = {
        "sjoin_vs_ours": sjoin_total_s / ours_s,
        "sjoin_join_only_vs_ours_incl_build": sjoin_s / (ours_s + build_s),
        "sjoin_vs_ours_snap_off": sjoin_total_s / ours_nosnap_s,
        "strtree_vs_ours": strtree_s / ours_s,
        "strtree_vs_ours_snap_off": strtree_s / ours_nosnap_s,
    }
    return {
        "points": n,
        "seed": seed,
        "polygons": len(polygons),
        "boundaries": label,
        "cell_m": cell_m,
        "index": {
            "build_s": build_s,
            "grid_shape": list(index.grid.shape),
            "crossed_cells": index.crossed_cells,
            "mb": index.nbytes / 1e6,
        },
        "seconds": {
            "ours": ours_s,
            "ours_snap_off": ours_nosnap_s,
            "ours_build": build_s,
            "strtree_query_incl_points": strtree_s,
            "sjoin_make_points": points_s,
            "sjoin_join": sjoin_s,
            "sjoin_total": sjoin_total_s,
        },
        "points_per_s": {
            "ours": n / ours_s,
            "ours_snap_off": n / ours_nosnap_s,
            "ours_incl_build": n / (ours_s + build_s),
            "strtree": n / strtree_s,
            "sjoin_total": n / sjoin_total_s,
            "sjoin_join_only": n / sjoin_s,
        },
        "ratios": ratios,
        "precision_counts": {str(k): int(v) for k, v in counts.items() if v},
        "reason_counts": {str(k): int(v) for k, v in reasons.items() if v},
        "exactness": check,
    }


def machine() -> str:
    cpus = os.cpu_count()
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python "
        f"{platform.python_version()}, shapely {shapely.__version__}, geopandas "
        f"{gpd.__version__}, numpy {np.__version__}"
    )


def table(result: dict[str, Any]) -> str:
    sec, pps = result["seconds"], result["points_per_s"]
    rows = [
        ("ours: assign_points (all checks, snapping 200 m)", sec["ours"], pps["ours"]),
        ("ours: assign_points, snapping off", sec["ours_snap_off"], pps["ours_snap_off"]),
        ("ours: index build (once)", sec["ours_build"], None),
        (
            "shapely STRtree.query(within), incl. points",
            sec["strtree_query_incl_points"],
            pps["strtree"],
        ),
        ("geopandas sjoin(within), incl. points frame", sec["sjoin_total"], pps["sjoin_total"]),
        ("geopandas sjoin(within), join only", sec["sjoin_join"], pps["sjoin_join_only"]),
    ]
    lines = ["| method | seconds | points/s |", "|---|---:|---:|"]
    for name, seconds, rate in rows:
        lines.append(f"| {name} | {seconds:.2f} | {'' if rate is None else f'{rate:,.0f}'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=137)
    parser.add_argument("--cell-m", type=float, default=DEFAULT_CELL_M)
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--memory-probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_probe:
        print(json.dumps(memory_probe(args.points, args.seed, args.cell_m)))
        return

    probe = subprocess.run(
        [
            sys.executable,
            __file__,
            "--memory-probe",
            f"--points={args.points}",
            f"--seed={args.seed}",
            f"--cell-m={args.cell_m}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    memory = json.loads(probe.stdout.strip().splitlines()[-1])
    result = run(args.points, args.seed, args.cell_m)
    result["memory"] = memory
    result["machine"] = machine()
    result["command"] = " ".join(["python", "bench/assign.py", *(argv or sys.argv[1:])])
    print(table(result))
    print(json.dumps(result, indent=2))
    if args.json_out:
        args.json_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
