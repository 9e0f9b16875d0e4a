"""Signed copies through a real Inspector and the signed-copy check; the certificat d'archivage read back.

The issued PDF is made here as conum issues one: three pages of convention text, each with the footer
line « Convention <id> — version <n> — modèle 2024.1 », stamped with ``stamp_pdf``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from dossiers.adapters.inspection import Inspector
from dossiers.adapters.pdf.certificat import certificat_archivage, certificat_payload
from dossiers.adapters.pdf.metadata import stamp_pdf
from dossiers.domain.checks.signe import SIGNED_COPY_POLICY, Emis, check_signed_copy, statut_archivage
from dossiers.domain.findings import Finding, FindingCode, Severity
from tests.fixtures.contrat import add_signature_fields
from tests.fixtures.identite import identite_pdf
from tests.fixtures.rib import rib_pdf
from tests.integration.test_rapport import decode_qr

CID, OTHER = "CN-V2-STR-000123", "CN-V2-STR-000456"
DOCX = hashlib.sha256(b"convention.docx").hexdigest()
ARCHIVED_AT = datetime(2026, 3, 14, 9, 30, 5, tzinfo=UTC)  # 10:30:05 in Paris
RETAIN_UNTIL = datetime(2036, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Paris (summer time)
KEY = f"conventions/{CID}/v1/signe-0123456789abcdef.pdf"
VERSION_ID = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


def _pages(montant: str) -> list[list[str]]:
    return [
        ["CONVENTION DE SUBVENTION", "Programme Conseiller numérique",
         "Entre l'Agence nationale de la cohésion des territoires (ANCT)",
         "et l'Association Numérique & Éducation de Lécluse, SIRET 215 903 501 00017,",
         "représentée par Mme Zoé Lefèvre, il est convenu ce qui suit.",
         "Article 1 – Objet", "La présente convention finance deux postes de conseiller numérique",
         "chargés d'accompagner les publics dans leurs usages quotidiens du numérique."],
        ["Article 2 – Montant de la subvention", f"La subvention s'élève à {montant} € par poste",
         "pour une durée de trois ans.", "Article 3 – Versements",
         "Un premier versement de 25 000,00 € intervient à la signature ;",
         "le solde est versé sur justificatifs avant le 31/12/2027."],
        ["Article 4 – Durée", "La convention prend effet le 1er mars 2025 pour trente-six mois.",
         "Article 5 – Engagements", "La structure transmet chaque année un bilan d'activité à l'ANCT.",
         "Fait en deux exemplaires originaux.", "Pour l'ANCT                          Pour la structure"],
    ]


def _convention_pdf(convention_id: str = CID, version: int = 1, montant: str = "50 000,00") -> bytes:
    """The PDF as LibreOffice would render it (not stamped): text pages, a discreet footer on each."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle("Convention de subvention")
    for lines in _pages(montant):
        text = pdf.beginText(60, 780)
        text.setFont("Helvetica", 11)
        text.setLeading(16)
        for line in lines:
            text.textLine(line)
        pdf.drawText(text)
        pdf.setFont("Helvetica", 7.5)
        pdf.setFillGray(0.35)
        pdf.drawCentredString(A4[0] / 2, 30, f"Convention {convention_id} — version {version} — modèle 2024.1")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _issued(convention_id: str = CID, version: int = 1) -> bytes:
    return stamp_pdf(_convention_pdf(convention_id, version), convention_id=convention_id, version=version,
                     docx_sha256=DOCX, title="Convention de subvention")


def _signed(pdf: bytes) -> bytes:
    return add_signature_fields(pdf, ["Zoé Lefèvre", "Jean Préfet"], date(2025, 2, 14))


@pytest.fixture(scope="module")
def inspector() -> Iterator[Inspector]:
    with Inspector(workers=1) as insp:
        yield insp


@pytest.fixture(scope="module")
def issued() -> bytes:
    return _issued()


@pytest.fixture(scope="module")
def emis(inspector: Inspector, issued: bytes) -> Emis:
    """The issued version as the archive service builds it: the facts of our own PDF."""
    facts = inspector.inspect(issued, policy=SIGNED_COPY_POLICY)
    assert facts.pdf is not None and facts.pdf.conum_convention_id == CID
    return Emis(convention_id=CID, version=1, docx_sha256=DOCX, pdf_sha256=facts.sha256, pages=facts.pdf.pages,
                text=facts.pdf.text)


def _intake(inspector: Inspector, data: bytes, emis: Emis) -> tuple[str, list[Finding], dict]:
    facts = inspector.inspect(data, policy=SIGNED_COPY_POLICY, declared_name="convention-signee.pdf")
    findings, fields = check_signed_copy(facts, emis)
    return statut_archivage(findings), findings, fields


