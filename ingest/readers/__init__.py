"""Readers of case sources: the 137 export, Open311 GeoReport v2, and any CSV with a mapping.

Each reader returns a :class:`~ingest.readers.result.ReadResult`. The reader modules are
imported on demand (``from ingest.readers import tehran137``).
"""

from .result import ReadResult as ReadResult
