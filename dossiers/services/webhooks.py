"""Use cases: portals' webhooks, signed as Standard Webhooks (``standardwebhooks``), delivered in order.

A portal token registers a callback URL (``register``) and receives a secret (``whsec_…``, shown
once). Events:

    job.termine                 a job the token submitted ended (succeeded or failed), with its result
                                as the token may read it (``resultat_visible``)
    convention.emise            a convention's first version was issued       } for every webhook whose
    convention.avenant          a new version (avenant…) was issued           } token covers the
    copie_signee.archivee       a signed copy was archived under lock         } convention's
    copie_signee.a_verifier     a signed copy waits for an instructeur        } département
    copie_signee.refusee        a signed copy was refused (its findings)      }

Each event is recorded once per webhook (its id derives from the job and the event), then sent by the
``deliver_webhooks`` actor: every pending delivery of the webhook, oldest first, stopping at the first
failure so that a receiver that was down gets them in order once it is back. The request carries
``webhook-id`` (the event id, the same at every attempt: receivers deduplicate on it),
``webhook-timestamp`` and ``webhook-signature`` (HMAC-SHA256 of ``id.timestamp.body``). A delivery
not accepted (2xx) within ``WEBHOOK_RETRY_HOURS`` is abandoned and stays in the log.

Destinations: http(s) URLs whose host resolves only to public addresses; loopback, private,
link-local, multicast and reserved ones are refused unless listed in ``WEBHOOK_ALLOWED_HOSTS``
(checked at registration and again before every attempt, the name being resolved again, in at most
``RESOLVE_TIMEOUT`` seconds). The request itself resolves the name once more: a DNS server that
answers differently in between (rebinding) is not caught; a proxy that pins the address would be.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import ipaddress
import json
import secrets
import socket
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from dossiers.domain.acces import Jeton, resultat_visible
from dossiers.domain.archive import ArchiveRecord
from dossiers.domain.jobs import Job
from dossiers.domain.webhooks import Livraison, Webhook
from dossiers.errors import WebhookError, WebhookIndisponible
from dossiers.ports import AppPorts

__all__ = ["Evenement", "EVENEMENTS", "register", "check_destination", "evenements_de_tache", "record_evenements", "deliver",
           "Livrees", "MAX_WEBHOOKS"]

Evenement = Literal["job.termine", "convention.emise", "convention.avenant", "copie_signee.archivee",
                    "copie_signee.a_verifier", "copie_signee.refusee"]
EVENEMENTS: tuple[str, ...] = get_args(Evenement)
MAX_WEBHOOKS = 10  # per token
MAX_URL = 2000
RESOLVE_TIMEOUT = 5.0
_ARCHIVE = {"archive": "copie_signee.archivee", "a_verifier": "copie_signee.a_verifier", "refuse": "copie_signee.refusee"}


@functools.cache
def _resolver() -> ThreadPoolExecutor:
    """The threads that resolve destinations in bounded time, made at first use (nothing starts at import)."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")


def _allowed(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, allow: Iterable[str]) -> bool:
    for entry in allow:
        if entry == host:
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def check_destination(url: str, allow: Iterable[str]) -> None:
    """Refuse (``WebhookError``) a URL that is not http(s), or whose host resolves to an address that is
    not public (loopback, private, link-local…) and not allowed by ``WEBHOOK_ALLOWED_HOSTS``."""
    allow = tuple(allow)
    if len(url) > MAX_URL:
        raise WebhookError(f"URL de webhook trop longue ({len(url)} caractères, au plus {MAX_URL}).")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise WebhookError("URL de webhook invalide : attendu https://hôte/chemin (sans identifiants dans l'URL).")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise WebhookError("URL de webhook invalide : port hors limites.") from None
    # getaddrinfo takes no timeout: a resolver that does not answer is given RESOLVE_TIMEOUT seconds
    resolving = _resolver().submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = resolving.result(timeout=RESOLVE_TIMEOUT)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookError(f"L'hôte du webhook « {host} » est introuvable ({exc}).") from None
    except FutureTimeout:
        raise WebhookError(f"L'hôte du webhook « {host} » n'a pas été résolu en {RESOLVE_TIMEOUT:g} s.") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address.is_global and not _allowed(host, address, allow):
            raise WebhookError(f"L'hôte du webhook « {host} » désigne une adresse non publique ({address}) : refusé "
                               "(locale, privée ou lien-local ; voir WEBHOOK_ALLOWED_HOSTS).")


