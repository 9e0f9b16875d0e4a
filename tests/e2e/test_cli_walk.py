"""A walk through every command of the README's table, typed as a person types it (a subprocess, output
piped): each ``--help`` and each failure path speaks French, exits with the README's code, shows no
traceback and cuts no id."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import ROOT, demande

CONUM = [sys.executable, "-m", "dossiers.entrypoints"]

# Click's English, as it would leak: its msgids' fixed words, and its default metavars.
ENGLISH = re.compile("|".join([
    r"Usage:", r"Commands:", r"Show this message", r"Missing (option|argument|parameter|command)", r"does not match",
    r"is not one of", r"is not a valid", r"No such (option|command)", r"\bError:", r"Try '", r"for help\.",
    r"Invalid value", r"does not exist", r"Got unexpected", r"requires an argument", r"Aborted!", r"\[required\]",
    r"\[default:", r"\bTEXT\b", r"\bINTEGER\b", r"\bFILE\b", r"\bCOMMAND\b", r"\bARGS\b", r"Traceback",
    r"codec can't", r"Expecting value",
]))


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "BROKER_URL", "TSA_URL", "DS_DEMARCHE")}
    full_env |= {"CONUM_VAR_DIR": str(cwd / "var"), **env}
    return subprocess.run([*CONUM, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=180)


def readme_commands() -> list[str]:
    """The command of each row of the README's table « La commande conum » (``token create``…)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## La commande `conum`", 1)[1].split("\n## ", 1)[0]
    found: list[str] = []
    for line in section.splitlines():
        if not line.startswith("| `conum "):
            continue
        for cell in re.findall(r"`conum ([^`]*)`", line.split("|")[1]):
            words = []
            for word in cell.split():
                if not re.fullmatch(r"[a-z][a-z-]*", word):
                    break
                words.append(word)
            found.append(" ".join(words))
    for line in section.splitlines():  # « · `agent remove EMAIL` · `agent list` » : the same row, no `conum`
        if line.startswith("| `conum "):
            found += [m.split()[0] + " " + m.split()[1] for m in re.findall(r"· `([a-z]+ [a-z]+)[^`]*`", line)
                      if len(m.split()) > 1 and m.split()[0] in {f.split()[0] for f in found}]
    return sorted(set(found))


def test_the_readme_table_is_read():
    commands = readme_commands()
    assert {"generate", "token list", "token revoke", "reissue status", "agent list", "config"} <= set(commands)


