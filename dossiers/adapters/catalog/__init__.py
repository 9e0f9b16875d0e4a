"""The catalog (SQLAlchemy): SQLite by default, PostgreSQL at scale, schema by Alembic."""

from __future__ import annotations

from dossiers.adapters.catalog.catalog import Catalog
from dossiers.adapters.catalog.engine import create_catalog_engine

__all__ = ["Catalog", "create_catalog_engine"]
