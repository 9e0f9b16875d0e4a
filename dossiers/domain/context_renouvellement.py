"""The convention a renouvellement issues: version 1 of a new convention, with what it renews.

A renewal is a new convention (the help centre: at the end of its period a structure « est éligible
à une nouvelle convention de 36 mois »), issued from the renewed state rather than from a demande:
``demande_renouvellement`` restates that state as the demande it amounts to (the structure, the new
period, its postes with their conseiller and contract), so the document is the convention model with
the same computation (``calculer``) as any first version, and ``renouvellement_context`` adds what
differs: the convention renewed and its period (instead of the comité de sélection's decision, which
did not examine a renewal) and the closed period's balance, stated beside the amounts, never in them.

Keys added to ``dossiers.domain.context.convention_context`` (None for a convention from a demande)::

    renouvellement.convention_id       "CN-V1-STR-000007": the convention renewed
    renouvellement.periode             "du 1er juin 2021 au 31 mai 2023": its period
    renouvellement.solde               the sentence stating its balance on the issue date
    renouvellement.contrats_attendus   postes whose first tranche awaits the contract given with the
                                       renewal ("P-1 (Léa Roux, contrat à compter du …)"), or ""
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dossiers.domain.context import convention_context
from dossiers.domain.etat import EtatConvention, Figures, PosteFinance
from dossiers.domain.formatting import date_longue, montant, montant_en_lettres
from dossiers.domain.model import Conseiller, Contrat, Demande, EtatPoste, Poste, Structure
from dossiers.domain.rules import RuleSet, calculer

__all__ = ["demande_renouvellement", "renouvellement_context"]


def _poste(p: PosteFinance) -> Poste:
    if p.etat is EtatPoste.OCCUPE and p.conseiller and p.type_contrat is not None:
        prenom, _, nom = p.conseiller.partition(" ")
        contrat = Contrat(p.type_contrat, p.contrat_debut or p.debut, p.contrat_fin)
        return Poste(p.id, EtatPoste.OCCUPE, Conseiller(prenom, nom or prenom), contrat, lieu=p.lieu)
    return Poste(p.id, EtatPoste.VACANT, vacant_depuis=p.vacant_depuis or p.debut, lieu=p.lieu)


def demande_renouvellement(structure: Structure, etat: EtatConvention) -> Demande:
    """The demande a renewed state amounts to: its structure (nature at the new start), period, postes."""
    return Demande(structure=structure, vague=etat.vague, date_debut=etat.date_debut,
                   nombre_postes=len(etat.postes), postes=tuple(_poste(p) for p in etat.postes))


def _phrase(figures: Figures, date_edition: date) -> str:
    sens, amount = figures.solde
    when = f"À la date d’émission de la présente convention, le {date_longue(date_edition)}"
    if sens == "reverser":
        return (f"{when}, ce solde s’établit à {montant(amount)} ({montant_en_lettres(amount)}) à reverser par "
                "la Structure, au vu des versements enregistrés.")
    if sens == "verser":
        return (f"{when}, ce solde s’établit à {montant(amount)} ({montant_en_lettres(amount)}) restant à verser "
                "par la CDC, au vu des versements enregistrés.")
    return f"{when}, ce solde est nul au vu des versements enregistrés."


def renouvellement_context(
    structure: Structure, etat: EtatConvention, regles: RuleSet, *, renouvelee: EtatConvention,
    figures_renouvelee: Figures, modele_version: str, date_edition: date,
) -> dict[str, Any]:
    """Context of ``templates/convention.docx`` for the convention a renouvellement issues (``etat``,
    version 1) renewing ``renouvelee`` whose figures are ``figures_renouvelee``."""
    demande = demande_renouvellement(structure, etat)
    context = convention_context(demande, calculer(demande, regles), regles, convention_id=etat.convention_id,
                                 version=1, modele_version=modele_version, date_edition=date_edition)
    context["renouvellement"] = {
        "convention_id": renouvelee.convention_id,
        "periode": f"du {date_longue(renouvelee.date_debut)} au {date_longue(renouvelee.date_fin)}",
        "solde": _phrase(figures_renouvelee, date_edition),
        "contrats_attendus": " ; ".join(
            f"{p.id} ({p.conseiller}, contrat à compter du {date_longue(p.contrat_debut)})"
            for p in etat.postes if p.piece_contrat_attendue and p.contrat_debut),
    }
    return context
