"""Read a rendered report back, and compare its figures with recomputed ones.

:func:`read_report` extracts the embedded metadata (parameters, chain head) and every
``data-figure`` element; :func:`compare_figures` checks each against the figures recomputed
from the store: the ``data-value`` must equal the recomputed canonical value, and the text a
reader sees must be exactly what :func:`analytics.report.formatting.show_figure` makes of it
(so editing only the visible number is caught too). A figure the report lacks, or one it
states that cannot be recomputed, is a mismatch as well.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Final, Literal

from geo.errors import InputError

from .figures import Figure
from .formatting import show_figure
from .params import REPORT_VERSION, Lang, ReportParams
from .render import META_ID

Status = Literal["match", "value differs", "text differs", "missing from report", "unknown figure"]
MATCH: Final = "match"


@dataclass(frozen=True)
class StatedFigure:
    """One ``data-figure`` element of a report: its key, claimed value and visible text."""

    key: str
    value: str
    text: str


@dataclass(frozen=True)
class ReportDocument:
    """What a report states: its metadata and its figures, in document order."""

    metadata: dict[str, Any]
    figures: list[StatedFigure]

    @property
    def chain_head(self) -> str:
        """The ingest-log head the report was computed at."""
        return str(self.metadata.get("chain_head", ""))

    @property
    def params(self) -> ReportParams:
        """The report's parameters."""
        return ReportParams.from_dict(self.metadata.get("parameters", {}))


@dataclass(frozen=True)
class FigureCheck:
    """The outcome of checking one stated figure (or one the report should have stated)."""

    key: str
    status: Status
    stated: str | None
    expected: str | None
    text: str | None = None
    expected_text: str | None = None

    @property
    def ok(self) -> bool:
        """True when the figure matches."""
        return self.status == MATCH


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[StatedFigure] = []
        self.meta_text: list[str] = []
        self._in_meta = False
        self._open: list[tuple[str, str, list[str], int]] = []  # key, value, text, depth
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("id") == META_ID:
            self._in_meta = True
        self._depth += 1
        if "data-figure" in values:
            key = values.get("data-figure") or ""
            self._open.append((key, values.get("data-value") or "", [], self._depth))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if "data-figure" in values:
            key = values.get("data-figure") or ""
            self.figures.append(StatedFigure(key, values.get("data-value") or "", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_meta = False
        if self._open and self._open[-1][3] == self._depth:
            key, value, text, _ = self._open.pop()
            self.figures.append(StatedFigure(key, value, "".join(text)))
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._in_meta:
            self.meta_text.append(data)
        for _, _, text, _ in self._open:
            text.append(data)


def read_report(text: str) -> ReportDocument:
    """Parse a report's HTML and return its metadata and figures.

    Raises
    ------
    geo.errors.InputError
        The file is not a report made by ``t137 report`` (no embedded metadata), or its
        metadata is not valid JSON.
    """
    collector = _Collector()
    collector.feed(text)
    collector.close()
    raw = "".join(collector.meta_text).strip()
    if not raw:
        msg = (
            f'the file holds no <script id="{META_ID}"> metadata; verify a report written '
            "by `t137 report`."
        )
        raise InputError(msg)
    try:
        metadata = json.loads(raw)
    except json.JSONDecodeError as exc:
        msg = f"the report's embedded metadata is not valid JSON ({exc.msg}); it was altered."
        raise InputError(msg) from None
    if not isinstance(metadata, dict) or metadata.get("version") != REPORT_VERSION:
        msg = (
            f"the report's format version is {metadata.get('version')!r}, this t137 reads "
            f"version {REPORT_VERSION}; verify it with the t137 that made it."
            if isinstance(metadata, dict)
            else "the report's embedded metadata is not an object; it was altered."
        )
        raise InputError(msg)
    return ReportDocument(metadata=metadata, figures=collector.figures)


def compare_figures(
    document: ReportDocument, expected: Sequence[Figure], lang: Lang
) -> list[FigureCheck]:
    """Check every stated figure against the recomputed ones.

    Parameters
    ----------
    document : ReportDocument
        From :func:`read_report`.
    expected : sequence of Figure
        Recomputed by :func:`analytics.report.figures.compute_report` with the report's
        parameters.
    lang : {"fa", "en"}
        The report's language (the visible text is checked in it).

    Returns
    -------
    list of FigureCheck
        One per stated element, then one per recomputed figure the report does not state.
    """
    by_key = {figure.key: figure for figure in expected}
    checks: list[FigureCheck] = []
    seen: set[str] = set()
    for stated in document.figures:
        seen.add(stated.key)
        figure = by_key.get(stated.key)
        if figure is None:
            checks.append(
                FigureCheck(stated.key, "unknown figure", stated.value, None, stated.text)
            )
            continue
        shown = show_figure(figure.key, figure.value, figure.kind, lang)
        if stated.value != figure.value:
            status: Status = "value differs"
        elif stated.text != shown:
            status = "text differs"
        else:
            status = "match"
        checks.append(
            FigureCheck(stated.key, status, stated.value, figure.value, stated.text, shown)
        )
    for figure in expected:
        if figure.key not in seen:
            checks.append(FigureCheck(figure.key, "missing from report", None, figure.value))
    return checks
