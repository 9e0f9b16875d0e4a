"""What conum keeps of its Démarches simplifiées connector, as values: the sync state of a démarche, each
DS dossier as conum last took it, each write sent back to DS (the catalog's ``ds_*`` methods)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

__all__ = ["DsDossier", "DsEcriture", "DsSynchro"]


@dataclass(frozen=True)
class DsSynchro:
    demarche: int
    updated_since: str | None = None
    cursor: str | None = None
    run_max: str | None = None
    last_run_at: datetime | None = None


@dataclass(frozen=True)
class DsDossier:
    demarche: int
    number: int
    ds_id: str
    dossier_id: str | None
    updated_at: str | None
    demande_sha256: str | None
    statut: str
    erreur: dict[str, Any] | None
    synced_at: datetime


@dataclass(frozen=True)
class DsEcriture:
    cle: str
    number: int
    action: str
    statut: str
    detail: dict[str, Any]
    sent_at: datetime | None
