"""Jobs that portals enqueue and follow: one row per job (the Dramatiq message id is the job id).

A job is ``queued`` when submitted (or waiting for a retry), ``running`` while a worker has it,
then ``succeeded`` with its ``result`` or ``failed`` with an error ``code`` and French ``message``.
``attempts`` counts the deliveries that started (a redelivered message counts again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = ["JobStatus", "Job"]


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class Job:
    id: str
    actor: str
    queue: str
    args: dict[str, Any]
    status: JobStatus
    created_at: datetime
    idempotency_key: str | None = None
    attempts: int = 0
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None  # {"code", "message"}
    started_at: datetime | None = None
    finished_at: datetime | None = None
    owner: str | None = None  # id of the API token that submitted it (None: CLI or a portal's own message)
    requete_sha256: str | None = None  # the request an Idempotency-Key was sent with (the key is bound to it)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "job_id": self.id, "actor": self.actor, "queue": self.queue, "status": str(self.status),
            "attempts": self.attempts, "result": self.result, "error": self.error, "args": self.args,
            "created_at": iso(self.created_at), "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
        }
