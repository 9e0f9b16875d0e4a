"""An avenant and an avenant de résiliation convert to PDF through LibreOffice and the PDF still
carries the figures before and after the change.

Real part: LibreOffice (the warm unoserver pool of tests/conftest.py). The contexts are the
hand-built ones of tests/unit/test_avenant_templates.py.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from dossiers.adapters.docx import PreparedTemplate
from dossiers.settings import ROOT
from tests.unit.test_avenant_templates import resiliation_ctx, retrait_context

pytestmark = pytest.mark.libreoffice
TEMPLATES = ROOT / "templates"


def pdf_text(data: bytes) -> str:
    """The PDF's text with every kind of space collapsed and typographic apostrophes plain."""
    text = " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2019", "'")
    return re.sub(r"\s+", " ", text)


def assert_says(text: str, *needles: str) -> None:
    missing = [n for n in needles if n not in text]
    assert not missing, f"absent du PDF : {missing}"


def test_avenant_pdf_shows_the_figures_before_and_after(pool):
    docx = PreparedTemplate(TEMPLATES / "avenant.docx").render(retrait_context())
    pdf = pool.convert(docx)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert_says(
        text, "Avenant n° 2", "CN-V2-STR-000123", "127 500,00 €", "108 698,63 €", "une diminution de 18 801,37 €",
        "37 500,00 €", "31 198,63 €", "25 000,00 €", "6 301,37 €", "du 1er janvier 2024 au 30 juin 2025",
        "Reversement du trop-perçu", "Pour la Caisse des Dépôts et Consignations",
    )


def test_resiliation_pdf_shows_the_final_balance(pool):
    docx = PreparedTemplate(TEMPLATES / "resiliation.docx").render(resiliation_ctx())
    pdf = pool.convert(docx)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert_says(
        text, "Avenant de résiliation", "CN-V2-STR-000123", "127 500,00 €", "71 095,89 €", "18 595,89 €",
        "18 904,11 €", "90 000,00 €", "30 juin 2025", "Pour la Structure",
    )
