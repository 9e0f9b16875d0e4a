"""What the routes share (and the pages, which run in the same application): the process's ``App``,
its limiter, and the helpers that apply the département scope (``services.acces``), write the audit log
(``services.acces.auditer``) and submit jobs on behalf of a token or an agent."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from dossiers.domain.acces import Droit, Jeton
from dossiers.domain.jobs import Job
from dossiers.domain.structures import cle_qualifiee
from dossiers.entrypoints.api.errors import ApiError, status_of
from dossiers.entrypoints.api.security import RateLimiter
from dossiers.errors import ConumError, IdempotenceConflit
from dossiers.services.acces import auditer, convention_visible, dossier_visible
from dossiers.errors import DepotRefuse
from dossiers.services.depots import MotifRefus

__all__ = ["ApiContext", "Trail", "IDEMPOTENCY_KEY", "empreinte_requete", "audited", "adresse", "refus_depot"]

IDEMPOTENCY_KEY = r"^[A-Za-z0-9._:-]{1,100}$"


@dataclass
class ApiContext:
    app: Any  # dossiers.bootstrap.App
    limiter: RateLimiter
    actors: dict[str, Any] = field(default_factory=dict)

    # -- scope ------------------------------------------------------------------------------------
    def convention_visible(self, jeton: Jeton, convention_id: str) -> str:
        """The convention's département, or 404 when it does not exist for this token (``services.acces``)."""
        departement = convention_visible(self.app, jeton, convention_id)
        if departement is None:
            raise ApiError(404, "convention_introuvable", f"Convention {convention_id} introuvable.")
        return departement

    def dossier_visible(self, jeton: Jeton, dossier_id: str) -> str:
        departement = dossier_visible(self.app, jeton, dossier_id)
        if departement is None:
            raise ApiError(404, "dossier_introuvable", f"Dossier {dossier_id} introuvable.")
        return departement

    def cle_structure(self, jeton: Jeton, departement: str, ref: str) -> str:
        """The catalog key of the structure ``departement`` knows as ``ref`` (``dossiers.domain.structures``):
        the one it already has there, else ``ref`` itself for a token of every département, else ``ref``
        in the département's namespace. What other départements hold never changes the answer of a token
        limited to some."""
        found = self.app.catalog.cle_structure(departement, ref)
        if found is not None:
            return str(found)
        return ref if not jeton.departements else cle_qualifiee(departement, ref)

    # -- jobs -------------------------------------------------------------------------------------
    @staticmethod
    def _job_key(jeton: Jeton, actor: str, idempotency: str) -> str:
        return hashlib.sha256(f"{jeton.id}\0{actor}\0{idempotency}".encode()).hexdigest()

    def check_idempotency(self, jeton: Jeton, actor: str, idempotency: str | None, requete: str) -> None:
        """Refuse at once (422 idempotence_conflit) a key already bound to another request, before the
        request stores anything; ``submit`` checks again when it records the job."""
        from workers.submit import check_requete

        if idempotency is None:
            return
        job = self.app.catalog.find_job_by_key(self._job_key(jeton, actor, idempotency))
        if job is not None:
            with _idempotence():
                check_requete(job, requete)

    def submit(self, jeton: Jeton, actor: str, kwargs: dict[str, Any], *, idempotency: str | None = None,
               key: str | None = None, requete: str | None = None) -> Job:
        """Submit a job owned by the token. ``Idempotency-Key``: the same key from the same token and
        the same request (``requete``, from ``empreinte_requete``) returns the same job, with another
        request it is refused (422 idempotence_conflit); without a key, the same arguments give the
        same job (``key`` overrides both)."""
        from workers.submit import submit

        if idempotency is not None:
            key = self._job_key(jeton, actor, idempotency)
        with _idempotence():
            return submit(self.app, self.actors[actor], kwargs, key=key, owner=jeton.id,
                          requete_sha256=requete if idempotency is not None else None)

    def job_visible(self, jeton: Jeton, job: Job | None, job_id: str) -> Job:
        if job is None or (not jeton.peut(Droit.ADMINISTRER) and job.owner != jeton.id):
            raise ApiError(404, "tache_introuvable", f"Tâche {job_id} introuvable.")
        return job


def empreinte_requete(request: Request, body: Any) -> str:
    """SHA-256 of what a request asks: method, path and body (a JSON body in its canonical form, a form's
    fields with each file's SHA-256), as an Idempotency-Key is bound to it."""
    canonical = json.dumps([request.method, request.url.path, body], sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@contextmanager
def _idempotence() -> Iterator[None]:
    try:
        yield
    except IdempotenceConflit as exc:
        raise ApiError(422, str(exc.code), exc.message, erreurs=[
            {"champ": "Idempotency-Key", "code": str(exc.code), "message": "clé déjà liée à une autre requête"}]) from None


@dataclass
class Trail:
    """What a download or upload writes to the audit log; routes fill ``detail`` and ``status``."""

    departement: str | None = None
    status: int = 200
    detail: dict[str, Any] = field(default_factory=dict)


@contextmanager
def audited(ctx: ApiContext, request: Request, jeton: Jeton, action: str) -> Iterator[Trail]:
    """Write one audit row for the request, whatever its outcome (a refused attempt included): the status
    of the error answered (``ApiError``, a page's ``PageError``, a service's error by ``status_of``), 500
    for anything else."""
    trail = Trail()
    try:
        yield trail
    except ConumError as exc:
        trail.status = status_of(exc)
        raise
    except Exception as exc:  # an ApiError, or a page's PageError (the pages audit through here too)
        status = getattr(exc, "status", None)
        trail.status = status if isinstance(status, int) else 500
        raise
    finally:
        auditer(ctx.app, jeton, action, ressource=request.url.path, statut=trail.status, departement=trail.departement,
                detail=trail.detail, adresse=adresse(request), now=ctx.app.clock.now())


def adresse(request: Request) -> str | None:
    """The client's address as the server saw it (``X-Forwarded-For`` only from trusted proxies)."""
    return request.client.host if request.client else None


def refus_depot(exc: DepotRefuse) -> ApiError:
    """A refused signed copy as the API answers it (and the page, with the same status and message)."""
    if exc.motif is MotifRefus.FICHIER_VIDE:
        return ApiError(422, "requete_invalide", exc.message,
                        erreurs=[{"champ": "fichier", "code": "fichier_vide", "message": "fichier vide"}])
    return ApiError(status_of(exc), str(exc.code), exc.message)
