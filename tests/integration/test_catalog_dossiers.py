"""Dossiers and pieces in the catalog, on a SQLite file and on PostgreSQL 15."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dossiers.adapters.catalog import Catalog
from dossiers.domain.dossier import PieceRecord
from dossiers.domain.findings import Finding, FindingCode, Severity, Statut
from dossiers.domain.pieces import PieceKind
from dossiers.errors import CatalogError
from tests.integration.test_catalog import STRUCTURE

T0 = datetime(2024, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
DEMANDE = {"structure": {"id": STRUCTURE.id}, "convention": {"vague": 2}}
PERIME = Finding(FindingCode.SIRENE_AVIS_PERIME, Severity.ERREUR, "L'avis du 01/10/2023 a plus de 3 mois.")


@pytest.fixture
def catalog(catalog_url: str) -> Any:
    with Catalog.open(catalog_url) as opened:
        opened.save_dossier("DOS-1", structure=STRUCTURE, vague=2, demande_json=DEMANDE, demande_sha256="d" * 64)
        yield opened


def avis(sha: str = "a" * 64, *, at: datetime = T0, findings: tuple[Finding, ...] = (PERIME,)) -> PieceRecord:
    statut = Statut.INVALIDE if findings else Statut.VALIDE
    return PieceRecord(0, PieceKind.SIRENE, "avis-sirene.pdf", sha, 48_213, "application/pdf", statut, findings,
                       {"siret": STRUCTURE.siret, "date_avis": "2023-10-01"}, at, storage_key=f"dossiers/DOS-1/pieces/{sha}")


def test_a_piece_round_trips_with_its_findings_and_fields(catalog: Catalog) -> None:
    stored = catalog.record_piece("DOS-1", avis())
    assert stored.id > 0
    [read] = catalog.list_pieces("DOS-1")
    assert read == stored == dataclasses.replace(avis(), id=stored.id)
    assert read.findings[0].code is FindingCode.SIRENE_AVIS_PERIME and read.validated_at == T0


def test_the_same_file_validated_again_updates_its_row(catalog: Catalog) -> None:
    first = catalog.record_piece("DOS-1", avis())
    again = catalog.record_piece("DOS-1", avis(at=T0 + timedelta(days=1), findings=()))
    assert again.id == first.id
    [read] = catalog.list_pieces("DOS-1")
    assert read.statut is Statut.VALIDE and read.findings == () and read.validated_at == T0 + timedelta(days=1)


def test_contrats_of_two_postes_with_the_same_bytes_are_two_pieces(catalog: Catalog) -> None:
    contrat = dataclasses.replace(avis(findings=()), kind=PieceKind.CONTRAT)
    catalog.record_piece("DOS-1", dataclasses.replace(contrat, poste_id="P-1"))
    catalog.record_piece("DOS-1", dataclasses.replace(contrat, poste_id="P-2"))
    assert [p.poste_id for p in catalog.list_pieces("DOS-1")] == ["P-1", "P-2"]


def test_pieces_are_listed_oldest_first(catalog: Catalog) -> None:
    catalog.record_piece("DOS-1", avis("b" * 64, at=T0 + timedelta(hours=1)))
    catalog.record_piece("DOS-1", avis("a" * 64))
    assert [p.sha256[0] for p in catalog.list_pieces("DOS-1")] == ["a", "b"]


def test_reopening_a_dossier_updates_its_demande(catalog: Catalog) -> None:
    catalog.save_dossier("DOS-1", structure=STRUCTURE, vague=2, demande_json={"v": 2}, demande_sha256="e" * 64)
    assert catalog.get_dossier_demande("DOS-1") == {"v": 2}
    assert catalog.get_dossier_demande("DOS-404") is None
    assert catalog.list_dossier_ids(structure_id=STRUCTURE.id) == ["DOS-1"]


def test_a_piece_of_an_unknown_dossier_is_refused(catalog: Catalog) -> None:
    with pytest.raises(CatalogError):
        catalog.record_piece("DOS-404", avis())
