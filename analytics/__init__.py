"""Pure functions and estimators over (Geo)DataFrames: KPIs, rankings, hotspots and maps.

The submodules and the names below are imported on first use (PEP 562), so that
``from analytics.ranking import …`` or a command that needs no maps does not load
matplotlib, folium and scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
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

#: Submodules, loaded on first access.
SUBMODULES: Final = (
    "custody",
    "duplicates",
    "exports",
    "hotspots",
    "indicators",
    "maps",
    "periods",
    "quality",
    "ranking",
    "rates",
    "report",
    "survival",
    "working_time",
)
#: Public name to the submodule that defines it.
_DEFINED_IN: Final = {
    "referral_custody": "custody",
    "find_duplicates": "duplicates",
    "export_bytes": "exports",
    "write_export": "exports",
    "DensityHotspots": "hotspots",
    "EmergingHotspots": "hotspots",
    "GiStarHotspots": "hotspots",
    "benjamini_hochberg": "hotspots",
    "latlng_to_cells": "hotspots",
    "mann_kendall": "hotspots",
    "backlog_series": "indicators",
    "kpis": "indicators",
    "load_sla_targets": "indicators",
    "period_labels": "periods",
    "period_table": "periods",
    "case_flags": "quality",
    "quality_flags": "quality",
    "DEFAULT_WEIGHTS": "ranking",
    "METRICS": "ranking",
    "rank_areas": "ranking",
    "validate_weights": "ranking",
    "wilson_interval": "rates",
    "kaplan_meier": "survival",
    "km_quantiles": "survival",
    "iran_calendar": "working_time",
    "load_holidays": "working_time",
    "wall_hours_between": "working_time",
    "working_hours_between": "working_time",
}
#: Module constants derived from a submodule's.
_DERIVED: Final = {
    # the emerging-hotspot classes, and those the UI calls "recurring problem hotspots"
    "HOTSPOT_PATTERNS": ("hotspots", "PATTERNS"),
    "RECURRING_HOTSPOTS": ("hotspots", "RECURRING"),
}

__all__ = [*SUBMODULES, *_DEFINED_IN, *_DERIVED]


def __getattr__(name: str) -> Any:
    """Import a submodule, or the submodule defining ``name``, on first access."""
    if name in SUBMODULES:
        value: Any = importlib.import_module(f".{name}", __name__)
    elif name in _DEFINED_IN:
        value = getattr(importlib.import_module(f".{_DEFINED_IN[name]}", __name__), name)
    elif name in _DERIVED:
        module, attribute = _DERIVED[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    else:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
