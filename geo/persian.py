"""Persian text normalization: letters, digits, ZWNJ and spacing.

Tehran's data mixes Arabic code points (ي U+064A, ك U+0643, ة, أ …) with Persian ones,
Persian (۰–۹) and Arabic-Indic (٠–٩) digits with Latin ones, and zero-width non-joiners
(ZWNJ, U+200C) typed as spaces, doubled, or at word edges. Every name, address and
description goes through :func:`normalize_text` before it is stored or compared.
"""

from __future__ import annotations

import re
import unicodedata
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
# Other decimal digits (Devanagari, full-width, …) are rare: a regex handles them after the table.
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")
# Harakat (short vowels), tanwin, shadda, sukun, superscript alef, the tatweel/kashida and the
# hamza marks: "هٔ" (ه + U+0654, as Persian keyboards type the ezafe) becomes "ه" like "ۀ".
_DROPPED: Final = {
    ord(c): None for c in "\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670\u0640\u0654\u0655"
}
# A yeh followed by the hamza mark is the letter ئ, which Persian keeps.
_YEH_HAMZA = re.compile("[\u064a\u06cc]\u0654")
# Other invisible characters that operators paste: ZWJ, LRM, RLM, BOM, soft hyphen.
_INVISIBLE: Final = {ord(c): None for c in "\u200d\u200e\u200f\ufeff\u00ad"}
_BASE: Final = {**{ord(k): v for k, v in _LETTERS.items()}, **_DIGITS, **_DROPPED, **_INVISIBLE}
# Arabic presentation forms (text copied from PDFs): their compatibility decomposition, then
# the table above, so that "ﻱ" ends as "ی" in one pass.
_PRESENTATION: Final = {
    c: unicodedata.normalize("NFKC", chr(c)).translate(_BASE)
    for c in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFEFF))
    if unicodedata.normalize("NFKC", chr(c)) != chr(c)
}
_TABLE: Final = str.maketrans({**_BASE, **_PRESENTATION})

# A run of white space and ZWNJ becomes one space if it holds any white space, else one
# ZWNJ. Two passes with plain replacements (no Python call per gap): the first turns every
# run holding a white space character into one space (the greedy run matches the whole run
# from its start), the second collapses what is left, runs of ZWNJ only.
_SPACE_CLASS = r"\s\u00a0\u2000-\u200a\u202f\u205f\u3000"
_GAP_WITH_SPACE = re.compile(f"[{_SPACE_CLASS}\u200c]*[{_SPACE_CLASS}][{_SPACE_CLASS}\u200c]*")
_ZWNJ_RUN = re.compile("\u200c{2,}")
_LETTER = "[\u0621-\u063a\u0641-\u064a\u066e-\u06d3\u06d5\u06fa-\u06fc\u06ff]"
# "می" and "نمی" verb prefixes and the plural/comparative suffixes are joined with ZWNJ.
_PREFIX_MI = re.compile(f"(?<![\\w\u200c])(ن?می) (?={_LETTER})")
_SUFFIX = re.compile(f"(?<={_LETTER}) (ها|های|هایی|تر|ترین)(?![\\w\u200c])")
_PREFIX_MI_JOINED: Final = "\\1" + ZWNJ
_SUFFIX_JOINED: Final = ZWNJ + "\\1"


def _other_digit(match: re.Match[str]) -> str:
    return str(unicodedata.decimal(match.group(0)))


def normalize_digits(text: str) -> str:
    """Replace Persian, Arabic-Indic and every other Unicode decimal digit with ASCII digits.

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
    return _OTHER_DIGIT.sub(_other_digit, text.translate(_DIGITS))


def normalize_text(text: str) -> str:
    """Normalize Persian text for storage and comparison.

    Arabic ي/ك become Persian ی/ک (and ة, ۀ, أ, إ, ؤ their plain forms), Arabic
    presentation forms their letters, digits of any script become ASCII, vowel and hamza
    marks and tatweel are dropped (a yeh with a hamza mark becomes ئ), runs of white
    space and ZWNJ become one space (or one ZWNJ when the run has no space), and the "می"
    prefix and the "ها/تر/ترین" suffixes are joined with a ZWNJ.

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
    # Each pattern below needs a character or word that a plain substring test finds much
    # faster than the pattern: most texts skip most passes.
    out = _YEH_HAMZA.sub("\u0626", text) if "\u0654" in text else text
    out = _OTHER_DIGIT.sub(_other_digit, out.translate(_TABLE))
    # Strip before joining prefixes: a leading ZWNJ would otherwise hide "می" the first time.
    out = _GAP_WITH_SPACE.sub(" ", out)
    if ZWNJ in out:
        out = _ZWNJ_RUN.sub(ZWNJ, out)
    out = out.strip(" " + ZWNJ)
    if "می " in out:
        out = _PREFIX_MI.sub(_PREFIX_MI_JOINED, out)
    if " ها" in out or " تر" in out:
        out = _SUFFIX.sub(_SUFFIX_JOINED, out)
    return out


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
