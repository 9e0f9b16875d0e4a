"""The instructeur pages in a real browser: Playwright driving Debian's chromium (headless, no
browser download) against the app served by uvicorn on loopback, logging in through a real local
OpenID Connect provider (oidc-provider-mock, nonce required).

An instructeur of the 33 logs in, filters, opens a convention, downloads its PDF (read back with
pypdf), uploads the signed copy and sees it archived; a 75 page is a 404 for the same agent; a forged
``state``, a replayed code and a form without its CSRF token are refused. axe-core runs on every
page (no serious or critical violation), the main path is walked with the keyboard alone, and each
page is photographed at desktop and mobile widths into ``var/screenshots/`` (not committed).
"""

from __future__ import annotations

import base64
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from dossiers.bootstrap import App
from dossiers.services.acces import save_agent
from dossiers.services.generation import generate_convention
from dossiers.services.reemission import plan as make_plan
from dossiers.services.seed import seed
from dossiers.services.validation import add_piece, open_dossier
from dossiers.settings import ROOT, Settings
from tests.conftest import _free_port, _missing_service, serve_asgi
from tests.factories import demande, example
from tests.fixtures.signature import copie_signee
from tests.fixtures.sirene import avis_sirene_pdf

pytestmark = [pytest.mark.libreoffice, pytest.mark.browser]
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
AXE = sorted((ROOT / "var" / "test-assets").glob("axe-*.min.js"))
SHOTS = ROOT / "var" / "screenshots"
C33, C75 = "CN-V2-STR-004512", "CN-V2-STR-000750"
D33 = "DOS-V2-STR-004512"
EMAIL = "camille.exemple@gironde.gouv.fr"


