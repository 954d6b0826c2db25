"""Which attribute field of a boundary layer holds what: explicit mappings and known layouts.

A layer's fields are mapped onto the boundary model (code, names, parent, level,
population) either explicitly (``--code-field`` …) or by recognising a known layout:

``mahalat_tehran``
    Tehran's 375 neighborhoods (``Mahalat_Tehran.shp``): ``NAME_MAHAL`` is the name,
    ``code`` the neighborhood code (region × 100 + n) and ``reg_no`` the region, dissolved
    into the 22 regions.
``osm_admin``
    An OpenStreetMap export of administrative boundaries (overpass, osmtogeojson, QuickOSM):
    ``name`` / ``name:fa`` / ``name:en`` and ``admin_level``. The code is the number in the
    name ("منطقه ۷ شهر تهران", "District 7") or a numeric ``ref``; polygons whose names hold
    no number (the city outline, say) are skipped and counted.
``boundary_model``
    A layer already in the boundary model (``level``, ``code``, ``name_fa`` …), such as
    one exported from this project.

Explicit fields win over a detected layout, field by field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final

import pandas as pd

from ingest import schema as s

from .boundary_model import check_level, level_rank
from .errors import BoundaryError
from .persian import normalize_text

CodeParser = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class FieldMapping:
    """Where each column of the boundary model comes from in a layer.

    Attributes
    ----------
    level : str
        The level of every feature (unless ``level_field`` is set).
    code_field, name_field, name_en_field : str or None
        Fields holding the code, the Persian (or local) name and the English name.
    parent_field : str or None
        Field holding the code of the parent; the parent level is derived by dissolving on it.
    parent_level : str or None
        Level of the parents derived from ``parent_field`` (default: region).
    parent_code_field : str or None
        Field holding a parent code that refers to features of the same table (kept as is).
    level_field : str or None
        Field holding each feature's level (layers already in the boundary model).
    population_field : str or None
        Field holding the resident population.
    code_parser : callable or None
        Derives codes from the whole attribute table when no single field holds them.
    layout : str or None
        Name of the known layout this mapping comes from, if any.
    """

    level: str = s.LEVEL_NEIGHBORHOOD
    code_field: str | None = None
    name_field: str | None = None
    name_en_field: str | None = None
    parent_field: str | None = None
    parent_level: str | None = None
    parent_code_field: str | None = None
    level_field: str | None = None
    population_field: str | None = None
    code_parser: CodeParser | None = field(default=None, compare=False)
    layout: str | None = None

    def fields(self) -> dict[str, str]:
        """Return the named fields by role (only those that are set)."""
        roles = {
            "code": self.code_field,
            "name": self.name_field,
            "name-en": self.name_en_field,
            "parent": self.parent_field,
            "parent code": self.parent_code_field,
            "level": self.level_field,
            "population": self.population_field,
        }
        return {role: name for role, name in roles.items() if name is not None}


@dataclass(frozen=True)
class Layout:
    """A known layer layout: the fields that identify it and the mapping it implies."""

    name: str
    identifying: tuple[str, ...]
    build: Callable[[Mapping[str, str]], FieldMapping]
    any_of: tuple[str, ...] = ()

    def matches(self, columns: Iterable[str]) -> bool:
        """Return whether a layer with these field names has this layout (case-insensitive)."""
        lower = {column.lower() for column in columns}
        if not all(name.lower() in lower for name in self.identifying):
            return False
        return not self.any_of or any(name.lower() in lower for name in self.any_of)


_REGION_FA = re.compile(r"منطقه\s*(\d+)")
_REGION_EN = re.compile(r"\b(?:district|region|zone)\s*(\d+)\b", re.IGNORECASE)
_NUMBER = re.compile(r"^\s*(\d+)\s*$")


def osm_region_codes(table: pd.DataFrame) -> pd.Series:
    """Parse region numbers from OpenStreetMap names: "منطقه ۷ شهر تهران", "District 7", ref "7".

    Parameters
    ----------
    table : pandas.DataFrame
        The attribute table of an OSM export.

    Returns
    -------
    pandas.Series
        The region number of each feature as str, or None where no field holds one.

    Examples
    --------
    >>> table = pd.DataFrame({"name": ["منطقه ۷ شهر تهران", "تهران"], "name:en": ["x", None]})
    >>> osm_region_codes(table).tolist()
    ['7', None]
    """
    columns = {column.lower(): column for column in table.columns}
    attempts: list[tuple[str, re.Pattern[str]]] = [
        (name, pattern)
        for name, pattern in (
            ("name:fa", _REGION_FA),
            ("name", _REGION_FA),
            ("official_name", _REGION_FA),
            ("name:en", _REGION_EN),
            ("name", _REGION_EN),
            ("ref", _NUMBER),
        )
        if name in columns
    ]
    found: list[str | None] = []
    for row in table[[columns[n] for n, _ in attempts]].itertuples(index=False, name=None):
        code = None
        for value, (_, pattern) in zip(row, attempts, strict=True):
            if isinstance(value, str) and (match := pattern.search(normalize_text(value))):
                code = str(int(match.group(1)))
                break
        found.append(code)
    return pd.Series(found, index=table.index, dtype=object)


def flatten_osm_tags(table: pd.DataFrame) -> pd.DataFrame:
    """Lift OSM tags nested in a ``tags`` property (osmtogeojson's old layout) into columns.

    Existing columns are kept; the input is not modified.

    Examples
    --------
    >>> t = flatten_osm_tags(pd.DataFrame({"tags": ['{"name": "منطقه 1", "admin_level": "9"}']}))
    >>> sorted(t.columns)
    ['admin_level', 'name', 'tags']
    """
    if "tags" not in table.columns:
        return table
    parsed: list[dict[str, object]] = []
    for value in table["tags"].tolist():
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        parsed.append(value if isinstance(value, dict) else {})
    tags = pd.DataFrame(parsed, index=table.index)
    new = [column for column in tags.columns if column not in table.columns]
    if not new:
        return table
    return pd.concat([table, tags[new]], axis=1)


def _pick(columns: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        if name.lower() in columns:
            return columns[name.lower()]
    return None


def _mahalat(columns: Mapping[str, str]) -> FieldMapping:
    return FieldMapping(
        level=s.LEVEL_NEIGHBORHOOD,
        code_field=_pick(columns, "code"),
        name_field=_pick(columns, "NAME_MAHAL"),
        parent_field=_pick(columns, "reg_no"),
        parent_level=s.LEVEL_REGION,
        layout="mahalat_tehran",
    )


def _osm(columns: Mapping[str, str]) -> FieldMapping:
    return FieldMapping(
        level=s.LEVEL_REGION,
        name_field=_pick(columns, "name:fa", "name"),
        name_en_field=_pick(columns, "name:en"),
        code_parser=osm_region_codes,
        layout="osm_admin",
    )


def _model(columns: Mapping[str, str]) -> FieldMapping:
    return FieldMapping(
        level_field=_pick(columns, s.LEVEL),
        code_field=_pick(columns, s.CODE),
        name_field=_pick(columns, s.NAME_FA),
        name_en_field=_pick(columns, s.NAME_EN),
        parent_code_field=_pick(columns, s.PARENT_CODE),
        population_field=_pick(columns, s.POPULATION),
        layout="boundary_model",
    )


#: Known layouts, tried in this order.
KNOWN_LAYOUTS: Final = (
    Layout("boundary_model", (s.LEVEL, s.CODE), _model),
    Layout("mahalat_tehran", ("NAME_MAHAL", "code", "reg_no"), _mahalat),
    Layout("osm_admin", ("name",), _osm, any_of=("admin_level", "boundary", "@id")),
)


def detect_layout(columns: Iterable[str]) -> Layout | None:
    """Return the known layout of a layer with these field names, or None.

    Examples
    --------
    >>> detect_layout(["NAME_MAHAL", "code", "reg_no", "geometry"]).name
    'mahalat_tehran'
    >>> detect_layout(["foo"]) is None
    True
    """
    names = list(columns)
    return next((layout for layout in KNOWN_LAYOUTS if layout.matches(names)), None)


def resolve_mapping(
    columns: Iterable[str],
    *,
    source: str,
    level: str | None = None,
    name_field: str | None = None,
    code_field: str | None = None,
    parent_field: str | None = None,
    name_en_field: str | None = None,
    parent_level: str | None = None,
) -> FieldMapping:
    """Combine explicit fields with the detected layout and check every field exists.

    Parameters
    ----------
    columns : iterable of str
        The layer's attribute field names.
    source : str
        The file, for messages.
    level, name_field, code_field, parent_field, name_en_field, parent_level
        Explicit choices; each one that is given wins over the detected layout. Field
        names match case-insensitively.

    Returns
    -------
    FieldMapping
        The mapping to apply.

    Raises
    ------
    BoundaryError
        When a named field is missing, a level is unknown, or no code field is known.

    Examples
    --------
    >>> resolve_mapping(["NAME_MAHAL", "code", "reg_no"], source="m.shp").parent_field
    'reg_no'
    >>> resolve_mapping(["id", "title"], source="x.gpkg", code_field="ID").code_field
    'id'
    """
    names = [c for c in columns if c != s.GEOMETRY]
    lookup = {c.lower(): c for c in names}
    layout = detect_layout(names)
    mapping = layout.build(lookup) if layout is not None else FieldMapping()

    explicit = {
        "--code-field": code_field,
        "--name-field": name_field,
        "--name-en-field": name_en_field,
        "--parent-field": parent_field,
    }
    resolved: dict[str, str] = {}
    for option, given in explicit.items():
        if given is None:
            continue
        actual = lookup.get(given.lower())
        if actual is None:
            msg = (
                f"{source} has no field {given!r} (given with {option}); "
                f"its fields are: {', '.join(names) or 'none'}."
            )
            raise BoundaryError(msg)
        resolved[option] = actual
    if "--code-field" in resolved:
        mapping = replace(mapping, code_field=resolved["--code-field"], code_parser=None)
    if "--name-field" in resolved:
        mapping = replace(mapping, name_field=resolved["--name-field"])
    if "--name-en-field" in resolved:
        mapping = replace(mapping, name_en_field=resolved["--name-en-field"])
    if "--parent-field" in resolved:
        mapping = replace(mapping, parent_field=resolved["--parent-field"], parent_code_field=None)
    if level is not None:
        mapping = replace(mapping, level=check_level(level), level_field=None)
    if parent_level is not None:
        mapping = replace(mapping, parent_level=check_level(parent_level, what="parent level"))

    if mapping.code_field is None and mapping.code_parser is None:
        known = ", ".join(layout.name for layout in KNOWN_LAYOUTS)
        msg = (
            f"{source} is not a known boundary layout ({known}); name its code field with "
            f"--code-field (and its name field with --name-field); its fields are: "
            f"{', '.join(names) or 'none'}."
        )
        raise BoundaryError(msg)
    if mapping.parent_field is not None:
        mapping = _with_parent_level(mapping, source)
    return mapping


def _with_parent_level(mapping: FieldMapping, source: str) -> FieldMapping:
    if mapping.level_field is not None:
        msg = (
            f"{source} gives each feature's level, so parents cannot also be derived with "
            "--parent-field; give --level to read it as a single level."
        )
        raise BoundaryError(msg)
    parent_level = mapping.parent_level or s.LEVEL_REGION
    if level_rank(parent_level) >= level_rank(mapping.level):
        msg = (
            f"{source}: the parent level {parent_level!r} is not coarser than the layer's "
            f"level {mapping.level!r}; pass --level and --parent-level accordingly."
        )
        raise BoundaryError(msg)
    return replace(mapping, parent_level=parent_level)
