"""How figures and labels are shown: Persian digits and words, or English.

:func:`show` is the one place a figure's canonical value becomes text; ``t137 verify`` calls
it again to check that the text a reader sees is the value the report claims.
"""

from __future__ import annotations

from typing import Final

import jdatetime

from .params import Lang, parse_month

MISSING: Final = "—"
_FA_DIGITS: Final = str.maketrans("0123456789.,", "۰۱۲۳۴۵۶۷۸۹٫٬")
#: Left-to-right isolate around signed numbers, so "+92" is not shown as "92+" in RTL text.
LRI: Final = "\u2066"
PDI: Final = "\u2069"
MINUS: Final = "\u2212"
#: Jalali month names by language (jdatetime's own tables, as the dashboard uses).
JALALI_MONTHS: Final[dict[Lang, tuple[str, ...]]] = {
    "fa": tuple(jdatetime.date.j_months_fa),
    "en": tuple(jdatetime.date.j_months_en),
}
#: Words for text figures (emerging-hotspot patterns, ranking status, quality flags).
WORDS: Final[dict[str, dict[Lang, str]]] = {
    "persistent": {"fa": "پایدار", "en": "persistent"},
    "intensifying": {"fa": "در حال تشدید", "en": "intensifying"},
    "consecutive": {"fa": "پیاپی", "en": "consecutive"},
    "oscillating": {"fa": "نوسانی", "en": "oscillating"},
    "new": {"fa": "جدید", "en": "new"},
    "sporadic": {"fa": "پراکنده", "en": "sporadic"},
    "diminishing": {"fa": "رو به کاهش", "en": "diminishing"},
    "historical": {"fa": "تاریخی", "en": "historical"},
    "ranked": {"fa": "رتبه‌بندی شده", "en": "ranked"},
    "not enough cases": {"fa": "پرونده کافی نیست", "en": "not enough cases"},
    "no data": {"fa": "بدون داده", "en": "no data"},
    "quick_close": {"fa": "بستن شتاب‌زده", "en": "quick closes"},
    "month_end": {"fa": "بستن پایان ماه", "en": "month-end closes"},
}
PERCENT: Final[dict[Lang, str]] = {"fa": "٪", "en": "%"}
_UNITS: Final[dict[str, dict[Lang, str]]] = {
    "hours": {"fa": " ساعت", "en": " h"},
    "points": {"fa": " واحد درصد", "en": " pp"},
}


def digits(text: str, lang: Lang) -> str:
    """Return ``text`` with Persian digits and separators (``lang="fa"``) or as is.

    Examples
    --------
    >>> digits("1,234.5", "fa")
    '۱٬۲۳۴٫۵'
    """
    return text.translate(_FA_DIGITS) if lang == "fa" else text


def month_name(label: str, lang: Lang) -> str:
    """Return a Jalali month label as words, such as ``"مهر ۱۴۰۳"`` or ``"Mehr 1403"``.

    Examples
    --------
    >>> month_name("1403-07", "en")
    'Mehr 1403'
    """
    year, month = parse_month(label)
    return f"{JALALI_MONTHS[lang][month - 1]} {digits(str(year), lang)}"


def word(value: str, lang: Lang) -> str:
    """Return the shown word of a text figure (patterns, status, flags; others as is)."""
    if "," in value:
        return (
            "، ".join(word(part, lang) for part in value.split(","))
            if lang == "fa"
            else (", ".join(word(part, lang) for part in value.split(",")))
        )
    entry = WORDS.get(value)
    return value if entry is None else entry[lang]


def _number(value: float, places: int, *, signed: bool, lang: Lang = "en") -> str:
    text = f"{value:,.{places}f}"
    if signed and value > 0:
        text = "+" + text
    if text.startswith("-"):
        text = MINUS + text[1:]
    text = digits(text, lang)
    if lang == "fa" and text[0] in ("+", MINUS):
        text = LRI + text + PDI
    return text


def show(value: str, kind: str, lang: Lang) -> str:
    """Return the text a reader sees for a figure's canonical value.

    Parameters
    ----------
    value : str
        The canonical value (:func:`analytics.report.figures.canonical`); ``""`` is missing.
    kind : str
        The figure's kind; ``count``/``rank`` are grouped integers, ``share`` a percentage,
        ``points`` a signed change in percentage points, ``hours`` hours, ``rate`` per 1,000
        residents, ``score`` and ``index`` decimals, ``text`` a word.
    lang : {"fa", "en"}
        Persian digits and words, or English.

    Examples
    --------
    >>> show("0.4403", "share", "fa"), show("1234", "count", "en"), show("", "hours", "en")
    ('۴۴٫۰٪', '1,234', '—')
    >>> show("-0.0199", "points", "en"), show("persistent", "text", "fa")
    ('−2.0 pp', 'پایدار')
    """
    if value == "":
        return MISSING
    if kind == "text":
        return digits(value, lang) if value.isdigit() else word(value, lang)
    number = float(value)
    if kind in ("count", "rank"):
        return _number(number, 0, signed=False, lang=lang)
    if kind == "share":
        return _number(number * 100, 1, signed=False, lang=lang) + PERCENT[lang]
    if kind == "points":
        return _number(number * 100, 1, signed=True, lang=lang) + _UNITS["points"][lang]
    if kind == "hours":
        return _number(number, 1, signed=False, lang=lang) + _UNITS["hours"][lang]
    places = {"rate": 3, "score": 2}.get(kind, 3)
    return _number(number, places, signed=False, lang=lang)


def show_change(value: str, kind: str, lang: Lang) -> str:
    """Like :func:`show`, with a sign on every non-zero change (for ``.change`` figures).

    Examples
    --------
    >>> show_change("92", "count", "en"), show_change("-0.1", "hours", "en")
    ('+92', '−0.1 h')
    """
    if value == "" or kind == "text":
        return show(value, kind, lang)
    number = float(value)
    if kind == "points":
        return show(value, kind, lang)
    places = {"count": 0, "rank": 0, "hours": 1, "rate": 3, "score": 2}.get(kind, 3)
    text = _number(number, places, signed=True, lang=lang)
    return text + (_UNITS["hours"][lang] if kind == "hours" else "")


def show_figure(key: str, value: str, kind: str, lang: Lang) -> str:
    """Return the shown text of the figure ``key`` (changes carry a sign).

    Examples
    --------
    >>> show_figure("city.volume.change", "92", "count", "en")
    '+92'
    """
    if key.endswith(".change"):
        return show_change(value, kind, lang)
    return show(value, kind, lang)
