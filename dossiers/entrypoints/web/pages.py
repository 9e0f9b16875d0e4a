"""The instructeur pages: server-rendered (Jinja2 + DSFR), progressive enhancement (htmx refreshes
the results of a filter and the progress of a batch; everything works without JavaScript).

Same rules as the API: a resource of a département the agent does not cover is a 404 page, every
download and upload is audited, uploads have the same size and type limits.
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dossiers.domain.acces import DEPARTEMENT, AuditEntry, ConventionStatut, Droit, Jeton, Role, statut_convention
from dossiers.domain.checks.signe import SIGNED_COPY_POLICY
from dossiers.domain.dossier import dossier_id_for
from dossiers.domain.pieces import safe_filename
from dossiers.entrypoints.web.oidc import OidcError
from dossiers.entrypoints.web.session import (
    PageError,
    check_csrf,
    csrf_token,
    current_agent,
    safe_next,
)
from dossiers.errors import ChangementRefuse, ConumError, DemandeInvalide, ErrorCode

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PER_PAGE = 20
Numero = Annotated[int, Path(ge=1, le=100_000)]
STATUTS = {"a_signer": "À signer", "signee": "Signée", "archivee": "Archivée"}


def _web(request: Request) -> Any:
    return request.app.state.web


def _app(request: Request) -> Any:
    return request.app.state.ctx.app


def _agent(request: Request) -> Jeton:
    agent = current_agent(request, _app(request))
    if agent is None:
        raise _Login(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return agent


class _Login(Exception):
    def __init__(self, suite: str) -> None:
        self.suite = suite


def nom_agent(request: Request, agent: Jeton | None) -> str:
    """The agent's name as ProConnect gave it at login (its email otherwise): what pages show and decisions keep."""
    return str(request.session.get("nom") or (agent.nom if agent else ""))


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    agent = context.pop("agent", None)
    response = _web(request).templates.TemplateResponse(request, template, {
        "agent": agent, "agent_nom": nom_agent(request, agent),
        "csrf": csrf_token(request), **context}, status_code=status)
    response.headers["Vary"] = "HX-Request, Cookie"  # a fragment and its page never share a cache entry
    return response


