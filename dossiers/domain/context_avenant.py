"""Template contexts of an avenant and of an avenant de résiliation, as pre-formatted French strings.

Like ``dossiers.domain.context``, templates only print: every amount is ``montant`` (no-break
spaces), every date ``date_longue``. The inputs are plain values (two states, their figures, the
motif), so the functions do not depend on how a change was computed. The keys below are the
contract with ``templates/avenant.docx`` / ``templates/resiliation.docx`` and
``templates/manifest.toml``; booleans stay booleans (for ``{%p if %}``), counts are strings.

Keys shared by both contexts::

    convention.id                      "CN-V2-STR-000123"
    convention.version                 version the document creates ("3"): avant.version + 1
    convention.version_precedente      version it amends ("2"): avant.version
    convention.vague                   "2"
    convention.date_emission           issue date of version 1: "15 janvier 2024"
    convention.date_signature          signature date of version 1, "" when conum never saw it (no signed
                                       copy with verified signatures: dossiers.domain.archive.date_signature)
    convention.date_debut, .date_fin   period after the change: "1er janvier 2024"
    convention.duree_mois, .duree_lettres          months of that period: "36", "trente-six"
    convention.nombre_postes, .nombre_postes_lettres              postes not rendus, after
    convention.nombre_postes_avant, .nombre_postes_avant_lettres  postes not rendus, before
    avenant.numero                     number of this avenant: avant.version ("2": version 3 is avenant 2)
    avenant.motif                      the motif sentence, as given
    avenant.date_edition               "26 novembre 2026"
    avenant.modele_version             the template's version in the manifest
    avenant.date_effet                 "1er juillet 2025", or "" (then: at signature)
    avenant.renouvellement             bool: the period changed (new date_debut)
    avenant.contrats_attendus          renewal: the postes whose first tranche awaits the contract given
                                       with the renewal ("poste P-1 (Léa Roux, contrat à compter du …)"), or ""
    avenant.ajout_postes               bool: a poste of ``apres`` is not in ``avant``
    avenant.retrait_postes             bool: a poste is rendu after and was not before
    avenant.changement_nature          bool: ``apres`` has a nature change ``avant`` had not
    avenant.nature_libelle             "personne morale de droit public|privé", the last nature of ``apres``
    avenant.nature_depuis              date the last nature applies from ("" if no change)
    articles[].libelle                 "Article 2 — Nombre de postes", as given
    avenants_precedents[].numero, .motif            motif without final full stop
    avenants_precedents[].date_emission, .date_signature   as for the convention ("" when unknown)
    structure.id, .denomination, .siret (lisible), .siren, .categorie_juridique, .departement,
             .adresse, .est_publique (bool), .zone_prioritaire (bool), .nature_libelle
    representant.civilite, .prenom, .nom, .qualite, .nom_complet
    postes[]                           every poste of ``avant`` then the new ones of ``apres``:
        .numero, .id, .conseiller ("—" if none)
        .etat_avant, .etat_apres       "occupé" | "vacant" | "rendu"; "—" when absent from that state;
                                       .etat_apres "vacant depuis le 1er juillet 2025" when known
        .etat                          "occupé", "occupé → rendu", "occupé → vacant depuis le …",
                                       "nouveau poste, vacant depuis le …", "non reconduit"
                                       The states are read from each poste's timeline (its version's facts
                                       and the events recorded since, ``postes.chronologie``) on
                                       date_edition, clamped to the poste's funded period in that state;
                                       a poste rendu in that state is "rendu".
        .conseiller                    who holds the poste then ("—" when vacant; for a poste rendu, the
                                       conseiller its version names)
        .periode_avant, .periode_apres "du 1er janvier 2024 au 31 décembre 2026", or "—"
        .debut, .fin                   first and last funded day after the change (else before); a poste
                                       owed nothing: "—", "non financé" (and .periode_*: "non financé")
    postes_ajoutes, postes_rendus      counts, "1"
    montants.total_avant, .total_apres, .total_apres_lettres
    montants.variation                 "une diminution de 5 000,00 €" | "une augmentation de …" | "" (equal)
    montants.total_verse, .total_reste_a_verser, .total_a_reverser      after the change
    montants.annees[]                  per convention year of ``apres``:
        .annee ("1"), .libelle ("Année 1"), .periode, .du_avant ("—" on a renouvellement or a new
        year), .du_apres, .verse, .reste_a_verser, .a_reverser
    reversement.du (bool), .montant, .montant_lettres   trop-perçu to repay: ``apres``'s, plus
                                        ``avant``'s on a renouvellement (the closed period's)
    solde.sens                         "reverser" | "verser" | "nul": the net of à reverser − reste à verser
    solde.montant, .montant_lettres    the net, in absolute value
    solde.compensation                 bool: both à reverser and reste à verser are non-zero
    regles.delai_reversement           the repayment delay of the rule set, "trente (30) jours" (the same
                                       phrase as the convention's article 6.3)

Avenant only::

    echeancier[]                       per year of ``apres``: .annee, .libelle, .date (year start),
                                       .du, .verse, .reste_a_verser, .a_reverser,
                                       .echue (bool: the year started before date_edition),
                                       .echeance: the date, or once passed « payable à la signature
                                       (échéance initiale : 1er janvier 2025) », « échue le … » if nothing
                                       remains to pay
    periode_precedente.debut, .fin, .total_du, .total_verse, .total_a_reverser, .trop_percu (bool)
                                       the closed period of a renouvellement (``avant``)

Résiliation only::

    resiliation.type                   "anticipee" | "naturelle" | "integrale"
    resiliation.libelle                "résiliation anticipée" | "arrivée à terme" | "résiliation intégrale"
    resiliation.date                   last funded day: date_resiliation, else date_effet, else date_fin
    resiliation.postes_non_pourvus     "P-2, P-3": postes no conseiller held during their funded period,
                                       owed nothing by this document (their payments are to be repaid); ""
    resiliation.nombre_non_pourvus     their count, "0"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dossiers.domain.context import DASH, NATURE_LIBELLES, echeance, representant_context, structure_context
from dossiers.domain.dates import add_months
from dossiers.domain.etat import (
    EtatConvention,
    Figures,
    MotifResiliation,
    PosteFinance,
    StatutConvention,
)
from dossiers.domain.formatting import (
    date_longue,
    en_lettres,
    montant,
    montant_en_lettres,
)
from dossiers.domain.model import EtatPoste, Structure
from dossiers.domain.postes import Situation, chronologie
from dossiers.domain.rules import RuleSet

__all__ = ["AvenantPrecedent", "Modification", "avenant_context", "resiliation_context"]

ZERO = Decimal("0.00")
_ETATS = {EtatPoste.OCCUPE: "occupé", EtatPoste.VACANT: "vacant", EtatPoste.RENDU: "rendu"}
_RESILIATIONS = {
    MotifResiliation.ANTICIPEE: "résiliation anticipée",
    MotifResiliation.NATURELLE: "arrivée à terme",
    MotifResiliation.INTEGRALE: "résiliation intégrale",
}


def _mois(debut: date, fin: date) -> int:
    """Whole months from ``debut`` to ``fin`` inclusive (1 Jan 2024 – 31 Dec 2026: 36)."""
    after = fin + timedelta(days=1)
    months = (after.year - debut.year) * 12 + after.month - debut.month
    return months - 1 if add_months(debut, months) > after else months


def _fin(poste: PosteFinance, etat: EtatConvention) -> date:
    """Last funded day of a poste in a state."""
    last = min(poste.fin or etat.date_fin, etat.date_fin)
    return min(last, etat.date_resiliation) if etat.date_resiliation else last


def _debut(poste: PosteFinance, etat: EtatConvention) -> date:
    return max(poste.debut, etat.date_debut)


NON_FINANCE = "non financé"


def _periode(debut: date, fin: date) -> str:
    if fin < debut:  # funding ends the day before it starts: the poste is owed nothing
        return NON_FINANCE
    return f"du {date_longue(debut)} au {date_longue(fin)}"


def _incise(sentence: str) -> str:
    """A sentence as it reads after « ayant pour objet : »: no final full stop, no capital (unless an
    acronym starts it)."""
    text = sentence.strip().rstrip(".").rstrip()
    text = text.removeprefix("Avenant : ")  # the sentence around it already says « avenant »
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def _situation(poste: PosteFinance, etat: EtatConvention, jour: date) -> Situation:
    """The poste's state by its timeline (the version's facts and the events recorded since) on the
    document's date, or on its last funded day when that came first (a closed period, a résiliation),
    or on its first when still ahead (a poste added from a later date): a CDD ended, a contract
    declared over, a recruitment declared show here, not the state fixed when the version was issued.
    A poste the document gives back (or gave back before) is « rendu »."""
    if poste.etat is EtatPoste.RENDU:
        return Situation(EtatPoste.RENDU)
    debut, fin = _debut(poste, etat), _fin(poste, etat)
    if fin < debut:  # never funded (a résiliation before its first day, or vacant throughout)
        return Situation(EtatPoste.VACANT, vacant_depuis=poste.vacant_depuis)
    day = max(debut, min(jour, fin))
    return chronologie(poste, etat.evenements, day).situation(day)


def _libelle(situation: Situation) -> str:
    if situation.etat is EtatPoste.VACANT and situation.vacant_depuis is not None:
        return f"vacant depuis le {date_longue(situation.vacant_depuis)}"
    return _ETATS[situation.etat]


def _postes(avant: EtatConvention, apres: EtatConvention, jour: date) -> list[dict[str, str]]:
    before = {p.id: p for p in avant.postes}
    after = {p.id: p for p in apres.postes}
    ids = [p.id for p in avant.postes] + [p.id for p in apres.postes if p.id not in before]
    rows = []
    for numero, poste_id in enumerate(ids, start=1):
        old, new = before.get(poste_id), after.get(poste_id)
        was = _situation(old, avant, jour) if old is not None else None
        now = _situation(new, apres, jour) if new is not None else None
        if now is None:
            etat = "non reconduit"
        elif was is None:
            etat = f"nouveau poste, {_libelle(now)}"
        elif was.etat is now.etat:
            etat = _libelle(now)
        else:
            etat = f"{_ETATS[was.etat]} → {_libelle(now)}"
        # every id is in one version or the other: the poste as it is after, else as it was
        shown, state = (new, apres) if new is not None else (before[poste_id], avant)
        debut, fin = _debut(shown, state), _fin(shown, state)
        funded = (debut, fin) if fin >= debut else None
        current = now or was
        conseiller = (new and new.conseiller) or (old and old.conseiller) or DASH
        if current is not None and current.occupation is not None:
            conseiller = current.occupation.conseiller or conseiller
        elif current is not None and current.etat is EtatPoste.VACANT:
            conseiller = DASH
        rows.append({
            "numero": str(numero),
            "id": poste_id,
            "conseiller": conseiller,
            "etat_avant": _ETATS[was.etat] if was else DASH,
            "etat_apres": _libelle(now) if now else DASH,
            "etat": etat,
            "periode_avant": _periode(_debut(old, avant), _fin(old, avant)) if old else DASH,
            "periode_apres": _periode(_debut(new, apres), _fin(new, apres)) if new else DASH,
            "debut": DASH if funded is None else date_longue(funded[0]),
            "fin": NON_FINANCE if funded is None else date_longue(funded[1]),
        })
    return rows


def _variation(avant: Decimal, apres: Decimal) -> str:
    if apres > avant:
        return f"une augmentation de {montant(apres - avant)}"
    if apres < avant:
        return f"une diminution de {montant(avant - apres)}"
    return ""


@dataclass(frozen=True)
class AvenantPrecedent:
    """An earlier avenant as a later one cites it: its number, motif, the day conum issued it and,
    only when a signed copy told it, the day it was signed."""

    numero: int
    motif: str
    date_emission: date
    date_signature: date | None = None


@dataclass(frozen=True)
class Modification:
    """What an avenant or a résiliation states: the structure, the state before and after, their
    figures, why, which articles change, the earlier avenants, and dates. A signature date is None
    unless conum read it from a signed copy: the documents never present an issue date as one."""

    structure: Structure
    avant: EtatConvention
    apres: EtatConvention
    figures_avant: Figures
    figures_apres: Figures
    motif: str
    articles: Sequence[str]
    avenants_precedents: Sequence[AvenantPrecedent]
    date_signature_initiale: date | None
    date_emission_initiale: date
    modele_version: str
    date_edition: date
    date_effet: date | None
    regles: RuleSet  # the rule set of ``apres``: the repayment delay the documents state


def _base(m: Modification) -> dict[str, Any]:
    structure, avant, apres = m.structure, m.avant, m.apres
    figures_avant, figures_apres, motif, articles = m.figures_avant, m.figures_apres, m.motif, m.articles
    avenants_precedents, date_signature_initiale = m.avenants_precedents, m.date_signature_initiale
    modele_version, date_edition, date_effet = m.modele_version, m.date_edition, m.date_effet
    renouvellement = apres.date_debut != avant.date_debut
    before_ids = {p.id for p in avant.postes}
    rendus_avant = {p.id for p in avant.postes if p.etat is EtatPoste.RENDU}
    ajoutes = [p for p in apres.postes if p.id not in before_ids]
    rendus = [p for p in apres.postes if p.etat is EtatPoste.RENDU and p.id not in rendus_avant]
    new_natures = [n for n in apres.natures if n not in avant.natures]
    actifs, actifs_avant = len(apres.postes_actifs), len(avant.postes_actifs)
    du_avant = {a.annee: a.du for a in figures_avant.annees}

    a_reverser = figures_apres.total_a_reverser
    if renouvellement:
        a_reverser += figures_avant.total_a_reverser
    sens, net = figures_apres.solde
    return {
        "convention": {
            "id": apres.convention_id,
            "version": str(avant.version + 1),
            "version_precedente": str(avant.version),
            "vague": str(apres.vague),
            "date_emission": date_longue(m.date_emission_initiale),
            "date_signature": date_longue(date_signature_initiale) if date_signature_initiale else "",
            "date_debut": date_longue(apres.date_debut),
            "date_fin": date_longue(apres.date_fin),
            "duree_mois": str(_mois(apres.date_debut, apres.date_fin)),
            "duree_lettres": en_lettres(_mois(apres.date_debut, apres.date_fin)),
            "nombre_postes": str(actifs),
            "nombre_postes_lettres": en_lettres(actifs),
            "nombre_postes_avant": str(actifs_avant),
            "nombre_postes_avant_lettres": en_lettres(actifs_avant),
        },
        "avenant": {
            "numero": str(avant.version),
            "motif": motif,
            "date_edition": date_longue(date_edition),
            "modele_version": modele_version,
            "date_effet": date_longue(date_effet) if date_effet else "",
            "renouvellement": renouvellement,
            "contrats_attendus": "; ".join(
                f"poste {p.id} ({p.conseiller}, contrat à compter du {date_longue(p.contrat_debut)})"
                for p in apres.postes if renouvellement and p.piece_contrat_attendue and p.contrat_debut),
            "ajout_postes": bool(ajoutes) and not renouvellement,
            "retrait_postes": bool(rendus),
            "changement_nature": bool(new_natures),
            "nature_libelle": NATURE_LIBELLES[apres.natures[-1][1]],
            "nature_depuis": date_longue(new_natures[-1][0]) if new_natures else "",
        },
        "articles": [{"libelle": a} for a in articles],
        "avenants_precedents": [
            {"numero": str(p.numero), "motif": _incise(p.motif), "date_emission": date_longue(p.date_emission),
             "date_signature": date_longue(p.date_signature) if p.date_signature else ""}
            for p in avenants_precedents
        ],
        "structure": structure_context(structure),
        "representant": representant_context(structure),
        "postes": _postes(avant, apres, date_edition),
        "postes_ajoutes": str(len(ajoutes)),
        "postes_rendus": str(len(rendus)),
        "montants": {
            "total_avant": montant(figures_avant.total_du),
            "total_apres": montant(figures_apres.total_du),
            "total_apres_lettres": montant_en_lettres(figures_apres.total_du),
            "variation": "" if renouvellement else _variation(figures_avant.total_du, figures_apres.total_du),
            "total_verse": montant(figures_apres.total_verse),
            "total_reste_a_verser": montant(figures_apres.total_reste_a_verser),
            "total_a_reverser": montant(figures_apres.total_a_reverser),
            "annees": [
                {
                    "annee": str(a.annee),
                    "libelle": f"Année {a.annee}",
                    "periode": _periode(a.debut, a.fin),
                    "du_avant": DASH if renouvellement or a.annee not in du_avant else montant(du_avant[a.annee]),
                    "du_apres": montant(a.du),
                    "verse": montant(a.verse),
                    "reste_a_verser": montant(a.reste_a_verser),
                    "a_reverser": montant(a.a_reverser),
                }
                for a in figures_apres.annees
            ],
        },
        "reversement": {
            "du": a_reverser > ZERO,
            "montant": montant(a_reverser),
            "montant_lettres": montant_en_lettres(a_reverser),
        },
        "solde": {
            "sens": sens,
            "montant": montant(net),
            "montant_lettres": montant_en_lettres(net),
            "compensation": figures_apres.total_a_reverser > ZERO and figures_apres.total_reste_a_verser > ZERO,
        },
        "regles": {"delai_reversement": m.regles.delai_reversement_libelle()},
    }


def avenant_context(m: Modification) -> dict[str, Any]:
    """Context of ``templates/avenant.docx`` (keys: module docstring)."""
    avant, figures_avant, figures_apres = m.avant, m.figures_avant, m.figures_apres
    context = _base(m)
    context["echeancier"] = [
        {
            "annee": str(a.annee),
            "libelle": f"Année {a.annee}",
            "date": date_longue(a.debut),
            "echue": a.debut < m.date_edition,
            "echeance": echeance(a.debut, m.date_edition, reste=a.reste_a_verser > ZERO),
            "du": montant(a.du),
            "verse": montant(a.verse),
            "reste_a_verser": montant(a.reste_a_verser),
            "a_reverser": montant(a.a_reverser),
        }
        for a in figures_apres.annees
    ]
    context["periode_precedente"] = {
        "debut": date_longue(avant.date_debut),
        "fin": date_longue(avant.date_fin),
        "total_du": montant(figures_avant.total_du),
        "total_verse": montant(figures_avant.total_verse),
        "total_a_reverser": montant(figures_avant.total_a_reverser),
        "trop_percu": figures_avant.total_a_reverser > ZERO,
    }
    return context


def _type_resiliation(apres: EtatConvention) -> MotifResiliation:
    if apres.statut is StatutConvention.TERMINEE:
        return MotifResiliation.NATURELLE
    if apres.postes and all(p.etat is EtatPoste.RENDU for p in apres.postes):
        return MotifResiliation.INTEGRALE
    return MotifResiliation.ANTICIPEE


def resiliation_context(m: Modification, *, type_resiliation: MotifResiliation | None = None) -> dict[str, Any]:
    """Context of ``templates/resiliation.docx`` (keys: module docstring).

    ``type_resiliation``: the request's motif; when None it is read from ``apres``: statut
    ``terminee`` is an arrivée à terme, every poste rendu an intégrale, otherwise an anticipée.
    """
    context = _base(m)
    apres = m.apres
    kind = type_resiliation or _type_resiliation(apres)
    last = apres.date_resiliation or m.date_effet or apres.date_fin
    if kind is MotifResiliation.NATURELLE:
        last = apres.date_fin
    before = {p.id: p for p in m.avant.postes}
    # funded before, owed nothing now though it started before the end: vacant throughout (avenants._sans_titulaire)
    non_pourvus = [p.id for p in apres.postes if (old := before.get(p.id)) is not None
                   and _fin(old, m.avant) >= _debut(old, m.avant) and _fin(p, apres) < _debut(p, apres) <= last]
    context["resiliation"] = {
        "type": str(kind), "libelle": _RESILIATIONS[kind], "date": date_longue(last),
        "postes_non_pourvus": ", ".join(non_pourvus), "nombre_non_pourvus": str(len(non_pourvus)),
    }
    return context
