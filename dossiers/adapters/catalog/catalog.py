"""The catalog repository: one class, ``Catalog``, made of one mixin per concern.

``conventions`` (structures, conventions, versions, documents), ``dossiers`` (dossiers, pieces),
``paiements``, ``evenements``, ``jobs``, ``archives``, ``acces`` (tokens, agents, audit),
``reemissions``, ``registre``, ``decisions``, ``ds``, ``webhooks``; each satisfies one repository
Protocol of :mod:`dossiers.ports`, and ``Catalog`` satisfies them all (``dossiers.ports.Catalog``).

Domain values go in and come out (``dossiers.domain.model``); rows stay inside this package.
Every SQLAlchemy or Alembic error is translated into ``CatalogError`` (``raise ... from exc``).
The in-memory catalog of the fast tests is this one on SQLite ``:memory:`` (``Catalog.open("sqlite://")``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, select

from dossiers import migrations
from dossiers.adapters.catalog.a_traiter import ATraiterCatalog
from dossiers.adapters.catalog.acces import AccesCatalog
from dossiers.adapters.catalog.archives import ArchiveCatalog
from dossiers.adapters.catalog.conventions import ConventionCatalog
from dossiers.adapters.catalog.decisions import DecisionCatalog
from dossiers.adapters.catalog.dossiers import DossierCatalog
from dossiers.adapters.catalog.ds import DsCatalog
from dossiers.adapters.catalog.engine import create_catalog_engine
from dossiers.adapters.catalog.evenements import EvenementCatalog
from dossiers.adapters.catalog.jobs import JobCatalog
from dossiers.adapters.catalog.paiements import PaiementCatalog
from dossiers.adapters.catalog.reemissions import ReemissionCatalog
from dossiers.adapters.catalog.registre import RegistreCatalog
from dossiers.adapters.catalog.webhooks import WebhookCatalog
from dossiers.clock import Clock
from dossiers.errors import CatalogError, ErrorCode

__all__ = ["Catalog"]


class Catalog(ReemissionCatalog, EvenementCatalog, ConventionCatalog, ATraiterCatalog, DossierCatalog, ArchiveCatalog,
              DecisionCatalog, PaiementCatalog, JobCatalog, AccesCatalog, RegistreCatalog, DsCatalog, WebhookCatalog):
    """Build it with :meth:`open`; ``Catalog(engine)`` wraps an engine made elsewhere."""

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, clock: Clock | None = None) -> Catalog:
        """Open the catalog at ``url``; with ``migrate``, upgrade the schema to the latest revision.

        Without ``migrate`` nothing connects until the first call.
        """
        catalog = cls(create_catalog_engine(url), clock=clock)
        if migrate:
            try:
                catalog.migrate()
            except BaseException:
                catalog.close()
                raise
        return catalog

    def __repr__(self) -> str:
        return f"Catalog({self._engine.url.render_as_string(hide_password=True)!r})"

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- schema -----------------------------------------------------------------------------

    def migrate(self) -> None:
        """Upgrade the schema to head (under a lock: concurrent starters migrate once)."""
        with self._translate("la migration du schéma"), self._writer.connect() as connection:
            sqlite_fk = connection.dialect.name == "sqlite"
            if sqlite_fk:  # SQLite rebuilds a table to drop a constraint: keys are checked after the copy
                _driver(connection).execute("PRAGMA foreign_keys = OFF")
            try:
                with connection.begin():
                    migrations.upgrade(connection)
                    if sqlite_fk and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                        raise CatalogError(f"Migration refusée : clés étrangères rompues ({broken[:5]}).",
                                           code=ErrorCode.CATALOGUE_INCOHERENT)
            finally:
                if sqlite_fk:
                    _driver(connection).execute("PRAGMA foreign_keys = ON")

    def current_revision(self) -> str | None:
        with self._translate("la lecture de la révision du schéma"), self._engine.connect() as connection:
            return migrations.current_revision(connection)

    def ping(self) -> None:
        """Raise ``CatalogError`` unless the database answers a query (``/readyz``)."""
        with self._read("la vérification du catalogue") as session:
            session.execute(select(1))


def _driver(connection: Connection) -> Any:
    """The DB-API connection under SQLAlchemy's (``sqlite3.Connection``: PRAGMAs outside a transaction)."""
    return connection.connection.driver_connection
