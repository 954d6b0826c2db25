"""Column names and categorical vocabularies of the canonical tables (DESIGN.md §3).

Every module imports column names from here; nothing spells them as string literals.
This module imports nothing from the project, so any package may depend on it.
"""

from __future__ import annotations

from typing import Final

# --- cases --------------------------------------------------------------------------------
CASE_ID: Final = "case_id"
SOURCE: Final = "source"
CHANNEL: Final = "channel"
KIND: Final = "kind"
CATEGORY: Final = "category"
SUBCATEGORY: Final = "subcategory"
DESCRIPTION: Final = "description"
UNIT: Final = "unit"
CREATED_AT: Final = "created_at"
REFERRED_AT: Final = "referred_at"
FIRST_RESPONSE_AT: Final = "first_response_at"
CLOSED_AT: Final = "closed_at"
DUE_AT: Final = "due_at"
STATUS: Final = "status"
CITIZEN_FEEDBACK: Final = "citizen_feedback"
SATISFACTION: Final = "satisfaction"
REOPEN_COUNT: Final = "reopen_count"
CITIZEN_KEY: Final = "citizen_key"
LON: Final = "lon"
LAT: Final = "lat"
ADDRESS: Final = "address"
GEOCODE_PRECISION: Final = "geocode_precision"
NEIGHBORHOOD_CODE: Final = "neighborhood_code"
DISTRICT_CODE: Final = "district_code"
REGION_CODE: Final = "region_code"
DUPLICATE_OF: Final = "duplicate_of"
GEOMETRY: Final = "geometry"

TIMESTAMP_COLUMNS: Final = (CREATED_AT, REFERRED_AT, FIRST_RESPONSE_AT, CLOSED_AT, DUE_AT)
CATEGORICAL_COLUMNS: Final = (
    CHANNEL,
    KIND,
    CATEGORY,
    SUBCATEGORY,
    UNIT,
    STATUS,
    CITIZEN_FEEDBACK,
    GEOCODE_PRECISION,
    NEIGHBORHOOD_CODE,
    DISTRICT_CODE,
    REGION_CODE,
)
#: The source's own status text, kept beside the mapped ``status`` (stored, never mapped).
STATUS_RAW: Final = "status_raw"
STRING_COLUMNS: Final = (
    CASE_ID,
    SOURCE,
    DESCRIPTION,
    CITIZEN_KEY,
    ADDRESS,
    DUPLICATE_OF,
    STATUS_RAW,
)
FLOAT_COLUMNS: Final = (LON, LAT)

#: Columns of the canonical case table, in storage order.
CASE_COLUMNS: Final = (
    CASE_ID,
    SOURCE,
    CHANNEL,
    KIND,
    CATEGORY,
    SUBCATEGORY,
    DESCRIPTION,
    UNIT,
    CREATED_AT,
    REFERRED_AT,
    FIRST_RESPONSE_AT,
    CLOSED_AT,
    DUE_AT,
    STATUS,
    STATUS_RAW,
    CITIZEN_FEEDBACK,
    SATISFACTION,
    REOPEN_COUNT,
    CITIZEN_KEY,
    LON,
    LAT,
    ADDRESS,
    GEOCODE_PRECISION,
    NEIGHBORHOOD_CODE,
    DISTRICT_CODE,
    REGION_CODE,
    DUPLICATE_OF,
)
#: The natural key of a case: ids are unique per source only.
CASE_KEY: Final = (SOURCE, CASE_ID)
#: Columns that must be present and non-null in every stored case.
REQUIRED_CASE_COLUMNS: Final = (CASE_ID, SOURCE, KIND, CREATED_AT, STATUS)

# --- vocabularies ---------------------------------------------------------------------------
CHANNELS: Final = ("phone", "web", "app", "sms", "social", "in_person", "unknown")
KINDS: Final = (
    "complaint",
    "request",
    "suggestion",
    "idea",
    "plan",
    "appreciation",
    "criticism",
    "question",
)
STATUSES: Final = (
    "registered",
    "referred",
    "in_progress",
    "answered",
    "closed",
    "reopened",
    "rejected",
    "duplicate",
)
#: Statuses after which a case no longer counts in the open backlog.
TERMINAL_STATUSES: Final = ("closed", "rejected", "duplicate")
FEEDBACKS: Final = ("accepted", "objected", "none")
GEOCODE_PRECISIONS: Final = (
    "point",
    "snapped",
    "swapped",
    "address",
    "neighborhood",
    "region",
    "none",
)

# --- case events --------------------------------------------------------------------------
EVENT_AT: Final = "at"
EVENT: Final = "event"
EVENT_UNIT: Final = "unit"
EVENT_NOTE: Final = "note"
EVENT_COLUMNS: Final = (SOURCE, CASE_ID, EVENT_AT, EVENT, EVENT_UNIT, EVENT_NOTE)

