"""The catalog's decisions on pieces and signed copies à vérifier (a mixin of ``Catalog``).

One decision per piece and per copy (unique columns): two instructeurs deciding at once end with
one decision, the first; the second reads it back and is told. Deciding a signed copy changes the
copy's status in the same transaction (``archive`` or ``refuse``), so a copy is never accepted
without its decision, nor decided twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from dossiers.adapters.catalog.tables import ArchiveRow, ConventionRow, DecisionRow, DossierRow, PieceRow, StructureRow
from dossiers.domain.archive import ArchiveRecord
from dossiers.domain.decisions import Cible, Decision, Verdict
from dossiers.domain.dossier import PieceRecord
from dossiers.adapters.catalog.dossiers import piece_record

__all__ = ["DecisionCatalog", "ATraiterCatalog", "decision_from_row"]


class DecisionCatalog:
    """Methods ``Catalog`` gets for decisions; relies on its ``_writer``, ``_insert``, ``_read``, ``_translate``."""

    _writer: Any
    _insert: Any

    def record_piece_decision(self, piece_id: int, decision: Decision) -> Decision:
        """Record the decision on a piece; returns the one recorded (an earlier one wins)."""
        with self._translate(f"l'enregistrement de la décision sur la pièce {piece_id}"):  # type: ignore[attr-defined]
            with Session(self._writer) as session, session.begin():
                session.execute(self._insert(DecisionRow).values(
                    piece_id=piece_id, **_values(decision)).on_conflict_do_nothing())
                return decision_from_row(session.scalars(
                    select(DecisionRow).where(DecisionRow.piece_id == piece_id)).one())

    def decide_archive(self, record_id: int, decision: Decision) -> Decision | None:
        """Decide a copy à vérifier: it becomes ``archive`` (to be written under retention) or ``refuse``,
        and the decision is recorded with it. None when the copy is not (or no longer) à vérifier."""
        with self._translate(f"la décision sur la copie signée {record_id}"):  # type: ignore[attr-defined]
            with Session(self._writer) as session, session.begin():
                row = session.get(ArchiveRow, record_id, with_for_update=True)
                if row is None or row.statut != "a_verifier" or row.archived_at is not None:
                    return None
                accepted = decision.verdict is Verdict.ACCEPTE
                row.statut = "archive" if accepted else "refuse"
                trace = {"par": decision.par, "date": decision.le.isoformat()}
                if not accepted:
                    trace |= {"motif": decision.motif, "commentaire": decision.commentaire}
                row.fields = {**row.fields, ("acceptation" if accepted else "refus"): trace}
                session.execute(self._insert(DecisionRow).values(archive_id=record_id, **_values(decision))
                                .on_conflict_do_nothing())
                return decision_from_row(session.scalars(
                    select(DecisionRow).where(DecisionRow.archive_id == record_id)).one())

    def decisions_of(self, *, pieces: Iterable[int] = (), archives: Iterable[int] = ()) -> dict[tuple[Cible, int], Decision]:
        """The decisions on these pieces and copies, by (cible, id)."""
        piece_ids, archive_ids = list(pieces), list(archives)
        if not piece_ids and not archive_ids:
            return {}
        out: dict[tuple[Cible, int], Decision] = {}
        with self._read("la lecture des décisions") as session:  # type: ignore[attr-defined]
            for column, cible, ids in ((DecisionRow.piece_id, Cible.PIECE, piece_ids),
                                       (DecisionRow.archive_id, Cible.COPIE, archive_ids)):
                for start in range(0, len(ids), 500):  # bounded IN lists
                    for row in session.scalars(select(DecisionRow).where(column.in_(ids[start:start + 500]))):
                        out[(cible, int(row.piece_id if cible is Cible.PIECE else row.archive_id))] = decision_from_row(row)
        return out


def _values(decision: Decision) -> dict[str, Any]:
    return {"cible": str(decision.cible), "verdict": str(decision.verdict), "motif": decision.motif,
            "commentaire": decision.commentaire, "par": decision.par, "token_id": decision.token_id,
            "decided_at": decision.le}


def decision_from_row(row: DecisionRow) -> Decision:
    return Decision(cible=Cible(row.cible), verdict=Verdict(row.verdict), par=row.par, le=row.decided_at,
                    motif=row.motif, commentaire=row.commentaire, token_id=row.token_id, id=row.id)


class ATraiterCatalog:
    """What waits for an instructeur, read in a few queries whatever the number of dossiers."""

    def pieces_en_attente(self, departements: tuple[str, ...] = ()) -> list[tuple[str, str, PieceRecord]]:
        """(dossier id, département, piece) of current pieces à vérifier without a decision: the newest of
        their kind and poste in their dossier (an older one was superseded)."""
        newer = aliased(PieceRow)
        superseded = exists().where(
            newer.dossier_id == PieceRow.dossier_id, newer.kind == PieceRow.kind, newer.poste_id == PieceRow.poste_id,
            (newer.validated_at > PieceRow.validated_at)
            | ((newer.validated_at == PieceRow.validated_at) & (newer.id > PieceRow.id)))
        decided = exists().where(DecisionRow.piece_id == PieceRow.id)
        stmt = (select(PieceRow, StructureRow.departement)
                .join(DossierRow, DossierRow.id == PieceRow.dossier_id)
                .join(StructureRow, StructureRow.id == DossierRow.structure_id)
                .where(PieceRow.statut == "a_verifier", ~superseded, ~decided)
                .order_by(PieceRow.validated_at, PieceRow.id))
        if departements:
            stmt = stmt.where(StructureRow.departement.in_(departements))
        with self._read("la liste des pièces à vérifier") as session:  # type: ignore[attr-defined]
            return [(row.dossier_id, departement, piece_record(row)) for row, departement in session.execute(stmt)]

    def copies_en_attente(self, departements: tuple[str, ...] = ()) -> list[tuple[str, ArchiveRecord]]:
        """(département, copy) of signed copies à vérifier that nobody decided yet, the oldest first."""
        from dossiers.adapters.catalog.archives import _record

        stmt = (select(ArchiveRow, StructureRow.departement)
                .join(ConventionRow, ConventionRow.id == ArchiveRow.convention_id)
                .join(StructureRow, StructureRow.id == ConventionRow.structure_id)
                .where(ArchiveRow.statut == "a_verifier", ArchiveRow.archived_at.is_(None),
                       ~exists().where(DecisionRow.archive_id == ArchiveRow.id))
                .order_by(ArchiveRow.received_at, ArchiveRow.id))
        if departements:
            stmt = stmt.where(StructureRow.departement.in_(departements))
        with self._read("la liste des copies signées à vérifier") as session:  # type: ignore[attr-defined]
            return [(departement, _record(row)) for row, departement in session.execute(stmt)]

    def dossiers_sans_convention(self, departements: tuple[str, ...] = ()) -> list[tuple[str, str, datetime, dict[str, Any]]]:
        """(dossier id, département, last update, demande) of dossiers whose structure has no convention for
        their vague."""
        stmt = (select(DossierRow.id, StructureRow.departement, DossierRow.updated_at, DossierRow.demande)
                .join(StructureRow, StructureRow.id == DossierRow.structure_id)
                .where(~exists().where(ConventionRow.structure_id == DossierRow.structure_id,
                                       ConventionRow.vague == DossierRow.vague))
                .order_by(DossierRow.updated_at, DossierRow.id))
        if departements:
            stmt = stmt.where(StructureRow.departement.in_(departements))
        with self._read("la liste des dossiers sans convention") as session:  # type: ignore[attr-defined]
            return [(str(i), str(d), u, dict(demande)) for i, d, u, demande in session.execute(stmt)]

    def pieces_des_dossiers(self, dossier_ids: list[str]) -> dict[str, list[PieceRecord]]:
        """Every piece of these dossiers, with its decision, by dossier (a few queries whatever their number)."""
        out: dict[str, list[PieceRecord]] = {d: [] for d in dossier_ids}
        with self._read("la lecture des pièces des dossiers") as session:  # type: ignore[attr-defined]
            for start in range(0, len(dossier_ids), 500):
                stmt = (select(PieceRow).where(PieceRow.dossier_id.in_(dossier_ids[start:start + 500]))
                        .order_by(PieceRow.validated_at, PieceRow.id))
                for row in session.scalars(stmt):
                    out[row.dossier_id].append(piece_record(row))
        decided = {p.id: p for p in self._with_piece_decisions(  # type: ignore[attr-defined]
            [p for pieces in out.values() for p in pieces])}  # one query for every dossier's decisions
        return {d: [decided[p.id] for p in pieces] for d, pieces in out.items()}

    def structures_meme_siret(self, siret: str, *, sauf: str) -> list[tuple[str, str, str]]:
        """(id, dénomination, département) of the other structures recorded with this SIRET."""
        stmt = (select(StructureRow.id, StructureRow.denomination, StructureRow.departement)
                .where(StructureRow.siret == siret, StructureRow.id != sauf).order_by(StructureRow.id))
        with self._read(f"la recherche des structures du SIRET {siret}") as session:  # type: ignore[attr-defined]
            return [(str(i), str(n), str(d)) for i, n, d in session.execute(stmt)]
