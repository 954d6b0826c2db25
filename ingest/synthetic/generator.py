"""Generate a synthetic 137 export and its ground truth, vectorized (no loop over cases).

:func:`generate_137` draws the cases; :func:`write_137` writes the export CSV in the
default 137 layout (:mod:`ingest.synthetic.export_format`) and the ground truth as
Parquet: ``<stem>.truth.parquet`` (one row per data line), ``<stem>.hotspots.parquet``
and ``<stem>.units.parquet``.

What the cases look like, and why, is documented in :mod:`~ingest.synthetic.patterns`
(subjects, seasons, week, day), :mod:`~ingest.synthetic.space` (neighborhoods, hotspots),
:mod:`~ingest.synthetic.lifecycle` (units, timings, verdicts) and
:mod:`~ingest.synthetic.dirty` (malformed rows). Besides those:

* 6% of cases belong to planted hotspots, 3% are duplicate reports of an earlier case
  (within 40 m and 10 minutes to 48 hours later; 30% of them closed by the operator as
  "duplicate", the rest not recognized);
* coordinates are given for 90% of app, web and social-media cases and 35% of the others;
  the rest have the operator-typed address only (5% of the cases with coordinates have no
  address);
* 85% of dates are written ``1401/07/15 14:30``, 10% in Persian digits and 5%
  ``1401-07-15 14:30:05``; the whole row uses one spelling;
* phone numbers (``09120xxxxxx``) and national ids (``00xxxxxxxx``) are fake and clear,
  for the reader to hash; about a third of the citizens report more than once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from geo.errors import InputError
from ingest import schema as s
from ingest.dates import local_to_utc_seconds

from . import lifecycle as lc
from .addresses import address_pool
from .dirty import DirtyPlan, corrupt
from .export_format import (
    CHANNEL_LABELS,
    FIELDS,
    HEADERS,
    NATIONAL_ID,
    PHONE,
    SMS_CODES,
    SMS_VERDICT,
    STATUS_LABELS,
    format_jalali,
    taxonomy_labels,
)
from .patterns import (
    CHANNEL_SHARES,
    KIND_SHARES,
    SEASON_SNOW,
    SUBJECTS,
    build_calendar,
    hour_probabilities,
    jalali_month_start,
    subject_day_weights,
)
from .space import City, build_city, plant_hotspots, scatter_around

TZ: Final = "Asia/Tehran"
DAY_S: Final = 86_400
#: Truth columns besides the canonical ones.
LINE: Final = "line"
HOTSPOT_ID: Final = "hotspot_id"
HAS_POINT: Final = "has_point"
ADDRESS_NAMES_HOOD: Final = "address_names_hood"
EXPECTED_REASON: Final = "expected_reason"
EXPECTED_FLAG: Final = "expected_flag"
TRUE_LON: Final = "true_lon"
TRUE_LAT: Final = "true_lat"
#: Snow is mostly a northern problem: relative weight of regions for snow subjects.
SNOW_REGION_WEIGHT: Final = {"1": 8.0, "2": 2.0, "3": 2.0, "4": 2.0}
_COORD_CHANNELS: Final = frozenset({"app", "web", "social"})
_DESCRIPTIONS: Final = {
    "cleaning": ("کثیفی معبر و عدم رفت و روب", "نظافت کوچه انجام نشده است"),
    "garbage": ("تجمع زباله کنار خیابان", "زباله از دیروز جمع‌آوری نشده"),
    "debris": ("تخلیه نخاله ساختمانی در معبر", "رها شدن خاک و نخاله"),
    "tree_pruning": ("درخت نیاز به هرس دارد", "شاخه درخت روی سیم برق افتاده"),
    "snow": ("یخ‌زدگی معبر و نیاز به شن و نمک", "برف روبی کوچه انجام نشده"),
    "flooding": ("آبگرفتگی معبر پس از بارندگی", "جمع شدن آب در تقاطع"),
    "bin_odour": ("بوی بد مخزن زباله", "مخزن زباله شسته نشده"),
    "street_vendors": ("سد معبر دستفروشان در پیاده رو", "اشغال پیاده رو توسط مغازه"),
    "noise": ("سر و صدای کارگاه در شب", "مزاحمت صوتی"),
    "pests": ("مشاهده موش در جوی", "نیاز به سم پاشی"),
}
_DEFAULT_DESCRIPTION: Final = ("درخواست رسیدگی", "لطفا پیگیری شود")


@dataclass(frozen=True)
class SynthConfig:
    """What to generate.

    Attributes
    ----------
    cases : int
        Number of data rows (cases, including duplicates and dirty rows).
    start : str
        First Jalali day of the period, ``"1401-01-01"``.
    months : int
        Length of the period in Jalali months.
    seed : int
        Seed of the random generator: the same configuration gives the same files.
    dirty : float
        Fraction of rows to corrupt (0–1).
    hotspot_share, duplicate_share : float
        Fractions of cases in planted hotspots and of duplicate reports.
    hotspots_per_class : int
        Hotspots planted per class (persistent, new, intensifying, sporadic, diminishing).
    addresses_per_hood : int
        Distinct noisy address texts generated per neighborhood.
    """

    cases: int
    start: str = "1401-01-01"
    months: int = 12
    seed: int = 137
    dirty: float = 0.0
    hotspot_share: float = 0.06
    duplicate_share: float = 0.03
    hotspots_per_class: int = 2
    addresses_per_hood: int = 48


@dataclass(frozen=True)
class SyntheticExport:
    """A generated 137 export and its ground truth.

    Attributes
    ----------
    columns : dict of str to pyarrow.Array
        The export's cells as text, by field (:data:`export_format.FIELDS`); nulls are
        empty cells.
    truth : pandas.DataFrame
        One row per data row, in file order: ``line`` (1-based line in the file, the
        header is line 1), the canonical ``case_id``, ``kind``, ``category``,
        ``subcategory``, ``unit``, ``status``, ``created_at`` (UTC), true
        ``neighborhood_code``/``region_code``, ``true_lon``/``true_lat``, ``has_point``
        (the clean row had coordinates), ``address_names_hood`` (the address text names
        the true neighborhood), ``hotspot_id`` (nullable), ``duplicate_of`` (case id of
        the first report), ``expected_reason`` (quarantine reason code, null when kept)
        and ``expected_flag`` (null, ``swapped``, ``unknown_category`` or ``quick_close``).
    hotspots : pandas.DataFrame
        The planted hotspots (:func:`ingest.synthetic.space.plant_hotspots`) with the
        number of cases drawn in each (``cases``).
    units : pandas.DataFrame
        The responsible units with their speed factors (:func:`lifecycle.build_units`).
    malformed : numpy.ndarray
        Row indices the writer writes as malformed lines.
    synthetic_geography : bool
        True when the cases lie in the synthetic geography, not real Tehran.
    """

    columns: dict[str, pa.Array]
    truth: pd.DataFrame
    hotspots: pd.DataFrame
    units: pd.DataFrame
    malformed: np.ndarray
    synthetic_geography: bool
    config: SynthConfig = field(repr=False, default=SynthConfig(cases=0))

    def to_frame(self) -> pd.DataFrame:
        """Return the export as a DataFrame with the Persian headers (text cells)."""
        return pd.DataFrame(
            {HEADERS[f]: self.columns[f].to_pandas(types_mapper=pd.ArrowDtype) for f in FIELDS}
        )


def _period(config: SynthConfig, today: date | None) -> tuple[date, date]:
    if config.cases < 1:
        msg = f"--cases must be at least 1, not {config.cases}."
        raise InputError(msg)
    if config.months < 1:
        msg = f"--months must be at least 1, not {config.months}."
        raise InputError(msg)
    if not 0.0 <= config.dirty <= 0.5:
        msg = f"--dirty must be a fraction between 0 and 0.5, not {config.dirty}."
        raise InputError(msg)
    try:
        first, end = jalali_month_start(config.start, config.months)
    except (ValueError, TypeError) as exc:
        msg = f"--start {config.start!r} is not a Jalali date like 1401-01-01 ({exc})."
        raise InputError(msg) from None
    today = today or datetime.now().date()
    if end > today:
        msg = (
            f"The period {config.start} + {config.months} months ends on {end} (Gregorian), "
            f"after today ({today}); its cases would be quarantined as created in the "
            "future. Choose an earlier --start or fewer --months."
        )
        raise InputError(msg)
    return first, end


def _choice(p: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` indices with probabilities ``p`` (inverse CDF, fast for large ``n``)."""
    cdf = np.cumsum(p, dtype=np.float64)
    idx = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    out: np.ndarray = np.minimum(idx, len(p) - 1)
    return out


