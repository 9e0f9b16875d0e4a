"""``/v1/exports``: the lists as CSV (French: ``;`` and decimal comma, UTF-8 with BOM) or XLSX.

Same rights and scope as what they export: the conventions list (``GET /v1/conventions``'s filters,
within the token's départements), a re-issue plan's conventions (within the token's départements; an
unknown plan: 404), the audit log (admin only: no other role reads it). Every export, refused or not
past the token check, writes an audit row (``export.<liste>``, file name, rows, SHA-256).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from dossiers.domain.acces import Droit, Jeton
from dossiers.services.a_traiter import Genre
from dossiers.entrypoints.api.context import Trail, audited
from dossiers.entrypoints.api.errors import ApiError, responses
from dossiers.entrypoints.api.routes_conventions import FiltresConventions, filtres_conventions
from dossiers.entrypoints.api.routes_dossiers import ctx_of
from dossiers.entrypoints.api.security import require
from dossiers.services.exports import MEDIA_TYPES, Fichier, Table, audit_table, conventions_table, plan_table, render

__all__ = ["router"]

router = APIRouter(prefix="/v1")
Format = Annotated[Literal["csv", "xlsx"], Path(description="csv (séparateur « ; », virgule décimale, UTF-8 avec "
                                                            "BOM) ou xlsx (cellules typées).")]
FILE = {"description": "Le fichier (pièce jointe).", "content": {
    media: {"schema": {"type": "string", "format": "binary"}} for media in MEDIA_TYPES.values()}}


def _deliver(request: Request, trail: Trail, table: Table, fmt: str) -> Response:
    ctx = ctx_of(request)
    done: Fichier = render(table, fmt, today=ctx.app.clock.today())
    trail.detail.update(done.detail())
    return Response(done.data, media_type=done.media_type, headers={
        "Content-Disposition": f'attachment; filename="{done.filename}"', "Cache-Control": "private, no-store"})


@router.get("/exports/conventions.{fmt}", response_class=Response, responses=responses(403, 404, _200=FILE),
            summary="Exporter la liste des conventions (mêmes filtres que GET /v1/conventions)")
def export_conventions(
    fmt: Format,
    request: Request,
    filtres: Annotated[FiltresConventions, Depends(filtres_conventions)],
    jeton: Jeton = Depends(require(Droit.LIRE)),
) -> Response:
    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "export.conventions") as trail:
        trail.departement = filtres.departement
        trail.detail = {"format": fmt, "filtres": filtres.donnes()}
        table = conventions_table(ctx.app, departements=jeton.departements, **filtres.recherche())
        return _deliver(request, trail, table, fmt)


@router.get("/exports/reemissions/{plan_id}.{fmt}", response_class=Response, responses=responses(403, 404, _200=FILE),
            summary="Exporter les conventions d'un plan de réémission (celles des départements du jeton)")
def export_plan(
    plan_id: Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9-]+$", description="RP-…")],
    fmt: Format, request: Request, jeton: Jeton = Depends(require(Droit.LIRE)),
) -> Response:
    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "export.reemission") as trail:
        trail.detail = {"format": fmt, "plan_id": plan_id}
        # an unknown plan: plan_introuvable, a 404 by the API's error table
        return _deliver(request, trail, plan_table(ctx.app, plan_id, departements=jeton.departements), fmt)


@router.get("/exports/audit.{fmt}", response_class=Response, responses=responses(403, 404, _200=FILE),
            summary="Exporter le journal d'audit (admin ; le plus récent d'abord)")
def export_audit(
    fmt: Format, request: Request, jeton: Jeton = Depends(require(Droit.LIRE)),
    token_id: Annotated[str | None, Query(alias="jeton", max_length=32, pattern=r"^[A-Za-z0-9_-]+$",
                                          description="Seulement ce jeton (ou cet agent).")] = None,
    depuis: Annotated[int | None, Query(ge=1, le=3650, description="Les N derniers jours.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 10_000,
) -> Response:
    from datetime import timedelta

    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "export.audit") as trail:
        trail.detail = {"format": fmt}
        if not jeton.peut(Droit.ADMINISTRER):
            raise ApiError(403, "droit_insuffisant", "Seul un jeton admin lit le journal d'audit.")
        since = ctx.app.clock.now() - timedelta(days=depuis) if depuis else None
        return _deliver(request, trail, audit_table(ctx.app, token_id=token_id, since=since, limit=limit), fmt)


@router.get("/exports/a-traiter.{fmt}", response_class=Response, responses=responses(403, 404, _200=FILE),
            summary="Exporter la file « à traiter » (départements du jeton ; le plus ancien d'abord)")
def export_a_traiter(
    fmt: Format, request: Request, jeton: Jeton = Depends(require(Droit.INSTRUIRE)),
    genre: Annotated[Genre | None,
                     Query()] = None,
) -> Response:
    from dossiers.services.exports import a_traiter_table

    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "export.a_traiter") as trail:
        trail.detail = {"format": fmt, "genre": genre}
        table = a_traiter_table(ctx.app, departements=jeton.departements, genre=genre, today=ctx.app.clock.today())
        return _deliver(request, trail, table, fmt)
