"""The dossier view: which pieces count, which are missing, and the status an instructeur sees."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import pytest

from dossiers.domain.dossier import Dossier, DossierStatut, PieceRecord, PiecesRequises, dossier_view
from dossiers.domain.findings import Finding, FindingCode, Severity, Statut
from dossiers.domain.pieces import PieceKind
from dossiers.settings import ROOT

REQUISES = PiecesRequises.from_mapping(tomllib.loads((ROOT / "config" / "pieces.toml").read_text("utf-8")))
T0 = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
PUBLIQUE = Dossier("DOS-V2-STR-1", "STR-1", "21590350100017", "Commune de Roubaix", "publique", "59",
                   "Guillaume Delbar", (("P-1", "Inès Témoin-Lefèvre"), ("P-2", "Mohamed Benali")))
ALERTE = Finding(FindingCode.IDENTITE_MRZ_ABSENTE, Severity.ALERTE, "à vérifier")
ERREUR = Finding(FindingCode.SIRENE_AVIS_PERIME, Severity.ERREUR, "périmé")


def piece(n: int, kind: PieceKind, *findings: Finding, poste: str | None = None) -> PieceRecord:
    statut = (Statut.INVALIDE if any(f.severity is Severity.ERREUR for f in findings)
              else Statut.A_VERIFIER if findings else Statut.VALIDE)
    return PieceRecord(n, kind, f"{kind}.pdf", f"{n:064x}", 100, "application/pdf", statut, findings, {},
                       T0 + timedelta(minutes=n), poste_id=poste)


def complete(*changes: PieceRecord) -> list[PieceRecord]:
    base = [piece(1, PieceKind.DESIGNATION), piece(2, PieceKind.IDENTITE), piece(3, PieceKind.SIRENE),
            piece(4, PieceKind.RIB), piece(5, PieceKind.CONTRAT, poste="P-1"), piece(6, PieceKind.CONTRAT, poste="P-2")]
    return base + list(changes)


def test_the_pieces_file_follows_the_programme_lists() -> None:
    assert REQUISES.par_nature["publique"] == (PieceKind.DESIGNATION, PieceKind.IDENTITE, PieceKind.SIRENE, PieceKind.RIB)
    assert set(REQUISES.par_nature["privee"]) - set(REQUISES.par_nature["publique"]) == {
        PieceKind.BUREAU, PieceKind.STATUTS, PieceKind.PV_AG, PieceKind.COMPTES}
    assert REQUISES.par_poste == (PieceKind.CONTRAT,)


def test_an_empty_dossier_misses_every_piece_and_one_contrat_per_poste_occupe() -> None:
    view = dossier_view(PUBLIQUE, [], REQUISES)
    assert view.statut is DossierStatut.INCOMPLET
    assert [(r.kind, r.poste_id) for r in view.manquantes] == [
        (PieceKind.DESIGNATION, None), (PieceKind.IDENTITE, None), (PieceKind.SIRENE, None), (PieceKind.RIB, None),
        (PieceKind.CONTRAT, "P-1"), (PieceKind.CONTRAT, "P-2")]
    assert view.manquantes[-1].label == "Contrat de travail du conseiller numérique (poste P-2)"


def test_all_pieces_valid_make_a_complete_dossier() -> None:
    view = dossier_view(PUBLIQUE, complete(), REQUISES)
    assert view.statut is DossierStatut.COMPLET and view.manquantes == ()


def test_a_doubtful_piece_sends_the_dossier_to_a_human() -> None:
    view = dossier_view(PUBLIQUE, complete(piece(7, PieceKind.IDENTITE, ALERTE)), REQUISES)
    assert view.statut is DossierStatut.A_VERIFIER


def test_the_newest_copy_counts_so_a_corrected_piece_completes_the_dossier() -> None:
    stale = piece(0, PieceKind.SIRENE, ERREUR)
    assert dossier_view(PUBLIQUE, complete(piece(9, PieceKind.SIRENE, ERREUR)), REQUISES).statut is DossierStatut.INCOMPLET
    view = dossier_view(PUBLIQUE, [stale, *complete()], REQUISES)
    assert view.statut is DossierStatut.COMPLET
    assert len(view.pieces) == 7 and stale not in view.courantes


def test_a_private_structure_also_owes_its_association_pieces() -> None:
    privee = Dossier("DOS-V2-STR-2", "STR-2", "44306184100047", "Association Lien", "privee", "75", "Anne Durand")
    view = dossier_view(privee, complete()[:4], REQUISES)
    assert {r.kind for r in view.manquantes} == {PieceKind.BUREAU, PieceKind.STATUTS, PieceKind.PV_AG, PieceKind.COMPTES}


def test_a_contrat_for_a_poste_that_is_not_required_is_listed_apart() -> None:
    view = dossier_view(PUBLIQUE, complete(piece(8, PieceKind.CONTRAT, poste="P-9")), REQUISES)
    assert [p.poste_id for p in view.extra] == ["P-9"] and view.statut is DossierStatut.COMPLET


@pytest.mark.parametrize("bad", [{"nature": {"publique": {"requises": ["passeport"]}}}, {}])
def test_a_broken_pieces_file_is_refused(bad: dict) -> None:
    with pytest.raises((ValueError, KeyError)):
        PiecesRequises.from_mapping(bad)


def test_the_json_view_names_status_pieces_and_missing() -> None:
    data = dossier_view(PUBLIQUE, complete()[:3], REQUISES).to_dict()
    assert data["status"] == "incomplet" and data["siret"] == "21590350100017"
    assert [m["kind"] for m in data["missing"]] == ["rib", "contrat", "contrat"]
    assert data["pieces"][0] | {"validated_at": None} == {
        "id": 1, "kind": "designation", "poste_id": None, "filename": "designation.pdf", "sha256": f"{1:064x}",
        "size": 100, "mime": "application/pdf", "status": "valide", "final_status": "valide", "decision": None,
        "findings": [], "fields": {}, "validated_at": None}
