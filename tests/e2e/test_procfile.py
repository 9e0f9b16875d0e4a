"""The Procfile, run as written: what is deployed is what is tested.

Each line of the Procfile (``web``, ``worker``, ``reissue``, ``converter``) is split with shlex and
started as is from the repository (``conum`` is the venv's console script), each in a session of its
own, with one environment for all: real Redis, PostgreSQL, SeaweedFS for every bucket and the
``converter`` process as the workers' LibreOffice (CONVERTER_URLS).

- ``test_procfile_runs_a_job_of_every_actor``: one job of each actor, sent through the deployed
  interfaces (the API of ``web`` with tokens made by ``conum token create``; ``conum submit``;
  ``conum reissue plan|run``), each result read back from the catalog and the buckets. ``worker``
  consumes exactly the interactive queues (its dramatiq command line, parsed by dramatiq's own parser,
  and a re-issue job that stays queued while only ``worker`` runs); ``reissue`` exactly
  ``reemissions``. Issue 14: ``worker: conum worker`` consumed only one queue of three.
- ``test_procfile_worker_killed_9_mid_way_then_restarted``: 40 ``conum submit generate`` as a user
  types them, the ``worker`` process group (with a warm LibreOffice of its own, no ``converter``)
  killed -9 in the middle, the same line started again: no process of the killed worker, its
  LibreOffice included, is alive 5 s later; every job succeeds once, every convention has its v1
  once, no document twice in the bucket.

At the end every process is stopped (SIGTERM, then SIGKILL of its group) and none of them, nor any
process they started in a session of its own (unoservers and LibreOffice, inspection children), is
left.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from dossiers.domain.jobs import JobStatus
from dossiers.settings import ROOT, Settings
from tests.conftest import _free_port
from tests.e2e.test_workers_redis import (
    CONUM,
    READY,
    ProcessGroup,
    _killpg,
    demande_for,
    group_members,
    wait_until,
    worker_env,
)
from tests.factories import demande
from tests.fixtures.signature import copie_signee
from tests.fixtures.sirene import avis_sirene_pdf

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.libreoffice, pytest.mark.seaweedfs]

PROCFILE = ROOT / "Procfile"
INTERACTIVE = ["conventions", "pieces", "archives"]  # what the `worker` line must consume, and nothing else
BATCH = "reemissions"  # what the `reissue` line must consume, and nothing else
CONVERTER_READY = "convertisseurs prêts"


# -- the Procfile and its processes ----------------------------------------------------------------


def procfile() -> dict[str, list[str]]:
    """Each line of the Procfile as ``name -> argv`` (shlex), ``conum`` resolved to the venv's script."""
    commands: dict[str, list[str]] = {}
    for line in PROCFILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, colon, command = line.partition(":")
        assert colon and name.strip().isidentifier() and name.strip() not in commands, f"ligne de Procfile : {line!r}"
        argv = shlex.split(command)
        if argv[0] == "conum":
            argv[0] = str(CONUM)
        commands[name.strip()] = argv
    return commands


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time in clock ticks) of a process, None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), fields[0], int(fields[19])


def descendants(pid: int) -> set[tuple[int, int]]:
    """(pid, start time) of ``pid`` and of every process below it, whatever their session."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(int(entry.name))
        if stat is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        current = todo.pop()
        stat = _stat(current)
        if stat is not None:
            found.add((current, stat[2]))
            todo.extend(children.get(current, []))
    return found


def alive(processes: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Those still running (the same process: same pid and start time; zombies count as gone)."""
    left = set()
    for pid, started in processes:
        stat = _stat(pid)
        if stat is not None and stat[2] == started and stat[1] != "Z":
            left.add((pid, started))
    return left


def dramatiq_queues(pid: int) -> list[str] | None:
    """The queues a dramatiq main process consumes, read from its command line with dramatiq's own
    parser (a repeated ``--queues`` keeps only its last occurrence); None: every queue."""
    from dramatiq.cli import make_argument_parser

    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    assert argv[1:3] == ["-m", "dramatiq"], f"`conum worker` n'a pas exécuté dramatiq : {argv}"
    queues = make_argument_parser().parse_args(argv[3:]).queues
    return list(queues) if queues is not None else None


