"""Pure checks of a piece: facts in (``FileFacts``, ``Contexte``), findings and fields out.

``check_piece`` first runs the file checks every kind shares (type, size, pages, corruption, active
content); when they leave something readable it runs the check of the kind (sirene, identite,
contrat, rib). Kinds no check can read (statuts, PV d'AG…) get ``PIECE_NON_CONTROLEE``: a human reads
them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dossiers.domain.checks.contrat import check_contrat
from dossiers.domain.checks.fichier import blocking, check_file
from dossiers.domain.checks.identite import check_identite
from dossiers.domain.checks.rib import check_rib
from dossiers.domain.checks.sirene import check_sirene
from dossiers.domain.findings import Finding, FindingCode, Severity
from dossiers.domain.pieces import Contexte, FileFacts, KindPolicy, PieceKind, PieceResult

__all__ = ["check_piece", "check_file", "check_sirene", "check_identite", "check_contrat", "check_rib"]

Check = Callable[[FileFacts, Contexte], tuple[list[Finding], dict[str, Any]]]

_BY_KIND: dict[PieceKind, Check] = {
    PieceKind.SIRENE: check_sirene,
    PieceKind.IDENTITE: check_identite,
    PieceKind.CONTRAT: check_contrat,
    PieceKind.RIB: check_rib,
}


def check_piece(kind: PieceKind, facts: FileFacts, ctx: Contexte, policy: KindPolicy) -> PieceResult:
    findings = list(check_file(facts, policy))
    fields: dict[str, Any] = {}
    if not blocking(findings):
        if (check := _BY_KIND.get(kind)) is not None:
            more, fields = check(facts, ctx)
            findings.extend(more)
        else:
            findings.append(Finding(FindingCode.PIECE_NON_CONTROLEE, Severity.ALERTE,
                                    "Le contenu de cette pièce n'est pas contrôlé automatiquement : "
                                    "à lire par l'instructeur."))
    return PieceResult(kind, facts.mime, facts.sha256, facts.size, tuple(findings), fields)
