"""Persian text normalization: properties (hypothesis) and concrete examples."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from geo.persian import ZWNJ, comparison_key, normalize_digits, normalize_text

# Text drawn mostly from the characters that matter: Arabic and Persian letters, digits of
# three scripts, spaces of several kinds, ZWNJ, ZWJ, marks, tatweel, Latin, punctuation.
_INTERESTING = (
    "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكةۀأإؤىآ"
    "0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩"
    "  \t\n\u00a0\u2009\u200c\u200c\u200d\u200e\u200f\ufeff\u00ad"
    "\u064b\u064e\u0650\u0651\u0640\u0654\u0655،؟-/.abcXYZ"
    "ﻱﻲﻙﻚﺔ"  # Arabic presentation forms of yeh, kaf and teh marbuta
    "०१२３४"  # other scripts' decimal digits
)
persianish = st.text(alphabet=st.sampled_from(_INTERESTING), max_size=40)
# Words glued with the prefixes and suffixes the normalizer joins with ZWNJ.
pieces = st.sampled_from(
    ["می", "نمی", "ها", "های", "هایی", "تر", "ترین", "کتاب", "رود", "خیابان", " ", ZWNJ, "،"]
)
phrases = st.lists(pieces, max_size=12).map("".join)
anything = st.one_of(persianish, phrases, st.text(max_size=30))

_NON_ASCII_DIGITS = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Nd"]
_NON_ASCII_DIGITS = [d for d in _NON_ASCII_DIGITS if not "0" <= d <= "9"]


@given(anything)
@example(f"x {ZWNJ} {ZWNJ} y")
@example(f"{ZWNJ}می رود")
@example("ها ها")
def test_normalize_text_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


@given(anything)
def test_arabic_yeh_and_kaf_never_survive(text: str) -> None:
    out = normalize_text(text)
    assert "\u064a" not in out
    assert "\u0643" not in out


@given(anything)
def test_digits_are_ascii(text: str) -> None:
    out = normalize_text(text)
    assert all(unicodedata.category(c) != "Nd" or "0" <= c <= "9" for c in out)


@given(anything)
@example(f"x {ZWNJ} {ZWNJ} y")
def test_no_double_spaces_or_edge_zwnj(text: str) -> None:
    out = normalize_text(text)
    assert "  " not in out
    assert ZWNJ * 2 not in out
    assert not out.startswith((" ", ZWNJ))
    assert not out.endswith((" ", ZWNJ))
    # A ZWNJ never touches a space: "a‌ b" is "a b".
    assert f" {ZWNJ}" not in out
    assert f"{ZWNJ} " not in out


@given(st.text(alphabet=st.sampled_from(_NON_ASCII_DIGITS + list("0123456789/-")), max_size=20))
def test_normalize_digits_gives_ascii_digits_only(text: str) -> None:
    out = normalize_digits(text)
    assert len(out) == len(text)
    assert all(c in "0123456789/-" for c in out)


@given(anything)
def test_comparison_key_is_stable_and_has_no_zwnj(text: str) -> None:
    key = comparison_key(text)
    assert ZWNJ not in key
    assert comparison_key(key) == key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("منطقه  ٣ - شهرك غرب", "منطقه 3 - شهرک غرب"),
        ("خيابان ولي عصر", "خیابان ولی عصر"),
        ("صفائيه و چشمه علي", "صفائیه و چشمه علی"),
        ("شهرک امام خميني", "شهرک امام خمینی"),
        ("منطقه ۱۲ شهر تهران", "منطقه 12 شهر تهران"),
        ("  نارمك\u200c ", "نارمک"),
        ("می رود", "می\u200cرود"),
        ("نمی دانم", "نمی\u200cدانم"),
        ("کتاب ها", "کتاب\u200cها"),
        ("بزرگ ترین", "بزرگ\u200cترین"),
        ("خانه\u200c\u200cها", "خانه\u200cها"),
        ("مدرسهٔ", "مدرسه"),
        ("مدرسۀ", "مدرسه"),
        ("مسئول", "مسئول"),
        ("مسي\u0654ول", "مسئول"),
        ("كَتَـــاب", "کتاب"),
        ("ﻛﺘﺎﺏ", "کتاب"),  # presentation forms, as copied from PDFs
        ("x \u200c \u200c y", "x y"),
        ("سلام، تر", "سلام، تر"),  # no ZWNJ after punctuation
        ("District 7", "District 7"),
        ("", ""),
    ],
)
def test_normalize_text_examples(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_digits_examples() -> None:
    assert normalize_digits("۱۴۰۲/٠٧/15") == "1402/07/15"
    assert normalize_digits("٢٢") == "22"
    assert normalize_digits("बारह १२") == "बारह 12"


def test_comparison_key_joins_spelling_variants() -> None:
    assert comparison_key("می‌دان") == comparison_key("مي دان")
    assert comparison_key("Shahrak GHARB") == "shahrak gharb"
