"""Workers on a real Redis broker and a real PostgreSQL catalog, started as deployed: ``conum worker``
(the Procfile's ``worker`` command), which execs ``python -m dramatiq workers.actors --queues …``.

What a production worker lives through: ``kill -9`` in the middle of 200 jobs and a restart, a
hostile piece (failed once, never retried), a database outage during jobs (retried until it comes
back). Jobs are submitted from this process with ``workers.submit.submit`` on a Redis broker built
by ``workers.broker.build_broker`` (the actors' names, queues and options are those of
``workers.actors``): the real submission path, without depending on the broker this process's
``workers.actors`` was imported with.

Helpers (``LocalPostgres``, ``Workers``, ``submitter``…) are reused by ``bench/workers.py`` and other e2e
tests; ``ProcessGroup`` runs any command of the Procfile (tests/e2e/test_procfile.py). No test of the
workers starts ``dramatiq`` itself: the queues a worker consumes are those ``conum worker`` gives it.

A dead worker's messages go back to their queue when Dramatiq's Redis maintenance runs, on
``BROKER_MAINTENANCE_CHANCE`` out of a million broker commands (Dramatiq's default, 1 000, left
messages stuck for minutes here; conum's default is 100 000), once ``BROKER_HEARTBEAT_TIMEOUT`` has
passed (3 s in these tests).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from stdnum import luhn

from dossiers.clock import Clock
from dossiers.domain.jobs import Job, JobStatus
from dossiers.settings import ENV_VARS, ROOT, Settings
from tests.conftest import PG_BIN, _free_port, _missing_service
from tests.factories import demande

pytestmark = pytest.mark.redis

HEARTBEAT_TIMEOUT_S = 3
READY = "Worker process is ready for action."



# -- helpers (also used by bench/workers.py) -------------------------------------------------------


def siret_for(i: int) -> str:
    """A distinct SIRET per ``i`` whose SIREN and SIRET both pass the Luhn key."""
    siren = f"{20_000_000 + i:08d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + f"{1 + i % 9000:04d}"
    return base + luhn.calc_check_digit(base)


def demande_for(i: int) -> dict[str, Any]:
    return demande(structure__id=f"STR-{i:06d}", structure__siret=siret_for(i))


def wait_until(check: Callable[[], Any], *, timeout: float, what: str, workers: Iterable[ProcessGroup] = (),
               every: Callable[[], None] | None = None, interval: float = 0.2) -> Any:
    """Poll ``check`` until it returns something true; fail on timeout or if one of ``workers`` exits."""
    deadline = time.monotonic() + timeout
    while True:
        if every is not None:
            every()
        value = check()
        if value:
            return value
        for group in workers:
            if group.proc.poll() is not None:
                pytest.fail(f"{what} : {group.log.stem} s'est arrêté (code {group.proc.returncode})\n{group.tail()}")
        if time.monotonic() > deadline:
            tails = "\n".join(group.tail() for group in workers)
            pytest.fail(f"{what} : délai de {timeout:.0f} s dépassé\n{tails}")
        time.sleep(interval)


class LocalPostgres:
    """A PostgreSQL of its own (tests/conftest.py's recipe) that can be stopped and started again on
    the same port. As root, ``initdb`` and ``pg_ctl`` run as ``postgres``."""

    def __init__(self) -> None:
        if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
            _missing_service(f"PostgreSQL introuvable dans {PG_BIN}")
        as_root = os.geteuid() == 0
        self._prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        self.base = Path(tempfile.mkdtemp(prefix="conum-pg-workers-"))
        (self.base / "sock").mkdir()
        if as_root:
            shutil.chown(self.base, "postgres", "postgres")
            shutil.chown(self.base / "sock", "postgres", "postgres")
        self.data, self.log = self.base / "data", self.base / "server.log"
        self.port = 0
        subprocess.run(
            [*self._prefix, str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*self._prefix, str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args],
                              check=False, capture_output=True, timeout=60)

    def start(self) -> None:
        """Start on a free port the first time, then always on that port."""
        for _attempt in range(3 if not self.port else 1):
            port = self.port or _free_port()
            options = f"-p {port} -k {self.base / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off"
            started = self._pg_ctl("-l", str(self.log), "-w", "-t", "30", "-o", options, "start")
            if started.returncode == 0:
                self.port = port
                return
        tail = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        raise RuntimeError(f"PostgreSQL n'a pas démarré : {started.stderr.decode(errors='replace')}\n{tail}")

    def stop(self) -> None:
        """Fast shutdown: open connections are cut, as in a database outage."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


def worker_env(base: Path, *, database_url: str, broker_url: str, converter_urls: str | None,
               **extra: str) -> dict[str, str]:
    """The environment of the workers and the settings of the submitter: one catalog, one storage."""
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}  # nothing from the caller's conum setup
    env.update({
        "CONUM_VAR_DIR": str(base / "var"), "DATABASE_URL": database_url, "STORAGE_DIR": str(base / "storage"),
        "BROKER_URL": broker_url, "BROKER_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT_S), "INSPECTION_WORKERS": "1",
        "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1",
    })
    if converter_urls:
        env["CONVERTER_URLS"] = converter_urls
    env.update(extra)
    return env


