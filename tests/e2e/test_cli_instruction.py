"""`conum decide`, `conum a-traiter` as an instructeur types them: a dossier's pieces à vérifier listed per
département, the oldest first, decided one by one, with every refusal path exiting 1 with its code and the
decisions in the audit log. No LibreOffice: nothing here generates a document."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from tests.e2e.test_cli import run, write
from tests.factories import demande, example
from tests.fixtures.sirene import avis_sirene_pdf


def _open(tmp_path: Path, payload: dict, piece_names: list[tuple[str, str]]) -> str:
    path = write(tmp_path, payload, f"{payload['structure']['id']}.json")
    opened = run(["dossier", "open", str(path), "--json"], tmp_path)
    assert opened.returncode == 0, opened.stderr
    dossier_id = json.loads(opened.stdout)["dossier_id"]
    sample = avis_sirene_pdf(siren="843123456", siret="84312345600017", denomination="STATUTS",
                             date_avis=date(2024, 1, 1))  # any readable PDF: no check reads these kinds
    for kind, name in piece_names:
        file = tmp_path / name
        file.write_bytes(sample)
        added = run(["dossier", "add", dossier_id, str(file), "--kind", kind, "--json"], tmp_path)
        assert added.returncode in (0, 1), added.stderr  # 1: à vérifier
    return dossier_id


def test_an_instructeur_lists_and_decides_from_the_terminal(tmp_path: Path) -> None:
    gironde = _open(tmp_path, example("association-1-poste.json"), [("statuts", "statuts.pdf"), ("pv_ag", "pv.pdf")])
    paris = _open(tmp_path, demande(structure__id="STR-000750", structure__departement="75",
                                    structure__adresse="1 rue de Rivoli, 75001 Paris"), [("designation", "delib.pdf")])

    listed = run(["a-traiter", "--departement", "33", "--genre", "piece", "--json"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    work = json.loads(listed.stdout)
    assert {i["dossier_id"] for i in work["items"]} == {gironde} and work["compte"]["piece"] == 2
    assert [i["depuis"] for i in work["items"]] == sorted(i["depuis"] for i in work["items"])  # the oldest first
    everything = json.loads(run(["a-traiter", "--json"], tmp_path).stdout)
    assert {i["dossier_id"] for i in everything["items"]} == {gironde, paris}
    human = run(["a-traiter", "--departement", "33"], tmp_path)
    assert human.returncode == 0 and "Statuts — dossier " + gironde in human.stdout

    statuts = next(i for i in work["items"] if "Statuts" in i["libelle"])["piece_id"]
    refused = run(["decide", "piece", gironde, str(statuts), "refuse", "--par", "Camille Exemple", "--json"], tmp_path)
    assert refused.returncode == 1 and json.loads(refused.stdout)["error"]["code"] == "decision_invalide"
    other = run(["decide", "piece", paris, str(statuts), "accepte", "--par", "Camille Exemple", "--json"], tmp_path)
    assert other.returncode == 1 and json.loads(other.stdout)["error"]["code"] == "piece_introuvable"
    escaped = run(["decide", "piece", gironde, str(statuts), "accepte", "--commentaire", "lu\x1b[2J", "--par",
                   "Camille Exemple", "--json"], tmp_path)  # a terminal's escape: refused, as NUL by the API
    error = json.loads(escaped.stdout)["error"]
    assert (escaped.returncode, error["code"]) == (1, "decision_invalide") and "U+001B" in error["message"]
    assert [e["champ"] for e in error["erreurs"]] == ["commentaire"]
    done = run(["decide", "piece", gironde, str(statuts), "refuse", "--motif", "perime", "--commentaire",
                "Statuts de 2009, modifiés depuis", "--par", "Camille Exemple", "--json"], tmp_path)
    assert done.returncode == 0, done.stdout
    piece = next(p for p in json.loads(done.stdout)["pieces"] if p["id"] == statuts)
    assert (piece["final_status"], piece["decision"]["motif"], piece["decision"]["par"]) == (
        "invalide", "perime", "Camille Exemple")
    again = run(["decide", "piece", gironde, str(statuts), "accepte", "--par", "Quelqu'un d'autre"], tmp_path)
    assert again.returncode == 1 and "déjà été refusée" in again.stderr
    left = json.loads(run(["a-traiter", "--departement", "33", "--genre", "piece", "--json"], tmp_path).stdout)
    assert statuts not in [i["piece_id"] for i in left["items"]] and left["compte"]["piece"] == 1

    # one row per attempt, as the API writes it: the status the API would answer (422 decision_invalide, 404
    # piece_introuvable, 200, 409 decision_impossible), role cli without token nor address, the name in agent
    audit = json.loads(run(["audit", "--json"], tmp_path).stdout)
    decided = [r for r in audit["entries"] if r["action"] == "piece.decider"]
    assert sorted(r["statut_http"] for r in decided) == [200, 404, 409, 422, 422]
    assert {(r["role"], r["token_id"], r["adresse"]) for r in decided} == {("cli", None, None)}
    assert {r["detail"]["agent"] for r in decided} == {"Camille Exemple", "Quelqu'un d'autre"}
    assert {r["departement"] for r in decided} == {"33", "75"}
