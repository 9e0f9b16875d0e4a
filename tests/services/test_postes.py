"""Postes' life events on fakes: a recrutement, a fin de contrat and a prolongation change the timeline and
make no document; a request id is recorded once; a transfer issues the avenants of both conventions and
moves exactly the money one loses to the other; a closed convention takes no event."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dossiers.adapters.memory_converter import MemoryConverter
from dossiers.bootstrap import App
from dossiers.domain.postes import Source
from dossiers.errors import ChangementRefuse, ErrorCode
from dossiers.services.avenants import amend, history
from dossiers.services.generation import generate_convention
from dossiers.services.postes import record_evenement
from tests.factories import demande
from tests.services.conftest import pdf_text, version_pdf

A, B = "CN-V2-STR-000123", "CN-V2-STR-000999"
TODAY = date(2025, 4, 1)
NOW = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(fakes_app: App) -> App:
    generate_convention(demande(), fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    return fakes_app


def _poste(app: App, poste: str, payload: dict, jour: date = TODAY) -> dict:
    done = record_evenement(A, poste, payload, app, source=Source.PORTAIL, today=TODAY, now=NOW, jour=jour)
    return next(p for p in done.to_json()["postes"] if p["id"] == poste)


def _converted(app: App) -> int:
    converter = app.converter
    assert isinstance(converter, MemoryConverter)
    return converter.converted


def test_recrutement_fin_de_contrat_and_prolongation_change_the_timeline_without_a_document(app: App) -> None:
    before = _converted(app)
    hired = _poste(app, "P-3", {"request_id": "E-1", "type": "recrutement", "conseiller": {"prenom": "Awa", "nom": "Diallo"},
                                "contrat": {"type": "CDD", "date_debut": "2025-02-01", "date_fin": "2026-01-31"}})
    assert (hired["etat"], hired["contrat"]["conseiller"], hired["vacant_depuis"]) == ("occupe", "Awa Diallo", None)
    left = _poste(app, "P-2", {"request_id": "E-2", "type": "fin_contrat", "date": "2025-03-31", "motif": "demission"})
    assert (left["etat"], left["vacant_depuis"], left["contrat"]) == ("vacant", "2025-04-01", None)
    longer = _poste(app, "P-1", {"request_id": "E-3", "type": "prolongation", "date_fin": "2026-06-30"},
                    jour=date(2025, 12, 1))  # past the CDD's first planned end (2025-06-30)
    assert (longer["etat"], longer["contrat"]["date_fin"]) == ("occupe", "2026-06-30")
    assert _converted(app) == before and [v.numero for v, _ in history(A, app)] == [1]
    convention = app.catalog.get_convention(A)
    assert convention is not None and convention.current.numero == 1


def test_an_event_is_recorded_once_per_request_id_and_on_the_current_version_only(app: App) -> None:
    event = {"request_id": "E-7", "type": "fin_contrat", "date": "2025-03-31", "motif": "licenciement"}
    first = record_evenement(A, "P-2", event, app, source=Source.PORTAIL, today=TODAY, now=NOW)
    again = record_evenement(A, "P-2", {**event, "poste": "P-2"}, app, source=Source.PORTAIL, today=TODAY, now=NOW)
    assert (first.enregistre, again.enregistre) == (True, False)
    with pytest.raises(ChangementRefuse) as conflict:
        record_evenement(A, "P-2", {**event, "date": "2025-04-30"}, app, source=Source.PORTAIL, today=TODAY, now=NOW)
    assert conflict.value.code is ErrorCode.REQUETE_CONFLIT
    with pytest.raises(ChangementRefuse) as stale:
        record_evenement(A, "P-1", {"request_id": "E-8", "type": "absence", "du": "2025-05-01", "motif": "autre",
                                    "version": 2}, app, source=Source.PORTAIL, today=TODAY, now=NOW)
    assert stale.value.code is ErrorCode.VERSION_PERIMEE


def test_a_transfer_issues_both_avenants_and_moves_exactly_the_money(app: App) -> None:
    generate_convention(demande(structure__id="STR-000999", structure__denomination="Commune de Bellevue",
                                structure__siret="21330063500017"), app, today=date(2024, 1, 2),
                        now=datetime(2024, 1, 2, tzinfo=UTC))
    transfert = {"request_id": "T-1", "type": "transfert", "poste": "P-2", "date": "2025-03-31",
                 "vers": {"structure_id": "STR-000999"}}
    done = record_evenement(A, None, transfert, app, source=Source.PORTAIL, today=TODAY, now=NOW)
    assert [(v.convention_id, v.numero) for v in done.versions] == [(A, 2), (B, 2)]

    def change(cid: str) -> list[Decimal]:
        (v1, f1), (v2, f2) = sorted(history(cid, app), key=lambda vf: vf[0].numero)[:2]
        return [y.du - x.du for x, y in zip(f1.annees, f2.annees)]

    # A loses 12 500 x 275/365 = 9 417.81 in year 2 (from 2025-04-01) and 12 500 in year 3; B gains the same
    assert [-d for d in change(A)] == change(B) == [Decimal("0.00"), Decimal("9417.81"), Decimal("12500.00")]
    for version in done.versions:
        assert version_pdf(app, version)  # stored, its SHA-256 checked on read-back
        assert "P-2" in pdf_text(app, version) and version.document_type == "avenant"
    again = record_evenement(A, None, transfert, app, source=Source.PORTAIL, today=TODAY, now=NOW)
    assert again.enregistre is False and len(again.versions) == 2
    with pytest.raises(ChangementRefuse) as gone:  # the poste no longer lives in A
        record_evenement(A, "P-2", {"request_id": "E-9", "type": "fin_contrat", "date": "2025-06-30",
                                    "motif": "demission"}, app, source=Source.PORTAIL, today=TODAY, now=NOW)
    assert gone.value.code is ErrorCode.EVENEMENT_INVALIDE


def test_a_terminated_convention_takes_no_more_event(app: App) -> None:
    amend(A, {"request_id": "R-5", "type": "resiliation", "date_effet": "2025-09-30", "motif": "anticipee"}, app,
          today=TODAY, now=NOW)
    with pytest.raises(ChangementRefuse) as closed:
        record_evenement(A, "P-3", {"request_id": "E-1", "type": "recrutement",
                                    "conseiller": {"prenom": "Awa", "nom": "Diallo"},
                                    "contrat": {"type": "CDI", "date_debut": "2025-05-01"}},
                         app, source=Source.PORTAIL, today=TODAY, now=NOW)
    assert closed.value.code is ErrorCode.CONVENTION_CLOSE
