"""Use cases: record a payment, apply a change (avenant, renouvellement, résiliation), read the history.

A change request produces exactly one new version: sent again with the same ``request_id`` it
returns the version it already produced; another change under the same id is refused
(``requete_conflit``); a request based on a superseded version is refused (``version_perimee``).
The new version's documents (DOCX, PDF/A) are stored like a convention's, never overwritten, and
the version records its request, rule set, state and figures. Earlier versions stay as they were.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dossiers.domain.avenants import Resultat, appliquer
from dossiers.domain.changements import etat_initial, parse_changement
from dossiers.domain.archive import date_signature
from dossiers.domain.context_avenant import AvenantPrecedent, Modification, avenant_context, resiliation_context
from dossiers.domain.demande import parse_demande
from dossiers.domain.echeancier import annees_convention, figures
from dossiers.domain.gestion import avenant_restitution
from dossiers.domain.etat import (
    AjoutPostes,
    Changement,
    ChangementNature,
    EtatConvention,
    Figures,
    Paiement,
    Reemission,
    Renouvellement,
    Resiliation,
    RetraitPostes,
    TransfertEntrant,
    TransfertSortant,
)
from dossiers.domain.model import Convention, ConventionVersion, Structure, Tranche
from dossiers.errors import ChangementRefuse, ConventionConflict, ErrorCode
from dossiers.services.generation import (
    DOCX_TYPE,
    PDF_TYPE,
    canonical_json,
    demande_digest,
    document_key,
    store_once,
)

__all__ = [
    "Amended", "EtatCourant", "Issued", "issue", "etat_courant", "record_payment", "amend", "history", "version_figures", "restitutions",
]

CENT = Decimal("0.01")
ONE_DAY = timedelta(days=1)
MAX_PAYMENT = Decimal("100000000.00")  # far above any convention, far below what the catalog holds


@dataclass(frozen=True)
class EtatCourant:
    convention: Convention
    version: ConventionVersion
    etat: EtatConvention  # the current version's state with every payment recorded for its period


@dataclass(frozen=True)
class Amended:
    version: ConventionVersion
    created: bool  # False: the request had already produced this version
    resultat: Resultat | None = None


def _initial(app: Any, convention_id: str, v1: ConventionVersion) -> EtatConvention:
    demande = parse_demande(app.catalog.find_demande(convention_id, 1))
    return etat_initial(convention_id, demande, app.rules.get(v1.regles))


def etat_courant(convention_id: str, app: Any) -> EtatCourant:
    convention = app.catalog.get_convention(convention_id)
    if convention is None or convention.current is None:
        raise ChangementRefuse(f"Convention {convention_id} inconnue.", code=ErrorCode.CONVENTION_INTROUVABLE)
    current = convention.current
    etat = current.etat if current.etat is not None else _initial(app, convention_id, current)
    paiements = app.catalog.list_paiements(convention_id, etat.date_debut)
    evenements = app.catalog.list_evenements(convention_id)
    return EtatCourant(convention, current, dataclasses.replace(etat, version=current.numero, paiements=paiements,
                                                                evenements=evenements))


def record_payment(convention_id: str, *, annee: int, jour: date, montant: Decimal, app: Any) -> tuple[Paiement, bool]:
    """Record a payment for convention year ``annee`` of the current period; True if it was new."""
    etat = etat_courant(convention_id, app).etat
    years = annees_convention(etat)
    if not 1 <= annee <= len(years):
        raise ChangementRefuse(f"Année {annee} hors de la convention (années 1 à {len(years)}).",
                               code=ErrorCode.PAIEMENT_INVALIDE)
    if not montant.is_finite() or not 0 < montant <= MAX_PAYMENT or montant != montant.quantize(CENT):
        raise ChangementRefuse(f"Montant {montant} invalide : positif, au centime près.", code=ErrorCode.PAIEMENT_INVALIDE)
    if jour < etat.date_debut:
        raise ChangementRefuse(f"Paiement daté du {jour:%d/%m/%Y}, avant le début de la période "
                               f"({etat.date_debut:%d/%m/%Y}).", code=ErrorCode.PAIEMENT_INVALIDE)
    paiement = Paiement(annee, jour, montant)
    return paiement, app.catalog.record_paiement(convention_id, etat.date_debut, paiement)


def _date_effet(changement: Changement, avant: EtatConvention) -> date | None:
    if isinstance(changement, AjoutPostes | ChangementNature):
        return changement.date_effet
    if isinstance(changement, Renouvellement):
        return changement.date_debut
    if isinstance(changement, Resiliation):
        return changement.date_effet or avant.date_fin
    if isinstance(changement, RetraitPostes):
        return min(p.date_fin_contrat for p in changement.postes)
    if isinstance(changement, TransfertSortant):
        return changement.date + ONE_DAY
    if isinstance(changement, TransfertEntrant):
        return changement.poste.debut
    return None


def amend(convention_id: str, payload: Any, app: Any, *, today: date, now: datetime) -> Amended:
    """Apply a change request to the current version of a convention; returns the new version.

    Without ``"version"`` in the request, a concurrent change that took the next number first is not
    the caller's problem: the request is applied again on the new current version (a few times)."""
    for attempt in range(3):
        try:
            return _amend(convention_id, payload, app, today=today, now=now)
        except ChangementRefuse as exc:
            if exc.code is not ErrorCode.VERSION_PERIMEE or attempt == 2 or _based_on(payload) is not None:
                raise
    raise AssertionError("unreachable")


