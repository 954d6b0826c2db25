from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from geo.errors import InputError
from ingest import schema as s
from ingest.readers.open311 import fetch_open311, read_open311, read_open311_endpoint

from .helpers import KEY, accounted, reasons

NOW = pd.Timestamp("2024-06-01", tz="UTC")
START = datetime(2023, 1, 1, tzinfo=UTC)


def request(i: int, **fields: object) -> dict[str, object]:
    created = START + timedelta(hours=7 * i)
    base: dict[str, object] = {
        "service_request_id": str(1000 + i),
        "status": "closed" if i % 2 else "open",
        "service_name": "Pothole" if i % 3 else "آسفالت",
        "service_code": "PH",
        "description": "hole",
        "agency_responsible": "DOT",
        "requested_datetime": created.isoformat(),
        "updated_datetime": (created + timedelta(hours=5)).isoformat(),
        "address": "1 Main St",
        "lat": 40.7 + i * 1e-4,
        "long": -74.0,
    }
    base.update(fields)
    return base


def test_file_is_read_with_raw_status_and_offsets(tmp_path: Path) -> None:
    records = [
        request(1),
        request(2, status="acknowledged", service_name="آسفالت"),
        request(3, requested_datetime="2023-01-01T10:00:00"),  # no offset: refused
        request(4, requested_datetime="2023-01-01 10:00:00+03:30", status="Closed"),
        "not a record",
        request(6, status="closed", updated_datetime="2023-13-01T00:00:00Z"),
    ]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    result = read_open311(path, city="testville", key=KEY, now=NOW)
    assert accounted(result) == {1, 2, 3, 4, 5, 6}
    assert reasons(result) == {3: "date_no_offset", 5: "malformed_record", 6: "date_impossible"}
    assert result.quarantine[s.Q_COLUMN].tolist()[-1] == "updated_datetime"
    assert "«2023-13-01T00:00:00Z»" in result.quarantine[s.Q_MESSAGE].iloc[-1]
    cases = result.cases
    assert cases[s.SOURCE].unique().tolist() == ["open311:testville"]
    assert cases[s.STATUS].tolist() == ["closed", "referred", "closed"]
    assert cases[s.STATUS_RAW].tolist() == ["closed", "acknowledged", "Closed"]
    assert cases.loc[4, s.CREATED_AT] == pd.Timestamp("2023-01-01 06:30", tz="UTC")
    assert cases.loc[1, s.CLOSED_AT] == cases.loc[1, s.CREATED_AT] + pd.Timedelta(hours=5)
    assert pd.isna(cases.loc[2, s.CLOSED_AT])  # open requests are not closed
    assert cases.loc[1, s.CATEGORY] == "other"
    assert cases.loc[2, s.CATEGORY] == "technical"  # "آسفالت" is a taxonomy label
    message = result.quarantine[s.Q_MESSAGE].iloc[0]
    assert message.startswith("requests.json, record 3, column «requested_datetime»")


def test_not_a_list_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(InputError, match="no list of service requests"):
        read_open311(path, city="x", key=KEY)
    path.write_text("{", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        read_open311(path, city="x", key=KEY)


class _Server:
    """A GeoReport v2 endpoint serving ``records`` with a page limit, logging queries."""

    def __init__(self, records: list[dict[str, object]], limit: int) -> None:
        self.records = records
        self.limit = limit
        self.queries: list[dict[str, str]] = []

    def handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                server.queries.append(query)
                lo = datetime.fromisoformat(query["start_date"].replace("Z", "+00:00"))
                hi = datetime.fromisoformat(query["end_date"].replace("Z", "+00:00"))
                found = [
                    r
                    for r in server.records
                    if lo <= datetime.fromisoformat(str(r["requested_datetime"])) <= hi
                ]
                body = json.dumps(found[: server.limit]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def endpoint() -> Iterator[tuple[str, _Server]]:
    records = [request(i) for i in range(300)]  # one every 7 hours: ~87 days
    state = _Server(records, limit=50)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), state.handler())
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/open311/v2/requests.json", state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_paging_by_date_windows_gets_every_record_once(endpoint: tuple[str, _Server]) -> None:
    url, state = endpoint
    records = fetch_open311(
        url, start=START, end=START + timedelta(days=100), window_days=30, page_limit=50
    )
    ids = [r["service_request_id"] for r in records]
    assert sorted(ids) == sorted(str(1000 + i) for i in range(300))
    assert len(ids) == len(set(ids))
    # Windows of 30 days hold ~100 records: each was halved until under the limit.
    assert len(state.queries) > 4
    assert all("start_date" in q and q["start_date"].endswith("Z") for q in state.queries)


def test_endpoint_reader_with_extra_parameters(endpoint: tuple[str, _Server]) -> None:
    url, state = endpoint
    result = read_open311_endpoint(
        url,
        city="local",
        key=KEY,
        start=START,
        end=START + timedelta(days=10),
        window_days=5,
        page_limit=50,
        params={"jurisdiction_id": "test.gov"},
        now=NOW,
    )
    assert result.kept == len([i for i in range(300) if 7 * i <= 240])
    assert result.source_file == url
    assert state.queries[0]["jurisdiction_id"] == "test.gov"


def test_unreachable_endpoint_and_naive_dates_fail_clearly() -> None:
    with pytest.raises(InputError, match="timezone-aware"):
        fetch_open311(
            "http://127.0.0.1:9/x.json", start=datetime(2023, 1, 1), end=datetime(2023, 2, 1)
        )
    with pytest.raises(InputError, match=r"Cannot reach http://127\.0\.0\.1:9/x\.json \("):
        fetch_open311(
            "http://127.0.0.1:9/x.json?api_key=SECRET",
            start=START,
            end=START + timedelta(days=1),
            timeout_s=2,
        )
