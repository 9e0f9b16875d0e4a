"""What the JSON requests portals send have in common (the change requests of
``dossiers.domain.changements``, the poste events of ``dossiers.domain.evenements``): their field
types, a conseiller and a contract, and the way a request is told apart by its ``"type"``,
validated, and refused with every field named.

``Requetes(models, …).parse(payload)`` returns the domain value of the model its ``"type"`` names,
or raises ``ChangementRefuse`` listing every refused field with its dotted path and a French
message (``.errors``). Unknown fields are refused, never ignored, like the demande.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from dossiers.domain.demande import Short, error_path, field_code, french_message
from dossiers.domain.model import TypeContrat
from dossiers.errors import ChangementRefuse, ErrorCode, FieldError

__all__ = ["Day", "RequestId", "PosteId", "ConseillerRequeteIn", "ContratRequeteIn", "Requetes", "EARLIEST", "LATEST"]

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


class ConseillerRequeteIn(BaseModel):  # named apart from the demande's: one OpenAPI document
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    prenom: Short
    nom: Short

    @property
    def nom_complet(self) -> str:
        return f"{self.prenom} {self.nom}"


class ContratRequeteIn(BaseModel):
    """A contract: a CDI has no end; a CDD, PEC or contrat de projet has one, not before its start."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: TypeContrat
    date_debut: Day
    date_fin: Day | None = None

    @model_validator(mode="after")
    def _dates(self) -> ContratRequeteIn:
        if self.type is TypeContrat.CDI and self.date_fin is not None:
            raise PydanticCustomError("date_fin_cdi", "un CDI n'a pas de date de fin")
        if self.type is not TypeContrat.CDI and self.date_fin is None:
            raise PydanticCustomError("date_fin_manquante", "date_fin est obligatoire pour un contrat {t}",
                                      {"t": self.type.value})
        if self.date_fin is not None and self.date_fin < self.date_debut:
            raise PydanticCustomError("dates_incoherentes", "date_fin est antérieure à date_debut")
        return self


# Model-level checks are located on the model; the field they are about.
_FIELD_OF = {"date_fin_cdi": "date_fin", "date_fin_manquante": "date_fin"}


def french_request_message(err: ErrorDetails) -> str:
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


@dataclass(frozen=True)
class Requetes:
    """A family of requests told apart by ``"type"``: its models (each with ``to_domain()``), the
    field each model-level check is about, and the words of its refusals."""

    models: Mapping[str, type[BaseModel]]
    field_of: Mapping[str, str]
    objet: str  # "la modification", "l'événement"
    refusee: str  # "La modification est refusée"
    genre: str  # "de modification", "d'événement"
    code: ErrorCode

    def refuse(self, errors: list[FieldError]) -> ChangementRefuse:
        lines = "\n".join(f"- {error}" for error in errors)
        return ChangementRefuse(f"{self.refusee} ({len(errors)} erreur(s)) :\n{lines}", code=self.code, errors=errors)

    def parse(self, payload: Any) -> Any:
        """Validate a decoded JSON request and return its domain value."""
        if not isinstance(payload, dict):
            raise self.refuse([FieldError("", "type_invalide", f"{self.objet} doit être un objet JSON")])
        kind = payload.get("type")
        model = self.models.get(kind) if isinstance(kind, str) else None
        if model is None:
            message = ("champ obligatoire manquant" if kind is None
                       else f"type {self.genre} inconnu « {kind} » (valeurs admises : {', '.join(self.models)})")
            raise self.refuse([FieldError("type", "type_inconnu" if kind is not None else "champ_manquant", message)])
        try:
            parsed = model.model_validate(payload)
        except ValidationError as exc:
            errors = []
            for err in exc.errors(include_url=False):
                path = error_path(err)
                suffix = self.field_of.get(err["type"]) or _FIELD_OF.get(err["type"])
                if suffix and not path.endswith(suffix):
                    path = f"{path}.{suffix}" if path else suffix
                errors.append(FieldError(path, field_code(err), french_request_message(err)))
            raise self.refuse(errors) from exc
        return parsed.to_domain()  # type: ignore[attr-defined]

    def json_schema(self, ref_template: str) -> dict[str, Any]:
        """JSON Schema of a request (one of the types), for the HTTP API's OpenAPI document."""
        union: Any = Union[tuple(self.models.values())]  # noqa: UP007  # built at run time: a value, not a type
        return TypeAdapter(union).json_schema(ref_template=ref_template)
