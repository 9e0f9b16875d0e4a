"""Use case: an admin corrects the facts of a structure whose convention is issued.

Once a structure has a convention, its facts (SIRET, nature, names, address, representative) no longer
follow the demandes portails send (``StructureFigee``): they change through an avenant, or through this
correction, made by a named person, with a reason, and written to the audit log with the values before
and after (``conum audit``). The issued documents are not touched: the next version reads the corrected
facts.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from dossiers.domain.acces import Jeton
from dossiers.domain.demande import StructureIn, error_path, field_code, french_message
from dossiers.domain.model import Representant, Structure
from dossiers.domain.structures import ecarts
from dossiers.errors import ChangementRefuse, DemandeInvalide, DossierError, ErrorCode, FieldError
from dossiers.ports import AppPorts
from dossiers.services.acces import Auteur, auditer

__all__ = ["Correction", "corriger_structure", "CHAMPS_CORRIGEABLES"]

CHAMPS_CORRIGEABLES = ("siret", "denomination", "nature", "categorie_juridique", "adresse",
                       "representant.civilite", "representant.prenom", "representant.nom", "representant.qualite")


@dataclass(frozen=True)
class Correction:
    avant: Structure
    apres: Structure
    champs: list[str]  # structure.siret, structure.representant.nom…

    def to_dict(self) -> dict[str, Any]:
        return {"structure_id": self.apres.id, "champs": self.champs,
                "avant": _valeurs(self.avant, self.champs), "apres": _valeurs(self.apres, self.champs)}


def _json(structure: Structure) -> dict[str, Any]:
    data = dataclasses.asdict(structure)
    data["nature"] = str(structure.nature)
    return data


def _valeurs(structure: Structure, champs: list[str]) -> dict[str, Any]:
    data = _json(structure)
    out = {}
    for champ in champs:
        value: Any = data
        for part in champ.removeprefix("structure.").split("."):
            value = value[part]
        out[champ] = value
    return out


def corriger_structure(app: AppPorts, structure_id: str, changements: dict[str, str], *, qui: Jeton | Auteur,
                       motif: str, ressource: str, now: datetime) -> Correction:
    """Apply ``changements`` (``CHAMPS_CORRIGEABLES`` -> new value) to the structure, and audit it as done by
    ``qui`` (``--par`` at the terminal) on ``ressource`` (the command line, or a request path)."""
    par = qui.nom
    if not par.strip() or not motif.strip():
        raise ChangementRefuse("Une correction dit qui la fait (--par) et pourquoi (--motif).")
    inconnus = sorted(set(changements) - set(CHAMPS_CORRIGEABLES))
    if inconnus or not changements:
        raise ChangementRefuse(f"Champs corrigeables : {', '.join(CHAMPS_CORRIGEABLES)}"
                               + (f" (inconnu : {', '.join(inconnus)})." if inconnus else " ; aucun donné."))
    avant = app.catalog.get_structure(structure_id)
    if avant is None:
        raise DossierError(f"Structure {structure_id} introuvable.", code=ErrorCode.DOSSIER_INTROUVABLE)
    data = _json(avant)
    for champ, valeur in changements.items():
        if champ.startswith("representant."):
            data["representant"][champ.split(".", 1)[1]] = valeur
        else:
            data[champ] = valeur
    try:
        valid = StructureIn.model_validate(data)
    except ValidationError as exc:
        raise DemandeInvalide([FieldError(f"structure.{error_path(err)}", field_code(err), french_message(err))
                               for err in exc.errors(include_url=False)]) from exc
    apres = Structure(id=valid.id, siret=valid.siret, denomination=valid.denomination, nature=valid.nature,
                      categorie_juridique=valid.categorie_juridique, departement=valid.departement,
                      adresse=valid.adresse, zone_prioritaire=valid.zone_prioritaire,
                      representant=Representant(**valid.representant.model_dump()))
    champs = ecarts(avant, apres)
    if not champs:
        raise ChangementRefuse(f"La structure {structure_id} a déjà ces données.", code=ErrorCode.CHANGEMENT_SANS_EFFET)
    app.catalog.corriger_structure(apres)
    correction = Correction(avant, apres, champs)
    auditer(app, qui, "structure.corriger", ressource=ressource, statut=200, departement=avant.departement,
            detail={"par": par, "motif": motif, **correction.to_dict()}, adresse=None, now=now)
    return correction
