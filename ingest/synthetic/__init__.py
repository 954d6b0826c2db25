"""A synthetic 137 generator: the export CSV in the real format and its ground truth.

See :mod:`ingest.synthetic.generator` (entry points), :mod:`~ingest.synthetic.patterns`
(when), :mod:`~ingest.synthetic.space` (where), :mod:`~ingest.synthetic.lifecycle` (what
happens next), :mod:`~ingest.synthetic.addresses` (address text),
:mod:`~ingest.synthetic.dirty` (malformed rows) and :mod:`~ingest.synthetic.export_format`
(the header layout).
"""

from .generator import SynthConfig as SynthConfig
from .generator import SyntheticExport as SyntheticExport
from .generator import generate_137 as generate_137
from .generator import write_137 as write_137
