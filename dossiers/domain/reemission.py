"""What a rule change does to one convention, and to all of them (no I/O).

A re-issue plan targets a rule set, a template version, or both:

- ``regles`` of type *gestion* (``regles-2025-05``): the postes vacant for more than the
  replacement delay on the plan's date are given back (a ``retrait_postes`` avenant);
- ``regles`` that are a barème (amounts) of the convention's vague, other than the one it follows:
  the convention is issued again under it (a ``reemission`` avenant: new amounts);
- ``regles`` that are the barème the convention already follows, corrected in place since its
  current version was issued (an amount fixed in the TOML, a computation rule fixed in the code):
  the convention is issued again when the amounts its version states (recorded when issued) are no
  longer those the barème gives (a ``reemission`` avenant of the same rules: a *correction*), even
  when its period is over, as long as it is not closed: its final balance follows its amounts;
- ``modele`` alone: issued again under the current templates, amounts unchanged (wording only).

``impact`` applies the change with the same pure code as an avenant (``appliquer``) and returns the
figures before and after, or None when the convention is not affected. The plan is the list of
impacts and their totals per département and nature; a re-issue job later calls ``impact`` again on
the convention as it is then, so a convention changed since the plan is detected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from dossiers.domain.avenants import appliquer
from dossiers.domain.etat import EtatConvention, Figures, Reemission, StatutConvention
from dossiers.domain.gestion import ReglesGestion, avenant_restitution
from dossiers.domain.rules import RuleSet
from dossiers.errors import ChangementRefuse

__all__ = ["Cible", "Impact", "ItemStatut", "Plan", "PlanItem", "Totaux", "impact", "request_id_for",
           "totaux", "KIND_CORRECTION", "KIND_MONTANTS", "KIND_REDACTION", "KIND_RESTITUTION"]

KIND_RESTITUTION = "restitution"  # postes given back (management rules)
KIND_MONTANTS = "montants"  # amounts under another barème
KIND_CORRECTION = "correction"  # amounts of the same barème, corrected since the version was issued
KIND_REDACTION = "redaction"  # wording only (template)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Cible:
    """What a plan applies: management rules, or a barème, and/or a template version."""

    gestion: ReglesGestion | None = None
    bareme: RuleSet | None = None
    modele: str | None = None

    def __post_init__(self) -> None:
        if self.gestion is None and self.bareme is None and self.modele is None:
            raise ValueError("un plan de réémission vise des règles, un modèle, ou les deux")
        if self.gestion is not None and self.bareme is not None:
            raise ValueError("un plan vise des règles de gestion ou un barème, pas les deux")


@dataclass(frozen=True)
class Impact:
    convention_id: str
    base_version: int
    kind: str
    change: dict[str, Any]  # the change request (JSON) a re-issue job sends to ``amend``
    du_avant: Decimal
    du_apres: Decimal
    a_reverser_avant: Decimal
    a_reverser_apres: Decimal
    postes_rendus: tuple[str, ...] = ()
    departement: str = ""
    nature: str = ""

    @property
    def difference(self) -> Decimal:
        return self.du_apres - self.du_avant

    @property
    def a_reverser(self) -> Decimal:
        """What the structure will owe back because of this change."""
        return self.a_reverser_apres - self.a_reverser_avant


def request_id_for(plan_id: str) -> str:
    return f"reemission-{plan_id}"


def impact(etat: EtatConvention, regles: RuleSet, cible: Cible, *, jour: date, request_id: str,
           modele_courant: str | None = None, emises: Figures | None = None) -> Impact | None:
    """The change ``cible`` makes to the convention in ``etat`` (with its payments) on ``jour``, or
    None. ``regles`` is the barème ``etat`` follows; ``modele_courant`` the template version of its
    current version (a template plan leaves alone those already on it); ``emises`` the figures its
    current version stated when issued (a plan of its own barème compares them with the barème's).

    Raises ``RulesError`` when ``regles`` can no longer price the convention (the caller reports it)."""
    if etat.statut is not StatutConvention.ACTIVE:
        return None
    # a period over but not settled (not closed) is still corrected: its balance follows its amounts
    if jour > etat.date_fin and not (cible.bareme is not None and cible.bareme.id == regles.id):
        return None
    postes: tuple[str, ...] = ()
    if cible.gestion is not None:
        retrait = avenant_restitution(etat, jour, cible.gestion, request_id)
        if retrait is None:
            return None
        kind = KIND_RESTITUTION
        postes = tuple(p.id for p in retrait.postes)
        change: dict[str, Any] = {
            "type": "retrait_postes", "request_id": request_id, "version": etat.version,
            "postes": [{"id": p.id, "date_fin_contrat": p.date_fin_contrat.isoformat()} for p in retrait.postes]}
        changement: Any = retrait
        bareme = None
    else:
        if cible.bareme is not None and cible.bareme.vague != regles.vague:
            return None  # another vague's barème
        bareme = cible.bareme if cible.bareme is not None and cible.bareme.id != regles.id else None
        correction = cible.bareme is not None and bareme is None
        modele = cible.modele if cible.modele is not None and cible.modele != modele_courant else None
        if bareme is None and modele is None and not correction:
            return None
        kind = KIND_MONTANTS if bareme is not None else KIND_CORRECTION if correction else KIND_REDACTION
        changement = Reemission(request_id, cible.bareme.id if cible.bareme else None, modele, etat.version)
        change = {"type": "reemission", "request_id": request_id, "version": etat.version}
        if cible.bareme is not None:
            change["regles"] = cible.bareme.id
        if modele is not None:
            change["modele"] = modele
    try:
        resultat = appliquer(etat, changement, regles, regles_reemission=bareme, emises=emises)
    except ChangementRefuse:
        return None  # not applicable to this convention (a correction: its amounts are already right)
    if kind == KIND_MONTANTS and "modele" not in change and resultat.apres == resultat.avant:
        return None  # the new barème gives this convention the very same amounts: nothing to issue
    if kind == KIND_CORRECTION and resultat.apres == resultat.avant:
        if modele is None:
            return None  # issued with the amounts the barème gives today
        kind = KIND_REDACTION
    return Impact(
        convention_id=etat.convention_id, base_version=etat.version, kind=kind, change=change,
        du_avant=resultat.avant.total_du, du_apres=resultat.apres.total_du,
        a_reverser_avant=resultat.avant.total_a_reverser, a_reverser_apres=resultat.apres.total_a_reverser,
        postes_rendus=postes,
    )


@dataclass
class Totaux:
    conventions: int = 0
    du_avant: Decimal = ZERO
    du_apres: Decimal = ZERO
    a_reverser: Decimal = ZERO
    postes_rendus: int = 0
    par_kind: dict[str, int] = field(default_factory=dict)

    def add(self, i: Impact) -> None:
        self.conventions += 1
        self.du_avant += i.du_avant
        self.du_apres += i.du_apres
        self.a_reverser += i.a_reverser
        self.postes_rendus += len(i.postes_rendus)
        self.par_kind[i.kind] = self.par_kind.get(i.kind, 0) + 1

    @property
    def difference(self) -> Decimal:
        return self.du_apres - self.du_avant

    def to_dict(self) -> dict[str, Any]:
        return {"conventions": self.conventions, "du_avant_eur": f"{self.du_avant:.2f}",
                "du_apres_eur": f"{self.du_apres:.2f}", "difference_eur": f"{self.difference:.2f}",
                "a_reverser_eur": f"{self.a_reverser:.2f}", "postes_rendus": self.postes_rendus,
                "par_type": dict(sorted(self.par_kind.items()))}


def totaux(impacts: list[Impact]) -> dict[str, Any]:
    """Totals overall, per département and per nature."""
    total = Totaux()
    par_dep: defaultdict[str, Totaux] = defaultdict(Totaux)
    par_nature: defaultdict[str, Totaux] = defaultdict(Totaux)
    for i in impacts:
        total.add(i)
        par_dep[i.departement].add(i)
        par_nature[i.nature].add(i)
    return {"total": total.to_dict(),
            "par_departement": {k: v.to_dict() for k, v in sorted(par_dep.items())},
            "par_nature": {k: v.to_dict() for k, v in sorted(par_nature.items())}}


class ItemStatut:
    A_FAIRE = "a_faire"  # planned, not issued yet (or its job failed for a transient reason: retried)
    EMISE = "emise"  # the new version is issued
    OBSOLETE = "obsolete"  # the convention changed since the plan, or no longer needs the change
    ECHEC = "echec"  # refused for good (the reason is in ``message``)


@dataclass(frozen=True)
class Plan:
    id: str
    created_at: Any
    as_of: date
    examinees: int
    totaux: dict[str, Any]
    regles: str | None = None
    modele: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"plan_id": self.id, "created_at": self.created_at.isoformat(), "regles": self.regles,
                "modele": self.modele, "as_of": self.as_of.isoformat(), "examinees": self.examinees,
                **self.totaux}


@dataclass(frozen=True)
class PlanItem:
    plan_id: str
    impact: Impact
    statut: str = ItemStatut.A_FAIRE
    version_emise: int | None = None
    job_id: str | None = None
    message: str | None = None
    updated_at: Any = None

    def to_dict(self) -> dict[str, Any]:
        i = self.impact
        return {"convention_id": i.convention_id, "departement": i.departement, "nature": i.nature,
                "type": i.kind, "base_version": i.base_version, "du_avant_eur": f"{i.du_avant:.2f}",
                "du_apres_eur": f"{i.du_apres:.2f}", "difference_eur": f"{i.difference:.2f}",
                "a_reverser_eur": f"{i.a_reverser:.2f}", "postes_rendus": list(i.postes_rendus),
                "statut": self.statut, "version_emise": self.version_emise, "job_id": self.job_id,
                "message": self.message}
