"""Public page: aggregates only, cells under k cases suppressed, with the ingest-log head."""

from __future__ import annotations

from typing import Any

import dash
from dash import dash_table, dcc, html

from .. import data, i18n, ids, views
from ..state import SUM_KPIS, sum_kpi_of

dash.register_page(__name__, path="/public", name="public", title="Tehran 137 — public")  # type: ignore[no-untyped-call]


def layout(**query: Any) -> html.Div:
    """Return the public page for the URL ``query`` (``level``, ``kpi``, ``lang``)."""
    lang = i18n.lang_of(query.get("lang"))
    svc = data.service()
    levels = svc.levels()
    level = query.get("level") if query.get("level") in levels else (levels[0] if levels else None)
    level_options = [{"label": i18n.t(i18n.LEVEL_KEYS[v], lang), "value": v} for v in levels]
    return html.Div(
        [
            dcc.Store(id=ids.F_LANG, data=lang),
            dcc.Store(id=ids.SYNC_PUBLIC),
            html.H2(i18n.t("page_public", lang)),
            html.P(i18n.t("public_intro", lang, k=svc.settings.k_anonymity), className="note"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Label(i18n.t("filter_level", lang), htmlFor=ids.PUB_LEVEL),
                            dcc.Dropdown(
                                id=ids.PUB_LEVEL,
                                options=level_options,
                                value=level,
                                clearable=False,
                            ),
                        ],
                        className="filter",
                    ),
                    views.kpi_select(ids.PUB_KPI, sum_kpi_of(query.get("kpi")), lang, SUM_KPIS),
                ],
                className="filter-bar",
            ),
            dcc.Graph(id=ids.PUB_MAP, className="map-graph", config={"displaylogo": False}),
            dcc.Graph(id=ids.PUB_GRAPH),
            dash_table.DataTable(  # type: ignore[attr-defined]
                id=ids.PUB_TABLE,
                sort_action="native",
                page_size=25,
                style_cell={"textAlign": "right" if lang == "fa" else "left"},
            ),
            html.P(id=ids.PUB_CHAIN, className="chain-head"),
        ],
        className="page",
    )
