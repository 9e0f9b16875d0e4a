"""``sync_demarche`` against a fake DS of our own (GraphQL validated against DS's schema, files with
checksums, 429s now and then), with the real catalog (SQLite), local storage and the in-process
broker running the jobs the API would submit."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dossiers.bootstrap import App
from dossiers.domain.jobs import JobStatus
from dossiers.errors import DsIndisponible
from tests.fixtures.ds_server import DEMARCHE, FakeDs, champs_exemple, ds_app, rib, running_fake, synchronise

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the fake DS's own clock


@pytest.fixture
def fake() -> Iterator[FakeDs]:
    with running_fake(NOW) as ds:
        yield ds


@pytest.fixture(params=[False])
def app(tmp_path: Path, fake: FakeDs, request: pytest.FixtureRequest) -> Iterator[App]:
    """``param``: whether the mapping writes back to DS (only where a test counts DS's writes: the others
    count DS's requests)."""
    if os.environ.get("BROKER_URL"):
        pytest.skip("the sync's jobs run in process here")
    with ds_app(tmp_path, fake, ecriture=request.param) as application:
        yield application


sync = synchronise


@pytest.mark.parametrize("app", [True], indirect=True)
def test_200_dossiers_are_taken_in_one_run_then_only_what_changed(app: App, fake: FakeDs) -> None:
    """200 dossiers over two pages (with 429s on the way) give 200 dossiers and their pieces; a second run
    downloads and submits nothing; then only the changed dossiers are taken, a replaced file as a new piece."""
    for i in range(1, 201):
        fake.put_dossier(DEMARCHE, i, champs_exemple(i, fichiers={"rib": [rib(fake, i)]}))
    fake.throttle_every = 5

    first = sync(app, fake)
    assert first.erreurs == [] and first.complet
    assert len(first.importes) == 200 and first.telecharges == 200 and len(first.jobs) == 400
    for number in (1, 100, 101, 200):
        dossier_id = f"DOS-V2-STR-{number:06d}"
        assert app.catalog.get_dossier_demande(dossier_id)["structure"]["siret"]
        assert [p.kind for p in app.catalog.list_pieces(dossier_id)] == ["rib"]
    jobs = [app.catalog.get_job(job_id) for job_id in first.jobs]
    assert {j.status for j in jobs} <= {JobStatus.SUCCEEDED, JobStatus.FAILED}
    assert {j.error["code"] for j in jobs if j.error} <= {"piece_invalide"}  # a finding, never a crash
    assert len(fake.downloads) == 200
    # each dossier's check written back once: its annotation, and a message listing the missing pieces
    annotations, messages = fake.sent("dossierModifierAnnotationText"), fake.sent("dossierEnvoyerMessage")
    assert len(annotations) == 200 and len(messages) == 200
    assert "Contrôle conum du dossier DOS-V2-STR-000001 : incomplet." in fake.dossiers[1]["annotations"][0]["stringValue"]
    assert "Pièce d'identité du représentant légal" in fake.dossiers[1]["messages"][0]["body"]

    again = sync(app, fake)
    assert (again.importes, again.telecharges, again.jobs, again.erreurs) == ([], 0, [], [])
    assert len(fake.downloads) == 200 and len(fake.mutations) == 400

    fake.put_dossier(DEMARCHE, 7, champs_exemple(7, fichiers={"rib": [rib(fake, 7, version=2)]}))
    changed = champs_exemple(8, fichiers={"rib": [fake.dossiers[8]["champs"][-2]["files"][0]]})
    next(c for c in changed if c["label"] == "Dénomination").update(stringValue="Commune n° 8 (nouveau nom)")
    fake.put_dossier(DEMARCHE, 8, changed)
    fake.put_dossier(DEMARCHE, 201, champs_exemple(201, fichiers={"rib": [rib(fake, 201)]}))
    third = sync(app, fake)
    assert sorted(d["number"] for d in third.importes) == [7, 8, 201] and third.erreurs == []
    assert third.telecharges == 2  # the replaced RIB of 7 and the RIB of 201; 8's file is the same
    assert [d["demande_modifiee"] for d in sorted(third.importes, key=lambda d: d["number"])] == [False, True, True]
    assert len(app.catalog.list_pieces("DOS-V2-STR-000007")) == 2  # a replaced file is a new piece
    assert app.catalog.get_dossier_demande("DOS-V2-STR-000008")["structure"]["denomination"] == "Commune n° 8 (nouveau nom)"


def test_a_dossier_that_does_not_map_is_refused_alone_with_a_french_message(app: App, fake: FakeDs) -> None:
    """A missing required champ and an invalid SIRET refuse their dossiers; the others are taken, and a
    dossier corrected on DS is taken at the next run."""
    for i in range(1, 6):
        fake.put_dossier(DEMARCHE, i, champs_exemple(i, sans=("SIRET de la structure",) if i == 2 else ()))
    bad = champs_exemple(4)
    next(c for c in bad if c["label"] == "SIRET de la structure").update(stringValue="12345678901234")
    fake.put_dossier(DEMARCHE, 4, bad)

    rapport = sync(app, fake)
    assert sorted(d["number"] for d in rapport.importes) == [1, 3, 5]
    errors = {e["number"]: e for e in rapport.erreurs}
    assert sorted(errors) == [2, 4]
    assert errors[2]["code"] == "ds_correspondance_invalide"
    assert "le champ DS « SIRET de la structure » est absent du dossier" in errors[2]["message"]
    assert errors[4]["code"] == "demande_invalide" and "siret" in errors[4]["message"].lower()
    assert app.catalog.get_dossier_demande("DOS-V2-STR-000002") is None

    fake.put_dossier(DEMARCHE, 2, champs_exemple(2))
    later = sync(app, fake)
    assert [d["number"] for d in later.importes] == [2]
    assert [e["number"] for e in later.erreurs] == [4]  # still wrong on DS: asked for again, refused again


def test_a_corrupted_download_is_refused_and_taken_once_it_is_right(app: App, fake: FakeDs) -> None:
    """A file whose bytes do not match DS's checksum never becomes a piece; the dossier is asked for again."""
    good = rib(fake, 1)
    fake.put_dossier(DEMARCHE, 1, champs_exemple(1, fichiers={"rib": [good]}))
    fake.corrupt(good)
    rapport = sync(app, fake)
    assert [e["code"] for e in rapport.erreurs] == ["ds_fichier_invalide"]
    assert "somme de contrôle" in rapport.erreurs[0]["message"]
    assert app.catalog.list_pieces("DOS-V2-STR-000001") == []

    fake.corrupted.clear()
    retry = sync(app, fake)
    assert retry.erreurs == [] and retry.telecharges == 1
    assert [p.kind for p in app.catalog.list_pieces("DOS-V2-STR-000001")] == ["rib"]


def test_ds_unavailable_mid_run_resumes_from_the_cursor_without_skipping(app: App, fake: FakeDs) -> None:
    """DS down after the second page: the run stops, the next one goes on from the saved cursor."""
    for i in range(1, 26):
        fake.put_dossier(DEMARCHE, i, champs_exemple(i))
    fake.fail_next(3, 503, after=2)
    with pytest.raises(DsIndisponible):
        sync(app, fake, max_attempts=3, page_size=10)
    assert len(app.catalog.ds_dossiers(DEMARCHE)) == 20
    assert app.catalog.ds_synchro(DEMARCHE).cursor is not None

    resumed = sync(app, fake, page_size=10)
    assert len(resumed.importes) == 5 and resumed.lus == 5 and resumed.complet
    assert len(app.catalog.ds_dossiers(DEMARCHE, statut="importe")) == 25
    assert app.catalog.ds_synchro(DEMARCHE).cursor is None
