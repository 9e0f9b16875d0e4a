"""« À traiter » on fakes: each kind of work appears when it waits and leaves once dealt with, an
instructeur sees only their départements, the oldest comes first whatever its kind, the counts are of every
kind while the list is filtered."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from dossiers.bootstrap import App
from dossiers.clock import Clock
from dossiers.domain.pieces import PieceKind
from dossiers.services.a_traiter import a_traiter
from dossiers.services.archive import archive_signed_copy
from dossiers.services.decisions import decider_copie, decider_piece
from dossiers.services.generation import generate_convention
from dossiers.services.validation import add_piece, open_dossier
from tests.factories import demande
from tests.services.conftest import app_on_fakes, deposer_pieces, issued_pdf, pieces_du_dossier

T0 = datetime(2024, 1, 2, 9, 0, tzinfo=UTC)
JOUR = date(2024, 3, 1)
CID = "CN-V2-STR-000123"
PARIS = demande(structure__id="STR-000750", structure__departement="75", structure__siret="21750001600019",
                structure__adresse="1 rue de Rivoli, 75001 Paris", structure__denomination="Ville de Paris")


@pytest.fixture
def fakes_app(tmp_path: Path) -> Iterator[App]:
    """The catalog's clock at T0: a dossier's own timestamps are older than every decision."""
    with app_on_fakes(tmp_path, clock=Clock(fixed=T0)) as app:
        yield app


@pytest.fixture
def desk(fakes_app: App) -> dict[str, int]:
    """Gironde: a convention issued on 2 January, its unsigned copy received on the 10th (à vérifier); a
    dossier of another structure complete but for its désignation, uploaded on the 5th. Paris: a convention
    issued on 2 January, nothing received; a désignation uploaded on the 3rd."""
    generate_convention(demande(), fakes_app, today=T0.date(), now=T0)
    generate_convention(PARIS, fakes_app, today=T0.date(), now=T0 + timedelta(minutes=1))
    copie = issued_pdf(fakes_app, CID)
    archive_signed_copy(copie, CID, fakes_app, now=T0 + timedelta(days=8))
    paris = open_dossier(PARIS, fakes_app).id
    designation = next(data for kind, _, data in pieces_du_dossier(T0.date()) if kind is PieceKind.DESIGNATION)
    paris_piece = add_piece(paris, designation, PieceKind.DESIGNATION, fakes_app, now=T0 + timedelta(days=1)).id
    autre = open_dossier(demande(structure__id="STR-000124", convention__vague=1), fakes_app).id
    ids = deposer_pieces(fakes_app, autre, T0 + timedelta(days=3))
    return {"paris": paris_piece, "gironde": ids["designation"], "copie": int(hashlib.sha256(copie).hexdigest(), 16)}


def test_each_kind_waits_in_its_departement_the_oldest_first(fakes_app: App, desk: dict[str, int]) -> None:
    gironde = a_traiter(fakes_app, departements=("33",), jour=JOUR)
    assert [(i.genre, i.reference) for i in gironde.items] == [
        ("piece", "DOS-V1-STR-000124"),  # 5 January
        ("copie", CID),  # 10 January; no reminder: a copy was received
    ]
    assert gironde.compte == {"piece": 1, "copie": 1, "dossier_complet": 0, "a_signer": 0, "reemission_echec": 0}
    assert gironde.items[0].attente_jours(JOUR) == 56 and gironde.items[0].ids["piece_id"] == desk["gironde"]
    assert gironde.items[1].ids["sha256"] == f"{desk['copie']:064x}"
    paris = a_traiter(fakes_app, departements=("75",), jour=JOUR)
    assert [(i.genre, i.reference, i.ids.get("piece_id")) for i in paris.items] == [
        ("a_signer", "CN-V2-STR-000750", None),  # issued 2 January, nothing received after 30 days
        ("piece", "DOS-V2-STR-000750", desk["paris"])]
    everyone = a_traiter(fakes_app, departements=(), jour=JOUR)
    assert [(i.departement, i.genre) for i in everyone.items] == [
        ("75", "a_signer"), ("75", "piece"), ("33", "piece"), ("33", "copie")]
    pieces_only = a_traiter(fakes_app, departements=(), jour=JOUR, genre="piece", par_page=1, page=2)
    assert [i.departement for i in pieces_only.items] == ["33"] and (pieces_only.total, pieces_only.pages) == (2, 2)
    assert pieces_only.compte["copie"] == 1  # the counts ignore the filter
    with pytest.raises(ValueError):
        a_traiter(fakes_app, departements=(), jour=JOUR, genre="inconnu")


def test_a_reminder_waits_only_after_the_delay(fakes_app: App, desk: dict[str, int]) -> None:
    early = a_traiter(fakes_app, departements=("75",), jour=T0.date() + timedelta(days=29), genre="a_signer")
    assert early.items == []
    late = a_traiter(fakes_app, departements=("75",), jour=T0.date() + timedelta(days=31), genre="a_signer")
    assert [i.reference for i in late.items] == ["CN-V2-STR-000750"]


def test_work_dealt_with_leaves_the_list_and_a_complete_dossier_asks_for_its_convention(
        fakes_app: App, desk: dict[str, int]) -> None:
    later = T0 + timedelta(days=20)
    decider_piece("DOS-V1-STR-000124", desk["gironde"], "accepte", fakes_app, par="Claire Instructrice", now=later)
    sha = f"{desk['copie']:064x}"
    decider_copie(CID, 1, sha, "refuse", fakes_app, par="Claire Instructrice", now=later, motif="signataire")
    left = a_traiter(fakes_app, departements=("33",), jour=JOUR)
    # the refused copy sends its convention back to the reminders; the dossier waits for its convention
    assert [(i.genre, i.reference) for i in left.items] == [("a_signer", CID), ("dossier_complet", "DOS-V1-STR-000124")]
    assert left.items[1].depuis == later  # since the decision that completed it, not the dossier's last change
    generate_convention(demande(structure__id="STR-000124", convention__vague=1), fakes_app, today=later.date(),
                        now=later + timedelta(hours=1))
    after = a_traiter(fakes_app, departements=("33",), jour=JOUR).items
    assert [(i.genre, i.reference) for i in after] == [("a_signer", CID), ("a_signer", "CN-V1-STR-000124")]
