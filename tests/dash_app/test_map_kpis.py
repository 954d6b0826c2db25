"""The map KPIs read from the cases: the KM median time to close and the overdue share."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from analytics.indicators import kpis
from dash_app import AppSettings, auth, create_app, data, derive, figures, metrics, state
from dash_app.callbacks import pages, public
from dash_app.state import Filters
from geo.store import open_store
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from tests.dash_app.conftest import ingest_cases
from tests.support.cases import random_cases

NOT_REACHED_EN = "Median not reached (over half open)"


def _located(cases: pd.DataFrame, column: str) -> pd.DataFrame:
    return pd.DataFrame(cases.loc[cases[column].notna()])


def _pandas_overdue(cases: pd.DataFrame, column: str) -> pd.DataFrame:
    """Open cases at T (the latest creation or close) and those past due, by area, in pandas."""
    when = pd.concat([cases[s.CREATED_AT], cases[s.CLOSED_AT]]).max()
    created, closed, due = cases[s.CREATED_AT], cases[s.CLOSED_AT], cases[s.DUE_AT]
    terminal = cases[s.STATUS].astype(str).isin(s.TERMINAL_STATUSES)
    still_open = (created <= when) & (closed.isna() | (closed > when)) & ~(terminal & closed.isna())
    late = still_open & due.notna() & (due < when)
    frame = pd.DataFrame(
        {"code": cases[column].astype("string"), "open": still_open, "late": late}
    ).dropna(subset=["code"])
    sums = frame.groupby("code")[["open", "late"]].sum()
    sums["share"] = np.where(sums["open"] > 0, 100.0 * sums["late"] / sums["open"], np.nan)
    return sums


# --- state --------------------------------------------------------------------------------
def test_the_map_offers_both_new_kpis_and_keeps_old_bookmarks() -> None:
    assert {"close_median", "overdue_share"} <= set(state.KPIS)
    assert set(state.KPIS) >= state.CASE_KPIS
    assert "close_days" not in state.KPIS  # the mean is no longer a map KPI
    assert state.kpi_of("close_days") == "close_median"
    assert state.kpi_of("overdue_share") == "overdue_share"
    # trends and the public page keep the read-model KPIs
    assert state.sum_kpi_of("overdue_share") == "volume"
    assert state.sum_kpi_of("close_days") == "close_days"


# --- median time to close -----------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize(
    ("level", "filters"),
    [
        (s.LEVEL_REGION, {}),
        (s.LEVEL_NEIGHBORHOOD, {}),
        (s.LEVEL_REGION, {"categories": ("water", "traffic")}),
    ],
)
def test_map_median_per_area_is_the_kaplan_meier_median_of_its_cases(
    small_cases: gpd.GeoDataFrame, level: str, filters: dict[str, tuple[str, ...]]
) -> None:
    chosen = Filters(level=level, **filters)
    table = data.service().map_table(chosen, "close_median").set_index(s.CODE)
    column = s.LEVEL_CODE_COLUMN[level]
    cases = pd.DataFrame(small_cases)
    if "categories" in filters:
        cases = cases.loc[cases[s.CATEGORY].isin(filters["categories"])]
    frame = cases[[s.CREATED_AT, s.CLOSED_AT, column]]
    as_of = derive.latest_instant(frame)  # one censoring instant: the selection's latest
    reference = kpis(_located(frame, column), by=[column], period=None, as_of=as_of)
    reference = reference.set_index(reference[column].astype(str))
    checked = 0
    for code, part in _located(frame, column).groupby(column, observed=True):
        expected = derive.close_median(part, as_of=as_of)
        got = table.loc[str(code)]
        if np.isnan(expected.days):
            assert bool(got[metrics.CLOSE_NOT_REACHED])
            assert np.isnan(got[metrics.CLOSE_MEDIAN])
            continue
        assert got[metrics.CLOSE_MEDIAN] == pytest.approx(expected.days, rel=1e-9)
        assert got[metrics.CLOSE_MEDIAN_LO] == pytest.approx(
            expected.lo_days, rel=1e-9, nan_ok=True
        )
        assert got[metrics.CLOSE_MEDIAN_HI] == pytest.approx(
            expected.hi_days, rel=1e-9, nan_ok=True
        )
        hours = float(reference.loc[str(code), "close_median_h"])
        assert got[metrics.CLOSE_MEDIAN] == pytest.approx(hours / 24, rel=1e-6)
        assert not bool(got[metrics.CLOSE_NOT_REACHED])
        checked += 1
    assert checked >= 3


@pytest.fixture
def half_open_store(tmp_path: Path) -> Path:
    """Two regions: region 2's cases are four-fifths still open (no median there)."""
    bounds = synthetic_boundaries(n_regions=2, n_neighborhoods=6)
    cases = random_cases(400, seed=3, boundaries=bounds, months=3)
    in_two = (cases[s.REGION_CODE].astype(str) == "2").to_numpy()
    rng = np.random.default_rng(1)
    reopen = in_two & (rng.uniform(size=len(cases)) < 0.8)
    cases.loc[reopen, s.CLOSED_AT] = pd.NaT
    cases.loc[reopen, s.STATUS] = "in_progress"
    path = tmp_path / "store"
    with open_store(str(path)) as store:
        store.write_boundaries(bounds)
    ingest_cases(path, cases, "6")
    return path


