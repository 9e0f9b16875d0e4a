"""A signed copy received for a convention version, and what became of it (no I/O).

``statut``: ``archive`` (identified, signed, stored under lock), ``a_verifier`` (stored under lock, a
human confirms: a scan of a print, no signature found…), ``refuse`` (not ours, modified, not a PDF:
kept only as a trace, never stored).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from dossiers.domain.decisions import Decision
from dossiers.domain.findings import Finding

__all__ = ["ArchiveRecord", "STATUTS_ARCHIVES", "date_signature"]

# the statuses whose copy is kept: ``archive`` under lock, ``a_verifier`` in staging until a human accepts it
STATUTS_ARCHIVES = ("archive", "a_verifier")


@dataclass(frozen=True)
class ArchiveRecord:
    convention_id: str
    version: int
    sha256: str
    sha256_emis: str
    statut: str
    findings: tuple[Finding, ...]
    fields: dict[str, Any]
    received_at: datetime
    storage_key: str | None = None
    version_id: str | None = None
    retain_until: datetime | None = None
    certificat_key: str | None = None
    certificat_sha256: str | None = None
    archived_at: datetime | None = None
    id: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    decision: Decision | None = None  # an instructeur's, on a copy that was à vérifier

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "id": self.id, "status": self.statut, "convention_id": self.convention_id, "version": self.version,
            "sha256": self.sha256, "sha256_emis": self.sha256_emis, "key": self.storage_key,
            "version_id": self.version_id, "retention_until": iso(self.retain_until),
            "certificat": self.certificat_key, "certificat_sha256": self.certificat_sha256,
            "archived_at": iso(self.archived_at), "findings": [f.to_dict() for f in self.findings],
            "fields": self.fields, "decision": self.decision.to_dict() if self.decision else None,
        }


_ISO_DAY = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:T|$)")


def date_signature(records: Iterable[ArchiveRecord], version: int) -> date | None:
    """The day version ``version`` was signed, as conum knows it: the latest signature date read from
    its signed copies whose signatures were verified (statut ``archive``); the last signer completes
    the signature. None when no such copy carries a dated signature (not received, à vérifier — a scan
    signed by hand —, or a date the PDF wrote in no readable form): then no document states one.

    The day is the signer's, as the PDF wrote it (``2024-03-12T23:30:00+01:00`` is 12 March)."""
    days = []
    for record in records:
        if record.version != version or record.statut != "archive":
            continue
        for signature in record.fields.get("signatures") or ():
            m = _ISO_DAY.match(str(signature.get("date") or ""))
            if m is None:
                continue
            try:
                days.append(date.fromisoformat(m.group(1)))
            except ValueError:
                continue
    return max(days, default=None)
