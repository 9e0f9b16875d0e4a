"""A portal's webhook and one delivery of an event to it, as values (the catalog's webhook methods)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["Livraison", "Webhook"]


@dataclass(frozen=True)
class Webhook:
    id: str
    token_id: str
    url: str
    secret: str
    evenements: tuple[str, ...]
    created_at: datetime
    deleted_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """What its owner reads back (the secret is shown once, at registration)."""
        return {"id": self.id, "url": self.url, "evenements": list(self.evenements),
                "created_at": self.created_at.isoformat()}


@dataclass(frozen=True)
class Livraison:
    id: int
    webhook_id: str
    event_id: str
    type: str
    payload: dict[str, Any]
    created_at: datetime
    statut: str
    tentatives: int
    dernier_statut_http: int | None
    derniere_erreur: str | None
    livree_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "webhook_id": self.webhook_id, "event_id": self.event_id, "type": self.type,
                "created_at": self.created_at.isoformat(), "statut": self.statut, "tentatives": self.tentatives,
                "dernier_statut_http": self.dernier_statut_http, "derniere_erreur": self.derniere_erreur,
                "livree_at": self.livree_at.isoformat() if self.livree_at else None}
