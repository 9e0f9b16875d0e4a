"""The template context: what a convention document says, as pre-formatted French strings.

Templates only print; every figure and every date is formatted here so that the DOCX, the JSON
output and the tests agree. The keys are the contract with ``templates/manifest.toml``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from dossiers.domain.formatting import (
    date_longue,
    en_lettres,
    montant,
    montant_en_lettres,
    siret_lisible,
)
from dossiers.domain.model import Calcul, Demande, EtatPoste, Nature, Poste, Structure, TypeContrat
from dossiers.domain.rules import RuleSet

__all__ = ["convention_context", "structure_context", "representant_context", "echeance", "NATURE_LIBELLES"]

_ORDINAUX = ("première", "deuxième", "troisième", "quatrième", "cinquième", "sixième")
_CONTRATS = {
    TypeContrat.CDI: "CDI",
    TypeContrat.CDD: "CDD",
    TypeContrat.PEC: "PEC",
    TypeContrat.CONTRAT_DE_PROJET: "contrat de projet",
}
DASH = "—"


def _lieu(poste: Poste, bonifie: bool) -> str:
    """The annex's word on a poste's lieu de permanence, and whether it carries the bonification."""
    if poste.lieu is None:
        return ""
    zones = " et ".join(z for z, on in (("QPV", poste.lieu.qpv), ("ZRR", poste.lieu.zrr)) if on)
    if not zones:
        return f"lieu de permanence : commune {poste.lieu.commune}"
    suffix = " : bonification" if bonifie else ""
    return f"lieu de permanence en {zones} (commune {poste.lieu.commune}){suffix}"


def _poste(numero: int, poste: Poste, bonifie: bool = False) -> dict[str, str]:
    conseiller = f"{poste.conseiller.prenom} {poste.conseiller.nom}" if poste.conseiller else DASH
    contrat = DASH
    if poste.contrat:
        kind = _CONTRATS[poste.contrat.type]
        if poste.contrat.date_fin:
            contrat = f"{kind} du {date_longue(poste.contrat.date_debut)} au {date_longue(poste.contrat.date_fin)}"
        else:
            contrat = f"{kind} à compter du {date_longue(poste.contrat.date_debut)}"
    observation = ""
    if poste.etat is EtatPoste.VACANT:
        observation = f"vacant depuis le {date_longue(poste.vacant_depuis)}" if poste.vacant_depuis else "à pourvoir"
    observation = " ; ".join(o for o in (observation, _lieu(poste, bonifie)) if o)
    return {
        "numero": str(numero),
        "id": poste.id,
        "etat": {EtatPoste.OCCUPE: "occupé", EtatPoste.VACANT: "vacant", EtatPoste.RENDU: "rendu"}[poste.etat],
        "conseiller": conseiller,
        "contrat": contrat,
        "observation": observation,
    }


def echeance(jour: date, date_edition: date, *, reste: bool = True) -> str:
    """What the échéancier says of a tranche due on ``jour`` in a document issued on ``date_edition``:
    the date itself when still ahead; once passed, « payable à la signature » with the date it was
    initially due (a document issued long after the period began never promises a date in the past).
    ``reste``: something is still to pay for it; when not (paid in full), « échue le … »."""
    if jour >= date_edition:
        return date_longue(jour)
    if not reste:
        return f"échue le {date_longue(jour)}"
    return f"payable à la signature (échéance initiale : {date_longue(jour)})"


NATURE_LIBELLES = {Nature.PUBLIQUE: "personne morale de droit public", Nature.PRIVEE: "personne morale de droit privé"}


def structure_context(s: Structure) -> dict[str, Any]:
    """The structure as every document names it (the parties' clause)."""
    return {
        "id": s.id,
        "denomination": s.denomination,
        "siret": siret_lisible(s.siret),
        "siren": s.siren,
        "categorie_juridique": s.categorie_juridique,
        "departement": s.departement,
        "adresse": s.adresse,
        "est_publique": s.nature is Nature.PUBLIQUE,
        "zone_prioritaire": s.zone_prioritaire,
        "nature_libelle": NATURE_LIBELLES[s.nature],
    }


def representant_context(s: Structure) -> dict[str, str]:
    r = s.representant
    return {
        "civilite": r.civilite,
        "prenom": r.prenom,
        "nom": r.nom,
        "qualite": r.qualite,
        "nom_complet": f"{r.civilite} {r.prenom} {r.nom}",
    }


def convention_context(
    demande: Demande,
    calcul: Calcul,
    regles: RuleSet,
    *,
    convention_id: str,
    version: int,
    modele_version: str,
    date_edition: date,
) -> dict[str, Any]:
    s = demande.structure
    return {
        "convention": {
            "id": convention_id,
            "version": version,
            "vague": demande.vague,
            "vague_libelle": regles.libelle,
            "regles": regles.id,
            "date_debut": date_longue(calcul.date_debut),
            "date_fin": date_longue(calcul.date_fin),
            "duree_mois": str(calcul.duree_mois),
            "duree_lettres": en_lettres(calcul.duree_mois),
            "nombre_postes": str(calcul.nombre_postes),
            "nombre_postes_lettres": en_lettres(calcul.nombre_postes),
            "date_edition": date_longue(date_edition),
            "modele_version": modele_version,
        },
        "structure": structure_context(s),
        "representant": representant_context(s),
        # dossiers.domain.context_renouvellement fills it for a renewal (convention_id "": not one)
        "renouvellement": {"convention_id": "", "periode": "", "solde": "", "contrats_attendus": ""},
        "regles": {"delai_reversement": regles.delai_reversement_libelle()},
        "postes": [_poste(n, p, calcul.bonification and demande.en_zone_prioritaire(p))
                   for n, p in enumerate(demande.postes, start=1)],
        "postes_a_pourvoir": demande.nombre_postes - len(demande.postes),
        "montants": {
            "total": montant(calcul.total),
            "total_lettres": montant_en_lettres(calcul.total),
            "par_poste": montant(calcul.par_poste),
            "base_par_poste": montant(calcul.base_par_poste),
            "bonification": calcul.bonification,
            "bonification_total": montant(calcul.bonification_totale),
            "bonification_par_poste": montant(sum((a.bonification_par_poste for a in calcul.annees), Decimal("0.00"))),
            # some postes only carry it (per lieu de permanence): the document names how many, and
            # annex 1 which ones
            "bonification_partielle": 0 < calcul.postes_bonifies < calcul.nombre_postes,
            "postes_bonifies": str(calcul.postes_bonifies),
            "postes_bonifies_lettres": en_lettres(calcul.postes_bonifies),
            "annees": [
                {
                    "annee": str(a.annee),
                    "periode": f"du {date_longue(a.debut)} au {date_longue(a.fin)}",
                    "base_par_poste": montant(a.base_par_poste),
                    "bonification_par_poste": montant(a.bonification_par_poste),
                    "par_poste": montant(a.par_poste),
                    "total": montant(a.total),
                }
                for a in calcul.annees
            ],
        },
        "echeancier": [
            {
                "numero": str(t.numero),
                "libelle": f"{_ORDINAUX[t.numero - 1]} tranche" if t.numero <= len(_ORDINAUX) else f"tranche {t.numero}",
                "date": date_longue(t.date),
                "echue": t.date < date_edition,
                "echeance": echeance(t.date, date_edition),
                "montant": montant(t.montant),
            }
            for t in calcul.echeancier
        ],
    }
