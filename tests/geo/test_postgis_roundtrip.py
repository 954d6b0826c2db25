"""A real PostGIS round trip of a boundary table through GeoAlchemy2."""

from __future__ import annotations

import geopandas as gpd
import pytest
import sqlalchemy as sa
from geoalchemy2 import Geometry

from ingest import schema as s

pytestmark = pytest.mark.postgis


def test_boundary_table_round_trips_through_postgis(
    postgis_url: str, synthetic_geo: gpd.GeoDataFrame
) -> None:
    engine = sa.create_engine(postgis_url)
    frame = synthetic_geo.head(30).copy()
    frame[s.GEOMETRY] = frame.geometry.apply(lambda g: g)  # keep a plain copy
    metadata = sa.MetaData()
    table = sa.Table(
        "roundtrip_boundaries",
        metadata,
        sa.Column(s.LEVEL, sa.Text, nullable=False),
        sa.Column(s.CODE, sa.Text, nullable=False),
        sa.Column(s.NAME_FA, sa.Text),
        sa.Column(s.NAME_EN, sa.Text),
        sa.Column(s.PARENT_CODE, sa.Text),
        sa.Column(s.POPULATION, sa.BigInteger),
        sa.Column(s.GEOMETRY, Geometry("GEOMETRY", srid=4326, spatial_index=True)),
    )
    metadata.create_all(engine)
    frame.to_postgis(table.name, engine, if_exists="append")
    back = gpd.read_postgis(sa.select(table).order_by(table.c.code), engine, geom_col=s.GEOMETRY)
    expected = frame.sort_values(s.CODE).reset_index(drop=True)
    assert back.crs is not None
    assert back.crs.equals(expected.crs)
    assert list(back[s.NAME_FA]) == list(expected[s.NAME_FA])
    assert back.geometry.geom_equals_exact(expected.geometry, tolerance=1e-12).all()
    with engine.connect() as conn:
        version = conn.execute(sa.text("SELECT postgis_version()")).scalar_one()
        has_index = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_indexes WHERE tablename = :t AND indexdef ILIKE '%gist%'"
            ),
            {"t": table.name},
        ).scalar_one()
    assert version.startswith("3.")
    assert has_index == 1
    engine.dispose()
