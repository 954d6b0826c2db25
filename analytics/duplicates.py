"""Duplicate reports: later reports of one problem linked to the first (``duplicate_of``).

The rule
--------
Cases are put in *report order*: by ``created_at``, then ``source``, then ``case_id`` (so ties
have one fixed order). A case ``j`` is a *candidate duplicate* of an earlier case ``i`` when

1. they are at most ``radius_m`` metres apart (Euclidean distance in EPSG:32639);
2. ``j`` was created at most ``window_hours`` after ``i`` (``0 ≤ created_j − created_i ≤
   window``; both bounds included);
3. with ``same_category=True``, both have the same, non-null ``category``; with
   ``same_source=True``, the same ``source`` (``duplicate_of`` holds a ``case_id``, which is
   unique per source only);
4. with ``text_similarity=s``, their descriptions, after Persian normalization
   (:func:`geo.persian.normalize_text`), have a rapidfuzz ``token_set_ratio`` of at least
   ``100·s``; a case without a description is then never a duplicate.

Each case is linked to its *earliest* candidate, and links are followed to the very first
report: if ``B`` repeats ``A`` and ``C`` repeats ``B`` (but is too far from ``A`` in space or
time), both ``B`` and ``C`` get ``duplicate_of = A``. Only cases located precisely enough take
part: with a ``geocode_precision`` column, those in ``precisions`` (a point, snapped or repaired
swapped coordinates by default; an address-level location is too coarse for a radius of tens
of metres, and a city-centre placeholder would link thousands of unrelated cases).

How it scales
-------------
Cases are sorted by time and processed in blocks; each block, together with the cases up to
``window_hours`` before it, goes into a k-d tree on ``(x, y, t·radius/window, group·4·radius)``
queried with the maximum norm, which returns exactly the pairs within ``radius_m`` in x and y,
``window_hours`` in time and the same group; the Euclidean distance is then checked on those
pairs only. The work is proportional to the number of near pairs, not to ``n²``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from rapidfuzz import fuzz, process
from scipy.spatial import cKDTree

from analytics.hotspots.grid import metric_xy
from analytics.periods import utc_ns
from geo.errors import InputError
from geo.persian import normalize_text
from ingest import schema as s

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]

#: Geocode precisions located well enough to be compared at a radius of tens of metres.
PRECISE: Final = ("point", "snapped", "swapped")
#: Cases per block of the time sweep (bounds the k-d tree and the pairs held at once).
BLOCK_SIZE: Final = 200_000
_NAT: Final = np.iinfo(np.int64).min
_HOUR_NS: Final = 3600 * 10**9
# Slack on the k-d tree's query radius: the exact tests run afterwards on the pairs found.
_SLACK: Final = 1e-6


def _check(
    cases: pd.DataFrame, radius_m: float, window_hours: float, text_similarity: float | None
) -> None:
    if not isinstance(cases, pd.DataFrame):
        msg = f"cases must be a pandas DataFrame of canonical cases, got {type(cases).__name__}."
        raise InputError(msg)
    if not radius_m > 0:
        msg = f"radius_m must be a positive distance in metres, got {radius_m}."
        raise InputError(msg)
    if not window_hours > 0:
        msg = f"window_hours must be a positive number of hours, got {window_hours}."
        raise InputError(msg)
    if text_similarity is not None and not 0 <= text_similarity <= 1:
        msg = f"text_similarity must be between 0 and 1 (or None), got {text_similarity}."
        raise InputError(msg)
    missing = [c for c in (s.CASE_ID, s.CREATED_AT) if c not in cases.columns]
    if missing:
        msg = (
            f"cases need `{s.CASE_ID}` and `{s.CREATED_AT}` columns to find duplicates; "
            f"{missing} missing. Pass canonical cases (store.read_cases())."
        )
        raise InputError(msg)


def _located(cases: pd.DataFrame, precisions: tuple[str, ...] | None) -> B:
    if s.LON in cases.columns and s.LAT in cases.columns:
        lon = cases[s.LON].to_numpy(dtype=np.float64, na_value=np.nan)
        lat = cases[s.LAT].to_numpy(dtype=np.float64, na_value=np.nan)
        ok: B = np.isfinite(lon) & np.isfinite(lat)
    elif hasattr(cases, "geometry"):
        geoms = cases.geometry
        ok = np.asarray(geoms.notna() & ~geoms.is_empty, dtype=bool)
    else:
        msg = f"cases need `{s.LON}`/`{s.LAT}` columns or a point geometry to find duplicates."
        raise InputError(msg)
    if precisions is not None and s.GEOCODE_PRECISION in cases.columns:
        ok &= np.asarray(cases[s.GEOCODE_PRECISION].isin(list(precisions)), dtype=bool)
    return ok


def _metres(cases: pd.DataFrame, rows: I64) -> tuple[F64, F64]:
    """Return x and y in metres of ``rows`` (lon/lat columns first, else the geometry)."""
    if s.LON in cases.columns and s.LAT in cases.columns:
        lonlat = pd.DataFrame(
            {
                s.LON: cases[s.LON].to_numpy(dtype=np.float64, na_value=np.nan)[rows],
                s.LAT: cases[s.LAT].to_numpy(dtype=np.float64, na_value=np.nan)[rows],
            }
        )
        return metric_xy(lonlat)
    return metric_xy(cases.iloc[rows])


def _group_codes(cases: pd.DataFrame, columns: list[str]) -> tuple[I64, B]:
    """Integer code of each row's group (same values in ``columns``), and rows with a null."""
    if not columns:
        return np.zeros(len(cases), dtype=np.int64), np.zeros(len(cases), dtype=bool)
    missing = [c for c in columns if c not in cases.columns]
    if missing:
        msg = (
            f"cases have no {missing} column; pass same_category=False / same_source=False "
            "to compare across them."
        )
        raise InputError(msg)
    codes = np.zeros(len(cases), dtype=np.int64)
    null = np.zeros(len(cases), dtype=bool)
    for column in columns:
        values, uniques = pd.factorize(cases[column].astype("string"), use_na_sentinel=True)
        null |= values < 0
        codes = codes * (len(uniques) + 1) + (values + 1)
    return pd.factorize(codes)[0].astype(np.int64), null


