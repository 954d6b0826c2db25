"""Persian address text: normalization for storage and keys for matching.

Operators type 137 addresses by hand: ``"تهران، منطقه ۴، نارمک، خ گلبرگ، ک ۱۲، پ ۳۴"``.
Two functions serve two purposes:

* :func:`normalize_address` is for **storage and display**. It normalizes letters, digits
  and ZWNJ (:func:`geo.persian.normalize_text`) and expands the common one-letter
  abbreviations (خ → خیابان, ک → کوچه, م → میدان, ب → بلوار, پ → پلاک, ش → شهید, ط → طبقه,
  ...) and spelling variants (اتوبان → بزرگراه, چهار راه → چهارراه, خیابون → خیابان). It
  keeps every word the operator typed.
* :func:`match_key` is for **comparison** only. It also drops honorifics and noise words,
  folds آ into ا and ئ into ی, and removes punctuation, so that spelling variants of one
  name coincide. Keys are never stored or shown.

Honorifics and the "شهید" decision
---------------------------------
Many Tehran names carry an honorific: "شهید بهشتی", "شهرک شهید باقری", "حضرت ولیعصر",
"آیت‌الله کاشانی", "دکتر شریعتی". People write them or leave them out at will ("خیابان
بهشتی" is "خیابان شهید بهشتی"). :func:`match_key` therefore drops them as whole words, on
both sides of every comparison (the gazetteer's names go through the same function), so
"شهید" is never needed to tell two names apart and never blocks a match. A "شهید" glued to
the following name ("شهیدغیوری", as in the real neighborhood layer) is split off first when
at least three letters follow, so "شهیدی" (a surname) and "شهیدان" are kept. "امام" is an
honorific except in "امامزاده" (a shrine, part of the name), which is joined first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, NamedTuple

from .persian import ZWNJ, normalize_text

#: One-letter abbreviations (a whole word, optionally followed by "." or ":") and their expansion.
ABBREVIATIONS: Final = {
    "خ": "خیابان",
    "ک": "کوچه",
    "م": "میدان",
    "ب": "بلوار",
    "پ": "پلاک",
    "ش": "شهید",
    "ط": "طبقه",
}
#: Spelling variants of place-type words, replaced by the standard form.
VARIANTS: Final = {
    "خیابون": "خیابان",
    "اتوبان": "بزرگراه",
    "بزرگ راه": "بزرگراه",
    "چهار راه": "چهارراه",
    "سه راه": "سه‌راه",
    "سه‌ راه": "سه‌راه",
    "بن بست": "بن‌بست",
    "بنبست": "بن‌بست",
    "کوچۀ": "کوچه",
    "پلاک:": "پلاک",
    "امام زاده": "امامزاده",
    "آیت الله": "آیت‌الله",
    "آیت اله": "آیت‌الله",
    "آیه الله": "آیت‌الله",
    "آیت‌اله": "آیت‌الله",
}
#: Words that start a street-like component (the name follows).
STREET_WORDS: Final = (
    "خیابان",
    "کوچه",
    "میدان",
    "بلوار",
    "بزرگراه",
    "چهارراه",
    "سه‌راه",
    "بن‌بست",
    "گذر",
    "پل",
)
#: Words that start a component that never names a place (the number that follows is dropped).
UNIT_WORDS: Final = ("پلاک", "طبقه", "واحد", "کدپستی", "کد پستی", "زنگ")
#: Honorifics dropped from match keys (see the module docstring).
HONORIFICS: Final = (
    "شهید",
    "حضرت",
    "آیت‌الله",
    "امام",
    "سردار",
    "سرلشکر",
    "سپهبد",
    "دکتر",
    "مهندس",
    "حاج",
    "علامه",
)
#: Words that say nothing about where a place is, dropped from match keys.
NOISE_WORDS: Final = (
    "تهران",
    "استان",
    "آدرس",
    "نشانی",
    "روبروی",
    "روبه‌روی",
    "روبرو",
    "جنب",
    "نبش",
    "نرسیده",
    "بعد",
    "قبل",
    "از",
    "به",
    "بالاتر",
    "پایین‌تر",
    "انتهای",
    "ابتدای",
    "حوالی",
    "نزدیک",
    "کنار",
    "پشت",
    "داخل",
    "سمت",
    "ضلع",
    "محدوده",
    "محله",
    "در",
    "the",
)

_SEPARATORS = re.compile(r"[،,;؛|/\\()\[\]{}«»\"'_\-–—.:؟?!]+")
# Components are split on the same marks except "_", which joins the parts of official
# compound names ("ارگ _پامنار") and so belongs inside one component.
_COMPONENT_SEPARATORS = re.compile(r"[،,;؛|/\\()\[\]{}«»\"'\-–—.:؟?!]+")
_ABBREVIATION = re.compile(
    r"(?<![\w\u200c])("
    + "|".join(sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(?:[.:]|(?=[\s\d،,;؛\-–—/()]|$))\s*"
)
_VARIANT = re.compile("|".join(re.escape(v) for v in sorted(VARIANTS, key=len, reverse=True)))
_GLUED_SHAHID = re.compile(r"(?<![\w\u200c])شهید(?=[^\W\d_]{3,})")
_HONORIFIC_WORD = re.compile(
    r"(?<![\w\u200c])("
    + "|".join(re.escape(h) for h in sorted(HONORIFICS, key=len, reverse=True))
    + r")(?![\w\u200c])\s*"
)
_KEY_FOLD: Final = str.maketrans({"آ": "ا", "ئ": "ی", "ء": None, "ؤ": "و", ZWNJ: " "})
_DROPPED_WORDS: Final = frozenset(w.translate(_KEY_FOLD) for w in (*HONORIFICS, *NOISE_WORDS))
_DROPPED_PHRASES = re.compile(
    r"(?<![\w])(" + "|".join(re.escape(w.translate(_KEY_FOLD)) for w in ("آیت‌الله",)) + r")(?![\w])"
)


def normalize_address(text: str, *, drop_honorifics: bool = False) -> str:
    """Normalize an address for storage: letters, digits, ZWNJ and abbreviations.

    Parameters
    ----------
    text : str
        An address as typed, in any mix of Arabic and Persian letters and digits.
    drop_honorifics : bool, default False
        Also remove honorifics (:data:`HONORIFICS`: شهید, حضرت, آیت‌الله, امام, دکتر, ...)
        as whole words, a "شهید" glued to a name included. Off by default, so that the
        stored address keeps what the operator typed; :func:`match_key` always drops them.

    Returns
    -------
    str
        The address with Persian letters, ASCII digits, single spaces, the one-letter
        abbreviations expanded and place-type words in their standard spelling. Every
        other word of the input is kept.

    Examples
    --------
    >>> normalize_address("تهران، خ ولي عصر، ك ۱۲، پ. ۳")
    'تهران، خیابان ولی عصر، کوچه 12، پلاک 3'
    >>> normalize_address("اتوبان همت، چهار راه پارک وی")
    'بزرگراه همت، چهارراه پارک وی'
    >>> normalize_address("خ ش بهشتی، م امام حسین", drop_honorifics=True)
    'خیابان بهشتی، میدان حسین'
    """
    out = normalize_text(text)
    # Spacing normalization can free a letter glued by a ZWNJ ("ب.\u200cب"): repeat until
    # nothing changes (expansions are whole words, so two or three passes suffice).
    for _ in range(4):
        new = _VARIANT.sub(lambda m: VARIANTS[m.group(0)], out)
        new = _ABBREVIATION.sub(lambda m: ABBREVIATIONS[m.group(1)] + " ", new)
        if new == out:  # normalize_text is idempotent: ``out`` is already its own result
            break
        new = normalize_text(new)
        if new == out:
            break
        out = new
    if drop_honorifics:
        out = normalize_text(_HONORIFIC_WORD.sub("", _GLUED_SHAHID.sub("شهید ", out)))
    return out


def match_key(text: str) -> str:
    """Reduce an address or a place name to the key used for fuzzy matching.

    The text is normalized with :func:`normalize_address`; then punctuation becomes space,
    آ becomes ا and ئ becomes ی, ZWNJ becomes space, a glued "شهید" prefix is split off,
    and honorifics (:data:`HONORIFICS`) and noise words (:data:`NOISE_WORDS`) are dropped.

    Parameters
    ----------
    text : str
        An address, a component of one, or a gazetteer name.

    Returns
    -------
    str
        Space-separated words; empty when nothing place-like is left.

    Examples
    --------
    >>> match_key("تهران، خيابان شهيد بهشتي") == match_key("خ بهشتی")
    True
    >>> match_key("شهيدغيوري")
    'غیوری'
    >>> match_key("امام زاده يحيي") == match_key("امامزاده یحیی")
    True
    """
    out = normalize_address(text)
    out = _GLUED_SHAHID.sub("شهید ", out)
    out = _SEPARATORS.sub(" ", out).translate(_KEY_FOLD)
    out = _DROPPED_PHRASES.sub(" ", out)
    return " ".join(w for w in out.split() if w not in _DROPPED_WORDS)


# Components repeat across addresses (street and neighborhood names): parse_address keys
# each distinct component text once per process.
_component_key = lru_cache(maxsize=1 << 16)(match_key)


def compact(key: str) -> str:
    """Remove spaces from a match key, so that "دولت آباد" and "دولتآباد" coincide.

    Examples
    --------
    >>> compact("دولت اباد")
    'دولتاباد'
    """
    return key.replace(" ", "")


#: Roles of the components of a parsed address.
ROLE_AREA: Final = "area"
ROLE_NEIGHBORHOOD: Final = "neighborhood"
ROLE_STREET: Final = "street"
ROLE_LANDMARK: Final = "landmark"

_REGION_WORDS: Final = frozenset({"منطقه"})
_DISTRICT_WORDS: Final = frozenset({"ناحیه"})
_HOOD_WORDS: Final = frozenset({"محله", "محل"})
#: Words after which the address names a landmark near the place, not the place itself.
LANDMARK_WORDS: Final = (
    "روبروی",
    "روبه‌روی",
    "روبرو",
    "جنب",
    "نبش",
    "نرسیده",
    "بعد",
    "قبل",
    "پشت",
    "کنار",
    "نزدیک",
    "بالاتر",
    "پایین‌تر",
)
_LANDMARK_SET: Final = frozenset(LANDMARK_WORDS)
_STREET_SET: Final = frozenset(STREET_WORDS)
_UNIT_SET: Final = frozenset({"پلاک", "طبقه", "واحد", "کدپستی", "زنگ"})
_NUMBER = re.compile(r"^\d+$")


class Component(NamedTuple):
    """One place-like component of an address."""

    role: str
    """``"neighborhood"``, ``"street"``, ``"landmark"`` or ``"area"``."""
    key: str
    """The :func:`match_key` of the name, without the street word."""
    street_word: str
    """The street word that introduced it ("میدان", "خیابان", ...), else ``""``."""


@dataclass(frozen=True)
class AddressParts:
    """An address split into the pieces a geocoder can use.

    Attributes
    ----------
    region : str or None
        The region number the text names ("منطقه ۴" gives ``"4"``), else None.
    district : str or None
        The district number the text names ("ناحیه ۲"), else None.
    components : tuple of Component
        Each place-like component in order: its role, its :func:`match_key` key and
        the street word that introduced it. Roles:
        ``"neighborhood"`` (introduced by "محله"), ``"street"`` (introduced by a street
        word such as خیابان, کوچه, میدان; the key holds the name only), ``"landmark"``
        (after روبروی, جنب, نبش, نرسیده به, ...: a place nearby, street words included) or
        ``"area"`` (anything else, typically the neighborhood written bare). House
        numbers, floors and units are dropped.
    """

    region: str | None
    district: str | None
    components: tuple[Component, ...]


def parse_address(text: str) -> AddressParts:
    """Split an address into region, district and place-like components.

    Parameters
    ----------
    text : str
        An address as typed.

    Returns
    -------
    AddressParts
        The region and district numbers it names and its components with their roles.

    Examples
    --------
    >>> p = parse_address("تهران، منطقه ۸، نارمك، خ گلبرگ شرقی، ک ۱۲، پ ۳۴")
    >>> p.region
    '8'
    >>> [(c.role, c.key, c.street_word) for c in p.components]
    [('area', 'نارمک', ''), ('street', 'گلبرگ شرقی', 'خیابان')]
    """
    normalized = _GLUED_SHAHID.sub("شهید ", normalize_address(text))
    region: str | None = None
    district: str | None = None
    components: list[Component] = []
    street_word = ""

    def close(role: str, words: list[str]) -> None:
        key = _component_key(" ".join(words))
        if key and not key.replace(" ", "").isdigit():
            components.append(Component(role, key, street_word))

    for chunk in _COMPONENT_SEPARATORS.split(normalized):
        role = ROLE_AREA
        words: list[str] = []
        tokens = chunk.split()
        i = 0
        while i < len(tokens):
            token = tokens[i]
            nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
            if token in _REGION_WORDS or token in _DISTRICT_WORDS or token in _UNIT_SET:
                close(role, words)
                role, words, street_word = ROLE_AREA, [], ""
                if _NUMBER.match(nxt):
                    if token in _REGION_WORDS:
                        region = str(int(nxt))
                    elif token in _DISTRICT_WORDS:
                        district = str(int(nxt))
                    i += 1
            elif token in _HOOD_WORDS or token in _STREET_SET or token in _LANDMARK_SET:
                close(role, words)
                street_word = token if token in _STREET_SET else ""
                if token in _HOOD_WORDS:
                    role = ROLE_NEIGHBORHOOD
                elif token in _STREET_SET:
                    near = role == ROLE_LANDMARK and not _component_key(" ".join(words))
                    role = ROLE_LANDMARK if near else ROLE_STREET
                else:
                    role = ROLE_LANDMARK
                words = []
            else:
                words.append(token)
            i += 1
        close(role, words)
        street_word = ""
    return AddressParts(region=region, district=district, components=tuple(components))