def register(app: AppPorts, jeton: Jeton, url: str, evenements: Iterable[str] = (), *, now: datetime) -> tuple[Webhook, str]:
    """A new webhook for the token, and its secret (returned once)."""
    wanted = tuple(dict.fromkeys(evenements))
    if unknown := [e for e in wanted if e not in EVENEMENTS]:
        raise WebhookError(f"Événement inconnu : {', '.join(unknown)} (attendu : {', '.join(EVENEMENTS)}).")
    check_destination(url, app.settings.webhook_allowed_hosts)
    if len(app.catalog.webhooks(token_id=jeton.id)) >= MAX_WEBHOOKS:
        raise WebhookError(f"Ce jeton a déjà {MAX_WEBHOOKS} webhooks : supprimez-en un d'abord.")
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    webhook = Webhook(id="wh_" + secrets.token_hex(12), token_id=jeton.id, url=url, secret=secret, evenements=wanted,
                      created_at=now)
    app.catalog.create_webhook(webhook)
    return webhook, secret


def evenements_de_tache(job_id: str, actor: str, status: str, result: dict[str, Any] | None,
                        error: dict[str, str] | None) -> list[tuple[str, str, dict[str, Any]]]:
    """The events a job end makes: ``(event id, type, data)`` (pure; ``job.termine`` first)."""
    out: list[tuple[str, dict[str, Any]]] = [("job.termine", {"job_id": job_id, "actor": actor, "status": status, "result": result, "error": error})]
    r = result or {}
    if status == "succeeded" and r.get("convention_id"):
        if actor == "generate_convention" and r.get("nouvelle"):
            out.append(("convention.emise", {"convention_id": r["convention_id"], "version": r.get("version")}))
        elif actor in ("amend_convention", "reissue_convention") and r.get("nouvelle", True) and r.get("version"):
            out.append(("convention.avenant", {"convention_id": r["convention_id"], "version": r["version"],
                                               "motif": r.get("motif")}))
        elif actor == "archive_signed_copy" and r.get("statut") in _ARCHIVE:
            out.append((_ARCHIVE[r["statut"]], {
                "convention_id": r["convention_id"], "version": r.get("version"), "sha256": r.get("sha256"),
                "findings": [{"code": f.get("code"), "message": f.get("message")} for f in r.get("findings") or []]}))
    return [(hashlib.sha256(f"{job_id}\0{kind}".encode()).hexdigest()[:40], kind, data) for kind, data in out]


def _fan_out(app: AppPorts, hooks: list[Webhook], event_id: str, kind: str, data: dict[str, Any], *, now: datetime,
             departement: str = "", job: Job | None = None) -> list[str]:
    """Record one event for each webhook that follows it: a job end (``job``) for the token that submitted the
    job, with the result as that token may read it; a convention event for the tokens that see its département.
    The ids of the webhooks that have a new delivery (an event already recorded for one is not again)."""
    touched = []
    for hook in hooks:
        if hook.evenements and kind not in hook.evenements:
            continue
        jeton = app.catalog.get_token(hook.token_id)
        if jeton is None or not jeton.actif:
            continue
        body = data
        if job is not None:
            if job.owner != hook.token_id:
                continue
            body = {**data, "result": resultat_visible(job.actor, job.result, jeton)}
        elif not jeton.voit(departement):
            continue
        payload = {"type": kind, "timestamp": now.isoformat(), "data": body}
        if app.catalog.record_livraison(webhook_id=hook.id, event_id=event_id, type=kind, payload=payload, now=now):
            touched.append(hook.id)
    return touched


