"""Overview: city KPIs with change against the previous period, trend, top categories."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from .. import ids
from .common import manager_page

dash.register_page(__name__, path="/", name="overview", title="Tehran 137")  # type: ignore[no-untyped-call]


def layout(**query: Any) -> html.Div:
    """Return the overview page for the URL ``query``."""
    return manager_page(
        "page_overview",
        "/",
        ids.SYNC_OVERVIEW,
        query,
        html.Div(
            [
                html.Div(id=ids.OV_KPIS, className="kpi-cards"),
                html.Div(id=ids.OV_MEDIAN, className="kpi-median"),
            ],
            className="kpi-row",
        ),
        html.Div(
            [dcc.Graph(id=ids.OV_TREND), dcc.Graph(id=ids.OV_CATEGORIES)],
            className="two-columns",
        ),
    )