# Each command's failure paths: (arguments, exit code the README gives). Files named here are written by
# the ``walk`` fixture. A command of the README without an entry fails the walk.
CASES: dict[str, list[tuple[list[str], int]]] = {
    "generate": [(["generate", "absente.json"], 2), (["generate", "invalide.json"], 1), (["generate", "d.docx"], 1)],
    "demo": [(["demo", "--out"], 2)],
    "templates manifest": [(["templates", "manifest", "--check"], 0)],
    "templates check": [(["templates", "check"], 0), (["templates", "check", "absent.docx"], 2),
                        (["templates", "check", "invalide.json"], 1)],
    "templates text": [(["templates", "text", "--check"], 0), (["templates", "text", "--stdout", "d.docx"], 0),
                       (["templates", "text", "absent.docx"], 2)],
    "converter": [(["converter", "--size", "deux"], 2)],
    "paiement": [(["paiement", "CN-V2-INCONNUE", "--annee", "1", "--date", "2025-01-15", "--montant", "10"], 1),
                 (["paiement", "CN-V2-INCONNUE", "--annee", "1", "--date", "15/01/2025", "--montant", "10"], 2)],
    "amend": [(["amend", "CN-V2-INCONNUE", "changement.json"], 1), (["amend", "CN-V2-INCONNUE"], 2)],
    "history": [(["history", "CN-V2-INCONNUE"], 1)],
    "restitutions": [(["restitutions", "CN-V2-INCONNUE", "--date", "2026-11-26"], 1),
                     (["restitutions", "{convention}", "--regles", "inconnues"], 1)],
    "poste": [(["poste", "CN-V2-INCONNUE", "evenement.json"], 1)],
    "pilotage import": [(["pilotage", "import", "absent.csv", "--date", "2026-11-01"], 2),
                        (["pilotage", "import", "invalide.json", "--date", "2026-11-01"], 1)],
    "archive": [(["archive", "invalide.json", "--convention", "CN-V2-INCONNUE"], 1)],
    "accepter": [(["accepter", "999", "--par", "Camille Exemple"], 1)],
    "verify": [(["verify", "invalide.json"], 1)],
    "ledger verify": [(["ledger", "verify"], 0)],
    "ledger anchor": [(["ledger", "anchor"], 3)],  # the ledger holds the seeded entries; no TSA_URL
    "lien": [(["lien", "CN-V2-INCONNUE"], 1)],
    "purge": [(["purge", "--dry-run"], 0)],
    "validate": [(["validate", "invalide.json", "--kind", "sirene"], 1), (["validate", "invalide.json"], 2),
                 (["validate", "invalide.json", "--kind", "passeport"], 2)],
    "dossier open": [(["dossier", "open", "invalide.json"], 1)],
    "dossier add": [(["dossier", "add", "DOS-INCONNU", "invalide.json", "--kind", "sirene"], 1)],
    "dossier show": [(["dossier", "show", "DOS-INCONNU"], 1)],
    "dossier rapport": [(["dossier", "rapport", "DOS-INCONNU"], 1)],
    "seed": [(["seed", "--structures", "0"], 2)],
    "reissue plan": [(["reissue", "plan", "--regles", "inconnues"], 1), (["reissue", "plan", "--rules", "inconnues"], 1)],
    "reissue run": [(["reissue", "run", "RP-INCONNU"], 1)],
    "reissue status": [(["reissue", "status", "RP-INCONNU"], 1)],
    "reissue list": [(["reissue", "list"], 0)],
    "serve": [(["serve", "--port", "0"], 2)],
    "token create": [(["token", "create", "--role", "instructeur"], 1), (["token", "create", "--role", "chef"], 2)],
    "token revoke": [(["token", "revoke", "tok_inconnu"], 1)],
    "token list": [(["token", "list"], 0)],
    "agent add": [(["agent", "add", "pas-une-adresse"], 1)],
    "agent remove": [(["agent", "remove", "personne@exemple.gouv.fr"], 1)],
    "agent list": [(["agent", "list"], 0)],
    "audit": [(["audit"], 0)],
    "structure corriger": [(["structure", "corriger", "STR-INCONNUE", "--par", "A", "--motif", "B", "--siret",
                             "21330099900017"], 1)],
    "config": [(["config"], 0)],
    "a-traiter": [(["a-traiter", "--departement", "33"], 0), (["a-traiter", "--genre", "inconnu"], 2)],
    "situation": [(["situation", "CN-V2-INCONNUE"], 1), (["situation", "{convention}"], 0)],
    "decide piece": [(["decide", "piece", "DOS-INCONNU", "1", "accepte", "--par", "Camille Exemple"], 1),
                     (["decide", "piece", "DOS-INCONNU", "1", "peut-etre", "--par", "Camille Exemple"], 2)],
    "decide copie": [(["decide", "copie", "CN-V2-INCONNUE", "1", "0" * 64, "refuse", "--motif", "illisible", "--par",
                       "Camille Exemple"], 1), (["decide", "copie", "CN-V2-INCONNUE", "1", "abc", "accepte", "--par",
                                                 "Camille Exemple"], 2)],
    "ds sync": [(["ds", "sync"], 2)],
    "webhooks list": [(["webhooks", "list"], 0)],
    "export": [(["export", "plan", "RP-INCONNU", "--out", "plan.csv"], 1), (["export", "audit", "--out", "a.ods"], 2),
               (["export", "conventions", "--departement", "999", "--out", "c.csv"], 2)],
}


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("walk")
    (cwd / "invalide.json").write_text('{"structure": {"siret": 12}, "inconnu": true}', encoding="utf-8")
    (cwd / "d.docx").write_bytes((ROOT / "templates" / "convention.docx").read_bytes())
    (cwd / "changement.json").write_text(json.dumps(
        {"request_id": "R-1", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 1}), encoding="utf-8")
    (cwd / "evenement.json").write_text(json.dumps(
        {"request_id": "E-1", "type": "fin_contrat", "poste": "P-1", "date": "2025-03-31", "motif": "fin_cdd"}),
        encoding="utf-8")
    (cwd / "demande.json").write_text(json.dumps(demande()), encoding="utf-8")
    seeded = run(["seed", "--structures", "2", "--json"], cwd)
    assert seeded.returncode == 0, seeded.stderr
    rapport = run(["dossier", "open", "demande.json", "--json"], cwd)  # a dossier, then its rapport: a ledger entry
    assert rapport.returncode == 0, rapport.stdout + rapport.stderr
    rapport = run(["dossier", "rapport", json.loads(rapport.stdout)["dossier_id"], "--out", "rapport.pdf"], cwd)
    assert rapport.returncode == 0, rapport.stdout + rapport.stderr
    listed = run(["history", "CN-V2-STR-S1-000001", "--json"], cwd)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    return cwd


def test_every_command_of_the_readme_has_its_failure_paths():
    assert sorted(set(readme_commands()) - set(CASES)) == []


