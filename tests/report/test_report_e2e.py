"""The report in headless Chromium: first A4 page as a PNG artifact, Persian RTL, no overflow.

The driver is set up as the Dash end-to-end tests set it up (the ``pytest_setup_options``
hook of tests/conftest.py: Debian's Chromium, headless, offline), with Debian's chromedriver.
The page is shown with print media at A4 width (210 mm = 794 CSS px) and the page margins of
the report's ``@page`` rule, and the first 297 mm are saved as
``tests/artifacts/report_first_page.png``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from analytics.report.figures import compute_report
from analytics.report.params import ReportParams
from analytics.report.pdf import find_chromium, html_to_pdf
from analytics.report.render import render_html
from geo.store import open_store
from tests.conftest import pytest_setup_options
from tests.report.synthetic_store import MONTH

pytestmark = pytest.mark.e2e

CHROMEDRIVER = "/usr/bin/chromedriver"
A4_PX = (794, 1123)  # 210 x 297 mm at 96 CSS px per inch
SCALE = 1.5
#: The report's @page margins (top, right, bottom, left), applied as padding on screen.
MARGINS = "13mm 12mm 15mm 12mm"


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if shutil.which(CHROMEDRIVER) is None or find_chromium() is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = pytest_setup_options()
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)  # type: ignore[arg-type]
    try:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": A4_PX[0], "height": A4_PX[1], "deviceScaleFactor": SCALE, "mobile": False},
        )
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def report_file(report_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    with open_store(report_store) as store:
        cases, boundaries = store.read_cases(), store.read_boundaries()
        head = store.info().chain_head
    data = compute_report(cases, boundaries, ReportParams(month=MONTH).resolve_as_of())
    path = tmp_path_factory.mktemp("report-e2e") / "report.html"
    path.write_text(render_html(data, chain_head=head, boundaries=boundaries), encoding="utf-8")
    return path


def test_first_page_png(driver: Any, report_file: Path, artifacts_dir: Path) -> None:
    driver.get(report_file.as_uri())
    driver.execute_script(f"document.body.style.padding = '{MARGINS}';")
    state = driver.execute_script(
        "var h = document.querySelector('h1');"
        "var imgs = Array.from(document.images);"
        "return {dir: getComputedStyle(document.documentElement).direction,"
        " h1: h.getBoundingClientRect().width, h1right: h.getBoundingClientRect().right,"
        " scroll: document.documentElement.scrollWidth, width: window.innerWidth,"
        " images: imgs.length, loaded: imgs.every(function (i) {"
        "   return i.complete && i.naturalWidth > 0; }),"
        " font: document.fonts.check('12px DejaVu Sans', 'گزارش')};"
    )
    assert state["dir"] == "rtl"
    assert state["images"] >= 3
    assert state["loaded"], "an embedded map did not decode"
    assert state["scroll"] <= state["width"], "the report is wider than an A4 page"
    assert state["h1"] > 100  # the Persian title is laid out, not empty
    assert state["h1right"] > state["width"] * 0.8  # and starts at the right (RTL)
    assert state["font"], "no installed font covers Persian script"
    out = artifacts_dir / "report_first_page.png"
    assert driver.save_screenshot(str(out))
    with Image.open(out) as image:
        width, height = image.size
        assert abs(width - A4_PX[0] * SCALE) <= 1
        assert abs(height - A4_PX[1] * SCALE) <= 1
        # the page is not blank: a good share of it is ink, not white
        grey = np.asarray(image.convert("L").resize((100, 141)))
        assert (grey < 200).mean() > 0.05


def test_pdf_is_printed(report_file: Path) -> None:
    if find_chromium() is None:
        pytest.skip("no Chromium to print a PDF")
    pdf = html_to_pdf(report_file, report_file.with_suffix(".pdf"))
    head = pdf.read_bytes()[:5]
    assert head == b"%PDF-"
    assert b"/MediaBox [0 0 594.9" in pdf.read_bytes()  # A4 is 595 x 842 points
