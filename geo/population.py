"""Resident population joined onto boundaries from a CSV keyed by code (for per-capita rates).

The CSV has a code column and a population column (names configurable) and optionally a
``level`` column; codes and numbers may use Persian digits and thousands separators
("۱۲٬۳۴۵", "12,345"). Every CSV code must be a boundary code; boundary codes the CSV does
not cover are reported. A parent whose population is not given gets the sum of its
children's when all of them are known.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd

from ingest import schema as s

from .boundary_model import coarser_present, levels_present, normalize_codes, require_model
from .errors import InputError
from .persian import normalize_digits

_SEPARATORS: Final = re.compile(r"[,\u066c\u060c_' \u00a0\u202f]")
_INTEGER: Final = re.compile(r"^\d+(\.0*)?$")


@dataclass(frozen=True)
class PopulationJoin:
    """The boundaries with population, and what the CSV did not cover.

    Attributes
    ----------
    frame : geopandas.GeoDataFrame
        A copy of the boundaries with ``population`` set.
    matched : int
        Boundary features that got a population from the CSV.
    unmatched : dict
        Codes of features the CSV did not cover, by level (parents filled from their
        children are not listed).
    filled_from_children : dict
        Codes of parents whose population is the sum of their children's, by level.
    """

    frame: gpd.GeoDataFrame
    matched: int
    unmatched: dict[str, list[str]] = field(default_factory=dict)
    filled_from_children: dict[str, list[str]] = field(default_factory=dict)


def _read_csv(path: Path, columns: list[str]) -> pd.DataFrame:
    if not path.is_file():
        msg = f"Population file {path} does not exist; check the path."
        raise InputError(msg)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        msg = f"{path} cannot be read as a UTF-8 CSV ({str(exc).strip()}); save it as CSV UTF-8."
        raise InputError(msg) from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in columns if c not in table.columns]
    if missing:
        msg = (
            f"{path} has no column {', '.join(map(repr, missing))}; its columns are "
            f"{', '.join(table.columns)} (choose them with --code-column/--population-column)."
        )
        raise InputError(msg)
    return table


def _parse_population(values: pd.Series, path: Path, column: str) -> pd.Series:
    cleaned = [_SEPARATORS.sub("", normalize_digits(v)).strip() for v in values.tolist()]
    bad = [i for i, v in enumerate(cleaned) if v and not _INTEGER.match(v)]
    if bad:
        row = int(bad[0]) + 2  # 1-based, after the header line
        msg = (
            f"{path}, row {row}, column {column!r}: {values.iloc[bad[0]]!r} is not a "
            f"whole non-negative number ({len(bad)} such row(s)); fix the population values."
        )
        raise InputError(msg)
    return pd.Series(
        [int(float(v)) if v else pd.NA for v in cleaned], index=values.index, dtype="Int64"
    )


def join_population_detailed(
    frame: gpd.GeoDataFrame,
    csv_path: str | os.PathLike[str],
    *,
    code_column: str = "code",
    population_column: str = "population",
    level_column: str = "level",
    fill_parents: bool = True,
) -> PopulationJoin:
    """Join population like :func:`join_population` and report what was not matched.

    Returns
    -------
    PopulationJoin
        The frame, the number matched, the unmatched codes and the parents filled.
    """
    boundaries = require_model(frame, what="boundaries").copy()
    path = Path(csv_path)
    table = _read_csv(path, [code_column, population_column])
    codes = normalize_codes(table[code_column])
    if codes.isna().any():
        row = int(codes.index[codes.isna()][0]) + 2
        msg = f"{path}, row {row}: the code column {code_column!r} is empty; give every row a code."
        raise InputError(msg)
    population = _parse_population(table[population_column], path, population_column)
    has_level = level_column in table.columns
    csv_levels = table[level_column].str.strip().str.lower() if has_level else None

    key_frame = boundaries[s.CODE].astype(object)
    if has_level:
        frame_keys = boundaries[s.LEVEL].astype(str) + "\x1f" + key_frame.astype(str)
        assert csv_levels is not None
        csv_keys = csv_levels + "\x1f" + codes.astype(str)
    else:
        ambiguous = boundaries.loc[boundaries.duplicated(s.CODE, keep=False), s.CODE]
        clash = sorted(set(ambiguous.dropna()) & set(codes))
        if clash:
            msg = (
                f"{path}: code {clash[0]} is used by more than one level; add a "
                f"{level_column!r} column to the CSV to say which."
            )
            raise InputError(msg)
        frame_keys, csv_keys = key_frame.astype(str), codes.astype(str)

    doubled = csv_keys[csv_keys.duplicated()]
    if len(doubled):
        row = int(doubled.index[0]) + 2
        msg = f"{path}, row {row}: code {codes[doubled.index[0]]} appears twice; keep one row."
        raise InputError(msg)
    unknown = ~csv_keys.isin(set(frame_keys))
    if unknown.any():
        row = int(unknown[unknown].index[0]) + 2
        shown = ", ".join(codes[unknown].astype(str).head(5))
        msg = (
            f"{path}, row {row}: {int(unknown.sum())} code(s) are not boundary codes "
            f"({shown}); check the code column or the boundaries."
        )
        raise InputError(msg)

    by_key = pd.Series(population.to_numpy(), index=csv_keys.to_numpy())
    joined = frame_keys.map(by_key)
    matched = frame_keys.isin(set(csv_keys)).to_numpy()
    boundaries.loc[matched, s.POPULATION] = joined[matched].astype("Int64")
    boundaries[s.POPULATION] = boundaries[s.POPULATION].astype("Int64")

    filled: dict[str, list[str]] = {}
    if fill_parents:
        filled = _fill_parents(boundaries, given=matched)
    unmatched: dict[str, list[str]] = {}
    for level in levels_present(boundaries):
        rows = (boundaries[s.LEVEL] == level).to_numpy() & ~matched
        rows &= ~boundaries[s.CODE].isin(filled.get(level, [])).to_numpy()
        if rows.any():
            unmatched[level] = [str(c) for c in boundaries.loc[rows, s.CODE]]
    return PopulationJoin(boundaries, int(matched.sum()), unmatched, filled)


def _fill_parents(frame: gpd.GeoDataFrame, *, given: np.ndarray) -> dict[str, list[str]]:
    """Give parents not ``given`` by the CSV the sum of their children's, finest level first."""
    filled: dict[str, list[str]] = {}
    present = levels_present(frame)
    for level in reversed(present):
        parent_level = coarser_present(present, level)
        if parent_level is None:
            continue
        children = frame[frame[s.LEVEL] == level]
        grouped = children.groupby(s.PARENT_CODE)[s.POPULATION]
        complete = grouped.apply(lambda v: bool(v.notna().all()))
        sums = grouped.sum()[complete]
        is_parent = (frame[s.LEVEL] == parent_level) & ~given
        fill = is_parent & frame[s.CODE].isin(sums.index)
        if fill.any():
            frame.loc[fill, s.POPULATION] = frame.loc[fill, s.CODE].map(sums).astype("Int64")
            filled[parent_level] = [str(c) for c in frame.loc[fill, s.CODE]]
    frame[s.POPULATION] = frame[s.POPULATION].astype("Int64")
    return filled


