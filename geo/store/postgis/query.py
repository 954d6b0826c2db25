"""Translate a :class:`geo.store.filters.CaseFilter` into a SQL ``WHERE`` clause.

Every value travels as a bound parameter; the semantics are those of
:meth:`CaseFilter.mask` (the pandas reference): ``start <= created_at < end``, set fields
match one of the values (a missing value never matches, an empty set matches nothing),
and the bounding box includes its bounds and never matches a case without a point.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from ingest import schema as s

from ..filters import CaseFilter
from .models import SRID


def where_clauses(table: sa.Table, case_filter: CaseFilter) -> list[ColumnElement[bool]]:
    """Return the conditions of ``case_filter`` on the cases ``table``.

    Parameters
    ----------
    table : sqlalchemy.Table
        The ``cases`` table (or any selectable with its columns).
    case_filter : geo.store.filters.CaseFilter
        The filter to push down.

    Returns
    -------
    list of sqlalchemy column expressions
        Conditions to combine with ``AND``; empty when the filter is empty.
    """
    columns = table.c
    clauses: list[ColumnElement[bool]] = []
    if case_filter.start_utc is not None:
        clauses.append(columns[s.CREATED_AT] >= case_filter.start_utc.to_pydatetime())
    if case_filter.end_utc is not None:
        clauses.append(columns[s.CREATED_AT] < case_filter.end_utc.to_pydatetime())
    for column, allowed in case_filter.column_sets().items():
        clauses.append(columns[column].in_(sorted(allowed)))
    if case_filter.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = case_filter.bbox
        envelope = sa.func.ST_MakeEnvelope(min_lon, min_lat, max_lon, max_lat, SRID)
        clauses.append(sa.func.ST_Intersects(columns[s.GEOMETRY], envelope))
    return clauses