def test_an_area_whose_median_is_not_reached_is_shown_as_such(half_open_store: Path) -> None:
    app = create_app(AppSettings(store_url=str(half_open_store), require_login=False))
    with app.server.test_request_context():
        table = data.service().map_table(Filters(level="region"), "close_median")
        row = table.set_index(s.CODE)
        assert bool(row.loc["2", metrics.CLOSE_NOT_REACHED])
        assert np.isnan(row.loc["2", metrics.CLOSE_MEDIAN])  # no made-up number
        assert row.loc["2", metrics.CLOSE_MAX_DAYS] > 0
        assert not bool(row.loc["1", metrics.CLOSE_NOT_REACHED])
        assert row.loc["1", metrics.CLOSE_MEDIAN] > 0
        fig = pages.map_figure(Filters(level="region"), "close_median", "en")
        apart = [trace for trace in fig.data if trace.name == NOT_REACHED_EN]
        assert len(apart) == 1
        assert list(apart[0].locations) == ["2"]
        assert apart[0].colorscale[0][1] == figures.NOT_REACHED_COLOUR
        longest = figures.value_texts(table.iloc[[1]], "close_median", "en")[0]
        assert apart[0].customdata[0][0] == longest
        assert longest.startswith("not reached: over ")
        shown = [trace for trace in fig.data if "1" in list(trace.locations)]
        assert shown[0].name != NOT_REACHED_EN
        assert "95% interval" in shown[0].customdata[0][0]
        # the Persian map says so too, in its own class
        fa = pages.map_figure(Filters(level="region"), "close_median", "fa")
        assert any(t.name == "میانه به دست نیامده (بیش از نیمی باز)" for t in fa.data)
        # and so does the panel of the clicked area
        click = {"points": [{"location": "2"}]}
        panel = pages.area_detail(click, Filters(level="region"), "en", "close_median")
        assert "not reached: over" in json.dumps(panel.to_plotly_json(), default=str)


def test_median_texts_without_cases_and_with_an_interval() -> None:
    table = pd.DataFrame(
        {
            s.CODE: ["a", "b", "c"],
            metrics.CLOSE_MEDIAN: [1.25, np.nan, np.nan],
            metrics.CLOSE_MEDIAN_LO: [1.0, np.nan, np.nan],
            metrics.CLOSE_MEDIAN_HI: [1.5, np.nan, np.nan],
            metrics.CLOSE_MAX_DAYS: [9.0, 12.0, np.nan],
            metrics.CLOSE_NOT_REACHED: [False, True, False],
        }
    )
    texts = figures.value_texts(table, "close_median", "en")
    assert texts == [
        "1.2 (95% interval: 1.0 – 1.5)",
        "not reached: over 12.0 days (over half still open)",
        "–",
    ]
    assert figures.value_texts(table, "close_median", "fa")[1].startswith("به دست نیامده")


