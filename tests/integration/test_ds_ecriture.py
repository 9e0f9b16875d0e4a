"""Writing back to DS once: the check's annotation and the applicant's message, through the real
``ds_write_back`` actor run again after DS failed or lost an answer. In process a job is tried once
(``workers.submit``): its retry is the same job submitted again, which runs the same message (id
included) as Dramatiq's Retries does on a broker after its backoff."""

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
from tests.fixtures.ds_server import DEMARCHE, FakeDs, champs_exemple, ds_app, rib, running_fake, synchronise as sync


@pytest.fixture
def fake() -> Iterator[FakeDs]:
    with running_fake(datetime(2026, 2, 1, 8, 0, tzinfo=UTC)) as ds:
        yield ds


@pytest.fixture
def app(tmp_path: Path, fake: FakeDs) -> Iterator[App]:
    if os.environ.get("BROKER_URL"):
        pytest.skip("the write-back's actor runs in process here")
    with ds_app(tmp_path, fake) as application:
        yield application


def write_back_job(app: App, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        jobs = [j for j in app.catalog.list_jobs(limit=1000) if j.actor == "ds_write_back"]
        if jobs and all(j.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) for j in jobs):
            [job] = jobs
            return job
        assert time.monotonic() < deadline, jobs
        time.sleep(0.1)


def retried(app: App, job: Any) -> Any:
    from workers.actors import ds_write_back
    from workers.submit import submit

    assert (job.status, job.attempts, job.error["code"]) == (JobStatus.FAILED, 1, "ds_indisponible"), job
    again = submit(app, ds_write_back, job.args)
    assert again.id == job.id
    return again


def test_a_failed_message_is_sent_once_by_the_retried_actor(app: App, fake: FakeDs) -> None:
    """DS answers 503 to the message after the annotation went through: the retried actor sends the
    message, never the annotation again; a redelivery after success writes nothing."""
    from workers.actors import ds_write_back

    fake.put_dossier(DEMARCHE, 1, champs_exemple(1, fichiers={"rib": [rib(fake, 1)]}))
    fake.fail_next(1, 503, after=4)  # the page, the download, the dossier's state, the annotation: then the message
    sync(app, fake)
    assert len(fake.sent("dossierModifierAnnotationText")) == 1 and fake.sent("dossierEnvoyerMessage") == []
    job = retried(app, write_back_job(app))
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2), job.error
    assert len(fake.sent("dossierModifierAnnotationText")) == 1 and len(fake.sent("dossierEnvoyerMessage")) == 1
    assert job.result["ecritures"] == {"annotation": "deja_envoye", "message_pieces": "envoye"}

    again = ds_write_back(**job.args)  # the same message delivered once more
    assert again["ecritures"] == {"annotation": "deja_envoye", "message_pieces": "deja_envoye"}
    assert len(fake.mutations) == 2
    assert {e.statut for e in app.catalog.ds_ecritures(1)} == {"envoye"}


def test_a_write_whose_answer_was_lost_is_found_on_ds_not_sent_again(app: App, fake: FakeDs) -> None:
    """The annotation is applied but its answer lost (502): the retry finds it on DS and does not send it
    again; the message is sent once."""
    fake.put_dossier(DEMARCHE, 1, champs_exemple(1))
    fake.lose_answers = 1
    sync(app, fake)
    job = retried(app, write_back_job(app))
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2), job.error
    assert job.result["ecritures"] == {"annotation": "retrouve", "message_pieces": "envoye"}
    assert len(fake.sent("dossierModifierAnnotationText")) == 1 and len(fake.sent("dossierEnvoyerMessage")) == 1
    [message] = fake.dossiers[1]["messages"]
    assert "réf. conum" in message["body"] and "Pièces manquantes" in message["body"]


def test_a_write_ds_refuses_fails_the_job_as_ds_refus_not_retried(app: App, fake: FakeDs) -> None:
    """DS refuses the annotation (403, a read-only token): the job fails with ``ds_refus``, which the
    policy never retries (a defect: the token is to fix), and nothing is written."""
    from dossiers.errors import ConumError
    from workers.retry import retried as retried_by_worker

    fake.put_dossier(DEMARCHE, 1, champs_exemple(1))
    fake.fail_next(1, 403, after=2)  # the page, the dossier's state: then the annotation
    sync(app, fake)
    job = write_back_job(app)
    assert (job.status, job.attempts, job.error["code"]) == (JobStatus.FAILED, 1, "ds_refus"), job
    assert "DS_API_TOKEN" in job.error["message"]
    assert not retried_by_worker(ConumError(job.error["message"], code=job.error["code"]))
    assert fake.sent("dossierModifierAnnotationText") == [] and fake.sent("dossierEnvoyerMessage") == []
