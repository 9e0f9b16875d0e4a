"""The pages' exports: the conventions list with the filters of its page, a re-issue plan's
conventions, the audit log (admins), as CSV or XLSX (``dossiers.services.exports``).

Same rules as the pages they come from: the agent's session, its départements only (an unknown
plan: a 404 page), every download audited with the agent (``export.<liste>``). Included before
``pages_conventions.router`` so that ``/conventions/export.csv`` is not read as a convention id.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from dossiers.domain.acces import Droit, Jeton
from dossiers.entrypoints.web.common import agent_of, app_of, audite
from dossiers.entrypoints.web.pages_conventions import filtres_page, recherche
from dossiers.entrypoints.web.session import PageError
from dossiers.services.exports import FORMATS, Table, audit_table, conventions_table, plan_table, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise PageError(404, "Export introuvable", "Les exports existent en CSV (.csv) et en Excel (.xlsx).")
    return fmt


def _deliver(request: Request, agent: Jeton, action: str, departement: str | None, detail: dict[str, Any],
             build: Any, fmt: str) -> Response:
    with audite(request, agent, action) as trail:
        trail.departement, trail.detail = departement, dict(detail)
        table: Table = build()
        done = render(table, fmt, today=app_of(request).clock.today())
        trail.detail.update(done.detail())
    return Response(done.data, media_type=done.media_type, headers={
        "Content-Disposition": f'attachment; filename="{done.filename}"', "Cache-Control": "private, no-store"})


@router.get("/conventions/export.{fmt}")
def export_conventions(request: Request, fmt: str,
                       filtres: Annotated[dict[str, Any], Depends(filtres_page)]) -> Response:
    """The conventions the page lists with the same filters (an unusable filter is ignored, as there)."""
    agent = agent_of(request)
    fmt = _format(fmt)
    detail = {"format": fmt, "filtres": {k: v for k, v in filtres.items() if v is not None}}
    return _deliver(request, agent, "export.conventions", filtres["departement"], detail, lambda: conventions_table(
        app_of(request), departements=agent.departements, **recherche(filtres)), fmt)


@router.get("/reemissions/{plan_id}/export.{fmt}")
def export_plan(request: Request, plan_id: str, fmt: str) -> Response:
    """A plan's conventions of the agent's départements, as its page shows them."""
    agent = agent_of(request)
    fmt = _format(fmt)

    def build() -> Table:
        if len(plan_id) > 32 or app_of(request).catalog.get_plan(plan_id) is None:
            raise PageError(404, "Plan introuvable", f"Aucun plan de réémission {plan_id}.")
        return plan_table(app_of(request), plan_id, departements=agent.departements)

    return _deliver(request, agent, "export.reemission", None, {"format": fmt, "plan_id": plan_id[:32]}, build, fmt)


@router.get("/audit/export.{fmt}")
def export_audit(request: Request, fmt: str,
                 depuis: Annotated[int | None, Query(ge=1, le=3650)] = None) -> Response:
    """The audit log, for an admin agent only (as ``conum audit``, newest first, 10 000 entries at most)."""
    agent = agent_of(request)
    fmt = _format(fmt)
    app = app_of(request)

    def build() -> Table:
        if not agent.peut(Droit.ADMINISTRER):
            raise PageError(403, "Accès refusé", "Seul un administrateur lit le journal d'audit.")
        return audit_table(app, since=app.clock.now() - timedelta(days=depuis) if depuis else None)

    return _deliver(request, agent, "export.audit", None, {"format": fmt}, build, fmt)


@router.get("/a-traiter/export.{fmt}")
def export_a_traiter(request: Request, fmt: str, genre: Annotated[str | None, Query(max_length=32)] = None) -> Response:
    """The agent's « à traiter » queue, with the page's filter."""
    from dossiers.entrypoints.web.pages_instruction import INSTRUIRE_REFUSE
    from dossiers.services.a_traiter import GENRES
    from dossiers.services.exports import a_traiter_table

    agent = agent_of(request)
    fmt = _format(fmt)
    app = app_of(request)
    genre = genre if genre in GENRES else None

    def build() -> Table:
        if not agent.peut(Droit.INSTRUIRE):
            raise PageError(403, "Accès refusé", INSTRUIRE_REFUSE)
        return a_traiter_table(app, departements=agent.departements, genre=genre, today=app.clock.today())

    return _deliver(request, agent, "export.a_traiter", None, {"format": fmt, "genre": genre}, build, fmt)