CONUM = Path(sys.executable).parent / "conum"  # the console script the Procfile's ``conum`` is


class ProcessGroup:
    """A command run from the repository in a session (process group) of its own, output in a log file."""

    def __init__(self, command: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.command, self.log = list(command), log
        self._out = open(log, "ab")  # noqa: SIM115 - closed by stop()/kill()
        self.proc = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def tail(self, chars: int = 3000) -> str:
        return f"--- {self.log.name} ---\n{self.text()[-chars:]}"

    def events(self) -> list[dict[str, Any]]:
        """The JSON job events (``workers.middleware``) the group logged."""
        found = []
        for line in self.text().splitlines():
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:  # a line cut by kill -9
                    continue
                if "event" in record:
                    found.append(record)
        return found

    def kill(self) -> None:
        """``kill -9`` the whole group (for a worker: the dramatiq main process and its worker processes)."""
        _killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._out.close()

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM (a worker finishes its in-flight jobs, prefetched messages are requeued), then SIGKILL
        leftovers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        _killpg(self.proc.pid, signal.SIGKILL)  # anything left in the group (children of a killed process)
        if self.proc.poll() is None:
            self.proc.wait(timeout=30)
        self._out.close()


class Workers(ProcessGroup):
    """``conum worker --processes N --threads T`` (``--reemissions``: the Procfile's ``reissue``), as deployed.
    ``conum worker`` execs dramatiq, so ``proc`` is the dramatiq main process (and the group's leader)."""

    def __init__(self, env: dict[str, str], log: Path, *, processes: int = 1, threads: int = 2,
                 reemissions: bool = False) -> None:
        self.processes = processes
        super().__init__([str(CONUM), "worker", *(["--reemissions"] if reemissions else []),
                          "--processes", str(processes), "--threads", str(threads)], env, log)

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(lambda: self.text().count(READY) >= self.processes, timeout=timeout,
                   what="démarrage des workers", workers=[self])


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group (zombies, dead but not yet reaped by init, not counted)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def group_alive(pgid: int, wait: float = 10) -> bool:
    """Whether the group still has live processes after ``wait`` seconds (a killed one takes a moment)."""
    deadline = time.monotonic() + wait
    while group_members(pgid):
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)
    return False


@contextmanager
def submitter(settings: Settings) -> Iterator[tuple[Any, dict[str, Any]]]:
    """An ``App`` on the workers' catalog and storage, and the actors of ``workers.actors`` bound to
    a Redis broker built from ``settings`` (whatever broker this process imported them with)."""
    import dramatiq

    from dossiers.bootstrap import App
    from workers.actors import ACTORS
    from workers.broker import build_broker

    broker = build_broker(settings)
    actors = {
        name: dramatiq.Actor(actor.fn, broker=broker, actor_name=actor.actor_name, queue_name=actor.queue_name,
                             priority=actor.priority, options=dict(actor.options))
        for name, actor in ACTORS.items()
    }
    try:
        with App(settings) as app:
            yield app, actors
    finally:
        broker.close()


def submit_generate(app: Any, actor: Any, payloads: Iterable[dict[str, Any]]) -> list[Job]:
    from workers.submit import store_json, submit

    return [submit(app, actor, {"demande_key": store_json(app, payload)}) for payload in payloads]


