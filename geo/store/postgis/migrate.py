"""Alembic migrations of the PostGIS store, run programmatically.

The migration scripts live inside the package (``migrations/``), so ``t137 db upgrade``
works from an installed wheel: :func:`alembic_config` points ``script_location`` at that
folder and hands Alembic an open connection instead of an ``alembic.ini``.

Opening a store checks the schema with :func:`schema_state`: a database without any of
the store's tables is created on the spot (nothing can be lost); a database at an older
revision is refused with a message asking for ``t137 db upgrade``, because migrating a
shared database is an operator's decision.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Final

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS: Final = Path(__file__).resolve().parent / "migrations"
#: Session-level advisory lock key that serializes concurrent migrations.
MIGRATION_LOCK: Final = 137_000_001


class SchemaState(Enum):
    """Where a database stands against the migrations shipped with this package."""

    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"
    AHEAD = "ahead"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Return an Alembic config for the package's migrations.

    Parameters
    ----------
    connection : sqlalchemy.Connection, optional
        Connection the migrations run on (passed to ``env.py`` through
        ``config.attributes``).

    Returns
    -------
    alembic.config.Config
        A config with ``script_location`` set to the package's ``migrations`` folder.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """Return the newest revision shipped with this package."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        msg = f"no Alembic revisions found in {MIGRATIONS}"
        raise RuntimeError(msg)
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """Return the revision the database is at, or None when it was never migrated."""
    return MigrationContext.configure(connection).get_current_revision()


def schema_state(connection: sa.Connection) -> tuple[SchemaState, str | None]:
    """Return the state of the database's schema and its current revision."""
    current = current_revision(connection)
    if current is None:
        return SchemaState.EMPTY, None
    if current == head_revision():
        return SchemaState.CURRENT, current
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    return (SchemaState.BEHIND if current in known else SchemaState.AHEAD), current


def upgrade(engine: sa.Engine, revision: str = "head") -> tuple[str | None, str]:
    """Migrate the database of ``engine`` to ``revision``.

    Concurrent callers are serialized by an advisory lock, so two processes opening a
    fresh database at once do not both create the tables.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        Engine of the target database.
    revision : str, default "head"
        Target revision.

    Returns
    -------
    tuple of (str or None, str)
        The revision before and after.
    """
    with engine.connect() as connection:
        connection.execute(sa.select(sa.func.pg_advisory_lock(MIGRATION_LOCK)))
        connection.commit()
        try:
            before = current_revision(connection)
            connection.commit()
            command.upgrade(alembic_config(connection), revision)
            connection.commit()
            after = current_revision(connection) or revision
        finally:
            connection.rollback()
            connection.execute(sa.select(sa.func.pg_advisory_unlock(MIGRATION_LOCK)))
            connection.commit()
    return before, after
