"""Cases-page callback: one server-side page of the role-restricted case list."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State

from .. import data, i18n, ids, views
from ..state import Filters
from .overview import FILTER_INPUTS


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


def register(app: dash.Dash) -> None:
    """Register the cases callback."""

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
