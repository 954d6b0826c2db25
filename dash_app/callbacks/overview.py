"""Overview callback: KPI cards, monthly trend and top categories."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State

from .. import data, figures, i18n, ids, views
from ..state import Filters

FILTER_INPUTS = [Input(i, "value") for i in ids.FILTERS]


def overview_outputs(filters: Filters, lang: i18n.Lang) -> tuple[Any, Any, Any]:
    """Return (KPI cards, trend figure, top-categories figure) for ``filters``.

    The cards hold the read-model KPIs, each with its change against the previous period of
    equal length (the Kaplan–Meier median has its own callback: :func:`median_output`).
    """
    svc = data.service()
    previous = filters.previous()
    before = None if previous is None else svc.totals(previous)
    return (
        views.kpi_cards(svc.totals(filters), before, lang),
        figures.trend(svc.monthly(filters), lang),
        figures.top_categories(svc.by_category(filters), lang),
    )


def median_output(filters: Filters, lang: i18n.Lang) -> Any:
    """Return the card of the Kaplan–Meier median time to close of ``filters``.

    It reads cases (two timestamp columns, filters pushed down), so it is a callback of its
    own: the read-model cards do not wait for it.
    """
    return views.median_card(data.service().close_median(filters), None, lang)


def register(app: dash.Dash) -> None:
    """Register the overview callbacks."""

    @app.callback(
        Output(ids.OV_MEDIAN, "children"),
        *FILTER_INPUTS,
        State(ids.F_LANG, "data"),
    )
    def _median(*values: Any) -> Any:
        *inputs, lang = values
        return median_output(Filters.from_inputs(*inputs), i18n.lang_of(lang))

    @app.callback(
        Output(ids.OV_KPIS, "children"),
        Output(ids.OV_TREND, "figure"),
        Output(ids.OV_CATEGORIES, "figure"),
        *FILTER_INPUTS,
        State(ids.F_LANG, "data"),
    )
    def _overview(*values: Any) -> tuple[Any, Any, Any]:
        *inputs, lang = values
        return overview_outputs(Filters.from_inputs(*inputs), i18n.lang_of(lang))
