"""Benchmark: geocoding 2,000 noisy Persian addresses to neighborhoods.

Addresses are generated over the real Tehran neighborhoods (``$T137_SHARED_DATA/tehran``,
default ``/work/shared/data/tehran``), else over the labelled synthetic geography, with the
noise of :class:`ingest.synthetic.addresses.AddressNoise` (typos, Arabic letters,
abbreviations, missing words, compound names cut, Persian or Latin digits, another order).

Goals (issue 4): at least 90% of addresses get the right neighborhood, and at most 2% get
a wrong one with a score at or above the acceptance threshold. The baseline is an exact
match: the address's match key contains exactly one neighborhood's name.

Usage::

    .venv/bin/python bench/geocode.py            # 2,000 addresses, seed 7
    .venv/bin/python bench/geocode.py --n 5000 --seed 1

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo.address import compact, match_key
from geo.gazetteer import Gazetteer, build_gazetteer
from geo.geocode import ACCEPT_SCORE, SCORE, geocode_addresses
from ingest import schema as s
from ingest.synthetic.addresses import noisy_addresses
from ingest.synthetic.space import default_boundaries


def exact_baseline(addresses: pd.Series, gazetteer: Gazetteer) -> np.ndarray:
    """Neighborhood code when exactly one neighborhood's whole name is in the address."""
    names = gazetteer.names[gazetteer.names["is_alias"] == False]  # noqa: E712
    keys = list(zip(names["key"], names[s.CODE], strict=True))
    out = np.full(len(addresses), None, dtype=object)
    for i, text in enumerate(addresses):
        key = compact(match_key(text))
        found = {code for name, code in keys if len(name) >= 3 and name in key}
        if len(found) == 1:
            out[i] = found.pop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    boundaries, synthetic = default_boundaries()
    gazetteer = build_gazetteer(boundaries)
    areas = gazetteer.areas
    hoods = areas[areas[s.LEVEL] == s.LEVEL_NEIGHBORHOOD].rename_axis(s.CODE).reset_index()
    truth = noisy_addresses(hoods, args.n, seed=args.seed)

    started = time.perf_counter()
    result = geocode_addresses(truth[s.ADDRESS], gazetteer)
    seconds = time.perf_counter() - started

    expected = truth[s.NEIGHBORHOOD_CODE].to_numpy(dtype=object)
    got = result[s.NEIGHBORHOOD_CODE].astype(object).where(result[s.NEIGHBORHOOD_CODE].notna())
    got_arr = got.to_numpy(dtype=object)
    right = np.array([g == e for g, e in zip(got_arr, expected, strict=True)])
    accepted = (result[SCORE] >= ACCEPT_SCORE).to_numpy()
    has_code = result[s.NEIGHBORHOOD_CODE].notna().to_numpy()
    wrong_accepted = has_code & ~right & accepted
    baseline = exact_baseline(truth[s.ADDRESS], gazetteer)
    baseline_right = float(np.mean([b == e for b, e in zip(baseline, expected, strict=True)]))
    baseline_wrong = float(
        np.mean([b is not None and b != e for b, e in zip(baseline, expected, strict=True)])
    )
    report = {
        "geography": "synthetic" if synthetic else "tehran",
        "addresses": args.n,
        "seed": args.seed,
        "accept_score": ACCEPT_SCORE,
        "right_neighborhood_share": round(float(right.mean()), 4),
        "wrong_above_threshold_share": round(float(wrong_accepted.mean()), 4),
        "addresses_naming_their_neighborhood": round(float(truth["names_hood"].mean()), 4),
        "precision_counts": result[s.GEOCODE_PRECISION].value_counts().to_dict(),
        "seconds": round(seconds, 2),
        "addresses_per_second": round(args.n / seconds, 1),
        "baseline_exact_right_share": round(baseline_right, 4),
        "baseline_exact_wrong_share": round(baseline_wrong, 4),
        "right_ratio_vs_baseline": round(float(right.mean()) / max(baseline_right, 1e-9), 2),
        "goal_right_share": 0.90,
        "goal_wrong_share": 0.02,
        "goals_met": bool(right.mean() >= 0.90 and wrong_accepted.mean() <= 0.02),
    }
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
