"""Trends: a KPI by Jalali month, for the whole city or split by category or area."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from .. import i18n, ids, views
from ..state import SUM_KPIS, sum_kpi_of
from .common import manager_page

dash.register_page(__name__, path="/trends", name="trends", title="Tehran 137 — trends")  # type: ignore[no-untyped-call]

SPLITS = (("none", "by_none"), ("category", "by_category"), ("area", "area"))


def layout(**query: Any) -> html.Div:
    """Return the trends page for the URL ``query`` (``kpi``, ``by``, filters, ``lang``)."""
    lang = i18n.lang_of(query.get("lang"))
    by = query.get("by") if query.get("by") in dict(SPLITS) else "none"
    return manager_page(
        "page_trends",
        "/trends",
        ids.SYNC_TRENDS,
        query,
        html.Div(
            [
                views.kpi_select(ids.TREND_KPI, sum_kpi_of(query.get("kpi")), lang, SUM_KPIS),
                html.Div(
                    [
                        html.Label(i18n.t("trend_by", lang), htmlFor=ids.TREND_BY),
                        dcc.Dropdown(
                            id=ids.TREND_BY,
                            options=[{"label": i18n.t(k, lang), "value": v} for v, k in SPLITS],
                            value=by,
                            clearable=False,
                        ),
                    ],
                    className="filter",
                ),
            ],
            className="filter-bar",
        ),
        dcc.Graph(id=ids.TREND_GRAPH),
    )