@pytest.mark.parametrize("command", sorted(CASES))
def test_each_command_answers_in_french_with_the_readme_exit_code(walk, command):
    help_run = run([*command.split(), "--help"], walk)
    assert help_run.returncode == 0, help_run.stderr
    assert "Utilisation :" in help_run.stdout and "Affiche cette aide et quitte." in help_run.stdout
    assert not ENGLISH.search(help_run.stdout), help_run.stdout
    for args, code in CASES[command]:
        args = [a.replace("{convention}", "CN-V2-STR-S1-000001") for a in args]
        done = run(args, walk)
        said = done.stdout + done.stderr
        assert done.returncode == code, f"conum {' '.join(args)} : {done.returncode} au lieu de {code}\n{said}"
        assert not ENGLISH.search(said), f"conum {' '.join(args)} :\n{said}"
        if code == 2:
            assert "Erreur :" in done.stderr
        if code in (1, 3) and "--json" not in args:  # (a usage error's last option may take --json as its value)
            json_run = run([*args, "--json"], walk)
            assert json_run.returncode == code, f"conum {' '.join(args)} --json : {json_run.returncode}"
            error = json.loads(json_run.stdout).get("error") if json_run.stdout.strip() else None
            if error is not None:  # (a refused piece, an unknown file: a result, not an error object)
                assert re.fullmatch(r"[a-z_0-9]+", error["code"]) and not ENGLISH.search(error["message"])


def test_a_docx_given_as_the_demande_is_named_in_french(walk):
    done = run(["generate", "d.docx", "--json"], walk)
    error = json.loads(done.stdout)["error"]
    assert done.returncode == 1 and "document Word (DOCX)" in error["message"]
    assert error["erreurs"][0]["code"] == "type_non_accepte"


def test_pydantic_types_become_conum_codes(walk):
    done = run(["dossier", "open", "invalide.json", "--json"], walk)
    codes = {e["champ"]: e["code"] for e in json.loads(done.stdout)["error"]["erreurs"]}
    assert codes["inconnu"] == "champ_inconnu" and codes["structure.siret"] == "type_invalide"
    assert codes["convention"] == "champ_manquant"


def test_an_unknown_plan_has_its_own_code(walk):
    done = run(["reissue", "status", "RP-INCONNU", "--json"], walk)
    assert done.returncode == 1 and json.loads(done.stdout)["error"]["code"] == "plan_introuvable"


def test_piped_token_list_shows_whole_ids_that_revoke_accepts(walk):
    created = json.loads(run(["token", "create", "--role", "admin", "--nom", "un nom assez long pour pousser les "
                              "colonnes au-delà de quatre-vingts caractères", "--json"], walk).stdout)
    listed = run(["token", "list"], walk)
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert rows[0][:2] == ["id", "rôle"] and created["id"] in [r[0] for r in rows[1:]]
    revoked = run(["token", "revoke", created["id"]], walk)
    assert revoked.returncode == 0 and created["id"] in revoked.stdout


def test_piped_history_and_plan_keep_keys_and_amounts_on_one_line(walk):
    plan = run(["reissue", "plan", "--regles", "vague-2", "--date", "2026-11-26"], walk)
    assert plan.returncode == 0, plan.stderr
    for line in plan.stdout.splitlines():
        if "\t" in line and "€" in line:
            assert all(re.fullmatch(r"-?[\d  ]+,\d\d €", cell) for cell in line.split("\t") if "€" in cell), line
    history = run(["history", "CN-V2-STR-S1-000001"], walk)  # a seeded convention: no document, so no SHA-256
    assert history.returncode == 0 and "Version 1 du " in history.stdout and "…" not in history.stdout


def test_a_payment_motif_with_a_control_character_is_refused_on_its_field(walk):
    """An escape sequence (or any control character) in --motif is refused before anything is recorded:
    exit 1, paiement_invalide, the field named."""
    done = run(["paiement", "CN-V2-STR-S1-000001", "--annee", "1", "--date", "2029-01-15", "--montant", "10",
                "--force", "--motif", "virement\x07 en double", "--json"], walk)
    error = json.loads(done.stdout)["error"]
    assert (done.returncode, error["code"]) == (1, "paiement_invalide") and "U+0007" in error["message"]
    assert [(e["champ"], e["code"]) for e in error["erreurs"]] == [("motif", "paiement_invalide")]
    situation = json.loads(run(["situation", "CN-V2-STR-S1-000001", "--json"], walk).stdout)
    assert "2029-01-15" not in json.dumps(situation)


def test_a_change_or_event_file_that_is_not_json_is_refused_with_its_commands_code_and_the_reason(walk):
    """The file's refusal takes the code of what it is (a change, a poste's event), the reason in erreurs."""
    for command, code in (("amend", "changement_invalide"), ("poste", "evenement_invalide")):
        done = run([command, "CN-V2-STR-S1-000001", "d.docx", "--json"], walk)
        error = json.loads(done.stdout)["error"]
        assert (done.returncode, error["code"]) == (1, code) and "document Word (DOCX)" in error["message"]
        assert [e["code"] for e in error["erreurs"]] == ["type_non_accepte"]
