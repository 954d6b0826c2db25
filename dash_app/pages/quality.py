"""Quality: the data-quality flags per unit and Jalali month (staff only)."""

from __future__ import annotations

from typing import Any

import dash
from dash import dash_table, dcc, html

from .. import i18n, ids
from .common import manager_page

dash.register_page(__name__, path="/quality", name="quality", title="Tehran 137 — quality")  # type: ignore[no-untyped-call]


def layout(**query: Any) -> html.Div:
    """Return the quality page for the URL ``query`` (filters, ``lang``)."""
    lang = i18n.lang_of(query.get("lang"))
    return manager_page(
        "page_quality",
        "/quality",
        ids.SYNC_QUALITY,
        query,
        dcc.Graph(id=ids.QUALITY_GRAPH, config={"displaylogo": False}),
        html.P(id=ids.QUALITY_NOTE, className="note"),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=ids.QUALITY_TABLE,
            sort_action="native",
            filter_action="native",
            page_action="native",
            page_size=25,
            style_table={"overflowX": "auto"},
            style_cell={"textAlign": "right" if lang == "fa" else "left"},
        ),
    )
