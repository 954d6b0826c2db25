"""Shared-filter callback: the subcategory choices follow the chosen categories.

It also runs when a page opens (the page layout does not read the store's subcategories,
which needs a case read), so the choices arrive just after the page.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State

from .. import data, ids, views


def subcategory_choices(
    categories: object, chosen: object
) -> tuple[list[dict[str, str]], list[str]]:
    """Return the subcategory options under ``categories`` and the still-valid choices."""
    picked = [str(c) for c in categories] if isinstance(categories, list) else []
    options = views.subcategory_options(data.service().subcategories(), picked)
    allowed = {value for value, _ in options}
    kept = [str(v) for v in chosen if str(v) in allowed] if isinstance(chosen, list) else []
    return [{"label": text, "value": value} for value, text in options], kept


def register(app: dash.Dash) -> None:
    """Register the subcategory-options callback."""

    @app.callback(
        Output(ids.F_SUBCATEGORY, "options"),
        Output(ids.F_SUBCATEGORY, "value"),
        Input(ids.F_CATEGORY, "value"),
        State(ids.F_SUBCATEGORY, "value"),
    )
    def _subcategories(categories: Any, chosen: Any) -> tuple[Any, Any]:
        options, kept = subcategory_choices(categories, chosen)
        unchanged = kept == [str(v) for v in (chosen if isinstance(chosen, list) else [])]
        return options, dash.no_update if unchanged else kept
