"""An instructeur's decision on what the machine could not decide (no I/O).

A piece or a signed copy whose checks end ``a_verifier`` (a scan without MRZ, statuts no check can
read, a RIB whose holder differs, a copy signed by hand…) waits for a human. An instructeur of its
département, or an admin, accepts or refuses it; a refusal names its motif (one of ``MOTIFS_REFUS``,
with a comment for « autre »). The decision is kept beside the machine's findings, never instead of
them: the findings say what the machine saw, the decision what a person concluded. A new upload of the
same kind (and poste) supersedes both, since the newest piece is the one that counts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dossiers.domain.demande import format_character

__all__ = ["Verdict", "Cible", "MOTIFS_REFUS", "MAX_COMMENTAIRE", "Decision", "DecisionInvalide", "nouvelle_decision",
           "texte_saisi"]

MAX_COMMENTAIRE = 1000


class Verdict(StrEnum):
    ACCEPTE = "accepte"
    REFUSE = "refuse"

    @property
    def libelle(self) -> str:
        return "acceptée" if self is Verdict.ACCEPTE else "refusée"


class Cible(StrEnum):
    PIECE = "piece"
    COPIE = "copie"  # a signed copy of a convention version


# why a piece or a signed copy is refused: the list the pages offer, and what the rapport prints
MOTIFS_REFUS: dict[str, str] = {
    "illisible": "document illisible ou incomplet",
    "non_conforme": "document non conforme à la pièce demandée",
    "perime": "document périmé ou plus en vigueur",
    "incoherent": "informations incohérentes avec le dossier",
    "signataire": "signataire non habilité ou signature absente",
    "autre": "autre motif (précisé en commentaire)",
}


class DecisionInvalide(ValueError):
    """A decision (or a text a person typed, ``texte_saisi``) that cannot be recorded as given: ``champ``
    names what to correct."""

    def __init__(self, champ: str, message: str) -> None:
        super().__init__(message)
        self.champ, self.message = champ, message


@dataclass(frozen=True)
class Decision:
    cible: Cible
    verdict: Verdict
    par: str  # the agent's name, as the pages and documents show it
    le: datetime
    motif: str | None = None  # a key of MOTIFS_REFUS (refusals only)
    commentaire: str | None = None
    token_id: str | None = None  # the API token or the agent's session that decided (None: the CLI)
    id: int = 0

    @property
    def motif_libelle(self) -> str | None:
        return MOTIFS_REFUS.get(self.motif) if self.motif else None

    def texte(self) -> str:
        """« Refusée le 12/03/2025 par Marie Dupont : document périmé (daté de 2019) »."""
        out = f"{self.verdict.libelle.capitalize()} le {self.le:%d/%m/%Y} par {self.par}"
        detail = "; ".join(x for x in (self.motif_libelle if self.motif != "autre" else None, self.commentaire) if x)
        return f"{out} : {detail}" if detail else out

    def to_dict(self) -> dict[str, Any]:
        return {"decision": str(self.verdict), "motif": self.motif, "motif_libelle": self.motif_libelle,
                "commentaire": self.commentaire, "par": self.par, "le": self.le.isoformat(), "texte": self.texte()}


_BLANCS = frozenset("\t\n\r")  # the control characters a text typed in a form or a terminal may hold


def texte_saisi(value: str | None, champ: str, limite: int) -> str | None:
    """A text a person typed (a decision's comment, a payment's motif), its blanks collapsed; None when
    empty. Refused (``DecisionInvalide`` on ``champ``): longer than ``limite``, or holding a control
    character (NUL…: PostgreSQL cannot store it, a terminal or a PDF may act on it) or an invisible one."""
    raw = value or ""
    if (control := next((c for c in raw if unicodedata.category(c) == "Cc" and c not in _BLANCS), None)) is not None:
        raise DecisionInvalide(champ, f"caractère de contrôle U+{ord(control):04X} refusé.")
    text = " ".join(raw.split())
    if not text:
        return None
    if len(text) > limite:
        raise DecisionInvalide(champ, f"{limite} caractères au plus.")
    if (char := format_character(text)) is not None:
        raise DecisionInvalide(champ, f"caractère invisible U+{ord(char):04X} refusé.")
    return text


def nouvelle_decision(cible: Cible, verdict: str, *, par: str, le: datetime, motif: str | None = None,
                      commentaire: str | None = None, token_id: str | None = None) -> Decision:
    """A decision as an agent gives it, checked: a refusal has a motif of the list, « autre » a comment."""
    try:
        chosen = Verdict(verdict)
    except ValueError:
        raise DecisionInvalide("decision", "« accepte » ou « refuse ».") from None
    name = texte_saisi(par, "par", 200)
    if name is None:
        raise DecisionInvalide("par", "indiquez qui décide.")
    note = texte_saisi(commentaire, "commentaire", MAX_COMMENTAIRE)
    code = (motif or "").strip() or None
    if code is not None and code not in MOTIFS_REFUS:
        raise DecisionInvalide("motif", "motif inconnu : " + ", ".join(MOTIFS_REFUS) + ".")
    if chosen is Verdict.REFUSE and code is None:
        raise DecisionInvalide("motif", "un refus indique son motif.")
    if chosen is Verdict.ACCEPTE and code is not None:
        raise DecisionInvalide("motif", "une acceptation n'a pas de motif de refus (un commentaire suffit).")
    if code == "autre" and note is None:
        raise DecisionInvalide("commentaire", "le motif « autre » se précise en commentaire.")
    return Decision(cible, chosen, name, le, code, note, token_id)
