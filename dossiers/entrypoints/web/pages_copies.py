"""The signed copy of a convention, from its page: the upload (``services.depots.deposer_copie_signee``,
the intake of the API's ``POST …/signed``: same limits, statuses, job and audit row), the page that
follows its checks, and the acceptance of a copy à vérifier by an instructeur."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dossiers.domain.acces import Droit, Jeton
from dossiers.entrypoints.web.common import (
    Numero,
    agent_of,
    app_of,
    audite,
    auditer,
    convention_visible,
    ctx_of,
    nom_agent,
    own_job,
    partial,
    render,
)
from dossiers.entrypoints.web.pages_conventions import convention_context
from dossiers.entrypoints.web.session import PageError, check_csrf
from dossiers.errors import ChangementRefuse, ConumError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
CHOISIR = "Choisissez le fichier PDF de la copie signée."


def _form(request: Request, convention_id: str, csrf: str | None, droit: Droit, verbe: str) -> tuple[Jeton, str]:
    """The agent behind a form about a signed copy of a convention (CSRF checked, convention visible to them,
    ``droit`` held) and the convention's département."""
    agent = agent_of(request)
    check_csrf(request, csrf)
    departement = convention_visible(request, agent, convention_id)
    if not agent.peut(droit):
        raise PageError(403, "Accès refusé", f"Votre rôle ne permet pas de {verbe} une copie signée.")
    return agent, departement


@router.post("/conventions/{convention_id}/versions/{numero}/copie-signee", response_class=HTMLResponse)
def signed_copy(request: Request, convention_id: str, numero: Numero,
                fichier: Annotated[UploadFile | None, File()] = None,
                csrf: Annotated[str | None, Form()] = None) -> Response:
    """The API's intake; a refused file shows the convention's page again with the reason, under the
    API's status (413, 415, 422; an unknown version: a 404 page)."""
    from dossiers.entrypoints.api.context import refus_depot
    from dossiers.errors import DepotRefuse
    from dossiers.services.depots import MotifRefus, deposer_copie_signee

    agent, departement = _form(request, convention_id, csrf, Droit.DEPOSER_SIGNE, "déposer")
    with audite(request, agent, "copie_signee.deposer") as trail:
        trail.departement = departement
        try:
            depot = deposer_copie_signee(
                app_of(request), convention_id, numero, fichier.file if fichier is not None else None,
                fichier.filename if fichier is not None else None, detail=trail.detail,
                submit=lambda kwargs: ctx_of(request).submit(agent, "archive", kwargs))
        except DepotRefuse as exc:
            trail.status = refus_depot(exc).status
            if exc.motif is MotifRefus.VERSION_INTROUVABLE:
                raise PageError(404, "Version introuvable", exc.message) from None
            return render(request, "convention.html", trail.status, agent=agent, section="conventions",
                          erreur_depot=CHOISIR if exc.motif is MotifRefus.FICHIER_VIDE else exc.message,
                          **convention_context(request, agent, convention_id))
        trail.status = 202
    return RedirectResponse(f"/conventions/{convention_id}/depots/{depot.job.id}", status_code=303)


@router.get("/conventions/{convention_id}/depots/{job_id}", response_class=HTMLResponse)
def signed_copy_result(request: Request, convention_id: str, job_id: str) -> Response:
    agent = agent_of(request)
    convention_visible(request, agent, convention_id)
    job = own_job(request, agent, job_id)
    if job is None or job.args.get("convention_id") != convention_id:
        raise PageError(404, "Dépôt introuvable", "Ce dépôt n'existe pas ou n'est pas le vôtre.")
    context: dict[str, Any] = {"job": job, "resultat": job.result or {}}
    if partial(request):
        return render(request, "_depot.html", agent=agent, convention_id=convention_id, **context)
    return render(request, "depot.html", agent=agent, section="conventions", convention_id=convention_id, **context)


@router.post("/conventions/{convention_id}/depots/{job_id}/accepter", response_class=HTMLResponse)
def accept_signed_copy(request: Request, convention_id: str, job_id: str,
                       csrf: Annotated[str | None, Form()] = None) -> Response:
    """The instructeur read a copy à vérifier and accepts it: only now is it locked under retention."""
    from dossiers.services.archive import accepter_copie

    agent, departement = _form(request, convention_id, csrf, Droit.INSTRUIRE, "accepter")
    app = app_of(request)
    job = own_job(request, agent, job_id)
    copie_id = (job.result or {}).get("id") if job is not None else None
    if job is None or job.args.get("convention_id") != convention_id or not isinstance(copie_id, int):
        raise PageError(404, "Dépôt introuvable", "Ce dépôt n'existe pas ou n'est pas le vôtre.")
    par = nom_agent(request, agent)
    try:
        record = accepter_copie(copie_id, app, par=par, now=app.clock.now())
    except ChangementRefuse as exc:
        auditer(request, agent, "copie_signee.accepter", departement, 409, {"job_id": job_id})
        raise PageError(409, "Copie non acceptée", exc.message) from None
    except ConumError:
        auditer(request, agent, "copie_signee.accepter", departement, 503, {"job_id": job_id})
        raise PageError(503, "Service indisponible", "L'archive ne répond pas : la copie reste en attente, "
                                                     "réessayez dans un instant.") from None
    auditer(request, agent, "copie_signee.accepter", departement, 200,
           {"job_id": job_id, "copie": record.id, "sha256": record.sha256})
    from workers.actors import announce_decision

    announce_decision(app, record)
    return RedirectResponse(f"/conventions/{convention_id}", status_code=303)
