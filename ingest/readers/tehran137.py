"""Reader of Tehran's 137 exports (CSV or Excel) in the default Persian header layout.

Default layout
--------------
One row per case, the header on the first line. Columns are found by name in any order,
compared after Persian normalization (Arabic ي/ك, ZWNJ, spaces, punctuation and letter
case do not matter); each field accepts the spellings listed in :data:`LAYOUT`, the first
being the documented header. Unknown columns are kept in the quarantine's raw JSON only.

======================  ===================  ============================================
field                   header               values
======================  ===================  ============================================
case_id (required)      شماره پیگیری         the 137 tracking number
created_at (required)   تاریخ ثبت            date-time (see below)
kind (required)         نوع درخواست          شکایت، درخواست، پیشنهاد، … (taxonomy kinds)
channel                 نحوه ثبت             تلفن، وب، اپلیکیشن، پیامک، شبکه اجتماعی، حضوری
category                گروه موضوعی          taxonomy category label (خدمات شهری …)
subcategory             موضوع                taxonomy subcategory label (پسماند …)
description             شرح درخواست          free text
unit                    واحد ارجاع           شهرداری منطقه ۳، سازمان مدیریت پسماند، …
referred_at             تاریخ ارجاع          date-time
first_response_at       تاریخ اولین پاسخ     date-time
closed_at               تاریخ بسته شدن       date-time
due_at                  مهلت رسیدگی          date-time
status                  وضعیت               ثبت شده، ارجاع شده، در حال بررسی، پاسخ داده
                                             شده، بسته شده، بازگشایی شده، رد شده، تکراری
citizen_feedback        نظر پیامکی           SMS code: 31 accepted, 33 objected
satisfaction            میزان رضایت          1–5
reopen_count            تعداد بازگشایی       0, 1, 2, …
phone                   تلفن همراه           hashed into citizen_key, never kept
national_id             کد ملی               hashed into citizen_key when no phone
address                 نشانی                free text
lon                     طول جغرافیایی        decimal degrees (EPSG:4326)
lat                     عرض جغرافیایی        decimal degrees (EPSG:4326)
======================  ===================  ============================================

Dates are Jalali or Gregorian (a year before 1700 is Jalali), with ``/``, ``-`` or ``.``,
in Persian or Latin digits, with or without a time and seconds (``1402/07/15 14:30``,
``۱۴۰۲-۰۷-۱۵``, ``1402/7/5 09:05:30``, ``2023-10-07 14:30``), read as Asia/Tehran local
time and stored in UTC. The file may be UTF-8, UTF-8 with a BOM or Windows-1256, and use
``,``, ``;``, tab or ``|`` as separator. See ``docs/137-export-format.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

import pandas as pd

from geo.errors import InputError

from .. import schema as s
from ..pseudonymize import Pseudonymizer
from ..taxonomy import Taxonomy, load_taxonomy
from ..validate import finish
from .common import (
    BackgroundDigest,
    PathLike,
    display_name,
    read_bytes,
    read_xlsx_table,
    resolve_columns,
)
from .result import ReadResult
from .staging import NATIONAL_ID, PHONE, StageSpec, stage_table
from .textfile import TextTable, read_text_table

SOURCE: Final = "tehran137"

#: Field to accepted header spellings; the first is the documented default header.
LAYOUT: Final[Mapping[str, tuple[str, ...]]] = {
    s.CASE_ID: ("شماره پیگیری", "کد پیگیری", "کد رهگیری", "شماره درخواست", s.CASE_ID),
    s.CREATED_AT: ("تاریخ ثبت", "زمان ثبت", "تاریخ و ساعت ثبت", s.CREATED_AT),
    s.KIND: ("نوع درخواست", "نوع", s.KIND),
    s.CHANNEL: ("نحوه ثبت", "کانال", "روش ثبت", "کانال ثبت", s.CHANNEL),
    s.CATEGORY: ("گروه موضوعی", "دسته", "حوزه", "دسته بندی", s.CATEGORY),
    s.SUBCATEGORY: ("موضوع", "عنوان موضوع", "زیر گروه", s.SUBCATEGORY),
    s.DESCRIPTION: ("شرح درخواست", "شرح", "متن درخواست", "توضیحات", s.DESCRIPTION),
    s.UNIT: ("واحد ارجاع", "واحد مسئول", "ارجاع به", s.UNIT),
    s.REFERRED_AT: ("تاریخ ارجاع", s.REFERRED_AT),
    s.FIRST_RESPONSE_AT: ("تاریخ اولین پاسخ", "تاریخ پاسخ", s.FIRST_RESPONSE_AT),
    s.CLOSED_AT: ("تاریخ بسته شدن", "تاریخ اتمام", "تاریخ مختومه", "تاریخ خاتمه", s.CLOSED_AT),
    s.DUE_AT: ("مهلت رسیدگی", "مهلت پاسخ", "مهلت", s.DUE_AT),
    s.STATUS: ("وضعیت", s.STATUS),
    s.CITIZEN_FEEDBACK: ("نظر پیامکی", "کد پیامک", "نظرسنجی پیامکی", s.CITIZEN_FEEDBACK),
    s.SATISFACTION: ("میزان رضایت", "رضایت", s.SATISFACTION),
    s.REOPEN_COUNT: ("تعداد بازگشایی", s.REOPEN_COUNT),
    PHONE: ("تلفن همراه", "شماره تماس", "موبایل", "تلفن", PHONE),
    NATIONAL_ID: ("کد ملی", NATIONAL_ID),
    s.ADDRESS: ("نشانی", "آدرس", s.ADDRESS),
    s.LON: ("طول جغرافیایی", "طول", "longitude", s.LON),
    s.LAT: ("عرض جغرافیایی", "عرض", "latitude", s.LAT),
}
REQUIRED: Final = (s.CASE_ID, s.CREATED_AT, s.KIND)
#: The documented default header, in order (what the synthetic generator writes).
DEFAULT_HEADER: Final = tuple(spellings[0] for spellings in LAYOUT.values())

STATUS_TEXT: Final[Mapping[str, str]] = {
    **dict.fromkeys(("ثبت شده", "ثبت", "جدید", "در انتظار", "registered"), "registered"),
    **dict.fromkeys(("ارجاع شده", "ارجاع", "ارجاع به واحد", "referred"), "referred"),
    **dict.fromkeys(
        ("در حال بررسی", "در دست اقدام", "در حال رسیدگی", "در دست بررسی", "in_progress"),
        "in_progress",
    ),
    **dict.fromkeys(("پاسخ داده شده", "پاسخ داده شد", "پاسخ", "answered"), "answered"),
    **dict.fromkeys(("بسته شده", "بسته", "مختومه", "خاتمه یافته", "انجام شده", "closed"), "closed"),
    **dict.fromkeys(("بازگشایی شده", "بازگشایی", "باز شده مجدد", "reopened"), "reopened"),
    **dict.fromkeys(("رد شده", "رد", "عدم پذیرش", "rejected"), "rejected"),
    **dict.fromkeys(("تکراری", "duplicate"), "duplicate"),
}
CHANNEL_TEXT: Final[Mapping[str, str]] = {
    **dict.fromkeys(("تلفن", "تلفنی", "تماس تلفنی", "137", "phone"), "phone"),
    **dict.fromkeys(("وب", "سایت", "وبسایت", "وب سایت", "پرتال", "web"), "web"),
    **dict.fromkeys(("اپلیکیشن", "اپ", "نرم افزار", "برنامه همراه", "تهران من", "app"), "app"),
    **dict.fromkeys(("پیامک", "اس ام اس", "sms"), "sms"),
    **dict.fromkeys(("شبکه اجتماعی", "شبکه های اجتماعی", "پیام رسان", "social"), "social"),
    **dict.fromkeys(("حضوری", "مراجعه حضوری", "in_person"), "in_person"),
    **dict.fromkeys(("نامشخص", "unknown"), "unknown"),
}
#: SMS verdicts: 31 accepts the answer, 33 objects to it.
FEEDBACK_TEXT: Final[Mapping[str, str]] = {
    "31": "accepted",
    "33": "objected",
    "تایید": "accepted",
    "رضایت": "accepted",
    "اعتراض": "objected",
    "accepted": "accepted",
    "objected": "objected",
    "none": "none",
    "0": "none",
}


def read_137(
    path: PathLike,
    *,
    key: bytes | str | Any,
    tz: str = "Asia/Tehran",
    placeholders: Sequence[tuple[float, float]] = (),
    encoding: str | None = None,
    sheet: str | int | None = None,
    now: pd.Timestamp | None = None,
    taxonomy: Taxonomy | None = None,
) -> ReadResult:
    """Read a 137 export (``.csv``/``.txt`` or ``.xlsx``) into cases and quarantine.

    Parameters
    ----------
    path : path-like
        The export.
    key : bytes, str or SecretStr
        Secret key of the HMAC that replaces phone numbers and national ids.
    tz : str
        Zone of the dates (Asia/Tehran).
    placeholders : sequence of (lon, lat)
        Points typed when the location is unknown (the ``placeholder_points`` setting).
    encoding : str, optional
        Force a text encoding (detected by default).
    sheet : str or int, optional
        Spreadsheet sheet (the first by default).
    now : pandas.Timestamp, optional
        Time of reading; later creation dates are refused.
    taxonomy : Taxonomy, optional
        Kinds, categories and units (``data/*.yaml`` by default).

    Returns
    -------
    ReadResult
        Every row kept or quarantined.

    Raises
    ------
    InputError
        When the file cannot be read or lacks a required column.
    """
    name = display_name(path)
    digest = None
    if str(path).lower().endswith((".xlsx", ".xlsm")):
        table = read_xlsx_table(path, sheet=sheet)
        label = "row"
    else:
        data = read_bytes(path)
        digest = BackgroundDigest(data)
        table = read_text_table(data, encoding=encoding)
        del data
        label = "line"
    result = read_137_table(
        table,
        source_file=name,
        row_label=label,
        key=key,
        tz=tz,
        placeholders=placeholders,
        now=now,
        taxonomy=taxonomy,
    )
    return result if digest is None else replace(result, input_sha256=digest.hexdigest())


def read_137_table(
    table: TextTable,
    *,
    source_file: str,
    key: bytes | str | Any,
    row_label: str = "line",
    tz: str = "Asia/Tehran",
    placeholders: Sequence[tuple[float, float]] = (),
    now: pd.Timestamp | None = None,
    taxonomy: Taxonomy | None = None,
) -> ReadResult:
    """Read an already parsed 137 table (see :func:`read_137`)."""
    try:
        cols = resolve_columns(table.table.column_names, LAYOUT, required=REQUIRED)
    except InputError as exc:
        raise InputError(f"{source_file}: {exc}") from exc
    spec = StageSpec(
        source=SOURCE,
        tz=tz,
        calendar="auto",
        status_map=STATUS_TEXT,
        channel_map=CHANNEL_TEXT,
        feedback_map=FEEDBACK_TEXT,
        placeholders=tuple(placeholders),
    )
    staged = stage_table(
        table,
        cols,
        spec,
        source_file=source_file,
        row_label=row_label,
        pseudonymizer=Pseudonymizer(key),
        taxonomy=taxonomy or load_taxonomy(),
    )
    return finish(staged, now=now)


def write_137_csv(frame: pd.DataFrame, path: PathLike, *, encoding: str = "utf-8") -> None:
    """Write rows keyed by field name (see :data:`LAYOUT`) under the default header.

    A small helper for tests and examples: columns absent from ``frame`` are left empty.

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns named by field (``case_id``, ``created_at``, ``phone``, …), values as text.
    path : path-like
        Output file.
    encoding : str
        ``utf-8``, ``utf-8-sig`` or ``cp1256``.
    """
    out = pd.DataFrame({LAYOUT[f][0]: frame.get(f, "") for f in LAYOUT})
    out.to_csv(path, index=False, encoding=encoding)


__all__ = ["DEFAULT_HEADER", "LAYOUT", "SOURCE", "read_137", "read_137_table", "write_137_csv"]
