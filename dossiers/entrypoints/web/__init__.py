"""The instructeur web pages, in the API's FastAPI application (same scopes, same audit).

``install_web(api, settings)`` adds the session cookie, the static files (the DSFR, copied from
its npm package by ``make static``, never fetched from a CDN), the pages and the HTML error pages.

The pages, one module per resource as ``api/``'s routes: ``pages_connexion`` (home, login, logout),
``pages_conventions`` (list, page, documents), ``pages_copies`` (signed copies), ``pages_dossiers``,
``pages_instruction`` (à traiter, decisions, generation), ``pages_reemissions``, ``pages_exports``;
what they share in ``common`` (the agent, rendering, the API's scope, audit and rights).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dossiers.domain.formatting import date_longue, montant
from dossiers.entrypoints.web.oidc import OidcClient
from dossiers.entrypoints.web import (
    pages_connexion,
    pages_conventions,
    pages_copies,
    pages_dossiers,
    pages_exports,
    pages_instruction,
    pages_reemissions,
)
from dossiers.entrypoints.web.common import Login
from dossiers.entrypoints.web.session import (
    SESSION_COOKIE, EncryptedSessionMiddleware, PageError, csrf_token, session_secret,
)
from dossiers.settings import Settings

__all__ = ["install_web", "STATIC_DIR", "is_page"]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
# in this order: an export's address (/conventions/export.csv) is not read as a convention id
ROUTERS = (pages_exports.router, pages_connexion.router, pages_conventions.router, pages_copies.router,
           pages_dossiers.router, pages_reemissions.router, pages_instruction.router)


@dataclass
class Web:
    templates: Jinja2Templates
    oidc: OidcClient | None
    base_url: str | None


def is_page(request: Request) -> bool:
    """A request for a page (HTML answers), not for the API (JSON answers)."""
    return not request.url.path.startswith(("/v1/", "/v1", "/healthz", "/readyz", "/static/"))


def install_web(api: FastAPI, settings: Settings) -> None:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.filters.update(montant=montant, date_longue=date_longue, euros=lambda v: montant(Decimal(str(v))),
                                 date_courte=lambda d: d.strftime("%d/%m/%Y") if d else "",
                                 date_iso=lambda s: f"{s[8:10]}/{s[5:7]}/{s[0:4]}" if s and len(s) >= 10 else "")
    oidc = (OidcClient(settings.oidc_issuer, settings.oidc_client_id or "", settings.oidc_client_secret,
                       settings.oidc_scopes) if settings.oidc_issuer and settings.oidc_client_id else None)
    base_url = settings.web_base_url.rstrip("/") if settings.web_base_url else None
    api.state.web = Web(templates, oidc, base_url)
    api.add_middleware(EncryptedSessionMiddleware,
                       secret_key=session_secret(settings.session_secret, settings.var_dir),
                       session_cookie=SESSION_COOKIE, max_age=settings.session_max_age, same_site="lax",
                       https_only=bool(base_url and base_url.startswith("https://")))
    api.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    for router in ROUTERS:
        api.include_router(router)

    def error_page(request: Request, status: int, titre: str, message: str) -> HTMLResponse:
        from dossiers.entrypoints.web.session import current_agent

        try:
            agent = current_agent(request, request.app.state.ctx.app) if "session" in request.scope else None
        except Exception:  # the catalog itself may be what failed
            agent = None
        csrf = csrf_token(request) if "session" in request.scope else ""
        return templates.TemplateResponse(request, "erreur.html", {
            "agent": agent, "agent_nom": request.session.get("nom", "") if "session" in request.scope else "",
            "csrf": csrf, "titre": titre, "message": message, "status": status}, status_code=status)

    api.state.html_error = error_page

    @api.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> HTMLResponse:
        # the page reads the agent from the catalog: never on the event loop
        return await run_in_threadpool(error_page, request, exc.status, exc.titre, exc.message)

    @api.exception_handler(Login)
    async def _login(request: Request, exc: Login) -> Any:
        from urllib.parse import quote

        return RedirectResponse(f"/connexion?suite={quote(exc.suite, safe='/')}", status_code=303)
