"""Address text as 137 operators type it, with realistic noise, for a known neighborhood.

A clean address reads ``تهران، منطقه ۸، محله نارمک، خیابان گلبرگ، کوچه ۱۲، پلاک ۳۴``. The
noise applied, each with its own probability (:class:`AddressNoise`), is what real exports
show: the city, the region or the "محله" label left out; one part of a compound name
("ارگ _پامنار" → "پامنار"); "شهرک" or an honorific dropped; "آباد" glued, spaced or joined
with ZWNJ; one (rarely two) typing errors in the neighborhood name; abbreviations (خ, ک, پ,
م); Persian or Latin digits; Arabic ي/ك; the components in another order; landmarks such as
"نرسیده به میدان ..."; and, rarely, no neighborhood at all (street and region only).

Generating one address is a few microseconds of Python, so large frames sample from a pool
(:func:`address_pool`) rather than generate one text per case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from ingest import schema as s

#: Main streets named in generated addresses (common Tehran street names).
STREETS: Final = (
    "ولیعصر",
    "انقلاب",
    "آزادی",
    "جمهوری",
    "کارگر",
    "طالقانی",
    "مطهری",
    "شهید بهشتی",
    "پاسداران",
    "دماوند",
    "هفده شهریور",
    "خاوران",
    "قزوین",
    "نواب",
    "کریمخان",
    "ستارخان",
    "آیت‌الله کاشانی",
    "اشرفی اصفهانی",
    "گلبرگ",
    "فرجام",
    "رسالت",
    "سبلان",
    "مدنی",
    "هلال احمر",
    "مولوی",
    "شوش",
    "دکتر فاطمی",
    "میرداماد",
    "ظفر",
    "بهار",
    "سعدی",
    "حافظ",
    "لاله‌زار",
    "امام خمینی",
    "شهید چمران",
    "زرافشان",
    "فلاح",
    "قصرالدشت",
    "جیحون",
    "کمیل",
    "هاشمی",
    "استاد معین",
    "نیروی هوایی",
    "پیروزی",
    "سرسبز",
    "تهرانپارس",
    "گلها",
    "مینا",
    "نارنجستان",
    "بهاران",
)
#: Names of side streets and alleys.
ALLEYS: Final = (
    "لاله",
    "نسترن",
    "اقاقیا",
    "یاس",
    "نرگس",
    "سوسن",
    "شقایق",
    "بنفشه",
    "مریم",
    "ارغوان",
    "صنوبر",
    "سرو",
    "شهید رضایی",
    "شهید احمدی",
    "بهشت",
    "گلستان",
    "دانش",
    "امید",
)
_LANDMARKS: Final = ("نرسیده به میدان", "روبروی مسجد", "جنب پارک", "بعد از چهارراه", "نبش")
_SIMILAR: Final = (
    "سصث",
    "زذضظ",
    "تط",
    "هح",
    "اآ",
    "قغ",
    "یئ",
    "کگ",
    "رز",
    "بپ",
    "جچ",
)
_SIMILAR_OF: Final = {c: group.replace(c, "") for group in _SIMILAR for c in group}
_LETTERS: Final = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
_PERSIAN_DIGITS: Final = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_ARABIC_LETTERS: Final = str.maketrans({"ی": "ي", "ک": "ك"})
_COMPOUND = re.compile(r"\s*(?:_|\sو\s)\s*")
_ABAD = re.compile(r"\s?(?:\u200c)?آباد")


@dataclass(frozen=True)
class AddressNoise:
    """Probabilities of each kind of noise in a generated address (0 disables it).

    The defaults are guesses at what operator-typed 137 addresses look like.
    """

    city: float = 0.4
    region: float = 0.5
    hood_label: float = 0.25
    no_hood: float = 0.02
    compound_part: float = 0.3
    drop_shahrak: float = 0.2
    drop_honorific: float = 0.3
    abad_spacing: float = 0.4
    typo: float = 0.25
    second_typo: float = 0.05
    abbreviate: float = 0.5
    drop_street_word: float = 0.03
    plaque: float = 0.7
    persian_digits: float = 0.5
    arabic_letters: float = 0.3
    street_first: float = 0.15
    landmark: float = 0.12
    odd_separator: float = 0.6


CLEAN: Final = AddressNoise(
    city=1.0,
    region=1.0,
    hood_label=1.0,
    no_hood=0.0,
    compound_part=0.0,
    drop_shahrak=0.0,
    drop_honorific=0.0,
    abad_spacing=0.0,
    typo=0.0,
    second_typo=0.0,
    abbreviate=0.0,
    drop_street_word=0.0,
    plaque=1.0,
    persian_digits=0.0,
    arabic_letters=0.0,
    street_first=0.0,
    landmark=0.0,
    odd_separator=0.0,
)


def typo(word: str, rng: np.random.Generator) -> str:
    """Return ``word`` with one typing error: a letter dropped, replaced, doubled or swapped.

    Replacements prefer look-alike or sound-alike letters (س/ص/ث, ز/ذ/ض/ظ, ت/ط, ...).
    Words shorter than four letters are returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> typo("نارمک", np.random.default_rng(0)) != "نارمک"
    True
    """
    letters = [i for i, c in enumerate(word) if c in _LETTERS or c in _SIMILAR_OF]
    if len(word.replace(" ", "")) < 4 or not letters:
        return word
    i = int(rng.choice(letters[1:] if len(letters) > 1 else letters))
    op = rng.integers(4)
    c = word[i]
    if op == 0:
        return word[:i] + word[i + 1 :]
    if op == 1:
        pool = _SIMILAR_OF.get(c) or _LETTERS
        return word[:i] + str(rng.choice(list(pool))) + word[i + 1 :]
    if op == 2:
        return word[:i] + c + word[i:]
    j = i - 1 if i > 0 else i + 1
    if j >= len(word):
        return word
    a, b = sorted((i, j))
    return word[:a] + word[b] + word[a] + word[b + 1 :]


def noisy_address(
    hood_name: str | None,
    region_code: str,
    rng: np.random.Generator,
    noise: AddressNoise = AddressNoise(),
) -> tuple[str, bool]:
    """Write one address in ``hood_name`` (region ``region_code``) the way operators do.

    Parameters
    ----------
    hood_name : str or None
        The neighborhood's Persian name (from the boundary layer); None writes no
        neighborhood.
    region_code : str
        The region's code ("8"), written as "منطقه ۸" when the noise keeps it.
    rng : numpy.random.Generator
        Source of randomness.
    noise : AddressNoise
        Probabilities of each kind of noise.

    Returns
    -------
    tuple of (str, bool)
        The address and whether it still names the neighborhood (False when the
        neighborhood was left out).

    Examples
    --------
    >>> import numpy as np
    >>> noisy_address("نارمک", "8", np.random.default_rng(1), CLEAN)[0].startswith("تهران، منطقه 8")
    True
    """
    p = rng.random(20)
    hood: str | None = hood_name
    if hood is not None and p[0] < noise.no_hood:
        hood = None
    if hood is not None:
        hood = _noisy_name(hood, rng, noise)
    street = str(rng.choice(STREETS))
    if p[1] < noise.drop_honorific:
        street = street.replace("شهید ", "")
    street_word = "خ" if p[2] < noise.abbreviate else "خیابان"
    street_part = street if p[3] < noise.drop_street_word else f"{street_word} {street}"
    alley_word = "ک" if p[4] < noise.abbreviate else "کوچه"
    alley = str(rng.integers(1, 40)) if p[5] < 0.5 else str(rng.choice(ALLEYS))
    parts: list[str] = []
    if p[6] < noise.city:
        parts.append("تهران")
    if p[7] < noise.region:
        parts.append(
            f"منطقه {int(region_code)}" if region_code.isdigit() else f"منطقه {region_code}"
        )
    hood_part = None
    if hood is not None:
        hood_part = f"محله {hood}" if p[8] < noise.hood_label else hood
    if p[9] < noise.street_first or hood_part is None:
        parts.append(street_part)
        if hood_part is not None:
            parts.append(hood_part)
    else:
        parts.extend([hood_part, street_part])
    if p[10] < noise.landmark:
        parts.append(f"{rng.choice(_LANDMARKS)} {rng.choice(STREETS)}")
    parts.append(f"{alley_word} {alley}")
    if p[11] < noise.plaque:
        plaque_word = "پ" if p[12] < noise.abbreviate else "پلاک"
        parts.append(f"{plaque_word} {rng.integers(1, 300)}")
    separator = "، "
    if p[15] < noise.odd_separator:
        separator = str(rng.choice(["، ", " - ", " ", ","]))
    text = separator.join(parts)
    if p[13] < noise.persian_digits:
        text = text.translate(_PERSIAN_DIGITS)
    if p[14] < noise.arabic_letters:
        text = text.translate(_ARABIC_LETTERS)
    return text, hood is not None


def _noisy_name(name: str, rng: np.random.Generator, noise: AddressNoise) -> str:
    p = rng.random(8)
    out = name
    pieces = [x for x in _COMPOUND.split(out) if x.strip()]
    if len(pieces) > 1 and p[0] < noise.compound_part:
        out = str(rng.choice(pieces))
    out = out.strip(" _")
    if out.startswith("شهرک ") and len(out) > 9 and p[1] < noise.drop_shahrak:
        out = out[len("شهرک ") :]
    if "شهید" in out and p[2] < noise.drop_honorific:
        out = re.sub(r"شهید\s?", "", out).strip()
    if "آباد" in out and p[3] < noise.abad_spacing:
        out = _ABAD.sub(str(rng.choice(["آباد", " آباد", "\u200cآباد"])), out)
    if p[4] < noise.typo:
        out = typo(out, rng)
        if p[5] < noise.second_typo:
            out = typo(out, rng)
    return out


def noisy_addresses(
    hoods: pd.DataFrame,
    n: int,
    *,
    seed: int | np.random.Generator = 0,
    noise: AddressNoise = AddressNoise(),
) -> pd.DataFrame:
    """Generate ``n`` noisy addresses in neighborhoods drawn uniformly from ``hoods``.

    Parameters
    ----------
    hoods : pandas.DataFrame
        One row per neighborhood with ``code``, ``name_fa`` and ``region_code`` (or
        ``parent_code`` holding the region code).
    n : int
        Number of addresses.
    seed : int or numpy.random.Generator, default 0
        Seed or generator.
    noise : AddressNoise
        Probabilities of each kind of noise.

    Returns
    -------
    pandas.DataFrame
        Columns ``address``, ``neighborhood_code``, ``region_code`` (the truth) and
        ``names_hood`` (whether the text still names the neighborhood).

    Examples
    --------
    >>> hoods = pd.DataFrame({"code": ["801"], "name_fa": ["نارمک"], "region_code": ["8"]})
    >>> noisy_addresses(hoods, 3, seed=1)["neighborhood_code"].tolist()
    ['801', '801', '801']
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    table = _hood_table(hoods)
    pick = rng.integers(len(table), size=n)
    texts: list[str] = []
    named: list[bool] = []
    names = table[s.NAME_FA].tolist()
    regions = table[s.REGION_CODE].tolist()
    for i in pick:
        text, has_hood = noisy_address(names[i], regions[i], rng, noise)
        texts.append(text)
        named.append(has_hood)
    return pd.DataFrame(
        {
            s.ADDRESS: texts,
            s.NEIGHBORHOOD_CODE: table[s.CODE].to_numpy()[pick],
            s.REGION_CODE: table[s.REGION_CODE].to_numpy()[pick],
            "names_hood": named,
        }
    )


