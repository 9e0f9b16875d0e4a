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

from dossiers.domain.avenants import Resultat, appliquer, verifier_base
from dossiers.domain.changements import etat_initial, parse_changement
from dossiers.domain.archive import date_signature
from dossiers.domain.context_avenant import AvenantPrecedent, Modification, avenant_context, resiliation_context
from dossiers.domain.decisions import DecisionInvalide, texte_saisi
from dossiers.domain.demande import parse_demande, validate_demande
from dossiers.domain.formatting import montant as montant_fr
from dossiers.domain.echeancier import annees_convention, figures
from dossiers.domain.gestion import AJOUT_POSTES, avenant_restitution, limiter
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
from dossiers.domain.context_renouvellement import demande_renouvellement, renouvellement_context
from dossiers.domain.model import Convention, ConventionVersion, Structure, Tranche, convention_id_for
from dossiers.errors import ChangementRefuse, ConumError, ConventionConflict, DemandeInvalide, ErrorCode, FieldError
from dossiers.ports import AppPorts
from dossiers.services.generation import canonical_json, demande_digest, store_documents

__all__ = [
    "Amended", "EtatCourant", "Issued", "Liens", "demande_initiale", "issue", "structure_de", "liens", "etat_courant", "record_payment", "amend", "history", "version_figures", "restitutions",
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


def structure_de(app: AppPorts, convention: Convention) -> Structure:
    """The structure a convention is for (the catalog keeps it with the convention: gone is a defect)."""
    structure = app.catalog.get_structure(convention.structure_id)
    if structure is None:
        raise ConumError(f"Structure {convention.structure_id} de la convention {convention.id} absente du catalogue.",
                         code=ErrorCode.ERREUR_INTERNE)
    return structure


def demande_initiale(app: AppPorts, convention_id: str) -> dict[str, Any]:
    """The demande version 1 of a convention was issued from (recorded with it: gone is a defect)."""
    demande = app.catalog.find_demande(convention_id, 1)
    if demande is None:
        raise ConumError(f"Demande de la convention {convention_id} absente du catalogue.",
                         code=ErrorCode.ERREUR_INTERNE)
    return demande


def _initial(app: AppPorts, convention_id: str, v1: ConventionVersion) -> EtatConvention:
    demande = parse_demande(app.catalog.find_demande(convention_id, 1))
    return etat_initial(convention_id, demande, app.rules.get(v1.regles))


def etat_courant(convention_id: str, app: AppPorts) -> EtatCourant:
    convention = app.catalog.get_convention(convention_id)
    if convention is None or convention.current is None:
        raise ChangementRefuse(f"Convention {convention_id} inconnue.", code=ErrorCode.CONVENTION_INTROUVABLE)
    current = convention.current
    etat = current.etat if current.etat is not None else _initial(app, convention_id, current)
    paiements = app.catalog.list_paiements(convention_id, etat.date_debut)
    evenements = app.catalog.list_evenements(convention_id)
    if etat.departement is None:  # a state stored before it kept its département (outre-mer is priced apart)
        etat = dataclasses.replace(etat, departement=structure_de(app, convention).departement)
    return EtatCourant(convention, current, dataclasses.replace(etat, version=current.numero, paiements=paiements,
                                                                evenements=evenements))


def record_payment(convention_id: str, *, annee: int, jour: date, montant: Decimal, app: AppPorts, force: bool = False,
                   motif: str | None = None) -> tuple[Paiement, bool]:
    """Record a payment for convention year ``annee`` of the current period; True if it was new.

    A payment that would take the year above what it is due is refused (``paiement_excedentaire``) unless
    ``force`` with a ``motif``: it is then recorded with its motif, and the surplus shows as to repay."""
    from dossiers.services.situation import depassement, due_figures

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
    if paiement in etat.paiements:  # the same payment reported again: nothing to check nor record
        return paiement, False
    try:
        motif = texte_saisi(motif, "motif", 500)
    except DecisionInvalide as exc:  # too long, a control or an invisible character
        raise ChangementRefuse(f"Motif refusé : {exc.message}", code=ErrorCode.PAIEMENT_INVALIDE,
                               errors=[FieldError("motif", str(ErrorCode.PAIEMENT_INVALIDE), exc.message)]) from None
    if force and motif is None:
        raise ChangementRefuse("Un versement forcé au-delà du dû indique son motif (--motif).",
                               code=ErrorCode.PAIEMENT_INVALIDE)
    _, fig = due_figures(app, convention_id)
    exces = depassement(fig, annee, montant)
    if exces > 0 and not force:
        year = next(a for a in fig.annees if a.annee == annee)
        raise ChangementRefuse(
            f"Versement refusé : l'année {annee} est due pour {montant_fr(year.du)} et {montant_fr(year.verse)} "
            f"sont déjà versés ; {montant_fr(montant)} de plus dépasseraient le dû de {montant_fr(exces)}. "
            "Pour l'enregistrer quand même (le trop-perçu sera à reverser) : --force avec --motif.",
            code=ErrorCode.PAIEMENT_EXCEDENTAIRE)
    return paiement, app.catalog.record_paiement(convention_id, etat.date_debut, paiement,
                                                 motif=motif if exces > 0 else None)


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


def amend(convention_id: str, payload: Any, app: AppPorts, *, today: date, now: datetime) -> Amended:
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


def verifier_soumission(convention_id: str, payload: Any, app: AppPorts) -> None:
    """What a change request can be refused for at its submission, without the worker: its fields, a
    ``request_id`` already used with another content (``requete_conflit``), a closed or already renewed
    convention (``convention_close``), a superseded ``version`` (``version_perimee``). The job checks
    again (the catalog may change in between); the same request sent again passes (same answer)."""
    changement = parse_changement(payload)
    digest = demande_digest(canonical_json(payload))
    done = app.catalog.find_version_by_request(convention_id, changement.request_id)
    if done is not None:
        _same_request(done, changement.request_id, digest)
        return
    courant = etat_courant(convention_id, app)
    if isinstance(changement, Renouvellement) and courant.convention.renouvelee_par:
        _renouvellement_existant(courant.convention, courant.convention.renouvelee_par, changement.request_id, digest,
                                 app)
        return
    verifier_base(courant.etat, changement)


def _based_on(payload: Any) -> Any:
    return payload.get("version") if isinstance(payload, dict) else None


def _amend(convention_id: str, payload: Any, app: AppPorts, *, today: date, now: datetime) -> Amended:
    changement = parse_changement(payload)
    canonical = canonical_json(payload)
    digest = demande_digest(canonical)
    done = app.catalog.find_version_by_request(convention_id, changement.request_id)
    if done is not None:  # (a renewal issued before revision 0011 is a version of the convention it renewed)
        return Amended(_same_request(done, changement.request_id, digest), created=False)
    if isinstance(changement, Renouvellement):
        return _renouveler(convention_id, changement, canonical, digest, app, today=today, now=now)

    courant = etat_courant(convention_id, app)
    avant = courant.etat
    regles = app.rules.get(avant.regles)
    reemission = None
    if isinstance(changement, Reemission):
        reemission = app.rules.get(changement.regles) if changement.regles else None
        _check_modele(app, changement.modele)
    resultat = appliquer(avant, changement, regles, regles_reemission=reemission, emises=courant.version.figures)
    if isinstance(changement, AjoutPostes):  # May 2025: no poste added without a derogation
        limiter(app.rules.gestions(), AJOUT_POSTES, changement.date_effet, changement.derogation)
    issued = issue(courant, changement, resultat, canonical, digest, app, today=today, now=now)
    try:
        recorded = app.catalog.record_version(
            structure=issued.structure, convention_id=convention_id, vague=courant.convention.vague,
            date_debut=courant.convention.date_debut, version=issued.version,
            demande_json=demande_initiale(app, convention_id), structure_modifiee=True,  # a change request
        )
    except ConventionConflict as exc:  # another request took this version number first
        raise ChangementRefuse(
            f"La convention {convention_id} a reçu une autre modification pendant le traitement "
            f"(version {issued.version.numero}) : renvoyez la demande sur la version courante.",
            code=ErrorCode.VERSION_PERIMEE) from exc
    return Amended(recorded, created=True, resultat=resultat)


def _same_request(done: ConventionVersion, request_id: str, digest: str) -> ConventionVersion:
    if done.demande_sha256 != digest:
        raise ChangementRefuse(
            f"La demande {request_id} a déjà produit la version {done.numero} de la convention {done.convention_id} "
            "avec un autre contenu : une nouvelle modification demande un nouvel identifiant.",
            code=ErrorCode.REQUETE_CONFLIT)
    return done


MAX_RANG = 50  # renewals of one structure under one vague: far above a programme's life


def _renouvellement_existant(convention: Convention, renouvelee_par: str, request_id: str, digest: str,
                             app: AppPorts) -> ConventionVersion:
    """The first version of the convention ``renouvelee_par`` that already renews ``convention``, if the
    request is the same; otherwise the request is refused (a convention is renewed once)."""
    renewal = app.catalog.get_convention(renouvelee_par)
    first = renewal.versions[0] if renewal is not None and renewal.versions else None
    if first is not None and first.request_id == request_id:
        return _same_request(first, request_id, digest)
    raise ChangementRefuse(
        f"La convention {convention.id} est déjà renouvelée par la convention {renouvelee_par} : "
        "modifiez celle-ci.", code=ErrorCode.CONVENTION_CLOSE)


def _identifiant_renouvellement(app: AppPorts, structure_id: str, vague: int) -> str:
    """The first free id for a new convention of the structure under ``vague`` (CN-V2-X, then CN-V2-X-R2…)."""
    taken = {c.id for c in app.catalog.conventions_of_structure(structure_id)}
    for rang in range(1, MAX_RANG + 1):
        candidate = convention_id_for(structure_id, vague, rang)
        if candidate not in taken:
            return candidate
    raise ConventionConflict(f"La structure {structure_id} a déjà {MAX_RANG} conventions de la vague {vague}.")


def _demande_json(structure: Structure, etat: EtatConvention) -> dict[str, Any]:
    """The renewal's state restated as the demande it amounts to (what version 1 of a convention keeps)."""
    demande = demande_renouvellement(structure, etat)
    s = demande.structure
    payload: dict[str, Any] = {
        "structure": {"id": s.id, "siret": s.siret, "denomination": s.denomination, "nature": str(s.nature),
                      "categorie_juridique": s.categorie_juridique, "departement": s.departement,
                      "adresse": s.adresse, "zone_prioritaire": s.zone_prioritaire,
                      "representant": dataclasses.asdict(s.representant)},
        "convention": {"vague": demande.vague, "date_debut": demande.date_debut.isoformat(),
                       "nombre_postes": demande.nombre_postes},
        "postes": [
            {"id": p.id, "etat": str(p.etat)}
            | ({"conseiller": {"prenom": p.conseiller.prenom, "nom": p.conseiller.nom}} if p.conseiller else {})
            | ({"contrat": {"type": str(p.contrat.type), "date_debut": p.contrat.date_debut.isoformat(),
                            "date_fin": p.contrat.date_fin.isoformat() if p.contrat.date_fin else None}}
               if p.contrat else {})
            | ({"vacant_depuis": p.vacant_depuis.isoformat()} if p.vacant_depuis else {})
            | ({"lieu": {"commune": p.lieu.commune, "qpv": p.lieu.qpv, "zrr": p.lieu.zrr}} if p.lieu else {})
            for p in demande.postes
        ],
    }
    try:
        return validate_demande(payload).model_dump(mode="json")
    except DemandeInvalide:  # a fact the demande format refuses (kept in the state): the postes stay there
        return validate_demande(payload | {"postes": []}).model_dump(mode="json")


def _renouveler(convention_id: str, changement: Renouvellement, canonical: dict[str, Any], digest: str, app: AppPorts,
                *, today: date, now: datetime) -> Amended:
    """A renouvellement issues a new convention (version 1 under the vague-2 rules) renewing this one."""
    courant = etat_courant(convention_id, app)
    if courant.convention.renouvelee_par:
        return Amended(_renouvellement_existant(courant.convention, courant.convention.renouvelee_par,
                                                changement.request_id, digest, app), created=False)
    avant = courant.etat
    nouvelles = app.rules.for_vague(2)
    new_id = _identifiant_renouvellement(app, courant.convention.structure_id, nouvelles.vague)
    resultat = appliquer(avant, changement, app.rules.get(avant.regles), regles_renouvellement=nouvelles,
                         renouvellement_id=new_id, emises=courant.version.figures)
    etat = resultat.etat
    structure = dataclasses.replace(structure_de(app, courant.convention), nature=etat.natures[0][1])
    template, info = app.template("convention")
    context = renouvellement_context(structure, etat, nouvelles, renouvelee=avant, figures_renouvelee=resultat.avant,
                                     modele_version=info.version, date_edition=today)
    documents = store_documents(app, lambda: template.render(context), new_id, 1, digest,
                                f"Convention de subvention {new_id} — version 1 (renouvellement de {convention_id})",
                                now=now)
    version = ConventionVersion(
        convention_id=new_id, numero=1, motif=resultat.motif, regles=nouvelles.id, modele_version=info.version,
        modele_sha256=template.sha256, demande_sha256=digest, montant_total=resultat.apres.total_du,
        echeancier=_tranches(resultat.apres), created_at=now, documents=documents,
        request_id=changement.request_id, document_type="convention", changement=canonical, etat=etat,
        figures=resultat.apres,
    )
    try:
        recorded = app.catalog.record_version(
            structure=structure, convention_id=new_id, vague=nouvelles.vague, date_debut=etat.date_debut,
            version=version, demande_json=_demande_json(structure, etat), renouvelle=convention_id,
            structure_modifiee=True)
    except ConventionConflict:  # renewed meanwhile (the same request sent twice at once, or another one)
        convention = app.catalog.get_convention(convention_id)
        if convention is None or not convention.renouvelee_par:
            raise
        return Amended(_renouvellement_existant(convention, convention.renouvelee_par, changement.request_id, digest,
                                                app), created=False)
    return Amended(recorded, created=True, resultat=resultat)


@dataclass(frozen=True)
class Issued:
    """A new version rendered and stored (DOCX, PDF/A), not yet in the catalog."""

    version: ConventionVersion
    structure: Structure


def issue(courant: EtatCourant, changement: Changement, resultat: Resultat, canonical: dict[str, Any], digest: str,
          app: AppPorts, *, today: date, now: datetime) -> Issued:
    """Render and store the documents of the version ``resultat`` makes (avenant or résiliation)."""
    convention_id = courant.convention.id
    avant = courant.etat
    numero = courant.version.numero + 1
    structure = dataclasses.replace(structure_de(app, courant.convention), nature=resultat.etat.natures[-1][1])

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
        regles=resultat.regles,
    )
    if resultat.document == "resiliation":
        motif = changement.motif if isinstance(changement, Resiliation) else None
        context = resiliation_context(modification, type_resiliation=motif)
    else:
        context = avenant_context(modification)
    label = "Résiliation" if resultat.document == "resiliation" else "Avenant"
    documents = store_documents(app, lambda: template.render(context), convention_id, numero, digest,
                                f"{label} — convention {convention_id}, version {numero}", now=now)
    etat = dataclasses.replace(resultat.etat, version=numero, evenements=())
    version = ConventionVersion(
        convention_id=convention_id, numero=numero, motif=resultat.motif, regles=resultat.regles.id,
        modele_version=info.version, modele_sha256=template.sha256, demande_sha256=digest,
        montant_total=resultat.apres.total_du, echeancier=_tranches(resultat.apres), created_at=now,
        documents=documents, request_id=changement.request_id, document_type=resultat.document,
        changement=canonical, etat=etat, figures=resultat.apres,
    )
    return Issued(version, structure)


