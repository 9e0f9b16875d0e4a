"""Benchmark of the exports (``dossiers.services.exports``) on SQLite: time and peak memory. Prints its figures.

    .venv/bin/python bench/bench_exports.py [--conventions 10000] [--seed 1] [--repeat 3]

``dossiers.services.seed.seed`` writes ``--conventions`` synthetic conventions (timed, not a target;
without the postes' events, which no export reads) into a temporary catalog, and a re-issue plan is
recorded (``regles-2025-05`` at 2026-11-26). Then, in this process: the catalog read alone (the
rows of ``conventions_table``, nothing written) and each writer alone (the same rows from memory);
and for CSV and XLSX: the whole conventions list (``conventions_table``, paged through ``search_conventions`` 100 rows at a time),
the same through the API (``GET /v1/exports/conventions.{csv,xlsx}`` with an admin token, Starlette's
test client, audit row included), and the plan's per-convention list (``plan_table``). Each time is
the best of ``--repeat`` runs; peak memory is the peak of the traced Python allocations of one more
run (tracemalloc slows it: not timed) and, at the end, this process's peak RSS (getrusage, seeding
included). File sizes are printed too.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path
from collections.abc import Callable
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dossiers.bootstrap import App  # noqa: E402
from dossiers.services.exports import CONVENTIONS, FORMATS, Table, conventions_table, plan_table, render  # noqa: E402
from dossiers.settings import Settings  # noqa: E402


def best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), result


def traced_peak(run: Callable[[], Any]) -> float:
    tracemalloc.start()
    run()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def writers_alone(app: Any, repeat: int) -> None:
    rows = list(conventions_table(app).lignes)
    for fmt in ("csv", "xlsx"):
        seconds, data = best(lambda: FORMATS[fmt](Table("conventions", CONVENTIONS, iter(rows))), repeat)  # noqa: B023
        print(f"écriture seule {fmt} (lignes déjà en mémoire) : {seconds:.2f} s, {len(data) / 1e6:.2f} Mo", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conventions", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="conum-bench-exports-"))
    try:
        with App(Settings(var_dir=base / "var", api_rate_limit=1_000_000, api_rate_burst=1_000_000)) as app:
            from dossiers.services.seed import seed

            start = time.perf_counter()
            seed(app, structures=args.conventions, seed=args.seed, evenements=False)
            print(f"seed de {args.conventions} conventions : {time.perf_counter() - start:.1f} s (pas une cible)",
                  flush=True)
            now = datetime.now(UTC)
            from dossiers.services.reemission import plan

            planned, impacts = plan(app, regles="regles-2025-05", modele=None, as_of=date(2026, 11, 26), now=now)
            today = app.clock.today()
            print(f"plan {planned.id} : {len(impacts)} conventions concernées", flush=True)

            from fastapi.testclient import TestClient

            from dossiers.entrypoints.api import create_app
            from dossiers.services.acces import create_token

            secret, _ = create_token(app, role="admin", nom="bench", now=now)
            seconds, lues = best(lambda: sum(1 for _ in conventions_table(app).lignes), args.repeat)
            print(f"lecture seule du catalogue (search_conventions, 100 par page) : {lues} lignes, {seconds:.2f} s",
                  flush=True)
            writers_alone(app, args.repeat)
            with TestClient(create_app(app)) as client:
                for fmt in ("csv", "xlsx"):
                    service = lambda: render(conventions_table(app), fmt, today=today)  # noqa: E731
                    seconds, done = best(service, args.repeat)
                    peak = traced_peak(service)
                    print(f"conventions {fmt} : {done.lignes} lignes, {len(done.data) / 1e6:.2f} Mo, "
                          f"{seconds:.2f} s ({done.lignes / seconds:,.0f} lignes/s), "
                          f"pic des allocations Python {peak:.1f} Mo", flush=True)

                    def api() -> Any:
                        r = client.get(f"/v1/exports/conventions.{fmt}", headers={"Authorization": f"Bearer {secret}"})
                        assert r.status_code == 200, r.text
                        return r

                    seconds, r = best(api, args.repeat)
                    print(f"  par l'API (GET /v1/exports/conventions.{fmt}) : {seconds:.2f} s, "
                          f"{len(r.content) / 1e6:.2f} Mo", flush=True)
                    plan_run = lambda: render(plan_table(app, planned.id), fmt, today=today)  # noqa: E731
                    seconds, done = best(plan_run, args.repeat)
                    print(f"plan {fmt} : {done.lignes} lignes, {seconds:.2f} s, pic des allocations Python "
                          f"{traced_peak(plan_run):.1f} Mo", flush=True)
        print(f"pic RSS du processus (seed compris) : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} Mo")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