def all_jobs(app: Any) -> list[Job]:
    return app.catalog.list_jobs(limit=1000)


def check_documents(app: Any, storage_dir: Path, conventions: list[Any]) -> int:
    """Every document of the catalog reads back with its SHA-256, and storage holds no other
    convention document; every object's bytes match their metadata, every metadata has its object.
    Returns the documents checked."""
    referenced = set()
    for convention in conventions:
        for version in convention.versions:
            for doc in version.documents:
                data = app.storage.get(doc.key, sha256=doc.sha256)  # verifies too
                assert hashlib.sha256(data).hexdigest() == doc.sha256 and len(data) == doc.size, doc.key
                referenced.add(doc.key)
    objects, meta = storage_dir / "objects", storage_dir / "meta"
    stored = {str(p.relative_to(objects)) for p in objects.rglob("*") if p.is_file()}
    assert {k for k in stored if k.startswith("conventions/")} == referenced
    # no claim left without its bytes (a writer killed between its two links, never completed)
    assert {str(p.relative_to(meta))[: -len(".json")] for p in meta.rglob("*.json")} == stored
    for key in stored:
        record = json.loads((meta / f"{key}.json").read_text())
        assert hashlib.sha256((objects / key).read_bytes()).hexdigest() == record["sha256"], key
    return len(referenced)




# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture
def own_postgres() -> Iterator[LocalPostgres]:
    server = LocalPostgres()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def started() -> Iterator[list[Workers]]:
    """Worker groups a test starts; all stopped (and their process groups emptied) at the end."""
    groups: list[Workers] = []
    try:
        yield groups
    finally:
        for group in groups:
            group.stop(timeout=10) if group.proc.poll() is None else _killpg(group.proc.pid, signal.SIGKILL)
        for group in groups:
            assert not group_alive(group.proc.pid), f"processus restants dans le groupe {group.proc.pid}"


# -- tests -----------------------------------------------------------------------------------------

N_JOBS = 200
KILL_AFTER = 40


@pytest.mark.postgres
@pytest.mark.libreoffice
def test_kill_9_in_the_middle_of_200_jobs_then_restart(tmp_path, redis_url, postgres_server, pool_urls, started):
    env = worker_env(tmp_path, database_url=postgres_server.create_database(), broker_url=redis_url,
                     converter_urls=pool_urls)
    settings = Settings.from_env(env)
    with submitter(settings) as (app, actors):
        jobs = submit_generate(app, actors["generate"], (demande_for(i) for i in range(N_JOBS)))
        assert len({j.id for j in jobs}) == N_JOBS
        expected = {j.id: f"CN-V2-STR-{i:06d}" for i, j in enumerate(jobs)}

        first = Workers(env, tmp_path / "worker-1.log")
        started.append(first)
        wait_until(lambda: app.catalog.count_jobs().get("succeeded", 0) >= KILL_AFTER, timeout=180,
                   what=f"{KILL_AFTER} tâches réussies", workers=[first])
        first.kill()
        killed_at = datetime.now(UTC)
        assert not group_alive(first.proc.pid)
        running_at_kill = {j.id for j in app.catalog.list_jobs(status=JobStatus.RUNNING, limit=1000)}
        done_at_kill = app.catalog.count_jobs().get("succeeded", 0)
        assert KILL_AFTER <= done_at_kill < N_JOBS
        assert running_at_kill, "aucune tâche en cours au moment du kill -9"

        second = Workers(env, tmp_path / "worker-2.log")
        started.append(second)

        def finished() -> dict[str, int] | None:
            counts = app.catalog.count_jobs()
            assert not counts.get("failed"), [j.to_dict() for j in app.catalog.list_jobs(status=JobStatus.FAILED)]
            return counts if counts.get("succeeded", 0) == N_JOBS else None

        wait_until(finished, timeout=300, what=f"{N_JOBS} tâches réussies", workers=[second], interval=1.0)

        assert app.catalog.count_jobs() == {"succeeded": N_JOBS}  # none running, queued or failed
        rows = {j.id: j for j in all_jobs(app)}
        assert rows.keys() == expected.keys()
        for job_id, convention_id in expected.items():
            result = rows[job_id].result
            assert result["convention_id"] == convention_id and result["version"] == 1, rows[job_id]
        # the jobs a worker held when it died were delivered again, and counted as a second attempt
        assert all(rows[j].attempts >= 2 for j in running_at_kill), [rows[j].to_dict() for j in running_at_kill]

        conventions = app.catalog.list_conventions(limit=1000)
        assert sorted(c.id for c in conventions) == sorted(expected.values())
        for convention in conventions:
            assert [v.numero for v in convention.versions] == [1], convention.id
            assert sorted(d.kind for d in convention.versions[0].documents) == ["docx", "pdf"]
        assert check_documents(app, tmp_path / "storage", conventions) == 2 * N_JOBS

    # one JSON "succeeded" line per job; only a line the killed worker had not flushed may be missing
    logged = {e["job_id"] for group in (first, second) for e in group.events() if e["event"] == "succeeded"}
    assert logged <= expected.keys()
    missing = expected.keys() - logged
    assert len(missing) <= 2 and all(rows[j].finished_at <= killed_at for j in missing), missing
    assert any(e["event"] == "started" and e["job_id"] in running_at_kill for e in second.events())


