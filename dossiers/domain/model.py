"""The programme's nouns as frozen values: structure, poste, contrat, convention and its versions.

Pure Python: no I/O, no framework. Amounts are ``Decimal`` euros, dates ``datetime.date``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # etat imports this module: its types are named for the checker only
    from dossiers.domain.etat import EtatConvention, Figures

__all__ = [
    "Nature",
    "EtatPoste",
    "TypeContrat",
    "Representant",
    "Structure",
    "Conseiller",
    "Contrat",
    "Lieu",
    "Poste",
    "Demande",
    "Derogation",
    "MontantAnnuel",
    "Tranche",
    "Calcul",
    "DocumentRef",
    "ConventionVersion",
    "Convention",
    "convention_id_for",
    "convention_en_vigueur",
]


class Nature(StrEnum):
    PUBLIQUE = "publique"
    PRIVEE = "privee"


class EtatPoste(StrEnum):
    OCCUPE = "occupe"
    VACANT = "vacant"
    RENDU = "rendu"


class TypeContrat(StrEnum):
    CDI = "CDI"
    CDD = "CDD"
    PEC = "PEC"
    CONTRAT_DE_PROJET = "contrat_de_projet"


@dataclass(frozen=True)
class Representant:
    civilite: str
    prenom: str
    nom: str
    qualite: str


@dataclass(frozen=True)
class Structure:
    id: str
    siret: str
    denomination: str
    nature: Nature
    categorie_juridique: str
    departement: str
    adresse: str
    zone_prioritaire: bool
    representant: Representant

    @property
    def siren(self) -> str:
        return self.siret[:9]


@dataclass(frozen=True)
class Conseiller:
    prenom: str
    nom: str


@dataclass(frozen=True)
class Contrat:
    type: TypeContrat
    date_debut: date
    date_fin: date | None = None


@dataclass(frozen=True)
class Lieu:
    """A poste's lieu de permanence: the commune (INSEE code) where its conseiller works and whether
    that place is in a QPV or a ZRR, which makes the poste eligible for the bonification."""

    commune: str
    qpv: bool = False
    zrr: bool = False

    @property
    def zone_prioritaire(self) -> bool:
        return self.qpv or self.zrr


@dataclass(frozen=True)
class Poste:
    id: str
    etat: EtatPoste
    conseiller: Conseiller | None = None
    contrat: Contrat | None = None
    vacant_depuis: date | None = None
    lieu: Lieu | None = None  # None: not given (a demande from before the per-poste bonification)


@dataclass(frozen=True)
class Derogation:
    """A derogation the ANCT granted to a management rule (its reference and the day it was granted)."""

    reference: str
    date: date


@dataclass(frozen=True)
class Demande:
    """A validated request for a convention (see DESIGN.md, "The demande")."""

    structure: Structure
    vague: int
    date_debut: date
    nombre_postes: int
    postes: tuple[Poste, ...] = ()
    derogation: Derogation | None = None  # to the May 2025 limits (dossiers.domain.gestion.limiter)

    def en_zone_prioritaire(self, poste: Poste) -> bool:
        """Whether the poste's lieu de permanence is in a QPV or a ZRR; the structure-level flag
        (deprecated) puts every poste there."""
        return self.structure.zone_prioritaire or (poste.lieu is not None and poste.lieu.zone_prioritaire)

    @property
    def postes_en_zone_prioritaire(self) -> int:
        """How many of the ``nombre_postes`` postes are in a QPV or a ZRR: all of them under the
        structure-level flag, else the described postes whose lieu is (a poste not described has no lieu)."""
        if self.structure.zone_prioritaire:
            return self.nombre_postes
        return sum(1 for p in self.postes if self.en_zone_prioritaire(p))


@dataclass(frozen=True)
class MontantAnnuel:
    """What one convention year is worth: per poste (base, plus the bonus for a poste in a QPV or
    a ZRR) and for all postes (base × postes + bonus × postes_bonifies)."""

    annee: int
    debut: date
    fin: date
    base_par_poste: Decimal
    bonification_par_poste: Decimal  # for each poste that carries it
    nombre_postes: int
    postes_bonifies: int  # how many of the postes carry the bonus

    @property
    def par_poste(self) -> Decimal:
        """A poste carrying the bonus (the base alone when none does)."""
        return self.base_par_poste + self.bonification_par_poste

    @property
    def bonification(self) -> Decimal:
        return self.bonification_par_poste * self.postes_bonifies

    @property
    def total(self) -> Decimal:
        return self.base_par_poste * self.nombre_postes + self.bonification


@dataclass(frozen=True)
class Tranche:
    """One annual payment of the échéancier."""

    numero: int
    annee: int
    date: date
    montant: Decimal


@dataclass(frozen=True)
class Calcul:
    """The figures of a convention, computed from a demande and a rule set."""

    regles: str
    date_debut: date
    date_fin: date
    duree_mois: int
    nombre_postes: int
    annees: tuple[MontantAnnuel, ...]
    echeancier: tuple[Tranche, ...]
    bonification: bool  # at least one poste carries the bonus
    postes_bonifies: int = 0

    @property
    def par_poste(self) -> Decimal:
        """Over the convention, a poste carrying the bonus (the base alone when none does)."""
        return sum((a.par_poste for a in self.annees), Decimal("0.00"))

    @property
    def base_par_poste(self) -> Decimal:
        return sum((a.base_par_poste for a in self.annees), Decimal("0.00"))

    @property
    def bonification_totale(self) -> Decimal:
        return sum((a.bonification for a in self.annees), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return sum((t.montant for t in self.echeancier), Decimal("0.00"))


@dataclass(frozen=True)
class DocumentRef:
    """A stored document of a version: where it is and what its bytes hash to."""

    kind: str  # "docx" | "pdf"
    key: str
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class ConventionVersion:
    convention_id: str
    numero: int
    motif: str
    regles: str
    modele_version: str
    modele_sha256: str
    demande_sha256: str
    montant_total: Decimal
    echeancier: tuple[Tranche, ...]
    created_at: datetime
    documents: tuple[DocumentRef, ...] = ()
    # avenants, renouvellements and résiliations (v2+): the request that made the version, the
    # document kind, the convention's state and its figures per year (v1 of an older catalog: None)
    request_id: str | None = None
    document_type: str = "convention"  # "convention" | "avenant" | "resiliation"
    changement: dict[str, Any] | None = None
    etat: EtatConvention | None = None
    figures: Figures | None = None

    def document(self, kind: str) -> DocumentRef | None:
        return next((d for d in self.documents if d.kind == kind), None)


@dataclass(frozen=True)
class Convention:
    id: str
    structure_id: str
    vague: int
    date_debut: date
    versions: tuple[ConventionVersion, ...] = field(default=())
    # a renewal is a new convention (its own id, v1, its period): the one it renews, the one renewing it
    renouvelle: str | None = None
    renouvelee_par: str | None = None

    @property
    def current(self) -> ConventionVersion | None:
        return max(self.versions, key=lambda v: v.numero, default=None)


def convention_id_for(structure_id: str, vague: int, rang: int = 1) -> str:
    """One convention per structure and vague, avenants being versions of it; a renewal under the same
    vague as the convention it renews (a vague-2 period renewed under vague 2) is the ``rang``-th."""
    if rang < 1:
        raise ValueError(f"rang de convention invalide : {rang}")
    return f"CN-V{vague}-{structure_id}" + (f"-R{rang}" if rang > 1 else "")


def convention_en_vigueur(periodes: Iterable[tuple[str, date]], jour: date) -> str | None:
    """Of a structure's conventions (id, first day of its period), the one in force on ``jour`` (a
    poste event, a pilotage row, a transfer go there): the last one begun on or before ``jour`` (a
    renewal takes over from the convention it renews on its first day), else the first to begin."""
    ordered = sorted(periodes, key=lambda item: (item[1], item[0]))
    begun = [cid for cid, debut in ordered if debut <= jour]
    return begun[-1] if begun else (ordered[0][0] if ordered else None)
