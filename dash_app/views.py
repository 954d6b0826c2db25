"""Layout pieces and table rows built from data frames (pure functions, unit-tested)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from dash import dcc, html

from analytics.rates import wilson_interval
from ingest import schema as s

from . import i18n, ids
from .figures import DECIMALS, area_name, kpi_label
from .i18n import Lang
from .metrics import HIGHER_IS_BETTER
from .state import KPIS, Filters, with_query

#: Pages of the navigation bar: (path, translation key).
PAGES: Final = (
    ("/", "page_overview"),
    ("/map", "page_map"),
    ("/rankings", "page_rankings"),
    ("/trends", "page_trends"),
    ("/hotspots", "page_hotspots"),
    ("/cases", "page_cases"),
    ("/public", "page_public"),
)
#: Pages an anonymous visitor sees in the navigation.
PUBLIC_PAGES: Final = frozenset({"/public"})
#: KPIs whose ranking interval is a Wilson interval: (numerator, denominator) columns.
WILSON: Final = {
    "sla": (s.RM_ON_TIME_COUNT, s.RM_DUE_CLOSED_COUNT),
    "objection": (s.RM_OBJECTED_COUNT, "feedback_count"),
}
#: The KPI cards of the overview page.
CARD_KPIS: Final = ("volume", "backlog", "close_days", "sla", "satisfaction", "objection")


def nav_links(
    pathname: str | None, search: str | None, lang: Lang, *, staff: bool = True
) -> list[Any]:
    """Return the navigation links (public page only for anonymous visitors), keeping ``lang``."""
    query = with_query(None, lang=lang if lang != i18n.DEFAULT_LANG else None)
    links: list[Any] = []
    for path, key in PAGES:
        if not staff and path not in PUBLIC_PAGES:
            continue
        active = (pathname or "/") == path
        links.append(
            dcc.Link(
                i18n.t(key, lang),
                href=path + query,
                className="nav-link active" if active else "nav-link",
            )
        )
    return links


def lang_switch_href(pathname: str | None, search: str | None, lang: Lang) -> str:
    """Return the current URL with the other language (the language switch's target)."""
    other = "en" if lang == "fa" else "fa"
    return (pathname or "/") + with_query(search, lang=other)


def _dropdown(
    component_id: str,
    label: str,
    options: Sequence[tuple[str, str]],
    value: Any,
    *,
    multi: bool = False,
    clearable: bool = True,
) -> html.Div:
    return html.Div(
        [
            html.Label(label, htmlFor=component_id),
            dcc.Dropdown(
                id=component_id,
                options=[{"label": text, "value": key} for key, text in options],
                value=value,
                multi=multi,
                clearable=clearable,
                placeholder=label,
            ),
        ],
        className="filter",
    )


def month_options(months: Sequence[dt.date], lang: Lang) -> list[tuple[str, str]]:
    """Return (ISO date, Jalali month label) pairs for the month selectors."""
    return [(m.isoformat(), i18n.jalali_month(m, lang)) for m in months]


def filter_bar(
    filters: Filters,
    months: Sequence[dt.date],
    options: Mapping[str, Sequence[str]],
    levels: Sequence[str],
    lang: Lang,
) -> html.Div:
    """Return the shared manager filters, set to ``filters``."""
    month_opts = month_options(months, lang)
    level_opts = [(level, i18n.t(i18n.LEVEL_KEYS[level], lang)) for level in levels]
    level = filters.level if filters.level in levels else (levels[-1] if levels else None)

    def opts(column: str) -> list[tuple[str, str]]:
        return [(v, v) for v in options.get(column, ())]

    end = filters.end_month
    return html.Div(
        [
            _dropdown(
                ids.F_START,
                i18n.t("filter_start", lang),
                month_opts,
                None if filters.start is None else filters.start.isoformat(),
            ),
            _dropdown(
                ids.F_END,
                i18n.t("filter_end", lang),
                month_opts,
                None if end is None else end.isoformat(),
            ),
            _dropdown(
                ids.F_CATEGORY,
                i18n.t("filter_category", lang),
                opts(s.CATEGORY),
                list(filters.categories),
                multi=True,
            ),
            _dropdown(
                ids.F_KIND,
                i18n.t("filter_kind", lang),
                opts(s.KIND),
                list(filters.kinds),
                multi=True,
            ),
            _dropdown(
                ids.F_CHANNEL,
                i18n.t("filter_channel", lang),
                opts(s.CHANNEL),
                list(filters.channels),
                multi=True,
            ),
            _dropdown(
                ids.F_UNIT,
                i18n.t("filter_unit", lang),
                opts(s.UNIT),
                list(filters.units),
                multi=True,
            ),
            _dropdown(
                ids.F_LEVEL, i18n.t("filter_level", lang), level_opts, level, clearable=False
            ),
        ],
        className="filter-bar",
    )


def kpi_select(component_id: str, kpi: str, lang: Lang, kpis: Sequence[str] = KPIS) -> html.Div:
    """Return a KPI selector (a single-choice dropdown)."""
    options = [(k, kpi_label(k, lang)) for k in kpis]
    return _dropdown(component_id, i18n.t("kpi", lang), options, kpi, clearable=False)


def _change(now: float, before: float | None, lang: Lang) -> str:
    if before is None or not np.isfinite(before) or not np.isfinite(now) or before == 0:
        return ""
    pct = (now - before) / abs(before) * 100
    sign = "+" if pct >= 0 else ""
    return f"{i18n.digits(f'{sign}{pct:.1f}%', lang)} {i18n.t('change_vs_previous', lang)}"


def kpi_cards(totals: pd.Series, previous: pd.Series | None, lang: Lang) -> list[html.Div]:
    """Return one card per overview KPI: value and change against the previous period."""
    cards = []
    for kpi in CARD_KPIS:
        now = float(totals[kpi])
        before = None if previous is None else float(previous[kpi])
        cards.append(
            html.Div(
                [
                    html.Div(kpi_label(kpi, lang), className="kpi-label"),
                    html.Div(
                        i18n.number(now, lang, DECIMALS[kpi]),
                        className="kpi-value",
                        id=f"kpi-value-{kpi}",
                    ),
                    html.Div(_change(now, before, lang), className="kpi-change"),
                ],
                className="kpi-card",
            )
        )
    return cards


def _interval(table: pd.DataFrame, kpi: str) -> tuple[np.ndarray, np.ndarray]:
    """Return 95 % intervals of ``kpi`` per area (NaN where none is defined)."""
    if kpi in WILSON:
        num, den = WILSON[kpi]
        lo, hi = wilson_interval(
            table[num].to_numpy(dtype="float64"), table[den].to_numpy(dtype="float64")
        )
        return np.asarray(lo) * 100, np.asarray(hi) * 100
    nan = np.full(len(table), np.nan)
    return nan, nan


def ranking_rows(
    table: pd.DataFrame, kpi: str, min_volume: int, lang: Lang
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Return DataTable rows and columns ranking areas by ``kpi`` (best first).

    Areas with fewer than ``min_volume`` cases, or no value, are listed after the ranked
    ones with no rank and the status "not enough cases". Rates get a Wilson 95 % interval.
    """
    value = table[kpi].astype("float64")
    enough = (table["volume"] >= min_volume) & value.notna()
    ascending = kpi not in HIGHER_IS_BETTER
    ranks = value.where(enough).rank(method="min", ascending=ascending)
    lo, hi = _interval(table, kpi)
    decimals = DECIMALS[kpi]
    names = area_name(table, lang)
    frame = pd.DataFrame(
        {
            "rank": ranks,
            "code": table[s.CODE].astype(str),
            "name": names,
            "volume": table["volume"].astype("int64"),
            "value": value.round(decimals),
            "interval": [
                "" if np.isnan(a) else i18n.digits(f"{a:.{decimals}f} – {b:.{decimals}f}", lang)
                for a, b in zip(lo, hi, strict=True)
            ],
            "status": np.where(enough, i18n.t("ranked", lang), i18n.t("not_enough", lang)),
        }
    )
    frame = frame.sort_values(["rank", "volume"], ascending=[True, False], na_position="last")
    records: list[dict[str, Any]] = [
        {str(key): (None if isinstance(v, float) and np.isnan(v) else v) for key, v in row.items()}
        for row in frame.to_dict("records")
    ]
    columns = [
        {"name": i18n.t("rank", lang), "id": "rank", "type": "numeric"},
        {"name": i18n.t("code", lang), "id": "code"},
        {"name": i18n.t("area", lang), "id": "name"},
        {"name": i18n.t("kpi_volume", lang), "id": "volume", "type": "numeric"},
        {"name": kpi_label(kpi, lang), "id": "value", "type": "numeric"},
        {"name": i18n.t("rank_interval", lang), "id": "interval"},
        {"name": i18n.t("status", lang), "id": "status"},
    ]
    return records, columns


def public_rows(
    public: pd.DataFrame, kpi: str, lang: Lang
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Return DataTable rows and columns of the public table (suppressed cells marked)."""
    decimals = DECIMALS[kpi]
    suppressed = i18n.t("suppressed", lang)
    names = area_name(public, lang)
    records = []
    volumes = public["volume"].to_numpy(dtype="float64")
    values = public["value"].to_numpy(dtype="float64")
    hidden = public["suppressed"].to_numpy(dtype=bool)
    for name, volume, value, small in zip(names, volumes, values, hidden, strict=True):
        records.append(
            {
                "name": name,
                "volume": suppressed if small else i18n.number(float(volume), lang),
                "value": suppressed if small else i18n.number(float(value), lang, decimals),
            }
        )
    columns = [
        {"name": i18n.t("area", lang), "id": "name"},
        {"name": i18n.t("kpi_volume", lang), "id": "volume"},
        {"name": kpi_label(kpi, lang), "id": "value"},
    ]
    return records, columns


def chain_text(seq: int, run_hash: str, lang: Lang) -> str:
    """Return the "computed from ingest run" line of the public page."""
    return i18n.t("chain_head", lang, seq=seq, head="HEAD").replace("HEAD", run_hash[:12])


def login_link(
    pathname: str | None, search: str | None, viewer_name: str | None, lang: Lang
) -> tuple[str, str]:
    """Return (href, text) of the login link, or of the logout link when logged in."""
    if viewer_name is not None:
        return "/logout", i18n.t("logout", lang, name="NAME").replace("NAME", viewer_name)
    target = (pathname or "/") + (search or "")
    return "/login?" + urlencode({"next": target}), i18n.t("login", lang)


def login_required(pathname: str, lang: Lang) -> html.Div:
    """Return the message shown instead of a manager page to anonymous visitors."""
    href = "/login?" + urlencode({"next": pathname})
    return html.Div(
        [
            html.P(i18n.t("login_required", lang), id="login-required"),
            html.A(i18n.t("login", lang), href=href, className="button"),
        ],
        className="page",
    )


def case_rows(rows: pd.DataFrame, lang: Lang) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Return DataTable rows and columns of a page of cases (Jalali dates)."""
    records: list[dict[str, Any]] = []
    columns = [str(c) for c in rows.columns]
    dates = {s.CREATED_AT, s.CLOSED_AT}
    for row in rows.itertuples(index=False):
        record: dict[str, Any] = {}
        for name, value in zip(columns, row, strict=True):
            if name in dates:
                record[name] = i18n.jalali_date(value, lang)
            elif value is None or (not isinstance(value, str) and pd.isna(value)):
                record[name] = ""
            else:
                record[name] = str(value)
        records.append(record)
    header = [{"name": i18n.t(f"col_{c}", lang), "id": c} for c in columns]
    return records, header


def area_detail(table: pd.DataFrame, code: str | None, lang: Lang) -> html.Div | None:
    """Return the figures of one clicked area and a link to its cases; None if unknown."""
    if code is None:
        return None
    rows = table.loc[table[s.CODE].astype(str) == str(code)]
    if rows.empty:
        return None
    row = rows.iloc[0]
    name = area_name(rows, lang).iloc[0]
    items = [
        html.Li(f"{kpi_label(kpi, lang)}: {i18n.number(float(row[kpi]), lang, DECIMALS[kpi])}")
        for kpi in KPIS
    ]
    href = "/cases" + with_query(None, area=str(code), lang=lang if lang != "fa" else None)
    return html.Div(
        [
            html.H3(name),
            html.Ul(items),
            html.A(i18n.t("cases_in_area", lang), href=href, id="area-cases-link"),
        ],
        className="area-detail",
    )


def ranking_excel(rows: Sequence[Mapping[str, Any]], columns: Sequence[Mapping[str, str]]) -> bytes:
    """Return the ranking table as an Excel workbook (headers are the shown column names)."""
    import io

    frame = pd.DataFrame(list(rows), columns=[c["id"] for c in columns])
    frame.columns = pd.Index([c["name"] for c in columns])
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name="ranking")
    return buffer.getvalue()


def hotspot_rows(
    hotspots: pd.DataFrame | None, lang: Lang
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Return DataTable rows (hot and cold neighborhoods, strongest first) and columns."""
    columns = [
        {"name": i18n.t("area", lang), "id": "name"},
        {"name": i18n.t("status", lang), "id": "hotspot"},
        {"name": i18n.t("kpi_volume", lang), "id": "n_cases", "type": "numeric"},
        {"name": i18n.t("gi_z", lang), "id": "z", "type": "numeric"},
        {"name": i18n.t("gi_q", lang), "id": "q", "type": "numeric"},
    ]
    if hotspots is None:
        return [], columns
    significant = hotspots.loc[hotspots["hotspot"] != "not significant"]
    ordered = significant.reindex(significant["z"].abs().sort_values(ascending=False).index)
    names = area_name(ordered, lang)
    rows = [
        {
            "name": name,
            "hotspot": i18n.t(str(label), lang),
            "n_cases": int(n),
            "z": round(float(z), 2),
            "q": round(float(q), 4),
        }
        for name, label, n, z, q in zip(
            names, ordered["hotspot"], ordered["n_cases"], ordered["z"], ordered["q"], strict=True
        )
    ]
    return rows, columns