def _shares(mapping: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array(list(mapping), dtype=object)
    p = np.array(list(mapping.values()), dtype=np.float64)
    return keys, p / p.sum()


def _hood_probabilities(city: City, snow: bool) -> np.ndarray:
    w = city.hoods["weight"].to_numpy().copy()
    if snow:
        mult = city.hoods[s.REGION_CODE].map(SNOW_REGION_WEIGHT).fillna(0.5).to_numpy()
        w = w * mult
    out: np.ndarray = w / w.sum()
    return out


@dataclass
class _Draw:
    """Per-case arrays built up while generating (internal)."""

    subject: np.ndarray
    day: np.ndarray
    hood: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    hotspot: np.ndarray


def _draw_base(n: int, weights: np.ndarray, city: City, rng: np.random.Generator) -> _Draw:
    cell = _choice(weights.ravel(), n, rng)
    subject, day = np.divmod(cell, weights.shape[1])
    hood = np.empty(n, dtype=np.int64)
    snow_subjects = [i for i, x in enumerate(SUBJECTS) if x.season == SEASON_SNOW]
    is_snow = np.isin(subject, snow_subjects)
    for snow in (False, True):
        m = is_snow == snow
        hood[m] = _choice(_hood_probabilities(city, snow), int(m.sum()), rng)
    k = rng.integers(city.pool_lon.shape[1], size=n)
    return _Draw(
        subject=subject,
        day=day,
        hood=hood,
        lon=city.pool_lon[hood, k],
        lat=city.pool_lat[hood, k],
        hotspot=np.full(n, -1, dtype=np.int64),
    )


def _draw_hotspots(
    n: int,
    hotspots: pd.DataFrame,
    month_index: np.ndarray,
    day_weight: np.ndarray,
    city: City,
    rng: np.random.Generator,
) -> _Draw:
    n_months = int(month_index.max()) + 1
    intensity = np.array(hotspots["month_intensity"].tolist(), dtype=np.float64)
    days_in_month = np.bincount(month_index, weights=day_weight, minlength=n_months)
    cells = (intensity * days_in_month[None, :]).ravel()
    cell = _choice(cells / cells.sum(), n, rng)
    h, month = np.divmod(cell, n_months)
    # A day in the month, by the day weights (inverse CDF per month, vectorized).
    order = np.argsort(month_index, kind="stable")
    cdf = np.cumsum(day_weight[order])
    month_start = np.r_[0.0, np.bincount(month_index, weights=day_weight, minlength=n_months)]
    month_cum = np.cumsum(month_start)
    target = month_cum[month] + rng.random(n) * days_in_month[month]
    day = order[np.minimum(np.searchsorted(cdf, target, side="right"), len(cdf) - 1)]
    sub_code = {x.subcategory: i for i, x in enumerate(SUBJECTS)}
    subject = hotspots[s.SUBCATEGORY].map(sub_code).to_numpy(dtype=np.int64)[h]
    lon, lat = scatter_around(
        hotspots[s.LON].to_numpy()[h],
        hotspots[s.LAT].to_numpy()[h],
        hotspots["radius_m"].to_numpy()[h],
        rng,
    )
    hood = city.locate(lon=lon, lat=lat)
    outside = hood < 0
    if outside.any():
        lon[outside] = hotspots[s.LON].to_numpy()[h[outside]]
        lat[outside] = hotspots[s.LAT].to_numpy()[h[outside]]
        hood[outside] = city.locate(lon=lon[outside], lat=lat[outside])
    return _Draw(subject=subject, day=day, hood=hood, lon=lon, lat=lat, hotspot=h)


def _cat(*draws: _Draw) -> _Draw:
    return _Draw(
        **{k: np.concatenate([getattr(d, k) for d in draws]) for k in _Draw.__annotations__}
    )


def _avoid_dst_edges(local_s: np.ndarray) -> np.ndarray:
    """Move times that are skipped or repeated by a DST change one hour later."""
    _, ambiguous, nonexistent = local_to_utc_seconds(local_s, TZ)
    out: np.ndarray = np.where(ambiguous | nonexistent, local_s + 3_600, local_s)
    return out


def _digits(values: np.ndarray, width: int, prefix: str) -> pa.Array:
    text = pc.utf8_lpad(pc.cast(pa.array(values.astype(np.int64)), pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def _national_ids(serial: np.ndarray) -> np.ndarray:
    """Return fake but well-formed national ids ``00`` + 7-digit serial + check digit.

    The value returned is the last 8 digits (the leading ``00`` is written as a prefix).
    """
    digits = (serial[:, None] // 10 ** np.arange(6, -1, -1)) % 10
    weights = np.arange(8, 1, -1)  # the two leading zeros weigh 10 and 9
    remainder = (digits * weights).sum(axis=1) % 11
    check = np.where(remainder < 2, remainder, 11 - remainder)
    out: np.ndarray = serial * 10 + check
    return out


def _text(codes: np.ndarray, labels: list[str], keep: np.ndarray | None = None) -> pa.Array:
    """Return ``labels[codes]`` as an Arrow string array (null where ``keep`` is False)."""
    mask = None if keep is None else ~np.asarray(keep, dtype=bool)
    return pc.take(pa.array(labels, type=pa.string()), pa.array(codes, mask=mask))


def _categorical(codes: np.ndarray, labels: list[str] | tuple[str, ...]) -> pd.Categorical:
    values: Any = np.asarray(codes, dtype=np.int64)
    return pd.Categorical.from_codes(values, categories=pd.Index(list(labels)))


def _blank(arr: pa.Array, keep: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(keep), arr, pa.nulls(len(arr), pa.string()))


def _coordinate(values: np.ndarray, keep: np.ndarray) -> pa.Array:
    text = pc.cast(pa.array(np.round(values, 6)), pa.string())
    return _blank(text, keep)


def generate_137(
    config: SynthConfig,
    boundaries: gpd.GeoDataFrame | None = None,
    *,
    synthetic_geography: bool = False,
    today: date | None = None,
) -> SyntheticExport:
    """Draw a synthetic 137 export and its ground truth.

    Parameters
    ----------
    config : SynthConfig
        Size, period, seed and dirt.
    boundaries : geopandas.GeoDataFrame, optional
        The boundary model with a neighborhood level. By default the real Tehran layer
        when found (:func:`ingest.synthetic.space.default_boundaries`), else the synthetic
        geography.
    synthetic_geography : bool, default False
        Whether ``boundaries`` is the synthetic geography (recorded in the result).
    today : datetime.date, optional
        The date the period must end before (default: today).

    Returns
    -------
    SyntheticExport
        The export's cells, the truth per row, the hotspots and the units.

    Raises
    ------
    InputError
        When the configuration is invalid or the period is not over yet.

    Examples
    --------
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> geo = synthetic_boundaries(n_regions=4, n_neighborhoods=20, seed=3)
    >>> out = generate_137(SynthConfig(cases=500, months=2, dirty=0.05), geo)
    >>> len(out.truth), out.truth["expected_reason"].notna().sum() > 0
    (500, np.True_)
    """
    first, end = _period(config, today)
    if boundaries is None:
        from .space import default_boundaries

        boundaries, synthetic_geography = default_boundaries()
    rng = np.random.default_rng(config.seed)
    cal = build_calendar(first, end, rng)
    city = build_city(boundaries, rng, synthetic=synthetic_geography)
    kinds_fa, cats_fa, subs_fa = taxonomy_labels()
    subject_of = {x.subcategory: (x.category, x.subcategory) for x in SUBJECTS}
    hotspots = plant_hotspots(
        city, cal.month_labels, subject_of, rng, per_class=config.hotspots_per_class
    )

    n = config.cases
    n_dup = round(config.duplicate_share * n) if n >= 20 else 0
    n_hot = round(config.hotspot_share * n) if len(hotspots) and n >= 20 else 0
    n_base = n - n_dup - n_hot
    weights = subject_day_weights(cal)
    base = _draw_base(n_base, weights, city, rng)
    hot = _draw_hotspots(n_hot, hotspots, cal.month_index, cal.day_weight, city, rng)
    d = _cat(base, hot)
    m = n_base + n_hot

    first_s = int(np.datetime64(first, "s").astype(np.int64))
    as_of_s = int(np.datetime64(end, "s").astype(np.int64)) - 1
    hour = _choice(hour_probabilities(), m, rng)
    created = (first_s + d.day * DAY_S + hour * 3_600 + rng.integers(0, 3_600, size=m)).astype(
        np.int64
    )

    # Duplicate reports: the same problem reported again nearby, soon after.
    # Originals early enough for the repeat (and its closing) to fall inside the period.
    early = np.flatnonzero(created <= as_of_s - 3 * DAY_S)
    early = early if len(early) else np.arange(m)
    orig = early[rng.integers(len(early), size=n_dup)]
    dup_created = np.minimum(created[orig] + rng.integers(600, 48 * 3_600, size=n_dup), as_of_s)
    dup_lon, dup_lat = scatter_around(d.lon[orig], d.lat[orig], np.full(n_dup, 40.0), rng)
    dup_hood = city.locate(lon=dup_lon, lat=dup_lat)
    dup_hood = np.where(dup_hood < 0, d.hood[orig], dup_hood)
    d = _cat(
        d,
        _Draw(
            subject=d.subject[orig],
            day=d.day[orig],
            hood=dup_hood,
            lon=dup_lon,
            lat=dup_lat,
            hotspot=d.hotspot[orig],
        ),
    )
    created = _avoid_dst_edges(np.concatenate([created, dup_created]))
    dup_of = np.r_[np.full(m, -1, dtype=np.int64), orig]

    # File order is registration order; ids are the Jalali year and a sequence number.
    order = np.argsort(created, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    d = _Draw(**{k: getattr(d, k)[order] for k in _Draw.__annotations__})
    created = created[order]
    dup_of = np.where(dup_of[order] >= 0, rank[np.maximum(dup_of[order], 0)], -1)
    day_idx = np.clip((created - first_s) // DAY_S, 0, len(cal.days) - 1)
    case_id = cal.jalali_year[day_idx].astype(np.int64) * 10_000_000 + np.arange(1, n + 1)

    kind_keys, kind_p = _shares(KIND_SHARES)
    kind = _choice(kind_p, n, rng)
    is_dup = dup_of >= 0
    kind[is_dup] = kind[dup_of[is_dup]]
    chan_keys, chan_p = _shares(CHANNEL_SHARES)
    channel = _choice(chan_p, n, rng)
    chan_point = np.array([0.9 if c in _COORD_CHANNELS else 0.35 for c in chan_keys])
    has_point = rng.random(n) < chan_point[channel]
    categories = sorted({x.category for x in SUBJECTS})
    subcategories = [x.subcategory for x in SUBJECTS]
    subject_category = np.array([categories.index(x.category) for x in SUBJECTS])
    regions = city.regions
    region_pos = {r: i for i, r in enumerate(regions)}
    hood_region = city.hoods[s.REGION_CODE].map(region_pos).to_numpy(dtype=np.int64)
    region = hood_region[d.hood]

    units = lc.build_units(regions, rng)
    unit_idx = lc.assign_units(d.subject, subcategories, region, regions, units, rng)
    sla = lc.sla_hours([(x.category, x.subcategory) for x in SUBJECTS])[d.subject]
    life = lc.simulate(created, sla, units[lc.SPEED].to_numpy()[unit_idx], as_of_s, rng)
    status = life.status.copy()
    closed_s = life.closed_s.copy()
    feedback = life.feedback.copy()
    satisfaction = life.satisfaction.copy()
    reopen = life.reopen_count.copy()
    marked = is_dup & (rng.random(n) < 0.3)
    closed_s[marked] = np.minimum(
        created[marked] + rng.integers(2, 24, marked.sum()) * 3_600, as_of_s
    )
    first_resp = np.where(marked, closed_s, life.first_response_s)
    referred = np.where(marked, created + 600, life.referred_s)
    referred = np.where(marked, np.minimum(referred, closed_s), referred)
    referred, first_resp, closed_s, due_s = (
        np.where(x >= 0, _avoid_dst_edges(x), x)
        for x in (referred, first_resp, closed_s, life.due_s)
    )
    status[marked] = s.STATUSES.index("duplicate")
    feedback[marked] = 0
    satisfaction[marked] = 0
    reopen[marked] = 0
    quick = life.quick_close & ~marked

    # Addresses and citizens.
    per_hood = config.addresses_per_hood
    texts, named = address_pool(city.hoods, per_hood, seed=rng)
    pick = d.hood * per_hood + rng.integers(per_hood, size=n)
    names_hood = named.ravel()[pick]
    has_address = ~has_point | (rng.random(n) >= 0.05)
    n_citizens = max(10, n // 3)
    citizen = np.floor(n_citizens * rng.random(n) ** 2).astype(np.int64)
    # Bijective scrambles of the citizen number (the multipliers are prime to 10**k).
    phone_number = (citizen * 7_919 + int(rng.integers(10**6))) % 1_000_000
    national = _national_ids((citizen * 48_271 + int(rng.integers(10**7))) % 10_000_000)
    has_national = rng.random(n) < 0.8
    descriptions = [
        _DESCRIPTIONS.get(x.subcategory, _DEFAULT_DESCRIPTION)[j] for x in SUBJECTS for j in (0, 1)
    ]

    style = _choice(np.array([0.85, 0.10, 0.05]), n, rng)
    day0 = np.datetime64(first, "D") - np.timedelta64(1, "D")

    def when(values: np.ndarray) -> pa.Array:
        return format_jalali(values, values >= 0, style, first_day=day0)

    sms = ["", SMS_CODES["accepted"], SMS_CODES["objected"]]
    columns: dict[str, pa.Array] = {
        s.CASE_ID: pc.cast(pa.array(case_id), pa.string()),
        s.CREATED_AT: when(created),
        s.CHANNEL: _text(channel, [CHANNEL_LABELS[c] for c in chan_keys]),
        s.KIND: _text(kind, [kinds_fa[k] for k in kind_keys]),
        s.CATEGORY: _text(subject_category[d.subject], [cats_fa[c] for c in categories]),
        s.SUBCATEGORY: _text(d.subject, [subs_fa[x] for x in subcategories]),
        s.DESCRIPTION: _text(d.subject * 2 + rng.integers(2, size=n), descriptions),
        s.UNIT: _text(unit_idx, units[lc.UNIT_LABEL].tolist()),
        s.REFERRED_AT: when(referred),
        s.FIRST_RESPONSE_AT: when(first_resp),
        s.CLOSED_AT: when(closed_s),
        s.DUE_AT: when(due_s),
        s.STATUS: _text(status, [STATUS_LABELS[x] for x in s.STATUSES]),
        SMS_VERDICT: _text(feedback, sms, feedback > 0),
        s.SATISFACTION: _text(satisfaction, [str(i) for i in range(6)], satisfaction > 0),
        s.REOPEN_COUNT: _text(reopen, [str(i) for i in range(int(reopen.max(initial=0)) + 1)]),
        PHONE: _digits(phone_number, 6, "09120"),
        NATIONAL_ID: _blank(_digits(national, 8, "00"), has_national),
        s.LON: _coordinate(d.lon, has_point),
        s.LAT: _coordinate(d.lat, has_point),
        s.ADDRESS: _text(pick, texts.ravel().tolist(), has_address),
    }
    if config.dirty > 0:
        plan = corrupt(
            columns,
            share=config.dirty,
            eligible=~quick & ~marked,
            has_point=has_point,
            created_s=created,
            rng=rng,
        )
    else:
        empty = np.full(n, None, dtype=object)
        plan = DirtyPlan(empty, empty.copy(), np.zeros(0, dtype=np.int64))
    flag = plan.flag.copy()
    flag[quick & (flag == None)] = "quick_close"  # noqa: E711

    utc, _, _ = local_to_utc_seconds(created, TZ)
    case_text = pc.cast(pa.array(case_id), pa.string()).to_numpy(zero_copy_only=False)
    truth = pd.DataFrame(
        {
            LINE: np.arange(2, n + 2, dtype=np.int64),
            s.CASE_ID: columns[s.CASE_ID].to_pandas(types_mapper=pd.ArrowDtype).astype("string"),
            s.KIND: _categorical(kind, kind_keys.tolist()),
            s.CATEGORY: _categorical(subject_category[d.subject], categories),
            s.SUBCATEGORY: _categorical(d.subject, subcategories),
            s.UNIT: _categorical(unit_idx, units.index.tolist()),
            s.STATUS: _categorical(status, s.STATUSES),
            s.CITIZEN_FEEDBACK: _categorical(feedback, lc.FEEDBACK_CODES),
            s.CREATED_AT: pd.to_datetime(utc, unit="s", utc=True),
            s.NEIGHBORHOOD_CODE: _categorical(d.hood, city.hoods[s.CODE].tolist()),
            s.REGION_CODE: _categorical(region, regions),
            TRUE_LON: d.lon,
            TRUE_LAT: d.lat,
            HAS_POINT: has_point,
            ADDRESS_NAMES_HOOD: names_hood & has_address & (plan.reason != "outside_city"),
            HOTSPOT_ID: pd.array(np.where(d.hotspot >= 0, d.hotspot, 0), dtype="Int64"),
            s.DUPLICATE_OF: pd.Series(
                np.where(dup_of >= 0, case_text[np.maximum(dup_of, 0)], None), dtype="string"
            ),
            EXPECTED_REASON: pd.Series(plan.reason, dtype="string"),
            EXPECTED_FLAG: pd.Series(flag, dtype="string"),
        }
    )
    truth.loc[d.hotspot < 0, HOTSPOT_ID] = pd.NA
    hotspots = hotspots.assign(
        cases=np.bincount(d.hotspot[d.hotspot >= 0], minlength=len(hotspots))
    )
    return SyntheticExport(
        columns=columns,
        truth=truth,
        hotspots=hotspots,
        units=units.reset_index(),
        malformed=plan.malformed,
        synthetic_geography=city.synthetic,
        config=config,
    )


#: Rows written per CSV chunk.
CHUNK_ROWS: Final = 200_000
_EXTRA_FIELD: Final = ",ستون اضافه".encode()


def write_137(
    export: SyntheticExport, path: str | Path, *, encoding: str = "utf-8"
) -> dict[str, Path]:
    """Write the export CSV and its ground-truth Parquet files.

    Parameters
    ----------
    export : SyntheticExport
        From :func:`generate_137`.
    path : str or Path
        The CSV to write. The truth goes beside it: ``<stem>.truth.parquet``,
        ``<stem>.hotspots.parquet``, ``<stem>.units.parquet``.
    encoding : {"utf-8", "utf-8-sig"}
        ``utf-8-sig`` starts the file with a byte-order mark, as Excel writes it.

    Returns
    -------
    dict of str to Path
        ``csv``, ``truth``, ``hotspots`` and ``units`` paths.

    Raises
    ------
    InputError
        When the encoding is not supported.
    """
    if encoding not in ("utf-8", "utf-8-sig"):
        msg = f"Encoding {encoding!r} is not supported; use utf-8 or utf-8-sig."
        raise InputError(msg)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table({HEADERS[f]: export.columns[f] for f in FIELDS})
    malformed = set(export.malformed.tolist())
    with out.open("wb") as fh:
        if encoding == "utf-8-sig":
            fh.write(b"\xef\xbb\xbf")
        for start in range(0, max(table.num_rows, 1), CHUNK_ROWS):
            chunk = table.slice(start, CHUNK_ROWS)
            buf = io.BytesIO()
            options = pacsv.WriteOptions(include_header=start == 0, quoting_style="needed")
            pacsv.write_csv(chunk, buf, write_options=options)
            data = buf.getvalue()
            todo = [i - start for i in malformed if start <= i < start + chunk.num_rows]
            if todo:
                lines = data.split(b"\n")
                offset = 1 if start == 0 else 0
                for i in todo:
                    lines[i + offset] += _EXTRA_FIELD
                data = b"\n".join(lines)
            fh.write(data)
    stem = out.with_suffix("")
    paths = {
        "csv": out,
        "truth": Path(f"{stem}.truth.parquet"),
        "hotspots": Path(f"{stem}.hotspots.parquet"),
        "units": Path(f"{stem}.units.parquet"),
    }
    pq.write_table(pa.Table.from_pandas(export.truth, preserve_index=False), paths["truth"])
    export.hotspots.to_parquet(paths["hotspots"], index=False)
    export.units.to_parquet(paths["units"], index=False)
    return paths
