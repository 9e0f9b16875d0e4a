"""What every part of the catalog shares: the engines, the clock, the error translation, and the
structure upsert that dossiers and conventions both do in their transactions.

``Catalog`` is this base plus one mixin per concern (``conventions``, ``dossiers``, ``jobs``, …); each
mixin inherits the base, so its ``self`` is typed (no ``type: ignore``), and a mixin that needs another
concern's method inherits that mixin (pieces carry their decisions: ``DossierCatalog(DecisionCatalog)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from alembic.util.exc import CommandError
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.engine import writer
from dossiers.adapters.catalog.mapping import structure_from_row, structure_values
from dossiers.adapters.catalog.tables import ConventionRow, StructureRow
from dossiers.clock import Clock
from dossiers.domain.model import Structure
from dossiers.domain.structures import ecarts, reference
from dossiers.errors import CatalogError, ConumError, ErrorCode, StructureFigee

__all__ = ["CatalogBase", "champs_figes", "describe"]


class CatalogBase:
    """The engine (reads), the writer (writes, serialised on SQLite), the clock of the timestamps."""

    _insert: Callable[..., Any]  # the dialect's INSERT (``on_conflict_do_*``)

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock or Clock()  # the time of created_at/updated_at/recorded_at columns
        self._writer = writer(engine)
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    def _upsert_structure(self, session: Session, structure: Structure, now: datetime, *, figee: bool = True) -> None:
        """Insert or update; with ``figee``, a structure that has a convention keeps its facts."""
        if figee and (champs := champs_figes(session, structure)):
            raise StructureFigee(structure.id, champs)
        values = structure_values(structure, now=now)
        stmt = self._insert(StructureRow).values(**values, ref=reference(structure.departement, structure.id))
        stmt = stmt.on_conflict_do_update(  # the reference is the one of the first demande
            index_elements=["id"], set_={name: stmt.excluded[name] for name in values if name != "id"}
        )
        session.execute(stmt)

    @contextmanager
    def _read(self, action: str) -> Iterator[Session]:
        with self._translate(action), Session(self._engine) as session, session.begin():
            yield session

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        try:
            yield
        except ConumError:
            raise
        except CommandError as exc:  # Alembic: a schema revision this version does not know (a newer conum's)
            raise CatalogError(f"Catalogue : échec de {action} ({exc}).", code=ErrorCode.CATALOGUE_INCOHERENT) from exc
        except SQLAlchemyError as exc:  # the database did not answer, or refused for now: transient
            raise CatalogError(f"Catalogue : échec de {action} ({describe(exc)}).") from exc


def champs_figes(session: Session, structure: Structure) -> list[str]:
    """The facts of ``structure`` that differ from the stored ones, when the structure has a convention."""
    row = session.get(StructureRow, structure.id)
    if row is None:
        return []
    champs = ecarts(structure_from_row(row), structure)
    if champs and session.scalar(select(ConventionRow.id).where(ConventionRow.structure_id == structure.id).limit(1)):
        return champs
    return []


def describe(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0] if lines else ''}"
