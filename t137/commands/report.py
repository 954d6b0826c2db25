"""``t137 report``: the monthly manager report as one self-contained HTML file (and PDF).

The figures are computed by :func:`analytics.report.compute_report` from the store's cases
as of its ingest-log head, which the report embeds with its parameters so that
``t137 verify`` can recompute every figure (see docs/report.md).
"""

from __future__ import annotations

import os
import tempfile
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import geopandas as gpd
import pandas as pd
import typer

from analytics.report.figures import ReportData, compute_report
from analytics.report.params import ReportParams
from analytics.report.pdf import PdfError, html_to_pdf
from analytics.report.render import render_html
from geo.store import CaseFilter, open_store
from geo.store.chain import verify_chain

from ..options import AsJson, StoreUrl, store_url
from ..output import clear_errors, emit


class Language(StrEnum):
    """Language of the report."""

    FA = "fa"
    EN = "en"


def read_inputs(
    url: str, params: ReportParams
) -> tuple[pd.DataFrame, gpd.GeoDataFrame, pd.DataFrame, str, str]:
    """Return (cases, boundaries, events, chain head, shown url) for a report's parameters.

    The cases are those created before the month's end (in the region when one is set);
    the chain is checked from the first run to the head. ``t137 verify`` reads the same.
    """
    _, end = params.window
    window = CaseFilter(end=end, regions=None if params.region is None else [str(params.region)])
    with open_store(url) as store:
        head = verify_chain(store.read_runs())
        cases = store.read_cases(window)
        boundaries = store.read_boundaries()
        events = store.read_events(window)
        shown = store.url
    return cases, boundaries, events, head, shown


def build_report(url: str, params: ReportParams) -> tuple[ReportData, gpd.GeoDataFrame, str, str]:
    """Compute a report's figures from the store; return (data, boundaries, head, url)."""
    cases, boundaries, events, head, shown = read_inputs(url, params)
    data = compute_report(cases, boundaries, params, events)
    return data, boundaries, head, shown


def _write_text(out: Path, text: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=out.suffix, dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        Path(temporary).chmod(0o644)  # a report is for reading, not a private temp file
        Path(temporary).replace(out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return out


def report(
    month: Annotated[str, typer.Option("--month", help="Jalali month, such as 1403-07.")],
    out: Annotated[Path, typer.Option("--out", help="The HTML file to write.")],
    region: Annotated[
        str | None, typer.Option("--region", help="Only this region (its code).")
    ] = None,
    lang: Annotated[
        Language, typer.Option("--lang", help="fa (Persian, RTL) or en.")
    ] = Language.FA,
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print a PDF next to the HTML (needs Chromium).")
    ] = False,
    store: StoreUrl = None,
    as_json: AsJson = False,
) -> None:
    """Write the monthly manager report: KPIs, maps, ranking, hotspots, data quality."""
    with clear_errors():
        params = ReportParams(month=month, region=region, lang=lang.value).resolve_as_of()
        data, boundaries, head, url = build_report(store_url(store), params)
        text = render_html(data, chain_head=head, boundaries=boundaries)
        written = _write_text(out, text)
    pdf_path: Path | None = None
    pdf_note = None
    if pdf:
        try:
            pdf_path = html_to_pdf(written, written.with_suffix(".pdf"))
        except PdfError as exc:
            pdf_note = str(exc)
            typer.echo(f"warning: {exc} The HTML was written.", err=True)
    summary: dict[str, Any] = {
        "store": url,
        "month": params.month,
        "region": params.region,
        "lang": params.lang,
        "as_of": params.as_of,
        "chain_head": head,
        "cases": data.n_cases,
        "figures": len(data.figures),
        "out": str(written),
        "bytes": written.stat().st_size,
        "pdf": None if pdf_path is None else str(pdf_path),
        "pdf_error": pdf_note,
    }
    scope = "the city" if params.region is None else f"region {params.region}"
    human = (
        f"Report of {params.month} for {scope} ({data.n_cases} cases, {len(data.figures)} "
        f"figures, chain head {head[:12]}…) written to {written}"
        + (f" and {pdf_path}" if pdf_path is not None else "")
        + "."
    )
    emit(summary, as_json=as_json, human=human)
