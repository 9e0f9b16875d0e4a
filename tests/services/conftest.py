"""The fast tier: the services with in-memory ports, no LibreOffice, Redis, PostgreSQL or clamd.

Each test gets an ``App`` on fakes that ship with conum: the catalog is the real SQLAlchemy catalog on
SQLite ``:memory:``, documents go to ``MemoryStorage``, DOCX -> PDF is ``MemoryConverter`` (the PDF holds
the document's text), pieces are inspected in process (``MemoryInspector``) and scanned by
``MemoryScanner``. Archive and staging stay the local stores of ``App``, under the test's directory.
``make test-fast`` runs this folder and prints its duration.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from dossiers.adapters.antivirus import MemoryScanner
from dossiers.adapters.catalog import Catalog
from dossiers.adapters.inspection.memory import MemoryInspector
from dossiers.adapters.memory_converter import MemoryConverter
from dossiers.adapters.storage import MemoryStorage
from dossiers.bootstrap import App
from dossiers.domain.model import ConventionVersion
from dossiers.settings import Settings


@pytest.fixture
def fakes_app(tmp_path: Path) -> Iterator[App]:
    catalog = Catalog.open("sqlite://")
    with App(Settings(var_dir=tmp_path / "var"), catalog=catalog, storage=MemoryStorage(),
             converter=MemoryConverter(), inspector=MemoryInspector(),
             scanner=MemoryScanner({b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR": "Eicar-Test-Signature"})) as app:
        yield app
    catalog.close()


def pdf_text(app: App, version: ConventionVersion) -> str:
    """The text of a version's PDF, spaces normalised (the converter's lines, the template's spaces)."""
    ref = version.document("pdf")
    reader = PdfReader(io.BytesIO(app.storage.get(ref.key, sha256=ref.sha256)))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))