def _check_modele(app: AppPorts, modele: str | None) -> None:
    """A réémission names the template version it is issued under: only the current one can be rendered."""
    if modele is None:
        return
    current = app.template("avenant")[1].version
    if modele != current:
        raise ChangementRefuse(f"Modèle version {modele} indisponible : les modèles installés sont en version "
                               f"{current}.", code=ErrorCode.CHANGEMENT_INVALIDE)


def _tranches(fig: Figures) -> tuple[Tranche, ...]:
    return tuple(Tranche(numero=a.annee, annee=a.annee, date=a.debut, montant=a.du) for a in fig.annees)


def version_figures(convention_id: str, version: ConventionVersion, app: AppPorts) -> Figures:
    """The figures a version states; v1 recorded before the figures were stored: recomputed."""
    if version.figures is not None:
        return version.figures
    etat = version.etat if version.etat is not None else _initial(app, convention_id, version)
    return figures(etat, app.rules.get(etat.regles))


def history(convention_id: str, app: AppPorts) -> list[tuple[ConventionVersion, Figures]]:
    convention = app.catalog.get_convention(convention_id)
    if convention is None:
        raise ChangementRefuse(f"Convention {convention_id} inconnue.", code=ErrorCode.CONVENTION_INTROUVABLE)
    return [(v, version_figures(convention_id, v, app)) for v in convention.versions]


@dataclass(frozen=True)
class Liens:
    """A convention's place in its structure's succession of conventions, and the closed period's balance
    (a line of the renewing convention's report, never added to its amounts)."""

    renouvelle: str | None
    renouvelee_par: str | None
    periode_precedente: tuple[date, date] | None = None
    solde_precedent: tuple[str, Decimal] | None = None  # ("reverser" | "verser" | "nul", amount) today


def liens(convention_id: str, app: AppPorts) -> Liens:
    convention = app.catalog.get_convention(convention_id)
    if convention is None:
        raise ChangementRefuse(f"Convention {convention_id} inconnue.", code=ErrorCode.CONVENTION_INTROUVABLE)
    if convention.renouvelle is None:
        return Liens(None, convention.renouvelee_par)
    precedente = etat_courant(convention.renouvelle, app).etat
    fig = figures(precedente, app.rules.get(precedente.regles))
    return Liens(convention.renouvelle, convention.renouvelee_par, (precedente.date_debut, precedente.date_fin),
                 fig.solde)


def restitutions(
    convention_id: str, app: AppPorts, *, jour: date, regles_id: str, apply: bool, today: date, now: datetime
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
