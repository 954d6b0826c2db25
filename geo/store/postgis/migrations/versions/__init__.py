"""Revisions of the PostGIS case store schema."""
