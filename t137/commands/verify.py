"""``t137 verify``: recompute every figure of a report from the store and compare.

Three checks, all of which must pass (exit code 0; 1 on any mismatch; 2 on an error):

1. the store's ingest-run log is an unbroken hash chain from the first run to its head;
2. the store's head is the head the report was computed at. The store does not keep the
   cases as they were at an earlier head, so a store that changed after the report (a later
   ingest run) is a head mismatch; its figures are still recomputed and listed;
3. every figure the report states equals the figure recomputed from the store's cases with
   the report's parameters, both its ``data-value`` and the text a reader sees, and no
   figure is missing.

A case edited in the store without an ingest run leaves the head unchanged but changes the
figures it counts in, and is caught by check 3.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from analytics.report.document import FigureCheck, compare_figures, read_report
from geo.store import open_store
from geo.store.chain import ChainError, verify_chain
from ingest import schema as s

from ..options import AsJson, StoreUrl, store_url
from ..output import clear_errors, emit
from .report import build_report

#: Exit code when the report does not verify.
MISMATCH_EXIT = 1


def _chain(url: str, stated: str) -> dict[str, Any]:
    """Check the chain and locate the report's head in it."""
    with open_store(url) as store:
        runs = store.read_runs()
        shown = store.url
    out: dict[str, Any] = {"store": shown, "runs": len(runs), "report_head": stated}
    try:
        head = verify_chain(runs)
    except ChainError as exc:
        out.update(chain_ok=False, chain_error=str(exc), store_head=None, head_ok=False)
        out["head_status"] = "chain broken"
        return out
    out.update(chain_ok=True, chain_error=None, store_head=head)
    if head == stated:
        out.update(head_ok=True, head_status="same head", later_runs=0)
        return out
    hashes = [str(h) for h in runs[s.RUN_HASH]] if len(runs) else []
    if stated in hashes:
        later = len(hashes) - 1 - hashes.index(stated)
        out.update(
            head_ok=False,
            head_status=f"store changed after the report: {later} later ingest run(s)",
            later_runs=later,
        )
    else:
        out.update(
            head_ok=False,
            head_status="the report's head is not in the store's chain",
            later_runs=None,
        )
    return out


def _check_record(check: FigureCheck) -> dict[str, Any]:
    return {
        "key": check.key,
        "status": check.status,
        "stated": check.stated,
        "expected": check.expected,
        "text": check.text,
        "expected_text": check.expected_text,
    }


def _human(summary: dict[str, Any], checks: list[FigureCheck], show_all: bool) -> str:
    chain = summary["chain"]
    lines = [f"Report {summary['report']} ({summary['month']}) against {chain['store']}:"]
    if chain["chain_ok"]:
        lines.append(f"  chain: OK, {chain['runs']} ingest run(s), head {chain['store_head']}")
    else:
        lines.append(f"  chain: BROKEN: {chain['chain_error']}")
    mark = "OK" if chain["head_ok"] else "MISMATCH"
    lines.append(f"  head: {mark} ({chain['head_status']}); report head {chain['report_head']}")
    figures = summary["figures"]
    lines.append(
        f"  figures: {figures['matched']} of {figures['checked']} match, "
        f"{figures['mismatched']} do not"
    )
    by_section = Counter(check.key.split(".")[0] for check in checks if check.ok)
    lines.append(
        "  matching by section: " + ", ".join(f"{k} {n}" for k, n in sorted(by_section.items()))
    )
    for check in checks:
        if check.ok and not show_all:
            continue
        if check.ok:
            lines.append(f"  match      {check.key} = {check.expected}")
        elif check.status == "text differs":
            lines.append(
                f"  MISMATCH   {check.key}: shows {check.text!r}, its value "
                f"{check.expected} reads {check.expected_text!r}"
            )
        else:
            lines.append(
                f"  MISMATCH   {check.key}: {check.status}; report {check.stated!r}, "
                f"store {check.expected!r}"
            )
    lines.append("VERIFIED" if summary["verified"] else "NOT VERIFIED")
    return "\n".join(lines)


def verify(
    report_file: Annotated[Path, typer.Argument(help="The report HTML written by t137 report.")],
    store: StoreUrl = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every matching figure too.")
    ] = False,
    as_json: AsJson = False,
) -> None:
    """Check a report: the ingest chain, its head, and every figure recomputed from the store."""
    with clear_errors():
        document = read_report(report_file.read_text(encoding="utf-8"))
        params = document.params
        url = store_url(store)
        chain = _chain(url, document.chain_head)
        data, _, _, _ = build_report(url, params) if chain["chain_ok"] else (None, None, None, None)
        checks = [] if data is None else compare_figures(document, data.figures, params.lang)
    bad = [check for check in checks if not check.ok]
    verified = bool(chain["chain_ok"] and chain["head_ok"] and checks and not bad)
    summary: dict[str, Any] = {
        "report": str(report_file),
        "month": params.month,
        "region": params.region,
        "lang": params.lang,
        "as_of": params.as_of,
        "checked_at": pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "chain": chain,
        "figures": {
            "checked": len(checks),
            "matched": len(checks) - len(bad),
            "mismatched": len(bad),
            "mismatches": [_check_record(check) for check in bad],
        },
        "verified": verified,
    }
    if show_all:
        summary["figures"]["matches"] = [_check_record(c) for c in checks if c.ok]
    emit(summary, as_json=as_json, human=_human(summary, checks, show_all))
    if not verified:
        raise typer.Exit(code=MISMATCH_EXIT)
