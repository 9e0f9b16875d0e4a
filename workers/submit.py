"""Submit jobs: store what the job reads, record the job, enqueue its message.

``submit`` is the Python API portals (and ``conum submit``) use. The job id is the Dramatiq message
id. The idempotency key is the actor plus its arguments (content-addressed keys), so submitting the
same thing twice gives the same job (run again if it had failed); a job recorded but still not started after ``RESUBMIT_AFTER``
(its submitter may have died before enqueuing it) is enqueued again by the next identical submission. With the in-process broker (no
``BROKER_URL``), the job runs in this process before ``submit`` returns.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from datetime import timedelta
from typing import Any

import dramatiq
from dramatiq import Worker

from dossiers.domain.jobs import Job, JobStatus
from dossiers.errors import IdempotenceConflit
from dossiers.services.requetes import store_json, store_upload
from workers.broker import is_local

__all__ = ["store_json", "store_upload", "submit", "submit_many", "idempotency_key", "check_requete", "RESUBMIT_AFTER"]

RESUBMIT_AFTER = timedelta(minutes=10)


def idempotency_key(actor_name: str, kwargs: dict[str, Any]) -> str:
    canonical = json.dumps([actor_name, kwargs], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _record(app: Any, actor: dramatiq.Actor[..., Any], kwargs: dict[str, Any], key: str | None,
            owner: str | None, requete_sha256: str | None = None) -> tuple[Job, dramatiq.Message[Any] | None]:
    """Record the job; the message to enqueue, or None when the job is already on its way or done."""
    key = key or idempotency_key(actor.actor_name, kwargs if owner is None else {**kwargs, "_owner": owner})
    now = app.clock.now()
    job = Job(id=str(uuid.uuid4()), actor=actor.actor_name, queue=actor.queue_name, args=kwargs,
              status=JobStatus.QUEUED, created_at=now, idempotency_key=key, owner=owner,
              requete_sha256=requete_sha256)
    job, created = app.catalog.create_job(job)
    if not created:
        check_requete(job, requete_sha256)
    # recorded but never started for a long time: its submitter may have died before enqueuing it
    # (a duplicate message is harmless, every effect is idempotent, but one is the norm)
    lost = job.status is JobStatus.QUEUED and job.attempts == 0 and now - job.created_at > RESUBMIT_AFTER
    # a failed job submitted again is run again (the cause may be gone: clamd back, a demande corrected
    # elsewhere…); a succeeded one is not: its effect is done
    retried = job.status is JobStatus.FAILED and app.catalog.requeue_failed_job(job.id)
    if not (created or lost or retried):
        return job, None
    # in process, a transient failure is reported at once rather than retried minutes later
    options: dict[str, Any] = {"max_retries": 0} if is_local(actor.broker) else {}
    return job, actor.message_with_options(kwargs=job.args, **options).copy(message_id=job.id)


def check_requete(job: Job, requete_sha256: str | None) -> None:
    """An Idempotency-Key is bound to the request it came with: another request under it is refused
    (a job recorded before keys were bound has no digest, and is returned as before)."""
    if requete_sha256 is not None and job.requete_sha256 is not None and job.requete_sha256 != requete_sha256:
        raise IdempotenceConflit(
            "Cette clé d'idempotence (Idempotency-Key) a déjà servi pour une autre requête (tâche "
            f"{job.id}) : une nouvelle requête demande une nouvelle clé.")


def submit(app: Any, actor: dramatiq.Actor[..., Any], kwargs: dict[str, Any], *, key: str | None = None,
           owner: str | None = None, requete_sha256: str | None = None) -> Job:
    """Record and enqueue a job (or return the job already submitted with the same key).

    ``owner`` (an API token id) is part of the default key: two portals sending the same file each
    get a job of their own to follow (the work itself is still done once, effects are idempotent).
    ``requete_sha256``: the request a client's Idempotency-Key came with; the same key with another
    request raises ``IdempotenceConflit``."""
    job, message = _record(app, actor, kwargs, key, owner, requete_sha256)
    if message is not None:
        actor.broker.enqueue(message)
    if is_local(actor.broker):
        _run_here(actor.broker, actor.queue_name)
        job = app.catalog.get_job(job.id) or job
    return job


def submit_many(app: Any, actor: dramatiq.Actor[..., Any], batch: list[tuple[dict[str, Any], str]]) -> list[Job]:
    """Record a job per ``(kwargs, key)`` and enqueue the messages as one Dramatiq group. With the
    in-process broker they run here, in order, before this returns (the jobs as they ended)."""
    jobs, messages = [], []
    for kwargs, key in batch:
        job, message = _record(app, actor, kwargs, key, None)
        jobs.append(job)
        if message is not None:
            messages.append(message)
    if messages:
        dramatiq.group(messages, broker=actor.broker).run()  # type: ignore[no-untyped-call]  # dramatiq leaves group unannotated
    if is_local(actor.broker):
        _run_here(actor.broker, actor.queue_name)
        jobs = [app.catalog.get_job(j.id) or j for j in jobs]
    return jobs


_local_workers: dict[int, Worker] = {}
_local_lock = threading.Lock()


def _run_here(broker: dramatiq.Broker, queue_name: str) -> None:
    """In-process broker: run the queue to empty with this process's worker (one thread, started once)."""
    with _local_lock:
        if id(broker) not in _local_workers:
            worker = Worker(broker, worker_timeout=100, worker_threads=1)
            worker.start()
            _local_workers[id(broker)] = worker
        worker = _local_workers[id(broker)]
    broker.join(queue_name, fail_fast=False)  # type: ignore[call-arg]
    worker.join()
