"""Persian text normalization: letters, digits, ZWNJ and spacing.

Tehran's data mixes Arabic code points (ي U+064A, ك U+0643, ة, أ …) with Persian ones,
Persian (۰–۹) and Arabic-Indic (٠–٩) digits with Latin ones, and zero-width non-joiners
(ZWNJ, U+200C) typed as spaces, doubled, or at word edges. Every name, address and
description goes through :func:`normalize_text` before it is stored or compared.
"""

from __future__ import annotations

import re
from typing import Final

ZWNJ: Final = "\u200c"

_LETTERS: Final = {
    "\u064a": "\u06cc",  # ي Arabic yeh -> ی Persian yeh
    "\u0649": "\u06cc",  # ى alef maksura -> ی
    "\u0643": "\u06a9",  # ك Arabic kaf -> ک Persian keheh
    "\u0629": "\u0647",  # ة teh marbuta -> ه
    "\u06c0": "\u0647",  # ۀ heh with yeh -> ه
    "\u0623": "\u0627",  # أ -> ا
    "\u0625": "\u0627",  # إ -> ا
    "\u0671": "\u0627",  # ٱ -> ا
    "\u0624": "\u0648",  # ؤ -> و
}
_PERSIAN_DIGITS: Final = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_DIGITS: Final = "٠١٢٣٤٥٦٧٨٩"
_DIGITS: Final = {
    **{ord(d): str(i) for i, d in enumerate(_PERSIAN_DIGITS)},
    **{ord(d): str(i) for i, d in enumerate(_ARABIC_DIGITS)},
}
# Harakat (short vowels), tanwin, shadda, sukun, superscript alef and the tatweel/kashida.
_DROPPED: Final = {ord(c): None for c in "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670\u0640"}
# Other invisible characters that operators paste: ZWJ, LRM, RLM, BOM, soft hyphen.
_INVISIBLE: Final = {ord(c): None for c in "\u200d\u200e\u200f\ufeff\u00ad"}
_TABLE: Final = str.maketrans({**{ord(k): v for k, v in _LETTERS.items()}, **_DIGITS, **_DROPPED, **_INVISIBLE})

_SPACES = re.compile(r"[\s\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_ZWNJ_RUN = re.compile(f"{ZWNJ}{{2,}}")
_ZWNJ_NEAR_SPACE = re.compile(f" ?{ZWNJ} ?")
# "می" and "نمی" verb prefixes and the plural/comparative suffixes are joined with ZWNJ.
_PREFIX_MI = re.compile(r"(?<![\w\u200c])(ن?می) (?=[\u0600-\u06ff])")
_SUFFIX = re.compile(r"(?<=[\u0600-\u06ff]) (ها|های|هایی|تر|ترین)(?![\w\u200c])")


def normalize_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits with ASCII digits.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        The same text with every digit in 0–9.

    Examples
    --------
    >>> normalize_digits("۱۴۰۲/٠٧/15")
    '1402/07/15'
    """
    return text.translate(_DIGITS)


def normalize_text(text: str) -> str:
    """Normalize Persian text for storage and comparison.

    Arabic ي/ك become Persian ی/ک (and ة, ۀ, أ, إ, ؤ their plain forms), digits become
    ASCII, vowel marks and tatweel are dropped, runs of white space become one space,
    runs of ZWNJ become one, a ZWNJ next to a space is dropped, and the "می" prefix and
    the "ها/تر/ترین" suffixes are joined with a ZWNJ.

    Parameters
    ----------
    text : str
        Any text, possibly mixing Arabic and Persian code points.

    Returns
    -------
    str
        The normalized text, stripped at both ends.

    Examples
    --------
    >>> normalize_text("منطقه  ٣ - شهرك غرب")
    'منطقه 3 - شهرک غرب'
    >>> normalize_text("خيابان ولي عصر") == "خیابان ولی عصر"
    True
    """
    out = text.translate(_TABLE)
    out = _SPACES.sub(" ", out)
    out = _ZWNJ_RUN.sub(ZWNJ, out)
    out = _ZWNJ_NEAR_SPACE.sub(lambda m: " " if " " in m.group(0) else ZWNJ, out)
    out = _PREFIX_MI.sub(lambda m: m.group(1) + ZWNJ, out)
    out = _SUFFIX.sub(lambda m: ZWNJ + m.group(1), out)
    return out.strip(" " + ZWNJ)


def comparison_key(text: str) -> str:
    """Reduce text to a key for fuzzy matching: normalized, ZWNJ as space, lower case.

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        A key in which spelling variants of one name coincide.

    Examples
    --------
    >>> comparison_key("نارمك") == comparison_key("نار مک")
    False
    >>> comparison_key("می‌دان") == comparison_key("مي دان")
    True
    """
    return normalize_text(text).replace(ZWNJ, " ").lower()
