"""An instructeur closes the loop in the pages alone (Playwright, Debian's chromium, a real local OpenID Connect
provider, LibreOffice, in-process jobs): the dossier of a private structure, whose statuts, PV d'AG and
comptes no machine can read, goes from « à vérifier » to « complet » through decisions, one of them walked
with the keyboard alone; a refused RIB is superseded by a new upload; the convention is generated with one
click; a copy signed by the wrong person is refused (its staged bytes deleted, its trace kept), the next one
accepted and archived with its certificate. axe-core runs on every new page; screenshots go to
``var/screenshots/``. The financial situation of the amendments' worked example reads 9 417,81 € to repay in
the page and in the API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from dossiers.bootstrap import App
from dossiers.clock import Clock
from dossiers.domain.pieces import PieceKind
from dossiers.services.acces import create_token, save_agent
from dossiers.services.avenants import amend, record_payment
from dossiers.services.generation import generate_convention
from dossiers.services.validation import add_piece, open_dossier
from dossiers.settings import Settings
from tests.conftest import _free_port, _missing_service, serve_asgi
from tests.e2e.test_web import AXE, CHROMIUM, EMAIL, browser, check_page, login, page  # noqa: F401 (fixtures)
from tests.factories import demande, example
from tests.fixtures.contrat import contrat_pdf
from tests.fixtures.identite import identite_pdf
from tests.fixtures.rib import rib_pdf
from tests.fixtures.signature import copie_signee
from tests.fixtures.sirene import avis_sirene_pdf

pytestmark = [pytest.mark.libreoffice, pytest.mark.browser]
DOSSIER, CONVENTION = "DOS-V2-STR-004512", "CN-V2-STR-004512"
WORKED = "CN-V2-STR-000123"  # the amendments' worked example
ASSOCIATION = "Association Emmaüs Connect Gironde"


@dataclass
class Desk:
    base: str
    app: App
    token: str  # an API token of an instructeur of the 33


def _pieces(today: date) -> list[tuple[PieceKind, str | None, str, bytes]]:
    """What the association sent: a scanned ID without MRZ, a RIB in another holder's name, the pieces no check
    reads (désignation, bureau, statuts, PV d'AG, comptes), a valid avis Sirene and the contract of P-1."""
    avis = avis_sirene_pdf(siren="843123456", siret="84312345600017", denomination="ASSOCIATION EMMAUS CONNECT GIRONDE",
                           date_avis=today - timedelta(days=20), categorie=("9220", "Association déclarée"))
    plain = avis_sirene_pdf(siren="843123456", siret="84312345600017", denomination="PROCES-VERBAL",
                            date_avis=today - timedelta(days=20), categorie=("9220", "Association déclarée"))
    return [
        (PieceKind.SIRENE, None, "avis.pdf", avis),
        (PieceKind.IDENTITE, None, "cni scannée.pdf", identite_pdf(mrz=None)),
        (PieceKind.RIB, None, "rib.pdf", rib_pdf(titulaire="Association Lien Numérique",
                                                iban="FR7630006000011234567890189", bic="AGRIFRPP")),
        *[(kind, None, f"{kind}.pdf", plain) for kind in (PieceKind.DESIGNATION, PieceKind.BUREAU, PieceKind.STATUTS,
                                                          PieceKind.PV_AG, PieceKind.COMPTES)],
        (PieceKind.CONTRAT, "P-1", "contrat.pdf", contrat_pdf(type="CDI", salarie="Lucas Nguyen", civilite="M.",
                                                             employeur=ASSOCIATION, representant="Claire Martin",
                                                             date_debut=date(2024, 3, 15))),
    ]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, pool: Any, pki: Any) -> Iterator[Desk]:
    if not Path(CHROMIUM).exists():
        _missing_service("chromium n'est pas installé (apt-get install chromium)")
    if not AXE:
        _missing_service("axe-core absent : lancez `make static test-assets`")
    from oidc_provider_mock import User, run_server_in_thread

    from dossiers.entrypoints.api import create_app
    from workers import runtime

    var = tmp_path_factory.mktemp("instruction")
    users = [User(sub="agent33", claims={"email": EMAIL, "email_verified": True, "given_name": "Camille",
                                         "usual_name": "Exemple"})]
    with run_server_in_thread(require_nonce=True, user_claims=users) as provider:
        port = _free_port()
        settings = Settings(var_dir=var, oidc_issuer=f"http://localhost:{provider.server_port}",
                            oidc_client_id="conum", oidc_client_secret="secret", web_base_url=f"http://127.0.0.1:{port}",
                            oidc_scopes="openid email profile usual_name", signature_trust_roots=pki.racines)
        with App(settings, converter=pool) as app:
            now, today = datetime.now(UTC), Clock().today()
            payload = example("association-1-poste.json")
            payload["postes"][0]["contrat"] = {"type": "CDI", "date_debut": "2024-03-15"}
            open_dossier(payload, app)
            for kind, poste, name, data in _pieces(today):
                add_piece(DOSSIER, data, kind, app, now=now, filename=name, poste_id=poste)
            # the worked example of the amendments: years 1 and 2 paid, then P-2 given back
            generate_convention(demande(), app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
            record_payment(WORKED, annee=1, jour=date(2024, 1, 15), montant=Decimal("52500.00"), app=app)
            record_payment(WORKED, annee=2, jour=date(2025, 1, 10), montant=Decimal("37500.00"), app=app)
            amend(WORKED, {"request_id": "R-2", "type": "retrait_postes",
                           "postes": [{"id": "P-2", "date_fin_contrat": "2025-03-31"}]},
                  app, today=date(2025, 4, 15), now=datetime(2025, 4, 15, 10, tzinfo=UTC))
            save_agent(app, EMAIL, role="instructeur", departements=["33"], now=now)
            token = create_token(app, role="instructeur", departements=["33"], nom="Préfecture 33", now=now)[0]
            runtime.use_app(app)
            try:
                with serve_asgi(create_app(app), port) as base:
                    yield Desk(base, app, token)
            finally:
                runtime.use_app(None)


def _decide(page: Any, desk: Desk, piece_label: str, verdict: str, motif: str | None = None) -> None:
    row = page.locator("tr", has_text=piece_label)
    row.get_by_role("link", name=re.compile("^Accepter" if verdict == "accepte" else "^Refuser")).click()
    if motif:
        page.get_by_label("Motif du refus").select_option(motif)
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    page.wait_for_url(re.compile(rf"/dossiers/{DOSSIER}\?decide="))


def test_a_private_structure_reaches_an_archived_convention_through_decisions_only(
        page: Any, desk: Desk, tmp_path: Path, pki: Any) -> None:
    app = desk.app
    login(page, desk, then="/a-traiter")
    page.goto(desk.base + "/")  # an instructeur's home is what waits for them
    page.wait_for_url(re.compile(r"/a-traiter$"))
    expected = [p for p in app.catalog.list_pieces(DOSSIER) if str(p.statut) == "a_verifier"]
    assert {str(p.kind) for p in expected} >= {"identite", "rib", "designation", "bureau", "statuts", "pv_ag", "comptes"}
    assert page.locator("table tbody tr", has_text="Pièce à vérifier").count() == len(expected)
    assert page.locator("table tbody tr", has_text=WORKED).count() == 1  # issued long ago, never signed: remind
    assert f"Pièce à vérifier ({len(expected)})" in page.get_by_role("navigation", name="Filtrer par genre").inner_text()
    check_page(page, "a-traiter")

    # the keyboard alone: from the list to the decision page, then through the form to its button
    first = page.get_by_role("link", name=re.compile("^Accepter : Pièce d'identité"))
    first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/decision\?verdict=accepte"))
    assert "IDENTITE" in page.content()  # the machine's findings, shown beside the decision to take
    check_page(page, "decision")
    for _ in range(60):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "commentaire":
            break
    page.keyboard.type("Carte lue sur l'original, en cours de validité")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").startswith("Confirmer"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/dossiers/{DOSSIER}\?decide="))
    assert "Acceptée le" in page.locator("tr", has_text="Pièce d'identité").inner_text()
    check_page(page, "dossier-decisions")

    # the RIB is in another holder's name: refused, with its motif; the dossier is then incomplete
    _decide(page, desk, "Relevé d'identité bancaire", "refuse", motif="incoherent")
    assert "Refusée le" in page.locator("tr", has_text="Relevé d'identité bancaire").inner_text()
    assert page.locator(".fr-badge", has_text="Incomplet").first.is_visible()
    # a refusal without its motif is refused by the form itself, and by the server
    with httpx.Client(base_url=desk.base) as http:
        answer = http.post(f"/v1/dossiers/{DOSSIER}/pieces/1/decision", json={"decision": "refuse"},
                           headers={"Authorization": f"Bearer {desk.token}"})
        assert answer.status_code == 422 and answer.json()["code"] == "decision_invalide"

    for label in ("Acte désignant", "Composition du bureau", "Statuts", "Procès-verbal", "Comptes certifiés",
                  "Contrat de travail"):
        row = page.locator("tr", has_text=label)
        if row.get_by_role("link", name=re.compile("^Accepter")).count():
            _decide(page, desk, label, "accepte")

    # the association sends a new RIB in its own name: it supersedes the refused one and its decision
    add_piece(DOSSIER, rib_pdf(titulaire=ASSOCIATION, iban="FR7630006000011234567890189", bic="AGRIFRPP"),
              PieceKind.RIB, app, now=datetime.now(UTC), filename="rib association.pdf")
    page.goto(desk.base + f"/dossiers/{DOSSIER}")
    assert page.locator(".fr-badge", has_text="Complet").first.is_visible()
    decided = [p for p in app.catalog.list_pieces(DOSSIER) if p.decision is not None]
    assert {p.decision.par for p in decided} == {"Camille Exemple"}
    actions = [(e.action, e.statut_http) for e in app.catalog.list_audit(limit=50)]
    assert actions.count(("piece.decider", 200)) == len(decided)

    # one click generates the convention; its page follows the job
    page.goto(desk.base + "/a-traiter?genre=dossier_complet")
    page.get_by_role("button", name=re.compile("^Générer la convention")).click()
    page.wait_for_url(re.compile(r"/generations/"))
    page.get_by_role("heading", name="Convention générée").wait_for(timeout=120_000)
    check_page(page, "generation")
    page.get_by_role("link", name="Ouvrir la convention").click()
    page.wait_for_url(re.compile(CONVENTION + "$"))
    issued = app.catalog.find_version(CONVENTION, 1).document("pdf")
    pdf = app.storage.get(issued.key, sha256=issued.sha256)

    # a copy signed by someone else than the representative: to verify, then refused; its bytes leave staging
    wrong = tmp_path / "signée par erreur.pdf"
    wrong.write_bytes(copie_signee(pdf, pki, structure=pki.marie_dupont, cdc=False))
    page.set_input_files("#copie-signee", str(wrong))
    page.get_by_role("button", name="Déposer", exact=True).click()
    page.get_by_role("heading", name="Copie reçue, à vérifier").wait_for()
    page.goto(desk.base + "/a-traiter?genre=copie")
    page.get_by_role("link", name=re.compile("^Refuser")).click()
    page.get_by_label("Motif du refus").select_option("signataire")
    page.get_by_label(re.compile("^Commentaire")).fill("Signée par Marie Dupont, qui ne représente pas l'association")
    page.get_by_role("button", name=re.compile("^Confirmer")).click()
    page.wait_for_url(re.compile(CONVENTION + "#version-1$"))
    [refused] = [a for a in app.catalog.find_archives(convention_id=CONVENTION) if a.statut == "refuse"]
    assert refused.decision.motif == "signataire" and refused.storage_key is None
    assert not app.staging.exists(f"signes/{refused.sha256}.pdf")

    # the representative's signed copy: archived at once (nothing left to decide)
    right = tmp_path / "convention signée.pdf"
    right.write_bytes(copie_signee(pdf, pki, structure=pki.signataire("Claire Martin", ASSOCIATION)))
    page.set_input_files("#copie-signee", str(right))
    page.get_by_role("button", name="Déposer", exact=True).click()
    page.get_by_role("heading", name="Copie signée archivée").wait_for()
    page.get_by_role("link", name="Retour à la convention").click()
    section = page.locator("#version-1")
    assert "Refusée le" in section.inner_text() and "signataire non habilité" in section.inner_text()
    assert section.get_by_role("link", name=re.compile("certificat d'archivage")).count() == 1
    assert page.locator(".fr-badge", has_text="Archivée").first.is_visible()
    check_page(page, "convention-archivee")
    page.goto(desk.base + "/a-traiter")
    assert page.locator("tr", has_text=DOSSIER).count() == 0 and page.locator("tr", has_text=CONVENTION).count() == 0


