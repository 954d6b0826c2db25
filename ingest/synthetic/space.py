"""Where synthetic cases happen: the city's neighborhoods, random points, planted hotspots.

Cases are spread over the neighborhoods of a boundary layer (the real Tehran layer when it
is available, else the labelled synthetic geography) in proportion to a weight: the
population when the layer has it, else the area times a random density (lognormal, so
some neighborhoods are much busier than others). Points are drawn from a pool of random
points inside each neighborhood (built once, one polygon at a time, never one case at a
time).

Hotspots are small discs (radius 120–350 m) where one subject is much more frequent than
elsewhere, with a class that says how their intensity changes from month to month
(:data:`HOTSPOT_CLASSES`), following the space-time "emerging hotspot" vocabulary.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.crs import METRIC_CRS, STORAGE_CRS
from geo.errors import InputError
from ingest import schema as s

#: Hotspot classes: constant, appearing at the end, growing, on-and-off, fading.
HOTSPOT_CLASSES: Final = ("persistent", "new", "intensifying", "sporadic", "diminishing")
#: Subjects (subcategory codes) hotspots are planted with.
HOTSPOT_SUBJECTS: Final = (
    "garbage",
    "debris",
    "street_vendors",
    "illegal_construction",
    "asphalt",
    "bin_odour",
    "noise",
    "stray_animals",
    "rough_sleepers",
    "flooding",
)
#: Hotspot table columns (besides ``lon``, ``lat``, codes and subject columns).
HOTSPOT_ID: Final = "hotspot_id"
HOTSPOT_CLASS: Final = "hotspot_class"
RADIUS_M: Final = "radius_m"
ACTIVE_MONTHS: Final = "active_months"
MONTH_INTENSITY: Final = "month_intensity"
EXPECTED_CASES: Final = "expected_cases"

_MIN_RADIUS_M: Final = 120.0
_MAX_RADIUS_M: Final = 350.0


@dataclass(frozen=True)
class City:
    """The neighborhoods cases are drawn from.

    Attributes
    ----------
    hoods : pandas.DataFrame
        One row per neighborhood: ``code``, ``name_fa``, ``region_code``, ``weight``
        (share of cases, sums to 1).
    pool_lon, pool_lat : numpy.ndarray
        ``(neighborhoods, points_per_hood)`` random points inside each neighborhood
        (EPSG:4326).
    geometry : numpy.ndarray
        The neighborhood polygons (EPSG:4326), in the order of ``hoods``.
    synthetic : bool
        True when the layer is the labelled synthetic geography (not real Tehran).
    """

    hoods: pd.DataFrame
    pool_lon: np.ndarray
    pool_lat: np.ndarray
    geometry: np.ndarray
    synthetic: bool

    @property
    def regions(self) -> list[str]:
        """Region codes in ascending numeric order when numeric."""
        codes = self.hoods[s.REGION_CODE].dropna().astype(str).unique().tolist()
        return sorted(codes, key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c))

    def locate(self, *, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Return the index (into ``hoods``) of the neighborhood holding each point, -1 outside.

        A point on a shared border goes to the neighborhood listed first.
        """
        tree = shapely.STRtree(self.geometry)
        point_idx, hood_idx = tree.query(shapely.points(lon, lat), predicate="intersects")
        out = np.full(len(lon), -1, dtype=np.int64)
        if len(point_idx):
            first = pd.Series(hood_idx).groupby(point_idx).min()
            out[first.index.to_numpy()] = first.to_numpy()
        return out


#: The folder holding the repository's packages (``../shared`` lies beside it).
_CHECKOUT: Final = Path(__file__).resolve().parents[2]


def default_boundaries(directory: str | Path | None = None) -> tuple[gpd.GeoDataFrame, bool]:
    """Load the real Tehran boundaries when present, else the synthetic geography.

    Parameters
    ----------
    directory : str or Path, optional
        A folder with ``Mahalat_Tehran.shp`` (the ``tehran`` folder of the shared data) or
        with a written hierarchy (``boundaries.parquet``). By default
        ``$T137_SHARED_DATA/tehran``, else ``../shared/data/tehran`` beside the checkout
        (the Makefile's default).

    Returns
    -------
    tuple
        ``(boundaries, synthetic)``: the layer in EPSG:4326 and whether it is synthetic.

    Raises
    ------
    InputError
        When ``directory`` is given but holds no boundary layer.
    """
    from geo.boundaries import (
        BOUNDARIES_FILE,
        MAHALAT_FILE,
        load_boundaries,
        load_tehran_boundaries,
    )
    from geo.synthetic_geography import synthetic_boundaries

    given = directory is not None
    if directory is None:
        configured = os.environ.get("T137_SHARED_DATA")
        root = Path(configured) if configured else _CHECKOUT.parent / "shared" / "data"
        directory = root / "tehran"
    path = Path(directory)
    if (path / MAHALAT_FILE).exists():
        return load_tehran_boundaries(path), False
    if (path / BOUNDARIES_FILE).exists() or path.suffix == ".parquet":
        return load_boundaries(path), False
    if given:
        msg = (
            f"No boundary layer in {path}: expected {MAHALAT_FILE} or {BOUNDARIES_FILE}; "
            "pass the Tehran folder of the shared data or a written hierarchy."
        )
        raise InputError(msg)
    return synthetic_boundaries(), True


