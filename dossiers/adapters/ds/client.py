"""The Démarches simplifiées API client: GraphQL over httpx with the bearer token, downloads checked
against DS's announced size and checksum, and the direct upload of a file DS will attach.

Retries: a 429 waits what ``Retry-After`` says (at most ``max_backoff``); a 5xx or a network error
waits 0.5 s, 1 s, 2 s… (at most ``max_backoff``); after ``max_attempts`` the call raises
``DsIndisponible`` and the caller resumes later from its saved cursor. A mutation is retried only
when DS cannot have applied it (429, a connection never opened): a 5xx after a write could have
written, and the write log must decide, not a blind second send.

Downloads are streamed: a file larger than announced (or than ``max_bytes``) is cut at the limit and
refused; the MD5 of the bytes, base64 (ActiveStorage's checksum, what DS gives), must equal DS's.
The token is sent to the API only, never to the file URLs (presigned URLs of DS's object storage).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from dossiers.adapters.ds import queries
from dossiers.errors import DsError, DsFichierInvalide, DsIndisponible

__all__ = ["DsClient", "checksum_ds"]

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_DOWNLOAD = 100 * 1024 * 1024
MAX_RESPONSE = 50 * 1024 * 1024


def checksum_ds(data: bytes) -> str:
    """DS's checksum of a file: MD5, base64 (as ActiveStorage computes it)."""
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


