"""Alembic migrations of the catalog, shipped inside the package and configured in code.

No ``alembic.ini`` is needed: :func:`alembic_config` builds the configuration. To write a new
revision during development::

    from alembic import command
    from dossiers.migrations import alembic_config
    command.revision(alembic_config("sqlite:///var/dev.db"), message="...", autogenerate=True)

Upgrades take a lock first (``pg_advisory_xact_lock`` on PostgreSQL, ``BEGIN IMMEDIATE`` on
SQLite through the catalog engine), so several processes starting at once migrate once.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

__all__ = ["MIGRATIONS_DIR", "alembic_config", "upgrade", "current_revision", "head_revision"]

MIGRATIONS_DIR = Path(__file__).resolve().parent
# Any fixed 64-bit number: the key of the advisory lock held while migrating on PostgreSQL.
ADVISORY_LOCK_KEY = 0x636F6E756D  # "conum"
# Alembic's ``context`` and ``op`` are module globals: one upgrade at a time in a process (threads of a
# worker opening their catalog at once would otherwise break each other's migration, or deadlock)
_UPGRADE_LOCK = threading.Lock()


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Upgrade the database behind ``connection``.

    If the caller has begun a transaction, the migration runs inside it and the caller commits;
    otherwise the migration commits its own transaction.
    """
    with _UPGRADE_LOCK:
        command.upgrade(alembic_config(connection=connection), revision)


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