def _based_on(payload: Any) -> Any:
    return payload.get("version") if isinstance(payload, dict) else None


def _amend(convention_id: str, payload: Any, app: Any, *, today: date, now: datetime) -> Amended:
    changement = parse_changement(payload)
    canonical = canonical_json(payload)
    digest = demande_digest(canonical)
    done = app.catalog.find_version_by_request(convention_id, changement.request_id)
    if done is not None:
        if done.demande_sha256 != digest:
            raise ChangementRefuse(
                f"La demande {changement.request_id} a déjà produit la version {done.numero} avec un autre contenu : "
                "une nouvelle modification demande un nouvel identifiant.", code=ErrorCode.REQUETE_CONFLIT)
        return Amended(done, created=False)

    courant = etat_courant(convention_id, app)
    avant = courant.etat
    regles = app.rules.get(avant.regles)
    renouvellement = app.rules.for_vague(2) if isinstance(changement, Renouvellement) else None
    reemission = None
    if isinstance(changement, Reemission):
        reemission = app.rules.get(changement.regles) if changement.regles else None
        _check_modele(app, changement.modele)
    resultat = appliquer(avant, changement, regles, regles_renouvellement=renouvellement,
                         regles_reemission=reemission)
    issued = issue(courant, changement, resultat, canonical, digest, app, today=today, now=now)
    try:
        recorded = app.catalog.record_version(
            structure=issued.structure, convention_id=convention_id, vague=courant.convention.vague,
            date_debut=courant.convention.date_debut, version=issued.version,
            demande_json=app.catalog.find_demande(convention_id, 1),
        )
    except ConventionConflict as exc:  # another request took this version number first
        raise ChangementRefuse(
            f"La convention {convention_id} a reçu une autre modification pendant le traitement "
            f"(version {issued.version.numero}) : renvoyez la demande sur la version courante.",
            code=ErrorCode.VERSION_PERIMEE) from exc
    return Amended(recorded, created=True, resultat=resultat)


@dataclass(frozen=True)
class Issued:
    """A new version rendered and stored (DOCX, PDF/A), not yet in the catalog."""

    version: ConventionVersion
    structure: Structure


