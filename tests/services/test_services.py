"""The use cases on in-memory ports: generation, pieces, signed copies and their decision, the situation.

Each test pins what a user of the service sees; LibreOffice's rendering is the converter contract's
business (``tests/integration/test_converter_contract.py``), the real stores the storage suite's.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from dossiers.adapters.memory_converter import MemoryConverter
from dossiers.bootstrap import App
from dossiers.domain.findings import FindingCode, Statut
from dossiers.domain.pieces import PieceKind
from dossiers.services.archive import accepter_copie, archive_signed_copy
from dossiers.services.avenants import record_payment
from dossiers.services.generation import generate_convention
from dossiers.services.situation import situation
from dossiers.services.validation import add_piece, open_dossier
from tests.factories import demande
from tests.fixtures.rib import rib_pdf
from tests.services.conftest import issued_pdf, pdf_text

CID = "CN-V2-STR-000123"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR"


def _issue(app: App) -> bytes:
    generate_convention(demande(), app, today=date(2026, 11, 2), now=NOW - timedelta(days=24))
    return issued_pdf(app, CID)


def test_a_convention_is_generated_once_with_its_text_in_the_pdf(fakes_app: App) -> None:
    first = generate_convention(demande(), fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    again = generate_convention(demande(), fakes_app, today=date(2024, 1, 3), now=datetime(2024, 1, 3, tzinfo=UTC))
    assert first.version.numero == again.version.numero == 1
    assert again.version.documents == first.version.documents  # the same documents, not made twice
    converter = fakes_app.converter
    assert isinstance(converter, MemoryConverter) and converter.converted == 1
    text = pdf_text(fakes_app, first.version)
    assert CID in text and "Commune d'Exempleville" in text


def test_a_rib_of_the_structure_is_valid_and_a_file_with_a_virus_is_refused_and_quarantined(fakes_app: App) -> None:
    dossier = open_dossier(demande(), fakes_app)
    rib = rib_pdf(titulaire="COMMUNE D'EXEMPLEVILLE", iban="FR7630006000011234567890189", bic="AGRIFRPPXXX")
    piece = add_piece(dossier.id, rib, PieceKind.RIB, fakes_app, now=NOW, filename="rib.pdf")
    assert piece.statut is not Statut.INVALIDE, piece.findings
    assert fakes_app.pieces_storage.get(piece.storage_key or "", sha256=piece.sha256) == rib
    infected = add_piece(dossier.id, rib + EICAR, PieceKind.RIB, fakes_app, now=NOW, filename="rib2.pdf")
    assert infected.statut is Statut.INVALIDE
    assert FindingCode.VIRUS_DETECTE in [f.code for f in infected.findings]
    assert (infected.storage_key or "").startswith("quarantaine/") or "quarantaine" in (infected.storage_key or "")


def test_an_unsigned_copy_waits_for_a_human_and_is_archived_once_accepted(fakes_app: App) -> None:
    unsigned = _issue(fakes_app)
    sha = hashlib.sha256(unsigned).hexdigest()
    record = archive_signed_copy(unsigned, CID, fakes_app, now=NOW)
    assert record.statut == "a_verifier" and "SIGNE_SANS_SIGNATURE" in [f.code for f in record.findings]
    assert record.storage_key is None and fakes_app.staging.exists(f"signes/{sha}.pdf")
    accepted = accepter_copie(record.id, fakes_app, par="Claire Instructrice", now=NOW + timedelta(minutes=1))
    assert accepted.statut == "archive" and accepted.storage_key is not None
    assert fakes_app.archive.get(accepted.storage_key, sha256=sha) == unsigned
    assert not fakes_app.staging.exists(f"signes/{sha}.pdf")


def test_the_situation_counts_the_payments_against_what_is_due(fakes_app: App) -> None:
    generate_convention(demande(), fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    record_payment(CID, annee=1, jour=date(2024, 1, 15), montant=Decimal("52500.00"), app=fakes_app)
    seen = situation(CID, fakes_app)
    assert seen.version.numero == 1 and [v.paiement.montant for v in seen.versements] == [Decimal("52500.00")]
    premiere = seen.figures.annees[0]
    assert (premiere.verse, premiere.reste_a_verser) == (Decimal("52500.00"), Decimal("0.00"))
