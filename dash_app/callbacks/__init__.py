"""Thin callbacks: each parses its inputs, calls :mod:`dash_app.data`, then a figure or view."""

from __future__ import annotations

import dash

from . import cases as cases
from . import filters as filters
from . import overview as overview
from . import pages as pages
from . import public as public
from . import quality as quality
from . import shell as shell
from . import url_state as url_state


def register(app: dash.Dash) -> None:
    """Register every callback of the app on ``app``."""
    shell.register(app)
    overview.register(app)
    pages.register(app)
    public.register(app)
    cases.register(app)
    quality.register(app)
    filters.register(app)
    url_state.register(app)
