"""Persian address normalization, match keys and parsing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.address import (
    ABBREVIATIONS,
    HONORIFICS,
    ROLE_AREA,
    ROLE_LANDMARK,
    ROLE_NEIGHBORHOOD,
    ROLE_STREET,
    compact,
    match_key,
    normalize_address,
    parse_address,
)

PIECES = [
    *"ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكةۀأآئ",
    *"۰۱۲۳۴۵۶۷۸۹٠١٢٣0123456789",
    *" ،,.-:_/()\u200c\u064b\u200f",
    "خ ",
    "ک ",
    "پ ",
    "م ",
    "ب ",
    "ش ",
    "شهید ",
    "آیت الله ",
    "امام زاده ",
    "منطقه ۴ ",
    "محله ",
    "نرسیده به ",
    "اتوبان ",
    "چهار راه ",
]
ADDRESSES = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(ADDRESSES)
def test_normalize_address_is_idempotent_and_clean(text: str) -> None:
    out = normalize_address(text)
    assert normalize_address(out) == out
    assert not set(out) & set("يكۀة۰۱۲۳۴۵۶۷۸۹٠١٢٣\u064b\u200f")
    assert "  " not in out
    assert out == out.strip()


@settings(max_examples=500, deadline=None)
@given(ADDRESSES)
def test_match_key_ignores_storage_normalization_and_drops_honorifics(text: str) -> None:
    key = match_key(text)
    assert match_key(normalize_address(text)) == key
    assert " ".join(key.split()) == key
    words = set(key.split())
    assert not words & {h.replace("آ", "ا") for h in HONORIFICS}
    assert "\u200c" not in key
    parse_address(text)  # never raises


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("خ ولیعصر", "خیابان ولیعصر"),
        ("ک. ۱۲", "کوچه 12"),
        ("م تجریش", "میدان تجریش"),
        ("ب کشاورز", "بلوار کشاورز"),
        ("پ:۳۴", "پلاک 34"),
        ("ش بهشتی", "شهید بهشتی"),
        ("ط ۲", "طبقه 2"),
        ("خ-آزادی", "خیابان -آزادی"),
        ("اتوبان همت، چهار راه پارک وی", "بزرگراه همت، چهارراه پارک وی"),
        ("خيابون ولي عصر", "خیابان ولی عصر"),
    ],
)
def test_abbreviations_and_variants_are_expanded(text: str, expected: str) -> None:
    assert normalize_address(text) == expected


@pytest.mark.parametrize("word", ["خرم", "کاج", "مهران", "بهار", "پونک", "شوش", "طرشت"])
def test_letters_inside_words_are_not_abbreviations(word: str) -> None:
    assert normalize_address(f"محله {word}") == f"محله {word}"
    assert set(ABBREVIATIONS) <= {"خ", "ک", "م", "ب", "پ", "ش", "ط"}


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("خیابان شهید بهشتی", "خ بهشتی"),
        ("آيت الله كاشاني", "کاشانی"),
        ("امام زاده يحيي", "امامزاده یحیی"),
        ("شهيدغيوري", "غیوری"),
        ("دکتر شریعتی", "شريعتي"),
        ("حضرت ولیعصر", "ولیعصر"),
    ],
)
def test_spelling_variants_share_a_key(a: str, b: str) -> None:
    assert match_key(a) == match_key(b)


def test_keys_keep_real_words() -> None:
    assert match_key("شهیدی") == "شهیدی"  # a surname, not an honorific
    assert match_key("امامزاده قاسم") == "امامزاده قاسم"
    assert compact(match_key("دولت آباد")) == compact(match_key("دولت‌آباد"))


def test_parse_address_finds_region_neighborhood_streets_and_landmarks() -> None:
    parts = parse_address("تهران، منطقه ۸، محله نارمك، خ گلبرگ شرقی، نبش میدان هفت حوض، ک ۱۲، پ ۳۴")
    assert parts.region == "8"
    roles = [(c.role, c.key) for c in parts.components]
    assert (ROLE_NEIGHBORHOOD, "نارمک") in roles
    assert (ROLE_STREET, "گلبرگ شرقی") in roles
    assert any(role == ROLE_LANDMARK and "هفت حوض" in key for role, key in roles)
    assert all("12" not in key and "34" not in key for _, key in roles)


def test_parse_address_reads_district_and_bare_names() -> None:
    parts = parse_address("منطقه 3 ناحیه 2 ونک")
    assert (parts.region, parts.district) == ("3", "2")
    assert [(c.role, c.key) for c in parts.components] == [(ROLE_AREA, "ونک")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("خ ش بهشتی، م امام حسین", "خیابان بهشتی، میدان حسین"),
        ("شهيدغيوري", "غیوری"),
        ("آيت الله كاشاني، خ دکتر شریعتی", "کاشانی، خیابان شریعتی"),
        ("امام زاده قاسم", "امامزاده قاسم"),
        ("کوچه شهیدی", "کوچه شهیدی"),
    ],
)
def test_honorifics_can_be_dropped(text: str, expected: str) -> None:
    assert normalize_address(text, drop_honorifics=True) == expected
    assert match_key(normalize_address(text, drop_honorifics=True)) == match_key(text)


@settings(max_examples=300, deadline=None)
@given(ADDRESSES)
def test_dropped_honorifics_leave_no_honorific_word(text: str) -> None:
    dropped = normalize_address(text, drop_honorifics=True)
    assert not set(dropped.split()) & set(HONORIFICS)
    assert normalize_address(dropped) == dropped
