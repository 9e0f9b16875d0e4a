"""What the API can know at submission it refuses at once, with the CLI's codes and a status declared in
the OpenAPI document: a change on a stale version, a request id reused for another change, a change on a
closed convention, a contract piece without its poste; a Word document sent as a piece is named so.

Real parts: SQLite catalog, local storage, LibreOffice pool; jobs would run in this process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dossiers.bootstrap import App
from dossiers.entrypoints.api import create_app
from dossiers.services.acces import create_token
from dossiers.services.avenants import amend
from dossiers.services.generation import generate_convention
from dossiers.services.validation import open_dossier
from dossiers.settings import Settings
from tests.factories import ROOT, demande

pytestmark = pytest.mark.libreoffice

OUVERTE, CLOSE = "CN-V2-STR-000123", "CN-V2-STR-000124"
TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, pool: Any) -> Iterator[tuple[TestClient, dict[str, str], App]]:
    if os.environ.get("BROKER_URL"):
        pytest.skip("jobs run in process here")
    settings = Settings(var_dir=tmp_path_factory.mktemp("refus"), api_rate_limit=100_000, api_rate_burst=10_000)
    with App(settings, converter=pool) as app:
        now = datetime.now(UTC)
        for payload in (demande(), demande(structure__id="STR-000124", structure__siret="21330063500017")):
            generate_convention(payload, app, today=TODAY, now=now)
            open_dossier(payload, app)
        amend(OUVERTE, {"request_id": "R-1", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 1,
                        "derogation": {"reference": "ANCT-DER-2025-017", "date": "2025-01-01"}},
              app, today=TODAY, now=now)
        amend(CLOSE, {"request_id": "R-FIN", "type": "resiliation", "date_effet": "2025-09-30", "motif": "anticipee"},
              app, today=TODAY, now=now)
        secret, _ = create_token(app, role="portail", departements=(), nom="portail", now=now)
        with TestClient(create_app(app)) as client:
            yield client, {"Authorization": f"Bearer {secret}"}, app


def jobs_count(app: App) -> int:
    return sum(app.catalog.count_jobs().values())


@pytest.mark.parametrize("convention, change, code", [
    (OUVERTE, {"request_id": "R-2", "type": "changement_nature", "nature": "privee", "date_effet": "2025-07-01",
               "version": 1}, "version_perimee"),
    (OUVERTE, {"request_id": "R-1", "type": "ajout_postes", "date_effet": "2025-02-01", "nombre": 2}, "requete_conflit"),
    (CLOSE, {"request_id": "R-3", "type": "changement_nature", "nature": "privee", "date_effet": "2025-07-01"},
     "convention_close"),
])
def test_a_change_the_catalog_already_refuses_is_a_409_before_any_job(api, convention, change, code):
    client, headers, app = api
    before = jobs_count(app)
    r = client.post(f"/v1/conventions/{convention}/changes", json=change, headers=headers)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == code and "job_id" not in r.json()
    assert jobs_count(app) == before


def test_the_same_change_sent_again_is_still_accepted(api):
    client, headers, _ = api
    r = client.post(f"/v1/conventions/{OUVERTE}/changes", headers=headers, json={
        "request_id": "R-1", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 1,
        "derogation": {"reference": "ANCT-DER-2025-017", "date": "2025-01-01"}})
    assert r.status_code == 202, r.text


def test_a_contract_without_its_poste_is_a_422_like_the_cli(api):
    client, headers, app = api
    before = jobs_count(app)
    r = client.post("/v1/dossiers/DOS-V2-STR-000123/pieces", headers=headers, data={"kind": "contrat"},
                    files={"fichier": ("contrat.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    assert r.status_code == 422 and r.json()["code"] == "poste_inconnu", r.text
    assert jobs_count(app) == before


def test_a_word_document_sent_as_a_piece_is_named_in_plain_french(api):
    client, headers, _ = api
    docx = (ROOT / "templates" / "convention.docx").read_bytes()
    r = client.post("/v1/dossiers/DOS-V2-STR-000123/pieces", headers=headers, data={"kind": "sirene"},
                    files={"fichier": ("avis.pdf", docx, "application/pdf")})
    assert r.status_code == 415 and r.json()["code"] == "type_non_accepte"
    assert "document Word (DOCX)" in r.json()["message"] and "application/" not in r.json()["message"]


def test_the_openapi_document_declares_the_synchronous_refusals(api):
    client, _, _ = api
    paths = client.get("/v1/openapi.json").json()["paths"]
    assert {"202", "409", "422"} <= set(paths["/v1/conventions/{convention_id}/changes"]["post"]["responses"])
    assert {"202", "415", "422"} <= set(paths["/v1/dossiers/{dossier_id}/pieces"]["post"]["responses"])


def test_pydantic_types_are_answered_with_conum_codes(api):
    client, headers, _ = api
    r = client.post("/v1/dossiers", headers=headers, json={**demande(), "inconnu": 1})
    assert r.status_code == 422
    assert {e["code"] for e in r.json()["erreurs"]} == {"champ_inconnu"}


def test_every_route_declares_the_statuses_it_can_answer(api):
    client, _, _ = api
    for path, operations in client.get("/v1/openapi.json").json()["paths"].items():
        for method, operation in operations.items():
            declared = set(operation["responses"])
            if path.startswith("/v1/"):
                assert {"401", "422", "429", "503"} <= declared, (method, path)
            if method == "post":
                assert "413" in declared, (method, path)  # every body is counted while it streams in
