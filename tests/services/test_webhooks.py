"""Webhooks on fakes, the receiver an ``httpx.MockTransport``: a job's end goes to the webhooks of the token
that submitted it, a decision on a signed copy to the tokens that see its département; each delivery is signed
(Standard Webhooks), sent in order and recorded once delivered; a receiver that refuses leaves the delivery
pending (transient) and the next attempt sends it; past the retry window it is abandoned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from dossiers.bootstrap import App
from dossiers.domain.jobs import Job, JobStatus
from dossiers.errors import WebhookIndisponible
from dossiers.services.acces import create_token
from dossiers.services.archive import archive_signed_copy
from dossiers.services.decisions import decider_copie
from dossiers.services.generation import generate_convention
from dossiers.services.webhooks import deliver, record_decision, record_evenements, register
from tests.factories import demande
from tests.services.conftest import app_on_fakes, issued_pdf

CID = "CN-V2-STR-000123"
NOW = datetime(2024, 2, 1, 9, 0, tzinfo=UTC)
URL = "http://127.0.0.1:9/conum"


class Recepteur:
    """A receiver answering ``statuts`` in turn (then 204), keeping what it was sent."""

    def __init__(self, *statuts: int) -> None:
        self.statuts = list(statuts)
        self.recus: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.recus.append(request)
        return httpx.Response(self.statuts.pop(0) if self.statuts else 204)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with app_on_fakes(tmp_path, webhook_allowed_hosts=("127.0.0.1",)) as fakes:
        generate_convention(demande(), fakes, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
        yield fakes


def _job(owner: str) -> Job:
    return Job(id="job-1", actor="generate_convention", queue="documents", args={}, status=JobStatus.SUCCEEDED,
               created_at=NOW, owner=owner, finished_at=NOW,
               result={"convention_id": CID, "version": 1, "nouvelle": True})


def test_a_job_end_fans_out_to_its_owner_signed_and_delivered_once(app: App) -> None:
    _, portail = create_token(app, role="portail", nom="Portail", now=NOW)
    _, autre = create_token(app, role="portail", departements=("75",), nom="Autre portail", now=NOW)
    mine, secret = register(app, portail, URL, now=NOW)
    theirs, _ = register(app, autre, URL, now=NOW)
    assert record_evenements(app, _job(portail.id), now=NOW) == [mine.id]
    assert record_evenements(app, _job(portail.id), now=NOW) == []  # the same job end: recorded once

    recepteur = Recepteur()
    with httpx.Client(transport=httpx.MockTransport(recepteur)) as http:
        done = deliver(app, mine.id, now=NOW + timedelta(seconds=5), http=http)
        assert (done.livrees, done.abandonnees, done.restantes) == (2, 0, 0)
        assert deliver(app, theirs.id, now=NOW, http=http).livrees == 0
    kinds = []
    for request in recepteur.recus:
        h = request.headers
        sent_at = datetime.fromtimestamp(int(h["webhook-timestamp"]), tz=UTC)
        assert h["webhook-signature"] == Verifier(secret).sign(h["webhook-id"], sent_at, request.content.decode())
        kinds.append(json.loads(request.content)["type"])
    assert kinds == ["job.termine", "convention.emise"]
    assert json.loads(recepteur.recus[1].content)["data"] == {"convention_id": CID, "version": 1}
    assert [lv.statut for lv in app.catalog.livraisons(webhook_id=mine.id, limit=10)] == ["livree", "livree"]


def test_a_refusing_receiver_keeps_the_delivery_pending_until_the_window_closes(app: App) -> None:
    _, instructeur = create_token(app, role="instructeur", departements=("33",), nom="Préfecture 33", now=NOW)
    _, paris = create_token(app, role="instructeur", departements=("75",), nom="Préfecture 75", now=NOW)
    hook, _ = register(app, instructeur, URL, ["copie_signee.refusee"], now=NOW)
    register(app, paris, URL, now=NOW)
    record = archive_signed_copy(issued_pdf(app, CID), CID, app, now=NOW)
    refused = decider_copie(CID, 1, record.sha256, "refuse", app, par="Claire", now=NOW, motif="signataire")
    assert record_decision(app, refused, now=NOW) == [hook.id]  # not the 75's

    recepteur = Recepteur(503)
    with httpx.Client(transport=httpx.MockTransport(recepteur)) as http:
        with pytest.raises(WebhookIndisponible):
            deliver(app, hook.id, now=NOW + timedelta(minutes=1), http=http)
        [pending] = app.catalog.livraisons(webhook_id=hook.id, limit=10)
        assert (pending.statut, pending.dernier_statut_http, pending.tentatives) == ("en_attente", 503, 1)
        assert deliver(app, hook.id, now=NOW + timedelta(minutes=5), http=http).livrees == 1
    body = json.loads(recepteur.recus[-1].content)
    assert body["type"] == "copie_signee.refusee" and body["data"]["decision"]["motif"] == "signataire"

    assert record_decision(app, refused, now=NOW) == []  # once per copy and verdict

    # deliveries not accepted within WEBHOOK_RETRY_HOURS (24 h) are abandoned, not retried forever
    every, _ = register(app, instructeur, URL, now=NOW)
    assert record_evenements(app, _job(instructeur.id), now=NOW) == [every.id]
    silent = Recepteur()
    with httpx.Client(transport=httpx.MockTransport(silent)) as http:
        abandoned = deliver(app, every.id, now=NOW + timedelta(hours=25), http=http)
    assert (abandoned.livrees, abandoned.abandonnees, silent.recus) == (0, 2, [])
    assert {lv.statut for lv in app.catalog.livraisons(webhook_id=every.id, limit=10)} == {"abandonnee"}
