"""A demande becomes a stored, catalogued convention whose DOCX and PDF/A say the right things.

Real parts: LibreOffice (warm unoserver pool), the local storage and the SQLite catalog.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from dossiers.adapters.pdf import read_pdf_metadata
from dossiers.bootstrap import App
from dossiers.errors import ConventionConflict, DemandeInvalide
from dossiers.services.generation import generate_convention
from dossiers.settings import Settings
from tests.factories import demande, example

pytestmark = pytest.mark.libreoffice
TODAY = date(2026, 11, 26)


@pytest.fixture
def app(tmp_path: Path, pool):
    with App(Settings(var_dir=tmp_path / "var"), converter=pool) as application:
        yield application


def generate(app, payload):
    return generate_convention(payload, app, today=TODAY, now=datetime(2026, 11, 26, 10, 0, tzinfo=UTC))


def flat(text: str) -> str:
    """Text with every kind of space collapsed, as a reader sees it."""
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return flat("\n".join(parts))


def pdf_text(data: bytes) -> str:
    return flat(" ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages))


def documents(app, generated) -> tuple[bytes, bytes]:
    v = generated.version
    return (
        app.storage.get(v.document("docx").key, sha256=v.document("docx").sha256),
        app.storage.get(v.document("pdf").key, sha256=v.document("pdf").sha256),
    )


def assert_says(text: str, *needles: str) -> None:
    missing = [n for n in needles if flat(n) not in text]
    assert not missing, f"absent du document : {missing}"


def test_public_vague_2_three_postes(app):
    generated = generate(app, demande())
    docx, pdf = documents(app, generated)
    expected = (
        "Commune d'Exempleville", "213 300 999 00017", "Mme Camille Exemple",
        "P-1", "Inès Témoin-Lefèvre", "P-2", "Karim Bouzid", "P-3", "vacant depuis le 1er mars 2024",
        "127 500,00 €", "cent vingt-sept mille cinq cents euros",
        "52 500,00 €", "37 500,00 €", "1er janvier 2024", "1er janvier 2025", "1er janvier 2026", "31 décembre 2026",
        "CN-V2-STR-000123",
    )
    assert_says(docx_text(docx), *expected)
    assert_says(pdf_text(pdf), *expected)
    assert generated.version.montant_total == Decimal("127500.00")
    assert [t.montant for t in generated.version.echeancier] == [Decimal("52500.00"), Decimal("37500.00"), Decimal("37500.00")]


def test_public_in_qpv_adds_the_bonus(app):
    generated = generate(app, demande(structure__zone_prioritaire=True))
    docx, pdf = documents(app, generated)
    for text in (docx_text(docx), pdf_text(pdf)):
        assert_says(text, "150 000,00 €", "60 000,00 €", "52 500,00 €", "2 500,00 €", "5 000,00 €")
    assert "150 000,00 €" not in docx_text(documents(app, generate(app, demande(structure__id="STR-2")))[0])


def test_private_vague_2_one_poste(app):
    payload = example("association-1-poste.json")
    generated = generate(app, payload)
    docx, pdf = documents(app, generated)
    for text in (docx_text(docx), pdf_text(pdf)):
        assert_says(
            text, "Association Emmaüs Connect Gironde", "843 123 456 00017", "Lucas Nguyen", "44 000,00 €",
            "20 000,00 €", "14 000,00 €", "10 000,00 €", "15 mars 2024", "15 mars 2025", "15 mars 2026",
            "personne morale de droit privé",
        )
    assert generated.version.montant_total == Decimal("44000.00")


def test_a_name_full_of_special_characters_survives_docx_and_pdf(app):
    generated = generate(app, example("association-caracteres-speciaux.json"))
    docx, pdf = documents(app, generated)
    name = "Association « Les Œuvres & <Lumières> » — L'Haÿ-les-Roses"
    assert_says(docx_text(docx), name + " 😀", "D'Artagnan & Fils <SARL>", "Zoë O'Connor-Dœuf")
    assert_says(pdf_text(pdf), name, "D'Artagnan & Fils <SARL>", "Zoë O'Connor-Dœuf")
    # The address's line break is a Word line break.
    assert "Maison des associations</w:t><w:br/>" in zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()


def test_pdf_is_pdfa_2b_and_carries_id_version_and_docx_hash(app):
    generated = generate(app, demande())
    docx, pdf = documents(app, generated)
    meta = read_pdf_metadata(pdf)
    assert meta["pdfa_part"] == 2 and meta["pdfa_conformance"] == "B"
    assert meta["convention_id"] == "CN-V2-STR-000123"
    assert meta["version"] == 1
    assert meta["docx_sha256"] == hashlib.sha256(docx).hexdigest() == generated.version.document("docx").sha256


def test_documents_are_catalogued_with_their_checksums(app):
    generated = generate(app, demande())
    convention = app.catalog.get_convention("CN-V2-STR-000123")
    assert convention is not None and convention.current == generated.version
    for ref in generated.version.documents:
        assert hashlib.sha256(app.storage.get(ref.key)).hexdigest() == ref.sha256
    assert {d.kind for d in convention.current.documents} == {"docx", "pdf"}


def test_generating_the_same_demande_again_returns_the_issued_version(app):
    first = generate(app, demande())
    again = generate(app, demande())
    assert not again.created
    assert again.version == first.version


def test_a_different_demande_for_the_same_convention_is_refused(app):
    generate(app, demande())
    with pytest.raises(ConventionConflict) as err:
        generate(app, demande(structure__adresse="2 place de la Mairie"))
    assert "avenant" in err.value.message


def test_a_crash_after_storing_reuses_the_stored_documents(app):
    """A retry after a crash between storage and catalog converges on the first attempt's files."""
    payload = demande()
    first = generate(app, payload)
    # Simulate the crash: the objects are stored but the catalog never heard of them.
    with App(Settings(var_dir=app.settings.var_dir.parent / "other"), storage=app.storage, converter=app.converter) as fresh:
        retried = generate(fresh, payload)
    assert retried.created
    assert [d.sha256 for d in retried.version.documents] == [d.sha256 for d in first.version.documents]


def test_a_retry_with_another_demande_never_reuses_the_crashed_attempts_documents(app):
    """After a crash, a corrected demande gets its own documents: the catalog never points at stale ones."""
    generate(app, demande())
    corrected = demande(structure__adresse="2 place de la Mairie, 33000 Exempleville")
    with App(Settings(var_dir=app.settings.var_dir.parent / "other"), storage=app.storage, converter=app.converter) as fresh:
        retried = generate(fresh, corrected)
        docx = fresh.storage.get(retried.version.document("docx").key)
    assert "2 place de la Mairie" in docx_text(docx)


def test_the_same_demande_spelled_differently_is_the_same_version(app):
    first = generate(app, demande())
    payload = demande(structure__siret="213 300 999 00017")
    del payload["structure"]["zone_prioritaire"]  # false by default
    assert generate(app, payload).version == first.version


def test_invalid_demande_stores_nothing(app):
    with pytest.raises(DemandeInvalide):
        generate(app, demande(structure__siret="12345678901234"))
    assert not (app.settings.var_dir / "storage").exists()
