from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from analytics.hotspots.gistar import (
    GiStarHotspots,
    benjamini_hochberg,
    gi_star,
)
from geo.errors import InputError
from ingest import schema as s
from tests.analytics.hotspots.planted import Planted, match_scores, planted_cases


def test_benjamini_hochberg_matches_definition() -> None:
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(0, 0.001, 10), rng.uniform(0, 1, 90)])
    q = benjamini_hochberg(p)
    order = np.argsort(p)
    m = len(p)
    for k, i in enumerate(order, start=1):
        want = min(min(p[order[j - 1]] * m / j for j in range(k, m + 1)), 1.0)
        assert q[i] == pytest.approx(want)
    # BH step-up at 5 %: reject the k smallest, k the largest with p_(k) <= k/m * 0.05
    passing = [k for k in range(1, m + 1) if np.sort(p)[k - 1] <= k / m * 0.05]
    assert int((q <= 0.05).sum()) == max(passing)


def _lattice(n: int) -> dict[int, list[int]]:
    return {
        i * n + j: [
            a * n + b
            for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1))
            if 0 <= a < n and 0 <= b < n
        ]
        for i in range(n)
        for j in range(n)
    }


def test_gi_star_z_matches_the_formula() -> None:
    rng = np.random.default_rng(1)
    nb = _lattice(8)
    y = rng.poisson(5, 64).astype(float)
    z, p = gi_star(y, nb)
    n = len(y)
    mean, sd = y.mean(), y.std()
    for i in (0, 9, 27, 63):
        w = len(nb[i]) + 1
        window = y[i] + y[nb[i]].sum()
        want = (window - mean * w) / (sd * np.sqrt((n * w - w * w) / (n - 1)))
        assert z[i] == pytest.approx(want, rel=1e-9)
    assert np.all((p > 0) & (p <= 1))


def test_gi_star_degenerate_inputs() -> None:
    nb = _lattice(3)
    z, p = gi_star(np.zeros(9), nb)
    assert (z == 0).all()
    assert (p == 1).all()
    # a unit without neighbours is never significant
    nb_island = {**nb, 9: []}
    y = np.r_[np.ones(9), 50.0]
    _, p = gi_star(y, nb_island)
    assert p[9] == 1.0


def test_conditional_inference_runs_and_is_seeded() -> None:
    nb = _lattice(6)
    y = np.random.default_rng(2).poisson(4, 36).astype(float)
    y[14] = 60
    a = gi_star(y, nb, permutations=99, inference="conditional", seed=5)
    b = gi_star(y, nb, permutations=99, inference="conditional", seed=5)
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[1], gi_star(y, nb)[1])


def test_h3_planted_hotspots(planted_static: Planted, synthetic_geo: gpd.GeoDataFrame) -> None:
    model = GiStarHotspots(level="h3", resolution=8).fit(planted_static.cases, synthetic_geo)
    hot = model.regions_[model.regions_["hotspot"] == "hot"]
    recall, precision = match_scores(hot.geometry, planted_static)
    share = hot.area.sum() / model.units_.area.sum()
    print(f"Gi* H3 r8: found {recall:.0%}, {precision:.0%} of regions planted, {share:.1%} of city")
    assert recall >= 0.9
    assert precision >= 0.8
    assert share < 0.15  # not a city painted hot
    units = model.units_
    assert set(units["hotspot"]) <= {"hot", "cold", "not significant"}
    assert (units.loc[units["hotspot"] == "hot", "z"] > 0).all()
    assert (units.loc[units["hotspot"] == "hot", "q"] <= 0.05).all()
    assert units["n_cases"].sum() + model.n_unassigned_ == len(planted_static.cases)


def test_neighborhood_planted_hotspots(
    planted_wide: Planted, synthetic_geo: gpd.GeoDataFrame
) -> None:
    model = GiStarHotspots(level="neighborhood", value="density").fit(
        planted_wide.cases, synthetic_geo
    )
    hot = model.regions_[model.regions_["hotspot"] == "hot"]
    recall, precision = match_scores(hot.geometry, planted_wide)
    print(f"Gi* neighborhoods: found {recall:.0%}, {precision:.0%} of regions planted")
    assert recall >= 0.9
    assert precision >= 0.8
    assert len(model.units_) == int((synthetic_geo[s.LEVEL] == s.LEVEL_NEIGHBORHOOD).sum())


