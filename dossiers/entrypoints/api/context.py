"""What the routes share: the process's ``App``, its limiter, and the helpers that apply the
département scope, write the audit log and submit jobs on behalf of a token."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from dossiers.domain.acces import AuditEntry, Jeton, Role
from dossiers.domain.jobs import Job
from dossiers.entrypoints.api.errors import ApiError, status_of
from dossiers.entrypoints.api.security import RateLimiter
from dossiers.errors import ConumError
from dossiers.services.acces import audit

__all__ = ["ApiContext", "Trail", "IDEMPOTENCY_KEY"]

IDEMPOTENCY_KEY = r"^[A-Za-z0-9._:-]{1,100}$"


@dataclass
class ApiContext:
    app: Any  # dossiers.bootstrap.App
    limiter: RateLimiter
    actors: dict[str, Any] = field(default_factory=dict)

    # -- scope ------------------------------------------------------------------------------------
    def convention_visible(self, jeton: Jeton, convention_id: str) -> str:
        """The convention's département, or 404 when it does not exist for this token."""
        departement = self.app.catalog.convention_departement(convention_id)
        if departement is None or not jeton.voit(departement):
            raise ApiError(404, "convention_introuvable", f"Convention {convention_id} introuvable.")
        return str(departement)

    def dossier_visible(self, jeton: Jeton, dossier_id: str) -> str:
        departement = self.app.catalog.dossier_departement(dossier_id)
        if departement is None or not jeton.voit(departement):
            raise ApiError(404, "dossier_introuvable", f"Dossier {dossier_id} introuvable.")
        return str(departement)

    # -- jobs -------------------------------------------------------------------------------------
    def submit(self, jeton: Jeton, actor: str, kwargs: dict[str, Any], *, idempotency: str | None = None,
               key: str | None = None) -> Job:
        """Submit a job owned by the token. ``Idempotency-Key``: the same key from the same token
        returns the same job; without it, the same arguments do (``key`` overrides both)."""
        from workers.submit import submit

        if idempotency is not None:
            key = hashlib.sha256(f"{jeton.id}\0{actor}\0{idempotency}".encode()).hexdigest()
        return submit(self.app, self.actors[actor], kwargs, key=key, owner=jeton.id)

    def job_visible(self, jeton: Jeton, job: Job | None, job_id: str) -> Job:
        if job is None or (jeton.role is not Role.ADMIN and job.owner != jeton.id):
            raise ApiError(404, "tache_introuvable", f"Tâche {job_id} introuvable.")
        return job


@dataclass
class Trail:
    """What a download or upload writes to the audit log; routes fill ``detail`` and ``status``."""

    departement: str | None = None
    status: int = 200
    detail: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited(ctx: ApiContext, request: Request, jeton: Jeton, action: str) -> Iterator[Trail]:
    """Write one audit row for the request, whatever its outcome (a refused attempt included)."""
    trail = Trail()
    try:
        yield trail
    except ApiError as exc:
        trail.status = exc.status
        raise
    except ConumError as exc:
        trail.status = status_of(exc)
        raise
    except Exception:
        trail.status = 500
        raise
    finally:
        audit(ctx.app, AuditEntry(
            at=ctx.app.clock.now(), action=action, ressource=request.url.path, statut_http=trail.status,
            token_id=jeton.id, role=str(jeton.role), departement=trail.departement,
            adresse=request.client.host if request.client else None, detail=trail.detail,
        ))
