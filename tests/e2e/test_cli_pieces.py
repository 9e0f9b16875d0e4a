"""`conum validate` and `conum dossier …` as a portal script or an instructeur runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from pypdf import PdfReader

from tests.factories import ROOT
from tests.fixtures.identite import identite_image, td1
from tests.fixtures.sirene import avis_sirene_pdf

CONUM = [sys.executable, "-m", "dossiers.entrypoints"]
AVIS = dict(siren="215903501", siret="21590350100017", denomination="COMMUNE DE ROUBAIX", date_avis=date(2026, 11, 2))


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONUM_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200", "INSPECTION_WORKERS": "1"}
    return subprocess.run([*CONUM, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)


def test_validate_json_follows_the_design_contract(tmp_path: Path) -> None:
    (tmp_path / "avis.pdf").write_bytes(avis_sirene_pdf(**AVIS))  # type: ignore[arg-type]
    result = run(["validate", "avis.pdf", "--kind", "sirene", "--siret", "215 903 501 00017", "--nature", "publique",
                  "--date", "2026-11-26", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"status", "kind", "mime", "sha256", "findings", "fields"}
    assert (out["status"], out["kind"], out["mime"], out["findings"]) == ("valide", "sirene", "application/pdf", [])
    assert out["fields"]["siret"] == "21590350100017" and len(out["sha256"]) == 64


def test_an_old_avis_exits_1_with_its_code_and_a_french_message(tmp_path: Path) -> None:
    (tmp_path / "avis.pdf").write_bytes(avis_sirene_pdf(**AVIS))  # type: ignore[arg-type]
    result = run(["validate", "avis.pdf", "--kind", "sirene", "--siret", "21590350100017", "--date", "2027-03-01",
                  "--json"], tmp_path)
    assert result.returncode == 1
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["code"] == "SIRENE_AVIS_PERIME" and finding["severity"] == "erreur"
    assert "02/11/2026" in finding["message"] and "3 mois" in finding["message"]


def test_an_id_image_with_its_mrz_file_is_checked_against_the_representant(tmp_path: Path) -> None:
    (tmp_path / "cni.jpg").write_bytes(identite_image(mrz=None))
    (tmp_path / "mrz.txt").write_text(td1(surname="DELBAR", given_names="GUILLAUME", number="X4RTBPFW4", sex="M",
                                          birth_date=date(1971, 5, 4), expiry=date(2031, 2, 10)))
    ok = run(["validate", "cni.jpg", "--kind", "identite", "--representant", "Guillaume Delbar",
              "--mrz-file", "mrz.txt", "--date", "2026-11-26"], tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "valide" in ok.stdout
    doubt = run(["validate", "cni.jpg", "--kind", "identite", "--representant", "Guillaume Delbar", "--json"], tmp_path)
    assert doubt.returncode == 1
    assert json.loads(doubt.stdout)["status"] == "a_verifier"


def test_bad_usage_exits_2_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.7\n")
    for args in (["validate", "absent.pdf", "--kind", "sirene"], ["validate", "x.pdf", "--kind", "passeport"],
                 ["validate", "x.pdf", "--kind", "rib", "--date", "26/11/2026", "--json"]):
        result = run(args, tmp_path)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr + result.stdout


def test_a_dossier_from_open_to_rapport(tmp_path: Path) -> None:
    demande = ROOT / "examples" / "demandes" / "commune-qpv-3-postes.json"
    opened = run(["dossier", "open", str(demande), "--json"], tmp_path)
    assert opened.returncode == 0, opened.stderr
    view = json.loads(opened.stdout)
    assert view["dossier_id"] == "DOS-V2-STR-000123" and view["status"] == "incomplet"
    assert len(view["missing"]) == 6

    (tmp_path / "avis.pdf").write_bytes(avis_sirene_pdf(**AVIS))  # type: ignore[arg-type]
    added = run(["dossier", "add", "DOS-V2-STR-000123", "avis.pdf", "--kind", "sirene", "--date", "2026-11-26",
                 "--json"], tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    assert json.loads(added.stdout)["status"] == "valide"

    unknown = run(["dossier", "add", "DOS-404", "avis.pdf", "--kind", "sirene", "--json"], tmp_path)
    assert unknown.returncode == 1 and json.loads(unknown.stdout)["error"]["code"] == "dossier_introuvable"

    shown = run(["dossier", "show", "DOS-V2-STR-000123"], tmp_path)
    assert shown.returncode == 0 and "Avis de situation" in shown.stdout and "manquante" in shown.stdout

    rapport = run(["dossier", "rapport", "DOS-V2-STR-000123", "--out", "rapport.pdf", "--json"], tmp_path)
    assert rapport.returncode == 0, rapport.stderr
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "rapport.pdf").pages)
    assert "Commune de Roubaix" in text and "Avis de situation" in text
    assert json.loads(rapport.stdout)["empreinte"] in text.replace("\n", "")