def record_evenements(app: AppPorts, job: Job, *, now: datetime) -> list[str]:
    """Record the deliveries a job end makes; the ids of the webhooks that have new ones."""
    hooks = app.catalog.webhooks()
    if not hooks:
        return []
    departement = None
    touched: list[str] = []
    for event_id, kind, data in evenements_de_tache(job.id, job.actor, str(job.status), job.result, job.error):
        if kind == "job.termine":
            touched += _fan_out(app, hooks, event_id, kind, data, now=now, job=job)
            continue
        if departement is None:
            departement = app.catalog.convention_departement(data["convention_id"]) or ""
        touched += _fan_out(app, hooks, event_id, kind, data, now=now, departement=departement)
    return list(dict.fromkeys(touched))


def record_decision(app: AppPorts, record: ArchiveRecord, *, now: datetime) -> list[str]:
    """Record, for the webhooks whose token sees the convention's département, the event an instructeur's
    decision on a signed copy makes (``copie_signee.archivee`` or ``copie_signee.refusee``, with the
    decision); the ids of the webhooks that have a new delivery. Once per copy and verdict."""
    hooks = app.catalog.webhooks()
    if record.decision is None or record.statut not in ("archive", "refuse") or not hooks:
        return []
    kind = _ARCHIVE[record.statut]
    event_id = hashlib.sha256(f"decision\0{record.id}\0{kind}".encode()).hexdigest()[:40]
    data = {"convention_id": record.convention_id, "version": record.version, "sha256": record.sha256,
            "findings": [{"code": str(f.code), "message": f.message} for f in record.findings],
            "decision": record.decision.to_dict()}
    return _fan_out(app, hooks, event_id, kind, data, now=now,
                    departement=app.catalog.convention_departement(record.convention_id) or "")


@dataclass(frozen=True)
class Livrees:
    livrees: int
    abandonnees: int
    restantes: int


def _signed(webhook: Webhook, livraison: Livraison, now: datetime) -> tuple[bytes, dict[str, str]]:
    from standardwebhooks.webhooks import Webhook as Signer

    body = json.dumps(livraison.payload, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")
    headers = {"webhook-id": f"msg_{livraison.event_id}", "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Signer(webhook.secret).sign(f"msg_{livraison.event_id}", now, body),
               "content-type": "application/json", "user-agent": "conum-webhooks"}
    return body, headers


def deliver(app: AppPorts, webhook_id: str, *, now: datetime, http: Any) -> Livrees:
    """Send the webhook's pending deliveries in order; ``WebhookIndisponible`` when one is still to retry."""
    webhook = app.catalog.get_webhook(webhook_id)
    pending = app.catalog.livraisons(webhook_id=webhook_id, statut="en_attente", limit=1000)
    if webhook is None or webhook.deleted_at is not None:
        return Livrees(0, 0, 0)
    window = timedelta(hours=app.settings.webhook_retry_hours)
    sent = dropped = 0
    for i, livraison in enumerate(pending):
        if now - livraison.created_at > window:
            app.catalog.livraison_tentee(livraison.id, statut="abandonnee", http=livraison.dernier_statut_http,
                                         erreur=f"non acceptée en {app.settings.webhook_retry_hours:g} h", now=now)
            dropped += 1
            continue
        status, error = None, None
        try:
            check_destination(webhook.url, app.settings.webhook_allowed_hosts)
            body, headers = _signed(webhook, livraison, now)
            response = http.post(webhook.url, content=body, headers=headers, timeout=app.settings.webhook_timeout)
            status = response.status_code
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except WebhookError as exc:
            error = exc.message
        except Exception as exc:  # noqa: BLE001 - any failure of the receiver is a failed attempt, logged
            error = f"{type(exc).__name__} : {exc}"
        if error is None:
            app.catalog.livraison_tentee(livraison.id, statut="livree", http=status, erreur=None, now=now)
            sent += 1
            continue
        app.catalog.livraison_tentee(livraison.id, statut="en_attente", http=status, erreur=error, now=now)
        raise WebhookIndisponible(f"Webhook {webhook_id} : livraison {livraison.id} non acceptée ({error}) ; "
                                  f"{len(pending) - i} en attente, nouvel essai plus tard.")
    left = len(app.catalog.livraisons(webhook_id=webhook_id, statut="en_attente", limit=1))  # beyond this batch
    return Livrees(sent, dropped, left)
