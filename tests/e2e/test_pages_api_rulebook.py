"""The pages and the API apply one rulebook (``services.acces``, ``services.depots``): for an agent and
a token of the same role and départements, a hidden département is a 404 on both, a download writes
the same audit row, and a signed copy too big, empty or not a PDF gets the same refusal (status,
message, audit row).

Real parts: SQLite catalog, local storage, the ASGI app in process (Starlette's test client); seeded
conventions (no documents: no LibreOffice) and two opened dossiers, of the 33 and of the 75; the
agent's session cookie made with the app's session secret, as the login would.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dossiers.bootstrap import App
from dossiers.domain.acces import AuditEntry
from dossiers.domain.checks.signe import SIGNED_COPY_POLICY
from dossiers.entrypoints.api import create_app
from dossiers.entrypoints.web.session import SESSION_COOKIE, _Chiffrement
from dossiers.services.acces import create_token, save_agent
from dossiers.services.archive import staging_key
from dossiers.services.seed import seed
from dossiers.services.validation import open_dossier
from dossiers.settings import Settings
from tests.factories import demande

SECRET = "secret-de-session-des-tests-du-reglement-01234"
AGENT33 = "camille.exemple@gironde.gouv.fr"
CSRF = "jeton-csrf-du-test"
D33, D75 = "DOS-V2-STR-000033", "DOS-V2-STR-000075"


@dataclass
class Env:
    app: App
    client: TestClient
    token: str  # an instructeur of the 33, as the agent
    c33: str
    c75: str

    def api(self, method: str, path: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, follow_redirects=False, **kw)

    def page(self, method: str, path: str, *, agent: str = AGENT33, **kw: Any) -> Any:
        self.client.cookies.clear()
        _jeton, epoch = self.app.catalog.agent_session(agent)
        data = base64.b64encode(json.dumps({"agent": agent, "epoch": epoch, "nom": agent, "csrf": CSRF}).encode())
        self.client.cookies.set(SESSION_COOKIE, _Chiffrement(SECRET).sign(data).decode())
        try:
            return self.client.request(method, path, follow_redirects=False, **kw)
        finally:
            self.client.cookies.clear()

    def last_audit(self) -> AuditEntry:
        entry: AuditEntry = self.app.catalog.list_audit(limit=1)[0]
        return entry


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    var = tmp_path_factory.mktemp("reglement")
    settings = Settings(var_dir=var, api_rate_limit=100_000, api_rate_burst=10_000, session_secret=SECRET)
    with App(settings) as app:
        now = datetime.now(UTC)
        seed(app, structures=120, seed=3, evenements=False)
        for departement in ("33", "75"):
            open_dossier(demande(structure__id=f"STR-0000{departement}", structure__departement=departement), app)
        _total, c33 = app.catalog.search_conventions(departements=("33",), limit=1)
        _total, c75 = app.catalog.search_conventions(departements=("75",), limit=1)
        token, _ = create_token(app, role="instructeur", departements=["33"], nom="instr33", now=now)
        save_agent(app, AGENT33, role="instructeur", departements=["33"], now=now)
        with TestClient(create_app(app), client=("203.0.113.11", 50000)) as client:
            yield Env(app, client, token, c33[0].id, c75[0].id)


def _row(entry: AuditEntry, *, ressource: bool = True) -> dict[str, Any]:
    """An audit row without what differs between a page and the API by nature: its time, id, the
    principal's id and name, and the ``/v1`` of the API's path (the whole path where the page's form
    posts to its own address: ``ressource=False``)."""
    return {"action": entry.action, "ressource": entry.ressource.removeprefix("/v1") if ressource else None, "statut": entry.statut_http,
            "role": entry.role, "departement": entry.departement, "adresse": entry.adresse,
            "detail": {k: v for k, v in entry.detail.items() if k != "agent"}, "nomme": "agent" in entry.detail}


def test_a_convention_or_dossier_of_another_departement_is_a_404_for_the_page_and_the_api(env: Env) -> None:
    for page, api in ((f"/conventions/{env.c75}", f"/v1/conventions/{env.c75}"),
                      (f"/dossiers/{D75}", f"/v1/dossiers/{D75}"),
                      (f"/conventions/{env.c75}/versions/1/document.pdf",
                       f"/v1/conventions/{env.c75}/versions/1/document.pdf")):
        by_page, by_api = env.page("GET", page), env.api("GET", api)
        assert (by_page.status_code, by_api.status_code) == (404, 404), page
    assert env.page("GET", f"/conventions/{env.c33}").status_code == 200  # the agent's own département
    assert env.api("GET", f"/v1/conventions/{env.c33}").status_code == 200


def test_a_refused_download_and_a_rapport_write_the_same_audit_row_by_page_and_by_api(env: Env) -> None:
    env.page("GET", f"/conventions/{env.c75}/versions/1/document.pdf")
    by_page = env.last_audit()
    env.api("GET", f"/v1/conventions/{env.c75}/versions/1/document.pdf")
    by_api = env.last_audit()
    assert _row(by_page) == _row(by_api)
    assert (by_page.action, by_page.statut_http, by_page.departement) == ("document.telecharger", 404, None)

    page = env.page("GET", f"/dossiers/{D33}/rapport.pdf")
    by_page = env.last_audit()
    api = env.api("GET", f"/v1/dossiers/{D33}/rapport.pdf")
    by_api = env.last_audit()
    assert page.status_code == api.status_code == 200
    assert page.headers["content-disposition"] == api.headers["content-disposition"]
    assert _row(by_page) | {"detail": None} == _row(by_api) | {"detail": None}
    assert by_page.detail.keys() == by_api.detail.keys() == {"empreinte", "size", "agent"}
    assert (by_page.action, by_page.statut_http, by_page.departement, by_page.role) == \
        ("rapport.telecharger", 200, "33", "instructeur")
    assert by_page.detail["agent"] == AGENT33 and by_api.detail["agent"] == "instr33"


@pytest.mark.parametrize("name, data, status", [
    ("trop-gros.pdf", b"%PDF-1.7\n" + b"0" * SIGNED_COPY_POLICY.max_bytes, 413),
    ("copie.pdf", b"PK\x03\x04" + b"\x00" * 200, 415),  # a ZIP named .pdf: the content decides
    ("vide.pdf", b"", 422),
])
def test_a_signed_copy_too_big_empty_or_not_a_pdf_is_refused_alike_by_page_and_api(
        env: Env, name: str, data: bytes, status: int) -> None:
    api = env.api("POST", f"/v1/conventions/{env.c33}/versions/1/signed", files={"fichier": (name, data)})
    by_api = env.last_audit()
    page = env.page("POST", f"/conventions/{env.c33}/versions/1/copie-signee", data={"csrf": CSRF},
                    files={"fichier": (name, data)})
    by_page = env.last_audit()
    assert api.status_code == page.status_code == status
    assert page.headers["content-type"].startswith("text/html")
    if status != 422:  # the page shows the API's reason (an empty file: « choisissez le fichier »)
        assert api.json()["message"] in html.unescape(page.text)
    assert _row(by_page, ressource=False) == _row(by_api, ressource=False)
    assert by_api.detail == {"version": 1, "filename": name, "size": min(len(data), SIGNED_COPY_POLICY.max_bytes + 1),
                             "agent": "instr33"}
    assert not env.app.staging.exists(staging_key(hashlib.sha256(data[:SIGNED_COPY_POLICY.max_bytes + 1]).hexdigest()))


def test_an_unknown_version_is_a_404_and_an_audit_row_for_the_page_and_the_api(env: Env) -> None:
    pdf = b"%PDF-1.7\n%%EOF\n"
    api = env.api("POST", f"/v1/conventions/{env.c33}/versions/99/signed", files={"fichier": ("c.pdf", pdf)})
    by_api = env.last_audit()
    page = env.page("POST", f"/conventions/{env.c33}/versions/99/copie-signee", data={"csrf": CSRF},
                    files={"fichier": ("c.pdf", pdf)})
    by_page = env.last_audit()
    assert api.status_code == page.status_code == 404
    assert api.json()["code"] == "version_introuvable" and "Version introuvable" in page.text
    assert _row(by_page, ressource=False) == _row(by_api, ressource=False) and by_page.statut_http == 404


def test_the_home_page_follows_the_agents_rights(env: Env) -> None:
    assert env.page("GET", "/").headers["location"] == "/a-traiter"  # an instructeur of some départements
    save_agent(env.app, "exploitation@anct.gouv.fr", role="admin", departements=[], now=datetime.now(UTC))
    assert env.page("GET", "/", agent="exploitation@anct.gouv.fr").headers["location"] == "/conventions"
    env.client.cookies.clear()
    assert env.client.get("/", follow_redirects=False).headers["location"] == "/conventions"  # nobody logged in


def test_an_idempotency_key_bound_to_another_copy_is_refused_before_anything_is_staged(env: Env) -> None:
    first, other = b"%PDF-1.7\n% premier\n%%EOF\n", b"%PDF-1.7\n% autre\n%%EOF\n"
    path = f"/v1/conventions/{env.c33}/versions/1/signed"
    sent = env.api("POST", path, files={"fichier": ("c.pdf", first)}, headers={"Idempotency-Key": "copie-1"})
    assert sent.status_code == 202
    again = env.api("POST", path, files={"fichier": ("c.pdf", first)}, headers={"Idempotency-Key": "copie-1"})
    assert again.status_code == 202 and again.json()["job_id"] == sent.json()["job_id"]
    refused = env.api("POST", path, files={"fichier": ("c.pdf", other)}, headers={"Idempotency-Key": "copie-1"})
    assert refused.status_code == 422 and refused.json()["code"] == "idempotence_conflit"
    assert not env.app.staging.exists(staging_key(hashlib.sha256(other).hexdigest()))
    assert (env.last_audit().action, env.last_audit().statut_http) == ("copie_signee.deposer", 422)


def test_a_convention_asked_of_an_incomplete_dossier_is_a_409_page_and_its_audit_row(env: Env) -> None:
    page = env.page("POST", f"/dossiers/{D33}/convention", data={"csrf": CSRF})
    entry = env.last_audit()
    assert page.status_code == 409 and "Convention non générée" in html.unescape(page.text)
    assert (entry.action, entry.statut_http, entry.departement) == ("convention.generer", 409, "33")
    assert entry.detail == {"dossier_id": D33, "agent": AGENT33}
