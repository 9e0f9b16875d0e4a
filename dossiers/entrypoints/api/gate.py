"""The front door, in ASGI: who is calling is decided from the headers alone, before a byte of the
body is read, and a JSON body is checked before anything parses it for real.

``Gate`` resolves the bearer token of an ``/v1`` request (hashed lookup in the catalog) or the agent
of a page's form (the session, read by ``current_agent``). A request that carries a body without a
valid credential is answered at once (401 for the API, the login page for a form) and its body is
never read: the connection is closed instead (``Connection: close``). Requests without a valid token,
and forms without a session, are rate-limited per client address (the address uvicorn gives, that is
``X-Forwarded-For`` only from the proxies of ``API_TRUSTED_PROXIES``). Only a request the gate
authenticated lifts the 64 KB cap on bodies (``limits.BodyLimit`` reads the verdict in the scope).

``JsonGuard`` reads an ``/v1`` JSON body (already bounded by ``BodyLimit``) and refuses, with 422 and
the field, what would make Python's parser fail otherwise than with a syntax error: nesting deeper
than ``MAX_DEPTH``, numbers longer than ``MAX_NUMBER_CHARS`` (int() refuses more than 4 300 digits),
``NaN``/``Infinity``, bytes that are not UTF-8; a syntax error is a 422 too. A client that goes away
mid-body is not an error: nothing is answered and nothing is logged above INFO.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dossiers.entrypoints.api.limits import AUTHENTICATED
from dossiers.entrypoints.api.security import AUTH_STATE, RateLimiter

__all__ = ["Gate", "JsonGuard", "AUTH_STATE", "AUTHENTICATED", "MAX_DEPTH", "MAX_NUMBER_CHARS", "bearer_secret",
           "json_problem"]

log = logging.getLogger("conum.api")

PUBLIC_API = frozenset({"/v1/openapi.json", "/v1/docs"})
NO_BODY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# a dead session may still log out (its CSRF token is checked by the page; the body stays under 64 KB)
SESSION_FREE_FORMS = frozenset({"/deconnexion"})
MAX_DEPTH = 32
MAX_NUMBER_CHARS = 100
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}:,]|-?[0-9][0-9.eE+-]*')


def bearer_secret(scope: Scope) -> str | None:
    """The credentials of ``Authorization: Bearer …`` as FastAPI's HTTPBearer reads them, or None."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, secret = value.decode("latin-1").partition(" ")
            return secret if scheme.lower() == "bearer" and secret else None
    return None


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return bytes(value)
    return None


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if _header(scope, b"transfer-encoding") is not None:
        return True
    if length is not None:
        return length.strip() not in (b"0", b"")
    return scope["method"] not in NO_BODY_METHODS


def _address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "inconnue"


async def _send_json(send: Send, status: int, body: dict[str, Any], *, headers: dict[str, str] | None = None,
                     close: bool = False) -> None:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    if close:
        raw.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": data})