def _region_of(boundaries: gpd.GeoDataFrame) -> dict[str, str | None]:
    level = dict(zip(boundaries[s.CODE].astype(str), boundaries[s.LEVEL], strict=True))
    parent = dict(
        zip(boundaries[s.CODE].astype(str), boundaries[s.PARENT_CODE].astype(object), strict=True)
    )
    out: dict[str, str | None] = {}
    for code in level:
        current: object = code
        for _ in range(8):
            if not isinstance(current, str):
                current = None
                break
            if level.get(current) == s.LEVEL_REGION:
                break
            current = parent.get(current)
        out[code] = current if isinstance(current, str) else None
    return out


def _points_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = shapely.bounds(polygon)
    found: list[np.ndarray] = []
    count = 0
    for _ in range(200):
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n + 16, 2))
        inside = shapely.contains_xy(polygon, xy[:, 0], xy[:, 1])
        found.append(xy[inside])
        count += int(inside.sum())
        if count >= n:
            break
    if count == 0:  # a sliver: fall back to its representative point
        p = shapely.point_on_surface(polygon)
        return np.tile([shapely.get_x(p), shapely.get_y(p)], (n, 1))
    pts = np.concatenate(found)
    return pts[rng.integers(len(pts), size=n)] if count < n else pts[:n]


def build_city(
    boundaries: gpd.GeoDataFrame,
    rng: np.random.Generator,
    *,
    points_per_hood: int = 128,
    synthetic: bool = False,
) -> City:
    """Prepare the neighborhoods of a boundary layer for drawing cases.

    Parameters
    ----------
    boundaries : geopandas.GeoDataFrame
        The boundary model (:data:`ingest.schema.BOUNDARY_COLUMNS`) with a neighborhood
        level, in any CRS (it is reprojected to EPSG:4326).
    rng : numpy.random.Generator
        Draws the densities and the point pools.
    points_per_hood : int, default 128
        Random points kept per neighborhood.
    synthetic : bool, default False
        Whether the layer is the synthetic geography (recorded in the result).

    Returns
    -------
    City
        The neighborhoods with their weights and point pools.

    Raises
    ------
    InputError
        When the layer has no neighborhood rows or no CRS.
    """
    if boundaries.crs is None:
        msg = "The boundary layer has no CRS; load it with geo.boundaries, which sets one."
        raise InputError(msg)
    layer = boundaries.to_crs(STORAGE_CRS)
    region_of = _region_of(layer)
    hoods = layer[layer[s.LEVEL] == s.LEVEL_NEIGHBORHOOD].reset_index(drop=True)
    if hoods.empty:
        msg = (
            "The boundary layer has no neighborhood rows; the generator needs level 'neighborhood'."
        )
        raise InputError(msg)
    area_km2 = hoods.geometry.to_crs(METRIC_CRS).area.to_numpy() / 1e6
    population = pd.to_numeric(hoods[s.POPULATION], errors="coerce").to_numpy(dtype=float)
    density = rng.lognormal(mean=0.0, sigma=0.6, size=len(hoods))
    weight = np.where(np.isfinite(population) & (population > 0), population, area_km2 * density)
    weight = np.clip(weight, 1e-9, None)
    codes = hoods[s.CODE].astype(str)
    table = pd.DataFrame(
        {
            s.CODE: codes.to_numpy(),
            s.NAME_FA: hoods[s.NAME_FA].fillna("").astype(str).to_numpy(),
            s.REGION_CODE: [region_of.get(c) or c for c in codes],
            "weight": weight / weight.sum(),
        }
    )
    geometry = hoods.geometry.to_numpy()
    pool = np.stack([_points_in(g, points_per_hood, rng) for g in geometry])
    return City(
        hoods=table,
        pool_lon=pool[:, :, 0],
        pool_lat=pool[:, :, 1],
        geometry=geometry,
        synthetic=synthetic,
    )


