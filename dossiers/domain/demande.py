"""The demande a portal sends (DESIGN.md), parsed and validated with pydantic.

``parse_demande`` returns the domain ``Demande`` or raises ``DemandeInvalide`` listing every refused
field with its dotted path and a French message. Unknown fields are refused, never ignored.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret

from dossiers.domain import model
from dossiers.errors import DemandeInvalide, FieldError

__all__ = ["DemandeIn", "DerogationIn", "parse_demande", "validate_demande", "french_message", "error_path",
           "avertissements_demande"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DEPARTEMENT = re.compile(r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")
_COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise PydanticCustomError("texte_vide", "ne doit pas être vide")
    if _CONTROL.search(value):
        raise PydanticCustomError("caractere_interdit", "contient un caractère de contrôle interdit")
    invisible = format_character(value)
    if invisible is not None:
        raise PydanticCustomError(
            "caractere_interdit", "contient un caractère de mise en forme invisible interdit ({code}, {nom}) : "
            "il peut inverser ou masquer le texte affiché", {"code": f"U+{ord(invisible):04X}",
                                                              "nom": unicodedata.name(invisible, "sans nom")})
    return value


_ZWJ = "\u200d"


def format_character(value: str) -> str | None:
    """The first invisible format character of ``value`` (Unicode category Cf: bidi overrides and isolates,
    zero-width spaces, soft hyphen…), except a zero-width joiner between two emoji (« 👩‍💻 »)."""
    for i, char in enumerate(value):
        if unicodedata.category(char) != "Cf":
            continue
        if char == _ZWJ and 0 < i < len(value) - 1 and _emoji(value[i - 1]) and _emoji(value[i + 1]):
            continue
        return char
    return None


def _emoji(char: str) -> bool:
    return unicodedata.category(char) == "So" or ord(char) >= 0x1F000 or char == "\ufe0f"


def _siret(value: str) -> str:
    try:
        return stdnum_siret.validate(value)
    except InvalidLength:
        raise PydanticCustomError("siret_invalide", "le SIRET « {v} » doit compter 14 chiffres", {"v": value}) from None
    except InvalidFormat:
        raise PydanticCustomError("siret_invalide", "le SIRET « {v} » ne doit contenir que des chiffres", {"v": value}) from None
    except InvalidChecksum:
        raise PydanticCustomError(
            "siret_invalide", "le SIRET « {v} » est invalide (clé de contrôle incorrecte)", {"v": value}
        ) from None
    except StdnumError:
        raise PydanticCustomError("siret_invalide", "le SIRET « {v} » est invalide", {"v": value}) from None


def _departement(value: str) -> str:
    value = value.strip().upper()
    if not _DEPARTEMENT.match(value):
        raise PydanticCustomError(
            "departement_invalide", "le code département « {v} » n'existe pas (ex. 33, 2A, 974)", {"v": value}
        )
    return value


def _commune(value: str) -> str:
    value = value.strip().upper()
    if not _COMMUNE.match(value):
        raise PydanticCustomError(
            "commune_invalide",
            "le code commune « {v} » doit être un code INSEE à 5 caractères : chiffres, ou 2A/2B suivi de "
            "3 chiffres pour la Corse (ex. 59512, 2A004)",
            {"v": value},
        )
    return value


def _categorie(value: str) -> str:
    if not re.fullmatch(r"\d{4}", value):
        raise PydanticCustomError(
            "categorie_juridique_invalide", "la catégorie juridique doit être un code INSEE à 4 chiffres (ex. 7210)"
        )
    return value


Text = Annotated[str, Field(max_length=500), AfterValidator(_text)]
Short = Annotated[str, Field(max_length=100), AfterValidator(_text)]
Ident = Annotated[str, Field(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class RepresentantIn(_Strict):
    civilite: Literal["M.", "Mme"]
    prenom: Short
    nom: Short
    qualite: Short


# A poste's lieu de permanence: the commune (INSEE code) and whether it is in a QPV or a ZRR (a comment,
# not a docstring: pydantic would publish it in English as the OpenAPI description).
class LieuIn(_Strict):
    commune: Annotated[str, Field(max_length=10, description="Code INSEE de la commune (ex. 59512, 2A004)."),
                       AfterValidator(_commune)]
    qpv: bool = Field(default=False, description="Lieu situé dans un quartier prioritaire de la politique de la ville.")
    zrr: bool = Field(default=False, description="Lieu situé dans une zone de revitalisation rurale.")


class StructureIn(_Strict):
    id: Ident
    siret: Annotated[str, AfterValidator(_siret)]
    denomination: Text
    nature: model.Nature
    categorie_juridique: Annotated[str, AfterValidator(_categorie)]
    departement: Annotated[str, AfterValidator(_departement)]
    adresse: Text
    # deprecated: the bonus belongs to each poste (postes[].lieu); kept for older demandes, it puts
    # every poste in a priority zone
    zone_prioritaire: bool = Field(default=False, json_schema_extra={"deprecated": True}, description=(
        "Obsolète : la bonification QPV/ZRR suit le lieu de permanence de chaque poste (postes[].lieu). "
        "À true, elle s'applique à tous les postes, avec un avertissement ; refusé avec postes[].lieu."))
    representant: RepresentantIn


class ConventionIn(_Strict):
    vague: Literal[1, 2]
    date_debut: date
    nombre_postes: int = Field(strict=True, gt=0, le=500)

    @field_validator("vague", mode="before")
    @classmethod
    def _not_a_boolean(cls, value: object) -> object:
        if isinstance(value, bool):  # true == 1 in Python; a portal sending true means a bug
            raise PydanticCustomError("int_type", "doit être un nombre entier")
        return value


class ConseillerIn(_Strict):
    prenom: Short
    nom: Short


class ContratIn(_Strict):
    type: model.TypeContrat
    date_debut: date
    date_fin: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> ContratIn:
        if self.type is not model.TypeContrat.CDI and self.date_fin is None:
            raise PydanticCustomError("date_fin_manquante", "date_fin est obligatoire pour un contrat {t}", {"t": self.type.value})
        if self.date_fin is not None and self.date_fin < self.date_debut:
            raise PydanticCustomError("dates_incoherentes", "date_fin est antérieure à date_debut")
        return self


class PosteIn(_Strict):
    id: Ident
    etat: Literal["occupe", "vacant"]
    conseiller: ConseillerIn | None = None
    contrat: ContratIn | None = None
    vacant_depuis: date | None = None
    lieu: LieuIn | None = Field(default=None, description=(
        "Lieu de permanence du poste : la bonification QPV/ZRR lui revient s'il est en QPV ou en ZRR."))

    @model_serializer(mode="wrap")
    def _without_absent_lieu(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A poste without lieu dumps as before the field existed: a demande's canonical form (and
        so its digest, which makes generating it again a no-op) does not change."""
        data: dict[str, Any] = handler(self)
        if self.lieu is None:
            data.pop("lieu", None)
        return data

    @model_validator(mode="after")
    def _coherent(self) -> PosteIn:
        if self.etat == "occupe" and self.conseiller is None:
            raise PydanticCustomError("conseiller_manquant", "un poste occupé doit indiquer son conseiller")
        if self.etat == "occupe" and self.contrat is None:
            raise PydanticCustomError("contrat_manquant", "un poste occupé doit indiquer son contrat de travail")
        if self.etat == "vacant" and self.conseiller is not None:
            raise PydanticCustomError("conseiller_sur_poste_vacant", "un poste vacant ne peut pas avoir de conseiller")
        if self.etat == "vacant" and self.contrat is not None:
            raise PydanticCustomError("contrat_sur_poste_vacant", "un poste vacant ne peut pas avoir de contrat")
        return self


