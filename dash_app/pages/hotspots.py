"""Hotspots: Getis-Ord Gi* hot and cold neighborhoods under the shared filters."""

from __future__ import annotations

from typing import Any

import dash
from dash import dash_table, dcc, html

from .. import i18n, ids
from .common import manager_page

dash.register_page(__name__, path="/hotspots", name="hotspots", title="Tehran 137 — hotspots")  # type: ignore[no-untyped-call]


def layout(**query: Any) -> html.Div:
    """Return the hotspots page for the URL ``query``."""
    lang = i18n.lang_of(query.get("lang"))
    return manager_page(
        "page_hotspots",
        "/hotspots",
        ids.SYNC_HOTSPOTS,
        query,
        html.P(i18n.t("hotspot_note", lang), className="note"),
        dcc.Graph(id=ids.HOT_GRAPH, className="map-graph", config={"displaylogo": False}),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=ids.HOT_TABLE,
            sort_action="native",
            page_size=25,
            export_format="csv",
            style_cell={"textAlign": "right" if lang == "fa" else "left"},
        ),
    )
