"""What waits for an instructeur (a mixin of ``Catalog``): pieces and signed copies à vérifier, dossiers
without a convention, structures sharing a SIRET, read in a few queries whatever the number of dossiers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from dossiers.adapters.catalog.archives import archive_record
from dossiers.adapters.catalog.dossiers import DossierCatalog, piece_record
from dossiers.adapters.catalog.tables import ArchiveRow, ConventionRow, DecisionRow, DossierRow, PieceRow, StructureRow
from dossiers.domain.archive import ArchiveRecord
from dossiers.domain.dossier import PieceRecord

__all__ = ["ATraiterCatalog"]


class ATraiterCatalog(DossierCatalog):
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
        with self._read("la liste des pièces à vérifier") as session:
            return [(row.dossier_id, departement, piece_record(row)) for row, departement in session.execute(stmt)]

    def copies_en_attente(self, departements: tuple[str, ...] = ()) -> list[tuple[str, ArchiveRecord]]:
        """(département, copy) of signed copies à vérifier that nobody decided yet, the oldest first."""

        stmt = (select(ArchiveRow, StructureRow.departement)
                .join(ConventionRow, ConventionRow.id == ArchiveRow.convention_id)
                .join(StructureRow, StructureRow.id == ConventionRow.structure_id)
                .where(ArchiveRow.statut == "a_verifier", ArchiveRow.archived_at.is_(None),
                       ~exists().where(DecisionRow.archive_id == ArchiveRow.id))
                .order_by(ArchiveRow.received_at, ArchiveRow.id))
        if departements:
            stmt = stmt.where(StructureRow.departement.in_(departements))
        with self._read("la liste des copies signées à vérifier") as session:
            return [(departement, archive_record(row)) for row, departement in session.execute(stmt)]

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
        with self._read("la liste des dossiers sans convention") as session:
            return [(str(i), str(d), u, dict(demande)) for i, d, u, demande in session.execute(stmt)]

    def pieces_des_dossiers(self, dossier_ids: list[str]) -> dict[str, list[PieceRecord]]:
        """Every piece of these dossiers, with its decision, by dossier (a few queries whatever their number)."""
        out: dict[str, list[PieceRecord]] = {d: [] for d in dossier_ids}
        with self._read("la lecture des pièces des dossiers") as session:
            for start in range(0, len(dossier_ids), 500):
                stmt = (select(PieceRow).where(PieceRow.dossier_id.in_(dossier_ids[start:start + 500]))
                        .order_by(PieceRow.validated_at, PieceRow.id))
                for row in session.scalars(stmt):
                    out[row.dossier_id].append(piece_record(row))
        decided = {p.id: p for p in self._with_piece_decisions(
            [p for pieces in out.values() for p in pieces])}  # one query for every dossier's decisions
        return {d: [decided[p.id] for p in pieces] for d, pieces in out.items()}

    def structures_meme_siret(self, siret: str, *, sauf: str) -> list[tuple[str, str, str]]:
        """(id, dénomination, département) of the other structures recorded with this SIRET."""
        stmt = (select(StructureRow.id, StructureRow.denomination, StructureRow.departement)
                .where(StructureRow.siret == siret, StructureRow.id != sauf).order_by(StructureRow.id))
        with self._read(f"la recherche des structures du SIRET {siret}") as session:
            return [(str(i), str(n), str(d)) for i, n, d in session.execute(stmt)]
