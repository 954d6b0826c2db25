"""Geocode Persian address text to a neighborhood, a region or a user place.

How a match is scored
---------------------
Each distinct address is parsed (:func:`geo.address.parse_address`) into a region number
("منطقه ۴") and place-like components with a role (area, neighborhood, street, landmark).
Queries are made from the components: every window of one to four consecutive words of an
area, neighborhood or landmark component; the name of a street; the street with its street
word when some neighborhood's name starts with it ("میدان ولیعصر"); and the words
after a street's first word (an address without separators runs the street into the
neighborhood). Every query is compared with every gazetteer name, on space-free match keys,
by the larger of :func:`rapidfuzz.fuzz.ratio` (Indel) and the optimal-string-alignment
similarity (which counts a swapped pair of letters as one error), in one
:func:`rapidfuzz.process.cdist` call per batch. The 0–100 similarity is then adjusted:

* a window shorter than its component loses up to ``15`` points in proportion to the
  characters it leaves out (so "نارمک جنوبی" beats "نارمک" when both are written), and a
  window after a street's first word loses ``5`` more;
* a street or landmark matching a neighborhood name is worth ``0.7`` of its similarity (a
  street named like a neighborhood is a hint, never enough on its own: long avenues cross
  many neighborhoods);
* an alias (a part of a compound name such as "ارگ _پامنار", or a name without "شهرک")
  loses ``3`` points, so the neighborhood whose whole name it is wins a tie;
* a name outside the region the address names loses ``20`` points;
* when another neighborhood scores within ``8`` points of the best one, the best loses ``4``
  points per point of missing gap (an exact name shared by two regions, with no region in
  the address, ends at 68: not accepted);
* when another area component of the same address reaches ``accept_score`` on a different
  neighborhood and comes within ``12`` points of the best (two neighborhood names in one
  address, which the region it names does not tell apart), the best loses ``32`` points.

The best neighborhood is accepted when its adjusted score reaches ``accept_score``. A user
place (street or point of the user gazetteer) is used instead when it reaches
``accept_score`` and lies in the accepted neighborhood (or, when no neighborhood was
accepted, in the region the address names, or anywhere when it names none); its precision
is ``address``. When nothing is accepted but the address names a known region, the result
is that region. Points are never more precise than the match: a neighborhood gets its
representative point (:func:`shapely.point_on_surface`), a region its own.

Cost
----
The work is done once per distinct thing, never per row: texts that parse alike (same
region and components: house numbers and spellings aside) are matched once; a component
("خیابان گلبرگ", "نارمک") shared by many addresses has its queries scored against the
gazetteer once per call (scores before the region penalty, which depends on the address);
and each distinct query text is compared with the names once. Batches bound the memory of
the score matrices (four million address-name cells). A 137 export of a million
rows repeats a few tens of thousands of address texts: they take about a second.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from ingest import schema as s

from .address import ROLE_LANDMARK, ROLE_STREET, AddressParts, Component, compact, parse_address
from .gazetteer import IS_ALIAS, KEY, NAME, PLACE_LEVEL, ROLE, Gazetteer

#: Default adjusted score (0–100) from which a match is accepted.
ACCEPT_SCORE: Final = 75.0
#: Column of the result holding the gazetteer name that matched (for review, not storage).
MATCHED_NAME: Final = "matched_name"
#: Column of the result holding the adjusted score (0–100).
SCORE: Final = "score"
RESULT_COLUMNS: Final = (
    s.LON,
    s.LAT,
    s.NEIGHBORHOOD_CODE,
    s.DISTRICT_CODE,
    s.REGION_CODE,
    s.GEOCODE_PRECISION,
    SCORE,
    MATCHED_NAME,
)
PRECISION_ADDRESS: Final = "address"
PRECISION_NEIGHBORHOOD: Final = "neighborhood"
PRECISION_REGION: Final = "region"
PRECISION_NONE: Final = "none"

_MAX_WINDOW_WORDS: Final = 4
_WINDOW_PENALTY: Final = 15.0
_TRAILING_PENALTY: Final = 5.0
_HINT_WEIGHT: Final = 0.7
_ALIAS_PENALTY: Final = 3.0
_REGION_PENALTY: Final = 20.0
_AMBIGUITY_GAP: Final = 8.0
_AMBIGUITY_SLOPE: Final = 4.0
_CONFLICT_PENALTY: Final = 32.0
_CONFLICT_MARGIN: Final = 12.0
# Addresses per batch times gazetteer names: bounds the score matrices' memory.
_BATCH_CELLS: Final = 4_000_000
# Distinct components times names whose scores are kept for reuse across batches.
_CACHE_CELLS: Final = 32_000_000
_CODE_COLUMNS: Final = (s.LON, s.LAT, s.NEIGHBORHOOD_CODE, s.DISTRICT_CODE, s.REGION_CODE)

# Kinds of query (rows) and of gazetteer entry (columns) and the weight of each pairing.
_Q_AREA, _Q_STREET, _Q_LANDMARK = 0, 1, 2
_E_HOOD, _E_AREA_PLACE, _E_STREET_PLACE = 0, 1, 2
# A query: its space-free text, its penalty and its kind.
_Query = tuple[str, float, int]
_WEIGHTS: Final = np.array(
    [
        [1.0, 1.0, 0.0],  # an area component: a neighborhood or a named place, never a street
        [_HINT_WEIGHT, _HINT_WEIGHT, 1.0],  # a street name: a street place; else a hint
        [_HINT_WEIGHT, 1.0, 1.0],  # a landmark: a place or a street; a neighborhood is a hint
    ],
    dtype=np.float32,
)


def geocode_addresses(
    addresses: Iterable[str | None] | pd.Series,
    gazetteer: Gazetteer,
    *,
    accept_score: float = ACCEPT_SCORE,
) -> pd.DataFrame:
    """Locate addresses by fuzzy matching against a gazetteer.

    Parameters
    ----------
    addresses : iterable of str or pandas.Series
        Address texts as typed (Arabic or Persian letters, any digits, abbreviations).
        Missing values give precision ``"none"``. Identical texts are matched once, and so
        are texts that parse alike (same region and components, such as two house numbers
        on one street).
    gazetteer : Gazetteer
        Built with :func:`geo.gazetteer.build_gazetteer`.
    accept_score : float, default 75.0
        Adjusted score (0–100) from which a neighborhood or a user place is accepted.

    Returns
    -------
    pandas.DataFrame
        One row per address, in input order (with the Series' index when a Series is
        given), columns ``lon``, ``lat`` (EPSG:4326), ``neighborhood_code``,
        ``district_code``, ``region_code``, ``geocode_precision`` (``"address"``,
        ``"neighborhood"``, ``"region"`` or ``"none"``), ``score`` (the adjusted score of
        the best neighborhood or place, also when it was not accepted; 100 for a region
        named by number) and ``matched_name``.

    Examples
    --------
    >>> from geo.gazetteer import build_gazetteer
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> gaz = build_gazetteer(synthetic_boundaries(n_regions=2, n_neighborhoods=4, seed=1))
    >>> out = geocode_addresses(["منطقه ۲، محله ساختگي ۲۰۱، خ گلبرگ", "ناکجاآباد"], gaz)
    >>> out["geocode_precision"].tolist(), out["neighborhood_code"].tolist()
    (['neighborhood', 'none'], ['201', <NA>])
    """
    series = addresses if isinstance(addresses, pd.Series) else pd.Series(list(addresses))
    text = series.astype("string").fillna("")
    codes, uniques = pd.factorize(text, sort=False)
    # Texts that parse alike (differing in house numbers, spelling, abbreviations) match
    # alike: the match depends on the region and the components only.
    parse_codes: dict[AddressParts, int] = {}
    text_parse = np.fromiter(
        (parse_codes.setdefault(parse_address(str(u)), len(parse_codes)) for u in uniques),
        dtype=np.int64,
        count=len(uniques),
    )
    parts = list(parse_codes)
    matcher = _Matcher(gazetteer, accept_score)
    step = max(1, _BATCH_CELLS // max(len(gazetteer.names), 1))
    batches = [matcher.match(parts[i : i + step]) for i in range(0, len(parts), step)]
    matched = pd.concat(batches, ignore_index=True) if batches else _empty_result(0)
    out = matched.iloc[text_parse[codes]].reset_index(drop=True)
    out.index = series.index
    return _typed(out)


def _empty_result(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            s.LON: np.full(n, np.nan),
            s.LAT: np.full(n, np.nan),
            s.NEIGHBORHOOD_CODE: np.full(n, None, dtype=object),
            s.DISTRICT_CODE: np.full(n, None, dtype=object),
            s.REGION_CODE: np.full(n, None, dtype=object),
            s.GEOCODE_PRECISION: np.full(n, PRECISION_NONE, dtype=object),
            SCORE: np.zeros(n),
            MATCHED_NAME: np.full(n, None, dtype=object),
        }
    )


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[list(RESULT_COLUMNS)].copy()
    out[s.LON] = out[s.LON].astype("float64")
    out[s.LAT] = out[s.LAT].astype("float64")
    out[SCORE] = out[SCORE].astype("float64").round(1)
    for col in (s.NEIGHBORHOOD_CODE, s.DISTRICT_CODE, s.REGION_CODE, MATCHED_NAME):
        out[col] = out[col].astype("string")
    out[s.GEOCODE_PRECISION] = out[s.GEOCODE_PRECISION].astype("string")
    return out


def _windows(words: list[str], first: int = 0) -> list[str]:
    """Return the space-free windows of 1–4 consecutive words starting at ``first`` or later."""
    out: list[str] = []
    for size in range(1, min(_MAX_WINDOW_WORDS, len(words)) + 1):
        out.extend("".join(words[a : a + size]) for a in range(first, len(words) - size + 1))
    return out


def _component_queries(comp: Component, naming_words: frozenset[str]) -> list[_Query]:
    """Return the queries (text, penalty, kind) of one address component."""
    words = comp.key.split()
    full = len(compact(comp.key))
    found: list[_Query] = []
    if comp.role == ROLE_STREET:
        found.append((compact(comp.key), 0.0, _Q_STREET))
        # Some neighborhoods are named after a square: "میدان ولیعصر".
        if comp.street_word in naming_words:
            found.append((compact(comp.street_word) + compact(comp.key), 0.0, _Q_AREA))
        # Without separators a street runs into the neighborhood: "خ خاوران هفت حوض".
        for window in _windows(words, first=1):
            pen = _WINDOW_PENALTY * (1.0 - len(window) / full) + _TRAILING_PENALTY
            found.append((window, pen, _Q_AREA))
    else:
        k = _Q_LANDMARK if comp.role == ROLE_LANDMARK else _Q_AREA
        for window in _windows(words):
            found.append((window, _WINDOW_PENALTY * (1.0 - len(window) / full), k))
    return found


def _similarity(texts: list[str], keys: list[str]) -> np.ndarray:
    """Return the 0–100 similarity of every query to every key (queries × keys, float32)."""
    ratio = process.cdist(texts, keys, scorer=fuzz.ratio, dtype=np.float32, workers=1)
    osa = process.cdist(texts, keys, scorer=OSA.normalized_similarity, dtype=np.float32, workers=1)
    out: np.ndarray = np.maximum(ratio, osa * np.float32(100.0))
    return out


def _group_max(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Row-wise maximum of ``values`` per group (rows sorted by group); -inf for empty groups.

    Groups are small (the components of one address, the queries of one component), so the
    maximum is taken rank by rank: the groups' first rows, then their second rows, …
    """
    out = np.full((n_groups, values.shape[1]), -np.inf, dtype=np.float32)
    if len(groups):
        starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
        best = values[starts]
        group_of_row = np.cumsum(np.r_[True, groups[1:] != groups[:-1]]) - 1
        rank = np.arange(len(groups)) - starts[group_of_row]
        for r in range(1, int(rank.max()) + 1):
            rows = np.flatnonzero(rank == r)
            at = group_of_row[rows]
            best[at] = np.maximum(best[at], values[rows])
        out[groups[starts]] = best
    return out


