"""Map: a classed choropleth of one KPI by area, on a blank base (no tiles by default)."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from .. import i18n, ids, views
from ..state import OVERLAYS, kpi_of, overlays_of
from .common import manager_page

dash.register_page(__name__, path="/map", name="map", title="Tehran 137 — map")  # type: ignore[no-untyped-call]


def layout(**query: Any) -> html.Div:
    """Return the map page for the URL ``query`` (``kpi``, ``overlay``, filters, ``lang``)."""
    lang = i18n.lang_of(query.get("lang"))
    overlay_options = [
        {"label": i18n.t(f"overlay_{kind}", lang), "value": kind} for kind in OVERLAYS
    ]
    return manager_page(
        "page_map",
        "/map",
        ids.SYNC_MAP,
        query,
        html.Div(
            [
                views.kpi_select(ids.MAP_KPI, kpi_of(query.get("kpi")), lang),
                html.Div(
                    [
                        html.Label(i18n.t("overlay", lang), htmlFor=ids.MAP_OVERLAY),
                        dcc.Checklist(
                            id=ids.MAP_OVERLAY,
                            options=overlay_options,  # type: ignore[arg-type]
                            value=list(overlays_of(query.get("overlay"))),
                            inline=True,
                        ),
                    ],
                    className="filter",
                ),
            ],
            className="filter-bar",
        ),
        html.P(
            f"{i18n.t('map_kpi_note', lang)} {i18n.t('overlay_note', lang)}",
            id=ids.MAP_OVERLAY_NOTE,
            className="note",
        ),
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