class Procfile:
    """The Procfile's processes started by name, all stopped by ``close`` (which checks that nothing is left)."""

    def __init__(self, env: dict[str, str], base: Path) -> None:
        self.commands, self.env, self.base = procfile(), env, base
        self.groups: list[tuple[str, ProcessGroup]] = []
        self.killed: list[ProcessGroup] = []
        self.seen: set[tuple[int, int]] = set()  # every process they ran, remembered before each stop or kill

    def start(self, name: str) -> ProcessGroup:
        n = 1 + sum(started == name for started, _ in self.groups)
        group = ProcessGroup(self.commands[name], self.env, self.base / f"{name}-{n}.log")
        self.groups.append((name, group))
        return group

    def all(self) -> list[ProcessGroup]:
        """The groups that should be running (all but those this test killed): one that exits fails the test."""
        return [group for _, group in self.groups if group not in self.killed]

    def remember(self) -> None:
        for _, group in self.groups:
            if group.proc.poll() is None:
                self.seen |= descendants(group.proc.pid)

    def kill(self, group: ProcessGroup) -> None:
        """``kill -9`` of the process group, as an OOM killer or a lost machine would."""
        self.remember()
        self.killed.append(group)
        group.kill()

    def wait_ready(self, group: ProcessGroup, *, processes: int = 1, timeout: float = 180) -> None:
        name = next(n for n, g in self.groups if g is group)
        if name == "web":
            url = f"http://127.0.0.1:{self.env['API_PORT']}/readyz"

            def ready() -> bool:
                try:
                    return httpx.get(url, timeout=2).status_code == 200
                except httpx.TransportError:
                    return False
        elif name == "converter":
            def ready() -> bool:
                return CONVERTER_READY in group.text()
        else:
            def ready() -> bool:
                return group.text().count(READY) >= processes
        wait_until(ready, timeout=timeout, what=f"démarrage de {name}", workers=self.all(), interval=0.1)

    def close(self) -> None:
        """SIGTERM every group (the converter last: the others may still convert), SIGKILL what is left,
        then check that no process they started, in their group or in a session of its own, is alive."""
        self.remember()
        order = [g for n, g in self.groups if n != "converter"] + [g for n, g in self.groups if n == "converter"]
        for group in order:
            if group.proc.poll() is None:
                group.stop(timeout=30)
            else:
                _killpg(group.proc.pid, signal.SIGKILL)
                if not group._out.closed:
                    group._out.close()
        deadline = time.monotonic() + 20  # orphans end on their own: inspection children when stdin closes
        while (left := alive(self.seen)) and time.monotonic() < deadline:
            time.sleep(0.1)
        groups_left = {g.proc.pid: group_members(g.proc.pid) for g in order if group_members(g.proc.pid)}
        for pid, _started in left:  # never leak them, then fail
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        assert not groups_left, f"processus restants dans les groupes : {groups_left}"
        assert not left, f"processus restants : {[(pid, _cmdline(pid)) for pid, _ in left]}"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


@contextmanager
def procfile_processes(env: dict[str, str], base: Path) -> Iterator[Procfile]:
    stack = Procfile(env, base)
    try:
        yield stack
    finally:
        stack.close()


