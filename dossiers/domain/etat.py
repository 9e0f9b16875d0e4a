"""The state of a convention over its life: funded postes, nature over time, payments, and the
change requests (avenants, renouvellement, résiliation) that produce its next version.

Pure values, no I/O. A version of a convention is an ``EtatConvention`` frozen at issue time; the
next version is ``appliquer(etat, change, …)`` (``dossiers.domain.avenants``). The figures of a state
(per convention year: due, paid, to repay) come from ``dossiers.domain.echeancier.figures``.

Computation conventions (README, "Conventions de calcul"):

- a poste is funded from ``PosteFinance.debut`` to ``PosteFinance.fin`` inclusive (``fin`` None: to
  the end of the period);
- for each convention year, a poste funded the whole year gets that year's amount (base, plus the
  bonification when the structure is public, the poste's lieu de permanence in a QPV or a ZRR, or
  the structure's deprecated flag set, and the rule set has one), for the nature in force; a part of a year gets the amount pro rata temporis by days over that convention
  year (actual days, 365 or 366), each nature's share computed exactly, the poste's year then
  rounded to the cent half up;
- what is due for a year is the sum over postes; what was paid is the sum of the payments recorded
  for that year; ``a_reverser`` = max(0, paid − due) (trop-perçu); ``reste_a_verser`` = max(0, due − paid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from dossiers.domain.model import Derogation, EtatPoste, Lieu, Nature, TypeContrat

if TYPE_CHECKING:
    from dossiers.domain.postes import EvenementPoste

__all__ = [
    "StatutConvention", "PosteFinance", "Paiement", "EtatConvention", "AnneeFigures", "Figures",
    "TypeChangement", "MotifResiliation", "AjoutPostes", "RetraitPoste", "RetraitPostes", "ChangementNature",
    "Renouvellement", "ContratRenouvele", "TransfertSortant", "TransfertEntrant", "Resiliation", "Changement",
]


class StatutConvention(StrEnum):
    ACTIVE = "active"
    RESILIEE = "resiliee"  # ended early (anticipée or intégrale)
    TERMINEE = "terminee"  # ended at term (naturelle)


@dataclass(frozen=True)
class PosteFinance:
    """A funded poste. ``fin`` is the last funded day (a contract's end date for a poste given back)."""

    id: str
    debut: date
    fin: date | None = None
    etat: EtatPoste = EtatPoste.OCCUPE
    vacant_depuis: date | None = None
    type_contrat: TypeContrat | None = None
    conseiller: str | None = None  # "Prénom Nom", for the documents
    contrat_debut: date | None = None  # the contract known when the version was issued
    contrat_fin: date | None = None  # its planned end (None: CDI, or not stated)
    source: str = "demande"  # where these facts come from (dossiers.domain.postes.Source)
    piece_contrat_attendue: bool = False  # renewed on a contract whose piece is still to come
    # its lieu de permanence (the demande's postes[].lieu): in a QPV or a ZRR, the poste carries the
    # bonification; None when not known (a poste added, transferred here, or from an older demande),
    # which only the structure's flag can put in a priority zone
    lieu: Lieu | None = None

    @property
    def zone_prioritaire(self) -> bool:
        return self.lieu is not None and self.lieu.zone_prioritaire

    @property
    def occupe_au_debut(self) -> bool:
        """Whether the facts of the version say a conseiller held the poste (kept when it is given back)."""
        return self.etat is EtatPoste.OCCUPE or (self.etat is EtatPoste.RENDU and self.type_contrat is not None)


@dataclass(frozen=True)
class Paiement:
    """A payment the CDC made for convention year ``annee`` of the current period."""

    annee: int
    date: date
    montant: Decimal


@dataclass(frozen=True)
class EtatConvention:
    """A convention as one version states it.

    ``natures``: the nature in force from each date, sorted, the first at ``date_debut``.
    ``regles``: id of the rule set whose amounts fund this period (``vague-2``…).
    """

    convention_id: str
    version: int
    vague: int
    regles: str
    date_debut: date
    date_fin: date  # last day of the period
    natures: tuple[tuple[date, Nature], ...]
    # the structure-level flag (deprecated demandes, and every state stored before the bonus was
    # per poste): every poste of the convention is in a priority zone
    zone_prioritaire: bool
    postes: tuple[PosteFinance, ...]
    paiements: tuple[Paiement, ...] = ()
    statut: StatutConvention = StatutConvention.ACTIVE
    date_resiliation: date | None = None
    # the postes' events recorded since (dossiers.domain.postes): facts, like payments, held by the
    # catalog beside the versions and attached when the state is read
    evenements: tuple[EvenementPoste, ...] = ()
    # the structure's département: outre-mer (971–976) amounts carry the rule set's majoration; None in
    # states recorded before it was kept (all in métropole: conum refused outre-mer without a majoration)
    departement: str | None = None

    def nature_at(self, day: date) -> Nature:
        current = self.natures[0][1]
        for start, nature in self.natures:
            if start <= day:
                current = nature
        return current

    def en_zone_prioritaire(self, poste: PosteFinance) -> bool:
        """Whether the poste's lieu is in a QPV or a ZRR (the structure's flag puts every poste there)."""
        return self.zone_prioritaire or poste.zone_prioritaire

    @property
    def postes_actifs(self) -> tuple[PosteFinance, ...]:
        return tuple(p for p in self.postes if p.etat is not EtatPoste.RENDU)


@dataclass(frozen=True)
class AnneeFigures:
    annee: int
    debut: date
    fin: date
    du: Decimal
    verse: Decimal
    a_reverser: Decimal
    reste_a_verser: Decimal


@dataclass(frozen=True)
class Figures:
    annees: tuple[AnneeFigures, ...]

    @property
    def total_du(self) -> Decimal:
        return sum((a.du for a in self.annees), Decimal("0.00"))

    @property
    def total_verse(self) -> Decimal:
        return sum((a.verse for a in self.annees), Decimal("0.00"))

    @property
    def total_a_reverser(self) -> Decimal:
        return sum((a.a_reverser for a in self.annees), Decimal("0.00"))

    @property
    def total_reste_a_verser(self) -> Decimal:
        return sum((a.reste_a_verser for a in self.annees), Decimal("0.00"))

    @property
    def solde(self) -> tuple[str, Decimal]:
        """The net of à reverser − reste à verser: ("reverser" | "verser" | "nul", its absolute value)."""
        net = self.total_a_reverser - self.total_reste_a_verser
        return ("reverser" if net > 0 else "verser" if net < 0 else "nul"), abs(net)


# -- change requests (the JSON a portal sends; parsed by dossiers.domain.changements) -------------


class TypeChangement(StrEnum):
    AJOUT_POSTES = "ajout_postes"
    RETRAIT_POSTES = "retrait_postes"
    CHANGEMENT_NATURE = "changement_nature"
    RENOUVELLEMENT = "renouvellement"
    RESILIATION = "resiliation"
    REEMISSION = "reemission"
    TRANSFERT_SORTANT = "transfert_sortant"
    TRANSFERT_ENTRANT = "transfert_entrant"


class MotifResiliation(StrEnum):
    ANTICIPEE = "anticipee"
    NATURELLE = "naturelle"
    INTEGRALE = "integrale"


@dataclass(frozen=True)
class AjoutPostes:
    request_id: str
    date_effet: date
    nombre: int
    version: int | None = None  # the version the request is based on, when the caller says it
    derogation: Derogation | None = None  # to the May 2025 limits (dossiers.domain.gestion.limiter)
    type: TypeChangement = TypeChangement.AJOUT_POSTES


@dataclass(frozen=True)
class RetraitPoste:
    id: str
    date_fin_contrat: date


@dataclass(frozen=True)
class RetraitPostes:
    request_id: str
    postes: tuple[RetraitPoste, ...]
    version: int | None = None
    type: TypeChangement = TypeChangement.RETRAIT_POSTES


@dataclass(frozen=True)
class ChangementNature:
    request_id: str
    nature: Nature
    date_effet: date
    version: int | None = None
    type: TypeChangement = TypeChangement.CHANGEMENT_NATURE


@dataclass(frozen=True)
class ContratRenouvele:
    """The contract a renewal gives for a poste vacant (or whose contract ends) at the new period."""

    poste: str
    conseiller: str  # "Prénom Nom"
    type_contrat: TypeContrat
    date_debut: date
    date_fin: date | None = None


@dataclass(frozen=True)
class Renouvellement:
    request_id: str
    date_debut: date
    postes: tuple[str, ...] | None = None  # None: the postes whose contract runs into the new period
    version: int | None = None
    contrats: tuple[ContratRenouvele, ...] = ()  # new contracts (recruitments) for the new period
    type: TypeChangement = TypeChangement.RENOUVELLEMENT


@dataclass(frozen=True)
class Resiliation:
    request_id: str
    motif: MotifResiliation
    date_effet: date | None = None  # required unless naturelle (then: the period's last day)
    version: int | None = None
    type: TypeChangement = TypeChangement.RESILIATION


@dataclass(frozen=True)
class Reemission:
    """Issue the convention again: its amounts under another rule set of the same vague (``regles``:
    a corrected barème), and/or its text under the current templates (``modele``: their version)."""

    request_id: str
    regles: str | None = None
    modele: str | None = None
    version: int | None = None
    type: TypeChangement = TypeChangement.REEMISSION


@dataclass(frozen=True)
class TransfertSortant:
    """A poste leaves for another structure: its funding here ends on ``date`` (built by the
    ``transfert`` event, never sent as a change)."""

    request_id: str
    poste: str
    date: date
    vers: str  # the receiving structure, as the avenant names it
    version: int | None = None
    type: TypeChangement = TypeChangement.TRANSFERT_SORTANT


@dataclass(frozen=True)
class TransfertEntrant:
    """A poste arrives from another structure, funded here from ``poste.debut`` (the day after the
    transfer) to ``poste.fin`` (its funding end there, or this period's end)."""

    request_id: str
    poste: PosteFinance  # its id is chosen by ``appliquer`` (next P-<n>)
    depuis: str  # the structure it comes from, as the avenant names it
    version: int | None = None
    type: TypeChangement = TypeChangement.TRANSFERT_ENTRANT


Changement = (AjoutPostes | RetraitPostes | ChangementNature | Renouvellement | Resiliation | Reemission
              | TransfertSortant | TransfertEntrant)
