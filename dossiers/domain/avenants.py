"""Applying a change request to a convention state: the next version, its figures, and the words of
the avenant (motif, articles modified).

``appliquer`` is pure: it checks the change against the state (convention still active, request
based on the current version, postes known, dates inside the period, something actually changes),
builds the next ``EtatConvention`` and computes the figures before and after with
``dossiers.domain.echeancier.figures``. Payments stay with the state, so a poste given back after
its year was paid shows as a trop-perçu in ``apres``. Every refusal is a ``ChangementRefuse`` with a
stable code: ``changement_invalide``, ``changement_sans_effet``, ``version_perimee``,
``convention_close``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from dossiers.domain.dates import add_months
from dossiers.domain.echeancier import figures, figures_emises
from dossiers.domain.etat import (
    AjoutPostes,
    Changement,
    ChangementNature,
    EtatConvention,
    Figures,
    MotifResiliation,
    PosteFinance,
    Reemission,
    Renouvellement,
    Resiliation,
    RetraitPostes,
    StatutConvention,
    TransfertEntrant,
    TransfertSortant,
)
from dossiers.domain.formatting import date_longue
from dossiers.domain.model import EtatPoste, Nature
from dossiers.domain.postes import Source, chronologie, reporter
from dossiers.domain.rules import RuleSet
from dossiers.errors import ChangementRefuse, ErrorCode, RulesError

__all__ = [
    "verifier_base",
    "ANNEXE_ECHEANCIER",
    "ANNEXE_POSTES",
    "ARTICLE_DUREE",
    "ARTICLE_MONTANT",
    "ARTICLE_RESILIATION",
    "ARTICLE_REVERSEMENT",
    "ARTICLE_VERSEMENT",
    "PARTIES",
    "Resultat",
    "appliquer",
]

# Headings of the convention model (templates/convention.docx), in the order the document prints them.
PARTIES = "Entre les soussignés (désignation de la Structure)"
ARTICLE_DUREE = "Article 2 — Durée"
ARTICLE_MONTANT = "Article 3 — Montant de la subvention"
ARTICLE_VERSEMENT = "Article 4 — Modalités de versement"
ARTICLE_REVERSEMENT = "Article 6 — Justification, contrôle et reversement"
ARTICLE_RESILIATION = "Article 8 — Résiliation"
ANNEXE_POSTES = "Annexe 1 — Liste des postes"
ANNEXE_ECHEANCIER = "Annexe 2 — Échéancier prévisionnel des versements"
_ARTICLES_POSTES = frozenset({ARTICLE_MONTANT, ARTICLE_VERSEMENT, ANNEXE_POSTES, ANNEXE_ECHEANCIER})
_ORDER = (PARTIES, ARTICLE_DUREE, ARTICLE_MONTANT, ARTICLE_VERSEMENT, ARTICLE_REVERSEMENT, ARTICLE_RESILIATION,
          ANNEXE_POSTES, ANNEXE_ECHEANCIER)

_NATURE = {Nature.PUBLIQUE: "publique", Nature.PRIVEE: "privée"}
_POSTE_NUMERO = re.compile(r"^P-(\d+)$")
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Resultat:
    """The next version of a convention and what the avenant (or résiliation) says about it."""

    etat: EtatConvention
    avant: Figures
    apres: Figures
    motif: str
    articles: tuple[str, ...]
    document: str  # "avenant" | "resiliation" | "convention" (a renouvellement: version 1 of a new convention)
    regles: RuleSet  # the rule set of the new state (the renewal's for a renouvellement)


def _invalide(message: str) -> ChangementRefuse:
    return ChangementRefuse(message, code=ErrorCode.CHANGEMENT_INVALIDE)


def _sans_effet(message: str) -> ChangementRefuse:
    return ChangementRefuse(message, code=ErrorCode.CHANGEMENT_SANS_EFFET)


def _dans_la_periode(etat: EtatConvention, day: date, champ: str) -> None:
    if not etat.date_debut <= day <= etat.date_fin:
        raise _invalide(
            f"{champ} : le {date_longue(day)} est hors de la période de la convention "
            f"(du {date_longue(etat.date_debut)} au {date_longue(etat.date_fin)})."
        )


def _postes(ids: list[str] | tuple[str, ...]) -> str:
    return ", ".join(ids)


def _ajout(etat: EtatConvention, c: AjoutPostes) -> tuple[EtatConvention, str, set[str]]:
    _dans_la_periode(etat, c.date_effet, "date_effet")
    highest = max((int(m.group(1)) for p in etat.postes if (m := _POSTE_NUMERO.match(p.id))), default=0)
    added = tuple(
        PosteFinance(id=f"P-{highest + i}", debut=c.date_effet, etat=EtatPoste.VACANT, vacant_depuis=c.date_effet)
        for i in range(1, c.nombre + 1)
    )
    quoi = "d'un poste" if c.nombre == 1 else f"de {c.nombre} postes"
    motif = f"Avenant : ajout {quoi} à compter du {date_longue(c.date_effet)}"
    return replace(etat, postes=etat.postes + added), motif, set(_ARTICLES_POSTES)


def _retrait(etat: EtatConvention, c: RetraitPostes) -> tuple[EtatConvention, str, set[str]]:
    by_id = {p.id: p for p in etat.postes}
    ids = [r.id for r in c.postes]
    if not ids or len(set(ids)) != len(ids):
        raise _invalide("postes : la liste des postes rendus doit être non vide et sans doublon.")
    changed: dict[str, PosteFinance] = {}
    for r in c.postes:
        poste = by_id.get(r.id)
        if poste is None:
            raise _invalide(f"postes : poste « {r.id} » inconnu (postes de la convention : {_postes(list(by_id))}).")
        earliest = poste.debut - ONE_DAY  # the day before the poste's first day: never funded
        if not earliest <= r.date_fin_contrat <= etat.date_fin:
            raise _invalide(
                f"postes : la fin de contrat du poste {r.id} ({date_longue(r.date_fin_contrat)}) doit être comprise "
                f"entre le {date_longue(earliest)} et la fin de la convention ({date_longue(etat.date_fin)})."
            )
        if poste.etat is EtatPoste.RENDU:
            if poste.fin == r.date_fin_contrat:
                continue  # already given back at that date: nothing to change for this poste
            rendu = date_longue(poste.fin) if poste.fin else "une date antérieure"
            raise _invalide(f"postes : le poste {r.id} est déjà rendu (fin au {rendu}).")
        if poste.fin is not None and poste.fin < r.date_fin_contrat:
            raise _invalide(f"postes : le financement du poste {r.id} s'arrête déjà le {date_longue(poste.fin)}.")
        changed[r.id] = replace(poste, fin=r.date_fin_contrat, etat=EtatPoste.RENDU)
    if not changed:
        raise _sans_effet(f"Retrait sans effet : les postes {_postes(ids)} sont déjà rendus à ces dates.")
    dates = {p.id: date_longue(p.fin) for p in changed.values() if p.fin is not None}
    if len(changed) == 1:
        ((poste_id, fin),) = dates.items()
        motif = f"Avenant : restitution du poste {poste_id} au {fin}"
    else:
        liste = ", ".join(f"{k} au {v}" for k, v in dates.items())
        motif = f"Avenant : restitution de {len(changed)} postes ({liste})"
    postes = tuple(changed.get(p.id, p) for p in etat.postes)
    return replace(etat, postes=postes), motif, set(_ARTICLES_POSTES)


def _transfert_sortant(etat: EtatConvention, c: TransfertSortant) -> tuple[EtatConvention, str, set[str]]:
    poste = next((p for p in etat.postes if p.id == c.poste), None)
    if poste is None:
        raise _invalide(f"poste : poste « {c.poste} » inconnu de la convention {etat.convention_id}.")
    if poste.etat is EtatPoste.RENDU:
        raise _invalide(f"poste : le poste {c.poste} est déjà rendu ; il ne peut pas être transféré.")
    _dans_la_periode(etat, c.date, "date")
    if c.date < poste.debut or (poste.fin is not None and c.date > poste.fin):
        raise _invalide(f"date : le poste {c.poste} n'est pas financé le {date_longue(c.date)}.")
    postes = tuple(replace(p, fin=c.date, etat=EtatPoste.RENDU) if p.id == c.poste else p for p in etat.postes)
    motif = f"Avenant : transfert du poste {c.poste} à {c.vers} au {date_longue(c.date + ONE_DAY)}"
    return replace(etat, postes=postes), motif, set(_ARTICLES_POSTES)


def _transfert_entrant(etat: EtatConvention, c: TransfertEntrant) -> tuple[EtatConvention, str, set[str]]:
    _dans_la_periode(etat, c.poste.debut, "date")
    highest = max((int(m.group(1)) for p in etat.postes if (m := _POSTE_NUMERO.match(p.id))), default=0)
    fin = c.poste.fin if c.poste.fin is not None and c.poste.fin < etat.date_fin else None
    poste = replace(c.poste, id=f"P-{highest + 1}", fin=fin)
    if poste.etat is EtatPoste.RENDU:
        raise _invalide("poste : un poste rendu ne peut pas être transféré.")
    motif = (f"Avenant : accueil du poste transféré par {c.depuis} (poste {poste.id}) à compter du "
             f"{date_longue(poste.debut)}")
    return replace(etat, postes=etat.postes + (poste,)), motif, set(_ARTICLES_POSTES)


def _nature(etat: EtatConvention, c: ChangementNature) -> tuple[EtatConvention, str, set[str]]:
    _dans_la_periode(etat, c.date_effet, "date_effet")
    last = max(start for start, _ in etat.natures)
    if c.date_effet < last:  # checked first: « publique from March » would silently undo a July change
        raise _invalide(
            "date_effet : le changement de nature ne peut pas précéder le dernier, en vigueur depuis le "
            f"{date_longue(last)}."
        )
    before = etat.nature_at(c.date_effet)
    if c.nature is before:
        raise _sans_effet(
            f"Changement sans effet : la structure est déjà {_NATURE[before]} au {date_longue(c.date_effet)}."
        )
    natures: list[tuple[date, Nature]] = []
    for start, nature in [*(n for n in sorted(etat.natures) if n[0] < c.date_effet), (c.date_effet, c.nature)]:
        if not natures or natures[-1][1] is not nature:  # a same-day correction may undo the previous change
            natures.append((start, nature))
    motif = (f"Avenant : changement de nature de la structure ({_NATURE[before]} → {_NATURE[c.nature]}) "
             f"à compter du {date_longue(c.date_effet)}")
    articles = {PARTIES, ARTICLE_MONTANT, ARTICLE_VERSEMENT, ANNEXE_ECHEANCIER}
    return replace(etat, natures=tuple(natures)), motif, articles


def _renouvellement(etat: EtatConvention, c: Renouvellement, regles: RuleSet) -> tuple[EtatConvention, str, set[str]]:
    if c.date_debut <= etat.date_fin:  # an overlap would fund the same days twice
        raise _invalide(
            f"date_debut : la nouvelle période doit commencer après le terme de la période en cours, le "
            f"{date_longue(etat.date_fin)} (en général le {date_longue(etat.date_fin + ONE_DAY)})."
        )
    actifs = {p.id: p for p in etat.postes_actifs}
    known = [p.id for p in etat.postes]
    contrats = {k.poste: k for k in c.contrats}
    for poste_id, contrat in contrats.items():
        if poste_id not in known:
            raise _invalide(f"contrats : poste « {poste_id} » inconnu (postes de la convention : {_postes(known)}).")
        if contrat.date_debut > c.date_debut + timedelta(days=183):
            raise _invalide(f"contrats : le contrat du poste {poste_id} commence le {date_longue(contrat.date_debut)}, "
                            "plus de six mois après le début de la nouvelle période.")
        if contrat.date_fin is not None and contrat.date_fin < c.date_debut:
            raise _invalide(f"contrats : le contrat du poste {poste_id} finit le {date_longue(contrat.date_fin)}, "
                            "avant la nouvelle période.")
    # the postes whose contract runs into the new period (CDI, or CDD/PEC ending after its first day)
    timelines = {p.id: chronologie(p, etat.evenements, c.date_debut) for p in actifs.values()}
    courants = {pid: s for pid, t in timelines.items()
                if (s := t.situation(c.date_debut)).occupation is not None and t.transfere_le is None}
    if c.postes is None:
        selected = [actifs[pid] for pid in actifs if pid in courants or pid in contrats]
        if not selected:
            raise _sans_effet(
                "Renouvellement sans effet : aucun poste n'a de contrat en cours au "
                f"{date_longue(c.date_debut)} ; indiquez les recrutements (contrats) des postes à renouveler "
                f"(postes actifs : {_postes(list(actifs)) or 'aucun'}) ou demandez une résiliation naturelle."
            )
    else:
        if not c.postes:
            raise _sans_effet(
                "Renouvellement sans effet : aucun poste indiqué ; demandez plutôt une résiliation naturelle."
            )
        if len(set(c.postes)) != len(c.postes):
            raise _invalide("postes : la liste des postes à renouveler contient un doublon.")
        for poste_id in c.postes:
            if poste_id not in known:
                raise _invalide(
                    f"postes : poste « {poste_id} » inconnu (postes de la convention : {_postes(known)})."
                )
            if poste_id not in actifs:
                raise _invalide(f"postes : le poste {poste_id} a été rendu ; il ne peut pas être renouvelé.")
            if poste_id not in courants and poste_id not in contrats:
                raise _invalide(
                    f"postes : le poste {poste_id} n'a pas de contrat en cours au {date_longue(c.date_debut)} "
                    "(vacant ou contrat terminé) ; il n'est renouvelé qu'avec le contrat de son conseiller "
                    "(contrats : poste, conseiller, type, date_debut, date_fin)."
                )
        missing = sorted(set(contrats) - set(c.postes))
        if missing:
            raise _invalide(f"contrats : les postes {_postes(missing)} ne sont pas dans la liste des postes à renouveler.")
        selected = [actifs[i] for i in c.postes]
    renewed = []
    for p in selected:
        recrutement = contrats.get(p.id)
        if recrutement is not None:
            later = recrutement.date_debut > c.date_debut  # recruited after the first day: vacant until then
            renewed.append(replace(
                p, debut=c.date_debut, fin=None, etat=EtatPoste.VACANT if later else EtatPoste.OCCUPE,
                vacant_depuis=c.date_debut if later else None, conseiller=recrutement.conseiller,
                type_contrat=recrutement.type_contrat, contrat_debut=recrutement.date_debut,
                contrat_fin=recrutement.date_fin,
                source="renouvellement", piece_contrat_attendue=True))
        else:
            renewed.append(reporter(p, courants[p.id], debut=c.date_debut, fin=None, source=Source.RENOUVELLEMENT))
    nature = etat.nature_at(etat.date_fin)
    fin = add_months(c.date_debut, regles.bareme(nature).duree_mois) - ONE_DAY
    postes = tuple(renewed)
    new = replace(
        etat, vague=regles.vague, regles=regles.id, date_debut=c.date_debut, date_fin=fin,
        natures=((c.date_debut, nature),), postes=postes, paiements=(), statut=StatutConvention.ACTIVE,
        date_resiliation=None,
    )
    quoi = "1 poste" if len(postes) == 1 else f"{len(postes)} postes"
    motif = (f"Renouvellement de la convention {etat.convention_id} : période du {date_longue(c.date_debut)} au "
             f"{date_longue(fin)} pour {quoi} ({_postes([p.id for p in postes])})")
    return new, motif, {ARTICLE_DUREE, *_ARTICLES_POSTES}


def _jamais_pourvu(etat: EtatConvention, poste: PosteFinance, fin: date) -> bool:
    """No conseiller held the poste on any day of its funding up to ``fin`` (its timeline: the
    version's facts and the events recorded since). A poste already given back keeps what the avenant
    that gave it back fixed."""
    debut = max(poste.debut, etat.date_debut)
    if poste.etat is EtatPoste.RENDU or fin < debut:
        return False
    if not poste.occupe_au_debut and poste.vacant_depuis is not None and poste.vacant_depuis > debut:
        return False  # its version says it fell vacant after its first funded day: someone held it before
    timeline = chronologie(poste, etat.evenements, fin)
    return not any(o.debut <= fin and (o.fin is None or o.fin >= debut) for o in timeline.occupations)


def _sans_titulaire(etat: EtatConvention, postes: list[PosteFinance]) -> list[PosteFinance]:
    """A résiliation settles the balance: a poste vacant throughout its funded period is owed nothing
    (its funding ends the day before its first day, like a poste given back before it began), so what
    was paid for it is to be repaid."""
    result = []
    for p in postes:
        last = min(p.fin or etat.date_fin, etat.date_fin)
        if _jamais_pourvu(etat, p, last):
            p = replace(p, fin=p.debut - ONE_DAY)
        result.append(p)
    return result


def _resiliation(etat: EtatConvention, c: Resiliation) -> tuple[EtatConvention, str, set[str]]:
    if c.motif is MotifResiliation.NATURELLE:
        if c.date_effet is not None and c.date_effet != etat.date_fin:
            raise _invalide(
                f"date_effet : une résiliation naturelle prend effet au terme de la convention, le "
                f"{date_longue(etat.date_fin)} (reçu : {date_longue(c.date_effet)})."
            )
        postes = tuple(_sans_titulaire(etat, list(etat.postes)))
        new = replace(etat, postes=postes, statut=StatutConvention.TERMINEE, date_resiliation=etat.date_fin)
        motif = f"Fin de la convention à son terme, le {date_longue(etat.date_fin)}, sans renouvellement"
        articles = {ARTICLE_VERSEMENT, ARTICLE_RESILIATION, ANNEXE_ECHEANCIER}
        return new, motif, articles | ({ARTICLE_MONTANT} if postes != etat.postes else set())
    if c.date_effet is None:
        raise _invalide(f"date_effet : obligatoire pour une résiliation {c.motif.value}.")
    _dans_la_periode(etat, c.date_effet, "date_effet")
    integrale = c.motif is MotifResiliation.INTEGRALE
    bornes: list[PosteFinance] = []
    for p in etat.postes:  # nothing is funded after the résiliation, whatever the poste's state
        fin = p.fin
        if c.date_effet < (p.fin if p.fin is not None else etat.date_fin):
            fin = max(c.date_effet, p.debut - ONE_DAY)
        bornes.append(replace(p, fin=fin))
    finals = tuple(replace(p, etat=EtatPoste.RENDU) if integrale else p for p in _sans_titulaire(etat, bornes))
    new = replace(etat, postes=finals, statut=StatutConvention.RESILIEE, date_resiliation=c.date_effet)
    if integrale:
        motif = (f"Résiliation intégrale de la convention au {date_longue(c.date_effet)}, "
                 "avec restitution de tous les postes")
    else:
        motif = f"Résiliation anticipée de la convention au {date_longue(c.date_effet)}"
    articles = {ARTICLE_DUREE, ARTICLE_MONTANT, ARTICLE_VERSEMENT, ARTICLE_RESILIATION, ANNEXE_ECHEANCIER}
    return new, motif, articles | ({ANNEXE_POSTES} if integrale else set())


def _dus(f: Figures) -> list[Decimal]:
    return [a.du for a in f.annees]


def _reemission(etat: EtatConvention, c: Reemission, regles: RuleSet, nouvelles: RuleSet | None, *, corrige: bool
                ) -> tuple[EtatConvention, str, set[str]]:
    """Another barème of the vague; or the same one, whose amounts were corrected since the version was
    issued (``corrige``); or the current templates only (amounts unchanged)."""
    if nouvelles is not None and nouvelles.id != regles.id:
        if nouvelles.vague != regles.vague:
            raise _invalide(f"Les règles « {nouvelles.id} » sont celles de la vague {nouvelles.vague}, la convention "
                            f"relève de la vague {regles.vague}.")
        new = replace(etat, regles=nouvelles.id)
        motif = f"Réémission de la convention selon les règles « {nouvelles.libelle} »"
        articles = {ARTICLE_MONTANT, ARTICLE_VERSEMENT, ANNEXE_ECHEANCIER}
        if c.modele is not None:
            motif += f" et le modèle de convention version {c.modele}"
        return new, motif, articles
    if corrige:
        motif = (f"Réémission de la convention : montants recalculés selon les règles « {regles.libelle} » "
                 "telles que corrigées depuis la version précédente")
        if c.modele is not None:
            return etat, motif + f", et selon le modèle de convention version {c.modele}", set(_ORDER)
        return etat, motif, {ARTICLE_MONTANT, ARTICLE_VERSEMENT, ANNEXE_ECHEANCIER}
    if c.modele is None:
        raise _sans_effet(f"La convention suit déjà les règles « {regles.id} », dont les montants sont ceux de sa "
                          "version courante : rien à réémettre.")
    return etat, f"Réémission de la convention selon le modèle version {c.modele}, montants inchangés", set(_ORDER)


def verifier_base(etat: EtatConvention, changement: Changement) -> None:
    """What refuses a change before any computation: a closed convention, a request founded on a
    superseded version. The HTTP API asks it at submission; ``appliquer`` asks it again."""
    if etat.statut is not StatutConvention.ACTIVE:
        closed = date_longue(etat.date_resiliation) if etat.date_resiliation else "une date antérieure"
        raise ChangementRefuse(
            f"La convention {etat.convention_id} est close (statut {etat.statut.value}, le {closed}) : "
            "elle ne peut plus être modifiée.", code=ErrorCode.CONVENTION_CLOSE,
        )
    if changement.version is not None and changement.version != etat.version:
        raise ChangementRefuse(
            f"La modification porte sur la version {changement.version} de la convention {etat.convention_id}, "
            f"dont la version courante est la {etat.version} : relisez-la et renvoyez la demande.",
            code=ErrorCode.VERSION_PERIMEE,
        )


def appliquer(
    etat: EtatConvention, changement: Changement, regles: RuleSet, *, regles_renouvellement: RuleSet | None = None,
    regles_reemission: RuleSet | None = None, renouvellement_id: str | None = None, emises: Figures | None = None,
) -> Resultat:
    """The next version of ``etat`` after ``changement`` (version + 1), with figures before and after.

    ``regles`` funds ``etat``'s period; ``regles_renouvellement`` (vague 2) is needed for a
    renouvellement only and funds the new period; ``regles_reemission`` is the rule set a
    réémission moves the convention to (None: the same, only the text is issued again).

    A renouvellement is a new convention, not a version of this one: its result is version 1 of
    convention ``renouvellement_id`` (document ``convention``), ``avant`` the figures of the period
    it follows (whose balance is settled under that convention, never mixed into the new amounts).

    ``emises``: the figures ``etat``'s version stated when it was issued (None: unknown, recomputed).
    ``avant`` shows those, the amounts signed: when the rules were corrected since (a barème fixed in
    place), the change shows in the new version's amounts, and a réémission under the same rules
    issues the corrected amounts (refused as without effect when they are the same).
    """
    verifier_base(etat, changement)
    recalcul = figures(etat, regles)
    avant = (figures_emises(emises, etat) if emises is not None else None) or recalcul
    regles_apres = regles
    nouvel_id: str | None = None
    if isinstance(changement, AjoutPostes):
        new, motif, articles = _ajout(etat, changement)
    elif isinstance(changement, RetraitPostes):
        new, motif, articles = _retrait(etat, changement)
    elif isinstance(changement, ChangementNature):
        new, motif, articles = _nature(etat, changement)
    elif isinstance(changement, TransfertSortant):
        new, motif, articles = _transfert_sortant(etat, changement)
    elif isinstance(changement, TransfertEntrant):
        new, motif, articles = _transfert_entrant(etat, changement)
    elif isinstance(changement, Renouvellement):
        if regles_renouvellement is None:
            raise RulesError("un renouvellement nécessite le jeu de règles de la nouvelle période (vague 2)",
                             code=ErrorCode.REGLES_INTROUVABLES)
        if not renouvellement_id or renouvellement_id == etat.convention_id:
            raise ValueError("un renouvellement est une nouvelle convention : son identifiant est requis")
        new, motif, articles = _renouvellement(etat, changement, regles_renouvellement)
        regles_apres, nouvel_id = regles_renouvellement, renouvellement_id
    elif isinstance(changement, Resiliation):
        new, motif, articles = _resiliation(etat, changement)
    elif isinstance(changement, Reemission):
        new, motif, articles = _reemission(etat, changement, regles, regles_reemission,
                                           corrige=_dus(avant) != _dus(recalcul))
        regles_apres = regles_reemission or regles
    else:
        raise TypeError(f"changement inconnu : {type(changement).__name__}")
    if new == etat and not isinstance(changement, Reemission):  # safety net: each branch refuses its own no-ops
        raise _sans_effet("Modification sans effet : la convention resterait inchangée.")
    if nouvel_id is not None:  # a renouvellement: version 1 of the new convention
        new = replace(new, convention_id=nouvel_id, version=1, evenements=())
    else:
        new = replace(new, version=etat.version + 1)
    apres = figures(new, regles_apres)
    if apres.total_a_reverser > 0:
        articles = articles | {ARTICLE_REVERSEMENT}
    document = ("resiliation" if isinstance(changement, Resiliation)
                else "convention" if isinstance(changement, Renouvellement) else "avenant")
    return Resultat(
        etat=new, avant=avant, apres=apres, motif=motif, articles=tuple(a for a in _ORDER if a in articles),
        document=document, regles=regles_apres,
    )
