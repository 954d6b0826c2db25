from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau

from analytics.hotspots.emerging import (
    PATTERNS,
    RECURRING,
    EmergingHotspots,
    classify_patterns,
    mann_kendall,
)
from analytics.hotspots.h3cells import cell_strings, latlng_to_cells
from geo.errors import InputError
from ingest import schema as s
from tests.analytics.hotspots.planted import EXPECTED_PATTERN, Planted


def test_mann_kendall_statistic_and_ties() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 15))
    x[1] = np.arange(15.0)
    x[2] = np.round(x[2])  # ties
    tau, z, p = mann_kendall(x)
    for row in range(5):
        s_stat = sum(np.sign(x[row, j] - x[row, i]) for i in range(15) for j in range(i + 1, 15))
        assert tau[row] == pytest.approx(s_stat / (15 * 14 / 2))
    # without ties, tau-a equals Kendall's tau against time
    assert tau[0] == pytest.approx(kendalltau(np.arange(15), x[0]).statistic)
    assert p[1] < 1e-4
    assert z[1] > 0
    # the tie correction shrinks the variance: |z| is larger than without it
    t = 15
    s2 = tau[2] * t * (t - 1) / 2
    z_naive = (s2 - np.sign(s2)) / np.sqrt(t * (t - 1) * (2 * t + 5) / 18)
    assert abs(z[2]) >= abs(z_naive)
    flat_tau, flat_z, flat_p = mann_kendall(np.ones((1, 6)))
    assert (flat_tau[0], flat_z[0], flat_p[0]) == (0.0, 0.0, 1.0)


def _rows(*rows: str) -> np.ndarray:
    return np.array([[c == "H" for c in r] for r in rows])


def test_pattern_rules() -> None:
    hot = _rows(
        "..........H",  # new
        "........HHH",  # consecutive
        "HHHHHHHHHHH",  # intensifying (trend up)
        "HHHHHHHHHHH",  # diminishing (trend down)
        "HHHHHHHHHHH",  # persistent (no trend)
        "HHHHHHHHHH.",  # historical
        "..H...H...H",  # oscillating (cold before)
        "..H...H....",  # sporadic
        "...........",  # no pattern
        "H.HHHHHHHHH",  # 10 of 11 hot (>= 90 %), final hot, no trend: persistent
        "..H.....HHH",  # hot before the final run: sporadic, not consecutive
    )
    cold = np.zeros_like(hot)
    cold[6, 0] = True
    tau = np.array([0, 0, 0.6, -0.6, 0.1, 0, 0, 0, 0, 0, 0.0])
    p = np.array([1, 1, 0.001, 0.001, 0.5, 1, 1, 1, 1, 1, 1.0])
    got = classify_patterns(hot, cold, tau, p).tolist()
    assert got == [
        "new",
        "consecutive",
        "intensifying",
        "diminishing",
        "persistent",
        "historical",
        "oscillating",
        "sporadic",
        "no pattern",
        "persistent",
        "sporadic",
    ]
    assert set(got) == set(PATTERNS)


def test_recurring_constant() -> None:
    assert set(RECURRING) == {"persistent", "intensifying", "consecutive", "oscillating"}


@pytest.fixture(scope="module")
def fitted(planted_emerging: Planted, synthetic_geo: gpd.GeoDataFrame) -> EmergingHotspots:
    return EmergingHotspots(resolution=9).fit(planted_emerging.cases, synthetic_geo)


def test_planted_behaviours_are_recognised(
    fitted: EmergingHotspots, planted_emerging: Planted
) -> None:
    truth = planted_emerging.truth
    cells = cell_strings(
        latlng_to_cells(lat=truth["lat"].to_numpy(), lng=truth["lon"].to_numpy(), resolution=9)
    )
    got = fitted.units_.set_index("unit").loc[cells, "pattern"].to_numpy()
    want = truth["behaviour"].map(EXPECTED_PATTERN).to_numpy()
    share = float((got == want).mean())
    print(
        f"emerging: {share:.0%} of planted hotspots classified as planted",
        list(zip(want, got, strict=True)),
    )
    assert share >= 0.8


def test_cube_and_units_shape(fitted: EmergingHotspots, planted_emerging: Planted) -> None:
    n_units = len(fitted.units_)
    assert len(fitted.slices_) == planted_emerging.n_slices
    assert len(fitted.cube_) == n_units * planted_emerging.n_slices
    assert fitted.slices_[0] == "1403-01"
    assert fitted.cube_["n_cases"].sum() == fitted.units_["n_cases"].sum()
    assert set(fitted.units_["pattern"]) <= set(PATTERNS)
    recurring = fitted.units_[fitted.units_["recurring"]]
    assert len(recurring) > 0
    assert set(recurring["pattern"]) <= set(RECURRING)
    assert (recurring["spot"] == "hot").all()
    assert fitted.units_.crs.to_epsg() == 32639


def test_neighborhood_level_and_week_slices(
    planted_emerging: Planted, synthetic_geo: gpd.GeoDataFrame
) -> None:
    cases = planted_emerging.cases
    last = cases[cases[s.CREATED_AT] >= cases[s.CREATED_AT].max() - pd.Timedelta(days=70)]
    model = EmergingHotspots(slice="week", level="neighborhood").fit(last, synthetic_geo)
    assert 10 <= len(model.slices_) <= 12
    assert len(model.units_) == int((synthetic_geo[s.LEVEL] == s.LEVEL_NEIGHBORHOOD).sum())


def test_errors(planted_emerging: Planted) -> None:
    cases = planted_emerging.cases.head(100)
    with pytest.raises(InputError, match="slice"):
        EmergingHotspots(slice="year").fit(cases)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="created_at"):
        EmergingHotspots().fit(cases.drop(columns=[s.CREATED_AT]))
    with pytest.raises(InputError, match="boundary"):
        EmergingHotspots(level="neighborhood").fit(cases)


def test_input_not_modified(planted_emerging: Planted) -> None:
    cases = planted_emerging.cases.head(4000)
    before = cases.copy()
    EmergingHotspots().fit(cases)
    pd.testing.assert_frame_equal(cases, before)
