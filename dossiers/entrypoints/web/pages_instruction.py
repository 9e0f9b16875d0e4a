"""The instructeur's pages for the work itself: « À traiter » (their home page), the decision on a piece or a
signed copy à vérifier (a confirmation page, then a form with CSRF: keyboard and no-JavaScript friendly),
and the generation of a convention from a complete dossier (a job, followed on its page).

They call the same services as the API (``services.decisions``, ``services.a_traiter``); every action is
audited with the agent's name, whatever its outcome.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dossiers.domain.acces import Droit, Jeton
from dossiers.domain.decisions import MOTIFS_REFUS
from dossiers.entrypoints.web.common import (
    app_of,
    audite,
    convention_visible,
    ctx_of,
    dossier_visible,
    droit,
    nom_agent,
    own_job,
    partial,
    render,
)
from dossiers.entrypoints.web.session import PageError, check_csrf
from dossiers.errors import ChangementRefuse, ConumError, DossierError, ErrorCode

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Numero = Annotated[int, Path(ge=1, le=100_000)]
PieceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
VERDICTS = {"accepte": "Accepter", "refuse": "Refuser"}
INSTRUIRE_REFUSE = "Votre rôle ne permet pas d'instruire les dossiers."


def _instructeur(request: Request) -> Jeton:
    return droit(request, Droit.INSTRUIRE, INSTRUIRE_REFUSE)


# -- à traiter ---------------------------------------------------------------------------------------

@router.get("/a-traiter", response_class=HTMLResponse)
def a_traiter_page(
    request: Request,
    genre: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    from dossiers.services.a_traiter import GENRES, a_traiter

    agent = _instructeur(request)
    app = app_of(request)
    genre = genre if genre in GENRES else None
    found = a_traiter(app, departements=agent.departements, jour=app.clock.today(), genre=genre, page=page,
                      par_page=25)
    return render(request, "a_traiter.html", agent=agent, section="a_traiter", found=found, genres=GENRES,
                  genre=genre, page_url=lambda n: "/a-traiter?" + urlencode(
                      {**({"genre": genre} if genre else {}), "page": n}))


# -- decisions ---------------------------------------------------------------------------------------

def _page(request: Request, agent: Jeton, verdict: str, form: dict[str, Any], status: int = 200,
          **extra: Any) -> Response:
    """The decision page: its confirmation form (GET) or that form again with the refusal's reason (POST)."""
    return render(request, "decision.html", status, agent=agent, section="a_traiter",
                  verdict=verdict if verdict in VERDICTS else "accepte", verdicts=VERDICTS, motifs=MOTIFS_REFUS,
                  **form, **extra)


def _refus(exc: ConumError) -> int:
    return 422 if exc.code is ErrorCode.DECISION_INVALIDE else 409


def _piece(request: Request, agent: Jeton, dossier_id: str, piece_id: int) -> tuple[str, dict[str, Any]]:
    """The dossier's département and what the decision page shows of the piece."""
    from dossiers.services.validation import view_dossier

    departement = dossier_visible(request, agent, dossier_id)
    view = view_dossier(dossier_id, app_of(request))
    piece = next((p for p in view.pieces if p.id == piece_id), None)
    if piece is None:
        raise PageError(404, "Pièce introuvable", f"Le dossier {dossier_id} n'a pas de pièce n° {piece_id}.")
    return departement, {"objet": f"{piece.label} — {piece.filename or 'fichier sans nom'}",
                         "findings": [f.to_dict() for f in piece.findings], "decision": piece.decision,
                         "action": f"/dossiers/{dossier_id}/pieces/{piece_id}/decision",
                         "retour": f"/dossiers/{dossier_id}", "retour_libelle": f"Dossier {dossier_id}",
                         "titre": view.dossier.denomination}


@router.get("/dossiers/{dossier_id}/pieces/{piece_id}/decision", response_class=HTMLResponse)
def piece_decision_page(request: Request, dossier_id: str, piece_id: PieceId,
                        verdict: Annotated[str, Query(pattern="^(accepte|refuse)$")] = "accepte") -> Response:
    agent = _instructeur(request)
    _, form = _piece(request, agent, dossier_id, piece_id)
    return _page(request, agent, verdict, form)


@router.post("/dossiers/{dossier_id}/pieces/{piece_id}/decision", response_class=HTMLResponse)
def piece_decision(request: Request, dossier_id: str, piece_id: PieceId,
                   verdict: Annotated[str, Form()] = "", motif: Annotated[str | None, Form()] = None,
                   commentaire: Annotated[str | None, Form(max_length=2000)] = None,
                   csrf: Annotated[str | None, Form()] = None) -> Response:
    from dossiers.services.decisions import decider_piece

    agent = _instructeur(request)
    check_csrf(request, csrf)
    departement, form = _piece(request, agent, dossier_id, piece_id)
    app = app_of(request)
    with audite(request, agent, "piece.decider") as trail:
        trail.departement, trail.detail = departement, {"piece": piece_id, "decision": verdict, "motif": motif or None}
        try:
            decider_piece(dossier_id, piece_id, verdict, app, par=nom_agent(request, agent), now=app.clock.now(),
                          motif=motif or None, commentaire=commentaire, token_id=agent.id)
        except (ChangementRefuse, DossierError) as exc:
            trail.status = _refus(exc)
            return _page(request, agent, verdict, form, trail.status, erreur=exc.message, motif=motif,
                         commentaire=commentaire)
    return RedirectResponse(f"/dossiers/{dossier_id}?decide={piece_id}#piece-{piece_id}", status_code=303)


