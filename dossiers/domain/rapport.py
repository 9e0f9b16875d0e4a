"""The empreinte of a rapport de contrôle: defined on its inputs, so anyone holding the catalog's view
of the dossier can recompute it and tell whether a printed report matches it::

    sha256( json.dumps({"dossier": view.to_dict(), "generated_at": "<UTC, YYYYMMDDTHHMMSSZ>"},
                       sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
            .encode("utf-8") )

The QR code of the report carries :func:`qr_payload`, ``CONUM:RC1:<dossier id>:<that time>:<EMPREINTE>``
(the empreinte in upper case: with an upper-case id the whole payload fits QR's alphanumeric mode).
The PDF itself is drawn by the ``Dessins`` port (``dossiers.adapters.pdf.rapport``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from dossiers.domain.dossier import DossierView

__all__ = ["instant_utc", "qr_payload", "rapport_digest"]


def instant_utc(generated_at: datetime) -> str:
    """``generated_at`` (timezone-aware) in UTC, ISO 8601 basic format: ``20260314T093000Z``."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at doit porter un fuseau horaire (datetime « aware »)")
    return generated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def rapport_digest(view: DossierView, generated_at: datetime) -> str:
    """SHA-256 (hex) of the canonical JSON of the view and the UTC time (see the module docstring)."""
    payload: dict[str, Any] = {"dossier": view.to_dict(), "generated_at": instant_utc(generated_at)}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def qr_payload(view: DossierView, generated_at: datetime) -> str:
    """What the QR code carries: ``CONUM:RC1:<dossier id>:<YYYYMMDDTHHMMSSZ>:<SHA-256, upper case>``.

    Read it from the right: the last two fields have a fixed form, the id is what is left.
    """
    return f"CONUM:RC1:{view.dossier.id}:{instant_utc(generated_at)}:{rapport_digest(view, generated_at).upper()}"
