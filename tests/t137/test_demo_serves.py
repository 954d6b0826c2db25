"""`make demo` ends by serving the dashboard: start ``t137 demo`` and fetch its pages."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status), response.read().decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_demo_builds_the_store_and_serves_the_dashboard(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        str(Path(sys.executable).with_name("t137")),
        "demo",
        "--geography",
        "synthetic",
        "--points",
        "500",
        "--cases",
        "2000",
        "--out",
        str(tmp_path),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 240
        status, body = 0, ""
        while time.monotonic() < deadline:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"t137 demo exited with {process.returncode}:\n{output}")
            try:
                status, body = _get(f"http://127.0.0.1:{port}/")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert status == 200
        assert "_dash-config" in body
        layout_status, layout = _get(f"http://127.0.0.1:{port}/_dash-layout")
        assert layout_status == 200
        assert layout.startswith("{")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    assert (tmp_path / "store" / "manifest.json").exists()
