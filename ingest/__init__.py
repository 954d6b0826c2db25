"""Getting cases in: schema, readers, normalization, validation, quarantine and synthetic data.

Only the import-light :mod:`ingest.schema` is imported here, so that ``geo`` may read
column names from it without an import cycle.
"""

from . import schema as schema