class DerogationIn(_Strict):
    """A derogation the ANCT granted to a management rule: its reference and the day it was granted."""

    reference: Short
    date: date

    def to_domain(self) -> model.Derogation:
        return model.Derogation(self.reference, self.date)


class DemandeIn(_Strict):
    structure: StructureIn
    convention: ConventionIn
    postes: list[PosteIn] = Field(default_factory=list, max_length=500)
    # since 14 May 2025 a structure new to the programme needs one (regles-2025-05, « limites »)
    derogation: DerogationIn | None = None

    @model_serializer(mode="wrap")
    def _without_absent_derogation(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A demande without derogation dumps as before the field existed (same canonical form, same digest)."""
        data: dict[str, Any] = handler(self)
        if self.derogation is None:
            data.pop("derogation", None)
        return data

    @model_validator(mode="after")
    def _postes(self) -> DemandeIn:
        if len(self.postes) > self.convention.nombre_postes:
            raise PydanticCustomError(
                "trop_de_postes",
                "{n} postes décrits pour {m} poste(s) demandé(s) (convention.nombre_postes)",
                {"n": len(self.postes), "m": self.convention.nombre_postes},
            )
        if self.structure.nature is model.Nature.PRIVEE:
            for index, poste in enumerate(self.postes):
                if poste.contrat is not None and poste.contrat.type is model.TypeContrat.CONTRAT_DE_PROJET:
                    raise PydanticCustomError(
                        "contrat_reserve_au_public",
                        "le contrat de projet est réservé aux structures publiques",
                        {"i": index},
                    )
        if self.structure.zone_prioritaire and any(p.lieu is not None for p in self.postes):
            raise PydanticCustomError(
                "zone_prioritaire_et_lieux",
                "zone_prioritaire (obsolète) ne peut pas être combiné avec le lieu de permanence des postes "
                "(postes[].lieu) : retirez-le et indiquez qpv ou zrr pour chaque poste concerné",
            )
        seen: set[str] = set()
        for poste in self.postes:
            if poste.id in seen:
                raise PydanticCustomError("poste_en_double", "l'identifiant de poste « {id} » apparaît deux fois", {"id": poste.id})
            seen.add(poste.id)
        return self

    def to_domain(self) -> model.Demande:
        s = self.structure
        structure = model.Structure(
            id=s.id,
            siret=s.siret,
            denomination=s.denomination,
            nature=s.nature,
            categorie_juridique=s.categorie_juridique,
            departement=s.departement,
            adresse=s.adresse,
            zone_prioritaire=s.zone_prioritaire,
            representant=model.Representant(**s.representant.model_dump()),
        )
        postes = tuple(
            model.Poste(
                id=p.id,
                etat=model.EtatPoste(p.etat),
                conseiller=model.Conseiller(**p.conseiller.model_dump()) if p.conseiller else None,
                contrat=model.Contrat(**p.contrat.model_dump()) if p.contrat else None,
                vacant_depuis=p.vacant_depuis,
                lieu=model.Lieu(**p.lieu.model_dump()) if p.lieu else None,
            )
            for p in self.postes
        )
        c = self.convention
        return model.Demande(
            structure=structure, vague=c.vague, date_debut=c.date_debut, nombre_postes=c.nombre_postes, postes=postes,
            derogation=self.derogation.to_domain() if self.derogation else None,
        )


# French wording for pydantic's own error types; the field path is added in front.
_MESSAGES: dict[str, str] = {
    "extra_forbidden": "champ inconnu (refusé)",
    "missing": "champ obligatoire manquant",
    "string_type": "doit être une chaîne de caractères",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "bool_type": "doit valoir true ou false",
    "bool_parsing": "doit valoir true ou false",
    "date_type": "doit être une date AAAA-MM-JJ",
    "date_parsing": "doit être une date AAAA-MM-JJ",
    "date_from_datetime_parsing": "doit être une date AAAA-MM-JJ",
    "date_from_datetime_inexact": "doit être une date AAAA-MM-JJ sans heure",
    "list_type": "doit être une liste",
    "model_type": "doit être un objet JSON",
    "model_attributes_type": "doit être un objet JSON",
    "dict_type": "doit être un objet JSON",
    "json_invalid": "JSON illisible",
}


# The one table from pydantic's error types to conum's field codes (README, « Codes des champs
# refusés »). Codes raised by conum's own validators (siret_invalide, trop_de_postes…) are already
# conum's and pass through; any other pydantic type becomes valeur_invalide.
CODES_CHAMP: dict[str, str] = {
    "extra_forbidden": "champ_inconnu",
    "missing": "champ_manquant",
    **dict.fromkeys(("string_type", "int_type", "int_parsing", "int_from_float", "float_type", "float_parsing",
                     "bool_type", "bool_parsing", "list_type", "model_type", "model_attributes_type", "dict_type",
                     "decimal_type", "decimal_parsing", "none_required", "is_instance_of"), "type_invalide"),
    **dict.fromkeys(("date_type", "date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact",
                     "datetime_type", "datetime_parsing", "datetime_from_date_parsing"), "date_invalide"),
    **dict.fromkeys(("enum", "literal_error"), "valeur_inconnue"),
    **dict.fromkeys(("greater_than", "greater_than_equal", "less_than", "less_than_equal", "decimal_max_digits",
                     "decimal_max_places", "finite_number"), "hors_limites"),
    **dict.fromkeys(("string_too_long", "string_too_short", "too_long", "too_short"), "longueur_invalide"),
    "string_pattern_mismatch": "format_invalide",
    "json_invalid": "json_invalide",
    **dict.fromkeys(("value_error", "assertion_error"), "valeur_invalide"),
}


def _pydantic_types() -> frozenset[str]:
    from typing import get_args

    from pydantic_core.core_schema import ErrorType

    return frozenset(get_args(ErrorType))


_PYDANTIC_TYPES = _pydantic_types()


def field_code(err: ErrorDetails) -> str:
    """conum's stable code for one pydantic error (``CODES_CHAMP``); conum's own codes unchanged."""
    kind = str(err.get("type", ""))
    if kind in CODES_CHAMP:
        return CODES_CHAMP[kind]
    return "valeur_invalide" if kind in _PYDANTIC_TYPES else kind


def french_message(err: ErrorDetails) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        return f"valeur inconnue « {err.get('input')} » (valeurs admises : {expected.replace(' or ', ', ')})"
    if kind == "greater_than":
        return f"doit être strictement supérieur à {ctx.get('gt')} (reçu : {err.get('input')})"
    if kind == "less_than_equal":
        return f"doit être inférieur ou égal à {ctx.get('le')} (reçu : {err.get('input')})"
    if kind == "string_too_long":
        return f"ne doit pas dépasser {ctx.get('max_length')} caractères"
    if kind == "too_long":
        return f"ne doit pas dépasser {ctx.get('max_length')} éléments"
    if kind == "string_pattern_mismatch":
        return "identifiant invalide (lettres, chiffres, « - », « _ » et « . » seulement)"
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    return str(err["msg"])  # our PydanticCustomError messages are already French


# Errors raised by a model validator are located on the model; name the field they are about.
_FIELD_OF: dict[str, str] = {
    "trop_de_postes": "postes",
    "poste_en_double": "postes",
    "date_fin_manquante": "date_fin",
    "dates_incoherentes": "date_fin",
    "conseiller_manquant": "conseiller",
    "contrat_manquant": "contrat",
    "conseiller_sur_poste_vacant": "conseiller",
    "contrat_sur_poste_vacant": "contrat",
    "contrat_reserve_au_public": "postes[{i}].contrat.type",
    "zone_prioritaire_et_lieux": "structure.zone_prioritaire",
}


def error_path(err: ErrorDetails) -> str:
    path = ""
    for part in err["loc"]:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    suffix = _FIELD_OF.get(err["type"])
    if suffix and "{" in suffix:  # a model-level check that knows which item it is about
        return suffix.format(**(err.get("ctx") or {}))
    if suffix and not path.endswith(suffix):
        path = f"{path}.{suffix}" if path else suffix
    return path


ZONE_PRIORITAIRE_OBSOLETE = (
    "structure.zone_prioritaire est obsolète : la bonification QPV/ZRR est attribuée à chaque poste selon son "
    "lieu de permanence (postes[].lieu : commune, qpv, zrr) ; cette demande l'applique à tous ses postes, "
    "vérifiez que chacun est bien situé en QPV ou en ZRR"
)


def avertissements_demande(demande: model.Demande) -> list[str]:
    """What a valid demande still should change (French, for the person who sent it)."""
    if demande.structure.zone_prioritaire:
        return [ZONE_PRIORITAIRE_OBSOLETE]
    return []


def parse_demande(payload: Any) -> model.Demande:
    """Validate a decoded JSON payload and return the domain demande."""
    return validate_demande(payload).to_domain()


def validate_demande(payload: Any) -> DemandeIn:
    """Validate a decoded JSON payload; ``model_dump(mode="json")`` of the result is its canonical form
    (defaults filled in, SIRET without spaces), so two spellings of one demande hash the same."""
    if not isinstance(payload, dict):
        raise DemandeInvalide([FieldError("", "type_invalide", "la demande doit être un objet JSON")])
    try:
        return DemandeIn.model_validate(payload)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            errors.append(FieldError(error_path(err), field_code(err), french_message(err)))
        raise DemandeInvalide(errors) from exc
