"""Any city's 311 CSV through a YAML mapping (``data/mappings/*.yaml``), no code changes.

A mapping says which column holds which field, how dates are written and in which time
zone, how statuses, channels, kinds and categories are spelled, which fixed values to
use, and which points are placeholders. ``data/mappings/template.yaml`` documents every
key; ``data/mappings/nyc311.yaml`` reads New York's open-data export.

Keys
----
name (required)
    Short name of the source; cases get ``source: csv:<name>`` unless ``source`` is set.
columns (required)
    Field to source column: ``case_id`` and ``created_at`` are required; others are
    ``kind channel category subcategory description unit referred_at first_response_at
    closed_at due_at status citizen_feedback satisfaction reopen_count address lon lat``,
    ``location`` (one column holding the point: WKT ``POINT (lon lat)``, GeoJSON, keys
    ``latitude``/``longitude``, or a bare pair; used where ``lon`` and ``lat`` are blank,
    see :mod:`ingest.location`) and the identifiers ``phone`` and ``national_id``
    (hashed, never kept).
timezone
    IANA zone of dates without an offset (default Asia/Tehran).
date_formats
    List of strptime formats tried in order; ``auto`` means the built-in spellings.
calendar
    ``auto``, ``gregorian`` or ``jalali`` for the built-in spellings.
status_map, channel_map, kind_map, feedback_map
    Source text to canonical value (compared ignoring case, spaces and Persian spelling
    variants). Statuses not mapped are derived from the dates and flagged.
category_map
    Source text (of the subcategory or category column) to ``category`` or
    ``category/subcategory`` of ``data/taxonomy.yaml``; unmatched text is looked up in
    the taxonomy, and what matches nothing becomes ``other`` (flagged).
constants
    Field to a value used for every row (``kind: complaint``), or when a column is empty.
placeholders
    List of ``[lon, lat]`` points typed when the location is unknown.
encoding, delimiter, require_offset
    Force an encoding or separator; refuse dates without an offset.
location_order
    ``lat_lon`` (default, as Socrata and most map sites write a pair) or ``lon_lat``: the
    order of a bare pair of numbers in the ``location`` column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

import pandas as pd
import yaml

from geo.errors import InputError

from .. import schema as s
from ..location import LOCATION_ORDERS
from ..pseudonymize import Pseudonymizer
from ..taxonomy import Taxonomy, load_taxonomy
from ..validate import finish
from .common import BackgroundDigest, PathLike, display_name, read_bytes, read_xlsx_table
from .result import ReadResult
from .staging import DATE_FIELDS, EXTRA_FIELDS, StageSpec, stage_table
from .textfile import read_text_table

MAPPINGS_DIR: Final = Path(__file__).resolve().parents[2] / "data" / "mappings"
FIELDS: Final = (
    *(c for c in s.CASE_COLUMNS if c not in (s.SOURCE, s.GEOCODE_PRECISION, s.DUPLICATE_OF)),
    *EXTRA_FIELDS,
)
_REQUIRED: Final = (s.CASE_ID, s.CREATED_AT)
_KEYS: Final = {
    "name",
    "source",
    "description",
    "columns",
    "timezone",
    "date_formats",
    "calendar",
    "status_map",
    "channel_map",
    "kind_map",
    "feedback_map",
    "category_map",
    "constants",
    "placeholders",
    "encoding",
    "delimiter",
    "require_offset",
    "sheet",
    "location_order",
}


@dataclass(frozen=True)
class Mapping311:
    """A parsed mapping file.

    Attributes
    ----------
    name : str
        Short source name.
    columns : Mapping
        Field to source column.
    spec : StageSpec
        Value spellings.
    encoding, delimiter : str or None
        Forced encoding and separator.
    sheet : str or int or None
        Sheet of a spreadsheet.
    path : str
        Where the mapping came from.
    """

    name: str
    columns: Mapping[str, str]
    spec: StageSpec
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    path: str = ""


def _fail(path: object, text: str) -> InputError:
    return InputError(f"Mapping {path}: {text}")


def _str_map(data: Mapping[str, Any], key: str, path: object) -> dict[str, str]:
    value = data.get(key) or {}
    if not isinstance(value, Mapping):
        raise _fail(path, f"{key} must be a mapping of source text to value.")
    return {str(k): str(v) for k, v in value.items() if v is not None}


def load_mapping(path: PathLike) -> Mapping311:
    """Read and check a mapping file.

    Parameters
    ----------
    path : path-like
        A YAML mapping; a bare name such as ``nyc311`` means ``data/mappings/nyc311.yaml``.

    Returns
    -------
    Mapping311
        The mapping.

    Raises
    ------
    InputError
        Naming the file and the key at fault.
    """
    p = Path(path)
    if not p.exists() and not p.suffix and (MAPPINGS_DIR / f"{p.name}.yaml").exists():
        p = MAPPINGS_DIR / f"{p.name}.yaml"
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _fail(p, f"cannot be read ({exc.strerror}); check the path.") from exc
    except yaml.YAMLError as exc:
        raise _fail(p, f"is not valid YAML ({exc}).") from exc
    if not isinstance(data, Mapping):
        raise _fail(p, "must be a YAML mapping with at least 'name' and 'columns'.")
    unknown = sorted(set(map(str, data)) - _KEYS)
    if unknown:
        raise _fail(p, f"unknown keys {unknown}; the keys are {sorted(_KEYS)}.")
    name = str(data.get("name") or "").strip()
    if not name:
        raise _fail(p, "'name' is required (a short name of the source, like nyc311).")
    columns = _str_map(data, "columns", p)
    bad = sorted(set(columns) - set(FIELDS))
    if bad:
        raise _fail(p, f"columns names unknown fields {bad}; the fields are {list(FIELDS)}.")
    missing = [f for f in _REQUIRED if f not in columns]
    if missing:
        raise _fail(p, f"columns must name {missing}.")
    constants = _str_map(data, "constants", p)
    if s.KIND not in columns and s.KIND not in constants:
        raise _fail(p, "give either columns.kind or constants.kind (e.g. 'complaint').")
    formats = data.get("date_formats") or ["auto"]
    if isinstance(formats, str):
        formats = [formats]
    calendar = str(data.get("calendar", "auto"))
    if calendar not in ("auto", "jalali", "gregorian"):
        raise _fail(p, f"calendar must be auto, jalali or gregorian, not {calendar!r}.")
    placeholders = []
    for point in data.get("placeholders") or []:
        try:
            lon, lat = (float(v) for v in point)
        except (TypeError, ValueError) as exc:
            raise _fail(p, f"placeholder {point!r} must be [lon, lat].") from exc
        placeholders.append((lon, lat))
    statuses = _str_map(data, "status_map", p)
    for value in statuses.values():
        if value not in s.STATUSES:
            raise _fail(p, f"status_map value {value!r} is not one of {list(s.STATUSES)}.")
    channels = _str_map(data, "channel_map", p)
    for value in channels.values():
        if value not in s.CHANNELS:
            raise _fail(p, f"channel_map value {value!r} is not one of {list(s.CHANNELS)}.")
    kinds = _str_map(data, "kind_map", p)
    for value in [*kinds.values(), *([constants[s.KIND]] if s.KIND in constants else [])]:
        if value not in s.KINDS:
            raise _fail(p, f"kind {value!r} is not one of {list(s.KINDS)}.")
    order = str(data.get("location_order", "lat_lon"))
    if order not in LOCATION_ORDERS:
        raise _fail(p, f"location_order must be one of {list(LOCATION_ORDERS)}, not {order!r}.")
    spec = StageSpec(
        source=str(data.get("source") or f"csv:{name}"),
        tz=str(data.get("timezone", "Asia/Tehran")),
        calendar=calendar,  # type: ignore[arg-type]
        date_formats=tuple(str(f) for f in formats),
        status_map=statuses,
        channel_map=channels,
        feedback_map=_str_map(data, "feedback_map", p),
        kind_map=kinds,
        category_map=_str_map(data, "category_map", p),
        constants=constants,
        placeholders=tuple(placeholders),
        require_offset=bool(data.get("require_offset", False)),
        location_order=order,  # type: ignore[arg-type]
    )
    from ..dates import zone_transitions

    zone_transitions(spec.tz)  # an unknown zone fails here, naming it
    return Mapping311(
        name=name,
        columns=columns,
        spec=spec,
        encoding=data.get("encoding"),
        delimiter=data.get("delimiter"),
        sheet=data.get("sheet"),
        path=str(p),
    )


def read_mapped_csv(
    path: PathLike,
    mapping: Mapping311 | PathLike,
    *,
    key: bytes | str | Any,
    now: pd.Timestamp | None = None,
    taxonomy: Taxonomy | None = None,
) -> ReadResult:
    """Read a CSV (or XLSX) through a mapping into cases and quarantine.

    Parameters
    ----------
    path : path-like
        The data file.
    mapping : Mapping311 or path-like
        The mapping, or its file (see :func:`load_mapping`).
    key : bytes, str or SecretStr
        Secret key of the HMAC for identifier columns.
    now : pandas.Timestamp, optional
        Time of reading; later creation dates are refused.
    taxonomy : Taxonomy, optional
        Kinds, categories and units.

    Returns
    -------
    ReadResult
        Every row kept or quarantined.

    Raises
    ------
    InputError
        When the file cannot be read or lacks a mapped column.
    """
    m = mapping if isinstance(mapping, Mapping311) else load_mapping(mapping)
    name = display_name(path)
    digest = None
    if str(path).lower().endswith((".xlsx", ".xlsm")):
        table = read_xlsx_table(path, sheet=m.sheet)
        label = "row"
    else:
        data = read_bytes(path)
        digest = BackgroundDigest(data)
        table = read_text_table(data, encoding=m.encoding, delimiter=m.delimiter)
        del data
        label = "line"
    header = set(table.table.column_names)
    absent = {f: c for f, c in m.columns.items() if c not in header}
    if absent:
        wanted = ", ".join(f"{f} → «{c}»" for f, c in absent.items())
        msg = (
            f"{name}: the header lacks the columns the mapping {Path(m.path).name or m.name} "
            f"names ({wanted}); fix the mapping or the file."
        )
        raise InputError(msg)
    staged = stage_table(
        table,
        m.columns,
        m.spec,
        source_file=name,
        row_label=label,
        pseudonymizer=Pseudonymizer(key),
        taxonomy=taxonomy or load_taxonomy(),
    )
    result = finish(staged, now=now)
    return result if digest is None else replace(result, input_sha256=digest.hexdigest())


__all__ = ["DATE_FIELDS", "MAPPINGS_DIR", "Mapping311", "load_mapping", "read_mapped_csv"]
