"""Cases-page callback: one server-side page of the role-restricted case list."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from .. import data, i18n, ids, views
from ..state import Filters
from .overview import FILTER_INPUTS
from .pages import GEO_FORMATS, file_name, provenance, send


def cases_outputs(
    filters: Filters, area: str | None, page: int | None, lang: i18n.Lang
) -> tuple[Any, ...]:
    """Return (rows, columns, page count, count text) of one page of cases."""
    result = data.service().cases(filters, area, int(page or 0))
    rows, columns = views.case_rows(result.rows, lang)
    text = i18n.t(
        "cases_count", lang, n=result.total, page=result.page + 1, pages=result.page_count
    )
    return rows, columns, result.page_count, text


def cases_download(filters: Filters, area: str | None, lang: i18n.Lang, fmt: str) -> dict[str, Any]:
    """Return the ``dcc.Download`` payload of every listed case in ``fmt``.

    The rows come from :meth:`dash_app.data.DataService.case_export` (CSV, Excel: headers
    translated) or :meth:`dash_app.data.DataService.case_points` (GeoJSON, GeoParquet: the
    schema's column names and each case's point in EPSG:4326, x = lon, y = lat), which
    apply the role rule: a region manager's file holds their own region's cases only,
    whatever ``area`` asks for. The file carries the ingest-log head.
    """
    from analytics.exports import export_bytes

    svc = data.service()
    notes = provenance(filters)
    frame: pd.DataFrame
    if fmt in GEO_FORMATS:
        frame = svc.case_points(filters, area)
        notes["crs"] = "EPSG:4326"
    else:
        frame = views.case_export_frame(svc.case_export(filters, area), lang)
    content = export_bytes(frame, fmt, provenance=notes)
    suffix = f"-{area}" if area else ""
    return send(content, file_name(f"cases{suffix}", fmt))


def register(app: dash.Dash) -> None:
    """Register the cases callbacks (the list and its downloads)."""

    @app.callback(
        Output(ids.CASES_DOWNLOAD, "data"),
        *(Input(button, "n_clicks") for button in ids.CASES_DOWNLOADS),
        *(State(i, "value") for i in ids.FILTERS),
        State(ids.CASES_AREA, "value"),
        State(ids.F_LANG, "data"),
        prevent_initial_call=True,
    )
    def _download(*values: Any) -> Any:
        *inputs, area, lang = values[len(ids.CASES_DOWNLOADS) :]
        fmt = ids.CASES_DOWNLOADS.get(str(ctx.triggered_id))
        if fmt is None:
            raise PreventUpdate
        return cases_download(Filters.from_inputs(*inputs), area, i18n.lang_of(lang), fmt)

    @app.callback(
        Output(ids.CASES_TABLE, "data"),
        Output(ids.CASES_TABLE, "columns"),
        Output(ids.CASES_TABLE, "page_count"),
        Output(ids.CASES_COUNT, "children"),
        *FILTER_INPUTS,
        Input(ids.CASES_AREA, "value"),
        Input(ids.CASES_TABLE, "page_current"),
        State(ids.F_LANG, "data"),
    )
    def _cases(*values: Any) -> tuple[Any, ...]:
        *inputs, area, page, lang = values
        return cases_outputs(Filters.from_inputs(*inputs), area, page, i18n.lang_of(lang))
