"""The PostGIS case store: GeoAlchemy2 models, Alembic migrations, COPY loads, SQL read model.

Open it with :func:`geo.store.open_store` and a ``postgresql+psycopg://`` URL, or directly::

    from geo.store.postgis import PostgisStore
    store = PostgisStore("postgresql+psycopg://t137@db:5432/t137")

Create or migrate the schema with ``t137 db upgrade`` (:func:`migrate.upgrade`).
"""

from . import migrate as migrate
from . import models as models
from .backend import PostgisStore as PostgisStore

__all__ = ["PostgisStore", "migrate", "models"]
