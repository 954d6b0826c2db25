"""Where things are and where they are kept: boundaries, CRS, point assignment and stores.

The notebook API of this package (``docs/api.md``): :func:`geo.read_boundaries`,
:func:`geo.assign.assign_frame` and :func:`geo.assign.assign_points` (the module
:mod:`geo.assign`), and :func:`geo.store.open_store`.
"""

from .boundaries import read_boundaries as read_boundaries
