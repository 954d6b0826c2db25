"""The page frame around every page: title, navigation, language switch and page container."""

from __future__ import annotations

import dash
from dash import dcc, html

from . import i18n, ids
from .views import lang_switch_href, nav_links


def shell() -> html.Div:
    """Return the app layout; its ``dir`` and labels follow the URL's ``lang`` (callbacks)."""
    lang = i18n.DEFAULT_LANG
    return html.Div(
        [
            dcc.Location(id=ids.URL),
            html.Header(
                [
                    html.H1(i18n.t("app_title", lang), id=ids.TITLE),
                    html.Nav(nav_links("/", "", lang, staff=False), id=ids.NAV),
                    html.Div(
                        [
                            dcc.Link(
                                i18n.t("switch_lang", lang),
                                id=ids.LANG_LINK,
                                href=lang_switch_href("/", "", lang),
                                className="lang-link",
                            ),
                            html.A(
                                i18n.t("login", lang),
                                id=ids.LOGIN_LINK,
                                href="/login",
                                className="lang-link",
                            ),
                        ],
                        className="header-links",
                    ),
                ],
                className="app-header",
            ),
            html.Main(dash.page_container, className="app-main"),
        ],
        id=ids.SHELL,
        dir="rtl",
        lang=lang,
        className="app-shell",
    )
