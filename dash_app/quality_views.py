"""The quality page's table rows and chart, built from :func:`analytics.quality_flags`.

Pure functions of the frame :meth:`dash_app.data.DataService.quality` returns (one row per
unit and Jalali month); unit-tested without a browser.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analytics import quality as q
from ingest import schema as s

from . import i18n
from .figures import FONT, empty_figure
from .i18n import Lang

#: Flag column -> translation key of its series in the chart.
FLAG_SERIES: Final = (
    (q.QUICK_CLOSE_FLAG, "q_quick_flag"),
    (q.MONTH_END_FLAG, "q_month_end_flag"),
)
FLAG_MARK: Final = "⚑"


def _pct(values: pd.Series) -> list[float | None]:
    out: list[float | None] = []
    for value in pd.to_numeric(values, errors="coerce").astype("float64"):
        out.append(None if not np.isfinite(value) else round(float(value) * 100.0, 1))
    return out


def _flag(values: pd.Series) -> list[str]:
    return [FLAG_MARK if bool(v) else "" for v in values.fillna(False)]


def quality_rows(
    flags: pd.DataFrame, lang: Lang
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Return DataTable rows and columns: one row per unit and month, flagged rows first.

    Shares are percentages. The bounce share is blank where the store has no case events
    (the referral history is needed to count referrals).
    """
    columns = [
        {"name": i18n.t("filter_unit", lang), "id": "unit"},
        {"name": i18n.t("month", lang), "id": "month"},
        {"name": i18n.t("q_flags", lang), "id": "flags", "type": "numeric"},
        {"name": i18n.t("kpi_volume", lang), "id": "volume", "type": "numeric"},
        {"name": i18n.t("q_quick_share", lang), "id": "quick", "type": "numeric"},
        {"name": i18n.t("q_quick_flag", lang), "id": "quick_flag"},
        {"name": i18n.t("q_closures", lang), "id": "closures", "type": "numeric"},
        {"name": i18n.t("q_month_end_share", lang), "id": "month_end", "type": "numeric"},
        {"name": i18n.t("q_month_end_ratio", lang), "id": "ratio", "type": "numeric"},
        {"name": i18n.t("q_month_end_flag", lang), "id": "month_end_flag"},
        {"name": i18n.t("q_objected_share", lang), "id": "objected", "type": "numeric"},
        {"name": i18n.t("q_objection_ignored", lang), "id": "ignored", "type": "numeric"},
        {"name": i18n.t("q_reopen_share", lang), "id": "reopened", "type": "numeric"},
        {"name": i18n.t("q_bounced_share", lang), "id": "bounced", "type": "numeric"},
    ]
    if flags.empty:
        return [], columns
    count = sum(flags[c].fillna(False).astype(bool).astype(int) for c, _ in FLAG_SERIES)
    frame = pd.DataFrame(
        {
            "unit": flags[s.UNIT].astype("string").fillna("–").to_numpy(dtype=object),
            "month": [i18n.jalali_period(str(p), lang) for p in flags[q.PERIOD]],
            "flags": np.asarray(count, dtype=np.int64),
            "volume": flags[q.VOLUME].astype("int64").to_numpy(),
            "quick": _pct(flags[q.QUICK_CLOSE_SHARE]),
            "quick_flag": _flag(flags[q.QUICK_CLOSE_FLAG]),
            "closures": flags[q.CLOSURES].astype("int64").to_numpy(),
            "month_end": _pct(flags[q.MONTH_END_SHARE]),
            "ratio": [
                None if not np.isfinite(v) else round(float(v), 2)
                for v in pd.to_numeric(flags[q.MONTH_END_RATIO], errors="coerce").astype("float64")
            ],
            "month_end_flag": _flag(flags[q.MONTH_END_FLAG]),
            "objected": _pct(flags[q.OBJECTION_SHARE]),
            "ignored": flags[q.OBJECTION_IGNORED_N].astype("int64").to_numpy(),
            "reopened": _pct(flags[q.REOPEN_SHARE]),
            "bounced": _pct(flags[q.BOUNCED_SHARE]),
            "_order": np.arange(len(flags)),
        }
    )
    frame = frame.sort_values(["flags", "_order"], ascending=[False, True], kind="stable")
    records = frame.drop(columns=["_order"]).to_dict("records")
    clean = [
        {str(key): (None if isinstance(v, float) and np.isnan(v) else v) for key, v in r.items()}
        for r in records
    ]
    return clean, columns


def quality_note(flags: pd.DataFrame, lang: Lang) -> str:
    """Return the line under the table: the rules, and whether bounces could be counted."""
    events = (
        not flags.empty
        and q.REFERRAL_DATA in flags.columns
        and (flags[q.REFERRAL_DATA] == q.FROM_EVENTS).any()
    )
    key = "q_note_events" if events else "q_note_no_events"
    return f"{i18n.t('q_rules', lang)} {i18n.t(key, lang)}"


def quality_figure(flags: pd.DataFrame, lang: Lang) -> go.Figure:
    """Return a bar chart of each unit's flagged months (quick closes, month-end spikes)."""
    if flags.empty:
        return empty_figure(i18n.t("no_data", lang))
    units = flags[s.UNIT].astype("string").fillna("–")
    fig = go.Figure()
    for column, key in FLAG_SERIES:
        counts = flags[column].fillna(False).astype(bool).groupby(units.to_numpy()).sum()
        fig.add_bar(x=counts.index.astype(str), y=counts.to_numpy(), name=i18n.t(key, lang))
    fig.update_layout(
        title=i18n.t("q_chart_title", lang),
        barmode="group",
        margin={"l": 40, "r": 20, "t": 50, "b": 80},
        font_family=FONT,
        legend={"orientation": "h"},
        yaxis={"title": i18n.t("q_flagged_months", lang), "rangemode": "tozero"},
    )
    return fig