def test_with_close_median_marks_areas_with_cases_and_no_median() -> None:
    table = pd.DataFrame({s.CODE: ["1", "2", "3"], "volume": [4, 3, 0]})
    stats = pd.DataFrame(
        {
            s.CODE: ["2", "1"],
            derive.CLOSE_N: [3, 4],
            derive.CLOSE_EVENTS: [1, 4],
            derive.CLOSE_MEDIAN_H: [np.nan, 48.0],
            derive.CLOSE_MEDIAN_LO_H: [np.nan, 24.0],
            derive.CLOSE_MEDIAN_HI_H: [np.nan, 72.0],
            derive.CLOSE_MAX_H: [240.0, 96.0],
        }
    )
    out = metrics.with_close_median(table, stats)
    assert out[metrics.CLOSE_MEDIAN].tolist()[0] == 2.0
    assert out[metrics.CLOSE_NOT_REACHED].tolist() == [False, True, False]  # "3": no cases
    assert out[metrics.CLOSE_MAX_DAYS].tolist()[1] == 10.0
    assert "close_median" not in table.columns  # the input is not modified


# --- overdue share ------------------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
@pytest.mark.parametrize(
    ("level", "filters"),
    [
        (s.LEVEL_NEIGHBORHOOD, {}),
        (s.LEVEL_REGION, {}),
        (s.LEVEL_REGION, {"kinds": ("complaint",)}),
    ],
)
def test_overdue_share_per_area_matches_pandas(
    small_cases: gpd.GeoDataFrame, level: str, filters: dict[str, tuple[str, ...]]
) -> None:
    chosen = Filters(level=level, **filters)
    table = data.service().map_table(chosen, "overdue_share").set_index(s.CODE)
    column = s.LEVEL_CODE_COLUMN[level]
    cases = pd.DataFrame(small_cases)
    if "kinds" in filters:
        cases = cases.loc[cases[s.KIND].isin(filters["kinds"])]
    expected = _pandas_overdue(cases, column)
    assert set(expected.index) <= set(table.index)
    got = table.loc[expected.index]
    assert got[metrics.OPEN_AT_END].tolist() == expected["open"].astype(int).tolist()
    assert got[metrics.OVERDUE].tolist() == expected["late"].astype(int).tolist()
    np.testing.assert_allclose(
        got[metrics.OVERDUE_SHARE].to_numpy(dtype=float), expected["share"].to_numpy()
    )
    shares = got[metrics.OVERDUE_SHARE].dropna()
    assert ((shares > 0) & (shares < 100)).any()  # a test that can tell shares apart


def test_area_overdue_uses_the_indicator_definitions() -> None:
    created = pd.to_datetime(["2024-01-01T08:00Z"] * 4 + ["2024-01-05T08:00Z"])
    cases = pd.DataFrame(
        {
            s.CREATED_AT: created,
            s.CLOSED_AT: pd.to_datetime([None, None, "2024-01-02T08:00Z", None, None], utc=True),
            s.DUE_AT: pd.to_datetime(
                ["2024-01-02T08:00Z", "2024-01-09T08:00Z", "2024-01-02T00:00Z"] + [None] * 2,
                utc=True,
            ),
            s.STATUS: ["in_progress", "referred", "closed", "rejected", "registered"],
            s.REGION_CODE: pd.Categorical(["1", "1", "1", "1", "2"]),
        }
    )
    out = derive.area_overdue(cases, s.REGION_CODE)
    assert out.attrs["as_of"] == pd.Timestamp("2024-01-05T08:00Z")
    assert out[s.CODE].tolist() == ["1", "2"]
    # region 1: two open at T (the closed one and the rejected one without a close are not),
    # one of them past due
    assert out[derive.OPEN_N].tolist() == [2, 1]
    assert out[derive.OVERDUE_N].tolist() == [1, 0]
    assert out[derive.OVERDUE_SHARE].tolist() == [0.5, 0.0]
    nowhere = cases.assign(**{s.REGION_CODE: pd.Categorical([None] * 5, ["1"])})
    assert derive.area_overdue(nowhere, s.REGION_CODE).empty


