"""Use cases: record a poste event, read each poste's timeline.

An event is recorded once per request id, with the idempotence of change requests: sent again with
the same content it returns ``enregistre: false``; another content under the same id is refused
(``requete_conflit``); a request naming a superseded ``version`` is refused (``version_perimee``).
An event that changes no money (recrutement, fin_contrat, prolongation, absence) makes no version
and no document: the timeline, ``conum history``, the pages and every later computation (the 6-month
rule, a renewal) read it. A ``transfert`` changes the money on both sides: it records the event
and the avenants of both conventions (A loses the poste after the date, B funds it from the next
day) in one transaction; towards a structure without a convention it opens B's dossier.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from dossiers.domain.postes import NouvelEvenement, VersionAEnregistrer
from dossiers.domain.avenants import Resultat, appliquer
from dossiers.domain.etat import EtatConvention, PosteFinance, StatutConvention, TransfertEntrant, TransfertSortant
from dossiers.domain.demande import parse_demande
from dossiers.domain.evenements import parse_evenement
from dossiers.domain.formatting import date_longue
from dossiers.domain.model import EtatPoste, convention_en_vigueur
from dossiers.domain.postes import (
    Chronologie,
    Evenement,
    EvenementPoste,
    Source,
    Transfert,
    chronologie,
    chronologies,
    reporter,
    verifier,
)
from dossiers.errors import CatalogError, ChangementRefuse, ConumError, ErrorCode
from dossiers.ports import AppPorts
from dossiers.services.avenants import EtatCourant, demande_initiale, etat_courant, issue, structure_de
from dossiers.services.generation import canonical_json, demande_digest

__all__ = ["Enregistrement", "record_evenement", "postes_json", "chronologies_courantes", "chronologie_json"]

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Enregistrement:
    convention_id: str
    poste: str
    type: str
    enregistre: bool  # False: this request id was already recorded with the same content
    version: int  # the convention's current version (new only when a document was produced)
    etat: EtatConvention  # with its events, the new one included
    jour: date  # the day the postes' situation is given for
    versions: tuple[Any, ...] = ()  # the versions the event made (a transfer: A's and B's avenants)
    dossier_id: str | None = None  # a transfer towards a structure without a convention

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "convention_id": self.convention_id, "poste": self.poste, "type": self.type,
            "enregistre": self.enregistre, "version": self.version, "date": self.jour.isoformat(),
            "postes": postes_json(chronologies(self.etat, self.jour), self.jour),
        }
        if self.versions:
            out["avenants"] = [{"convention_id": v.convention_id, "version": v.numero, "motif": v.motif,
                                "montant_total": f"{v.montant_total:.2f}"} for v in self.versions]
        if self.dossier_id:
            out["dossier_id"] = self.dossier_id
        return out


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def postes_json(timelines: dict[str, Chronologie], jour: date) -> list[dict[str, Any]]:
    """Each poste's situation on ``jour`` (its timeline up to that day): état, vacant since, contract
    in force, absence."""
    out = []
    for poste_id, timeline in timelines.items():
        s = timeline.situation(jour)
        o = s.occupation
        out.append({
            "id": poste_id, "etat": str(s.etat), "vacant_depuis": _day(s.vacant_depuis),
            "contrat": None if o is None else {
                "conseiller": o.conseiller, "type": str(o.type_contrat) if o.type_contrat else None,
                "date_debut": o.debut.isoformat(), "date_fin": _day(o.fin_prevue)},
            "absence": None if s.absence is None else {
                "du": s.absence.du.isoformat(), "au": _day(s.absence.au), "motif": str(s.absence.motif),
                "justifiee": s.absence.justifiee},
        })
    return out


def chronologie_json(c: Chronologie) -> dict[str, Any]:
    """A poste's whole timeline, for the API and ``--json`` outputs."""
    return {
        "poste": c.poste.id, "debut_financement": c.poste.debut.isoformat(), "fin_financement": _day(c.fin_financement),
        "occupations": [{"conseiller": o.conseiller, "type": str(o.type_contrat) if o.type_contrat else None,
                         "debut": o.debut.isoformat(), "fin_prevue": _day(o.fin_prevue), "fin": _day(o.fin),
                         "motif_fin": str(o.motif_fin) if o.motif_fin else None, "source": str(o.source),
                         "source_fin": str(o.source_fin) if o.source_fin else None} for o in c.occupations],
        "vacances": [{"depuis": v.depuis.isoformat(), "jusqu_au": _day(v.jusqu_au), "motif": v.motif,
                      "source": str(v.source)} for v in c.vacances],
        "absences": [{"du": a.du.isoformat(), "au": _day(a.au), "motif": str(a.motif), "justifiee": a.justifiee,
                      "signalee": a.signalee, "source": str(a.source)} for a in c.absences],
        "transfere_le": _day(c.transfere_le),
    }


