"""The barème plan after the corrections of issue 16, on a catalog seeded by the code from before them.

``tests/fixtures/catalogues/conum-seed-9b9ea2b.sql`` was made by main at commit 9b9ea2b (before the
vague-1 private amount went from 32 000 € to 40 000 €, before a change of nature was priced per day of
each nature's own year, before outre-mer vague-1 conventions were refused):

    git worktree add /tmp/old 9b9ea2b && cd /tmp/old
    CONUM_VAR_DIR=/tmp/seed python -m dossiers.entrypoints seed --structures 150 --seed 16 --as-of 2026-11-01
    (then dumped as SQL text: ``tests/fixtures/catalogues``)

``conum reissue plan --rules vague-1`` (as typed, on the migrated copy) must list exactly the
conventions whose issued amounts differ from an independent recomputation: a day-by-day walk over each
poste's funded days with the amounts read from the TOML files, nothing from ``dossiers``. Worked
example (by hand): CN-V1-STR-S16-000004, private, 2 postes funded the whole 18 months, issued at
2 × (21 333,33 + 10 666,67) = 64 000,00 €, now 2 × (26 666,67 + 13 333,33) = 80 000,00 €.

Real parts: the CLI in a subprocess, SQLite, local storage, the LibreOffice pool for the avenants.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tomllib
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from dossiers.settings import ENV_VARS
from tests.e2e.test_generate import docx_text
from tests.fixtures.catalogues import restore

pytestmark = pytest.mark.libreoffice
ROOT = Path(__file__).resolve().parents[2]
CONUM = [sys.executable, "-m", "dossiers.entrypoints"]
AS_OF = "2026-12-07"
OUTRE_MER = ("971", "972", "973", "974", "975", "976")


# -- an independent recomputation ----------------------------------------------------------------

def months_later(day: date, months: int) -> date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):  # the last day of a shorter month
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError(day)


def baremes(vague: int) -> dict[str, tuple[int, list[Decimal], list[Decimal]]]:
    """{nature: (months of its own period, amount per own year, QPV/ZRR bonus per own year)}."""
    data = tomllib.loads((ROOT / "config" / "rules" / f"vague-{vague}.toml").read_text(encoding="utf-8"))
    found = {}
    for nature, m in data["montants"].items():
        bonus = data.get("bonification", {}).get(nature, {}).get("annees", ["0"] * len(m["annees"]))
        found[nature] = (int(m.get("duree_mois", data.get("duree_mois", 0))), [Decimal(a) for a in m["annees"]],
                         [Decimal(b) for b in bonus])
    return found


def due_per_year(etat: dict[str, Any], vague: int) -> list[Decimal]:
    """Per convention year: Σ postes round_half_up(Σ over its funded days of the day's rate), a day's
    rate being the nature in force that day: its amount for convention year k over the days of its
    own year k (its own period, from the start, with its own length; past it, its last year's)."""
    bareme = baremes(vague)
    debut, fin = date.fromisoformat(etat["date_debut"]), date.fromisoformat(etat["date_fin"])
    natures = [(date.fromisoformat(s), n) for s, n in etat["natures"]]

    def rate(day: date, k: int, prioritaire: bool) -> Fraction:
        nature = [n for s, n in natures if s <= day][-1]
        months, amounts, bonus = bareme[nature]
        own_end = months_later(debut, months) - timedelta(days=1)
        j = min(k, len(amounts))  # past its own period: its last own year
        start = months_later(debut, 12 * (j - 1))
        end = min(months_later(debut, 12 * j) - timedelta(days=1), own_end)
        amount = amounts[j - 1] + (bonus[j - 1] if nature == "publique" and prioritaire else 0)
        return Fraction(amount) / ((end - start).days + 1)

    years, k = [], 1
    while (start := months_later(debut, 12 * (k - 1))) <= fin:
        end = min(months_later(debut, 12 * k) - timedelta(days=1), fin)
        total = Decimal("0.00")
        for p in etat["postes"]:
            lieu = p.get("lieu") or {}
            prioritaire = bool(etat["zone_prioritaire"] or lieu.get("qpv") or lieu.get("zrr"))
            first = max(date.fromisoformat(p["debut"]), start)
            last = min(date.fromisoformat(p["fin"]) if p["fin"] else fin, end)
            exact = sum((rate(first + timedelta(days=i), k, prioritaire) for i in range((last - first).days + 1)),
                        Fraction(0))
            total += (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
        years.append(total)
        k += 1
    return years


def current_versions(db: Path, vague: int) -> dict[str, tuple[str, dict[str, Any], list[Decimal], Decimal]]:
    """{convention: (département, état, issued amount per year, montant_total)} of its current version."""
    with sqlite3.connect(db) as c:
        rows = c.execute(
            "SELECT v.convention_id, s.departement, v.etat, v.figures, v.montant_total FROM convention_versions v "
            "JOIN conventions k ON k.id = v.convention_id JOIN structures s ON s.id = k.structure_id "
            "WHERE k.vague = ? AND v.numero = (SELECT max(numero) FROM convention_versions w "
            "WHERE w.convention_id = v.convention_id)", (vague,)).fetchall()
    return {cid: (dep, json.loads(etat), [Decimal(a["du"]) for a in json.loads(figures)], Decimal(str(total)))
            for cid, dep, etat, figures, total in rows}


# -- the product as typed --------------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path, pool_urls: str) -> dict[str, str]:
    restore("conum-seed-9b9ea2b", tmp_path / "var" / "conum.db")
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update({"CONUM_VAR_DIR": str(tmp_path / "var"), "CONVERTER_URLS": pool_urls, "PYTHONPATH": str(ROOT)})
    return env


def conum(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([*CONUM, *args, "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_the_bareme_plan_lists_the_conventions_the_corrections_change_and_a_run_issues_them(
        env: dict[str, str], tmp_path: Path) -> None:
    db = tmp_path / "var" / "conum.db"
    plan = conum(env, "reissue", "plan", "--rules", "vague-1", "--as-of", AS_OF)  # migrates the old catalog first
    versions = current_versions(db, 1)
    expected, outre_mer = {}, set()
    for cid, (dep, etat, issued, total) in versions.items():
        assert sum(issued) == total, cid  # what the plan reads as issued is what the version states
        if etat["statut"] != "active":
            continue
        if dep in OUTRE_MER:  # vague 1 has no sourced majoration: it cannot be priced, it is shown to a person
            outre_mer.add(cid)
            continue
        after = due_per_year(etat, 1)
        if after != issued:
            expected[cid] = (total, sum(after))
    listed = {c["convention_id"]: c for c in plan["conventions"]}
    assert len(expected) >= 20 and set(listed) == set(expected)
    for cid, (before, after) in expected.items():
        c = listed[cid]
        assert (c["type"], Decimal(c["du_avant_eur"]), Decimal(c["du_apres_eur"])) == ("correction", before, after), cid
    assert listed["CN-V1-STR-S16-000004"]["du_avant_eur"] == "64000.00"
    assert listed["CN-V1-STR-S16-000004"]["du_apres_eur"] == "80000.00"
    # a change of nature is among them (public → private: per day of each nature's own year)
    assert any(len(versions[cid][1]["natures"]) > 1 for cid in expected)
    assert outre_mer and {a["convention_id"] for a in plan["anomalies"]} == outre_mer
    assert {a["code"] for a in plan["anomalies"]} == {"majoration_outre_mer_manquante"}
    assert Decimal(plan["total"]["difference_eur"]) == sum(a - b for b, a in expected.values())

    # vague 2: no correction changes its seeded amounts (same own years for both natures, the
    # structure's QPV flag still covers each poste), and the recomputation agrees
    plan2 = conum(env, "reissue", "plan", "--rules", "vague-2", "--as-of", AS_OF)
    for cid, (_dep, etat, issued, _total) in current_versions(db, 2).items():
        assert due_per_year(etat, 2) == issued, cid
    assert plan2["conventions"] == [] and plan2["anomalies"] == []

    # operations re-issue them: each convention gets one avenant with the corrected amounts
    run = conum(env, "reissue", "run", plan["plan_id"])
    assert (run["emises"], run["echecs"], run["obsoletes"]) == (len(expected), 0, 0), run
    now = current_versions(db, 1)
    for cid, (_before, after) in expected.items():
        assert now[cid][3] == after, cid
    with sqlite3.connect(db) as c:
        motif = c.execute("SELECT motif FROM convention_versions WHERE convention_id = 'CN-V1-STR-S16-000004' "
                          "ORDER BY numero DESC LIMIT 1").fetchone()[0]
    assert "montants recalculés" in motif and "corrigées" in motif
    history = conum(env, "history", "CN-V1-STR-S16-000004")
    first, last = history["versions"][0], history["versions"][-1]
    assert (first["total_du_eur"], last["total_du_eur"]) == ("64000.00", "80000.00")  # the past as it was issued
    text = docx_text((tmp_path / "var" / "storage" / "objects" / last["docx"]).read_bytes())
    assert "64 000,00" in text and "80 000,00" in text  # the avenant states the amounts signed and corrected
    again = conum(env, "reissue", "plan", "--rules", "vague-1", "--as-of", AS_OF)
    assert again["conventions"] == []  # nothing left to correct
