"""Files of the embedded store: Arrow schemas, atomic Parquet writes and the manifest.

Layout of a store directory::

    manifest.json                         the live files, written last and atomically
    .lock                                 the writer lock (filelock)
    cases/month=YYYY-MM/part-<uuid>.parquet   one GeoParquet file per UTC month of created_at
    events/part-<uuid>.parquet            case events, one file per append
    quarantine/part-<uuid>.parquet        quarantined rows, one file per write
    runs/part-<uuid>.parquet              the ingest-run log (rewritten per run)
    boundaries/part-<uuid>.parquet        the boundary layer (GeoParquet)
    read_model/part-<uuid>.parquet        the aggregate read model

Every file is written to a hidden temporary name (``.tmp-…``, which pyarrow datasets
ignore), flushed with ``fsync`` and renamed into place; then the manifest is replaced the
same way. A reader that goes by the manifest therefore sees the state before or after a
write, never a mix; files no manifest lists (left by a crash or replaced by a later write)
are deleted by the next writer.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

from ingest import schema as s

from ..crs import STORAGE_CRS
from ..errors import StoreError

MANIFEST: Final = "manifest.json"
LOCK: Final = ".lock"
FORMAT: Final = "t137-embedded-store"
FORMAT_VERSION: Final = 1
TMP_PREFIX: Final = ".tmp-"
CASES_DIR: Final = "cases"
EVENTS_DIR: Final = "events"
QUARANTINE_DIR: Final = "quarantine"
RUNS_DIR: Final = "runs"
BOUNDARIES_DIR: Final = "boundaries"
READ_MODEL_DIR: Final = "read_model"
TABLE_DIRS: Final = (
    CASES_DIR,
    EVENTS_DIR,
    QUARANTINE_DIR,
    RUNS_DIR,
    BOUNDARIES_DIR,
    READ_MODEL_DIR,
)
#: Names a store directory may hold; any other entry means "this is not a store".
KNOWN_ENTRIES: Final = frozenset((MANIFEST, LOCK, *TABLE_DIRS))
#: Snappy: about 3x faster to write and read here than zstd, for 30 % larger files.
COMPRESSION: Final = "snappy"
ROW_GROUP_SIZE: Final = 128 * 1024
#: Case columns with min/max statistics (the ones filters prune row groups on).
CASE_STATISTICS: Final = (
    s.CREATED_AT,
    s.LON,
    s.LAT,
    s.SOURCE,
    s.CATEGORY,
    s.KIND,
    s.CHANNEL,
    s.UNIT,
    s.STATUS,
    s.REGION_CODE,
    s.DISTRICT_CODE,
    s.NEIGHBORHOOD_CODE,
)
#: Case columns written without dictionary encoding (nearly unique values).
CASE_PLAIN: Final = (
    s.CASE_ID,
    s.CITIZEN_KEY,
    s.GEOMETRY,
    s.LON,
    s.LAT,
    *s.TIMESTAMP_COLUMNS,
)

TS: Final = pa.timestamp("us", tz="UTC")
TEXT_CASE_COLUMNS: Final = tuple(
    name
    for name in s.CASE_COLUMNS
    if name not in (*s.TIMESTAMP_COLUMNS, s.SATISFACTION, s.REOPEN_COUNT, s.LON, s.LAT)
)


def _case_type(name: str) -> pa.DataType:
    if name in s.TIMESTAMP_COLUMNS:
        return TS
    if name == s.SATISFACTION:
        return pa.int8()
    if name == s.REOPEN_COUNT:
        return pa.int16()
    if name in (s.LON, s.LAT):
        return pa.float64()
    return pa.string()


#: Arrow schema of a case partition file (categories are stored as plain text).
CASE_SCHEMA: Final = pa.schema(
    [pa.field(name, _case_type(name)) for name in s.CASE_COLUMNS]
    + [pa.field(s.GEOMETRY, pa.binary())]
)
EVENT_SCHEMA: Final = pa.schema(
    [pa.field(name, TS if name == s.EVENT_AT else pa.string()) for name in s.EVENT_COLUMNS]
)
QUARANTINE_SCHEMA: Final = pa.schema(
    [
        pa.field(name, pa.int64() if name == s.Q_ROW_NUMBER else pa.string())
        for name in s.QUARANTINE_COLUMNS
    ]
)


def _run_type(name: str) -> pa.DataType:
    if name in (s.RUN_STARTED_AT, s.RUN_FINISHED_AT):
        return TS
    if name in (s.RUN_ID, s.RUN_SOURCE, s.RUN_INPUT_SHA256, s.RUN_PREVIOUS_HASH, s.RUN_HASH):
        return pa.string()
    return pa.int64()


RUN_SCHEMA: Final = pa.schema([pa.field(name, _run_type(name)) for name in s.RUN_COLUMNS])


def _read_model_type(name: str) -> pa.DataType:
    if name == s.RM_DAY:
        return pa.date32()
    if name in s.READ_MODEL_KEYS:
        return pa.string()
    if name in (s.RM_FIRST_RESPONSE_SECONDS, s.RM_CLOSE_SECONDS):
        return pa.float64()
    return pa.int64()


READ_MODEL_SCHEMA: Final = pa.schema(
    [pa.field(name, _read_model_type(name)) for name in s.READ_MODEL_COLUMNS]
)


# -- the manifest ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """One live file: its path relative to the store root and its row count."""

    path: str
    rows: int

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {"path": self.path, "rows": self.rows}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Part:
        """Build from the JSON form."""
        return cls(str(data["path"]), int(data["rows"]))


@dataclass(frozen=True)
class Manifest:
    """The live files of a store at one version."""

    version: int = 0
    cases: Mapping[str, Part] = field(default_factory=dict)
    events: tuple[Part, ...] = ()
    quarantine: tuple[Part, ...] = ()
    runs: Part | None = None
    boundaries: Part | None = None
    read_model: Part | None = None

    def files(self) -> set[str]:
        """Return the relative paths of every live file."""
        parts = [*self.cases.values(), *self.events, *self.quarantine]
        parts += [p for p in (self.runs, self.boundaries, self.read_model) if p is not None]
        return {p.path for p in parts}

    def next(self, **changes: Any) -> Manifest:
        """Return the next version with some tables changed."""
        return replace(self, version=self.version + 1, **changes)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form."""

        def one(part: Part | None) -> dict[str, Any] | None:
            return None if part is None else part.to_json()

        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "written_at": pd.Timestamp.now(tz="UTC").isoformat(),
            "tables": {
                CASES_DIR: {month: part.to_json() for month, part in sorted(self.cases.items())},
                EVENTS_DIR: [p.to_json() for p in self.events],
                QUARANTINE_DIR: [p.to_json() for p in self.quarantine],
                RUNS_DIR: one(self.runs),
                BOUNDARIES_DIR: one(self.boundaries),
                READ_MODEL_DIR: one(self.read_model),
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Manifest:
        """Build from the JSON form."""
        tables = data["tables"]

        def one(value: Mapping[str, Any] | None) -> Part | None:
            return None if value is None else Part.from_json(value)

        return cls(
            version=int(data["version"]),
            cases={m: Part.from_json(p) for m, p in tables[CASES_DIR].items()},
            events=tuple(Part.from_json(p) for p in tables[EVENTS_DIR]),
            quarantine=tuple(Part.from_json(p) for p in tables[QUARANTINE_DIR]),
            runs=one(tables[RUNS_DIR]),
            boundaries=one(tables[BOUNDARIES_DIR]),
            read_model=one(tables[READ_MODEL_DIR]),
        )


def load_manifest(root: Path) -> Manifest:
    """Return the manifest of the store at ``root`` (an empty one when there is none)."""
    path = root / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest()
    try:
        data = json.loads(text)
        if data.get("format") != FORMAT:
            msg = f"{path} is not a {FORMAT} manifest"
            raise ValueError(msg)
        if int(data.get("format_version", 0)) > FORMAT_VERSION:
            msg = (
                f"The store at {root} has format version {data['format_version']}, newer than "
                f"this program's {FORMAT_VERSION}; upgrade tehran137 to read it."
            )
            raise StoreError(msg)
        return Manifest.from_json(data)
    except StoreError:
        raise
    except (ValueError, KeyError, TypeError) as exc:
        msg = f"The store manifest {path} is unreadable ({exc}); restore it from a backup."
        raise StoreError(msg) from exc


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``final``; on success fsync it and rename it over."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}-{final.name}")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Replace the manifest atomically (temporary file, fsync, rename, fsync directory)."""
    text = json.dumps(manifest.to_json(), ensure_ascii=False, indent=1)
    with _atomic_path(root / MANIFEST) as tmp:
        tmp.write_text(text, encoding="utf-8")


def new_part_path(directory: str) -> str:
    """Return a fresh relative file path in ``directory`` (``dir/part-<uuid>.parquet``)."""
    return f"{directory}/part-{uuid.uuid4().hex}.parquet"


def month_label(code: int) -> str:
    """Return ``YYYY-MM`` of a month counted from 1970-01 (numpy ``datetime64[M]``)."""
    return str(np.datetime_as_string(np.datetime64(code, "M"), unit="M"))


def month_code(label: str) -> int:
    """Return the month number (from 1970-01) of a ``YYYY-MM`` label."""
    return int(np.datetime64(label, "M").astype(np.int64))


def write_table(root: Path, relative: str, table: pa.Table) -> Part:
    """Write ``table`` to ``root/relative`` atomically and return its :class:`Part`.

    Case tables get statistics only on the columns filters use, and no dictionary encoding
    on nearly unique columns, which halves the time to write them.
    """
    options: dict[str, Any] = {}
    if table.schema.names == CASE_SCHEMA.names:
        options["write_statistics"] = list(CASE_STATISTICS)
        options["use_dictionary"] = [n for n in CASE_SCHEMA.names if n not in CASE_PLAIN]
    with _atomic_path(root / relative) as tmp:
        pq.write_table(
            table, tmp, compression=COMPRESSION, row_group_size=ROW_GROUP_SIZE, **options
        )
    return Part(relative, table.num_rows)


def write_geoframe(root: Path, relative: str, frame: Any) -> Part:
    """Write a GeoDataFrame as GeoParquet to ``root/relative`` atomically."""
    with _atomic_path(root / relative) as tmp:
        frame.to_parquet(tmp, index=False, compression=COMPRESSION)
    return Part(relative, len(frame))


def collect_garbage(root: Path, manifest: Manifest) -> int:
    """Delete files under the table folders that ``manifest`` does not list; return the count.

    Call only while holding the writer lock. Empty month folders are removed too.
    """
    live = manifest.files()
    removed = 0
    for directory in TABLE_DIRS:
        base = root / directory
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*"), reverse=True):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and relative not in live:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
            elif path.is_dir() and path != base and not any(path.iterdir()):
                with contextlib.suppress(OSError):
                    path.rmdir()
    return removed


# -- GeoParquet metadata and point WKB ---------------------------------------------------------
def point_wkb(lon: np.ndarray, lat: np.ndarray) -> pa.Array:
    """Return little-endian WKB points as an Arrow binary array, null where NaN.

    Built with NumPy (21 bytes per point), without creating shapely objects.
    """
    n = len(lon)
    record = np.dtype([("order", "u1"), ("kind", "<u4"), ("x", "<f8"), ("y", "<f8")])
    buffer = np.empty(n, dtype=record)
    buffer["order"] = 1
    buffer["kind"] = 1
    buffer["x"] = lon
    buffer["y"] = lat
    missing = np.isnan(lon) | np.isnan(lat)
    validity = None if not missing.any() else pa.array(~missing).buffers()[1]
    fixed = pa.Array.from_buffers(
        pa.binary(21),
        n,
        [validity, pa.py_buffer(buffer.tobytes())],
        null_count=int(missing.sum()),
    )
    return fixed.cast(pa.binary())


def geo_metadata(lon: np.ndarray, lat: np.ndarray) -> dict[bytes, bytes]:
    """Return the GeoParquet 1.0 ``geo`` file metadata for WKB points in EPSG:4326."""
    column: dict[str, Any] = {
        "encoding": "WKB",
        "geometry_types": ["Point"],
        "crs": CRS.from_user_input(STORAGE_CRS).to_json_dict(),
    }
    present = ~(np.isnan(lon) | np.isnan(lat))
    if present.any():
        x, y = lon[present], lat[present]
        column["bbox"] = [float(x.min()), float(y.min()), float(x.max()), float(y.max())]
    geo = {"version": "1.0.0", "primary_column": s.GEOMETRY, "columns": {s.GEOMETRY: column}}
    return {b"geo": json.dumps(geo).encode("utf-8")}
