"""``/v1/webhooks``: a token registers callback URLs for its jobs' ends and the convention events of
its départements (``services.webhooks``), reads them and their delivery log, and deletes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from dossiers.domain.acces import Droit, Jeton
from dossiers.entrypoints.api.errors import ApiError, responses
from dossiers.entrypoints.api.routes_dossiers import ctx_of
from dossiers.entrypoints.api.security import require
from dossiers.errors import WebhookError
from dossiers.services.webhooks import EVENEMENTS, Evenement

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["webhooks"])
WebhookId = Annotated[str, Path(max_length=32, pattern=r"^wh_[0-9a-f]{24}$")]


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="URL https qui recevra les événements signés.")
    evenements: list[Evenement] = Field(default_factory=list, max_length=len(EVENEMENTS),
                                        description="Événements voulus (vide : tous).")


class WebhookOut(BaseModel):
    id: str
    url: str
    evenements: list[str]
    created_at: datetime


class WebhookCree(WebhookOut):
    secret: str = Field(description="Secret de vérification (Standard Webhooks, whsec_…), affiché une seule fois.")


class LivraisonOut(BaseModel):
    id: int
    webhook_id: str
    event_id: str
    type: str
    created_at: datetime
    statut: Literal["en_attente", "livree", "abandonnee"]
    tentatives: int
    dernier_statut_http: int | None
    derniere_erreur: str | None
    livree_at: datetime | None


def _own(request: Request, jeton: Jeton, webhook_id: str) -> Any:
    webhook = ctx_of(request).app.catalog.get_webhook(webhook_id)
    if webhook is None or webhook.deleted_at is not None or webhook.token_id != jeton.id:
        raise ApiError(404, "webhook_introuvable", f"Webhook {webhook_id} introuvable.")
    return webhook


@router.post("/webhooks", status_code=201, response_model=WebhookCree, responses=responses(403),
             summary="Enregistrer une URL de rappel (événements signés, Standard Webhooks)")
def post_webhook(body: WebhookIn, request: Request, jeton: Jeton = Depends(require(Droit.SUIVRE))) -> dict[str, Any]:
    from dossiers.services.webhooks import register

    app = ctx_of(request).app
    try:
        webhook, secret = register(app, jeton, body.url, body.evenements, now=app.clock.now())
    except WebhookError as exc:
        raise ApiError(422, str(exc.code), exc.message, erreurs=[
            {"champ": "url", "code": str(exc.code), "message": exc.message}]) from None
    return {**webhook.to_dict(), "secret": secret}


@router.get("/webhooks", response_model=list[WebhookOut], responses=responses(), summary="Les webhooks de ce jeton")
def get_webhooks(request: Request, jeton: Jeton = Depends(require(Droit.SUIVRE))) -> list[dict[str, Any]]:
    return [w.to_dict() for w in ctx_of(request).app.catalog.webhooks(token_id=jeton.id)]


@router.delete("/webhooks/{webhook_id}", status_code=204, response_class=Response, responses=responses(404),
               summary="Supprimer un webhook (les livraisons en attente sont abandonnées)")
def delete_webhook(webhook_id: WebhookId, request: Request, jeton: Jeton = Depends(require(Droit.SUIVRE))) -> Response:
    app = ctx_of(request).app
    _own(request, jeton, webhook_id)
    app.catalog.delete_webhook(webhook_id, now=app.clock.now())
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/livraisons", response_model=list[LivraisonOut], responses=responses(404),
            summary="Journal des livraisons d'un webhook (les 1000 premières)")
def get_livraisons(webhook_id: WebhookId, request: Request,
                   jeton: Jeton = Depends(require(Droit.SUIVRE))) -> list[dict[str, Any]]:
    _own(request, jeton, webhook_id)
    return [d.to_dict() for d in ctx_of(request).app.catalog.livraisons(webhook_id=webhook_id, limit=1000)]
