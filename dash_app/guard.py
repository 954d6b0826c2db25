"""Refuse staff-only callback outputs to anonymous visitors before Dash runs the callback.

This is a first line only: :mod:`dash_app.data` refuses the same data by role anyway.
"""

from __future__ import annotations

from typing import Any

import flask

from . import auth, ids

UPDATE_PATH_SUFFIX = "/_dash-update-component"


def _output_ids(body: Any) -> set[str]:
    """Return the component ids a callback request asks to update."""
    found: set[str] = set()
    if not isinstance(body, dict):
        return found
    outputs = body.get("outputs")
    items = outputs if isinstance(outputs, list) else [outputs]
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            found.add(item["id"])
    text = body.get("output")
    if isinstance(text, str):
        found.update(part.split(".")[0] for part in text.strip(".").split("..."))
    return found


def refused(body: Any, viewer: auth.Viewer) -> bool:
    """Return whether a callback request must be refused to ``viewer``."""
    return not viewer.is_staff and bool(_output_ids(body) & ids.STAFF_OUTPUTS)


def install(server: flask.Flask) -> None:
    """Register the guard as a ``before_request`` hook of ``server``."""

    @server.before_request
    def _guard() -> Any:
        request = flask.request
        if request.method != "POST" or not request.path.endswith(UPDATE_PATH_SUFFIX):
            return None
        if refused(request.get_json(silent=True), auth.current_viewer()):
            return flask.jsonify({"error": "log in to see this view"}), 403
        return None
