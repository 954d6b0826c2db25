"""Fast synthetic cases in the canonical case model, for tests and benchmarks.

:func:`random_cases` draws every column with NumPy (no Python loop over rows): points lie
inside the neighborhoods of a boundary layer (the synthetic geography by default) and the
area codes are those of the neighborhood drawn; timestamps follow a plausible lifecycle;
some values are missing; descriptions, addresses and units are Persian text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from geo.crs import STORAGE_CRS
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s

TAXONOMY: Final = (
    ("urban_services", "waste"),
    ("urban_services", "street_cleaning"),
    ("urban_services", "green_space"),
    ("traffic", "road_damage"),
    ("traffic", "signals"),
    ("traffic", "parking"),
    ("construction", "illegal_building"),
    ("construction", "excavation"),
    ("social", "homeless"),
    ("social", "stray_animals"),
    ("environment", "noise"),
    ("environment", "air_pollution"),
    ("water", "flooding"),
    ("lighting", "street_lights"),
)
SUBJECTS: Final = (
    "تجمع زباله",
    "چاله\u200cهای خیابان",
    "خرابی چراغ راهنمایی",
    "سروصدای کارگاه",
    "آب\u200cگرفتگی معبر",
    "قطع درختان",
    "ساخت\u200cوساز غیرمجاز",
    "خاموشی چراغ\u200cهای معبر",
    "سگ\u200cهای ولگرد",
    "پارک دوبله",
)
PLACES: Final = (
    "خیابان ولیعصر",
    "میدان تجریش",
    "بزرگراه همت",
    "کوچه بهار",
    "خیابان انقلاب",
    "پارک ملت",
)
UNITS_EXTRA: Final = (
    "سازمان مدیریت پسماند",
    "سازمان حمل\u200cونقل و ترافیک",
    "سازمان بوستان\u200cها",
)
CHANNEL_P: Final = (0.55, 0.15, 0.2, 0.04, 0.02, 0.03, 0.01)
KIND_P: Final = (0.6, 0.2, 0.05, 0.02, 0.01, 0.04, 0.05, 0.03)
STATUS_P: Final = (0.05, 0.1, 0.1, 0.1, 0.5, 0.05, 0.05, 0.05)


@lru_cache(maxsize=2)
def _default_boundaries() -> gpd.GeoDataFrame:
    return synthetic_boundaries()


def _point_pool(polygons: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``size`` random points inside each polygon, shape (polygons, size, 2)."""
    pool = np.empty((len(polygons), size, 2))
    for i, polygon in enumerate(polygons):  # one iteration per polygon, not per case
        minx, miny, maxx, maxy = polygon.bounds
        found = np.empty((0, 2))
        while len(found) < size:
            xy = rng.uniform((minx, miny), (maxx, maxy), size=(3 * size + 8, 2))
            found = np.concatenate([found, xy[shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])]])
        pool[i] = found[:size]
    return pool