def _pairs_in_blocks(points: F64, t_ns: I64, window_ns: int, query_r: float) -> tuple[I64, I64]:
    """Pairs (earlier, later) within ``query_r`` (maximum norm), swept in time blocks."""
    firsts: list[I64] = []
    seconds: list[I64] = []
    n = len(points)
    for start in range(0, n, BLOCK_SIZE):
        stop = min(n, start + BLOCK_SIZE)
        lo = int(np.searchsorted(t_ns, t_ns[start] - window_ns, side="left"))
        tree = cKDTree(points[lo:stop])
        pairs = tree.query_pairs(query_r, p=np.inf, output_type="ndarray").astype(np.int64)
        pairs += lo
        first = np.minimum(pairs[:, 0], pairs[:, 1])
        second = np.maximum(pairs[:, 0], pairs[:, 1])
        new = second >= start  # pairs inside [lo, start) were found by an earlier block
        firsts.append(first[new])
        seconds.append(second[new])
    if not firsts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(firsts), np.concatenate(seconds)


def _similar(descriptions: pd.Series, first: I64, second: I64, text_similarity: float) -> B:
    """Whether the normalized descriptions of each pair are similar enough."""
    used = np.unique(np.concatenate([first, second]))
    raw = descriptions.iloc[used]
    texts = pd.unique(raw.dropna().astype(str).to_numpy())
    normalized = {t: normalize_text(t) for t in texts}  # once per distinct text
    keyed = np.full(len(descriptions), None, dtype=object)
    keyed[used] = [None if pd.isna(v) else normalized[str(v)] for v in raw.to_numpy()]
    a, b = keyed[first], keyed[second]
    present = np.array([x is not None and y is not None for x, y in zip(a, b, strict=True)])
    ok = np.zeros(len(first), dtype=bool)
    if present.any():
        scores = process.cpdist(
            list(a[present]), list(b[present]), scorer=fuzz.token_set_ratio, workers=1
        )
        ok[present] = np.asarray(scores, dtype=np.float64) >= 100.0 * text_similarity
    return ok


def resolve_roots(parent: I64) -> I64:
    """Follow ``parent`` links to the first element of each chain.

    Parameters
    ----------
    parent : numpy.ndarray
        For each position, the position of its earlier link, or itself; every link must
        point to a smaller position (so there are no cycles).

    Returns
    -------
    numpy.ndarray
        The root (first report) of each position, found by pointer jumping (log of the chain
        length vectorized passes).

    Examples
    --------
    >>> resolve_roots(np.array([0, 0, 1, 3, 2])).tolist()
    [0, 0, 0, 3, 0]
    """
    root = parent.copy()
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root
        root = nxt


