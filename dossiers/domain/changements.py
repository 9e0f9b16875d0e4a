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

import re
from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from dossiers.domain import etat as e
from dossiers.domain.demande import error_path, french_message
from dossiers.domain.model import Demande, EtatPoste, Nature, TypeContrat
from dossiers.domain.rules import RuleSet, calculer
from dossiers.errors import ChangementRefuse, ErrorCode, FieldError

__all__ = ["etat_initial", "parse_changement", "changement_json_schema", "french_change_message", "Day", "PosteId", "RequestId"]

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)  # far around any convention of the programme


def _iso_day(value: object) -> object:
    """Only ``AAAA-MM-JJ`` strings: pydantic's lax mode would also take timestamps and datetimes;
    and only plausible days (year 9999 would pass a check and overflow a computation)."""
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError("date_parsing", "doit être une date AAAA-MM-JJ") from None
    if isinstance(value, date):
        if not EARLIEST <= value <= LATEST:
            raise PydanticCustomError("date_hors_limites", "doit être comprise entre le 1er janvier 1990 et le "
                                      "31 décembre 2100")
        return value
    raise PydanticCustomError("date_parsing", "doit être une date AAAA-MM-JJ")


Day = Annotated[date, BeforeValidator(_iso_day)]
RequestId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")]
PosteId = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class _Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: RequestId
    version: int | None = Field(default=None, strict=True, ge=1)


class AjoutIn(_Change):
    type: Literal["ajout_postes"]
    date_effet: Day
    nombre: int = Field(strict=True, ge=1, le=50)

    def to_domain(self) -> e.AjoutPostes:
        return e.AjoutPostes(self.request_id, self.date_effet, self.nombre, self.version)


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


class ConseillerRenouveleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    prenom: str = Field(min_length=1, max_length=100)
    nom: str = Field(min_length=1, max_length=100)


class ContratRenouveleIn(BaseModel):
    """A recruitment given with a renewal: the poste, its conseiller and contract."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    poste: PosteId
    conseiller: ConseillerRenouveleIn
    type: TypeContrat
    date_debut: Day
    date_fin: Day | None = None

    @model_validator(mode="after")
    def _dates(self) -> ContratRenouveleIn:
        if self.type is not TypeContrat.CDI and self.date_fin is None:
            raise PydanticCustomError("date_fin_manquante", "date_fin est obligatoire pour un contrat {t}",
                                      {"t": self.type.value})
        if self.type is TypeContrat.CDI and self.date_fin is not None:
            raise PydanticCustomError("date_fin_cdi", "un CDI n'a pas de date de fin")
        if self.date_fin is not None and self.date_fin < self.date_debut:
            raise PydanticCustomError("dates_incoherentes", "date_fin est antérieure à date_debut")
        return self


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
        contrats = tuple(e.ContratRenouvele(c.poste, f"{c.conseiller.prenom} {c.conseiller.nom}", c.type, c.date_debut,
                                            c.date_fin) for c in self.contrats)
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
_FIELD_OF = {"poste_en_double": "postes", "date_fin_manquante": "date_fin", "date_fin_cdi": "date_fin", "date_effet_manquante": "date_effet", "reemission_vide": "regles"}


def french_change_message(err: dict[str, Any]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "greater_than_equal":
        return f"doit être supérieur ou égal à {ctx.get('ge')} (reçu : {err.get('input')})"
    if kind == "too_short":
        return f"doit compter au moins {ctx.get('min_length')} élément(s)"
    if kind == "string_too_short":
        return "ne doit pas être vide"
    if kind == "string_pattern_mismatch" and err["loc"][:1] == ("request_id",):
        return "identifiant de requête invalide (lettres, chiffres, « . », « _ », « : » et « - » seulement)"
    return french_message(err)


def _refuse(errors: list[FieldError]) -> ChangementRefuse:
    lines = "\n".join(f"- {error}" for error in errors)
    return ChangementRefuse(
        f"La modification est refusée ({len(errors)} erreur(s)) :\n{lines}", code=ErrorCode.CHANGEMENT_INVALIDE,
        errors=errors,
    )


def parse_changement(payload: Any) -> e.Changement:
    """Validate a decoded JSON change request and return the domain change."""
    if not isinstance(payload, dict):
        raise _refuse([FieldError("", "model_type", "la modification doit être un objet JSON")])
    kind = payload.get("type")
    model = _MODELS.get(kind) if isinstance(kind, str) else None
    if model is None:
        message = (
            "champ obligatoire manquant" if kind is None
            else f"type de modification inconnu « {kind} » (valeurs admises : {', '.join(_MODELS)})"
        )
        raise _refuse([FieldError("type", "type_inconnu" if kind is not None else "missing", message)])
    try:
        parsed = model.model_validate(payload)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            path = error_path(err)
            suffix = _FIELD_OF.get(err["type"])
            if suffix and not path.endswith(suffix):
                path = f"{path}.{suffix}" if path else suffix
            errors.append(FieldError(path, err["type"], french_change_message(err)))
        raise _refuse(errors) from exc
    return parsed.to_domain()  # type: ignore[attr-defined, no-any-return]


def _generated_ids(taken: set[str], count: int) -> list[str]:
    ids, n = [], 1
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
            )
        )
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
    )



def changement_json_schema(ref_template: str) -> dict[str, Any]:
    """JSON Schema of a change request (one of the types), for the HTTP API's OpenAPI document."""
    from pydantic import TypeAdapter

    union = Union[tuple(_MODELS.values())]  # type: ignore[valid-type]  # noqa: UP007
    return TypeAdapter(union).json_schema(ref_template=ref_template)