def join_population(
    frame: gpd.GeoDataFrame,
    csv_path: str | os.PathLike[str],
    *,
    code_column: str = "code",
    population_column: str = "population",
) -> gpd.GeoDataFrame:
    r"""Set the ``population`` of boundaries from a CSV keyed by code.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Boundaries in the boundary model; not modified.
    csv_path : path-like
        A UTF-8 CSV with the code and population columns (and optionally ``level``,
        needed when one code is used by two levels).
    code_column, population_column : str
        Column names in the CSV.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``population`` (Int64) set for the codes in the CSV, and parents not
        in the CSV set to the sum of their children's when all of them are known (any
        other population already in the frame is kept).
        Use :func:`join_population_detailed` for the list of codes the CSV did not cover.

    Raises
    ------
    InputError
        A missing file or column, an empty or duplicated code, a code that is not a
        boundary code, or a population that is not a whole non-negative number.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from geo.synthetic_geography import synthetic_boundaries
    >>> b = synthetic_boundaries(n_regions=1, n_neighborhoods=2, seed=1)
    >>> csv = pathlib.Path(tempfile.mkdtemp()) / "pop.csv"
    >>> _ = csv.write_text("code,population\n101,۱۲٬۰۰۰\n102,3000\n", encoding="utf-8")
    >>> join_population(b, csv)["population"].tolist()
    [15000, 12000, 3000]
    """
    return join_population_detailed(
        frame, csv_path, code_column=code_column, population_column=population_column
    ).frame
