"""Layout pieces and table rows built from data frames (pure functions, unit-tested)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
from dash import dcc, html

from ingest import schema as s

from . import i18n, ids
from .derive import Median
from .figures import DECIMALS, PERCENT_KPIS, area_name, kpi_label, value_texts
from .i18n import Lang
from .state import KPIS, Filters, with_query

#: Pages of the navigation bar: (path, translation key).
PAGES: Final = (
    ("/", "page_overview"),
    ("/map", "page_map"),
    ("/rankings", "page_rankings"),
    ("/trends", "page_trends"),
    ("/hotspots", "page_hotspots"),
    ("/cases", "page_cases"),
    ("/quality", "page_quality"),
    ("/public", "page_public"),
)
#: Pages an anonymous visitor sees in the navigation.
PUBLIC_PAGES: Final = frozenset({"/public"})
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


def subcategory_options(
    subcategories: Mapping[str, Sequence[str]], categories: Sequence[str]
) -> list[tuple[str, str]]:
    """Return the subcategory choices under ``categories`` (every category when empty)."""
    chosen = list(categories) if categories else sorted(subcategories)
    values = sorted({sub for cat in chosen for sub in subcategories.get(cat, ())})
    return [(v, v) for v in values]


def filter_bar(
    filters: Filters,
    months: Sequence[dt.date],
    options: Mapping[str, Sequence[str]],
    levels: Sequence[str],
    lang: Lang,
    subcategories: Mapping[str, Sequence[str]] | None = None,
) -> html.Div:
    """Return the shared manager filters, set to ``filters``.

    ``subcategories`` maps each category to its subcategories; the subcategory choices are
    those of the chosen categories. Without it the choices are the chosen subcategories
    only, and a callback (:mod:`dash_app.callbacks.filters`) fills in the rest, so a page
    does not wait for the store's subcategory list.
    """
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
                ids.F_SUBCATEGORY,
                i18n.t("filter_subcategory", lang),
                (
                    [(v, v) for v in filters.subcategories]
                    if subcategories is None
                    else subcategory_options(subcategories, filters.categories)
                ),
                list(filters.subcategories),
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


#: Label (translation key) of the download button of each export format.
DOWNLOAD_LABELS: Final = {
    "csv": "download_csv",
    "xlsx": "excel",
    "geojson": "download_geojson",
    "geoparquet": "download_geoparquet",
}


def download_buttons(buttons: Mapping[str, str], lang: Lang) -> html.Div:
    """Return a row of download buttons: ``buttons`` maps each button id to its format."""
    return html.Div(
        [
            html.Button(i18n.t(DOWNLOAD_LABELS[fmt], lang), id=button, className="button")
            for button, fmt in buttons.items()
        ],
        className="buttons",
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


def median_card(median: Median, previous: Median | None, lang: Lang) -> html.Div:
    """Return the card of the Kaplan–Meier median time to close, with its 95 % interval.

    ``previous`` (the median of the previous period) adds the change against it.
    """
    if np.isnan(median.days):
        shown = i18n.t("median_not_reached", lang)
        detail = i18n.t("median_open", lang, n=median.n, closed=median.closed)
    else:
        shown = i18n.number(median.days, lang, DECIMALS["close_median"])
        lo = i18n.number(median.lo_days, lang, 1)
        hi = i18n.number(median.hi_days, lang, 1)
        detail = i18n.t("median_interval", lang, lo="LO", hi="HI").replace("LO", lo)
        detail = detail.replace("HI", hi)
    before = None if previous is None else previous.days
    return html.Div(
        [
            html.Div(kpi_label("close_median", lang), className="kpi-label"),
            html.Div(shown, className="kpi-value", id="kpi-value-close_median"),
            html.Div(_change(median.days, before, lang), className="kpi-change"),
            html.Div(detail, className="kpi-change"),
        ],
        className="kpi-card",
    )


def _shown(value: float, decimals: int) -> float | None:
    return None if not np.isfinite(value) else round(float(value), decimals)


def ranking_rows(
    ranked: pd.DataFrame, kpi: str, lang: Lang
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Return DataTable rows and columns of a :meth:`dash_app.data.DataService.ranking`.

    Rows keep the ranking's order (ranked areas best first, then areas with too few cases
    or no data, which have no rank). ``rank_interval`` is the 90 % interval of the rank and
    ``interval`` the 5–95 % interval of the shrunk estimate; durations are in days.
    """
    scale = 1.0 / 24.0 if kpi == "close_median" else (100.0 if kpi in PERCENT_KPIS else 1.0)
    decimals = DECIMALS[kpi]
    names = area_name(ranked, lang)
    status_key = {"ranked": "ranked", "not enough cases": "not_enough", "no data": "rank_no_data"}

    def floats(column: str) -> np.ndarray:
        return ranked[column].to_numpy(dtype=np.float64, na_value=np.nan)

    rank, rank_lo, rank_hi = floats("rank"), floats("rank_lo"), floats("rank_hi")
    raw, estimate = floats("raw") * scale, floats("estimate") * scale
    est_lo, est_hi = floats("estimate_lo") * scale, floats("estimate_hi") * scale
    codes = ranked[s.CODE].astype(str).tolist()
    volumes = ranked["volume"].to_numpy(dtype=np.int64, na_value=0)
    statuses = ranked["status"].astype(str).tolist()
    records: list[dict[str, Any]] = []
    for i, code in enumerate(codes):
        ranked_row = bool(np.isfinite(rank[i]))
        bounds = np.isfinite(est_lo[i]) and np.isfinite(est_hi[i])
        records.append(
            {
                "rank": int(rank[i]) if ranked_row else None,
                "rank_interval": (
                    i18n.digits(f"{int(rank_lo[i])}–{int(rank_hi[i])}", lang) if ranked_row else ""
                ),
                "code": code,
                "name": names.iloc[i],
                "volume": int(volumes[i]),
                "raw": _shown(raw[i], decimals),
                "estimate": _shown(estimate[i], decimals),
                "interval": (
                    i18n.digits(f"{est_lo[i]:.{decimals}f} – {est_hi[i]:.{decimals}f}", lang)
                    if bounds
                    else ""
                ),
                "status": i18n.t(status_key.get(statuses[i], "rank_no_data"), lang),
            }
        )
    columns = [
        {"name": i18n.t("rank", lang), "id": "rank", "type": "numeric"},
        {"name": i18n.t("rank_interval", lang), "id": "rank_interval"},
        {"name": i18n.t("code", lang), "id": "code"},
        {"name": i18n.t("area", lang), "id": "name"},
        {"name": i18n.t("kpi_volume", lang), "id": "volume", "type": "numeric"},
        {"name": kpi_label(kpi, lang), "id": "raw", "type": "numeric"},
        {"name": i18n.t("estimate", lang), "id": "estimate", "type": "numeric"},
        {"name": i18n.t("estimate_interval", lang), "id": "interval"},
        {"name": i18n.t("status", lang), "id": "status"},
    ]
    return records, columns


