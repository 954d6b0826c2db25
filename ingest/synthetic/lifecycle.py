"""What happens to a synthetic case after it is registered: unit, timings, verdicts, reopenings.

Stated assumptions (not measurements):

* **Units.** A case goes to its region's municipality, except part of some subjects that
  city-wide bodies handle (waste organization for garbage, parks for pruning, traffic,
  planning and technical deputies, crisis management for flooding, social deputy). Each
  unit has a speed factor: most are near 1 (lognormal, sigma 0.25), three region units
  and one department are clearly slow (x2.5 to x3.5) and three are fast (x0.6).
* **Timings** (hours, lognormal): referral after a median of 1.5 h; first response after
  a median of a quarter of the subject's SLA target (``data/sla.yaml``) times the unit's
  factor; closing after a further median of half the target times the factor. Events
  after the export date (the end of the period) have not happened yet.
* **Verdicts.** 55% of closed cases answer the SMS survey; the share of objections (code 33)
  grows with the time to close, from 8% for a same-day closing to over 60% after three
  weeks. 35% answer the satisfaction survey (1–5), lower the longer the case took.
* **Reopenings.** 35% of objected cases are reopened (15% of those twice); 60% of the
  reopened are closed again before the export date, the rest show status "reopened".
* **Quick closes.** 0.3% of cases are closed within 1–4 minutes of registration (flagged
  by the reader, not quarantined).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import yaml

from ingest import schema as s

from .export_format import DATA_DIR, unit_labels

HOUR_S: Final = 3_600
#: Subcategories partly handled by a city-wide unit: unit code and the share it takes.
DEPARTMENTS: Final[dict[str, tuple[str, float]]] = {
    "garbage": ("waste_org", 0.3),
    "bin_odour": ("waste_org", 0.5),
    "tree_pruning": ("parks_org", 0.5),
    "flooding": ("crisis_org", 0.3),
    "illegal_construction": ("planning_dept", 0.3),
    "land_use": ("planning_dept", 0.6),
    "asphalt": ("technical_dept", 0.25),
    "traffic_signals": ("traffic_dept", 0.8),
    "public_transport": ("traffic_dept", 0.8),
    "signs_markings": ("traffic_dept", 0.6),
    "rough_sleepers": ("social_dept", 0.5),
    "public_drug_use": ("social_dept", 0.5),
}
QUICK_CLOSE_SHARE: Final = 0.003
#: Citizen feedback by code 0, 1, 2 (``Lifecycle.feedback``).
FEEDBACK_CODES: Final = ("none", "accepted", "objected")
_STATUS: Final = {name: i for i, name in enumerate(s.STATUSES)}
MAX_LIFETIME_S: Final = 300 * 86_400
#: Shortest time to close of a case that is not a quick close (the reader flags < 5 min).
MIN_LIFETIME_S: Final = 15 * 60
#: Column names of the unit table.
UNIT_LABEL: Final = "label"
SPEED: Final = "speed_factor"
IS_SLOW: Final = "is_slow"
UNIT_REGION: Final = "region_code"


def sla_hours(subcategories: list[tuple[str, str]]) -> np.ndarray:
    """Return the SLA target in hours of each ``(category, subcategory)`` (``data/sla.yaml``)."""
    raw = yaml.safe_load((DATA_DIR / "sla.yaml").read_text(encoding="utf-8"))
    default = float(raw.get("default_hours", 96))
    cats = raw.get("categories") or {}
    subs = raw.get("subcategories") or {}
    return np.array([float(subs.get(sub, cats.get(cat, default))) for cat, sub in subcategories])


def build_units(region_codes: list[str], rng: np.random.Generator) -> pd.DataFrame:
    """Build the responsible units: one municipality per region plus the departments.

    Parameters
    ----------
    region_codes : list of str
        Region codes of the city ("1".."22" for Tehran).
    rng : numpy.random.Generator
        Draws the speed factors and which units are slow or fast.

    Returns
    -------
    pandas.DataFrame
        Indexed by unit code; columns ``label`` (Persian, as exported), ``region_code``
        (None for departments), ``speed_factor`` (multiplies every delay) and ``is_slow``.
    """
    labels = unit_labels()
    rows: list[tuple[str, str, str | None]] = []
    for region in region_codes:
        code = f"region_{int(region):02d}" if region.isdigit() else f"region_{region}"
        rows.append((code, labels.get(code, f"شهرداری منطقه {region}"), region))
    for dept in sorted({d for d, _ in DEPARTMENTS.values()}):
        rows.append((dept, labels.get(dept, dept), None))
    frame = pd.DataFrame(rows, columns=["unit", UNIT_LABEL, UNIT_REGION]).set_index("unit")
    speed = rng.lognormal(0.0, 0.25, size=len(frame))
    n_regions = len(region_codes)
    order = rng.permutation(n_regions)
    slow = order[: min(3, max(1, n_regions // 5))]
    fast = order[len(slow) : len(slow) + min(3, max(0, n_regions // 5))]
    speed[slow] = rng.uniform(2.5, 3.5, size=len(slow))
    speed[fast] = 0.6
    speed[n_regions + int(rng.integers(len(frame) - n_regions))] = 3.0
    frame[SPEED] = speed.round(2)
    frame[IS_SLOW] = frame[SPEED] >= 2.0
    return frame


def assign_units(
    subject: np.ndarray,
    subcategories: list[str],
    region: np.ndarray,
    region_codes: list[str],
    units: pd.DataFrame,
    rng: np.random.Generator,
) -> np.ndarray:
    """Return the index (into ``units``) of the unit each case is referred to.

    Parameters
    ----------
    subject : numpy.ndarray
        Index of each case's subject into ``subcategories``.
    subcategories : list of str
        Subcategory code of each subject.
    region : numpy.ndarray
        Index of each case's region into ``region_codes``.
    region_codes : list of str
        Region codes.
    units : pandas.DataFrame
        From :func:`build_units`.
    rng : numpy.random.Generator
        Draws which cases go to a department.
    """
    region_unit = {r: i for i, r in enumerate(units[UNIT_REGION]) if r is not None}
    lookup = np.array([region_unit.get(str(c), 0) for c in region_codes], dtype=np.int64)
    out: np.ndarray = lookup[region]
    position = {u: i for i, u in enumerate(units.index)}
    u = rng.random(len(out))
    for k, sub in enumerate(subcategories):
        if sub in DEPARTMENTS and DEPARTMENTS[sub][0] in position:
            dept, share = DEPARTMENTS[sub]
            out[(subject == k) & (u < share)] = position[dept]
    return out


@dataclass(frozen=True)
class Lifecycle:
    """Timings and outcomes of the cases, local wall-clock seconds (int64, ``-1`` = none).

    Attributes
    ----------
    referred_s, first_response_s, closed_s, due_s : numpy.ndarray
        Event times; ``-1`` where not reached by the export date.
    status : numpy.ndarray
        Canonical status of each case, as an index into :data:`ingest.schema.STATUSES`.
    feedback : numpy.ndarray
        Index into :data:`FEEDBACK_CODES` (none, accepted, objected).
    satisfaction : numpy.ndarray
        1–5, 0 when not surveyed.
    reopen_count : numpy.ndarray
        Times reopened.
    quick_close : numpy.ndarray
        Closed within minutes of registration.
    """

    referred_s: np.ndarray
    first_response_s: np.ndarray
    closed_s: np.ndarray
    due_s: np.ndarray
    status: np.ndarray
    feedback: np.ndarray
    satisfaction: np.ndarray
    reopen_count: np.ndarray
    quick_close: np.ndarray


def _lognormal_s(median_h: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    hours = median_h * rng.lognormal(0.0, sigma, size=len(median_h))
    return np.maximum(60, hours * HOUR_S).astype(np.int64)


def simulate(
    created_s: np.ndarray,
    sla_h: np.ndarray,
    speed: np.ndarray,
    as_of_s: int,
    rng: np.random.Generator,
) -> Lifecycle:
    """Simulate each case's lifecycle up to the export date.

    Parameters
    ----------
    created_s : numpy.ndarray
        Registration, local wall-clock seconds (int64).
    sla_h : numpy.ndarray
        SLA target of each case in hours.
    speed : numpy.ndarray
        Speed factor of each case's unit (delays are multiplied by it).
    as_of_s : int
        The export date, local wall-clock seconds: later events have not happened.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    Lifecycle
        Timings, statuses and verdicts.
    """
    n = len(created_s)
    referred = created_s + _lognormal_s(np.full(n, 1.5), 1.0, rng)
    first = referred + _lognormal_s(sla_h * 0.25 * speed, 0.8, rng)
    closed = first + _lognormal_s(sla_h * 0.5 * speed, 0.9, rng)
    closed = np.clip(closed, created_s + MIN_LIFETIME_S, created_s + MAX_LIFETIME_S)
    first = np.minimum(first, closed)
    referred = np.minimum(referred, first)
    quick = rng.random(n) < QUICK_CLOSE_SHARE
    closed = np.where(quick, created_s + rng.integers(60, 240, size=n), closed)
    first = np.where(quick, closed, first)
    referred = np.where(quick, created_s + 30, referred)

    close_days = (closed - created_s) / 86_400.0
    is_closed = closed <= as_of_s
    survey = is_closed & (rng.random(n) < 0.55)
    p_object = 0.08 + 0.55 * (1.0 - np.exp(-close_days / 6.0))
    objected = survey & (rng.random(n) < p_object)
    feedback = np.where(objected, 2, np.where(survey, 1, 0)).astype(np.int8)
    rated = is_closed & (rng.random(n) < 0.35)
    mean_score = 4.6 - 0.9 * np.log1p(close_days) - np.where(objected, 1.0, 0.0)
    score = np.clip(np.rint(rng.normal(mean_score, 0.7)), 1, 5).astype(np.int64)
    satisfaction = np.where(rated, score, 0)

    reopened = objected & (rng.random(n) < 0.35)
    reopen_count = np.where(reopened, np.where(rng.random(n) < 0.15, 2, 1), 0)
    reclosed_at = closed + _lognormal_s(sla_h * 0.5 * speed, 0.9, rng)
    reclosed = reopened & (rng.random(n) < 0.6) & (reclosed_at <= as_of_s)
    closed = np.where(reopened, np.where(reclosed, reclosed_at, -1), closed)
    is_closed = np.where(reopened, reclosed, is_closed)

    status = np.full(n, _STATUS["registered"], dtype=np.int8)
    reached_ref = referred <= as_of_s
    reached_first = first <= as_of_s
    status[reached_ref] = _STATUS["referred"]
    answered = rng.random(n) < 0.5
    status[reached_first] = np.where(
        answered[reached_first], _STATUS["answered"], _STATUS["in_progress"]
    )
    status[is_closed] = _STATUS["closed"]
    status[reopened & ~reclosed] = _STATUS["reopened"]
    rejected = is_closed & ~reopened & (rng.random(n) < 0.02)
    status[rejected] = _STATUS["rejected"]
    return Lifecycle(
        referred_s=np.where(reached_ref, referred, -1),
        first_response_s=np.where(reached_first, first, -1),
        closed_s=np.where(is_closed, closed, -1),
        due_s=created_s + (sla_h * HOUR_S).astype(np.int64),
        status=status,
        feedback=feedback,
        satisfaction=satisfaction,
        reopen_count=reopen_count.astype(np.int64),
        quick_close=quick & is_closed & ~reopened,
    )
