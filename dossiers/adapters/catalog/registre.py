"""The catalog's archive ledger (a mixin of ``Catalog``): entries appended, streamed, found; anchors.

Appends are serialized across processes inside their transaction: on PostgreSQL by a transaction-level
advisory lock (``pg_advisory_xact_lock``, released at commit or rollback), on SQLite by the write lock
that every write transaction takes when it begins (``BEGIN IMMEDIATE``, see ``engine.py``). Under it the
head is read, the entries chained after it and inserted in one statement (executemany): a batch of
1 000 is one transaction. An inscription already in the ledger (same nature, key and SHA-256) appends
nothing, so a retried store is harmless; the unique constraint and the sequence primary key stay as
the last guard.

Entries are streamed by keyset pages (``sequence > last``), each page in its own short read: verifying
millions of rows holds one page in memory and no long transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, text
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.base import CatalogBase
from dossiers.adapters.catalog.tables import AncrageRow, RegistreRow
from dossiers.domain.registre import Ancrage, Entree, Inscription, chainer

__all__ = ["RegistreCatalog"]

PAGE = 5000
_ADVISORY_KEY = 0x636F6E756D526567  # "conumReg": the one lock that orders ledger appends
_ENTRY = (RegistreRow.sequence, RegistreRow.at, RegistreRow.nature, RegistreRow.key, RegistreRow.sha256,
          RegistreRow.prev_hash, RegistreRow.hash)
_ANCHOR = (AncrageRow.sequence, AncrageRow.hash, AncrageRow.token, AncrageRow.storage_key, AncrageRow.at)


class RegistreCatalog(CatalogBase):

    def registre_append(self, inscriptions: Sequence[Inscription], *, now: datetime) -> list[Entree]:
        """Append the inscriptions not yet in the ledger (in order, duplicates once); return the new entries."""
        if not inscriptions:
            return []
        with self._translate("l'inscription au registre"):
            with Session(self._writer) as session, session.begin():
                if self._engine.dialect.name == "postgresql":
                    session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_KEY})
                seen = _present(session, inscriptions)
                todo = []
                for i in inscriptions:
                    triple = (str(i.nature), i.key, i.sha256)
                    if triple not in seen:
                        seen.add(triple)
                        todo.append(i)
                if not todo:
                    return []
                head = session.execute(select(*_ENTRY).order_by(RegistreRow.sequence.desc()).limit(1)).first()
                entries = chainer(Entree(*head) if head else None, todo, at=now)
                session.execute(cast(Table, RegistreRow.__table__).insert(), [
                    {"sequence": e.sequence, "at": e.at, "nature": e.nature, "key": e.key, "sha256": e.sha256,
                     "prev_hash": e.prev_hash, "hash": e.hash} for e in entries])
                return entries

    def registre_head(self) -> Entree | None:
        with self._read("la lecture de la tête du registre") as session:
            row = session.execute(select(*_ENTRY).order_by(RegistreRow.sequence.desc()).limit(1)).first()
            return Entree(*row) if row else None

    def registre_entries(self, *, start: int = 1, stop: int | None = None, page: int = PAGE) -> Iterator[Entree]:
        """Entries from ``start`` to ``stop`` (inclusive; None: the end), in sequence order, page by page."""
        last = start - 1
        while True:
            stmt = select(*_ENTRY).where(RegistreRow.sequence > last).order_by(RegistreRow.sequence).limit(page)
            if stop is not None:
                stmt = stmt.where(RegistreRow.sequence <= stop)
            with self._read("la lecture du registre") as session:
                rows = session.execute(stmt).all()
            for row in rows:
                yield Entree(*row)
            if len(rows) < page:
                return
            last = rows[-1][0]

    def registre_find(self, sha256: str) -> list[Entree]:
        """The entries holding this SHA-256 (a document, a copy, a certificate), oldest first."""
        stmt = select(*_ENTRY).where(RegistreRow.sha256 == sha256).order_by(RegistreRow.sequence)
        with self._read("la recherche dans le registre") as session:
            return [Entree(*row) for row in session.execute(stmt)]

    def registre_record_anchor(self, ancrage: Ancrage) -> Ancrage:
        """Record an anchor (or return the one already recorded for its sequence)."""
        with self._translate(f"l'enregistrement de l'ancrage {ancrage.sequence}"):
            with Session(self._writer) as session, session.begin():
                session.execute(self._insert(AncrageRow).values(
                    sequence=ancrage.sequence, hash=ancrage.hash, token=ancrage.token, storage_key=ancrage.key,
                    at=ancrage.at).on_conflict_do_nothing())
                row = session.execute(select(*_ANCHOR).where(AncrageRow.sequence == ancrage.sequence)).one()
                return _anchor(row)

    def registre_anchors(self, *, page: int = 500) -> Iterator[Ancrage]:
        """Every anchor, in sequence order, page by page."""
        last = 0
        while True:
            stmt = select(*_ANCHOR).where(AncrageRow.sequence > last).order_by(AncrageRow.sequence).limit(page)
            with self._read("la lecture des ancrages du registre") as session:
                rows = session.execute(stmt).all()
            yield from (_anchor(r) for r in rows)
            if len(rows) < page:
                return
            last = rows[-1][0]

    def registre_last_anchor(self) -> Ancrage | None:
        stmt = select(*_ANCHOR).order_by(AncrageRow.sequence.desc()).limit(1)
        with self._read("la lecture du dernier ancrage") as session:
            row = session.execute(stmt).first()
            return _anchor(row) if row else None

    def registre_anchor_covering(self, sequence: int) -> Ancrage | None:
        """The first anchor at or after ``sequence`` (the one that proves that entry), if any yet."""
        stmt = select(*_ANCHOR).where(AncrageRow.sequence >= sequence).order_by(AncrageRow.sequence).limit(1)
        with self._read("la recherche de l'ancrage d'une entrée") as session:
            row = session.execute(stmt).first()
            return _anchor(row) if row else None


def _present(session: Session, inscriptions: Sequence[Inscription]) -> set[tuple[str, str, str]]:
    """The (nature, key, sha256) of these inscriptions already in the ledger (looked up by nature and key:
    the prefix of the unique index, so an append costs the same on an empty ledger and on millions of rows)."""
    found: set[tuple[str, str, str]] = set()
    for nature in sorted({str(i.nature) for i in inscriptions}):
        keys = sorted({i.key for i in inscriptions if str(i.nature) == nature})
        for start in range(0, len(keys), 500):
            stmt = select(RegistreRow.nature, RegistreRow.key, RegistreRow.sha256).where(
                RegistreRow.nature == nature, RegistreRow.key.in_(keys[start:start + 500]))
            found.update((str(n), str(k), str(s)) for n, k, s in session.execute(stmt))
    return found


def _anchor(row: Any) -> Ancrage:
    sequence, hash_, token, key, at = row
    return Ancrage(int(sequence), str(hash_), bytes(token), str(key), at)
