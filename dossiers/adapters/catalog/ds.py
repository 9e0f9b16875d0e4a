"""The catalog's side of the Démarches simplifiées connector (a mixin of ``Catalog``).

- the sync state of each démarche (``ds_synchros``): updated since, the cursor of a run in progress;
- each DS dossier as conum last took it (``ds_dossiers``), or the error that kept it out;
- each DS file taken (``ds_fichiers``), keyed by démarche, dossier, champ, poste and DS checksum;
- each write sent back to DS (``ds_ecritures``), claimed before it is sent.

Writes are single statements (insert-or-nothing, conditional updates): two syncs or two deliveries
of one write-back converge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.base import CatalogBase
from dossiers.adapters.catalog.tables import DsDossierRow, DsEcritureRow, DsFichierRow, DsSynchroRow
from dossiers.domain.ds_suivi import DsDossier, DsEcriture, DsSynchro

__all__ = ["DsCatalog"]


class DsCatalog(CatalogBase):
    """Methods ``Catalog`` gets for the DS connector; relies on its ``_writer``, ``_read``, ``_translate``, ``_insert``."""


    # -- sync state --------------------------------------------------------------------------------
    def ds_synchro(self, demarche: int) -> DsSynchro:
        with self._read(f"l'état de synchronisation de la démarche {demarche}") as session:
            row = session.get(DsSynchroRow, demarche)
            if row is None:
                return DsSynchro(demarche)
            return DsSynchro(row.demarche, row.updated_since, row.cursor, row.run_max, row.last_run_at)

    def ds_save_synchro(self, state: DsSynchro) -> None:
        values = {"updated_since": state.updated_since, "cursor": state.cursor, "run_max": state.run_max,
                  "last_run_at": state.last_run_at}
        with self._translate(f"l'enregistrement de la synchronisation de la démarche {state.demarche}"):
            with Session(self._writer) as session, session.begin():
                stmt = self._insert(DsSynchroRow).values(demarche=state.demarche, **values)
                session.execute(stmt.on_conflict_do_update(index_elements=["demarche"], set_=values))

    # -- dossiers ----------------------------------------------------------------------------------
    def ds_dossier(self, demarche: int, number: int) -> DsDossier | None:
        with self._read(f"la lecture du dossier DS {number}") as session:
            row = session.get(DsDossierRow, (demarche, number))
            return _dossier(row) if row is not None else None

    def ds_dossiers(self, demarche: int, *, statut: str | None = None) -> list[DsDossier]:
        stmt = select(DsDossierRow).where(DsDossierRow.demarche == demarche).order_by(DsDossierRow.number)
        if statut is not None:
            stmt = stmt.where(DsDossierRow.statut == statut)
        with self._read(f"la liste des dossiers DS de la démarche {demarche}") as session:
            return [_dossier(row) for row in session.scalars(stmt)]

    def ds_dossier_of(self, dossier_id: str) -> DsDossier | None:
        """The DS dossier a conum dossier came from (None: not from DS)."""
        stmt = select(DsDossierRow).where(DsDossierRow.dossier_id == dossier_id).order_by(DsDossierRow.number).limit(1)
        with self._read(f"le dossier DS de {dossier_id}") as session:
            row = session.scalars(stmt).one_or_none()
            return _dossier(row) if row is not None else None

    def ds_save_dossier(self, record: DsDossier) -> None:
        values = {"ds_id": record.ds_id, "dossier_id": record.dossier_id, "updated_at": record.updated_at,
                  "demande_sha256": record.demande_sha256, "statut": record.statut, "erreur": record.erreur,
                  "synced_at": record.synced_at}
        with self._translate(f"l'enregistrement du dossier DS {record.number}"):
            with Session(self._writer) as session, session.begin():
                stmt = self._insert(DsDossierRow).values(demarche=record.demarche, number=record.number, **values)
                session.execute(stmt.on_conflict_do_update(index_elements=["demarche", "number"], set_=values))

    # -- files -------------------------------------------------------------------------------------
    def ds_fichier_connu(self, cle: str) -> bool:
        with self._read("la lecture d'un fichier DS") as session:
            return session.get(DsFichierRow, cle) is not None

    def ds_record_fichier(self, *, cle: str, demarche: int, number: int, source: str, kind: str,
                          poste_id: str | None, filename: str, checksum: str, sha256: str, job_id: str | None,
                          now: datetime) -> None:
        with self._translate(f"l'enregistrement d'un fichier du dossier DS {number}"):
            with Session(self._writer) as session, session.begin():
                session.execute(self._insert(DsFichierRow).values(
                    cle=cle, demarche=demarche, number=number, source=source[:200], kind=kind, poste_id=poste_id,
                    filename=filename[:255], checksum=checksum[:64], sha256=sha256, job_id=job_id, recorded_at=now,
                ).on_conflict_do_nothing())

    # -- writes ------------------------------------------------------------------------------------
    def ds_claim_ecriture(self, *, cle: str, demarche: int, number: int, action: str, detail: dict[str, Any],
                          now: datetime) -> DsEcriture:
        """Record the write before it is sent; returns it as it is (``envoye`` when already done)."""
        with self._translate(f"l'enregistrement d'une écriture vers DS ({action})"):
            with Session(self._writer) as session, session.begin():
                session.execute(self._insert(DsEcritureRow).values(
                    cle=cle, demarche=demarche, number=number, action=action, statut="en_cours", detail=detail,
                    created_at=now).on_conflict_do_nothing())
                return _ecriture(session.get(DsEcritureRow, cle))  # type: ignore[arg-type]

    def ds_ecriture_envoyee(self, cle: str, *, detail: dict[str, Any], now: datetime) -> None:
        with self._translate("l'enregistrement d'une écriture envoyée à DS"):
            with Session(self._writer) as session, session.begin():
                session.execute(update(DsEcritureRow).where(DsEcritureRow.cle == cle, DsEcritureRow.statut != "envoye")
                                .values(statut="envoye", detail=detail, sent_at=now))

    def ds_ecritures(self, number: int | None = None) -> list[DsEcriture]:
        stmt = select(DsEcritureRow).order_by(DsEcritureRow.created_at, DsEcritureRow.cle)
        if number is not None:
            stmt = stmt.where(DsEcritureRow.number == number)
        with self._read("les écritures vers DS") as session:
            return [_ecriture(row) for row in session.scalars(stmt)]


def _dossier(row: DsDossierRow) -> DsDossier:
    return DsDossier(row.demarche, row.number, row.ds_id, row.dossier_id, row.updated_at, row.demande_sha256,
                     row.statut, row.erreur, row.synced_at)


def _ecriture(row: DsEcritureRow) -> DsEcriture:
    return DsEcriture(row.cle, row.number, row.action, row.statut, dict(row.detail), row.sent_at)
