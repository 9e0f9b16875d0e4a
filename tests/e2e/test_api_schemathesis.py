"""The HTTP API against its own OpenAPI document, with Schemathesis.

``conum serve`` runs as a real process (uvicorn) on a free port, with a fresh SQLite catalog and
local storage under a temp ``CONUM_VAR_DIR``, and ``BROKER_URL`` on the test Redis with no worker:
submitted jobs are only enqueued, so the API answers at once. Before it starts, the catalog is
seeded without LibreOffice (``MemoryConverter``: a PDF of the DOCX's text): two conventions, their
dossiers (one with a RIB), a signed copy archived with its certificat and a refused one, jobs in
each state; generated path parameters take these identifiers half of the time, so reads hit real
resources and not only 404s. The token is an admin's, made by
``conum token create`` in the same environment.

Every operation of ``/v1/openapi.json`` (loaded from the running server) goes through Schemathesis'
phases (examples, coverage, fuzzing; positive and negative data) with the checks: no 5xx, responses
conform to their schema, their status code and content type are documented. Bounded for CI: a fixed
seed, ``MAX_EXAMPLES`` per operation, about 1 400 requests and 40 s on two cores. A second test sends
what random data almost never gets right (a valid demande, a real PDF) through the same checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from dossiers.settings import Settings
from tests.conftest import RedisServer, _free_port, terminate
from tests.factories import example

pytestmark = pytest.mark.redis

SEED = 20240101
MAX_EXAMPLES = 40
STARTUP_TIMEOUT_S = 60
EXAMPLES = ("commune-qpv-3-postes.json", "association-1-poste.json")
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


def _conum() -> list[str]:
    script = Path(sys.executable).with_name("conum")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dossiers.entrypoints"]


def _seed(settings_: Settings, pki: Any) -> dict[str, list[str]]:
    """Conventions, dossiers and jobs the fuzzed requests can name; returns their identifiers."""
    from dossiers.adapters.memory_converter import MemoryConverter
    from dossiers.bootstrap import App
    from dossiers.domain.jobs import Job, JobStatus
    from dossiers.domain.pieces import PieceKind
    from dossiers.services.archive import accepter_copie, archive_signed_copy
    from dossiers.services.generation import generate_convention
    from dossiers.services.validation import add_piece, open_dossier
    from tests.fixtures.signature import copie_signee
    from tests.fixtures.rib import rib_pdf

    now = datetime.now(UTC)
    ids: dict[str, list[str]] = {"conventions": [], "dossiers": [], "jobs": []}
    with App(settings_, converter=MemoryConverter()) as app:
        for name in EXAMPLES:
            payload = example(name)
            generated = generate_convention(payload, app, today=date(2024, 1, 15), now=now)
            ids["conventions"].append(generated.version.convention_id)
            ids["dossiers"].append(open_dossier(payload, app).id)
        rib = rib_pdf(titulaire="COMMUNE D EXEMPLEVILLE", iban="FR7630006000011234567890189", bic="AGRIFRPP")
        add_piece(ids["dossiers"][0], rib, PieceKind.RIB, app, now=now, filename="rib.pdf")
        # a signed copy archived with its certificat (convention 1: « à vérifier », accepted), a refused one (2)
        ref = app.catalog.get_convention(ids["conventions"][0]).current.document("pdf")
        issued = app.storage.get(ref.key, sha256=ref.sha256)
        signed = copie_signee(issued, pki, cdc=False)  # no trust roots configured: SIGNATURE_NON_APPROUVEE
        record = archive_signed_copy(signed, ids["conventions"][0], app, filename="signee.pdf", now=now)
        assert record.statut == "a_verifier" and record.certificat_key is None, record.findings
        record = accepter_copie(record.id, app, par="Claire Instructrice", now=now)  # read by a human
        assert record.statut == "archive" and record.certificat_key, record.findings
        refused = archive_signed_copy(rib, ids["conventions"][1], app, filename="rib.pdf", now=now)
        assert refused.statut == "refuse", refused
        for status, result, error in ((JobStatus.QUEUED, None, None),
                                      (JobStatus.SUCCEEDED, {"convention_id": ids["conventions"][0]}, None),
                                      (JobStatus.FAILED, None, {"code": "demande_invalide", "message": "refusée"})):
            job, _ = app.catalog.create_job(Job(id=str(uuid.uuid4()), actor="generate_convention", queue="default",
                                                args={}, status=JobStatus.QUEUED, created_at=now))
            if status is not JobStatus.QUEUED:
                app.catalog.job_started(job.id, actor=job.actor, queue=job.queue, args={}, now=now)
                app.catalog.job_finished(job.id, status=status, now=now, result=result, error=error)
            ids["jobs"].append(job.id)
    return ids


class LiveApi:
    def __init__(self, proc: subprocess.Popen[bytes], port: int, token: str, ids: dict[str, list[str]],
                 log: Path) -> None:
        self.proc, self.base_url, self.token, self.ids, self.log = proc, f"http://127.0.0.1:{port}", token, ids, log

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _serve(env: dict[str, str], base: Path, token: str, ids: dict[str, list[str]]) -> LiveApi:
    """``conum serve`` on a free port. Started when uvicorn says it listens on that port (another
    process answering /healthz there is not enough) and /healthz answers; a port taken between the
    probe and the bind is tried again with another."""
    for attempt in range(3):
        port = _free_port()
        log = base / f"serve-{attempt}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([*_conum(), "serve", "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                                    env=env, cwd=base, start_new_session=True)
        api = LiveApi(proc, port, token, ids, log)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while proc.poll() is None and time.monotonic() < deadline:
            if f"running on {api.base_url} " in api.tail(20_000):
                try:
                    if httpx.get(f"{api.base_url}/healthz", timeout=2).status_code == 200:
                        return api
                except httpx.TransportError:
                    pass
            time.sleep(0.1)
        terminate(proc)
        if "address already in use" not in api.tail().lower():
            pytest.fail(f"conum serve n'a pas démarré (code {proc.returncode}) :\n{api.tail()}")
    pytest.fail(f"conum serve : aucun port libre en 3 essais :\n{api.tail()}")


@pytest.fixture(scope="module")
def live_api(redis_server: RedisServer, pki: Any) -> Iterator[LiveApi]:
    redis_server.command("flushall")
    base = Path(tempfile.mkdtemp(prefix="conum-api-"))
    env = {**os.environ, "CONUM_VAR_DIR": str(base / "var"), "BROKER_URL": redis_server.url,
           "API_RATE_LIMIT": "1000000", "API_RATE_BURST": "1000000"}
    for var in ("DATABASE_URL", "STORAGE_DIR", "ARCHIVE_DIR", "STAGING_DIR", "S3_ENDPOINT_URL", "CLAMD_ADDRESS",
                "API_WORKERS", "SIGNATURE_TRUST_ROOTS"):
        env.pop(var, None)  # the temp var dir's SQLite catalog and local storage, whatever the caller's shell says
    try:
        ids = _seed(Settings.from_env(env), pki)
        created = subprocess.run([*_conum(), "token", "create", "--role", "admin", "--nom", "schemathesis", "--json"],
                                 check=False, capture_output=True, text=True, env=env, cwd=base, timeout=120)
        assert created.returncode == 0, created.stderr
        api = _serve(env, base, json.loads(created.stdout)["token"], ids)
        try:
            yield api
            if api.proc.poll() is not None:
                pytest.fail(f"conum serve s'est arrêté en cours de test (code {api.proc.returncode}) :\n{api.tail()}")
        finally:
            terminate(api.proc)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def api_schema(live_api: LiveApi) -> Any:
    ids = live_api.ids
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {live_api.token}"},
        "dictionaries": {
            "conventions": {"values": ids["conventions"]},
            "dossiers": {"values": ids["dossiers"]},
            "jobs": {"values": ids["jobs"]},
            "versions": {"values": [1]},
        },
        # half of the generated identifiers are real ones: reads then answer 200 with a full body
        "parameters": {
            "path.convention_id": {"dictionary": "conventions", "probability": 0.5},
            "path.dossier_id": {"dictionary": "dossiers", "probability": 0.5},
            "path.job_id": {"dictionary": "jobs", "probability": 0.5},
            "path.numero": {"dictionary": "versions", "probability": 0.5},
            "body.dossier_id": {"dictionary": "dossiers", "probability": 0.5},
        },
        "generation": {"max-examples": MAX_EXAMPLES},
    })
    return schemathesis.openapi.from_url(f"{live_api.base_url}/v1/openapi.json", config=config, timeout=10)


def test_success_paths_conform_to_the_openapi_document(api_schema: Any, live_api: LiveApi) -> None:
    """What random data almost never reaches: a valid demande, a real piece, a real signed copy, the
    archived copy's certificat, the jobs these submissions created. Same checks as the fuzzing."""
    from tests.fixtures.rib import rib_pdf

    auth = {"Authorization": f"Bearer {live_api.token}"}
    convention, dossier = live_api.ids["conventions"][0], live_api.ids["dossiers"][0]
    rib = rib_pdf(titulaire="COMMUNE D EXEMPLEVILLE", iban="FR7630006000011234567890189", bic="AGRIFRPP")

    def call(path: str, method: str, status: int, **case: Any) -> Any:
        response = api_schema[path][method].Case(**case).call_and_validate(
            base_url=live_api.base_url, headers=auth, checks=CHECKS, timeout=30)
        assert response.status_code == status, response.text
        return response

    submitted = [
        call("/v1/dossiers", "POST", 202, body=example("departement-vague-1.json"), media_type="application/json"),
        call("/v1/dossiers/{dossier_id}/pieces", "POST", 202, path_parameters={"dossier_id": dossier},
             body={"fichier": rib, "kind": "rib"}, media_type="multipart/form-data"),
        call("/v1/conventions/{convention_id}/versions/{numero}/signed", "POST", 202,
             path_parameters={"convention_id": convention, "numero": 1}, body={"fichier": rib},
             media_type="multipart/form-data"),
    ]
    for response in submitted:
        call("/v1/jobs/{job_id}", "GET", 200, path_parameters={"job_id": response.json()["job_id"]})
    call("/v1/conventions", "POST", 409, body={"dossier_id": dossier}, media_type="application/json")  # incomplet
    # its signed copy (« à vérifier », then accepted by an instructeur) is archived: the convention is archivée
    read = call("/v1/conventions/{convention_id}", "GET", 200, path_parameters={"convention_id": convention}).json()
    assert read["statut"] == "archivee" and read["versions"][0]["copies_signees"][0]["certificat_url"], read
    listed = call("/v1/conventions", "GET", 200, query={"statut": "archivee", "limit": 10}).json()
    assert [c["id"] for c in listed["items"]] == [convention], listed
    for kind in ("pdf", "docx"):
        call(f"/v1/conventions/{{convention_id}}/versions/{{numero}}/document.{kind}", "GET", 200,
             path_parameters={"convention_id": convention, "numero": 1})
    call("/v1/conventions/{convention_id}/versions/{numero}/certificat.pdf", "GET", 200,
         path_parameters={"convention_id": convention, "numero": 1})
    refused = call("/v1/conventions/{convention_id}", "GET", 200,
                   path_parameters={"convention_id": live_api.ids["conventions"][1]}).json()
    assert refused["statut"] == "a_signer" and refused["versions"][0]["copies_signees"][0]["statut"] == "refuse"
    call("/readyz", "GET", 200)


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32 reads and rewrites the private ``Item._nodeid``, which pytest 9.2 replaced
    with ``Item._id``: give it the attribute back (harmless where pytest still has it)."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case, live_api: LiveApi) -> None:
    case.call_and_validate(base_url=live_api.base_url, headers={"Authorization": f"Bearer {live_api.token}"},
                           checks=CHECKS, timeout=30)
