"""Who may do what through the HTTP API (no I/O).

A bearer token has a role and, for instructeurs (and portals that are limited to some), the
départements it covers. The secret is shown once; the catalog keeps only its SHA-256 (a 256-bit
random secret needs no slow hash: nothing to brute-force).

    portail      submits dossiers, pieces, conventions and changes; follows its own jobs
    instructeur  reads dossiers and conventions of its départements, downloads their documents,
                 uploads signed copies; follows its own jobs
    admin        everything, every département, every job

A resource of a département the token does not cover is answered as if it did not exist (404).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["Role", "Droit", "Accueil", "accueil", "Jeton", "AuditEntry", "TOKEN_PREFIX", "token_digest", "looks_like_token",
           "DEPARTEMENT", "ConventionStatut", "ConventionResume", "search_key", "statut_convention",
           "resultat_visible"]

TOKEN_PREFIX = "conum_"
_TOKEN = re.compile(rf"^{TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}$")  # secrets.token_urlsafe(32)
DEPARTEMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")


def search_key(text: str) -> str:
    """What the conventions search compares: lowercase, accents removed, punctuation as spaces
    (« Association Emmaüs » is found by « emmaus », « Commune d'Exempleville » by « d exemple »)."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", folded).split())


class Role(StrEnum):
    PORTAIL = "portail"
    INSTRUCTEUR = "instructeur"
    ADMIN = "admin"


class Droit(StrEnum):
    SOUMETTRE = "soumettre"  # dossiers, pieces, conventions, changes
    LIRE = "lire"  # dossiers, conventions, documents, rapports, certificats
    DEPOSER_SIGNE = "deposer_signe"  # signed copies
    SUIVRE = "suivre"  # jobs (its own, or all for an admin)
    INSTRUIRE = "instruire"  # decide pieces and signed copies à vérifier, generate from a complete dossier
    ADMINISTRER = "administrer"  # read the audit log, follow every job, ask a réémission outside a plan


DROITS: dict[Role, frozenset[Droit]] = {
    Role.PORTAIL: frozenset({Droit.SOUMETTRE, Droit.SUIVRE}),
    Role.INSTRUCTEUR: frozenset({Droit.LIRE, Droit.DEPOSER_SIGNE, Droit.SUIVRE, Droit.INSTRUIRE}),
    Role.ADMIN: frozenset(Droit),
}


class Accueil(StrEnum):
    """Where an agent's pages start."""

    A_TRAITER = "a_traiter"  # what waits for them in their départements
    CONVENTIONS = "conventions"  # the conventions list


def accueil(jeton: Jeton | None) -> Accueil:
    """An agent who instructs in some départements starts with what waits for them there; one who
    oversees every département (ADMINISTRER), or no one logged in, with the conventions."""
    if jeton is not None and jeton.peut(Droit.INSTRUIRE) and not jeton.peut(Droit.ADMINISTRER):
        return Accueil.A_TRAITER
    return Accueil.CONVENTIONS


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_token(secret: str) -> bool:
    return bool(_TOKEN.match(secret))


@dataclass(frozen=True)
class Jeton:
    id: str
    role: Role
    departements: tuple[str, ...]  # empty: every département (admin, or a portal not limited)
    nom: str
    created_at: datetime
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        bad = [d for d in self.departements if not DEPARTEMENT.match(d)]
        if bad:
            raise ValueError(f"code département inconnu : {', '.join(bad)} (ex. 33, 2A, 974)")
        if self.role is Role.INSTRUCTEUR and not self.departements:
            raise ValueError("un jeton instructeur couvre au moins un département (--departement)")
        if self.role is Role.ADMIN and self.departements:
            raise ValueError("un jeton admin couvre tous les départements (pas de --departement)")

    @property
    def actif(self) -> bool:
        return self.revoked_at is None

    def peut(self, droit: Droit) -> bool:
        return droit in DROITS[self.role]

    def voit(self, departement: str | None) -> bool:
        """Whether a resource of ``departement`` exists for this token."""
        return not self.departements or departement in self.departements

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "role": str(self.role), "departements": list(self.departements), "nom": self.nom,
                "created_at": self.created_at.isoformat(),
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


# what a job's result shows a caller without the read right (a portail following what it submitted):
# the dossier's state and what is missing, never its pieces (their fields, findings, file names);
# no storage key of an issued document. A piece's own validation stays whole: the caller sent that file.
_RESULTAT_SOUMETTEUR: dict[str, frozenset[str]] = {
    "validate_dossier": frozenset({"dossier_id", "structure_id", "departement", "status", "missing"}),
    "generate_convention": frozenset({"convention_id", "version", "total_eur", "nouvelle", "avertissements"}),
    "amend_convention": frozenset({"convention_id", "version", "motif", "nouvelle"}),
}


def resultat_visible(actor: str, result: dict[str, Any] | None, jeton: Jeton) -> dict[str, Any] | None:
    """A job's result as ``jeton`` may read it (whole with the read right)."""
    if result is None or jeton.peut(Droit.LIRE) or actor not in _RESULTAT_SOUMETTEUR:
        return result
    return {k: v for k, v in result.items() if k in _RESULTAT_SOUMETTEUR[actor]}


@dataclass(frozen=True)
class AuditEntry:
    """A download, an upload, or a refused attempt at one."""

    at: datetime
    action: str  # e.g. document.telecharger, piece.deposer, copie_signee.deposer
    ressource: str  # the request path
    statut_http: int
    token_id: str | None = None
    role: str | None = None
    departement: str | None = None
    adresse: str | None = None  # client address as the server saw it (X-Forwarded-For from trusted proxies)
    detail: dict[str, Any] = field(default_factory=dict)
    id: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "token_id": self.token_id, "role": self.role,
                "action": self.action, "ressource": self.ressource, "departement": self.departement,
                "adresse": self.adresse, "statut_http": self.statut_http, "detail": self.detail}


class ConventionStatut(StrEnum):
    """Where the current version of a convention is in its signature."""

    A_SIGNER = "a_signer"  # no signed copy received for it
    SIGNEE = "signee"  # a signed copy received: being archived, or to be checked by a human
    ARCHIVEE = "archivee"  # a signed copy identified and archived under lock


def statut_convention(archives: Iterable[Any], numero: int) -> ConventionStatut:
    """The status of version ``numero`` from its signed copies (``ArchiveRecord``); the catalog's
    search computes the same rule in SQL (``search_conventions``)."""
    from dossiers.domain.archive import STATUTS_ARCHIVES

    copies = [a for a in archives if a.version == numero]
    if any(a.statut == "archive" and a.archived_at is not None for a in copies):
        return ConventionStatut.ARCHIVEE
    if any(a.statut in STATUTS_ARCHIVES for a in copies):
        return ConventionStatut.SIGNEE
    return ConventionStatut.A_SIGNER


@dataclass(frozen=True)
class ConventionResume:
    """A line of the conventions list: the convention, its structure and its current version."""

    id: str
    vague: int
    date_debut: Any
    structure_id: str
    siret: str
    denomination: str
    nature: str
    departement: str
    version: int
    document_type: str
    motif: str
    montant_total: Any
    version_created_at: datetime
    statut: ConventionStatut
