"""Emerging hot spots: Gi* per time slice and a Mann–Kendall trend per unit.

:class:`EmergingHotspots` counts cases per unit (H3 cell or neighborhood) and per time slice
(Jalali month by default), computes Gi* in every slice separately
(:func:`analytics.hotspots.gistar.gi_star`, with a Benjamini–Hochberg correction per slice when
``fdr=True``), and runs a Mann–Kendall test on each unit's series of Gi* z-scores. Each unit
then gets one pattern, following the ArcGIS "Emerging Hot Spot Analysis" definitions. With
``T`` slices, "hot" meaning a significant hot spot in a slice and "90 %" meaning at least
``0.9·T`` of the slices, and checked in this order:

new
    hot in the final slice and never before.
consecutive
    a single uninterrupted run of at least two hot slices ending with the final slice, never
    hot before that run, and hot in less than 90 % of the slices.
intensifying
    hot in at least 90 % of the slices including the final one, and the z-scores rise
    (Mann–Kendall ``tau > 0`` with ``p ≤ trend_alpha``).
diminishing
    the same, with the z-scores falling (``tau < 0``, ``p ≤ trend_alpha``).
persistent
    hot in at least 90 % of the slices including the final one, with no significant trend.
historical
    hot in at least 90 % of the slices but not in the final one.
oscillating
    hot in the final slice, hot in less than 90 % of the slices, and a significant *cold*
    spot in some earlier slice.
sporadic
    on-again, off-again: hot in some slices but less than 90 % of them, and never a cold
    spot (and neither new nor consecutive).
no pattern
    none of the above, as a hot or a cold spot.

A unit with no hot pattern is classified the same way as a cold spot (hot and cold swapped,
the trend's sign reversed), and :attr:`EmergingHotspots.units_` says which in ``spot``
(``"hot"``, ``"cold"`` or ``""`` for no pattern). The ArcGIS tool uses space-time
neighbourhoods for Gi*; here each slice's Gi* uses spatial neighbours only.

:data:`RECURRING` are the patterns the interface shows as "recurring problem hotspots"
(persistent, intensifying, consecutive and oscillating hot spots).
"""

from __future__ import annotations

from typing import Final, Literal, Self

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.stats import norm

from analytics.periods import NO_PERIOD, Calendar, Freq, labels_of_keys, period_keys
from geo.crs import METRIC_CRS
from geo.errors import InputError
from ingest import schema as s

from .fitted import FittedAttributes
from .gistar import (
    COLD,
    HOT,
    Inference,
    benjamini_hochberg,
    classify,
    gi_star,
    star_weights,
    unit_values,
)
from .grid import F64
from .units import Level, SpatialUnits, case_cells, h3_units, neighborhood_units

Slice = Literal["month", "week"]
B = npt.NDArray[np.bool_]

NEW: Final = "new"
CONSECUTIVE: Final = "consecutive"
INTENSIFYING: Final = "intensifying"
PERSISTENT: Final = "persistent"
DIMINISHING: Final = "diminishing"
SPORADIC: Final = "sporadic"
OSCILLATING: Final = "oscillating"
HISTORICAL: Final = "historical"
NO_PATTERN: Final = "no pattern"
#: Every pattern, in the order the rules are checked.
PATTERNS: Final = (
    NEW,
    CONSECUTIVE,
    INTENSIFYING,
    DIMINISHING,
    PERSISTENT,
    HISTORICAL,
    OSCILLATING,
    SPORADIC,
    NO_PATTERN,
)
#: Hot-spot patterns shown as "recurring problem hotspots".
RECURRING: Final = (PERSISTENT, INTENSIFYING, CONSECUTIVE, OSCILLATING)
_SHARE: Final = 0.9
_FREQ: Final[dict[str, Freq]] = {"month": "M", "week": "W"}