class DsClient:
    def __init__(self, url: str, token: str, *, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep, max_attempts: int = 8, max_backoff: float = 60.0,
                 timeout: float = 60.0) -> None:
        if not token:
            raise DsError("DS_API_TOKEN manquant : le jeton de l'API Démarches simplifiées est obligatoire.")
        self.url = url
        self._token = token
        self._http = http or httpx.Client(timeout=timeout, follow_redirects=False)
        self._owns_http = http is None
        self._sleep = sleep
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.waits: list[float] = []  # what the client waited, for the progress report

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> DsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- retries ---------------------------------------------------------------------------------
    def _wait(self, attempt: int, response: httpx.Response | None) -> None:
        delay = min(0.5 * 2 ** attempt, self.max_backoff)
        if response is not None and response.status_code == 429:
            try:
                delay = min(max(float(response.headers.get("retry-after", delay)), 0.0), self.max_backoff)
            except ValueError:
                pass
        self.waits.append(delay)
        self._sleep(delay)

    def _send(self, request: Callable[[], httpx.Response], what: str, *, idempotent: bool = True) -> httpx.Response:
        last = ""
        for attempt in range(self.max_attempts):
            try:
                response = request()
            except httpx.ConnectError as exc:  # nothing was sent
                last = f"connexion impossible ({exc})"
                response = None
            except httpx.TransportError as exc:
                if not idempotent:
                    raise DsIndisponible(f"{what} : réponse de DS interrompue ({exc}) ; l'écriture sera vérifiée "
                                         "avant d'être renvoyée.") from exc
                last = f"{type(exc).__name__} : {exc}"
                response = None
            else:
                if response.status_code not in RETRY_STATUS:
                    return response
                last = f"HTTP {response.status_code}"
                if response.status_code != 429 and not idempotent:
                    raise DsIndisponible(f"{what} : DS a répondu {last}.")
            if attempt + 1 < self.max_attempts:
                self._wait(attempt, response)
        raise DsIndisponible(f"{what} : DS indisponible après {self.max_attempts} tentatives ({last}).")

    # -- GraphQL -----------------------------------------------------------------------------------
    def execute(self, query: str, variables: dict[str, Any], *, mutation: bool = False) -> dict[str, Any]:
        """The ``data`` of a GraphQL answer; ``DsError`` with DS's messages when it has errors."""
        body = {"query": query, "variables": variables}
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        response = self._send(lambda: self._http.post(self.url, json=body, headers=headers), "API DS",
                              idempotent=not mutation)
        if response.status_code in (401, 403):
            raise DsError(f"DS refuse le jeton (HTTP {response.status_code}) : vérifiez DS_API_TOKEN et ses droits "
                          "sur la démarche.")
        if response.status_code != 200 or len(response.content) > MAX_RESPONSE:
            raise DsError(f"Réponse inattendue de DS (HTTP {response.status_code}, {len(response.content)} octets).")
        try:
            payload = response.json()
        except json.JSONDecodeError as exc:
            raise DsError(f"Réponse illisible de DS : {exc}.") from exc
        if payload.get("errors"):
            messages = "; ".join(str(e.get("message")) for e in payload["errors"][:5])
            raise DsError(f"DS a refusé la requête : {messages}")
        return payload.get("data") or {}

    # -- the operations the services name (``dossiers.ports.Ds``) ----------------------------------
    def dossiers_modifies(self, demarche: int, *, depuis: str | None, apres: str | None,
                          nombre: int | None = None) -> dict[str, Any]:
        data = self.execute(queries.DOSSIERS, {"demarche": demarche, "updatedSince": depuis, "after": apres,
                                               "first": nombre or queries.PAGE_SIZE})
        return dict(data["demarche"]["dossiers"])

    def dossier(self, number: int) -> dict[str, Any]:
        return self._dossier(queries.DOSSIER, number)

    def etat(self, number: int) -> dict[str, Any]:
        return self._dossier(queries.ETAT, number)

    def _dossier(self, query: str, number: int) -> dict[str, Any]:
        node = self.execute(query, {"number": number}).get("dossier")
        if not isinstance(node, dict):  # DS answers an error for a dossier it does not know; never null so far
            raise DsError(f"DS ne renvoie pas le dossier n° {number}.")
        return node

    def muter(self, mutation: str, data: dict[str, Any]) -> dict[str, Any] | None:
        payload = self.execute(queries.MUTATIONS[mutation], {"input": data}, mutation=True)[mutation]
        return None if payload is None else dict(payload)

    # -- files -------------------------------------------------------------------------------------
    def download(self, file: dict[str, Any], *, max_bytes: int = MAX_DOWNLOAD) -> bytes:
        """The bytes of a DS ``File``, refused unless their size and checksum are those DS announced."""
        name = file.get("filename") or "fichier"
        size = int(file.get("byteSizeBigInt") or file.get("byteSize") or -1)
        if not 0 <= size <= max_bytes:
            raise DsFichierInvalide(f"« {name} » : taille annoncée {size} octets, au plus {max_bytes}.")

        got: list[bytes] = []

        def fetch() -> httpx.Response:
            with self._http.stream("GET", str(file["url"])) as response:
                if response.status_code != 200:
                    return response
                chunks, total = [], 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > size:
                        raise DsFichierInvalide(f"« {name} » : plus de {size} octets reçus, taille annoncée par DS "
                                                "dépassée : fichier refusé.")
                    chunks.append(chunk)
                got[:] = [b"".join(chunks)]
                return response

        response = self._send(fetch, f"téléchargement de « {name} »")
        if response.status_code != 200:
            raise DsError(f"« {name} » : téléchargement refusé (HTTP {response.status_code}).")
        data = got[0]
        if len(data) != size:
            raise DsFichierInvalide(f"« {name} » : {len(data)} octets reçus, {size} annoncés par DS : fichier refusé.")
        if checksum_ds(data) != file.get("checksum"):
            raise DsFichierInvalide(f"« {name} » : la somme de contrôle ne correspond pas à celle de DS "
                                    "(fichier altéré) : fichier refusé.")
        return data

    def upload(self, dossier_id: str, filename: str, data: bytes, content_type: str) -> str:
        """Upload a file DS will attach (``createDirectUpload``, then PUT with its headers); its signedBlobId."""
        from dossiers.adapters.ds.queries import CREATE_DIRECT_UPLOAD

        data_in = {"dossierId": dossier_id, "filename": filename, "byteSize": len(data),
                   "checksum": checksum_ds(data), "contentType": content_type}
        direct = self.execute(CREATE_DIRECT_UPLOAD, {"input": data_in}, mutation=True)["createDirectUpload"]["directUpload"]
        try:
            headers = {str(k): str(v) for k, v in json.loads(direct["headers"]).items()}
        except (json.JSONDecodeError, AttributeError) as exc:
            raise DsError(f"En-têtes de téléversement illisibles : {exc}.") from exc
        response = self._send(lambda: self._http.put(direct["url"], content=data, headers=headers),
                              f"téléversement de « {filename} »")
        if not 200 <= response.status_code < 300:
            raise DsError(f"Téléversement de « {filename} » refusé (HTTP {response.status_code}).")
        return str(direct["signedBlobId"])