def procfile_env(tmp_path: Path, *, database_url: str, redis_url: str, seaweedfs: Any) -> dict[str, str]:
    """``worker_env`` (one catalog, one broker) plus what the Procfile's lines read: SeaweedFS for every
    bucket, the converter's one LibreOffice on a free port (the others reach it by CONVERTER_URLS), the
    API's port, one worker process of two threads (the re-issue line: its defaults, 1 × 1)."""
    bucket = uuid.uuid4().hex[:10]
    converter_port = _free_port()
    return worker_env(
        tmp_path, database_url=database_url, broker_url=redis_url, converter_urls=f"127.0.0.1:{converter_port}",
        S3_ENDPOINT_URL=seaweedfs.endpoint, S3_REGION=seaweedfs.region, S3_ACCESS_KEY_ID=seaweedfs.access_key,
        S3_SECRET_ACCESS_KEY=seaweedfs.secret_key, S3_BUCKET_DOCUMENTS=f"docs-{bucket}",
        S3_BUCKET_PIECES=f"pieces-{bucket}", S3_BUCKET_ARCHIVE=f"archive-{bucket}",
        CONVERTER_POOL_SIZE="1", CONVERTER_PORT=str(converter_port), API_PORT=str(_free_port()),
        WORKER_PROCESSES="1", WORKER_THREADS="2",
    )  # fmt: skip