def chronologies_courantes(convention_id: str, app: AppPorts, *, jour: date) -> tuple[EtatConvention, dict[str, Chronologie]]:
    etat = etat_courant(convention_id, app).etat
    return etat, chronologies(etat, jour)


def record_evenement(convention_id: str, poste_id: str | None, payload: Any, app: AppPorts, *, source: Source,
                     today: date, now: datetime, jour: date | None = None) -> Enregistrement:
    """Record one poste event (``payload`` as a portal sends it; ``poste_id`` from the URL, or None
    to take the payload's). ``jour``: the day the returned situation is for (default ``today``)."""
    evenement = parse_evenement(payload, poste=poste_id)
    canonical = canonical_json({**payload, "poste": evenement.poste})
    digest = demande_digest(canonical)
    jour = jour or today
    done = app.catalog.find_evenement(convention_id, evenement.request_id)
    if done is not None:
        return _again(convention_id, evenement, done, digest, app, jour)
    courant = etat_courant(convention_id, app)
    etat = courant.etat
    if etat.statut is not StatutConvention.ACTIVE:
        raise ChangementRefuse(f"La convention {convention_id} est close (statut {etat.statut.value}) : ses postes ne "
                               "reçoivent plus d'événement.", code=ErrorCode.CONVENTION_CLOSE)
    if evenement.version is not None and evenement.version != etat.version:
        raise ChangementRefuse(
            f"L'événement porte sur la version {evenement.version} de la convention {convention_id}, dont la version "
            f"courante est la {etat.version} : relisez-la et renvoyez l'événement.", code=ErrorCode.VERSION_PERIMEE)
    resolved, _ = verifier(etat, evenement, source=source)
    if isinstance(resolved, Transfert):
        return _transferer(courant, resolved, canonical, digest, app, source=source, today=today, now=now, jour=jour)

    def check(existing: tuple[EvenementPoste, ...]) -> None:  # again, under the convention's lock
        verifier(dataclasses.replace(etat, evenements=existing), resolved, source=source)

    nouveau = NouvelEvenement(convention_id, resolved, canonical, digest, source, etat.version)
    try:
        recorded = app.catalog.record_evenements(convention_id, [nouveau], check)
    except CatalogError:  # the same request id recorded meanwhile (unique constraint), or a real failure
        done = app.catalog.find_evenement(convention_id, evenement.request_id)
        if done is None:
            raise
        return _again(convention_id, evenement, done, digest, app, jour)
    after = dataclasses.replace(etat, evenements=etat.evenements + tuple(recorded))
    return Enregistrement(convention_id, evenement.poste, str(evenement.type), True, etat.version, after, jour)


def _again(convention_id: str, evenement: Evenement, done: EvenementPoste, digest: str, app: AppPorts,
           jour: date) -> Enregistrement:
    if done.sha256 != digest:
        raise ChangementRefuse(
            f"L'événement {evenement.request_id} a déjà été enregistré avec un autre contenu : un nouvel événement "
            "demande un nouvel identifiant (request_id).", code=ErrorCode.REQUETE_CONFLIT)
    etat = etat_courant(convention_id, app).etat
    versions = tuple(v for cid in _transfer_conventions(app, convention_id, done)
                     if (v := app.catalog.find_version_by_request(cid, evenement.request_id)) is not None)
    return Enregistrement(convention_id, done.poste, str(done.evenement.type), False, etat.version, etat, jour,
                          versions=versions)


