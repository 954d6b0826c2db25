"""Hotspots in metres (EPSG:32639): density clusters, Getis-Ord Gi*, emerging hot spots.

- :class:`DensityHotspots` (:mod:`.density`): DBSCAN/HDBSCAN clusters of cases per category,
  computed on a fine metric grid (:mod:`.grid`), with concave-hull outlines and summaries;
- :class:`GiStarHotspots` (:mod:`.gistar`): Gi* hot and cold spots on neighborhoods (queen
  contiguity) or H3 cells, with Benjamini–Hochberg FDR correction;
- :class:`EmergingHotspots` (:mod:`.emerging`): Gi* per time slice plus a Mann–Kendall trend,
  classified with the ArcGIS emerging hot spot patterns; :data:`RECURRING` lists the ones
  shown as recurring problems;
- :func:`latlng_to_cells` (:mod:`.h3cells`): H3 indexing of millions of points without a
  Python loop over them.
"""

from . import density as density
from . import emerging as emerging
from . import gistar as gistar
from . import grid as grid
from . import h3cells as h3cells
from . import units as units
from .density import DensityHotspots as DensityHotspots
from .density import grid_dbscan as grid_dbscan
from .emerging import PATTERNS as PATTERNS
from .emerging import RECURRING as RECURRING
from .emerging import EmergingHotspots as EmergingHotspots
from .emerging import classify_patterns as classify_patterns
from .emerging import mann_kendall as mann_kendall
from .gistar import GiStarHotspots as GiStarHotspots
from .gistar import benjamini_hochberg as benjamini_hochberg
from .gistar import gi_star as gi_star
from .h3cells import latlng_to_cells as latlng_to_cells
