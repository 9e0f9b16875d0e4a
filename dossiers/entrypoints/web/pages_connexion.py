"""The way in and out: the home page (where the agent's rights say they start), the ProConnect login
(OpenID Connect with state, nonce and PKCE; the agent must be known to the catalog) and the logout
(every session of the agent ends, on whichever device)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dossiers.domain.acces import Accueil, accueil
from dossiers.entrypoints.web.common import app_of, render, web_of
from dossiers.entrypoints.web.oidc import OidcError
from dossiers.entrypoints.web.session import PageError, check_csrf, csrf_token, current_agent, safe_next

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
ACCUEILS = {Accueil.A_TRAITER: "/a-traiter", Accueil.CONVENTIONS: "/conventions"}


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """Where the agent's rights say they start (``domain.acces.accueil``)."""
    return RedirectResponse(ACCUEILS[accueil(current_agent(request, app_of(request)))], status_code=303)


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request, suite: str | None = None, deconnecte: int = 0) -> Response:
    if current_agent(request, app_of(request)) is not None:
        return RedirectResponse(safe_next(suite), status_code=303)
    return render(request, "connexion.html", suite=safe_next(suite), deconnecte=bool(deconnecte),
                  configure=web_of(request).oidc is not None)


def _redirect_uri(request: Request) -> str:
    base = web_of(request).base_url or str(request.base_url).rstrip("/")
    return f"{base}/connexion/retour"


@router.get("/connexion/proconnect")
def login_start(request: Request, suite: str | None = None) -> Response:
    oidc = web_of(request).oidc
    if oidc is None:
        raise PageError(503, "Connexion indisponible", "La connexion ProConnect n'est pas configurée (OIDC_ISSUER).")
    try:
        demande = oidc.start(_redirect_uri(request))
    except OidcError as exc:
        raise PageError(503, "Connexion indisponible", str(exc)) from None
    request.session["oidc"] = {"state": demande.state, "nonce": demande.nonce, "verifier": demande.verifier,
                               "suite": safe_next(suite)}
    return RedirectResponse(demande.url, status_code=303)


@router.get("/connexion/retour")
def login_return(request: Request, code: str | None = None, state: str | None = None,
                 error: str | None = None) -> Response:
    pending = request.session.pop("oidc", None)  # one use: a replayed return finds nothing
    if error:
        raise PageError(403, "Connexion refusée", "Le service d'identification n'a pas autorisé la connexion.")
    if not isinstance(pending, dict) or not state or not code or state != pending.get("state"):
        raise PageError(400, "Connexion refusée", "Cette demande de connexion est inconnue ou a déjà servi : "
                                                  "recommencez depuis la page de connexion.")
    oidc = web_of(request).oidc
    try:
        claims = oidc.finish(code, redirect_uri=_redirect_uri(request), nonce=pending["nonce"],
                             verifier=pending["verifier"])
    except OidcError as exc:
        raise PageError(400, "Connexion refusée", str(exc)) from None
    email = str(claims["email"]).strip().lower()
    app = app_of(request)
    if app.settings.oidc_require_email_verified and claims.get("email_verified") is not True:
        raise PageError(403, "Adresse non vérifiée", f"Le fournisseur d'identité ne certifie pas que l'adresse "
                                                     f"{email} vous appartient (email_verified) : connexion refusée.")
    found = app.catalog.agent_session(email)
    if found is None:
        raise PageError(403, "Compte non habilité", f"Le compte {email} n'a accès à aucun département. "
                                                    "Demandez votre habilitation à l'administrateur de conum.")
    request.session.clear()  # a new session for the logged-in agent (no fixation)
    request.session.update({"agent": email, "epoch": found[1], "nom": " ".join(
        str(claims.get(k, "")) for k in ("given_name", "usual_name") if claims.get(k)) or email,
        "connecte_le": app.clock.now().isoformat()})
    csrf_token(request)
    return RedirectResponse(pending.get("suite") or "/conventions", status_code=303)


@router.post("/deconnexion")
def logout(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    check_csrf(request, csrf)
    if current_agent(request, app_of(request)) is not None:  # a dead session cannot end the live ones
        # a new epoch: every session of the agent ends, a copy of this cookie or another device's included
        app_of(request).catalog.rotate_agent_epoch(request.session["agent"], expected=request.session["epoch"])
    request.session.clear()
    return RedirectResponse("/connexion?deconnecte=1", status_code=303)
