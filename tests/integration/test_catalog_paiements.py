"""Payments and change requests in the catalog, on a SQLite file and on PostgreSQL 15."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from dossiers.adapters.catalog import Catalog
from dossiers.domain.etat import EtatConvention, Paiement, PosteFinance
from dossiers.domain.etat_codec import figures_from_json
from dossiers.domain.model import Nature
from tests.integration.test_catalog import CID, STRUCTURE, make_version, record

PERIODE = date(2024, 1, 1)


@pytest.fixture
def catalog(catalog_url: str) -> Any:
    with Catalog.open(catalog_url) as opened:
        record(opened, make_version(1))
        yield opened


def test_a_payment_is_recorded_once(catalog: Catalog) -> None:
    paiement = Paiement(1, date(2024, 1, 15), Decimal("52500.00"))
    assert catalog.record_paiement(CID, PERIODE, paiement) is True
    assert catalog.record_paiement(CID, PERIODE, paiement) is False
    catalog.record_paiement(CID, PERIODE, Paiement(2, date(2025, 1, 10), Decimal("37500")))
    assert catalog.list_paiements(CID, PERIODE) == (paiement, Paiement(2, date(2025, 1, 10), Decimal("37500.00")))
    assert catalog.list_paiements(CID, date(2027, 1, 1)) == ()


def test_an_avenant_version_keeps_its_request_state_and_figures(catalog: Catalog) -> None:
    etat = EtatConvention(
        convention_id=CID, version=2, vague=2, regles="vague-2", date_debut=PERIODE, date_fin=date(2026, 12, 31),
        natures=((PERIODE, Nature.PUBLIQUE), (date(2025, 7, 1), Nature.PRIVEE)), zone_prioritaire=False,
        postes=(PosteFinance("P-1", PERIODE), PosteFinance("P-2", PERIODE, fin=date(2025, 3, 31))),
        paiements=(Paiement(1, date(2024, 1, 15), Decimal("52500.00")),),
    )
    fig = figures_from_json([{"annee": 1, "debut": "2024-01-01", "fin": "2024-12-31", "du": "35000.00",
                              "verse": "52500.00", "a_reverser": "17500.00", "reste_a_verser": "0.00"}])
    avenant = dataclasses.replace(make_version(2, demande_sha256="e" * 64), request_id="R-1", document_type="avenant",
                                  changement={"request_id": "R-1", "type": "retrait_postes"}, etat=etat, figures=fig)
    record(catalog, avenant)
    found = catalog.find_version_by_request(CID, "R-1")
    assert found is not None and found.numero == 2
    assert (found.etat, found.figures, found.document_type, found.changement) == (
        etat, fig, "avenant", {"request_id": "R-1", "type": "retrait_postes"})
    assert catalog.find_version_by_request(CID, "R-404") is None
    assert catalog.get_convention(CID).current.etat == etat
    assert catalog.get_structure(STRUCTURE.id) is not None
