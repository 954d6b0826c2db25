"""The layout the generator writes: the default Persian headers of a 137 export and its labels.

A 137 export is a CSV (UTF-8, optionally with a BOM) with one row per case and these
columns, in this order (:data:`HEADERS`). They are the documented default layout of the
reader (``ingest.readers.tehran137.DEFAULT_HEADER``; a test checks that both agree):

======================  ===================  ===========================================
field                   header               content
======================  ===================  ===========================================
``case_id``             شماره پیگیری         digits, unique per case
``created_at``          تاریخ ثبت            Jalali local time (Asia/Tehran)
``kind``                نوع درخواست          taxonomy ``kinds.*.fa``
``channel``             نحوه ثبت             :data:`CHANNEL_LABELS`
``category``            گروه موضوعی          taxonomy ``categories.*.fa``
``subcategory``         موضوع                taxonomy ``subcategories.*.fa``
``description``         شرح درخواست          free text
``unit``                واحد ارجاع           ``data/units.yaml`` ``fa``
``referred_at``         تاریخ ارجاع          Jalali local time, empty when not reached
``first_response_at``   تاریخ اولین پاسخ     Jalali local time, empty when not reached
``closed_at``           تاریخ بسته شدن       Jalali local time, empty when open
``due_at``              مهلت رسیدگی          Jalali local time
``status``              وضعیت               :data:`STATUS_LABELS`
``citizen_feedback``    نظر پیامکی           ``31`` (accepted), ``33`` (objected), empty
``satisfaction``        میزان رضایت          1–5, empty when not surveyed
``reopen_count``        تعداد بازگشایی       integer
``phone``               تلفن همراه           11 digits, clear (the reader hashes it)
``national_id``         کد ملی               10 digits or empty (the reader hashes it)
``address``             نشانی                operator-typed Persian address
``lon``                 طول جغرافیایی        decimal degrees (EPSG:4326) or empty
``lat``                 عرض جغرافیایی        decimal degrees (EPSG:4326) or empty
======================  ===================  ===========================================

Dates are written like ``1401/07/15 14:30`` (most rows), ``۱۴۰۱/۰۷/۱۵ ۱۴:۳۰`` (Persian
digits) or ``1401-07-15 14:30:05`` (with seconds), all local Tehran wall-clock time.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Final

import jdatetime
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from ingest import schema as s

DATA_DIR: Final = Path(__file__).resolve().parents[2] / "data"

#: Export field for the clear phone number (not a canonical column: the reader hashes it).
PHONE: Final = "phone"
#: Export field for the clear national id (hashed by the reader).
NATIONAL_ID: Final = "national_id"
#: Export field for the SMS verdict code (31 accepted, 33 objected).
SMS_VERDICT: Final = s.CITIZEN_FEEDBACK

#: Field -> Persian header, in the column order of the file.
HEADERS: Final[dict[str, str]] = {
    s.CASE_ID: "شماره پیگیری",
    s.CREATED_AT: "تاریخ ثبت",
    s.KIND: "نوع درخواست",
    s.CHANNEL: "نحوه ثبت",
    s.CATEGORY: "گروه موضوعی",
    s.SUBCATEGORY: "موضوع",
    s.DESCRIPTION: "شرح درخواست",
    s.UNIT: "واحد ارجاع",
    s.REFERRED_AT: "تاریخ ارجاع",
    s.FIRST_RESPONSE_AT: "تاریخ اولین پاسخ",
    s.CLOSED_AT: "تاریخ بسته شدن",
    s.DUE_AT: "مهلت رسیدگی",
    s.STATUS: "وضعیت",
    SMS_VERDICT: "نظر پیامکی",
    s.SATISFACTION: "میزان رضایت",
    s.REOPEN_COUNT: "تعداد بازگشایی",
    PHONE: "تلفن همراه",
    NATIONAL_ID: "کد ملی",
    s.ADDRESS: "نشانی",
    s.LON: "طول جغرافیایی",
    s.LAT: "عرض جغرافیایی",
}
FIELDS: Final = tuple(HEADERS)

#: Canonical status -> the label the 137 system exports.
STATUS_LABELS: Final[dict[str, str]] = {
    "registered": "ثبت شده",
    "referred": "ارجاع شده",
    "in_progress": "در حال بررسی",
    "answered": "پاسخ داده شده",
    "closed": "بسته شده",
    "reopened": "بازگشایی شده",
    "rejected": "رد شده",
    "duplicate": "تکراری",
}
#: Canonical channel -> export label.
CHANNEL_LABELS: Final[dict[str, str]] = {
    "phone": "تلفن",
    "web": "وب",
    "app": "اپلیکیشن",
    "sms": "پیامک",
    "social": "شبکه اجتماعی",
    "in_person": "حضوری",
    "unknown": "نامشخص",
}
#: Citizen feedback -> SMS verdict code.
SMS_CODES: Final[dict[str, str]] = {"accepted": "31", "objected": "33"}

_PERSIAN_DIGITS: Final = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
#: Date spellings: 0 ``1401/07/15 14:30``, 1 the same in Persian digits, 2 ``1401-07-15 14:30:05``.
DATE_STYLES: Final = 3


@lru_cache(maxsize=1)
def taxonomy_labels() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Return the Persian labels of kinds, categories and subcategories of ``data/taxonomy.yaml``.

    Returns
    -------
    tuple of dict
        ``(kinds, categories, subcategories)``, each code -> ``fa`` label.
    """
    raw = yaml.safe_load((DATA_DIR / "taxonomy.yaml").read_text(encoding="utf-8"))
    kinds = {str(k): str(v["fa"]) for k, v in raw["kinds"].items()}
    cats: dict[str, str] = {}
    subs: dict[str, str] = {}
    for code, cat in raw["categories"].items():
        cats[str(code)] = str(cat["fa"])
        for sub, body in (cat.get("subcategories") or {}).items():
            subs[str(sub)] = str(body["fa"])
    return kinds, cats, subs