# --- boundaries ---------------------------------------------------------------------------
LEVEL: Final = "level"
CODE: Final = "code"
NAME_FA: Final = "name_fa"
NAME_EN: Final = "name_en"
PARENT_CODE: Final = "parent_code"
POPULATION: Final = "population"
LEVEL_REGION: Final = "region"
LEVEL_DISTRICT: Final = "district"
LEVEL_NEIGHBORHOOD: Final = "neighborhood"
#: Levels from the coarsest to the finest. A city may lack any but the finest.
LEVELS: Final = (LEVEL_REGION, LEVEL_DISTRICT, LEVEL_NEIGHBORHOOD)
#: The case column that holds the code of each level.
LEVEL_CODE_COLUMN: Final = {
    LEVEL_REGION: REGION_CODE,
    LEVEL_DISTRICT: DISTRICT_CODE,
    LEVEL_NEIGHBORHOOD: NEIGHBORHOOD_CODE,
}
BOUNDARY_COLUMNS: Final = (LEVEL, CODE, NAME_FA, NAME_EN, PARENT_CODE, POPULATION, GEOMETRY)

# --- quarantine ---------------------------------------------------------------------------
Q_SOURCE_FILE: Final = "source_file"
Q_ROW_NUMBER: Final = "row_number"
Q_RAW: Final = "raw"
Q_REASON: Final = "reason"
Q_COLUMN: Final = "column"
Q_MESSAGE: Final = "message"
Q_RUN_ID: Final = "run_id"
QUARANTINE_COLUMNS: Final = (
    Q_RUN_ID,
    Q_SOURCE_FILE,
    Q_ROW_NUMBER,
    Q_RAW,
    Q_REASON,
    Q_COLUMN,
    Q_MESSAGE,
)
# Row notes: problems a reader found in a row (validation turns them into quarantine records)
# and flags on rows that are kept. ``row`` is the row's label in the reader's frame index.
NOTE_ROW: Final = "row"
NOTE_CODE: Final = "code"
NOTE_COLUMN: Final = "column"
NOTE_DETAIL: Final = "detail"
NOTE_COLUMNS: Final = (NOTE_ROW, NOTE_CODE, NOTE_COLUMN, NOTE_DETAIL)

# --- ingest runs (the hash-chained log of every ingest) -------------------------------------
RUN_SEQ: Final = "seq"
RUN_ID: Final = Q_RUN_ID
RUN_SOURCE: Final = "source"
RUN_INPUT_SHA256: Final = "input_sha256"
RUN_STARTED_AT: Final = "started_at"
RUN_FINISHED_AT: Final = "finished_at"
RUN_ROWS_READ: Final = "rows_read"
RUN_INSERTED: Final = "inserted"
RUN_UPDATED: Final = "updated"
RUN_UNCHANGED: Final = "unchanged"
RUN_QUARANTINED: Final = "quarantined"
RUN_PREVIOUS_HASH: Final = "previous_hash"
RUN_HASH: Final = "run_hash"
RUN_COLUMNS: Final = (
    RUN_SEQ,
    RUN_ID,
    RUN_SOURCE,
    RUN_INPUT_SHA256,
    RUN_STARTED_AT,
    RUN_FINISHED_AT,
    RUN_ROWS_READ,
    RUN_INSERTED,
    RUN_UPDATED,
    RUN_UNCHANGED,
    RUN_QUARANTINED,
    RUN_PREVIOUS_HASH,
    RUN_HASH,
)

# --- read model (aggregates the dashboard reads; geo.store.read_model) ----------------------
RM_LEVEL: Final = LEVEL
RM_AREA_CODE: Final = "area_code"
#: Local calendar date (Asia/Tehran) of ``created_at``.
RM_DAY: Final = "day"
RM_CASES: Final = "cases"
RM_OPEN: Final = "open_cases"
RM_FIRST_RESPONSE_COUNT: Final = "first_response_count"
RM_FIRST_RESPONSE_SECONDS: Final = "first_response_seconds_sum"
RM_CLOSED_COUNT: Final = "closed_count"
RM_CLOSE_SECONDS: Final = "close_seconds_sum"
RM_DUE_CLOSED_COUNT: Final = "closed_with_due_count"
RM_ON_TIME_COUNT: Final = "closed_on_time_count"
RM_SATISFACTION_COUNT: Final = "satisfaction_count"
RM_SATISFACTION_SUM: Final = "satisfaction_sum"
RM_OBJECTED_COUNT: Final = "objected_count"
RM_ACCEPTED_COUNT: Final = "accepted_count"
RM_REOPENED_COUNT: Final = "reopened_count"
RM_REOPEN_SUM: Final = "reopen_sum"
READ_MODEL_KEYS: Final = (
    SOURCE,
    RM_LEVEL,
    RM_AREA_CODE,
    RM_DAY,
    CATEGORY,
    KIND,
    CHANNEL,
    UNIT,
    STATUS,
)
READ_MODEL_MEASURES: Final = (
    RM_CASES,
    RM_OPEN,
    RM_FIRST_RESPONSE_COUNT,
    RM_FIRST_RESPONSE_SECONDS,
    RM_CLOSED_COUNT,
    RM_CLOSE_SECONDS,
    RM_DUE_CLOSED_COUNT,
    RM_ON_TIME_COUNT,
    RM_SATISFACTION_COUNT,
    RM_SATISFACTION_SUM,
    RM_OBJECTED_COUNT,
    RM_ACCEPTED_COUNT,
    RM_REOPENED_COUNT,
    RM_REOPEN_SUM,
)
READ_MODEL_COLUMNS: Final = (*READ_MODEL_KEYS, *READ_MODEL_MEASURES)
