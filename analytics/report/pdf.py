"""Optional PDF output of the report through a headless Chromium, when one is installed.

PDF is never required: :func:`find_chromium` returns None when no browser is found and the
caller keeps the HTML.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Final

from geo.errors import T137Error

#: Browser executables tried, in order.
CHROMIUM_NAMES: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S: Final = 120


class PdfError(T137Error, RuntimeError):
    """The browser could not print the report."""


def find_chromium() -> str | None:
    """Return the path of a Chromium-family browser, or None."""
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html_path: Path, pdf_path: Path, *, browser: str | None = None) -> Path:
    """Print ``html_path`` to ``pdf_path`` (A4, as the report's ``@page`` rule says).

    Parameters
    ----------
    html_path : pathlib.Path
        The self-contained report.
    pdf_path : pathlib.Path
        Where the PDF goes.
    browser : str, optional
        The browser executable; :func:`find_chromium` by default.

    Raises
    ------
    PdfError
        No browser was found, or it failed or timed out.
    """
    executable = browser or find_chromium()
    if executable is None:
        msg = "no Chromium was found to print the PDF; install chromium or open the HTML and print."
        raise PdfError(msg)
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    command = [
        executable,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--no-pdf-header-footer",
        f"--print-to-pdf={pdf_path.resolve()}",
        html_path.resolve().as_uri(),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        msg = f"{executable} could not print {html_path.name} to PDF ({exc})."
        raise PdfError(msg) from None
    if done.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        msg = f"{executable} failed to print {html_path.name} to PDF: {tail[0]}"
        raise PdfError(msg)
    return pdf_path
