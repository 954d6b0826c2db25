"""Alembic migrations of the PostGIS case store (env.py, versions/)."""
