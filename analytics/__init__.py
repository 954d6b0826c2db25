"""Pure functions and estimators over (Geo)DataFrames: KPIs, rankings, hotspots and maps."""

from . import custody as custody
from . import duplicates as duplicates
from . import exports as exports
from . import hotspots as hotspots
from . import indicators as indicators
from . import maps as maps
from . import periods as periods
from . import quality as quality
from . import ranking as ranking
from . import rates as rates
from . import report as report
from . import survival as survival
from . import working_time as working_time
from .custody import referral_custody as referral_custody
from .duplicates import find_duplicates as find_duplicates
from .exports import export_bytes as export_bytes
from .exports import write_export as write_export
from .hotspots import DensityHotspots as DensityHotspots
from .hotspots import EmergingHotspots as EmergingHotspots
from .hotspots import GiStarHotspots as GiStarHotspots
from .hotspots import benjamini_hochberg as benjamini_hochberg
from .hotspots import latlng_to_cells as latlng_to_cells
from .hotspots import mann_kendall as mann_kendall
from .indicators import backlog_series as backlog_series
from .indicators import kpis as kpis
from .indicators import load_sla_targets as load_sla_targets
from .periods import period_labels as period_labels
from .periods import period_table as period_table
from .quality import case_flags as case_flags
from .quality import quality_flags as quality_flags
from .ranking import DEFAULT_WEIGHTS as DEFAULT_WEIGHTS
from .ranking import METRICS as METRICS
from .ranking import rank_areas as rank_areas
from .ranking import validate_weights as validate_weights
from .rates import wilson_interval as wilson_interval
from .survival import kaplan_meier as kaplan_meier
from .survival import km_quantiles as km_quantiles
from .working_time import iran_calendar as iran_calendar
from .working_time import load_holidays as load_holidays
from .working_time import wall_hours_between as wall_hours_between
from .working_time import working_hours_between as working_hours_between

#: The emerging-hotspot classes, and those the UI calls "recurring problem hotspots".
HOTSPOT_PATTERNS = hotspots.PATTERNS
RECURRING_HOTSPOTS = hotspots.RECURRING
