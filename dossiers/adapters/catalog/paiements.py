"""The catalog's payments and change requests (a mixin of ``Catalog``).

Payments are facts reported by the CDC: recording the same payment twice (same convention, period,
year, date and amount) keeps one row. A version made by a change request is found by its request id,
so a request sent again returns the version it already produced.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.base import CatalogBase
from dossiers.adapters.catalog.coltypes import format_amount, parse_amount
from dossiers.adapters.catalog.mapping import version_from_row
from dossiers.adapters.catalog.tables import PaiementRow, VersionRow
from dossiers.domain.etat import Paiement
from dossiers.domain.model import ConventionVersion

__all__ = ["PaiementCatalog"]


class PaiementCatalog(CatalogBase):
    """Methods ``Catalog`` gets for payments and requests; relies on its ``_writer``, ``_read``, ``_translate``."""


    def record_paiement(self, convention_id: str, periode_debut: date, paiement: Paiement, *,
                        motif: str | None = None) -> bool:
        """Record a payment (``motif``: why one above what is due was recorded anyway); False when the very
        same payment was already recorded."""
        montant = parse_amount(format_amount(paiement.montant))
        with self._translate(f"l'enregistrement d'un paiement de la convention {convention_id}"):
            with Session(self._writer) as session, session.begin():
                result = session.execute(
                    self._insert(PaiementRow).values(
                        convention_id=convention_id, periode_debut=periode_debut, annee=paiement.annee,
                        date=paiement.date, montant=montant, recorded_at=self._clock.now(), motif=motif,
                    ).on_conflict_do_nothing().returning(PaiementRow.id)
                )
                return result.scalar_one_or_none() is not None

    def list_paiements(self, convention_id: str, periode_debut: date) -> tuple[Paiement, ...]:
        stmt = (select(PaiementRow)
                .where(PaiementRow.convention_id == convention_id, PaiementRow.periode_debut == periode_debut)
                .order_by(PaiementRow.date, PaiementRow.id))
        with self._read(f"la lecture des paiements de la convention {convention_id}") as session:
            return tuple(Paiement(r.annee, r.date, r.montant) for r in session.scalars(stmt))

    def paiements_enregistres(self, convention_id: str, periode_debut: date) -> list[tuple[Paiement, str | None, datetime]]:
        """(payment, motif of an overpayment, when it was recorded), in date order."""
        stmt = (select(PaiementRow)
                .where(PaiementRow.convention_id == convention_id, PaiementRow.periode_debut == periode_debut)
                .order_by(PaiementRow.date, PaiementRow.id))
        with self._read(f"la lecture des paiements de la convention {convention_id}") as session:
            return [(Paiement(r.annee, r.date, r.montant), r.motif, r.recorded_at) for r in session.scalars(stmt)]

    def find_version_by_request(self, convention_id: str, request_id: str) -> ConventionVersion | None:
        stmt = select(VersionRow).where(VersionRow.convention_id == convention_id, VersionRow.request_id == request_id)
        with self._read(f"la recherche de la demande de modification {request_id}") as session:
            row = session.scalar(stmt)
            return version_from_row(row) if row is not None else None
