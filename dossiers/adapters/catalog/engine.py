"""Build the SQLAlchemy engine of the catalog from a URL (SQLite file or memory, PostgreSQL).

SQLite is configured for several processes sharing one file: WAL journal, a 30 s busy timeout,
foreign keys on, and transactions begun by SQLAlchemy rather than by the ``sqlite3`` module
(whose legacy mode starts them late and never for DDL). Transactions that write take the write
lock up front (``BEGIN IMMEDIATE``), so two writers queue instead of failing on a stale snapshot;
reads begin a plain ``BEGIN``. Use :func:`writer` to get the write-mode engine.

PostgreSQL URLs use psycopg 3 (``postgres://`` and ``postgresql://`` are both accepted).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from dossiers.errors import CatalogError, ErrorCode

__all__ = ["create_catalog_engine", "writer", "normalize_url"]

_WRITE_OPTION = "conum_write"
SQLITE_BUSY_TIMEOUT_S = 30.0
WAL_RETRY_S = 0.05


def normalize_url(url: str | URL) -> URL:
    """The URL with its psycopg 3 driver; a malformed address or another database is a setting to fix
    (``configuration_invalide``: never retried, exit 3), not a catalog that does not answer."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        what = "port illisible" if isinstance(exc, ValueError) else "adresse illisible"
        raise CatalogError(f"Adresse de base de données invalide (DATABASE_URL) : {what}.",  # no URL: a password
                           code=ErrorCode.CONFIGURATION_INVALIDE) from exc
    backend = parsed.get_backend_name()
    if backend == "postgres":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif backend not in {"sqlite", "postgresql"}:
        raise CatalogError(
            f"Base de données non prise en charge : {backend} (seules SQLite et PostgreSQL le sont).",
            code=ErrorCode.CONFIGURATION_INVALIDE,
        )
    return parsed


def _is_memory(url: URL) -> bool:
    database = url.database or ""
    return database in {"", ":memory:"} or "mode=memory" in str(url)


def create_catalog_engine(url: str | URL) -> Engine:
    """Create the engine; opens no connection. Creates the parent directory of a SQLite file."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    return _create_sqlite_engine(parsed)


def _create_sqlite_engine(url: URL) -> Engine:
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    memory = _is_memory(url)
    if memory:
        kwargs["poolclass"] = StaticPool
        kwargs["connect_args"]["check_same_thread"] = False
    elif url.database and not url.database.startswith("file:"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_begin)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            if not memory:
                _set_wal(cursor)
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _set_wal(cursor: Any) -> None:
    """Put the file in WAL mode. The switch needs the file to itself and SQLite answers "database is
    locked" at once, without its busy timeout, when another connection holds it (processes opening a
    fresh catalog together): try again for up to the busy timeout. A file already in WAL needs nothing."""
    if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        return
    for _ in range(int(SQLITE_BUSY_TIMEOUT_S / WAL_RETRY_S)):
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(WAL_RETRY_S)
    cursor.execute("PRAGMA journal_mode = WAL")  # the last try raises what SQLite says


def writer(engine: Engine) -> Engine:
    """The same engine (same pool), whose transactions take SQLite's write lock when they begin."""
    return engine.execution_options(**{_WRITE_OPTION: True})
