"""The change requests portals send (ajout, retrait, changement de nature, renouvellement,
résiliation), parsed and validated with pydantic, and the first state of a convention.

``parse_changement`` returns one of ``dossiers.domain.etat``'s change values or raises
``ChangementRefuse`` (code ``changement_invalide``) listing every refused field with its dotted path
and a French message; the list is also on the exception as ``.errors`` (``FieldError``). Unknown
fields are refused, never ignored, like the demande (``dossiers.domain.demande``). Whether the change
makes sense for a given convention (poste known, date inside the period…) is ``appliquer``'s job:
this module only checks what the payload says on its own.

``etat_initial`` turns a validated demande into version 1 of the convention's state, so that the
first version and every avenant share one computation (``dossiers.domain.echeancier.figures``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from dossiers.domain import etat as e
from dossiers.domain.demande import DerogationIn
from dossiers.domain.model import Demande, EtatPoste, Nature
from dossiers.domain.requetes import ConseillerRequeteIn, ContratRequeteIn, Day, PosteId, Requetes, RequestId
from dossiers.domain.rules import RuleSet, calculer
from dossiers.errors import ErrorCode

__all__ = ["etat_initial", "parse_changement", "changement_json_schema"]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: RequestId
    version: int | None = Field(default=None, strict=True, ge=1)


class AjoutIn(_Change):
    type: Literal["ajout_postes"]
    date_effet: Day
    nombre: int = Field(strict=True, ge=1, le=50)
    derogation: DerogationIn | None = None  # required from 14 May 2025 (regles-2025-05, « limites »)

    def to_domain(self) -> e.AjoutPostes:
        derogation = self.derogation.to_domain() if self.derogation else None
        return e.AjoutPostes(self.request_id, self.date_effet, self.nombre, self.version, derogation)


class RetraitPosteIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: PosteId
    date_fin_contrat: Day


class RetraitIn(_Change):
    type: Literal["retrait_postes"]
    postes: list[RetraitPosteIn] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _unique(self) -> RetraitIn:
        seen: set[str] = set()
        for poste in self.postes:
            if poste.id in seen:
                raise PydanticCustomError(
                    "poste_en_double", "le poste « {id} » apparaît deux fois", {"id": poste.id}
                )
            seen.add(poste.id)
        return self

    def to_domain(self) -> e.RetraitPostes:
        postes = tuple(e.RetraitPoste(p.id, p.date_fin_contrat) for p in self.postes)
        return e.RetraitPostes(self.request_id, postes, self.version)


class NatureIn(_Change):
    type: Literal["changement_nature"]
    nature: Nature
    date_effet: Day

    def to_domain(self) -> e.ChangementNature:
        return e.ChangementNature(self.request_id, self.nature, self.date_effet, self.version)


class ContratRenouveleIn(ContratRequeteIn):
    """A recruitment given with a renewal: the poste, its conseiller and contract."""

    poste: PosteId
    conseiller: ConseillerRequeteIn


class RenouvellementIn(_Change):
    type: Literal["renouvellement"]
    date_debut: Day
    postes: list[PosteId] | None = Field(default=None, min_length=1, max_length=500)
    contrats: list[ContratRenouveleIn] = Field(default_factory=list, max_length=500)

    @model_validator(mode="after")
    def _unique(self) -> RenouvellementIn:
        for ids in (self.postes or [], [c.poste for c in self.contrats]):
            if len(set(ids)) != len(ids):
                double = next(p for p in ids if ids.count(p) > 1)
                raise PydanticCustomError("poste_en_double", "le poste « {id} » apparaît deux fois", {"id": double})
        return self

    def to_domain(self) -> e.Renouvellement:
        postes = tuple(self.postes) if self.postes is not None else None
        contrats = tuple(e.ContratRenouvele(c.poste, c.conseiller.nom_complet, c.type, c.date_debut, c.date_fin)
                         for c in self.contrats)
        return e.Renouvellement(self.request_id, self.date_debut, postes, self.version, contrats)


class ResiliationIn(_Change):
    type: Literal["resiliation"]
    motif: e.MotifResiliation
    date_effet: Day | None = None

    @model_validator(mode="after")
    def _date(self) -> ResiliationIn:
        if self.date_effet is None and self.motif is not e.MotifResiliation.NATURELLE:
            raise PydanticCustomError(
                "date_effet_manquante", "date_effet est obligatoire pour une résiliation {m}", {"m": self.motif.value}
            )
        return self

    def to_domain(self) -> e.Resiliation:
        return e.Resiliation(self.request_id, self.motif, self.date_effet, self.version)


class ReemissionIn(_Change):
    type: Literal["reemission"]
    regles: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    modele: str | None = Field(default=None, min_length=1, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> ReemissionIn:
        if self.regles is None and self.modele is None:
            raise PydanticCustomError("reemission_vide", "une réémission change les règles, le modèle, ou les deux")
        return self

    def to_domain(self) -> e.Reemission:
        return e.Reemission(self.request_id, self.regles, self.modele, self.version)


_MODELS: dict[str, type[_Change]] = {
    "ajout_postes": AjoutIn,
    "retrait_postes": RetraitIn,
    "changement_nature": NatureIn,
    "renouvellement": RenouvellementIn,
    "resiliation": ResiliationIn,
    "reemission": ReemissionIn,
}

# Model-level checks are located on the model; name the field they are about.
_REQUETES = Requetes(
    models=_MODELS,
    field_of={"poste_en_double": "postes", "date_effet_manquante": "date_effet", "reemission_vide": "regles"},
    objet="la modification", refusee="La modification est refusée", genre="de modification",
    code=ErrorCode.CHANGEMENT_INVALIDE,
)


def parse_changement(payload: Any) -> e.Changement:
    """Validate a decoded JSON change request and return the domain change."""
    return _REQUETES.parse(payload)  # type: ignore[no-any-return]


def changement_json_schema(ref_template: str) -> dict[str, Any]:
    """JSON Schema of a change request (one of the types), for the HTTP API's OpenAPI document."""
    return _REQUETES.json_schema(ref_template)


