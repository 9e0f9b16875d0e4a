"""`conum paiement`, `conum amend` and `conum history` as a script runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import run, write
from tests.factories import demande

pytestmark = pytest.mark.libreoffice
CID = "CN-V2-STR-000123"


def test_payments_then_an_avenant_then_the_history(tmp_path: Path, pool_urls: str) -> None:
    assert run(["generate", str(write(tmp_path, demande())), "--out", "v1"], tmp_path, pool_urls).returncode == 0
    paid = run(["paiement", CID, "--annee", "1", "--date", "2024-01-15", "--montant", "52500.00", "--json"],
               tmp_path, pool_urls)
    assert paid.returncode == 0, paid.stderr
    assert json.loads(paid.stdout) == {"convention_id": CID, "annee": 1, "date": "2024-01-15",
                                       "montant_eur": "52500.00", "nouveau": True}
    again = run(["paiement", CID, "--annee", "1", "--date", "2024-01-15", "--montant", "52 500,00", "--json"],
                tmp_path, pool_urls)
    assert json.loads(again.stdout)["nouveau"] is False
    run(["paiement", CID, "--annee", "2", "--date", "2025-01-10", "--montant", "37500", "--json"], tmp_path, pool_urls)

    change = write(tmp_path, {"request_id": "R-2", "type": "retrait_postes",
                              "postes": [{"id": "P-2", "date_fin_contrat": "2025-03-31"}]}, "retrait.json")
    amended = run(["amend", CID, str(change), "--out", "v2", "--json"], tmp_path, pool_urls)
    assert amended.returncode == 0, amended.stderr
    out = json.loads(amended.stdout)
    assert (out["convention_id"], out["version"], out["nouvelle"]) == (CID, 2, True)
    assert out["annees"][1] == {"annee": 2, "du_eur": "28082.19", "verse_eur": "37500.00",
                                "a_reverser_eur": "9417.81", "reste_a_verser_eur": "0.00"}
    assert (out["total_du_eur"], out["total_a_reverser_eur"]) == ("105582.19", "9417.81")
    assert Path(out["docx"]).is_file() and Path(out["pdf"]).read_bytes().startswith(b"%PDF")

    history = run(["history", CID, "--json"], tmp_path, pool_urls)
    versions = json.loads(history.stdout)["versions"]
    assert [(v["version"], v["document"], v["total_du_eur"]) for v in versions] == [
        (1, "convention", "127500.00"), (2, "avenant", "105582.19")]
    assert versions[1]["motif"] == out["motif"] and versions[1]["pdf"].startswith(f"conventions/{CID}/v2/")

    # the situation in one place: year 2 paid, P-2 given back -> 9 417,81 € to repay
    situation = run(["situation", CID, "--json"], tmp_path, pool_urls)
    assert situation.returncode == 0, situation.stderr
    found = json.loads(situation.stdout)
    assert found["total"] == {"du_eur": "105582.19", "verse_eur": "90000.00", "reste_a_verser_eur": "25000.00",
                              "a_reverser_eur": "9417.81"}
    assert [(v["annee"], v["date"], v["montant_eur"]) for v in found["versements"]] == [
        (1, "2024-01-15", "52500.00"), (2, "2025-01-10", "37500.00")]
    assert [(h["version"], h["annees"][1]["du_eur"]) for h in found["historique"]] == [(1, "37500.00"), (2, "28082.19")]
    human = run(["situation", CID], tmp_path, pool_urls)
    assert human.returncode == 0 and "9\u00a0417,81\u00a0€" in human.stdout and "28\u00a0082,19\u00a0€" in human.stdout

    # a payment above what year 3 is due is refused, unless forced with its motif
    over = run(["paiement", CID, "--annee", "3", "--date", "2026-01-10", "--montant", "25000.01", "--json"],
               tmp_path, pool_urls)
    assert over.returncode == 1 and json.loads(over.stdout)["error"]["code"] == "paiement_excedentaire"
    assert "25\u00a0000,00\u00a0€" in json.loads(over.stdout)["error"]["message"]
    no_motif = run(["paiement", CID, "--annee", "3", "--date", "2026-01-10", "--montant", "25000.01", "--force",
                    "--json"], tmp_path, pool_urls)
    assert no_motif.returncode == 1 and json.loads(no_motif.stdout)["error"]["code"] == "paiement_invalide"
    forced = run(["paiement", CID, "--annee", "3", "--date", "2026-01-10", "--montant", "25000.01", "--force",
                  "--motif", "Virement saisi deux fois par la CDC", "--json"], tmp_path, pool_urls)
    assert forced.returncode == 0, forced.stdout
    found = json.loads(run(["situation", CID, "--json"], tmp_path, pool_urls).stdout)
    assert found["annees"][2]["a_reverser_eur"] == "0.01" and found["total"]["a_reverser_eur"] == "9417.82"
    assert found["versements"][-1]["motif"] == "Virement saisi deux fois par la CDC"
    assert any("Virement saisi deux fois" in w for w in found["avertissements"])


def test_refusals_exit_1_with_their_code(tmp_path: Path, pool_urls: str) -> None:
    run(["generate", str(write(tmp_path, demande()))], tmp_path, pool_urls)
    noop = write(tmp_path, {"request_id": "R-9", "type": "changement_nature", "nature": "publique",
                            "date_effet": "2025-01-01"}, "noop.json")
    result = run(["amend", CID, str(noop), "--json"], tmp_path, pool_urls)
    assert result.returncode == 1 and json.loads(result.stdout)["error"]["code"] == "changement_sans_effet"
    bad = write(tmp_path, {"request_id": "R-9", "type": "ajout_postes", "nombre": 0}, "bad.json")
    result = run(["amend", CID, str(bad), "--json"], tmp_path, pool_urls)
    assert result.returncode == 1 and json.loads(result.stdout)["error"]["code"] == "changement_invalide"
    result = run(["history", "CN-V2-INCONNUE", "--json"], tmp_path, pool_urls)
    assert result.returncode == 1 and json.loads(result.stdout)["error"]["code"] == "convention_introuvable"
    for annee, amount in (("4", "10"), ("1", "NaN"), ("1", "1e30"), ("1", "-5")):
        result = run(["paiement", CID, "--annee", annee, "--date", "2025-01-10", "--montant", amount, "--json"],
                     tmp_path, pool_urls)
        assert result.returncode == 1 and json.loads(result.stdout)["error"]["code"] == "paiement_invalide", amount
