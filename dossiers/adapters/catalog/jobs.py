"""The catalog's jobs (a mixin of ``Catalog``): what portals follow while workers run them.

Writes are single statements (insert-or-nothing, conditional updates), so several workers and
redeliveries of one message converge: a finished job is never reopened by a late redelivery's
start, and ``attempts`` only grows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dossiers.adapters.catalog.base import CatalogBase
from dossiers.adapters.catalog.tables import JobRow
from dossiers.domain.jobs import Job, JobStatus

__all__ = ["JobCatalog"]

_DONE = (str(JobStatus.SUCCEEDED), str(JobStatus.FAILED))
MAX_LIST = 1000


class JobCatalog(CatalogBase):
    """Methods ``Catalog`` gets for jobs; relies on its ``_writer``, ``_read``, ``_translate``, ``_insert``."""


    def create_job(self, job: Job) -> tuple[Job, bool]:
        """Record a submitted job; with an ``idempotency_key`` already used, the existing job (False)."""
        with self._translate(f"l'enregistrement de la tâche {job.id}"):
            with Session(self._writer) as session, session.begin():
                inserted = session.execute(
                    self._insert(JobRow).values(
                        id=job.id, actor=job.actor, queue=job.queue, args=job.args, idempotency_key=job.idempotency_key,
                        status=str(job.status), attempts=job.attempts, created_at=job.created_at, owner=job.owner,
                        requete_sha256=job.requete_sha256,
                    ).on_conflict_do_nothing().returning(JobRow.id)
                ).scalar_one_or_none()
                if inserted is not None:
                    return job, True
                stmt = select(JobRow).where(
                    (JobRow.idempotency_key == job.idempotency_key) if job.idempotency_key else (JobRow.id == job.id))
                return _job(session.scalars(stmt).one()), False

    def job_started(self, job_id: str, *, actor: str, queue: str, args: dict[str, Any], now: datetime) -> None:
        """A worker took the job (creating its row when a portal sent the message itself)."""
        with self._translate(f"l'enregistrement du démarrage de la tâche {job_id}"):
            with Session(self._writer) as session, session.begin():
                session.execute(self._insert(JobRow).values(
                    id=job_id, actor=actor, queue=queue, args=args, status=str(JobStatus.QUEUED), attempts=0,
                    created_at=now,
                ).on_conflict_do_nothing())
                session.execute(
                    update(JobRow).where(JobRow.id == job_id, JobRow.status.not_in(_DONE))
                    .values(status=str(JobStatus.RUNNING), attempts=JobRow.attempts + 1, started_at=now)
                )

    def job_finished(self, job_id: str, *, status: JobStatus, now: datetime, result: dict[str, Any] | None = None,
                     error: dict[str, str] | None = None) -> None:
        """Succeeded, failed, or back to queued (a retry is scheduled) with the error that caused it."""
        values: dict[str, Any] = {"status": str(status), "result": result,
                                  "error_code": error["code"] if error else None,
                                  "error_message": error["message"] if error else None}
        if status is not JobStatus.QUEUED:
            values["finished_at"] = now
        with self._translate(f"l'enregistrement de la fin de la tâche {job_id}"):
            with Session(self._writer) as session, session.begin():
                stmt = update(JobRow).where(JobRow.id == job_id)
                if status is not JobStatus.SUCCEEDED:  # a success is final: a late failure report cannot undo it
                    stmt = stmt.where(JobRow.status != str(JobStatus.SUCCEEDED))
                session.execute(stmt.values(**values))

    def requeue_failed_job(self, job_id: str) -> bool:
        """A failed job submitted again goes back to ``queued`` (True when this call did it)."""
        with self._translate(f"la remise en file de la tâche {job_id}"):
            with Session(self._writer) as session, session.begin():
                done = session.execute(
                    update(JobRow).where(JobRow.id == job_id, JobRow.status == str(JobStatus.FAILED))
                    .values(status=str(JobStatus.QUEUED), finished_at=None).returning(JobRow.id)
                ).scalar_one_or_none()
                return done is not None

    def find_job_by_key(self, idempotency_key: str) -> Job | None:
        with self._read("la lecture d'une tâche par sa clé") as session:
            row = session.scalars(select(JobRow).where(JobRow.idempotency_key == idempotency_key)).one_or_none()
            return _job(row) if row is not None else None

    def get_job(self, job_id: str) -> Job | None:
        with self._read(f"la lecture de la tâche {job_id}") as session:
            row = session.get(JobRow, job_id)
            return _job(row) if row is not None else None

    def list_jobs(self, *, status: JobStatus | None = None, limit: int = 100) -> list[Job]:
        if not 0 < limit <= MAX_LIST:
            raise ValueError(f"limit entre 1 et {MAX_LIST}")
        stmt = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id).limit(limit)
        if status is not None:
            stmt = stmt.where(JobRow.status == str(status))
        with self._read("la liste des tâches") as session:
            return [_job(row) for row in session.scalars(stmt)]

    def count_jobs(self) -> dict[str, int]:
        stmt = select(JobRow.status, func.count()).group_by(JobRow.status)
        with self._read("le décompte des tâches") as session:
            return {status: int(n) for status, n in session.execute(stmt)}


def _job(row: JobRow) -> Job:
    error = {"code": row.error_code, "message": row.error_message or ""} if row.error_code else None
    return Job(
        id=row.id, actor=row.actor, queue=row.queue, args=dict(row.args), status=JobStatus(row.status),
        created_at=row.created_at, idempotency_key=row.idempotency_key, attempts=row.attempts, result=row.result,
        error=error, started_at=row.started_at, finished_at=row.finished_at, owner=row.owner,
        requete_sha256=row.requete_sha256,
    )
