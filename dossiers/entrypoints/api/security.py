"""Bearer tokens and rate limits: the dependencies every ``/v1`` route takes."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dossiers.domain.acces import Droit, Jeton
from dossiers.entrypoints.api.errors import ApiError
from dossiers.services.acces import AccesRefuse, authenticate

__all__ = ["RateLimiter", "current_token", "require", "AUTH_STATE"]

AUTH_STATE = "conum.authentification"  # scope["state"][AUTH_STATE] = (secret, Jeton | AccesRefuse), by gate.Gate

bearer = HTTPBearer(auto_error=False, scheme_name="jeton",
                    description="Jeton créé par `conum token create` (conum_…), en-tête Authorization: Bearer.")


class RateLimiter:
    """Generic cell rate algorithm per key: ``per_minute`` sustained, ``burst`` at once. One per
    process (with N uvicorn processes a token gets N times the rate: size API_RATE_LIMIT for it).
    Keys whose budget is whole again are forgotten now and then (a flood of client addresses does
    not grow it for ever)."""

    PRUNE_EVERY = 4096

    def __init__(self, per_minute: int, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / per_minute
        self.tolerance = self.interval * (burst - 1)
        self.clock = clock
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()
        self._since_prune = 0

    def check(self, key: str) -> float:
        """0 when the request may go; else the seconds to wait."""
        with self._lock:
            now = self.clock()
            tat = max(self._tat.get(key, now), now)
            if tat - now > self.tolerance:
                return tat - now - self.tolerance
            self._tat[key] = tat + self.interval
            self._since_prune += 1
            if self._since_prune >= self.PRUNE_EVERY:
                self._since_prune = 0
                self._tat = {k: v for k, v in self._tat.items() if v > now}
            return 0.0


def current_token(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Jeton:
    ctx = request.app.state.ctx
    secret = credentials.credentials if credentials else None
    checked = request.scope.get("state", {}).get(AUTH_STATE)  # gate.Gate looked it up before the body
    try:
        if checked is not None and checked[0] == secret:
            if isinstance(checked[1], AccesRefuse):
                raise checked[1]
            jeton = checked[1]
        else:
            jeton = authenticate(ctx.app, secret)
    except AccesRefuse as exc:
        raise ApiError(401, str(exc.code), exc.message, headers={"WWW-Authenticate": 'Bearer realm="conum"'}) from None
    wait = ctx.limiter.check(jeton.id)
    if wait:
        raise ApiError(429, "trop_de_requetes", "Trop de requêtes pour ce jeton : réessayez dans quelques secondes.",
                       headers={"Retry-After": str(max(1, math.ceil(wait)))})
    request.state.jeton = jeton
    return jeton


def require(droit: Droit) -> Callable[..., Jeton]:
    def dependency(jeton: Jeton = Depends(current_token)) -> Jeton:
        if not jeton.peut(droit):
            raise ApiError(403, "droit_insuffisant", f"Le rôle « {jeton.role} » ne permet pas cette opération.")
        return jeton

    return dependency
