"""Batch re-issue on a seeded catalog: the plan's figures against an independent recomputation,
runs that never issue twice, obsolete conventions, and a worker killed in the middle of a run.

Real parts: SQLite (in process) or PostgreSQL + Redis + `dramatiq` processes (crash test), the
LibreOffice pool, local storage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from dossiers.adapters.catalog.tables import VersionRow
from dossiers.bootstrap import App
from dossiers.domain.etat import EtatConvention, StatutConvention
from dossiers.domain.model import Nature
from dossiers.domain.reemission import ItemStatut, request_id_for
from dossiers.services import reemission
from dossiers.services.avenants import amend
from dossiers.services.seed import seed
from dossiers.settings import Settings
from tests.walk import expected_restitutions

pytestmark = pytest.mark.libreoffice
AS_OF = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 10, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
CONUM = [sys.executable, "-m", "dossiers.entrypoints"]


@pytest.fixture
def app(tmp_path: Path, pool: Any) -> Iterator[App]:
    if os.environ.get("BROKER_URL"):
        pytest.skip("these runs use the in-process broker")
    from workers import runtime

    with App(Settings(var_dir=tmp_path / "var"), converter=pool) as application:
        seed(application, structures=120, seed=11, as_of=date(2026, 11, 1))
        runtime.use_app(application)
        try:
            yield application
        finally:
            runtime.use_app(None)


def version_count(app: App) -> int:
    with app.catalog.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(VersionRow)) or 0)


# -- an independent recomputation of the May 2025 rule (6 months) ----------------------------------

def anniversary(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


def due(etat: EtatConvention, ends: dict[str, date], amounts: dict[tuple[str, int], Decimal]) -> list[Decimal]:
    """Per year, Σ postes round_half_up(annual amount × funded days / days of the year)."""
    (nature,) = {n for _, n in etat.natures}
    years, k = [], 0
    while (start := anniversary(etat.date_debut, k)) <= etat.date_fin:
        end = min(anniversary(etat.date_debut, k + 1) - timedelta(days=1), etat.date_fin)
        total = Decimal("0.00")
        for p in etat.postes:
            last = min(ends.get(p.id, p.fin or etat.date_fin), end)
            first = max(p.debut, start)
            if first <= last:
                annual = amounts[(str(nature), k + 1)]
                total += (annual * ((last - first).days + 1) / ((end - start).days + 1)).quantize(
                    Decimal("0.01"), rounding=ROUND_HALF_UP)
        years.append(total)
        k += 1
    return years


def expected_plan(app: App) -> dict[str, tuple[Decimal, Decimal, Decimal, tuple[str, ...]]]:
    """{convention: (dû avant, dû après, à reverser en plus, postes rendus)} for single-nature ones."""
    found = {}
    for cid, _dep, _nature, _numero, _modele, etat in app.catalog.current_states():
        if etat.statut is not StatutConvention.ACTIVE or AS_OF > etat.date_fin or len(etat.natures) != 1:
            continue
        ends, _cases = expected_restitutions(etat, AS_OF)  # the postes' lives walked day by day (tests.walk)
        if not ends:
            continue
        regles = app.rules.get(etat.regles)
        amounts = {}
        for nature in Nature:
            bareme = regles.bareme(nature)
            for i, amount in enumerate(bareme.annees, 1):
                bonus = bareme.bonification[i - 1] if (nature is Nature.PUBLIQUE and etat.zone_prioritaire
                                                      and bareme.bonification) else Decimal(0)
                amounts[(str(nature), i)] = amount + bonus
        before, after = due(etat, {}, amounts), due(etat, ends, amounts)
        paid = [sum((x.montant for x in etat.paiements if x.annee == y), Decimal("0.00")) for y in range(1, len(before) + 1)]
        owed = sum(max(Decimal(0), v - a) - max(Decimal(0), v - b) for v, a, b in zip(paid, after, before, strict=True))
        found[cid] = (sum(before), sum(after), owed, tuple(sorted(ends)))
    return found


def test_plan_figures_match_an_independent_recomputation_and_write_only_the_plan(app: App) -> None:
    versions = version_count(app)
    plan, impacts = reemission.plan(app, regles="regles-2025-05", modele=None, as_of=AS_OF, now=NOW)
    assert version_count(app) == versions  # nothing issued
    expected = expected_plan(app)
    mono = {i.convention_id: i for i in impacts if i.convention_id in expected}
    assert len(expected) >= 10 and set(mono) == set(expected)
    for cid, (before, after, owed, postes) in expected.items():
        i = mono[cid]
        assert (i.du_avant, i.du_apres, i.a_reverser, tuple(sorted(i.postes_rendus))) == (before, after, owed, postes), cid
    stored = app.catalog.plan_items(plan.id)
    assert [s.impact.convention_id for s in stored] == sorted(i.convention_id for i in impacts)
    total = plan.totaux["total"]
    assert total["conventions"] == len(impacts) == plan.totaux["total"]["conventions"]
    assert Decimal(total["difference_eur"]) == sum(i.difference for i in impacts) < 0
    assert sum(d["conventions"] for d in plan.totaux["par_departement"].values()) == len(impacts)
    assert sum(Decimal(d["a_reverser_eur"]) for d in plan.totaux["par_nature"].values()) == Decimal(total["a_reverser_eur"])
    assert plan.examinees == 120


def run(app: App, plan_id: str) -> list[Any]:
    from workers.actors import reissue_convention
    from workers.submit import submit_many

    todo = app.catalog.plan_items(plan_id, statuts=[ItemStatut.A_FAIRE, ItemStatut.ECHEC])
    return submit_many(app, reissue_convention, [({"plan_id": plan_id, "convention_id": i.impact.convention_id},
                                                   f"reemission:{plan_id}:{i.impact.convention_id}") for i in todo])


def test_a_run_issues_each_avenant_once_and_a_second_run_nothing(app: App) -> None:
    plan, impacts = reemission.plan(app, regles="regles-2025-05", modele=None, as_of=AS_OF, now=NOW)
    before = version_count(app)
    jobs = run(app, plan.id)
    assert len(jobs) == len(impacts) and {str(j.status) for j in jobs} == {"succeeded"}
    assert version_count(app) == before + len(impacts)
    assert reemission.progress(app, plan.id).to_dict() == {
        "total": len(impacts), "emises": len(impacts), "obsoletes": 0, "echecs": 0, "restantes": 0, "termine": True}
    one = impacts[0]
    issued = app.catalog.find_version_by_request(one.convention_id, request_id_for(plan.id))
    assert issued.numero == one.base_version + 1 and issued.document_type == "avenant"
    assert issued.montant_total == one.du_apres and {d.kind for d in issued.documents} == {"docx", "pdf"}
    assert run(app, plan.id) == [] and version_count(app) == before + len(impacts)
    # planning again on the re-issued catalog finds nothing left to give back
    again, found = reemission.plan(app, regles="regles-2025-05", modele=None, as_of=AS_OF, now=NOW)
    assert found == [] and again.totaux["total"]["conventions"] == 0


def test_a_convention_amended_after_planning_is_skipped_as_obsolete(app: App) -> None:
    plan, impacts = reemission.plan(app, regles="regles-2025-05", modele=None, as_of=AS_OF, now=NOW)
    changed = impacts[0].convention_id
    etat_fin = next(e for c, *_, e in app.catalog.current_states() if c == changed).date_fin
    amend(changed, {"type": "resiliation", "request_id": "resil-1", "motif": "anticipee",
                    "date_effet": min(etat_fin, AS_OF).isoformat()}, app, today=AS_OF, now=NOW)
    run(app, plan.id)
    item = app.catalog.plan_item(plan.id, changed)
    assert item.statut == ItemStatut.OBSOLETE and "version" in item.message
    assert app.catalog.find_version_by_request(changed, request_id_for(plan.id)) is None
    p = reemission.progress(app, plan.id)
    assert (p.obsoletes, p.emises, p.restantes) == (1, len(impacts) - 1, 0)
    csv = reemission.report_csv(app.catalog.plan_items(plan.id))
    assert f"{changed};" in csv and ";obsolete;" in csv


def test_a_template_plan_reissues_the_wording_only_and_a_bareme_plan_changes_amounts(app: App, tmp_path: Path) -> None:
    installed = app.template("avenant")[1].version
    with pytest.raises(Exception, match="indisponible"):
        reemission.plan(app, regles=None, modele="1999.1", as_of=AS_OF, now=NOW)
    plan, impacts = reemission.plan(app, regles=None, modele=installed, as_of=AS_OF, now=NOW)
    assert impacts == []  # every seeded convention is already on the installed templates' version
    # a corrected barème for vague 2: 18 000 € the first year instead of 17 500 € (public)
    rules = tmp_path / "rules"
    rules.mkdir()
    for f in (ROOT / "config" / "rules").glob("*.toml"):
        (rules / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    text = (rules / "vague-2.toml").read_text(encoding="utf-8")
    (rules / "vague-2-corrige.toml").write_text(text.replace('annees = ["17500.00"', 'annees = ["18000.00"')
                                                .replace('"vague 2 — reconventionnement"', '"vague 2 corrigée"'),
                                                encoding="utf-8")
    with App(Settings(var_dir=app.settings.var_dir, rules_dir=rules), converter=app.converter) as other:
        plan, impacts = reemission.plan(other, regles="vague-2-corrige", modele=None, as_of=AS_OF, now=NOW)
        assert impacts and {i.kind for i in impacts} == {"montants"}
        # only a public period's amounts change: a private convention is left alone
        assert all(i.du_apres > i.du_avant for i in impacts) and "publique" in {i.nature for i in impacts}
        assert len(impacts) < sum(1 for *_, e in other.catalog.current_states()
                                  if e.vague == 2 and e.statut is StatutConvention.ACTIVE)
        i = impacts[0]
        outcome = reemission.reissue_item(other, plan.id, i.convention_id, today=AS_OF, now=NOW)
        assert outcome.statut == ItemStatut.EMISE
        v = other.catalog.find_version(i.convention_id, outcome.version)
        assert v.regles == "vague-2-corrige" and v.montant_total == i.du_apres
        assert "Réémission" in v.motif


# -- a worker killed in the middle, then the plan run again ---------------------------------------

@pytest.mark.redis
@pytest.mark.postgres
def test_a_killed_worker_then_a_rerun_ends_with_each_convention_reissued_exactly_once(
        tmp_path: Path, postgres_server: Any, redis_url: str, pool_urls: str) -> None:
    from tests.e2e.test_workers_redis import Workers, worker_env

    env = worker_env(tmp_path, database_url=postgres_server.create_database(), broker_url=redis_url,
                     converter_urls=pool_urls)

    def conum(*args: str, timeout: float = 300) -> dict[str, Any]:
        done = subprocess.run([*CONUM, *args, "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]

    conum("seed", "--structures", "600", "--seed", "5")  # about 56 conventions to re-issue
    plan = conum("reissue", "plan", "--rules", "regles-2025-05", "--as-of", AS_OF.isoformat())
    affected = plan["total"]["conventions"]
    assert affected >= 40  # enough for the kill to land mid-run
    assert "arret_financement" in plan["avertissements"][0]  # the unsourced cut-off day is said each time
    submitted = conum("reissue", "run", plan["plan_id"], "--detach")
    assert submitted["soumises"] == affected and submitted["restantes"] == affected

    workers = Workers(env, tmp_path / "workers-1.log", processes=1, threads=2, reemissions=True)
    try:
        workers.wait_ready()
        deadline = time.monotonic() + 120
        while conum("reissue", "status", plan["plan_id"])["emises"] < 3:
            assert time.monotonic() < deadline, workers.tail()
            time.sleep(0.3)
        workers.kill()  # kill -9 in the middle of the run
    finally:
        workers.stop()
    middle = conum("reissue", "status", plan["plan_id"])
    assert 3 <= middle["emises"] < affected

    again = Workers(env, tmp_path / "workers-2.log", processes=1, threads=2, reemissions=True)
    try:
        again.wait_ready()
        rerun = conum("reissue", "run", plan["plan_id"], "--detach")
        assert rerun["soumises"] <= affected - middle["emises"]  # what was issued is skipped
        deadline = time.monotonic() + 300
        while not (status := conum("reissue", "status", plan["plan_id"]))["termine"]:
            assert time.monotonic() < deadline, again.tail()
            time.sleep(0.5)
    finally:
        again.stop()
    assert (status["emises"], status["obsoletes"], status["echecs"]) == (affected, 0, 0), status

    # exactly one avenant per convention for this plan, versions contiguous
    import sqlalchemy

    engine = sqlalchemy.create_engine(env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text(
                "select convention_id, count(*) from convention_versions where request_id = :r group by convention_id"),
                {"r": request_id_for(plan["plan_id"])}).all()
            gaps = conn.execute(sqlalchemy.text(
                "select convention_id from convention_versions group by convention_id "
                "having max(numero) <> count(*)")).all()
    finally:
        engine.dispose()
    assert len(rows) == affected and all(n == 1 for _, n in rows)
    assert gaps == []
