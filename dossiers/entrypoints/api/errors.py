"""Errors as the API answers them: JSON ``{"code", "message"[, "erreurs"]}`` in French, with the HTTP
status a client acts on, and never a stack trace.

    401 non_authentifie        no token, or a malformed, unknown or revoked one
    403 droit_insuffisant      the token's role may not do this; hors_perimetre: not its département
    404 *_introuvable          unknown, or of a département the token does not cover
    409 conflicts              convention_conflit, requete_conflit, version_perimee, dossier_incomplet…
    413 trop_volumineux        body over the limit (checked while it streams in)
    422 requete_invalide       a JSON body unreadable (json_invalide, utf8_invalide), nested deeper than 32
                               levels (json_trop_profond) or with a number of more than 100 characters
                               (nombre_trop_long): checked by gate.JsonGuard before any parser
    415 type_non_accepte       the file's content (sniffed, not its name) is not accepted here
    422 requete_invalide, demande_invalide, changement_invalide: with ``erreurs`` per field;
        majoration_outre_mer_manquante: a structure in 971–976 and no outre-mer amount in the rule set
    429 trop_de_requetes       rate limit of the token, or of the client address for requests without a
                               valid token (Retry-After)
    503 transient              catalog, storage, broker unreachable (Retry-After): try again
    500 defect                 a configuration fault or a defect (erreur_interne, configuration_invalide,
                               regles_invalides…): the trace is logged, the body names the code only

The status of a ``ConumError`` is its code's (``dossiers.errors.POLICY``): this module reads it, it
does not decide it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from dossiers.domain.demande import error_path, field_code, french_message
from dossiers.errors import POLICY, ConumError, ErrorCode, Kind, status_of
from dossiers.entrypoints.api.schemas import Erreur

__all__ = ["ApiError", "install_handlers", "status_of", "RESPONSES", "responses", "declare_body_limit"]

log = logging.getLogger("conum.api")

_DEFAUT_MESSAGE = "Erreur interne : l'équipe d'exploitation est prévenue."
_DEFAUT_PAGE = "Une erreur est survenue de notre côté : l'équipe d'exploitation est prévenue. Réessayez plus tard."


def _status(code: ErrorCode) -> int:
    return POLICY[code].status


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 erreurs: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.erreurs = status, code, message, headers, erreurs


def _body(code: str, message: str, erreurs: list[dict[str, str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": str(code), "message": message}
    if erreurs:
        body["erreurs"] = erreurs
    return body


def install_handlers(api: FastAPI) -> None:
    @api.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(_body(exc.code, exc.message, exc.erreurs), status_code=exc.status, headers=exc.headers)

    @api.exception_handler(ConumError)
    async def _conum_error(request: Request, exc: ConumError) -> Any:
        status, kind = status_of(exc), exc.kind
        if kind is Kind.DEFAUT:
            log.error("défaut (%s) sur %s %s : %s", exc.code, request.method, request.url.path, exc.message,
                      exc_info=exc)
            if (html := await run_in_threadpool(page, request, status, "Erreur interne", _DEFAUT_PAGE)) is not None:
                return html
            return JSONResponse(_body(str(exc.code), _DEFAUT_MESSAGE), status_code=status)
        if kind is Kind.TRANSITOIRE:
            log.warning("service indisponible : %s", exc.message)
            if (html := await run_in_threadpool(page, request, status, "Service indisponible",
                                                "Le service est momentanément indisponible : réessayez dans un instant.")):
                return html
            return JSONResponse(_body(str(exc.code), "Service momentanément indisponible, réessayez plus tard."),
                                status_code=status, headers={"Retry-After": "30"})
        if (html := await run_in_threadpool(page, request, status, "Requête refusée", exc.message)) is not None:
            return html
        return JSONResponse(exc.to_dict(), status_code=status)

    def page(request: Request, status: int, titre: str, message: str) -> Any:
        """The HTML error page for a web page's request (None for the API: it answers JSON)."""
        from dossiers.entrypoints.web import is_page

        render = getattr(request.app.state, "html_error", None)
        return render(request, status, titre, message) if render is not None and is_page(request) else None

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Any:
        if (html := await run_in_threadpool(page, request, 422, "Requête invalide", "Un paramètre de cette adresse est invalide.")) is not None:
            return html
        erreurs = []
        for err in exc.errors():
            err = dict(err)
            loc = list(err.get("loc", ()))
            if loc and loc[0] in ("body", "query", "path", "header", "form"):
                loc = loc[1:]
            err["loc"] = tuple(loc) if err.get("type") != "json_invalid" else ()  # loc: a character position
            erreurs.append({"champ": error_path(err), "code": field_code(err), "message": french_message(err)})
        detail = "\n".join(f"- {e['champ']} : {e['message']}" if e["champ"] else f"- {e['message']}" for e in erreurs)
        return JSONResponse(_body(ErrorCode.REQUETE_INVALIDE, f"La requête est refusée :\n{detail}", erreurs),
                            status_code=_status(ErrorCode.REQUETE_INVALIDE))

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Any:
        titres = {404: ("Page introuvable", "Cette adresse ne correspond à aucune page."),
                  405: ("Méthode non permise", "Cette page ne s'utilise pas ainsi.")}
        titre, texte = titres.get(exc.status_code, ("Requête refusée", "La requête n'a pas pu être traitée."))
        if (html := await run_in_threadpool(page, request, exc.status_code if exc.status_code != 400 else 422, titre, texte)) is not None:
            return html
        if exc.status_code == 400:  # an unreadable body (multipart, form): 422, like an unreadable JSON body
            return JSONResponse(_body(ErrorCode.REQUETE_INVALIDE, "Corps de requête illisible.", [
                {"champ": "", "code": "corps_illisible", "message": "corps de requête illisible"}]),
                status_code=_status(ErrorCode.REQUETE_INVALIDE))
        messages = {404: (ErrorCode.INTROUVABLE, "Adresse inconnue."),
                    405: (ErrorCode.METHODE_NON_PERMISE, "Méthode non permise."),
                    413: (ErrorCode.TROP_VOLUMINEUX, "Corps de requête trop volumineux.")}
        # Starlette chose the status: any other one keeps it, under the generic code
        code, message = messages.get(exc.status_code, (ErrorCode.ERREUR_HTTP, "Requête refusée."))
        return JSONResponse(_body(code, message), status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @api.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _exc: ClientDisconnect) -> Response:
        # the client went away mid-body: nobody reads this answer, and it is not the server's error
        log.info("client parti avant la fin du corps : %s %s", request.method, request.url.path)
        return Response(status_code=400)

    @api.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Any:
        log.exception("erreur interne sur %s %s", request.method, request.url.path)
        if (html := await run_in_threadpool(page, request, 500, "Erreur interne", _DEFAUT_PAGE)) is not None:
            return html
        return JSONResponse(_body(ErrorCode.ERREUR_INTERNE, _DEFAUT_MESSAGE),
                            status_code=_status(ErrorCode.ERREUR_INTERNE))


