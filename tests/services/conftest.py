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
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from dossiers.adapters.antivirus import MemoryScanner
from dossiers.adapters.catalog import Catalog
from dossiers.adapters.inspection.memory import MemoryInspector
from dossiers.adapters.memory_converter import MemoryConverter
from dossiers.adapters.storage import MemoryStorage
from dossiers.bootstrap import App
from dossiers.clock import Clock
from dossiers.domain.model import ConventionVersion
from dossiers.domain.pieces import PieceKind
from dossiers.services.validation import add_piece
from dossiers.settings import Settings


@contextmanager
def app_on_fakes(tmp_path: Path, *, clock: Clock | None = None, **settings: Any) -> Iterator[App]:
    """An ``App`` on the in-memory ports, ``settings`` (Settings' fields) over the defaults; ``clock``
    (the wall clock by default) stamps the catalog's rows."""
    catalog = Catalog.open("sqlite://", clock=clock)
    with App(Settings(var_dir=tmp_path / "var", **settings), catalog=catalog, clock=clock, storage=MemoryStorage(),
             converter=MemoryConverter(), inspector=MemoryInspector(),
             scanner=MemoryScanner({b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR": "Eicar-Test-Signature"})) as app:
        yield app
    catalog.close()


@pytest.fixture
def fakes_app(tmp_path: Path) -> Iterator[App]:
    with app_on_fakes(tmp_path) as app:
        yield app


def version_pdf(app: App, version: ConventionVersion) -> bytes:
    """A version's PDF as stored, its SHA-256 checked on read-back."""
    ref = version.document("pdf")
    return app.storage.get(ref.key, sha256=ref.sha256)


def issued_pdf(app: App, convention_id: str) -> bytes:
    """The PDF of a convention's current version (the copy a structure would sign)."""
    convention = app.catalog.get_convention(convention_id)
    assert convention is not None
    return version_pdf(app, convention.current)


def pdf_text(app: App, version: ConventionVersion) -> str:
    """The text of a version's PDF, spaces normalised (the converter's lines, the template's spaces)."""
    reader = PdfReader(io.BytesIO(version_pdf(app, version)))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\u00a0", " ").replace("\u202f", " "))


COMMUNE = "COMMUNE D'EXEMPLEVILLE"


def pieces_du_dossier(today: date) -> list[tuple[PieceKind, str | None, bytes]]:
    """(kind, poste, bytes) of every piece ``demande()``'s dossier requires, valid on ``today``; the
    désignation is any PDF (no machine check reads it: it waits for a human)."""
    from tests.fixtures.contrat import contrat_pdf
    from tests.fixtures.identite import identite_pdf, td1
    from tests.fixtures.rib import rib_pdf
    from tests.fixtures.sirene import avis_sirene_pdf

    mrz = td1(surname="EXEMPLE", given_names="CAMILLE", number="X4RTBPFW4", birth_date=date(1972, 5, 3),
              expiry=today + timedelta(days=5 * 365))
    avis = avis_sirene_pdf(siren="213300999", siret="21330099900017", denomination=COMMUNE,
                           date_avis=today - timedelta(days=34))
    return [
        (PieceKind.SIRENE, None, avis),
        (PieceKind.IDENTITE, None, identite_pdf(mrz=mrz)),
        (PieceKind.RIB, None, rib_pdf(titulaire=COMMUNE, iban="FR7630006000011234567890189", bic="AGRIFRPP")),
        (PieceKind.DESIGNATION, None, avis),
        (PieceKind.CONTRAT, "P-1", contrat_pdf(type="CDD", date_debut=date(2024, 1, 1), date_fin=date(2025, 6, 30))),
        (PieceKind.CONTRAT, "P-2", contrat_pdf(type="CDI", salarie="Karim Bouzid", civilite="M.",
                                               date_debut=date(2023, 10, 1))),
    ]


def deposer_pieces(app: App, dossier_id: str, now: datetime, *, sauf: tuple[PieceKind, ...] = ()) -> dict[str, int]:
    """Add the dossier's pieces (but ``sauf``); their ids by kind (``contrat:P-1`` for a poste's)."""
    ids = {}
    for kind, poste, data in pieces_du_dossier(now.date()):
        if kind in sauf:
            continue
        piece = add_piece(dossier_id, data, kind, app, now=now, poste_id=poste, filename=f"{kind}.pdf")
        ids[f"{kind}:{poste}" if poste else str(kind)] = piece.id
    return ids
