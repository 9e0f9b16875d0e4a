"""Exports through the API, the pages and the CLI, opened back as a user would (csv module after the
BOM, openpyxl) and compared with the catalog, row by row.

Real parts: SQLite catalog, the ASGI app in process (Starlette's test client), seeded conventions
(``conum seed``: no documents, so no LibreOffice) in many départements, a re-issue plan. Tokens of
the 33, of the 75, a portail and an admin; two agents (an instructeur of the 33, an admin) whose
session cookie is made with the app's session secret, as the login would.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from dossiers.bootstrap import App
from dossiers.domain.acces import ConventionResume
from dossiers.entrypoints.api import create_app
from dossiers.entrypoints.web.session import SESSION_COOKIE, _Chiffrement
from dossiers.services.acces import create_token, save_agent
from dossiers.services.reemission import plan as make_plan
from dossiers.services.seed import seed
from dossiers.settings import Settings

SECRET = "secret-de-session-des-tests-exports-0123456789"
INJECTION = '=HYPERLINK("http://exemple.invalid";"clic")'
AGENT33, ADMIN = "camille.exemple@gironde.gouv.fr", "exploitation@anct.gouv.fr"


@dataclass
class Env:
    app: App
    client: TestClient
    tokens: dict[str, str]
    plan_id: str
    var: Path

    def get(self, who: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, follow_redirects=False,
                               **kw)

    def page(self, email: str | None, path: str, **kw: Any) -> Any:
        self.client.cookies.clear()
        if email is not None:
            _jeton, epoch = self.app.catalog.agent_session(email)
            data = base64.b64encode(json.dumps({"agent": email, "epoch": epoch, "nom": email}).encode())
            self.client.cookies.set(SESSION_COOKIE, _Chiffrement(SECRET).sign(data).decode())
        try:
            return self.client.get(path, follow_redirects=False, **kw)
        finally:
            self.client.cookies.clear()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    var = tmp_path_factory.mktemp("exports")
    settings = Settings(var_dir=var, api_rate_limit=100_000, api_rate_burst=10_000, session_secret=SECRET)
    with App(settings) as app:
        now = datetime.now(UTC)
        seed(app, structures=260, seed=3, evenements=False)
        planned, _impacts = make_plan(app, regles="regles-2025-05", modele=None, as_of=date(2026, 11, 26), now=now)
        # a structure of the 33 whose name a spreadsheet would run as a formula
        first33 = all_conventions(app, ("33",))[0]
        structure = app.catalog.get_structure(first33.structure_id)
        app.catalog.corriger_structure(replace(structure, denomination=INJECTION))
        tokens = {}
        for name, role, deps in (("instr33", "instructeur", ("33",)), ("instr75", "instructeur", ("75",)),
                                 ("portail", "portail", ()), ("admin", "admin", ())):
            tokens[name], _ = create_token(app, role=role, departements=deps, nom=name, now=now)
        save_agent(app, AGENT33, role="instructeur", departements=["33"], now=now)
        save_agent(app, ADMIN, role="admin", departements=[], now=now)
        with TestClient(create_app(app), client=("203.0.113.9", 50000)) as client:
            yield Env(app, client, tokens, planned.id, var)


def all_conventions(app: App, departements: tuple[str, ...] = (), **filtres: Any) -> list[ConventionResume]:
    total, found = app.catalog.search_conventions(departements=departements, limit=100, **filtres)
    while len(found) < total:
        found += app.catalog.search_conventions(departements=departements, limit=100, offset=len(found), **filtres)[1]
    return found


def read_csv(data: bytes) -> tuple[list[str], list[list[str]]]:
    assert data.startswith("\ufeff".encode()), "UTF-8 avec BOM"
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=";"))
    return rows[0], rows[1:]


def read_xlsx(data: bytes) -> tuple[list[str], list[tuple[Any, ...]]]:
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[0]), rows[1:]


def amount(cell: str) -> Decimal:
    assert "." not in cell and " " not in cell, cell  # a decimal comma, no thousands separator
    return Decimal(cell.replace(",", "."))


def day(cell: str) -> date:
    return datetime.strptime(cell, "%d/%m/%Y").date()


# -- conventions -------------------------------------------------------------------------------------

def test_the_csv_of_a_33_token_is_the_catalog_list_of_the_33(env: Env) -> None:
    r = env.get("instr33", "/v1/exports/conventions.csv")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert r.headers["content-disposition"] == f'attachment; filename="conventions-{env.app.clock.today()}.csv"'
    header, rows = read_csv(r.content)
    assert header[:5] == ["Convention", "Département", "Structure", "SIRET", "Dénomination"]
    expected = all_conventions(env.app, ("33",))
    assert len(rows) == len(expected) > 5
    for row, c in zip(rows, expected, strict=True):
        assert (row[0], row[1], row[2], row[3]) == (c.id, "33", c.structure_id, c.siret)
        assert int(row[6]) == c.vague and day(row[7]) == c.date_debut and int(row[8]) == c.version
        assert amount(row[11]) == c.montant_total
        assert row[13] == {"a_signer": "À signer", "signee": "Signée", "archivee": "Archivée"}[str(c.statut)]


def test_the_xlsx_with_filters_is_the_filtered_list_with_typed_cells(env: Env) -> None:
    r = env.get("admin", "/v1/exports/conventions.xlsx", params={"nature": "privee", "vague": 2})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    header, rows = read_xlsx(r.content)
    expected = all_conventions(env.app, nature="privee", vague=2)
    assert len(rows) == len(expected) > 5
    assert {row[1] for row in rows} > {"33", "75"}  # an admin: every département
    for row, c in zip(rows, expected, strict=True):
        assert row[0] == c.id and row[3] == c.siret and row[5] == "Privée" and row[6] == 2
        assert isinstance(row[7], datetime) and row[7].date() == c.date_debut
        assert isinstance(row[11], float | int) and Decimal(str(row[11])) == c.montant_total
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert ws["L2"].number_format.startswith("#,##0.00") and "€" in ws["L2"].number_format
    assert ws["H2"].number_format == "DD/MM/YYYY" and ws.freeze_panes == "A2" and ws["A1"].font.b


def test_a_token_never_exports_another_departements_rows(env: Env) -> None:
    for fmt in ("csv", "xlsx"):
        r = env.get("instr33", f"/v1/exports/conventions.{fmt}", params={"departement": "75"})
        assert r.status_code == 200
        rows = read_csv(r.content)[1] if fmt == "csv" else read_xlsx(r.content)[1]
        assert rows == []  # as GET /v1/conventions?departement=75 answers this token: nothing
    assert env.get("instr33", "/v1/conventions", params={"departement": "75"}).json()["total"] == 0
    _h, rows75 = read_csv(env.get("instr75", "/v1/exports/conventions.csv").content)
    assert rows75 and {r[1] for r in rows75} == {"75"}
    assert env.get("portail", "/v1/exports/conventions.csv").status_code == 403
    assert env.client.get("/v1/exports/conventions.csv").status_code == 401
    assert env.get("instr33", "/v1/exports/conventions.pdf").status_code == 422


def test_a_name_a_spreadsheet_would_run_is_exported_as_text(env: Env) -> None:
    _h, rows = read_csv(env.get("instr33", "/v1/exports/conventions.csv").content)
    assert rows[0][4] == "'" + INJECTION
    _h, xrows = read_xlsx(env.get("instr33", "/v1/exports/conventions.xlsx").content)
    ws = load_workbook(io.BytesIO(env.get("instr33", "/v1/exports/conventions.xlsx").content)).worksheets[0]
    assert xrows[0][4] == INJECTION and ws["E2"].data_type == "s"  # a string cell, never a formula


def test_every_export_is_audited_with_its_file(env: Env) -> None:
    r = env.get("instr33", "/v1/exports/conventions.csv", params={"statut": "a_signer"})
    entry = env.app.catalog.list_audit(limit=1)[0]
    assert (entry.action, entry.statut_http, entry.role) == ("export.conventions", 200, "instructeur")
    assert entry.detail["sha256"] == hashlib.sha256(r.content).hexdigest()
    assert entry.detail["lignes"] == len(read_csv(r.content)[1]) and entry.detail["filtres"] == {"statut": "a_signer"}


# -- re-issue plan -----------------------------------------------------------------------------------

def test_a_plan_export_holds_the_tokens_departements_only(env: Env) -> None:
    items = env.app.catalog.plan_items(env.plan_id)
    for who, dep in (("instr33", "33"), ("instr75", "75")):
        r = env.get(who, f"/v1/exports/reemissions/{env.plan_id}.csv")
        assert r.status_code == 200, r.text
        assert f'filename="plan-{env.plan_id}-' in r.headers["content-disposition"]
        _h, rows = read_csv(r.content)
        mine = [i for i in items if i.impact.departement == dep]
        assert len(rows) == len(mine) > 0
        for row, item in zip(rows, mine, strict=True):
            i = item.impact
            assert (row[0], row[1], int(row[4])) == (i.convention_id, dep, i.base_version)
            assert (amount(row[5]), amount(row[6]), amount(row[7]), amount(row[8])) == (
                i.du_avant, i.du_apres, i.difference, i.a_reverser)
            assert row[10] == "À faire"
    _h, rows = read_xlsx(env.get("admin", f"/v1/exports/reemissions/{env.plan_id}.xlsx").content)
    assert [r[0] for r in rows] == [i.impact.convention_id for i in items]
    assert [Decimal(str(r[7])) for r in rows] == [i.impact.difference for i in items]


def test_an_unknown_plan_is_a_404_and_a_portail_a_403(env: Env) -> None:
    r = env.get("instr33", "/v1/exports/reemissions/RP-20000101-000000-0000.csv")
    assert r.status_code == 404 and r.json()["code"] == "plan_introuvable"
    assert env.get("portail", f"/v1/exports/reemissions/{env.plan_id}.csv").status_code == 403


# -- audit log ---------------------------------------------------------------------------------------

def test_only_an_admin_exports_the_audit_log_and_it_is_the_catalogs(env: Env) -> None:
    r = env.get("instr33", "/v1/exports/audit.csv")
    assert r.status_code == 403 and r.json()["code"] == "droit_insuffisant"
    refused = env.app.catalog.list_audit(limit=1)[0]
    assert (refused.action, refused.statut_http) == ("export.audit", 403)  # the attempt itself is audited
    r = env.get("admin", "/v1/exports/audit.xlsx")
    assert r.status_code == 200
    _h, rows = read_xlsx(r.content)
    entries = env.app.catalog.list_audit(limit=10_000)[1:]  # the export's own row comes after it was written
    assert [row[0] for row in rows] == [e.id for e in entries]
    assert rows[0][4] == "export.audit" and rows[0][8] == 403
    assert all(isinstance(row[1], datetime) and row[1].tzinfo is None for row in rows)
    _h, crows = read_csv(env.get("admin", "/v1/exports/audit.csv", params={"depuis": 1}).content)
    assert crows[0][4] == "export.audit" and crows[0][5] == "/v1/exports/audit.xlsx"


# -- pages -------------------------------------------------------------------------------------------

def test_the_page_export_carries_the_pages_filters_and_the_agents_departements(env: Env) -> None:
    r = env.page(AGENT33, "/conventions/export.csv?nature=publique&statut=&vague=x")
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"].startswith('attachment; filename="conventions-')
    _h, rows = read_csv(r.content)
    assert [row[0] for row in rows] == [c.id for c in all_conventions(env.app, ("33",), nature="publique")]
    _h, rows = read_xlsx(env.page(AGENT33, "/conventions/export.xlsx?departement=75").content)
    assert rows == []
    entry = env.app.catalog.list_audit(limit=1)[0]
    assert entry.action == "export.conventions" and entry.detail["agent"] == AGENT33
    assert env.page(None, "/conventions/export.csv").status_code == 303  # to the login page
    assert env.page(AGENT33, "/conventions/export.pdf").status_code == 404


def test_the_plan_and_audit_page_exports_follow_the_pages_rights(env: Env) -> None:
    r = env.page(AGENT33, f"/reemissions/{env.plan_id}/export.xlsx")
    assert r.status_code == 200
    _h, rows = read_xlsx(r.content)
    assert rows and {row[1] for row in rows} == {"33"}
    assert env.page(AGENT33, "/reemissions/RP-inconnu/export.csv").status_code == 404
    assert env.page(AGENT33, "/audit/export.csv").status_code == 403
    r = env.page(ADMIN, "/audit/export.csv")
    assert r.status_code == 200
    _h, rows = read_csv(r.content)
    assert rows[0][4] == "export.audit" and rows[0][8] == "403"  # the instructeur's refused attempt


# -- command line ------------------------------------------------------------------------------------

def test_conum_export_writes_the_files_and_says_why_it_cannot(env: Env, tmp_path: Path) -> None:
    from dossiers.entrypoints.cli import cli

    runner = CliRunner(env={"CONUM_VAR_DIR": str(env.var), "DATABASE_URL": None})
    done = runner.invoke(cli, ["export", "conventions", "--departement", "75", "--out", str(tmp_path / "c.xlsx"),
                               "--json"])
    assert done.exit_code == 0, done.output
    _h, rows = read_xlsx((tmp_path / "c.xlsx").read_bytes())
    assert [r[0] for r in rows] == [c.id for c in all_conventions(env.app, ("75",))]
    assert json.loads(done.output)["lignes"] == len(rows)
    done = runner.invoke(cli, ["export", "plan", env.plan_id, "--format", "csv", "--out", str(tmp_path / "p.txt")])
    assert done.exit_code == 0 and len(read_csv((tmp_path / "p.txt").read_bytes())[1]) == len(
        env.app.catalog.plan_items(env.plan_id))
    assert runner.invoke(cli, ["export", "plan", "RP-inconnu", "--out", str(tmp_path / "x.csv")]).exit_code == 1
    assert runner.invoke(cli, ["export", "audit", "--out", str(tmp_path / "a.ods")]).exit_code == 2


def test_the_list_and_plan_pages_link_to_their_exports_with_the_filters(env: Env) -> None:
    html = env.page(AGENT33, "/conventions?nature=privee&q=bellevue%20%26%20co").text
    assert 'href="/conventions/export.csv?nature=privee&amp;q=bellevue%20%26%20co"' in html
    assert 'href="/conventions/export.xlsx?nature=privee&amp;q=bellevue%20%26%20co">Exporter (XLSX)' in html
    assert 'href="/conventions/export.csv">Exporter (CSV)' in env.page(AGENT33, "/conventions").text
    html = env.page(AGENT33, f"/reemissions/{env.plan_id}").text
    assert f'href="/reemissions/{env.plan_id}/export.xlsx">Exporter (XLSX)' in html
