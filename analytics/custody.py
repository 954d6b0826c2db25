"""Referral custody from case events: who held each case, for how long, and where it bounced.

The ``case_events`` table (:data:`ingest.schema.EVENT_COLUMNS`: ``source``, ``case_id``,
``at``, ``event``, ``unit``, ``note``) records a case's history when a source provides it.
:func:`referral_custody` reads it with these rules:

custodian
    A case is held by the unit of its latest event that names a unit (a referral, but also
    an answer given by a unit). Before any event names a unit the case is *unheld*.
closed time
    A close event (:data:`CLOSE_EVENTS`: closed, rejected, duplicate) ends the hold; the case
    is closed, held by nobody, until a reopen or referral event (:data:`REOPEN_EVENTS`,
    :data:`REFERRAL_EVENTS`) opens it again. Other events (an answer, a citizen's feedback)
    leave a closed case closed.
time held
    The time from each event to the next event of the case is credited to the custodian
    after the first of the two (or to "closed" or "unheld"), so per case
    ``held_h + closed_h + unheld_h = span_h``, the time from its first to its last event.
    With ``as_of``, a case still open after its last event is also held until ``as_of``.
transfer
    Consecutive holds of a case by different units (a closed spell between them does not
    matter: closed by A and reopened to B is a transfer A → B).
ping-pong
    A return to the unit that handed the case on: positions ``i`` of the case's chain of
    units (consecutive repeats merged) with ``unit[i] == unit[i + 2]``, as in A → B → A.
    A → B → A → B counts two.
referrals
    Referral events that name a unit other than the custodian just before them (a
    re-referral to the same unit is not counted); the first referral counts.
reopens
    Reopen or referral events that find the case closed.

Event names are compared in lower case with surrounding spaces removed. Events at the same
instant keep their order in the input. Everything is computed with sorts and cumulative
maxima over the events, not a Python loop per case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analytics.periods import utc_ns
from geo.errors import InputError
from ingest import schema as s

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Events that refer a case to a unit (a referral also reopens a closed case).
REFERRAL_EVENTS: Final = (
    "referred",
    "referral",
    "refer",
    "transferred",
    "reassigned",
    "ارجاع",
    "ارجاع شده",
)
#: Events that end a case's hold.
CLOSE_EVENTS: Final = ("closed", "close", "rejected", "duplicate", "بسته شده", "مختومه")
#: Events that reopen a closed case.
REOPEN_EVENTS: Final = ("reopened", "reopen", "بازگشایی", "بازگشایی شده")

#: Output columns.
FROM_UNIT: Final = "from_unit"
TO_UNIT: Final = "to_unit"
TRANSFERS: Final = "transfers"
PING_PONGS: Final = "ping_pongs"
REFERRALS: Final = "referrals"
REOPENS: Final = "reopens"
CHAIN: Final = "chain"
START: Final = "start"
END: Final = "end"
HELD_H: Final = "held_h"
CLOSED_H: Final = "closed_h"
UNHELD_H: Final = "unheld_h"
SPAN_H: Final = "span_h"
CASES: Final = "cases"
SPANS: Final = "spans"
HELD_MEDIAN_H: Final = "held_median_h"
HELD_P90_H: Final = "held_p90_h"
N_UNITS: Final = "n_units"
N_EVENTS: Final = "n_events"
CHAIN_ARROW: Final = " → "

_NAT: Final = np.iinfo(np.int64).min
_HOUR_NS: Final = 3600 * 10**9
_CLOSED: Final = -2
_UNHELD: Final = -3


@dataclass(frozen=True)
class Custody:
    """Referral custody of cases, from :func:`referral_custody`.

    Attributes
    ----------
    spans : pandas.DataFrame
        One row per uninterrupted hold of a case by a unit: ``source``, ``case_id``,
        ``unit``, ``start``, ``end`` (UTC) and ``held_h`` (hours).
    held : pandas.DataFrame
        One row per unit: ``unit``, ``cases`` (distinct cases held), ``spans``, ``held_h``
        (total hours), ``held_median_h`` and ``held_p90_h`` (per hold), most hours first.
    transfers : pandas.DataFrame
        One row per (``from_unit``, ``to_unit``) pair: ``transfers`` and ``cases``, most
        transfers first.
    cases : pandas.DataFrame
        One row per case: ``source``, ``case_id``, ``start`` and ``end`` (first and last
        instant covered), ``span_h``, ``held_h``, ``closed_h``, ``unheld_h``, ``n_events``,
        ``n_units`` (distinct units that held it), ``referrals``, ``reopens``, ``transfers``,
        ``ping_pongs`` and ``chain`` (the units in order, ``"A → B → A"``).
    """

    spans: pd.DataFrame
    held: pd.DataFrame
    transfers: pd.DataFrame
    cases: pd.DataFrame

    @property
    def ping_pong_cases(self) -> pd.DataFrame:
        """The cases with at least one ping-pong, most ping-pongs first."""
        hit = self.cases[self.cases[PING_PONGS] > 0]
        return hit.sort_values(PING_PONGS, ascending=False, kind="stable").reset_index(drop=True)


def _event_flags(values: pd.Series, *vocabularies: tuple[str, ...]) -> list[B]:
    """For each vocabulary, which events' names (trimmed, lower case) belong to it."""
    codes, uniques = pd.factorize(values.astype("string"), use_na_sentinel=True)
    names = np.array([str(u).strip().lower() for u in uniques] + [""], dtype=object)
    return [np.isin(names, vocabulary)[codes] for vocabulary in vocabularies]


