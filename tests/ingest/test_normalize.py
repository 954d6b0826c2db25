from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.persian import normalize_digits, normalize_text
from ingest.arrowtext import (
    ascii_digits,
    map_array_distinct,
    normalize_text_array,
    to_string_array,
)
from ingest.identifiers import (
    mask_identifiers,
    national_id_checksum_ok,
    normalize_national_ids,
    normalize_phones,
)
from ingest.pseudonymize import Pseudonymizer
from ingest.readers.common import integers
from ingest.taxonomy import load_taxonomy, match_categories

# Text without the cases the vectorized normalizer leaves to the scalar one (the "می"
# prefix and plural suffixes, presentation forms, yeh + hamza).
simple = st.text(
    alphabet="ابپتجچخدرزسشکگلمنوهیيكةأ ‌\u064b\u0640۰۱۲۳۴۵۶۷۸۹٠١٢0123456789abc\t\n\u00a0\u200d",
    max_size=30,
).filter(lambda t: "می" not in t.replace("ي", "ی") and "ها" not in t and "تر" not in t)


@settings(max_examples=400, deadline=None)
@given(st.lists(simple, max_size=8))
def test_vectorized_normalization_matches_the_scalar_one(values: list[str]) -> None:
    out = normalize_text_array(values).to_pylist()
    for before, after in zip(values, out, strict=True):
        expected = normalize_text(before)
        assert after == (expected or None)


def test_ascii_digits() -> None:
    assert ascii_digits(to_string_array(["۱۲۳", "٤٥٦", "x7", None])).to_pylist() == [
        "123",
        "456",
        "x7",
        None,
    ]


@pytest.mark.parametrize(
    ("text", "canonical", "valid"),
    [
        ("09121234567", "09121234567", True),
        ("+98 (912) 123-4567", "09121234567", True),
        ("0098-912-123-4567", "09121234567", True),
        ("۹۱۲۱۲۳۴۵۶۷", "09121234567", True),
        ("021 8877 6655", "02188776655", True),
        ("88776655", "88776655", True),
        ("123", "123", False),
        ("no number", "no number", False),
    ],
)
def test_phones(text: str, canonical: str, valid: bool) -> None:
    out = normalize_phones([text])
    assert out.value.to_pylist() == [canonical]
    assert out.valid.tolist() == [valid]


def test_national_ids() -> None:
    out = normalize_national_ids(["0084575948", "84575948", "0084575949", "1111111111", None])
    assert out.value.to_pylist() == ["0084575948", "0084575948", "0084575949", "1111111111", None]
    assert out.valid.tolist() == [True, True, False, False, True]
    digits = np.array([[0, 0, 1, 3, 5, 4, 2, 4, 1, 9]], dtype=np.uint8)
    assert national_id_checksum_ok(digits).tolist() == [True]


def test_masking_in_free_text() -> None:
    out = mask_identifiers(["شماره ۰۹۱۲۱۲۳۴۵۶۷", "0912 123 4567 زنگ", "کد 0084575948", "پلاک 12"])
    assert out.to_pylist() == ["شماره [***]", "[***] زنگ", "کد [***]", "پلاک 12"]


def test_pseudonymizer_refuses_an_empty_key_and_hashes_once_per_value() -> None:
    with pytest.raises(InputError, match="empty"):
        Pseudonymizer(b"")
    p = Pseudonymizer("secret")
    out = p.hash_array(["a", None, "a", "b"]).to_pylist()
    assert out[0] == out[2] != out[3]
    assert out[1] is None


def test_taxonomy_matches_spelling_variants() -> None:
    t = load_taxonomy()
    assert t.kind("شكايت") == "complaint"
    assert t.kind("  Complaint ") == "complaint"
    assert t.kind("چیز") is None
    assert t.unit("شهرداري منطقه ۳") == "region_03"
    assert t.unit("HPD") == "HPD"
    m = match_categories(
        t, ["خدمات شهری", "فنی و عمرانی", None, "نامعلوم"], ["رفت‌وروب", "پیاده رو", None, None], n=4
    )
    assert m.category.tolist() == ["urban_services", "technical", "other", "other"]
    assert m.subcategory.tolist() == ["cleaning", "sidewalks", None, None]
    assert m.unknown.tolist() == [False, False, False, True]
    assert m.empty.tolist() == [False, False, True, False]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["خ ۱۲", "كوچه 9", "  ", "۰۹۱۲۱۲۳۴۵۶۷ تماس", "ab"]), max_size=40))
