"""An instructeur's decisions on fakes: a piece à vérifier accepted or refused with its motif, the dossier's
status following (incomplet, à vérifier, complet) and with it whether a convention may be generated; a
decision never changed afterwards; a signed copy à vérifier refused (its staged bytes gone, the trace kept)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest

from dossiers.bootstrap import App
from dossiers.domain.dossier import DossierStatut
from dossiers.domain.findings import Statut
from dossiers.domain.pieces import PieceKind
from dossiers.errors import ChangementRefuse, DossierError, ErrorCode
from dossiers.services.archive import archive_signed_copy
from dossiers.services.decisions import decider_copie, decider_piece
from dossiers.services.generation import generate_convention
from dossiers.services.validation import demande_generable, open_dossier, view_dossier
from tests.factories import demande
from tests.services.conftest import deposer_pieces, issued_pdf, pdf_text

NOW = datetime(2024, 1, 5, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=2)
CID = "CN-V2-STR-000123"


def test_a_dossier_is_generated_only_once_its_designation_is_accepted(fakes_app: App) -> None:
    dossier = open_dossier(demande(), fakes_app).id
    with pytest.raises(DossierError) as missing:
        demande_generable(dossier, fakes_app)
    assert missing.value.code is ErrorCode.DOSSIER_INCOMPLET and "Acte désignant" in str(missing.value)
    ids = deposer_pieces(fakes_app, dossier, NOW)
    view = view_dossier(dossier, fakes_app)
    assert view.statut is DossierStatut.A_VERIFIER and view.manquantes == ()
    with pytest.raises(DossierError) as waiting:
        demande_generable(dossier, fakes_app)
    assert waiting.value.code is ErrorCode.DOSSIER_A_VERIFIER and "Acte désignant" in str(waiting.value)

    done = decider_piece(dossier, ids["designation"], "accepte", fakes_app, par="Claire Instructrice", now=LATER,
                         commentaire="Délibération du 3 janvier lue")
    assert done.statut is DossierStatut.COMPLET
    piece = next(p for p in done.pieces if p.id == ids["designation"])
    assert (piece.statut, piece.retenu) == (Statut.A_VERIFIER, Statut.VALIDE)  # the machine's findings stay
    assert piece.decision is not None and piece.decision.texte() == (
        "Acceptée le 05/01/2024 par Claire Instructrice : Délibération du 3 janvier lue")
    generated = generate_convention(demande_generable(dossier, fakes_app), fakes_app, today=NOW.date(), now=LATER)
    assert generated.version.convention_id == CID and "Commune d'Exempleville" in pdf_text(fakes_app, generated.version)


def test_a_refused_piece_makes_the_dossier_incomplete_and_a_decision_is_never_changed(fakes_app: App) -> None:
    dossier = open_dossier(demande(), fakes_app).id
    ids = deposer_pieces(fakes_app, dossier, NOW)
    with pytest.raises(ChangementRefuse) as no_motif:
        decider_piece(dossier, ids["designation"], "refuse", fakes_app, par="Claire Instructrice", now=LATER)
    assert no_motif.value.code is ErrorCode.DECISION_INVALIDE
    refused = decider_piece(dossier, ids["designation"], "refuse", fakes_app, par="Claire Instructrice", now=LATER,
                            motif="perime")
    assert refused.statut is DossierStatut.INCOMPLET
    piece = next(p for p in refused.pieces if p.id == ids["designation"])
    assert piece.retenu is Statut.INVALIDE and piece.decision is not None
    assert piece.decision.motif_libelle == "document périmé ou plus en vigueur"
    with pytest.raises(DossierError) as incomplete:
        demande_generable(dossier, fakes_app)
    assert "Acte désignant le représentant légal à remplacer" in str(incomplete.value)

    again = decider_piece(dossier, ids["designation"], "refuse", fakes_app, par="Claire Instructrice",
                          now=LATER + timedelta(seconds=1), motif="perime")  # a double click: the same answer
    assert again.statut is DossierStatut.INCOMPLET
    with pytest.raises(ChangementRefuse) as changed:
        decider_piece(dossier, ids["designation"], "accepte", fakes_app, par="Quelqu'un d'autre", now=LATER)
    assert changed.value.code is ErrorCode.DECISION_IMPOSSIBLE and "déjà été refusée" in str(changed.value)
    with pytest.raises(ChangementRefuse) as valid:  # a piece the machine found valid is not decided
        decider_piece(dossier, ids["rib"], "accepte", fakes_app, par="Claire Instructrice", now=LATER)
    assert valid.value.code is ErrorCode.DECISION_IMPOSSIBLE
    with pytest.raises(ChangementRefuse) as unknown:
        decider_piece(dossier, 999, "accepte", fakes_app, par="Claire Instructrice", now=LATER)
    assert unknown.value.code is ErrorCode.PIECE_INTROUVABLE


def test_a_piece_replaced_by_a_newer_upload_is_no_longer_decided(fakes_app: App) -> None:
    dossier = open_dossier(demande(), fakes_app).id
    first = deposer_pieces(fakes_app, dossier, NOW)["designation"]
    second = deposer_pieces(fakes_app, dossier, NOW + timedelta(minutes=5),
                            sauf=tuple(k for k in PieceKind if k is not PieceKind.DESIGNATION))["designation"]
    assert second != first
    with pytest.raises(ChangementRefuse) as replaced:
        decider_piece(dossier, first, "accepte", fakes_app, par="Claire Instructrice", now=LATER)
    assert replaced.value.code is ErrorCode.DECISION_IMPOSSIBLE and "remplacée" in str(replaced.value)


def test_a_refused_signed_copy_leaves_staging_and_keeps_its_trace(fakes_app: App) -> None:
    generate_convention(demande(), fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    unsigned = issued_pdf(fakes_app, CID)
    sha = hashlib.sha256(unsigned).hexdigest()
    record = archive_signed_copy(unsigned, CID, fakes_app, now=NOW)
    assert record.statut == "a_verifier" and fakes_app.staging.exists(f"signes/{sha}.pdf")

    refused = decider_copie(CID, 1, sha, "refuse", fakes_app, par="Claire Instructrice", now=LATER,
                            motif="signataire", commentaire="aucune signature")
    assert refused.statut == "refuse" and refused.storage_key is None
    assert refused.decision is not None and refused.decision.motif == "signataire"
    assert not fakes_app.staging.exists(f"signes/{sha}.pdf")
    assert [f.code for f in fakes_app.catalog.find_archives(convention_id=CID, version=1, sha256=sha)[0].findings] == [
        f.code for f in record.findings]
    assert decider_copie(CID, 1, sha, "refuse", fakes_app, par="Claire Instructrice", now=LATER,
                         motif="signataire", commentaire="aucune signature").statut == "refuse"
    with pytest.raises(ChangementRefuse) as changed:
        decider_copie(CID, 1, sha, "accepte", fakes_app, par="Claire Instructrice", now=LATER)
    assert changed.value.code is ErrorCode.DECISION_IMPOSSIBLE
    with pytest.raises(ChangementRefuse) as unknown:
        decider_copie(CID, 1, "0" * 64, "accepte", fakes_app, par="Claire Instructrice", now=LATER)
    assert unknown.value.code is ErrorCode.COPIE_INTROUVABLE