@pytest.mark.postgres
def test_hostile_piece_fails_once_without_retry(tmp_path, redis_server, redis_url, postgres_server, started):
    from tests.fixtures.sirene import avis_sirene_pdf
    from tests.hostile import corpus
    from workers.submit import store_json, store_upload, submit

    env = worker_env(tmp_path, database_url=postgres_server.create_database(), broker_url=redis_url,
                     converter_urls=None)
    hostile = next(case for case in corpus() if case.name == "js-openaction.pdf")
    siret = siret_for(7)
    avis = avis_sirene_pdf(siren=siret[:9], siret=siret, denomination="COMMUNE D'EXEMPLEVILLE",
                           date_avis=Clock().today() - timedelta(days=7))
    with submitter(Settings.from_env(env)) as (app, actors):
        group = Workers(env, tmp_path / "worker.log")
        started.append(group)

        def done(job_id: str) -> Job | None:
            job = app.catalog.get_job(job_id)
            return job if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None

        # the dossier is opened by a worker too (validate_dossier)
        opening = submit(app, actors["dossier"], {"demande_key": store_json(app, demande_for(7)), "dossier_id": None})
        opened = wait_until(lambda: done(opening.id), timeout=60, what="ouverture du dossier", workers=[group])
        assert opened.status is JobStatus.SUCCEEDED, opened.to_dict()
        dossier_id = opened.result["dossier_id"]
        assert dossier_id == "DOS-V2-STR-000007"

        def piece(data: bytes, name: str) -> Job:
            return submit(app, actors["validate"], {
                "dossier_id": dossier_id, "kind": str(hostile.kind), "piece_key": store_upload(app, data),
                "filename": name, "poste_id": None, "mrz": None, "date_controle": None})

        good = piece(avis, "avis.pdf")
        valid = wait_until(lambda: done(good.id), timeout=60, what="fin de la tâche valide", workers=[group])
        assert valid.status is JobStatus.SUCCEEDED and valid.result["status"] == "valide", valid.to_dict()

        bad = piece(hostile.data, hostile.name)
        failed = wait_until(lambda: done(bad.id), timeout=60, what="fin de la tâche hostile", workers=[group])

        assert failed.status is JobStatus.FAILED and failed.attempts == 1, failed.to_dict()
        assert failed.error["code"] == "piece_invalide"
        assert "PDF_CONTENU_ACTIF" in failed.error["message"]
        assert failed.result["status"] == "invalide"
        assert "PDF_CONTENU_ACTIF" in {f["code"] for f in failed.result["findings"]}

        time.sleep(3)  # longer than the first retry's backoff (1 s ± jitter): none may come
        again = app.catalog.get_job(bad.id)
        assert again.status is JobStatus.FAILED and again.attempts == 1 and again.finished_at == failed.finished_at
    # dead-lettered at once; logged as started once and failed once, never as a retry
    assert redis_server.command("zcard", "dramatiq:pieces.XQ") == "1"
    events = [e["event"] for e in group.events() if e["job_id"] == bad.id]
    assert events == ["started", "failed"]
    assert next(e for e in group.events() if e["job_id"] == bad.id and e["event"] == "failed")["error_code"] == \
        "piece_invalide"