def test_fdr_reports_fewer_hotspots(
    planted_static: Planted, synthetic_geo: gpd.GeoDataFrame
) -> None:
    with_fdr = GiStarHotspots(level="h3").fit(planted_static.cases, synthetic_geo)
    without = GiStarHotspots(level="h3", fdr=False).fit(planted_static.cases, synthetic_geo)
    n_fdr = int((with_fdr.units_["hotspot"] != "not significant").sum())
    n_raw = int((without.units_["hotspot"] != "not significant").sum())
    assert n_fdr < n_raw
    np.testing.assert_array_equal(without.units_["q"], without.units_["p"])


def test_rate_uses_population(synthetic_geo: gpd.GeoDataFrame) -> None:
    hoods = synthetic_geo[synthetic_geo[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    codes = hoods[s.CODE].to_numpy()
    cases = pd.DataFrame({s.NEIGHBORHOOD_CODE: np.repeat(codes[:50], 3)})
    model = GiStarHotspots(level="neighborhood", value="rate").fit(cases, synthetic_geo)
    row = model.units_.set_index("unit").loc[codes[0]]
    pop = float(hoods.set_index(s.CODE).loc[codes[0], s.POPULATION])
    assert row["value"] == pytest.approx(3 / pop * 1000)
    with pytest.raises(InputError, match="population"):
        GiStarHotspots(level="h3", value="rate").fit(pd.DataFrame({s.LON: [51.4], s.LAT: [35.7]}))


def test_inputs_not_modified(planted_static: Planted, synthetic_geo: gpd.GeoDataFrame) -> None:
    cases = planted_static.cases.head(3000)
    before_cases, before_geo = cases.copy(), synthetic_geo.copy()
    GiStarHotspots(level="neighborhood").fit(cases, synthetic_geo)
    GiStarHotspots(level="h3").fit(cases, synthetic_geo)
    pd.testing.assert_frame_equal(cases, before_cases)
    pd.testing.assert_frame_equal(synthetic_geo, before_geo)


def test_errors() -> None:
    cases = pd.DataFrame({s.NEIGHBORHOOD_CODE: ["1"], s.LON: [51.4], s.LAT: [35.7]})
    with pytest.raises(InputError, match="boundary"):
        GiStarHotspots(level="neighborhood").fit(cases)
    with pytest.raises(InputError, match="level"):
        GiStarHotspots(level="district").fit(cases)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="alpha"):
        GiStarHotspots(alpha=2.0).fit(cases)


@pytest.mark.slow
def test_real_tehran_neighborhoods(tehran_dir: object) -> None:
    from pathlib import Path

    from geo.boundaries import read_boundaries

    path = Path(str(tehran_dir)) / "Mahalat_Tehran.shp"
    boundaries = read_boundaries(path)
    hoods = boundaries[boundaries[s.LEVEL] == s.LEVEL_NEIGHBORHOOD]
    assert len(hoods) > 300
    planted = planted_cases(
        boundaries,
        seed=4,
        radius_m=1500.0,
        per_behaviour=1,
        separation_m=7000.0,
        per_slice=200,
        equal_totals=True,
    )
    # H3 cells are equal in area: Gi* finds every planted hotspot.
    model = GiStarHotspots(level="h3").fit(planted.cases, boundaries)
    hot = model.regions_[model.regions_["hotspot"] == "hot"]
    recall, precision = match_scores(hot.geometry, planted)
    print(f"Gi* H3 on real Tehran: found {recall:.0%}, {precision:.0%} planted")
    assert recall >= 0.9
    assert precision >= 0.8
    assert shapely.is_valid(hot.geometry.to_numpy()).all()
    # Real neighborhoods range from 0.2 to 13 km²: a hotspot inside a large peripheral
    # neighborhood is diluted and masked by those in small central ones (one Gi* variance
    # for the whole map). Measured: 67-100 % found over seeds 4-15 (mean about 80 %), every
    # reported region planted. This checks the reported regions only.
    by_hood = GiStarHotspots(level="neighborhood", value="density").fit(planted.cases, boundaries)
    hot = by_hood.regions_[by_hood.regions_["hotspot"] == "hot"]
    recall, precision = match_scores(hot.geometry, planted)
    print(f"Gi* real neighborhoods: found {recall:.0%}, {precision:.0%} planted")
    assert precision >= 0.8
    assert recall >= 0.6
