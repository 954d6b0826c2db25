"""folium maps for notebooks: KPI choropleths, hotspots, heat maps and case markers.

Each helper returns a :class:`folium.Map` (shown inline by Jupyter, ``.save("map.html")`` to
share):

- :func:`choropleth` (:mod:`.areas`): a KPI by area, classed with mapclassify;
- :func:`hotspots` (:mod:`.hotspot_layers`): a fitted Gi*, emerging or density estimator;
- :func:`heatmap` and :func:`cases` (:mod:`.points`): case locations, the markers with
  Jalali dates in their popups and clustered beyond a few thousand.

Labels are Persian by default (``lang="en"`` for English, :mod:`.labels`). ``tiles=None`` (the
default) draws on a blank base with no tile server, so the map works offline; pass
``tiles="OpenStreetMap"`` for a tile layer. Give ``m=`` a map from another helper to add a
layer onto it: a layer control appears once a map holds two layers. Polygons are simplified in
metres (EPSG:32639) before they are written (:mod:`.shapes`). Points become folium's
``[lat, lon]`` in one function only, :func:`latlon` (:mod:`.coords`).
"""

from . import areas as areas
from . import canvas as canvas
from . import coords as coords
from . import hotspot_layers as hotspot_layers
from . import labels as labels
from . import points as points
from . import shapes as shapes
from .areas import choropleth as choropleth
from .coords import latlon as latlon
from .hotspot_layers import hotspots as hotspots
from .points import cases as cases
from .points import heatmap as heatmap
