"""Serve the dashboard for the benchmark, as ``t137 serve --open`` does, plus two bench routes.

Run as ``python bench/_dashboard_server.py STORE PORT``. The app is
:func:`dash_app.create_app` with ``require_login=False`` (every visitor is a manager, so
loopback only), served by ``app.run`` (Flask's threaded server, as ``t137 serve``). Two
routes are added for the benchmark, outside the app's own code:

- ``GET /_bench/ping``: an empty response through the same server (the baseline request);
- ``POST /_bench/cache-clear``: clear the app's data cache (for cold measurements).

Prints ``READY <port>`` on stdout when the server is about to listen.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PING: Final = "/_bench/ping"
CACHE_CLEAR: Final = "/_bench/cache-clear"
HOST: Final = "127.0.0.1"


def main() -> None:
    """Serve the store ``argv[1]`` on loopback port ``argv[2]``."""
    import flask

    from dash_app import AppSettings, create_app, data

    store, port = sys.argv[1], int(sys.argv[2])
    app = create_app(AppSettings(store_url=store, require_login=False))
    server = app.server

    def _ping() -> flask.Response:
        return flask.Response("ok", mimetype="text/plain")

    def _cache_clear() -> flask.Response:
        data.service(server).cache.clear()
        return flask.Response("cleared", mimetype="text/plain")

    server.add_url_rule(PING, "bench_ping", _ping, methods=["GET"])
    server.add_url_rule(CACHE_CLEAR, "bench_cache_clear", _cache_clear, methods=["POST"])

    print(f"READY {port}", flush=True)
    app.run(host=HOST, port=port, debug=False)


if __name__ == "__main__":
    main()
