"""Webhook deliveries on a real Redis broker, by ``conum worker`` as deployed: a job a portal submitted
ends in the worker, its ``job.termine`` event goes to the portal's receiver, which is down at first;
Dramatiq's Retries runs ``deliver_webhooks`` again after its backoff and the receiver, back, gets the
event once, verified with ``standardwebhooks``. SQLite catalog shared by the processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dossiers.domain.jobs import JobStatus
from dossiers.settings import Settings
from tests.conftest import _free_port
from tests.e2e.test_workers_redis import Workers, demande_for, group_alive, submitter, wait_until, worker_env
from tests.fixtures.webhook_receiver import Receiver

pytestmark = pytest.mark.redis


def test_a_receiver_down_gets_the_event_from_the_retried_actor(tmp_path: Path, redis_url: str) -> None:
    from dossiers.services.acces import create_token
    from dossiers.services.webhooks import register
    from workers.submit import store_json, submit

    env = worker_env(tmp_path, database_url=f"sqlite:///{tmp_path / 'conum.db'}", broker_url=redis_url,
                     converter_urls=None, WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    receiver = Receiver(_free_port())
    with submitter(Settings.from_env(env)) as (app, actors):
        _, jeton = create_token(app, role="portail", nom="portail", now=app.clock.now())
        hook, receiver.secret = register(app, jeton, receiver.url, ["job.termine"], now=app.clock.now())
        group = Workers(env, tmp_path / "worker.log", processes=1, threads=2)
        try:
            group.wait_ready()
            job = submit(app, actors["dossier"], {"demande_key": store_json(app, demande_for(3)), "dossier_id": None},
                         owner=jeton.id)

            def attempts() -> list[tuple[str, int]]:
                return [(d.statut, d.tentatives) for d in app.catalog.livraisons(webhook_id=hook.id)]

            wait_until(lambda: attempts() == [("en_attente", 1)], timeout=60, what="premier essai", workers=[group])
            with receiver.running():
                wait_until(lambda: receiver.received, timeout=60, what="nouvel essai", workers=[group])
                wait_until(lambda: attempts() == [("livree", 2)], timeout=30, what="journal", workers=[group])
        finally:
            group.stop(timeout=10)
        assert not group_alive(group.proc.pid)
    [event] = receiver.received
    assert event["type"] == "job.termine" and event["data"]["job_id"] == job.id and receiver.refused == []
    assert app.catalog.get_job(job.id).status is JobStatus.SUCCEEDED
    deliveries = [e["event"] for e in group.events() if e.get("actor") == "deliver_webhooks"]
    assert deliveries == ["started", "retry", "started", "succeeded"], json.dumps(group.events()[-6:])
