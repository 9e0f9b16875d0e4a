"""Benchmark of the Dramatiq workers on Redis: jobs per second. Prints its figures.

    .venv/bin/python bench/workers.py [--n 60] [--threads 2] [--converters 2]

Starts a redis-server, a PostgreSQL and a warm pool of LibreOffice converters shared by every
worker through CONVERTER_URLS. Then with 1, then 2 worker processes (``conum worker --processes P
--threads 2``, the Procfile's ``worker``, which execs dramatiq), each time on a fresh database,
storage and Redis:

* generate: N conventions (distinct demandes; DOCX render + PDF conversion + storage + catalog);
* validate: N born-digital avis de situation Sirene (tests/fixtures/sirene.py), one into each of N
  dossiers (inspection in a child process, checks, storage, catalog).

A rate is N over the wall time from the first submission (storing the request, recording and
enqueueing the job) to the last job's success in the catalog. Workers are up and have run a few
untimed jobs of each kind first (templates, converter connections, inspection children warm).
The 2-vs-1 ratio is the scaling; it cannot exceed the cores the converters, the workers, PostgreSQL
and this submitting process share. The submission time is printed too: when it is close to the
wall time, the submitter (one thread: storage writes with fsync, one INSERT per job) is the limit.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dossiers.clock import Clock  # noqa: E402
from dossiers.domain.jobs import JobStatus  # noqa: E402
from dossiers.settings import Settings  # noqa: E402
from tests.conftest import _free_port  # noqa: E402
from tests.e2e.test_workers_redis import (  # noqa: E402
    LocalPostgres,
    Workers,
    demande_for,
    siret_for,
    submit_generate,
    submitter,
    worker_env,
)
from tests.fixtures.sirene import avis_sirene_pdf  # noqa: E402


@contextmanager
def redis_server(base: Path) -> Iterator[str]:
    """A throwaway redis-server (no persistence) owned by this process; yields its URL."""
    import redis

    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server introuvable (apt-get install redis-server)")
    port = _free_port()
    with open(base / "redis.log", "ab") as log:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base),
                                 "--save", "", "--appendonly", "no"], stdout=log, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            sys.exit("redis-server ne répond pas")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=30)


def wait_done(app: Any, total: int, group: Workers, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        counts = app.catalog.count_jobs()
        if counts.get("succeeded", 0) + counts.get("failed", 0) >= total:
            return
        if group.proc.poll() is not None:
            sys.exit(f"les workers se sont arrêtés :\n{group.tail()}")
        if time.monotonic() > deadline:
            sys.exit(f"délai dépassé ({counts})\n{group.tail()}")
        time.sleep(0.05)


def avis_for(i: int) -> bytes:
    siret = siret_for(i)
    return avis_sirene_pdf(siren=siret[:9], siret=siret, denomination="COMMUNE D'EXEMPLEVILLE",
                           date_avis=Clock().today() - timedelta(days=7))


def submit_validate(app: Any, actor: Any, pieces: list[tuple[str, bytes]]) -> list[Any]:
    from workers.submit import store_upload, submit

    return [submit(app, actor, {"dossier_id": dossier_id, "kind": "sirene", "piece_key": store_upload(app, data),
                                "filename": "avis.pdf", "poste_id": None, "mrz": None, "date_controle": None})
            for dossier_id, data in pieces]


Figure = tuple[float, float, float, int]  # jobs/s, wall time, submission time, failures


def rate(app: Any, jobs: list[Any], started: datetime, submitted: datetime) -> Figure:
    """Jobs per second from ``started`` (first submission) to the last success."""
    rows = [app.catalog.get_job(j.id) for j in jobs]
    failed = sum(r.status is not JobStatus.SUCCEEDED for r in rows)
    last = max(r.finished_at for r in rows if r.finished_at is not None)
    wall = (last - started).total_seconds()
    return len(jobs) / wall, wall, (submitted - started).total_seconds(), failed


def run(processes: int, args: argparse.Namespace, pg: LocalPostgres, redis_url: str, converter_urls: str,
        base: Path) -> dict[str, Figure]:
    import redis

    redis.Redis.from_url(redis_url).flushall()
    env = worker_env(base, database_url=pg.create_database(), broker_url=redis_url, converter_urls=converter_urls,
                     INSPECTION_WORKERS=str(args.threads))
    settings = Settings.from_env(env)
    warm = processes * args.threads * 2
    n = args.n
    figures: dict[str, Figure] = {}
    group = Workers(env, base / "workers.log", processes=processes, threads=args.threads)
    try:
        group.wait_ready()
        with submitter(settings) as (app, actors):
            from dossiers.services.validation import open_dossier

            # untimed: dossiers for the validations, the avis, and a few warm-up jobs of each kind
            ids = range(10_000, 10_000 + warm + n)
            dossiers = [open_dossier(demande_for(i), app).id for i in ids]
            pieces = [(dossier_id, avis_for(i)) for dossier_id, i in zip(dossiers, ids, strict=True)]
            submit_generate(app, actors["generate"], (demande_for(i) for i in range(warm)))
            submit_validate(app, actors["validate"], pieces[:warm])
            wait_done(app, 2 * warm, group)

            started = datetime.now(UTC)
            jobs = submit_generate(app, actors["generate"], (demande_for(i) for i in range(warm, warm + n)))
            submitted = datetime.now(UTC)
            wait_done(app, 2 * warm + n, group)
            figures["generate"] = rate(app, jobs, started, submitted)

            started = datetime.now(UTC)
            jobs = submit_validate(app, actors["validate"], pieces[warm:])
            submitted = datetime.now(UTC)
            wait_done(app, 2 * warm + 2 * n, group)
            figures["validate"] = rate(app, jobs, started, submitted)
    finally:
        group.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=60, help="tâches mesurées par type et par configuration")
    parser.add_argument("--threads", type=int, default=2, help="fils par processus worker")
    parser.add_argument("--converters", type=int, default=2, help="convertisseurs LibreOffice du pool partagé")
    args = parser.parse_args()

    from dossiers.adapters.libreoffice import UnoserverPool

    unoserver_bin = Settings().effective_unoserver_bin
    if unoserver_bin is None or shutil.which("soffice") is None:
        sys.exit("LibreOffice et unoserver sont requis (make uno)")
    base = Path(tempfile.mkdtemp(prefix="conum-bench-workers-"))
    pg = LocalPostgres()
    results: dict[int, dict[str, Figure]] = {}
    try:
        pg.start()
        pool = UnoserverPool.start(unoserver_bin, size=args.converters, base_dir=ROOT / "var" / "bench-converter",
                                   timeout=60)
        try:
            with redis_server(base) as redis_url:
                print(f"Redis {redis_url}, PostgreSQL :{pg.port}, {args.converters} convertisseurs, "
                      f"{len(os.sched_getaffinity(0))} cœurs ; N={args.n} tâches par mesure, "
                      f"{args.threads} fils par processus")
                for processes in (1, 2):
                    (base / f"p{processes}").mkdir()
                    results[processes] = run(processes, args, pg, redis_url, ",".join(pool.addresses),
                                             base / f"p{processes}")
                    for kind, (per_s, wall, submit_s, failed) in results[processes].items():
                        note = f" ; {failed} ÉCHOUÉES" if failed else ""
                        print(f"{processes} processus  {kind:9} {per_s:6.1f} tâches/s  ({args.n} en {wall:5.1f} s, "
                              f"dont soumission {submit_s:4.1f} s{note})")
        finally:
            pool.close()
    finally:
        pg.close()
        shutil.rmtree(base, ignore_errors=True)
    print("\n== passage de 1 à 2 processus ==")
    for kind in ("generate", "validate"):
        print(f"{kind:9} ×{results[2][kind][0] / results[1][kind][0]:.2f}")


if __name__ == "__main__":
    main()
