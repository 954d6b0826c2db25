"""The public page's k-anonymity suppression (an app with a large k)."""

from __future__ import annotations

from pathlib import Path

from dash_app import AppSettings, create_app, data
from dash_app.callbacks import public


def test_public_table_suppresses_small_cells(store_path: Path) -> None:
    strict = create_app(AppSettings(store_url=str(store_path), k_anonymity=80))
    with strict.server.test_request_context():
        table = data.service().public_table("neighborhood", "volume")
        small = table["suppressed"]
        assert small.any()
        assert (~small).any()
        assert table.loc[small, "value"].isna().all()
        assert table.loc[small, "volume"].isna().all()
        assert (table.loc[~small, "volume"] >= 80).all()
        assert set(table.columns) == set(data.PUBLIC_COLUMNS)
        public_map, _bar, rows, _columns, _chain = public.public_outputs(
            "neighborhood", "volume", "en"
        )
    assert sum(r["value"] == "suppressed" for r in rows) == int(small.sum())
    names = [trace.name for trace in public_map.data]
    assert "suppressed" in names
