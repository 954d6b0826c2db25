"""Alembic environment of the PostGIS case store.

Run programmatically by :func:`geo.store.postgis.schema.upgrade`, which passes an open
connection in ``config.attributes["connection"]``; with a plain ``alembic`` command line,
``sqlalchemy.url`` of the config is used instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from geo.store.postgis.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
