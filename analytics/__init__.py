"""Pure functions and estimators over (Geo)DataFrames: KPIs, rankings, hotspots and maps."""

from . import indicators as indicators
from . import periods as periods
from . import ranking as ranking
from . import rates as rates
from . import survival as survival
from . import working_time as working_time
from .indicators import backlog_series as backlog_series
from .indicators import kpis as kpis
from .indicators import load_sla_targets as load_sla_targets
from .periods import period_labels as period_labels
from .periods import period_table as period_table
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
