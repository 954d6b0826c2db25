"""Public-page callback: aggregates only, small cells suppressed, with the chain head."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State

from .. import data, figures, i18n, ids, views
from ..state import level_of, sum_kpi_of


def public_outputs(level: str | None, kpi: str | None, lang: i18n.Lang) -> tuple[Any, ...]:
    """Return (map, bar chart, table rows, table columns, chain-head text) of the public page."""
    svc = data.service()
    chosen_kpi = sum_kpi_of(kpi)
    table = svc.public_table(level_of(level), chosen_kpi)
    rows, columns = views.public_rows(table, chosen_kpi, lang)
    head = svc.chain_head()
    layer = svc.map_layer(level_of(level))
    return (
        figures.public_map(table, layer, chosen_kpi, lang),
        figures.public_bar(table, chosen_kpi, lang),
        rows,
        columns,
        views.chain_text(head.seq, head.run_hash, lang),
    )


def register(app: dash.Dash) -> None:
    """Register the public-page callback."""

    @app.callback(
        Output(ids.PUB_MAP, "figure"),
        Output(ids.PUB_GRAPH, "figure"),
        Output(ids.PUB_TABLE, "data"),
        Output(ids.PUB_TABLE, "columns"),
        Output(ids.PUB_CHAIN, "children"),
        Input(ids.PUB_LEVEL, "value"),
        Input(ids.PUB_KPI, "value"),
        State(ids.F_LANG, "data"),
    )
    def _public(level: str | None, kpi: str | None, lang: str | None) -> tuple[Any, ...]:
        return public_outputs(level, kpi, i18n.lang_of(lang))
