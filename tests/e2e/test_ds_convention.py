"""A convention issued for a DS dossier goes back to DS, attached to a message (createDirectUpload, then
the upload to the URL DS returns with its headers); the copy the applicant signs (a real pyHanko
signature by the representative) and attaches to a message is picked up by the next sync and archived
through the signed-copy intake. LibreOffice (the session's warm pool), SQLite, local storage,
in-process broker."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dossiers.bootstrap import App
from dossiers.domain.jobs import JobStatus
from tests.fixtures.ds_server import DEMARCHE, INSTRUCTEUR_EMAIL, FakeDs, champs_exemple, ds_app, running_fake, synchronise as sync
from tests.fixtures.signature import copie_signee

pytestmark = pytest.mark.libreoffice
CID = "CN-V2-STR-000001"
POSTES = [{"id": "P-1", "etat": "Occupé", "prenom": "Inès", "nom": "Témoin-Lefèvre", "type": "CDD",
           "debut": "2024-01-01", "fin": "2025-06-30"},
          {"id": "P-2", "etat": "Occupé", "prenom": "Karim", "nom": "Bouzid", "type": "CDI", "debut": "2023-10-01"}]


@pytest.fixture
def fake() -> Iterator[FakeDs]:
    with running_fake(datetime(2026, 4, 1, 8, 0, tzinfo=UTC)) as ds:
        yield ds


@pytest.fixture(params=["message"])
def app(tmp_path: Path, fake: FakeDs, pool: Any, pki: Any, request: pytest.FixtureRequest) -> Iterator[App]:
    if os.environ.get("BROKER_URL"):
        pytest.skip("the jobs run in process here")
    with ds_app(tmp_path, fake, converter=pool, signature_trust_roots=pki.racines,
                remplacer={'convention = "message"': f'convention = "{request.param}"'}) as application:
        yield application


def issue(app: App, fake: FakeDs) -> None:
    """The dossier imported from DS, then its convention generated as POST /v1/conventions does."""
    from workers.actors import ACTORS
    from workers.submit import store_json, submit

    fake.put_dossier(DEMARCHE, 1, champs_exemple(1, postes=POSTES))
    assert sync(app, fake).erreurs == []
    demande = app.catalog.get_dossier_demande("DOS-V2-STR-000001")
    job = submit(app, ACTORS["generate"], {"demande_key": store_json(app, demande)})
    assert job.status is JobStatus.SUCCEEDED, job.error


def wait_for(predicate: Any, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "délai dépassé"
        time.sleep(0.1)


def test_the_convention_goes_to_ds_and_its_signed_copy_comes_back_archived(app: App, fake: FakeDs, pki: Any) -> None:
    issue(app, fake)

    def attached() -> list[dict[str, Any]]:
        return [m for m in fake.dossiers[1]["messages"] if m["attachments"] and m["email"] == INSTRUCTEUR_EMAIL]

    wait_for(lambda: len(attached()) == 1)
    [message] = attached()
    assert "votre convention de subvention (CN-V2-STR-000001, version 1)" in message["body"]
    [upload] = fake.sent("createDirectUpload")
    assert upload["contentType"] == "application/pdf" and upload["filename"] == "CN-V2-STR-000001-v1.pdf"
    ref = app.catalog.get_convention(CID).current.document("pdf")
    issued = fake.files[message["attachments"][0]["_key"]]
    assert issued == app.storage.get(ref.key, sha256=ref.sha256)  # DS holds the very PDF conum issued

    fake.usager_message(1, "Voici la convention signée.", [fake.fichier("convention-signee.pdf", copie_signee(issued, pki))])
    taken = sync(app, fake)
    assert taken.copies_signees == 1 and taken.erreurs == []
    [archived] = app.catalog.find_archives(convention_id=CID)
    assert archived.statut == "archive" and archived.archived_at is not None, archived.findings

    again = sync(app, fake)
    assert (again.copies_signees, again.telecharges, again.jobs) == (0, 0, [])
    time.sleep(0.5)
    assert len(fake.sent("createDirectUpload")) == 1 and len(attached()) == 1  # the convention sent once

    # the structure's facts changed on DS after its convention was issued: refused for this dossier, said why
    renamed = champs_exemple(1, postes=POSTES)
    next(c for c in renamed if c["label"] == "Dénomination").update(stringValue="Commune renommée")
    fake.put_dossier(DEMARCHE, 1, renamed)
    refused = sync(app, fake)
    assert [(e["number"], e["code"]) for e in refused.erreurs] == [(1, "structure_figee")]


@pytest.mark.parametrize("app", ["accepter"], indirect=True)
def test_or_the_dossier_is_accepted_with_the_convention_as_justificatif(app: App, fake: FakeDs) -> None:
    """``convention = "accepter"``: dossierAccepter once, its justificatif the uploaded PDF of the convention."""
    issue(app, fake)
    wait_for(lambda: fake.dossiers[1]["state"] == "accepte")
    [accepted] = fake.sent("dossierAccepter")
    [upload] = fake.sent("createDirectUpload")
    blob = accepted["justificatif"].removeprefix("signed-")
    ref = app.catalog.get_convention(CID).current.document("pdf")
    assert fake.uploads[blob]["data"] == app.storage.get(ref.key, sha256=ref.sha256)
    assert upload["filename"] == "CN-V2-STR-000001-v1.pdf" and fake.sent("dossierEnvoyerMessage")[0]["body"]
    assert all(m["attachments"] == [] for m in fake.dossiers[1]["messages"])  # no message carried the PDF