def test_the_situation_of_the_worked_example_reads_the_same_in_the_page_and_the_api(page: Any, desk: Desk) -> None:
    login(page, desk, then=f"/conventions/{WORKED}")
    table = page.get_by_role("table", name="Situation financière par année de convention")
    total = table.locator("tr.conum-total").inner_text().replace("\u00a0", " ").replace("\u202f", " ")
    assert "105 582,19 €" in total and "90 000,00 €" in total and "9 417,81 €" in total
    history = page.get_by_role("table", name=re.compile("énoncés par chaque version")).inner_text()
    assert "127\u00a0500,00\u00a0€" in history and "105\u00a0582,19\u00a0€" in history
    # every version's documents stay reachable
    assert page.locator("#version-1").get_by_role("link", name=re.compile("Télécharger le PDF")).count() == 1
    assert page.locator("#version-2").get_by_role("link", name=re.compile("Télécharger le PDF")).count() == 1
    check_page(page, "situation")
    with httpx.Client(base_url=desk.base) as http:
        found = http.get(f"/v1/conventions/{WORKED}/situation", headers={"Authorization": f"Bearer {desk.token}"})
        assert found.status_code == 200, found.text
        assert found.json()["total"]["a_reverser_eur"] == "9417.81"
        assert found.json()["annees"][1] == {"annee": 2, "debut": "2025-01-01", "fin": "2025-12-31",
                                             "du_eur": "28082.19", "verse_eur": "37500.00",
                                             "reste_a_verser_eur": "0.00", "a_reverser_eur": "9417.81"}


