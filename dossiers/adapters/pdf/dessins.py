"""The ``dossiers.ports.Dessins`` port: the rapport de contrôle and the certificat d'archivage, drawn
with reportlab in the caller's process (no service to start: the same object serves tests and production)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dossiers.adapters.pdf import certificat, rapport
from dossiers.domain.dossier import DossierView

__all__ = ["Dessins"]


class Dessins:
    def rapport_controle(self, view: DossierView, *, generated_at: datetime) -> bytes:
        return rapport.rapport_controle(view, generated_at=generated_at)

    def certificat_archivage(
        self, *, convention_id: str, version: int, sha256_signe: str, sha256_emis: str, archived_at: datetime,
        retain_until: datetime, key: str, version_id: str | None, statut: str, signatures: Sequence[dict[str, Any]],
        generated_at: datetime,
    ) -> bytes:
        return certificat.certificat_archivage(
            convention_id=convention_id, version=version, sha256_signe=sha256_signe, sha256_emis=sha256_emis,
            archived_at=archived_at, retain_until=retain_until, key=key, version_id=version_id, statut=statut,
            signatures=signatures, generated_at=generated_at)
