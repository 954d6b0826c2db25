"""The project's error hierarchy.

Every error the project raises on purpose derives from :class:`T137Error` and from the
builtin that fits, so callers may catch either. Messages say what went wrong, where
(file, row, column) and how to fix it, in one sentence.
"""

from __future__ import annotations


class T137Error(Exception):
    """Base of every error the project raises on purpose."""


class InputError(T137Error, ValueError):
    """An input file, frame or argument cannot be used as given."""


class BoundaryError(InputError):
    """A boundary layer cannot be read or does not fit the boundary model."""


class CRSError(InputError):
    """A geometry is in a CRS other than the one required."""


class StoreError(T137Error, RuntimeError):
    """The case store cannot be opened, read or written."""


class NotFittedError(T137Error, AttributeError):
    """An estimator was used before ``fit``."""
