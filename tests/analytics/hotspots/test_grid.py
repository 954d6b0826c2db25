from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from analytics.hotspots.grid import grid_cells, metric_xy, to_lonlat
from geo.errors import InputError
from ingest import schema as s


def test_grid_cells_counts_and_inverse() -> None:
    x = np.array([0.5, 9.9, 10.0, -0.1, 25.0])
    y = np.array([0.5, 9.9, 0.0, 0.0, 25.0])
    g = grid_cells(x, y, 10.0)
    assert g.count.sum() == len(x)
    # each point's cell contains the point
    assert np.all(g.ix[g.inverse] * 10.0 <= x)
    assert np.all(x < (g.ix[g.inverse] + 1) * 10.0)
    assert np.all(g.iy[g.inverse] * 10.0 <= y)
    assert g.count[g.inverse[0]] == 2  # (0.5, 0.5) and (9.9, 9.9) share a cell
    assert set(zip(g.ix.tolist(), g.iy.tolist(), strict=True)) == {(0, 0), (1, 0), (-1, 0), (2, 2)}


def test_grid_cells_anchor_does_not_depend_on_other_points() -> None:
    a = grid_cells(np.array([15.0]), np.array([15.0]), 10.0)
    b = grid_cells(np.array([15.0, 1000.0]), np.array([15.0, -400.0]), 10.0)
    assert (a.ix[0], a.iy[0]) == (b.ix[b.inverse[0]], b.iy[b.inverse[0]])
    assert a.x_m[0] == 15.0


def test_grid_cells_rejects_bad_cell() -> None:
    with pytest.raises(InputError, match="cell_m"):
        grid_cells(np.zeros(1), np.zeros(1), 0.0)


def test_metric_xy_from_lonlat_and_from_geometry_agree() -> None:
    frame = pd.DataFrame({s.LON: [51.39, 51.40], s.LAT: [35.69, 35.70]})
    x, y = metric_xy(frame)
    gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(frame[s.LON], frame[s.LAT]), crs=4326)
    gx, gy = metric_xy(gdf)
    np.testing.assert_allclose(x, gx)
    np.testing.assert_allclose(y, gy)
    # about 0.01 degrees of longitude apart at 35.7 N: roughly 905 m
    assert 880 < x[1] - x[0] < 930
    lon, lat = to_lonlat(x, y)
    np.testing.assert_allclose(lon, frame[s.LON], atol=1e-9)
    np.testing.assert_allclose(lat, frame[s.LAT], atol=1e-9)


def test_metric_xy_refuses_missing_coordinates() -> None:
    with pytest.raises(InputError, match="missing"):
        metric_xy(pd.DataFrame({s.LON: [51.4, None], s.LAT: [35.7, 35.7]}))
    with pytest.raises(InputError, match="lon"):
        metric_xy(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(InputError, match="CRS"):
        metric_xy(gpd.GeoDataFrame(geometry=gpd.points_from_xy([1.0], [2.0])))
