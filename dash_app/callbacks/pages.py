"""Map, rankings and trends callbacks."""

from __future__ import annotations

from typing import Any, Final

import dash
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, State, ctx, dcc
from dash.exceptions import PreventUpdate

from ingest import schema as s

from .. import data, figures, i18n, ids, views
from ..state import Filters, kpi_of, overlays_of, rank_kpi_of, sum_kpi_of
from .overview import FILTER_INPUTS

#: Formats whose files carry geometries (area polygons, case points), in EPSG:4326.
GEO_FORMATS: Final = frozenset({"geojson", "geoparquet"})
#: Export format -> file name suffix (GeoParquet is Parquet: tools open it as ``.parquet``).
SUFFIXES: Final = {"csv": "csv", "xlsx": "xlsx", "geojson": "geojson", "geoparquet": "parquet"}


#: ``trend-by`` choices and the read-model column each groups by.
TREND_BY = {"none": None, "category": s.CATEGORY, "area": s.RM_AREA_CODE}


def map_figure(filters: Filters, kpi: str, lang: i18n.Lang, overlays: object = ()) -> go.Figure:
    """Return the choropleth of ``kpi`` for ``filters``, with the chosen ``overlays`` on top.

    The KPIs read from the cases (:data:`dash_app.state.CASE_KPIS`: the Kaplan–Meier median
    time to close and the overdue share) are added to the area table only when chosen
    (:meth:`dash_app.data.DataService.map_table`). ``overlays`` holds kinds of
    :data:`dash_app.data.OVERLAYS` (``clusters``, ``duplicates``); each adds one marker per
    cluster.
    """
    svc = data.service()
    chosen = kpi_of(kpi)
    fig = figures.choropleth(
        svc.map_table(filters, chosen),
        svc.map_layer(filters.level),
        chosen,
        lang,
        tiles_url=svc.settings.map_tiles_url,
    )
    for kind in overlays_of(overlays):
        figures.add_overlay(fig, svc.overlay(filters, kind), kind, lang)
    return fig


def map_view(filters: Filters, kpi: str, lang: i18n.Lang, overlays: object = ()) -> dict[str, Any]:
    """Return :func:`map_figure` as a plain figure dict, cached (staff only).

    Cached by the store version, filters, KPI, language and overlays, so a repeated view
    skips the classification (Fisher-Jenks) and the figure building. The viewer is checked
    before the cache is looked up.
    """
    chosen_kpi, chosen = kpi_of(kpi), overlays_of(overlays)

    def build() -> dict[str, Any]:
        figure: dict[str, Any] = map_figure(filters, chosen_kpi, lang, chosen).to_plotly_json()
        return figure

    return data.service().staff_view("map", (filters, chosen_kpi, lang, chosen), build)


def ranking_table(filters: Filters, kpi: str, lang: i18n.Lang) -> tuple[Any, Any, str]:
    """Return (rows, columns, note) of the rankings table.

    The ranks, their intervals and the minimum-volume rule come from
    :func:`analytics.rank_areas` (:meth:`dash_app.data.DataService.ranking`); the note
    states the rule and the shrinkage.
    """
    svc = data.service()
    chosen = rank_kpi_of(kpi)
    minimum = svc.settings.min_volume
    rows, columns = views.ranking_rows(svc.ranking(filters, chosen), chosen, lang)
    note = f"{i18n.t('min_volume_rule', lang, n=minimum)} {i18n.t('rank_note', lang)}"
    return rows, columns, note


def clicked_code(click: Any) -> str | None:
    """Return the area code of a map ``clickData`` (None when nothing was clicked)."""
    if not isinstance(click, dict):
        return None
    points = click.get("points") or []
    if not points or not isinstance(points[0], dict):
        return None
    location = points[0].get("location")
    return None if location is None else str(location)


def area_detail(click: Any, filters: Filters, lang: i18n.Lang, kpi: object = None) -> Any:
    """Return the detail panel of the clicked area (its KPIs and a link to its cases).

    The read-model KPIs, and the map's KPI ``kpi`` when it is read from the cases (cached
    by the map that was clicked).
    """
    code = clicked_code(click)
    if code is None:
        raise PreventUpdate
    return views.area_detail(data.service().map_table(filters, kpi_of(kpi)), code, lang)


def provenance(filters: Filters) -> dict[str, str]:
    """Return the notes every download carries: the store's ingest-log head and the filters."""
    head = data.service().chain_head()
    query = "&".join(f"{k}={v}" for k, v in sorted(filters.to_query().items()))
    return {"chain_head": head.run_hash, "ingest_run": str(head.seq), "filters": query}


def file_name(stem: str, fmt: str) -> str:
    """Return the download's file name: ``stem`` and the suffix of ``fmt``."""
    return f"{stem}.{SUFFIXES.get(fmt, fmt)}"


def send(content: bytes, name: str) -> dict[str, Any]:
    """Return the ``dcc.Download`` payload of a file."""
    return dcc.send_bytes(content, name)  # type: ignore[attr-defined,no-untyped-call,no-any-return]