def _transfer_conventions(app: AppPorts, convention_id: str, done: EvenementPoste) -> list[str]:
    if not isinstance(done.evenement, Transfert):
        return []
    ids = [convention_id]
    if done.evenement.vers_structure:
        target = _convention_of(app, done.evenement.vers_structure, done.evenement.date + timedelta(days=1))
        if target is not None:
            ids.append(target)
    return ids


def _convention_of(app: AppPorts, structure_id: str, jour: date) -> str | None:
    """The structure's convention in force on ``jour`` (a renewal from its first day)."""
    return convention_en_vigueur(((c.id, c.date_debut) for c in app.catalog.conventions_of_structure(structure_id)
                                  if c.current is not None), jour)


def _transferer(courant: EtatCourant, t: Transfert, canonical: dict[str, Any], digest: str, app: AppPorts, *,
                source: Source, today: date, now: datetime, jour: date) -> Enregistrement:
    a = courant.etat
    a_id = courant.convention.id
    structure_a = structure_de(app, courant.convention)
    poste = next(p for p in a.postes if p.id == t.poste)
    situation = chronologie(poste, a.evenements, t.date).situation(t.date)
    if t.vers_structure is not None:
        structure_b = app.catalog.get_structure(t.vers_structure)
        if structure_b is None:
            raise ChangementRefuse(f"vers.structure_id : structure « {t.vers_structure} » inconnue ; pour une structure "
                                   "sans convention, envoyez sa demande (vers.demande).",
                                   code=ErrorCode.CONVENTION_INTROUVABLE)
    elif t.vers_demande is not None:
        structure_b = parse_demande(t.vers_demande).structure
    else:  # the request's model (``VersIn``) requires one or the other
        raise ConumError(f"Transfert {t.request_id} sans structure ni demande d'accueil.", code=ErrorCode.ERREUR_INTERNE)
    if structure_b.id == structure_a.id:
        raise ChangementRefuse("vers : un poste ne peut pas être transféré à sa propre structure.",
                               code=ErrorCode.EVENEMENT_INVALIDE)
    if structure_b.departement != structure_a.departement and not t.derogation:
        raise ChangementRefuse(
            f"Transfert refusé : {structure_a.denomination} ({structure_a.departement}) et {structure_b.denomination} "
            f"({structure_b.departement}) ne sont pas dans le même département ; les règles de gestion de mai 2025 "
            "ne le permettent qu'à titre exceptionnel : indiquez la dérogation (derogation.reference).",
            code=ErrorCode.REGLE_GESTION_2025)
    arrivee = reporter(poste, situation, debut=t.date + ONE_DAY, fin=poste.fin if poste.fin is not None else a.date_fin,
                       source=Source.TRANSFERT)
    # its lieu de permanence there is not known: the poste leaves its QPV/ZRR bonus behind (the
    # receiving structure's own flag, if it has one, still covers every poste it holds)
    arrivee = dataclasses.replace(arrivee, lieu=None)
    # every check of both sides before any document is rendered: a refusal leaves nothing behind
    sortant = TransfertSortant(t.request_id, t.poste, t.date, structure_b.denomination, version=a.version)
    resultat_a = appliquer(a, sortant, app.rules.get(a.regles), emises=courant.version.figures)
    accueil = demande_b = None
    if t.vers_structure is not None:
        accueil = _accueil(t, t.vers_structure, arrivee, structure_a.denomination, app)
    elif t.vers_demande is not None:
        demande_b = _demande_accueil(t.vers_demande, arrivee)
    issued_a = issue(courant, sortant, resultat_a, canonical, digest, app, today=today, now=now)
    versions = [VersionAEnregistrer(issued_a.structure, a_id, courant.convention.vague, courant.convention.date_debut,
                                    issued_a.version, demande_initiale(app, a_id))]
    dossier_id = None
    if accueil is not None:
        courant_b, entrant, resultat_b = accueil
        issued_b = issue(courant_b, entrant, resultat_b, canonical, digest, app, today=today, now=now)
        versions.append(VersionAEnregistrer(issued_b.structure, courant_b.convention.id, courant_b.convention.vague,
                                            courant_b.convention.date_debut, issued_b.version,
                                            demande_initiale(app, courant_b.convention.id)))
    elif demande_b is not None:  # a structure without a convention: its dossier opens with the poste
        from dossiers.services.validation import open_dossier

        dossier_id = str(open_dossier(demande_b, app).id)

    def check(existing: tuple[EvenementPoste, ...]) -> None:
        verifier(dataclasses.replace(a, evenements=existing), t, source=source)

    nouveau = NouvelEvenement(a_id, t, canonical, digest, source, a.version)
    recorded = app.catalog.record_evenements(a_id, [nouveau], check, versions)
    after = dataclasses.replace(resultat_a.etat, evenements=a.evenements + tuple(recorded))
    return Enregistrement(a_id, t.poste, str(t.type), True, issued_a.version.numero, after, jour,
                          versions=tuple(v.version for v in versions), dossier_id=dossier_id)