def _column_group_max(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Maximum of the columns of each group: ``members`` (groups × m) lists them, -1 pads."""
    out: np.ndarray = values[:, members[:, 0]]
    for r in range(1, members.shape[1]):
        groups = np.flatnonzero(members[:, r] >= 0)
        out[:, groups] = np.maximum(out[:, groups], values[:, members[groups, r]])
    return out


def _members(code_idx: np.ndarray) -> np.ndarray:
    """Return the entries of each code (codes × most entries of one code), ascending, -1 pads."""
    n_codes = int(code_idx.max()) + 1 if len(code_idx) else 0
    counts = np.bincount(code_idx, minlength=n_codes)
    out = np.full((n_codes, int(counts.max(initial=1))), -1, dtype=np.int64)
    order = np.argsort(code_idx, kind="stable")
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rank = np.arange(len(order)) - starts[code_idx[order]]
    out[code_idx[order], rank] = order
    return out


class _Matcher:
    """Matches batches of parsed addresses against one gazetteer.

    The gazetteer's arrays are prepared once, and each distinct component's best adjusted
    score against every name (before the region penalty, which depends on the address) is
    computed once and reused by every address holding that component.
    """

    def __init__(self, gazetteer: Gazetteer, accept_score: float) -> None:
        self.gazetteer = gazetteer
        self.accept_score = accept_score
        names = gazetteer.names
        self.names = names
        self.naming_words = gazetteer.naming_street_words
        areas = gazetteer.areas
        self.region_codes = set(areas.index[areas[s.LEVEL] == s.LEVEL_REGION])
        if names.empty:
            return
        self.keys = names[KEY].astype(str).tolist()
        self.is_place = (names[s.LEVEL] == PLACE_LEVEL).to_numpy()
        is_street_place = self.is_place & (names[ROLE] == ROLE_STREET).to_numpy()
        self.entry_kind = np.where(
            is_street_place, _E_STREET_PLACE, np.where(self.is_place, _E_AREA_PLACE, _E_HOOD)
        )
        self.alias = np.where(names[IS_ALIAS].to_numpy(), _ALIAS_PENALTY, 0.0).astype(np.float32)
        entry_region = names[s.REGION_CODE].astype(object).to_numpy()
        self.region_ids: dict[str, int] = {}
        self.entry_region = np.array(
            [-1 if r is None or pd.isna(r) else self._region_id(str(r)) for r in entry_region],
            dtype=np.int64,
        )
        self.hood_rows = names.loc[~self.is_place].reset_index(drop=True)
        self.place_rows = names.loc[self.is_place].reset_index(drop=True)
        self.hood_members = _members(pd.factorize(self.hood_rows[s.CODE].astype(str))[0])
        self.components: dict[Component, np.ndarray] = {}

    def _region_id(self, code: str) -> int:
        return self.region_ids.setdefault(code, len(self.region_ids))

    def _component_scores(self, comps: list[Component]) -> np.ndarray:
        """Best adjusted score of each component against each name, less the alias penalty."""
        texts: list[str] = []
        text_ids: dict[str, int] = {}
        query_text: list[int] = []
        query_comp: list[int] = []
        penalty: list[float] = []
        kind: list[int] = []
        for c, comp in enumerate(comps):
            for text, pen, k in _component_queries(comp, self.naming_words):
                query_text.append(text_ids.setdefault(text, len(text_ids)))
                if len(text_ids) > len(texts):
                    texts.append(text)
                query_comp.append(c)
                penalty.append(pen)
                kind.append(k)
        similarity = _similarity(texts, self.keys)
        kinds = np.asarray(kind, dtype=np.int64)
        weight = _WEIGHTS[kinds[:, None], self.entry_kind[None, :]]
        pens = np.asarray(penalty, dtype=np.float32)
        adjusted = similarity[np.asarray(query_text, dtype=np.int64)] * weight - pens[:, None]
        groups = np.asarray(query_comp, dtype=np.int64)
        per_comp = _group_max(adjusted, groups, len(comps))
        per_comp -= self.alias
        return per_comp

    def _scores_of(self, comps: list[Component]) -> np.ndarray:
        """Return the component scores of ``comps`` (one row each), scoring new ones once."""
        new = [c for c in dict.fromkeys(comps) if c not in self.components]
        if (len(self.components) + len(new)) * len(self.keys) > _CACHE_CELLS:
            self.components.clear()  # bound the memory: keep this batch's components only
            new = list(dict.fromkeys(comps))
        if new:
            for comp, row in zip(new, self._component_scores(new), strict=True):
                self.components[comp] = row
        return np.stack([self.components[c] for c in comps])

    def match(self, parts: list[AddressParts]) -> pd.DataFrame:
        """Match parsed addresses; one result row per address, in order."""
        n = len(parts)
        out = _empty_result(n)
        region_hint = np.array(
            [p.region if p.region in self.region_codes else None for p in parts], dtype=object
        )
        comps = [c for p in parts for c in p.components]
        if not comps or self.names.empty:
            return _fill_regions(out, region_hint, self.gazetteer)
        owner = np.repeat(np.arange(n), [len(p.components) for p in parts])
        is_area = np.array([c.role not in (ROLE_STREET, ROLE_LANDMARK) for c in comps])
        per_comp = self._scores_of(comps)
        # The region penalty: names outside the region the address names.
        hint_id = np.array(
            [-1 if r is None else self._region_id(str(r)) for r in region_hint], dtype=np.int64
        )[owner]
        hinted = np.flatnonzero(hint_id >= 0)
        if hinted.size:
            # Row r: the penalty of each name for an address naming region r.
            by_region = np.where(
                self.entry_region[None, :] != np.arange(len(self.region_ids))[:, None],
                _REGION_PENALTY,
                0.0,
            ).astype(np.float32)
            per_comp[hinted] -= by_region[hint_id[hinted]]

        is_place = self.is_place
        accept_score = self.accept_score
        hood_rows = self.hood_rows
        hood_idx, hood_score = _best_neighborhood(
            per_comp[:, ~is_place], self.hood_members, owner, is_area, n, accept_score
        )
        accepted = hood_score >= accept_score
        out[SCORE] = np.where(np.isfinite(hood_score), hood_score, 0.0)
        _assign(out, np.flatnonzero(accepted), hood_rows, hood_idx, PRECISION_NEIGHBORHOOD)

        if is_place.any():
            place_rows = self.place_rows
            per_addr = _group_max(per_comp[:, is_place], owner, n)
            place_idx = per_addr.argmax(axis=1)
            place_score = per_addr[np.arange(n), place_idx].astype(np.float64)
            place_hood = place_rows[s.NEIGHBORHOOD_CODE].astype(object).to_numpy()[place_idx]
            place_region = place_rows[s.REGION_CODE].astype(object).to_numpy()[place_idx]
            chosen = out[s.NEIGHBORHOOD_CODE].to_numpy()
            consistent = np.where(
                accepted,
                place_hood == chosen,
                (region_hint == None) | (place_region == region_hint),  # noqa: E711
            )
            take = np.flatnonzero((place_score >= accept_score) & consistent)
            _assign(out, take, place_rows, place_idx, PRECISION_ADDRESS)
            out.loc[take, SCORE] = place_score[take]
        return _fill_regions(out, region_hint, self.gazetteer)


def _assign(
    out: pd.DataFrame, take: np.ndarray, rows: pd.DataFrame, idx: np.ndarray, precision: str
) -> None:
    if not take.size:
        return
    chosen = rows.iloc[idx[take]]
    for col in _CODE_COLUMNS:
        out.loc[take, col] = chosen[col].to_numpy()
    out.loc[take, MATCHED_NAME] = chosen[NAME].to_numpy()
    out.loc[take, s.GEOCODE_PRECISION] = precision


def _best_neighborhood(
    per_comp: np.ndarray,
    members: np.ndarray,
    owner: np.ndarray,
    is_area: np.ndarray,
    n: int,
    accept_score: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per address, the index of the best neighborhood entry and its final score.

    ``per_comp`` holds one row per address component (``owner``: its address, sorted) and
    one column per neighborhood entry; ``members`` lists the entries of each neighborhood
    (:func:`_members`).
    """
    if per_comp.shape[1] == 0:
        return np.zeros(n, dtype=np.int64), np.full(n, -np.inf)
    # Best score per (component, code) and per (address, code).
    comp_code = _column_group_max(per_comp, members)
    addr_code = _group_max(comp_code, owner, n)
    rows = np.arange(n)
    top_code = addr_code.argmax(axis=1)
    top = addr_code[rows, top_code]
    rest = addr_code.copy()
    rest[rows, top_code] = -np.inf
    second = rest.max(axis=1) if rest.shape[1] > 1 else np.full(n, -np.inf, dtype=np.float32)
    both = np.isfinite(second) & np.isfinite(top)
    gap = np.full(n, np.inf)
    gap[both] = top[both] - second[both]
    score = top - _AMBIGUITY_SLOPE * np.clip(_AMBIGUITY_GAP - gap, 0.0, None)
    # Two area components naming two different neighborhoods: no neighborhood is certain.
    comp_top = comp_code.argmax(axis=1)
    comp_score = comp_code[np.arange(len(comp_code)), comp_top]
    close = comp_score > top[owner] - _CONFLICT_MARGIN
    clash = is_area & (comp_score >= accept_score) & close & (comp_top != top_code[owner])
    conflict = np.bincount(owner[clash], minlength=n) > 0
    score = np.where(conflict, score - _CONFLICT_PENALTY, score)
    # Within the top code, the entry (name or alias) that scored best (the first on a tie;
    # entry 0 when nothing scored).
    candidates = members[top_code]
    picked = per_comp[np.arange(len(owner))[:, None], candidates[owner]]
    picked[candidates[owner] < 0] = -np.inf
    addr_entry = _group_max(picked, owner, n)
    best = addr_entry.argmax(axis=1)
    entry = candidates[rows, best]
    entry[np.isneginf(addr_entry[rows, best]) | (entry < 0)] = 0
    return entry, score.astype(np.float64)


def _fill_regions(out: pd.DataFrame, region_hint: np.ndarray, gazetteer: Gazetteer) -> pd.DataFrame:
    """Give a region to addresses that name one but matched nothing more precise."""
    none = (out[s.GEOCODE_PRECISION] == PRECISION_NONE).to_numpy()
    todo = np.flatnonzero(none & (region_hint != None))  # noqa: E711
    if todo.size:
        regions = gazetteer.areas.loc[region_hint[todo].astype(str)]
        out.loc[todo, s.LON] = regions[s.LON].to_numpy()
        out.loc[todo, s.LAT] = regions[s.LAT].to_numpy()
        out.loc[todo, s.REGION_CODE] = regions.index.to_numpy()
        out.loc[todo, s.GEOCODE_PRECISION] = PRECISION_REGION
        out.loc[todo, SCORE] = 100.0
        out.loc[todo, MATCHED_NAME] = regions[s.NAME_FA].to_numpy()
    return out
