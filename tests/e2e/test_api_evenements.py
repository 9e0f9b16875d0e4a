"""The poste events over HTTP: ``POST /v1/conventions/{id}/postes/{poste}/evenements`` and
``GET /v1/conventions/{id}/postes``, against the app served by uvicorn on loopback (SQLite catalog,
local storage, the warm LibreOffice pool of the test session: a transfer's avenants are converted
during the request, as the deployed `web` process does with CONVERTER_URLS).

The server's clock is fixed on 15 June 2025 (the day of every returned situation); each test works on
conventions of its own (structures generated for it, from 1 January 2024 to 31 December 2026), so the
tests do not depend on one another nor on today's date.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from stdnum import luhn

from dossiers.bootstrap import App
from dossiers.clock import Clock
from dossiers.services.acces import create_token
from dossiers.services.generation import generate_convention
from dossiers.settings import Settings
from tests.conftest import _free_port, serve_asgi
from tests.factories import demande

pytestmark = pytest.mark.libreoffice
NOW = datetime(2025, 6, 15, 10, 0, tzinfo=UTC)
TODAY = "2025-06-15"
_numbers = itertools.count(200)


@dataclass
class Server:
    app: App
    client: httpx.Client
    tokens: dict[str, str]

    def post(self, who: str, convention_id: str, poste: str, event: dict[str, Any]) -> httpx.Response:
        return self.client.post(f"/v1/conventions/{convention_id}/postes/{poste}/evenements", json=event,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def get(self, who: str, path: str) -> httpx.Response:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def postes(self, convention_id: str, jour: str = TODAY) -> dict[str, Any]:
        r = self.get("admin", f"/v1/conventions/{convention_id}/postes?date={jour}")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def convention(self, departement: str = "33") -> str:
        """A new convention (Commune d'Exempleville's three postes: P-1 CDD until 30 June 2025, P-2 CDI,
        P-3 vacant since 1 March 2024) for a structure of its own in ``departement``."""
        n = next(_numbers)
        siren = f"2133{n:04d}"
        siren += luhn.calc_check_digit(siren)
        siret = siren + "0001"
        siret += luhn.calc_check_digit(siret)
        adresse = "1 rue de Rivoli, 75001 Paris" if departement == "75" else "1 place de la Mairie, 33000 Exempleville"
        payload = demande(structure__id=f"STR-{n:06d}", structure__siret=siret, structure__departement=departement,
                          structure__adresse=adresse, structure__denomination=f"Commune numéro {n}")
        return generate_convention(payload, self.app, today=date(2024, 1, 15), now=NOW).version.convention_id


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pool: Any) -> Iterator[Server]:
    from dossiers.entrypoints.api import create_app

    settings = Settings(var_dir=tmp_path_factory.mktemp("evenements"), api_rate_limit=100_000, api_rate_burst=10_000)
    with App(settings, converter=pool, clock=Clock(fixed=NOW)) as app:
        tokens = {}
        for name, role, deps in (("portail", "portail", ()), ("portail33", "portail", ("33",)),
                                 ("portail75", "portail", ("75",)), ("instr33", "instructeur", ("33",)),
                                 ("instr75", "instructeur", ("75",)), ("admin", "admin", ())):
            tokens[name], _ = create_token(app, role=role, departements=deps, nom=name, now=NOW)
        with serve_asgi(create_app(app), _free_port()) as base, httpx.Client(base_url=base, timeout=60) as client:
            yield Server(app, client, tokens)


def poste(body: dict[str, Any], poste_id: str) -> dict[str, Any]:
    return next(p for p in body["postes"] if p["id"] == poste_id)


def timeline(body: dict[str, Any], poste_id: str) -> dict[str, Any]:
    return next(c for c in body["chronologies"] if c["poste"] == poste_id)


# -- each event type ------------------------------------------------------------------------------------

def test_a_fin_contrat_makes_the_poste_vacant_the_next_day(server: Server) -> None:
    cid = server.convention()
    r = server.post("portail", cid, "P-2", {"request_id": "E-1", "type": "fin_contrat", "poste": "P-2",
                                            "date": "2025-03-31", "motif": "demission"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["convention_id"], body["poste"], body["type"], body["enregistre"], body["version"], body["date"]) == (
        cid, "P-2", "fin_contrat", True, 1, TODAY)
    assert poste(body, "P-2") == {"id": "P-2", "etat": "vacant", "vacant_depuis": "2025-04-01", "contrat": None,
                                  "absence": None}
    read = server.postes(cid)
    assert poste(read, "P-2") == poste(body, "P-2")
    t = timeline(read, "P-2")
    assert t["occupations"][0] == {"conseiller": "Karim Bouzid", "type": "CDI", "debut": "2023-10-01",
                                        "fin_prevue": None, "fin": "2025-03-31", "motif_fin": "demission",
                                        "source": "demande", "source_fin": "portail"}
    assert t["vacances"] == [{"depuis": "2025-04-01", "jusqu_au": None, "motif": "demission", "source": "portail"}]
    before = server.postes(cid, "2025-03-31")
    assert poste(before, "P-2")["etat"] == "occupe"  # the situation is read on the day asked


def test_a_recrutement_fills_a_vacant_poste(server: Server) -> None:
    cid = server.convention()
    r = server.post("portail33", cid, "P-3", {
        "request_id": "E-2", "type": "recrutement", "conseiller": {"prenom": "Awa", "nom": "Diallo"},
        "contrat": {"type": "CDD", "date_debut": "2025-02-01", "date_fin": "2026-01-31"}})
    assert r.status_code == 201, r.text
    expected = {"id": "P-3", "etat": "occupe", "vacant_depuis": None, "absence": None, "contrat": {
        "conseiller": "Awa Diallo", "type": "CDD", "date_debut": "2025-02-01", "date_fin": "2026-01-31"}}
    assert poste(r.json(), "P-3") == expected
    read = server.postes(cid)
    assert poste(read, "P-3") == expected
    assert timeline(read, "P-3")["vacances"] == [{"depuis": "2024-03-01", "jusqu_au": "2025-01-31",
                                                  "motif": "jamais_pourvu", "source": "demande"}]


def test_a_prolongation_moves_the_planned_end_or_makes_a_cdi(server: Server) -> None:
    cid = server.convention()
    r = server.post("portail", cid, "P-1", {"request_id": "E-3", "type": "prolongation", "date_fin": "2026-06-30"})
    assert r.status_code == 201, r.text
    assert poste(r.json(), "P-1")["contrat"]["date_fin"] == "2026-06-30"
    assert poste(server.postes(cid, "2025-12-01"), "P-1")["etat"] == "occupe"  # past the first planned end
    r = server.post("portail", cid, "P-1", {"request_id": "E-4", "type": "prolongation", "cdi": True})
    assert r.status_code == 201, r.text
    assert poste(r.json(), "P-1")["contrat"] == {"conseiller": "Inès Témoin-Lefèvre", "type": "CDI",
                                                      "date_debut": "2024-01-01", "date_fin": None}
    assert poste(server.postes(cid, "2026-12-31"), "P-1")["contrat"]["type"] == "CDI"


def test_an_absence_is_in_the_situation_and_an_unjustified_one_is_flagged(server: Server) -> None:
    cid = server.convention()
    r = server.post("portail", cid, "P-2", {"request_id": "E-5", "type": "absence", "du": "2025-06-01",
                                            "au": "2025-06-30", "motif": "maladie"})
    assert r.status_code == 201, r.text
    assert poste(r.json(), "P-2")["absence"] == {"du": "2025-06-01", "au": "2025-06-30", "motif": "maladie",
                                                 "justifiee": False}
    r = server.post("portail", cid, "P-2", {"request_id": "E-6", "type": "absence", "du": "2025-09-01",
                                            "motif": "parental", "justifiee": True})
    assert r.status_code == 201, r.text
    read = server.postes(cid)
    assert poste(read, "P-2")["etat"] == "occupe" and poste(read, "P-2")["absence"]["motif"] == "maladie"
    assert [(a["motif"], a["justifiee"], a["signalee"], a["source"]) for a in timeline(read, "P-2")["absences"]] == [
        ("maladie", False, True, "portail"), ("parental", True, False, "portail")]
    assert poste(server.postes(cid, "2025-07-15"), "P-2")["absence"] is None


# -- idempotence, conflicts, versions ---------------------------------------------------------------------

def test_the_same_request_again_is_200_not_recorded_twice(server: Server) -> None:
    cid = server.convention()
    event = {"request_id": "E-7", "type": "fin_contrat", "date": "2025-03-31", "motif": "licenciement"}
    first = server.post("portail", cid, "P-2", event)
    again = server.post("portail", cid, "P-2", {**event, "poste": "P-2"})  # the URL's poste, stated
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["enregistre"] is False and again.json()["postes"] == first.json()["postes"]
    assert len(timeline(server.postes(cid), "P-2")["occupations"]) == 1


def test_the_same_request_id_with_another_content_is_a_409_and_nothing_is_recorded(server: Server) -> None:
    cid = server.convention()
    assert server.post("portail", cid, "P-2", {"request_id": "E-8", "type": "fin_contrat", "date": "2025-03-31",
                                               "motif": "demission"}).status_code == 201
    before = server.postes(cid)
    r = server.post("portail", cid, "P-2", {"request_id": "E-8", "type": "fin_contrat", "date": "2025-04-30",
                                            "motif": "demission"})
    assert r.status_code == 409 and r.json()["code"] == "requete_conflit", r.text
    assert "request_id" in r.json()["message"]
    r = server.post("portail", cid, "P-3", {"request_id": "E-8", "type": "recrutement",
                                            "conseiller": {"prenom": "A", "nom": "B"},
                                            "contrat": {"type": "CDI", "date_debut": "2025-02-01"}})
    assert r.status_code == 409 and r.json()["code"] == "requete_conflit"
    assert server.postes(cid) == before


def test_a_stale_version_is_a_409(server: Server) -> None:
    cid = server.convention()
    ok = server.post("portail", cid, "P-2", {"request_id": "E-9", "type": "absence", "du": "2025-05-01",
                                             "motif": "autre", "version": 1})
    assert ok.status_code == 201, ok.text
    r = server.post("portail", cid, "P-2", {"request_id": "E-10", "type": "absence", "du": "2025-06-01",
                                            "motif": "autre", "version": 2})
    assert r.status_code == 409 and r.json()["code"] == "version_perimee", r.text
    assert "version" in r.json()["message"]
    assert len(timeline(server.postes(cid), "P-2")["absences"]) == 1


# -- refusals: 422 naming the field, nothing recorded -------------------------------------------------------

INVALID = [
    ("date invalide", "P-2", {"type": "fin_contrat", "date": "2025-02-30", "motif": "demission"}, "date"),
    ("motif inconnu", "P-2", {"type": "fin_contrat", "date": "2025-03-31", "motif": "lassitude"}, "motif"),
    ("motif d'absence inconnu", "P-2", {"type": "absence", "du": "2025-03-01", "motif": "vacances"}, "motif"),
    ("CDI avec date_fin", "P-3", {"type": "recrutement", "conseiller": {"prenom": "A", "nom": "B"},
                                  "contrat": {"type": "CDI", "date_debut": "2025-02-01", "date_fin": "2026-01-31"}},
     "contrat.date_fin"),
    ("champ inconnu", "P-2", {"type": "fin_contrat", "date": "2025-03-31", "motif": "demission", "montant": 1},
     "montant"),
    ("poste incohérent", "P-2", {"type": "fin_contrat", "poste": "P-3", "date": "2025-03-31", "motif": "demission"},
     "poste"),
    ("type inconnu", "P-2", {"type": "mutation", "date": "2025-03-31"}, "type"),
]


@pytest.mark.parametrize("label, poste_id, event, field", INVALID, ids=[i[0] for i in INVALID])
def test_an_invalid_event_is_422_naming_the_field_in_french(server: Server, label: str, poste_id: str,
                                                            event: dict[str, Any], field: str) -> None:
    cid = server.convention()
    before = server.postes(cid)
    r = server.post("portail", cid, poste_id, {"request_id": "E-bad", **event})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "evenement_invalide"
    assert field in [e["champ"] for e in body["erreurs"]], body
    assert all(e["message"] for e in body["erreurs"]) and "refusé" in body["message"]
    assert server.postes(cid) == before
    # the request id was not used up: the right event goes through under it
    assert server.post("portail", cid, "P-2", {"request_id": "E-bad", "type": "absence", "du": "2025-03-03",
                                               "motif": "autre"}).status_code == 201


@pytest.mark.parametrize("poste_id, event, words", [
    ("P-1", {"type": "recrutement", "conseiller": {"prenom": "Awa", "nom": "Diallo"},
             "contrat": {"type": "CDI", "date_debut": "2025-02-01"}}, ("occupé", "Inès Témoin-Lefèvre", "fin_contrat")),
    ("P-3", {"type": "fin_contrat", "date": "2025-03-31", "motif": "demission"}, ("aucun contrat en cours",)),
    ("P-3", {"type": "absence", "du": "2025-03-01", "motif": "maladie"}, ("aucun conseiller",)),
    ("P-2", {"type": "prolongation", "date_fin": "2026-01-31"}, ("prolonger",)),
    ("P-2", {"type": "fin_contrat", "date": "2027-03-31", "motif": "demission"}, ("après la fin de la convention",)),
], ids=["recrutement-occupe", "fin-vacant", "absence-vacant", "prolongation-cdi", "apres-la-convention"])
def test_an_event_that_contradicts_the_postes_life_is_422(server: Server, poste_id: str, event: dict[str, Any],
                                                         words: tuple[str, ...]) -> None:
    cid = server.convention()
    before = server.postes(cid)
    r = server.post("portail", cid, poste_id, {"request_id": "E-contra", **event})
    assert r.status_code == 422 and r.json()["code"] == "evenement_invalide", r.text
    assert f"Poste {poste_id}" in r.json()["message"]
    for word in words:
        assert word in r.json()["message"]
    assert server.postes(cid) == before


def test_an_unknown_poste_is_422(server: Server) -> None:
    cid = server.convention()
    r = server.post("portail", cid, "P-9", {"request_id": "E-11", "type": "absence", "du": "2025-03-01",
                                            "motif": "autre"})
    assert r.status_code == 422 and r.json()["code"] == "poste_inconnu", r.text
    assert "P-9" in r.json()["message"] and "P-1, P-2, P-3" in r.json()["message"]


# -- scope and roles ---------------------------------------------------------------------------------------

def test_another_departements_portal_gets_404_and_an_instructeur_cannot_post(server: Server) -> None:
    cid = server.convention()
    event = {"request_id": "E-12", "type": "fin_contrat", "date": "2025-03-31", "motif": "demission"}
    r = server.post("portail75", cid, "P-2", event)
    assert r.status_code == 404, r.text
    unknown = server.post("portail75", cid.replace("STR-", "STR-9"), "P-2", event)
    assert unknown.status_code == 404 and unknown.json()["code"] == r.json()["code"]
    r = server.post("instr33", cid, "P-2", event)
    assert r.status_code == 403 and r.json()["code"] == "droit_insuffisant"
    assert server.get("instr75", f"/v1/conventions/{cid}/postes").status_code == 404
    assert server.get("portail33", f"/v1/conventions/{cid}/postes").status_code == 403
    read = server.get("instr33", f"/v1/conventions/{cid}/postes")
    assert read.status_code == 200 and read.json()["date"] == TODAY  # the server's day by default
    assert poste(read.json(), "P-2")["etat"] == "occupe"  # nothing was recorded


@pytest.mark.parametrize("jour", ["2025-13-01", "9999-12-31", "0001-01-01"])
def test_a_bad_or_far_date_in_the_query_is_422(server: Server, jour: str) -> None:
    cid = server.convention()
    r = server.get("instr33", f"/v1/conventions/{cid}/postes?date={jour}")  # 9999-12-31 was a 500 (OverflowError)
    assert r.status_code == 422 and r.json()["erreurs"][0]["champ"] == "date", r.text
    assert server.get("instr33", f"/v1/conventions/{cid}/postes?date=2999-12-31").status_code == 200


# -- transfers -----------------------------------------------------------------------------------------------

def _versions(server: Server, cid: str) -> list[int]:
    r = server.get("admin", f"/v1/conventions/{cid}")
    assert r.status_code == 200, r.text
    return [v["numero"] for v in r.json()["versions"]]


def test_a_transfer_in_the_same_departement_makes_both_avenants_and_the_poste_moves(server: Server) -> None:
    a, b = server.convention(), server.convention()
    structure_b = server.app.catalog.get_convention(b).structure_id
    postes_b = [p["id"] for p in server.postes(b)["postes"]]
    event = {"request_id": "T-1", "type": "transfert", "date": "2025-04-30", "vers": {"structure_id": structure_b}}
    r = server.post("portail33", a, "P-2", event)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["version"] == 2 and poste(body, "P-2")["etat"] == "rendu"
    assert sorted((x["convention_id"], x["version"]) for x in body["avenants"]) == sorted([(a, 2), (b, 2)])
    assert _versions(server, a) == [1, 2] and _versions(server, b) == [1, 2]
    assert timeline(server.postes(a), "P-2")["transfere_le"] == "2025-04-30"
    assert poste(server.postes(a, "2025-04-30"), "P-2")["etat"] == "occupe"
    after_b = server.postes(b)
    arrived = [p for p in after_b["postes"] if p["id"] not in postes_b]
    assert len(arrived) == 1 and arrived[0]["etat"] == "occupe"
    assert arrived[0]["contrat"] == {"conseiller": "Karim Bouzid", "type": "CDI", "date_debut": "2023-10-01",
                                     "date_fin": None}
    assert timeline(after_b, arrived[0]["id"])["debut_financement"] == "2025-05-01"
    assert [o["source"] for o in timeline(after_b, arrived[0]["id"])["occupations"]] == ["transfert"]
    again = server.post("portail33", a, "P-2", event)
    assert again.status_code == 200 and again.json()["enregistre"] is False
    assert sorted(x["version"] for x in again.json()["avenants"]) == [2, 2]
    assert _versions(server, a) == [1, 2] and _versions(server, b) == [1, 2]
    later = server.post("portail33", a, "P-2", {"request_id": "T-2", "type": "absence", "du": "2025-05-02",
                                                "motif": "autre"})
    assert later.status_code == 422 and later.json()["code"] == "evenement_invalide"


def test_a_transfer_to_another_departement_needs_a_derogation(server: Server) -> None:
    a, paris = server.convention(), server.convention("75")
    structure = server.app.catalog.get_convention(paris).structure_id
    event = {"request_id": "T-3", "type": "transfert", "date": "2025-04-30", "vers": {"structure_id": structure}}
    hidden = server.post("portail33", a, "P-2", event)  # the target is outside the token's départements
    assert hidden.status_code == 404, hidden.text
    r = server.post("portail", a, "P-2", event)
    assert r.status_code == 422 and r.json()["code"] == "regle_gestion_2025", r.text
    assert "derogation" in r.json()["message"] and "(33)" in r.json()["message"] and "(75)" in r.json()["message"]
    assert _versions(server, a) == [1] and _versions(server, paris) == [1]
    assert poste(server.postes(a), "P-2")["etat"] == "occupe"
    r = server.post("admin", a, "P-2", {**event, "request_id": "T-4", "derogation": {"reference": "DEROG-2025-017"}})
    assert r.status_code == 201, r.text
    assert _versions(server, a) == [1, 2] and _versions(server, paris) == [1, 2]
    assert len(server.postes(paris)["postes"]) == 4


def test_a_transfer_to_an_unknown_structure_is_404(server: Server) -> None:
    a = server.convention()
    r = server.post("admin", a, "P-2", {"request_id": "T-5", "type": "transfert", "date": "2025-04-30",
                                        "vers": {"structure_id": "STR-999999"}})
    assert r.status_code == 404, r.text
    assert _versions(server, a) == [1]