def _accueil(t: Transfert, vers_structure: str, arrivee: PosteFinance, depuis: str, app: AppPorts
             ) -> tuple[EtatCourant, TransfertEntrant, Resultat]:
    """The receiving convention's side of a transfer: its state, the change and its result."""
    b_id = _convention_of(app, vers_structure, arrivee.debut)
    if b_id is None:
        raise ChangementRefuse(f"vers.structure_id : la structure {vers_structure} n'a pas de convention ; "
                               "envoyez sa demande (vers.demande) pour ouvrir son dossier.",
                               code=ErrorCode.CONVENTION_INTROUVABLE)
    courant_b = etat_courant(b_id, app)
    if courant_b.etat.statut is not StatutConvention.ACTIVE:
        raise ChangementRefuse(f"vers.structure_id : la convention {b_id} est close.", code=ErrorCode.CONVENTION_CLOSE)
    entrant = TransfertEntrant(t.request_id, arrivee, depuis, version=courant_b.etat.version)
    return courant_b, entrant, appliquer(courant_b.etat, entrant, app.rules.get(courant_b.etat.regles),
                                         emises=courant_b.version.figures)


def _demande_accueil(vers_demande: dict[str, object], arrivee: PosteFinance) -> dict[str, Any]:
    """The demande of a structure without a convention, with the poste it receives (its conseiller
    and contract, or vacant) when the demande does not describe its postes."""
    payload: dict[str, Any] = copy.deepcopy(vers_demande)
    convention = payload.get("convention") if isinstance(payload.get("convention"), dict) else None
    if convention is not None and convention.get("date_debut") != arrivee.debut.isoformat():
        raise ChangementRefuse(
            f"vers.demande.convention.date_debut : la convention de la structure qui reçoit le poste commence le "
            f"lendemain du transfert, le {date_longue(arrivee.debut)} ({arrivee.debut.isoformat()}).",
            code=ErrorCode.EVENEMENT_INVALIDE)
    if not payload.get("postes"):
        if arrivee.etat is EtatPoste.OCCUPE and arrivee.conseiller:
            prenom, _, nom = arrivee.conseiller.partition(" ")
            contrat: dict[str, Any] = {"type": str(arrivee.type_contrat),
                                       "date_debut": (arrivee.contrat_debut or arrivee.debut).isoformat()}
            if arrivee.contrat_fin:
                contrat["date_fin"] = arrivee.contrat_fin.isoformat()
            payload["postes"] = [{"id": "P-1", "etat": "occupe", "conseiller": {"prenom": prenom, "nom": nom or prenom},
                                  "contrat": contrat}]
        else:
            payload["postes"] = [{"id": "P-1", "etat": "vacant",
                                  "vacant_depuis": (arrivee.vacant_depuis or arrivee.debut).isoformat()}]
    return payload