def mann_kendall(series: F64) -> tuple[F64, F64, F64]:
    """Mann–Kendall trend test of each row, vectorized over rows.

    Parameters
    ----------
    series : numpy.ndarray
        Shape ``(n_units, T)``: one time series per row, oldest first.

    Returns
    -------
    tuple of numpy.ndarray
        ``tau`` (Kendall's tau-a, ``S / (T(T-1)/2)``), the standard score ``z`` (continuity
        corrected, variance corrected for ties) and its two-sided ``p`` per row.

    Examples
    --------
    >>> tau, z, p = mann_kendall(np.array([[1.0, 2, 3, 4, 5, 6, 7, 8], [3, 1, 4, 1, 5, 9, 2, 6]]))
    >>> tau.round(3).tolist(), bool(p[0] < 0.01), bool(p[1] > 0.05)
    ([1.0, 0.393], True, True)
    """
    x = np.asarray(series, dtype=np.float64)
    if x.ndim != 2:
        msg = f"series must be two-dimensional (units × slices), got {x.ndim} dimensions."
        raise InputError(msg)
    n_units, t = x.shape
    if t < 2:
        zeros = np.zeros(n_units)
        return zeros, zeros.copy(), np.ones(n_units)
    diff = x[:, None, :] - x[:, :, None]  # [u, i, j] = x_j - x_i
    upper = np.triu(np.ones((t, t), dtype=bool), k=1)
    stat = np.sign(diff[:, upper]).sum(axis=1)
    ties = (diff == 0).sum(axis=2)  # size of each element's tie group
    var = (t * (t - 1) * (2 * t + 5) - ((ties - 1) * (2 * ties + 5)).sum(axis=1)) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (stat - np.sign(stat)) / np.sqrt(var), 0.0)
    p = 2.0 * norm.sf(np.abs(z))
    tau = stat / (t * (t - 1) / 2.0)
    return tau, z, p


def classify_patterns(
    hot: B, cold: B, tau: F64, trend_p: F64, trend_alpha: float = 0.05
) -> npt.NDArray[np.object_]:
    """Return each unit's hot-spot pattern from its significant slices and its trend.

    Parameters
    ----------
    hot, cold : numpy.ndarray
        Shape ``(n_units, T)``: significant hot (cold) spot in each slice, oldest first.
    tau, trend_p : numpy.ndarray
        The Mann–Kendall tau and p-value of each unit's z-scores.
    trend_alpha : float, default 0.05
        Significance level of the trend.

    Returns
    -------
    numpy.ndarray
        One of :data:`PATTERNS` per unit (rules in the module docstring). For cold spots,
        call it with ``hot`` and ``cold`` swapped and ``-tau``.

    Examples
    --------
    >>> hot = np.array([[0, 0, 0, 1], [0, 0, 1, 1], [1, 0, 1, 0], [1, 1, 1, 1]], dtype=bool)
    >>> none = np.zeros_like(hot)
    >>> classify_patterns(hot, none, np.zeros(4), np.ones(4)).tolist()
    ['new', 'consecutive', 'sporadic', 'persistent']
    """
    t = hot.shape[1]
    n_hot = hot.sum(axis=1)
    share = n_hot / max(t, 1)
    final = hot[:, -1] if t else np.zeros(len(hot), dtype=bool)
    flipped = ~hot[:, ::-1]
    run = np.where(flipped.any(axis=1), flipped.argmax(axis=1), t)
    any_cold = cold.any(axis=1)
    mostly = share >= _SHARE
    trend = trend_p <= trend_alpha
    rules = [
        (final & (n_hot == 1), NEW),
        (final & (run >= 2) & (n_hot == run) & ~mostly, CONSECUTIVE),
        (mostly & final & trend & (tau > 0), INTENSIFYING),
        (mostly & final & trend & (tau < 0), DIMINISHING),
        (mostly & final, PERSISTENT),
        (mostly & ~final, HISTORICAL),
        (final & ~mostly & any_cold, OSCILLATING),
        ((n_hot >= 1) & ~mostly & ~any_cold, SPORADIC),
    ]
    out = np.full(len(hot), NO_PATTERN, dtype=object)
    done = np.zeros(len(hot), dtype=bool)
    for mask, name in rules:
        take = mask & ~done
        out[take] = name
        done |= take
    return out


