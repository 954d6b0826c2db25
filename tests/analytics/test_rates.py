"""Wilson score intervals against published values."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.rates import proportion, wilson_interval
from geo.errors import InputError


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [
        # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson, no cc)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (5, 10, 0.2366, 0.7634),
        (10, 10, 0.7225, 1.0),
    ],
)
def test_known_values(k: int, n: int, lo: float, hi: float) -> None:
    got_lo, got_hi = wilson_interval(k, n)
    assert float(got_lo) == pytest.approx(lo, abs=1e-4)
    assert float(got_hi) == pytest.approx(hi, abs=1e-4)


def test_vectorized_and_empty_denominator() -> None:
    lo, hi = wilson_interval(np.array([0, 3, 0]), np.array([5, 3, 0]))
    assert lo[0] == 0.0
    assert hi[1] == 1.0
    assert np.isnan(lo[2])
    assert np.isnan(hi[2])
    assert np.isnan(proportion(0, 0))


def test_narrower_at_lower_confidence() -> None:
    lo95, hi95 = wilson_interval(30, 100)
    lo80, hi80 = wilson_interval(30, 100, alpha=0.2)
    assert lo95 < lo80 < 0.3 < hi80 < hi95


@pytest.mark.parametrize(("k", "n", "alpha"), [(-1, 5, 0.05), (6, 5, 0.05), (1, 5, 1.0)])
def test_invalid_counts_raise(k: int, n: int, alpha: float) -> None:
    with pytest.raises(InputError):
        wilson_interval(k, n, alpha=alpha)
