"""Jobs on the embedded default (no BROKER_URL): Dramatiq's in-process broker runs the job before
``submit`` returns; the catalog follows it. Real parts: LibreOffice, local storage, SQLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from dossiers.bootstrap import App
from dossiers.clock import Clock
from dossiers.domain.jobs import Job, JobStatus
from dossiers.settings import Settings
from tests.factories import demande, example
from tests.hostile import corpus

pytestmark = pytest.mark.libreoffice
CONUM = [sys.executable, "-m", "dossiers.entrypoints"]


@pytest.fixture
def app(tmp_path: Path, pool) -> Iterator[App]:
    if os.environ.get("BROKER_URL"):
        pytest.skip("these tests are about the in-process broker")
    from workers import runtime

    with App(Settings(var_dir=tmp_path / "var"), converter=pool) as application:
        runtime.use_app(application)
        try:
            yield application
        finally:
            runtime.use_app(None)


def test_a_submitted_generation_runs_here_and_is_followed_in_the_catalog(app: App) -> None:
    from workers.actors import generate_convention
    from workers.submit import store_json, submit

    job = submit(app, generate_convention, {"demande_key": store_json(app, demande())})
    assert (job.status, job.attempts, job.actor, job.queue) == (JobStatus.SUCCEEDED, 1, "generate_convention",
                                                                 "conventions")
    assert job.result["convention_id"] == "CN-V2-STR-000123" and job.result["nouvelle"] is True
    stored = app.catalog.get_job(job.id)
    assert stored == job and stored.started_at <= stored.finished_at
    again = submit(app, generate_convention, {"demande_key": store_json(app, demande())})
    assert again.id == job.id and again.attempts == 1  # the same submission is the same job, not run again
    assert len(app.catalog.get_convention("CN-V2-STR-000123").versions) == 1


def test_a_refused_demande_fails_its_job_once_with_the_code(app: App) -> None:
    from workers.actors import generate_convention
    from workers.submit import store_json, submit

    job = submit(app, generate_convention, {"demande_key": store_json(app, demande(structure__siret="21330099900018"))})
    assert (job.status, job.attempts) == (JobStatus.FAILED, 1)
    assert job.error["code"] == "demande_invalide" and "SIRET" in job.error["message"]
    again = submit(app, generate_convention, {"demande_key": store_json(app, demande(structure__siret="21330099900018"))})
    assert (again.id, again.status, again.attempts) == (job.id, JobStatus.FAILED, 2)  # submitted again: run again


def test_a_hostile_piece_fails_its_validation_job_with_its_finding(app: App) -> None:
    from dossiers.services.validation import open_dossier
    from workers.actors import validate_piece
    from workers.submit import store_upload, submit

    dossier = open_dossier(example("commune-qpv-3-postes.json"), app)
    hostile = next(c for c in corpus() if c.name == "js-openaction.pdf")
    job = submit(app, validate_piece, {"dossier_id": dossier.id, "kind": "sirene",
                                       "piece_key": store_upload(app, hostile.data), "filename": "avis.pdf"})
    assert (job.status, job.attempts, job.error["code"]) == (JobStatus.FAILED, 1, "piece_invalide")
    assert "PDF_CONTENU_ACTIF" in [f["code"] for f in job.result["findings"]]
    assert app.catalog.list_pieces(dossier.id)[0].statut == "invalide"


def test_a_job_row_is_created_for_a_message_a_portal_sent_itself(app: App) -> None:
    from workers.actors import validate_dossier
    from workers.submit import _run_here, store_json

    key = store_json(app, example("commune-qpv-3-postes.json"))
    message = validate_dossier.message_with_options(kwargs={"demande_key": key})
    validate_dossier.broker.enqueue(message)
    _run_here(validate_dossier.broker, "pieces")
    job = app.catalog.get_job(message.message_id)
    assert isinstance(job, Job) and job.status is JobStatus.SUCCEEDED
    assert job.result["dossier_id"] == "DOS-V2-STR-000123" and job.result["status"] == "incomplet"


def test_the_cli_submits_runs_and_reports_jobs(tmp_path: Path, pool_urls: str) -> None:
    env = {**os.environ, "CONUM_VAR_DIR": str(tmp_path / "var"), "CONVERTER_URLS": pool_urls}
    env.pop("BROKER_URL", None)
    path = tmp_path / "demande.json"
    path.write_text(json.dumps(demande()), encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CONUM, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)

    submitted = run("submit", "generate", str(path), "--json")
    assert submitted.returncode == 0, submitted.stderr
    job_id = json.loads(submitted.stdout)["job_id"]
    shown = json.loads(run("job", job_id, "--json").stdout)
    assert {k: shown[k] for k in ("job_id", "actor", "status", "attempts")} == {
        "job_id": job_id, "actor": "generate_convention", "status": "succeeded", "attempts": 1}
    assert shown["result"]["convention_id"] == "CN-V2-STR-000123" and shown["error"] is None
    listed = json.loads(run("jobs", "--status", "succeeded", "--json").stdout)["jobs"]
    assert [j["job_id"] for j in listed] == [job_id]
    events = [json.loads(line) for line in submitted.stderr.splitlines() if line.startswith("{")]
    assert [e["event"] for e in events] == ["started", "succeeded"] and events[1]["job_id"] == job_id
    unknown = run("job", "nope", "--json")
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["error"]["code"] == "tache_introuvable"
    no_broker = run("worker")
    assert no_broker.returncode == 2 and "BROKER_URL" in no_broker.stderr
    assert datetime.fromisoformat(shown["finished_at"]) <= Clock().now()
