"""A dossier: the pieces a structure sent, what is still required, and an overall status (no I/O).

Required pieces come from ``config/pieces.toml`` (DOMAIN.md, "Pieces of a dossier"): the same list
for every structure of a nature, plus one contrat de travail per poste occupé. The newest piece of a
kind (per poste for contrats) is the one that counts; older ones stay in the history.

Overall status, for the instructeur:

- ``incomplet``: a required piece is missing or its newest copy is ``invalide`` (the structure acts);
- ``a_verifier``: everything is there, some piece needs a human look;
- ``complet``: every required piece is ``valide``.

A piece à vérifier counts as what an instructeur decided about it (``PieceRecord.retenu``): accepted,
``valide``; refused, ``invalide``. The machine's own status and findings stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dossiers.domain.decisions import Decision, Verdict
from dossiers.domain.findings import Finding, Statut
from dossiers.domain.pieces import PieceKind

__all__ = [
    "DossierStatut", "PIECE_LABELS", "PiecesRequises", "Requise", "PieceRecord", "Dossier", "DossierView",
    "dossier_id_for", "dossier_view",
]

PIECE_LABELS: dict[PieceKind, str] = {
    PieceKind.DESIGNATION: "Acte désignant le représentant légal",
    PieceKind.IDENTITE: "Pièce d'identité du représentant légal",
    PieceKind.SIRENE: "Avis de situation au répertoire Sirene (moins de 3 mois)",
    PieceKind.RIB: "Relevé d'identité bancaire",
    PieceKind.BUREAU: "Composition du bureau",
    PieceKind.STATUTS: "Statuts",
    PieceKind.PV_AG: "Procès-verbal de la dernière assemblée générale",
    PieceKind.COMPTES: "Comptes certifiés du dernier exercice",
    PieceKind.CONTRAT: "Contrat de travail du conseiller numérique",
}


class DossierStatut(StrEnum):
    INCOMPLET = "incomplet"
    A_VERIFIER = "a_verifier"
    COMPLET = "complet"


@dataclass(frozen=True)
class PiecesRequises:
    """Required kinds per nature, and the kind required for each poste occupé."""

    par_nature: Mapping[str, tuple[PieceKind, ...]]
    par_poste: tuple[PieceKind, ...] = (PieceKind.CONTRAT,)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PiecesRequises:
        natures = {n: tuple(PieceKind(k) for k in v["requises"]) for n, v in data["nature"].items()}
        return cls(natures, tuple(PieceKind(k) for k in data.get("poste", {}).get("requises", ["contrat"])))


@dataclass(frozen=True)
class Requise:
    kind: PieceKind
    poste_id: str | None = None

    @property
    def label(self) -> str:
        base = PIECE_LABELS[self.kind]
        return f"{base} (poste {self.poste_id})" if self.poste_id else base


@dataclass(frozen=True)
class PieceRecord:
    """One validated upload of a dossier, as the catalog keeps it."""

    id: int
    kind: PieceKind
    filename: str | None
    sha256: str
    size: int
    mime: str
    statut: Statut
    findings: tuple[Finding, ...]
    fields: dict[str, Any]
    validated_at: datetime
    poste_id: str | None = None
    storage_key: str | None = None
    decision: Decision | None = None  # an instructeur's, on a piece à vérifier

    @property
    def label(self) -> str:
        return Requise(self.kind, self.poste_id).label

    @property
    def retenu(self) -> Statut:
        """The status the dossier counts: the machine's, or the human decision on a piece à vérifier."""
        if self.decision is None or self.statut is not Statut.A_VERIFIER:
            return self.statut
        return Statut.VALIDE if self.decision.verdict is Verdict.ACCEPTE else Statut.INVALIDE

    @property
    def en_attente(self) -> bool:
        """À vérifier and not decided yet."""
        return self.statut is Statut.A_VERIFIER and self.decision is None


@dataclass(frozen=True)
class Dossier:
    id: str
    structure_id: str
    siret: str
    denomination: str
    nature: str
    departement: str
    representant: str  # "Prénom Nom"
    postes_occupes: tuple[tuple[str, str], ...] = ()  # (poste id, "Prénom Nom" of the conseiller)


@dataclass(frozen=True)
class DossierView:
    dossier: Dossier
    pieces: tuple[PieceRecord, ...]  # every upload, oldest first
    courantes: tuple[PieceRecord, ...]  # the newest piece of each required (kind, poste)
    manquantes: tuple[Requise, ...]
    statut: DossierStatut
    extra: tuple[PieceRecord, ...] = field(default=())  # newest pieces of kinds not required

    def to_dict(self) -> dict[str, Any]:
        def piece(p: PieceRecord) -> dict[str, Any]:
            return {
                "id": p.id, "kind": str(p.kind), "poste_id": p.poste_id, "filename": p.filename,
                "sha256": p.sha256, "size": p.size, "mime": p.mime, "status": str(p.statut),
                "final_status": str(p.retenu), "decision": p.decision.to_dict() if p.decision else None,
                "findings": [f.to_dict() for f in p.findings], "fields": p.fields,
                "validated_at": p.validated_at.isoformat(),
            }

        d = self.dossier
        return {
            "dossier_id": d.id, "structure_id": d.structure_id, "siret": d.siret, "denomination": d.denomination,
            "nature": d.nature, "departement": d.departement, "status": str(self.statut),
            "pieces": [piece(p) for p in self.courantes + self.extra],
            "missing": [{"kind": str(r.kind), "poste_id": r.poste_id, "label": r.label} for r in self.manquantes],
            "history": len(self.pieces),
        }


def dossier_id_for(structure_id: str, vague: int) -> str:
    return f"DOS-V{vague}-{structure_id}"


def dossier_view(dossier: Dossier, pieces: Iterable[PieceRecord], requises: PiecesRequises) -> DossierView:
    ordered = sorted(pieces, key=lambda p: (p.validated_at, p.id))
    newest: dict[tuple[PieceKind, str | None], PieceRecord] = {}
    for p in ordered:
        newest[(p.kind, p.poste_id)] = p
    required = [Requise(k) for k in requises.par_nature.get(dossier.nature, ())]
    required += [Requise(k, poste) for poste, _ in dossier.postes_occupes for k in requises.par_poste]
    courantes: list[PieceRecord] = []
    manquantes: list[Requise] = []
    for r in required:
        if (current := newest.get((r.kind, r.poste_id))) is not None:
            courantes.append(current)
        else:
            manquantes.append(r)
    wanted = {(r.kind, r.poste_id) for r in required}
    extra = tuple(p for key, p in newest.items() if key not in wanted)
    return DossierView(dossier, tuple(ordered), tuple(courantes), tuple(manquantes), _statut(courantes, manquantes),
                       extra)


def _statut(courantes: Sequence[PieceRecord], manquantes: Sequence[Requise]) -> DossierStatut:
    if manquantes or any(p.retenu is Statut.INVALIDE for p in courantes):
        return DossierStatut.INCOMPLET
    if any(p.retenu is Statut.A_VERIFIER for p in courantes):
        return DossierStatut.A_VERIFIER
    return DossierStatut.COMPLET
