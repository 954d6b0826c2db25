"""From text columns to canonical staged columns: the part every tabular reader shares.

A reader names which source column holds which field (``cols``) and how values are
spelled (:class:`StageSpec`: time zone, calendar or date formats, status, channel,
feedback, kind and category maps, constants, placeholder points). :func:`stage_table`
parses dates, maps vocabularies once per distinct value, normalizes and masks free text,
hashes identifiers and notes every problem; :func:`ingest.validate.finish` does the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .. import schema as s
from ..arrowtext import map_array_distinct, normalize_text_array, strip_to_null, to_string_array
from ..dates import Calendar, parse_datetimes
from ..identifiers import mask_identifiers
from ..location import LocationOrder, split_location
from ..pseudonymize import Pseudonymizer
from ..quarantine import Flag
from ..taxonomy import Taxonomy, map_distinct, match_categories
from ..validate import Staged, notes
from .common import (
    column,
    encoding_notes,
    integers,
    lookup,
    malformed_records,
    note_dates,
    pseudonymize,
)
from .textfile import TextTable

PHONE: Final = "phone"
NATIONAL_ID: Final = "national_id"
#: A single column holding the point (see :mod:`ingest.location`).
LOCATION: Final = "location"
DATE_FIELDS: Final = (s.CREATED_AT, s.REFERRED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT)
#: Fields a mapping may name besides the canonical columns.
EXTRA_FIELDS: Final = (PHONE, NATIONAL_ID, LOCATION)
#: Fields whose source columns hold structured values (not scanned for identifiers). A
#: ``location`` column is free text to that scan: what it holds when it is not a point
#: is shown in quarantine messages.
STRUCTURED_FIELDS: Final = (
    s.CASE_ID,
    *DATE_FIELDS,
    s.KIND,
    s.CHANNEL,
    s.CATEGORY,
    s.SUBCATEGORY,
    s.STATUS,
    s.CITIZEN_FEEDBACK,
    s.SATISFACTION,
    s.REOPEN_COUNT,
    s.LON,
    s.LAT,
    s.UNIT,
    PHONE,
    NATIONAL_ID,
)


@dataclass(frozen=True)
class StageSpec:
    """How a source spells its values.

    Attributes
    ----------
    source : str
        The case source label.
    tz : str
        IANA zone of dates written without an offset.
    calendar : {"auto", "jalali", "gregorian"}
        How the built-in date spellings' years are read.
    date_formats : tuple of str
        strptime formats tried in order (``"auto"`` is the built-in spellings).
    status_map, channel_map, feedback_map, kind_map : Mapping
        Source text to canonical code (compared after normalization).
    category_map : Mapping
        Source text to ``category`` or ``category/subcategory``.
    constants : Mapping
        Field to a fixed value for every row (e.g. ``kind: complaint``).
    placeholders : tuple of (lon, lat)
        Points typed when the location is unknown.
    require_offset : bool
        Refuse dates without a UTC offset.
    location_order : {"lat_lon", "lon_lat"}
        Order of a bare pair of numbers in a ``location`` column.
    """

    source: str
    tz: str = "Asia/Tehran"
    calendar: Calendar = "auto"
    date_formats: tuple[str, ...] = ("auto",)
    status_map: Mapping[str, str] = field(default_factory=dict)
    channel_map: Mapping[str, str] = field(default_factory=dict)
    feedback_map: Mapping[str, str] = field(default_factory=dict)
    kind_map: Mapping[str, str] = field(default_factory=dict)
    category_map: Mapping[str, str] = field(default_factory=dict)
    constants: Mapping[str, str] = field(default_factory=dict)
    placeholders: tuple[tuple[float, float], ...] = ()
    require_offset: bool = False
    location_order: LocationOrder = "lat_lon"


def stage_table(
    table: TextTable,
    cols: Mapping[str, str],
    spec: StageSpec,
    *,
    source_file: str,
    row_label: str,
    pseudonymizer: Pseudonymizer,
    taxonomy: Taxonomy,
) -> Staged:
    """Parse a text table into staged canonical columns with notes.

    Parameters
    ----------
    table : TextTable
        The rows as read.
    cols : Mapping
        Field (canonical column, ``phone`` or ``national_id``) to source column name.
    spec : StageSpec
        How values are spelled.
    source_file, row_label : str
        For messages.
    pseudonymizer : Pseudonymizer
        Hashes identifiers.
    taxonomy : Taxonomy
        Kinds, categories and units.

    Returns
    -------
    Staged
        Ready for :func:`ingest.validate.finish`.
    """
    # the identifiers' pass (masking, keyed hashing: Python loops) runs beside the dates
    # and vocabularies (mostly Arrow and NumPy kernels, which release the GIL)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="t137-identifiers") as pool:
        identifiers = pool.submit(_protect_identifiers, table.table, cols, pseudonymizer)
        return _stage(table, cols, spec, identifiers, source_file, row_label, taxonomy)


def _stage(
    table: TextTable,
    cols: Mapping[str, str],
    spec: StageSpec,
    identifiers: Future[_Protected],
    source_file: str,
    row_label: str,
    taxonomy: Taxonomy,
) -> Staged:
    t = table.table
    n = t.num_rows
    found: list[pd.DataFrame] = [*encoding_notes(table)]
    const = spec.constants
    values: dict[str, Any] = {s.CASE_ID: column(t, cols.get(s.CASE_ID))}

    for name in DATE_FIELDS:
        if name in cols:
            parsed = parse_datetimes(
                column(t, cols[name]),
                tz=spec.tz,
                calendar=spec.calendar,
                formats=spec.date_formats,
                require_offset=spec.require_offset,
            )
            values[name] = parsed.utc
            found += note_dates(parsed, name, cols[name])

    values[s.KIND] = _kinds(column(t, cols.get(s.KIND)), spec, taxonomy, n)

    channel, unknown_channel = lookup(column(t, cols.get(s.CHANNEL)), spec.channel_map, n=n)
    default_channel = const.get(s.CHANNEL, "unknown")
    values[s.CHANNEL] = np.where(pd.isna(channel), default_channel, channel)
    found.append(notes(unknown_channel, Flag.UNKNOWN_CHANNEL, cols.get(s.CHANNEL), "not known"))

    cat = match_categories(
        taxonomy,
        column(t, cols.get(s.CATEGORY)),
        column(t, cols.get(s.SUBCATEGORY)),
        n=n,
        category_map=spec.category_map,
    )
    values[s.CATEGORY], values[s.SUBCATEGORY] = cat.category, cat.subcategory
    where = cols.get(s.SUBCATEGORY, cols.get(s.CATEGORY))
    found.append(notes(cat.unknown | cat.empty, Flag.UNKNOWN_CATEGORY, where, "mapped to other"))

    unit_text = column(t, cols.get(s.UNIT))
    if unit_text is not None:
        values[s.UNIT] = map_distinct(unit_text, taxonomy.unit, null=None)
    elif s.UNIT in const:
        values[s.UNIT] = np.full(n, const[s.UNIT], dtype=object)

    status_text = column(t, cols.get(s.STATUS))
    values[s.STATUS], _ = lookup(status_text, spec.status_map, n=n)
    values[s.STATUS_RAW] = status_text

    feedback, unknown_feedback = lookup(
        column(t, cols.get(s.CITIZEN_FEEDBACK)), spec.feedback_map, n=n
    )
    values[s.CITIZEN_FEEDBACK] = np.where(pd.isna(feedback), "none", feedback)
    found.append(
        notes(unknown_feedback, Flag.UNKNOWN_FEEDBACK, cols.get(s.CITIZEN_FEEDBACK), "not known")
    )
    values[s.SATISFACTION], bad_sat = integers(column(t, cols.get(s.SATISFACTION)), 1, 5, n=n)
    found.append(notes(bad_sat, Flag.INVALID_SATISFACTION, cols.get(s.SATISFACTION), "not 1-5"))
    reopen, bad_reopen = integers(column(t, cols.get(s.REOPEN_COUNT)), 0, 32_767, n=n)
    values[s.REOPEN_COUNT] = np.where(pd.isna(reopen), 0, reopen)
    found.append(
        notes(bad_reopen, Flag.INVALID_REOPEN_COUNT, cols.get(s.REOPEN_COUNT), "not a count")
    )

    values[s.LON], values[s.LAT] = _coordinates(t, cols, spec.location_order)
    protected = identifiers.result()  # re-raises what failed there
    values.update(protected.texts)
    values[s.CITIZEN_KEY] = protected.citizen
    found += protected.notes
    return Staged(
        source=spec.source,
        source_file=source_file,
        row_numbers=table.row_numbers,
        raw=protected.raw,
        values=values,
        columns=_message_columns(cols),
        notes=found,
        rejected=malformed_records(table.malformed, source_file=source_file, row_label=row_label),
        row_label=row_label,
        encoding=table.encoding,
        blank_lines=table.blank_lines,
        placeholders=spec.placeholders,
    )


@dataclass(frozen=True)
class _Protected:
    """The free text and raw rows with identifiers masked or hashed, and citizen keys."""

    texts: dict[str, pa.Array]
    raw: pa.Table
    citizen: pa.Array | None
    notes: list[pd.DataFrame]


def _protect_identifiers(
    t: pa.Table, cols: Mapping[str, str], pseudonymizer: Pseudonymizer
) -> _Protected:
    """Mask identifiers in free text and hash the identifier columns (see :func:`pseudonymize`).

    Returns the normalized description and address, the raw table as it may be kept (in
    quarantine), the citizen keys and the ``invalid_identifier`` notes.
    """
    masked: dict[str, pa.Array] = {}
    texts: dict[str, pa.Array] = {}
    for name in (s.DESCRIPTION, s.ADDRESS):
        if name in cols and cols[name] not in masked:
            masked[cols[name]] = map_array_distinct(column(t, cols[name]), mask_identifiers)
        if name in cols:
            texts[name] = map_array_distinct(masked[cols[name]], normalize_text_array)
    structured = {cols[f] for f in STRUCTURED_FIELDS if f in cols}
    free = [c for c in t.column_names if c not in structured and c not in masked]
    for name, text in masked.items():
        t = t.set_column(t.schema.get_field_index(name), name, text)
    raw, citizen, notes_found = pseudonymize(
        t,
        phone=cols.get(PHONE),
        national_id=cols.get(NATIONAL_ID),
        free_text=free,
        pseudonymizer=pseudonymizer,
    )
    return _Protected(texts=texts, raw=raw, citizen=citizen, notes=notes_found)


def _coordinates(
    t: pa.Table, cols: Mapping[str, str], order: LocationOrder
) -> tuple[pa.Array | None, pa.Array | None]:
    """Return the longitude and latitude texts: their columns, else the location column.

    Rows whose longitude and latitude are both blank take the point of the ``location``
    column when the source has one.
    """
    lon, lat = column(t, cols.get(s.LON)), column(t, cols.get(s.LAT))
    if LOCATION not in cols:
        return lon, lat
    from_lon, from_lat = split_location(column(t, cols[LOCATION]), order=order)
    if lon is None and lat is None:
        return from_lon, from_lat
    nothing = pa.nulls(t.num_rows, pa.string())
    lon_text = nothing if lon is None else strip_to_null(to_string_array(lon))
    lat_text = nothing if lat is None else strip_to_null(to_string_array(lat))
    use = pc.and_(pc.is_null(lon_text), pc.is_null(lat_text))
    return pc.if_else(use, from_lon, lon_text), pc.if_else(use, from_lat, lat_text)


def _message_columns(cols: Mapping[str, str]) -> dict[str, str]:
    """Field to source column, for messages: a point read from ``location`` is named so."""
    named = dict(cols)
    if LOCATION in cols:
        for field_name in (s.LON, s.LAT):
            named.setdefault(field_name, cols[LOCATION])
    return named


def _kinds(text: pa.Array | None, spec: StageSpec, taxonomy: Taxonomy, n: int) -> np.ndarray:
    if text is None:
        return np.full(n, spec.constants.get(s.KIND), dtype=object)
    mapped = dict(spec.kind_map.items())
    from ..taxonomy import match_key

    keys = {match_key(k): v for k, v in mapped.items()}

    def one(value: str) -> str | None:
        return keys.get(match_key(value)) or taxonomy.kind(value)

    return map_distinct(text, one, null=spec.constants.get(s.KIND))
