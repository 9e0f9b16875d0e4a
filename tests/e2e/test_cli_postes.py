"""`conum poste`, `conum restitutions` and `conum history` as a script runs them: the worked examples
of tests/unit/test_postes.py through the real command, on the embedded catalog and storage."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.test_cli import run, write
from tests.factories import demande

pytestmark = pytest.mark.libreoffice
A, B = "CN-V2-STR-000123", "CN-V2-STR-000999"


def poste(tmp_path: Path, pool_urls: str, cid: str, payload: dict, *extra: str):
    path = write(tmp_path, payload, f"{payload.get('request_id', 'x')}.json")
    result = run(["poste", cid, str(path), "--json", *extra], tmp_path, pool_urls)
    return result.returncode, json.loads(result.stdout)


def test_a_cdd_ended_and_not_replaced_for_7_months_is_given_back_through_the_cli(tmp_path: Path, pool_urls: str):
    assert run(["generate", str(write(tmp_path, demande()))], tmp_path, pool_urls).returncode == 0
    for annee, day, amount in (("1", "2024-01-15", "52500.00"), ("2", "2025-01-15", "37500.00")):
        assert run(["paiement", A, "--annee", annee, "--date", day, "--montant", amount], tmp_path,
                   pool_urls).returncode == 0
    recrue = {"request_id": "E-P3", "type": "recrutement", "poste": "P-3",
              "conseiller": {"prenom": "Léa", "nom": "Roux"}, "contrat": {"type": "CDI", "date_debut": "2024-05-01"}}
    code, out = poste(tmp_path, pool_urls, A, recrue, "--date", "2024-06-01")
    assert code == 0 and out["enregistre"] is True and out["version"] == 1
    assert out["postes"][2] == {"id": "P-3", "etat": "occupe", "vacant_depuis": None, "absence": None, "contrat": {
        "conseiller": "Léa Roux", "type": "CDI", "date_debut": "2024-05-01", "date_fin": None}}
    code, again = poste(tmp_path, pool_urls, A, recrue)
    assert code == 0 and again["enregistre"] is False
    code, conflict = poste(tmp_path, pool_urls, A, recrue | {"conseiller": {"prenom": "Léo", "nom": "Roux"}})
    assert code == 1 and conflict["error"]["code"] == "requete_conflit"
    code, occupied = poste(tmp_path, pool_urls, A, recrue | {"request_id": "E-X"})
    assert code == 1 and occupied["error"]["code"] == "evenement_invalide" and "P-3" in occupied["error"]["message"]

    # P-1's CDD ends on 2025-06-30 and nobody is recruited: on 2026-01-01 it is 6 months, not more
    early = json.loads(run(["restitutions", A, "--date", "2026-01-01", "--json"], tmp_path, pool_urls).stdout)
    assert early["postes_a_rendre"] == [] and early["avertissements"]
    listed = run(["restitutions", A, "--date", "2026-02-01", "--json"], tmp_path, pool_urls)
    assert json.loads(listed.stdout)["postes_a_rendre"] == [{"id": "P-1", "date_fin_contrat": "2025-06-30"}]
    applied = run(["restitutions", A, "--date", "2026-02-01", "--apply", "--json"], tmp_path, pool_urls)
    avenant = json.loads(applied.stdout)["avenant"]
    # year 2: 12 500 × 181 / 365 = 6 198.63 for P-1 + 25 000 = 31 198.63; paid 37 500 → 6 301.37 to repay
    assert avenant["annees"][1] == {"annee": 2, "du_eur": "31198.63", "verse_eur": "37500.00",
                                    "a_reverser_eur": "6301.37", "reste_a_verser_eur": "0.00"}
    assert avenant["total_a_reverser_eur"] == "6301.37"
    history = json.loads(run(["history", A, "--json"], tmp_path, pool_urls).stdout)
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert [(e["request_id"], e["type"], e["poste"], e["source"]) for e in history["evenements"]] == [
        ("E-P3", "recrutement", "P-3", "cli")]


def a_and_b(tmp_path: Path, pool_urls: str, payload_a: dict, **b) -> dict:
    """Generate A (``payload_a``) and B (Commune de Bellevue, varied by ``b``): the transfer of A's P-2 to B
    after 2025-03-31."""
    assert run(["generate", str(write(tmp_path, payload_a))], tmp_path, pool_urls).returncode == 0
    other = demande(**{"structure__id": "STR-000999", "structure__denomination": "Commune de Bellevue",
                       "structure__siret": "21330063500017", **b})
    generated = run(["generate", str(write(tmp_path, other, "b.json"))], tmp_path, pool_urls)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return {"request_id": "T-1", "type": "transfert", "poste": "P-2", "date": "2025-03-31",
            "vers": {"structure_id": "STR-000999"}}


def moved(tmp_path: Path, pool_urls: str) -> tuple[list[Decimal], list[Decimal]]:
    """Per convention year, what A lost and B gained between their versions 1 and 2."""
    def change(cid: str) -> list[Decimal]:
        v1, v2 = json.loads(run(["history", cid, "--json"], tmp_path, pool_urls).stdout)["versions"][:2]
        return [Decimal(y["du_eur"]) - Decimal(x["du_eur"]) for x, y in zip(v1["annees"], v2["annees"])]
    return [-d for d in change(A)], change(B)


def test_a_transfer_issues_both_avenants_and_conserves_the_money(tmp_path: Path, pool_urls: str):
    transfert = a_and_b(tmp_path, pool_urls, demande())
    code, out = poste(tmp_path, pool_urls, A, transfert, "--date", "2025-04-01")
    assert code == 0, out
    assert out["version"] == 2 and [(v["convention_id"], v["version"]) for v in out["avenants"]] == [(A, 2), (B, 2)]
    assert out["postes"][1]["etat"] == "rendu"
    # A loses 12 500 × 275/365 = 9 417.81 (year 2, from 2025-04-01) + 12 500 (year 3); B gains exactly that
    assert moved(tmp_path, pool_urls) == ([Decimal("0.00"), Decimal("9417.81"), Decimal("12500.00")],) * 2
    hist_b = json.loads(run(["history", B, "--json"], tmp_path, pool_urls).stdout)["versions"]
    assert hist_b[1]["pdf"] and "transfér" in hist_b[1]["motif"]
    code, again = poste(tmp_path, pool_urls, A, transfert)
    assert code == 0 and again["enregistre"] is False and len(again["avenants"]) == 2
    # the transferred poste can no longer change in A
    code, late = poste(tmp_path, pool_urls, A, {"request_id": "E-9", "type": "fin_contrat", "poste": "P-2",
                                                "date": "2025-06-30", "motif": "demission"})
    assert code == 1 and late["error"]["code"] == "evenement_invalide"


def test_a_transferred_poste_leaves_its_qpv_bonus_behind(tmp_path: Path, pool_urls: str):
    # A's P-2 works in a QPV (17 500 + 2 500, 12 500 + 5 000, 12 500); its lieu at B is not known, so
    # from 2025-04-01 B funds it without the bonus (the conservative choice).
    payload = demande()
    payload["postes"][1]["lieu"] = {"commune": "33063", "qpv": True}
    transfert = a_and_b(tmp_path, pool_urls, payload)
    code, out = poste(tmp_path, pool_urls, A, transfert, "--date", "2025-04-01")
    assert code == 0, out
    lost, gained = moved(tmp_path, pool_urls)
    # year 2, 2025-04-01..12-31 = 275 days of 365: A loses 17 500 × 275/365 = 13 184.93 (bonus included),
    # B gains 12 500 × 275/365 = 9 417.81 (no bonus); year 3 has no bonus: 12 500 both sides
    assert lost == [Decimal("0.00"), Decimal("13184.93"), Decimal("12500.00")]
    assert gained == [Decimal("0.00"), Decimal("9417.81"), Decimal("12500.00")]


def test_a_transfer_to_another_departement_needs_a_derogation(tmp_path: Path, pool_urls: str):
    transfert = a_and_b(tmp_path, pool_urls, demande(), structure__departement="75",
                        structure__adresse="1 place de l'Hôtel de Ville, 75004 Paris")
    code, refused = poste(tmp_path, pool_urls, A, transfert)
    assert code == 1 and refused["error"]["code"] == "regle_gestion_2025"
    assert json.loads(run(["history", A, "--json"], tmp_path, pool_urls).stdout)["evenements"] == []
    code, out = poste(tmp_path, pool_urls, A, transfert | {"request_id": "T-2",
                                                             "derogation": {"reference": "ANCT-2025-042"}})
    assert code == 0 and len(out["avenants"]) == 2


def test_a_renewal_takes_running_contracts_and_asks_for_the_others(tmp_path: Path, pool_urls: str):
    from tests.e2e.test_generate import docx_text

    assert run(["generate", str(write(tmp_path, demande()))], tmp_path, pool_urls).returncode == 0
    # P-1's CDD ended on 2025-06-30, P-3 was never filled: only P-2 (CDI) runs into 2027
    default = write(tmp_path, {"request_id": "R-1", "type": "renouvellement", "date_debut": "2027-01-01"}, "r1.json")
    listed = write(tmp_path, {"request_id": "R-2", "type": "renouvellement", "date_debut": "2027-01-01",
                              "postes": ["P-1", "P-2"]}, "r2.json")
    refused = run(["amend", A, str(listed), "--json"], tmp_path, pool_urls)
    assert refused.returncode == 1 and "P-1 n'a pas de contrat en cours" in json.loads(refused.stdout)["error"]["message"]
    with_contract = write(tmp_path, {
        "request_id": "R-3", "type": "renouvellement", "date_debut": "2027-01-01", "postes": ["P-1", "P-2"],
        "contrats": [{"poste": "P-1", "conseiller": {"prenom": "Nora", "nom": "Petit"}, "type": "CDD",
                      "date_debut": "2027-01-01", "date_fin": "2028-12-31"}]}, "r3.json")
    renewed = run(["amend", A, str(with_contract), "--out", "v2", "--json"], tmp_path, pool_urls)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    out = json.loads(renewed.stdout)
    # a new convention of the same vague: the structure's second vague-2 convention, version 1
    assert (out["convention_id"], out["version"], out["document"]) == (f"{A}-R2", 1, "convention")
    assert out["motif"].endswith("pour 2 postes (P-1, P-2)")
    text = docx_text(Path(out["docx"]).read_bytes())
    assert ("la première tranche n’est versée qu’après production du contrat de travail du conseiller recruté pour "
            "la période de la présente convention : P-1 (Nora Petit, contrat à compter du 1er janvier 2027)") in text
    assert "Karim Bouzid, contrat" not in text
    again = run(["amend", A, str(default), "--json"], tmp_path, pool_urls)  # renewed once, by R-3
    assert again.returncode == 1 and json.loads(again.stdout)["error"]["code"] == "convention_close"
    links = json.loads(run(["history", A, "--json"], tmp_path, pool_urls).stdout)
    assert (links["renouvelle"], links["renouvelee_par"]) == (None, f"{A}-R2")


def test_a_transfer_to_a_structure_without_convention_opens_its_dossier_with_the_poste(tmp_path: Path,
                                                                                      pool_urls: str):
    assert run(["generate", str(write(tmp_path, demande()))], tmp_path, pool_urls).returncode == 0
    nouvelle = demande(structure__id="STR-000777", structure__siret="21330063500017",
                       structure__denomination="Commune de Rochefort", convention__date_debut="2025-04-01",
                       convention__nombre_postes=1, postes=[])
    transfert = {"request_id": "T-1", "type": "transfert", "poste": "P-2", "date": "2025-03-31",
                 "vers": {"demande": nouvelle}}
    wrong_start = transfert | {"request_id": "T-0", "vers": {"demande": demande(
        structure__id="STR-000777", structure__siret="21330063500017", convention__date_debut="2025-05-01",
        convention__nombre_postes=1, postes=[])}}
    code, refused = poste(tmp_path, pool_urls, A, wrong_start)
    assert code == 1 and "date_debut" in refused["error"]["message"]
    code, out = poste(tmp_path, pool_urls, A, transfert)
    assert code == 0, out
    assert [(v["convention_id"], v["version"]) for v in out["avenants"]] == [(A, 2)] and out["dossier_id"]
    shown = run(["dossier", "show", out["dossier_id"], "--json"], tmp_path, pool_urls)
    dossier = json.loads(shown.stdout)
    assert shown.returncode == 0, shown.stderr
    # the poste arrives occupied (its conseiller's CDI goes with it): the dossier asks for that contract
    assert '"kind": "contrat", "poste_id": "P-1"' in shown.stdout, dossier
