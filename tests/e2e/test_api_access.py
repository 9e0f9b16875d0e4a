"""The HTTP API's front door, in process (Starlette's test client on the ASGI app): tokens, roles,
département scope, audit, size and type limits, JSON validation, rate limits, OpenAPI.

Real parts: SQLite catalog, local storage, LibreOffice pool, inspection children; jobs run in this
process (no BROKER_URL). Two conventions: one in Gironde (33), one in Paris (75).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dossiers.bootstrap import App
from dossiers.entrypoints.api import create_app
from dossiers.services.acces import create_token, revoke_token
from dossiers.services.generation import generate_convention
from dossiers.services.validation import open_dossier
from dossiers.settings import Settings
from tests.factories import demande, example
from tests.fixtures.sirene import avis_sirene_pdf

pytestmark = pytest.mark.libreoffice

C33, C75 = "CN-V1-STR-000007", "CN-V2-STR-000750"
D33, D75 = "DOS-V1-STR-000007", "DOS-V2-STR-000750"


@dataclass
class Env:
    app: App
    client: TestClient
    tokens: dict[str, str]  # name -> secret
    ids: dict[str, str]  # name -> token id

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.h(who), follow_redirects=False, **kw)

    def post(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.post(path, headers={**self.h(who), **kw.pop("headers", {})}, **kw)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, pool: Any) -> Iterator[Env]:
    if os.environ.get("BROKER_URL"):
        pytest.skip("jobs run in process here")
    var = tmp_path_factory.mktemp("api")
    settings = Settings(var_dir=var, api_rate_limit=100_000, api_rate_burst=10_000)
    with App(settings, converter=pool) as app:
        now = datetime.now(UTC)
        for payload in (example("departement-vague-1.json"),
                        demande(structure__id="STR-000750", structure__departement="75",
                                structure__adresse="1 rue de Rivoli, 75001 Paris")):
            generate_convention(payload, app, today=date(2026, 11, 26), now=now)
            open_dossier(payload, app)
        tokens, ids = {}, {}
        for name, role, deps in (("portail", "portail", ()), ("portail33", "portail", ("33",)), ("portail75", "portail", ("75",)),
                                 ("instr33", "instructeur", ("33",)), ("instr75", "instructeur", ("75",)),
                                 ("admin", "admin", ()), ("revoked", "admin", ())):
            tokens[name], jeton = create_token(app, role=role, departements=deps, nom=name, now=now)
            ids[name] = jeton.id
        revoke_token(app, ids["revoked"], now=now)
        with TestClient(create_app(app), client=("203.0.113.7", 50000)) as client:
            yield Env(app, client, tokens, ids)


def pdf_bytes() -> bytes:
    return avis_sirene_pdf(siren="213300999", siret="21330099900017", denomination="COMMUNE D'EXEMPLEVILLE",
                           date_avis=date(2026, 11, 1))


# -- authentication ------------------------------------------------------------------------------

@pytest.mark.parametrize("header, message", [
    (None, "manquant"),
    ("Basic dXNlcjpwYXNz", "manquant"),
    ("Bearer pas-un-jeton", "mal formé"),
    ("Bearer conum_" + "A" * 43, "inconnu"),
])
def test_missing_malformed_and_unknown_tokens_get_401_with_a_bearer_challenge(env: Env, header: str | None,
                                                                              message: str) -> None:
    r = env.client.get("/v1/conventions", headers={"Authorization": header} if header else {})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.json()["code"] == "non_authentifie" and message in r.json()["message"]


def test_a_revoked_token_is_refused_at_once(env: Env) -> None:
    r = env.get("revoked", "/v1/conventions")
    assert r.status_code == 401 and "révoqué" in r.json()["message"]
    secret, jeton = create_token(env.app, role="admin", nom="éphémère", now=datetime.now(UTC))
    assert env.client.get("/v1/conventions", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    revoke_token(env.app, jeton.id, now=datetime.now(UTC))
    assert env.client.get("/v1/conventions", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_only_the_hash_of_a_token_is_stored(env: Env) -> None:
    import sqlite3

    db = sqlite3.connect(env.app.settings.var_dir / "conum.db")
    stored = {row[0] for row in db.execute("select token_sha256 from api_tokens")}
    dump = "\n".join(db.iterdump())
    db.close()
    assert hashlib.sha256(env.tokens["instr33"].encode()).hexdigest() in stored
    assert env.tokens["instr33"] not in dump


# -- roles and départements -----------------------------------------------------------------------

READS = [
    ("GET", f"/v1/conventions/{C33}"),
    ("GET", f"/v1/conventions/{C33}/versions/1/document.pdf"),
    ("GET", f"/v1/conventions/{C33}/versions/1/document.docx"),
    ("GET", f"/v1/dossiers/{D33}"),
    ("GET", f"/v1/dossiers/{D33}/rapport.pdf"),
]


@pytest.mark.parametrize("method, path", READS)
@pytest.mark.parametrize("who, expected", [("instr33", 200), ("admin", 200), ("instr75", 404), ("portail", 403),
                                           ("portail33", 403)])
def test_each_role_against_each_read(env: Env, method: str, path: str, who: str, expected: int) -> None:
    r = env.client.request(method, path, headers=env.h(who))
    assert r.status_code == expected, r.text
    if expected == 404:  # the same answer as for a convention that does not exist
        unknown = env.client.request(method, path.replace("STR-000007", "STR-999999"), headers=env.h("instr33"))
        assert unknown.status_code == 404 and unknown.json()["code"] == r.json()["code"]
    if expected == 403:
        assert r.json()["code"] == "droit_insuffisant"


def test_the_list_shows_only_the_tokens_departements(env: Env) -> None:
    mine = env.get("instr33", "/v1/conventions").json()
    assert {c["structure"]["departement"] for c in mine["items"]} == {"33"} and mine["total"] == 1
    assert env.get("instr33", "/v1/conventions?departement=75").json() == {"total": 0, "limit": 50, "offset": 0,
                                                                            "items": []}
    everything = env.get("admin", "/v1/conventions").json()
    assert [c["id"] for c in everything["items"]] == [C33, C75]
    assert env.get("admin", "/v1/conventions?departement=75").json()["items"][0]["id"] == C75
    assert env.get("admin", "/v1/conventions?q=gironde").json()["total"] == 1
    assert env.get("admin", "/v1/conventions?q=DÉPARTEMENT de la").json()["total"] == 1  # case and accents folded
    assert env.get("admin", "/v1/conventions?q=22330001300016").json()["items"][0]["id"] == C33
    assert env.get("admin", "/v1/conventions?q=%25").json()["total"] == 0  # LIKE wildcards are literal
    assert env.get("admin", "/v1/conventions?statut=a_signer&nature=publique").json()["total"] == 2
    assert env.get("admin", "/v1/conventions?statut=archivee").json()["total"] == 0
    page = env.get("admin", "/v1/conventions?limit=1&offset=1").json()
    assert (page["total"], [c["id"] for c in page["items"]]) == (2, [C75])


def test_a_convention_reads_with_its_amounts_and_links(env: Env) -> None:
    c = env.get("instr33", f"/v1/conventions/{C33}").json()
    v1 = c["versions"][0]
    assert (c["statut"], c["structure"]["denomination"], v1["numero"], v1["motif"]) == (
        "a_signer", "Département de la Gironde", 1, "convention initiale")
    assert v1["montant_total"] == "100000.00" and sum(float(t["montant"]) for t in v1["echeancier"]) == 100000
    assert {d["kind"]: d["url"] for d in v1["documents"]} == {
        "docx": f"/v1/conventions/{C33}/versions/1/document.docx",
        "pdf": f"/v1/conventions/{C33}/versions/1/document.pdf"}


def test_a_downloaded_pdf_is_the_issued_one_and_the_download_is_audited(env: Env) -> None:
    version = env.app.catalog.find_version(C33, 1)
    r = env.get("instr33", f"/v1/conventions/{C33}/versions/1/document.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert hashlib.sha256(r.content).hexdigest() == version.document("pdf").sha256
    assert r.headers["etag"] == f'"{version.document("pdf").sha256}"'
    assert 'filename="CN-V1-STR-000007-v1.pdf"' in r.headers["content-disposition"]
    entry = env.app.catalog.list_audit(limit=1, token_id=env.ids["instr33"])[0]
    assert (entry.action, entry.ressource, entry.departement, entry.adresse, entry.statut_http) == (
        "document.telecharger", f"/v1/conventions/{C33}/versions/1/document.pdf", "33", "203.0.113.7", 200)
    assert entry.detail["sha256"] == version.document("pdf").sha256


def test_a_refused_download_is_audited_too(env: Env) -> None:
    assert env.get("instr75", f"/v1/conventions/{C33}/versions/1/document.pdf").status_code == 404
    entry = env.app.catalog.list_audit(limit=1, token_id=env.ids["instr75"])[0]
    assert (entry.action, entry.statut_http, entry.departement) == ("document.telecharger", 404, None)


def test_a_version_or_document_that_does_not_exist_is_404(env: Env) -> None:
    for path in (f"/v1/conventions/{C33}/versions/9/document.pdf", f"/v1/conventions/{C33}/versions/1/certificat.pdf"):
        r = env.get("instr33", path)
        assert r.status_code == 404 and r.json()["message"]
    assert env.get("instr33", f"/v1/conventions/{C33}/versions/0/document.pdf").status_code == 422


# -- submissions and jobs ---------------------------------------------------------------------------

def test_a_portal_follows_its_own_jobs_only(env: Env) -> None:
    payload = example("departement-vague-1.json")
    r = env.post("portail", "/v1/dossiers", json=payload)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["dossier_id"] == D33 and job["url"] == f"/v1/jobs/{job['job_id']}"
    mine = env.get("portail", job["url"])
    assert mine.status_code == 200 and mine.json()["status"] == "succeeded"
    assert mine.json()["result"]["status"] == "incomplet"  # no piece yet
    assert env.get("portail33", job["url"]).status_code == 404
    assert env.get("instr33", job["url"]).status_code == 404
    assert env.get("admin", job["url"]).status_code == 200
    assert env.get("portail", "/v1/jobs/inconnue").status_code == 404


def test_a_demande_with_the_structure_flag_is_accepted_with_a_warning(env: Env) -> None:
    # deprecated: the bonification now follows each poste's lieu de permanence (postes[].lieu)
    payload = demande(structure__id="STR-000333", structure__zone_prioritaire=True)
    r = env.post("portail", "/v1/dossiers", json=payload)
    assert r.status_code == 202, r.text
    assert [w.split(" : ")[0] for w in r.json()["avertissements"]] == ["structure.zone_prioritaire est obsolète"]
    payload = demande(structure__id="STR-000334")
    payload["postes"][0]["lieu"] = {"commune": "33063", "qpv": True}
    r = env.post("portail", "/v1/dossiers", json=payload)
    assert r.status_code == 202 and "avertissements" not in r.json()
    payload["structure"]["zone_prioritaire"] = True  # both: refused on the structure's flag
    r = env.post("portail", "/v1/dossiers", json=payload)
    assert r.status_code == 422
    assert [e["champ"] for e in r.json()["erreurs"]] == ["structure.zone_prioritaire"]


def test_an_idempotency_key_returns_the_same_job(env: Env) -> None:
    payload = example("departement-vague-1.json")
    first = env.post("portail", "/v1/dossiers", json=payload, headers={"Idempotency-Key": "ds-4242"}).json()
    again = env.post("portail", "/v1/dossiers", json=payload, headers={"Idempotency-Key": "ds-4242"}).json()
    other = env.post("portail", "/v1/dossiers", json=payload).json()
    assert first["job_id"] == again["job_id"] != other["job_id"]


def test_a_portal_limited_to_a_departement_cannot_submit_for_another(env: Env) -> None:
    payload = demande(structure__id="STR-000750", structure__departement="75")
    r = env.post("portail33", "/v1/dossiers", json=payload)
    assert r.status_code == 403 and r.json()["code"] == "hors_perimetre"
    r = env.post("portail33", f"/v1/dossiers/{D75}/pieces", data={"kind": "sirene"},
                 files={"fichier": ("avis.pdf", pdf_bytes(), "application/pdf")})
    assert r.status_code == 404
    r = env.post("portail33", f"/v1/conventions/{C75}/changes", json={"type": "resiliation"})
    assert r.status_code == 404


@pytest.mark.parametrize("who, expected", [("instr33", 403), ("instr75", 403)])
def test_instructeurs_do_not_submit(env: Env, who: str, expected: int) -> None:
    assert env.post(who, "/v1/dossiers", json=example("departement-vague-1.json")).status_code == expected
    assert env.post(who, "/v1/conventions", json={"dossier_id": D33}).status_code == expected


def test_portals_do_not_upload_signed_copies(env: Env) -> None:
    r = env.post("portail", f"/v1/conventions/{C33}/versions/1/signed",
                 files={"fichier": ("signe.pdf", pdf_bytes(), "application/pdf")})
    assert r.status_code == 403


def test_a_dossier_with_missing_pieces_is_not_generated(env: Env) -> None:
    r = env.post("portail", "/v1/conventions", json={"dossier_id": D33})
    assert r.status_code == 409 and r.json()["code"] == "dossier_incomplet"
    assert "Avis de situation" in r.json()["message"] or "avis" in r.json()["message"].lower()
    assert env.post("portail", "/v1/conventions", json={"dossier_id": "DOS-INCONNU"}).status_code == 404


# -- JSON validation, in French, with the field -----------------------------------------------------

def test_a_bad_demande_is_422_naming_the_field_in_french(env: Env) -> None:
    r = env.post("portail", "/v1/dossiers", json=demande(structure__siret="21330099900018"))
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "demande_invalide"
    assert body["erreurs"] == [{"champ": "structure.siret", "code": "siret_invalide",
                                "message": "le SIRET « 21330099900018 » est invalide (clé de contrôle incorrecte)"}]
    unknown = env.post("portail", "/v1/dossiers", json={**demande(), "montant": 1}).json()
    assert unknown["erreurs"][0]["champ"] == "montant"
    broken = env.post("portail", "/v1/dossiers", content=b"{pas du json", headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["erreurs"][0]["code"] == "json_invalide"


def test_a_bad_change_is_422_before_any_job(env: Env) -> None:
    before = len(env.app.catalog.list_jobs(limit=1000))
    r = env.post("portail", f"/v1/conventions/{C33}/changes", json={"type": "ajout_postes", "nombre": -1})
    assert r.status_code == 422 and r.json()["code"] == "changement_invalide" and r.json()["erreurs"]
    assert len(env.app.catalog.list_jobs(limit=1000)) == before


def test_query_errors_are_422_in_french(env: Env) -> None:
    r = env.get("admin", "/v1/conventions?limit=1000&departement=99")
    assert r.status_code == 422
    fields = {e["champ"] for e in r.json()["erreurs"]}
    assert fields == {"limit", "departement"}


# -- uploads: size, type, filenames -----------------------------------------------------------------

def test_a_piece_upload_is_202_and_validated_with_a_hostile_filename_never_used_as_a_path(env: Env) -> None:
    r = env.post("portail", f"/v1/dossiers/{D33}/pieces", data={"kind": "sirene"},
                 files={"fichier": ("../../../../etc/cron.d/evil.pdf", pdf_bytes(), "application/pdf")})
    assert r.status_code == 202, r.text
    job = env.get("portail", r.json()["url"]).json()
    assert job["result"]["kind"] == "sirene" and job["result"]["sha256"] == r.json()["sha256"]
    piece = next(p for p in env.get("instr33", f"/v1/dossiers/{D33}").json()["pieces"] if p["kind"] == "sirene")
    assert piece["filename"] == "evil.pdf"
    assert not Path("/etc/cron.d/evil.pdf").exists()
    assert env.app.storage.exists(f"televersements/{r.json()['sha256']}")
    entry = env.app.catalog.list_audit(limit=1, token_id=env.ids["portail"])[0]
    assert (entry.action, entry.statut_http, entry.detail["filename"]) == ("piece.deposer", 202, "evil.pdf")


def test_a_file_whose_content_is_not_accepted_is_415_whatever_its_name(env: Env) -> None:
    r = env.post("portail", f"/v1/dossiers/{D33}/pieces", data={"kind": "sirene"},
                 files={"fichier": ("avis.pdf", b"MZ\x90\x00" + b"\x00" * 2000, "application/pdf")})
    assert r.status_code == 415 and r.json()["code"] == "type_non_accepte"
    r = env.post("instr33", f"/v1/conventions/{C33}/versions/1/signed",
                 files={"fichier": ("signe.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")})
    assert r.status_code == 415


def test_an_oversized_body_is_413_while_streaming(env: Env) -> None:
    big = b"%PDF-1.7\n" + b"0" * (6 * 1_000_000)  # over the 5 MB of an avis Sirene, under the multipart cap
    r = env.post("portail", f"/v1/dossiers/{D33}/pieces", data={"kind": "sirene"},
                 files={"fichier": ("avis.pdf", big, "application/pdf")})
    assert r.status_code == 413 and r.json()["code"] == "trop_volumineux"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(3):
            yield b"x" * 600_000

    r = env.client.post("/v1/dossiers", content=chunks(), headers={**env.h("portail"),
                                                                  "Content-Type": "application/json"})
    assert r.status_code == 413
    r = env.client.post("/v1/dossiers", content=b"{}", headers={**env.h("portail"), "Content-Length": "99999999",
                                                                "Content-Type": "application/json"})
    assert r.status_code == 413


def test_an_unknown_piece_kind_is_422(env: Env) -> None:
    r = env.post("portail", f"/v1/dossiers/{D33}/pieces", data={"kind": "passeport"},
                 files={"fichier": ("a.pdf", pdf_bytes(), "application/pdf")})
    assert r.status_code == 422 and r.json()["erreurs"][0]["champ"] == "kind"


# -- rate limits, health, OpenAPI ---------------------------------------------------------------------

def test_a_token_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", api_rate_limit=60, api_rate_burst=3)
    with App(settings) as app:
        secret, _ = create_token(app, role="admin", now=datetime.now(UTC))
        other, _ = create_token(app, role="admin", now=datetime.now(UTC))
        with TestClient(create_app(app)) as client:
            codes = [client.get("/v1/conventions", headers={"Authorization": f"Bearer {secret}"}).status_code
                     for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            r = client.get("/v1/conventions", headers={"Authorization": f"Bearer {secret}"})
            assert r.json()["code"] == "trop_de_requetes" and 1 <= int(r.headers["Retry-After"]) <= 2
            # another token is not slowed down by the first one
            assert client.get("/v1/conventions", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_health_and_readiness(env: Env) -> None:
    assert env.client.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = env.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"catalogue": "ok", "broker": "ok", "stockage": "ok"}}


def test_readiness_is_503_when_the_catalog_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path / "var", database_url="postgresql+psycopg://conum@127.0.0.1:1/absent")
    with TestClient(create_app(settings=settings)) as client:
        r = client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["catalogue"] == "indisponible"
        assert r.json()["checks"]["stockage"] == "ok"


def test_openapi_describes_every_route_with_its_security(env: Env) -> None:
    spec = env.client.get("/v1/openapi.json").json()
    assert spec["components"]["securitySchemes"]["jeton"] == {
        "type": "http", "scheme": "bearer",
        "description": "Jeton créé par `conum token create` (conum_…), en-tête Authorization: Bearer."}
    paths = spec["paths"]
    assert {"/v1/dossiers", "/v1/dossiers/{dossier_id}/pieces", "/v1/jobs/{job_id}", "/v1/conventions",
            "/v1/conventions/{convention_id}/versions/{numero}/signed",
            "/v1/conventions/{convention_id}/versions/{numero}/certificat.pdf"} <= set(paths)
    demande_schema = paths["/v1/dossiers"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert demande_schema == {"$ref": "#/components/schemas/DemandeIn"}
    assert "structure" in spec["components"]["schemas"]["DemandeIn"]["properties"]
    assert "404" in paths["/v1/conventions/{convention_id}"]["get"]["responses"]


def test_errors_never_show_a_stack_trace(env: Env) -> None:
    r = env.client.get("/v1/nulle-part")
    assert r.status_code == 404 and r.json() == {"code": "introuvable", "message": "Adresse inconnue."}
    r = env.client.delete("/v1/conventions", headers=env.h("admin"))
    assert r.status_code == 405 and "Traceback" not in r.text


def test_an_unreadable_multipart_or_json_body_is_422(env: Env) -> None:
    r = env.client.post(f"/v1/dossiers/{D33}/pieces", content=b"--x\r\n-2.4e+16--x--\r\n",
                        headers={**env.h("portail"), "Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 422 and r.json()["erreurs"][0]["code"] == "corps_illisible"
    r = env.post("portail", "/v1/conventions", content=b"{pas du json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["erreurs"][0]["champ"] == ""


def test_a_demande_cannot_move_another_departements_structure_into_the_tokens_scope(env: Env) -> None:
    gironde = example("departement-vague-1.json")  # STR-000007, in the 33
    moved = {**gironde, "structure": {**gironde["structure"], "departement": "75", "adresse": "Paris"}}
    r = env.post("portail75", "/v1/dossiers", json=moved)
    # as for an id that exists nowhere: the 75's own structure, in its namespace (tests/e2e/test_api_structures.py)
    assert r.status_code == 202 and r.json()["dossier_id"] == "DOS-V1-75.STR-000007"
    r = env.post("portail", "/v1/dossiers", json=moved)
    assert r.status_code == 409 and r.json()["code"] == "structure_departement"
    assert env.app.catalog.dossier_departement(D33) == "33"
    assert env.get("instr33", f"/v1/dossiers/{D33}").status_code == 200


def test_the_service_refuses_to_move_a_structure_too(env: Env) -> None:
    from dossiers.errors import DossierError

    gironde = example("departement-vague-1.json")
    with pytest.raises(DossierError, match="ne peut pas la déplacer"):
        open_dossier({**gironde, "structure": {**gironde["structure"], "departement": "75"}}, env.app)


def test_a_reemission_through_the_api_is_for_admins(env: Env) -> None:
    change = {"type": "reemission", "request_id": "reem-1", "regles": "vague-2"}
    r = env.post("portail", f"/v1/conventions/{C75}/changes", json=change)
    assert r.status_code == 403 and "réémission" in r.json()["message"]


def test_an_anonymous_upload_is_cut_short(env: Env) -> None:
    r = env.client.post(f"/v1/dossiers/{D33}/pieces", data={"kind": "sirene"},
                        files={"fichier": ("a.pdf", b"%PDF-1.7\n" + b"0" * 200_000)})
    assert r.status_code == 401  # answered from the headers: not a byte of the body was read
    r = env.client.post(f"/v1/dossiers/{D33}/pieces", data={"kind": "sirene"}, files={"fichier": ("a.pdf", b"x")})
    assert r.status_code == 401
