"""The monthly report as one self-contained HTML file (Persian RTL by default, A4 print).

Everything is inline: CSS in a ``<style>``, maps as PNG data URIs, interval bars as inline
SVG, fonts from the reader's system (Vazirmatn, Tahoma, DejaVu Sans …; no web fonts), and no
URL to fetch. Every figure is a ``<span class="fig" data-figure="KEY" data-kind="KIND"
data-value="CANONICAL">shown text</span>``; the parameters and the store's ingest-log head
are embedded in ``<script type="application/json" id="t137-report">`` and repeated in the
page footer. :mod:`analytics.report.document` reads them back.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Final

import geopandas as gpd
import jdatetime
import pandas as pd

from ingest import schema as s

from . import maps
from .figures import CITY_METRICS, ReportData
from .formatting import JALALI_MONTHS, digits, month_name, show_figure, word
from .params import REPORT_VERSION, Lang

#: ``id`` of the embedded JSON metadata.
META_ID: Final = "t137-report"
#: Name of the ``<meta>`` element that repeats the chain head.
HEAD_META: Final = "t137-chain-head"

TEXT: Final[dict[str, dict[Lang, str]]] = {
    "title": {"fa": "گزارش ماهانه سامانه ۱۳۷", "en": "Tehran 137 monthly report"},
    "city": {"fa": "شهر تهران", "en": "Tehran city"},
    "region": {"fa": "منطقه", "en": "Region"},
    "as_of": {"fa": "وضعیت در", "en": "As of"},
    "kpis": {"fa": "شاخص‌های اصلی در برابر ماه قبل", "en": "Key figures against the previous month"},
    "metric": {"fa": "شاخص", "en": "Indicator"},
    "this_month": {"fa": "این ماه", "en": "This month"},
    "prev_month": {"fa": "ماه قبل", "en": "Previous month"},
    "change": {"fa": "تغییر", "en": "Change"},
    "maps": {"fa": "نقشه محله‌ها", "en": "Neighborhood maps"},
    "map_volume": {
        "fa": "پرونده به ازای هر هزار نفر جمعیت",
        "en": "Cases per 1,000 residents",
    },
    "map_backlog": {
        "fa": "پرونده‌های باز در پایان ماه",
        "en": "Open cases at the month's end",
    },
    "highest": {"fa": "بیشترین", "en": "Highest"},
    "ranking": {"fa": "رتبه‌بندی منصفانه", "en": "Fair ranking"},
    "ranking_regions": {"fa": "رتبه‌بندی منصفانه مناطق", "en": "Fair ranking of regions"},
    "ranking_hoods": {
        "fa": "رتبه‌بندی منصفانه محله‌های منطقه",
        "en": "Fair ranking of the region's neighborhoods",
    },
    "rank": {"fa": "رتبه (بازه)", "en": "Rank (interval)"},
    "area": {"fa": "محدوده", "en": "Area"},
    "cases": {"fa": "پرونده", "en": "Cases"},
    "index": {"fa": "شاخص ترکیبی [بازه]", "en": "Composite index [interval]"},
    "status": {"fa": "وضعیت", "en": "Status"},
    "hotspots": {"fa": "کانون‌های تکرارشونده", "en": "Recurring hotspots"},
    "cases_in_window": {"fa": "پرونده در دوره", "en": "cases in the period"},
    "hot_in": {"fa": "کانون داغ در", "en": "hot in"},
    "months": {"fa": "ماه", "en": "months"},
    "of": {"fa": "از", "en": "of"},
    "no_hotspots": {
        "fa": "در این دوره کانون تکرارشونده‌ای یافت نشد.",
        "en": "No recurring hotspot in this period.",
    },
    "hotspot_count": {"fa": "تعداد کانون‌های تکرارشونده", "en": "Recurring hotspots found"},
    "quality": {"fa": "واحدها و نشانه‌های کیفیت داده", "en": "Units and data-quality flags"},
    "flagged": {"fa": "واحدهای دارای هشدار", "en": "Units flagged"},
    "unit": {"fa": "واحد", "en": "Unit"},
    "closed": {"fa": "بسته‌شده", "en": "Closed"},
    "quick_share": {"fa": "سهم بستن شتاب‌زده", "en": "Quick-close share"},
    "month_end_ratio": {"fa": "نسبت بستن پایان ماه", "en": "Month-end ratio"},
    "objection_share": {"fa": "سهم اعتراض (۳۳)", "en": "Objection share (33)"},
    "flags": {"fa": "هشدار", "en": "Flags"},
    "methods": {"fa": "روش‌ها", "en": "Methods"},
    "appendix": {
        "fa": "پیوست: داده نقشه‌ها به تفکیک محله",
        "en": "Appendix: map data by neighborhood",
    },
    "code": {"fa": "کد", "en": "Code"},
    "name": {"fa": "نام", "en": "Name"},
    "per_1000": {"fa": "در هزار نفر", "en": "Per 1,000"},
    "backlog": {"fa": "باز", "en": "Open"},
    "verify": {"fa": "راستی‌آزمایی", "en": "Verification"},
    "chain_head": {"fa": "سر زنجیره ثبت ورود داده", "en": "Ingest-log chain head"},
    "generated": {"fa": "تهیه‌شده در", "en": "Generated"},
}
METRIC_LABELS: Final[dict[str, dict[Lang, str]]] = {
    "volume": {"fa": "تعداد پرونده‌های ثبت‌شده", "en": "Cases registered"},
    "volume_per_1000": {"fa": "پرونده در هزار نفر", "en": "Cases per 1,000 residents"},
    "backlog": {"fa": "پرونده‌های باز در پایان ماه", "en": "Open at the month's end"},
    "overdue_share": {"fa": "سهم معوق از پرونده‌های باز", "en": "Overdue share of the open"},
    "response_median_h": {"fa": "میانه زمان اولین پاسخ", "en": "Median time to first response"},
    "close_median_h": {"fa": "میانه زمان بستن", "en": "Median time to close"},
    "sla_working": {"fa": "رعایت مهلت (ساعت کاری)", "en": "SLA met (working time)"},
    "objection_rate": {"fa": "نرخ اعتراض شهروند (۳۳)", "en": "Citizen objection rate (33)"},
    "reopen_rate": {"fa": "نرخ بازگشایی", "en": "Reopen rate"},
    "satisfaction_mean": {"fa": "میانگین رضایت (۱ تا ۵)", "en": "Mean satisfaction (1–5)"},
}
METHODS: Final[dict[Lang, tuple[str, ...]]] = {
    "fa": (
        "شاخص‌ها از پرونده‌های ثبت‌شده در ماه (به وقت تهران) محاسبه شده‌اند؛ پرونده‌های باز "
        "در زمان‌ها سانسور شده‌اند (کاپلان–مایر) و کنار گذاشته نشده‌اند.",
        "رتبه‌بندی: برآورد هر محدوده با روش بیز تجربی به سمت محدوده بالاتر کشیده می‌شود؛ "
        "شاخص ترکیبی: رعایت مهلت ۰٫۳۰، زمان بستن ۰٫۲۵، اعتراض ۰٫۲۰، رضایت ۰٫۱۵ و سهم معوق "
        "۰٫۱۰. بازه رتبه صدک‌های ۵ و ۹۵ از {n_boot} نمونه است و محدوده‌های با کمتر از "
        "{min_volume} پرونده رتبه نمی‌گیرند.",
        "کانون‌ها: آماره Gi* در هر ماه از {hotspot_months} ماه اخیر روی محله‌ها، با اصلاح نرخ "
        "کشف نادرست، و آزمون روند من–کندال؛ الگوهای پایدار، تشدیدشونده، پیاپی و نوسانی "
        "تکرارشونده شمرده می‌شوند.",
        "کیفیت داده: سهم پرونده‌هایی که ظرف ۱۰ دقیقه بسته شده‌اند و تمرکز بستن در سه روز "
        "پایان ماه، با آزمون آماری؛ هشدار به معنای تخلف نیست و نیاز به بررسی دارد.",
        "هر عدد این گزارش با دستور t137 verify از روی داده‌ها دوباره محاسبه و مقایسه می‌شود.",
    ),
    "en": (
        "Figures describe the cases registered in the month (Tehran time); open cases are "
        "censored in the durations (Kaplan–Meier), not dropped.",
        "Ranking: each area's estimate is shrunk toward its parent area (empirical Bayes); "
        "composite index weights: SLA 0.30, time to close 0.25, objections 0.20, "
        "satisfaction 0.15, overdue share 0.10. Rank intervals are the 5th–95th percentiles "
        "of {n_boot} draws; areas with fewer than {min_volume} cases are not ranked.",
        "Hotspots: Gi* on neighborhoods in each of the last {hotspot_months} months with a "
        "false-discovery-rate correction, and a Mann–Kendall trend; persistent, "
        "intensifying, consecutive and oscillating hot spots count as recurring.",
        "Data quality: the share of cases closed within 10 minutes and the bunching of "
        "closures in a month's last three days, each with a statistical test; a flag is a "
        "reason to look, not a finding of misconduct.",
        "Every number in this report can be recomputed from the store and compared with "
        "`t137 verify`.",
    ),
}
CSS: Final = """
@page { size: A4; margin: 13mm 12mm 15mm 12mm; }
* { box-sizing: border-box; }
html { font-family: Vazirmatn, "Noto Sans Arabic", "Noto Naskh Arabic", Tahoma, "DejaVu Sans",
  Arial, sans-serif; font-size: 9.5pt; line-height: 1.45; color: #1f2933; }
html[lang="en"] { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; }
body { margin: 0; }
@media screen {
  body { background: #e9ecef; }
  .sheet { width: 210mm; min-height: 297mm; margin: 6mm auto; padding: 13mm 12mm;
    background: #fff; box-shadow: 0 0 4px rgba(0,0,0,.25); }
}
@media print { .sheet { width: auto; margin: 0; padding: 0; } }
header { border-bottom: 2px solid #045a8d; padding-bottom: 2mm; margin-bottom: 3mm; }
h1 { font-size: 16pt; margin: 0; color: #045a8d; }
h2 { font-size: 11.5pt; margin: 3mm 0 1.5mm; color: #045a8d; break-after: avoid; }
.subtitle { color: #52606d; margin: 1mm 0 0; }
section { break-inside: avoid; margin-bottom: 3mm; }
section.flow { break-inside: auto; }
.page-break { break-before: page; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 0.5pt solid #cbd2d9; padding: 1mm 1.5mm; text-align: start;
  vertical-align: middle; }
th { background: #f0f4f8; font-weight: bold; font-size: 8.5pt; }
td.num, th.num { text-align: end; white-space: nowrap; }
.fig { unicode-bidi: isolate; white-space: nowrap; }
.up { color: #b42318; } .down { color: #027a48; }
.maps { display: flex; gap: 4mm; }
.maps figure { flex: 1; margin: 0; border: 0.5pt solid #cbd2d9; padding: 2mm; }
.maps img { width: 100%; display: block; }
figcaption { font-weight: bold; margin-bottom: 1mm; }
.maps p { margin: 1mm 0 0; }
.toplist { margin: 1mm 0 0; padding: 0; list-style: none; font-size: 8.5pt; }
.toplist li { display: flex; justify-content: space-between; border-bottom: 0.5pt dotted #cbd2d9; }
.bar { display: block; }
.hotspots { display: flex; flex-wrap: wrap; gap: 3mm; }
.card { display: flex; gap: 2mm; width: calc(50% - 1.5mm); border: 0.5pt solid #cbd2d9;
  padding: 1.5mm; break-inside: avoid; }
.card img { width: 24mm; height: 24mm; }
.card .what { font-size: 8.5pt; }
.flag { color: #b42318; font-weight: bold; }
.muted { color: #7b8794; }
.methods { border: 1pt solid #045a8d; background: #f5f9fc; padding: 2mm 3mm; font-size: 8.5pt; }
.methods p { margin: 0.8mm 0; }
footer { margin-top: 3mm; border-top: 0.5pt solid #cbd2d9; padding-top: 1.5mm; font-size: 7.5pt;
  color: #52606d; }
code, .hash { font-family: "DejaVu Sans Mono", monospace; direction: ltr; unicode-bidi: isolate;
  word-break: break-all; }
.appendix table { font-size: 7.5pt; }
.appendix .cols { column-count: 2; column-gap: 5mm; }
.appendix tr { break-inside: avoid; }
"""


def _t(key: str, lang: Lang) -> str:
    return html.escape(TEXT[key][lang])


def _fig(data: ReportData, key: str, *, css: str = "") -> str:
    figure = data[key]
    shown = show_figure(key, figure.value, figure.kind, data.params.lang)
    extra = f" {css}" if css else ""
    return (
        f'<span class="fig{extra}" data-figure="{html.escape(key)}" data-kind="{figure.kind}" '
        f'data-value="{html.escape(figure.value)}">{html.escape(shown)}</span>'
    )


def _name(data: ReportData, code: str) -> str:
    fa, en = data.names.get(code, (code, code))
    return html.escape(fa if data.params.lang == "fa" else en)


def _scope(data: ReportData) -> str:
    lang = data.params.lang
    if data.params.region is None:
        return _t("city", lang)
    region = str(data.params.region)
    fa, en = data.names.get(region, ("", ""))
    label = f"{TEXT['region'][lang]} {digits(region, lang)}"
    named = fa if lang == "fa" else en
    return html.escape(label if not named or named == region else f"{label} ({named})")


def _header(data: ReportData) -> str:
    lang = data.params.lang
    local = pd.Timestamp(data.params.as_of_utc).tz_convert("Asia/Tehran")
    jalali = jdatetime.datetime.fromgregorian(datetime=local.to_pydatetime())
    month = JALALI_MONTHS[lang][jalali.month - 1]
    stamp = digits(f"{jalali.day} {month} {jalali.year}، {jalali.strftime('%H:%M')}", lang)
    if lang == "en":
        stamp = f"{jalali.day} {month} {jalali.year}, {jalali.strftime('%H:%M')}"
        stamp += local.strftime(" (%Y-%m-%d)")
    return (
        "<header>"
        f"<h1>{_t('title', lang)} — {html.escape(month_name(data.params.month, lang))}</h1>"
        f'<p class="subtitle">{_scope(data)} · {_t("as_of", lang)} '
        f'<span class="fig-time">{html.escape(stamp)}</span> · '
        f"{_t('cases', lang)}: {_fig(data, 'city.volume')}</p>"
        "</header>"
    )


def _change_class(data: ReportData, key: str) -> str:
    value = data[key].value
    if not value or float(value) == 0:
        return ""
    return "up" if float(value) > 0 else "down"


def _kpi_section(data: ReportData) -> str:
    lang = data.params.lang
    rows = []
    for column, _, _ in CITY_METRICS:
        rows.append(
            "<tr>"
            f"<td>{html.escape(METRIC_LABELS[column][lang])}</td>"
            f'<td class="num">{_fig(data, f"city.{column}")}</td>'
            f'<td class="num">{_fig(data, f"city.{column}.prev")}</td>'
            f'<td class="num">{_fig(data, f"city.{column}.change")}</td>'
            "</tr>"
        )
    prev = html.escape(month_name(data.params.previous_month, lang))
    now = html.escape(month_name(data.params.month, lang))
    return (
        f'<section id="kpis"><h2>{_t("kpis", lang)}</h2><table><thead><tr>'
        f'<th>{_t("metric", lang)}</th><th class="num">{_t("this_month", lang)}<br>{now}</th>'
        f'<th class="num">{_t("prev_month", lang)}<br>{prev}</th>'
        f'<th class="num">{_t("change", lang)}</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _outline(data: ReportData, boundaries: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    if boundaries is None or not len(boundaries):
        return None
    regions = boundaries[boundaries[s.LEVEL] == s.LEVEL_REGION]
    if data.params.region is not None:
        regions = regions[regions[s.CODE].astype(str) == str(data.params.region)]
    return regions


def _map_figure(
    data: ReportData, column: str, caption: str, boundaries: gpd.GeoDataFrame | None
) -> str:
    lang = data.params.lang
    image = maps.choropleth(
        data.neighborhoods,
        column,
        lang=lang,
        outline=_outline(data, boundaries),
        places=3 if column == "volume_per_1000" else 0,
    )
    items = []
    for figure in data.prefixed(f"top.{column}."):
        code = figure.value
        items.append(
            f"<li><span>{_name(data, code)} <span class=muted>({_fig(data, figure.key)})"
            "</span></span>"
            f"{_fig(data, f'area.{code}.{column}')}</li>"
        )
    listed = (
        f'<p class="muted">{_t("highest", lang)}:</p><ol class="toplist">{"".join(items)}</ol>'
        if items
        else ""
    )
    return (
        f"<figure><figcaption>{_t(caption, lang)}</figcaption>"
        f'<img alt="{_t(caption, lang)}" src="{image}">{listed}</figure>'
    )


def _maps_section(data: ReportData, boundaries: gpd.GeoDataFrame | None) -> str:
    lang = data.params.lang
    return (
        f'<section id="maps"><h2>{_t("maps", lang)}</h2><div class="maps">'
        f"{_map_figure(data, 'volume_per_1000', 'map_volume', boundaries)}"
        f"{_map_figure(data, 'backlog', 'map_backlog', boundaries)}"
        "</div></section>"
    )


def _interval_bar(lo: str, mid: str, hi: str, scale: tuple[float, float], rtl: bool) -> str:
    if not (lo and mid and hi):
        return ""
    left, right = scale
    span = (right - left) or 1.0

    def x(value: str) -> float:
        share = (float(value) - left) / span
        return 4 + 112 * (1 - share if rtl else share)

    a, b, m = x(lo), x(hi), x(mid)
    return (
        '<svg class="bar" width="120" height="10" viewBox="0 0 120 10" aria-hidden="true">'
        f'<line x1="{min(a, b):.1f}" x2="{max(a, b):.1f}" y1="5" y2="5" stroke="#2b8cbe" '
        'stroke-width="2"/>'
        f'<circle cx="{m:.1f}" cy="5" r="2.5" fill="#045a8d"/></svg>'
    )


def _ranking_section(data: ReportData) -> str:
    lang = data.params.lang
    title = "ranking_regions" if data.ranking_level == s.LEVEL_REGION else "ranking_hoods"
    codes = [
        f.key[len("rank.") : -len(".status")]
        for f in data.prefixed("rank.")
        if f.key.endswith(".status")
    ]
    bounds = [
        float(data[f"rank.{c}.{end}"].value)
        for c in codes
        for end in ("estimate_lo", "estimate_hi")
        if data[f"rank.{c}.{end}"].value
    ]
    scale = (min(bounds), max(bounds)) if bounds else (0.0, 1.0)
    rows = []
    for code in codes:
        key = f"rank.{code}"
        ranked = data[f"{key}.rank"].value != ""
        rank = (
            f"{_fig(data, f'{key}.rank')} ({_fig(data, f'{key}.rank_lo')}–"
            f"{_fig(data, f'{key}.rank_hi')})"
            if ranked
            else f"{_fig(data, f'{key}.rank')}"
        )
        if not ranked:
            rank += (
                f"<span hidden>{_fig(data, f'{key}.rank_lo')}{_fig(data, f'{key}.rank_hi')}</span>"
            )
        bar = _interval_bar(
            data[f"{key}.estimate_lo"].value,
            data[f"{key}.estimate"].value,
            data[f"{key}.estimate_hi"].value,
            scale,
            rtl=lang == "fa",
        )
        rows.append(
            f'<tr{"" if ranked else " class=muted"}><td class="num">{rank}</td>'
            f"<td>{_name(data, code)} "
            f"<span class=muted>({html.escape(digits(code, lang))})</span></td>"
            f'<td class="num">{_fig(data, f"{key}.volume")}</td>'
            f'<td class="num">{_fig(data, f"{key}.estimate")} [{_fig(data, f"{key}.estimate_lo")}, '
            f"{_fig(data, f'{key}.estimate_hi')}]</td><td>{bar}</td>"
            f"<td>{_fig(data, f'{key}.status')}</td></tr>"
        )
    counts = (
        f"{_fig(data, 'rank.ranked')} / {_fig(data, 'rank.areas')}"
        if "rank.ranked" in data
        else _fig(data, "rank.areas")
    )
    return (
        f'<section id="ranking" class="flow"><h2>{_t(title, lang)} <span class="muted">'
        f"({counts})</span></h2><table><thead><tr>"
        f'<th class="num">{_t("rank", lang)}</th><th>{_t("area", lang)}</th>'
        f'<th class="num">{_t("cases", lang)}</th><th class="num">{_t("index", lang)}</th>'
        f"<th></th><th>{_t('status', lang)}</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _hotspot_section(data: ReportData) -> str:
    lang = data.params.lang
    cards = []
    context = data.neighborhoods
    for i, row in enumerate(data.hotspots.itertuples(index=False), start=1):
        key = f"hotspot.{i}"
        code = str(row.unit)
        focus = context[context[s.CODE] == code]
        image = maps.locator(context, focus if len(focus) else data.hotspots.iloc[[i - 1]])
        cards.append(
            f'<div class="card"><img alt="" src="{image}"><div class="what">'
            f"<b>{_name(data, code)}</b> <span class=muted>({_fig(data, f'{key}.unit')})</span><br>"
            f"{_fig(data, f'{key}.pattern')}<br>"
            f"{_fig(data, f'{key}.n_cases')} {_t('cases_in_window', lang)}<br>"
            f"{_t('hot_in', lang)} {_fig(data, f'{key}.n_hot')} {_t('of', lang)} "
            f"{_fig(data, 'param.hotspot_months')} {_t('months', lang)}</div></div>"
        )
    body = (
        f'<div class="hotspots">{"".join(cards)}</div>'
        if cards
        else f'<p class="muted">{_t("no_hotspots", lang)}</p>'
    )
    return (
        f'<section id="hotspots"><h2>{_t("hotspots", lang)} <span class="muted">'
        f"({_t('hotspot_count', lang)}: {_fig(data, 'hotspot.count')})</span></h2>{body}</section>"
    )


def _quality_section(data: ReportData) -> str:
    lang = data.params.lang
    rows = []
    i = 1
    while f"quality.{i}.unit" in data:
        key = f"quality.{i}"
        flagged = data[f"{key}.flags"].value != ""
        rows.append(
            f"<tr><td>{_fig(data, f'{key}.unit')}</td>"
            f'<td class="num">{_fig(data, f"{key}.volume")}</td>'
            f'<td class="num">{_fig(data, f"{key}.closed")}</td>'
            f'<td class="num">{_fig(data, f"{key}.quick_close_share")}</td>'
            f'<td class="num">{_fig(data, f"{key}.month_end_ratio")}</td>'
            f'<td class="num">{_fig(data, f"{key}.objection_share")}</td>'
            f"<td>{_fig(data, f'{key}.flags', css='flag' if flagged else '')}</td></tr>"
        )
        i += 1
    return (
        f'<section id="quality" class="flow"><h2>{_t("quality", lang)} <span class="muted">'
        f"({_t('flagged', lang)}: {_fig(data, 'quality.flagged')})</span></h2>"
        f"<table><thead><tr><th>{_t('unit', lang)}</th>"
        f'<th class="num">{_t("cases", lang)}</th><th class="num">{_t("closed", lang)}</th>'
        f'<th class="num">{_t("quick_share", lang)}</th>'
        f'<th class="num">{_t("month_end_ratio", lang)}</th>'
        f'<th class="num">{_t("objection_share", lang)}</th><th>{_t("flags", lang)}</th>'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _methods_section(data: ReportData) -> str:
    lang = data.params.lang
    values = {
        "n_boot": _fig(data, "param.n_boot"),
        "min_volume": _fig(data, "param.min_volume"),
        "hotspot_months": _fig(data, "param.hotspot_months"),
    }
    paragraphs = "".join(f"<p>{html.escape(text).format(**values)}</p>" for text in METHODS[lang])
    return (
        f'<section id="methods" class="methods"><h2>{_t("methods", lang)}</h2>'
        f"{paragraphs}</section>"
    )


def _footer(data: ReportData, chain_head: str, generated_at: str) -> str:
    lang = data.params.lang
    return (
        f'<footer id="verification"><b>{_t("verify", lang)}.</b> {_t("chain_head", lang)}: '
        f'<span class="hash" id="chain-head">{html.escape(chain_head)}</span><br>'
        f"{_t('generated', lang)}: <code>{html.escape(generated_at)}</code> · "
        f"<code>t137 verify report.html --store URL</code></footer>"
    )


def _appendix(data: ReportData) -> str:
    lang = data.params.lang
    rows = []
    for code in data.neighborhoods[s.CODE].astype(str):
        rows.append(
            f"<tr><td>{html.escape(digits(code, lang))}</td><td>{_name(data, code)}</td>"
            f'<td class="num">{_fig(data, f"area.{code}.volume")}</td>'
            f'<td class="num">{_fig(data, f"area.{code}.volume_per_1000")}</td>'
            f'<td class="num">{_fig(data, f"area.{code}.backlog")}</td></tr>'
        )
    head = (
        f"<thead><tr><th>{_t('code', lang)}</th><th>{_t('name', lang)}</th>"
        f'<th class="num">{_t("cases", lang)}</th><th class="num">{_t("per_1000", lang)}</th>'
        f'<th class="num">{_t("backlog", lang)}</th></tr></thead>'
    )
    return (
        f'<section id="appendix" class="appendix flow page-break"><h2>{_t("appendix", lang)}</h2>'
        f'<div class="cols"><table>{head}<tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def report_metadata(
    data: ReportData, chain_head: str, generated_at: str, extra: Mapping[str, object] | None = None
) -> dict[str, object]:
    """Return the JSON metadata embedded in the report (parameters, chain head, version)."""
    return {
        "version": REPORT_VERSION,
        "chain_head": chain_head,
        "generated_at": generated_at,
        "parameters": data.params.as_dict(),
        "figures": len(data.figures),
        **dict(extra or {}),
    }


def render_html(
    data: ReportData,
    *,
    chain_head: str,
    boundaries: gpd.GeoDataFrame | None = None,
    generated_at: str | None = None,
    extra_metadata: Mapping[str, object] | None = None,
) -> str:
    """Return the report as one self-contained HTML document.

    Parameters
    ----------
    data : ReportData
        From :func:`analytics.report.figures.compute_report`.
    chain_head : str
        The store's ingest-log head (:func:`geo.store.chain.verify_chain`) the figures were
        computed at.
    boundaries : geopandas.GeoDataFrame, optional
        The full boundary model, for region outlines on the maps.
    generated_at : str, optional
        When the report was made (ISO 8601); now by default.
    extra_metadata : mapping, optional
        More JSON-ready keys for the embedded metadata (such as the store's URL).

    Returns
    -------
    str
        The HTML text (UTF-8).
    """
    lang = data.params.lang
    stamp = generated_at or pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
    meta = json.dumps(
        report_metadata(data, chain_head, stamp, extra_metadata), ensure_ascii=False, indent=1
    ).replace("</", "<\\/")
    direction = "rtl" if lang == "fa" else "ltr"
    title = f"{TEXT['title'][lang]} — {month_name(data.params.month, lang)}"
    body = "".join(
        (
            _header(data),
            _kpi_section(data),
            _maps_section(data, boundaries),
            _ranking_section(data),
            _hotspot_section(data),
            _quality_section(data),
            _methods_section(data),
            _footer(data, chain_head, stamp),
            _appendix(data),
        )
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}" dir="{direction}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f'<meta name="{HEAD_META}" content="{html.escape(chain_head)}">\n'
        f"<style>{CSS}</style>\n"
        f'<script type="application/json" id="{META_ID}">{meta}</script>\n'
        f'</head>\n<body>\n<main class="sheet">{body}</main>\n</body>\n</html>\n'
    )


__all__ = ["HEAD_META", "META_ID", "render_html", "report_metadata", "word"]
