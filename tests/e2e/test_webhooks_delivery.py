"""Webhook deliveries (``services.webhooks``) to a real receiver on loopback that verifies them with
``standardwebhooks``: in order, once, after the receiver comes back; forged and replayed requests refused;
private destinations refused. Time is given: attempts happen at the instants the test chooses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook as Signer
from standardwebhooks.webhooks import WebhookVerificationError

from dossiers.bootstrap import App
from dossiers.domain.jobs import Job, JobStatus
from dossiers.errors import WebhookError, WebhookIndisponible
from dossiers.services.acces import create_token
from dossiers.services.webhooks import check_destination, deliver, evenements_de_tache, record_evenements, register
from dossiers.settings import Settings
from tests.conftest import _free_port
from tests.fixtures.webhook_receiver import Receiver


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    with App(Settings(var_dir=tmp_path / "var", webhook_allowed_hosts=("127.0.0.1",))) as application:
        yield application


def now_of(app: App) -> datetime:
    return app.clock.now()  # the signature's timestamp must be now for the receiver (5 minutes' tolerance)


def job(actor: str, result: dict, owner: str | None = None, n: int = 0) -> Job:
    return Job(id=f"job-{actor}-{n}", actor=actor, queue="conventions", args={}, status=JobStatus.SUCCEEDED,
               created_at=datetime(2026, 1, 1, tzinfo=UTC), result=result, owner=owner)


def test_a_receiver_down_gets_every_event_once_back_in_order(app: App) -> None:
    """Four convention events while the receiver is down: the first attempt fails and nothing is skipped;
    once it is back, one run delivers all four in order, each once, verified; a later run sends nothing."""
    now = now_of(app)
    _, jeton = create_token(app, role="portail", nom="portail", now=now)
    receiver = Receiver(_free_port())
    webhook, secret = register(app, jeton, receiver.url, now=now)
    receiver.secret = secret
    for n, (actor, result) in enumerate([
        ("generate_convention", {"convention_id": "CN-A", "version": 1, "nouvelle": True}),
        ("generate_convention", {"convention_id": "CN-B", "version": 1, "nouvelle": True}),
        ("amend_convention", {"convention_id": "CN-A", "version": 2, "motif": "ajout de postes", "nouvelle": True}),
        ("archive_signed_copy", {"convention_id": "CN-A", "version": 2, "statut": "archive", "sha256": "ab" * 32,
                                 "findings": []}),
    ]):
        assert record_evenements(app, job(actor, result, n=n), now=now) == [webhook.id]
        assert record_evenements(app, job(actor, result, n=n), now=now) == []  # the same job end: recorded once

    with httpx.Client() as http, pytest.raises(WebhookIndisponible):
        deliver(app, webhook.id, now=now, http=http)  # nobody listens on the port
    log = app.catalog.livraisons(webhook_id=webhook.id)
    assert [(d.statut, d.tentatives) for d in log] == [("en_attente", 1)] + [("en_attente", 0)] * 3

    with receiver.running(), httpx.Client() as http:
        done = deliver(app, webhook.id, now=now_of(app), http=http)
        assert (done.livrees, done.abandonnees) == (4, 0)
        assert deliver(app, webhook.id, now=now_of(app), http=http).livrees == 0
    assert receiver.refused == [] and receiver.duplicates == 0
    assert [(e["type"], e["data"]["convention_id"]) for e in receiver.received] == [
        ("convention.emise", "CN-A"), ("convention.emise", "CN-B"), ("convention.avenant", "CN-A"),
        ("copie_signee.archivee", "CN-A")]
    assert {d.statut for d in app.catalog.livraisons(webhook_id=webhook.id)} == {"livree"}


def test_a_delivery_not_accepted_in_24_hours_is_abandoned_and_logged(app: App) -> None:
    """Past WEBHOOK_RETRY_HOURS a pending delivery is abandoned (kept in the log), and the actor stops retrying."""
    now = now_of(app)
    _, jeton = create_token(app, role="portail", nom="portail", now=now)
    webhook, _ = register(app, jeton, f"http://127.0.0.1:{_free_port()}/x", now=now)
    record_evenements(app, job("generate_convention", {"convention_id": "CN-A", "version": 1, "nouvelle": True}), now=now)
    with httpx.Client() as http:
        with pytest.raises(WebhookIndisponible):
            deliver(app, webhook.id, now=now + timedelta(hours=23), http=http)
        done = deliver(app, webhook.id, now=now + timedelta(hours=25), http=http)
    assert (done.livrees, done.abandonnees) == (0, 1)
    [logged] = app.catalog.livraisons(webhook_id=webhook.id)
    assert logged.statut == "abandonnee" and logged.tentatives == 2 and "24 h" in logged.derniere_erreur


def test_forged_and_replayed_deliveries_are_refused_by_the_verification(app: App) -> None:
    """A body altered, another secret, an old timestamp re-signed or a fresh timestamp on an old signature:
    all refused by standardwebhooks; the same request sent twice is processed once (webhook-id)."""
    now = now_of(app)
    _, jeton = create_token(app, role="portail", nom="portail", now=now)
    receiver = Receiver(_free_port())
    webhook, secret = register(app, jeton, receiver.url, now=now)
    receiver.secret = secret
    record_evenements(app, job("generate_convention", {"convention_id": "CN-A", "version": 1, "nouvelle": True}), now=now)
    with receiver.running() as url, httpx.Client() as http:
        deliver(app, webhook.id, now=now, http=http)
        [(body, headers)] = receiver.requests
        sent = {k: v for k, v in headers.items() if k.startswith("webhook-") or k == "content-type"}
        assert Signer(secret).verify(body, sent)["type"] == "convention.emise"
        forged = [
            (body.replace(b"CN-A", b"CN-Z"), sent),
            (body, {**sent, "webhook-signature": Signer("whsec_" + "A" * 43 + "=").sign(
                sent["webhook-id"], now, body)}),
            (body, {**sent, "webhook-timestamp": str(int((now - timedelta(minutes=10)).timestamp())),
                    "webhook-signature": Signer(secret).sign(sent["webhook-id"], now - timedelta(minutes=10), body)}),
            (body, {**sent, "webhook-timestamp": str(int(now.timestamp()) + 60)}),
        ]
        for data, forged_headers in forged:
            assert http.post(url, content=data, headers=forged_headers).status_code == 400
            with pytest.raises(WebhookVerificationError):
                Signer(secret).verify(data, forged_headers)
        assert http.post(url, content=body, headers=sent).status_code == 200  # a replay inside the tolerance
    assert len(receiver.received) == 1 and receiver.duplicates == 1
    assert len(receiver.refused) == 4


@pytest.mark.parametrize("url", ["http://127.0.0.1/x", "http://10.1.2.3/x", "http://169.254.169.254/latest",
                                 "http://[::1]/x", "http://192.168.0.10/x", "ftp://example.org/x",
                                 "https://user:motdepasse@127.0.0.1/x"])
def test_private_loopback_and_link_local_destinations_are_refused(url: str) -> None:
    """Without an allow-list entry, only public addresses may receive webhooks."""
    with pytest.raises(WebhookError):
        check_destination(url, ())


def test_the_allow_list_admits_a_loopback_receiver_and_nothing_else() -> None:
    check_destination("http://127.0.0.1:8080/x", ("127.0.0.1",))
    check_destination("http://127.0.0.1:8080/x", ("127.0.0.0/8",))
    with pytest.raises(WebhookError):
        check_destination("http://10.0.0.1/x", ("127.0.0.1",))


def test_the_events_of_a_job_end_are_named_by_its_actor_and_result() -> None:
    """Pure: job.termine always; the convention events from the results of the convention actors; a stable
    id per (job, event), so a job end tracked twice is the same event."""
    def kinds(actor: str, status: str, result: dict | None) -> list[str]:
        return [kind for _, kind, _ in evenements_de_tache("j1", actor, status, result, None)]

    assert kinds("validate_piece", "failed", None) == ["job.termine"]
    assert kinds("generate_convention", "succeeded", {"convention_id": "CN", "version": 1, "nouvelle": True}) == [
        "job.termine", "convention.emise"]
    assert kinds("generate_convention", "succeeded", {"convention_id": "CN", "version": 1, "nouvelle": False}) == [
        "job.termine"]  # the same demande again: nothing new was issued
    assert kinds("amend_convention", "succeeded", {"convention_id": "CN", "version": 2, "nouvelle": True}) == [
        "job.termine", "convention.avenant"]
    for statut, kind in (("archive", "copie_signee.archivee"), ("a_verifier", "copie_signee.a_verifier"),
                         ("refuse", "copie_signee.refusee")):
        assert kinds("archive_signed_copy", "succeeded", {"convention_id": "CN", "statut": statut}) == [
            "job.termine", kind]
    first, again = (evenements_de_tache("j1", "validate_piece", "succeeded", {}, None) for _ in range(2))
    assert first[0][0] == again[0][0] != evenements_de_tache("j2", "validate_piece", "succeeded", {}, None)[0][0]



def test_an_instructeurs_decision_on_a_copy_reaches_the_webhooks_of_its_departement_once(app: App) -> None:
    """A copy refused by an instructeur (outside any job) is announced as copie_signee.refusee with the decision,
    to a portal of the convention's département, never to one of another; recorded once however often asked."""
    from dataclasses import replace

    from dossiers.domain.archive import ArchiveRecord
    from dossiers.domain.decisions import Cible, nouvelle_decision
    from dossiers.services.seed import seed
    from dossiers.services.webhooks import record_decision

    now = now_of(app)
    seed(app, structures=3, seed=5, evenements=False)
    convention = app.catalog.search_conventions(limit=10)[1][0]
    elsewhere = next(d for d in ("75", "33", "13") if d != convention.departement)
    _, here = create_token(app, role="portail", departements=[convention.departement], nom="ici", now=now)
    _, there = create_token(app, role="portail", departements=[elsewhere], nom="ailleurs", now=now)
    receiver = Receiver(_free_port())
    mine, secret = register(app, here, receiver.url, now=now)
    receiver.secret = secret
    theirs, _ = register(app, there, f"http://127.0.0.1:{_free_port()}/x", now=now)
    decided = replace(ArchiveRecord(
        convention_id=convention.id, version=1, sha256="cd" * 32, sha256_emis="ef" * 32, statut="refuse", findings=(),
        fields={}, received_at=now, id=41), decision=nouvelle_decision(
            Cible.COPIE, "refuse", par="Camille Exemple", le=now, motif="signataire", commentaire="Pas le maire"))
    assert record_decision(app, decided, now=now) == [mine.id]
    assert record_decision(app, decided, now=now) == []  # asked again: recorded once
    assert app.catalog.livraisons(webhook_id=theirs.id) == []
    with receiver.running(), httpx.Client() as http:
        assert deliver(app, mine.id, now=now_of(app), http=http).livrees == 1
    [event] = receiver.received
    assert event["type"] == "copie_signee.refusee" and event["data"]["convention_id"] == convention.id
    assert event["data"]["decision"]["motif"] == "signataire" and event["data"]["decision"]["par"] == "Camille Exemple"
    assert receiver.refused == []
