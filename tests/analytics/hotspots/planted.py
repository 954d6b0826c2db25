"""A small planted-hotspot case generator for the hotspot tests (and the benchmark).

Background cases fall uniformly over the city (the union of the neighborhoods) in every
monthly slice; each planted hotspot adds cases uniformly inside a disc (``radius_m``) in the
slices its behaviour makes it active, with one category and one subcategory. Behaviours and
the emerging-hotspot pattern each must produce (ArcGIS definitions, see
``analytics.hotspots.emerging``):

persistent    every slice, constant intensity                      -> persistent
intensifying  every slice, intensity rising 1x -> 3x                -> intensifying
diminishing   every slice, intensity falling 3x -> 1x               -> diminishing
new           the final slice only                                 -> new
consecutive   the final three slices                               -> consecutive
sporadic      scattered slices with gaps (about a third of them)   -> sporadic

Centres are at least ``separation_m`` apart and at least ``edge_m`` inside the city.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from analytics.hotspots.grid import to_lonlat
from analytics.periods import day_start_utc, period_keys, start_day_of_keys
from geo.crs import METRIC_CRS
from ingest import schema as s

BEHAVIOURS: Final = (
    "persistent",
    "intensifying",
    "diminishing",
    "new",
    "consecutive",
    "sporadic",
)
#: The emerging-hotspot pattern each planted behaviour must be classified as.
EXPECTED_PATTERN: Final = {b: b for b in BEHAVIOURS}
CATEGORIES: Final = ("urban_services", "traffic", "environment")
SUBCATEGORIES: Final = ("waste", "asphalt", "lighting", "trees", "noise")


@dataclass(frozen=True)
class Planted:
    """Cases with planted hotspots and the truth.

    Attributes
    ----------
    cases : pandas.DataFrame
        ``case_id``, ``lon``, ``lat``, ``category``, ``subcategory``, ``created_at``,
        ``neighborhood_code``, ``hotspot_id`` (-1 for background).
    truth : pandas.DataFrame
        One row per hotspot: ``hotspot_id``, ``behaviour``, ``x_m``, ``y_m``, ``lon``,
        ``lat``, ``radius_m``, ``category``, ``subcategory``, ``active`` (slice indexes),
        ``per_slice`` (cases per slice).
    boundaries : geopandas.GeoDataFrame
        The neighborhoods used.
    n_slices : int
        Months in the period.
    """

    cases: pd.DataFrame
    truth: pd.DataFrame
    boundaries: gpd.GeoDataFrame
    n_slices: int

    def discs(self) -> gpd.GeoSeries:
        """The planted discs, EPSG:32639, aligned with ``truth``."""
        centres = shapely.points(self.truth["x_m"].to_numpy(), self.truth["y_m"].to_numpy())
        return gpd.GeoSeries(
            shapely.buffer(centres, self.truth["radius_m"].to_numpy()), crs=METRIC_CRS
        )


def intensity(behaviour: str, n_slices: int, rng: np.random.Generator) -> np.ndarray:
    """Relative intensity per slice (0 when inactive)."""
    u = np.linspace(0.0, 1.0, n_slices)
    if behaviour == "persistent":
        return np.ones(n_slices)
    if behaviour == "intensifying":
        return 1.0 + 2.0 * u
    if behaviour == "diminishing":
        return 3.0 - 2.0 * u
    out = np.zeros(n_slices)
    if behaviour == "new":
        out[-1] = 2.0
    elif behaviour == "consecutive":
        out[-3:] = 1.5
    elif behaviour == "sporadic":
        # every third slice from a random offset, never two in a row, some in the middle
        start = int(rng.integers(0, 3))
        out[start::3] = 1.5
    else:
        msg = f"unknown behaviour {behaviour!r}"
        raise ValueError(msg)
    return out


def planted_cases(
    boundaries: gpd.GeoDataFrame,
    *,
    n_slices: int = 12,
    background_per_slice: int = 3000,
    per_slice: int = 60,
    radius_m: float = 250.0,
    per_behaviour: int = 2,
    behaviours: tuple[str, ...] = BEHAVIOURS,
    separation_m: float = 3500.0,
    edge_m: float = 1500.0,
    start: str = "2024-03-25",
    equal_totals: bool = False,
    seed: int = 0,
) -> Planted:
    """Generate background cases and planted hotspots over the neighborhoods of ``boundaries``.

    With ``equal_totals`` every hotspot has ``per_slice * n_slices`` cases over the period,
    spread over its active slices in proportion to its intensity (a one-month hotspot is as
    strong over the year as a persistent one): the scenario for whole-period hotspot
    detection, where Gi* compares all hotspots against one variance.
    """
    rng = np.random.default_rng(seed)
    hoods = (
        boundaries.loc[boundaries[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
        if s.LEVEL in boundaries
        else boundaries
    )
    hoods_m = hoods.to_crs(METRIC_CRS)
    city = shapely.union_all(hoods_m.geometry.to_numpy())
    inner = shapely.buffer(city, -edge_m)
    shapely.prepare(city)
    shapely.prepare(inner)

    kinds = [b for b in behaviours for _ in range(per_behaviour)]
    centres: list[tuple[float, float]] = []
    while len(centres) < len(kinds):
        xy = _uniform_in(inner, 1, rng)[0]
        if all(np.hypot(xy[0] - cx, xy[1] - cy) >= separation_m for cx, cy in centres):
            centres.append((float(xy[0]), float(xy[1])))
    first_key = int(period_keys(pd.Series(pd.to_datetime([start], utc=True)), "M", "jalali")[0])
    starts_days = start_day_of_keys(np.arange(first_key, first_key + n_slices + 1), "M", "jalali")
    starts_ns = day_start_utc(starts_days)

    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    slices: list[np.ndarray] = []
    hot_ids: list[np.ndarray] = []
    cats: list[np.ndarray] = []
    subs: list[np.ndarray] = []
    truth_rows = []
    for k in range(n_slices):
        xy = _uniform_in(city, background_per_slice, rng)
        xs.append(xy[:, 0])
        ys.append(xy[:, 1])
        slices.append(np.full(len(xy), k))
        hot_ids.append(np.full(len(xy), -1))
        cats.append(rng.choice(CATEGORIES, size=len(xy)))
        subs.append(rng.choice(SUBCATEGORIES, size=len(xy)))
    for h, (kind, (cx, cy)) in enumerate(zip(kinds, centres, strict=True)):
        level = intensity(kind, n_slices, rng)
        if equal_totals:
            level = level / level.sum() * n_slices
        counts = np.rint(level * per_slice).astype(int)
        category = CATEGORIES[h % len(CATEGORIES)]
        sub = SUBCATEGORIES[h % len(SUBCATEGORIES)]
        for active in np.flatnonzero(counts).tolist():
            n = int(counts[active])
            r = radius_m * np.sqrt(rng.random(n))
            a = rng.uniform(0, 2 * np.pi, n)
            xs.append(cx + r * np.cos(a))
            ys.append(cy + r * np.sin(a))
            slices.append(np.full(n, active))
            hot_ids.append(np.full(n, h))
            cats.append(np.full(n, category))
            subs.append(np.full(n, sub))
        lon, lat = to_lonlat(np.array([cx]), np.array([cy]))
        truth_rows.append(
            {
                "hotspot_id": h,
                "behaviour": kind,
                "x_m": cx,
                "y_m": cy,
                "lon": float(lon[0]),
                "lat": float(lat[0]),
                "radius_m": radius_m,
                s.CATEGORY: category,
                s.SUBCATEGORY: sub,
                "active": tuple(int(i) for i in np.flatnonzero(counts)),
                "per_slice": tuple(int(c) for c in counts),
            }
        )
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    slice_of = np.concatenate(slices)
    lo, hi = starts_ns[slice_of], starts_ns[slice_of + 1]
    at = lo + (rng.random(len(slice_of)) * (hi - lo - 1)).astype(np.int64)
    lon, lat = to_lonlat(x, y)
    tree = shapely.STRtree(hoods_m.geometry.to_numpy())
    pt_idx, hood_idx = tree.query(shapely.points(x, y), predicate="intersects")
    codes = np.full(len(x), None, dtype=object)
    codes[pt_idx] = hoods_m[s.CODE].to_numpy()[hood_idx]
    cases = pd.DataFrame(
        {
            s.CASE_ID: [f"p{i}" for i in range(len(x))],
            s.LON: lon,
            s.LAT: lat,
            s.CATEGORY: np.concatenate(cats),
            s.SUBCATEGORY: np.concatenate(subs),
            s.CREATED_AT: pd.to_datetime(at, utc=True),
            s.NEIGHBORHOOD_CODE: pd.array(codes, dtype="string"),
            "hotspot_id": np.concatenate(hot_ids),
        }
    )
    return Planted(cases, pd.DataFrame(truth_rows), boundaries, n_slices)


def _uniform_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = shapely.bounds(polygon)
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(2 * n + 16, 2))
        keep = xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]
        found.append(keep)
        count += len(keep)
    return np.concatenate(found)[:n]


def match_scores(
    reported: gpd.GeoSeries, planted: Planted, truth: pd.DataFrame | None = None
) -> tuple[float, float]:
    """Return (share of planted hotspots found, share of reported hotspots that are planted).

    A planted hotspot is found when a reported outline intersects its disc; a reported
    outline matches when it intersects some planted disc.
    """
    truth = planted.truth if truth is None else truth
    centres = shapely.points(truth["x_m"].to_numpy(), truth["y_m"].to_numpy())
    discs = shapely.buffer(centres, truth["radius_m"].to_numpy())
    geoms = reported.to_crs(METRIC_CRS).to_numpy()
    if len(geoms) == 0:
        return 0.0, 0.0
    hit = shapely.intersects(geoms[:, None], discs[None, :])
    recall = float(hit.any(axis=0).mean()) if len(discs) else 1.0
    precision = float(hit.any(axis=1).mean())
    return recall, precision