def find_duplicates(
    cases: pd.DataFrame,
    radius_m: float = 50.0,
    window_hours: float = 72.0,
    same_category: bool = True,
    text_similarity: float | None = None,
    *,
    same_source: bool = True,
    precisions: tuple[str, ...] | None = PRECISE,
) -> pd.Series:
    """Link later reports of one problem to the first report (the module docstring's rule).

    Parameters
    ----------
    cases : pandas.DataFrame or geopandas.GeoDataFrame
        Canonical cases: ``case_id``, ``created_at`` (tz-aware), ``lon``/``lat`` in
        EPSG:4326 (or a point geometry in any CRS), ``category`` and ``source`` as the
        options need, ``description`` for text similarity. Not modified.
    radius_m : float, default 50
        Largest distance between two reports of one problem, in metres.
    window_hours : float, default 72
        Largest time from a report to a repeat of it, in hours.
    same_category : bool, default True
        Only link cases of the same (non-null) category.
    text_similarity : float, optional
        Also require descriptions this similar (0–1: rapidfuzz ``token_set_ratio`` / 100,
        after Persian normalization). None ignores the descriptions.
    same_source : bool, default True
        Only link cases of the same source.
    precisions : tuple of str or None, default ("point", "snapped", "swapped")
        With a ``geocode_precision`` column, only cases of these precisions take part;
        None uses every located case.

    Returns
    -------
    pandas.Series
        ``duplicate_of`` (dtype ``string``, aligned with ``cases``' index): the ``case_id`` of
        the first report of the problem, missing for first reports, unlinked cases and cases
        that cannot take part (no time, no precise location, no category).

    Raises
    ------
    InputError
        If a parameter is out of range or a needed column is missing.

    Examples
    --------
    >>> import geopandas as gpd
    >>> cases = gpd.GeoDataFrame(
    ...     {"case_id": ["a", "b", "c"], "source": "137", "category": "waste",
    ...      "created_at": pd.to_datetime(["2024-01-01 08:00", "2024-01-02 08:00",
    ...                                    "2024-01-03 08:00"], utc=True)},
    ...     geometry=gpd.points_from_xy([535_000, 535_030, 535_060], [3_950_000] * 3),
    ...     crs="EPSG:32639")
    >>> find_duplicates(cases, radius_m=40, window_hours=30).tolist()
    [<NA>, 'a', 'a']
    """
    _check(cases, radius_m, window_hours, text_similarity)
    values = np.full(len(cases), None, dtype=object)
    created = utc_ns(cases[s.CREATED_AT], name=s.CREATED_AT)
    group_columns = ([s.CATEGORY] if same_category else []) + ([s.SOURCE] if same_source else [])
    group, null_group = _group_codes(cases, group_columns)
    usable = _located(cases, precisions) & (created != _NAT) & ~null_group
    rows = np.flatnonzero(usable)
    if len(rows) < 2:
        return _series(values, cases.index)
    order_frame = pd.DataFrame(
        {
            "t": created[rows],
            "src": cases[s.SOURCE].astype("string").to_numpy()[rows]
            if s.SOURCE in cases.columns
            else "",
            "id": cases[s.CASE_ID].astype("string").to_numpy()[rows],
        }
    )
    order = order_frame.sort_values(["t", "src", "id"], kind="stable").index.to_numpy()
    rows = rows[order]  # positions in cases, in report order
    t_ns = created[rows]
    x, y = _metres(cases, rows)
    window_ns = round(window_hours * _HOUR_NS)
    query_r = radius_m * (1.0 + _SLACK) + _SLACK
    t_scaled = (t_ns - t_ns[0]).astype(np.float64) / window_ns * radius_m
    g_scaled = group[rows].astype(np.float64) * 4.0 * query_r
    points = np.column_stack([x, y, t_scaled, g_scaled])
    first, second = _pairs_in_blocks(points, t_ns, window_ns, query_r)
    same = group[rows][first] == group[rows][second]
    near = (x[first] - x[second]) ** 2 + (y[first] - y[second]) ** 2 <= radius_m**2
    soon = (t_ns[second] - t_ns[first]) <= window_ns
    keep = same & near & soon
    first, second = first[keep], second[keep]
    if text_similarity is not None and len(first):
        descriptions = (
            cases[s.DESCRIPTION].iloc[rows].reset_index(drop=True)
            if s.DESCRIPTION in cases.columns
            else pd.Series([None] * len(rows), dtype=object)
        )
        ok = _similar(descriptions, first, second, text_similarity)
        first, second = first[ok], second[ok]
    parent = np.arange(len(rows), dtype=np.int64)
    np.minimum.at(parent, second, first)
    root = resolve_roots(parent)
    linked = np.flatnonzero(root != np.arange(len(rows)))
    ids = np.asarray(cases[s.CASE_ID].astype(object).to_numpy(), dtype=object)
    values[rows[linked]] = ids[rows[root[linked]]]
    return _series(values, cases.index)


def _series(values: npt.NDArray[np.object_], index: pd.Index) -> pd.Series:
    return pd.Series(pd.array(values, dtype="string"), index=index, name=s.DUPLICATE_OF)