def _generated_ids(taken: set[str], count: int) -> list[str]:
    ids: list[str] = []
    n = 1
    while len(ids) < count:
        candidate = f"P-{n}"
        if candidate not in taken:
            ids.append(candidate)
        n += 1
    return ids


def etat_initial(convention_id: str, demande: Demande, regles: RuleSet) -> e.EtatConvention:
    """Version 1 of a convention's state: the demande's postes, completed up to ``nombre_postes``
    with vacant postes ``P-<n>`` (ids not already used), all funded from ``date_debut``.

    A vacant poste without ``vacant_depuis`` is taken as vacant since ``date_debut``: the 6-month
    rule of May 2025 (``dossiers.domain.gestion``) needs a start for every vacancy.
    """
    calcul = calculer(demande, regles)
    debut = calcul.date_debut
    postes = []
    for poste in demande.postes:
        vacant = poste.etat is EtatPoste.VACANT
        postes.append(
            e.PosteFinance(
                id=poste.id,
                debut=debut,
                etat=poste.etat,
                vacant_depuis=(poste.vacant_depuis or debut) if vacant else poste.vacant_depuis,
                type_contrat=poste.contrat.type if poste.contrat else None,
                conseiller=f"{poste.conseiller.prenom} {poste.conseiller.nom}" if poste.conseiller else None,
                contrat_debut=poste.contrat.date_debut if poste.contrat else None,
                contrat_fin=poste.contrat.date_fin if poste.contrat else None,
                lieu=poste.lieu,
            )
        )
    # a poste not described has no lieu: only the structure's (deprecated) flag gives it the bonus
    missing = demande.nombre_postes - len(postes)
    for poste_id in _generated_ids({p.id for p in postes}, missing):
        postes.append(e.PosteFinance(id=poste_id, debut=debut, etat=EtatPoste.VACANT, vacant_depuis=debut))
    return e.EtatConvention(
        convention_id=convention_id,
        version=1,
        vague=demande.vague,
        regles=regles.id,
        date_debut=debut,
        date_fin=calcul.date_fin,
        natures=((debut, demande.structure.nature),),
        zone_prioritaire=demande.structure.zone_prioritaire,
        postes=tuple(postes),
        departement=demande.structure.departement,
    )
