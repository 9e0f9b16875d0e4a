"""Benchmark of ``conum pilotage import`` on SQLite (embedded default) and PostgreSQL. Prints its figures.

    .venv/bin/python bench/pilotage.py [--conventions 2000] [--rows 10000] [--bad 0.01] [--backends sqlite,postgresql]

For each backend: ``dossiers.services.seed.seed`` writes ``--conventions`` synthetic conventions
(timed, not a target); a tableau de pilotage of ``--rows`` rows is written from the catalog (every
contract the catalog knows, some prolonged, some broken off and followed by a new recruitment,
vacant postes filled), ``--bad`` of them spoiled (unknown structure, other SIRET, unknown poste,
date_fin before date_debut); then ``importer`` is timed in this process, catalog reading included:
``--dry-run``, the real import, and the same file again (records nothing). Target: ≤ 30 s for
10 000 rows on the 2-core development machine. Peak memory: the traced Python allocations of the
import (tracemalloc) and this process's peak RSS (getrusage, the whole run: seeding included).
The real import is run once more through the ``conum`` script (a subprocess) for the wall time a
user sees (interpreter start-up included).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from dossiers.bootstrap import App  # noqa: E402
from dossiers.settings import Settings  # noqa: E402

AS_OF = date(2026, 11, 1)
HEADER = ["structure_id", "siret", "poste", "conseiller_prenom", "conseiller_nom", "type_contrat", "date_debut",
          "date_fin", "date_rupture", "motif_rupture"]
CONUM = Path(sys.executable).parent / "conum"


def tableau(app: App, rows: int, bad: float, seed: int = 7) -> list[list[str]]:
    """A tableau de pilotage built from the postes' timelines as of ``AS_OF``: every contract the
    catalog knows, then news (some prolonged, some broken off and followed by new recruitments,
    vacant postes filled) until ``rows`` rows; a share ``bad`` of them spoiled."""
    from dossiers.domain.postes import Source, chronologie

    rng = random.Random(seed)
    sirets = app.catalog.structures_siret()
    postes = []
    for cid, _dep, _nature, _numero, _modele, etat in app.catalog.current_states():
        if etat is not None and etat.statut.value == "active":
            postes.extend((cid.split("-", 2)[2], etat, p) for p in etat.postes)
    rng.shuffle(postes)
    out: list[list[str]] = []
    for sid, etat, p in postes:
        if len(out) >= rows:
            break
        siret = sirets[sid][0]
        timeline = chronologie(p, etat.evenements, AS_OF)
        if timeline.transfere_le is not None:
            continue
        limit = min(AS_OF, etat.date_fin, timeline.fin_financement or etat.date_fin)
        last = None
        for o in timeline.occupations:
            prenom, _, nom = (o.conseiller or "Inconnu Inconnu").partition(" ")
            declared = o.fin is not None and o.source_fin is not Source.CONTRAT
            last = [sid, siret, p.id, prenom, nom or prenom, str(o.type_contrat or "CDI"), o.debut.isoformat(),
                    o.fin_prevue.isoformat() if o.fin_prevue else "", o.fin.isoformat() if declared else "",
                    str(o.motif_fin) if declared and o.motif_fin else ""]
            out.append(last)
        # what the catalog does not know yet
        open_ = timeline.occupations[-1] if timeline.occupations else None
        quiet = not any(e.poste == p.id for e in etat.evenements)  # no event of the catalog after a rupture the file adds
        running = open_ is not None and (open_.fin is None or open_.source_fin is Source.CONTRAT)
        if running and open_.fin_prevue is not None and open_.fin_prevue + timedelta(days=365) <= etat.date_fin \
                and rng.random() < 0.3:
            last[7] = (open_.fin_prevue + timedelta(days=365)).isoformat()  # prolonged
            continue
        start = None
        if open_ is None or open_.fin is not None:
            start = (open_.fin + timedelta(days=10)) if open_ is not None else \
                max(p.vacant_depuis or p.debut, p.debut) + timedelta(days=10)
        elif quiet and rng.random() < 0.5:
            rupture = open_.debut + timedelta(days=120)
            if rupture <= limit and (open_.fin_prevue is None or rupture <= open_.fin_prevue):
                last[8:] = [rupture.isoformat(), rng.choice(["demission", "rupture_conventionnelle", ""])]
                start = rupture + timedelta(days=10)
        n = 0
        while start is not None and start <= limit and len(out) < rows:
            n += 1
            row = [sid, siret, p.id, rng.choice(["Alix", "Sam", "Inès"]), f"Recrue{n}", "CDD", start.isoformat(),
                   (start + timedelta(days=730)).isoformat(), "", ""]
            out.append(row)
            rupture = start + timedelta(days=rng.randrange(60, 240))
            if rng.random() < 0.7 and rupture <= limit:
                row[8:] = [rupture.isoformat(), rng.choice(["demission", "fin_cdd", "licenciement", ""])]
                start = rupture + timedelta(days=rng.randrange(1, 40))
            else:
                start = None
    out = out[:rows]
    for i in rng.sample(range(len(out)), int(len(out) * bad)):
        row = list(out[i])
        kind = i % 4
        if kind == 0:
            row[0] = "STR-INCONNUE"
        elif kind == 1:
            row[1] = "00000000000000"
        elif kind == 2:
            row[2] = "P-99"
        else:
            row[5], row[7] = "CDD", (date.fromisoformat(row[6]) - timedelta(days=1)).isoformat()
        out[i] = row
    return out


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows)


def timed_import(app: App, path: Path, *, dry_run: bool) -> tuple[float, dict]:
    from dossiers.services.pilotage import importer

    started = time.perf_counter()
    result = importer(path, app, as_of=AS_OF, dry_run=dry_run)
    return time.perf_counter() - started, result.to_json()


def traced_peak(app: App, path: Path) -> float:
    """Peak of the Python allocations of a dry-run (tracemalloc slows it: not timed), in MB."""
    from dossiers.services.pilotage import importer

    tracemalloc.start()
    importer(path, app, as_of=AS_OF, dry_run=True)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def run_backend(name: str, settings: Settings, env: dict[str, str], args: argparse.Namespace, base: Path) -> None:
    from dossiers.services.seed import seed

    with App(settings) as app:
        started = time.perf_counter()
        seeded = seed(app, structures=args.conventions, seed=args.seed)
        print(f"[{name}] seed : {seeded.structures} conventions en {time.perf_counter() - started:.1f} s", flush=True)
        rows = tableau(app, args.rows, args.bad)
        path = base / f"pilotage-{name}.csv"
        write_csv(path, rows)
        print(f"[{name}] fichier : {len(rows)} lignes, {path.stat().st_size / 1e6:.2f} Mo", flush=True)
        for label, dry in (("--dry-run", True), ("import", False), ("réimport", False)):
            elapsed, out = timed_import(app, path, dry_run=dry)
            print(f"[{name}] {label:9} : {elapsed:6.2f} s — "
                  f"lignes {out['lignes']}, à enregistrer {out['a_enregistrer']}, enregistrés {out['enregistres']}, "
                  f"déjà présents {out['deja_presents']}, erreurs {len(out['erreurs'])}, {out['evenements']}",
                  flush=True)
        print(f"[{name}] pic des allocations Python d'un --dry-run (tracemalloc) : {traced_peak(app, path):.1f} Mo",
              flush=True)
    # the re-import as a user types it: the conum script, interpreter start-up included
    started = time.perf_counter()
    done = subprocess.run([str(CONUM), "pilotage", "import", str(path), "--as-of", AS_OF.isoformat(), "--json"],
                          capture_output=True, text=True, env=env, timeout=600)
    wall = time.perf_counter() - started
    out = json.loads(done.stdout)
    print(f"[{name}] conum pilotage import (script, réimport) : code {done.returncode}, {wall:.2f} s au total, "
          f"{out.get('secondes')} s dans la commande, enregistrés {out.get('enregistres')}", flush=True)
    print(f"[{name}] pic RSS des sous-processus (le script conum) : "
          f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} Mo", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conventions", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--bad", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="conum-bench-pilotage-"))
    print(f"{len(os.sched_getaffinity(0))} cœurs, {args.conventions} conventions, {args.rows} lignes, "
          f"{args.bad:.0%} de lignes fausses, au {AS_OF.isoformat()}", flush=True)
    try:
        for backend in args.backends.split(","):
            var = base / backend
            env = {**os.environ, "CONUM_VAR_DIR": str(var)}
            if backend == "sqlite":
                run_backend("sqlite", Settings(var_dir=var), env, args, base)
            elif backend == "postgresql":
                from tests.e2e.test_workers_redis import LocalPostgres

                pg = LocalPostgres()
                try:
                    pg.start()
                    url = pg.create_database()
                    env["DATABASE_URL"] = url
                    run_backend("postgresql", Settings(var_dir=var, database_url=url), env, args, base)
                finally:
                    pg.close()
            else:
                sys.exit(f"base inconnue : {backend}")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"pic RSS du processus (seed compris) : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} Mo")


if __name__ == "__main__":
    main()
