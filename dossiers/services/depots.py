"""Use case: receive the signed copy of a convention version, the one intake behind the API's
``POST /v1/conventions/{id}/versions/{n}/signed`` and the convention page's form.

The same rules for both: the version must exist; the file is read up to ``SIGNED_COPY_POLICY``'s
limit plus one byte (never more), refused when over it, empty, or not a PDF by its content (sniffed,
not its name); then staged content-addressed (``archive.stage``) and its archive job submitted by
the caller's ``submit`` (the API's, with its Idempotency-Key; the page's, without). A copy sent again
whose job had already ended is released from staging at once (``archive.release_if_done``).

A refusal is ``DepotRefuse`` with its ``MotifRefus`` (the API's code); nothing is staged then. The
caller's ``detail`` dict is filled, as soon as each part is known, with what the audit row says
(version, file name, size, then SHA-256 and job id): a failure half-way still has what was known.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, BinaryIO

from dossiers.domain.checks.signe import SIGNED_COPY_POLICY
from dossiers.domain.jobs import Job
from dossiers.domain.pieces import safe_filename
from dossiers.errors import DepotRefuse, ErrorCode
from dossiers.ports import AppPorts, Inspector

__all__ = ["MotifRefus", "Depot", "deposer_copie_signee"]

QUOI = "La copie signée"


class MotifRefus(StrEnum):
    """Why a signed copy is refused at once (the API answers these codes)."""

    VERSION_INTROUVABLE = "version_introuvable"
    TROP_VOLUMINEUX = "trop_volumineux"
    FICHIER_VIDE = "fichier_vide"
    TYPE_NON_ACCEPTE = "type_non_accepte"


_CODES = {MotifRefus.VERSION_INTROUVABLE: ErrorCode.VERSION_INTROUVABLE,
          MotifRefus.TROP_VOLUMINEUX: ErrorCode.TROP_VOLUMINEUX,
          MotifRefus.FICHIER_VIDE: ErrorCode.REQUETE_INVALIDE,
          MotifRefus.TYPE_NON_ACCEPTE: ErrorCode.TYPE_NON_ACCEPTE}


def _refus(motif: MotifRefus, message: str) -> DepotRefuse:
    return DepotRefuse(motif, message, code=_CODES[motif])


@dataclass(frozen=True)
class Depot:
    """A signed copy received: staged, its archive job submitted (``job``, perhaps already ended)."""

    job: Job
    sha256: str
    staging_key: str


def _taille(size: int) -> str:
    return f"{size / 1_000_000:g} Mo" if size >= 1_000_000 else f"{size / 1000:g} Ko"


def _verifier(data: bytes, inspector: Inspector) -> None:
    from dossiers.domain.checks.fichier import type_refuse

    if len(data) > SIGNED_COPY_POLICY.max_bytes:
        raise _refus(MotifRefus.TROP_VOLUMINEUX,
                          f"{QUOI} dépasse la taille maximale ({_taille(SIGNED_COPY_POLICY.max_bytes)}).")
    if not data:
        raise _refus(MotifRefus.FICHIER_VIDE, f"{QUOI} est vide.")
    mime = inspector.sniff(data)
    if mime not in SIGNED_COPY_POLICY.mimes:
        raise _refus(MotifRefus.TYPE_NON_ACCEPTE,
                          f"{QUOI} {type_refuse(mime, SIGNED_COPY_POLICY.mimes)} (type lu dans son contenu).")


def deposer_copie_signee(app: AppPorts, convention_id: str, numero: int, fichier: BinaryIO | None, filename: str | None,
                         *, submit: Callable[[dict[str, Any]], Job], detail: dict[str, Any],
                         avant_depot: Callable[[str], None] | None = None) -> Depot:
    """Receive the signed copy of version ``numero`` (see the module's docstring). ``fichier``: the
    upload as sent (None: no file); ``submit(kwargs)`` records the archive job; ``avant_depot(sha256)``
    runs once the copy is accepted and before it is staged (the API checks its Idempotency-Key there).
    The convention's visibility is the caller's to check first."""
    from dossiers.services.archive import release_if_done, stage

    if app.catalog.find_version(convention_id, numero) is None:
        raise _refus(MotifRefus.VERSION_INTROUVABLE,
                          f"Pas de version {numero} de la convention {convention_id}.")
    data = fichier.read(SIGNED_COPY_POLICY.max_bytes + 1) if fichier is not None else b""
    nom = safe_filename(filename)
    detail.update(version=numero, filename=nom, size=len(data))
    _verifier(data, app.inspector)
    sha256 = hashlib.sha256(data).hexdigest()
    if avant_depot is not None:
        avant_depot(sha256)
    key = stage(data, app)
    job = submit({"convention_id": convention_id, "staging_key": key, "version": numero, "filename": nom})
    release_if_done(app, job, key)  # the same copy sent again: its job had already ended
    detail.update(sha256=sha256, job_id=job.id)
    return Depot(job, sha256, key)
