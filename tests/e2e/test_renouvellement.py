"""A renewal is a new convention, and the May 2025 limits are enforced: through `conum` as a script
runs it, on the embedded catalog and storage (issue 16, points 1 and 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.test_cli import run, write
from tests.fixtures.catalogues import restore
from tests.e2e.test_generate import docx_text
from tests.factories import demande, example

pytestmark = pytest.mark.libreoffice
V1 = "CN-V1-STR-000007"
RENOUVELLEMENT = {
    "request_id": "renouv-2023", "type": "renouvellement", "date_debut": "2023-06-01",
    "contrats": [
        {"poste": "P-1", "conseiller": {"prenom": "Sophie", "nom": "Durand"}, "type": "CDI", "date_debut": "2023-06-01"},
        {"poste": "P-2", "conseiller": {"prenom": "Éric", "nom": "Lambert"}, "type": "CDD",
         "date_debut": "2023-06-01", "date_fin": "2026-05-31"}],
}


def cli(tmp_path: Path, pool_urls: str, *args: str):
    result = run([*args, "--json"], tmp_path, pool_urls)
    return result.returncode, json.loads(result.stdout) if result.stdout.strip() else result.stderr


def test_a_renewal_issues_a_new_convention_linked_both_ways_with_the_old_balance_beside_its_amounts(
        tmp_path: Path, pool_urls: str):
    assert run(["generate", str(write(tmp_path, example("departement-vague-1.json")))], tmp_path,
               pool_urls).returncode == 0
    # vague 1, public, 2 postes: 2 × 50 000,00 € due (25 000 + 25 000 each); the CDC paid 60 000,00 €
    # for year 1 (due 50 000,00 €): year 1 has 10 000,00 € to repay, year 2 still 50 000,00 € to pay,
    # so the closed period's balance is 50 000 − 10 000 = 40 000,00 € still to be paid by the CDC.
    # (a payment above what the year is due is recorded only when forced, with its motif)
    assert run(["paiement", V1, "--annee", "1", "--date", "2021-07-01", "--montant", "60000.00", "--force", "--motif",
                "Versement de la CDC supérieur au dû"], tmp_path, pool_urls).returncode == 0
    code, out = cli(tmp_path, pool_urls, "amend", V1, str(write(tmp_path, RENOUVELLEMENT, "r.json")), "--out", "r")
    assert code == 0, out
    # a new convention under the vague-2 rules: its id, version 1, its 36-month échéancier
    # (public vague 2: 17 500 + 12 500 + 12 500 per poste, × 2 = 35 000 + 25 000 + 25 000 = 85 000,00 €)
    assert (out["convention_id"], out["version"], out["document"], out["regles"]) == (
        "CN-V2-STR-000007", 1, "convention", "vague-2")
    assert [a["du_eur"] for a in out["annees"]] == ["35000.00", "25000.00", "25000.00"]
    assert (out["total_du_eur"], out["total_verse_eur"]) == ("85000.00", "0.00")  # the old balance is not in it
    text = docx_text(Path(out["docx"]).read_bytes())
    assert "comité de sélection" not in text  # postes are renewed, not attributed
    assert ("la convention n° CN-V1-STR-000007 conclue entre la CDC et la Structure pour la période du 1er juin "
            "2021 au 31 mai 2023, que la présente convention renouvelle") in text
    assert "Ces postes sont reconduits ; ils ne font pas l’objet d’une nouvelle attribution." in text
    assert "Le montant total de la subvention est fixé à 85 000,00 €" in text
    assert ("Le solde de la convention n° CN-V1-STR-000007 est arrêté et réglé au titre de cette convention ; il ne "
            "s’impute pas sur le montant de la présente subvention.") in text
    assert "ce solde s’établit à 40 000,00 € (quarante mille euros) restant à verser par la CDC" in text
    assert "Convention n° CN-V2-STR-000007" in text

    # linked both ways; the new one's report carries the closed period's balance as its own line
    code, new = cli(tmp_path, pool_urls, "history", "CN-V2-STR-000007")
    assert code == 0 and [v["version"] for v in new["versions"]] == [1]
    assert new["renouvelle"] == {"convention_id": V1, "date_debut": "2021-06-01", "date_fin": "2023-05-31",
                                 "solde": {"sens": "verser", "montant_eur": "40000.00"}}
    code, old = cli(tmp_path, pool_urls, "history", V1)
    assert (old["renouvelle"], old["renouvelee_par"], len(old["versions"])) == (None, "CN-V2-STR-000007", 1)
    human = run(["history", "CN-V2-STR-000007"], tmp_path, pool_urls).stdout.replace("\u202f", " ").replace("\xa0", " ")
    assert "Renouvelle la convention CN-V1-STR-000007 (du 01/06/2021 au 31/05/2023)" in human
    assert "40 000,00 € restant à verser par la CDC" in human

    # a payment on the old period changes its balance, never the new convention's amounts
    assert run(["paiement", V1, "--annee", "2", "--date", "2022-07-01", "--montant", "50000.00"], tmp_path,
               pool_urls).returncode == 0
    code, new = cli(tmp_path, pool_urls, "history", "CN-V2-STR-000007")
    assert new["renouvelle"]["solde"] == {"sens": "reverser", "montant_eur": "10000.00"}
    assert new["versions"][0]["total_du_eur"] == "85000.00"

    # the same request again: the same convention; another renewal of the old one: refused
    code, again = cli(tmp_path, pool_urls, "amend", V1, str(tmp_path / "r.json"))
    assert code == 0 and (again["convention_id"], again["nouvelle"]) == ("CN-V2-STR-000007", False)
    code, other = cli(tmp_path, pool_urls, "amend", V1,
                      str(write(tmp_path, RENOUVELLEMENT | {"request_id": "autre"}, "r2.json")))
    assert code == 1 and other["error"]["code"] == "convention_close"
    assert "déjà renouvelée par la convention CN-V2-STR-000007" in other["error"]["message"]
    # the new convention lives on its own: an avenant is its version 2
    code, avenant = cli(tmp_path, pool_urls, "amend", "CN-V2-STR-000007", str(write(tmp_path, {
        "request_id": "retrait", "type": "retrait_postes", "postes": [{"id": "P-2", "date_fin_contrat": "2025-05-31"}]},
        "retrait.json")))
    assert code == 0 and (avenant["convention_id"], avenant["version"]) == ("CN-V2-STR-000007", 2)


def test_a_vague_2_convention_renewed_takes_avenants_under_its_new_id(tmp_path: Path, pool_urls: str):
    # CN-V2-STR-000123 comes from a demande (vague 2, 2024-01-01 to 2026-12-31); its renewal is
    # CN-V2-STR-000123-R2 beside it, and an avenant of the renewal is its version 2 (not a conflict
    # with the convention of the same structure and vague it renews)
    assert run(["generate", str(write(tmp_path, example("commune-qpv-3-postes.json")))], tmp_path,
               pool_urls).returncode == 0
    code, r2 = cli(tmp_path, pool_urls, "amend", "CN-V2-STR-000123", str(write(tmp_path, {
        "request_id": "renouv-2027", "type": "renouvellement", "date_debut": "2027-01-01",
        "contrats": [{"poste": "P-1", "conseiller": {"prenom": "Sophie", "nom": "Durand"}, "type": "CDI",
                      "date_debut": "2027-01-01"}]}, "r.json")))
    assert code == 0, r2
    assert (r2["convention_id"], r2["version"], r2["document"]) == ("CN-V2-STR-000123-R2", 1, "convention")
    code, avenant = cli(tmp_path, pool_urls, "amend", "CN-V2-STR-000123-R2", str(write(tmp_path, {
        "request_id": "retrait-r2", "type": "retrait_postes", "postes": [{"id": "P-1", "date_fin_contrat": "2028-05-31"}]},
        "retrait.json")))
    assert code == 0, avenant
    assert (avenant["convention_id"], avenant["version"]) == ("CN-V2-STR-000123-R2", 2)
    code, old = cli(tmp_path, pool_urls, "history", "CN-V2-STR-000123")
    assert (old["renouvelee_par"], len(old["versions"])) == ("CN-V2-STR-000123-R2", 1)


def test_a_catalog_made_before_renewals_were_conventions_keeps_its_renewal_readable(tmp_path: Path,
                                                                                   pool_urls: str):
    # tests/fixtures/catalogues/conum-0010.sql was made by main at revision 0010 (9b9ea2b): CN-V1-STR-000007
    # generated, renewed in place (its version 2, vague-2 rules, 85 000,00 €), a poste added (version 3),
    # 35 000,00 € paid for year 1 of the renewed period; CN-V2-STR-000123 generated.
    restore("conum-0010", tmp_path / "var" / "conum.db")
    code, old = cli(tmp_path, pool_urls, "history", V1)
    assert code == 0, old
    # version 3: a poste from 1 January 2024 in year 1 (1 June 2023 – 31 May 2024, 366 days): 17 500 × 152 / 366
    # = 7 267,76 €, then 12 500 + 12 500: 32 267,76 € more than the 85 000,00 € of version 2
    assert [(v["version"], v["regles"], v["total_du_eur"]) for v in old["versions"]] == [
        (1, "vague-1", "100000.00"), (2, "vague-2", "85000.00"), (3, "vague-2", "117267.76")]
    assert old["versions"][1]["motif"].startswith("Renouvellement : nouvelle période du 1er juin 2023")
    assert (old["renouvelle"], old["renouvelee_par"]) == (None, None)
    # the structure's convention made from a demande stays unique per vague (the partial index)
    code, refused = cli(tmp_path, pool_urls, "generate", str(write(tmp_path, example("departement-vague-1.json") | {
        "convention": {"vague": 1, "date_debut": "2021-07-01", "nombre_postes": 2}})))
    assert code == 1 and "existe déjà" in refused["error"]["message"]
    # renewing that renewed period now issues a new convention of vague 2 for the structure
    code, out = cli(tmp_path, pool_urls, "amend", V1, str(write(tmp_path, {
        "request_id": "renouv-2026", "type": "renouvellement", "date_debut": "2026-06-01",
        "postes": ["P-1"]}, "r.json")))
    assert code == 0, out
    assert (out["convention_id"], out["version"], out["total_du_eur"]) == ("CN-V2-STR-000007", 1, "42500.00")


def test_since_14_may_2025_a_new_structure_needs_a_derogation(tmp_path: Path, pool_urls: str):
    nouvelle = demande(convention__date_debut="2025-05-14")
    code, refused = cli(tmp_path, pool_urls, "generate", str(write(tmp_path, nouvelle)))
    assert code == 1 and refused["error"]["code"] == "regle_gestion_2025"
    assert ("aucune nouvelle convention n'est conclue avec une structure nouvelle dans le dispositif sans dérogation"
            in refused["error"]["message"])
    assert "derogation.reference et derogation.date" in refused["error"]["message"]
    assert json.loads(run(["history", "CN-V2-STR-000123", "--json"], tmp_path, pool_urls).stdout)["error"][
        "code"] == "convention_introuvable"
    # the day before the rules: a convention concluded then is recorded as signed
    code, out = cli(tmp_path, pool_urls, "generate",
                    str(write(tmp_path, demande(convention__date_debut="2025-05-13"), "avant.json")))
    assert code == 0, out
    code, out = cli(tmp_path, pool_urls, "generate", str(write(tmp_path, demande(
        structure__id="STR-000456", structure__siret="21330063500017", convention__date_debut="2025-09-01",
        derogation={"reference": "ANCT-DER-2025-017", "date": "2025-08-20"}), "derog.json")))
    assert code == 0 and out["convention_id"] == "CN-V2-STR-000456", out
    # a structure the programme already funds (same SIRET) is not new: no derogation needed
    code, out = cli(tmp_path, pool_urls, "generate", str(write(tmp_path, demande(
        structure__id="STR-000123-B", convention__date_debut="2025-09-01"), "connue.json")))
    assert code == 0 and out["convention_id"] == "CN-V2-STR-000123-B", out


def test_since_14_may_2025_adding_postes_needs_a_derogation(tmp_path: Path, pool_urls: str):
    assert run(["generate", str(write(tmp_path, demande()))], tmp_path, pool_urls).returncode == 0
    ajout = {"request_id": "A-1", "type": "ajout_postes", "date_effet": "2025-05-14", "nombre": 1}
    code, refused = cli(tmp_path, pool_urls, "amend", "CN-V2-STR-000123", str(write(tmp_path, ajout, "a.json")))
    assert code == 1 and refused["error"]["code"] == "regle_gestion_2025"
    assert "aucun poste n'est ajouté à une convention sans dérogation" in refused["error"]["message"]
    code, history = cli(tmp_path, pool_urls, "history", "CN-V2-STR-000123")
    assert len(history["versions"]) == 1  # nothing issued
    code, out = cli(tmp_path, pool_urls, "amend", "CN-V2-STR-000123", str(write(tmp_path, ajout | {
        "request_id": "A-0", "date_effet": "2025-05-13"}, "a0.json")))
    assert code == 0 and out["version"] == 2, out
    code, out = cli(tmp_path, pool_urls, "amend", "CN-V2-STR-000123", str(write(tmp_path, ajout | {
        "request_id": "A-2", "derogation": {"reference": "ANCT-DER-2025-031", "date": "2025-05-20"}}, "a2.json")))
    assert code == 0 and out["version"] == 3, out
    code, bad = cli(tmp_path, pool_urls, "amend", "CN-V2-STR-000123", str(write(tmp_path, ajout | {
        "request_id": "A-3", "derogation": {"reference": "ANCT"}}, "a3.json")))
    assert code == 1 and bad["error"]["code"] == "changement_invalide" and "derogation.date" in bad["error"]["message"]
