"""Structures and jobs over HTTP, as a hostile portail would try them, against a real ``conum serve``
(uvicorn in its own process; SQLite catalog, local storage, jobs run in the API process).

- a structure id is namespaced by département: a portail limited to the 33 can neither take an id the
  94 will need, nor learn whether the 94 has it (issue 17, item 2);
- an issued convention's structure is frozen: a demande that differs is refused with the fields, an
  admin corrects it with an audited command; a portail's job results hide what it may not read (item 3);
- an Idempotency-Key is bound to its request: another body under it is refused (item 4).

Before the server starts, the test process issues the convention CN-V2-STR-000123 (Gironde) and opens
its dossier, on the same catalog and storage.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from dossiers.bootstrap import App
from dossiers.services.acces import create_token
from dossiers.services.generation import generate_convention
from dossiers.services.validation import open_dossier
from dossiers.settings import ENV_VARS, ROOT, Settings
from tests.e2e.test_api_flow import Api
from tests.factories import demande
from tests.fixtures.sirene import avis_sirene_pdf

pytestmark = pytest.mark.libreoffice

CONVENTION, DOSSIER = "CN-V2-STR-000123", "DOS-V2-STR-000123"
OTHER_SIRET = "22330001300016"  # a valid SIRET, not the commune's


@dataclass
class Server:
    api: Api
    env: dict[str, str]
    tokens: dict[str, str]
    var: Path

    def h(self, who: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **extra}

    def post(self, who: str, path: str, *, key: str | None = None, **kw: Any) -> httpx.Response:
        headers = self.h(who, **({"Idempotency-Key": key} if key else {}))
        return httpx.post(self.api.base + path, headers=headers, timeout=60, **kw)

    def get(self, who: str, path: str) -> httpx.Response:
        return httpx.get(self.api.base + path, headers=self.h(who), timeout=60)

    def conum(self, *args: str) -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-m", "dossiers.entrypoints", *args, "--json"], cwd=ROOT,
                              env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode in (0, 1), done.stdout + done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pool: Any, pool_urls: str) -> Iterator[Server]:
    var = tmp_path_factory.mktemp("structures") / "var"
    tokens: dict[str, str] = {}
    with App(Settings(var_dir=var), converter=pool) as app:
        now = datetime.now(UTC)
        generate_convention(demande(), app, today=date(2026, 11, 26), now=now)
        open_dossier(demande(), app)
        for name, role, deps in (("national", "portail", ()), ("portail33", "portail", ("33",)),
                                 ("portail94", "portail", ("94",)), ("instr33", "instructeur", ("33",)),
                                 ("instr94", "instructeur", ("94",)), ("admin", "admin", ())):
            tokens[name], _ = create_token(app, role=role, departements=deps, nom=name, now=now)
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update({"CONUM_VAR_DIR": str(var), "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
                "CONVERTER_URLS": pool_urls, "API_RATE_LIMIT": "100000", "API_RATE_BURST": "1000",
                "INSPECTION_WORKERS": "1"})
    api = Api(env, var.parent / "api.log")
    try:
        api.wait_ready()
        yield Server(api, env, tokens, var)
    finally:
        api.stop()


def job(server: Server, who: str, submitted: httpx.Response) -> dict[str, Any]:
    assert submitted.status_code == 202, submitted.text
    shown = server.get(who, submitted.json()["url"])
    assert shown.status_code == 200, shown.text
    return shown.json()  # type: ignore[no-any-return]


def de(departement: str, structure_id: str, **changes: Any) -> dict[str, Any]:
    return demande(structure__id=structure_id, structure__departement=departement,
                   structure__adresse=f"1 rue de la Mairie, {departement}000 Exemple", **changes)


# -- item 2: a structure id belongs to its département ----------------------------------------------

def test_a_limited_portail_cannot_take_an_id_another_departement_will_need(server: Server) -> None:
    squat = server.post("portail33", "/v1/dossiers", json=de("33", "STR-777777"))
    assert squat.status_code == 202, squat.text
    assert squat.json()["dossier_id"] == "DOS-V2-33.STR-777777"  # in the 33's namespace

    real = server.post("portail94", "/v1/dossiers", json=de("94", "STR-777777"))
    assert real.status_code == 202, real.text  # the real owner is not blocked
    dossier_94 = real.json()["dossier_id"]
    assert dossier_94 == "DOS-V2-94.STR-777777"
    assert job(server, "portail94", real)["status"] == "succeeded"
    assert server.get("instr94", f"/v1/dossiers/{dossier_94}").json()["departement"] == "94"
    assert server.get("instr33", f"/v1/dossiers/{dossier_94}").status_code == 404
    assert server.get("instr33", "/v1/dossiers/DOS-V2-33.STR-777777").json()["departement"] == "33"
    # the national pilotage reaches the same structure of the 94 by the id it always used
    national = server.post("national", "/v1/dossiers", json=de("94", "STR-777777"))
    assert national.status_code == 202 and national.json()["dossier_id"] == dossier_94


def test_whether_an_id_exists_elsewhere_does_not_change_the_answer(server: Server) -> None:
    # STR-000123 exists in the 33 (with its convention); STR-000124 exists nowhere
    taken = server.post("portail94", "/v1/dossiers", json=de("94", "STR-000123"))
    free = server.post("portail94", "/v1/dossiers", json=de("94", "STR-000124"))
    assert (taken.status_code, free.status_code) == (202, 202), (taken.text, free.text)
    assert taken.json()["dossier_id"] == "DOS-V2-94.STR-000123" and free.json()["dossier_id"] == "DOS-V2-94.STR-000124"
    assert sorted(taken.json()) == sorted(free.json())
    a, b = job(server, "portail94", taken), job(server, "portail94", free)
    assert (a["status"], b["status"]) == ("succeeded", "succeeded")
    assert a["result"]["missing"] == b["result"]["missing"]
    gironde = server.get("instr33", f"/v1/conventions/{CONVENTION}").json()
    assert gironde["structure"] == {"id": "STR-000123", "siret": "21330099900017",
                                    "denomination": "Commune d'Exempleville", "nature": "publique", "departement": "33"}


def test_the_owner_keeps_its_ids_and_another_namespace_is_refused(server: Server) -> None:
    own = server.post("portail33", "/v1/dossiers", json=demande())  # issued before: its ids stay
    assert own.status_code == 202 and own.json()["dossier_id"] == DOSSIER
    again = server.post("portail33", "/v1/dossiers", json=de("33", "33.STR-777777"))  # the id conum returned
    assert again.status_code == 202 and again.json()["dossier_id"] == "DOS-V2-33.STR-777777"
    for who in ("portail33", "national"):
        r = server.post(who, "/v1/dossiers", json=de("33", "94.STR-777777"))
        assert r.status_code == 422, r.text
        assert [e["champ"] for e in r.json()["erreurs"]] == ["structure.id"]


# -- item 3: an issued convention's structure is frozen; job results follow the caller's rights ------

def test_a_demande_cannot_rewrite_an_issued_conventions_structure(server: Server) -> None:
    rewritten = demande(structure__siret=OTHER_SIRET, structure__denomination="Autre structure",
                        structure__representant__nom="Usurpateur")
    for who in ("national", "portail33"):
        r = server.post(who, "/v1/dossiers", json=rewritten)
        assert r.status_code == 409, r.text
        assert r.json()["code"] == "structure_figee"
        assert [e["champ"] for e in r.json()["erreurs"]] == [
            "structure.siret", "structure.denomination", "structure.representant.nom"]
    shown = server.get("instr33", f"/v1/conventions/{CONVENTION}").json()["structure"]
    assert (shown["siret"], shown["denomination"]) == ("21330099900017", "Commune d'Exempleville")
    # a structure without a convention may still correct its demande
    assert server.post("portail33", "/v1/dossiers", json=de("33", "STR-555555")).status_code == 202
    fixed = server.post("portail33", "/v1/dossiers", json=de("33", "STR-555555", structure__siret=OTHER_SIRET))
    assert fixed.status_code == 202, fixed.text


def test_an_admin_corrects_a_frozen_structure_with_an_audit_entry(server: Server) -> None:
    done = server.conum("structure", "corriger", "STR-000123", "--adresse", "2 place de la Mairie, 33000 Exempleville",
                        "--par", "Alex Admin", "--motif", "adresse erronée (courrier du maire)")
    assert done["champs"] == ["structure.adresse"], done
    assert done["apres"]["structure.adresse"] == "2 place de la Mairie, 33000 Exempleville"
    entry = next(e for e in server.conum("audit", "--limit", "50")["entries"] if e["action"] == "structure.corriger")
    assert entry["detail"]["par"] == "Alex Admin" and entry["detail"]["avant"] == {
        "structure.adresse": "1 place de la Mairie, 33000 Exempleville"}
    # the row of a request, as the API writes one (services.acces.auditer): the CLI, named, no token nor address
    assert (entry["role"], entry["token_id"], entry["adresse"], entry["detail"]["agent"], entry["ressource"],
            entry["statut_http"], entry["departement"]) == (
        "cli", None, None, "Alex Admin", "cli:structure corriger STR-000123", 200, "33")
    # the demande as it was is now the one that differs
    r = server.post("national", "/v1/dossiers", json=demande())
    assert r.status_code == 409 and [e["champ"] for e in r.json()["erreurs"]] == ["structure.adresse"]
    corrected = demande(structure__adresse="2 place de la Mairie, 33000 Exempleville")
    assert server.post("national", "/v1/dossiers", json=corrected).status_code == 202
    refused = server.conum("structure", "corriger", "STR-000123", "--siret", "123", "--par", "A", "--motif", "m")
    assert refused["error"]["code"] == "demande_invalide"


def test_a_portail_reads_its_dossier_jobs_without_the_pieces(server: Server) -> None:
    avis = avis_sirene_pdf(siren="213300999", siret="21330099900017", denomination="COMMUNE D'EXEMPLEVILLE",
                           date_avis=date.today())
    piece = server.post("national", f"/v1/dossiers/{DOSSIER}/pieces", data={"kind": "sirene"},
                        files={"fichier": ("avis.pdf", avis, "application/pdf")})
    assert job(server, "national", piece)["result"]["kind"] == "sirene"  # its own piece: whole
    submitted = server.post("national", "/v1/dossiers", json=demande(
        structure__adresse="2 place de la Mairie, 33000 Exempleville"))
    mine = job(server, "national", submitted)
    assert mine["result"]["dossier_id"] == DOSSIER and mine["result"]["status"] == "incomplet"
    assert set(mine["result"]) == {"dossier_id", "structure_id", "departement", "status", "missing"}
    full = server.get("admin", submitted.json()["url"]).json()["result"]
    assert [p["kind"] for p in full["pieces"]] == ["sirene"] and full["pieces"][0]["fields"]


# -- item 4: an Idempotency-Key is bound to its request -------------------------------------------------

def test_an_idempotency_key_reused_with_another_body_is_refused(server: Server) -> None:
    first = server.post("portail94", "/v1/dossiers", key="ds-9001", json=de("94", "STR-900001"))
    assert first.status_code == 202, first.text
    # the same demande, written otherwise (indentation, key order): the same request
    same = httpx.post(server.api.base + "/v1/dossiers", timeout=60, content=json.dumps(
        de("94", "STR-900001"), indent=2, sort_keys=True).encode(), headers=server.h(
        "portail94", **{"Idempotency-Key": "ds-9001", "Content-Type": "application/json"}))
    assert same.status_code == 202 and same.json()["job_id"] == first.json()["job_id"]
    other = server.post("portail94", "/v1/dossiers", key="ds-9001", json=de("94", "STR-900002"))
    assert other.status_code == 422, other.text
    assert other.json()["code"] == "idempotence_conflit"
    assert other.json()["erreurs"][0]["champ"] == "Idempotency-Key"
    assert server.get("instr94", "/v1/dossiers/DOS-V2-94.STR-900002").status_code == 404  # never opened


def test_an_idempotency_key_reused_with_another_file_is_refused(server: Server) -> None:
    def avis(day: int) -> bytes:
        return avis_sirene_pdf(siren="213300999", siret="21330099900017", denomination="COMMUNE D'EXEMPLEVILLE",
                               date_avis=date(2026, 11, day))

    def send(data: bytes, kind: str = "sirene") -> httpx.Response:
        return server.post("national", f"/v1/dossiers/{DOSSIER}/pieces", key="up-1", data={"kind": kind},
                           files={"fichier": ("avis.pdf", data, "application/pdf")})

    sent, autre = avis(2), avis(3)
    first = send(sent)
    assert first.status_code == 202, first.text
    again = send(sent)
    assert again.status_code == 202 and again.json()["job_id"] == first.json()["job_id"], again.text
    for other in (send(autre), send(sent, kind="designation")):
        assert other.status_code == 422 and other.json()["code"] == "idempotence_conflit", other.text
    assert hashlib.sha256(autre).hexdigest() not in {p["sha256"] for p in server.get(
        "admin", f"/v1/dossiers/{DOSSIER}").json()["pieces"]}
