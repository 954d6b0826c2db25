"""The taxonomy of kinds, categories and units (``data/taxonomy.yaml``, ``data/units.yaml``).

Raw text from a source is matched after Persian normalization (Arabic ي/ك, digits, ZWNJ,
spacing and letter case do not matter): to a kind code, to a (category, subcategory) pair,
or to a unit code. Matching runs once per distinct value, so a million rows with a few
hundred distinct subjects cost a few hundred look-ups.

* An unknown kind is an error (the row is quarantined by :mod:`ingest.validate`).
* An unknown category becomes ``other`` and is flagged.
* An unknown unit is kept as written (normalized): other cities' agencies pass through.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import yaml

from geo.errors import InputError
from geo.persian import comparison_key, normalize_text

from .arrowtext import encode, take_values, to_string_array

DATA_DIR: Final = Path(__file__).resolve().parents[1] / "data"
TAXONOMY_PATH: Final = DATA_DIR / "taxonomy.yaml"
UNITS_PATH: Final = DATA_DIR / "units.yaml"
OTHER: Final = "other"
_PUNCT: Final = re.compile(r"[\s\-_/\\.,،؛:;()\[\]«»\"']+")


def match_key(text: str) -> str:
    """Reduce a label to its matching key: normalized, lower case, without spaces or marks.

    Examples
    --------
    >>> match_key("رفت‌وروب") == match_key("رفت و روب") == match_key("رفت و  روب")
    True
    >>> match_key("Street-Cleaning")
    'streetcleaning'
    """
    return _PUNCT.sub("", comparison_key(text))


@dataclass(frozen=True, eq=False)
class Taxonomy:
    """Look-up tables from matching keys to codes.

    Attributes
    ----------
    kinds : Mapping
        Key to kind code.
    categories : Mapping
        Key to category code.
    subcategories : Mapping
        Key to (category code, subcategory code).
    units : Mapping
        Key to unit code.
    category_codes : tuple of str
        Every category code (``other`` included).
    subcategory_codes : tuple of str
        Every subcategory code.
    """

    kinds: Mapping[str, str]
    categories: Mapping[str, str]
    subcategories: Mapping[str, tuple[str, str]]
    units: Mapping[str, str]
    category_codes: tuple[str, ...]
    subcategory_codes: tuple[str, ...]

    def kind(self, text: str) -> str | None:
        """Return the kind code of ``text``, or None when unknown."""
        return self.kinds.get(match_key(text))

    def category(self, category: str | None, subcategory: str | None) -> tuple[str, str | None]:
        """Return the (category, subcategory) codes of raw texts; ``("other", None)`` if unknown.

        The subcategory text wins when it is known; a category text that names a
        subcategory identifies both.

        Examples
        --------
        >>> t = load_taxonomy()
        >>> t.category("خدمات شهري", "زباله")
        ('urban_services', 'garbage')
        >>> t.category(None, "سد معبر")
        ('urban_services', 'street_vendors')
        >>> t.category("چیز عجیب", None)
        ('other', None)
        """
        sub_key = match_key(subcategory) if subcategory else ""
        cat_key = match_key(category) if category else ""
        if sub_key in self.subcategories:
            return self.subcategories[sub_key]
        if cat_key in self.subcategories:
            return self.subcategories[cat_key]
        if cat_key in self.categories:
            return self.categories[cat_key], None
        if sub_key in self.categories:
            return self.categories[sub_key], None
        return OTHER, None

    def unit(self, text: str) -> str:
        """Return the unit code of ``text``, or the normalized text when unknown."""
        return self.units.get(match_key(text), normalize_text(text))


def _labels(code: str, entry: Mapping[str, Any]) -> list[str]:
    labels = [code, str(entry.get("fa", "")), str(entry.get("en", ""))]
    labels += [str(a) for a in entry.get("aliases", []) or []]
    return [label for label in labels if label.strip()]


def _load_yaml(path: Path) -> Mapping[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except OSError as exc:
        msg = f"Cannot read {path}: {exc.strerror}; check the path."
        raise InputError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"{path} is not valid YAML ({exc}); fix the file."
        raise InputError(msg) from exc
    if not isinstance(data, Mapping):
        msg = f"{path} must hold a YAML mapping at the top level."
        raise InputError(msg)
    return data


@lru_cache(maxsize=8)
def load_taxonomy(path: Path = TAXONOMY_PATH, units_path: Path = UNITS_PATH) -> Taxonomy:
    """Read the taxonomy and unit files into look-up tables.

    Parameters
    ----------
    path : pathlib.Path
        The taxonomy YAML (``data/taxonomy.yaml``).
    units_path : pathlib.Path
        The units YAML (``data/units.yaml``).

    Returns
    -------
    Taxonomy
        The look-up tables.

    Raises
    ------
    InputError
        When a file cannot be read, or a label means two different codes.
    """
    data = _load_yaml(Path(path))
    kinds: dict[str, str] = {}
    for code, entry in (data.get("kinds") or {}).items():
        for label in _labels(str(code), entry or {}):
            _put(kinds, match_key(label), str(code), path)
    categories: dict[str, str] = {}
    subcategories: dict[str, tuple[str, str]] = {}
    sub_codes: list[str] = []
    for code, entry in (data.get("categories") or {}).items():
        entry = entry or {}
        for label in _labels(str(code), entry):
            _put(categories, match_key(label), str(code), path)
        for sub, sub_entry in (entry.get("subcategories") or {}).items():
            sub_codes.append(str(sub))
            for label in _labels(str(sub), sub_entry or {}):
                _put(subcategories, match_key(label), (str(code), str(sub)), path)
    units: dict[str, str] = {}
    for code, entry in (_load_yaml(Path(units_path)).get("units") or {}).items():
        for label in _labels(str(code), entry or {}):
            _put(units, match_key(label), str(code), units_path)
    category_codes = tuple(dict.fromkeys([*categories.values(), OTHER]))
    return Taxonomy(
        kinds=kinds,
        categories=categories,
        subcategories=subcategories,
        units=units,
        category_codes=category_codes,
        subcategory_codes=tuple(dict.fromkeys(sub_codes)),
    )


def _put(table: dict[str, Any], key: str, value: object, path: Path) -> None:
    if not key:
        return
    if key in table and table[key] != value:
        msg = (
            f"{path}: the label {key!r} means both {table[key]!r} and {value!r}; "
            "keep it under one code only."
        )
        raise InputError(msg)
    table[key] = value


@dataclass(frozen=True, eq=False)
class CategoryMatch:
    """Categories of many rows.

    Attributes
    ----------
    category, subcategory : numpy.ndarray
        Object arrays of codes (``None`` where there is no subcategory).
    unknown : numpy.ndarray
        Rows whose text was given but matched nothing (they are ``other``).
    empty : numpy.ndarray
        Rows with no category text at all (they are ``other`` too).
    """

    category: np.ndarray
    subcategory: np.ndarray
    unknown: np.ndarray
    empty: np.ndarray


def match_categories(
    taxonomy: Taxonomy,
    category: object | None,
    subcategory: object | None,
    *,
    n: int,
    category_map: Mapping[str, str] | None = None,
) -> CategoryMatch:
    """Match category and subcategory texts of ``n`` rows, once per distinct pair.

    Parameters
    ----------
    taxonomy : Taxonomy
        Look-up tables.
    category, subcategory : array-like or None
        Raw texts (or None when the source has no such column).
    n : int
        Number of rows.
    category_map : Mapping, optional
        Source text to ``"category"`` or ``"category/subcategory"`` codes, tried first
        (the category maps of :mod:`ingest.readers.mapped_csv`).

    Returns
    -------
    CategoryMatch
        Codes and masks.
    """
    cat_codes, cat_values = _codes(category, n)
    sub_codes, sub_values = _codes(subcategory, n)
    width = len(sub_values) + 1
    pair = (cat_codes + 1) * width + (sub_codes + 1)
    uniques, inverse = np.unique(pair, return_inverse=True)
    mapped_keys = {match_key(k): v for k, v in (category_map or {}).items()}
    cats, subs, unknown, empty = [], [], [], []
    for value in uniques.tolist():
        ci, si = value // width - 1, value % width - 1
        cat_text = cat_values[ci] if ci >= 0 else None
        sub_text = sub_values[si] if si >= 0 else None
        result = _match_one(taxonomy, cat_text, sub_text, mapped_keys)
        cats.append(result[0])
        subs.append(result[1])
        nothing = not (cat_text or "").strip() and not (sub_text or "").strip()
        empty.append(nothing)
        unknown.append(result[2] and not nothing)
    return CategoryMatch(
        category=take_values(cats, inverse, null=OTHER),
        subcategory=take_values(subs, inverse, null=None),
        unknown=np.asarray(unknown, dtype=bool)[inverse],
        empty=np.asarray(empty, dtype=bool)[inverse],
    )


def _match_one(
    taxonomy: Taxonomy, cat: str | None, sub: str | None, mapped: Mapping[str, str]
) -> tuple[str, str | None, bool]:
    for text in (sub, cat):
        if text and (target := mapped.get(match_key(text))) is not None:
            head, _, tail = target.partition("/")
            return head, (tail or None), False
    code, sub_code = taxonomy.category(cat, sub)
    if code == OTHER and not (cat and match_key(cat) in taxonomy.categories):
        return code, sub_code, True
    if sub and sub_code is None and code != OTHER:
        return code, None, True  # the category is known, its subcategory is not
    return code, sub_code, False


def _codes(values: object | None, n: int) -> tuple[np.ndarray, list[str]]:
    if values is None:
        return np.full(n, -1, dtype=np.int64), []
    return encode(to_string_array(values))


def map_distinct(values: object, func: Any, *, null: object) -> np.ndarray:
    """Apply ``func`` to each distinct value of ``values`` and spread as an object array.

    Examples
    --------
    >>> map_distinct(["a", None, "a"], str.upper, null=None).tolist()
    ['A', None, 'A']
    """
    codes, uniques = encode(to_string_array(values))
    return take_values([func(u) for u in uniques], codes, null=null)


def as_arrow(values: np.ndarray) -> pa.Array:
    """Return an object array of str/None as an Arrow string array."""
    return pa.array(values, type=pa.large_string(), from_pandas=True)
