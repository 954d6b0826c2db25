"""One ingest run: read → validate → pseudonymize → locate → upsert, in one store write.

Readers validate and pseudonymize as they read (identifiers never leave them in clear);
:func:`ingest.locate.locate` assigns the kept rows to areas; the store then writes the
cases, the events, the quarantine and the hash-chained run record as one unit
(:meth:`geo.store.CaseStore.write_run`) and the read model is refreshed.

Every input row ends in exactly one place, and the report says where::

    rows_read = inserted + updated + unchanged + quarantined

Rows the store finds identical to what it holds are ``unchanged``, so running the same file
twice reports 0 inserted and 0 updated the second time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from geo.assign import BoundaryIndex
from geo.errors import InputError
from geo.gazetteer import Gazetteer
from geo.store import CaseStore, IngestBatch, IngestRun

from . import schema as s
from .locate import locate
from .readers.dispatch import Format, read_source

__all__ = ["IngestOptions", "IngestReport", "ingest_file"]


@dataclass(frozen=True)
class IngestOptions:
    """How to read and place the rows of one source.

    Parameters
    ----------
    key : bytes or str
        Secret key of the keyed hash of phone numbers and national ids.
    source_format : {"137", "open311", "csv"}, optional
        The reader to use; guessed from the file name and mapping when None.
    mapping : path, optional
        The YAML column mapping (``csv`` format).
    city : str, optional
        City name of an Open311 source (``open311:<city>``; default: the file's stem).
    snap_tolerance_m : float
        Snap points this close outside the city (metres).
    placeholders : sequence of (lon, lat)
        Placeholder points, refused.
    now : pandas.Timestamp, optional
        The reading instant (creation dates after it are refused); now by default.
    """

    key: bytes | str
    source_format: Format | None = None
    mapping: Path | None = None
    city: str | None = None
    snap_tolerance_m: float = 200.0
    placeholders: Sequence[tuple[float, float]] = ()
    now: pd.Timestamp | None = None


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run did with every row of its file."""

    source_file: str
    run: IngestRun
    reasons: Mapping[str, int] = field(default_factory=dict)
    flags: Mapping[str, int] = field(default_factory=dict)
    precision: Mapping[str, int] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        """Whether rows read = inserted + updated + unchanged + quarantined."""
        r = self.run
        return r.rows_read == r.inserted + r.updated + r.unchanged + r.quarantined

    def as_dict(self) -> dict[str, Any]:
        """Return the report as one JSON-ready mapping."""
        r = self.run
        return {
            "file": self.source_file,
            "source": r.source,
            "run_id": r.run_id,
            "run_hash": r.run_hash,
            "rows_read": r.rows_read,
            "inserted": r.inserted,
            "updated": r.updated,
            "unchanged": r.unchanged,
            "quarantined": r.quarantined,
            "reconciles": self.reconciles,
            "quarantine_reasons": dict(self.reasons),
            "flags": dict(self.flags),
            "geocode_precision": dict(self.precision),
        }

    def summary(self) -> str:
        """Return a short human summary."""
        r = self.run
        lines = [
            f"{self.source_file}: {r.rows_read:,} rows read → {r.inserted:,} inserted, "
            f"{r.updated:,} updated, {r.unchanged:,} unchanged, {r.quarantined:,} quarantined"
            + ("" if self.reconciles else "  (DOES NOT RECONCILE)"),
        ]
        if self.reasons:
            reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(self.reasons.items()))
            lines.append(f"  quarantined: {reasons}")
        if self.flags:
            flags = ", ".join(f"{k} {v:,}" for k, v in sorted(self.flags.items()))
            lines.append(f"  flagged: {flags}")
        if self.precision:
            located = ", ".join(f"{k} {v:,}" for k, v in self.precision.items() if v)
            lines.append(f"  located by: {located}")
        lines.append(f"  run {r.seq} {r.run_id}, chain head {r.run_hash[:16]}…")
        return "\n".join(lines)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _value_counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in values.value_counts(sort=True).items()}


def ingest_file(
    path: str | Path,
    store: CaseStore,
    index: BoundaryIndex,
    options: IngestOptions,
    *,
    gazetteer: Gazetteer | None = None,
    refresh: bool = True,
    on_stage: Callable[[str], None] | None = None,
) -> IngestReport:
    """Ingest one file into ``store`` as one run.

    Parameters
    ----------
    path : path-like
        The source file.
    store : geo.store.CaseStore
        Where the cases, events, quarantine and the run record go.
    index : geo.assign.BoundaryIndex
        The boundary index that places the points.
    options : IngestOptions
        Reader and placement options.
    gazetteer : geo.gazetteer.Gazetteer, optional
        For rows without a usable point (address fallback).
    refresh : bool, default True
        Refresh the store's read model after the write.
    on_stage : callable, optional
        Called with the name of each stage as it starts (``read``, ``locate``, ``write``,
        ``refresh``), for progress display.

    Returns
    -------
    IngestReport
        The run and its reconciled counts.
    """
    file = Path(path)
    started = pd.Timestamp.now(tz="UTC")
    if not file.is_file():
        msg = f"Input file {file} does not exist; check the path."
        raise InputError(msg)
    stage = on_stage or (lambda _name: None)
    stage("read")
    result = read_source(
        file,
        key=options.key,
        format=options.source_format,
        mapping=options.mapping,
        city=options.city,
        placeholders=options.placeholders,
        now=options.now,
    )
    # Readers that read the file whole hash the bytes they read; others need a pass here.
    digest = result.input_sha256 or _sha256(file)
    stage("locate")
    result = locate(
        result,
        index,
        gazetteer=gazetteer,
        snap_tolerance_m=options.snap_tolerance_m,
        placeholders=options.placeholders,
    )
    cases = result.cases.reset_index(drop=True)
    batch = IngestBatch(
        source=result.source,
        input_sha256=digest,
        started_at=started,
        rows_read=result.rows_read,
        cases=cases,
        events=result.events,
        quarantine=result.quarantine,
    )
    stage("write")
    run = store.write_run(batch)
    if refresh:
        stage("refresh")
        store.refresh_read_model()
    counts = result.counts()
    return IngestReport(
        source_file=result.source_file,
        run=run,
        reasons=counts["reasons"],
        flags=counts["flags"],
        precision=_value_counts(cases[s.GEOCODE_PRECISION].astype(object)),
    )