@pytest.mark.usefixtures("app_context")
def test_overdue_map_shows_percent_classes_and_counts_in_the_hover() -> None:
    fig = pages.map_figure(Filters(level="neighborhood"), "overdue_share", "en")
    assert fig.layout.legend.title.text == "Open cases past their due time (%)"
    assert sum(len(trace.locations) for trace in fig.data) == 20
    texts = [row[0] for trace in fig.data for row in trace.customdata]
    assert any("% (" in text and "open cases)" in text for text in texts)
    bounds = [float(t.name.split(" – ")[1]) for t in fig.data if " – " in t.name]
    assert bounds
    assert max(bounds) <= 100.0
    volume = pages.map_figure(Filters(level="neighborhood"), "volume", "en")
    assert fig.to_json() != volume.to_json()
    click = {"points": [{"location": "101"}]}
    panel = pages.area_detail(click, Filters(), "en", "overdue_share")
    assert "Open cases past their due time (%)" in json.dumps(panel.to_plotly_json(), default=str)


# --- reads, cache and roles ----------------------------------------------------------------
@pytest.mark.usefixtures("app_context")
def test_read_model_kpis_read_no_case_and_case_kpis_are_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    svc = data.service()
    chosen = Filters(level="region", categories=("lighting",))
    svc.map_table(chosen, "close_median")
    svc.map_table(chosen, "overdue_share")
    svc.map_table(chosen, "volume")

    def no_read(*_args: object, **_kwargs: object) -> pd.DataFrame:
        raise AssertionError("a cached or read-model view read the cases")

    monkeypatch.setattr(svc, "_read_cases", no_read)
    for kpi in ("close_median", "overdue_share"):
        assert len(svc.map_table(chosen, kpi)) == 4
    plain = svc.map_table(Filters(level="region", kinds=("idea",)), "sla")
    assert metrics.CLOSE_MEDIAN not in plain.columns
    assert metrics.OVERDUE_SHARE not in plain.columns


def test_anonymous_viewers_get_no_case_kpis(anonymous_context: None) -> None:
    svc = data.service()
    for call in (
        lambda: svc.map_table(Filters(), "close_median"),
        lambda: svc.area_overdue(Filters()),
        lambda: pages.map_view(Filters(), "overdue_share", "en"),
    ):
        with pytest.raises(auth.AccessDeniedError):
            call()


def test_public_page_keeps_the_read_model_kpis(anonymous_context: None) -> None:
    with pytest.raises(ValueError, match="public page"):
        data.service().public_table("region", "close_median")
    # a crafted KPI falls back to the default: volume
    _map, _bar, rows, columns, _chain = public.public_outputs("region", "overdue_share", "en")
    assert columns[-1]["name"] == "Cases"
    assert len(rows) == 4


@pytest.mark.usefixtures("app_context")
def test_a_selection_with_no_case_maps_the_new_kpis_as_no_data() -> None:
    nothing = Filters(level=s.LEVEL_REGION, categories=("no-such-category",))
    for kpi in ("close_median", "overdue_share"):
        table = data.service().map_table(nothing, kpi)
        assert len(table) == 4
        assert table[kpi].isna().all()
        fig = pages.map_figure(nothing, kpi, "en")
        assert [trace.name for trace in fig.data] == ["No data for this selection."]
    assert not data.service().map_table(nothing, "close_median")[metrics.CLOSE_NOT_REACHED].any()
    points = data.service().case_points(nothing, None)
    assert points.empty
    assert points.crs is not None
