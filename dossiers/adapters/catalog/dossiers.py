"""The catalog's dossiers and pieces (a mixin of ``Catalog``: same engine, same error translation).

A dossier keeps the demande it was opened with (to rebuild the ``Dossier`` value: structure,
representant, postes occupés). Recording a piece is an upsert on (dossier, kind, poste, SHA-256):
the same bytes validated again replace the stored result, so a redelivered job adds no row.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.decisions import DecisionCatalog
from dossiers.adapters.catalog.tables import DossierRow, PieceRow
from dossiers.domain.decisions import Cible
from dossiers.domain.dossier import PieceRecord
from dossiers.domain.findings import Finding, FindingCode, Severity, Statut
from dossiers.domain.model import Structure
from dossiers.domain.pieces import PieceKind

__all__ = ["DossierCatalog", "piece_record"]


class DossierCatalog(DecisionCatalog):
    """Methods ``Catalog`` gets for dossiers; relies on its ``_writer``, ``_read``, ``_translate``."""


    def save_dossier(
        self, dossier_id: str, *, structure: Structure, vague: int, demande_json: dict[str, Any], demande_sha256: str
    ) -> None:
        """Create the dossier, or update its demande (the structure may correct it before instruction)."""
        now = self._clock.now()
        with self._translate(f"l'enregistrement du dossier {dossier_id}"):
            with Session(self._writer) as session, session.begin():
                self._upsert_structure(session, structure, now)
                stmt = self._insert(DossierRow).values(
                    id=dossier_id, structure_id=structure.id, vague=vague, demande=demande_json,
                    demande_sha256=demande_sha256, created_at=now, updated_at=now,
                )
                session.execute(stmt.on_conflict_do_update(
                    index_elements=["id"],
                    set_={"demande": stmt.excluded.demande, "demande_sha256": stmt.excluded.demande_sha256,
                          "structure_id": stmt.excluded.structure_id, "vague": stmt.excluded.vague,
                          "updated_at": now},
                ))

    def get_dossier_demande(self, dossier_id: str) -> dict[str, Any] | None:
        with self._read(f"la lecture du dossier {dossier_id}") as session:
            return session.scalar(select(DossierRow.demande).where(DossierRow.id == dossier_id))

    def list_dossier_ids(self, *, structure_id: str | None = None, limit: int = 100) -> list[str]:
        stmt = select(DossierRow.id).order_by(DossierRow.id).limit(limit)
        if structure_id is not None:
            stmt = stmt.where(DossierRow.structure_id == structure_id)
        with self._read("la liste des dossiers") as session:
            return list(session.scalars(stmt))

    def record_piece(self, dossier_id: str, piece: PieceRecord) -> PieceRecord:
        """Store a piece's result; returns it with the catalog's id."""
        values = {
            "dossier_id": dossier_id, "kind": str(piece.kind), "poste_id": piece.poste_id or "",
            "filename": piece.filename, "sha256": piece.sha256, "size": piece.size, "mime": piece.mime,
            "statut": str(piece.statut), "findings": [f.to_dict() for f in piece.findings], "fields": piece.fields,
            "storage_key": piece.storage_key, "validated_at": piece.validated_at, "purged_at": None,
        }
        # a file sent again after its deletion is stored again: it is no longer purged
        updated = ("filename", "size", "mime", "statut", "findings", "fields", "storage_key", "validated_at",
                   "purged_at")
        with self._translate(f"l'enregistrement d'une pièce du dossier {dossier_id}"):
            with Session(self._writer) as session, session.begin():
                stmt = self._insert(PieceRow).values(**values)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["dossier_id", "kind", "poste_id", "sha256"],
                    set_={name: stmt.excluded[name] for name in updated},
                ).returning(PieceRow.id)
                piece_id = session.execute(stmt).scalar_one()
        return _record(piece_id, values)

    def list_pieces(self, dossier_id: str) -> list[PieceRecord]:
        stmt = select(PieceRow).where(PieceRow.dossier_id == dossier_id).order_by(PieceRow.validated_at, PieceRow.id)
        with self._read(f"la liste des pièces du dossier {dossier_id}") as session:
            pieces = [piece_record(row) for row in session.scalars(stmt)]
        return self._with_piece_decisions(pieces)

    def _with_piece_decisions(self, pieces: list[PieceRecord]) -> list[PieceRecord]:
        decided = self.decisions_of(pieces=[p.id for p in pieces if p.statut is Statut.A_VERIFIER])
        return [replace(p, decision=decided.get((Cible.PIECE, p.id))) for p in pieces]


_COLUMNS = ("kind", "poste_id", "filename", "sha256", "size", "mime", "statut", "findings", "fields",
            "storage_key", "validated_at")


def piece_record(row: PieceRow) -> PieceRecord:
    return _record(row.id, {c: getattr(row, c) for c in _COLUMNS})


def _record(piece_id: int, v: dict[str, Any]) -> PieceRecord:
    return PieceRecord(
        id=piece_id, kind=PieceKind(v["kind"]), filename=v["filename"], sha256=v["sha256"], size=v["size"],
        mime=v["mime"], statut=Statut(v["statut"]),
        findings=tuple(Finding(FindingCode(f["code"]), Severity(f["severity"]), f["message"]) for f in v["findings"]),
        fields=dict(v["fields"]), validated_at=v["validated_at"], poste_id=v["poste_id"] or None,
        storage_key=v["storage_key"],
    )