OUTAGE_JOBS = 6
OUTAGE_S = 5


@pytest.mark.postgres
@pytest.mark.libreoffice
def test_database_outage_during_jobs_is_retried_until_it_comes_back(tmp_path, redis_url, own_postgres, pool_urls,
                                                                    started):
    env = worker_env(tmp_path, database_url=own_postgres.create_database(), broker_url=redis_url,
                     converter_urls=pool_urls)
    with submitter(Settings.from_env(env)) as (app, actors):
        jobs = submit_generate(app, actors["generate"], (demande_for(1000 + i) for i in range(OUTAGE_JOBS)))
        group = Workers(env, tmp_path / "worker.log")
        started.append(group)
        # the outage starts while the worker is in its first job(s)
        wait_until(lambda: app.catalog.count_jobs().get("running"), timeout=60, what="première tâche en cours",
                   workers=[group], interval=0.05)
        own_postgres.stop()
        stopped_at = time.monotonic()
        time.sleep(OUTAGE_S)
        own_postgres.start()
        outage = time.monotonic() - stopped_at

        def finished() -> bool:
            counts = app.catalog.count_jobs()
            assert not counts.get("failed"), [j.to_dict() for j in app.catalog.list_jobs(status=JobStatus.FAILED)]
            return counts.get("succeeded", 0) == OUTAGE_JOBS

        wait_until(finished, timeout=120, what="reprise après la panne", workers=[group], interval=0.5)
        rows = all_jobs(app)
        assert app.catalog.count_jobs() == {"succeeded": OUTAGE_JOBS}
        assert max(j.attempts for j in rows) >= 2, [j.to_dict() for j in rows]
        conventions = app.catalog.list_conventions(limit=100)
        assert sorted(c.id for c in conventions) == sorted(j.result["convention_id"] for j in rows)
        assert len(conventions) == OUTAGE_JOBS and all(len(c.versions) == 1 for c in conventions)
        check_documents(app, tmp_path / "storage", conventions)
    events = group.events()
    retries = [e for e in events if e["event"] == "retry"]
    assert retries and all(e["error_code"] for e in retries), events
    assert {e["job_id"] for e in events if e["event"] == "succeeded"} == {j.id for j in jobs}
    assert outage < 15


@pytest.mark.postgres
def test_cold_worker_takes_concurrent_first_jobs(tmp_path, redis_url, postgres_server, started):
    """A worker started on a full queue: its threads' first jobs all use the App at once."""
    from dossiers.services.validation import open_dossier
    from tests.fixtures.sirene import avis_sirene_pdf
    from workers.submit import store_upload, submit

    threads = 4
    env = worker_env(tmp_path, database_url=postgres_server.create_database(), broker_url=redis_url,
                     converter_urls=None)
    with submitter(Settings.from_env(env)) as (app, actors):
        jobs = []
        for i in range(500, 500 + threads):
            siret = siret_for(i)
            dossier = open_dossier(demande_for(i), app)
            avis = avis_sirene_pdf(siren=siret[:9], siret=siret, denomination="COMMUNE D'EXEMPLEVILLE",
                                   date_avis=Clock().today() - timedelta(days=7))
            jobs.append(submit(app, actors["validate"], {
                "dossier_id": dossier.id, "kind": "sirene", "piece_key": store_upload(app, avis),
                "filename": "avis.pdf", "poste_id": None, "mrz": None, "date_controle": None}))
        group = Workers(env, tmp_path / "worker.log", threads=threads)
        started.append(group)
        wait_until(lambda: app.catalog.count_jobs().get("succeeded", 0) + app.catalog.count_jobs().get("failed", 0)
                   == threads, timeout=15, what="fin des tâches (sans réponse : interblocage ?)", workers=[group])
        rows = all_jobs(app)
    events = group.events()
    assert [e for e in events if e["event"] in ("retry", "suivi_indisponible")] == []
    assert all(j.status is JobStatus.SUCCEEDED and j.attempts == 1 for j in rows), [j.to_dict() for j in rows]
