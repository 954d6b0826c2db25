"""Rankings: areas ranked with intervals and the minimum-volume rule, with four exports.

CSV and Excel hold the table; GeoJSON and GeoParquet add the area polygons (EPSG:4326).
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dash_table, dcc, html

from .. import i18n, ids, views
from ..state import RANK_KPIS, rank_kpi_of
from .common import manager_page

dash.register_page(__name__, path="/rankings", name="rankings", title="Tehran 137 — rankings")  # type: ignore[no-untyped-call]


def layout(**query: Any) -> html.Div:
    """Return the rankings page for the URL ``query``."""
    lang = i18n.lang_of(query.get("lang"))
    return manager_page(
        "page_rankings",
        "/rankings",
        ids.SYNC_RANKINGS,
        query,
        views.kpi_select(ids.RANK_KPI, rank_kpi_of(query.get("kpi")), lang, RANK_KPIS),
        html.P(id=ids.RANK_NOTE, className="note"),
        views.download_buttons(ids.RANK_DOWNLOADS, lang),
        dcc.Download(id=ids.RANK_DOWNLOAD),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=ids.RANK_TABLE,
            sort_action="native",
            filter_action="native",
            page_action="native",
            page_size=25,
            style_table={"overflowX": "auto"},
            style_cell={"textAlign": "right" if lang == "fa" else "left"},
        ),
    )
