"""What every reader returns: kept cases, quarantine records, flags and reconciled counts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import schema as s
from ..quarantine import Flag, Reason, message, quarantine_frame

ROW_INDEX_NAME = s.Q_ROW_NUMBER


@dataclass(frozen=True, eq=False)
class ReadResult:
    """The outcome of reading one source: every input row is in exactly one place.

    Attributes
    ----------
    source : str
        The case source (``tehran137``, ``open311:<city>``, ``csv:<name>``).
    source_file : str
        The file name or URL (without credentials) shown in messages.
    cases : pandas.DataFrame
        Kept rows in the canonical layout (:data:`ingest.schema.CASE_COLUMNS` plus
        ``status_raw``), indexed by the source row number (1-based line, spreadsheet row
        or record number). Coordinates are checked but not yet assigned to areas.
    quarantine : pandas.DataFrame
        Refused rows (:data:`ingest.schema.QUARANTINE_COLUMNS`); ``run_id`` is empty until
        the pipeline sets it. Identifiers in ``raw`` are already hashed.
    flags : pandas.DataFrame
        Notes on kept rows (:data:`ingest.schema.NOTE_COLUMNS`); ``row`` is the label in
        ``cases.index`` and ``code`` a :class:`~ingest.quarantine.Flag` value.
    rows_read : int
        Rows read from the source (blank lines excluded); always ``kept + quarantined``.
    raw_table : pyarrow.Table
        The rows as read (text, identifiers hashed): the kept rows, or more rows of which
        ``raw_rows`` are the kept ones (taking them is deferred until :attr:`raw` is used).
    events : pandas.DataFrame or None
        Referral history (:data:`ingest.schema.EVENT_COLUMNS`) when the source has one.
    row_label : str
        What a row number counts: ``line``, ``row`` or ``record``.
    encoding : str or None
        The text encoding detected, for files.
    blank_lines : int
        Lines without any value, skipped and not counted as rows.
    raw_rows : numpy.ndarray or None
        Positions in ``raw_table`` of the kept rows, in the order of ``cases``; None when
        ``raw_table`` holds exactly the kept rows.
    input_sha256 : str or None
        SHA-256 (hex) of the file's bytes as read, when the reader read the file whole (so
        that the ingest run record needs no second pass over the file).
    """

    source: str
    source_file: str
    cases: pd.DataFrame
    quarantine: pd.DataFrame
    flags: pd.DataFrame
    rows_read: int
    raw_table: pa.Table
    events: pd.DataFrame | None = None
    row_label: str = "line"
    encoding: str | None = None
    blank_lines: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    raw_rows: np.ndarray | None = None
    input_sha256: str | None = None

    def __post_init__(self) -> None:
        if self.kept + self.quarantined != self.rows_read:
            msg = (
                f"{self.source_file}: {self.rows_read} rows read but {self.kept} kept and "
                f"{self.quarantined} quarantined; this is a bug in the reader, please report it."
            )
            raise AssertionError(msg)

    @cached_property
    def raw(self) -> pa.Table:
        """The kept rows as read (text, identifiers hashed), aligned with ``cases``.

        A later stage can still quarantine a row with its raw content.
        """
        if self.raw_rows is None:
            return self.raw_table
        return self.raw_table.take(pa.array(self.raw_rows, type=pa.int64()))

    def _raw_at(self, positions: np.ndarray) -> pa.Table:
        """Return the raw rows of the kept rows at ``positions`` (of ``cases``)."""
        rows = positions if self.raw_rows is None else self.raw_rows[positions]
        return self.raw_table.take(pa.array(rows, type=pa.int64()))

    @property
    def kept(self) -> int:
        """Number of rows kept."""
        return len(self.cases)

    @property
    def quarantined(self) -> int:
        """Number of rows quarantined."""
        return len(self.quarantine)

    def counts(self) -> dict[str, Any]:
        """Return the reconciled counts, by quarantine reason and by flag.

        Returns
        -------
        dict
            ``rows_read``, ``kept``, ``quarantined``, ``blank_lines``, ``reasons`` (code to
            rows) and ``flags`` (code to rows).
        """
        reasons = self.quarantine[s.Q_REASON].value_counts(sort=False)
        flags = self.flags.drop_duplicates([s.NOTE_ROW, s.NOTE_CODE])[s.NOTE_CODE]
        return {
            "rows_read": self.rows_read,
            "kept": self.kept,
            "quarantined": self.quarantined,
            "blank_lines": self.blank_lines,
            "reasons": {str(k): int(v) for k, v in reasons.items()},
            "flags": {str(k): int(v) for k, v in flags.value_counts(sort=False).items()},
        }

    def summary(self) -> str:
        """Return a one-line human summary of the counts."""
        c = self.counts()
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(c["reasons"].items()))
        text = (
            f"{self.source_file}: {c['rows_read']} rows read, {c['kept']} kept, "
            f"{c['quarantined']} quarantined"
        )
        return f"{text} ({reasons})" if reasons else text

    def move_to_quarantine(
        self,
        labels: Sequence[int] | np.ndarray,
        reason: Reason,
        *,
        column: str | None,
        details: Sequence[str] | str = "",
        values: Sequence[object] | None = None,
    ) -> ReadResult:
        """Return a copy in which kept rows ``labels`` are quarantined (e.g. outside the city).

        Parameters
        ----------
        labels : sequence of int
            Labels of ``cases.index`` (source row numbers).
        reason : Reason
            Why.
        column : str or None
            The source column at fault, as spelled in the file.
        details : str or sequence of str
            A short precision per row (or one for all).
        values : sequence, optional
            The offending value per row, quoted in the message.

        Returns
        -------
        ReadResult
            The counts still reconcile.
        """
        labels = np.asarray(labels, dtype=np.int64)
        positions = self.cases.index.get_indexer(pd.Index(labels))
        if (positions < 0).any():
            missing = labels[positions < 0][:5].tolist()
            msg = f"rows {missing} are not kept rows of {self.source_file}."
            raise KeyError(msg)
        detail_list = [details] * len(labels) if isinstance(details, str) else list(details)
        value_list = list(values) if values is not None else [None] * len(labels)
        raw_rows = self._raw_at(positions).to_pylist()
        messages = [
            message(
                reason,
                source_file=self.source_file,
                row_number=int(label),
                column=column,
                value=value,
                detail=detail,
                row_label=self.row_label,
            )
            for label, detail, value in zip(labels, detail_list, value_list, strict=True)
        ]
        new = quarantine_frame(
            source_file=self.source_file,
            row_numbers=labels,
            reasons=[reason.value] * len(labels),
            columns=[column] * len(labels),
            messages=messages,
            raw=[json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in raw_rows],
        )
        keep = np.ones(len(self.cases), dtype=bool)
        keep[positions] = False
        quarantine = pd.concat([self.quarantine, new], ignore_index=True)
        quarantine = quarantine.sort_values(s.Q_ROW_NUMBER, kind="stable", ignore_index=True)
        flags = self.flags[~self.flags[s.NOTE_ROW].isin(labels)].reset_index(drop=True)
        return replace(
            self,
            cases=self.cases[keep],
            quarantine=quarantine,
            flags=flags,
            raw_rows=(np.arange(len(keep)) if self.raw_rows is None else self.raw_rows)[keep],
        )

    def flagged(self, flag: Flag) -> pd.Index:
        """Return the labels of kept rows carrying ``flag``."""
        rows = self.flags.loc[self.flags[s.NOTE_CODE] == flag.value, s.NOTE_ROW]
        return pd.Index(rows.unique())
