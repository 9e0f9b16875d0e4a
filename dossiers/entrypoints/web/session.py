"""The agent's session: who is logged in (an email the catalog maps to départements), the CSRF
token of its forms, and the login in progress (state, nonce, PKCE verifier).

The session is a cookie **encrypted and authenticated** (Fernet: AES-128-CBC and HMAC-SHA256, with its
issue time, under a key derived from ``SESSION_SECRET``): signed only, as Starlette's cookie is, anyone
holding it could read the agent's email, its CSRF token and, during a login, the PKCE verifier.
``HttpOnly``, ``SameSite=Lax``, ``Secure`` when ``WEB_BASE_URL`` is https, refused after
``SESSION_MAX_AGE``. The agent's rights are read from the catalog on every request, so removing an
agent (``conum agent remove``) ends its access at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request
from itsdangerous import BadSignature
from starlette.middleware.sessions import SessionMiddleware

from dossiers.domain.acces import Jeton

__all__ = ["session_secret", "current_agent", "csrf_token", "check_csrf", "safe_next", "PageError",
           "EncryptedSessionMiddleware", "read_session", "SESSION_COOKIE"]

SESSION_COOKIE = "conum_session"


class _Chiffrement:
    """What Starlette's session middleware calls its signer (``sign``/``unsign``), encrypting instead."""

    def __init__(self, secret: str) -> None:
        key = hashlib.sha256(b"conum-session-v1\x00" + secret.encode("utf-8")).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def sign(self, data: bytes) -> bytes:
        return self._fernet.encrypt(data)

    def unsign(self, data: bytes, max_age: int | None = None) -> bytes:
        try:
            return self._fernet.decrypt(data, ttl=max_age)
        except InvalidToken:
            raise BadSignature("session illisible ou expirée") from None


class EncryptedSessionMiddleware(SessionMiddleware):
    """Starlette's session middleware (same cookie flags, same ``request.session``) with an encrypted cookie."""

    def __init__(self, app: Any, *, secret_key: str, **options: Any) -> None:
        super().__init__(app, secret_key=secret_key, **options)
        self.signer = _Chiffrement(secret_key)  # type: ignore[assignment]


def read_session(cookie: str, secret: str, max_age: int | None) -> dict[str, Any] | None:
    """The session a cookie value holds (for code that runs before the middleware), or None: forged,
    tampered with, expired, or made with another secret."""
    try:
        data = json.loads(base64.b64decode(_Chiffrement(secret).unsign(cookie.encode("ascii"), max_age)))
    except (BadSignature, ValueError, UnicodeError):
        return None
    return data if isinstance(data, dict) else None


class PageError(Exception):
    """An error page: status, title and a French message (never a stack trace)."""

    def __init__(self, status: int, titre: str, message: str) -> None:
        super().__init__(message)
        self.status, self.titre, self.message = status, titre, message


def session_secret(secret: str | None, var_dir: Path) -> str:
    """SESSION_SECRET, or a random key kept in ``<var>/session.key`` (created once, mode 600)."""
    if secret:
        return secret
    path = var_dir / "session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # the first of several processes starting together writes it; the others read it
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_urlsafe(48))
    for _ in range(50):  # another process may be writing it this instant
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"clé de session vide : {path}")


def current_agent(request: Request, app: Any) -> Jeton | None:
    """The logged-in agent, or None: not logged in, removed since, or logged out since (its
    sessions carry an epoch that the logout renewed, on whichever device)."""
    email = request.session.get("agent")
    if not isinstance(email, str):
        return None
    found = app.catalog.agent_session(email)
    if found is None or not found[1] or request.session.get("epoch") != found[1]:
        request.session.clear()
        return None
    return found[0]  # type: ignore[no-any-return]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not sent or not secrets.compare_digest(expected, sent):
        raise PageError(403, "Formulaire expiré", "Ce formulaire a expiré ou ne vient pas de cette page : "
                        "rechargez la page puis recommencez.")


def safe_next(value: Any) -> str:
    """A local path to go back to after the login (never another site)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/conventions"