class EmergingHotspots(FittedAttributes):
    """Space-time emerging hot spot classes from Gi* per slice and a Mann–Kendall trend.

    Parameters
    ----------
    slice : {"month", "week"}, default "month"
        Length of a time slice (local periods of ``calendar``; every slice from the first
        case's to the last case's is used, empty ones included).
    calendar : {"jalali", "gregorian"}, default "jalali"
        Calendar of the slices.
    level : {"h3", "neighborhood"}, default "h3"
        The units.
    resolution : int, default 8
        H3 resolution. Each slice holds few cases, so masking (see
        :mod:`analytics.hotspots.gistar`) bites harder than over a whole period: for hotspots
        a few hundred metres across use 9 (planted 250 m hotspots: 98 % classified as planted
        at resolution 9 over ten seeds, under half at resolution 8).
    permutations : int, default 199
        Conditional permutations per slice (``inference="conditional"`` only).
    inference : {"normal", "conditional"}, default "normal"
        How Gi*'s p-values are computed (see :mod:`analytics.hotspots.gistar`).
    alpha : float, default 0.05
        Significance level of Gi* in each slice (of the false-discovery rate if ``fdr``).
    fdr : bool, default True
        Benjamini–Hochberg correction over the units of each slice.
    trend_alpha : float, default 0.05
        Significance level of the Mann–Kendall trend.
    value : {"count", "rate", "density"}, default "count"
        What Gi* analyses (see :class:`analytics.hotspots.gistar.GiStarHotspots`).
    seed : int, optional
        Seed of the permutations.

    Attributes
    ----------
    slices_ : list of str
        The slices' labels, oldest first.
    cube_ : pandas.DataFrame
        One row per unit and slice: ``unit``, ``slice``, ``n_cases``, ``z``, ``p``, ``q``,
        ``hotspot``.
    units_ : geopandas.GeoDataFrame
        One row per unit (EPSG:32639): ``unit``, ``n_cases``, ``n_hot``, ``n_cold``,
        ``trend_tau``, ``trend_z``, ``trend_p``, ``pattern``, ``spot``, ``recurring``.

    Raises
    ------
    geo.errors.NotFittedError
        When a fitted attribute is read before :meth:`fit` ("call .fit(cases) first").

    Examples
    --------
    >>> import h3, numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> hot = np.tile(np.arange(360) < 60, 6)  # 60 of each month's 360 cases in one place
    >>> cases = pd.DataFrame({
    ...     "lon": np.where(hot, rng.normal(51.40, 0.002, 2160), rng.uniform(51.25, 51.55, 2160)),
    ...     "lat": np.where(hot, rng.normal(35.70, 0.002, 2160), rng.uniform(35.62, 35.76, 2160)),
    ...     "created_at": np.repeat(
    ...         pd.date_range("2024-04-05", periods=6, freq="30D", tz="UTC"), 360),
    ... })
    >>> model = EmergingHotspots(resolution=8).fit(cases)
    >>> model.slices_
    ['1403-01', '1403-02', '1403-03', '1403-04', '1403-05', '1403-06']
    >>> model.units_.set_index("unit").loc[h3.latlng_to_cell(35.70, 51.40, 8), "pattern"]
    'persistent'
    """

    fit_call = "fit(cases)"

    def __init__(
        self,
        slice: Slice = "month",
        calendar: Calendar = "jalali",
        level: Level = "h3",
        resolution: int = 8,
        permutations: int = 199,
        alpha: float = 0.05,
        fdr: bool = True,
        trend_alpha: float = 0.05,
        value: Literal["count", "rate", "density"] = "count",
        inference: Inference = "normal",
        seed: int | None = None,
    ) -> None:
        self.slice = slice
        self.calendar = calendar
        self.level = level
        self.resolution = resolution
        self.permutations = permutations
        self.alpha = alpha
        self.fdr = fdr
        self.trend_alpha = trend_alpha
        self.value = value
        self.inference = inference
        self.seed = seed

    def fit(self, cases: pd.DataFrame, boundaries: gpd.GeoDataFrame | None = None) -> Self:
        """Classify every unit.

        Parameters
        ----------
        cases : pandas.DataFrame or geopandas.GeoDataFrame
            Cases with ``created_at`` and ``neighborhood_code`` (neighborhoods) or
            coordinates (H3).
        boundaries : geopandas.GeoDataFrame, optional
            The boundary table; required for neighborhoods, and for H3 it adds the empty
            cells inside the city.

        Returns
        -------
        EmergingHotspots
            The fitted estimator.
        """
        if self.slice not in _FREQ:
            msg = f"slice must be 'month' or 'week', got {self.slice!r}."
            raise InputError(msg)
        if s.CREATED_AT not in cases.columns:
            msg = (
                f"cases have no `{s.CREATED_AT}` column to slice by; pass canonical cases "
                "(store.read_cases()) with tz-aware creation times."
            )
            raise InputError(msg)
        freq = _FREQ[self.slice]
        keys = period_keys(cases[s.CREATED_AT], freq, self.calendar)  # type: ignore[arg-type]
        dated = keys != NO_PERIOD
        if not dated.any():
            msg = f"no case has a `{s.CREATED_AT}`; nothing to slice."
            raise InputError(msg)
        cells = case_cells(cases, self.resolution) if self.level == "h3" else None
        units = self._units(cells, boundaries)
        position = units.assign(cases, cells)
        ok = dated & (position >= 0)
        first = int(keys[dated].min())
        n_slices = int(keys[dated].max()) - first + 1
        n_units = len(units.codes)
        cube = np.bincount(
            position[ok] * n_slices + (keys[ok] - first), minlength=n_units * n_slices
        ).reshape(n_units, n_slices)
        z = np.zeros((n_units, n_slices))
        p = np.ones((n_units, n_slices))
        q = np.ones((n_units, n_slices))
        labels = np.empty((n_units, n_slices), dtype=object)
        weights = star_weights(units.neighbors, n_units)
        for k in range(n_slices):
            values = unit_values(units, cube[:, k].astype(np.float64), self.value)
            seed = None if self.seed is None else self.seed + k
            z[:, k], p[:, k] = gi_star(
                values,
                units.neighbors,
                permutations=self.permutations,
                inference=self.inference,
                seed=seed,
                weights=weights,
            )
            q[:, k] = benjamini_hochberg(p[:, k]) if self.fdr else p[:, k]
            labels[:, k] = classify(z[:, k], q[:, k], self.alpha)
        hot, cold = labels == HOT, labels == COLD
        tau, trend_z, trend_p = mann_kendall(z)
        hot_pattern = classify_patterns(hot, cold, tau, trend_p, self.trend_alpha)
        cold_pattern = classify_patterns(cold, hot, -tau, trend_p, self.trend_alpha)
        is_hot = hot_pattern != "no pattern"
        is_cold = ~is_hot & (cold_pattern != "no pattern")
        pattern = np.where(is_hot, hot_pattern, np.where(is_cold, cold_pattern, "no pattern"))
        spot = np.where(is_hot, HOT, np.where(is_cold, COLD, ""))
        self.slices_ = labels_of_keys(
            np.arange(first, first + n_slices, dtype=np.int64), freq, self.calendar
        )
        self.cube_ = pd.DataFrame(
            {
                "unit": np.repeat(np.asarray(units.codes, dtype=object), n_slices),
                "slice": np.tile(np.asarray(self.slices_, dtype=object), n_units),
                "n_cases": cube.reshape(-1),
                "z": z.reshape(-1),
                "p": p.reshape(-1),
                "q": q.reshape(-1),
                "hotspot": labels.reshape(-1),
            }
        )
        frame = pd.DataFrame(
            {
                "unit": units.codes,
                "n_cases": cube.sum(axis=1),
                "n_hot": hot.sum(axis=1),
                "n_cold": cold.sum(axis=1),
                "trend_tau": tau,
                "trend_z": trend_z,
                "trend_p": trend_p,
                "pattern": pattern,
                "spot": spot,
                "recurring": is_hot & np.isin(pattern, RECURRING),
            }
        )
        self.spatial_units_ = units
        self.units_ = gpd.GeoDataFrame(frame, geometry=units.geometry.values, crs=METRIC_CRS)
        return self

    def _units(self, cells: np.ndarray | None, boundaries: gpd.GeoDataFrame | None) -> SpatialUnits:
        if self.level == "neighborhood":
            if boundaries is None:
                msg = "level='neighborhood' needs the boundary table: fit(cases, boundaries)."
                raise InputError(msg)
            return neighborhood_units(boundaries)
        if self.level != "h3":
            msg = f"level must be 'h3' or 'neighborhood', got {self.level!r}."
            raise InputError(msg)
        if cells is None:
            msg = "H3 units need the cases' cells."
            raise InputError(msg)
        return h3_units(cells, self.resolution, boundaries)
