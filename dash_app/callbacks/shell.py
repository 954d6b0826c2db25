"""Shell callback: language (``dir``, ``lang``, labels) from the URL, login state."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output

from .. import auth, i18n, ids
from ..state import lang_from_search
from ..views import lang_switch_href, login_link, nav_links


def shell_state(pathname: str | None, search: str | None, viewer: auth.Viewer) -> tuple[Any, ...]:
    """Return (dir, lang, title, nav, switch href, switch label, login href, login label)."""
    lang = lang_from_search(search)
    login_href, login_text = login_link(
        pathname, search, viewer.name if viewer.is_staff else None, lang
    )
    return (
        "rtl" if lang == "fa" else "ltr",
        lang,
        i18n.t("app_title", lang),
        nav_links(pathname, search, lang, staff=viewer.is_staff),
        lang_switch_href(pathname, search, lang),
        i18n.t("switch_lang", lang),
        login_href,
        login_text,
    )


def register(app: dash.Dash) -> None:
    """Register the shell callback."""

    @app.callback(
        Output(ids.SHELL, "dir"),
        Output(ids.SHELL, "lang"),
        Output(ids.TITLE, "children"),
        Output(ids.NAV, "children"),
        Output(ids.LANG_LINK, "href"),
        Output(ids.LANG_LINK, "children"),
        Output(ids.LOGIN_LINK, "href"),
        Output(ids.LOGIN_LINK, "children"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
    )
    def _shell(pathname: str | None, search: str | None) -> tuple[Any, ...]:
        return shell_state(pathname, search, auth.current_viewer())
