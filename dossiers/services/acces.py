"""API tokens: create (the secret is returned once), authenticate, revoke; what a token or an agent
sees (the département scope, one rule for the API and the pages); and the audit trail."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dossiers.domain.acces import TOKEN_PREFIX, AuditEntry, Jeton, Role, looks_like_token, token_digest
from dossiers.errors import ConumError, ErrorCode
from dossiers.ports import AppPorts

__all__ = ["create_token", "authenticate", "revoke_token", "save_agent", "audit", "auditer", "Auteur", "AccesRefuse",
           "convention_visible", "dossier_visible"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[a-z]{2,}$")


class AccesRefuse(ConumError):
    """No valid token: missing, malformed, unknown or revoked (the API answers 401)."""

    code = ErrorCode.NON_AUTHENTIFIE


def create_token(app: AppPorts, *, role: str, departements: Iterable[str] = (), nom: str = "",
                 now: datetime) -> tuple[str, Jeton]:
    """A new token: (secret, record). Only the secret's SHA-256 is stored."""
    try:
        jeton = Jeton(id=f"tok_{secrets.token_hex(8)}", role=Role(role),
                      departements=tuple(sorted({d.strip().upper() for d in departements})),
                      nom=nom.strip()[:200] or role, created_at=now)
    except ValueError as exc:
        raise ConumError(str(exc), code=ErrorCode.JETON_INVALIDE) from exc
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    app.catalog.create_token(jeton, digest=token_digest(secret))
    return secret, jeton


def authenticate(app: AppPorts, secret: str | None) -> Jeton:
    if not secret:
        raise AccesRefuse("Jeton d'accès manquant : en-tête « Authorization: Bearer <jeton> » attendu.")
    if not looks_like_token(secret):  # refused before any database lookup
        raise AccesRefuse("Jeton d'accès mal formé.")
    jeton = app.catalog.token_by_digest(token_digest(secret))
    if jeton is None:
        raise AccesRefuse("Jeton d'accès inconnu.")
    if not jeton.actif:
        raise AccesRefuse("Jeton d'accès révoqué.")
    return jeton


def revoke_token(app: AppPorts, token_id: str, *, now: datetime) -> None:
    if not app.catalog.revoke_token(token_id, now=now):
        raise ConumError(f"Jeton {token_id} inconnu.", code=ErrorCode.JETON_INVALIDE)


def save_agent(app: AppPorts, email: str, *, role: str, departements: Iterable[str], now: datetime) -> Jeton:
    """Allow a State agent (its ProConnect email) on the web pages, for these départements."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ConumError(f"Adresse électronique invalide : {email!r}.", code=ErrorCode.JETON_INVALIDE)
    if role not in (Role.INSTRUCTEUR, Role.ADMIN):
        raise ConumError("Un agent est instructeur ou admin.", code=ErrorCode.JETON_INVALIDE)
    try:
        jeton = Jeton(id=f"agt_{secrets.token_hex(8)}", role=Role(role),
                      departements=tuple(sorted({d.strip().upper() for d in departements})), nom=email, created_at=now)
    except ValueError as exc:
        raise ConumError(str(exc), code=ErrorCode.JETON_INVALIDE) from exc
    return app.catalog.save_agent(email, jeton)


def audit(app: AppPorts, entry: AuditEntry) -> None:
    app.catalog.record_audit(entry)


def convention_visible(app: AppPorts, jeton: Jeton, convention_id: str) -> str | None:
    """The convention's département, or None when it does not exist for ``jeton``: unknown, or of a
    département the token or agent does not cover (the same answer, so nothing leaks). The API answers
    404 ``convention_introuvable`` and the pages a 404 page."""
    departement = app.catalog.convention_departement(convention_id)
    return str(departement) if departement is not None and jeton.voit(departement) else None


def dossier_visible(app: AppPorts, jeton: Jeton, dossier_id: str) -> str | None:
    """The dossier's département, or None when it does not exist for ``jeton`` (as ``convention_visible``)."""
    departement = app.catalog.dossier_departement(dossier_id)
    return str(departement) if departement is not None and jeton.voit(departement) else None


@dataclass(frozen=True)
class Auteur:
    """Who an audit row names without a token: a person at a terminal (``conum decide``, ``conum structure
    corriger``), with no token id, the role ``cli`` and the name given with ``--par``."""

    nom: str
    token_id: str | None = None
    role: str = "cli"


def auditer(app: AppPorts, qui: Jeton | Auteur, action: str, *, ressource: str, statut: int,
            departement: str | None, detail: dict[str, Any], adresse: str | None, now: datetime) -> None:
    """Write the audit row of one request, by the API, a page or the CLI alike: who (the token or agent,
    or the CLI's ``Auteur``; its role, and its name in ``detail["agent"]``), what (``action`` on
    ``ressource``: the request path, or the command line ``cli:…``), the HTTP status answered (the CLI
    writes the one the API would), the resource's département, the client address (None for the CLI)."""
    token_id, role = (qui.id, str(qui.role)) if isinstance(qui, Jeton) else (qui.token_id, qui.role)
    audit(app, AuditEntry(at=now, action=action, ressource=ressource, statut_http=statut, token_id=token_id,
                          role=role, departement=departement, adresse=adresse, detail={**detail, "agent": qui.nom}))
