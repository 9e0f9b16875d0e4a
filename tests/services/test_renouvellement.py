"""A renewal on fakes: a new convention under the vague-2 rules, linked both ways, the closed period's
balance beside its amounts (never in them) and stated in its PDF; asked again, the same convention;
another renewal of the same period refused; the new convention takes its own avenants."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dossiers.bootstrap import App
from dossiers.errors import ChangementRefuse, ErrorCode
from dossiers.services.avenants import amend, liens, record_payment
from dossiers.services.generation import generate_convention
from tests.e2e.test_renouvellement import RENOUVELLEMENT  # the same renewal request as the e2e test's
from tests.factories import example
from tests.services.conftest import pdf_text

V1, V2 = "CN-V1-STR-000007", "CN-V2-STR-000007"
TODAY = date(2023, 5, 2)
NOW = datetime(2023, 5, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(fakes_app: App) -> App:
    # vague 1, public, 2 postes from 2021-06-01: 2 x (25 000 + 25 000) = 100 000 due; 30 000 paid for year 1
    generate_convention(example("departement-vague-1.json"), fakes_app, today=date(2021, 5, 20), now=datetime(2021, 5, 20, tzinfo=UTC))
    record_payment(V1, annee=1, jour=date(2021, 7, 1), montant=Decimal("30000.00"), app=fakes_app)
    return fakes_app


def test_a_renewal_is_a_new_convention_with_the_old_balance_beside_its_amounts(app: App) -> None:
    renewed = amend(V1, RENOUVELLEMENT, app, today=TODAY, now=NOW)
    assert renewed.created and (renewed.version.convention_id, renewed.version.numero) == (V2, 1)
    # vague 2, public: 17 500 + 12 500 + 12 500 per poste, x 2
    assert renewed.version.montant_total == Decimal("85000.00") and renewed.version.regles == "vague-2"
    # the closed period: 100 000 due, 30 000 paid -> 70 000 still to be paid by the CDC
    assert liens(V2, app).solde_precedent == ("verser", Decimal("70000.00"))
    assert (liens(V2, app).renouvelle, liens(V1, app).renouvelee_par) == (V1, V2)
    text = pdf_text(app, renewed.version)
    assert "Convention n° CN-V2-STR-000007" in text and "70 000,00 €" in text and V1 in text
    assert "Sophie Durand" in text  # the contract given for the new period

    again = amend(V1, RENOUVELLEMENT, app, today=TODAY, now=NOW)
    assert (again.created, again.version.convention_id, again.version.documents) == (
        False, V2, renewed.version.documents)
    with pytest.raises(ChangementRefuse) as other:
        amend(V1, {**RENOUVELLEMENT, "request_id": "autre"}, app, today=TODAY, now=NOW)
    assert other.value.code is ErrorCode.CONVENTION_CLOSE and V2 in str(other.value)
    avenant = amend(V2, {"request_id": "retrait", "type": "retrait_postes",
                         "postes": [{"id": "P-2", "date_fin_contrat": "2025-05-31"}]}, app, today=TODAY, now=NOW)
    assert (avenant.version.convention_id, avenant.version.numero) == (V2, 2)


def test_a_payment_on_the_closed_period_changes_its_balance_not_the_new_amounts(app: App) -> None:
    amend(V1, RENOUVELLEMENT, app, today=TODAY, now=NOW)
    record_payment(V1, annee=2, jour=date(2022, 7, 1), montant=Decimal("50000.00"), app=app)
    assert liens(V2, app).solde_precedent == ("verser", Decimal("20000.00"))
    current = app.catalog.get_convention(V2)
    assert current is not None and current.current.montant_total == Decimal("85000.00")
