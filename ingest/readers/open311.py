"""Reader of Open311 GeoReport v2 service requests: JSON files and live endpoints.

Each record is one service request (``service_request_id``, ``status``, ``service_name``,
``service_code``, ``description``, ``agency_responsible``, ``requested_datetime``,
``updated_datetime``, ``expected_datetime``, ``address``, ``lat``, ``long``, …). Dates
must carry a UTC offset (GeoReport v2 requires W3C date-times): a date without one is
refused, never guessed. The raw status is kept in ``status_raw`` beside the mapped one.

Fields are mapped as follows: ``service_request_id`` → case_id, ``requested_datetime`` →
created_at, ``updated_datetime`` → closed_at when the status is closed, ``expected_datetime``
→ due_at, ``service_name`` (and ``service_code``) → category via the taxonomy or a
category map, ``agency_responsible`` → unit, ``lat``/``long`` → lat/lon. Personal fields
some servers add (``email``, ``phone``, ``first_name``, ``last_name``, ``device_id``,
``account_id``) are hashed or dropped before anything is kept.

:func:`fetch_open311` pages through a live endpoint by date windows (``start_date`` /
``end_date``), halving a window whose answer hits the server's page limit.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo.errors import InputError

from .. import schema as s
from ..pseudonymize import Pseudonymizer
from ..quarantine import Reason, message, quarantine_frame
from ..taxonomy import Taxonomy, load_taxonomy
from ..validate import finish
from .common import PathLike, display_name, read_bytes
from .result import ReadResult
from .staging import PHONE, StageSpec, stage_table
from .textfile import TextTable

#: GeoReport v2 fields and the canonical field each feeds.
FIELDS: Final[Mapping[str, str]] = {
    s.CASE_ID: "service_request_id",
    s.CREATED_AT: "requested_datetime",
    s.DUE_AT: "expected_datetime",
    s.CATEGORY: "service_name",
    s.SUBCATEGORY: "service_code",
    s.DESCRIPTION: "description",
    s.UNIT: "agency_responsible",
    s.STATUS: "status",
    s.ADDRESS: "address",
    s.LON: "long",
    s.LAT: "lat",
    PHONE: "phone",
}
UPDATED: Final = "updated_datetime"
#: Closed-at column built from ``updated_datetime`` on closed requests.
CLOSED_FIELD: Final = "_closed_datetime"
STATUS_MAP: Final[Mapping[str, str]] = {
    "open": "registered",
    "acknowledged": "referred",
    "in_progress": "in_progress",
    "in progress": "in_progress",
    "closed": "closed",
    "resolved": "closed",
    "archived": "closed",
}
#: Fields dropped from the raw record (personal data without analytical use).
DROPPED: Final = ("email", "first_name", "last_name", "device_id", "account_id", "name")
DEFAULT_PAGE_LIMIT: Final = 1000


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return json.dumps(value, ensure_ascii=False)


def records_from_json(data: bytes | str, *, source_file: str) -> list[object]:
    """Return the list of records of a GeoReport v2 JSON document.

    Accepts a JSON array, or an object holding one under ``service_requests``,
    ``requests`` or ``data``.

    Raises
    ------
    InputError
        When the document is not JSON or holds no list of records.
    """
    try:
        doc = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{source_file} is not valid JSON ({exc}); export the requests as a JSON array."
        raise InputError(msg) from exc
    if isinstance(doc, Mapping):
        for name in ("service_requests", "requests", "data"):
            if isinstance(doc.get(name), list):
                doc = doc[name]
                break
    if not isinstance(doc, list):
        msg = f"{source_file} holds no list of service requests; expected a JSON array."
        raise InputError(msg)
    return doc


def read_open311(
    path: PathLike,
    *,
    city: str,
    key: bytes | str | Any,
    now: pd.Timestamp | None = None,
    status_map: Mapping[str, str] | None = None,
    category_map: Mapping[str, str] | None = None,
    kind: str = "request",
    placeholders: Sequence[tuple[float, float]] = (),
    taxonomy: Taxonomy | None = None,
) -> ReadResult:
    """Read a GeoReport v2 JSON file.

    Parameters
    ----------
    path : path-like
        A JSON array of service requests.
    city : str
        Short city name; cases get ``source: open311:<city>``.
    key : bytes, str or SecretStr
        Secret key of the HMAC for personal fields.
    now : pandas.Timestamp, optional
        Time of reading.
    status_map, category_map : Mapping, optional
        Extra spellings of statuses and service names.
    kind : str
        The kind of every request (GeoReport has none).
    placeholders : sequence of (lon, lat)
        Placeholder points.
    taxonomy : Taxonomy, optional
        Kinds, categories and units.

    Returns
    -------
    ReadResult
        Every record kept or quarantined (``row_number`` is the 1-based record number).
    """
    name = display_name(path)
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    records = records_from_json(data, source_file=name)
    del data
    result = read_open311_records(
        records,
        source_file=name,
        city=city,
        key=key,
        now=now,
        status_map=status_map,
        category_map=category_map,
        kind=kind,
        placeholders=placeholders,
        taxonomy=taxonomy,
    )
    return replace(result, input_sha256=digest)


def read_open311_records(
    records: Sequence[object],
    *,
    source_file: str,
    city: str,
    key: bytes | str | Any,
    now: pd.Timestamp | None = None,
    status_map: Mapping[str, str] | None = None,
    category_map: Mapping[str, str] | None = None,
    kind: str = "request",
    placeholders: Sequence[tuple[float, float]] = (),
    taxonomy: Taxonomy | None = None,
) -> ReadResult:
    """Read GeoReport v2 records already decoded from JSON (see :func:`read_open311`)."""
    if kind not in s.KINDS:
        msg = f"kind {kind!r} is not one of {list(s.KINDS)}."
        raise InputError(msg)
    pseudonymizer = Pseudonymizer(key)
    good: list[Mapping[str, Any]] = []
    numbers: list[int] = []
    bad: list[tuple[int, object]] = []
    for number, record in enumerate(records, start=1):
        if isinstance(record, Mapping) and record:
            good.append(record)
            numbers.append(number)
        else:
            bad.append((number, record))
    names = list(dict.fromkeys(k for r in good for k in map(str, r) if k not in DROPPED))
    for required in (*FIELDS.values(), UPDATED):
        if required not in names:
            names.append(required)
    columns = {n: [_cell(r.get(n)) for r in good] for n in names}
    closed_status = {k for k, v in {**STATUS_MAP, **(status_map or {})}.items() if v == "closed"}
    status = pa.array(columns["status"], pa.string())
    is_closed = pc.fill_null(
        pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(status)), pa.array(sorted(closed_status))),
        False,
    )
    updated = pa.array(columns[UPDATED], pa.string())
    columns[CLOSED_FIELD] = pc.if_else(is_closed, updated, pa.scalar(None, pa.string())).to_pylist()
    table = pa.table({n: pa.array(v, pa.string()) for n, v in columns.items()})
    text = TextTable(table, np.array(numbers, dtype=np.int64), encoding="json")
    cols = {**FIELDS, s.CLOSED_AT: CLOSED_FIELD}
    spec = StageSpec(
        source=f"open311:{city}",
        tz="UTC",
        calendar="gregorian",
        status_map={**STATUS_MAP, **(status_map or {})},
        category_map=dict(category_map or {}),
        constants={s.KIND: kind},
        placeholders=tuple(placeholders),
        require_offset=True,
    )
    staged = stage_table(
        text,
        cols,
        spec,
        source_file=source_file,
        row_label="record",
        pseudonymizer=pseudonymizer,
        taxonomy=taxonomy or load_taxonomy(),
    )
    # The helper column is not part of the source: drop it from the raw records.
    staged.raw = staged.raw.drop_columns([CLOSED_FIELD])
    staged.columns = {**staged.columns, s.CLOSED_AT: UPDATED}
    for frame in staged.notes:
        frame.loc[frame[s.NOTE_COLUMN] == CLOSED_FIELD, s.NOTE_COLUMN] = UPDATED
    if bad:
        staged.rejected = _bad_records(bad, source_file)
    return finish(staged, now=now)


def _bad_records(bad: Sequence[tuple[int, object]], source_file: str) -> pd.DataFrame:
    details = [f"found {type(r).__name__}" if r != {} else "empty object" for _, r in bad]
    return quarantine_frame(
        source_file=source_file,
        row_numbers=[n for n, _ in bad],
        reasons=[Reason.MALFORMED_RECORD.value] * len(bad),
        columns=[None] * len(bad),
        messages=[
            message(
                Reason.MALFORMED_RECORD,
                source_file=source_file,
                row_number=n,
                column=None,
                detail=d,
                row_label="record",
            )
            for (n, _), d in zip(bad, details, strict=True)
        ],
        raw=[json.dumps({"record": type(r).__name__}) for _, r in bad],
    )


# --- live endpoints -----------------------------------------------------------------------

Fetcher = Callable[[str], bytes]


def _urlopen(url: str, timeout_s: float) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        body: bytes = response.read()
    return body


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def public_url(url: str) -> str:
    """Return ``url`` without its query string and credentials, for messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def fetch_open311(
    base_url: str,
    *,
    start: datetime,
    end: datetime,
    window_days: float = 7.0,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    params: Mapping[str, str] | None = None,
    timeout_s: float = 60.0,
    min_window_s: float = 1.0,
    fetch: Fetcher | None = None,
) -> list[Mapping[str, Any]]:
    """Download service requests from a GeoReport v2 endpoint, window by window.

    The period is cut into windows of ``window_days``; each is asked with
    ``start_date``/``end_date``. A window whose answer holds ``page_limit`` records or
    more may be truncated by the server, so it is halved and asked again (down to
    ``min_window_s``). Records seen twice (on a window edge) are kept once.

    Parameters
    ----------
    base_url : str
        The ``requests.json`` URL (``https://host/open311/v2/requests.json``).
    start, end : datetime
        Period, timezone-aware (naive values are refused).
    window_days : float
        Initial window length in days.
    page_limit : int
        The server's maximum number of records per answer.
    params : Mapping, optional
        Extra query parameters (``jurisdiction_id``, ``api_key``, ``status``).
    timeout_s : float
        Timeout per request, in seconds.
    min_window_s : float
        Shortest window, in seconds.
    fetch : callable, optional
        ``url -> bytes`` (defaults to :mod:`urllib`), for tests.

    Returns
    -------
    list of dict
        The records, in the order received.

    Raises
    ------
    InputError
        On naive dates, an unreachable server, an HTTP error or an answer that is not JSON.
    """
    if start.tzinfo is None or end.tzinfo is None:
        msg = "start and end must be timezone-aware datetimes (add tzinfo=UTC)."
        raise InputError(msg)
    if end <= start:
        msg = f"end ({end.isoformat()}) must be later than start ({start.isoformat()})."
        raise InputError(msg)
    get = fetch or (lambda url: _urlopen(url, timeout_s))
    shown = public_url(base_url)
    seen: dict[str, int] = {}
    out: list[Mapping[str, Any]] = []
    windows: list[tuple[datetime, datetime]] = []
    cursor = start
    step = timedelta(days=window_days)
    while cursor < end:
        windows.append((cursor, min(cursor + step, end)))
        cursor += step
    while windows:
        lo, hi = windows.pop(0)
        query = {**(params or {}), "start_date": _iso(lo), "end_date": _iso(hi)}
        separator = "&" if urllib.parse.urlsplit(base_url).query else "?"
        url = base_url + separator + urllib.parse.urlencode(query)
        try:
            body = get(url)
        except urllib.error.HTTPError as exc:
            msg = f"{shown} answered HTTP {exc.code} for {_iso(lo)}..{_iso(hi)}; check the URL."
            raise InputError(msg) from exc
        except (urllib.error.URLError, OSError) as exc:
            msg = f"Cannot reach {shown} ({exc}); check the URL and the network."
            raise InputError(msg) from exc
        records = records_from_json(body, source_file=shown)
        if len(records) >= page_limit and (hi - lo).total_seconds() > 2 * min_window_s:
            middle = lo + (hi - lo) / 2
            windows[:0] = [(lo, middle), (middle, hi)]
            continue
        for record in records:
            if isinstance(record, Mapping):
                rid = str(record.get("service_request_id"))
                if rid != "None" and rid in seen and out[seen[rid]] == record:
                    continue
                if rid != "None":
                    seen[rid] = len(out)
            out.append(record)  # type: ignore[arg-type]
    return out


def read_open311_endpoint(
    base_url: str,
    *,
    city: str,
    key: bytes | str | Any,
    start: datetime,
    end: datetime,
    window_days: float = 7.0,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    params: Mapping[str, str] | None = None,
    now: pd.Timestamp | None = None,
    fetch: Fetcher | None = None,
    **options: Any,
) -> ReadResult:
    """Fetch (:func:`fetch_open311`) and read (:func:`read_open311_records`) a live endpoint."""
    records = fetch_open311(
        base_url,
        start=start,
        end=end,
        window_days=window_days,
        page_limit=page_limit,
        params=params,
        fetch=fetch,
    )
    return read_open311_records(
        records, source_file=public_url(base_url), city=city, key=key, now=now, **options
    )


__all__ = [
    "FIELDS",
    "STATUS_MAP",
    "fetch_open311",
    "read_open311",
    "read_open311_endpoint",
    "read_open311_records",
    "records_from_json",
]
