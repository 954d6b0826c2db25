"""Duplicate reports: the radius/window rule, chains, categories, text, and a brute-force check."""

from __future__ import annotations

import doctest
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import duplicates as dup
from analytics.duplicates import find_duplicates, resolve_roots
from analytics.hotspots.grid import to_lonlat
from geo.errors import InputError
from ingest import schema as s

X0, Y0 = 535_000.0, 3_950_000.0
T0 = pd.Timestamp("2024-05-01 08:00", tz="UTC")


def metric_cases(
    xy: Sequence[tuple[float, float]],
    hours: Sequence[float],
    *,
    categories: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    descriptions: Sequence[str | None] | None = None,
    sources: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Cases at metre offsets from a Tehran point (EPSG:32639), created ``hours`` after T0."""
    n = len(xy)
    frame = pd.DataFrame(
        {
            s.CASE_ID: list(ids) if ids is not None else [f"c{i}" for i in range(n)],
            s.SOURCE: list(sources) if sources is not None else ["137"] * n,
            s.CATEGORY: list(categories) if categories is not None else ["waste"] * n,
            s.CREATED_AT: [T0 + pd.Timedelta(hours=h) for h in hours],
            s.DESCRIPTION: list(descriptions) if descriptions is not None else [None] * n,
        }
    )
    frame[s.CREATED_AT] = frame[s.CREATED_AT].astype("datetime64[ns, UTC]")
    geometry = gpd.points_from_xy([X0 + p[0] for p in xy], [Y0 + p[1] for p in xy])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:32639")


def links(cases: pd.DataFrame, **options: object) -> list[str | None]:
    out = find_duplicates(cases, **options)  # type: ignore[arg-type]
    return [None if pd.isna(v) else str(v) for v in out]


def test_reports_within_radius_and_window_link_to_the_first() -> None:
    cases = metric_cases([(0, 0), (30, 0), (0, 40), (500, 0)], [0, 5, 20, 1])
    assert links(cases, radius_m=50, window_hours=24) == [None, "c0", "c0", None]


def test_chains_resolve_to_the_very_first_report() -> None:
    # c1 repeats c0; c2 is 80 m from c0 (too far) but 40 m from c1; c3 is 60 h after c0
    # (too late for c0) but 30 h after c2: all resolve to c0.
    cases = metric_cases([(0, 0), (40, 0), (80, 0), (80, 0)], [0, 10, 30, 60])
    assert links(cases, radius_m=50, window_hours=48) == [None, "c0", "c0", "c0"]


def test_later_report_links_to_earliest_candidate_not_nearest() -> None:
    cases = metric_cases([(0, 0), (45, 0), (44, 0)], [0, 1, 2], ids=["a", "b", "c"])
    # c is 1 m from b but b is itself a repeat of a; a is the earliest candidate anyway
    assert links(cases, radius_m=50, window_hours=24) == [None, "a", "a"]


def test_different_category_is_not_linked_when_same_category() -> None:
    cases = metric_cases([(0, 0), (10, 0)], [0, 1], categories=["waste", "lighting"])
    assert links(cases, radius_m=50, window_hours=24) == [None, None]
    assert links(cases, radius_m=50, window_hours=24, same_category=False) == [None, "c0"]


def test_missing_category_never_links_when_same_category() -> None:
    cases = metric_cases([(0, 0), (10, 0)], [0, 1])
    cases[s.CATEGORY] = [None, None]
    assert links(cases, radius_m=50, window_hours=24) == [None, None]


def test_different_sources_are_not_linked_by_default() -> None:
    cases = metric_cases([(0, 0), (10, 0)], [0, 1], sources=["137", "app"])
    assert links(cases, radius_m=50, window_hours=24) == [None, None]
    assert links(cases, radius_m=50, window_hours=24, same_source=False) == [None, "c0"]


@pytest.mark.parametrize(
    ("dx", "expected"), [(50.0, "c0"), (49.999, "c0"), (50.01, None), (30.0, "c0")]
)
def test_distance_boundary_is_inclusive(dx: float, expected: str | None) -> None:
    cases = metric_cases([(0, 0), (dx, 0)], [0, 1])
    assert links(cases, radius_m=50, window_hours=24)[1] == expected


def test_diagonal_distance_is_euclidean_not_a_box() -> None:
    # 40 m east and 40 m north: inside the 50 m box, but 56.6 m away
    cases = metric_cases([(0, 0), (40, 40)], [0, 1])
    assert links(cases, radius_m=50, window_hours=24) == [None, None]


@pytest.mark.parametrize(
    ("hours", "expected"), [(24.0, "c0"), (23.99, "c0"), (24.01, None), (0.0, "c0")]
)
def test_time_boundary_is_inclusive(hours: float, expected: str | None) -> None:
    cases = metric_cases([(0, 0), (10, 0)], [0, hours])
    assert links(cases, radius_m=50, window_hours=24)[1] == expected


def test_same_instant_ties_are_ordered_by_case_id() -> None:
    cases = metric_cases([(0, 0), (10, 0)], [3, 3], ids=["z9", "a1"])
    assert links(cases, radius_m=50, window_hours=24) == ["a1", None]


def test_row_order_does_not_matter_and_input_is_not_modified() -> None:
    cases = metric_cases([(0, 0), (30, 0), (60, 0)], [0, 1, 2])
    before = cases.copy()
    shuffled = cases.iloc[[2, 0, 1]]
    out = find_duplicates(shuffled, radius_m=50, window_hours=24)
    assert out.index.tolist() == [2, 0, 1]
    assert out.tolist() == ["c0", pd.NA, "c0"]
    pd.testing.assert_frame_equal(cases, before)


def test_lon_lat_input_uses_metres() -> None:
    lon, lat = to_lonlat(np.array([X0, X0 + 40.0, X0 + 200.0]), np.array([Y0, Y0, Y0]))
    frame = pd.DataFrame(
        {
            s.CASE_ID: ["a", "b", "c"],
            s.SOURCE: "137",
            s.CATEGORY: "waste",
            s.CREATED_AT: pd.to_datetime(["2024-05-01 08:00"] * 3, utc=True),
            s.LON: lon,
            s.LAT: lat,
            s.GEOCODE_PRECISION: ["point", "point", "point"],
        }
    )
    assert links(frame, radius_m=50, window_hours=24) == [None, "a", None]
    frame.loc[1, s.GEOCODE_PRECISION] = "address"
    assert links(frame, radius_m=50, window_hours=24) == [None, None, None]
    assert links(frame, radius_m=50, window_hours=24, precisions=None) == [None, "a", None]


def test_unlocated_and_undated_cases_are_left_alone() -> None:
    frame = pd.DataFrame(
        {
            s.CASE_ID: ["a", "b", "c"],
            s.SOURCE: "137",
            s.CATEGORY: "waste",
            s.CREATED_AT: pd.to_datetime(
                pd.Series(["2024-05-01 08:00", "2024-05-01 09:00", None]), utc=True
            ),
            s.LON: [51.4, np.nan, 51.4],
            s.LAT: [35.7, 35.7, 35.7],
        }
    )
    assert links(frame, radius_m=50, window_hours=24) == [None, None, None]


def test_text_similarity_after_persian_normalization() -> None:
    texts = [
        "تجمع زباله در خیابان ولیعصر",
        "تجمع زباله در خيابان وليعصر",  # Arabic yeh: the same text once normalized
        "سروصدای کارگاه ساختمانی شبانه",
        None,
    ]
    cases = metric_cases([(0, 0), (5, 0), (10, 0), (15, 0)], [0, 1, 2, 3], descriptions=texts)
    assert links(cases, radius_m=50, window_hours=24) == [None, "c0", "c0", "c0"]
    assert links(cases, radius_m=50, window_hours=24, text_similarity=0.9) == [
        None,
        "c0",
        None,
        None,
    ]


def test_text_similarity_skips_a_dissimilar_earlier_candidate() -> None:
    texts = ["خرابی چراغ راهنمایی", "تجمع زباله در کوچه", "تجمع زباله در کوچه بهار"]
    cases = metric_cases([(0, 0), (5, 0), (10, 0)], [0, 1, 2], descriptions=texts)
    assert links(cases, radius_m=50, window_hours=24, text_similarity=0.8) == [None, None, "c1"]


@pytest.mark.parametrize(
    "options",
    [
        {"radius_m": 0},
        {"radius_m": -5},
        {"window_hours": 0},
        {"text_similarity": 1.5},
    ],
)
def test_bad_parameters_are_refused(options: dict[str, float]) -> None:
    cases = metric_cases([(0, 0)], [0])
    with pytest.raises(InputError):
        find_duplicates(cases, **options)  # type: ignore[arg-type]


def test_resolve_roots_follows_links() -> None:
    assert resolve_roots(np.array([0, 0, 1, 2, 3, 5])).tolist() == [0, 0, 0, 0, 0, 5]


# --- brute-force reference ------------------------------------------------------------------
def brute_force(
    xy: Sequence[tuple[int, int]],
    hours: Sequence[int],
    categories: Sequence[str],
    ids: Sequence[str],
    radius_m: float,
    window_hours: float,
) -> list[str | None]:
    """The rule written as plainly as possible: O(n²) over the report order."""
    n = len(xy)
    order = sorted(range(n), key=lambda k: (hours[k], ids[k]))
    root: dict[int, int] = {}
    for pos, j in enumerate(order):
        parent = None
        for i in order[:pos]:
            dx, dy = xy[i][0] - xy[j][0], xy[i][1] - xy[j][1]
            if (
                categories[i] == categories[j]
                and dx * dx + dy * dy <= radius_m * radius_m
                and hours[j] - hours[i] <= window_hours
            ):
                parent = i
                break
        root[j] = j if parent is None else root[parent]
    return [None if root[k] == k else ids[root[k]] for k in range(n)]


case_rows = st.lists(
    st.tuples(
        st.integers(0, 120),  # x, metres
        st.integers(0, 120),  # y, metres
        st.integers(0, 60),  # hours after T0
        st.sampled_from(["waste", "lighting"]),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(
    rows=case_rows,
    radius_m=st.sampled_from([10.0, 25.0, 50.0]),
    window_hours=st.sampled_from([1.0, 6.0, 24.0]),
    seed=st.integers(0, 1000),
)
def test_matches_brute_force_reference(
    rows: list[tuple[int, int, int, str]], radius_m: float, window_hours: float, seed: int
) -> None:
    ids = [f"k{i:02d}" for i in np.random.default_rng(seed).permutation(len(rows))]
    xy = [(r[0], r[1]) for r in rows]
    hours = [r[2] for r in rows]
    cats = [r[3] for r in rows]
    cases = metric_cases(xy, hours, categories=cats, ids=ids)
    expected = brute_force(xy, hours, cats, ids, radius_m, window_hours)
    assert links(cases, radius_m=radius_m, window_hours=window_hours) == expected


def test_time_blocks_give_the_same_links(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    n = 400
    xy = [(float(a), float(b)) for a, b in rng.uniform(0, 400, (n, 2))]
    hours = rng.uniform(0, 200, n).tolist()
    cats = rng.choice(["waste", "lighting"], n).tolist()
    cases = metric_cases(xy, hours, categories=cats)
    whole = find_duplicates(cases, radius_m=40, window_hours=12)
    monkeypatch.setattr(dup, "BLOCK_SIZE", 7)
    blocked = find_duplicates(cases, radius_m=40, window_hours=12)
    assert whole.notna().sum() > 20
    pd.testing.assert_series_equal(whole, blocked)


def test_docstring_examples() -> None:
    result = doctest.testmod(dup, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
