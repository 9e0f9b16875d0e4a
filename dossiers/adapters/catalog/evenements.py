"""The catalog's poste events (a mixin of ``Catalog``).

An event is recorded once per (convention, request id). Recording takes the convention's row lock
(``SELECT … FOR UPDATE`` on PostgreSQL; SQLite has one writer) and hands the poste's events as they
are then to the caller's check, so two contradictory events sent at once cannot both be kept: the
second is checked against the first. A transfer records its event and the two versions it makes
(the avenants of both conventions) in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.conventions import ConventionCatalog
from dossiers.adapters.catalog.mapping import normalize_version
from dossiers.adapters.catalog.tables import ConventionRow, EvenementRow, StructureRow
from dossiers.domain.evenements import evenement_from_json, evenement_to_json
from dossiers.domain.postes import EvenementPoste, NouvelEvenement, Source, VersionAEnregistrer, evenement_jour

__all__ = ["EvenementCatalog"]


def _from_row(row: EvenementRow) -> EvenementPoste:
    return EvenementPoste(seq=row.id, evenement=evenement_from_json(row.evenement), source=Source(row.source),
                          sha256=row.sha256, version=row.version, recorded_at=row.recorded_at)


class EvenementCatalog(ConventionCatalog):

    def list_evenements(self, convention_id: str) -> tuple[EvenementPoste, ...]:
        stmt = select(EvenementRow).where(EvenementRow.convention_id == convention_id).order_by(EvenementRow.id)
        with self._read(f"la lecture des événements de la convention {convention_id}") as session:
            return tuple(_from_row(r) for r in session.scalars(stmt))

    def evenements_by_convention(self) -> dict[str, tuple[EvenementPoste, ...]]:
        """Every convention's events, read in bulk."""
        stmt = select(EvenementRow).order_by(EvenementRow.id)
        found: dict[str, list[EvenementPoste]] = defaultdict(list)
        with self._read("la lecture des événements des postes") as session:
            for row in session.scalars(stmt):
                found[row.convention_id].append(_from_row(row))
        return {cid: tuple(events) for cid, events in found.items()}

    def structures_siret(self) -> dict[str, tuple[str, str]]:
        """``structure id -> (siret, département)`` for every structure, in one query (the pilotage
        import places its rows with it)."""
        stmt = select(StructureRow.id, StructureRow.siret, StructureRow.departement)
        with self._read("la lecture des structures") as session:
            return {sid: (siret, departement) for sid, siret, departement in session.execute(stmt)}

    def conventions_par_structure(self) -> dict[str, list[tuple[str, date]]]:
        """``structure id -> [(convention id, first day of its period)]`` for every convention, in one
        query (a pilotage row goes to the convention in force on its date)."""
        stmt = select(ConventionRow.structure_id, ConventionRow.id, ConventionRow.date_debut)
        out: dict[str, list[tuple[str, date]]] = {}
        with self._read("la lecture des conventions") as session:
            for sid, cid, debut in session.execute(stmt):
                out.setdefault(sid, []).append((cid, debut))
        return out

    def find_evenement(self, convention_id: str, request_id: str) -> EvenementPoste | None:
        stmt = select(EvenementRow).where(EvenementRow.convention_id == convention_id,
                                          EvenementRow.request_id == request_id)
        with self._read(f"la recherche de l'événement {request_id}") as session:
            row = session.scalar(stmt)
            return _from_row(row) if row is not None else None

    def record_evenements(
        self, convention_id: str, nouveaux: Sequence[NouvelEvenement],
        check: Callable[[tuple[EvenementPoste, ...]], None],
        versions: Sequence[VersionAEnregistrer] = (),
    ) -> list[EvenementPoste]:
        """Record events of one convention (and the versions they make) in one transaction, after
        ``check`` accepted them against the convention's events as they are under the lock."""
        with self._translate(f"l'enregistrement des événements de la convention {convention_id}"):
            with Session(self._writer) as session, session.begin():
                session.execute(select(ConventionRow.id).where(ConventionRow.id == convention_id).with_for_update())
                existing = tuple(_from_row(r) for r in session.scalars(
                    select(EvenementRow).where(EvenementRow.convention_id == convention_id).order_by(EvenementRow.id)))
                check(existing)
                now = self._clock.now()
                rows = [EvenementRow(
                    convention_id=n.convention_id, poste_id=n.evenement.poste, request_id=n.evenement.request_id,
                    type=str(n.evenement.type), jour=evenement_jour(n.evenement), evenement=evenement_to_json(n.evenement),
                    requete=n.requete, sha256=n.sha256, source=str(n.source), version=n.version, recorded_at=now,
                ) for n in nouveaux]
                session.add_all(rows)
                session.flush()
                for v in versions:
                    self._insert_version_in(session, v.structure, v.convention_id, v.vague,
                                            v.date_debut, normalize_version(v.version), v.demande_json)
                return [_from_row(r) for r in rows]