def class_intensity(kind: str, n_months: int, rng: np.random.Generator) -> np.ndarray:
    """Return the relative monthly intensity of a hotspot class (0 where inactive).

    Parameters
    ----------
    kind : str
        One of :data:`HOTSPOT_CLASSES`.
    n_months : int
        Months in the period.
    rng : numpy.random.Generator
        Draws the active months of a sporadic hotspot.

    Returns
    -------
    numpy.ndarray
        One non-negative value per month.

    Examples
    --------
    >>> import numpy as np
    >>> class_intensity("new", 8, np.random.default_rng(0)).round(1).tolist()
    [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.5, 1.5]
    """
    u = np.linspace(0.0, 1.0, n_months) if n_months > 1 else np.ones(1)
    if kind == "persistent":
        return np.ones(n_months)
    if kind == "new":
        out = np.zeros(n_months)
        out[n_months - max(1, round(n_months * 0.25)) :] = 1.5
        return out
    if kind == "intensifying":
        return 0.25 + 1.75 * u
    if kind == "diminishing":
        return 1.75 - 1.5 * u
    if kind == "sporadic":
        on = rng.random(n_months) < 0.35
        if n_months >= 2 and on.sum() < 2:
            on[rng.choice(n_months, size=2, replace=False)] = True
        return np.where(on, 1.0, 0.0)
    msg = f"Unknown hotspot class {kind!r}; use one of {', '.join(HOTSPOT_CLASSES)}."
    raise ValueError(msg)


def plant_hotspots(
    city: City,
    month_labels: tuple[str, ...],
    subject_of: dict[str, tuple[str, str]],
    rng: np.random.Generator,
    *,
    per_class: int = 2,
) -> pd.DataFrame:
    """Choose hotspot centres, radii, subjects and monthly intensities.

    Parameters
    ----------
    city : City
        Where the centres are drawn (busier neighborhoods are likelier).
    month_labels : tuple of str
        The Jalali months of the period (``"1401-01"``, ...).
    subject_of : dict
        Subcategory code -> ``(category, subcategory)`` for :data:`HOTSPOT_SUBJECTS`.
    rng : numpy.random.Generator
        Source of randomness.
    per_class : int, default 2
        Hotspots per class.

    Returns
    -------
    pandas.DataFrame
        One row per hotspot: ``hotspot_id``, ``hotspot_class``, ``lon``, ``lat``,
        ``radius_m``, ``category``, ``subcategory``, ``neighborhood_code``,
        ``region_code``, ``active_months`` (labels with intensity > 0),
        ``month_intensity`` (one value per month of the period).
    """
    n_months = len(month_labels)
    classes = [c for c in HOTSPOT_CLASSES for _ in range(per_class)]
    n = len(classes)
    hood = rng.choice(len(city.hoods), size=n, replace=False, p=city.hoods["weight"].to_numpy())
    pick = rng.integers(city.pool_lon.shape[1], size=n)
    subjects = [HOTSPOT_SUBJECTS[i % len(HOTSPOT_SUBJECTS)] for i in rng.permutation(n)]
    intensity = [class_intensity(c, n_months, rng) for c in classes]
    return pd.DataFrame(
        {
            HOTSPOT_ID: np.arange(n, dtype=np.int64),
            HOTSPOT_CLASS: classes,
            s.LON: city.pool_lon[hood, pick],
            s.LAT: city.pool_lat[hood, pick],
            RADIUS_M: rng.uniform(_MIN_RADIUS_M, _MAX_RADIUS_M, size=n).round(0),
            s.CATEGORY: [subject_of[x][0] for x in subjects],
            s.SUBCATEGORY: [subject_of[x][1] for x in subjects],
            s.NEIGHBORHOOD_CODE: city.hoods[s.CODE].to_numpy()[hood],
            s.REGION_CODE: city.hoods[s.REGION_CODE].to_numpy()[hood],
            ACTIVE_MONTHS: [
                [m for m, w in zip(month_labels, x, strict=True) if w > 0] for x in intensity
            ],
            MONTH_INTENSITY: [x.round(3).tolist() for x in intensity],
        }
    )


def scatter_around(
    lon: np.ndarray, lat: np.ndarray, radius_m: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw one point per row around a centre, within ``radius_m`` metres (denser at the centre).

    Offsets are normal with a standard deviation of half the radius, shrunk onto the disc,
    and applied in EPSG:32639 metres.

    Returns
    -------
    tuple of numpy.ndarray
        ``(lon, lat)`` in EPSG:4326.
    """
    to_m = pyproj.Transformer.from_crs(STORAGE_CRS, METRIC_CRS, always_xy=True)
    x, y = to_m.transform(lon, lat)
    dx = rng.normal(0.0, 0.5, size=len(lon)) * radius_m
    dy = rng.normal(0.0, 0.5, size=len(lon)) * radius_m
    norm = np.hypot(dx, dy)
    shrink = np.where(norm > radius_m, radius_m / np.maximum(norm, 1e-9), 1.0)
    back = pyproj.Transformer.from_crs(METRIC_CRS, STORAGE_CRS, always_xy=True)
    out_lon, out_lat = back.transform(np.asarray(x) + dx * shrink, np.asarray(y) + dy * shrink)
    return np.asarray(out_lon, dtype=np.float64), np.asarray(out_lat, dtype=np.float64)