def issue(courant: EtatCourant, changement: Changement, resultat: Resultat, canonical: dict[str, Any], digest: str,
          app: Any, *, today: date, now: datetime) -> Issued:
    """Render and store the documents of the version ``resultat`` makes (avenant or résiliation)."""
    convention_id = courant.convention.id
    avant = courant.etat
    numero = courant.version.numero + 1
    structure = app.catalog.get_structure(courant.convention.structure_id)
    structure = dataclasses.replace(structure, nature=resultat.etat.natures[-1][1])

    template, info = app.template(resultat.document)
    # a signature date only from a signed copy whose signatures were read; the issue date is a fact
    archives = app.catalog.find_archives(convention_id=convention_id)
    versions = courant.convention.versions
    # avenant n° k is version k + 1
    previous = [AvenantPrecedent(v.numero - 1, v.motif, v.created_at.date(), date_signature(archives, v.numero))
                for v in versions if v.numero > 1]
    modification = Modification(
        structure=structure, avant=avant, apres=resultat.etat, figures_avant=resultat.avant,
        figures_apres=resultat.apres, motif=resultat.motif, articles=resultat.articles,
        avenants_precedents=previous, date_signature_initiale=date_signature(archives, versions[0].numero),
        date_emission_initiale=versions[0].created_at.date(),
        modele_version=info.version, date_edition=today, date_effet=_date_effet(changement, avant),
    )
    if resultat.document == "resiliation":
        motif = changement.motif if isinstance(changement, Resiliation) else None
        context = resiliation_context(modification, type_resiliation=motif)
    else:
        context = avenant_context(modification)
    docx_ref, docx = store_once(app.storage, document_key(convention_id, numero, digest, "docx"),
                                lambda: template.render(context), DOCX_TYPE)
    label = "Résiliation" if resultat.document == "resiliation" else "Avenant"
    title = f"{label} — convention {convention_id}, version {numero}"
    pdf_ref, _ = store_once(
        app.storage, document_key(convention_id, numero, digest, "pdf"),
        lambda: app.pdf(docx, convention_id=convention_id, version=numero, docx_sha256=docx_ref.sha256, title=title),
        PDF_TYPE,
    )
    etat = dataclasses.replace(resultat.etat, version=numero, evenements=())
    version = ConventionVersion(
        convention_id=convention_id, numero=numero, motif=resultat.motif, regles=resultat.regles.id,
        modele_version=info.version, modele_sha256=template.sha256, demande_sha256=digest,
        montant_total=resultat.apres.total_du, echeancier=_tranches(resultat.apres), created_at=now,
        documents=(docx_ref, pdf_ref), request_id=changement.request_id, document_type=resultat.document,
        changement=canonical, etat=etat, figures=resultat.apres,
    )
    return Issued(version, structure)


def _check_modele(app: Any, modele: str | None) -> None:
    """A réémission names the template version it is issued under: only the current one can be rendered."""
    if modele is None:
        return
    current = app.template("avenant")[1].version
    if modele != current:
        raise ChangementRefuse(f"Modèle version {modele} indisponible : les modèles installés sont en version "
                               f"{current}.", code=ErrorCode.CHANGEMENT_INVALIDE)


def _tranches(fig: Figures) -> tuple[Tranche, ...]:
    return tuple(Tranche(numero=a.annee, annee=a.annee, date=a.debut, montant=a.du) for a in fig.annees)


def version_figures(convention_id: str, version: ConventionVersion, app: Any) -> Figures:
    """The figures a version states; v1 recorded before the figures were stored: recomputed."""
    if version.figures is not None:
        return version.figures
    etat = version.etat if version.etat is not None else _initial(app, convention_id, version)
    return figures(etat, app.rules.get(etat.regles))


def history(convention_id: str, app: Any) -> list[tuple[ConventionVersion, Figures]]:
    convention = app.catalog.get_convention(convention_id)
    if convention is None:
        raise ChangementRefuse(f"Convention {convention_id} inconnue.", code=ErrorCode.CONVENTION_INTROUVABLE)
    return [(v, version_figures(convention_id, v, app)) for v in convention.versions]


def restitutions(
    convention_id: str, app: Any, *, jour: date, regles_id: str, apply: bool, today: date, now: datetime
) -> tuple[RetraitPostes | None, Amended | None]:
    """The postes a management rule set (``regles-2025-05``) takes back on ``jour``, and with ``apply``
    the avenant that gives them back (request id ``<regles>-<jour>``: applying twice issues it once)."""
    regles = app.rules.gestion(regles_id)
    etat = etat_courant(convention_id, app).etat
    change = avenant_restitution(etat, jour, regles, f"{regles.id}-{jour.isoformat()}")
    if change is None or not apply:
        return change, None
    payload = {
        "request_id": change.request_id, "type": "retrait_postes", "version": change.version,
        "postes": [{"id": p.id, "date_fin_contrat": p.date_fin_contrat.isoformat()} for p in change.postes],
    }
    return change, amend(convention_id, payload, app, today=today, now=now)