def conum(env: dict[str, str], *args: str, timeout: float = 120) -> dict[str, Any]:
    """``conum ARGS --json`` as typed in a shell of the deployment; its one JSON object."""
    done = subprocess.run([str(CONUM), *args, "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"conum {shlex.join(args)} : code {done.returncode}\n{done.stdout[-2000:]}" \
                                 f"{done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def s3_client(env: dict[str, str]) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name=env["S3_REGION"],
                        aws_access_key_id=env["S3_ACCESS_KEY_ID"], aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
                        config=Config(signature_version="s3v4"))


def s3_sha256(s3: Any, bucket: str, key: str) -> str:
    return hashlib.sha256(s3.get_object(Bucket=bucket, Key=key)["Body"].read()).hexdigest()


def s3_keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    keys = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys |= {o["Key"] for o in page.get("Contents", [])}
    return keys


def done_job(app: Any, job_id: str) -> Any:
    job = app.catalog.get_job(job_id)
    return job if job is not None and job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED) else None


# -- every actor through the four processes --------------------------------------------------------


def dated_demande(today: date) -> dict[str, Any]:
    """Commune d'Exempleville (33), vague 2, started about 11 months ago: P-1 a CDD already ended, P-2 a
    CDI, P-3 vacant for more than 6 months (what the May 2025 rules give back). A structure new to the
    programme after 14 May 2025: it carries the ANCT's derogation (regles-2025-05, limites)."""
    start = (today - timedelta(days=330)).replace(day=1)
    vacant = (start + timedelta(days=31)).replace(day=1)
    return demande(convention__date_debut=start.isoformat(),
                   derogation={"reference": "ANCT-DER-TEST", "date": (start - timedelta(days=10)).isoformat()},
                   postes=[
        {"id": "P-1", "etat": "occupe", "conseiller": {"prenom": "Inès", "nom": "Témoin-Lefèvre"},
         "contrat": {"type": "CDD", "date_debut": start.isoformat(),
                     "date_fin": (start + timedelta(days=150)).isoformat()}},
        {"id": "P-2", "etat": "occupe", "conseiller": {"prenom": "Karim", "nom": "Bouzid"},
         "contrat": {"type": "CDI", "date_debut": (start - timedelta(days=90)).isoformat()}},
        {"id": "P-3", "etat": "vacant", "vacant_depuis": vacant.isoformat()},
    ])


def test_procfile_runs_a_job_of_every_actor(tmp_path, redis_server, redis_url, postgres_server, seaweedfs, pki):
    from dossiers.bootstrap import App
    from workers.actors import ACTORS

    queue_of = {actor.actor_name: actor.queue_name for actor in ACTORS.values()}
    assert sorted(set(queue_of.values())) == sorted([*INTERACTIVE, BATCH]), queue_of  # a new queue: see its line
    env = procfile_env(tmp_path, database_url=postgres_server.create_database(), redis_url=redis_url,
                       seaweedfs=seaweedfs)
    env["SIGNATURE_TRUST_ROOTS"] = str(pki.racines)  # the roots the structure's signature chains to
    dossier_id, convention_id = "DOS-V2-STR-000123", "CN-V2-STR-000123"
    jobs: dict[str, str] = {}  # actor -> job id
    s3 = s3_client(env)

    with procfile_processes(env, tmp_path) as stack, App(Settings.from_env(env)) as app:
        today = app.clock.today()  # conum's date, as the processes see it (CONUM_CLOCK_OFFSET_DAYS included)
        payload = dated_demande(today)
        (tmp_path / "demande.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        p1_end = payload["postes"][0]["contrat"]["date_fin"]
        (tmp_path / "retrait.json").write_text(json.dumps({"request_id": "R-retrait-P-1", "type": "retrait_postes",
                                                           "postes": [{"id": "P-1", "date_fin_contrat": p1_end}]}))
        assert sorted(stack.commands) == ["converter", "ds", "reissue", "web", "worker"]  # a new line: test it here
        converter = stack.start("converter")
        web = stack.start("web")
        worker = stack.start("worker")
        for group in (converter, web, worker):
            stack.wait_ready(group)
        # `conum worker` execs dramatiq (same pid) with the interactive queues, all of them and only them
        queues = dramatiq_queues(worker.proc.pid)
        assert queues is not None and sorted(queues) == sorted(INTERACTIVE), queues

        def wait(job_id: str, what: str) -> Any:
            job = wait_until(lambda: done_job(app, job_id), timeout=120, what=what, workers=stack.all())
            assert job.status is JobStatus.SUCCEEDED and job.attempts == 1, (job.to_dict(), worker.tail())
            return job

        portail = conum(env, "token", "create", "--role", "portail", "--nom", "DS connecteur")["token"]
        instr = conum(env, "token", "create", "--role", "instructeur", "--departement", "33")["token"]
        as_portail, as_instr = {"Authorization": f"Bearer {portail}"}, {"Authorization": f"Bearer {instr}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{env['API_PORT']}", timeout=60) as http:
            # validate_dossier: the portal opens the dossier over HTTP
            opened = http.post("/v1/dossiers", json=payload, headers=as_portail)
            assert opened.status_code == 202 and opened.json()["dossier_id"] == dossier_id, opened.text
            jobs["validate_dossier"] = opened.json()["job_id"]
            job = wait(jobs["validate_dossier"], "ouverture du dossier")
            assert job.result["dossier_id"] == dossier_id and job.result["status"] == "incomplet"
            polled = http.get(opened.json()["url"], headers=as_portail).json()
            assert polled["status"] == "succeeded" and polled["actor"] == "validate_dossier", polled

            # validate_piece: an avis de situation Sirene sent over HTTP, checked by the worker
            siret = payload["structure"]["siret"]
            avis = avis_sirene_pdf(siren=siret[:9], siret=siret, denomination="COMMUNE D'EXEMPLEVILLE",
                                   date_avis=today - timedelta(days=7))
            sent = http.post(f"/v1/dossiers/{dossier_id}/pieces", data={"kind": "sirene"},
                             files={"fichier": ("avis de situation.pdf", avis)}, headers=as_portail)
            assert sent.status_code == 202 and sent.json()["sha256"] == hashlib.sha256(avis).hexdigest(), sent.text
            jobs["validate_piece"] = sent.json()["job_id"]
            job = wait(jobs["validate_piece"], "contrôle de l'avis Sirene")
            assert (job.result["kind"], job.result["status"], job.result["findings"]) == ("sirene", "valide", [])
            assert job.result["fields"]["siret"] == siret and job.result["sha256"] == hashlib.sha256(avis).hexdigest()
            (piece,) = app.catalog.list_pieces(dossier_id)
            assert (str(piece.kind), str(piece.statut), piece.findings, piece.sha256) == (
                "sirene", "valide", (), hashlib.sha256(avis).hexdigest())
            assert s3_sha256(s3, env["S3_BUCKET_PIECES"], piece.storage_key) == piece.sha256

            # generate_convention and amend_convention: `conum submit` as typed on a deployment's machine
            jobs["generate_convention"] = conum(env, "submit", "generate", str(tmp_path / "demande.json"))["job_id"]
            job = wait(jobs["generate_convention"], "génération de la convention")
            assert (job.result["convention_id"], job.result["version"], job.result["nouvelle"]) == (
                convention_id, 1, True)
            change = str(tmp_path / "retrait.json")
            jobs["amend_convention"] = conum(env, "submit", "amend", convention_id, change)["job_id"]
            job = wait(jobs["amend_convention"], "avenant de retrait de P-1")
            assert (job.result["version"], job.result["nouvelle"]) == (2, True), job.result

            # archive_signed_copy: the instructeur downloads the avenant (a presigned SeaweedFS URL), the
            # structure signs it, the instructeur sends the signed copy over HTTP
            shown = http.get(f"/v1/conventions/{convention_id}", headers=as_instr).json()
            v2 = next(v for v in shown["versions"] if v["numero"] == 2)
            pdf = next(d for d in v2["documents"] if d["kind"] == "pdf")
            redirect = http.get(pdf["url"], headers=as_instr)
            assert redirect.status_code == 302 and redirect.headers["location"].startswith(env["S3_ENDPOINT_URL"])
            issued = httpx.get(redirect.headers["location"], timeout=30).content
            assert hashlib.sha256(issued).hexdigest() == pdf["sha256"]
            signed = copie_signee(issued, pki)
            up = http.post(v2["signed_url"], files={"fichier": ("avenant signé.pdf", signed)}, headers=as_instr)
            assert up.status_code == 202, up.text
            jobs["archive_signed_copy"] = up.json()["job_id"]
            job = wait(jobs["archive_signed_copy"], "archivage de la copie signée")
            assert job.result["status"] == "archive" and job.result["sha256"] == hashlib.sha256(signed).hexdigest()

        # reissue_convention: plan the May 2025 rules, submit the run; only `worker` runs: it stays queued
        plan = conum(env, "reissue", "plan", "--rules", "regles-2025-05")
        assert plan["total"]["conventions"] == 1 and plan["total"]["postes_rendus"] == 1, plan
        submitted = conum(env, "reissue", "run", plan["plan_id"], "--detach")
        assert submitted["soumises"] == 1 and submitted["restantes"] == 1, submitted
        (item,) = app.catalog.plan_items(plan["plan_id"])
        jobs["reissue_convention"] = item.job_id
        time.sleep(3)  # `worker` is up and idle: were it listening to reemissions, it would have taken it by now
        waiting = app.catalog.get_job(item.job_id)
        assert waiting.status is JobStatus.QUEUED and waiting.attempts == 0, waiting.to_dict()
        assert redis_server.command("hlen", f"dramatiq:{BATCH}.msgs") == "1"
        assert not [e for e in worker.events() if e["job_id"] == item.job_id]

        reissue = stack.start("reissue")
        stack.wait_ready(reissue)
        queues = dramatiq_queues(reissue.proc.pid)
        assert queues == [BATCH], queues
        job = wait(item.job_id, "réémission par le processus reissue")
        assert (job.result["statut"], job.result["version"]) == ("emise", 3), job.result
        status = conum(env, "reissue", "status", plan["plan_id"])
        assert (status["emises"], status["echecs"], status["restantes"], status["termine"]) == (1, 0, 0, True), status

        # one job of every actor, each done once, on its queue; the CLI's view agrees with the catalog
        assert sorted(jobs) == sorted(queue_of), jobs
        listed = {j["job_id"]: j for j in conum(env, "jobs")["jobs"]}
        assert sorted(listed) == sorted(jobs.values())
        for actor, job_id in jobs.items():
            row = app.catalog.get_job(job_id)
            assert (row.actor, row.queue, row.status, row.attempts) == (actor, queue_of[actor], JobStatus.SUCCEEDED, 1)
            assert listed[job_id]["status"] == "succeeded" and listed[job_id]["actor"] == actor

        # the convention: three versions, each with its DOCX and PDF in the documents bucket, SHA-256 as catalogued
        convention = app.catalog.get_convention(convention_id)
        versions = sorted(convention.versions, key=lambda v: v.numero)
        assert [(v.numero, v.document_type) for v in versions] == [(1, "convention"), (2, "avenant"), (3, "avenant")]
        referenced = set()
        for version in versions:
            assert sorted(d.kind for d in version.documents) == ["docx", "pdf"], version.numero
            for doc in version.documents:
                assert s3_sha256(s3, env["S3_BUCKET_DOCUMENTS"], doc.key) == doc.sha256, doc.key
                referenced.add(doc.key)
        assert s3_keys(s3, env["S3_BUCKET_DOCUMENTS"], "conventions/") == referenced  # nothing twice, nothing else
        assert s3_keys(s3, env["S3_BUCKET_DOCUMENTS"], "staging/") == set()  # the signed copy left the staging area

        # the archive: the signed bytes under object lock, and the certificate, both as catalogued
        (record,) = app.catalog.find_archives(convention_id=convention_id)
        assert (record.version, record.statut, record.sha256) == (2, "archive", hashlib.sha256(signed).hexdigest())
        stored = s3.get_object(Bucket=env["S3_BUCKET_ARCHIVE"], Key=record.storage_key)
        assert stored["Body"].read() == signed and stored["ObjectLockMode"] == "COMPLIANCE"
        assert stored["ObjectLockRetainUntilDate"] >= record.retain_until - timedelta(seconds=1)
        assert s3_sha256(s3, env["S3_BUCKET_ARCHIVE"], record.certificat_key) == record.certificat_sha256

    # who did what: `worker` ran the interactive jobs, `reissue` the re-issue, each once
    ran = {e["job_id"]: e["queue"] for e in worker.events() if e["event"] == "succeeded"}
    assert ran == {job_id: queue_of[a] for a, job_id in jobs.items() if a != "reissue_convention"}
    assert {e["job_id"]: e["queue"] for e in reissue.events() if e["event"] == "succeeded"} == {item.job_id: BATCH}
    assert [e for e in reissue.events() if e["queue"] != BATCH] == []


# -- the worker killed -9 in the middle of 40 `conum submit generate` ------------------------------

N_SUBMIT = 40
KILL_AFTER = 10


def test_procfile_worker_killed_9_mid_way_then_restarted(tmp_path, redis_url, postgres_server, seaweedfs):
    from dossiers.bootstrap import App

    env = procfile_env(tmp_path, database_url=postgres_server.create_database(), redis_url=redis_url,
                       seaweedfs=seaweedfs)
    del env["CONVERTER_URLS"]  # the worker holds a warm LibreOffice of its own: it must die with it
    files = []
    for i in range(N_SUBMIT):
        files.append(tmp_path / f"demande-{i:02d}.json")
        files[-1].write_text(json.dumps(demande_for(3000 + i), ensure_ascii=False), encoding="utf-8")
    expected = {f"CN-V2-STR-{3000 + i:06d}" for i in range(N_SUBMIT)}
    s3 = s3_client(env)

    with procfile_processes(env, tmp_path) as stack, App(Settings.from_env(env)) as app, \
            ThreadPoolExecutor(max_workers=6) as pool:
        first = stack.start("worker")
        stack.wait_ready(first)
        # a user's terminal: one `conum submit generate FILE --json` per demande (several terminals at once)
        submissions = [pool.submit(conum, env, "submit", "generate", str(f)) for f in files]

        def mid_way() -> bool:
            counts = app.catalog.count_jobs()
            return counts.get("succeeded", 0) >= KILL_AFTER and counts.get("running", 0) > 0

        wait_until(mid_way, timeout=180, what=f"{KILL_AFTER} tâches réussies", workers=stack.all(), interval=0.05)
        held = descendants(first.proc.pid)  # its converters run in sessions of their own
        offices = {(pid, t) for pid, t in held if "soffice" in _cmdline(pid)}
        assert offices, f"le worker n'avait pas de LibreOffice : {[_cmdline(pid) for pid, _ in held]}"
        # kill it while a job runs (between two jobs, nothing would be interrupted). The kill takes time
        # (the stack lists the group first), so the group is frozen (SIGSTOP) at a moment a job runs: a
        # stopped worker finishes nothing before its SIGKILL. 50 ms let a commit already sent land.
        deadline = time.monotonic() + 60
        while True:
            os.killpg(first.proc.pid, signal.SIGSTOP)
            time.sleep(0.05)
            if app.catalog.count_jobs().get("running", 0) > 0:
                break
            os.killpg(first.proc.pid, signal.SIGCONT)
            assert time.monotonic() < deadline, "aucune tâche en cours en 60 s"
            time.sleep(0.01)
        stack.kill(first)
        killed_at = time.monotonic()
        # SIGKILL ends the group at once; the converters, in sessions of their own, notice within their
        # watchdog's second, then give LibreOffice uno_server.STOP_GRACE (3 s) before SIGKILL: on a loaded
        # machine that is up to ~5 s, so allow 12
        while (group_members(first.proc.pid) or alive(held)) and time.monotonic() - killed_at < 12:
            time.sleep(0.1)
        assert group_members(first.proc.pid) == []
        assert not alive(held), f"restés après kill -9 : {[_cmdline(pid) for pid, _ in alive(held)]}"
        running_at_kill = {j.id for j in app.catalog.list_jobs(status=JobStatus.RUNNING, limit=1000)}
        done_at_kill = app.catalog.count_jobs().get("succeeded", 0)
        assert running_at_kill and KILL_AFTER <= done_at_kill < N_SUBMIT

        second = stack.start("worker")  # the same line again, as a supervisor restarts it
        stack.wait_ready(second)
        job_ids = [s.result(timeout=300)["job_id"] for s in submissions]
        assert len(set(job_ids)) == N_SUBMIT

        def finished() -> bool:
            counts = app.catalog.count_jobs()
            assert not counts.get("failed"), [j.to_dict() for j in app.catalog.list_jobs(status=JobStatus.FAILED)]
            return counts.get("succeeded", 0) == N_SUBMIT

        wait_until(finished, timeout=300, what=f"{N_SUBMIT} tâches réussies", workers=stack.all(), interval=0.5)
        assert app.catalog.count_jobs() == {"succeeded": N_SUBMIT}  # none running, queued or failed
        rows = {job_id: app.catalog.get_job(job_id) for job_id in job_ids}
        assert {r.result["convention_id"] for r in rows.values()} == expected
        assert all(r.actor == "generate_convention" and r.result["version"] == 1 for r in rows.values())
        # what the killed worker held was delivered again, to the restarted one
        assert running_at_kill <= set(job_ids)
        assert all(rows[j].attempts >= 2 for j in running_at_kill), [rows[j].to_dict() for j in running_at_kill]

        conventions = app.catalog.list_conventions(limit=1000)
        assert sorted(c.id for c in conventions) == sorted(expected)
        referenced = set()
        for convention in conventions:
            assert [v.numero for v in convention.versions] == [1], convention.id
            assert sorted(d.kind for d in convention.versions[0].documents) == ["docx", "pdf"], convention.id
            for doc in convention.versions[0].documents:
                assert s3_sha256(s3, env["S3_BUCKET_DOCUMENTS"], doc.key) == doc.sha256, doc.key
                referenced.add(doc.key)
        assert s3_keys(s3, env["S3_BUCKET_DOCUMENTS"], "conventions/") == referenced  # no document twice

    again = {e["job_id"] for e in second.events() if e["event"] == "started"}
    assert running_at_kill <= again
    logged = {e["job_id"] for group in (first, second) for e in group.events() if e["event"] == "succeeded"}
    assert logged <= set(job_ids) and len(set(job_ids) - logged) <= 2  # a line the killed one had not flushed
