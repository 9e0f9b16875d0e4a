"""Payments and the situation on fakes: a payment above what a year is due is refused unless forced with its
motif, and then shows as to repay with its motif among the warnings; the same payment reported twice is
recorded once; a structure recorded twice under one SIRET is flagged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dossiers.bootstrap import App
from dossiers.errors import ChangementRefuse, ErrorCode
from dossiers.services.avenants import record_payment
from dossiers.services.generation import generate_convention
from dossiers.services.situation import situation
from tests.factories import demande

CID = "CN-V2-STR-000123"


@pytest.fixture
def app(fakes_app: App) -> App:
    # 3 postes, public, vague 2 from 2024-01-01: year 1 due 3 x 17 500 = 52 500, years 2 and 3 3 x 12 500 = 37 500
    generate_convention(demande(), fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    return fakes_app


def test_a_payment_above_what_is_due_needs_force_and_a_motif_and_is_then_to_repay(app: App) -> None:
    assert record_payment(CID, annee=1, jour=date(2024, 2, 1), montant=Decimal("50000.00"), app=app)[1] is True
    with pytest.raises(ChangementRefuse) as over:
        record_payment(CID, annee=1, jour=date(2024, 3, 1), montant=Decimal("3000.00"), app=app)
    assert over.value.code is ErrorCode.PAIEMENT_EXCEDENTAIRE
    message = str(over.value).replace("\u202f", " ").replace("\xa0", " ")
    assert "52 500,00 €" in message and "50 000,00 €" in message and "dépasseraient le dû de 500,00 €" in message
    with pytest.raises(ChangementRefuse) as no_motif:
        record_payment(CID, annee=1, jour=date(2024, 3, 1), montant=Decimal("3000.00"), app=app, force=True)
    assert no_motif.value.code is ErrorCode.PAIEMENT_INVALIDE
    assert situation(CID, app).figures.annees[0].verse == Decimal("50000.00")  # nothing recorded by the refusals

    record_payment(CID, annee=1, jour=date(2024, 3, 1), montant=Decimal("3000.00"), app=app, force=True,
                   motif="Acompte versé deux fois")
    seen = situation(CID, app)
    premiere = seen.figures.annees[0]
    assert (premiere.verse, premiere.reste_a_verser, premiere.a_reverser) == (
        Decimal("53000.00"), Decimal("0.00"), Decimal("500.00"))
    assert seen.figures.total_a_reverser == Decimal("500.00")
    assert [(v.paiement.montant, v.motif) for v in seen.versements] == [
        (Decimal("50000.00"), None), (Decimal("3000.00"), "Acompte versé deux fois")]
    assert any("Acompte versé deux fois" in w and "année 1" in w for w in seen.avertissements)
    assert seen.to_dict()["total"]["a_reverser_eur"] == "500.00"


def test_a_payment_reported_twice_counts_once_and_a_bad_one_is_refused(app: App) -> None:
    assert record_payment(CID, annee=2, jour=date(2025, 1, 10), montant=Decimal("37500.00"), app=app)[1] is True
    assert record_payment(CID, annee=2, jour=date(2025, 1, 10), montant=Decimal("37500.00"), app=app)[1] is False
    assert situation(CID, app).figures.annees[1].verse == Decimal("37500.00")
    for annee, montant, jour in ((4, "10.00", date(2025, 1, 1)), (1, "0.001", date(2024, 2, 1)),
                                 (1, "-5.00", date(2024, 2, 1)), (1, "10.00", date(2023, 12, 31))):
        with pytest.raises(ChangementRefuse) as bad:
            record_payment(CID, annee=annee, jour=jour, montant=Decimal(montant), app=app)
        assert bad.value.code is ErrorCode.PAIEMENT_INVALIDE, (annee, montant, jour)
    with pytest.raises(ChangementRefuse) as control:
        record_payment(CID, annee=3, jour=date(2026, 1, 1), montant=Decimal("1.00"), app=app, force=True,
                       motif="saisie\x00")
    assert control.value.code is ErrorCode.PAIEMENT_INVALIDE


def test_the_situation_warns_of_another_structure_with_the_same_siret(app: App) -> None:
    assert situation(CID, app).avertissements == []
    generate_convention(demande(structure__id="STR-000999", structure__denomination="Mairie d'Exempleville"), app,
                        today=date(2024, 1, 3), now=datetime(2024, 1, 3, tzinfo=UTC))
    warnings = situation(CID, app).avertissements
    assert len(warnings) == 1 and "STR-000999" in warnings[0] and "21330099900017" in warnings[0]
