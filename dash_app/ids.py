"""Every component id of the app, in one place (pages and callbacks import them from here)."""

from __future__ import annotations

from typing import Final

# --- shell -----------------------------------------------------------------------------------
URL: Final = "url"
SHELL: Final = "shell"
TITLE: Final = "app-title"
NAV: Final = "nav"
LANG_LINK: Final = "lang-link"
LOGIN_LINK: Final = "login-link"

# --- shared manager filters -----------------------------------------------------------------
F_START: Final = "filter-start"
F_END: Final = "filter-end"
F_CATEGORY: Final = "filter-category"
F_KIND: Final = "filter-kind"
F_CHANNEL: Final = "filter-channel"
F_UNIT: Final = "filter-unit"
F_LEVEL: Final = "filter-level"
F_SUBCATEGORY: Final = "filter-subcategory"
F_LANG: Final = "filter-lang"
#: Filter inputs in the order of :meth:`dash_app.state.Filters.from_inputs` (the
#: subcategory was added last, so older positional callers keep working).
FILTERS: Final = (F_START, F_END, F_CATEGORY, F_KIND, F_CHANNEL, F_UNIT, F_LEVEL, F_SUBCATEGORY)

# --- overview --------------------------------------------------------------------------------
OV_KPIS: Final = "overview-kpis"
OV_TREND: Final = "overview-trend"
OV_CATEGORIES: Final = "overview-categories"
OV_MEDIAN: Final = "overview-median"

# --- map ----------------------------------------------------------------------------------------
MAP_KPI: Final = "map-kpi"
MAP_GRAPH: Final = "map-graph"
MAP_DETAIL: Final = "map-detail"
MAP_OVERLAY: Final = "map-overlay"
MAP_OVERLAY_NOTE: Final = "map-overlay-note"


# --- rankings ---------------------------------------------------------------------------------
RANK_KPI: Final = "rank-kpi"
RANK_TABLE: Final = "rank-table"
RANK_NOTE: Final = "rank-note"
RANK_EXCEL: Final = "rank-excel"
RANK_DOWNLOAD: Final = "rank-download"
RANK_CSV: Final = "rank-csv"
RANK_GEOJSON: Final = "rank-geojson"
RANK_GEOPARQUET: Final = "rank-geoparquet"

# --- trends -------------------------------------------------------------------------------------
TREND_KPI: Final = "trend-kpi"
TREND_BY: Final = "trend-by"
TREND_GRAPH: Final = "trend-graph"

# --- hotspots -------------------------------------------------------------------------------
HOT_GRAPH: Final = "hotspot-graph"
HOT_TABLE: Final = "hotspot-table"
SYNC_HOTSPOTS: Final = "sync-hotspots"

# --- public -------------------------------------------------------------------------------------
PUB_LEVEL: Final = "public-level"
PUB_KPI: Final = "public-kpi"
PUB_GRAPH: Final = "public-graph"
PUB_MAP: Final = "public-map"
PUB_TABLE: Final = "public-table"
PUB_CHAIN: Final = "public-chain"

# --- cases ----------------------------------------------------------------------------------
CASES_AREA: Final = "cases-area"
CASES_TABLE: Final = "cases-table"
CASES_COUNT: Final = "cases-count"
CASES_CSV: Final = "cases-csv"
CASES_EXCEL: Final = "cases-excel"
CASES_DOWNLOAD: Final = "cases-download"
CASES_GEOJSON: Final = "cases-geojson"
CASES_GEOPARQUET: Final = "cases-geoparquet"
#: Download buttons -> export format (of :func:`analytics.exports.export_bytes`).
RANK_DOWNLOADS: Final = {
    RANK_CSV: "csv",
    RANK_EXCEL: "xlsx",
    RANK_GEOJSON: "geojson",
    RANK_GEOPARQUET: "geoparquet",
}
CASES_DOWNLOADS: Final = {
    CASES_CSV: "csv",
    CASES_EXCEL: "xlsx",
    CASES_GEOJSON: "geojson",
    CASES_GEOPARQUET: "geoparquet",
}

# --- quality --------------------------------------------------------------------------------
QUALITY_VIEW: Final = "quality-view"
QUALITY_GRAPH: Final = "quality-graph"
QUALITY_TABLE: Final = "quality-table"
QUALITY_NOTE: Final = "quality-note"
SYNC_QUALITY: Final = "sync-quality"

# --- URL state (clientside callbacks write the filters into the query) ---------------------
SYNC_OVERVIEW: Final = "sync-overview"
SYNC_MAP: Final = "sync-map"
SYNC_RANKINGS: Final = "sync-rankings"
SYNC_TRENDS: Final = "sync-trends"
SYNC_CASES: Final = "sync-cases"
SYNC_PUBLIC: Final = "sync-public"

#: Outputs only staff may receive: the callback guard refuses them to anonymous visitors.
STAFF_OUTPUTS: Final = frozenset(
    {
        OV_KPIS,
        OV_TREND,
        OV_CATEGORIES,
        OV_MEDIAN,
        MAP_GRAPH,
        MAP_DETAIL,
        RANK_TABLE,
        RANK_DOWNLOAD,
        RANK_NOTE,
        TREND_GRAPH,
        HOT_GRAPH,
        HOT_TABLE,
        CASES_TABLE,
        CASES_COUNT,
        CASES_DOWNLOAD,
        QUALITY_GRAPH,
        QUALITY_TABLE,
        QUALITY_NOTE,
        F_SUBCATEGORY,
    }
)
