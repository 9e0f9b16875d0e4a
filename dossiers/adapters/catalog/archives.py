"""The catalog's signed copies (a mixin of ``Catalog``) and the trace of deleted personal data.

A signed copy is recorded when received (``received_at``), then completed once its archive write is
confirmed (key, version id, retention, certificate): a crash in between leaves a row without
``archived_at`` that the retried job completes. The same file for the same convention is one row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.decisions import DecisionCatalog
from dossiers.adapters.catalog.tables import ArchiveRow, ConventionRow, DocumentRow, DossierRow, PieceRow
from dossiers.domain.archive import ArchiveRecord
from dossiers.domain.findings import Finding, FindingCode, Severity

__all__ = ["ArchiveCatalog"]

_COLUMNS = ("convention_id", "version", "sha256", "sha256_emis", "statut", "findings", "fields", "storage_key",
            "version_id", "retain_until", "certificat_key", "certificat_sha256", "received_at", "archived_at")


class ArchiveCatalog(DecisionCatalog):

    def record_received(self, record: ArchiveRecord) -> ArchiveRecord:
        """Record a received copy (or return the row already there for the same file and version)."""
        values = {c: getattr(record, c) for c in _COLUMNS}
        values["findings"] = [f.to_dict() for f in record.findings]
        with self._translate(f"l'enregistrement d'une copie signée de {record.convention_id}"):
            with Session(self._writer) as session, session.begin():
                session.execute(self._insert(ArchiveRow).values(**values).on_conflict_do_nothing())
                row = session.scalars(select(ArchiveRow).where(
                    ArchiveRow.convention_id == record.convention_id, ArchiveRow.version == record.version,
                    ArchiveRow.sha256 == record.sha256)).one()
                return archive_record(row)

    def record_archived(self, record_id: int, *, storage_key: str, version_id: str | None, retain_until: datetime,
                        certificat_key: str, certificat_sha256: str, archived_at: datetime) -> None:
        with self._translate(f"la confirmation de l'archivage {record_id}"):
            with Session(self._writer) as session, session.begin():
                session.execute(update(ArchiveRow).where(ArchiveRow.id == record_id, ArchiveRow.archived_at.is_(None))
                                .values(storage_key=storage_key, version_id=version_id, retain_until=retain_until,
                                        certificat_key=certificat_key, certificat_sha256=certificat_sha256,
                                        archived_at=archived_at))

    def get_archive(self, record_id: int) -> ArchiveRecord | None:
        with self._read(f"la lecture de la copie signée {record_id}") as session:
            row = session.get(ArchiveRow, record_id)
            record = archive_record(row) if row is not None else None
        return self._with_decisions([record])[0] if record is not None else None

    def _with_decisions(self, records: list[ArchiveRecord]) -> list[ArchiveRecord]:
        from dataclasses import replace

        from dossiers.domain.decisions import Cible

        decided = self.decisions_of(archives=[r.id for r in records])
        return [replace(r, decision=decided.get((Cible.COPIE, r.id))) for r in records]

    def find_archives(self, *, sha256: str | None = None, convention_id: str | None = None,
                      version: int | None = None, certificat_sha256: str | None = None) -> list[ArchiveRecord]:
        stmt = select(ArchiveRow).order_by(ArchiveRow.id)
        for column, value in ((ArchiveRow.version, version), (ArchiveRow.sha256, sha256),
                              (ArchiveRow.convention_id, convention_id),
                              (ArchiveRow.certificat_sha256, certificat_sha256)):
            if value is not None:
                stmt = stmt.where(column == value)
        with self._read("la recherche des copies archivées") as session:
            records = [archive_record(row) for row in session.scalars(stmt)]
        return self._with_decisions(records)

    def find_documents(self, *, sha256: str) -> list[tuple[str, int, str, str]]:
        """(convention id, version, kind, key) of issued documents with this SHA-256."""
        stmt = (select(DocumentRow.convention_id, DocumentRow.version, DocumentRow.kind, DocumentRow.storage_key)
                .where(DocumentRow.sha256 == sha256).order_by(DocumentRow.id))
        with self._read("la recherche des documents émis") as session:
            return [(str(c), int(v), str(k), str(key)) for c, v, k, key in session.execute(stmt)]

    def pieces_to_purge(self, *, kind: str, archived_before: datetime) -> list[tuple[int, str, str]]:
        """(piece id, dossier id, storage key) of pieces of ``kind`` still stored, whose structure's
        convention for the dossier's vague has a signed copy archived (and confirmed: not à vérifier)
        before ``archived_before``."""
        stmt = (
            select(PieceRow.id, PieceRow.dossier_id, PieceRow.storage_key)
            .join(DossierRow, DossierRow.id == PieceRow.dossier_id)
            .join(ConventionRow, (ConventionRow.structure_id == DossierRow.structure_id)
                  & (ConventionRow.vague == DossierRow.vague))
            .join(ArchiveRow, ArchiveRow.convention_id == ConventionRow.id)
            .where(PieceRow.kind == kind, PieceRow.storage_key.is_not(None), PieceRow.purged_at.is_(None),
                   ArchiveRow.statut == "archive", ArchiveRow.archived_at < archived_before)
            .distinct().order_by(PieceRow.id)
        )
        with self._read("la recherche des pièces à supprimer") as session:
            return [(int(i), str(d), str(k)) for i, d, k in session.execute(stmt)]

    def mark_piece_purged(self, piece_id: int, *, now: datetime) -> None:
        """The file is deleted; the row stays (kind, SHA-256, result, date of deletion) as the trace."""
        with self._translate(f"la trace de suppression de la pièce {piece_id}"):
            with Session(self._writer) as session, session.begin():
                session.execute(update(PieceRow).where(PieceRow.id == piece_id)
                                .values(storage_key=None, purged_at=now))


def archive_record(row: ArchiveRow) -> ArchiveRecord:
    return ArchiveRecord(
        id=row.id, convention_id=row.convention_id, version=row.version, sha256=row.sha256,
        sha256_emis=row.sha256_emis, statut=row.statut,
        findings=tuple(Finding(FindingCode(f["code"]), Severity(f["severity"]), f["message"]) for f in row.findings),
        fields=dict(row.fields), received_at=row.received_at, storage_key=row.storage_key, version_id=row.version_id,
        retain_until=row.retain_until, certificat_key=row.certificat_key, certificat_sha256=row.certificat_sha256,
        archived_at=row.archived_at,
    )