def _chains(case: I64, labels: npt.NDArray[np.object_]) -> tuple[I64, npt.NDArray[np.object_]]:
    """Join each case's run of labels (``case`` sorted) with arrows, without a loop per case."""
    if not len(case):
        return np.empty(0, np.int64), np.empty(0, dtype=object)
    starts = np.flatnonzero(np.r_[True, case[1:] != case[:-1]])
    offsets = np.append(starts, len(case)).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(labels, type=pa.string()))
    joined = pc.binary_join(lists, CHAIN_ARROW)
    return case[starts], np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def _carry(marker: B) -> I64:
    """Index of the latest marked position at or before each position (marker[0] must hold)."""
    idx = np.where(marker, np.arange(len(marker)), 0)
    return np.maximum.accumulate(idx) if len(idx) else idx


def _as_of_ns(as_of: object) -> int | None:
    if as_of is None:
        return None
    try:
        stamp = pd.Timestamp(as_of)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        msg = f"as_of {as_of!r} is not a timestamp; pass e.g. '2024-10-01T00:00+03:30'."
        raise InputError(msg) from exc
    if pd.isna(stamp) or stamp.tzinfo is None:
        msg = f"as_of {as_of!r} must be a time zone-aware instant."
        raise InputError(msg)
    return int(stamp.tz_convert("UTC").as_unit("ns").value)


def _check(events: pd.DataFrame) -> None:
    if not isinstance(events, pd.DataFrame):
        msg = f"events must be a pandas DataFrame of case events, got {type(events).__name__}."
        raise InputError(msg)
    missing = [c for c in (s.CASE_ID, s.EVENT_AT, s.EVENT) if c not in events.columns]
    if missing:
        msg = (
            f"case events lack the column(s) {missing}; expected {list(s.EVENT_COLUMNS)} "
            "(read them with store.read_events())."
        )
        raise InputError(msg)