def test_the_queue_exports_as_csv_and_xlsx_with_the_rows_the_queue_lists(page: Any, desk: Desk) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    auth = {"Authorization": f"Bearer {desk.token}"}
    with httpx.Client(base_url=desk.base) as http:
        queue = http.get("/v1/a-traiter", params={"par_page": 200}, headers=auth).json()
        assert queue["total"] >= 1
        as_csv = http.get("/v1/exports/a-traiter.csv", headers=auth)
        as_xlsx = http.get("/v1/exports/a-traiter.xlsx", headers=auth)
    assert as_csv.status_code == 200 and as_csv.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Depuis le", "Attente (jours)", "Genre", "Département", "Référence"]
    assert [(r[3], r[4], r[5]) for r in rows[1:]] == [(i["departement"], i["reference"], i["libelle"])
                                                      for i in queue["items"]]
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    cells = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(c[4], int(c[1])) for c in cells] == [(i["reference"], i["attente_jours"]) for i in queue["items"]]
    assert all(isinstance(c[0], datetime) for c in cells)  # a date cell, not a text
    # the page offers the same file, for the agent's départements
    login(page, desk, then="/a-traiter")
    with page.expect_download() as pending:
        page.get_by_role("link", name="Exporter (CSV)").click()
    mine = list(csv.reader(io.StringIO(Path(pending.value.path()).read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert [r[4] for r in mine[1:]] == [r[4] for r in rows[1:]]
