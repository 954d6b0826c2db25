"""One translation table (Persian and English), Persian digits and Jalali month labels."""

from __future__ import annotations

import datetime as dt
import math
from typing import Final, Literal

import jdatetime

Lang = Literal["fa", "en"]
LANGS: Final[tuple[Lang, ...]] = ("fa", "en")
DEFAULT_LANG: Final[Lang] = "fa"

_PERSIAN_DIGITS: Final = str.maketrans("0123456789.,-%", "۰۱۲۳۴۵۶۷۸۹٫٬−٪")

#: key -> (Persian, English).
TABLE: Final[dict[str, tuple[str, str]]] = {
    "app_title": ("تحلیل سامانه ۱۳۷ تهران", "Tehran 137 Analytics"),
    "switch_lang": ("English", "فارسی"),
    "page_overview": ("نمای کلی", "Overview"),
    "page_map": ("نقشه", "Map"),
    "page_rankings": ("رتبه‌بندی", "Rankings"),
    "page_trends": ("روندها", "Trends"),
    "page_public": ("گزارش عمومی", "Public report"),
    "filter_start": ("از ماه", "From month"),
    "filter_end": ("تا ماه", "To month"),
    "filter_category": ("دسته", "Category"),
    "filter_kind": ("نوع", "Kind"),
    "filter_channel": ("درگاه", "Channel"),
    "filter_unit": ("واحد پاسخگو", "Unit"),
    "filter_level": ("سطح", "Area level"),
    "all": ("همه", "All"),
    "level_region": ("منطقه", "Region"),
    "level_district": ("ناحیه", "District"),
    "level_neighborhood": ("محله", "Neighborhood"),
    "kpi": ("شاخص", "Indicator"),
    "kpi_volume": ("تعداد درخواست", "Cases"),
    "kpi_per_10k": ("درخواست به ازای ۱۰ هزار نفر", "Cases per 10,000 residents"),
    "kpi_backlog": ("درخواست‌های باز", "Open cases (backlog)"),
    "kpi_overdue_share": (
        "سهم درخواست‌های باز گذشته از مهلت (٪)",
        "Open cases past their due time (%)",
    ),
    "kpi_close_days": ("میانگین زمان بستن (روز)", "Mean time to close (days)"),
    "kpi_sla": ("درصد بسته‌شده در مهلت", "Closed on time (%)"),
    "kpi_satisfaction": ("میانگین رضایت (۱ تا ۵)", "Mean satisfaction (1–5)"),
    "kpi_objection": ("درصد اعتراض", "Objection rate (%)"),
    "change_vs_previous": ("نسبت به دوره قبل", "vs previous period"),
    "trend_title": ("تعداد ماهانه و درخواست‌های باز", "Monthly cases and still open"),
    "series_open": ("هنوز باز", "Still open"),
    "series_cases": ("تعداد", "Cases"),
    "month": ("ماه", "Month"),
    "top_categories": ("دسته‌های پرتکرار", "Top categories"),
    "area": ("محدوده", "Area"),
    "code": ("کد", "Code"),
    "rank": ("رتبه", "Rank"),
    "rank_interval": ("بازه ۹۰٪ رتبه", "Rank 90% interval"),
    "status": ("وضعیت", "Status"),
    "ranked": ("رتبه‌بندی شد", "ranked"),
    "not_enough": ("تعداد کم (رتبه ندارد)", "not enough cases"),
    "min_volume_rule": (
        "محدوده‌های با کمتر از {n} درخواست رتبه نمی‌گیرند.",
        "Areas with fewer than {n} cases are not ranked.",
    ),
    "trend_by": ("تفکیک بر اساس", "Split by"),
    "by_none": ("کل شهر", "Whole city"),
    "by_category": ("دسته", "Category"),
    "by_region": ("منطقه", "Region"),
    "trend_top": (
        "{n} مورد پرتکرار از {total} (بر اساس تعداد درخواست) و کل شهر",
        "top {n} of {total} by cases, and the whole city",
    ),
    "public_intro": (
        "این صفحه فقط آمار تجمیعی را نشان می‌دهد. خانه‌هایی که از کمتر از {k} درخواست "
        "محاسبه شده‌اند نمایش داده نمی‌شوند.",
        "This page shows aggregates only. Cells computed from fewer than {k} cases are suppressed.",
    ),
    "suppressed": ("کمتر از حد", "suppressed"),
    "chain_head": (
        "محاسبه‌شده از ثبت ورود داده شماره {seq}، زنجیره {head}",
        "Computed from ingest run #{seq}, chain head {head}",
    ),
    "no_data": ("داده‌ای برای این انتخاب نیست.", "No data for this selection."),
    "no_boundaries": ("مرزی در انبار نیست.", "No boundaries in the store."),
    "legend": ("راهنما", "Legend"),
    "login": ("ورود", "Log in"),
    "logout": ("خروج ({name})", "Log out ({name})"),
    "login_required": (
        "این صفحه برای مدیران است. لطفاً وارد شوید.",
        "This page is for managers. Please log in.",
    ),
    "page_cases": ("درخواست‌ها", "Cases"),
    "page_hotspots": ("کانون‌های داغ", "Hotspots"),
    "hot": ("کانون داغ", "hot spot"),
    "cold": ("کانون سرد", "cold spot"),
    "not significant": ("معنادار نیست", "not significant"),
    "gi_z": ("امتیاز z (Gi*)", "Gi* z-score"),
    "gi_q": ("q (تصحیح FDR)", "q (FDR-adjusted)"),
    "hotspot_note": (
        "آماره Getis-Ord Gi* روی تعداد درخواست محله‌ها، همسایگی ملکه‌ای، با تصحیح FDR در سطح ۵٪.",
        "Getis-Ord Gi* on neighborhood case counts, queen contiguity, FDR-corrected at 5%.",
    ),
    "cases_in_area": ("درخواست‌های این محدوده", "Cases in this area"),
    "excel": ("دریافت اکسل", "Download Excel"),
    "click_hint": ("برای جزئیات روی یک محدوده کلیک کنید.", "Click an area for its figures."),
    "cases_area": ("منطقه", "Region"),
    "cases_count": ("{n} درخواست، صفحه {page} از {pages}", "{n} cases, page {page} of {pages}"),
    "col_case_id": ("شناسه", "Case id"),
    "col_created_at": ("تاریخ ثبت", "Created"),
    "col_kind": ("نوع", "Kind"),
    "col_category": ("دسته", "Category"),
    "col_subcategory": ("زیردسته", "Subcategory"),
    "col_unit": ("واحد", "Unit"),
    "col_status": ("وضعیت", "Status"),
    "col_closed_at": ("تاریخ بستن", "Closed"),
    "col_citizen_feedback": ("بازخورد شهروند", "Citizen feedback"),
    "col_satisfaction": ("رضایت", "Satisfaction"),
    "col_region_code": ("منطقه", "Region"),
    "col_neighborhood_code": ("محله", "Neighborhood"),
    "filter_subcategory": ("زیردسته", "Subcategory"),
    "page_quality": ("کیفیت داده", "Data quality"),
    "kpi_close_median": ("میانه زمان بستن (روز)", "Median time to close (days)"),
    "median_interval": ("بازه ۹۵٪: {lo} تا {hi}", "95% interval: {lo} – {hi}"),
    "median_not_reached": ("بیش از نیمی باز", "over half still open"),
    "median_open": ("{closed} بسته از {n}", "{closed} of {n} closed"),
    "map_kpi_note": (
        "میانه زمان بستن، میانه کاپلان–مایر است و درخواست‌های هنوز باز را هم به حساب می‌آورد؛ "
        "جایی که بیش از نیمی از درخواست‌ها هنوز باز است، میانه به دست نمی‌آید و جدا نشان "
        "داده می‌شود. سهم گذشته از مهلت از درخواست‌هایی است که در آخرین لحظه داده‌ها باز "
        "بوده‌اند.",
        "The median time to close is the Kaplan–Meier median, which counts the cases still "
        "open; where more than half are still open it is not reached and is shown apart. "
        "The overdue share is taken among the cases open at the latest instant of the data.",
    ),
    "median_above": (
        "به دست نیامده: بیش از {days} روز (بیش از نیمی هنوز باز)",
        "not reached: over {days} days (over half still open)",
    ),
    "median_not_reached_class": (
        "میانه به دست نیامده (بیش از نیمی باز)",
        "Median not reached (over half open)",
    ),
    "overdue_of_open": (
        "{share}٪ ({n} از {open} درخواست باز)",
        "{share}% ({n} of {open} open cases)",
    ),
    "download_geojson": ("دریافت GeoJSON", "Download GeoJSON"),
    "download_geoparquet": ("دریافت GeoParquet", "Download GeoParquet"),
    "estimate": ("برآورد تعدیل‌شده", "Shrunk estimate"),
    "estimate_interval": ("بازه ۵ تا ۹۵٪ برآورد", "Estimate 5–95% interval"),
    "rank_note": (
        "ارقام محدوده‌های کوچک به سوی محدوده بالاتر تعدیل شده‌اند (بیز تجربی)؛ "
        "بازه رتبه، بازه ۹۰٪ است.",
        "Small areas are shrunk toward their parent area (empirical Bayes); the rank "
        "interval is a 90% interval.",
    ),
    "rank_no_data": ("بدون داده", "no data"),
    "download_csv": ("دریافت CSV", "Download CSV"),
    "overlay": ("لایه روی نقشه", "Map overlay"),
    "overlay_clusters": ("خوشه‌های تراکم درخواست", "Case density clusters"),
    "overlay_duplicates": ("گزارش‌های تکراری یک مشکل", "Duplicate report groups"),
    "overlay_note": (
        "هر نشانه یک خوشه است (نه یک درخواست)؛ اندازه آن تعداد درخواست‌ها را نشان می‌دهد.",
        "Each marker is one cluster (never one case); its size shows the number of cases.",
    ),
    "q_flags": ("تعداد هشدار", "Flags"),
    "q_quick_share": ("بسته‌شده در ۱۰ دقیقه (٪)", "Closed within 10 min (%)"),
    "q_quick_flag": ("هشدار بستن سریع", "Quick-close flag"),
    "q_closures": ("بسته‌شده در ماه", "Closures in month"),
    "q_month_end_share": ("بسته‌شده در ۳ روز آخر ماه (٪)", "Closed in last 3 days (%)"),
    "q_month_end_ratio": ("نسبت به سهم یکنواخت", "Ratio to even share"),
    "q_month_end_flag": ("هشدار جهش پایان ماه", "Month-end spike flag"),
    "q_objected_share": ("پاسخ‌داده ولی اعتراض‌شده (٪)", "Answered but objected (%)"),
    "q_objection_ignored": ("بسته با وجود اعتراض", "Closed over objection"),
    "q_reopen_share": ("بازگشایی‌شده (٪)", "Reopened (%)"),
    "q_bounced_share": ("ارجاع بیش از ۲ بار (٪)", "Referred > 2 times (%)"),
    "q_chart_title": ("ماه‌های دارای هشدار در هر واحد", "Flagged months per unit"),
    "q_flagged_months": ("ماه", "Months"),
    "q_rules": (
        "بستن سریع: سهم بسته‌شده در ۱۰ دقیقه که کران پایین بازه ۹۵٪ آن از ۵٪ بیشتر است "
        "(دست‌کم ۱۰ بسته). جهش پایان ماه: دست‌کم دو برابر سهم یکنواخت در ۳ روز آخر، "
        "p ≤ ۰٫۰۱ (دست‌کم ۲۰ بسته، فقط ماه‌های کامل).",
        "Quick close: the 95% lower bound of the share closed within 10 minutes is above 5% "
        "(at least 10 closed). Month-end spike: at least twice the even share in the last 3 "
        "days, p ≤ 0.01 (at least 20 closures, complete months only).",
    ),
    "q_note_events": (
        "ارجاع‌ها از تاریخچه رویدادهای درخواست شمرده شده‌اند.",
        "Referrals are counted from the case event history.",
    ),
    "q_note_no_events": (
        "انبار تاریخچه رویداد ندارد، پس ارجاع‌های مکرر شمرده نمی‌شوند.",
        "The store holds no case events, so repeated referrals cannot be counted.",
    ),
}

