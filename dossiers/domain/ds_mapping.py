"""From a Démarches simplifiées dossier (its champs, as the GraphQL API gives them) to a conum demande
and the pieces to validate, following the démarche's mapping file (``config/ds/<numero>.toml``).

No I/O: the mapping comes in as the parsed TOML, the dossier as the API's JSON. A champ is named in
the mapping by its ``champDescriptorId`` (stable across revisions of the démarche: prefer it) or by
its label. The file's sections::

    demarche = 123456
    [champs]       demande field (dotted path) -> champ, e.g. "structure.siret" = "Q2hhbXAtMTAx"
    [valeurs]      demande field -> a constant, e.g. "convention.vague" = 2
    [traductions."structure.nature"]   DS choice -> conum value, e.g. "Structure publique" = "publique"
    [postes]       bloc = the repetition champ whose rows are the postes
    [postes.champs] / [postes.valeurs]   poste field -> champ of the row / constant
    [pieces]       piece kind -> PieceJustificativeChamp, e.g. identite = "Pièce d'identité du représentant"
    [postes.pieces] contrat = the row's PieceJustificativeChamp
    [ecriture]     what conum writes back to DS (see ``Ecriture``)

A required field the mapping leaves out is refused when the file is loaded (no dossier can be
mapped); a required champ a dossier leaves empty is an error of that dossier only, with its French
message. Whether the values make a valid demande is ``validate_demande``'s job afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from dossiers.domain.pieces import PieceKind
from dossiers.errors import CorrespondanceInvalide, FieldError

__all__ = ["Correspondance", "Ecriture", "PieceDs", "DossierDs", "load_correspondance", "map_dossier", "REQUIRED",
           "files_of", "find_champ"]

REQUIRED = (
    "structure.id", "structure.siret", "structure.denomination", "structure.nature", "structure.categorie_juridique",
    "structure.departement", "structure.adresse", "structure.representant.civilite",
    "structure.representant.prenom", "structure.representant.nom", "structure.representant.qualite",
    "convention.vague", "convention.date_debut", "convention.nombre_postes",
)
POSTE_REQUIRED = ("id", "etat")
_INTS = {"convention.vague", "convention.nombre_postes"}
_BOOLS = {"structure.zone_prioritaire", "lieu.qpv", "lieu.zrr"}
_TRUE = {"true", "oui", "vrai", "1", "on", "yes"}
_FALSE = {"false", "non", "faux", "0", "off", "no", ""}
_PATH = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")
MAX_POSTES = 500


@dataclass(frozen=True)
class Ecriture:
    """What conum writes back to the dossier on DS, each action on or off.

    ``annotation``: the private annotation (a text annotation champ) that receives the check's status
    and findings; ``message_pieces``: a message to the applicant listing the missing or refused pieces;
    ``convention``: on issue, ``message`` (the PDF attached to a message), ``accepter``
    (``dossierAccepter`` with the PDF as justificatif) or ``aucune``; ``instructeur_id``: the
    instructeur DS records as the author (required as soon as one action is on)."""

    instructeur_id: str | None = None
    annotation: str | None = None
    message_pieces: bool = False
    convention: Literal["message", "accepter", "aucune"] = "aucune"
    copie_signee: bool = True  # a PDF the applicant attaches to a message after the issue is the signed copy

    @property
    def active(self) -> bool:
        return bool(self.annotation or self.message_pieces or self.convention != "aucune")


@dataclass(frozen=True)
class Correspondance:
    demarche: int
    champs: dict[str, str]
    valeurs: dict[str, Any]
    traductions: dict[str, dict[str, str]]
    postes_bloc: str | None
    postes_champs: dict[str, str]
    postes_valeurs: dict[str, Any]
    pieces: dict[PieceKind, str]
    postes_pieces: dict[PieceKind, str]
    ecriture: Ecriture = field(default_factory=Ecriture)


@dataclass(frozen=True)
class PieceDs:
    kind: PieceKind
    poste_id: str | None
    champ: str  # champDescriptorId of the PieceJustificativeChamp
    file: dict[str, Any]  # File: filename, byteSizeBigInt, checksum, contentType, url, createdAt


@dataclass(frozen=True)
class DossierDs:
    number: int
    ds_id: str
    updated_at: str
    demande: dict[str, Any]
    pieces: tuple[PieceDs, ...]


def _strings(section: Any, what: str) -> dict[str, str]:
    if not isinstance(section, dict) or not all(isinstance(v, str) and v.strip() for v in section.values()):
        raise ValueError(f"[{what}] : chaque entrée nomme un champ DS (identifiant ou libellé, texte non vide)")
    bad = [k for k in section if not _PATH.match(k)]
    if bad:
        raise ValueError(f"[{what}] : chemin de champ conum invalide {bad[0]!r} (ex. structure.siret)")
    return dict(section)


def _kinds(section: Any, what: str) -> dict[PieceKind, str]:
    out: dict[PieceKind, str] = {}
    for kind, ref in _strings(section, what).items():
        try:
            out[PieceKind(kind)] = ref
        except ValueError:
            raise ValueError(f"[{what}] : nature de pièce inconnue {kind!r} (attendu : {', '.join(PieceKind)})") from None
    return out


def load_correspondance(data: dict[str, Any]) -> Correspondance:
    """The mapping of a démarche from its parsed TOML; ``ValueError`` with a French message when it is wrong."""
    known = {"demarche", "champs", "valeurs", "traductions", "postes", "pieces", "ecriture"}
    if unknown := sorted(set(data) - known):
        raise ValueError(f"section inconnue : {', '.join(unknown)} (attendu : {', '.join(sorted(known))})")
    if not isinstance(data.get("demarche"), int) or data["demarche"] <= 0:
        raise ValueError("demarche : le numéro de la démarche DS (entier) est obligatoire")
    champs, valeurs = _strings(data.get("champs", {}), "champs"), dict(data.get("valeurs", {}))
    if missing := [p for p in REQUIRED if p not in champs and p not in valeurs]:
        raise ValueError(f"champs obligatoires de la demande sans correspondance : {', '.join(missing)}")
    postes = dict(data.get("postes", {}))
    bloc = postes.pop("bloc", None)
    postes_champs = _strings(postes.pop("champs", {}), "postes.champs")
    postes_valeurs = dict(postes.pop("valeurs", {}))
    postes_pieces = _kinds(postes.pop("pieces", {}), "postes.pieces")
    if postes:
        raise ValueError(f"[postes] : clé inconnue {sorted(postes)[0]!r} (attendu : bloc, champs, valeurs, pieces)")
    if bloc is not None and (missing := [p for p in POSTE_REQUIRED if p not in postes_champs and p not in postes_valeurs]):
        raise ValueError(f"champs obligatoires d'un poste sans correspondance : {', '.join(missing)}")
    traductions = data.get("traductions", {})
    if not isinstance(traductions, dict) or not all(isinstance(t, dict) for t in traductions.values()):
        raise ValueError("[traductions.\"chemin\"] : une table « choix DS » = « valeur conum » par champ")
    ecriture = dict(data.get("ecriture", {}))
    try:
        written = Ecriture(**ecriture)
    except TypeError as exc:
        raise ValueError(f"[ecriture] : {exc}") from None
    if written.convention not in ("message", "accepter", "aucune"):
        raise ValueError("[ecriture] convention : « message », « accepter » ou « aucune »")
    if written.active and not written.instructeur_id:
        raise ValueError("[ecriture] instructeur_id : l'identifiant DS de l'instructeur auteur des écritures est obligatoire")
    return Correspondance(
        demarche=data["demarche"], champs=champs, valeurs=valeurs,
        traductions={k: {str(a): str(b) for a, b in v.items()} for k, v in traductions.items()},
        postes_bloc=bloc, postes_champs=postes_champs, postes_valeurs=postes_valeurs,
        pieces=_kinds(data.get("pieces", {}), "pieces"), postes_pieces=postes_pieces, ecriture=written,
    )


def find_champ(champs: list[dict[str, Any]], ref: str) -> dict[str, Any] | None:
    """The champ named by its descriptor id, its own id, or its label (the first of that label)."""
    for champ in champs:
        if ref in (champ.get("champDescriptorId"), champ.get("id")):
            return champ
    return next((c for c in champs if (c.get("label") or "").strip() == ref.strip()), None)


def _raw(champ: dict[str, Any]) -> Any:
    """A champ's value: typed fields first (the query aliases them), else its text."""
    for alias in ("date", "checked", "oui", "entier"):
        if champ.get(alias) is not None:
            return champ[alias]
    value = champ.get("stringValue")
    return value.strip() if isinstance(value, str) else value


