"""Clientside callbacks that write each page's filters into the URL query (bookmarkable).

The JavaScript lives in ``assets/url_state.js``; it uses ``history.replaceState``, so the
page is neither reloaded nor re-rendered. Query keys match :meth:`dash_app.state.Filters.to_query`.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output

from .. import ids
from .overview import FILTER_INPUTS

NAMESPACE = "t137"

#: (output store, JS function, page-specific inputs) of each page.
SYNCS = (
    (ids.SYNC_OVERVIEW, "sync_filters", ()),
    (ids.SYNC_MAP, "sync_map", (ids.MAP_KPI, ids.MAP_OVERLAY)),
    (ids.SYNC_RANKINGS, "sync_kpi", (ids.RANK_KPI,)),
    (ids.SYNC_TRENDS, "sync_trends", (ids.TREND_KPI, ids.TREND_BY)),
    (ids.SYNC_CASES, "sync_cases", (ids.CASES_AREA,)),
    (ids.SYNC_HOTSPOTS, "sync_filters", ()),
    (ids.SYNC_QUALITY, "sync_filters", ()),
)


def register(app: dash.Dash) -> None:
    """Register the URL-state clientside callbacks."""
    for store, function, extra in SYNCS:
        app.clientside_callback(  # type: ignore[no-untyped-call]
            ClientsideFunction(namespace=NAMESPACE, function_name=function),
            Output(store, "data"),
            *FILTER_INPUTS,
            *(Input(component, "value") for component in extra),
            prevent_initial_call=True,
        )
    app.clientside_callback(  # type: ignore[no-untyped-call]
        ClientsideFunction(namespace=NAMESPACE, function_name="sync_public"),
        Output(ids.SYNC_PUBLIC, "data"),
        Input(ids.PUB_LEVEL, "value"),
        Input(ids.PUB_KPI, "value"),
        prevent_initial_call=True,
    )