def _codes(findings: list[Finding]) -> list[tuple[FindingCode, Severity]]:
    return [(f.code, f.severity) for f in findings]


def test_signed_copy_of_the_issued_pdf_is_archived_with_its_signers(inspector: Inspector, issued: bytes,
                                                                     emis: Emis) -> None:
    """(a) Our stamped PDF with two signed /Sig fields: archive, identified by metadata, signers reported."""
    statut, findings, fields = _intake(inspector, _signed(issued), emis)
    assert (statut, findings) == ("archive", [])
    assert fields["identification"] == "metadonnees" and fields["convention_id"] == CID and fields["version"] == 1
    assert [(s["signataire"], s["date"]) for s in fields["signatures"]] == [
        ("Zoé Lefèvre", "2025-02-14T09:30:00+01:00"), ("Jean Préfet", "2025-02-14T09:30:00+01:00")]


def test_the_issued_pdf_itself_goes_to_a_human(inspector: Inspector, issued: bytes, emis: Emis) -> None:
    """Our unsigned PDF sent back as is: a_verifier, SIGNE_SANS_SIGNATURE."""
    statut, findings, _ = _intake(inspector, issued, emis)
    assert (statut, _codes(findings)) == ("a_verifier", [(FindingCode.SIGNE_SANS_SIGNATURE, Severity.ALERTE)])


def test_signed_copy_of_another_convention_is_refused(inspector: Inspector, emis: Emis) -> None:
    """(b) Another convention's stamped and signed PDF: refuse, SIGNE_AUTRE_CONVENTION."""
    statut, findings, fields = _intake(inspector, _signed(_issued(OTHER)), emis)
    assert (statut, _codes(findings)) == ("refuse", [(FindingCode.SIGNE_AUTRE_CONVENTION, Severity.ERREUR)])
    assert fields["convention_id"] == OTHER


def test_another_convention_without_metadata_is_refused_by_its_footer(inspector: Inspector, emis: Emis) -> None:
    """Another convention, metadata stripped: its footer line names it, SIGNE_AUTRE_CONVENTION."""
    statut, findings, fields = _intake(inspector, _signed(_convention_pdf(OTHER)), emis)
    assert (statut, _codes(findings)) == ("refuse", [(FindingCode.SIGNE_AUTRE_CONVENTION, Severity.ERREUR)])
    assert fields["identification"] == "pied_de_page"


def test_a_modified_pdf_is_refused(inspector: Inspector, emis: Emis) -> None:
    """(c) Rebuilt with one amount changed, metadata stripped, signed: refuse, SIGNE_CONTENU_MODIFIE."""
    modified = _signed(_convention_pdf(montant="55 000,00"))
    statut, findings, fields = _intake(inspector, modified, emis)
    assert (statut, _codes(findings)) == ("refuse", [(FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ERREUR)])
    assert fields["identification"] == "pied_de_page" and fields["texte"]["nombres_manquants"] == ["50000"]


def test_a_rebuilt_pdf_with_the_same_text_is_accepted_when_signed(inspector: Inspector, emis: Emis) -> None:
    """The same content re-saved without Info (a signing tool), signed: archive, identified by the footer."""
    statut, findings, fields = _intake(inspector, _signed(_convention_pdf()), emis)
    assert (statut, findings, fields["identification"]) == ("archive", [], "pied_de_page")


def test_a_random_pdf_is_refused(inspector: Inspector, emis: Emis) -> None:
    """(d) A RIB: refuse, SIGNE_NON_RECONNU."""
    rib = rib_pdf(titulaire="ASSOCIATION EXEMPLE", iban="FR7630006000011234567890189", bic="AGRIFRPP")
    statut, findings, fields = _intake(inspector, rib, emis)
    assert (statut, _codes(findings)) == ("refuse", [(FindingCode.SIGNE_NON_RECONNU, Severity.ERREUR)])
    assert fields["identification"] is None


def test_an_image_only_pdf_goes_to_a_human(inspector: Inspector, emis: Emis) -> None:
    """(e) A scan-like copy (image only, as many pages): a_verifier, SIGNE_NUMERISE."""
    scan = identite_pdf(mrz=None, pages=3, text_layer=False)
    statut, findings, _ = _intake(inspector, scan, emis)
    assert (statut, _codes(findings)) == ("a_verifier", [(FindingCode.SIGNE_NUMERISE, Severity.ALERTE)])


def test_not_a_pdf_is_refused_as_a_file(inspector: Inspector, emis: Emis) -> None:
    """A DOCX-like ZIP named .pdf: the sniffed type decides, FORMAT_NON_AUTORISE (and the name lies)."""
    statut, findings, _ = _intake(inspector, b"PK\x03\x04" + b"\x00" * 200, emis)
    assert statut == "refuse" and FindingCode.FORMAT_NON_AUTORISE in {f.code for f in findings}


