"""Telling the user to call ``fit`` first, scikit-learn style.

A fitted attribute (a name ending in ``_``, such as ``units_``) read before ``fit`` raises
:class:`geo.errors.NotFittedError` (an ``AttributeError``, so ``hasattr`` still works) with the
call to make, instead of Python's bare "object has no attribute".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from geo.errors import NotFittedError


def not_fitted_message(estimator: object, attribute: str | None = None) -> str:
    """Return the message of :class:`NotFittedError` for ``estimator``."""
    name = type(estimator).__name__
    call = getattr(type(estimator), "fit_call", "fit(cases)")
    then = f", then read .{attribute}" if attribute else ""
    return f"This {name} instance is not fitted yet: call .{call} first{then}."


def check_fitted(estimator: object, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has the fitted ``attribute``.

    Examples
    --------
    >>> from analytics.hotspots import GiStarHotspots
    >>> check_fitted(GiStarHotspots(), "units_")
    Traceback (most recent call last):
    ...
    geo.errors.NotFittedError: This GiStarHotspots instance is not fitted yet: call .fit(cases, ...
    """
    if attribute not in vars(estimator):
        raise NotFittedError(not_fitted_message(estimator, attribute))


class FittedAttributes:
    """Mixin: reading a fitted attribute before ``fit`` raises :class:`NotFittedError`."""

    #: The call shown in the message.
    fit_call: ClassVar[str] = "fit(cases)"

    if not TYPE_CHECKING:  # keep mypy's attribute checks on the estimators

        def __getattr__(self, name: str) -> object:
            if name.endswith("_") and not name.startswith("_"):
                raise NotFittedError(not_fitted_message(self, name))
            msg = f"{type(self).__name__!r} object has no attribute {name!r}"
            raise AttributeError(msg)
