"""The catalog on real databases: every test runs on a SQLite file and on PostgreSQL 15."""

from __future__ import annotations

import dataclasses
import multiprocessing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from dossiers import migrations
from dossiers.adapters.catalog import Catalog
from dossiers.adapters.catalog.tables import Base, ConventionRow, DocumentRow, VersionRow
from dossiers.domain.model import (
    ConventionVersion,
    DocumentRef,
    Nature,
    Representant,
    Structure,
    Tranche,
    convention_id_for,
)
from dossiers.errors import CatalogError, ConventionConflict, ErrorCode

STRUCTURE = Structure(
    id="STR-000123",
    siret="21330099900017",
    denomination="Commune d'Exempleville",
    nature=Nature.PUBLIQUE,
    categorie_juridique="7210",
    departement="33",
    adresse="1 place de la Mairie, 33000 Exempleville",
    zone_prioritaire=False,
    representant=Representant(civilite="Mme", prenom="Camille", nom="Exemple", qualite="Maire"),
)
CID = convention_id_for(STRUCTURE.id, 2)
DEMANDE = {"structure": {"id": STRUCTURE.id}, "convention": {"vague": 2, "date_debut": "2024-01-01"}}


def make_version(numero: int = 1, *, demande_sha256: str = "d" * 64, cid: str = CID) -> ConventionVersion:
    return ConventionVersion(
        convention_id=cid,
        numero=numero,
        motif="initiale" if numero == 1 else "avenant",
        regles="2024-01",
        modele_version="convention-v3",
        modele_sha256="a" * 64,
        demande_sha256=demande_sha256,
        montant_total=Decimal("127500.00"),
        echeancier=(
            Tranche(numero=1, annee=1, date=date(2024, 1, 1), montant=Decimal("52500.00")),
            Tranche(numero=2, annee=2, date=date(2025, 1, 1), montant=Decimal("50000.00")),
            Tranche(numero=3, annee=3, date=date(2026, 1, 1), montant=Decimal("25000.00")),
        ),
        created_at=datetime(2024, 1, 2, 9, 30, 15, 123456, tzinfo=UTC),
        documents=(
            DocumentRef("pdf", f"conventions/{cid}/v{numero}.pdf", "b" * 64, 48213, "application/pdf"),
            DocumentRef(
                "docx",
                f"conventions/{cid}/v{numero}.docx",
                "c" * 64,
                20411,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
        ),
    )


def record(catalog: Catalog, version: ConventionVersion, structure: Structure = STRUCTURE, vague: int = 2) -> Any:
    return catalog.record_version(
        structure=structure,
        convention_id=version.convention_id,
        vague=vague,
        date_debut=date(2024, 1, 1),
        version=version,
        demande_json=DEMANDE,
    )


@pytest.fixture
def catalog(catalog_url: str) -> Any:
    with Catalog.open(catalog_url) as opened:
        yield opened


def count(catalog: Catalog, model: type[Base]) -> int:
    with catalog.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def test_migration_brings_the_schema_to_head_matching_the_models(catalog: Catalog) -> None:
    """Opening migrates to the latest revision, and the migrations build exactly the models."""
    assert catalog.current_revision() == migrations.head_revision() is not None
    with catalog.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {"structures", "conventions", "convention_versions", "documents", "alembic_version"} <= tables
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_a_version_round_trips_exactly(catalog: Catalog) -> None:
    """Amounts, dates, échéancier, instants and documents come back exactly as recorded."""
    version = make_version()
    assert record(catalog, version) == version
    convention = catalog.get_convention(CID)
    assert convention is not None
    assert (convention.structure_id, convention.vague, convention.date_debut) == (STRUCTURE.id, 2, date(2024, 1, 1))
    (stored,) = convention.versions
    assert stored == version
    assert str(stored.montant_total) == "127500.00"
    assert [str(t.montant) for t in stored.echeancier] == ["52500.00", "50000.00", "25000.00"]
    assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset().total_seconds() == 0
    assert [d.kind for d in stored.documents] == ["pdf", "docx"]
    assert catalog.find_version(CID, 1) == version
    assert catalog.find_version(CID, 2) is None
    assert catalog.find_demande(CID, 1) == DEMANDE
    assert catalog.get_structure(STRUCTURE.id) == STRUCTURE
    assert catalog.get_convention("CN-V9-INCONNUE") is None


def test_echeancier_is_stored_as_iso_dates_and_decimal_strings(catalog: Catalog) -> None:
    """The stored échéancier JSON is a list of {numero, annee, date ISO, montant "52500.00"}."""
    record(catalog, make_version())
    with catalog.engine.connect() as conn:
        echeancier = conn.scalar(select(VersionRow.echeancier))
    assert echeancier[0] == {"numero": 1, "annee": 1, "date": "2024-01-01", "montant": "52500.00"}


def test_recording_the_same_version_again_returns_the_stored_one(catalog: Catalog) -> None:
    """A retried job records nothing new and gets the version already in the catalog."""
    first = record(catalog, make_version())
    retried = dataclasses.replace(make_version(), created_at=datetime.now(UTC), motif="rejeu")
    assert record(catalog, retried) == first
    assert (count(catalog, VersionRow), count(catalog, DocumentRow), count(catalog, ConventionRow)) == (1, 2, 1)


def test_a_different_demande_for_an_existing_version_is_a_conflict(catalog: Catalog) -> None:
    """Another demande can never replace an issued version: ConventionConflict names the convention."""
    record(catalog, make_version())
    with pytest.raises(ConventionConflict) as caught:
        record(catalog, make_version(demande_sha256="e" * 64))
    assert caught.value.code == ErrorCode.CONVENTION_CONFLIT
    assert CID in caught.value.message
    assert catalog.find_version(CID, 1) == make_version()


def test_avenants_are_listed_in_order_and_filtered_by_departement(catalog: Catalog) -> None:
    """Versions come back ordered by numero; list_conventions filters and pages."""
    record(catalog, make_version(2, demande_sha256="f" * 64))
    record(catalog, make_version(1))
    other = dataclasses.replace(STRUCTURE, id="STR-000999", departement="2A")
    record(catalog, make_version(cid=convention_id_for(other.id, 2)), structure=other)
    convention = catalog.get_convention(CID)
    assert convention is not None and [v.numero for v in convention.versions] == [1, 2]
    assert convention.current is not None and convention.current.numero == 2
    assert [c.id for c in catalog.list_conventions(departement="33")] == [CID]
    assert [c.id for c in catalog.list_conventions(departement="2A")] == ["CN-V2-STR-000999"]
    assert [c.id for c in catalog.list_conventions(limit=1, offset=1)] == ["CN-V2-STR-000999"]
    assert len(catalog.list_conventions()) == 2
    with pytest.raises(ValueError):
        catalog.list_conventions(limit=-1)


def test_one_convention_per_structure_and_vague(catalog: Catalog) -> None:
    """unique(structure_id, vague) holds through the API and in the database itself."""
    record(catalog, make_version())
    with pytest.raises(ConventionConflict, match="CN-AUTRE"):
        record(catalog, make_version(cid="CN-AUTRE"))
    with pytest.raises(IntegrityError), catalog.engine.begin() as conn:
        conn.execute(
            ConventionRow.__table__.insert().values(
                id="CN-AUTRE", structure_id=STRUCTURE.id, vague=2, date_debut=date(2024, 1, 1),
                created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    assert count(catalog, ConventionRow) == 1


def test_a_storage_key_belongs_to_one_document(catalog: Catalog) -> None:
    """A new version cannot point at another version's stored object."""
    record(catalog, make_version())
    reused = dataclasses.replace(make_version(2, demande_sha256="f" * 64), documents=make_version().documents)
    with pytest.raises(CatalogError) as caught:
        record(catalog, reused)
    assert not isinstance(caught.value, ConventionConflict)
    assert catalog.find_version(CID, 2) is None


def test_upsert_structure_updates_in_place(catalog: Catalog) -> None:
    """A structure is one row, updated with the latest demande."""
    catalog.upsert_structure(STRUCTURE)
    moved = dataclasses.replace(STRUCTURE, adresse="2 rue Neuve, 33000 Exempleville", zone_prioritaire=True)
    catalog.upsert_structure(moved)
    assert catalog.get_structure(STRUCTURE.id) == moved


def test_a_naive_instant_is_refused(catalog: Catalog) -> None:
    """Timestamps must be timezone-aware; nothing is written otherwise."""
    naive = dataclasses.replace(make_version(), created_at=datetime(2024, 1, 2, 9, 30))
    with pytest.raises(CatalogError, match="fuseau"):
        record(catalog, naive)
    assert catalog.get_convention(CID) is None


def test_sqlite_stores_amounts_as_exact_text(tmp_path: Any) -> None:
    """On SQLite the amount is the text "127500.00", never a float."""
    with Catalog.open(f"sqlite:///{tmp_path / 'c.db'}") as catalog:
        record(catalog, make_version())
        with catalog.engine.connect() as conn:
            row = conn.execute(text("SELECT montant_total, typeof(montant_total) FROM convention_versions")).one()
    assert tuple(row) == ("127500.00", "text")


def test_an_unreachable_database_is_a_catalog_error() -> None:
    """Connection failures surface as CatalogError, not as SQLAlchemy exceptions."""
    with pytest.raises(CatalogError, match="migration"):
        Catalog.open("postgresql://postgres@127.0.0.1:1/absente")


def _record_in_child(url: str, barrier: Any, results: Any, demande_sha256: str) -> None:
    try:
        with Catalog.open(url, migrate=False) as catalog:
            barrier.wait(timeout=30)
            stored = record(catalog, make_version(demande_sha256=demande_sha256))
            results.put(("ok", stored.demande_sha256))
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put((type(exc).__name__, str(exc)))


def _race(url: str, shas: list[str]) -> list[tuple[str, str]]:
    Catalog.open(url).close()  # migrate before the race
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(shas)), ctx.Queue()
    procs = [ctx.Process(target=_record_in_child, args=(url, barrier, results, sha)) for sha in shas]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
        assert proc.exitcode == 0
    return outcomes


def test_processes_racing_on_one_version_end_with_one_row(catalog_url: str) -> None:
    """Four processes record the same version at once: one row, and each gets the stored version."""
    outcomes = _race(catalog_url, ["d" * 64] * 4)
    assert outcomes == [("ok", "d" * 64)] * 4
    with Catalog.open(catalog_url, migrate=False) as catalog:
        assert (count(catalog, VersionRow), count(catalog, DocumentRow)) == (1, 2)


def test_processes_racing_with_different_demandes_leave_one_winner(catalog_url: str) -> None:
    """Of four different demandes racing for one version, one wins and the others get a conflict."""
    shas = [c * 64 for c in "1234"]
    outcomes = _race(catalog_url, shas)
    winners = [sha for status, sha in outcomes if status == "ok"]
    assert len(winners) == 1
    assert sorted(status for status, _ in outcomes) == ["ConventionConflict"] * 3 + ["ok"]
    with Catalog.open(catalog_url, migrate=False) as catalog:
        stored = catalog.find_version(CID, 1)
        assert stored is not None and stored.demande_sha256 == winners[0]
        assert count(catalog, VersionRow) == 1


def _open_in_child(url: str, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(timeout=30)
        with Catalog.open(url) as catalog:
            results.put(("ok", catalog.current_revision()))
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put((type(exc).__name__, str(exc)))


def test_processes_starting_together_migrate_once(catalog_url: str) -> None:
    """Several workers opening a fresh database at once all succeed (the migration is locked)."""
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_open_in_child, args=(catalog_url, barrier, results)) for _ in range(3)]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    assert outcomes == [("ok", migrations.head_revision())] * 3


def test_a_populated_catalog_of_an_earlier_release_upgrades_in_place(catalog_url: str) -> None:
    """Conventions recorded under revision 0002 (documents referencing their versions) survive the
    later migrations, on SQLite (foreign keys enforced) as on PostgreSQL."""
    from dossiers.adapters.catalog.engine import create_catalog_engine

    engine = create_catalog_engine(catalog_url)
    with engine.begin() as connection:
        migrations.upgrade(connection, "0002")
    with engine.begin() as connection:  # what 0002 held: a structure, a convention, v1 and its document
        connection.execute(text(
            "INSERT INTO structures VALUES ('STR-1', '21330099900017', 'Commune', 'publique', '7210', '33', "
            "'adresse', false, '{}', '2024-01-01 00:00:00+00:00')"))
        connection.execute(text("INSERT INTO conventions VALUES ('CN-V2-STR-1', 'STR-1', 2, '2024-01-01', "
                                "'2024-01-01 00:00:00+00:00')"))
        connection.execute(text(
            "INSERT INTO convention_versions VALUES ('CN-V2-STR-1', 1, 'convention initiale', 'vague-2', '2024.1', "
            f"'{'a' * 64}', '{'d' * 64}', '{{}}', '127500.00', '[]', '2024-01-01 00:00:00+00:00')"))
        connection.execute(text(
            "INSERT INTO documents (convention_id, version, kind, storage_key, sha256, size, content_type, created_at) "
            f"VALUES ('CN-V2-STR-1', 1, 'pdf', 'conventions/x.pdf', '{'b' * 64}', 10, 'application/pdf', "
            "'2024-01-01 00:00:00+00:00')"))
    engine.dispose()
    with Catalog.open(catalog_url) as upgraded:
        version = upgraded.find_version("CN-V2-STR-1", 1)
        assert version is not None and version.document("pdf").key == "conventions/x.pdf"
        assert (version.request_id, version.document_type, version.etat) == (None, "convention", None)
        assert upgraded.current_revision() == migrations.head_revision()


def test_a_catalog_of_the_previous_revision_gets_its_search_keys(catalog_url: str) -> None:
    """0006 adds ``structures.recherche`` and fills it for the structures already there."""
    from dossiers.adapters.catalog import create_catalog_engine

    engine = create_catalog_engine(catalog_url)
    try:
        with engine.begin() as conn:
            migrations.upgrade(conn, "0005")
            conn.execute(text(
                "insert into structures (id, siret, denomination, nature, categorie_juridique, departement, adresse,"
                " zone_prioritaire, representant, updated_at) values ('STR-1', '84312345600017',"
                " 'Association Emmaüs Connect', 'privee', '9220', '33', 'Bordeaux', false, '{}', :now)"),
                {"now": datetime(2026, 1, 1, tzinfo=UTC)})
    finally:
        engine.dispose()
    catalog = Catalog.open(catalog_url)
    try:
        with catalog.engine.connect() as conn:
            assert conn.scalar(text("select recherche from structures where id = 'STR-1'")) == \
                "association emmaus connect"
        assert catalog.current_revision() == migrations.head_revision()
    finally:
        catalog.close()


def test_0014_keeps_every_existing_id_as_its_structures_reference(catalog_url: str) -> None:
    """Structures recorded before 0014 are known by their key in their own département only; jobs recorded
    before it have no request digest."""
    from dossiers.adapters.catalog.engine import create_catalog_engine

    engine = create_catalog_engine(catalog_url)
    with engine.begin() as connection:
        migrations.upgrade(connection, "0013")
    with engine.begin() as connection:
        values = dataclasses.asdict(STRUCTURE) | {"nature": "publique", "representant": "{}", "now": datetime.now(UTC)}
        connection.execute(text(
            "INSERT INTO structures (id, siret, denomination, nature, categorie_juridique, departement, adresse, "
            "zone_prioritaire, representant, updated_at) VALUES (:id, :siret, :denomination, :nature, "
            ":categorie_juridique, :departement, :adresse, false, :representant, :now)"), values)
        connection.execute(text("INSERT INTO jobs (id, actor, queue, args, idempotency_key, status, attempts, created_at) "
                                "VALUES ('j1', 'validate_dossier', 'pieces', '{}', 'k1', 'succeeded', 1, :now)"),
                           {"now": datetime.now(UTC)})
    engine.dispose()
    with Catalog.open(catalog_url) as upgraded:
        assert upgraded.current_revision() == migrations.head_revision()
        with upgraded.engine.connect() as conn:
            assert conn.scalar(text("SELECT ref FROM structures WHERE id = 'STR-000123'")) == "STR-000123"
        assert upgraded.cle_structure("33", "STR-000123") == "STR-000123"
        assert upgraded.cle_structure("33", "33.STR-000123") == "STR-000123"  # the namespaced spelling
        assert upgraded.cle_structure("94", "STR-000123") is None  # never another département's
        assert upgraded.find_job_by_key("k1").requete_sha256 is None


def test_a_reference_is_one_structure_in_its_departement(catalog: Catalog) -> None:
    catalog.upsert_structure(dataclasses.replace(STRUCTURE, id="33.STR-9"))
    assert catalog.cle_structure("33", "STR-9") == "33.STR-9"
    assert catalog.cle_structure("94", "STR-9") is None
    catalog.upsert_structure(dataclasses.replace(STRUCTURE, id="STR-9", departement="94"))  # another département
    assert catalog.cle_structure("94", "STR-9") == "STR-9"
    with pytest.raises(CatalogError):  # a second STR-9 of the 33
        catalog.upsert_structure(dataclasses.replace(STRUCTURE, id="STR-9"))


def test_a_structure_with_a_convention_keeps_its_facts(catalog: Catalog) -> None:
    """Until a convention is issued the demande may correct the structure; after, only a change request
    (an avenant's version) or an admin's correction changes it."""
    from dossiers.domain.model import Nature
    from dossiers.errors import StructureFigee

    rewritten = dataclasses.replace(STRUCTURE, siret="22330001300016",
                                    representant=dataclasses.replace(STRUCTURE.representant, nom="Autre"))
    catalog.upsert_structure(STRUCTURE)
    catalog.upsert_structure(rewritten)  # no convention yet
    catalog.upsert_structure(STRUCTURE)
    record(catalog, make_version())
    for attempt in (lambda: catalog.upsert_structure(rewritten),
                    lambda: catalog.save_dossier("DOS-V2-STR-000123", structure=rewritten, vague=2,
                                                 demande_json=DEMANDE, demande_sha256="e" * 64),
                    lambda: record(catalog, make_version(cid=convention_id_for(STRUCTURE.id, 1)), rewritten, vague=1)):
        with pytest.raises(StructureFigee) as refused:
            attempt()
        assert refused.value.champs == ["structure.siret", "structure.representant.nom"]
        assert refused.value.code is ErrorCode.STRUCTURE_FIGEE
    assert catalog.get_structure(STRUCTURE.id) == STRUCTURE
    catalog.upsert_structure(STRUCTURE)  # the same facts: nothing to refuse
    privee = dataclasses.replace(STRUCTURE, nature=Nature.PRIVEE)
    catalog.record_version(structure=privee, convention_id=CID, vague=2, date_debut=date(2024, 1, 1),
                           version=make_version(2, demande_sha256="2" * 64), demande_json=DEMANDE,
                           structure_modifiee=True)  # an avenant (change of nature)
    assert catalog.get_structure(STRUCTURE.id).nature is Nature.PRIVEE
    assert catalog.corriger_structure(rewritten) == privee
    assert catalog.get_structure(STRUCTURE.id) == rewritten