def test_the_signed_file_is_never_modified(inspector: Inspector, issued: bytes, emis: Emis, tmp_path: Path) -> None:
    """(f) The intake reads the bytes only: same SHA-256 before and after, and it is the one reported."""
    path = tmp_path / "convention-signee.pdf"
    path.write_bytes(_signed(issued))
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    data = path.read_bytes()
    facts = inspector.inspect(data, policy=SIGNED_COPY_POLICY)
    check_signed_copy(facts, emis)
    assert hashlib.sha256(data).hexdigest() == before == facts.sha256
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


# -- certificat d'archivage ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archived(inspector: Inspector, issued: bytes, emis: Emis) -> tuple[bytes, str, dict]:
    """(certificat PDF, SHA-256 of the signed copy, fields) for the copy of test (a)."""
    signed = _signed(issued)
    statut, _, fields = _intake(inspector, signed, emis)
    sha = hashlib.sha256(signed).hexdigest()
    return _certificat(emis, sha256_signe=sha, statut=statut, signatures=fields["signatures"]), sha, fields


def _certificat(emis: Emis, **change: object) -> bytes:
    values: dict[str, object] = {
        "convention_id": CID, "version": 1, "sha256_signe": "a" * 64, "sha256_emis": emis.pdf_sha256,
        "archived_at": ARCHIVED_AT, "retain_until": RETAIN_UNTIL, "key": KEY, "version_id": VERSION_ID,
        "statut": "archive", "signatures": [], "generated_at": ARCHIVED_AT,
    }
    return certificat_archivage(**{**values, **change})  # type: ignore[arg-type]


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_certificat_is_one_page_holding_every_value(archived: tuple[bytes, str, dict], emis: Emis) -> None:
    """One A4 page: convention, version, both SHA-256, key, version id, dates in Paris time, signers."""
    pdf, sha, _ = archived
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = _text(pdf)
    compact = "".join(text.split())
    assert "Certificat d'archivage" in text and f"Convention {CID}" in text and "Version 1" in text
    for value in (sha, emis.pdf_sha256, KEY, VERSION_ID):
        assert value in compact
    assert "14 mars 2026 à 10:30:05 (heure de Paris)" in text
    assert "1er juillet 2036 à 10:00:00 (heure de Paris)" in text
    assert "Statut Archivée" in text
    assert "Zoé Lefèvre — 14 février 2025 à 09:30 (heure de Paris)" in text and "Jean Préfet" in text


def test_certificat_qr_code_decodes_to_the_copy_hash(archived: tuple[bytes, str, dict], tmp_path: Path) -> None:
    """A scanner reading the certificat gets CONUM:CA1:<convention>:<version>:<SHA-256 of the copy>."""
    pdf, sha, _ = archived
    assert decode_qr(pdf, tmp_path) == [f"CONUM:CA1:{CID}:1:{sha.upper()}"]
    assert certificat_payload(CID, 1, sha) == f"CONUM:CA1:{CID}:1:{sha.upper()}"


def test_certificat_is_deterministic_and_names_itself(archived: tuple[bytes, str, dict], emis: Emis) -> None:
    """Same inputs, same bytes; Title and Subject name the convention and the copy's hash."""
    pdf, sha, fields = archived
    assert _certificat(emis, sha256_signe=sha, signatures=fields["signatures"]) == pdf
    info = PdfReader(io.BytesIO(pdf)).metadata
    assert info is not None and info.title == f"Certificat d'archivage — {CID} version 1"
    assert info.subject is not None and CID in info.subject and sha in info.subject
    assert str(info["/CreationDate"]) == "D:20260314093005+00'00'"


def test_certificat_for_a_copy_to_check_without_version_id(emis: Emis) -> None:
    """a_verifier, no signature, no object version (a local store): said in words, still one page."""
    pdf = _certificat(emis, sha256_signe="A" * 64, version_id=None, statut="a_verifier")
    text = _text(pdf)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert "à confirmer par un instructeur" in text and "sans identifiant de version" in text
    assert "Aucune signature électronique" in text and "a" * 64 in text


@pytest.mark.parametrize("change", [
    {"statut": "refuse"}, {"sha256_signe": "zz"}, {"archived_at": datetime(2026, 3, 14, 9, 30)},
    {"generated_at": datetime(2026, 3, 14, 9, 30)},
], ids=["refuse", "bad_sha", "naive_archived_at", "naive_generated_at"])
def test_certificat_refuses_bad_inputs(change: dict, emis: Emis) -> None:
    """No certificat for a refused copy, a malformed hash or a date without a time zone."""
    with pytest.raises(ValueError):
        _certificat(emis, **change)
