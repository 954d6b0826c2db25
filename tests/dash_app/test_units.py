"""Unit tests of the app's pure pieces: i18n, state, metrics, figures and views."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dash_app import i18n, metrics, views
from dash_app.config import AppSettings
from dash_app.figures import classify
from dash_app.state import Filters, kpi_of, lang_from_search, level_of, with_query
from ingest import schema as s


def test_persian_digits_and_numbers() -> None:
    assert i18n.digits("1402-05", "fa") == "۱۴۰۲−۰۵"
    assert i18n.digits("1402", "en") == "1402"
    assert i18n.number(12345.6, "fa", 1) == "۱۲٬۳۴۵٫۶"
    assert i18n.number(float("nan"), "en") == "–"


def test_jalali_labels_and_month_bounds() -> None:
    nowruz = dt.date(2023, 3, 21)
    assert i18n.jalali_month(nowruz, "fa") == "فروردین ۱۴۰۲"
    assert i18n.jalali_month(nowruz, "en") == "Farvardin 1402"
    assert i18n.jalali_month_start(dt.date(2023, 4, 1)) == nowruz
    assert i18n.next_jalali_month_start(dt.date(2023, 3, 25)) == dt.date(2023, 4, 21)
    # Esfand 1402 (a leap year) ends on 19 March 2024.
    assert i18n.next_jalali_month_start(dt.date(2024, 3, 19)) == dt.date(2024, 3, 20)


def test_every_key_has_both_languages() -> None:
    for key, (fa, en) in i18n.TABLE.items():
        assert fa, key
        assert en, key
        assert i18n.t(key, "fa") != i18n.t(key, "en") or key == "legend"


def test_language_defaults_to_persian() -> None:
    assert i18n.lang_of(None) == "fa"
    assert i18n.lang_of("de") == "fa"
    assert lang_from_search("?lang=en") == "en"
    assert lang_from_search("") == "fa"


def test_filters_round_trip_through_the_query() -> None:
    query = {
        "level": "region",
        "start": "2023-03-21",
        "end": "2023-05-22",
        "category": "water,traffic",
        "kind": "complaint",
    }
    filters = Filters.from_query(query)
    assert filters.start == dt.date(2023, 3, 21)
    assert filters.stop == dt.date(2023, 6, 22)  # start of Tir 1402
    assert filters.categories == ("traffic", "water")
    assert Filters.from_query(filters.to_query()) == filters
    assert hash(filters) == hash(Filters.from_query(filters.to_query()))


def test_filters_ignore_bad_values_and_swap_reversed_months() -> None:
    filters = Filters.from_inputs("2023-05-22", "2023-03-21", None, [], None, "", "nowhere")
    assert filters.level == "neighborhood"
    assert filters.start == dt.date(2023, 3, 21)
    assert Filters.from_inputs("not a date").start is None
    assert kpi_of("evil") == "volume"
    assert kpi_of("sla") == "sla"
    assert level_of("region") == "region"


def test_previous_period_has_the_same_length() -> None:
    filters = Filters.from_inputs("2023-03-21", "2023-04-21")
    previous = filters.previous()
    assert previous is not None
    assert previous.stop == filters.start
    assert filters.start is not None
    assert filters.stop is not None
    assert previous.start is not None
    assert filters.stop - filters.start == previous.stop - previous.start
    assert Filters().previous() is None


@given(
    st.dictionaries(
        st.sampled_from(["lang", "kpi", "level", "x"]),
        st.text(alphabet="abcé &=?", max_size=6),
        max_size=4,
    )
)
def test_with_query_sets_and_keeps_values(values: dict[str, str]) -> None:
    search = with_query("?keep=1", **values)
    from dash_app.state import parse_search

    parsed = parse_search(search)
    assert parsed["keep"] == "1"
    for key, value in values.items():
        assert parsed.get(key, "") == value


def _sums(**values: float) -> pd.DataFrame:
    row = dict.fromkeys(s.READ_MODEL_MEASURES, 0)
    row.update(values)
    return pd.DataFrame([row])


def test_kpis_from_read_model_sums() -> None:
    sums = _sums(
        cases=10,
        open_cases=3,
        closed_count=4,
        close_seconds_sum=4 * 2 * 86_400.0,
        closed_with_due_count=4,
        closed_on_time_count=3,
        satisfaction_count=2,
        satisfaction_sum=7,
        objected_count=1,
        accepted_count=3,
    ).assign(population=20_000)
    out = metrics.add_kpis(sums).iloc[0]
    assert out["volume"] == 10
    assert out["per_10k"] == pytest.approx(5.0)
    assert out["backlog"] == 3
    assert out["close_days"] == pytest.approx(2.0)
    assert out["sla"] == pytest.approx(75.0)
    assert out["satisfaction"] == pytest.approx(3.5)
    assert out["objection"] == pytest.approx(25.0)
    assert "population" in sums.columns  # input left alone
    assert "volume" not in sums.columns


def test_kpis_without_denominator_are_missing() -> None:
    out = metrics.add_kpis(_sums(cases=2)).iloc[0]
    assert np.isnan(out["sla"])
    assert np.isnan(out["satisfaction"])
    assert np.isnan(out["per_10k"])


def test_classify_gives_at_most_five_ordered_classes() -> None:
    values = pd.Series([1.0, 2.0, 2.5, 10.0, 11.0, 30.0, np.nan, 31.0, 50.0])
    classes, labels = classify(values)
    assert classes.iloc[6] == -1
    assert 1 <= len(labels) <= 5
    present = classes[values.notna()]
    assert present.min() == 0
    ordered = values[values.notna()].sort_values().index
    assert list(classes[ordered]) == sorted(classes[ordered])


def test_classify_constant_and_empty() -> None:
    assert classify(pd.Series([3.0, 3.0]))[1] == ["3"]
    assert classify(pd.Series([np.nan]))[1] == []


def _area_table() -> pd.DataFrame:
    table = pd.DataFrame(
        {
            s.CODE: ["1", "2", "3"],
            s.NAME_FA: ["یک", "دو", None],
            s.NAME_EN: ["One", "Two", "Three"],
        }
    )
    sums = pd.concat(
        [
            _sums(cases=100, objected_count=10, accepted_count=90),
            _sums(cases=200, objected_count=60, accepted_count=140),
            _sums(cases=5, objected_count=0, accepted_count=5),
        ],
        ignore_index=True,
    )
    return metrics.add_kpis(pd.concat([table, sums], axis=1))


def _ranked(kpi: str, min_volume: int) -> pd.DataFrame:
    from analytics.ranking import rank_areas
    from dash_app import derive
    from dash_app.data import RANK_METRICS

    table = _area_table().assign(**{s.PARENT_CODE: None})
    stats = pd.DataFrame({s.CODE: ["1", "2", "3"]})
    for column in (derive.CLOSE_N, derive.CLOSE_EVENTS, "satisfaction_n"):
        stats[column] = 0
    for column in (
        derive.CLOSE_MEDIAN_H,
        derive.CLOSE_MEDIAN_LO_H,
        derive.CLOSE_MEDIAN_HI_H,
        derive.CLOSE_MAX_H,
        "satisfaction_mean",
        "satisfaction_sd",
    ):
        stats[column] = np.nan
    frame = derive.ranking_input(table, stats, "region", None)
    ranked = rank_areas(frame, RANK_METRICS[kpi], "region", min_volume=min_volume, n_boot=200)
    ranked = ranked.rename(columns={s.REGION_CODE: s.CODE})
    return table[[s.CODE, s.NAME_FA, s.NAME_EN]].merge(ranked, on=s.CODE, how="right")


def test_rankings_apply_the_minimum_volume_rule() -> None:
    rows, columns = views.ranking_rows(_ranked("objection", 30), "objection", "en")
    assert [r["code"] for r in rows] == ["1", "2", "3"]
    assert [r["rank"] for r in rows] == [1, 2, None]
    assert rows[2]["status"] == "not enough cases"
    assert rows[2]["rank_interval"] == ""
    assert rows[0]["rank_interval"]  # rank_areas gives every rank an interval
    assert rows[0]["raw"] == 10.0  # 10 objected of 100 answers, in percent
    lo, hi = (float(v) for v in rows[0]["interval"].split(" – "))
    assert lo <= rows[0]["estimate"] <= hi
    assert {c["id"] for c in columns} >= {"rank", "rank_interval", "estimate", "status"}


def test_rankings_with_no_data_and_name_fall_back() -> None:
    rows, _ = views.ranking_rows(_ranked("satisfaction", 1), "satisfaction", "fa")
    assert {r["status"] for r in rows} == {"بدون داده"}  # no survey answers at all
    assert all(r["rank"] is None for r in rows)
    assert "Three" in {r["name"] for r in rows}  # no Persian name: the English one


def test_public_rows_hide_suppressed_cells() -> None:
    public = pd.DataFrame(
        {
            s.CODE: ["1", "2"],
            s.NAME_FA: ["یک", "دو"],
            s.NAME_EN: ["One", "Two"],
            "volume": [12.0, np.nan],
            "value": [3.5, np.nan],
            "suppressed": [False, True],
        }
    )
    rows, _ = views.public_rows(public, "satisfaction", "en")
    assert rows[0] == {"name": "One", "volume": "12", "value": "3.50"}
    assert rows[1]["volume"] == rows[1]["value"] == "suppressed"


def test_settings_refuse_bad_values() -> None:
    with pytest.raises(ValueError, match="k_anonymity"):
        AppSettings(store_url="x", k_anonymity=0)


def test_hotspot_rows_list_significant_units_strongest_first() -> None:
    frame = pd.DataFrame(
        {
            s.CODE: ["1", "2", "3"],
            s.NAME_FA: ["یک", "دو", "سه"],
            s.NAME_EN: ["One", "Two", "Three"],
            "n_cases": [10, 50, 5],
            "z": [0.3, 3.2, -4.0],
            "q": [0.9, 0.01, 0.001],
            "hotspot": ["not significant", "hot", "cold"],
        }
    )
    rows, _ = views.hotspot_rows(frame, "en")
    assert [r["name"] for r in rows] == ["Three", "Two"]
    assert [r["hotspot"] for r in rows] == ["cold spot", "hot spot"]
    assert views.hotspot_rows(None, "fa")[0] == []
