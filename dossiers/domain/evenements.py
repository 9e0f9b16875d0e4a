"""The poste events portals send (recrutement, fin_contrat, prolongation, absence, transfert),
parsed with pydantic, and their JSON form in the catalog.

``parse_evenement(payload, poste=…)`` returns one of ``dossiers.domain.postes``'s events or raises
``ChangementRefuse`` (code ``evenement_invalide``) listing every refused field with its dotted path
and a French message (``.errors``). Unknown fields are refused. Whether the event fits the poste's
life (occupied, vacant, transferred…) is ``dossiers.domain.postes.verifier``'s job.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from dossiers.domain import postes as p
from dossiers.domain.demande import Short
from dossiers.domain.model import TypeContrat
from dossiers.domain.requetes import ConseillerRequeteIn, ContratRequeteIn, Day, PosteId, Requetes, RequestId
from dossiers.errors import ErrorCode, FieldError

__all__ = ["parse_evenement", "evenement_to_json", "evenement_from_json", "evenement_json_schema"]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: RequestId
    poste: PosteId
    version: int | None = Field(default=None, strict=True, ge=1)


class RecrutementIn(_Event):
    type: Literal["recrutement"]
    conseiller: ConseillerRequeteIn
    contrat: ContratRequeteIn

    def to_domain(self) -> p.Recrutement:
        return p.Recrutement(self.request_id, self.poste, self.conseiller.nom_complet, self.contrat.type,
                             self.contrat.date_debut, self.contrat.date_fin, self.version)


class FinContratIn(_Event):
    type: Literal["fin_contrat"]
    date: Day
    motif: Literal["rupture_employeur", "demission", "fin_cdd", "rupture_conventionnelle", "licenciement", "deces",
                   "autre"]

    def to_domain(self) -> p.FinContrat:
        return p.FinContrat(self.request_id, self.poste, self.date, p.MotifFin(self.motif), self.version)


class ProlongationIn(_Event):
    type: Literal["prolongation"]
    date_fin: Day | None = None
    cdi: Literal[True] | None = None

    @model_validator(mode="after")
    def _one(self) -> ProlongationIn:
        if (self.date_fin is None) == (self.cdi is None):
            raise PydanticCustomError("prolongation_ambigue",
                                      "indiquez soit date_fin (nouvelle fin du contrat), soit \"cdi\": true")
        return self

    def to_domain(self) -> p.Prolongation:
        return p.Prolongation(self.request_id, self.poste, self.date_fin, None, self.version)


class AbsenceIn(_Event):
    type: Literal["absence"]
    du: Day
    au: Day | None = None
    motif: p.MotifAbsence
    justifiee: bool = Field(default=False, strict=True)

    @model_validator(mode="after")
    def _dates(self) -> AbsenceIn:
        if self.au is not None and self.au < self.du:
            raise PydanticCustomError("absence_dates_incoherentes", "au est antérieure à du")
        return self

    def to_domain(self) -> p.AbsenceDeclaree:
        return p.AbsenceDeclaree(self.request_id, self.poste, self.du, self.au, self.motif, self.justifiee,
                                 self.version)


class VersIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    structure_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    demande: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one(self) -> VersIn:
        if (self.structure_id is None) == (self.demande is None):
            raise PydanticCustomError("vers_ambigu", "indiquez soit structure_id (structure conventionnée), soit "
                                      "demande (la demande de la structure qui n'a pas de convention)")
        return self


class DerogationTransfertIn(BaseModel):  # named apart from the demande's (reference and date): one OpenAPI document
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    reference: Annotated[Short, Field(min_length=3)]


class TransfertIn(_Event):
    type: Literal["transfert"]
    date: Day
    vers: VersIn
    derogation: DerogationTransfertIn | None = None

    def to_domain(self) -> p.Transfert:
        return p.Transfert(self.request_id, self.poste, self.date, self.vers.structure_id, self.vers.demande,
                           self.derogation.reference if self.derogation else None, self.version)


_MODELS: dict[str, type[_Event]] = {
    "recrutement": RecrutementIn,
    "fin_contrat": FinContratIn,
    "prolongation": ProlongationIn,
    "absence": AbsenceIn,
    "transfert": TransfertIn,
}
_REQUETES = Requetes(
    models=_MODELS,
    field_of={"prolongation_ambigue": "date_fin", "vers_ambigu": "structure_id", "absence_dates_incoherentes": "au"},
    objet="l'événement", refusee="L'événement est refusé", genre="d'événement", code=ErrorCode.EVENEMENT_INVALIDE,
)


def parse_evenement(payload: Any, *, poste: str | None = None) -> p.Evenement:
    """Validate a decoded JSON event; ``poste`` (from the URL) fills or must match ``"poste"``."""
    if poste is not None and isinstance(payload, dict):
        if "poste" in payload and payload["poste"] != poste:
            raise _REQUETES.refuse([FieldError(
                "poste", "poste_incoherent", f"« {payload['poste']} » ne correspond pas au poste de l'adresse ({poste})")])
        payload = {**payload, "poste": poste}
    return _REQUETES.parse(payload)  # type: ignore[no-any-return]


def evenement_json_schema(ref_template: str) -> dict[str, Any]:
    """JSON Schema of a poste event (one of the types), for the HTTP API's OpenAPI document."""
    return _REQUETES.json_schema(ref_template)


# -- the catalog's form: every field, the resolved ones included ----------------------------------


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _from_d(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def evenement_to_json(e: p.Evenement) -> dict[str, Any]:
    base: dict[str, Any] = {"request_id": e.request_id, "type": str(e.type), "poste": e.poste}
    if isinstance(e, p.Recrutement):
        return base | {"conseiller": e.conseiller, "type_contrat": str(e.type_contrat),
                       "date_debut": e.date_debut.isoformat(), "date_fin": _d(e.date_fin)}
    if isinstance(e, p.FinContrat):
        return base | {"date": e.date.isoformat(), "motif": str(e.motif)}
    if isinstance(e, p.Prolongation):
        return base | {"date_fin": _d(e.date_fin), "contrat_fin": _d(e.contrat_fin)}
    if isinstance(e, p.AbsenceDeclaree):
        return base | {"du": e.du.isoformat(), "au": _d(e.au), "motif": str(e.motif), "justifiee": e.justifiee}
    return base | {"date": e.date.isoformat(), "vers_structure": e.vers_structure, "vers_demande": e.vers_demande,
                   "derogation": e.derogation}


def evenement_from_json(d: dict[str, Any]) -> p.Evenement:
    kind = p.TypeEvenement(d["type"])
    rid, poste = d["request_id"], d["poste"]
    if kind is p.TypeEvenement.RECRUTEMENT:
        return p.Recrutement(rid, poste, d["conseiller"], TypeContrat(d["type_contrat"]),
                             date.fromisoformat(d["date_debut"]), _from_d(d.get("date_fin")))
    if kind is p.TypeEvenement.FIN_CONTRAT:
        return p.FinContrat(rid, poste, date.fromisoformat(d["date"]), p.MotifFin(d["motif"]))
    if kind is p.TypeEvenement.PROLONGATION:
        return p.Prolongation(rid, poste, _from_d(d.get("date_fin")), _from_d(d.get("contrat_fin")))
    if kind is p.TypeEvenement.ABSENCE:
        return p.AbsenceDeclaree(rid, poste, date.fromisoformat(d["du"]), _from_d(d.get("au")),
                                 p.MotifAbsence(d["motif"]), bool(d["justifiee"]))
    return p.Transfert(rid, poste, date.fromisoformat(d["date"]), d.get("vers_structure"), d.get("vers_demande"),
                       d.get("derogation"))