def _hours(ns: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> F64:
    return np.asarray(ns, dtype=np.float64) / _HOUR_NS


def _timestamps(ns: I64) -> pd.Series:
    return pd.Series(pd.to_datetime(ns, utc=True)).astype("datetime64[ns, UTC]")


def referral_custody(events: pd.DataFrame, *, as_of: object = None) -> Custody:
    """Compute time held per unit, transfers between units and ping-pong chains.

    Parameters
    ----------
    events : pandas.DataFrame
        Case events (``case_id``, ``at`` tz-aware, ``event``; ``source`` and ``unit`` when
        present; see the module docstring for the event names understood). Events without
        an instant are ignored. Not modified.
    as_of : timestamp-like, optional
        Tz-aware instant until which cases still open after their last event are held.
        Default: no such extension (each case's last event ends its history).

    Returns
    -------
    Custody
        ``spans``, ``held``, ``transfers`` and ``cases`` frames.

    Raises
    ------
    InputError
        If a column is missing or ``at`` is not tz-aware.

    Examples
    --------
    >>> ev = pd.DataFrame({
    ...     "case_id": ["c1"] * 4,
    ...     "at": pd.to_datetime(["2024-01-01 08:00", "2024-01-01 10:00",
    ...                           "2024-01-02 10:00", "2024-01-03 10:00"], utc=True),
    ...     "event": ["referred", "referred", "referred", "closed"],
    ...     "unit": ["region 1", "water", "region 1", None],
    ... })
    >>> c = referral_custody(ev)
    >>> c.cases[["chain", "transfers", "ping_pongs", "span_h", "held_h"]].to_dict("records")
    [{'chain': 'region 1 → water → region 1', 'transfers': 2, 'ping_pongs': 1, 'span_h': 50.0, 'held_h': 50.0}]
    """  # noqa: E501
    _check(events)
    as_of_ns = _as_of_ns(as_of)
    at_all = utc_ns(events[s.EVENT_AT], name=s.EVENT_AT)
    dated = at_all != _NAT
    source_all = (
        events[s.SOURCE].astype("string").fillna("")
        if s.SOURCE in events.columns
        else pd.Series([""] * len(events), dtype="string", index=events.index)
    )
    case_all = events[s.CASE_ID].astype("string").fillna("")
    source_codes, source_names = pd.factorize(source_all)
    case_codes, case_names = pd.factorize(case_all)
    width = max(len(case_names), 1)
    cid_all, combined = pd.factorize(source_codes.astype(np.int64) * width + case_codes)
    unit_series = (
        events[s.EVENT_UNIT].astype("string")
        if s.EVENT_UNIT in events.columns
        else pd.Series([None] * len(events), dtype="string", index=events.index)
    )
    ucode_all, unit_names = pd.factorize(unit_series, use_na_sentinel=True)
    close_all, referral_all, reopen_all = _event_flags(
        events[s.EVENT], CLOSE_EVENTS, REFERRAL_EVENTS, REOPEN_EVENTS
    )

    rows = np.flatnonzero(dated)
    order = rows[np.lexsort((rows, at_all[rows], cid_all[rows]))]
    cid = cid_all[order].astype(np.int64)
    at = at_all[order]
    ucode = ucode_all[order].astype(np.int64)
    n = len(order)

    new_case = np.ones(n, dtype=bool)
    new_case[1:] = cid[1:] != cid[:-1]
    last = np.ones(n, dtype=bool)
    last[:-1] = cid[1:] != cid[:-1]
    is_close = close_all[order]
    is_referral = referral_all[order]
    is_resume = is_referral | reopen_all[order]

    custodian = ucode[_carry((ucode >= 0) | new_case)]
    open_after = ~is_close[_carry(is_close | is_resume | new_case)]
    before = np.full(n, -1, dtype=np.int64)
    before[1:] = np.where(new_case[1:], -1, custodian[:-1])
    referral = is_referral & (ucode >= 0) & (ucode != before)
    closed_before = np.zeros(n, dtype=bool)
    closed_before[1:] = ~new_case[1:] & ~open_after[:-1]
    reopen = is_resume & closed_before

    end = np.empty(n, dtype=np.int64)
    end[:-1] = at[1:]
    end[last] = at[last]
    if as_of_ns is not None:
        extend = last & open_after & (as_of_ns > at)
        end[extend] = as_of_ns
    duration = end - at
    state = np.where(~open_after, _CLOSED, np.where(custodian < 0, _UNHELD, custodian))

    # spans: consecutive segments of one case in the same state
    span_break = new_case.copy()
    span_break[1:] |= state[1:] != state[:-1]
    span_id = np.cumsum(span_break) - 1
    n_spans = int(span_id[-1]) + 1 if n else 0
    span_first = np.flatnonzero(span_break)
    span_state = state[span_first]
    span_case = cid[span_first]
    span_start = at[span_first]
    span_end = np.zeros(n_spans, dtype=np.int64)
    np.maximum.at(span_end, span_id, end)
    span_dur = np.bincount(span_id, weights=duration, minlength=n_spans)
    held_span = span_state >= 0

    combined = np.asarray(combined, dtype=np.int64)
    source_of = np.asarray(source_names, dtype=object)[combined // width]
    case_of = np.asarray(case_names, dtype=object)[combined % width]
    unit_of = np.asarray(unit_names, dtype=object)

    spans = pd.DataFrame(
        {
            s.SOURCE: source_of[span_case[held_span]],
            s.CASE_ID: case_of[span_case[held_span]],
            s.UNIT: unit_of[span_state[held_span]],
            START: _timestamps(span_start[held_span]),
            END: _timestamps(span_end[held_span]),
            HELD_H: _hours(span_dur[held_span]),
        }
    )

    # chains: held spans of a case with consecutive repeats merged
    h_case = span_case[held_span]
    h_unit = span_state[held_span]
    keep = np.ones(len(h_case), dtype=bool)
    keep[1:] = (h_case[1:] != h_case[:-1]) | (h_unit[1:] != h_unit[:-1])
    c_case, c_unit = h_case[keep], h_unit[keep]
    same_next = c_case[1:] == c_case[:-1]
    t_from, t_to, t_case = c_unit[:-1][same_next], c_unit[1:][same_next], c_case[:-1][same_next]
    pong = (c_case[2:] == c_case[:-2]) & (c_unit[2:] == c_unit[:-2])
    pong_case = c_case[:-2][pong]

    n_cases = len(combined)
    seen = np.zeros(n_cases, dtype=bool)
    seen[cid] = True
    first_at = np.full(n_cases, _NAT, dtype=np.int64)
    first_at[cid[new_case]] = at[new_case]
    last_at = np.full(n_cases, _NAT, dtype=np.int64)
    last_at[cid[last]] = end[last]

    def per_case(weights: npt.ArrayLike, where: I64) -> F64:
        return np.bincount(where, weights=weights, minlength=n_cases).astype(np.float64)

    held_ns = per_case(np.where(state >= 0, duration, 0), cid)
    closed_ns = per_case(np.where(state == _CLOSED, duration, 0), cid)
    unheld_ns = per_case(np.where(state == _UNHELD, duration, 0), cid)
    distinct_units = pd.DataFrame({"c": h_case, "u": h_unit}).drop_duplicates()
    chain_case, chain_text = _chains(c_case, unit_of[c_unit])
    chain = np.full(n_cases, "", dtype=object)
    chain[chain_case] = chain_text
    idx = np.flatnonzero(seen)
    cases = pd.DataFrame(
        {
            s.SOURCE: source_of[idx],
            s.CASE_ID: case_of[idx],
            START: _timestamps(first_at[idx]),
            END: _timestamps(last_at[idx]),
            SPAN_H: _hours(last_at[idx] - first_at[idx]),
            HELD_H: _hours(held_ns[idx]),
            CLOSED_H: _hours(closed_ns[idx]),
            UNHELD_H: _hours(unheld_ns[idx]),
            N_EVENTS: np.bincount(cid, minlength=n_cases)[idx].astype(np.int64),
            N_UNITS: np.bincount(distinct_units["c"].to_numpy(dtype=np.int64), minlength=n_cases)[
                idx
            ].astype(np.int64),
            REFERRALS: np.bincount(cid[referral], minlength=n_cases)[idx].astype(np.int64),
            REOPENS: np.bincount(cid[reopen], minlength=n_cases)[idx].astype(np.int64),
            TRANSFERS: np.bincount(t_case, minlength=n_cases)[idx].astype(np.int64),
            PING_PONGS: np.bincount(pong_case, minlength=n_cases)[idx].astype(np.int64),
            CHAIN: chain[idx],
        }
    )
    return Custody(
        spans=spans,
        held=_held(spans),
        transfers=_transfers(unit_of, t_from, t_to, t_case),
        cases=cases,
    )


def _held(spans: pd.DataFrame) -> pd.DataFrame:
    if not len(spans):
        return pd.DataFrame(
            {
                s.UNIT: pd.Series(dtype=object),
                CASES: pd.Series(dtype=np.int64),
                SPANS: pd.Series(dtype=np.int64),
                HELD_H: pd.Series(dtype=np.float64),
                HELD_MEDIAN_H: pd.Series(dtype=np.float64),
                HELD_P90_H: pd.Series(dtype=np.float64),
            }
        )
    grouped = spans.groupby(s.UNIT, sort=True)[HELD_H]
    keys = spans[[s.SOURCE, s.CASE_ID, s.UNIT]].drop_duplicates()
    out = pd.DataFrame(
        {
            CASES: keys.groupby(s.UNIT, sort=True).size(),
            SPANS: grouped.size(),
            HELD_H: grouped.sum(),
            HELD_MEDIAN_H: grouped.median(),
            HELD_P90_H: grouped.quantile(0.9),
        }
    )
    out = out.rename_axis(s.UNIT).reset_index()
    return out.sort_values([HELD_H, s.UNIT], ascending=[False, True], kind="stable").reset_index(
        drop=True
    )


def _transfers(
    unit_of: npt.NDArray[np.object_], t_from: I64, t_to: I64, t_case: I64
) -> pd.DataFrame:
    frame = pd.DataFrame({FROM_UNIT: unit_of[t_from], TO_UNIT: unit_of[t_to], "case": t_case})
    if not len(frame):
        return pd.DataFrame(
            {
                FROM_UNIT: pd.Series(dtype=object),
                TO_UNIT: pd.Series(dtype=object),
                TRANSFERS: pd.Series(dtype=np.int64),
                CASES: pd.Series(dtype=np.int64),
            }
        )
    grouped = frame.groupby([FROM_UNIT, TO_UNIT], sort=True)["case"]
    out = pd.DataFrame({TRANSFERS: grouped.size(), CASES: grouped.nunique()}).reset_index()
    return out.sort_values(
        [TRANSFERS, FROM_UNIT, TO_UNIT], ascending=[False, True, True], kind="stable"
    ).reset_index(drop=True)
