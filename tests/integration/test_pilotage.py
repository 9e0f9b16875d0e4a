"""``conum pilotage import``: a tableau de pilotage (CSV, XLSX) compared with the catalog, on SQLite
and PostgreSQL, and once through the ``conum`` script as a user types it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest


from dossiers.bootstrap import App
from dossiers.domain.model import EtatPoste
from dossiers.domain.postes import Source, chronologie
from dossiers.services.pilotage import FichierRefuse, importer
from dossiers.services.seed import seed
from dossiers.settings import Settings

AS_OF = date(2026, 11, 1)
HEADER = ["Structure_ID", "SIRET", "Poste", "Conseiller prénom", "conseiller-nom", "Type contrat", "Date début",
          "date_fin", "date_rupture", "motif_rupture"]
CONUM = Path(sys.executable).parent / "conum"


def _write_csv(path: Path, rows: list[list[Any]], delimiter: str = ";") -> Path:
    lines = [delimiter.join(HEADER)] + [delimiter.join("" if v is None else str(v) for v in r) for r in rows]
    path.write_bytes(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"))
    return path


def _write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path


def _fixtures(app: App) -> dict[str, Any]:
    """A convention of the seed with a vacant poste and one with an open CDD, as of AS_OF."""
    sirets = app.catalog.structures_siret()
    vacant = cdd = None
    for cid, _dep, _nature, _numero, _modele, etat in app.catalog.current_states():
        if etat is None or etat.statut.value != "active" or etat.date_fin < date(2025, 12, 31):
            continue
        sid = cid.split("-", 2)[2]
        for p in etat.postes:
            t = chronologie(p, etat.evenements, AS_OF)
            if t.transfere_le or any(e.poste == p.id for e in etat.evenements):
                continue
            last = t.occupations[-1] if t.occupations else None
            if vacant is None and last is None and t.situation(AS_OF).etat is EtatPoste.VACANT:
                vacant = (cid, sid, sirets[sid][0], p, etat)
            if cdd is None and last is not None and last.fin is None and last.fin_prevue is not None \
                    and last.fin_prevue < etat.date_fin - timedelta(days=200) and last.debut < AS_OF:
                cdd = (cid, sid, sirets[sid][0], p, last, etat)
    assert vacant is not None and cdd is not None
    return {"vacant": vacant, "cdd": cdd}


@pytest.fixture
def app(catalog_url: str, tmp_path: Path) -> Any:
    with App(Settings(var_dir=tmp_path / "var", database_url=catalog_url)) as opened:
        seed(opened, structures=40, seed=11)
        yield opened


def _rows(f: dict[str, Any]) -> tuple[list[list[Any]], dict[str, Any]]:
    cid, sid, siret, poste, etat = f["vacant"]
    start = max(poste.vacant_depuis or poste.debut, poste.debut) + timedelta(days=5)
    rupture = start + timedelta(days=90)
    ccid, csid, csiret, cposte, occ, _cetat = f["cdd"]
    prenom, _, nom = occ.conseiller.partition(" ")
    new_end = occ.fin_prevue + timedelta(days=180)
    rows = [
        # 2: a recruitment then its rupture (the poste is vacant from the next day)
        [sid, siret, poste.id, "Léa", "Martin", "CDD", start.isoformat(), (start + timedelta(days=365)).isoformat(),
         rupture.isoformat(), "demission"],
        # 3: the CDD the catalog knows, prolonged
        [csid, csiret, cposte.id, prenom, nom, str(occ.type_contrat), occ.debut.strftime("%d/%m/%Y"),
         new_end.isoformat(), None, None],
        # 4: unknown structure
        ["STR-INCONNUE", "12345678901234", "P-1", "A", "B", "CDI", "2024-01-01", None, None, None],
        # 5: SIRET of another structure
        [sid, "00000000000000", poste.id, "A", "B", "CDI", "2024-01-01", None, None, None],
        # 6: unknown poste
        [sid, siret, "P-99", "A", "B", "CDI", "2024-01-01", None, None, None],
        # 7: date_fin before date_debut
        [sid, siret, poste.id, "A", "B", "CDD", "2024-05-01", "2024-04-01", None, None],
        # 8: CDD without date_fin; 9: CDI with one; 10: rupture before the start; 11: start after --as-of
        [sid, siret, poste.id, "A", "B", "CDD", "2024-05-01", None, None, None],
        [sid, siret, poste.id, "A", "B", "CDI", "2024-05-01", "2025-05-01", None, None],
        [sid, siret, poste.id, "A", "B", "CDI", "2024-05-01", None, "2024-04-01", None],
        [sid, siret, poste.id, "A", "B", "CDI", (AS_OF + timedelta(days=1)).isoformat(), None, None, None],
        # 12: a recruitment on the CDD's poste while it is held: refused, nothing of it recorded
        [csid, csiret, cposte.id, "Zoé", "Autre", "CDI", (occ.debut + timedelta(days=30)).isoformat(), None, None,
         None],
    ]
    return rows, {"cid": cid, "poste": poste, "start": start, "rupture": rupture, "ccid": ccid, "cposte": cposte,
                  "new_end": new_end}


def _check_recorded(app: App, k: dict[str, Any]) -> None:
    events = app.catalog.list_evenements(k["cid"])
    mine = [e for e in events if e.source is Source.PILOTAGE and e.evenement.request_id.startswith("pilotage:")]
    assert [(e.evenement.type.value, e.evenement.request_id) for e in mine] == [
        ("recrutement", f"pilotage:{k['poste'].id}:{k['start'].isoformat()}:recrutement"),
        ("fin_contrat", f"pilotage:{k['poste'].id}:{k['start'].isoformat()}:fin_contrat")]
    etat = next(s[-1] for s in app.catalog.current_states() if s[0] == k["cid"])
    t = chronologie(k["poste"], etat.evenements, AS_OF)
    assert t.situation(k["start"]).occupation.conseiller == "Léa Martin"
    assert t.situation(k["rupture"]).etat is EtatPoste.OCCUPE
    after = t.situation(k["rupture"] + timedelta(days=1))
    assert after.etat is EtatPoste.VACANT and after.vacant_depuis == k["rupture"] + timedelta(days=1)
    cetat = next(s[-1] for s in app.catalog.current_states() if s[0] == k["ccid"])
    prolonged = [e for e in cetat.evenements if e.evenement.type.value == "prolongation"
                 and e.evenement.request_id.startswith("pilotage:")]
    assert len(prolonged) == 1 and prolonged[0].evenement.date_fin == k["new_end"]
    assert not any(e.evenement.type.value == "recrutement" and e.evenement.request_id.startswith("pilotage:")
                   for e in cetat.evenements)  # row 12 refused


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_an_import_records_what_the_catalog_lacks_once_and_reports_bad_rows(app: App, tmp_path: Path,
                                                                             kind: str) -> None:
    rows, k = _rows(_fixtures(app))
    path = _write_csv(tmp_path / "t.csv", rows) if kind == "csv" else _write_xlsx(tmp_path / "t.xlsx", rows)
    before = app.catalog.evenements_by_convention()

    dry = importer(path, app, as_of=AS_OF, dry_run=True).to_json()
    assert app.catalog.evenements_by_convention() == before  # a dry run records nothing
    assert (dry["format"], dry["lignes"], dry["enregistres"], dry["a_enregistrer"]) == (kind, 11, 0, 3)
    assert dry["evenements"] == {"fin_contrat": 1, "prolongation": 1, "recrutement": 1}

    done = importer(path, app, as_of=AS_OF).to_json()
    assert (done["enregistres"], done["a_enregistrer"], done["deja_presents"]) == (3, 3, 0)
    assert done["evenements"] == dry["evenements"] and sum(
        sum(c.values()) for c in done["par_departement"].values()) == 3
    errors = {e["ligne"]: e["message"] for e in done["erreurs"]}
    assert sorted(errors) == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "structure « STR-INCONNUE » inconnue" in errors[4]
    assert "SIRET différent" in errors[5]
    assert "poste « P-99 » inconnu" in errors[6]
    assert "date_fin" in errors[7] and "antérieure à date_debut" in errors[7]
    assert "date_fin obligatoire" in errors[8] and "CDI n'a pas de date_fin" in errors[9]
    assert "date_rupture" in errors[10] and "postérieure à la date d'appréciation" in errors[11]
    assert "occupé par" in errors[12]
    _check_recorded(app, k)

    again = importer(path, app, as_of=AS_OF).to_json()
    assert (again["enregistres"], again["a_enregistrer"], again["deja_presents"]) == (0, 0, 2)
    assert [e["ligne"] for e in again["erreurs"]] == [4, 5, 6, 7, 8, 9, 10, 11, 12]


def test_files_that_are_not_tableaux_are_refused(app: App, tmp_path: Path) -> None:
    cases = {
        "pdf.csv": b"%PDF-1.7\n\x00\x01binary",
        "latin1.csv": "structure_id;siret;poste;conseiller_prénom\n".encode("latin-1"),
        "old.xlsx": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
        "entetes.csv": b"a;b;c\n1;2;3\n",
        "vide.csv": b"",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FichierRefuse) as refused:
            importer(tmp_path / name, app, as_of=AS_OF)
        assert refused.value.code.value == "pilotage_invalide"
    import zipfile

    with zipfile.ZipFile(tmp_path / "doc.xlsx", "w") as z:
        z.writestr("word/document.xml", "<w/>")
    with pytest.raises(FichierRefuse, match="pas un classeur XLSX"):
        importer(tmp_path / "doc.xlsx", app, as_of=AS_OF)


def _run(args: list[str], tmp_path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONUM_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": database_url, "COLUMNS": "250"}
    return subprocess.run([str(CONUM), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def test_the_cli_as_a_user_types_it(app: App, tmp_path: Path, catalog_url: str) -> None:
    rows, _k = _rows(_fixtures(app))
    path = _write_csv(tmp_path / "pilotage.csv", rows, delimiter=",")
    dry = _run(["pilotage", "import", str(path), "--as-of", AS_OF.isoformat(), "--dry-run", "--json"], tmp_path,
               catalog_url)
    assert dry.returncode == 1, dry.stderr
    out = json.loads(dry.stdout)
    assert (out["dry_run"], out["enregistres"], out["a_enregistrer"], len(out["erreurs"])) == (True, 0, 3, 9)
    assert set(out["erreurs"][0]) == {"ligne", "structure_id", "poste", "message"}
    shown = _run(["pilotage", "import", str(path), "--as-of", AS_OF.isoformat()], tmp_path, catalog_url)
    assert shown.returncode == 1, shown.stderr
    assert "Événements enregistrés" in shown.stdout and "Lignes refusées (9)" in shown.stdout
    good = _write_csv(tmp_path / "bon.csv", rows[:2])
    ok = _run(["pilotage", "import", str(good), "--as-of", AS_OF.isoformat(), "--json"], tmp_path, catalog_url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (json.loads(ok.stdout)["enregistres"], json.loads(ok.stdout)["deja_presents"]) == (0, 2)
    (tmp_path / "image.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    bad = _run(["pilotage", "import", str(tmp_path / "image.xlsx"), "--as-of", AS_OF.isoformat(), "--json"],
               tmp_path, catalog_url)
    assert bad.returncode == 1 and json.loads(bad.stdout)["error"]["code"] == "pilotage_invalide"
    usage = _run(["pilotage", "import", str(good), "--as-of", "01/11/2026"], tmp_path, catalog_url)
    assert usage.returncode == 2
