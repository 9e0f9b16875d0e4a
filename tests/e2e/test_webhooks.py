"""Webhooks over HTTP: a portal registers its receiver (``POST /v1/webhooks``), submits a dossier, and
its receiver on loopback gets the job's end, signed (verified with ``standardwebhooks``); another
token's webhook gets nothing of it; the delivery log over HTTP and with ``conum webhooks deliveries``.
The API runs in this process with the in-process broker (SQLite, local storage)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from dossiers.bootstrap import App
from dossiers.services.acces import create_token
from dossiers.settings import Settings
from tests.conftest import _free_port, serve_asgi
from tests.e2e.test_cli import run
from tests.factories import demande
from tests.fixtures.webhook_receiver import Receiver


@dataclass
class Api:
    app: App
    client: httpx.Client
    tokens: dict[str, str]

    def call(self, who: str, method: str, path: str, **kw: object) -> httpx.Response:
        return self.client.request(method, path, headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kw)  # type: ignore[arg-type]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    if os.environ.get("BROKER_URL"):
        pytest.skip("the API runs its jobs in process here")
    from dossiers.entrypoints.api import create_app

    settings = Settings(var_dir=tmp_path / "var", webhook_allowed_hosts=("127.0.0.1",))
    with App(settings) as app:
        tokens = {name: create_token(app, role="portail", departements=deps, nom=name, now=app.clock.now())[0]
                  for name, deps in (("portail", ()), ("portail75", ("75",)))}
        with serve_asgi(create_app(app), _free_port()) as base, httpx.Client(base_url=base, timeout=60) as client:
            yield Api(app, client, tokens)


def wait_for(predicate, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "délai dépassé"
        time.sleep(0.05)


def test_a_portal_receives_its_job_end_signed_and_nothing_of_others(api: Api, tmp_path: Path) -> None:
    """The job's end reaches the portal's receiver once, verified; the other portal's webhook gets nothing."""
    mine, other = Receiver(_free_port()), Receiver(_free_port())
    created = api.call("portail", "POST", "/v1/webhooks", json={"url": mine.url})
    assert created.status_code == 201, created.text
    hook = created.json()
    mine.secret = hook["secret"]
    assert hook["secret"].startswith("whsec_") and hook["evenements"] == []
    theirs = api.call("portail75", "POST", "/v1/webhooks", json={"url": other.url, "evenements": ["job.termine"]})
    other.secret = theirs.json()["secret"]

    with mine.running(), other.running():
        submitted = api.call("portail", "POST", "/v1/dossiers", json=demande())
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job_id"]
        wait_for(lambda: len(mine.received) == 1)
        time.sleep(0.3)
    [event] = mine.received
    assert mine.refused == [] and event["type"] == "job.termine"
    assert event["data"]["job_id"] == job_id and event["data"]["status"] == "succeeded"
    assert set(event["data"]["result"]) <= {"dossier_id", "structure_id", "departement", "status", "missing"}
    assert other.received == [] and other.requests == []

    log = api.call("portail", "GET", f"/v1/webhooks/{hook['id']}/livraisons")
    assert log.status_code == 200 and [(d["type"], d["statut"], d["tentatives"]) for d in log.json()] == [
        ("job.termine", "livree", 1)]
    assert api.call("portail75", "GET", f"/v1/webhooks/{hook['id']}/livraisons").status_code == 404

    cli = run(["webhooks", "deliveries", "--json"], tmp_path)
    assert cli.returncode == 0, cli.stderr
    assert [d["statut"] for d in json.loads(cli.stdout)["livraisons"]] == ["livree"]
    listed = run(["webhooks", "list"], tmp_path)
    assert listed.returncode == 0 and hook["id"] in listed.stdout and "tous les événements" in listed.stdout

    assert api.call("portail", "DELETE", f"/v1/webhooks/{hook['id']}").status_code == 204
    assert api.call("portail", "GET", "/v1/webhooks").json() == []


@pytest.mark.parametrize("url", ["http://10.0.0.7/rappel", "http://169.254.169.254/latest/meta-data",
                                 "file:///etc/passwd"])
def test_a_private_or_odd_destination_is_refused_with_a_french_message(api: Api, url: str) -> None:
    r = api.call("portail", "POST", "/v1/webhooks", json={"url": url})
    assert r.status_code == 422 and r.json()["code"] == "webhook_refuse", r.text
    assert api.call("portail", "GET", "/v1/webhooks").json() == []


def test_a_receiver_down_holds_nothing_and_gets_every_event_in_order_with_the_next(api: Api) -> None:
    """In process (no broker) a delivery is tried once: a receiver down does not hold the request; the next
    event's delivery sends what was left first, then the new one, each verified once."""
    receiver = Receiver(_free_port())
    hook = api.call("portail", "POST", "/v1/webhooks", json={"url": receiver.url, "evenements": ["job.termine"]}).json()
    receiver.secret = hook["secret"]
    started = time.monotonic()
    first = api.call("portail", "POST", "/v1/dossiers", json=demande()).json()["job_id"]
    assert time.monotonic() - started < 20

    def log() -> list[dict]:
        return api.call("portail", "GET", f"/v1/webhooks/{hook['id']}/livraisons").json()

    wait_for(lambda: [(d["statut"], d["tentatives"]) for d in log()] == [("en_attente", 1)])
    with receiver.running():
        second = api.call("portail", "POST", "/v1/dossiers", json=demande()).json()["job_id"]
        wait_for(lambda: len(receiver.received) == 2)
    assert [e["data"]["job_id"] for e in receiver.received] == [first, second] and receiver.refused == []
    assert [d["statut"] for d in log()] == ["livree", "livree"]
