"""Job tracking and logs for every message a worker processes.

``JobTracking`` keeps the catalog's job row in step with the message (its id is the job id):
running when a delivery starts, then succeeded (with the actor's result), queued again (a retry is
scheduled, with the error that caused it) or failed (no retry: a refusal, a defect, or retries
exhausted). Each event is also one JSON line on the ``conum.jobs`` logger: job id, actor, queue,
attempt, duration, outcome, error code; a defect (``Kind.DEFAUT``) gets one more line with its trace.
A catalog outage while tracking is logged, never turned into a failure of the job itself.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from typing import Any

from dramatiq import Middleware
from dramatiq.middleware import TimeLimitExceeded

from dossiers.domain.jobs import JobStatus
from dossiers.errors import ConumError, ErrorCode, Kind

__all__ = ["JobTracking", "AppLifetime", "error_of", "JsonFormatter", "configure_job_log"]

log = logging.getLogger("conum.jobs")


def error_of(exception: BaseException) -> dict[str, str]:
    """What the job row records: a ``ConumError``'s code and message; ``delai_depasse`` for Dramatiq's time
    limit; ``erreur_interne`` for any other exception (its class and text, for operations)."""
    if isinstance(exception, ConumError):
        return {"code": str(exception.code), "message": exception.message}
    if isinstance(exception, TimeLimitExceeded):
        return {"code": str(ErrorCode.DELAI_DEPASSE), "message": "La tâche a dépassé sa limite de temps."}
    return {"code": str(ErrorCode.ERREUR_INTERNE), "message": f"{type(exception).__name__} : {exception}"[:2000]}


def _log_defect(message: Any, exception: BaseException) -> None:
    """A defect is not retried (``workers/retry.py``) and Dramatiq logs only its class: log its trace."""
    if isinstance(exception, ConumError) and exception.kind is Kind.DEFAUT:
        trace = "".join(traceback.format_exception(exception))
        log.error(json.dumps({"event": "defaut", "job_id": message.message_id, "actor": message.actor_name,
                              "error_code": str(exception.code), "trace": trace}, ensure_ascii=False))


def _tracking_failed(message: Any, exc: Exception) -> None:
    log.warning(json.dumps({"event": "suivi_indisponible", "job_id": message.message_id,
                            "error": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False))


def _emit(event: str, message: Any, **fields: Any) -> None:
    record = {"event": event, "job_id": message.message_id, "actor": message.actor_name,
              "queue": message.queue_name, **fields}
    log.info(json.dumps(record, ensure_ascii=False, default=str))


class JobTracking(Middleware):
    def before_process_message(self, broker: Any, message: Any) -> None:
        from workers import runtime

        message.options["conum_started"] = time.monotonic()
        try:
            app = runtime.app()
            app.catalog.job_started(message.message_id, actor=message.actor_name, queue=message.queue_name,
                                    args=dict(message.kwargs), now=app.clock.now())
        except Exception as exc:  # noqa: BLE001 - tracking must not fail the job
            _tracking_failed(message, exc)
        _emit("started", message, retries=message.options.get("retries", 0))

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        from workers import runtime

        duration_ms = round((time.monotonic() - message.options.pop("conum_started", time.monotonic())) * 1000)
        if exception is None:
            status, error, payload = JobStatus.SUCCEEDED, None, result if isinstance(result, dict) else None
        else:
            error = error_of(exception)
            _log_defect(message, exception)
            payload = getattr(exception, "result", None)
            status = JobStatus.FAILED if message.failed else JobStatus.QUEUED
        try:
            app = runtime.app()
            app.catalog.job_finished(message.message_id, status=status, now=app.clock.now(), result=payload,
                                     error=error)
            if status is not JobStatus.QUEUED:  # ended for good: its webhooks (and DS write-back) follow
                from workers.actors import on_job_end

                on_job_end(app, message.message_id)
        except Exception as exc:  # noqa: BLE001
            _tracking_failed(message, exc)
        outcome = {JobStatus.SUCCEEDED: "succeeded", JobStatus.FAILED: "failed", JobStatus.QUEUED: "retry"}[status]
        _emit(outcome, message, duration_ms=duration_ms, retries=message.options.get("retries", 0),
              error_code=error["code"] if error else None)

    def after_skip_message(self, broker: Any, message: Any) -> None:
        from workers import runtime

        error = {"code": str(ErrorCode.MESSAGE_IGNORE), "message": "Message ignoré (trop ancien ou annulé)."}
        try:
            app = runtime.app()
            app.catalog.job_finished(message.message_id, status=JobStatus.FAILED, now=app.clock.now(), error=error)
        except Exception:  # noqa: BLE001
            pass
        _emit("skipped", message)


class AppLifetime(Middleware):
    """Start the inspection children when a worker that inspects files (pieces, signed copies) boots
    (the first piece does not wait for them),
    close the process's App (converters, inspection children, connections) when the worker stops."""

    def after_worker_boot(self, broker: Any, worker: Any) -> None:
        from workers import runtime

        queues = getattr(worker, "consumer_whitelist", None)
        if queues and not queues & {"pieces", "archives"}:  # e.g. `conum worker --reemissions`: never inspects
            return
        try:
            runtime.app().inspector.warm()
        except Exception as exc:  # noqa: BLE001 - the first piece will start them, or say why
            log.warning(json.dumps({"event": "demarrage_analyse_differe", "error": f"{type(exc).__name__}: {exc}"},
                                   ensure_ascii=False))

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        from workers import runtime

        runtime.close_app()


class JsonFormatter(logging.Formatter):
    """Log lines that are already JSON go out as they are; others are wrapped."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if text.startswith("{"):
            return text
        return json.dumps({"level": record.levelname.lower(), "logger": record.name, "message": text},
                          ensure_ascii=False)


def configure_job_log() -> None:
    """One JSON line per job event on stderr (once per process), whatever the root logging does."""
    if any(isinstance(h.formatter, JsonFormatter) for h in log.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    # actors return their result for JobTracking; Dramatiq's Results backend is not used
    logging.getLogger("dramatiq.worker.WorkerThread").setLevel(logging.ERROR)
