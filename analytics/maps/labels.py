"""Labels of the maps in Persian (default) and English: one table, digits and Jalali dates.

The table follows the Dash app's (``dash_app/i18n.py``) convention, key -> (Persian, English),
without importing it: analytics never imports the app.
"""

from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

import jdatetime
import pandas as pd
import yaml

from geo.errors import InputError

Lang = Literal["fa", "en"]
LANGS: Final[tuple[Lang, ...]] = ("fa", "en")
TEHRAN: Final = "Asia/Tehran"
TAXONOMY_PATH: Final = Path(__file__).resolve().parents[2] / "data" / "taxonomy.yaml"

_PERSIAN_DIGITS: Final = str.maketrans("0123456789.,-%", "۰۱۲۳۴۵۶۷۸۹٫٬−٪")

#: key -> (Persian, English).
TABLE: Final[dict[str, tuple[str, str]]] = {
    # area levels and generic words
    "neighborhood": ("محله", "Neighborhood"),
    "district": ("ناحیه", "District"),
    "region": ("منطقه", "Region"),
    "code": ("کد", "Code"),
    "name": ("نام", "Name"),
    "period": ("دوره", "Period"),
    "class": ("رده", "Class"),
    "no_data": ("بدون داده", "No data"),
    "legend": ("راهنما", "Legend"),
    # KPI columns of analytics.kpis
    "volume": ("تعداد درخواست", "Cases"),
    "population": ("جمعیت", "Population"),
    "volume_per_1000": ("درخواست به ازای هر ۱۰۰۰ نفر", "Cases per 1,000 residents"),
    "backlog": ("درخواست‌های باز", "Open cases (backlog)"),
    "backlog_overdue": ("درخواست‌های باز گذشته از مهلت", "Open cases past due"),
    "overdue_share": ("سهم گذشته از مهلت", "Overdue share"),
    "response_median_h": ("میانه زمان اولین پاسخ (ساعت)", "Median time to first response (h)"),
    "response_p90_h": ("صدک ۹۰ زمان اولین پاسخ (ساعت)", "90th pct. time to first response (h)"),
    "close_median_h": ("میانه زمان بستن (ساعت)", "Median time to close (h)"),
    "close_p90_h": ("صدک ۹۰ زمان بستن (ساعت)", "90th pct. time to close (h)"),
    "sla_working": ("انطباق با مهلت (زمان کاری)", "SLA compliance (working time)"),
    "sla_wall": ("انطباق با مهلت (زمان تقویمی)", "SLA compliance (wall clock)"),
    "reopen_rate": ("نرخ بازگشایی", "Reopen rate"),
    "objection_rate": ("نرخ اعتراض (۳۳)", "Objection rate (33)"),
    "satisfaction_mean": ("میانگین رضایت (۱ تا ۵)", "Mean satisfaction (1–5)"),
    "survey_response_rate": ("نرخ پاسخ به نظرسنجی", "Survey response rate"),
    # hotspots
    "hotspots": ("کانون‌های داغ", "Hotspots"),
    "gistar": ("کانون‌های داغ و سرد (Gi*)", "Hot and cold spots (Gi*)"),
    "emerging": ("کانون‌های داغ نوظهور", "Emerging hotspots"),
    "density": ("خوشه‌های تراکم", "Density clusters"),
    "unit": ("واحد", "Unit"),
    "n_cases": ("تعداد درخواست", "Cases"),
    "z": ("امتیاز z", "z-score"),
    "q": ("مقدار q (پس از اصلاح FDR)", "q-value (FDR)"),
    "hot": ("کانون داغ", "Hot spot"),
    "cold": ("کانون سرد", "Cold spot"),
    "not significant": ("معنادار نیست", "Not significant"),
    "pattern": ("الگو", "Pattern"),
    "n_hot": ("تعداد دوره‌های داغ", "Hot slices"),
    "trend": ("روند", "Trend"),
    "new": ("جدید", "New"),
    "consecutive": ("پیاپی", "Consecutive"),
    "intensifying": ("رو به شدت", "Intensifying"),
    "persistent": ("پایدار", "Persistent"),
    "diminishing": ("رو به کاهش", "Diminishing"),
    "sporadic": ("پراکنده", "Sporadic"),
    "oscillating": ("نوسانی", "Oscillating"),
    "historical": ("تاریخی", "Historical"),
    "no pattern": ("بدون الگو", "No pattern"),
    "recurring": ("مسئله تکرارشونده", "Recurring problem"),
    "cluster": ("خوشه", "Cluster"),
    "category": ("دسته", "Category"),
    "subcategory": ("زیردسته", "Subcategory"),
    "dominant_subcategory": ("زیردسته غالب", "Main subcategory"),
    "weeks_active": ("هفته‌های فعال", "Active weeks"),
    "area_m2": ("مساحت (متر مربع)", "Area (m²)"),
    # cases
    "cases": ("درخواست‌ها", "Cases"),
    "heatmap": ("نقشه حرارتی درخواست‌ها", "Case heat map"),
    "case_id": ("شناسه", "Case id"),
    "kind": ("نوع", "Kind"),
    "status": ("وضعیت", "Status"),
    "created_at": ("زمان ثبت", "Registered"),
    "closed_at": ("زمان بستن", "Closed"),
    "geocode_precision": ("دقت مکان", "Location precision"),
    "n_of_total": ("{n} از {total}", "{n} of {total}"),
    # statuses
    "registered": ("ثبت‌شده", "Registered"),
    "referred": ("ارجاع‌شده", "Referred"),
    "in_progress": ("در حال رسیدگی", "In progress"),
    "answered": ("پاسخ‌داده‌شده", "Answered"),
    "closed": ("بسته‌شده", "Closed"),
    "reopened": ("بازگشایی‌شده", "Reopened"),
    "rejected": ("ردشده", "Rejected"),
    "duplicate": ("تکراری", "Duplicate"),
}


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if it is ``"fa"`` or ``"en"``, else raise a teaching error."""
    if lang not in LANGS:
        msg = f"lang must be 'fa' (Persian, the default) or 'en', got {lang!r}."
        raise InputError(msg)
    return lang  # type: ignore[return-value]


def label(key: str, lang: Lang) -> str:
    """Return the label of ``key`` in ``lang``; unknown keys are returned as they are.

    Examples
    --------
    >>> label("volume", "en"), label("hot", "fa"), label("my_column", "fa")
    ('Cases', 'کانون داغ', 'my_column')
    """
    pair = TABLE.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "fa" else pair[1]


def digits(text: str, lang: Lang) -> str:
    """Write ``text``'s digits (and . , - %) the Persian way when ``lang == "fa"``.

    Examples
    --------
    >>> digits("1,234.5", "fa"), digits("1,234.5", "en")
    ('۱٬۲۳۴٫۵', '1,234.5')
    """
    return text.translate(_PERSIAN_DIGITS) if lang == "fa" else text


def number(value: object, lang: Lang, decimals: int | None = None) -> str:
    """Format a number for a tooltip or a legend (thousands separated, Persian digits in fa).

    Integers keep no decimals; other values get ``decimals`` (default: 2 below 10, 1 below
    1000, else 0). Missing values read "no data".

    Examples
    --------
    >>> number(12345, "en"), number(0.4567, "en"), number(None, "en"), number(3.5, "fa")
    ('12,345', '0.46', 'No data', '۳٫۵۰')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return label("no_data", lang)
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return digits(str(value), lang)
    if math.isnan(x):
        return label("no_data", lang)
    if decimals is None:
        if x == round(x) and abs(x) < 1e15:
            decimals = 0
        else:
            decimals = 2 if abs(x) < 10 else 1 if abs(x) < 1000 else 0
    return digits(f"{x:,.{decimals}f}", lang)


