"""The converter contract, run on the in-memory converter and on LibreOffice alike (like the storage
suite): a DOCX's text comes out in a PDF; what is not a DOCX is refused with ``conversion_echec`` before
any conversion; converting twice gives a PDF each time (a converter is reusable).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossiers.adapters.catalog import Catalog
from dossiers.adapters.memory_converter import MemoryConverter
from dossiers.adapters.storage import MemoryStorage
from dossiers.bootstrap import App
from dossiers.errors import ConversionError, ErrorCode
from dossiers.ports import Converter
from dossiers.services.generation import generate_convention
from dossiers.settings import Settings
from tests.factories import demande


@pytest.fixture(params=["memoire", pytest.param("libreoffice", marks=pytest.mark.libreoffice)])
def converter(request: pytest.FixtureRequest) -> Iterator[Converter]:
    if request.param == "memoire":
        yield MemoryConverter()
    else:
        yield request.getfixturevalue("pool")  # the session's warm LibreOffice pool


@pytest.fixture(scope="module")
def convention_docx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The DOCX of a real convention, rendered from the template."""
    storage = MemoryStorage()
    with App(Settings(var_dir=tmp_path_factory.mktemp("contrat") / "var"), catalog=Catalog.open("sqlite://"),
             storage=storage, converter=MemoryConverter()) as app:
        made = generate_convention(demande(), app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
        ref = made.version.document("docx")
        return storage.get(ref.key, sha256=ref.sha256)


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_a_docx_comes_out_as_a_pdf_with_its_text(converter: Converter, convention_docx: bytes) -> None:
    pdf = converter.convert(convention_docx)
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    assert "CN-V2-STR-000123" in text and "Exempleville" in text
    assert converter.convert(convention_docx).startswith(b"%PDF-")  # reusable


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7 not a docx", b"PK\x03\x04 broken zip"])
def test_what_is_not_a_docx_is_refused_as_a_conversion_failure(converter: Converter, data: bytes) -> None:
    with pytest.raises(ConversionError) as refused:
        converter.convert(data)
    assert refused.value.code == ErrorCode.CONVERSION_ECHEC


def test_the_memory_converter_needs_no_libreoffice(
    tmp_path: Path, convention_docx: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no soffice, no unoserver to be found
    converter = MemoryConverter()
    pdf = converter.convert(convention_docx)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "CN-V2-STR-000123" in text
    assert converter.convert(convention_docx) == pdf  # same text, same bytes: a test can compare them