class Gate:
    """ASGI middleware, inside the session middleware (it reads ``scope["session"]``) and outside
    ``BodyLimit``. ``limiter``: the per-address rate of requests without valid credentials."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctx = getattr(scope["app"].state, "ctx", None) if "app" in scope else None
        path: str = scope["path"]
        if ctx is None or path.startswith(("/static/", "/healthz", "/readyz")) or path in PUBLIC_API:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        if path.startswith("/v1/") or path == "/v1":
            if not await self._api(scope, send, ctx, state):
                return
        elif _has_body(scope) and "session" in scope and path not in SESSION_FREE_FORMS:
            if not await self._form(scope, send, ctx, state):
                return
        await self.app(scope, receive, send)

    async def _api(self, scope: Scope, send: Send, ctx: Any, state: dict[str, Any]) -> bool:
        from dossiers.services.acces import AccesRefuse, authenticate

        secret = bearer_secret(scope)

        def check() -> Any:
            try:
                return authenticate(ctx.app, secret)
            except AccesRefuse as exc:
                return exc
            except Exception:  # the catalog is down: the route's own check answers 503 (the body stays capped)
                log.warning("jeton non vérifié avant le corps de %s", scope["path"], exc_info=True)
                return None

        outcome = await run_in_threadpool(check) if secret else AccesRefuse(
            "Jeton d'accès manquant : en-tête « Authorization: Bearer <jeton> » attendu.")
        if outcome is None:
            return True
        state[AUTH_STATE] = (secret, outcome)
        if not isinstance(outcome, AccesRefuse):
            state[AUTHENTICATED] = True
            return True
        body_pending = _has_body(scope)
        wait = self.limiter.check(_address(scope))
        if wait:
            await _send_json(send, 429, {"code": "trop_de_requetes", "message": "Trop de requêtes sans jeton valide "
                                         "depuis cette adresse : réessayez dans quelques secondes."},
                             headers={"Retry-After": str(max(1, math.ceil(wait)))}, close=body_pending)
            return False
        if body_pending or scope["method"] not in NO_BODY_METHODS:  # answered before a byte of the body
            await _send_json(send, 401, {"code": str(outcome.code), "message": outcome.message},
                             headers={"WWW-Authenticate": 'Bearer realm="conum"'}, close=body_pending)
            return False
        return True  # no body: the route answers (401, or 404 for an unknown address) as it always did

    async def _form(self, scope: Scope, send: Send, ctx: Any, state: dict[str, Any]) -> bool:
        from starlette.requests import Request

        from dossiers.entrypoints.web.session import current_agent

        request = Request(scope)
        try:
            agent = await run_in_threadpool(current_agent, request, ctx.app)
        except Exception:  # the catalog is down: let the page answer its error page (the body stays capped)
            log.warning("session non vérifiée avant le corps de %s", scope["path"], exc_info=True)
            return True
        if agent is not None:
            state[AUTHENTICATED] = True
            return True
        wait = self.limiter.check(_address(scope))
        if wait:
            await _html(send, 429, "Trop de requêtes", "Trop de requêtes depuis cette adresse : réessayez dans "
                        "quelques secondes.", headers={"Retry-After": str(max(1, math.ceil(wait)))})
            return False
        suite = scope["path"]  # the login page, as for a page read without a session; the body is never read
        await send({"type": "http.response.start", "status": 303, "headers": [
            (b"location", f"/connexion?suite={quote(suite, safe='/')}".encode("latin-1")),
            (b"content-length", b"0"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": b""})
        return False


async def _html(send: Send, status: int, titre: str, message: str, *, headers: dict[str, str]) -> None:
    body = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{titre} — conum</title></head>'
            f'<body><main><h1>{titre}</h1><p>{message}</p></main></body></html>').encode("utf-8")
    raw = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode()),
           (b"connection", b"close")]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


# -- JSON bodies -------------------------------------------------------------------------------------

_SYNTAX = {
    "Expecting value": "valeur attendue",
    "Unterminated string starting at": "chaîne non terminée",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Extra data": "données après la fin du document",
    "Invalid control character at": "caractère de contrôle dans une chaîne",
    "Invalid \\escape": "séquence d'échappement invalide",
    "Invalid \\uXXXX escape": "séquence \\uXXXX invalide",
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} n'est pas un nombre JSON")


def json_problem(raw: bytes) -> dict[str, str] | None:
    """None when ``raw`` is JSON that Python parses safely; else the refused field
    ``{"champ", "code", "message"}`` (``champ``: dotted path, ``[i]`` for list items)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return {"champ": "", "code": "utf8_invalide",
                "message": f"le corps n'est pas de l'UTF-8 valide (octet {exc.start})"}
    stack: list[list[Any]] = []  # [kind, key (object) or index (array)]
    last_string: str | None = None

    def where() -> str:
        path = ""
        for kind, key in stack:
            if kind == "[":
                path += f"[{key}]"
            elif key is not None:
                path += f".{key}" if path else str(key)
        return path

    for match in _TOKENS.finditer(text):
        token = match.group()
        first = token[0]
        if first == '"':
            last_string = token
            continue
        if first in "{[":
            if len(stack) >= MAX_DEPTH:
                keys = ".".join(str(key) for kind, key in stack if kind == "{" and key is not None)
                return {"champ": keys, "code": "json_trop_profond",
                        "message": f"imbrication de plus de {MAX_DEPTH} niveaux"}
            stack.append([first, 0 if first == "[" else None])
        elif first in "}]":
            if stack:
                stack.pop()
        elif first == ":":
            if stack and stack[-1][0] == "{" and last_string is not None:
                try:
                    stack[-1][1] = json.loads(last_string)
                except ValueError:
                    stack[-1][1] = last_string.strip('"')
        elif first == ",":
            if stack and stack[-1][0] == "[":
                stack[-1][1] += 1
        elif len(token) > MAX_NUMBER_CHARS:
            return {"champ": where(), "code": "nombre_trop_long",
                    "message": f"nombre de {len(token)} caractères (au plus {MAX_NUMBER_CHARS})"}
        last_string = None
    try:
        json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        return {"champ": "", "code": "json_invalide",
                "message": f"JSON illisible : {_SYNTAX.get(exc.msg, 'syntaxe invalide')} (ligne {exc.lineno}, "
                           f"colonne {exc.colno})"}
    except (ValueError, RecursionError) as exc:  # NaN/Infinity, or whatever the scan above missed
        return {"champ": "", "code": "nombre_invalide" if isinstance(exc, ValueError) else "json_trop_profond",
                "message": f"JSON refusé : {exc}" if isinstance(exc, ValueError) else "JSON trop imbriqué"}
    return None


class JsonGuard:
    """ASGI middleware, inside ``BodyLimit``: checks a ``/v1`` JSON body before the routes parse it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["method"] in NO_BODY_METHODS or not scope["path"].startswith("/v1/")
                or (_header(scope, b"content-type") or b"").lower().startswith(
                    (b"multipart/", b"application/x-www-form-urlencoded"))):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                log.info("client parti avant la fin du corps : %s %s", scope["method"], scope["path"])
                # nobody reads this answer (the server drops it), but every request has one
                await _send_json(send, 400, {"code": "client_parti", "message": "Le client est parti."}, close=True)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        raw = b"".join(chunks)
        if raw.strip():
            problem = await run_in_threadpool(json_problem, raw) if len(raw) > 65_536 else json_problem(raw)
            if problem is not None:
                detail = f"- {problem['champ']} : {problem['message']}" if problem["champ"] else f"- {problem['message']}"
                await _send_json(send, 422, {"code": "requete_invalide", "message": f"La requête est refusée :\n{detail}",
                                             "erreurs": [problem]})
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