def partial(request: Request) -> bool:
    """An htmx refresh of part of a page (a history restore asks for the whole page)."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get("HX-History-Restore-Request")


def _visible_convention(request: Request, agent: Jeton, convention_id: str) -> str:
    departement = _app(request).catalog.convention_departement(convention_id)
    if departement is None or not agent.voit(departement):
        raise PageError(404, "Convention introuvable", f"Aucune convention {convention_id} parmi celles de vos "
                                                       "départements.")
    return str(departement)


def _visible_dossier(request: Request, agent: Jeton, dossier_id: str) -> str:
    departement = _app(request).catalog.dossier_departement(dossier_id)
    if departement is None or not agent.voit(departement):
        raise PageError(404, "Dossier introuvable", f"Aucun dossier {dossier_id} parmi ceux de vos départements.")
    return str(departement)


def _audit(request: Request, agent: Jeton, action: str, departement: str | None, status: int,
           detail: dict[str, Any]) -> None:
    _app(request).catalog.record_audit(AuditEntry(
        at=_app(request).clock.now(), action=action, ressource=request.url.path, statut_http=status, token_id=agent.id,
        role=str(agent.role), departement=departement, adresse=request.client.host if request.client else None,
        detail={**detail, "agent": agent.nom}))


# -- login -----------------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    """An instructeur starts with what waits for them; anyone else with the conventions."""
    agent = current_agent(request, _app(request))
    return RedirectResponse("/a-traiter" if agent is not None and agent.role is Role.INSTRUCTEUR else "/conventions",
                            status_code=303)


@router.get("/connexion", response_class=HTMLResponse)
def login_page(request: Request, suite: str | None = None, deconnecte: int = 0) -> Response:
    if current_agent(request, _app(request)) is not None:
        return RedirectResponse(safe_next(suite), status_code=303)
    return render(request, "connexion.html", suite=safe_next(suite), deconnecte=bool(deconnecte),
                  configure=_web(request).oidc is not None)


def _redirect_uri(request: Request) -> str:
    base = _web(request).base_url or str(request.base_url).rstrip("/")
    return f"{base}/connexion/retour"


@router.get("/connexion/proconnect")
def login_start(request: Request, suite: str | None = None) -> Response:
    oidc = _web(request).oidc
    if oidc is None:
        raise PageError(503, "Connexion indisponible", "La connexion ProConnect n'est pas configurée (OIDC_ISSUER).")
    try:
        demande = oidc.start(_redirect_uri(request))
    except OidcError as exc:
        raise PageError(503, "Connexion indisponible", str(exc)) from None
    request.session["oidc"] = {"state": demande.state, "nonce": demande.nonce, "verifier": demande.verifier,
                               "suite": safe_next(suite)}
    return RedirectResponse(demande.url, status_code=303)


@router.get("/connexion/retour")
def login_return(request: Request, code: str | None = None, state: str | None = None,
                 error: str | None = None) -> Response:
    pending = request.session.pop("oidc", None)  # one use: a replayed return finds nothing
    if error:
        raise PageError(403, "Connexion refusée", "Le service d'identification n'a pas autorisé la connexion.")
    if not isinstance(pending, dict) or not state or not code or state != pending.get("state"):
        raise PageError(400, "Connexion refusée", "Cette demande de connexion est inconnue ou a déjà servi : "
                                                  "recommencez depuis la page de connexion.")
    oidc = _web(request).oidc
    try:
        claims = oidc.finish(code, redirect_uri=_redirect_uri(request), nonce=pending["nonce"],
                             verifier=pending["verifier"])
    except OidcError as exc:
        raise PageError(400, "Connexion refusée", str(exc)) from None
    email = str(claims["email"]).strip().lower()
    if _app(request).settings.oidc_require_email_verified and claims.get("email_verified") is not True:
        raise PageError(403, "Adresse non vérifiée", f"Le fournisseur d'identité ne certifie pas que l'adresse "
                                                     f"{email} vous appartient (email_verified) : connexion refusée.")
    found = _app(request).catalog.agent_session(email)
    if found is None:
        raise PageError(403, "Compte non habilité", f"Le compte {email} n'a accès à aucun département. "
                                                    "Demandez votre habilitation à l'administrateur de conum.")
    request.session.clear()  # a new session for the logged-in agent (no fixation)
    request.session.update({"agent": email, "epoch": found[1], "nom": " ".join(
        str(claims.get(k, "")) for k in ("given_name", "usual_name") if claims.get(k)) or email,
        "connecte_le": _app(request).clock.now().isoformat()})
    csrf_token(request)
    return RedirectResponse(pending.get("suite") or "/conventions", status_code=303)


@router.post("/deconnexion")
def logout(request: Request, csrf: Annotated[str | None, Form()] = None) -> Response:
    check_csrf(request, csrf)
    if current_agent(request, _app(request)) is not None:  # a dead session cannot end the live ones
        # a new epoch: every session of the agent ends, a copy of this cookie or another device's included
        _app(request).catalog.rotate_agent_epoch(request.session["agent"], expected=request.session["epoch"])
    request.session.clear()
    return RedirectResponse("/connexion?deconnecte=1", status_code=303)


# -- conventions -----------------------------------------------------------------------------------

def filtres_page(
    departement: Annotated[str | None, Query()] = None,
    statut: Annotated[str | None, Query()] = None,
    nature: Annotated[str | None, Query()] = None,
    vague: Annotated[str | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    """The conventions list's filters from the page's address (and its export's): an unusable one is ignored."""
    return {"departement": departement if departement and DEPARTEMENT.match(departement) else None,
            "statut": statut if statut in STATUTS else None,
            "nature": nature if nature in ("publique", "privee") else None,
            "vague": int(vague) if vague in ("1", "2") else None, "q": (q or "").strip()[:100] or None}


def recherche(filtres: dict[str, Any]) -> dict[str, Any]:
    """``filtres_page``'s filters as ``catalog.search_conventions`` (and ``exports.conventions_table``) take them."""
    return {**filtres, "statut": ConventionStatut(filtres["statut"]) if filtres["statut"] else None}


@router.get("/conventions", response_class=HTMLResponse)
def conventions(
    request: Request,
    filtres: Annotated[dict[str, Any], Depends(filtres_page)],
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    agent = _agent(request)
    app = _app(request)
    total, items = app.catalog.search_conventions(departements=agent.departements, **recherche(filtres),
                                                  limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    changing = app.catalog.conventions_changing(c.id for c in items)
    pages = max(1, math.ceil(total / PER_PAGE))
    query = {k: v for k, v in filtres.items() if v is not None}
    template = "_resultats.html" if partial(request) else "conventions.html"
    return render(request, template, agent=agent, section="conventions", items=items, total=total, page=page,
                  pages=pages, filtres=filtres, changing=changing, statuts=STATUTS,
                  page_url=lambda n: "/conventions?" + urlencode({**query, "page": n}),
                  departements=agent.departements or app.catalog.departements())


@router.get("/conventions/{convention_id}", response_class=HTMLResponse)
def convention(request: Request, convention_id: str) -> Response:
    agent = _agent(request)
    _visible_convention(request, agent, convention_id)
    return render(request, "convention.html", agent=agent, section="conventions",
                  **_convention_context(request, convention_id))


def _convention_context(request: Request, convention_id: str) -> dict[str, Any]:
    app = _app(request)
    conv = app.catalog.get_convention(convention_id)
    structure = app.catalog.get_structure(conv.structure_id)
    archives = app.catalog.find_archives(convention_id=convention_id)
    versions = sorted(conv.versions, key=lambda v: v.numero)
    current = versions[-1]
    statut = str(statut_convention(archives, current.numero))
    dossier_id = dossier_id_for(conv.structure_id, conv.vague)
    return {"convention": conv, "structure": structure, "versions": versions, "current": current,
            "archives": archives, "statut": statut, "situation": _situation(app, convention_id),
            "instruire": _agent(request).peut(Droit.INSTRUIRE),
            "statuts": STATUTS, "changing": bool(app.catalog.conventions_changing([convention_id])),
            "dossier_id": dossier_id if app.catalog.get_dossier_demande(dossier_id) is not None else None,
            **_postes_context(app, convention_id)}


def _situation(app: Any, convention_id: str) -> Any:
    """The financial situation, or None for a state conum cannot rebuild (demonstration data)."""
    from dossiers.services.situation import situation

    try:
        return situation(convention_id, app)
    except (ChangementRefuse, DemandeInvalide, ValueError):
        return None


MOTIFS_FIN = {"rupture_employeur": "rupture à l'initiative de l'employeur", "demission": "démission",
              "fin_cdd": "contrat arrivé à son terme", "rupture_conventionnelle": "rupture conventionnelle",
              "licenciement": "licenciement", "deces": "décès", "autre": "autre motif", "transfert": "transfert du poste",
              "jamais_pourvu": "jamais pourvu"}
MOTIFS_ABSENCE = {"maladie": "maladie", "maternite": "congé maternité", "parental": "congé parental",
                  "autre": "autre motif"}
SOURCES = {"demande": "demande", "contrat": "contrat (fin prévue atteinte)", "portail": "portail",
           "cli": "ligne de commande", "pilotage": "pilotage", "transfert": "transfert",
           "renouvellement": "renouvellement"}
CONTRATS = {"CDI": "CDI", "CDD": "CDD", "PEC": "PEC", "contrat_de_projet": "contrat de projet"}


def _postes_context(app: Any, convention_id: str) -> dict[str, Any]:
    """Each poste's situation today and its timeline (occupations, vacancies, absences), for the
    « Postes » section; ``postes_jour`` is the day of the situation."""
    from dossiers.domain.model import EtatPoste
    from dossiers.services.postes import chronologies_courantes

    jour = app.clock.today()
    try:
        etat, timelines = chronologies_courantes(convention_id, app, jour=jour)
    except (ChangementRefuse, DemandeInvalide):  # a state conum cannot rebuild (demonstration data): no section
        return {"postes": None, "postes_jour": jour}
    postes = []
    for c in timelines.values():
        situation = c.situation(jour)
        faits: list[dict[str, Any]] = []
        for o in c.occupations:
            faits.append({"debut": o.debut, "fin": o.fin, "genre": "occupation", "conseiller": o.conseiller,
                          "contrat": CONTRATS.get(str(o.type_contrat), str(o.type_contrat)) if o.type_contrat else None,
                          "fin_prevue": o.fin_prevue, "motif": MOTIFS_FIN.get(str(o.motif_fin)) if o.motif_fin else None,
                          "source": SOURCES.get(str(o.source), str(o.source)),
                          "source_fin": SOURCES.get(str(o.source_fin), str(o.source_fin)) if o.source_fin else None})
        for v in c.vacances:
            faits.append({"debut": v.depuis, "fin": v.jusqu_au, "genre": "vacance",
                          "motif": MOTIFS_FIN.get(v.motif, v.motif), "source": SOURCES.get(str(v.source), str(v.source))})
        for a in c.absences:
            faits.append({"debut": a.du, "fin": a.au, "genre": "absence", "motif": MOTIFS_ABSENCE.get(str(a.motif)),
                          "justifiee": a.justifiee, "signalee": a.signalee,
                          "source": SOURCES.get(str(a.source), str(a.source))})
        rang = {"vacance": 0, "occupation": 1, "absence": 2}
        faits.sort(key=lambda f: (f["debut"], rang[f["genre"]]))
        fin_financement = c.fin_financement or c.poste.fin or etat.date_fin
        postes.append({"id": c.poste.id, "etat": str(situation.etat), "situation": situation,
                       "rendu_le": c.fin_financement if situation.etat is EtatPoste.RENDU else None,
                       "transfere_le": c.transfere_le, "debut_financement": c.poste.debut,
                       "fin_financement": fin_financement, "faits": faits})
    return {"postes": postes, "postes_jour": jour}


@router.get("/conventions/{convention_id}/versions/{numero}/document.{kind}")
def document(request: Request, convention_id: str, numero: Numero, kind: str) -> Response:
    from dossiers.services.documents import issued_document

    agent = _agent(request)
    if kind not in ("pdf", "docx"):
        raise PageError(404, "Document introuvable", "Ce type de document n'existe pas.")
    return _download(request, agent, "document.telecharger", convention_id,
                     lambda: issued_document(_app(request), convention_id, numero, kind))


@router.get("/conventions/{convention_id}/versions/{numero}/certificat.pdf")
def certificat(request: Request, convention_id: str, numero: Numero,
               sha256: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None) -> Response:
    from dossiers.services.documents import archive_certificate

    agent = _agent(request)
    return _download(request, agent, "certificat.telecharger", convention_id,
                     lambda: archive_certificate(_app(request), convention_id, numero, sha256))


def _download(request: Request, agent: Jeton, action: str, convention_id: str, fetch: Any) -> Response:
    departement = None
    try:
        departement = _visible_convention(request, agent, convention_id)
        t = fetch()
    except PageError as exc:
        _audit(request, agent, action, departement, exc.status, {})
        raise
    except ConumError as exc:
        status = 404 if exc.code is ErrorCode.OBJET_INTROUVABLE else 503
        _audit(request, agent, action, departement, status, {})
        raise PageError(status, "Document introuvable" if status == 404 else "Service indisponible",
                        exc.message if status == 404 else "Le stockage ne répond pas : réessayez dans un instant.") from None
    _audit(request, agent, action, departement, 302 if t.url else 200, t.detail)
    if t.url:
        return RedirectResponse(t.url, status_code=302)
    return Response(t.data, media_type=t.content_type, headers={
        "Content-Disposition": f'attachment; filename="{t.filename}"', "Cache-Control": "private, no-store"})


def _instructeur_form(request: Request, convention_id: str, csrf: str | None, verbe: str) -> tuple[Jeton, str]:
    """The agent behind a form about a signed copy of a convention (CSRF checked, convention visible to them,
    instructeur or admin) and the convention's département."""
    agent = _agent(request)
    check_csrf(request, csrf)
    departement = _visible_convention(request, agent, convention_id)
    if not agent.peut(Droit.INSTRUIRE):
        raise PageError(403, "Accès refusé", f"Votre rôle ne permet pas de {verbe} une copie signée.")
    return agent, departement


@router.post("/conventions/{convention_id}/versions/{numero}/copie-signee", response_class=HTMLResponse)
def signed_copy(request: Request, convention_id: str, numero: Numero,
                fichier: Annotated[UploadFile | None, File()] = None,
                csrf: Annotated[str | None, Form()] = None) -> Response:
    from dossiers.adapters.inspection.sniff import sniff
    from dossiers.services.archive import release_if_done, stage
    from workers.submit import submit

    agent, departement = _instructeur_form(request, convention_id, csrf, "déposer")
    app = _app(request)
    if app.catalog.find_version(convention_id, numero) is None:
        raise PageError(404, "Version introuvable", f"Pas de version {numero} de la convention {convention_id}.")
    data = fichier.file.read(SIGNED_COPY_POLICY.max_bytes + 1) if fichier is not None else b""
    filename = safe_filename(fichier.filename if fichier is not None else None)
    erreur = None
    if not data:
        erreur = "Choisissez le fichier PDF de la copie signée."
    elif len(data) > SIGNED_COPY_POLICY.max_bytes:
        erreur = f"Le fichier dépasse {SIGNED_COPY_POLICY.max_bytes // 1_000_000} Mo."
    elif sniff(data) not in SIGNED_COPY_POLICY.mimes:
        erreur = "Ce fichier n'est pas un PDF (d'après son contenu) : déposez la copie signée au format PDF."
    if erreur is not None:
        _audit(request, agent, "copie_signee.deposer", departement, 415 if data else 422,
               {"filename": filename, "size": len(data)})
        return render(request, "convention.html", 422, agent=agent, section="conventions", erreur_depot=erreur,
                      **_convention_context(request, convention_id))
    key = stage(data, app)
    job = submit(app, request.app.state.ctx.actors["archive"], {
        "convention_id": convention_id, "staging_key": key, "version": numero, "filename": filename}, owner=agent.id)
    release_if_done(app, job, key)  # the same copy sent again: its job had already ended
    _audit(request, agent, "copie_signee.deposer", departement, 202,
           {"filename": filename, "size": len(data), "sha256": key.rsplit("/", 1)[-1].removesuffix(".pdf"),
            "job_id": job.id})
    return RedirectResponse(f"/conventions/{convention_id}/depots/{job.id}", status_code=303)


@router.get("/conventions/{convention_id}/depots/{job_id}", response_class=HTMLResponse)
def signed_copy_result(request: Request, convention_id: str, job_id: str) -> Response:
    agent = _agent(request)
    _visible_convention(request, agent, convention_id)
    job = _app(request).catalog.get_job(job_id) if len(job_id) <= 64 else None
    if job is None or job.owner != agent.id or job.args.get("convention_id") != convention_id:
        raise PageError(404, "Dépôt introuvable", "Ce dépôt n'existe pas ou n'est pas le vôtre.")
    context = {"job": job, "resultat": job.result or {}}
    if partial(request):
        return render(request, "_depot.html", agent=agent, convention_id=convention_id, **context)
    return render(request, "depot.html", agent=agent, section="conventions", convention_id=convention_id, **context)


@router.post("/conventions/{convention_id}/depots/{job_id}/accepter", response_class=HTMLResponse)
def accept_signed_copy(request: Request, convention_id: str, job_id: str,
                       csrf: Annotated[str | None, Form()] = None) -> Response:
    """The instructeur read a copy à vérifier and accepts it: only now is it locked under retention."""
    from dossiers.services.archive import accepter_copie

    agent, departement = _instructeur_form(request, convention_id, csrf, "accepter")
    app = _app(request)
    job = app.catalog.get_job(job_id) if len(job_id) <= 64 else None
    if job is None or job.owner != agent.id or job.args.get("convention_id") != convention_id \
            or not isinstance((job.result or {}).get("id"), int):
        raise PageError(404, "Dépôt introuvable", "Ce dépôt n'existe pas ou n'est pas le vôtre.")
    par = nom_agent(request, agent)
    try:
        record = accepter_copie(job.result["id"], app, par=par, now=app.clock.now())
    except ChangementRefuse as exc:
        _audit(request, agent, "copie_signee.accepter", departement, 409, {"job_id": job_id})
        raise PageError(409, "Copie non acceptée", exc.message) from None
    except ConumError:
        _audit(request, agent, "copie_signee.accepter", departement, 503, {"job_id": job_id})
        raise PageError(503, "Service indisponible", "L'archive ne répond pas : la copie reste en attente, "
                                                     "réessayez dans un instant.") from None
    _audit(request, agent, "copie_signee.accepter", departement, 200,
           {"job_id": job_id, "copie": record.id, "sha256": record.sha256})
    from workers.actors import announce_decision

    announce_decision(app, record)
    return RedirectResponse(f"/conventions/{convention_id}", status_code=303)


# -- dossiers ----------------------------------------------------------------------------------------

@router.get("/dossiers/{dossier_id}", response_class=HTMLResponse)
def dossier(request: Request, dossier_id: str) -> Response:
    from dossiers.services.validation import view_dossier

    from dossiers.domain.dossier import PIECE_LABELS
    from dossiers.domain.model import convention_id_for
    from dossiers.services.situation import avertissements_homonymes

    agent = _agent(request)
    _visible_dossier(request, agent, dossier_id)
    app = _app(request)
    view = view_dossier(dossier_id, app)
    d = view.dossier
    vague = int(app.catalog.get_dossier_demande(dossier_id)["convention"]["vague"])
    convention_id = convention_id_for(d.structure_id, vague)
    avertissements = avertissements_homonymes(app, d.structure_id, d.siret)
    return render(request, "dossier.html", agent=agent, section="conventions", view=view.to_dict(),
                  libelles={str(k): v for k, v in PIECE_LABELS.items()}, instruire=agent.peut(Droit.INSTRUIRE),
                  convention_id=convention_id if app.catalog.get_convention(convention_id) is not None else None,
                  avertissements=avertissements)


@router.get("/dossiers/{dossier_id}/rapport.pdf")
def rapport(request: Request, dossier_id: str) -> Response:
    from dossiers.services.validation import rapport_dossier

    agent = _agent(request)
    departement = _visible_dossier(request, agent, dossier_id)
    made = rapport_dossier(dossier_id, _app(request), now=_app(request).clock.now())
    _audit(request, agent, "rapport.telecharger", departement, 200, {"empreinte": made.empreinte})
    return Response(made.pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="rapport-{dossier_id}.pdf"', "Cache-Control": "private, no-store"})


# -- batch re-issue ----------------------------------------------------------------------------------

@router.get("/reemissions", response_class=HTMLResponse)
def plans(request: Request) -> Response:
    agent = _agent(request)
    plans = _app(request).catalog.list_plans(limit=50)
    totals = {p.id: visible_totals({k: v for k, v in p.totaux["par_departement"].items() if agent.voit(k)})
              for p in plans}
    return render(request, "reemissions.html", agent=agent, section="reemissions", plans=plans, totals=totals)


@router.get("/reemissions/{plan_id}", response_class=HTMLResponse)
def plan_page(request: Request, plan_id: str) -> Response:
    agent = _agent(request)
    context = plan_context(request, agent, plan_id)
    template = "_avancement.html" if partial(request) else "reemission.html"
    return render(request, template, agent=agent, section="reemissions", **context)


def plan_context(request: Request, agent: Jeton, plan_id: str) -> dict[str, Any]:
    """The plan as the agent may see it: totals, progress and failures of its départements only
    (counted in SQL: the page refreshes every 2 s during a run)."""
    from dossiers.services.reemission import progress

    app = _app(request)
    plan = app.catalog.get_plan(plan_id) if len(plan_id) <= 32 else None
    if plan is None:
        raise PageError(404, "Plan introuvable", f"Aucun plan de réémission {plan_id}.")
    p = progress(app, plan_id, departements=agent.departements)
    counts = {"total": p.total, "emise": p.emises, "obsolete": p.obsoletes, "echec": p.echecs, "a_faire": p.restantes}
    departements = {k: v for k, v in plan.totaux["par_departement"].items() if agent.voit(k)}
    biggest = max((abs(float(v["difference_eur"])) for v in departements.values()), default=0.0) or 1.0
    return {"plan": plan, "counts": counts, "failed": app.catalog.plan_failures(plan_id, departements=agent.departements),
            "departements": departements, "visible": visible_totals(departements), "biggest": biggest,
            "done": p.finished}


def visible_totals(par_departement: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The plan's totals over the départements an agent sees (never the national figure for a scoped agent)."""
    from decimal import Decimal

    total: dict[str, Any] = {"conventions": 0, "difference_eur": Decimal("0.00")}
    for row in par_departement.values():
        total["conventions"] += row["conventions"]
        total["difference_eur"] += Decimal(row["difference_eur"])
    return total
