"""A minimal Dash HTTP client for the dashboard benchmark (what a browser sends, without one).

:class:`DashClient` keeps one keep-alive ``http.client`` connection (one per simulated user)
and times each request from send to the last byte read. Callback requests are built from the
app's own ``/_dash-dependencies``, so the benchmark follows the app's callback signatures:
every input and state gets the value given for it, else the value the page layout set, else
None.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

UPDATE: Final = "/_dash-update-component"
JSON_HEADERS: Final = {"Content-Type": "application/json", "Accept": "application/json"}
#: The Dash pages callback that renders a page's layout from the URL.
PAGES_OUTPUT: Final = ".._pages_content.children..._pages_store.data.."


class BenchHTTPError(RuntimeError):
    """A request of the benchmark failed (status, or a malformed callback answer)."""


@dataclass(frozen=True)
class Callback:
    """One server-side callback as ``/_dash-dependencies`` describes it.

    Attributes
    ----------
    output : str
        Dash's output key (``map-graph.figure`` or ``..a.b...c.d..`` for several).
    outputs : tuple of (str, str)
        ``(component id, property)`` of each output.
    inputs, state : tuple of (str, str)
        ``(component id, property)`` of each input and state, in order.
    """

    output: str
    outputs: tuple[tuple[str, str], ...]
    inputs: tuple[tuple[str, str], ...]
    state: tuple[tuple[str, str], ...]

    @property
    def multi(self) -> bool:
        """Whether the callback has several outputs (Dash's ``..a...b..`` form)."""
        return self.output.startswith("..")

    def body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return the JSON body of a request, ``values`` keyed by ``"id.property"``."""

        def item(pair: tuple[str, str]) -> dict[str, Any]:
            key = f"{pair[0]}.{pair[1]}"
            return {"id": pair[0], "property": pair[1], "value": values.get(key)}

        outs = [{"id": i, "property": p} for i, p in self.outputs]
        return {
            "output": self.output,
            "outputs": outs if self.multi else outs[0],
            "inputs": [item(pair) for pair in self.inputs],
            "changedPropIds": [f"{i}.{p}" for i, p in self.inputs[:1]],
            "state": [item(pair) for pair in self.state],
        }


def parse_output(output: str) -> tuple[tuple[str, str], ...]:
    """Return the ``(id, property)`` pairs of a Dash output key."""
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    pairs = []
    for part in parts:
        component, _, prop = part.rpartition(".")
        pairs.append((component, prop))
    return tuple(pairs)


def callbacks_of(dependencies: list[dict[str, Any]]) -> dict[str, Callback]:
    """Return the server-side callbacks of ``/_dash-dependencies``, by output component id.

    A callback is listed under the id of each of its outputs (clientside callbacks are left
    out: they never reach the server).
    """
    found: dict[str, Callback] = {}
    for dep in dependencies:
        if dep.get("clientside_function"):
            continue
        callback = Callback(
            output=dep["output"],
            outputs=parse_output(dep["output"]),
            inputs=tuple((str(i["id"]), str(i["property"])) for i in dep["inputs"]),
            state=tuple((str(i["id"]), str(i["property"])) for i in dep["state"]),
        )
        for component, _ in callback.outputs:
            found[component] = callback
    return found


def layout_values(node: Any) -> dict[str, Any]:
    """Return ``{"id.property": value}`` of every prop of every component with a string id."""
    out: dict[str, Any] = {}
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            props = item.get("props")
            if isinstance(props, dict) and isinstance(props.get("id"), str):
                for key, value in props.items():
                    if key not in ("id", "children"):
                        out[f"{props['id']}.{key}"] = value
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return out


@dataclass(frozen=True)
class Timed:
    """One timed request: seconds from send to last byte, status, body size, parsed JSON."""

    seconds: float
    status: int
    size: int
    payload: Any


class DashClient:
    """One simulated browser: a keep-alive connection to ``host:port``.

    Parameters
    ----------
    host, port : str, int
        The served app.
    timeout_s : float
        Socket timeout of each request, in seconds.
    """

    def __init__(self, host: str, port: int, *, timeout_s: float = 120.0) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        """Close the connection (a new one opens on the next request)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, body: Any = None, *, parse: bool = False) -> Timed:
        """Send one request and read the whole answer.

        Raises
        ------
        BenchHTTPError
            If the status is not 200 (the connection is then closed).
        """
        data = None if body is None else json.dumps(body).encode("utf-8")
        headers = JSON_HEADERS if data is not None else {}
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        started = time.perf_counter()
        try:
            self._conn.request(method, path, body=data, headers=headers)
            response = self._conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        seconds = time.perf_counter() - started
        if response.status != 200:
            self.close()
            msg = f"{method} {path} answered {response.status}: {raw[:200]!r}"
            raise BenchHTTPError(msg)
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        payload = json.loads(raw) if parse else None
        return Timed(seconds, response.status, len(raw), payload)

    def callback(self, callback: Callback, values: Mapping[str, Any]) -> Timed:
        """POST one callback request and check the answer holds its outputs.

        Raises
        ------
        BenchHTTPError
            If the status is not 200 or an output is missing from the answer.
        """
        timed = self.request("POST", UPDATE, callback.body(values), parse=True)
        answer = timed.payload.get("response", {}) if isinstance(timed.payload, dict) else {}
        for component, prop in callback.outputs:
            if prop not in answer.get(component, {}):
                msg = f"callback {callback.output} answered without {component}.{prop}"
                raise BenchHTTPError(msg)
        return timed
