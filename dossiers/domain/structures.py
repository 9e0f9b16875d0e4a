"""Whose a structure id is, and which of its facts an issued convention freezes (no I/O).

A structure is known by its département and the id its portail gave it, its *reference*
(``structure.id`` of the demande). The catalog key, from which the dossier and convention ids derive
(``DOS-V2-<key>``, ``CN-V2-<key>``), is:

- the reference itself for structures already in the catalog, and for a new structure sent by a token
  that covers every département (the national pilotage, an admin, the CLI): ids unchanged;
- ``<département>.<reference>`` (``33.STR-777777``) for a new structure sent by a portail limited to
  some départements. A limited portail thus creates ids only in its own départements' namespaces: it can
  neither take an id another département will need, nor learn whether one exists there (the same
  demande gets the same answer, whatever other départements hold).

A reference ``<d>.<x>`` whose prefix ``d`` is a département code other than the demande's is refused
(it is another département's namespace); ``<d>.<x>`` for the demande's own département is the same
structure as ``<x>`` sent by that département's limited portail.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from dossiers.domain.acces import DEPARTEMENT
from dossiers.domain.model import Structure

__all__ = ["cle_qualifiee", "reference", "prefixe_etranger", "verifier_espace", "FAITS_FIGES", "ecarts", "MAX_ID"]

MAX_ID = 64  # a demande's structure.id (domain.demande.Ident)
# what an issued convention freezes: everything but the id (the département is never moved at all)
FAITS_FIGES = ("siret", "denomination", "nature", "categorie_juridique", "departement", "adresse",
               "zone_prioritaire", "representant")


def _prefixe(ref: str) -> str | None:
    head, sep, rest = ref.partition(".")
    return head if sep and rest and DEPARTEMENT.match(head) else None


def reference(departement: str, ref: str) -> str:
    """The reference without its département's prefix (``33.STR-1`` in the 33 is ``STR-1``)."""
    return ref[len(departement) + 1:] if _prefixe(ref) == departement else ref


def cle_qualifiee(departement: str, ref: str) -> str:
    """The key a limited portail's new structure gets: the reference in its département's namespace."""
    return f"{departement}.{reference(departement, ref)}"


def prefixe_etranger(departement: str, ref: str) -> str | None:
    """The other département whose namespace ``ref`` is written in, if any (such a reference is refused)."""
    prefixe = _prefixe(ref)
    return prefixe if prefixe is not None and prefixe != departement else None


def verifier_espace(structure: Structure) -> None:
    """Raise ``DemandeInvalide`` (structure.id) when the id is written in another département's namespace."""
    from dossiers.errors import DemandeInvalide

    if (autre := prefixe_etranger(structure.departement, structure.id)) is not None:
        raise DemandeInvalide.single("structure.id", "structure_id_autre_departement",
                                     f"le préfixe « {autre}. » est réservé aux structures du département {autre}")


def _faits(structure: Structure) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(structure, name) for name in FAITS_FIGES}
    values["nature"] = str(values["nature"])
    values["representant"] = {f.name: getattr(structure.representant, f.name) for f in fields(structure.representant)}
    return values


def ecarts(avant: Structure, apres: Structure) -> list[str]:
    """The frozen facts that differ, as demande fields (``structure.siret``, ``structure.representant.nom``)."""
    a, b = _faits(avant), _faits(apres)
    champs = []
    for name in FAITS_FIGES:
        if name == "representant":
            champs += [f"structure.representant.{k}" for k in a[name] if a[name][k] != b[name].get(k)]
        elif a[name] != b[name]:
            champs.append(f"structure.{name}")
    return champs