#: Level names -> translation keys.
LEVEL_KEYS: Final = {
    "region": "level_region",
    "district": "level_district",
    "neighborhood": "level_neighborhood",
}


def lang_of(value: object) -> Lang:
    """Return ``"en"`` when ``value`` is ``"en"``, else the default Persian."""
    return "en" if value == "en" else DEFAULT_LANG


def t(key: str, lang: Lang, **fields: object) -> str:
    """Return the text of ``key`` in ``lang``, formatted with ``fields`` (digits localized).

    Raises
    ------
    KeyError
        If ``key`` is not in :data:`TABLE`.
    """
    fa, en = TABLE[key]
    text = fa if lang == "fa" else en
    if fields:
        shown = {name: digits(str(value), lang) for name, value in fields.items()}
        text = text.format(**shown)
    return text


def digits(text: str, lang: Lang) -> str:
    """Return ``text`` with Persian digits and separators when ``lang`` is ``"fa"``."""
    return text.translate(_PERSIAN_DIGITS) if lang == "fa" else text


def number(value: float | None, lang: Lang, decimals: int = 0) -> str:
    """Format a number with thousands separators in ``lang``; an en dash when missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return digits(f"{value:,.{decimals}f}", lang)


def jalali_date(stamp: object, lang: Lang) -> str:
    """Return the Jalali date (Asia/Tehran) of a timestamp as ``1402/01/05``; "" if missing."""
    import pandas as pd

    if stamp is None or stamp is pd.NaT:
        return ""
    value = pd.Timestamp(stamp)  # type: ignore[arg-type]
    if pd.isna(value):
        return ""
    local = value.tz_convert("Asia/Tehran") if value.tzinfo is not None else value
    jday = jdatetime.date.fromgregorian(date=local.date())
    return digits(f"{jday.year:04d}/{jday.month:02d}/{jday.day:02d}", lang)


def jalali_month(day: dt.date, lang: Lang) -> str:
    """Return the Jalali month of a Gregorian ``day``, e.g. ``"فروردین ۱۴۰۲"``."""
    jday = jdatetime.date.fromgregorian(date=day)
    names = jdatetime.date.j_months_fa if lang == "fa" else jdatetime.date.j_months_en
    return digits(f"{names[jday.month - 1]} {jday.year}", lang)


def jalali_period(label: str, lang: Lang) -> str:
    """Return a ``"1403-07"`` Jalali month label as ``"مهر ۱۴۰۳"`` (unchanged if malformed)."""
    parts = label.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
        return digits(label, lang)
    names = jdatetime.date.j_months_fa if lang == "fa" else jdatetime.date.j_months_en
    return digits(f"{names[int(parts[1]) - 1]} {int(parts[0])}", lang)


def jalali_month_start(day: dt.date) -> dt.date:
    """Return the Gregorian date of the first day of the Jalali month holding ``day``."""
    jday = jdatetime.date.fromgregorian(date=day)
    first: dt.date = jdatetime.date(jday.year, jday.month, 1).togregorian()
    return first


def next_jalali_month_start(day: dt.date) -> dt.date:
    """Return the Gregorian date of the first day of the Jalali month after ``day``'s."""
    jday = jdatetime.date.fromgregorian(date=day)
    year, month = (jday.year + 1, 1) if jday.month == 12 else (jday.year, jday.month + 1)
    first: dt.date = jdatetime.date(year, month, 1).togregorian()
    return first