@dataclass
class Site:
    base: str
    app: App
    issuer: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, pool: Any, pki: Any) -> Iterator[Site]:
    if not Path(CHROMIUM).exists():
        _missing_service("chromium n'est pas installé (apt-get install chromium)")
    if not AXE or not (ROOT / "dossiers/entrypoints/web/static/dsfr/dsfr.min.css").exists():
        _missing_service("DSFR ou axe-core absents : lancez `make static test-assets`")
    if os.environ.get("BROKER_URL"):
        pytest.skip("jobs run in process here")
    from oidc_provider_mock import User, run_server_in_thread

    from dossiers.entrypoints.api import create_app
    from workers import runtime

    var = tmp_path_factory.mktemp("web")
    users = [User(sub="agent33", claims={"email": EMAIL, "email_verified": True, "given_name": "Camille",
                                         "usual_name": "Exemple"}),
             User(sub="inconnu", claims={"email": "personne@exemple.gouv.fr", "email_verified": True}),
             User(sub="nonverifie", claims={"email": EMAIL, "email_verified": False, "given_name": "Faux"})]
    with run_server_in_thread(require_nonce=True, user_claims=users) as provider:
        issuer = f"http://localhost:{provider.server_port}"
        port = _free_port()
        settings = Settings(var_dir=var, oidc_issuer=issuer, oidc_client_id="conum", oidc_client_secret="secret",
                            web_base_url=f"http://127.0.0.1:{port}", oidc_scopes="openid email profile usual_name",
                            signature_trust_roots=pki.racines)
        with App(settings, converter=pool) as app:
            now = datetime.now(UTC)
            paris = demande(structure__id="STR-000750", structure__departement="75",
                            structure__adresse="1 rue de Rivoli, 75001 Paris")
            for payload in (example("association-1-poste.json"), paris):
                generate_convention(payload, app, today=date(2026, 11, 26), now=now)
                open_dossier(payload, app)
            avis = avis_sirene_pdf(siren="843123456", siret="84312345600017",
                                   denomination="ASSOCIATION EMMAUS CONNECT GIRONDE", date_avis=date(2026, 11, 2),
                                   categorie=("9220", "Association déclarée"))
            from dossiers.domain.pieces import PieceKind

            add_piece(D33, avis, PieceKind.SIRENE, app, now=now, filename="avis-situation.pdf")
            seed(app, structures=200, seed=3)
            planned, impacts = make_plan(app, regles="regles-2025-05", modele=None, as_of=date(2026, 11, 26), now=now)
            assert any(i.departement == "33" for i in impacts)  # the agent has something to follow
            save_agent(app, EMAIL, role="instructeur", departements=["33"], now=now)
            runtime.use_app(app)
            try:
                with serve_asgi(create_app(app), port) as base:
                    yield Site(base, app, issuer)
            finally:
                runtime.use_app(None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    # axe-core is injected as a script: the pages' CSP would (rightly) block it
    context = browser.new_context(accept_downloads=True, locale="fr-FR", viewport={"width": 1280, "height": 900},
                                  bypass_csp=True)
    tab = context.new_page()
    yield tab
    context.close()


def login(page: Any, site: Site, *, then: str = "/conventions", user: str = "agent33") -> None:
    page.goto(site.base + then)
    assert "/connexion" in page.url
    page.get_by_role("link", name=re.compile("S.identifier avec ProConnect")).click()
    page.get_by_role("button", name=user, exact=True).click()  # the provider's page
    page.wait_for_load_state()


def axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE[-1]))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=str(SHOTS / f"{name}-bureau.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"{name}-mobile.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def check_page(page: Any, name: str) -> None:
    serious = axe(page)
    assert serious == [], [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in serious]
    shoot(page, name)


# -- the main path --------------------------------------------------------------------------------

def test_an_instructeur_finds_downloads_and_countersigns_a_convention(page: Any, site: Site, tmp_path: Path,
                                                                     pki: Any) -> None:
    page.goto(site.base + "/connexion")
    check_page(page, "connexion")
    login(page, site)
    assert page.url.endswith("/conventions")
    assert page.get_by_text("Camille Exemple").first.is_visible()
    check_page(page, "conventions")

    page.get_by_label(re.compile("Dénomination ou SIRET")).fill("emmaus connect GIRONDE")  # accents, case folded
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url(re.compile(r"q=emmaus"))
    rows = page.locator("#resultats tbody tr")
    assert rows.count() == 1 and "Association Emmaüs Connect Gironde" in rows.first.inner_text()
    assert "à signer" in rows.first.inner_text().lower()
    page.get_by_role("link", name=C33).click()
    page.wait_for_url(re.compile(C33 + "$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Association Emmaüs Connect Gironde"
    check_page(page, "convention")

    with page.expect_download() as pending:
        page.get_by_role("link", name=re.compile("Télécharger le PDF")).click()
    pdf = Path(pending.value.path()).read_bytes()
    issued = site.app.catalog.find_version(C33, 1).document("pdf")
    import hashlib

    assert hashlib.sha256(pdf).hexdigest() == issued.sha256
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Association Emmaüs Connect Gironde" in text

    signed = tmp_path / "convention signée.pdf"
    # signed by the association's representative (Claire Martin, as its demande says), then countersigned
    signed.write_bytes(copie_signee(pdf, pki, structure=pki.signataire("Claire Martin", "Emmaüs Connect Gironde")))
    page.set_input_files("#copie-signee", str(signed))
    page.get_by_role("button", name="Déposer", exact=True).click()
    page.wait_for_url(re.compile(r"/depots/"))
    assert page.get_by_role("heading", name="Copie signée archivée").is_visible()
    check_page(page, "depot")
    page.get_by_role("link", name="Retour à la convention").click()
    assert page.locator(".fr-badge", has_text="Archivée").first.is_visible()
    with page.expect_download() as certificate:
        page.get_by_role("link", name=re.compile("certificat d'archivage")).click()
    cert = Path(certificate.value.path()).read_bytes()
    assert C33 in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(cert)).pages).replace("\n", "")
    actions = [(e.action, e.statut_http) for e in site.app.catalog.list_audit(limit=20)]
    assert ("document.telecharger", 200) in actions and ("copie_signee.deposer", 202) in actions
    assert ("certificat.telecharger", 200) in actions

    page.goto(site.base + f"/dossiers/{'DOS-V2-STR-004512'}")
    assert page.get_by_role("heading", level=1).inner_text() == "Association Emmaüs Connect Gironde"
    assert "Avis de situation" in page.locator("table").inner_text()
    check_page(page, "dossier")
    with page.expect_download() as rapport:
        page.get_by_role("link", name=re.compile("rapport de contrôle")).click()
    assert Path(rapport.value.path()).read_bytes()[:5] == b"%PDF-"

    page.get_by_role("link", name="Réémissions en lot").first.click()
    check_page(page, "reemissions")
    page.locator("tbody a").first.click()
    assert page.get_by_role("heading", name="Avancement").is_visible()
    assert page.locator("table").last.locator("tbody tr").count() >= 1
    check_page(page, "reemission")


def test_a_copy_to_verify_shows_its_signatures_and_is_archived_once_the_instructeur_accepts_it(
        page: Any, site: Site, tmp_path: Path, pki: Any) -> None:
    # signed by someone who is not the association's representative: a human must decide
    issued = site.app.catalog.find_version(C33, 1).document("pdf")
    pdf = site.app.storage.get(issued.key, sha256=issued.sha256)
    copy = tmp_path / "copie à vérifier.pdf"
    copy.write_bytes(copie_signee(pdf, pki, structure=pki.marie_dupont, cdc=False))
    login(page, site, then=f"/conventions/{C33}")
    page.set_input_files("#copie-signee", str(copy))
    page.get_by_role("button", name="Déposer", exact=True).click()
    page.wait_for_url(re.compile(r"/depots/"))
    page.get_by_role("heading", name="Copie reçue, à vérifier").wait_for()
    assert "SIGNATURE_SIGNATAIRE_DIFFERENT" in page.content() or "représentant légal" in page.content()
    table = page.get_by_role("table", name="Signatures électroniques de la copie")
    assert "Marie Dupont, Commune de Testville" in table.inner_text()
    assert "conum test — AC signature" in table.inner_text()
    check_page(page, "depot-a-verifier")
    [waiting] = [r for r in site.app.catalog.find_archives(convention_id=C33) if r.statut == "a_verifier"]
    assert waiting.storage_key is None  # nothing locked yet

    page.get_by_role("button", name="Accepter la copie et l'archiver").click()
    page.wait_for_url(re.compile(C33 + "$"))
    accepted = site.app.catalog.get_archive(waiting.id)
    assert accepted.statut == "archive" and accepted.storage_key and accepted.retain_until
    assert accepted.fields["acceptation"]["par"] == "Camille Exemple"  # the agent's name, from ProConnect
    assert site.app.archive.get(accepted.storage_key, sha256=accepted.sha256) == copy.read_bytes()
    actions = [(e.action, e.statut_http) for e in site.app.catalog.list_audit(limit=20)]
    assert ("copie_signee.accepter", 200) in actions


def test_another_departement_is_a_404_for_the_same_agent(page: Any, site: Site) -> None:
    login(page, site, then=f"/conventions/{C75}")
    answer = page.goto(site.base + f"/conventions/{C75}")
    assert answer.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "Convention introuvable"
    check_page(page, "erreur-404")
    assert page.goto(site.base + f"/conventions/{C75}/versions/1/document.pdf").status == 404
    assert page.goto(site.base + "/dossiers/DOS-V2-STR-000750").status == 404
    page.goto(site.base + "/conventions?departement=75")
    assert page.locator("#compte").inner_text().startswith("0 convention")
    refused = [e for e in site.app.catalog.list_audit(limit=20) if e.statut_http == 404]
    assert refused and refused[0].action == "document.telecharger"


def test_an_email_the_provider_does_not_say_verified_is_refused(page: Any, site: Site) -> None:
    login(page, site, user="nonverifie")  # the agent's own address, unverified by the provider
    assert page.get_by_role("heading", level=1).inner_text() == "Adresse non vérifiée"
    assert page.goto(site.base + "/conventions").url.endswith("/connexion?suite=/conventions")


def test_an_agent_without_habilitation_is_refused(page: Any, site: Site) -> None:
    login(page, site, user="inconnu")
    assert page.get_by_role("heading", level=1).inner_text() == "Compte non habilité"
    assert page.goto(site.base + "/conventions").url.endswith("/connexion?suite=/conventions")


# -- the login's defences ----------------------------------------------------------------------------

def _start(client: httpx.Client) -> str:
    """A login up to the provider's redirect back (what the browser would follow)."""
    r = client.get("/connexion/proconnect")
    assert r.status_code == 303
    back = httpx.post(r.headers["location"], data={"sub": "agent33"}, follow_redirects=False)
    assert back.status_code == 302
    return back.headers["location"]


def test_a_forged_state_and_a_replayed_code_are_refused(site: Site) -> None:
    with httpx.Client(base_url=site.base, follow_redirects=False) as client:
        back = _start(client)
        forged = re.sub(r"state=[^&]+", "state=forge", back)
        r = client.get(forged)
        assert r.status_code == 400 and "Connexion refusée" in r.text
        assert client.get("/conventions").status_code == 303  # not logged in

        back = _start(client)
        assert client.get(back).status_code == 303 and client.get("/conventions").status_code == 200
        replay = client.get(back)  # the same return again: its state was used up
        assert replay.status_code == 400

    with httpx.Client(base_url=site.base, follow_redirects=False) as other:
        # a new login whose return carries the code already exchanged: the provider refuses it
        fresh = other.get("/connexion/proconnect")
        state = re.search(r"state=([^&]+)", fresh.headers["location"]).group(1)
        code = re.search(r"code=([^&]+)", back).group(1)
        r = other.get(f"/connexion/retour?code={code}&state={state}")
        assert r.status_code == 400 and "code déjà utilisé" in r.text
        assert other.get("/conventions").status_code == 303


def test_forms_without_their_csrf_token_are_refused(site: Site) -> None:
    with httpx.Client(base_url=site.base, follow_redirects=False) as client:
        assert client.get(_start(client)).status_code == 303
        r = client.post(f"/conventions/{C33}/versions/1/copie-signee", files={"fichier": ("a.pdf", b"%PDF-1.7\n")})
        assert r.status_code == 403 and "Formulaire expiré" in r.text
        assert client.post("/deconnexion", data={"csrf": "faux"}).status_code == 403
        assert client.get("/conventions").status_code == 200  # still logged in
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/conventions").text).group(1)
        copied = dict(client.cookies)  # the same session, copied to another client before the logout
        assert client.post("/deconnexion", data={"csrf": token}).headers["location"] == "/connexion?deconnecte=1"
        assert client.get("/conventions").status_code == 303
    with httpx.Client(base_url=site.base, follow_redirects=False, cookies=copied) as thief:
        assert thief.get("/conventions").status_code == 303  # the logout ended it everywhere
    with httpx.Client(base_url=site.base, follow_redirects=False) as fresh, \
            httpx.Client(base_url=site.base, follow_redirects=False, cookies=copied) as stale:
        assert fresh.get(_start(fresh)).status_code == 303  # logging in again right away works
        stale.post("/deconnexion", data={"csrf": token})  # a dead session's logout...
        assert fresh.get("/conventions").status_code == 200  # ...does not end the live one
        kept = dict(fresh.cookies)
        save_agent(site.app, EMAIL, role="instructeur", departements=["33"], now=datetime.now(UTC))  # update
        assert fresh.get("/conventions").status_code == 200
        site.app.catalog.remove_agent(EMAIL)
        save_agent(site.app, EMAIL, role="instructeur", departements=["33"], now=datetime.now(UTC))  # re-added
    with httpx.Client(base_url=site.base, follow_redirects=False, cookies=kept) as old:
        assert old.get("/conventions").status_code == 303  # sessions from before the removal stay dead


def test_the_session_cookie_is_httponly_and_lax_and_pages_forbid_inline_code(site: Site) -> None:
    with httpx.Client(base_url=site.base, follow_redirects=False) as client:
        r = client.get("/connexion/proconnect")
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie  # http here
        # encrypted, not only signed: the login in progress (state, nonce, PKCE verifier) cannot be read from it
        value = client.cookies["conum_session"]
        from dossiers.entrypoints.web.session import read_session, session_secret

        secret = session_secret(site.app.settings.session_secret, site.app.settings.var_dir)
        pending = read_session(value, secret, site.app.settings.session_max_age)
        assert pending and pending["oidc"]["verifier"] not in value
        for part in value.split("."):
            for padded in (part, part + "=", part + "=="):
                try:
                    decoded = base64.urlsafe_b64decode(padded)
                except ValueError:
                    continue
                assert pending["oidc"]["verifier"].encode() not in decoded and b"verifier" not in decoded
        tampered = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
        assert read_session(tampered, secret, site.app.settings.session_max_age) is None
        assert read_session(value, "une autre clé", site.app.settings.session_max_age) is None
        page_ = client.get("/connexion")
        assert "script-src 'self'" in page_.headers["content-security-policy"]
        assert page_.headers["x-frame-options"] == "DENY"


# -- the keyboard alone ---------------------------------------------------------------------------------

def test_the_main_path_works_with_the_keyboard_alone(page: Any, site: Site) -> None:
    login(page, site)
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Contenu"  # the first stop is the skip link
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"

    def tab_to(predicate: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(predicate):
                return
        raise AssertionError(f"jamais atteint au clavier : {predicate}")

    tab_to("document.activeElement.id === 'f-q'")
    page.keyboard.type("emmaus connect gironde")
    page.keyboard.press("Enter")  # submits the filter form
    page.wait_for_url(re.compile(r"q=emmaus"))
    tab_to(f"document.activeElement.textContent.trim() === '{C33}'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(C33 + "$"))
    tab_to("document.activeElement.textContent.includes('Télécharger le PDF')")
    with page.expect_download() as pending:
        page.keyboard.press("Enter")
    assert Path(pending.value.path()).read_bytes()[:5] == b"%PDF-"
    tab_to("document.activeElement.id === 'copie-signee'")
    tab_to("document.activeElement.textContent.trim() === 'Déposer'")


def test_the_pages_run_under_their_csp_without_a_violation(browser: Any, site: Site) -> None:
    context = browser.new_context(locale="fr-FR")
    tab = context.new_page()
    messages: list[str] = []
    tab.on("console", lambda m: messages.append(m.text))
    try:
        login(tab, site)
        for path in ("/conventions", f"/conventions/{C33}", f"/dossiers/{D33}", "/reemissions"):
            tab.goto(site.base + path)
            tab.wait_for_load_state("networkidle")
        assert tab.evaluate("typeof htmx") == "object" and tab.evaluate("typeof dsfr") == "function"
    finally:
        context.close()
    assert [m for m in messages if "Content Security Policy" in m or "Refused" in m] == []


def test_a_large_signed_copy_is_accepted_and_an_oversized_one_is_a_413_page(site: Site) -> None:
    with httpx.Client(base_url=site.base, follow_redirects=False, timeout=60) as client:
        assert client.get(_start(client)).status_code == 303
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/conventions").text).group(1)
        big = b"%PDF-1.7\n" + b"%" + b"0" * 3_000_000 + b"\n%%EOF\n"  # 3 MB: over the JSON limit, under 50 MB
        r = client.post(f"/conventions/{C33}/versions/1/copie-signee", data={"csrf": token},
                        files={"fichier": ("scan.pdf", big, "application/pdf")})
        assert r.status_code == 303 and "/depots/" in r.headers["location"]  # received, then checked
        huge = client.post(f"/conventions/{C33}/versions/1/copie-signee", data={"csrf": token},
                           files={"fichier": ("huge.pdf", b"%PDF-1.7\n" + b"0" * 52_000_000)})
        assert huge.status_code == 413 and "Fichier trop volumineux" in huge.text
        assert huge.headers["content-type"].startswith("text/html")


# -- the postes' timelines ------------------------------------------------------------------------------

def test_the_convention_page_shows_each_postes_timeline(page: Any, site: Site) -> None:
    from dossiers.domain.postes import Source
    from dossiers.services.postes import record_evenement

    # Lucas Nguyen (CDD from 15 March 2024) resigns, the poste stays vacant a month, Awa Diallo is recruited
    # and is absent without justification: dates inside the convention's period, whatever today's date
    events = [
        {"request_id": "web-1", "type": "fin_contrat", "date": "2025-01-31", "motif": "demission"},
        {"request_id": "web-2", "type": "recrutement", "conseiller": {"prenom": "Awa", "nom": "Diallo"},
         "contrat": {"type": "CDD", "date_debut": "2025-03-01", "date_fin": "2026-02-28"}},
        {"request_id": "web-3", "type": "absence", "du": "2025-06-02", "au": "2025-06-13", "motif": "autre"},
        {"request_id": "web-4", "type": "absence", "du": "2025-09-01", "au": "2025-09-05", "motif": "maladie",
         "justifiee": True},
    ]
    for event in events:
        record_evenement(C33, "P-1", event, site.app, source=Source.PORTAIL, today=site.app.clock.today(),
                         now=datetime.now(UTC))
    login(page, site, then=f"/conventions/{C33}")
    page.goto(site.base + f"/conventions/{C33}")
    section = page.locator("section", has=page.get_by_role("heading", name="Poste P-1"))
    assert page.get_by_role("heading", name="Postes", level=2).is_visible()
    table = section.get_by_role("table", name="Chronologie du poste P-1")
    rows = [r.inner_text() for r in table.locator("tbody tr").all()]
    assert any("Lucas Nguyen" in r and "du 15 mars 2024 au 31 janvier 2025" in r and "démission" in r for r in rows)
    assert any(r.startswith("du 1er février 2025 au 28 février 2025") and "Vacant" in r and "Démission" in r
               and "portail" in r for r in rows), rows
    assert any("Occupé par Awa Diallo" in r and "du 1er mars 2025" in r and "CDD" in r for r in rows), rows
    unjustified = table.locator("tbody tr", has_text="2 juin 2025")
    assert "Autre motif" in unjustified.inner_text()
    assert unjustified.locator(".fr-badge", has_text="Non justifiée").is_visible()
    justified = table.locator("tbody tr", has_text="1er septembre 2025")
    assert "justifiée" in justified.inner_text() and justified.locator(".fr-badge").count() == 0
    assert "Financé du 15 mars 2024 au" in section.inner_text()
    assert section.locator("p").first.inner_text().split()[0].lower() in ("occupé", "vacant")  # the situation today
    check_page(page, "convention-postes")
