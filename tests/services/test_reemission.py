"""A re-issue batch on a small population, on fakes: the plan finds the conventions the May 2025 rules change
(a poste vacant for more than six months given back) and only those, writing no version; each item issues its
avenant once; an item whose convention changed since planning is skipped as obsolete; the progress, the
report and the plan's export say so."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from dossiers.bootstrap import App
from dossiers.domain.reemission import ItemStatut, request_id_for
from dossiers.services import reemission
from dossiers.services.avenants import amend
from dossiers.services.exports import plan_table, to_csv
from dossiers.services.generation import generate_convention
from tests.factories import demande
from tests.services.conftest import pdf_text

AS_OF = date(2025, 6, 1)
NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
GIRONDE, PARIS, PLEINE = "CN-V2-STR-000123", "CN-V2-STR-000750", "CN-V2-STR-000124"


@pytest.fixture
def app(fakes_app: App) -> App:
    """Three conventions from 2024-01-01: Gironde's and Paris's P-3 vacant since 2024-03-01; the third's
    postes all occupied."""
    occupe = {"id": "P-3", "etat": "occupe", "conseiller": {"prenom": "Léa", "nom": "Roux"},
              "contrat": {"type": "CDI", "date_debut": "2024-01-01"}}
    base = demande()
    for payload in (base, demande(structure__id="STR-000750", structure__departement="75",
                                  structure__siret="21750001600019", structure__adresse="1 rue de Rivoli, 75001 Paris"),
                    demande(structure__id="STR-000124", postes=[*base["postes"][:2], occupe])):
        generate_convention(payload, fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    return fakes_app


def test_the_plan_finds_the_conventions_concerned_and_each_item_is_issued_once(app: App) -> None:
    plan, impacts = reemission.plan(app, regles="regles-2025-05", modele=None, as_of=AS_OF, now=NOW)
    assert plan.examinees == 3 and sorted(i.convention_id for i in impacts) == [GIRONDE, PARIS]
    assert {i.postes_rendus for i in impacts} == {("P-3",)} and {i.departement for i in impacts} == {"33", "75"}
    gironde = next(i for i in impacts if i.convention_id == GIRONDE)
    assert gironde.du_apres < gironde.du_avant and gironde.base_version == 1
    assert app.catalog.find_version(GIRONDE, 2) is None  # planning writes no version

    done = reemission.reissue_item(app, plan.id, GIRONDE, today=AS_OF, now=NOW)
    assert (done.statut, done.version) == (ItemStatut.EMISE, 2)
    issued = app.catalog.find_version_by_request(GIRONDE, request_id_for(plan.id))
    assert issued is not None and issued.montant_total == gironde.du_apres and issued.document_type == "avenant"
    assert "P-3" in pdf_text(app, issued)
    again = reemission.reissue_item(app, plan.id, GIRONDE, today=AS_OF, now=NOW)
    assert (again.statut, again.version) == (ItemStatut.EMISE, 2) and app.catalog.find_version(GIRONDE, 3) is None
    assert reemission.progress(app, plan.id).to_dict() == {
        "total": 2, "emises": 1, "obsoletes": 0, "echecs": 0, "restantes": 1, "termine": False}
    assert reemission.progress(app, plan.id, departements=("75",)).restantes == 1


def test_a_convention_changed_after_planning_is_obsolete_and_reported(app: App) -> None:
    plan, _ = reemission.plan(app, regles="regles-2025-05", modele=None, as_of=AS_OF, now=NOW)
    amend(PARIS, {"request_id": "R-1", "type": "retrait_postes", "postes": [{"id": "P-3", "date_fin_contrat": "2025-04-30"}]},
          app, today=AS_OF, now=NOW)
    skipped = reemission.reissue_item(app, plan.id, PARIS, today=AS_OF, now=NOW)
    assert skipped.statut == ItemStatut.OBSOLETE and "version 1 (plan) à la version 2" in (skipped.message or "")
    assert app.catalog.find_version_by_request(PARIS, request_id_for(plan.id)) is None
    reemission.reissue_item(app, plan.id, GIRONDE, today=AS_OF, now=NOW)
    assert reemission.progress(app, plan.id).finished
    report = reemission.report_csv(app.catalog.plan_items(plan.id))
    assert f"{PARIS};75;" in report and ";obsolete;" in report and ";emise;2;" in report
    rows = to_csv(plan_table(app, plan.id)).decode("utf-8-sig").splitlines()
    assert len(rows) == 3 and any(r.startswith(f"{GIRONDE};33;") for r in rows)
    again, found = reemission.plan(app, regles="regles-2025-05", modele=None, as_of=AS_OF, now=NOW)
    assert found == [] and again.totaux["total"]["conventions"] == 0
