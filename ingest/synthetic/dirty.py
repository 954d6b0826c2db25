"""Malformed rows for ``--dirty``: every kind the reader must quarantine or flag, with the truth.

Each dirty row gets exactly one problem, so its expected quarantine reason is unambiguous.
The kinds (:data:`DIRTY_KINDS`) are the reason codes of :class:`ingest.quarantine.Reason`
and, for rows that are kept with a flag, the flag codes ``swapped`` (lat/lon written in
each other's column; geocode precision ``swapped``) and ``unknown_category``
(:class:`ingest.quarantine.Flag`). A duplicate-id conflict involves two rows: the row that
borrows an id and the row that owns it; both are expected in quarantine, since neither can
be told right. Malformed lines (an extra field) are produced by the writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import jdatetime
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest import schema as s
from ingest.quarantine import Flag, Reason

from .export_format import SMS_VERDICT, STATUS_LABELS, jalali_text

#: Flag code for a point written with lon and lat swapped (kept, repaired, flagged).
FLAG_SWAPPED: Final = "swapped"
#: Kinds of dirty rows: quarantine reasons first, then flags.
QUARANTINE_KINDS: Final = (
    Reason.MALFORMED_LINE,
    Reason.MISSING_ID,
    Reason.MISSING_CREATED,
    Reason.DATE_UNPARSEABLE,
    Reason.DATE_IMPOSSIBLE,
    Reason.CREATED_IN_FUTURE,
    Reason.CLOSED_BEFORE_CREATED,
    Reason.DUPLICATE_CONFLICT,
    Reason.COORD_NON_NUMERIC,
    Reason.COORD_ZERO,
    Reason.COORD_OUT_OF_RANGE,
    Reason.COORD_PLACEHOLDER,
    Reason.OUTSIDE_CITY,
    Reason.UNKNOWN_KIND,
)
FLAG_KINDS: Final = (FLAG_SWAPPED, str(Flag.UNKNOWN_CATEGORY))
DIRTY_KINDS: Final = (*(str(r) for r in QUARANTINE_KINDS), *FLAG_KINDS)

#: The point operators leave when they do not move the map pin (Tehran's map centre).
PLACEHOLDER_POINT: Final = ("51.389", "35.6892")
#: A point far outside Tehran (Isfahan), written with no address.
FAR_POINT: Final = ("51.668", "32.654")
UNKNOWN_KIND_TEXT: Final = "درخواست ویژه ناشناخته"
UNKNOWN_CATEGORY_TEXT: Final = "موضوع منسوخ سامانه قدیم"
FUTURE_YEAR: Final = 1415
_UNPARSEABLE: Final = ("دیروز ساعت ۱۰", "1401/05", "۱۴۰۱ خرداد ۱۲", "14O1/02/03 10:00")


@dataclass(frozen=True)
class DirtyPlan:
    """Which rows are dirty and how.

    Attributes
    ----------
    reason : numpy.ndarray
        Expected quarantine reason per row (object, ``None`` when the row is kept).
    flag : numpy.ndarray
        Expected flag per row from the corruption (object, ``None`` otherwise).
    malformed : numpy.ndarray
        Sorted row indices the writer must write as malformed lines.
    """

    reason: np.ndarray
    flag: np.ndarray
    malformed: np.ndarray


def _patch(arr: pa.Array, idx: np.ndarray, values: list[str | None]) -> pa.Array:
    """Return ``arr`` with the rows ``idx`` replaced by ``values`` (str or None)."""
    if not len(idx):
        return arr
    order = np.argsort(idx, kind="stable")
    mask = np.zeros(len(arr), dtype=bool)
    mask[idx] = True
    repl = pa.array([values[i] for i in order], type=pa.string())
    return pc.replace_with_mask(arr, pa.array(mask), repl)


def _cycle(options: tuple[str, ...] | list[str], n: int) -> list[str | None]:
    return [options[i % len(options)] for i in range(n)]


def _local_text(local_s: np.ndarray) -> list[str | None]:
    out: list[str | None] = []
    for t in local_s.tolist():
        g = np.datetime64(int(t), "s").astype("datetime64[s]").item()
        j = jdatetime.datetime.fromgregorian(datetime=g)
        out.append(jalali_text(j.year, j.month, j.day, j.hour, j.minute))
    return out


def corrupt(
    columns: dict[str, pa.Array],
    *,
    share: float,
    eligible: np.ndarray,
    has_point: np.ndarray,
    created_s: np.ndarray,
    rng: np.random.Generator,
) -> DirtyPlan:
    """Corrupt a share of rows in place of ``columns`` and say what the reader must do.

    Parameters
    ----------
    columns : dict of str to pyarrow.Array
        The export's string columns by field (:data:`ingest.synthetic.export_format.FIELDS`);
        modified in place (arrays are replaced).
    share : float
        Fraction of rows to corrupt (0–1); spread evenly over :data:`DIRTY_KINDS`.
    eligible : numpy.ndarray
        Boolean mask of rows that may be corrupted (clean rows without another flag).
    has_point : numpy.ndarray
        Boolean mask of rows with coordinates (a swapped point needs one).
    created_s : numpy.ndarray
        Local wall-clock creation seconds of each row (for closed-before-created).
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    DirtyPlan
        The expected reason and flag of every row and the rows to write malformed.
    """
    n = len(created_s)
    reason = np.full(n, None, dtype=object)
    flag = np.full(n, None, dtype=object)
    n_dirty = round(share * n)
    if n_dirty <= 0:
        return DirtyPlan(reason, flag, np.zeros(0, dtype=np.int64))
    pool = rng.permutation(np.flatnonzero(eligible))
    kinds = np.array([DIRTY_KINDS[i % len(DIRTY_KINDS)] for i in range(n_dirty)], dtype=object)
    n_conflict = int((kinds == str(Reason.DUPLICATE_CONFLICT)).sum())
    need = n_dirty + n_conflict
    if len(pool) < need:
        msg = f"Cannot corrupt {n_dirty} rows: only {len(pool)} clean rows; lower --dirty."
        raise ValueError(msg)
    rows = pool[:n_dirty]
    owners = pool[n_dirty:need]
    # A swapped point needs a point: exchange with another row's kind when needed.
    swap_rows = rows[kinds == FLAG_SWAPPED]
    if len(swap_rows) and not has_point[swap_rows].all():
        with_point = np.flatnonzero(has_point[pool[need:]])
        spare = pool[need:][with_point][: len(swap_rows)]
        rows[np.flatnonzero(kinds == FLAG_SWAPPED)[: len(spare)]] = spare
    pick = {k: rows[kinds == k] for k in DIRTY_KINDS}
    c = columns

    def set_(field: str, idx: np.ndarray, values: list[str | None]) -> None:
        c[field] = _patch(c[field], idx, values)

    idx = pick[str(Reason.MISSING_ID)]
    set_(s.CASE_ID, idx, [None] * len(idx))
    idx = pick[str(Reason.MISSING_CREATED)]
    set_(s.CREATED_AT, idx, [None] * len(idx))
    idx = pick[str(Reason.DATE_UNPARSEABLE)]
    set_(s.CREATED_AT, idx, _cycle(_UNPARSEABLE, len(idx)))
    idx = pick[str(Reason.DATE_IMPOSSIBLE)]
    impossible = [
        jalali_text(1402, 13, 40),
        jalali_text(1401, 2, 32),
        jalali_text(1401, 8, 31),
        jalali_text(1401, 12, 30),
    ]
    set_(s.CREATED_AT, idx, _cycle(impossible, len(idx)))
    idx = pick[str(Reason.CREATED_IN_FUTURE)]
    set_(s.CREATED_AT, idx, [jalali_text(FUTURE_YEAR, 3, 10, 11, 15)] * len(idx))
    for field in (s.REFERRED_AT, s.FIRST_RESPONSE_AT, s.CLOSED_AT, s.DUE_AT, SMS_VERDICT):
        set_(field, idx, [None] * len(idx))
    for field in (s.SATISFACTION,):
        set_(field, idx, [None] * len(idx))
    set_(s.REOPEN_COUNT, idx, ["0"] * len(idx))
    set_(s.STATUS, idx, [STATUS_LABELS["registered"]] * len(idx))
    idx = pick[str(Reason.CLOSED_BEFORE_CREATED)]
    before = created_s[idx] - rng.integers(2, 10, size=len(idx)) * 86_400
    set_(s.CLOSED_AT, idx, _local_text(before))
    set_(s.STATUS, idx, [STATUS_LABELS["closed"]] * len(idx))
    idx = pick[str(Reason.DUPLICATE_CONFLICT)]
    owner_ids = c[s.CASE_ID].take(pa.array(owners)).to_pylist()
    set_(s.CASE_ID, idx, owner_ids)
    reason[owners] = str(Reason.DUPLICATE_CONFLICT)
    idx = pick[str(Reason.COORD_NON_NUMERIC)]
    set_(s.LON, idx, ["51.4.2"] * len(idx))
    set_(s.LAT, idx, ["35.7.1"] * len(idx))
    idx = pick[str(Reason.COORD_ZERO)]
    set_(s.LON, idx, ["0"] * len(idx))
    set_(s.LAT, idx, ["0"] * len(idx))
    idx = pick[str(Reason.COORD_OUT_OF_RANGE)]
    set_(s.LON, idx, _cycle(["51.42", "251.42"], len(idx)))
    set_(s.LAT, idx, _cycle(["135.71", "35.71"], len(idx)))
    idx = pick[str(Reason.COORD_PLACEHOLDER)]
    set_(s.LON, idx, [PLACEHOLDER_POINT[0]] * len(idx))
    set_(s.LAT, idx, [PLACEHOLDER_POINT[1]] * len(idx))
    idx = pick[str(Reason.OUTSIDE_CITY)]
    set_(s.LON, idx, [FAR_POINT[0]] * len(idx))
    set_(s.LAT, idx, [FAR_POINT[1]] * len(idx))
    set_(s.ADDRESS, idx, [None] * len(idx))
    idx = pick[str(Reason.UNKNOWN_KIND)]
    set_(s.KIND, idx, [UNKNOWN_KIND_TEXT] * len(idx))
    idx = pick[FLAG_SWAPPED]
    lon, lat = c[s.LON], c[s.LAT]
    set_(s.LON, idx, lat.take(pa.array(idx)).to_pylist())
    set_(s.LAT, idx, lon.take(pa.array(idx)).to_pylist())
    idx = pick[str(Flag.UNKNOWN_CATEGORY)]
    set_(s.CATEGORY, idx, [UNKNOWN_CATEGORY_TEXT] * len(idx))
    set_(s.SUBCATEGORY, idx, [None] * len(idx))

    for code in QUARANTINE_KINDS:
        reason[pick[str(code)]] = str(code)
    for flag_code in FLAG_KINDS:
        flag[pick[flag_code]] = flag_code
    return DirtyPlan(reason, flag, np.sort(pick[str(Reason.MALFORMED_LINE)]))