def _convert(path: str, value: Any, traductions: dict[str, dict[str, str]]) -> Any:
    if isinstance(value, str) and path in traductions:
        value = traductions[path].get(value, value)
    if path in _INTS:
        try:
            return int(str(value).replace(" ", ""))
        except ValueError:
            raise ValueError(f"nombre entier attendu, reçu « {value} »") from None
    if path in _BOOLS:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ValueError(f"oui ou non attendu, reçu « {value} »")
    return value


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


def _fill(target: dict[str, Any], champs: list[dict[str, Any]], mapping: dict[str, str], valeurs: dict[str, Any],
          traductions: dict[str, dict[str, str]], required: tuple[str, ...], where: str,
          errors: list[FieldError], prefix: str = "") -> None:
    for path, value in valeurs.items():
        _put(target, path, value)
    for path, ref in mapping.items():
        champ = find_champ(champs, ref)
        value = _raw(champ) if champ is not None else None
        if value is None or value == "":
            if path in required:
                label = champ["label"] if champ is not None else ref
                errors.append(FieldError(prefix + path, "champ_ds_vide" if champ else "champ_ds_absent",
                                         f"le champ DS « {label} »{where} est {'vide' if champ else 'absent du dossier'}"))
            continue
        try:
            _put(target, path, _convert(prefix + path, value, traductions))
        except ValueError as exc:
            errors.append(FieldError(prefix + path, "champ_ds_invalide", f"champ DS « {champ['label']} »{where} : {exc}"))  # type: ignore[index]


