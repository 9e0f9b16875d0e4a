"""Request size limits, enforced while the body streams in (a lying or absent Content-Length
changes nothing): past the limit the request is answered 413 and the rest is never read.

Uploads are also spooled by Starlette to a temporary file past 1 MB, so memory stays bounded
whatever the limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

AUTHENTICATED = "conum.authentifie"  # set in the scope's state by gate.Gate: a valid token or agent session

__all__ = ["BodyLimit", "TooLarge", "human_size", "ANONYMOUS_BYTES", "AUTHENTICATED"]

ANONYMOUS_BYTES = 64_000


class TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"corps de requête de plus de {limit} octets")
        self.limit = limit


class BodyLimit:
    """ASGI middleware: ``limit_for(method, path)`` gives the largest body a request may send; a
    request that ``gate.Gate`` did not authenticate (a valid token, or a session of an agent) may send
    ``ANONYMOUS_BYTES`` at most: a made-up ``Authorization`` header or session cookie lifts nothing."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str, str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["method"], scope["path"])
        if not scope.get("state", {}).get(AUTHENTICATED):
            limit = min(limit, ANONYMOUS_BYTES)
        page = not scope["path"].startswith(("/v1/", "/healthz", "/readyz"))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _reject(send, limit, page=page)
            return
        received = 0
        started = False

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise TooLarge(limit)
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, watch)
        except TooLarge:
            if started:
                raise
            await _reject(send, limit, page=page)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if re.fullmatch(rb"\d{1,18}", value) else None
    return None


async def _reject(send: Send, limit: int, *, page: bool = False) -> None:
    message = f"Corps de requête trop volumineux (limite : {human_size(limit)})."
    if page:  # a web page's form: a page in French, not JSON
        body = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Fichier trop volumineux — conum'
                f'</title></head><body><main><h1>Fichier trop volumineux</h1><p>{message}</p>'
                f'<p><a href="/conventions">Retour aux conventions</a></p></main></body></html>'
                ).encode("utf-8")
        kind = b"text/html; charset=utf-8"
    else:
        body = json.dumps({"code": "trop_volumineux", "message": message}, ensure_ascii=False).encode("utf-8")
        kind = b"application/json"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def human_size(size: int) -> str:
    return f"{size / 1_000_000:g} Mo" if size >= 1_000_000 else f"{size / 1000:g} Ko"
