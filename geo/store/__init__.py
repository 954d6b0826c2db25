"""The case store: one interface (:class:`CaseStore`), an embedded and a PostGIS backend.

Open a store with :func:`open_store`; read cases with :class:`CaseFilter`.
"""

from . import base as base
from . import chain as chain
from . import filters as filters
from . import frames as frames
from . import read_model as read_model
from .base import CaseStore as CaseStore
from .base import IngestBatch as IngestBatch
from .base import IngestRun as IngestRun
from .base import StoreInfo as StoreInfo
from .base import UpsertCounts as UpsertCounts
from .filters import CaseFilter as CaseFilter
from .open import open_store as open_store

__all__ = [
    "CaseFilter",
    "CaseStore",
    "IngestBatch",
    "IngestRun",
    "StoreInfo",
    "UpsertCounts",
    "base",
    "chain",
    "filters",
    "frames",
    "open_store",
    "read_model",
]
