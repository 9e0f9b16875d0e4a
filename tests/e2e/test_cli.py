"""`conum generate` and `conum demo` as a script or a person runs them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import ROOT, demande

CONUM = [sys.executable, "-m", "dossiers.entrypoints"]


def run(args, tmp_path: Path, pool_urls: str | None = None, *, extra_env: dict[str, str] | None = None, **kw):
    env = {**os.environ, "CONUM_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "250", **(extra_env or {})}
    if pool_urls:
        env["CONVERTER_URLS"] = pool_urls
    return subprocess.run([*CONUM, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, **kw)


def write(tmp_path: Path, payload, name="demande.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.libreoffice
def test_generate_json_prints_the_contract_and_writes_both_files(tmp_path, pool_urls):
    result = run(["generate", str(write(tmp_path, demande())), "--out", "out", "--json"], tmp_path, pool_urls)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["convention_id"] == "CN-V2-STR-000123"
    assert out["version"] == 1
    assert out["total_eur"] == "127500.00"
    assert out["echeancier"] == [
        {"annee": 1, "date": "2024-01-01", "montant_eur": "52500.00"},
        {"annee": 2, "date": "2025-01-01", "montant_eur": "37500.00"},
        {"annee": 3, "date": "2026-01-01", "montant_eur": "37500.00"},
    ]
    docx, pdf = Path(out["docx"]), Path(out["pdf"])
    assert docx.parent == (tmp_path / "out").resolve()
    assert docx.read_bytes()[:2] == b"PK" and pdf.read_bytes()[:5] == b"%PDF-"
    again = run(["generate", str(write(tmp_path, demande())), "--out", "out", "--json"], tmp_path, pool_urls)
    assert json.loads(again.stdout)["nouvelle"] is False
    assert hashlib.sha256(docx.read_bytes()).hexdigest() == hashlib.sha256(Path(json.loads(again.stdout)["docx"]).read_bytes()).hexdigest()


def test_an_invalid_demande_exits_1_with_the_fields_in_json(tmp_path):
    payload = demande(structure__siret="21330099900018")
    payload["convention"]["nombre_postes"] = 0
    result = run(["generate", str(write(tmp_path, payload)), "--json"], tmp_path)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "demande_invalide"
    assert {e["champ"] for e in error["erreurs"]} == {"structure.siret", "convention.nombre_postes"}
    assert result.stdout.count("\n") == 1  # one JSON object, nothing else


def test_an_invalid_demande_is_explained_in_french_without_traceback(tmp_path):
    payload = demande()
    del payload["postes"][0]["contrat"]["date_fin"]
    result = run(["generate", str(write(tmp_path, payload))], tmp_path)
    assert result.returncode == 1
    assert "postes[0].contrat.date_fin : date_fin est obligatoire pour un contrat CDD" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreadable_json_is_refused_and_a_missing_file_is_bad_usage(tmp_path):
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    broken = run(["generate", "broken.json", "--json"], tmp_path)
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["error"]["erreurs"][0]["code"] == "json_invalide"
    missing = run(["generate", "absent.json"], tmp_path)
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


@pytest.mark.libreoffice
def test_demo_generates_every_sample_and_prints_where(tmp_path, pool_urls):
    result = run(["demo"], tmp_path, pool_urls)
    assert result.returncode == 0, result.stdout + result.stderr
    made = sorted(p.name for p in (tmp_path / "var" / "demo").iterdir())
    samples = sorted(p.stem for p in (ROOT / "examples" / "demandes").glob("*.json"))
    assert len(made) == 2 * len(samples)
    assert "CN-V2-STR-000123-v1.pdf" in made
    assert "150 000,00 €" in result.stdout.replace("\xa0", " ")  # Roubaix, 3 postes in a QPV
    assert str(tmp_path / "var" / "storage") in result.stdout.replace("\n", "")


@pytest.mark.libreoffice
def test_generate_warns_in_french_about_the_structure_flag_and_bonifies_postes_by_their_lieu(tmp_path, pool_urls):
    # The deprecated structure flag still works (3 postes × 50 000 = 150 000,00 €) and says so.
    old = run(["generate", str(write(tmp_path, demande(structure__zone_prioritaire=True))), "--out", "out", "--json"],
              tmp_path, pool_urls)
    assert old.returncode == 0, old.stderr
    out = json.loads(old.stdout)
    assert out["total_eur"] == "150000.00"
    assert len(out["avertissements"]) == 1
    assert out["avertissements"][0].startswith("structure.zone_prioritaire est obsolète : la bonification QPV/ZRR "
                                               "est attribuée à chaque poste selon son lieu de permanence")
    # The same warning for a person reading the terminal.
    again = run(["generate", str(write(tmp_path, demande(structure__zone_prioritaire=True)))], tmp_path, pool_urls)
    assert again.returncode == 0, again.stderr
    assert "avertissement : structure.zone_prioritaire est obsolète" in " ".join(again.stdout.split())
    # Per-poste lieux: P-1 in a QPV only. 3 × 42 500 + 7 500 = 135 000,00 €; year 1: 3 × 17 500 + 2 500 = 55 000,
    # year 2: 3 × 12 500 + 5 000 = 42 500, year 3: 37 500. Its only warning: STR-000123 has the same SIRET
    # (the same commune entered twice would be funded twice).
    payload = demande(structure__id="STR-000124")
    del payload["structure"]["zone_prioritaire"]
    payload["postes"][0]["lieu"] = {"commune": "33063", "qpv": True}
    payload["postes"][1]["lieu"] = {"commune": "33063", "qpv": False}
    mixed = run(["generate", str(write(tmp_path, payload)), "--out", "out", "--json"], tmp_path, pool_urls)
    assert mixed.returncode == 0, mixed.stderr
    out = json.loads(mixed.stdout)
    assert out["total_eur"] == "135000.00"
    assert [t["montant_eur"] for t in out["echeancier"]] == ["55000.00", "42500.00", "37500.00"]
    [homonyme] = out["avertissements"]
    assert homonyme.startswith("le SIRET 21330099900017 est aussi celui de la structure STR-000123 « Commune d")


def test_a_bidi_override_in_a_name_is_refused_as_typed(tmp_path):
    payload = demande()
    payload["structure"]["denomination"] = "Commune d'\u202eellivelpmexE"  # shows « Commune d'Exempleville »
    result = run(["generate", str(write(tmp_path, payload)), "--json"], tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "demande_invalide"
    [field] = [f for f in error["erreurs"] if f["champ"] == "structure.denomination"]
    assert field["code"] == "caractere_interdit" and "U+202E, RIGHT-TO-LEFT OVERRIDE" in field["message"]


def test_a_malformed_database_url_exits_3_as_a_configuration_to_fix(tmp_path):
    """Not a catalog that does not answer (``catalogue``, retried, 503): a setting to fix, said without
    echoing the address (it may hold a password)."""
    for url in ("foo://bar", "postgresql://conum:secret@localhost:port/conum"):
        result = run(["dossier", "show", "DOS-X", "--json"], tmp_path, extra_env={"DATABASE_URL": url})
        error = json.loads(result.stdout)["error"]
        assert (result.returncode, error["code"]) == (3, "configuration_invalide"), result.stdout
        assert "secret" not in result.stdout + result.stderr


def test_a_template_missing_from_the_deployment_is_a_defect_a_template_version_named_a_refusal(tmp_path):
    """The manifest names a .docx that is not there: ``modele_absent``, exit 3 (someone deploys it); an
    operator naming a template version that is not installed: ``modele_introuvable``, exit 1."""
    deployed = tmp_path / "modeles"
    deployed.mkdir()
    shutil.copy(ROOT / "templates" / "manifest.toml", deployed / "manifest.toml")  # and no .docx
    generated = run(["generate", str(write(tmp_path, demande())), "--json"], tmp_path,
                    extra_env={"CONUM_TEMPLATES_DIR": str(deployed)})
    error = json.loads(generated.stdout)["error"]
    assert (generated.returncode, error["code"]) == (3, "modele_absent") and "convention.docx" in error["message"]
    named = run(["reissue", "plan", "--modele", "0.0-inconnue", "--json"], tmp_path)
    error = json.loads(named.stdout)["error"]
    assert (named.returncode, error["code"]) == (1, "modele_introuvable") and "0.0-inconnue" in error["message"]
