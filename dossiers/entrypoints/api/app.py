"""The HTTP API (FastAPI): ``create_app()`` is the ASGI application ``conum serve`` runs.

One ``App`` (catalog, storage, broker) per process, built at startup and closed at shutdown; routes
are thin: check the token and its scope, call one service or submit one job, map errors. Without
``BROKER_URL`` a submitted job runs in the API process before the answer (embedded mode).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from dossiers.domain.changements import changement_json_schema
from dossiers.domain.evenements import evenement_json_schema
from dossiers.domain.checks.signe import SIGNED_COPY_POLICY
from dossiers.domain.demande import DemandeIn
from dossiers.entrypoints.api import (
    routes_conventions,
    routes_dossiers,
    routes_exports,
    routes_instruction,
    routes_webhooks,
    schemas,
)
from dossiers.entrypoints.api.context import ApiContext
from dossiers.entrypoints.api.errors import declare_body_limit, install_handlers
from dossiers.entrypoints.api.gate import Gate, JsonGuard
from dossiers.entrypoints.api.limits import BodyLimit
from dossiers.entrypoints.api.security import RateLimiter
from dossiers.entrypoints.web import install_web, is_page
from dossiers.settings import Settings

__all__ = ["create_app", "MAX_JSON_BYTES"]

log = logging.getLogger("conum.api")
MAX_JSON_BYTES = 1_000_000
MAX_OTHER_BYTES = 64_000
MULTIPART_OVERHEAD = 1_000_000
REF = "#/components/schemas/{model}"
DOCS_PATH = "/v1/docs"
# Swagger UI served from the package's static files (copied from npm by `make static`), started by
# api-docs.js: no CDN, no inline script, the pages' CSP. The notice shows only when it did not start.
_DOCS_HTML = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>conum — API v1</title>
<link rel="icon" href="/static/dsfr/favicon/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
</head>
<body>
<p id="docs-indisponible">La documentation interactive n'est pas installée sur ce serveur (<code>make static</code>) ;
la description OpenAPI de l'API est à <a href="/v1/openapi.json">/v1/openapi.json</a>.</p>
<div id="swagger-ui" data-openapi="/v1/openapi.json"></div>
<script src="/static/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script>
</body>
</html>
"""
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
       "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def create_app(app: Any = None, settings: Settings | None = None) -> FastAPI:
    """The ASGI app. ``app``: an ``App`` the caller owns (tests); else one built from the environment."""
    from dossiers.bootstrap import App

    settings = settings or (app.settings if app is not None else Settings.from_env())
    owned = app is None
    max_piece = max(p.max_bytes for p in settings.policies().values())

    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        from workers import runtime
        from workers.actors import ACTORS

        instance = app if app is not None else App(settings)
        runtime.use_app(instance)  # jobs run here (no broker) use this process's App
        api.state.ctx = ApiContext(instance, RateLimiter(settings.api_rate_limit, settings.api_rate_burst),
                                   dict(ACTORS))
        try:
            yield
        finally:
            runtime.use_app(None)
            if owned:
                await run_in_threadpool(instance.close)

    api = FastAPI(
        title="conum", version="1", lifespan=lifespan,
        description="Dossiers, pièces, conventions de subvention Conseiller numérique : soumettre, suivre, "
                    "télécharger, déposer les copies signées. Jeton : `conum token create`.",
        openapi_url="/v1/openapi.json", docs_url=None, redoc_url=None,
    )

    def limit_for(method: str, path: str) -> int:
        if method != "POST":
            return MAX_OTHER_BYTES
        if path.endswith("/pieces"):
            return max_piece + MULTIPART_OVERHEAD
        if path.endswith(("/signed", "/copie-signee")):
            return SIGNED_COPY_POLICY.max_bytes + MULTIPART_OVERHEAD
        return MAX_JSON_BYTES

    # outermost first: the session (install_web) > headers > Gate > BodyLimit > JsonGuard > routes
    api.add_middleware(JsonGuard)
    api.add_middleware(BodyLimit, limit_for=limit_for)
    api.add_middleware(Gate, limiter=RateLimiter(settings.api_rate_limit, settings.api_rate_burst))

    @api.middleware("http")
    async def headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "public, max-age=86400")
            return response
        response.headers.setdefault("Cache-Control", "no-store")
        if is_page(request) or request.url.path == DOCS_PATH:
            # the pages (and Swagger UI) load nothing but their own files: no inline script or style
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    install_handlers(api)
    api.include_router(routes_dossiers.router)
    api.include_router(routes_conventions.router)
    api.include_router(routes_instruction.router)
    api.include_router(routes_exports.router)
    api.include_router(routes_webhooks.router)
    install_web(api, settings)

    @api.get(DOCS_PATH, include_in_schema=False, response_class=HTMLResponse)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_DOCS_HTML)

    @api.get("/healthz", response_model=schemas.Sante, tags=["exploitation"], summary="Le processus répond")
    async def healthz() -> dict[str, Any]:  # no thread: it answers even when the pool is busy
        return {"status": "ok", "checks": {}}

    @api.get("/readyz", response_model=schemas.Sante, responses={503: {"model": schemas.Sante}},
             tags=["exploitation"], summary="Catalogue, broker et stockage joignables")
    def readyz(request: Request) -> Any:
        checks = _readiness(request.app.state.ctx.app)
        ok = all(v == "ok" for v in checks.values())
        body = {"status": "ok" if ok else "indisponible", "checks": checks}
        return body if ok else JSONResponse(body, status_code=503)

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            spec = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
            components = spec.setdefault("components", {}).setdefault("schemas", {})
            demande = DemandeIn.model_json_schema(ref_template=REF)
            changement = changement_json_schema(REF)
            evenement = evenement_json_schema(REF)
            for schema in (demande, changement, evenement):
                components.update(schema.pop("$defs", {}))
            components["DemandeIn"] = demande
            components["Changement"] = changement
            components["EvenementPoste"] = evenement
            declare_body_limit(spec)
            api.openapi_schema = spec
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
    return api


def _readiness(app: Any) -> dict[str, str]:
    checks: dict[str, str] = {}
    probes = {"catalogue": lambda: app.catalog.ping(), "broker": _ping_broker,
              "stockage": lambda: app.storage.exists("readyz/sonde")}
    for name, probe in probes.items():
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # any failure makes the process not ready; the reason goes to the log
            log.warning("readyz : %s indisponible (%s)", name, exc)
            checks[name] = "indisponible"
    return checks


def _ping_broker() -> None:
    import dramatiq

    broker = dramatiq.get_broker()
    client = getattr(broker, "client", None)
    if client is not None:
        client.ping()
    elif hasattr(broker, "connection"):  # RabbitMQ
        broker.connection  # noqa: B018 - opens (or reuses) the channel
