"""Pieces shared by the manager pages' layouts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dash import dcc, html

from .. import auth, data, i18n, ids, views
from ..state import Filters


def manager_page(
    title_key: str, path: str, sync_id: str, query: Mapping[str, Any], *body: Any
) -> html.Div:
    """Return a manager page: title, shared filters set from the URL, then ``body``.

    ``sync_id`` is the page's store written by its URL-state clientside callback.

    Anonymous visitors get a "please log in" message instead (the data layer would refuse
    them anyway).
    """
    lang = i18n.lang_of(query.get("lang"))
    svc = data.service()
    if not auth.current_viewer().is_staff:
        return views.login_required(path, lang)
    filters = Filters.from_query(query)
    return html.Div(
        [
            dcc.Store(id=ids.F_LANG, data=lang),
            dcc.Store(id=sync_id),
            html.H2(i18n.t(title_key, lang)),
            views.filter_bar(filters, svc.months(), svc.options(), svc.levels(), lang),
            *body,
        ],
        className="page",
    )