def table_frame(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[Mapping[str, str]]
) -> pd.DataFrame:
    """Return DataTable rows as a frame headed by the shown column names (for downloads)."""
    frame = pd.DataFrame(list(rows), columns=[c["id"] for c in columns])
    frame.columns = pd.Index([c["name"] for c in columns])
    return frame


def ranking_geo_frame(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Mapping[str, str]],
    polygons: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Return ranking rows with each area's polygon, for GeoJSON and GeoParquet downloads.

    Parameters
    ----------
    rows, columns : sequence of mapping
        :func:`ranking_rows` output; the columns keep their ids (``rank``, ``code``,
        ``name`` …) as names, which GIS tools read more easily than translated headers.
    polygons : geopandas.GeoDataFrame
        ``code`` and geometry of the ranked level
        (:meth:`dash_app.data.DataService.area_polygons`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per ranked area, in the ranking's order, with its polygon in the CRS of
        ``polygons`` (none where the area has no polygon).
    """
    frame = pd.DataFrame(list(rows), columns=[c["id"] for c in columns])
    shapes = polygons.set_index(polygons["code"].astype(str)).geometry
    geometry = shapes.reindex(pd.Index(frame["code"].astype(str))).to_numpy()
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs=polygons.crs)


def case_export_frame(cases: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Return the case list with translated headers (timestamps kept for the exporter)."""
    out = pd.DataFrame(cases).copy()
    out.columns = pd.Index([i18n.t(f"col_{c}", lang) for c in cases.columns])
    return out


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
    """Return the figures of one clicked area and a link to its cases; None if unknown.

    Every map KPI that ``table`` holds (:meth:`dash_app.data.DataService.map_table` adds
    those read from the cases only when chosen), as the map's hover shows it.
    """
    if code is None:
        return None
    rows = table.loc[table[s.CODE].astype(str) == str(code)]
    if rows.empty:
        return None
    name = area_name(rows, lang).iloc[0]
    items = [
        html.Li(f"{kpi_label(kpi, lang)}: {value_texts(rows, kpi, lang)[0]}")
        for kpi in KPIS
        if kpi in rows.columns
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
