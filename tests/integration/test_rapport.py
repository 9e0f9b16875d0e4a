"""The rapport de contrôle PDF, read back with pypdf (text, metadata) and a QR decoder (zxing-cpp)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossiers.adapters.pdf.rapport import RapportError, find_fonts, qr_payload, rapport_controle, rapport_digest
from dossiers.domain.dossier import Dossier, DossierView, PieceRecord, PiecesRequises, dossier_view
from dossiers.domain.findings import Finding, FindingCode, Severity, statut_of
from dossiers.domain.pieces import MIME_PDF, PieceKind
from tests.conftest import _missing_service
from tests.factories import ROOT

GENERATED_AT = datetime(2026, 3, 14, 9, 30, 5, tzinfo=UTC)  # 10:30:05 in Paris
_PIECES_TOML = (ROOT / "config" / "pieces.toml").read_text(encoding="utf-8")
REQUISES = PiecesRequises.from_mapping(tomllib.loads(_PIECES_TOML))
IBAN = Finding(FindingCode.RIB_IBAN_INVALIDE, Severity.ERREUR, "L'IBAN du relevé est invalide (clé de contrôle).")
TITULAIRE = Finding(FindingCode.RIB_TITULAIRE_DIFFERENT, Severity.ALERTE,
                    "Le titulaire « Assoc. Numérique Éducation » diffère de la dénomination.")
SALAIRE = Finding(FindingCode.CONTRAT_NON_SIGNE, Severity.ALERTE,
                  "Aucune signature détectée ; rémunération brute annuelle indiquée : 24 500,00 €.")


def _dossier(nature: str = "privee", postes: int = 1) -> Dossier:
    return Dossier(
        id="DOS-V2-STR-000123", structure_id="STR-000123", siret="21590350100017",
        denomination="Association Numérique & Éducation de Lécluse", nature=nature, departement="59",
        representant="Zoé Lefèvre",
        postes_occupes=tuple((f"P-{i}", f"Inès Témoin {i}") for i in range(1, postes + 1)),
    )  # fmt: skip


def _piece(number: int, kind: PieceKind, *findings: Finding, poste: str | None = None) -> PieceRecord:
    sha = hashlib.sha256(f"{kind}-{number}".encode()).hexdigest()
    return PieceRecord(
        id=number, kind=kind, filename=f"{kind}-{number}.pdf", sha256=sha, size=120_000, mime=MIME_PDF,
        statut=statut_of(findings), findings=tuple(findings), fields={"pages": 2},
        validated_at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=number), poste_id=poste,
    )  # fmt: skip


def _view(*pieces: PieceRecord, nature: str = "privee", postes: int = 1) -> DossierView:
    return dossier_view(_dossier(nature, postes), pieces, REQUISES)


@pytest.fixture(scope="module")
def incomplete() -> DossierView:
    """Privée, 1 poste: RIB invalide (2 findings), contrat à vérifier, statuts valide, 6 pieces missing."""
    return _view(_piece(1, PieceKind.RIB, IBAN, TITULAIRE), _piece(2, PieceKind.CONTRAT, SALAIRE, poste="P-1"),
                 _piece(3, PieceKind.STATUTS))


def _text(pdf: bytes) -> str:
    """All pages' text, whitespace (line breaks, no-break spaces) collapsed to single spaces."""
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def _render(view: DossierView, generated_at: datetime = GENERATED_AT) -> bytes:
    started = time.perf_counter()
    pdf = rapport_controle(view, generated_at=generated_at)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"\nrapport : {len(view.courantes + view.extra)} pièce(s), {pages} page(s), {len(pdf)} octets, "
          f"{(time.perf_counter() - started) * 1000:.1f} ms")
    return pdf


def test_report_states_the_structure_the_status_the_findings_and_the_missing_pieces(incomplete: DossierView) -> None:
    """What an instructeur needs is in the text: who, which dossier, when, verdict, why, what is missing."""
    text = _text(_render(incomplete))
    assert "Association Numérique & Éducation de Lécluse" in text
    assert "215 903 501 00017" in text
    assert "Privée" in text and "Département 59" in text and "DOS-V2-STR-000123" in text
    assert "14 mars 2026 à 10:30:05 (heure de Paris)" in text
    assert "Statut du dossier Incomplet" in text
    for finding in (IBAN, TITULAIRE, SALAIRE):
        assert finding.message in text
        assert str(finding.code) in text
    assert "Erreur — L'IBAN" in text and "Alerte — Le titulaire" in text
    assert len(incomplete.manquantes) == 6
    for missing in incomplete.manquantes:
        assert missing.label in text
    for word in ("Invalide", "À vérifier", "Valide"):
        assert word in text
    assert "Relevé d'identité bancaire" in text and "rib-1.pdf" in text
    assert f"{incomplete.courantes[0].sha256[:12]}…" in text  # short SHA-256 of the RIB


def test_accents_and_the_euro_sign_survive_extraction(incomplete: DossierView) -> None:
    """Embedded TrueType subsets with a ToUnicode map: French text and € come back as written."""
    text = _text(_render(incomplete))
    for fragment in ("24 500,00 €", "« Assoc. Numérique Éducation »", "Pièces manquantes", "Procès-verbal",
                     "Zoé Lefèvre", "Inès Témoin 1", "rémunération brute annuelle indiquée", "Département"):
        assert fragment in text


