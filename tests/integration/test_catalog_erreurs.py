"""What the catalog raises says what it is: a malformed ``DATABASE_URL`` is a setting to fix, a schema or
rows that contradict themselves a defect, a bug in the caller an internal error, and only a database that
does not answer is transient (``catalogue``, retried). None of the first three is retried by a worker."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from dossiers.adapters.catalog import Catalog
from dossiers.bootstrap import App
from dossiers.errors import CatalogError, ErrorCode, Kind
from dossiers.settings import Settings
from tests.integration.test_catalog import CID, DEMANDE, STRUCTURE, make_version, record
from workers import runtime
from workers.retry import retried


@pytest.mark.parametrize("url", ["foo://bar", "::::", "postgresql://u@localhost:pas-un-port/conum", "mysql://u@h/db"])
def test_a_malformed_database_address_is_a_configuration_to_fix_never_retried(url: str) -> None:
    """Whatever is wrong with the address, the error names DATABASE_URL, does not echo it (a password), and
    is ``configuration_invalide``: a defect, 500, exit 3, not retried."""
    with pytest.raises(CatalogError) as caught:
        Catalog.open(url)
    error = caught.value
    assert (error.code, error.kind, retried(error)) == (ErrorCode.CONFIGURATION_INVALIDE, Kind.DEFAUT, False)
    assert ("DATABASE_URL" in error.message or "non prise en charge" in error.message) and "u@" not in error.message


def test_a_worker_whose_database_address_is_malformed_fails_its_job_at_once(tmp_path: Path) -> None:
    """The actor meets the bad address when it first reaches the catalog: the error it raises is one the
    workers' retry policy does not retry (before: ``catalogue``, retried five times)."""
    from workers.actors import deliver_webhooks

    runtime.use_app(App(Settings(var_dir=tmp_path, database_url="foo://bar")))
    try:
        with pytest.raises(CatalogError) as caught:
            deliver_webhooks.fn("wh_inconnu")
    finally:
        runtime.close_app()
    assert caught.value.code is ErrorCode.CONFIGURATION_INVALIDE and not retried(caught.value)


def test_a_migration_that_would_leave_broken_keys_is_refused_as_an_inconsistency(tmp_path: Path) -> None:
    """A dossier row whose structure is gone: the migration is refused (``catalogue_incoherent``, a defect
    someone repairs), not reported as a catalog that does not answer."""
    path = tmp_path / "c.db"
    Catalog.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA foreign_keys = OFF")
        db.execute("INSERT INTO dossiers (id, structure_id, vague, demande, demande_sha256, created_at, updated_at) "
                   "VALUES ('DOS-X', 'STR-ABSENTE', 2, '{}', ?, '2025-01-01', '2025-01-01')", ("0" * 64,))
    with pytest.raises(CatalogError, match="clés étrangères") as caught:
        Catalog.open(f"sqlite:///{path}")
    assert caught.value.code is ErrorCode.CATALOGUE_INCOHERENT and not retried(caught.value)


def test_a_schema_revision_this_version_does_not_know_is_an_inconsistency(tmp_path: Path) -> None:
    """A database migrated by a newer conum (an unknown Alembic revision): not transient."""
    path = tmp_path / "c.db"
    Catalog.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999_plus_recente'")
    with pytest.raises(CatalogError) as caught:
        Catalog.open(f"sqlite:///{path}")
    assert caught.value.code is ErrorCode.CATALOGUE_INCOHERENT and not retried(caught.value)


def test_a_callers_inconsistency_is_an_internal_error_and_a_broken_constraint_an_inconsistency(
        tmp_path: Path) -> None:
    """A version carrying another convention's id, or a naive instant, is the caller's defect
    (``erreur_interne``); a storage key of another version breaks a constraint (``catalogue_incoherent``)."""
    with Catalog.open(f"sqlite:///{tmp_path / 'c.db'}") as catalog:
        with pytest.raises(CatalogError, match="Incohérence") as caught:
            catalog.record_version(structure=STRUCTURE, convention_id=CID, vague=2, date_debut=date(2024, 1, 1),
                                   version=make_version(cid="CN-V2-AUTRE"), demande_json=DEMANDE)
        assert caught.value.code is ErrorCode.ERREUR_INTERNE
        with pytest.raises(CatalogError, match="fuseau") as caught:
            record(catalog, dataclasses.replace(make_version(), created_at=datetime(2024, 1, 2, 9, 30)))
        assert caught.value.code is ErrorCode.ERREUR_INTERNE
        record(catalog, make_version())
        reused = dataclasses.replace(make_version(2, demande_sha256="f" * 64), documents=make_version().documents)
        with pytest.raises(CatalogError) as caught:
            record(catalog, reused)
        assert caught.value.code is ErrorCode.CATALOGUE_INCOHERENT and not retried(caught.value)
        assert catalog.find_version(CID, 2) is None


def test_a_correction_of_an_unknown_structure_or_of_its_departement_is_refused(tmp_path: Path) -> None:
    """The catalog's own guards on a correction are refusals, as the service's are."""
    with Catalog.open(f"sqlite:///{tmp_path / 'c.db'}") as catalog:
        with pytest.raises(CatalogError) as caught:
            catalog.corriger_structure(STRUCTURE)
        assert caught.value.code is ErrorCode.STRUCTURE_INTROUVABLE and caught.value.kind is Kind.REFUS
        catalog.upsert_structure(STRUCTURE)
        with pytest.raises(CatalogError) as caught:
            catalog.corriger_structure(dataclasses.replace(STRUCTURE, departement="75"))
        assert caught.value.code is ErrorCode.CHANGEMENT_INVALIDE and caught.value.kind is Kind.REFUS