def jalali(value: object, lang: Lang, *, tz: str = TEHRAN) -> str:
    """Format an instant as a Jalali date and time in Tehran, like ``1403/07/05 14:30``.

    Parameters
    ----------
    value : timestamp-like
        A tz-aware instant (naive values are taken as UTC, as the store keeps them).
    lang : {"fa", "en"}
        Persian digits in ``"fa"``.
    tz : str, default "Asia/Tehran"
        The zone the wall-clock time is shown in.

    Examples
    --------
    >>> import pandas as pd
    >>> jalali(pd.Timestamp("2024-09-26T11:00Z"), "en")
    '1403/07/05 14:30'
    >>> jalali(None, "fa")
    'بدون داده'
    """
    if value is None or value is pd.NA:
        return label("no_data", lang)
    ts = pd.Timestamp(value)  # type: ignore[arg-type]
    if pd.isna(ts):
        return label("no_data", lang)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    local = ts.tz_convert(tz)
    wall = dt.datetime(local.year, local.month, local.day, local.hour, local.minute)
    text = jdatetime.datetime.fromgregorian(datetime=wall).strftime("%Y/%m/%d %H:%M")
    return digits(str(text), lang)


@lru_cache(maxsize=1)
def _taxonomy_labels() -> dict[str, tuple[str, str]]:
    """Kind, category and subcategory codes -> (fa, en) from the shipped taxonomy."""
    if not TAXONOMY_PATH.exists():
        return {}
    data = yaml.safe_load(TAXONOMY_PATH.read_text(encoding="utf-8")) or {}
    out: dict[str, tuple[str, str]] = {}
    for code, entry in (data.get("kinds") or {}).items():
        out[str(code)] = (str(entry.get("fa", code)), str(entry.get("en", code)))
    for code, entry in (data.get("categories") or {}).items():
        out[str(code)] = (str(entry.get("fa", code)), str(entry.get("en", code)))
        for sub, sub_entry in (entry.get("subcategories") or {}).items():
            out.setdefault(str(sub), (str(sub_entry.get("fa", sub)), str(sub_entry.get("en", sub))))
    return out


def term(code: object, lang: Lang) -> str:
    """Label of a stored code (status, hotspot class, kind, category …); the code if unknown.

    Examples
    --------
    >>> term("closed", "fa"), term("persistent", "en"), term("xyz", "en")
    ('بسته‌شده', 'Persistent', 'xyz')
    """
    if code is None or code is pd.NA or (isinstance(code, float) and math.isnan(code)):
        return label("no_data", lang)
    key = str(code)
    if key in TABLE:
        return label(key, lang)
    pair = _taxonomy_labels().get(key)
    if pair is not None:
        return pair[0] if lang == "fa" else pair[1]
    return key