def ranking_download(
    filters: Filters, kpi: str, lang: i18n.Lang, fmt: str = "xlsx"
) -> dict[str, Any]:
    """Return the ``dcc.Download`` payload of the ranking table in ``fmt``.

    CSV (UTF-8 with BOM) and Excel carry the shown column names; GeoJSON and GeoParquet
    carry the columns' ids (``rank``, ``name``, ``estimate`` …) and each area's polygon in
    EPSG:4326 (the map's polygons, :meth:`dash_app.data.DataService.area_polygons`). Every
    file carries the ingest-log head it was computed from
    (:func:`analytics.exports.export_bytes`).
    """
    from analytics.exports import export_bytes

    rows, columns, _ = ranking_table(filters, kpi, lang)
    notes = provenance(filters)
    frame: pd.DataFrame
    if fmt in GEO_FORMATS:
        svc = data.service()
        frame = views.ranking_geo_frame(
            rows, columns, svc.area_polygons(svc.shown_level(filters.level))
        )
        notes["crs"] = "EPSG:4326"
    else:
        frame = views.table_frame(rows, columns)
    content = export_bytes(frame, fmt, provenance=notes)
    return send(content, file_name(f"ranking-{rank_kpi_of(kpi)}-{filters.level}", fmt))


def hotspot_outputs(filters: Filters, lang: i18n.Lang) -> tuple[Any, ...]:
    """Return (map, table rows, table columns) of the Gi* hotspots under ``filters``."""
    svc = data.service()
    hot = svc.hotspots(filters)
    rows, columns = views.hotspot_rows(hot, lang)
    return figures.hotspot_map(hot, svc.map_layer(s.LEVEL_NEIGHBORHOOD), lang), rows, columns


def trend_figure(filters: Filters, kpi: str, by: str | None, lang: i18n.Lang) -> go.Figure:
    """Return the monthly trend of ``kpi``, split by category or area when asked."""
    column = TREND_BY.get(by or "none")
    monthly = data.service().monthly(filters, column)
    return figures.kpi_trend(monthly, sum_kpi_of(kpi), lang, column)


def register(app: dash.Dash) -> None:
    """Register the map, rankings and trends callbacks."""

    @app.callback(
        Output(ids.MAP_GRAPH, "figure"),
        *FILTER_INPUTS,
        Input(ids.MAP_KPI, "value"),
        Input(ids.MAP_OVERLAY, "value"),
        State(ids.F_LANG, "data"),
    )
    def _map(*values: Any) -> dict[str, Any]:
        *inputs, kpi, overlay, lang = values
        return map_view(Filters.from_inputs(*inputs), kpi, i18n.lang_of(lang), overlay)

    @app.callback(
        Output(ids.MAP_DETAIL, "children"),
        Input(ids.MAP_GRAPH, "clickData"),
        *(State(i, "value") for i in ids.FILTERS),
        State(ids.MAP_KPI, "value"),
        State(ids.F_LANG, "data"),
        prevent_initial_call=True,
    )
    def _map_click(click: Any, *values: Any) -> Any:
        *inputs, kpi, lang = values
        return area_detail(click, Filters.from_inputs(*inputs), i18n.lang_of(lang), kpi)

    @app.callback(
        Output(ids.RANK_DOWNLOAD, "data"),
        *(Input(button, "n_clicks") for button in ids.RANK_DOWNLOADS),
        *(State(i, "value") for i in ids.FILTERS),
        State(ids.RANK_KPI, "value"),
        State(ids.F_LANG, "data"),
        prevent_initial_call=True,
    )
    def _download(*values: Any) -> Any:
        *inputs, kpi, lang = values[len(ids.RANK_DOWNLOADS) :]
        fmt = ids.RANK_DOWNLOADS.get(str(ctx.triggered_id))
        if fmt is None:
            raise PreventUpdate
        return ranking_download(Filters.from_inputs(*inputs), kpi, i18n.lang_of(lang), fmt)

    @app.callback(
        Output(ids.RANK_TABLE, "data"),
        Output(ids.RANK_TABLE, "columns"),
        Output(ids.RANK_NOTE, "children"),
        *FILTER_INPUTS,
        Input(ids.RANK_KPI, "value"),
        State(ids.F_LANG, "data"),
    )
    def _rankings(*values: Any) -> tuple[Any, Any, str]:
        *inputs, kpi, lang = values
        return ranking_table(Filters.from_inputs(*inputs), kpi, i18n.lang_of(lang))

    @app.callback(
        Output(ids.HOT_GRAPH, "figure"),
        Output(ids.HOT_TABLE, "data"),
        Output(ids.HOT_TABLE, "columns"),
        *FILTER_INPUTS,
        State(ids.F_LANG, "data"),
    )
    def _hotspots(*values: Any) -> tuple[Any, ...]:
        *inputs, lang = values
        return hotspot_outputs(Filters.from_inputs(*inputs), i18n.lang_of(lang))

    @app.callback(
        Output(ids.TREND_GRAPH, "figure"),
        *FILTER_INPUTS,
        Input(ids.TREND_KPI, "value"),
        Input(ids.TREND_BY, "value"),
        State(ids.F_LANG, "data"),
    )
    def _trends(*values: Any) -> go.Figure:
        *inputs, kpi, by, lang = values
        return trend_figure(Filters.from_inputs(*inputs), kpi, by, i18n.lang_of(lang))