@lru_cache(maxsize=1)
def unit_labels() -> dict[str, str]:
    """Return unit code -> Persian label (``data/units.yaml``), with the region of each in order.

    Returns
    -------
    dict
        For example ``{"region_01": "شهرداری منطقه ۱", ...}``.
    """
    raw = yaml.safe_load((DATA_DIR / "units.yaml").read_text(encoding="utf-8"))
    return {str(k): str(v["fa"]) for k, v in raw["units"].items()}


def _day_strings(first_day: np.datetime64, n_days: int) -> list[str]:
    """Return the Jalali date of each day in the three spellings, style after style."""
    days = first_day + np.arange(n_days)
    slash: list[str] = []
    dash: list[str] = []
    for d in days.astype("datetime64[D]").tolist():
        j = jdatetime.date.fromgregorian(date=d)
        slash.append(f"{j.year:04d}/{j.month:02d}/{j.day:02d}")
        dash.append(f"{j.year:04d}-{j.month:02d}-{j.day:02d}")
    return slash + [x.translate(_PERSIAN_DIGITS) for x in slash] + dash


@lru_cache(maxsize=1)
def _time_strings() -> tuple[pa.Array, np.ndarray]:
    """Return the time-of-day strings of the three styles and the offset of each style."""
    hm = [f" {h:02d}:{m:02d}" for h in range(24) for m in range(60)]
    hms = [f"{x}:{sec:02d}" for x in hm for sec in range(60)]
    table = hm + [x.translate(_PERSIAN_DIGITS) for x in hm] + hms
    return pa.array(table, type=pa.string()), np.array([0, 1_440, 2_880], dtype=np.int64)


def format_jalali(
    local_s: np.ndarray, valid: np.ndarray, style: np.ndarray, *, first_day: np.datetime64
) -> pa.Array:
    """Write local wall-clock times as Jalali date-time strings, vectorized.

    Parameters
    ----------
    local_s : numpy.ndarray
        int64 local (Asia/Tehran) wall-clock seconds since 1970-01-01T00:00, naive.
    valid : numpy.ndarray
        Boolean mask; other rows become null (an empty cell).
    style : numpy.ndarray
        Per row 0, 1 or 2 (see :data:`DATE_STYLES`).
    first_day : numpy.datetime64
        A day on or before every valid time (the lookup table starts there).

    Returns
    -------
    pyarrow.Array
        Strings such as ``1401/07/15 14:30``.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([1_696_689_000, 0])  # 2023-10-07 14:30 (naive local)
    >>> format_jalali(t, t > 0, np.array([0, 0]), first_day=np.datetime64("2023-10-01")).to_pylist()
    ['1402/07/15 14:30', None]
    """
    base = int(first_day.astype("datetime64[s]").astype(np.int64))
    t = np.where(valid, local_s - base, 0).astype(np.int64)
    if (t < 0).any():
        msg = f"A time lies before first_day {first_day}; pass an earlier first_day."
        raise ValueError(msg)
    day_idx = t // 86_400
    n_days = int(day_idx.max()) + 1 if len(day_idx) else 1
    days = pa.array(_day_strings(first_day, n_days), type=pa.string())
    times, offsets = _time_strings()
    sec_of_day = t % 86_400
    style = np.asarray(style, dtype=np.int64)
    time_idx = offsets[style] + np.where(style == 2, sec_of_day, sec_of_day // 60)
    mask = ~np.asarray(valid, dtype=bool)
    day_part = pc.take(days, pa.array(style * n_days + day_idx, mask=mask))
    time_part = pc.take(times, pa.array(time_idx, mask=mask))
    return pc.binary_join_element_wise(day_part, time_part, "")


def jalali_text(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> str:
    """Write a (possibly impossible) Jalali date-time the way the export does.

    Examples
    --------
    >>> jalali_text(1402, 13, 40)
    '1402/13/40 10:00'
    """
    return f"{year:04d}/{month:02d}/{day:02d} {hour:02d}:{minute:02d}"
