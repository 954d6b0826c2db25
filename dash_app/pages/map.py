"""Map: a classed choropleth of one KPI by area, on a blank base (no tiles by default)."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from .. import i18n, ids, views
from ..state import kpi_of
from .common import manager_page

dash.register_page(__name__, path="/map", name="map", title="Tehran 137 — map")  # type: ignore[no-untyped-call]


def layout(**query: Any) -> html.Div:
    """Return the map page for the URL ``query`` (``kpi``, filters, ``lang``)."""
    lang = i18n.lang_of(query.get("lang"))
    return manager_page(
        "page_map",
        "/map",
        ids.SYNC_MAP,
        query,
        views.kpi_select(ids.MAP_KPI, kpi_of(query.get("kpi")), lang),
        html.Div(
            [
                dcc.Graph(
                    id=ids.MAP_GRAPH,
                    className="map-graph",
                    config={"displaylogo": False, "scrollZoom": True},
                ),
                html.Div(
                    html.P(i18n.t("click_hint", lang), className="note"),
                    id=ids.MAP_DETAIL,
                    className="map-detail",
                ),
            ],
            className="map-layout",
        ),
    )
