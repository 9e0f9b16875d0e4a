"""JSON forms of a convention's state and figures (what the catalog stores with each version).

Dates are ISO strings, amounts decimal strings to the cent (``"3082.19"``): the JSON is exact and
readable by anyone checking a version by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from dossiers.domain.etat import AnneeFigures, EtatConvention, Figures, Paiement, PosteFinance, StatutConvention
from dossiers.domain.model import EtatPoste, Lieu, Nature, TypeContrat

__all__ = ["etat_to_json", "etat_from_json", "figures_to_json", "figures_from_json", "amount_json"]

CENT = Decimal("0.01")


def amount_json(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _from_day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _lieu_json(lieu: Lieu | None) -> dict[str, Any] | None:
    return {"commune": lieu.commune, "qpv": lieu.qpv, "zrr": lieu.zrr} if lieu is not None else None


def _lieu_from_json(data: dict[str, Any] | None) -> Lieu | None:
    return Lieu(data["commune"], bool(data["qpv"]), bool(data["zrr"])) if data else None


def etat_to_json(etat: EtatConvention) -> dict[str, Any]:
    return {
        "convention_id": etat.convention_id, "version": etat.version, "vague": etat.vague, "regles": etat.regles,
        "date_debut": etat.date_debut.isoformat(), "date_fin": etat.date_fin.isoformat(),
        "natures": [[start.isoformat(), str(nature)] for start, nature in etat.natures],
        "zone_prioritaire": etat.zone_prioritaire,
        "postes": [
            {"id": p.id, "debut": p.debut.isoformat(), "fin": _day(p.fin), "etat": str(p.etat),
             "vacant_depuis": _day(p.vacant_depuis), "type_contrat": str(p.type_contrat) if p.type_contrat else None,
             "conseiller": p.conseiller, "contrat_debut": _day(p.contrat_debut), "contrat_fin": _day(p.contrat_fin),
             "source": p.source, "piece_contrat_attendue": p.piece_contrat_attendue,
             "lieu": _lieu_json(p.lieu)}
            for p in etat.postes
        ],
        "paiements": [{"annee": p.annee, "date": p.date.isoformat(), "montant": amount_json(p.montant)}
                      for p in etat.paiements],
        "statut": str(etat.statut), "date_resiliation": _day(etat.date_resiliation),
        **({"departement": etat.departement} if etat.departement is not None else {}),
    }


def etat_from_json(data: dict[str, Any]) -> EtatConvention:
    return EtatConvention(
        convention_id=data["convention_id"], version=int(data["version"]), vague=int(data["vague"]),
        regles=data["regles"], date_debut=date.fromisoformat(data["date_debut"]),
        date_fin=date.fromisoformat(data["date_fin"]),
        natures=tuple((date.fromisoformat(start), Nature(nature)) for start, nature in data["natures"]),
        zone_prioritaire=bool(data["zone_prioritaire"]),
        postes=tuple(
            PosteFinance(
                id=p["id"], debut=date.fromisoformat(p["debut"]), fin=_from_day(p["fin"]), etat=EtatPoste(p["etat"]),
                vacant_depuis=_from_day(p["vacant_depuis"]),
                type_contrat=TypeContrat(p["type_contrat"]) if p["type_contrat"] else None, conseiller=p["conseiller"],
                contrat_debut=_from_day(p.get("contrat_debut")), contrat_fin=_from_day(p.get("contrat_fin")),
                source=p.get("source", "demande"), piece_contrat_attendue=bool(p.get("piece_contrat_attendue")),
                # a state stored before the bonus was per poste has no lieu: the structure's flag decides
                lieu=_lieu_from_json(p.get("lieu")),
            )
            for p in data["postes"]
        ),
        paiements=tuple(Paiement(int(p["annee"]), date.fromisoformat(p["date"]), Decimal(p["montant"]))
                        for p in data["paiements"]),
        statut=StatutConvention(data["statut"]), date_resiliation=_from_day(data["date_resiliation"]),
        departement=data.get("departement"),
    )


def figures_to_json(figures: Figures) -> list[dict[str, Any]]:
    return [
        {"annee": a.annee, "debut": a.debut.isoformat(), "fin": a.fin.isoformat(), "du": amount_json(a.du),
         "verse": amount_json(a.verse), "a_reverser": amount_json(a.a_reverser),
         "reste_a_verser": amount_json(a.reste_a_verser)}
        for a in figures.annees
    ]


def figures_from_json(items: list[dict[str, Any]]) -> Figures:
    return Figures(tuple(
        AnneeFigures(int(a["annee"]), date.fromisoformat(a["debut"]), date.fromisoformat(a["fin"]), Decimal(a["du"]),
                     Decimal(a["verse"]), Decimal(a["a_reverser"]), Decimal(a["reste_a_verser"]))
        for a in items
    ))
