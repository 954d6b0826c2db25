"""compute_report: the figures equal independent counts of the cases, and are reproducible."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from analytics.report.figures import ReportData, compute_report
from analytics.report.params import ReportParams, month_window
from geo.store import open_store
from ingest import schema as s
from tests.report.synthetic_store import MONTH, PREVIOUS


@pytest.fixture(scope="module")
def inputs(report_store: Path) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    with open_store(report_store) as store:
        return store.read_cases(), store.read_boundaries()


@pytest.fixture(scope="module")
def city(inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> ReportData:
    cases, boundaries = inputs
    return compute_report(cases, boundaries, ReportParams(month=MONTH))


def _in_month(cases: pd.DataFrame, month: str) -> pd.DataFrame:
    start, end = month_window(month)
    return cases[(cases[s.CREATED_AT] >= start) & (cases[s.CREATED_AT] < end)]


def test_city_volume_counts_the_month(
    city: ReportData, inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    cases, _ = inputs
    now, before = len(_in_month(cases, MONTH)), len(_in_month(cases, PREVIOUS))
    assert now > 100
    assert city["city.volume"].value == str(now)
    assert city["city.volume.prev"].value == str(before)
    assert city["city.volume.change"].value == str(now - before)
    assert city.n_cases == now


def test_backlog_counts_open_cases_at_month_end(
    city: ReportData, inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    cases, _ = inputs
    _, end = month_window(MONTH)
    created = cases[cases[s.CREATED_AT] < end]
    terminal = created[s.STATUS].astype(str).isin(s.TERMINAL_STATUSES)
    closed = created[s.CLOSED_AT].notna() & (created[s.CLOSED_AT] <= end)
    gone = closed | (terminal & created[s.CLOSED_AT].isna())
    assert city["city.backlog"].value == str(int((~gone).sum()))


def test_neighborhood_volumes_add_up(
    city: ReportData, inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    cases, boundaries = inputs
    month = _in_month(cases, MONTH)
    located = month[s.NEIGHBORHOOD_CODE].notna()
    hoods = boundaries[boundaries[s.LEVEL] == s.LEVEL_NEIGHBORHOOD][s.CODE].astype(str)
    total = sum(int(city[f"area.{code}.volume"].value) for code in hoods)
    assert total == int(located.sum())
    expected = month[s.NEIGHBORHOOD_CODE].astype(str).value_counts()
    busiest = str(expected.index[0])
    assert city[f"area.{busiest}.volume"].value == str(int(expected.iloc[0]))


def test_ranking_and_hotspots_are_present(city: ReportData) -> None:
    ranks = [f for f in city.prefixed("rank.") if f.key.endswith(".rank") and f.value]
    assert sorted(int(f.value) for f in ranks) == list(range(1, len(ranks) + 1))
    assert city.ranking_level == "region"
    for figure in ranks:
        code = figure.key.split(".")[1]
        low, high = int(city[f"rank.{code}.rank_lo"].value), int(city[f"rank.{code}.rank_hi"].value)
        assert low <= int(figure.value) <= high
    assert int(city["hotspot.count"].value) >= 1  # the generator plants persistent hotspots
    assert city["hotspot.1.pattern"].value in (
        "persistent",
        "intensifying",
        "consecutive",
        "oscillating",
    )
    assert int(city["quality.flagged"].value) >= 0


def test_figures_are_reproducible(
    city: ReportData, inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    cases, boundaries = inputs
    shuffled = cases.sample(frac=1.0, random_state=1).reset_index(drop=True)
    again = compute_report(shuffled, boundaries, ReportParams(month=MONTH))
    assert again.figures == city.figures


def test_region_report_counts_only_the_region(
    inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    cases, boundaries = inputs
    data = compute_report(cases, boundaries, ReportParams(month=MONTH, region="2"))
    month = _in_month(cases, MONTH)
    assert data["city.volume"].value == str(int((month[s.REGION_CODE].astype(str) == "2").sum()))
    assert data.ranking_level == "neighborhood"
    assert set(data.neighborhoods[s.PARENT_CODE].astype(str)) == {"2"}
    assert all(f.key.split(".")[1].startswith("2") for f in data.prefixed("area."))


def test_unknown_region_is_refused(inputs: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    cases, boundaries = inputs
    with pytest.raises(ValueError, match="--region 99 has no neighborhoods"):
        compute_report(cases, boundaries, ReportParams(month=MONTH, region="99"))
