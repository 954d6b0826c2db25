"""One entry point for the ingest command: pick the reader by format or file name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd

from geo.errors import InputError

from .common import PathLike
from .result import ReadResult

Format = Literal["137", "open311", "csv"]
FORMATS: Final = ("137", "open311", "csv")


def guess_format(path: PathLike, mapping: PathLike | None = None) -> Format:
    """Return the format of a file: ``csv`` with a mapping, ``open311`` for JSON, else ``137``.

    Examples
    --------
    >>> guess_format("requests.json"), guess_format("a.csv"), guess_format("a.csv", "m.yaml")
    ('open311', '137', 'csv')
    """
    if mapping is not None:
        return "csv"
    return "open311" if Path(path).suffix.lower() == ".json" else "137"


def read_source(
    path: PathLike,
    *,
    key: bytes | str | Any,
    format: Format | None = None,
    mapping: PathLike | None = None,
    city: str | None = None,
    tz: str = "Asia/Tehran",
    placeholders: Sequence[tuple[float, float]] = (),
    now: pd.Timestamp | None = None,
) -> ReadResult:
    """Read one source file with the reader its format calls for.

    Parameters
    ----------
    path : path-like
        The file.
    key : bytes, str or SecretStr
        The pseudonymization key (``get_settings().hash_key``).
    format : {"137", "open311", "csv"}, optional
        Default: guessed by :func:`guess_format`.
    mapping : path-like, optional
        The YAML mapping (required for ``csv``).
    city : str, optional
        City name of an Open311 file (default: the file's stem).
    tz : str
        Zone of 137 dates.
    placeholders : sequence of (lon, lat)
        Placeholder points (the ``placeholder_points`` setting); a mapping's own list is
        added to these.
    now : pandas.Timestamp, optional
        Time of reading.

    Returns
    -------
    ReadResult
        Every row kept or quarantined.

    Raises
    ------
    InputError
        On an unknown format, a missing mapping, or a file the reader refuses.
    """
    chosen = format or guess_format(path, mapping)
    if chosen == "137":
        from .tehran137 import read_137

        return read_137(path, key=key, tz=tz, placeholders=placeholders, now=now)
    if chosen == "open311":
        from .open311 import read_open311

        return read_open311(
            path, city=city or Path(path).stem, key=key, placeholders=placeholders, now=now
        )
    if chosen == "csv":
        if mapping is None:
            msg = "--format csv needs --mapping FILE.yaml (see data/mappings/template.yaml)."
            raise InputError(msg)
        from dataclasses import replace

        from .mapped_csv import load_mapping, read_mapped_csv

        loaded = load_mapping(mapping)
        spec = replace(
            loaded.spec,
            placeholders=(*loaded.spec.placeholders, *((x, y) for x, y in placeholders)),
        )
        return read_mapped_csv(path, replace(loaded, spec=spec), key=key, now=now)
    msg = f"Unknown format {chosen!r}; use one of {', '.join(FORMATS)}."
    raise InputError(msg)