def address_pool(
    hoods: pd.DataFrame,
    per_hood: int,
    *,
    seed: int | np.random.Generator = 0,
    noise: AddressNoise = AddressNoise(),
) -> tuple[np.ndarray, np.ndarray]:
    """Generate ``per_hood`` noisy addresses for every neighborhood, as 2-D arrays.

    Parameters
    ----------
    hoods : pandas.DataFrame
        As for :func:`noisy_addresses`.
    per_hood : int
        Addresses per neighborhood.
    seed : int or numpy.random.Generator, default 0
        Seed or generator.
    noise : AddressNoise
        Probabilities of each kind of noise.

    Returns
    -------
    tuple of numpy.ndarray
        ``(texts, names_hood)``, both of shape ``(len(hoods), per_hood)``: row ``i``
        holds addresses in the ``i``-th neighborhood of ``hoods`` (object array of str)
        and whether each still names the neighborhood (bool). Sample a column per case.

    Examples
    --------
    >>> hoods = pd.DataFrame({"code": ["801"], "name_fa": ["نارمک"], "region_code": ["8"]})
    >>> texts, named = address_pool(hoods, 4, seed=1)
    >>> texts.shape, named.dtype.name
    ((1, 4), 'bool')
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    table = _hood_table(hoods)
    names = table[s.NAME_FA].tolist()
    regions = table[s.REGION_CODE].tolist()
    pool = np.empty((len(table), per_hood), dtype=object)
    named = np.zeros((len(table), per_hood), dtype=bool)
    for i in range(len(table)):
        for j in range(per_hood):
            pool[i, j], named[i, j] = noisy_address(names[i], regions[i], rng, noise)
    return pool, named


def _hood_table(hoods: pd.DataFrame) -> pd.DataFrame:
    region = hoods[s.REGION_CODE] if s.REGION_CODE in hoods else hoods[s.PARENT_CODE]
    return pd.DataFrame(
        {
            s.CODE: hoods[s.CODE].astype(str).to_numpy(),
            s.NAME_FA: hoods[s.NAME_FA].astype(str).to_numpy(),
            s.REGION_CODE: region.astype(str).to_numpy(),
        }
    )
