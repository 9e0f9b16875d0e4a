"""The conventions: their list (filters, pagination, htmx refresh of the results), a convention's page
(versions, amounts, signed copies, postes' timelines, financial situation) and the downloads of its
documents and certificates d'archivage, audited as the API's are."""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dossiers.domain.acces import DEPARTEMENT, ConventionStatut, Droit, Jeton, statut_convention
from dossiers.domain.checks.signe import SIGNED_COPY_POLICY
from dossiers.domain.dossier import dossier_id_for
from dossiers.entrypoints.web.common import (
    Numero,
    agent_of,
    app_of,
    auditer,
    convention_visible,
    partial,
    render,
)
from dossiers.entrypoints.web.session import PageError
from dossiers.errors import ChangementRefuse, ConumError, DemandeInvalide

__all__ = ["router", "filtres_page", "recherche", "convention_context", "STATUTS"]

router = APIRouter(include_in_schema=False)
PER_PAGE = 20
STATUTS = {"a_signer": "À signer", "signee": "Signée", "archivee": "Archivée"}


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
    agent = agent_of(request)
    app = app_of(request)
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
    agent = agent_of(request)
    convention_visible(request, agent, convention_id)
    return render(request, "convention.html", agent=agent, section="conventions",
                  **convention_context(request, agent, convention_id))


def convention_context(request: Request, agent: Jeton, convention_id: str) -> dict[str, Any]:
    """What ``convention.html`` shows of a convention the agent sees."""
    app = app_of(request)
    conv = app.catalog.get_convention(convention_id)
    structure = app.catalog.get_structure(conv.structure_id)
    archives = app.catalog.find_archives(convention_id=convention_id)
    versions = sorted(conv.versions, key=lambda v: v.numero)
    current = versions[-1]
    statut = str(statut_convention(archives, current.numero))
    dossier_id = dossier_id_for(conv.structure_id, conv.vague)
    return {"convention": conv, "structure": structure, "versions": versions, "current": current,
            "archives": archives, "statut": statut, "situation": _situation(app, convention_id),
            "instruire": agent.peut(Droit.INSTRUIRE), "deposer": agent.peut(Droit.DEPOSER_SIGNE),
            "taille_max_mo": SIGNED_COPY_POLICY.max_bytes // 1_000_000,
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

    agent = agent_of(request)
    if kind not in ("pdf", "docx"):
        raise PageError(404, "Document introuvable", "Ce type de document n'existe pas.")
    return _download(request, agent, "document.telecharger", convention_id,
                     lambda: issued_document(app_of(request), convention_id, numero, kind))


@router.get("/conventions/{convention_id}/versions/{numero}/certificat.pdf")
def certificat(request: Request, convention_id: str, numero: Numero,
               sha256: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None) -> Response:
    from dossiers.services.documents import archive_certificate

    agent = agent_of(request)
    return _download(request, agent, "certificat.telecharger", convention_id,
                     lambda: archive_certificate(app_of(request), convention_id, numero, sha256))


def _download(request: Request, agent: Jeton, action: str, convention_id: str, fetch: Any) -> Response:
    """A document of a convention the agent sees: its bytes, or a 302 to a presigned URL (S3); the audit
    row and the statuses of the API's download (``api.errors.status_of`` for a service's error)."""
    from dossiers.entrypoints.api.errors import status_of

    departement = None
    try:
        departement = convention_visible(request, agent, convention_id)
        t = fetch()
    except PageError as exc:
        auditer(request, agent, action, departement, exc.status, {})
        raise
    except ConumError as exc:
        status = status_of(exc)
        auditer(request, agent, action, departement, status, {})
        if status == 404:
            raise PageError(404, "Document introuvable", exc.message) from None
        if status == 503:
            raise PageError(503, "Service indisponible", "Le stockage ne répond pas : réessayez dans un instant.") from None
        raise
    auditer(request, agent, action, departement, 302 if t.url else 200, t.detail)
    if t.url:
        return RedirectResponse(t.url, status_code=302)
    return Response(t.data, media_type=t.content_type, headers={
        "Content-Disposition": f'attachment; filename="{t.filename}"', "Cache-Control": "private, no-store"})
