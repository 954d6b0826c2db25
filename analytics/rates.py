"""Proportions with Wilson score intervals, vectorized.

The Wilson interval stays inside [0, 1] and behaves at 0 of n and n of n, where the textbook
"p ± z·√(p(1−p)/n)" interval collapses to a point: 0 objections out of 3 answers is not a
certain 0 %.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from geo.errors import InputError

F64 = npt.NDArray[np.float64]


def wilson_interval(
    successes: npt.ArrayLike, n: npt.ArrayLike, *, alpha: float = 0.05
) -> tuple[F64, F64]:
    """Return the Wilson score interval of proportions ``successes / n``.

    Parameters
    ----------
    successes : array-like of int
        Number of successes (for example objected cases), 0 ≤ successes ≤ n.
    n : array-like of int
        Number of trials (for example answered cases); where n is 0 both bounds are NaN.
    alpha : float
        One minus the confidence level (0.05 for a 95 % interval).

    Returns
    -------
    (lower, upper) : tuple of numpy.ndarray of float
        The bounds, broadcast to the inputs' common shape.

    Raises
    ------
    InputError
        If a count is negative, ``successes`` exceeds ``n``, or ``alpha`` is not in (0, 1).

    Examples
    --------
    >>> lo, hi = wilson_interval(5, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.2366, 0.7634)
    """
    if not 0.0 < alpha < 1.0:
        msg = f"alpha must lie strictly between 0 and 1, got {alpha}."
        raise InputError(msg)
    x = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    if (x < 0).any() or (m < 0).any() or (x > m).any():
        msg = "counts must satisfy 0 <= successes <= n; check the numerator and denominator."
        raise InputError(msg)
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denom = 1.0 + z2 / m
        centre = (p + z2 / (2.0 * m)) / denom
        half = z * np.sqrt(p * (1.0 - p) / m + z2 / (4.0 * m * m)) / denom
        lower = np.where(m > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        upper = np.where(m > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    # exact at the edges: 0 successes has lower bound 0, n successes upper bound 1
    lower = np.where((x == 0) & (m > 0), 0.0, lower)
    upper = np.where((x == m) & (m > 0), 1.0, upper)
    return np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)


def proportion(successes: npt.ArrayLike, n: npt.ArrayLike) -> F64:
    """Return ``successes / n``, NaN where ``n`` is 0."""
    x = np.asarray(successes, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(m > 0, x / m, np.nan), dtype=np.float64)