def files_of(champ: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list(champ.get("files") or []) if champ else []


def map_dossier(dossier: dict[str, Any], c: Correspondance) -> DossierDs:
    """The demande and pieces of one DS dossier; ``CorrespondanceInvalide`` lists every champ at fault."""
    errors: list[FieldError] = []
    champs = list(dossier.get("champs") or [])
    demande: dict[str, Any] = {}
    _fill(demande, champs, c.champs, c.valeurs, c.traductions, REQUIRED, "", errors)
    pieces = [PieceDs(kind, None, find_champ(champs, ref)["champDescriptorId"], f)  # type: ignore[index]
              for kind, ref in c.pieces.items() for f in files_of(find_champ(champs, ref))]
    postes: list[dict[str, Any]] = []
    if c.postes_bloc is not None:
        bloc = find_champ(champs, c.postes_bloc)
        rows = list(bloc.get("rows") or []) if bloc else []
        if len(rows) > MAX_POSTES:
            errors.append(FieldError("postes", "trop_de_postes", f"{len(rows)} postes : au plus {MAX_POSTES}"))
            rows = []
        for i, row in enumerate(rows, start=1):
            poste: dict[str, Any] = {}
            row_champs = list(row.get("champs") or [])
            _fill(poste, row_champs, c.postes_champs, c.postes_valeurs,
                  {k.removeprefix("postes."): v for k, v in c.traductions.items()}, POSTE_REQUIRED,
                  f" (poste n° {i})", errors, prefix="")
            for part in ("conseiller", "contrat", "lieu"):
                if part in poste and not poste[part]:
                    del poste[part]
            postes.append(poste)
            for kind, ref in c.postes_pieces.items():
                champ = find_champ(row_champs, ref)
                pieces.extend(PieceDs(kind, poste.get("id"), champ["champDescriptorId"], f)  # type: ignore[index]
                              for f in files_of(champ))
    if postes or c.postes_bloc is not None:
        demande["postes"] = postes
    if errors:
        raise CorrespondanceInvalide(int(dossier.get("number") or 0), errors)
    return DossierDs(number=int(dossier["number"]), ds_id=str(dossier["id"]),
                     updated_at=str(dossier["dateDerniereModification"]), demande=demande, pieces=tuple(pieces))
