"""The raw status of a source reaches the store beside the mapped one (Open311, issue 4)."""

from __future__ import annotations

import json
from pathlib import Path

from geo.assign import BoundaryIndex
from geo.store import open_store
from geo.synthetic_geography import synthetic_boundaries
from ingest import schema as s
from ingest.pipeline import IngestOptions, ingest_file

from .helpers import KEY


def test_open311_raw_status_is_stored(tmp_path: Path) -> None:
    boundaries = synthetic_boundaries(n_regions=2, n_neighborhoods=6)
    inside = boundaries.iloc[[-1]].to_crs("EPSG:32639").representative_point()
    lon, lat = inside.to_crs("EPSG:4326").iloc[0].coords[0]
    records = [
        {
            "service_request_id": f"R{i}",
            "status": status,
            "service_name": "Pothole",
            "requested_datetime": "2024-03-01T10:00:00+03:30",
            "lat": lat,
            "long": lon,
        }
        for i, status in enumerate(["open", "closed", "acknowledged"])
    ]
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    with open_store(str(tmp_path / "store")) as store:
        store.write_boundaries(boundaries)
        report = ingest_file(
            path,
            store,
            BoundaryIndex.from_boundaries(boundaries),
            IngestOptions(key=KEY, source_format="open311", city="testville"),
        )
        back = store.read_cases(columns=[s.CASE_ID, s.STATUS, s.STATUS_RAW], geometry=False)
    assert report.run.inserted == 3
    raw = dict(zip(back[s.CASE_ID], back[s.STATUS_RAW], strict=True))
    assert raw == {"R0": "open", "R1": "closed", "R2": "acknowledged"}
    assert set(back[s.STATUS].astype(str)) <= set(s.STATUSES)
