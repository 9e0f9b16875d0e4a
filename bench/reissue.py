"""Benchmark of the batch re-issue on PostgreSQL: plan time, run rate, worker memory. Prints its figures.

    .venv/bin/python bench/reissue.py [--conventions 10000] [--run-limit K] [--threads 2] [--converters 2]

Setup (timed, printed, not a target): a PostgreSQL of its own (tests/e2e/test_workers_redis.py's
``LocalPostgres``), a redis-server and a warm pool of ``--converters`` LibreOffice converters shared
by every worker through CONVERTER_URLS (as bench/workers.py). ``dossiers.services.seed.seed`` writes
``--conventions`` synthetic conventions (no documents) into a database that then serves as the
*template*: every measure below runs on a fresh copy of it (``CREATE DATABASE … TEMPLATE``), so
each configuration starts from the same catalog state (a plan already run issues nothing).

1. plan: ``dossiers.services.reemission.plan(--rules regles-2025-05, --as-of 2026-11-26)`` called in
   this process on each copy (target ≤ 10 s), and once through the CLI (``conum reissue plan
   --json`` in a subprocess: its own ``secondes`` and the wall time with interpreter start-up);
2. run: with 1, then 2 worker processes (``conum worker --reemissions --processes P --threads T``,
   i.e. ``python -m dramatiq workers.actors --queues reemissions``), each on its own copy, storage
   and flushed Redis: the plan's items are submitted as ``conum reissue run`` does (chunks of 500:
   ``submit_many`` then ``set_plan_jobs``, from a sender thread). A few untimed items go first
   (templates, converter connections warm); the run time is from the first timed submission to
   the last job's end in the catalog. Each issued avenant is a DOCX rendered + a PDF converted by
   LibreOffice + both stored (local STORAGE_DIR): *documents/s* = issued avenants × 2 / run time,
   *avenants/s* is printed too. Peak memory: VmHWM (peak RSS) of each dramatiq worker child
   process, read from /proc every 0.5 s during the run (target ≤ 300 MB). The CPU seconds each
   party used during the timed run (workers, converters, PostgreSQL, Redis, this process) are
   sampled the same way (processes that exit between samples are undercounted);
3. projection to N worker machines (see the table's notes for the assumption).

``--run-limit K`` runs only K items of the plan (after the warm-up ones) per configuration; the
default is the full plan. On the 2-core development machine 10 000 conventions (seed 1) give
1 670 affected ones, issued at 2 to 3 avenants/s: 9 to 13 minutes per configuration, some 30
minutes in all with the 3.5-minute seed. ``--run-limit 400`` takes 2 to 3 minutes per
configuration; the rate is steady after the warm-up (no growth with the catalog was seen), so it
gives the same figure within the noise.

Everything (converters, workers, PostgreSQL, Redis, this process) shares the same cores, and so
does anything else running on the machine: the CPU seconds nobody above accounts for are printed
as "autres processus" (flagged when over 5 % of the busy time: the rates are then too low, and the
2-vs-1 ratio is meaningless). The 2-vs-1 ratio cannot exceed what 2 cores allow.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ (this script's directory): `workers` is the project's package

import psutil

from bench.workers import redis_server
from dossiers.settings import Settings
from tests.e2e.test_workers_redis import (
    READY,
    LocalPostgres,
    Workers,
    submitter,
    worker_env,
)

RULES = "regles-2025-05"
AS_OF = date(2026, 11, 26)
CHUNK = 500  # as `conum reissue run`
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- databases ------------------------------------------------------------------------------------


def _admin(pg: LocalPostgres, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{pg.port}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def copy_database(pg: LocalPostgres, template_url: str, name: str) -> str:
    """A fresh database with the template's content (no session may be connected to the template)."""
    template = template_url.rsplit("/", 1)[1]
    _admin(pg, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return pg.url(name)


def analyze(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


# -- the workers and what they use ----------------------------------------------------------------


class ReissueWorkers(Workers):
    """``conum worker --reemissions`` (the Procfile's ``reissue``), exiting the bench when it cannot start."""

    def __init__(self, env: dict[str, str], log: Path, *, processes: int, threads: int) -> None:
        super().__init__(env, log, processes=processes, threads=threads, reemissions=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while self.text().count(READY) < self.processes:
            if self.proc.poll() is not None:
                sys.exit(f"les workers se sont arrêtés au démarrage :\n{self.tail()}")
            if time.monotonic() > deadline:
                sys.exit(f"les workers ne démarrent pas :\n{self.tail()}")
            time.sleep(0.1)

    def children(self) -> list[psutil.Process]:
        """The dramatiq worker processes (children of the dramatiq main process)."""
        try:
            return psutil.Process(self.proc.pid).children(recursive=False)
        except psutil.NoSuchProcess:
            return []


def _status_kb(pid: int, key: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


@dataclass
class Sampler:
    """Peak RSS of the worker processes and CPU seconds per party, sampled from /proc."""

    workers: ReissueWorkers
    converter_pids: set[int]
    redis_pids: set[int]
    peak_kb: dict[int, int] = field(default_factory=dict)  # worker child pid -> VmHWM
    grandchildren_peak_kb: dict[int, int] = field(default_factory=dict)
    grandchildren_name: dict[int, str] = field(default_factory=dict)
    _first: dict[int, int] = field(default_factory=dict)
    _last: dict[int, int] = field(default_factory=dict)
    _party: dict[int, str] = field(default_factory=dict)
    _total_cpu: tuple[float, float] = (0.0, 0.0)
    _started: float = 0.0

    def _classify(self, proc: psutil.Process) -> str | None:
        pid = proc.pid
        if pid == os.getpid():
            return "banc"
        try:
            if os.getpgid(pid) == self.workers.proc.pid:
                return "workers"
            name = proc.name()
        except (psutil.Error, ProcessLookupError):
            return None
        if pid in self.converter_pids or name.startswith("soffice"):
            return "convertisseurs"
        if name in ("postgres", "postmaster"):
            return "postgresql"
        if pid in self.redis_pids or name == "redis-server":
            return "redis"
        return None

    def start(self) -> None:
        self._started = time.monotonic()
        self._total_cpu = _busy_idle()
        self.sample(baseline=True)

    def sample(self, *, baseline: bool = False) -> None:
        for child in self.workers.children():
            self.peak_kb[child.pid] = max(self.peak_kb.get(child.pid, 0), _status_kb(child.pid, "VmHWM"))
            try:
                for grand in child.children(recursive=True):
                    self.grandchildren_peak_kb[grand.pid] = max(self.grandchildren_peak_kb.get(grand.pid, 0),
                                                                _status_kb(grand.pid, "VmHWM"))
                    if grand.pid not in self.grandchildren_name:
                        self.grandchildren_name[grand.pid] = " ".join(grand.cmdline())[-60:]
            except psutil.Error:
                pass
        for proc in psutil.process_iter():
            pid = proc.pid
            if pid not in self._party:
                party = self._classify(proc)
                if party is None:
                    continue
                self._party[pid] = party
            ticks = _cpu_ticks(pid)
            if ticks is None:
                continue
            if pid not in self._first:
                self._first[pid] = ticks if baseline else 0  # born during the run: all its CPU counts
            self._last[pid] = ticks

    def cpu_seconds(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, last in self._last.items():
            party = self._party[pid]
            out[party] = out.get(party, 0.0) + (last - self._first.get(pid, 0)) / CLK_TCK
        return out

    def busy(self) -> tuple[float, float]:
        """Share of the machine's CPU time busy since start, and the busy CPU seconds (all processes,
        /proc/stat): what the parties above do not account for is other processes' (noise)."""
        b0, i0 = self._total_cpu
        b1, i1 = _busy_idle()
        return (b1 - b0) / max(1e-9, (b1 - b0) + (i1 - i0)), (b1 - b0) / CLK_TCK


def _busy_idle() -> tuple[float, float]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return float(sum(values[:8]) - idle), float(idle)


# -- one configuration ----------------------------------------------------------------------------


@dataclass
class RunFigures:
    processes: int
    plan_s: float
    planned: int
    examined: int
    warm: int
    timed: int
    wall_s: float = 0.0
    submit_s: float = 0.0
    emises: int = 0
    obsoletes: int = 0
    echecs: int = 0
    jobs_failed: int = 0
    peaks_mb: list[float] = field(default_factory=list)
    extra_peaks_mb: list[str] = field(default_factory=list)
    status: dict[str, Any] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    busy: float = 0.0
    busy_s: float = 0.0
    messages: list[str] = field(default_factory=list)

    @property
    def avenants_per_s(self) -> float:
        return self.emises / self.wall_s if self.wall_s else 0.0

    @property
    def documents_per_s(self) -> float:
        return 2 * self.avenants_per_s


def send(app: Any, actor: Any, plan_id: str, cids: list[str], errors: list[BaseException]) -> None:
    """What `conum reissue run` does for these items: jobs recorded and enqueued by chunks of 500,
    each chunk's job ids written on the plan's items."""
    from workers.submit import submit_many

    try:
        for start in range(0, len(cids), CHUNK):
            chunk = [({"plan_id": plan_id, "convention_id": cid}, f"reemission:{plan_id}:{cid}")
                     for cid in cids[start:start + CHUNK]]
            jobs = submit_many(app, actor, chunk)
            app.catalog.set_plan_jobs(plan_id, {kw["convention_id"]: j.id for (kw, _), j in zip(chunk, jobs)},
                                      now=datetime.now(UTC))
    except BaseException as exc:  # noqa: BLE001 - reported by the main thread
        errors.append(exc)


def wait_jobs(app: Any, total: int, group: ReissueWorkers, sampler: Sampler | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    next_sample = 0.0
    while True:
        if sampler is not None and time.monotonic() >= next_sample:
            sampler.sample()
            next_sample = time.monotonic() + 0.5
        counts = app.catalog.count_jobs()
        if counts.get("succeeded", 0) + counts.get("failed", 0) >= total:
            return
        if group.proc.poll() is not None:
            sys.exit(f"les workers se sont arrêtés :\n{group.tail()}")
        if time.monotonic() > deadline:
            sys.exit(f"délai dépassé ({counts})\n{group.tail()}")
        time.sleep(0.2)


def run(processes: int, args: argparse.Namespace, pg: LocalPostgres, template_url: str, redis_url: str,
        pool: Any, base: Path) -> RunFigures:
    import redis

    from dossiers.bootstrap import App
    from dossiers.domain.jobs import JobStatus
    from dossiers.domain.reemission import ItemStatut
    from dossiers.services.reemission import plan

    base.mkdir()
    redis.Redis.from_url(redis_url).flushall()
    database_url = copy_database(pg, template_url, f"reissue_p{processes}")
    env = worker_env(base, database_url=database_url, broker_url=redis_url,
                     converter_urls=",".join(pool.addresses))
    settings = Settings.from_env(env)

    # the plan, in this process, on a fresh copy
    with App(settings) as app:
        app.catalog.ping()
        app.rules.gestion(RULES)  # rule files read: the plan's own work only
        started = time.perf_counter()
        recorded, impacts = plan(app, regles=RULES, modele=None, as_of=args.as_of, now=datetime.now(UTC))
        plan_s = time.perf_counter() - started
        items = app.catalog.plan_items(recorded.id, statuts=[ItemStatut.A_FAIRE])
    cids = [i.impact.convention_id for i in items]
    warm = min(len(cids) // 2, processes * args.threads * 2)
    timed_cids = cids[warm:]
    if args.run_limit is not None:
        timed_cids = timed_cids[:args.run_limit]
    figures = RunFigures(processes=processes, plan_s=plan_s, planned=len(impacts), examined=recorded.examinees,
                         warm=warm, timed=len(timed_cids))
    print(f"  {processes} processus : plan {recorded.id} en {plan_s:.2f} s ({len(impacts)} conventions concernées "
          f"sur {recorded.examinees}) ; {warm} éléments d'échauffement puis {len(timed_cids)} mesurés", flush=True)

    group = ReissueWorkers(env, base / "workers.log", processes=processes, threads=args.threads)
    try:
        group.wait_ready()
        with submitter(settings) as (app, actors):
            actor = actors["reissue"]
            errors: list[BaseException] = []
            send(app, actor, recorded.id, cids[:warm], errors)
            if errors:
                raise errors[0]
            wait_jobs(app, warm, group, None, timeout=600)

            sampler = Sampler(group, converter_pids=_converter_pids(pool), redis_pids=_redis_pids())
            sampler.start()
            started_at = datetime.now(UTC)
            sender = threading.Thread(target=send, args=(app, actor, recorded.id, timed_cids, errors),
                                      name="reemission-envoi", daemon=True)
            sender.start()
            submitted_at = None
            deadline = time.monotonic() + args.timeout
            next_sample = 0.0
            while True:  # follow: sample, and stop when every timed job has ended
                if time.monotonic() >= next_sample:
                    sampler.sample()
                    next_sample = time.monotonic() + 0.5
                if submitted_at is None and not sender.is_alive():
                    submitted_at = datetime.now(UTC)
                    if errors:
                        raise errors[0]
                counts = app.catalog.count_jobs()
                if submitted_at is not None and counts.get("succeeded", 0) + counts.get("failed", 0) >= \
                        warm + len(timed_cids):
                    break
                if group.proc.poll() is not None:
                    sys.exit(f"les workers se sont arrêtés :\n{group.tail()}")
                if time.monotonic() > deadline:
                    sys.exit(f"délai de {args.timeout:.0f} s dépassé ({counts})\n{group.tail()}")
                time.sleep(0.5)  # the follow loop costs CPU on the cores it measures: not faster
            sampler.sample()
            figures.busy, figures.busy_s = sampler.busy()
            figures.cpu = sampler.cpu_seconds()
            figures.peaks_mb = [kb / 1024 for _pid, kb in sorted(sampler.peak_kb.items())]
            figures.extra_peaks_mb = [f"{kb / 1024:.0f} Mo ({sampler.grandchildren_name.get(pid, '?')})"
                                      for pid, kb in sorted(sampler.grandchildren_peak_kb.items())]

            # what became of the timed items, and when the last one ended
            timed = set(timed_cids)
            rows = [i for i in app.catalog.plan_items(recorded.id) if i.impact.convention_id in timed]
            jobs = [app.catalog.get_job(i.job_id) for i in rows if i.job_id]
            last = max(j.finished_at for j in jobs if j is not None and j.finished_at is not None)
            figures.wall_s = (last - started_at).total_seconds()
            figures.submit_s = ((submitted_at or last) - started_at).total_seconds()
            figures.emises = sum(i.statut == ItemStatut.EMISE for i in rows)
            figures.obsoletes = sum(i.statut == ItemStatut.OBSOLETE for i in rows)
            figures.echecs = sum(i.statut == ItemStatut.ECHEC for i in rows)
            figures.jobs_failed = sum(j is not None and j.status is JobStatus.FAILED for j in jobs)
            for i in rows:
                if i.statut in (ItemStatut.OBSOLETE, ItemStatut.ECHEC) and len(figures.messages) < 5:
                    figures.messages.append(f"{i.impact.convention_id} {i.statut} : {i.message}")
            for j in jobs:
                if j is not None and j.status is JobStatus.FAILED and len(figures.messages) < 10:
                    figures.messages.append(f"tâche {j.id} échouée : {j.error}")
            if args.verbose:
                docs = sum(1 for p in (base / "storage").rglob("*") if p.is_file() and "conventions" in p.parts)
                figures.messages.append(f"(stockage : {docs} fichiers de conventions pour {warm + len(timed_cids)} "
                                        f"éléments soumis)")
    finally:
        group.stop()
    # what an operator would read: `conum reissue status PLAN --json` (counts over the whole plan)
    done = subprocess.run([sys.executable, "-m", "dossiers.entrypoints", "reissue", "status", recorded.id, "--json"],
                          check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    try:
        figures.status = json.loads(done.stdout)
    except json.JSONDecodeError:
        figures.status = {"erreur": f"code {done.returncode} : {done.stdout[-300:]} {done.stderr[-300:]}"}
    return figures


def _converter_pids(pool: Any) -> set[int]:
    pids: set[int] = set()
    me = psutil.Process()
    for child in me.children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "unoserver" in cmd or "soffice" in cmd:
            pids.add(child.pid)
    return pids


def _redis_pids() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True) if p.name() == "redis-server"}


# -- the CLI plan ---------------------------------------------------------------------------------


def cli_plan(pg: LocalPostgres, template_url: str, base: Path, redis_url: str, as_of: date) -> tuple[dict[str, Any], float]:
    database_url = copy_database(pg, template_url, "reissue_cli")
    env = worker_env(base / "cli", database_url=database_url, broker_url=redis_url, converter_urls=None)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dossiers.entrypoints", "reissue", "plan", "--rules", RULES,
                           "--as-of", as_of.isoformat(), "--json"], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"conum reissue plan a échoué ({done.returncode}) :\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout), wall


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conventions", type=int, default=10_000, help="conventions du catalogue (seed)")
    parser.add_argument("--seed", type=int, default=1, help="graine de la population")
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF, help="date d'appréciation du plan")
    parser.add_argument("--run-limit", type=int, default=None,
                        help="éléments du plan mesurés par configuration (défaut : tout le plan)")
    parser.add_argument("--threads", type=int, default=2, help="fils par processus worker")
    parser.add_argument("--converters", type=int, default=2, help="convertisseurs LibreOffice du pool partagé")
    parser.add_argument("--processes", default="1,2", help="nombres de processus workers mesurés")
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="délai maximal d'une exécution (s)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    counts = [int(p) for p in args.processes.split(",")]

    from dossiers.adapters.libreoffice import UnoserverPool
    from dossiers.bootstrap import App
    from dossiers.services.seed import seed

    unoserver_bin = Settings().effective_unoserver_bin
    if unoserver_bin is None or shutil.which("soffice") is None:
        sys.exit("LibreOffice et unoserver sont requis (make uno)")
    base = Path(tempfile.mkdtemp(prefix="conum-bench-reissue-"))
    pg = LocalPostgres()
    results: list[RunFigures] = []
    try:
        pg.start()
        cores = len(os.sched_getaffinity(0))
        print(f"PostgreSQL :{pg.port}, {cores} cœurs, {args.conventions} conventions (graine {args.seed}), "
              f"plan {RULES} au {args.as_of:%d/%m/%Y}, {args.threads} fils par processus, "
              f"{args.converters} convertisseurs", flush=True)

        # 1. the catalog, seeded once into the template database
        template_url = pg.create_database()
        seed_env = worker_env(base / "seed", database_url=template_url, broker_url="", converter_urls=None)
        seed_env.pop("BROKER_URL")
        with App(Settings.from_env(seed_env)) as app:
            app.catalog.ping()
            started = time.perf_counter()
            seeded = seed(app, structures=args.conventions, seed=args.seed)
            seed_s = time.perf_counter() - started
        analyze(template_url)
        print(f"seed : {seeded.structures} structures, {seeded.versions} versions, {seeded.paiements} versements "
              f"en {seed_s:.1f} s ({1000 * seed_s / max(1, seeded.structures):.1f} ms par structure)", flush=True)

        pool = UnoserverPool.start(unoserver_bin, size=args.converters, base_dir=ROOT / "var" / "bench-converter",
                                   timeout=60)
        try:
            with redis_server(base) as redis_url:
                # 2. the plan through the CLI, on its own copy
                data, cli_wall = cli_plan(pg, template_url, base, redis_url, args.as_of)
                print(f"conum reissue plan --json : {data['total']['conventions']} conventions concernées sur "
                      f"{data['examinees']}, « secondes » {data['secondes']} (processus entier : {cli_wall:.1f} s)",
                      flush=True)
                # 3. the runs, each on its own copy
                for processes in counts:
                    results.append(run(processes, args, pg, template_url, redis_url, pool, base / f"p{processes}"))
                    r = results[-1]
                    print(f"  {processes} processus : {r.emises} avenants émis en {r.wall_s:.1f} s "
                          f"({r.avenants_per_s:.2f} avenants/s, {r.documents_per_s:.2f} documents/s)", flush=True)
        finally:
            pool.close()
    finally:
        pg.close()
        shutil.rmtree(base, ignore_errors=True)

    report(args, cores, seed_s, seeded, data, cli_wall, results)


def report(args: argparse.Namespace, cores: int, seed_s: float, seeded: Any, cli: dict[str, Any], cli_wall: float,
           results: list[RunFigures]) -> None:
    planned = results[0].planned if results else cli["total"]["conventions"]
    examined = results[0].examined if results else cli["examinees"]
    limited = args.run_limit is not None
    print("\n== réémission en lot : mesures ==")
    print(f"catalogue           {args.conventions} conventions ({seeded.versions} versions, {seeded.paiements} "
          f"versements) ; seed {seed_s:.1f} s (préparation, hors objectif)")
    plan_times = [r.plan_s for r in results]
    ok = all(t <= 10 for t in plan_times + [float(cli["secondes"])])
    print(f"plan {RULES}  {planned} conventions concernées sur {examined} ({100 * planned / max(1, examined):.1f} %) ; "
          f"en processus : {', '.join(f'{t:.2f} s' for t in plan_times)} ; CLI : {cli['secondes']} s "
          f"(+ démarrage : {cli_wall:.1f} s) — objectif ≤ 10 s : {'atteint' if ok else 'NON ATTEINT'}")
    scope = (f"{args.run_limit} éléments par configuration (--run-limit), après l'échauffement" if limited else
             "tout le plan après l'échauffement")
    print(f"exécution           {scope} ; DOCX + PDF (LibreOffice, {args.converters} convertisseurs partagés) + "
          f"stockage local ; {args.threads} fils par processus\n")
    header = (f"{'processus':>9} {'mesurés':>7} {'émis':>5} {'obsol.':>6} {'échecs':>6} {'durée s':>8} "
              f"{'avenants/s':>10} {'documents/s':>11} {'pic RSS par worker (Mo)':>24} {'CPU occupé':>10}")
    print(header)
    print("-" * len(header))
    for r in results:
        peaks = " / ".join(f"{p:.0f}" for p in r.peaks_mb) or "?"
        print(f"{r.processes:>9} {r.timed:>7} {r.emises:>5} {r.obsoletes:>6} {r.echecs + r.jobs_failed:>6} "
              f"{r.wall_s:>8.1f} {r.avenants_per_s:>10.2f} {r.documents_per_s:>11.2f} {peaks:>24} "
              f"{100 * r.busy:>9.0f} %")
    print("documents/s = avenants émis × 2 (DOCX + PDF) / durée ; durée = de la première soumission mesurée à la fin "
          "de la dernière tâche ; pic RSS = VmHWM de chaque processus worker dramatiq (objectif ≤ 300 Mo)")
    for r in results:
        cpu = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(r.cpu.items(), key=lambda kv: -kv[1]))
        others = max(0.0, r.busy_s - sum(r.cpu.values()))
        per_item = ", ".join(f"{k} {1000 * v / max(1, r.timed):.0f} ms" for k, v in sorted(r.cpu.items(),
                                                                                          key=lambda kv: -kv[1]))
        print(f"  {r.processes} processus : soumission {r.submit_s:.1f} s ; CPU pendant la mesure ({r.wall_s:.0f} s "
              f"× {cores} cœurs) : {cpu}, autres processus de la machine {others:.0f} s"
              f"{' (plus de 5 % : autre charge sur la machine, débit probablement sous-estimé)' if others > max(2.0, 0.05 * r.busy_s) else ''}")
        print(f"    CPU par élément : {per_item}")
        if r.extra_peaks_mb:
            print(f"    sous-processus des workers : pics {', '.join(r.extra_peaks_mb)}")
        status = {k: v for k, v in r.status.items() if k != "echecs_detail"}
        print(f"    conum reissue status --json : {json.dumps(status, ensure_ascii=False)}")
        for m in r.messages:
            print(f"    {m}")
    peak = max((p for r in results for p in r.peaks_mb), default=0.0)
    print(f"pic RSS maximal d'un worker : {peak:.0f} Mo — objectif ≤ 300 Mo : {'atteint' if peak <= 300 else 'NON ATTEINT'}")
    if len(results) >= 2 and results[0].avenants_per_s:
        print(f"passage de {results[0].processes} à {results[-1].processes} processus : "
              f"×{results[-1].avenants_per_s / results[0].avenants_per_s:.2f}")

    if not results:
        return
    best = max(results, key=lambda r: r.avenants_per_s)
    rate = best.avenants_per_s
    if rate <= 0:
        return
    pg_per_item = best.cpu.get("postgresql", 0.0) / max(1, best.timed)
    redis_per_item = best.cpu.get("redis", 0.0) / max(1, best.timed)
    print(f"\n== projection : N machines workers ({best.processes} processus × {args.threads} fils + "
          f"{args.converters} convertisseurs chacune, {cores} cœurs comme celle-ci) ==")
    print(f"hypothèse : le débit croît avec les machines (les convertisseurs et les workers, qui font l'essentiel du "
          f"CPU, sont sur chaque machine) ; PostgreSQL et Redis sont partagés et ne limitent pas tant qu'ils ont du "
          f"CPU : mesuré ici {1000 * pg_per_item:.0f} ms de CPU PostgreSQL et {1000 * redis_per_item:.1f} ms de CPU "
          f"Redis par avenant, soit ~{1 / pg_per_item if pg_per_item else float('inf'):.0f} avenants/s par cœur "
          f"PostgreSQL. Sur cette machine PostgreSQL partage les cœurs des workers : une machine worker sans "
          f"PostgreSQL ni Redis ferait un peu mieux que la ligne N = 1.")
    print(f"{'machines':>8} {'avenants/s':>10} {'documents/s':>11} {'plan entier (' + str(planned) + ')':>22} "
          f"{'cœurs PostgreSQL':>17}")
    for n in (1, 2, 4, 8, 16):
        per_s = n * rate
        print(f"{n:>8} {per_s:>10.1f} {2 * per_s:>11.1f} {_duration(planned / per_s):>22} "
              f"{per_s * pg_per_item:>17.2f}")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


if __name__ == "__main__":
    main()
