"""An instructeur's decision: what it takes to be recorded, and what the dossier then counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from dossiers.domain.decisions import Cible, DecisionInvalide, Verdict, nouvelle_decision
from dossiers.domain.dossier import DossierStatut, dossier_view
from dossiers.domain.findings import Statut
from dossiers.domain.pieces import PieceKind
from tests.unit.test_dossier import ALERTE, ERREUR, PUBLIQUE, REQUISES, complete, piece

LE = datetime(2025, 3, 12, 10, 30, tzinfo=UTC)


def decided(n: int, verdict: str, **kw: str) -> object:
    p = piece(n, PieceKind.IDENTITE, ALERTE)
    return replace(p, decision=nouvelle_decision(Cible.PIECE, verdict, par="Marie Dupont", le=LE, **kw))


def test_an_accepted_piece_completes_the_dossier_and_keeps_its_findings() -> None:
    view = dossier_view(PUBLIQUE, complete(decided(7, "accepte")), REQUISES)
    assert view.statut is DossierStatut.COMPLET
    current = next(p for p in view.courantes if p.kind is PieceKind.IDENTITE)
    assert current.statut is Statut.A_VERIFIER and current.retenu is Statut.VALIDE and current.findings == (ALERTE,)
    data = next(p for p in view.to_dict()["pieces"] if p["kind"] == "identite")
    assert (data["status"], data["final_status"], data["decision"]["par"]) == ("a_verifier", "valide", "Marie Dupont")


def test_a_refused_piece_makes_the_dossier_incomplete_until_a_new_upload() -> None:
    refused = decided(7, "refuse", motif="illisible")
    assert dossier_view(PUBLIQUE, complete(refused), REQUISES).statut is DossierStatut.INCOMPLET
    # a new upload of the same kind supersedes the piece and its decision: to be looked at again
    again = piece(8, PieceKind.IDENTITE, ALERTE)
    view = dossier_view(PUBLIQUE, complete(refused, again), REQUISES)
    assert view.statut is DossierStatut.A_VERIFIER and again in view.courantes


def test_a_decision_never_overrides_what_the_machine_refused() -> None:
    bad = replace(piece(7, PieceKind.SIRENE, ERREUR),
                  decision=nouvelle_decision(Cible.PIECE, "accepte", par="Marie Dupont", le=LE))
    assert bad.retenu is Statut.INVALIDE
    assert dossier_view(PUBLIQUE, complete(bad), REQUISES).statut is DossierStatut.INCOMPLET


def test_the_decision_reads_as_a_sentence() -> None:
    refus = nouvelle_decision(Cible.COPIE, "refuse", par="  Marie   Dupont ", le=LE, motif="perime",
                              commentaire="Avis daté de 2019")
    assert refus.verdict is Verdict.REFUSE and refus.par == "Marie Dupont"
    assert refus.texte() == ("Refusée le 12/03/2025 par Marie Dupont : document périmé ou plus en vigueur; "
                             "Avis daté de 2019")
    autre = nouvelle_decision(Cible.PIECE, "refuse", par="M. D", le=LE, motif="autre", commentaire="Tampon absent")
    assert autre.texte() == "Refusée le 12/03/2025 par M. D : Tampon absent"
    assert nouvelle_decision(Cible.PIECE, "accepte", par="M. D", le=LE).texte() == "Acceptée le 12/03/2025 par M. D"


@pytest.mark.parametrize(("verdict", "kw", "champ"), [
    ("refuse", {}, "motif"),  # a refusal says why
    ("refuse", {"motif": "autre"}, "commentaire"),  # « autre » is explained
    ("refuse", {"motif": "parce_que"}, "motif"),  # a motif of the list
    ("accepte", {"motif": "illisible"}, "motif"),  # an acceptance has no refusal motif
    ("peut-etre", {}, "decision"),
    ("accepte", {"par": "   "}, "par"),
    ("accepte", {"commentaire": "x" * 1001}, "commentaire"),
    ("accepte", {"commentaire": "ok\u202egnp.exe"}, "commentaire"),  # a bidi override
    ("accepte", {"commentaire": "lu\x00"}, "commentaire"),  # NUL: PostgreSQL cannot store it
    ("accepte", {"commentaire": "lu \x1b[2J"}, "commentaire"),  # a terminal's escape
    ("accepte", {"commentaire": "\x85"}, "commentaire"),  # a C1 control
    ("accepte", {"par": "Marie\x00"}, "par"),
])
def test_a_decision_that_cannot_be_recorded_names_what_to_correct(verdict: str, kw: dict, champ: str) -> None:
    kw = {"par": "Marie Dupont", **kw}
    with pytest.raises(DecisionInvalide) as refused:
        nouvelle_decision(Cible.PIECE, verdict, le=LE, **kw)
    assert refused.value.champ == champ


def test_a_comment_typed_on_several_lines_is_kept_on_one() -> None:
    """Tabs and line breaks are blanks, not refused control characters: collapsed to single spaces."""
    decided = nouvelle_decision(Cible.PIECE, "accepte", par="M. D", le=LE, commentaire="Lu\n\tle 3 mars\r\n")
    assert decided.commentaire == "Lu le 3 mars"
