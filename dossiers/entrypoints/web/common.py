"""What the pages share: the logged-in agent, rendering (a whole page or an htmx fragment), and the
API's rules applied to a page: the département scope (``services.acces``: a resource the agent does
not cover is a 404 page, as it is a 404 for a token), the audit row (``services.acces.auditer``, the
same row as the API's) and the rights (``Droit``, never a role).

The API's modules are imported inside the functions: ``api.app`` imports this package to install it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Path, Request
from fastapi.responses import HTMLResponse

from dossiers.domain.acces import Droit, Jeton
from dossiers.domain.jobs import Job
from dossiers.entrypoints.web.session import PageError, csrf_token, current_agent

if TYPE_CHECKING:
    from dossiers.entrypoints.api.context import Trail

__all__ = ["Login", "Numero", "web_of", "app_of", "agent_of", "nom_agent", "render", "partial", "droit",
           "convention_visible", "dossier_visible", "auditer", "audite", "own_job", "ctx_of"]

Numero = Annotated[int, Path(ge=1, le=100_000)]


class Login(Exception):
    """No agent logged in: the login page, then back to ``suite``."""

    def __init__(self, suite: str) -> None:
        self.suite = suite


def web_of(request: Request) -> Any:
    return request.app.state.web


def ctx_of(request: Request) -> Any:
    """The API's context (``api.context.ApiContext``): the pages run in the same application."""
    return request.app.state.ctx


def app_of(request: Request) -> Any:
    return request.app.state.ctx.app


def agent_of(request: Request) -> Jeton:
    """The logged-in agent (``Login`` otherwise)."""
    agent = current_agent(request, app_of(request))
    if agent is None:
        raise Login(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return agent


def droit(request: Request, droit: Droit, refus: str) -> Jeton:
    """The logged-in agent when it has ``droit``; a 403 page saying ``refus`` otherwise."""
    agent = agent_of(request)
    if not agent.peut(droit):
        raise PageError(403, "Accès refusé", refus)
    return agent


def nom_agent(request: Request, agent: Jeton | None) -> str:
    """The agent's name as ProConnect gave it at login (its email otherwise): what pages show and decisions keep."""
    return str(request.session.get("nom") or (agent.nom if agent else ""))


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    agent = context.pop("agent", None)
    response: HTMLResponse = web_of(request).templates.TemplateResponse(request, template, {
        "agent": agent, "agent_nom": nom_agent(request, agent),
        "csrf": csrf_token(request), **context}, status_code=status)
    response.headers["Vary"] = "HX-Request, Cookie"  # a fragment and its page never share a cache entry
    return response


def partial(request: Request) -> bool:
    """An htmx refresh of part of a page (a history restore asks for the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def convention_visible(request: Request, agent: Jeton, convention_id: str) -> str:
    """The convention's département, or a 404 page: unknown, or of a département the agent does not cover."""
    from dossiers.services import acces

    departement = acces.convention_visible(app_of(request), agent, convention_id)
    if departement is None:
        raise PageError(404, "Convention introuvable", f"Aucune convention {convention_id} parmi celles de vos "
                                                       "départements.")
    return departement


def dossier_visible(request: Request, agent: Jeton, dossier_id: str) -> str:
    """The dossier's département, or a 404 page (as ``convention_visible``)."""
    from dossiers.services import acces

    departement = acces.dossier_visible(app_of(request), agent, dossier_id)
    if departement is None:
        raise PageError(404, "Dossier introuvable", f"Aucun dossier {dossier_id} parmi ceux de vos départements.")
    return departement


def auditer(request: Request, agent: Jeton, action: str, departement: str | None, status: int,
            detail: dict[str, Any]) -> None:
    """The request's audit row, as the API writes it (``api.context.audited``)."""
    from dossiers.entrypoints.api.context import adresse
    from dossiers.services import acces

    app = app_of(request)
    acces.auditer(app, agent, action, ressource=request.url.path, statut=status, departement=departement,
                  detail=detail, adresse=adresse(request), now=app.clock.now())


def audite(request: Request, agent: Jeton, action: str) -> AbstractContextManager[Trail]:
    """One audit row for the page's request whatever its outcome, written as the API's are
    (``api.context.audited``): the page fills the ``Trail`` (département, detail, status)."""
    from dossiers.entrypoints.api.context import audited

    return audited(ctx_of(request), request, agent, action)


def own_job(request: Request, agent: Jeton, job_id: str) -> Job | None:
    """The job ``job_id`` when the agent submitted it (a page follows only the agent's own jobs)."""
    job: Job | None = app_of(request).catalog.get_job(job_id) if len(job_id) <= 64 else None
    return job if job is not None and job.owner == agent.id else None