_DESCRIPTIONS = {
    401: "Jeton absent, mal formé, inconnu ou révoqué.",
    403: "Le rôle du jeton ne permet pas cette opération.",
    404: "Inconnu, ou hors des départements du jeton.",
    409: "Conflit avec l'état enregistré.",
    413: "Corps de requête trop volumineux.",
    415: "Type de fichier (d'après son contenu) non accepté.",
    422: "Requête invalide : les champs refusés sont dans « erreurs ».",
    429: "Trop de requêtes pour ce jeton (ou, sans jeton valide, depuis cette adresse) : réessayer après "
         "Retry-After secondes.",
    503: "Service momentanément indisponible : réessayer.",
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Erreur, "description": text} for status, text in _DESCRIPTIONS.items()
}


def declare_body_limit(spec: dict[str, Any]) -> None:
    """Every operation that takes a body can answer 413 (bodies are counted while they stream in, before
    any route runs): the OpenAPI document says so for each, whatever its route declared."""
    for operations in spec.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", {
                    "description": _DESCRIPTIONS[413],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Erreur"}}}})


def responses(*statuses: int, **extra: Any) -> dict[int | str, dict[str, Any]]:
    """The error responses a route documents (always 401, 422, 429 and 503), plus ``extra``."""
    chosen = {401, 422, 429, 503, *statuses}
    out: dict[int | str, dict[str, Any]] = {s: RESPONSES[s] for s in sorted(chosen)}
    out.update({int(k.lstrip("_")): v for k, v in extra.items()})
    return out
