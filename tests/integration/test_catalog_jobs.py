"""Job rows on a SQLite file and on PostgreSQL 15: what portals read while workers run the jobs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dossiers.adapters.catalog import Catalog
from dossiers.domain.jobs import Job, JobStatus

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def catalog(catalog_url: str) -> Any:
    with Catalog.open(catalog_url) as opened:
        yield opened


def job(job_id: str = "J-1", key: str | None = "k1") -> Job:
    return Job(job_id, "generate_convention", "conventions", {"demande_key": "requetes/x.json"}, JobStatus.QUEUED, T0,
               idempotency_key=key)


def test_the_same_submission_is_one_job(catalog: Catalog) -> None:
    first, created = catalog.create_job(job())
    again, created_again = catalog.create_job(job("J-2"))
    assert (created, created_again, again.id) == (True, False, "J-1")
    assert catalog.get_job("J-2") is None and catalog.get_job("J-1") == first


def test_a_job_goes_running_then_succeeded_and_a_late_redelivery_does_not_reopen_it(catalog: Catalog) -> None:
    catalog.create_job(job())
    catalog.job_started("J-1", actor="generate_convention", queue="conventions", args={}, now=T0)
    assert catalog.get_job("J-1").status is JobStatus.RUNNING
    catalog.job_finished("J-1", status=JobStatus.SUCCEEDED, now=T0 + timedelta(seconds=2), result={"version": 1})
    catalog.job_started("J-1", actor="generate_convention", queue="conventions", args={}, now=T0 + timedelta(seconds=3))
    catalog.job_finished("J-1", status=JobStatus.FAILED, now=T0 + timedelta(seconds=4),
                         error={"code": "x", "message": "y"})
    done = catalog.get_job("J-1")
    assert (done.status, done.attempts, done.result, done.error) == (JobStatus.SUCCEEDED, 1, {"version": 1}, None)
    assert done.finished_at == T0 + timedelta(seconds=2)


def test_a_retry_counts_attempts_and_keeps_the_last_error(catalog: Catalog) -> None:
    catalog.create_job(job())
    for n in range(3):
        catalog.job_started("J-1", actor="generate_convention", queue="conventions", args={}, now=T0)
        catalog.job_finished("J-1", status=JobStatus.QUEUED, now=T0,
                             error={"code": "catalogue", "message": f"panne {n}"})
    retried = catalog.get_job("J-1")
    assert (retried.status, retried.attempts, retried.error["message"], retried.finished_at) == (
        JobStatus.QUEUED, 3, "panne 2", None)
    assert catalog.count_jobs() == {"queued": 1}


def test_a_message_sent_by_a_portal_gets_its_row_when_it_starts(catalog: Catalog) -> None:
    catalog.job_started("M-9", actor="validate_dossier", queue="pieces", args={"demande_key": "k"}, now=T0)
    started = catalog.get_job("M-9")
    assert (started.status, started.attempts, started.args, started.idempotency_key) == (
        JobStatus.RUNNING, 1, {"demande_key": "k"}, None)
    assert [j.id for j in catalog.list_jobs(status=JobStatus.RUNNING)] == ["M-9"]