def _codes(parent: pd.Series, levels: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Map each neighborhood code to (district code, region code) through parent codes."""
    hoods = levels[levels == s.LEVEL_NEIGHBORHOOD].index
    districts = set(levels[levels == s.LEVEL_DISTRICT].index)
    district = pd.Series(
        [parent[h] if parent[h] in districts else None for h in hoods], index=hoods, dtype=object
    )
    region = pd.Series(
        [parent[d] if d is not None else parent[h] for h, d in zip(hoods, district, strict=True)],
        index=hoods,
        dtype=object,
    )
    return district, region


def _sorted_categorical(
    values: np.ndarray, labels: list[str], missing: np.ndarray
) -> pd.Categorical:
    """Categorical of ``labels[values]`` with sorted categories and -1 where ``missing``."""
    order = np.argsort(np.array(labels, dtype=object))
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels))
    codes = np.where(missing, -1, rank[values])
    return _from_codes(codes, categories=[labels[i] for i in order])


def _from_codes(codes: object, categories: object) -> pd.Categorical:
    """``pd.Categorical.from_codes`` for NumPy codes (the stubs want sequences)."""
    return pd.Categorical.from_codes(codes, categories=categories)  # type: ignore[arg-type]


def _ids(prefix: str, n: int) -> np.ndarray:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(n)), pa.string()), width=9, padding="0")
    joined = pc.binary_join_element_wise(prefix, digits, "")
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def _timestamps(micros: np.ndarray, missing: np.ndarray) -> pd.Series:
    values = pd.to_datetime(micros, unit="us", utc=True).astype("datetime64[ns, UTC]")
    return pd.Series(values).where(~missing)


def random_cases(
    n: int,
    *,
    seed: int,
    boundaries: gpd.GeoDataFrame | None = None,
    months: int = 12,
    start: str = "2023-01-01",
    source: str = "synthetic",
    id_prefix: str = "C",
) -> gpd.GeoDataFrame:
    """Return ``n`` random cases in the canonical case model.

    Parameters
    ----------
    n : int
        Number of cases.
    seed : int
        Seed of the random generator: the same arguments give the same frame.
    boundaries : geopandas.GeoDataFrame, optional
        A boundary layer in the boundary model; the synthetic geography by default.
    months : int, default 12
        Cases are created uniformly over this many months from ``start`` (UTC).
    start : str, default "2023-01-01"
        First instant (UTC) of the creation window.
    source : str, default "synthetic"
        Value of the ``source`` column.
    id_prefix : str, default "C"
        Prefix of the case ids ``<prefix><9 digits>``; batches with different prefixes
        do not share ids.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of :data:`ingest.schema.CASE_COLUMNS` plus ``geometry``, in EPSG:4326.
    """
    rng = np.random.default_rng(seed)
    layer = _default_boundaries() if boundaries is None else boundaries
    hood_rows = layer[layer[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    codes = list(hood_rows[s.CODE].astype(str))
    levels = pd.Series(list(layer[s.LEVEL]), index=list(layer[s.CODE].astype(str)))
    parents = pd.Series(list(layer[s.PARENT_CODE]), index=list(layer[s.CODE].astype(str)))
    district_of, region_of = _codes(parents, levels)
    weights = hood_rows[s.POPULATION].astype("float64").fillna(1.0).to_numpy() + 1.0
    hood = rng.choice(len(codes), size=n, p=weights / weights.sum())
    pool_size = int(np.clip(n // max(len(codes), 1) + 1, 8, 512))
    pool = _point_pool(hood_rows.geometry.to_numpy(), pool_size, rng)
    xy = pool[hood, rng.integers(0, pool_size, size=n)]

    precision_draw = rng.random(n)
    no_point = precision_draw < 0.03
    no_area = precision_draw < 0.01
    lon = np.where(no_point, np.nan, xy[:, 0])
    lat = np.where(no_point, np.nan, xy[:, 1])
    precision = np.select(
        [no_area, no_point, precision_draw > 0.97],
        [
            s.GEOCODE_PRECISIONS.index("none"),
            s.GEOCODE_PRECISIONS.index("address"),
            s.GEOCODE_PRECISIONS.index("snapped"),
        ],
        s.GEOCODE_PRECISIONS.index("point"),
    )

    t0 = pd.Timestamp(start, tz="UTC")
    t1 = t0 + pd.DateOffset(months=months)
    span_us = (t1 - t0) // pd.Timedelta(microseconds=1)
    created = t0.value // 1000 + rng.integers(0, span_us, size=n)
    status = rng.choice(len(s.STATUSES), size=n, p=STATUS_P)
    name = np.array(s.STATUSES)[status]
    hour = 3_600_000_000
    referred = created + rng.exponential(2 * hour, n).astype(np.int64)
    responded = created + rng.exponential(24 * hour, n).astype(np.int64)
    closed = responded + rng.exponential(48 * hour, n).astype(np.int64)
    due = created + np.where(rng.random(n) < 0.5, 72, 168) * hour
    is_closed = np.isin(name, s.TERMINAL_STATUSES)
    has_response = is_closed | np.isin(name, ("answered", "reopened", "in_progress"))
    has_response &= rng.random(n) > 0.05

    feedback_codes = np.where(
        is_closed, rng.choice(len(s.FEEDBACKS), size=n, p=(0.6, 0.15, 0.25)), -1
    )
    satisfaction = pd.array(rng.integers(1, 6, size=n), dtype="Int8")
    satisfaction[~(is_closed & (rng.random(n) < 0.4))] = pd.NA
    reopen = np.where(name == "reopened", rng.integers(1, 4, size=n), 0)
    reopen = np.where(rng.random(n) < 0.03, reopen + 1, reopen)

    taxonomy = rng.integers(0, len(TAXONOMY), size=n)
    categories = sorted({c for c, _ in TAXONOMY})
    category_codes = np.array([categories.index(c) for c, _ in TAXONOMY])[taxonomy]
    subcategories = sorted({sc for _, sc in TAXONOMY})
    sub_codes = np.array([subcategories.index(sc) for _, sc in TAXONOMY])[taxonomy]
    sub_missing = rng.random(n) < 0.05

    regions = sorted(set(region_of), key=str)
    unit_labels = [f"شهرداری منطقه {r}" for r in regions] + list(UNITS_EXTRA)
    region_index = {r: i for i, r in enumerate(regions)}
    hood_region = np.array([region_index[region_of[c]] for c in codes])
    unit_choice = np.where(
        rng.random(n) < 0.85, hood_region[hood], len(regions) + rng.integers(0, len(UNITS_EXTRA), n)
    )

    descriptions = [f"{subject} در {place}" for subject in SUBJECTS for place in PLACES]
    description = np.array(descriptions, dtype=object)[rng.integers(0, len(descriptions), n)]
    description[rng.random(n) < 0.05] = None
    addresses = [f"{place}، کوچه {k}" for place in PLACES for k in range(1, 41)]
    address = np.array(addresses, dtype=object)[rng.integers(0, len(addresses), n)]
    address[rng.random(n) < 0.1] = None
    citizens = max(1, min(n // 3 + 1, 200_000))
    keys = rng.integers(0, 2**63 - 1, size=citizens, dtype=np.int64)
    citizen_pool = np.array([f"{k:016x}" for k in keys], dtype=object)
    citizen_key = citizen_pool[rng.integers(0, citizens, size=n)]
    citizen_key[rng.random(n) < 0.02] = None

    case_id = _ids(id_prefix, n)
    duplicate_of = np.full(n, None, dtype=object)
    dup = np.flatnonzero((name == "duplicate") & (np.arange(n) > 0))
    duplicate_of[dup] = case_id[rng.integers(0, np.maximum(dup, 1))]

    district_codes = district_of.reindex(codes).to_numpy()
    district_labels = sorted({d for d in district_codes if d is not None})
    district_index = np.array(
        [district_labels.index(d) if d is not None else -1 for d in district_codes], dtype=np.int64
    )

    frame = pd.DataFrame(
        {
            s.CASE_ID: case_id,
            s.SOURCE: np.full(n, source, dtype=object),
            s.CHANNEL: _from_codes(rng.choice(len(s.CHANNELS), size=n, p=CHANNEL_P), s.CHANNELS),
            s.KIND: _from_codes(rng.choice(len(s.KINDS), size=n, p=KIND_P), s.KINDS),
            s.CATEGORY: _from_codes(category_codes, categories),
            s.SUBCATEGORY: _from_codes(np.where(sub_missing, -1, sub_codes), subcategories),
            s.DESCRIPTION: description,
            s.UNIT: _sorted_categorical(unit_choice, unit_labels, np.zeros(n, dtype=bool)),
            s.CREATED_AT: _timestamps(created, np.zeros(n, dtype=bool)),
            s.REFERRED_AT: _timestamps(referred, name == "registered"),
            s.FIRST_RESPONSE_AT: _timestamps(responded, ~has_response),
            s.CLOSED_AT: _timestamps(closed, ~is_closed),
            s.DUE_AT: _timestamps(due, rng.random(n) < 0.1),
            s.STATUS: _from_codes(status, s.STATUSES),
            s.CITIZEN_FEEDBACK: _from_codes(feedback_codes, s.FEEDBACKS),
            s.SATISFACTION: satisfaction,
            s.REOPEN_COUNT: pd.array(reopen, dtype="Int16"),
            s.CITIZEN_KEY: citizen_key,
            s.LON: lon,
            s.LAT: lat,
            s.ADDRESS: address,
            s.GEOCODE_PRECISION: _from_codes(precision, s.GEOCODE_PRECISIONS),
            s.NEIGHBORHOOD_CODE: _sorted_categorical(hood, codes, no_area),
            s.DISTRICT_CODE: _from_codes(
                np.where(no_area, -1, district_index[hood]), district_labels
            ),
            s.REGION_CODE: _sorted_categorical(hood_region[hood], regions, no_area),
            s.DUPLICATE_OF: duplicate_of,
        }
    )
    geometry = np.asarray(shapely.points(lon, lat), dtype=object)
    geometry[no_point] = None
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=STORAGE_CRS)
