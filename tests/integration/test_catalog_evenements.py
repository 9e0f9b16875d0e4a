"""The catalog's poste events (SQLite and PostgreSQL): recorded once per request id, checked under the
convention's lock, read in bulk; and the migration that gives old states their contracts' dates."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, update

from dossiers import migrations
from dossiers.adapters.catalog import Catalog
from dossiers.adapters.catalog.tables import VersionRow
from dossiers.domain.etat import EtatConvention, PosteFinance
from dossiers.domain.etat_codec import etat_to_json
from dossiers.domain.model import EtatPoste, Nature, TypeContrat
from dossiers.domain.postes import FinContrat, MotifFin, NouvelEvenement, Recrutement, Source, chronologie
from dossiers.errors import CatalogError, ChangementRefuse, ErrorCode
from tests.integration.test_catalog import CID, STRUCTURE, make_version

PERIODE = date(2024, 1, 1)
DEMANDE = {"structure": {"id": STRUCTURE.id}, "convention": {"vague": 2, "date_debut": "2024-01-01"},
           "postes": [{"id": "P-1", "etat": "occupe", "conseiller": {"prenom": "Inès", "nom": "T"},
                       "contrat": {"type": "CDD", "date_debut": "2024-01-01", "date_fin": "2025-06-30"}}]}


def _record(catalog: Catalog, version: Any) -> None:
    catalog.record_version(structure=STRUCTURE, convention_id=CID, vague=2, date_debut=PERIODE, version=version,
                           demande_json=DEMANDE)


@pytest.fixture
def catalog(catalog_url: str) -> Any:
    with Catalog.open(catalog_url) as opened:
        _record(opened, make_version(1))
        yield opened


def nouvel(event: Any, digest: str = "a" * 64) -> NouvelEvenement:
    return NouvelEvenement(CID, event, {"request_id": event.request_id}, digest, Source.PORTAIL, 1)


def test_events_are_recorded_in_order_once_per_request_id(catalog: Catalog) -> None:
    fin = FinContrat("E-1", "P-1", date(2025, 3, 31), MotifFin.DEMISSION)
    seen: list[tuple] = []
    recorded = catalog.record_evenements(CID, [nouvel(fin)], lambda existing: seen.append(existing))
    assert seen == [()] and [e.evenement for e in recorded] == [fin]
    recrue = Recrutement("E-2", "P-1", "Léa Roux", TypeContrat.CDI, date(2025, 6, 1))
    catalog.record_evenements(CID, [nouvel(recrue)], lambda existing: seen.append(existing))
    assert [e.evenement for e in seen[-1]] == [fin]  # the check sees what is recorded, under the lock
    listed = catalog.list_evenements(CID)
    assert [e.evenement for e in listed] == [fin, recrue] and listed[0].seq < listed[1].seq
    assert listed[1].source is Source.PORTAIL and listed[1].recorded_at is not None
    assert catalog.find_evenement(CID, "E-2").evenement == recrue and catalog.find_evenement(CID, "E-3") is None
    assert catalog.evenements_by_convention() == {CID: listed}
    with pytest.raises(CatalogError):  # the same request id twice: the unique constraint holds
        catalog.record_evenements(CID, [nouvel(fin, "b" * 64)], lambda existing: None)
    assert len(catalog.list_evenements(CID)) == 2


def test_a_refused_check_records_nothing(catalog: Catalog) -> None:
    def refuse(existing: tuple) -> None:
        raise ChangementRefuse("Poste P-1 : non.", code=ErrorCode.EVENEMENT_INVALIDE)

    with pytest.raises(ChangementRefuse):
        catalog.record_evenements(CID, [nouvel(FinContrat("E-1", "P-1", date(2025, 3, 31), MotifFin.AUTRE))], refuse)
    assert catalog.list_evenements(CID) == ()


def test_the_migration_gives_states_stored_before_it_their_contract_dates(catalog_url: str) -> None:
    # A v2 state stored by the previous release has no contrat_debut/contrat_fin: its CDD would never
    # end. Migrating from 0009 takes them from the demande, so the CDD ends on 2025-06-30.
    etat = EtatConvention(
        convention_id=CID, version=2, vague=2, regles="vague-2", date_debut=PERIODE, date_fin=date(2026, 12, 31),
        natures=((PERIODE, Nature.PUBLIQUE),), zone_prioritaire=False,
        postes=(PosteFinance("P-1", PERIODE, etat=EtatPoste.OCCUPE, type_contrat=TypeContrat.CDD, conseiller="Inès T"),
                PosteFinance("P-2", PERIODE, etat=EtatPoste.VACANT, vacant_depuis=PERIODE)))
    with Catalog.open(catalog_url) as catalog:
        _record(catalog, make_version(1))
        _record(catalog, dataclasses.replace(make_version(2, demande_sha256="e" * 64), etat=etat))
        old = etat_to_json(etat)
        for poste in old["postes"]:
            for key in ("contrat_debut", "contrat_fin", "source", "piece_contrat_attendue"):
                del poste[key]
        with catalog.engine.connect() as conn:
            if conn.dialect.name == "sqlite":  # 0011 rebuilds conventions: keys off, as Catalog.migrate does
                conn.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
            with conn.begin():
                command.downgrade(migrations.alembic_config(connection=conn), "0009")
                conn.execute(update(VersionRow).where(VersionRow.numero == 2).values(etat=old))
            with conn.begin():
                migrations.upgrade(conn)
                stored = conn.execute(select(VersionRow.etat).where(VersionRow.numero == 2)).scalar_one()
            if conn.dialect.name == "sqlite":
                conn.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
    assert stored["postes"][0]["contrat_debut"] == "2024-01-01" and stored["postes"][0]["contrat_fin"] == "2025-06-30"
    assert "contrat_fin" not in stored["postes"][1]  # not in the demande: left as it was
    with Catalog.open(catalog_url) as catalog:
        reread = catalog.get_convention(CID).current.etat
    timeline = chronologie(reread.postes[0], (), date(2025, 8, 1))
    assert timeline.situation(date(2025, 8, 1)).vacant_depuis == date(2025, 7, 1)
