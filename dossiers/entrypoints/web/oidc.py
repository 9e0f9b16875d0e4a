"""OpenID Connect as ProConnect (the State's agent login) speaks it: authorization code flow with
PKCE (S256), ``state`` and ``nonce``; the ID token's signature (the provider's JWKS), issuer,
audience, expiry and nonce are checked. ProConnect's userinfo answers a signed JWT: both JSON and
JWT answers are read. The provider only says who the agent is; what the agent may see comes from
the catalog (``conum agent add``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

__all__ = ["OidcClient", "OidcError", "Demande"]

DISCOVERY_TTL = 300.0  # seconds a discovery document and its keys are kept


class OidcError(Exception):
    """The login failed; the message is French and safe to show."""


@dataclass(frozen=True)
class Demande:
    """What the login keeps in the session between the redirect and the return."""

    url: str
    state: str
    nonce: str
    verifier: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class OidcClient:
    def __init__(self, issuer: str, client_id: str, client_secret: str | None, scopes: str, *,
                 timeout: float = 10.0) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id, self.client_secret, self.scopes = client_id, client_secret, scopes
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        self._lock = threading.Lock()
        self._meta: tuple[float, dict[str, Any], KeySet] | None = None

    def _metadata(self, *, refresh: bool = False) -> tuple[dict[str, Any], KeySet]:
        with self._lock:
            if refresh or self._meta is None or time.monotonic() - self._meta[0] > DISCOVERY_TTL:
                try:
                    meta = self._http.get(f"{self.issuer}/.well-known/openid-configuration").raise_for_status().json()
                    keys = KeySet.import_key_set(self._http.get(meta["jwks_uri"]).raise_for_status().json())
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    raise OidcError("Le service d'identification ne répond pas : réessayez dans un instant.") from exc
                if meta.get("issuer", "").rstrip("/") != self.issuer:
                    raise OidcError("Le service d'identification ne s'annonce pas sous l'émetteur configuré.")
                self._meta = (time.monotonic(), meta, keys)
            return self._meta[1], self._meta[2]

    def start(self, redirect_uri: str) -> Demande:
        meta, _ = self._metadata()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        params = {
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri, "scope": self.scopes,
            "state": state, "nonce": nonce, "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256", "acr_values": "eidas1",
        }
        return Demande(f"{meta['authorization_endpoint']}?{urlencode(params)}", state, nonce, verifier)

    def finish(self, code: str, *, redirect_uri: str, nonce: str, verifier: str) -> dict[str, Any]:
        """Exchange the code; return the checked claims of the ID token (with the email)."""
        meta, keys = self._metadata()
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": self.client_id, "code_verifier": verifier}
        if self.client_secret:
            data["client_secret"] = self.client_secret
        try:
            answer = self._http.post(meta["token_endpoint"], data=data)
        except httpx.HTTPError as exc:
            raise OidcError("Le service d'identification ne répond pas : réessayez dans un instant.") from exc
        if answer.status_code != 200:
            raise OidcError("Le service d'identification a refusé cette connexion (code déjà utilisé ou expiré) : "
                            "recommencez.")
        try:
            tokens = answer.json()
        except ValueError as exc:
            raise OidcError("Réponse illisible du service d'identification.") from exc
        claims = self._id_token(tokens.get("id_token") if isinstance(tokens, dict) else None, keys, nonce)
        if not claims.get("email") and tokens.get("access_token") and meta.get("userinfo_endpoint"):
            info = self._userinfo(meta["userinfo_endpoint"], tokens["access_token"], keys)
            if info.get("sub") != claims["sub"]:  # OpenID Connect Core 5.3.2
                raise OidcError("Les informations d'identité ne concernent pas la personne connectée.")
            claims = {**info, **claims}
        if not claims.get("email"):
            raise OidcError("Le service d'identification n'a pas transmis d'adresse électronique.")
        return claims

    def _id_token(self, token: Any, keys: KeySet, nonce: str, *, retried: bool = False) -> dict[str, Any]:
        if not isinstance(token, str):
            raise OidcError("Réponse du service d'identification sans jeton d'identité.")
        try:
            decoded = jwt.decode(token, keys, algorithms=["RS256", "ES256", "PS256"])
        except (JoseError, ValueError) as exc:
            if "kid" in str(exc).lower() and not retried:  # the provider rotated its keys: fetch them once
                _, keys = self._metadata(refresh=True)
                return self._id_token(token, keys, nonce, retried=True)
            raise OidcError("Jeton d'identité invalide (signature).") from exc
        registry = jwt.JWTClaimsRegistry(
            leeway=60, iss={"essential": True, "value": self.issuer}, aud={"essential": True, "value": self.client_id},
            exp={"essential": True}, nonce={"essential": True, "value": nonce}, sub={"essential": True})
        try:
            registry.validate(decoded.claims)
        except JoseError as exc:
            raise OidcError(f"Jeton d'identité refusé ({exc.error}).") from exc
        return dict(decoded.claims)

    def _userinfo(self, url: str, access_token: str, keys: KeySet) -> dict[str, Any]:
        try:
            answer = self._http.get(url, headers={"Authorization": f"Bearer {access_token}"}).raise_for_status()
        except httpx.HTTPError as exc:
            raise OidcError("Le service d'identification ne répond pas : réessayez dans un instant.") from exc
        if answer.headers.get("content-type", "").startswith("application/jwt"):
            try:
                return dict(jwt.decode(answer.text, keys).claims)
            except (JoseError, ValueError) as exc:
                raise OidcError("Informations d'identité invalides (signature).") from exc
        try:
            return dict(answer.json())
        except (ValueError, json.JSONDecodeError) as exc:
            raise OidcError("Informations d'identité illisibles.") from exc

    def close(self) -> None:
        self._http.close()