@pytest.mark.parametrize(
    ("rib_findings", "with_rib", "word"),
    [((), True, "Complet"), ((TITULAIRE,), True, "À vérifier"), ((), False, "Incomplet")],
    ids=["complet", "a_verifier", "incomplet"],
)
def test_overall_status_is_written_in_words(rib_findings: tuple[Finding, ...], with_rib: bool, word: str) -> None:
    """Each DossierStatut prints as the word an instructeur reads (structure publique, no poste)."""
    kinds = [k for k in REQUISES.par_nature["publique"] if with_rib or k is not PieceKind.RIB]
    pieces = [_piece(i, k, *(rib_findings if k is PieceKind.RIB else ())) for i, k in enumerate(kinds)]
    text = _text(_render(_view(*pieces, nature="publique", postes=0)))
    assert f"Statut du dossier {word}" in text
    assert ("Aucune pièce manquante." in text) is with_rib


def test_report_hash_is_sha256_of_the_canonical_json_and_is_printed(incomplete: DossierView) -> None:
    """The empreinte follows its documented definition and is printed in clear under the QR code."""
    canonical = json.dumps({"dossier": incomplete.to_dict(), "generated_at": "20260314T093005Z"},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert rapport_digest(incomplete, GENERATED_AT) == expected
    printed = re.search(r"Empreinte SHA-256 : ([0-9a-f]{64})", _text(_render(incomplete)))
    assert printed is not None and printed.group(1) == expected
    later = rapport_digest(incomplete, GENERATED_AT + timedelta(seconds=1))
    assert later != expected  # the emission time is part of it


def decode_qr(pdf: bytes, tmp_path: Path) -> list[str]:
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:
        _missing_service("zxing-cpp absent (extra test du projet)")
    if shutil.which("pdftoppm") is None:
        _missing_service("pdftoppm absent (paquet Debian poppler-utils)")
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-f", "1", "-l", "1", "-png", "-singlefile", str(tmp_path / "r.pdf"),
                    str(tmp_path / "page")], check=True, timeout=60)
    return [r.text for r in zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))]


def test_qr_code_decodes_to_the_dossier_id_time_and_hash(incomplete: DossierView, tmp_path: Path) -> None:
    """A scanner reading page 1 gets the dossier id, the UTC time and the same empreinte as printed."""
    decoded = decode_qr(_render(incomplete), tmp_path)
    digest = rapport_digest(incomplete, GENERATED_AT)
    assert decoded == [qr_payload(incomplete, GENERATED_AT)]
    assert decoded[0] == f"CONUM:RC1:DOS-V2-STR-000123:20260314T093005Z:{digest.upper()}"


def test_same_input_gives_the_same_bytes(incomplete: DossierView) -> None:
    """Deterministic: a report can be re-rendered later and compared byte for byte."""
    first = _render(incomplete)
    assert _render(incomplete) == first
    assert _render(incomplete, GENERATED_AT + timedelta(minutes=1)) != first


def test_many_pieces_run_over_numbered_pages() -> None:
    """40 contrats with findings: several pages, each footed "page X / N", the table header repeated."""
    pieces = [_piece(i, PieceKind.CONTRAT, *([SALAIRE, IBAN] if i % 3 == 0 else []), poste=f"P-{i}")
              for i in range(1, 41)]
    pdf = _render(_view(*pieces, postes=40))
    pages = PdfReader(io.BytesIO(pdf)).pages
    total = len(pages)
    assert total >= 2
    texts = [" ".join((page.extract_text() or "").split()) for page in pages]
    for number, text in enumerate(texts, start=1):
        assert f"page {number} / {total}" in text
    assert "Pièce Poste Fichier Statut SHA-256" in texts[1]  # header repeated on page 2
    assert all(f"Inès Témoin {i}" in " ".join(texts) for i in range(1, 41))


def test_pdf_metadata_names_the_report(incomplete: DossierView) -> None:
    """Title, Author, Subject are set; the PDF dates are the report's (UTC), not the render time."""
    info = PdfReader(io.BytesIO(_render(incomplete))).metadata
    assert info is not None
    assert info.title == "Rapport de contrôle — DOS-V2-STR-000123"
    assert info.author == "conum — programme Conseiller numérique"
    assert info.subject is not None and "DOS-V2-STR-000123" in info.subject and "Lécluse" in info.subject
    assert str(info["/CreationDate"]) == "D:20260314093005+00'00'"


def test_naive_generated_at_is_refused(incomplete: DossierView) -> None:
    """Without a timezone the Paris time and the empreinte would be ambiguous."""
    with pytest.raises(ValueError, match="fuseau"):
        rapport_controle(incomplete, generated_at=datetime(2026, 3, 14, 9, 30))


def test_missing_fonts_fail_clearly(tmp_path: Path) -> None:
    """No usable TrueType font: a RapportError naming the Debian package, not a reportlab KeyError."""
    with pytest.raises(RapportError, match="fonts-dejavu-core"):
        find_fonts([tmp_path])
