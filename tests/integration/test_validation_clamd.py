"""A portal uploads an infected piece: a real clamd finds it before any parser sees it, the file goes
to quarantine and never joins the dossier's pieces; a clean piece passes the antivirus and is kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dossiers.adapters.inspection import Inspector
from dossiers.bootstrap import App
from dossiers.domain.findings import FindingCode, Statut
from dossiers.domain.pieces import PieceKind
from dossiers.services.validation import QUARANTINE_PREFIX, add_piece, open_dossier, piece_key
from dossiers.settings import Settings
from tests.factories import example
from tests.fixtures.sirene import avis_sirene_pdf

pytestmark = pytest.mark.clamav
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class CountingInspector(Inspector):
    """The real inspector, counting what reached it."""

    seen = 0

    def inspect(self, data: bytes, **kw: object) -> object:  # type: ignore[override]
        self.seen += 1
        return super().inspect(data, **kw)  # type: ignore[arg-type]


@pytest.fixture
def app(tmp_path: Path, clamd_address: str) -> Iterator[App]:
    settings = Settings(var_dir=tmp_path / "var", clamd_address=clamd_address)
    with CountingInspector(workers=1) as inspector, App(settings, inspector=inspector) as application:
        yield application


def test_an_infected_piece_is_quarantined_before_any_parsing(app: App, eicar: bytes) -> None:
    dossier = open_dossier(example("commune-qpv-3-postes.json"), app)
    infected = b"%PDF-1.7\n1 0 obj\n<< /Length 68 >>\nstream\n" + eicar + b"\nendstream\nendobj\n%%EOF\n"
    piece = add_piece(dossier.id, infected, PieceKind.SIRENE, app, now=NOW, filename="avis.pdf")
    assert piece.statut is Statut.INVALIDE
    [finding] = piece.findings
    assert finding.code is FindingCode.VIRUS_DETECTE and "Eicar-Test-Signature" in finding.message
    assert app.inspector.seen == 0
    assert piece.storage_key == QUARANTINE_PREFIX + piece.sha256
    assert app.pieces_storage.get(piece.storage_key, sha256=piece.sha256) == infected
    assert not app.pieces_storage.exists(piece_key(dossier.id, piece.sha256))


def test_a_clean_piece_is_scanned_then_checked_and_kept(app: App) -> None:
    dossier = open_dossier(example("commune-qpv-3-postes.json"), app)
    avis = avis_sirene_pdf(siren="215903501", siret="21590350100017", denomination="COMMUNE DE ROUBAIX",
                           date_avis=date(2026, 11, 2))
    piece = add_piece(dossier.id, avis, PieceKind.SIRENE, app, now=NOW, today=date(2026, 11, 26))
    assert piece.statut is Statut.VALIDE, piece.findings
    assert piece.fields["antivirus"] == "sain" and app.inspector.seen == 1
    assert app.pieces_storage.get(piece_key(dossier.id, piece.sha256), sha256=piece.sha256) == avis
