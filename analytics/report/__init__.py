"""The monthly manager report: figures, static maps, self-contained HTML and verification.

Make one with :func:`compute_report` then :func:`render_html`; check one with
:func:`read_report` and :func:`compare_figures` (``t137 report`` and ``t137 verify`` do both
with a store). See docs/report.md.
"""

from .document import FigureCheck as FigureCheck
from .document import ReportDocument as ReportDocument
from .document import compare_figures as compare_figures
from .document import read_report as read_report
from .figures import Figure as Figure
from .figures import ReportData as ReportData
from .figures import compute_report as compute_report
from .params import ReportParams as ReportParams
from .params import month_window as month_window
from .render import render_html as render_html
