"""A re-issue plan under the May 2025 rules on a seeded catalog whose postes have lived (recruitments,
ends of contract, prolongations, absences recorded as events), against an independent recomputation.

The recomputation (``tests.walk``) is deliberately naive and shares no code with the domain: it
walks each poste day by day and looks at every run of vacant days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dossiers.bootstrap import App
from dossiers.domain.etat import StatutConvention
from dossiers.domain.postes import Source
from dossiers.services import reemission
from dossiers.services.seed import seed
from dossiers.settings import Settings
from tests.walk import APPLICATION, ONE_DAY, expected_restitutions, six_months_after

AS_OF = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path, catalog_url: str) -> Iterator[App]:
    with App(Settings(var_dir=tmp_path / "var", database_url=catalog_url)) as application:
        seed(application, structures=300, seed=7, as_of=AS_OF)
        yield application


def test_the_plan_gives_back_exactly_the_postes_a_day_by_day_walk_finds(app: App) -> None:
    plan, impacts = reemission.plan(app, regles="regles-2025-05", modele=None, as_of=AS_OF, now=NOW)
    planned = {i.convention_id: {p["id"]: date.fromisoformat(p["date_fin_contrat"]) for p in i.change["postes"]}
               for i in impacts}
    expected: dict[str, dict[str, date]] = {}
    cases: Counter[str] = Counter()
    boundary: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for cid, _dep, _nature, _numero, _modele, etat in app.catalog.current_states():
        assert etat is not None
        sources.update(str(e.source) for e in etat.evenements)
        if etat.statut is not StatutConvention.ACTIVE or AS_OF > etat.date_fin:
            continue
        rendus, found = expected_restitutions(etat, AS_OF)
        if rendus:
            expected[cid] = rendus
        for case, run in found.values():
            cases[case] += 1
            if run is not None and run.closed_by_recruitment and run.jusqu_au >= APPLICATION:
                limit = six_months_after(run.depuis)
                if limit - ONE_DAY <= run.jusqu_au <= limit + ONE_DAY:
                    boundary[f"{(run.jusqu_au - limit).days:+d}"] += 1
    assert planned == expected
    for i in impacts:
        assert tuple(i.postes_rendus) == tuple(planned[i.convention_id]) and i.du_apres <= i.du_avant
    assert plan.totaux["total"]["postes_rendus"] == sum(len(p) for p in expected.values())
    # the seeded population has the cases the rule is about
    assert set(sources) == {str(Source.PILOTAGE)}
    apres_fin = cases["rendu_apres_expiree"] + cases["rendu_apres_fin_cdd"]
    apres_depart = sum(cases[f"rendu_apres_{m}"] for m in ("demission", "rupture_conventionnelle", "licenciement",
                                                           "rupture_employeur", "autre"))
    assert apres_fin >= 5 and apres_depart >= 5, cases
    assert cases["rendu_jamais_pourvu"] >= 5 and cases["garde_recrute_a_temps"] >= 20, cases
    assert boundary["+0"] + boundary["-1"] >= 1 and boundary["+1"] >= 1, boundary  # one day short / over the limit