def test_mapping_distinct_values_equals_mapping_every_value(values: list[str]) -> None:
    arr = to_string_array([*values, None])
    for func in (normalize_text_array, mask_identifiers):
        assert map_array_distinct(arr, func).to_pylist() == func(arr).to_pylist()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), simple), max_size=8))
def test_ascii_digits_matches_the_scalar_digits(values: list[str | None]) -> None:
    got = ascii_digits(to_string_array(values)).to_pylist()
    assert got == [None if v is None else normalize_digits(v) for v in values]


def test_hashing_many_values_equals_hashing_each() -> None:
    p = Pseudonymizer(b"k" * 80)  # longer than a block: the key is hashed first
    values = ["09121234567", None, "۰۹۱۲", "09121234567", "x" * 200, ""]
    got = p.hash_array(values).to_pylist()
    assert got == [None if v is None else p.hash_one(v) for v in values]
    assert p.hash_array([None, None]).to_pylist() == [None, None]
    assert p.hash_array([]).to_pylist() == []


def test_integers_keep_the_range_and_flag_the_rest() -> None:
    values, bad = integers(to_string_array(["3", " ۵ ", "6", "x", None, "2.0", ""]), 1, 5, n=7)
    assert values.tolist() == [3, 5, None, None, None, 2, None]
    assert all(type(v) is int for v in values if v is not None)
    assert bad.tolist() == [False, False, True, True, False, False, False]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["+98 912 123 4567", "۰۰۸-۴۵۷۵۹۴-۸", "12", " ", "abc", "8457594"]),
        max_size=30,
    )
)
def test_identifiers_normalized_per_distinct_value_equal_per_row(values: list[str]) -> None:
    from ingest.readers.common import _per_distinct

    arr = to_string_array([*values, None, *values])
    for normalize in (normalize_phones, normalize_national_ids):
        once, each = _per_distinct(normalize, arr), normalize(arr)
        assert once.value.to_pylist() == each.value.to_pylist()
        assert once.valid.tolist() == each.valid.tolist()


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(["+98 912 123 4567", "۰۰۸-۴۵۷۵۹۴-۸", "12", " ", "abc", "8457594", ""]),
        max_size=30,
    ),
    st.booleans(),
)
def test_identifiers_hashed_per_distinct_value_equal_hashed_per_row(
    values: list[str], repeat: bool
) -> None:
    from ingest.identifiers import NATIONAL_ID_PREFIX, PHONE_PREFIX
    from ingest.readers.common import hash_identifiers

    p = Pseudonymizer(b"k")
    # Repeated values take the per-distinct path, mostly distinct ones the per-row path.
    arr = to_string_array([*values, None, *values] if repeat else [*values, None])
    for normalize, prefix in (
        (normalize_phones, PHONE_PREFIX),
        (normalize_national_ids, NATIONAL_ID_PREFIX),
    ):
        valid, hashed = hash_identifiers(normalize, prefix, arr, p)
        each = normalize(arr)
        expected = [None if v is None else p.hash_one(prefix + v) for v in each.value.to_pylist()]
        assert hashed.to_pylist() == expected
        assert valid.tolist() == each.valid.tolist()


def test_hash_each_keeps_nulls_in_place() -> None:
    p = Pseudonymizer(b"k")
    got = p.hash_each(["a", None, "b", None, "a"]).to_pylist()
    assert got == [p.hash_one("a"), None, p.hash_one("b"), None, p.hash_one("a")]
    assert p.hash_each([]).to_pylist() == []
    assert p.hash_each([None]).to_pylist() == [None]
