"""Use case: the financial situation of a convention, in one place.

Per convention year and in total: what is due (the amounts the current version states), what was paid
(every payment recorded for the period, with its date), what is still to pay and what must be repaid
(versé − dû when positive: the trop-perçu). Beside it, the history of each figure by version — what
each version stated when it was issued — so an instructeur sees where a trop-perçu comes from (an
avenant that gave a poste back after a year was paid). Amounts are the catalog's, never recomputed
from today's rules.

Also: the other structures recorded with the same SIRET (a structure entered twice under two ids
would be funded twice), as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from dossiers.domain.echeancier import figures, figures_emises
from dossiers.domain.etat import Figures, Paiement
from dossiers.domain.formatting import montant, montant_json
from dossiers.domain.model import ConventionVersion
from dossiers.ports import AppPorts

__all__ = ["Versement", "Situation", "situation", "avertissements_homonymes"]


@dataclass(frozen=True)
class Versement:
    paiement: Paiement
    motif: str | None  # why it was recorded above what was due (``--force``)
    enregistre_le: datetime


@dataclass(frozen=True)
class Situation:
    convention_id: str
    version: ConventionVersion  # the current one: its amounts are what is due
    figures: Figures  # due (current version), paid (every payment), still to pay, to repay
    versements: list[Versement]
    historique: list[tuple[ConventionVersion, Figures]]  # what each version stated when issued
    avertissements: list[str]

    def to_dict(self) -> dict[str, Any]:
        f = self.figures

        def annees(fig: Figures) -> list[dict[str, Any]]:
            return [{"annee": a.annee, "debut": a.debut.isoformat(), "fin": a.fin.isoformat(),
                     "du_eur": montant_json(a.du), "verse_eur": montant_json(a.verse),
                     "reste_a_verser_eur": montant_json(a.reste_a_verser), "a_reverser_eur": montant_json(a.a_reverser)}
                    for a in fig.annees]

        return {
            "convention_id": self.convention_id, "version": self.version.numero, "annees": annees(f),
            "total": {"du_eur": montant_json(f.total_du), "verse_eur": montant_json(f.total_verse),
                      "reste_a_verser_eur": montant_json(f.total_reste_a_verser),
                      "a_reverser_eur": montant_json(f.total_a_reverser)},
            "versements": [{"annee": v.paiement.annee, "date": v.paiement.date.isoformat(),
                            "montant_eur": montant_json(v.paiement.montant), "motif": v.motif,
                            "enregistre_le": v.enregistre_le.isoformat()} for v in self.versements],
            "historique": [{"version": v.numero, "document": v.document_type, "motif": v.motif,
                            "date": v.created_at.isoformat(), "annees": annees(fig),
                            "total_du_eur": montant_json(fig.total_du)} for v, fig in self.historique],
            "avertissements": self.avertissements,
        }


def avertissements_homonymes(app: AppPorts, structure_id: str, siret: str) -> list[str]:
    """A warning for each other structure recorded with this SIRET (it would be funded twice)."""
    return [f"le SIRET {siret} est aussi celui de la structure {i} « {nom} » (département {dep}) : vérifiez qu'il ne "
            "s'agit pas de la même structure enregistrée deux fois (elle serait financée deux fois)"
            for i, nom, dep in app.catalog.structures_meme_siret(siret, sauf=structure_id)]


def due_figures(app: AppPorts, convention_id: str) -> tuple[Any, Figures]:
    """(current state, figures): the current version's amounts with every payment recorded for its period."""
    from dossiers.services.avenants import etat_courant, version_figures

    courant = etat_courant(convention_id, app)
    stated = figures_emises(version_figures(convention_id, courant.version, app), courant.etat)
    if stated is None:  # a version recorded before its figures were: as its rules give them
        stated = figures(courant.etat, app.rules.get(courant.etat.regles))
    return courant, stated


def situation(convention_id: str, app: AppPorts) -> Situation:
    from dossiers.services.avenants import history, structure_de

    courant, fig = due_figures(app, convention_id)
    versements = [Versement(p, motif, at) for p, motif, at in
                  app.catalog.paiements_enregistres(convention_id, courant.etat.date_debut)]
    structure = structure_de(app, courant.convention)
    warnings = avertissements_homonymes(app, structure.id, structure.siret)
    surplus = [v for v in versements if v.motif]
    if surplus:
        warnings.append("versement(s) enregistré(s) au-delà du dû : " + " ; ".join(
            f"{montant(v.paiement.montant)} le {v.paiement.date:%d/%m/%Y} (année {v.paiement.annee}) : {v.motif}"
            for v in surplus))
    return Situation(convention_id, courant.version, fig, versements,
                     sorted(history(convention_id, app), key=lambda vf: vf[0].numero), warnings)


def depassement(fig: Figures, annee: int, montant_verse: Decimal) -> Decimal:
    """By how much a new payment of ``montant_verse`` for ``annee`` would exceed what that year is due
    (zero when it does not)."""
    year = next(a for a in fig.annees if a.annee == annee)
    return max(Decimal("0.00"), year.verse + montant_verse - year.du)
