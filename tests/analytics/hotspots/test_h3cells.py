from __future__ import annotations

import h3
import h3.api.basic_int as h3i
import numpy as np
import pytest

from analytics.hotspots.h3cells import cell_neighbors, cell_strings, latlng_to_cells
from geo.errors import InputError


def _scalar(lat: np.ndarray, lng: np.ndarray, res: int) -> np.ndarray:
    return np.array(
        [h3i.latlng_to_cell(a, b, res) for a, b in zip(lat, lng, strict=True)], dtype=np.uint64
    )


@pytest.mark.parametrize("resolution", [6, 8, 9, 12])
def test_matches_h3_on_random_points(resolution: int) -> None:
    rng = np.random.default_rng(resolution)
    n = 60_000
    lat = rng.uniform(35.55, 35.83, n)
    lng = rng.uniform(51.10, 51.65, n)
    got = latlng_to_cells(lat=lat, lng=lng, resolution=resolution)
    np.testing.assert_array_equal(got, _scalar(lat, lng, resolution))


def test_matches_h3_on_cell_vertices_and_centres() -> None:
    centre = h3i.latlng_to_cell(35.7, 51.4, 8)
    cells = list(h3i.grid_disk(centre, 3))
    pts = [h3i.cell_to_latlng(c) for c in cells]
    pts += [v for c in cells for v in h3i.cell_to_boundary(c)]
    # many points per grid cell, so the vectorized path (not the per-point one) runs
    rng = np.random.default_rng(0)
    extra = rng.uniform((35.68, 51.38), (35.72, 51.42), size=(20_000, 2))
    lat = np.concatenate([np.array([p[0] for p in pts]), extra[:, 0]])
    lng = np.concatenate([np.array([p[1] for p in pts]), extra[:, 1]])
    got = latlng_to_cells(lat=lat, lng=lng, resolution=8)
    # a vertex belongs to one of the cells meeting there; h3 picks one, and so must we
    want = _scalar(lat, lng, 8)
    n_centres = len(cells)
    np.testing.assert_array_equal(got[:n_centres], want[:n_centres])
    np.testing.assert_array_equal(got[len(pts) :], want[len(pts) :])
    vertex_got = got[n_centres : len(pts)]
    vertex_lat = lat[n_centres : len(pts)]
    vertex_lng = lng[n_centres : len(pts)]
    for c, a, b in zip(vertex_got, vertex_lat, vertex_lng, strict=True):
        near = {
            h3i.latlng_to_cell(a + da, b + db, 8) for da in (-1e-7, 1e-7) for db in (-1e-7, 1e-7)
        }
        assert int(c) in near


def test_sparse_points_use_the_per_point_path() -> None:
    lat = np.array([35.7, 35.8, 35.6])
    lng = np.array([51.4, 51.3, 51.5])
    got = latlng_to_cells(lat=lat, lng=lng, resolution=10)
    np.testing.assert_array_equal(got, _scalar(lat, lng, 10))


def test_empty_and_invalid_input() -> None:
    assert len(latlng_to_cells(lat=np.zeros(0), lng=np.zeros(0), resolution=8)) == 0
    with pytest.raises(InputError, match="resolution"):
        latlng_to_cells(lat=np.zeros(1), lng=np.zeros(1), resolution=16)
    with pytest.raises(InputError, match="finite"):
        latlng_to_cells(lat=np.array([np.nan]), lng=np.zeros(1), resolution=8)
    with pytest.raises(InputError, match="same length"):
        latlng_to_cells(lat=np.zeros(2), lng=np.zeros(1), resolution=8)


def test_neighbors_and_strings() -> None:
    c = h3i.latlng_to_cell(35.7, 51.4, 8)
    ring = sorted(h3i.grid_disk(c, 1))
    nb = cell_neighbors(ring)
    centre = ring.index(c)
    assert sorted(nb[centre]) == [i for i in range(7) if i != centre]
    assert all(centre in nb[i] for i in range(7) if i != centre)
    assert cell_strings([c]) == [h3.latlng_to_cell(35.7, 51.4, 8)]