def _copie(request: Request, agent: Jeton, convention_id: str, numero: int,
           sha256: str) -> tuple[str, dict[str, Any]]:
    """The convention's département and what the decision page shows of the signed copy."""
    from dossiers.services.decisions import copie_a_decider

    departement = convention_visible(request, agent, convention_id)
    try:
        record = copie_a_decider(convention_id, numero, sha256, app_of(request))
    except ChangementRefuse as exc:
        raise PageError(404, "Copie introuvable", exc.message) from None
    return departement, {"objet": f"Copie signée de la version {numero} (empreinte {sha256})",
                         "findings": [f.to_dict() for f in record.findings], "decision": record.decision,
                         "copie": True, "action": f"/conventions/{convention_id}/versions/{numero}/copies/{sha256}/decision",
                         "retour": f"/conventions/{convention_id}", "retour_libelle": f"Convention {convention_id}",
                         "titre": f"Convention {convention_id}"}


@router.get("/conventions/{convention_id}/versions/{numero}/copies/{sha256}/decision", response_class=HTMLResponse)
def copie_decision_page(request: Request, convention_id: str, numero: Numero, sha256: Sha256,
                        verdict: Annotated[str, Query(pattern="^(accepte|refuse)$")] = "accepte") -> Response:
    agent = _instructeur(request)
    _, form = _copie(request, agent, convention_id, numero, sha256)
    return _page(request, agent, verdict, form)


@router.post("/conventions/{convention_id}/versions/{numero}/copies/{sha256}/decision", response_class=HTMLResponse)
def copie_decision(request: Request, convention_id: str, numero: Numero, sha256: Sha256,
                   verdict: Annotated[str, Form()] = "", motif: Annotated[str | None, Form()] = None,
                   commentaire: Annotated[str | None, Form(max_length=2000)] = None,
                   csrf: Annotated[str | None, Form()] = None) -> Response:
    from dossiers.services.decisions import decider_copie
    from workers.actors import announce_decision

    agent = _instructeur(request)
    check_csrf(request, csrf)
    departement, form = _copie(request, agent, convention_id, numero, sha256)
    app = app_of(request)
    with audite(request, agent, "copie_signee.decider") as trail:
        trail.departement = departement
        trail.detail = {"version": numero, "sha256": sha256, "decision": verdict, "motif": motif or None}
        try:
            decided = decider_copie(convention_id, numero, sha256, verdict, app, par=nom_agent(request, agent),
                                    now=app.clock.now(), motif=motif or None, commentaire=commentaire,
                                    token_id=agent.id)
        except ChangementRefuse as exc:
            trail.status = _refus(exc)
            return _page(request, agent, verdict, form, trail.status, erreur=exc.message, motif=motif,
                         commentaire=commentaire)
        except ConumError:  # audited as the page's 503
            raise PageError(503, "Service indisponible", "L'archive ne répond pas : la copie reste en attente, "
                                                         "réessayez dans un instant.") from None
    announce_decision(app, decided)  # after the decision's audit: a webhook's trouble is not the archive's
    return RedirectResponse(f"/conventions/{convention_id}#version-{numero}", status_code=303)


# -- generating a convention from a complete dossier -------------------------------------------------

@router.post("/dossiers/{dossier_id}/convention", response_class=HTMLResponse)
def generate(request: Request, dossier_id: str, csrf: Annotated[str | None, Form()] = None) -> Response:
    from dossiers.services.validation import demande_generable
    from workers.submit import store_json

    agent = _instructeur(request)
    check_csrf(request, csrf)
    departement = dossier_visible(request, agent, dossier_id)
    app = app_of(request)
    with audite(request, agent, "convention.generer") as trail:
        trail.departement, trail.detail = departement, {"dossier_id": dossier_id}
        try:
            demande = demande_generable(dossier_id, app)
        except DossierError as exc:  # audited as the page's 409
            raise PageError(409, "Convention non générée", exc.message) from None
        job = ctx_of(request).submit(agent, "generate", {"demande_key": store_json(app, demande)})
        trail.status, trail.detail["job_id"] = 202, job.id
    return RedirectResponse(f"/dossiers/{dossier_id}/generations/{job.id}", status_code=303)


@router.get("/dossiers/{dossier_id}/generations/{job_id}", response_class=HTMLResponse)
def generation(request: Request, dossier_id: str, job_id: str) -> Response:
    agent = _instructeur(request)
    dossier_visible(request, agent, dossier_id)
    job = own_job(request, agent, job_id)
    if job is None or job.actor != "generate_convention":
        raise PageError(404, "Génération introuvable", "Cette génération n'existe pas ou n'est pas la vôtre.")
    context: dict[str, Any] = {"job": job, "resultat": job.result or {}, "dossier_id": dossier_id}
    if partial(request):
        return render(request, "_generation.html", agent=agent, **context)
    return render(request, "generation.html", agent=agent, section="a_traiter", **context)
