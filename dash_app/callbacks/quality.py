"""Quality-page callback: the data-quality flags per unit and Jalali month."""

from __future__ import annotations

from typing import Any

import dash
from dash import Output, State

from .. import data, i18n, ids, quality_views
from ..state import Filters
from .overview import FILTER_INPUTS


def quality_outputs(filters: Filters, lang: i18n.Lang) -> tuple[Any, ...]:
    """Return (chart, table rows, table columns, note) of the quality page (staff only)."""
    flags = data.service().quality(filters)
    rows, columns = quality_views.quality_rows(flags, lang)
    return (
        quality_views.quality_figure(flags, lang),
        rows,
        columns,
        quality_views.quality_note(flags, lang),
    )


def register(app: dash.Dash) -> None:
    """Register the quality callback."""

    @app.callback(
        Output(ids.QUALITY_GRAPH, "figure"),
        Output(ids.QUALITY_TABLE, "data"),
        Output(ids.QUALITY_TABLE, "columns"),
        Output(ids.QUALITY_NOTE, "children"),
        *FILTER_INPUTS,
        State(ids.F_LANG, "data"),
    )
    def _quality(*values: Any) -> tuple[Any, ...]:
        *inputs, lang = values
        return quality_outputs(Filters.from_inputs(*inputs), i18n.lang_of(lang))
