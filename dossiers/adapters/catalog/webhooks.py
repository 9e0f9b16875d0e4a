"""The catalog's webhooks and their delivery log (a mixin of ``Catalog``).

An event is recorded once per webhook (``(webhook_id, event_id)`` unique: a job end tracked twice by
a redelivered message adds nothing); deliveries of a webhook are sent in the order they were
recorded (``id``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.base import CatalogBase
from dossiers.adapters.catalog.tables import LivraisonRow, WebhookRow
from dossiers.domain.webhooks import Livraison, Webhook

__all__ = ["WebhookCatalog", "MAX_LIVRAISONS"]

MAX_LIVRAISONS = 1000


class WebhookCatalog(CatalogBase):
    """Methods ``Catalog`` gets for webhooks; relies on its ``_writer``, ``_read``, ``_translate``, ``_insert``."""


    def create_webhook(self, webhook: Webhook) -> None:
        with self._translate("l'enregistrement d'un webhook"):
            with Session(self._writer) as session, session.begin():
                session.add(WebhookRow(id=webhook.id, token_id=webhook.token_id, url=webhook.url,
                                       secret=webhook.secret, evenements=list(webhook.evenements),
                                       created_at=webhook.created_at))

    def webhooks(self, *, token_id: str | None = None) -> list[Webhook]:
        stmt = select(WebhookRow).where(WebhookRow.deleted_at.is_(None)).order_by(WebhookRow.created_at, WebhookRow.id)
        if token_id is not None:
            stmt = stmt.where(WebhookRow.token_id == token_id)
        with self._read("la liste des webhooks") as session:
            return [_webhook(row) for row in session.scalars(stmt)]

    def get_webhook(self, webhook_id: str) -> Webhook | None:
        with self._read(f"la lecture du webhook {webhook_id}") as session:
            row = session.get(WebhookRow, webhook_id)
            return _webhook(row) if row is not None else None

    def delete_webhook(self, webhook_id: str, *, now: datetime) -> bool:
        """Stop a webhook (its log stays); pending deliveries are abandoned. True when this call did it."""
        with self._translate(f"la suppression du webhook {webhook_id}"):
            with Session(self._writer) as session, session.begin():
                done = session.execute(update(WebhookRow).where(WebhookRow.id == webhook_id,
                                                                WebhookRow.deleted_at.is_(None))
                                       .values(deleted_at=now).returning(WebhookRow.id)).scalar_one_or_none()
                session.execute(update(LivraisonRow).where(LivraisonRow.webhook_id == webhook_id,
                                                           LivraisonRow.statut == "en_attente")
                                .values(statut="abandonnee", derniere_erreur="webhook supprimé"))
                return done is not None

    def record_livraison(self, *, webhook_id: str, event_id: str, type: str, payload: dict[str, Any],
                         now: datetime) -> bool:
        """Queue an event for a webhook (True when new; the same event twice is one delivery)."""
        with self._translate("l'enregistrement d'une livraison de webhook"):
            with Session(self._writer) as session, session.begin():
                inserted = session.execute(self._insert(LivraisonRow).values(
                    webhook_id=webhook_id, event_id=event_id, type=type, payload=payload, created_at=now,
                    statut="en_attente", tentatives=0,
                ).on_conflict_do_nothing().returning(LivraisonRow.id)).scalar_one_or_none()
                return inserted is not None

    def livraisons(self, *, webhook_id: str | None = None, statut: str | None = None,
                   limit: int = 100) -> list[Livraison]:
        if not 0 < limit <= MAX_LIVRAISONS:
            raise ValueError(f"limit entre 1 et {MAX_LIVRAISONS}")
        stmt = select(LivraisonRow).order_by(LivraisonRow.id).limit(limit)
        if webhook_id is not None:
            stmt = stmt.where(LivraisonRow.webhook_id == webhook_id)
        if statut is not None:
            stmt = stmt.where(LivraisonRow.statut == statut)
        with self._read("le journal des livraisons") as session:
            return [_livraison(row) for row in session.scalars(stmt)]

    def livraison_tentee(self, livraison_id: int, *, statut: str, http: int | None, erreur: str | None,
                         now: datetime) -> None:
        """One attempt: ``livree`` (2xx), ``en_attente`` (to retry) or ``abandonnee`` (too old)."""
        values: dict[str, Any] = {"statut": statut, "tentatives": LivraisonRow.tentatives + 1,
                                  "dernier_statut_http": http, "derniere_erreur": (erreur or None) and erreur[:500]}
        if statut == "livree":
            values["livree_at"] = now
        with self._translate(f"l'enregistrement de la livraison {livraison_id}"):
            with Session(self._writer) as session, session.begin():
                session.execute(update(LivraisonRow).where(LivraisonRow.id == livraison_id,
                                                           LivraisonRow.statut == "en_attente").values(**values))


def _webhook(row: WebhookRow) -> Webhook:
    return Webhook(row.id, row.token_id, row.url, row.secret, tuple(row.evenements), row.created_at, row.deleted_at)


def _livraison(row: LivraisonRow) -> Livraison:
    return Livraison(row.id, row.webhook_id, row.event_id, row.type, dict(row.payload), row.created_at, row.statut,
                     row.tentatives, row.dernier_statut_http, row.derniere_erreur, row.livree_at)
