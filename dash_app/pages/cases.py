"""Cases: a drill-down list of cases (role-restricted, paginated on the server)."""

from __future__ import annotations

from typing import Any

import dash
from dash import dash_table, dcc, html

from .. import auth, data, i18n, ids, views
from ..figures import area_name
from .common import manager_page

dash.register_page(__name__, path="/cases", name="cases", title="Tehran 137 — cases")  # type: ignore[no-untyped-call]


def layout(**query: Any) -> html.Div:
    """Return the cases page for the URL ``query`` (filters, ``area``, ``lang``)."""
    lang = i18n.lang_of(query.get("lang"))
    svc = data.service()
    options: list[dict[str, str]] = []
    if auth.current_viewer().is_staff:
        for level in svc.levels():
            areas = svc.areas(level)
            names = area_name(areas, lang)
            level_name = i18n.t(i18n.LEVEL_KEYS[level], lang)
            options.extend(
                {"label": f"{level_name} {code}: {name}", "value": str(code)}
                for code, name in zip(areas["code"], names, strict=True)
            )
    return manager_page(
        "page_cases",
        "/cases",
        ids.SYNC_CASES,
        query,
        html.Div(
            [
                html.Label(i18n.t("cases_area", lang), htmlFor=ids.CASES_AREA),
                dcc.Dropdown(id=ids.CASES_AREA, options=options, value=query.get("area")),
            ],
            className="filter",
        ),
        html.P(id=ids.CASES_COUNT, className="note"),
        views.download_buttons(ids.CASES_DOWNLOADS, lang),
        dcc.Download(id=ids.CASES_DOWNLOAD),
        dash_table.DataTable(  # type: ignore[attr-defined]
            id=ids.CASES_TABLE,
            page_current=0,
            page_size=svc.settings.cases_page_size,
            page_action="custom",
            style_table={"overflowX": "auto"},
            style_cell={"textAlign": "right" if lang == "fa" else "left"},
        ),
    )
