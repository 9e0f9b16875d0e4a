"""What instructeurs do through the API: decide pieces and signed copies à vérifier, list what waits for
them (« à traiter »), and read the financial situation of a convention.

Same rules as the pages (they call the same services): a decision is taken by an instructeur of the
resource's département or an admin (a portail: 403; another département: 404), audited whatever
its outcome, and answered synchronously with the resource as it now is.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from dossiers.domain.acces import Droit, Jeton
from dossiers.services.a_traiter import Genre
from dossiers.entrypoints.api import schemas
from dossiers.entrypoints.api.context import audited
from dossiers.entrypoints.api.errors import responses
from dossiers.entrypoints.api.routes_dossiers import ctx_of
from dossiers.entrypoints.api.security import require

__all__ = ["router", "copie_out"]

router = APIRouter(prefix="/v1")
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 de la copie signée reçue.")]
Numero = Annotated[int, Path(ge=1, le=100_000)]
PieceId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Numéro de la pièce (champ id du dossier).")]


def copie_out(record: Any) -> dict[str, Any]:
    base = f"/v1/conventions/{record.convention_id}/versions/{record.version}"
    return {"convention_id": record.convention_id, "version": record.version, "sha256": record.sha256,
            "statut": record.statut, "decision": record.decision.to_dict(), "archived_at": record.archived_at,
            "certificat_url": f"{base}/certificat.pdf?sha256={record.sha256}" if record.certificat_key else None}


@router.post("/dossiers/{dossier_id}/pieces/{piece_id}/decision", response_model=schemas.Dossier,
             responses=responses(403, 404, 409), tags=["instruction"],
             summary="Accepter ou refuser une pièce à vérifier",
             description="La décision (motif obligatoire pour un refus) est gardée à côté des constats ; le dossier "
                         "devient complet quand toutes ses pièces requises sont valides ou acceptées. La même décision "
                         "renvoyée répond le dossier inchangé ; une autre sur une pièce décidée : 409 "
                         "decision_impossible.")
def decide_piece(dossier_id: str, piece_id: PieceId, body: schemas.Decider, request: Request,
                 jeton: Jeton = Depends(require(Droit.INSTRUIRE))) -> dict[str, Any]:
    from dossiers.services.decisions import decider_piece

    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "piece.decider") as trail:
        trail.departement = ctx.dossier_visible(jeton, dossier_id)
        trail.detail = {"piece": piece_id, "decision": body.decision, "motif": body.motif}
        view = decider_piece(dossier_id, piece_id, body.decision, ctx.app, par=jeton.nom, now=ctx.app.clock.now(),
                             motif=body.motif, commentaire=body.commentaire, token_id=jeton.id)
    return view.to_dict() | {"rapport_url": f"/v1/dossiers/{dossier_id}/rapport.pdf"}


@router.post("/conventions/{convention_id}/versions/{numero}/signed/{sha256}/decision",
             response_model=schemas.CopieDecidee, responses=responses(403, 404, 409), tags=["instruction"],
             summary="Accepter ou refuser une copie signée à vérifier",
             description="Acceptée, la copie est alors archivée sous verrou avec son certificat ; refusée, elle est "
                         "retirée de la zone d'attente et seule sa trace reste (constats et décision).")
def decide_copie(convention_id: str, numero: Numero, sha256: Sha256, body: schemas.Decider, request: Request,
                 jeton: Jeton = Depends(require(Droit.INSTRUIRE))) -> dict[str, Any]:
    from dossiers.services.decisions import decider_copie

    ctx = ctx_of(request)
    with audited(ctx, request, jeton, "copie_signee.decider") as trail:
        trail.departement = ctx.convention_visible(jeton, convention_id)
        trail.detail = {"version": numero, "sha256": sha256, "decision": body.decision, "motif": body.motif}
        record = decider_copie(convention_id, numero, sha256, body.decision, ctx.app, par=jeton.nom,
                               now=ctx.app.clock.now(), motif=body.motif, commentaire=body.commentaire,
                               token_id=jeton.id)
    from workers.actors import announce_decision

    announce_decision(ctx.app, record)
    return copie_out(record)


@router.get("/a-traiter", response_model=schemas.ATraiterPage, responses=responses(403), tags=["instruction"],
            summary="Ce qui attend un instructeur dans ses départements, le plus ancien d'abord")
def get_a_traiter(
    request: Request,
    jeton: Jeton = Depends(require(Droit.INSTRUIRE)),
    genre: Annotated[Genre | None,
                     Query()] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    par_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    from dossiers.services.a_traiter import a_traiter

    ctx = ctx_of(request)
    found = a_traiter(ctx.app, departements=jeton.departements, jour=ctx.app.clock.today(), genre=genre, page=page,
                      par_page=par_page)
    return {"jour": found.jour, "total": found.total, "page": found.page, "par_page": found.par_page,
            "compte": found.compte, "items": [i.to_dict(found.jour) for i in found.items]}


@router.get("/conventions/{convention_id}/situation", response_model=schemas.Situation,
            responses=responses(403, 404), tags=["instruction"],
            summary="Situation financière : dû, versé, reste à verser, à reverser, par année et par version")
def get_situation(convention_id: str, request: Request, jeton: Jeton = Depends(require(Droit.LIRE))) -> dict[str, Any]:
    from dossiers.services.situation import situation

    ctx = ctx_of(request)
    ctx.convention_visible(jeton, convention_id)
    return situation(convention_id, ctx.app).to_dict()
