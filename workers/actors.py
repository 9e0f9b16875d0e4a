"""Thin actors: load what the message points to, call one service, return a JSON-able result.

Messages carry ids and storage keys, never file contents (README, "Messages Dramatiq"). Retry
policy: the error's (``workers/retry.py``, from ``dossiers/errors.py``), the same for every actor
(``throws=THROWS``): a refusal (invalid input, a refused piece, a refused change) or a defect is never
retried; a transient failure (storage, catalog, converter, antivirus, broker) is retried with
exponential backoff up to ``max_retries`` (``JOB_MAX_RETRIES``), then the job is failed with its error.
Every effect is idempotent, so a redelivered message finds its work done and returns the same result.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import dramatiq

from dossiers.domain.pieces import PieceKind
from dossiers.errors import (
    ConumError,
    DemandeInvalide,
    DossierError,
    ErrorCode,
)
from dossiers.settings import Settings
from workers import runtime
from workers.broker import BATCH_QUEUE, setup_broker
from workers.middleware import configure_job_log
from workers.retry import THROWS

__all__ = ["generate_convention", "validate_piece", "validate_dossier", "amend_convention", "archive_signed_copy",
           "reissue_convention",
           "PieceRefusee", "deliver_webhooks", "on_job_end", "ds_write_back", "ds_write_back_convention", "DS_ACTORS",
           "MAX_JSON_BYTES", "ACTORS"]

MAX_JSON_BYTES = 1_000_000
_settings = Settings.from_env()
setup_broker(_settings)
configure_job_log()
# backoff from 5 s, doubling (with jitter) up to 5 min: 5 retries ride out an outage of a minute or more
_RETRY = {"max_retries": _settings.job_max_retries, "min_backoff": 5_000, "max_backoff": 300_000}


class PieceRefusee(ConumError):
    """The piece is invalide: its job fails once, with the findings as its result (never retried)."""

    code = ErrorCode.PIECE_INVALIDE

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result


def _json(key: str) -> Any:
    data = runtime.app().storage.get(key)
    if len(data) > MAX_JSON_BYTES:
        raise DemandeInvalide.single("", "trop_volumineux", f"{key} dépasse {MAX_JSON_BYTES} octets")
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DemandeInvalide.single("", "json_invalide", f"{key} : JSON illisible ({exc})") from exc


def _documents(version: Any) -> dict[str, str]:
    return {d.kind: d.key for d in version.documents}


@dramatiq.actor(queue_name="conventions", time_limit=15 * 60_000, throws=THROWS, **_RETRY)
def generate_convention(demande_key: str) -> dict[str, Any]:
    from dossiers.services.generation import generate_convention as generate

    app = runtime.app()
    now, today = app.clock.read()
    generated = generate(_json(demande_key), app, today=today, now=now)
    v = generated.version
    return {"convention_id": v.convention_id, "version": v.numero, "documents": _documents(v),
            "total_eur": str(v.montant_total), "nouvelle": generated.created, "avertissements": generated.warnings}


@dramatiq.actor(queue_name="pieces", time_limit=5 * 60_000, throws=THROWS, **_RETRY)
def validate_piece(dossier_id: str, kind: str, piece_key: str, filename: str | None = None,
                   poste_id: str | None = None, mrz: str | None = None, date_controle: str | None = None,
                   soumis_le: str | None = None) -> dict[str, Any]:
    from dossiers.services.validation import add_piece

    app = runtime.app()
    try:
        piece_kind = PieceKind(kind)
        today = date.fromisoformat(date_controle) if date_controle else None
        # the upload's time orders the pieces of a kind: a retried older upload never replaces a newer one
        when = datetime.fromisoformat(soumis_le) if soumis_le else app.clock.now()
        if when.tzinfo is None:
            raise ValueError("soumis_le sans fuseau horaire")
    except (ValueError, TypeError) as exc:
        raise DossierError(f"Paramètre invalide : {exc}", code=ErrorCode.PIECE_INVALIDE) from exc
    piece = add_piece(dossier_id, app.storage.get(piece_key), piece_kind, app, now=when, today=today,
                      filename=filename, poste_id=poste_id, mrz=mrz)
    result = {"dossier_id": dossier_id, "piece_id": piece.id, "kind": kind, "status": str(piece.statut),
              "sha256": piece.sha256, "findings": [f.to_dict() for f in piece.findings], "fields": piece.fields}
    if str(piece.statut) == "invalide":
        codes = ", ".join(f.code for f in piece.findings if f.severity == "erreur")
        raise PieceRefusee(f"Pièce invalide ({codes}).", result)
    return result


@dramatiq.actor(queue_name="pieces", time_limit=5 * 60_000, throws=THROWS, **_RETRY)
def validate_dossier(demande_key: str, dossier_id: str | None = None) -> dict[str, Any]:
    from dossiers.services.validation import open_dossier, view_dossier

    app = runtime.app()
    opened = open_dossier(_json(demande_key), app, dossier_id=dossier_id)
    return view_dossier(opened.id, app).to_dict()


@dramatiq.actor(queue_name="conventions", time_limit=15 * 60_000, throws=THROWS, **_RETRY)
def amend_convention(convention_id: str, change_key: str) -> dict[str, Any]:
    from dossiers.services.avenants import amend

    app = runtime.app()
    now, today = app.clock.read()
    amended = amend(convention_id, _json(change_key), app, today=today, now=now)
    v = amended.version
    return {"convention_id": v.convention_id, "version": v.numero, "motif": v.motif, "documents": _documents(v),
            "nouvelle": amended.created}


@dramatiq.actor(queue_name="archives", time_limit=10 * 60_000, throws=THROWS, **_RETRY)
def archive_signed_copy(convention_id: str, staging_key: str, version: int | None = None,
                        filename: str | None = None) -> dict[str, Any]:
    from dossiers.services.archive import archive_staged

    app = runtime.app()
    record = archive_staged(staging_key, convention_id, app, version=version, filename=filename,
                            now=app.clock.now())
    return record.to_dict()


@dramatiq.actor(queue_name=BATCH_QUEUE, priority=100, time_limit=15 * 60_000, throws=THROWS, **_RETRY)
def reissue_convention(plan_id: str, convention_id: str) -> dict[str, Any]:
    """One convention of a re-issue plan (own queue, consumed by `conum worker --reemissions`)."""
    from dossiers.services.reemission import reissue_item

    app = runtime.app()
    now, today = app.clock.read()
    outcome = reissue_item(app, plan_id, convention_id, today=today, now=now)
    return {"plan_id": plan_id, "convention_id": convention_id, **outcome.to_dict()}


# -- webhooks and Démarches simplifiées (issue 21) ------------------------------------------------------
# On the interactive "pieces" queue (the Procfile's worker consumes it): short HTTP calls. A delivery
# not accepted is retried with backoff from 5 s up to 1 h between attempts, 40 times: past
# WEBHOOK_RETRY_HOURS (24 h) the service abandons what is left and the job ends.
_WEBHOOK_RETRY = {"max_retries": 40, "min_backoff": 5_000, "max_backoff": 3_600_000}
_OWN_ACTORS = {"deliver_webhooks", "ds_write_back", "ds_write_back_convention"}
# DS writes: DS unavailable (or the dossier's check not ended yet, ``ds_indisponible``) is retried from 5 s
# up to 10 min between attempts; a write DS refuses (read-only token, unknown instructeur or annotation:
# ``ds_refus``, a defect) is not retried, by the error policy: its error is the job's
_DS_RETRY = {"max_retries": 30, "min_backoff": 5_000, "max_backoff": 600_000}


def _send(actor: dramatiq.Actor, *args: Any) -> None:
    """Enqueue a follow-up message. In process (no broker) it is tried once, as ``submit`` does: its retries
    would hold the command or the request that ended the job (a delivery left pending goes with the next)."""
    from workers.broker import is_local

    if is_local(actor.broker):
        actor.send_with_options(args=args, max_retries=0)
    else:
        actor.send(*args)


@dramatiq.actor(queue_name="pieces", time_limit=10 * 60_000, throws=THROWS, **_WEBHOOK_RETRY)
def deliver_webhooks(webhook_id: str) -> dict[str, Any]:
    """Send a webhook's pending deliveries, oldest first (``services.webhooks.deliver``)."""
    import httpx

    from dossiers.services.webhooks import deliver

    app = runtime.app()
    with httpx.Client(follow_redirects=False) as http:
        done = deliver(app, webhook_id, now=app.clock.now(), http=http)
    if done.restantes:  # more than one batch was waiting: the next batch follows
        _send(deliver_webhooks, webhook_id)
    return {"webhook_id": webhook_id, "livrees": done.livrees, "abandonnees": done.abandonnees}


def _ds(app: Any, demarche: int) -> tuple[Any, Any]:
    from dossiers.services.ds import load_mapping

    return app.ds(), load_mapping(app.settings.ds_config_dir, demarche)


@dramatiq.actor(queue_name="pieces", time_limit=10 * 60_000, throws=THROWS, **_DS_RETRY)
def ds_write_back(demarche: int, number: int, dossier_id: str, jobs: list[str]) -> dict[str, Any]:
    """The annotation and message of a DS dossier's check, once its jobs have ended (``services.ds_ecriture``)."""
    from dossiers.services.ds_ecriture import ecrire_controle

    app = runtime.app()
    client, correspondance = _ds(app, demarche)
    with client:
        done = ecrire_controle(app, client, correspondance, number=number, dossier_id=dossier_id, jobs=jobs,
                               now=app.clock.now())
    return {"demarche": demarche, "number": number, "dossier_id": dossier_id, "ecritures": done}


@dramatiq.actor(queue_name="pieces", time_limit=10 * 60_000, throws=THROWS, **_DS_RETRY)
def ds_write_back_convention(demarche: int, number: int, convention_id: str, version: int) -> dict[str, Any]:
    """An issued convention (or avenant) sent to its DS dossier (``services.ds_ecriture``)."""
    from dossiers.services.ds_ecriture import ecrire_convention

    app = runtime.app()
    client, correspondance = _ds(app, demarche)
    with client:
        done = ecrire_convention(app, client, correspondance, number=number, convention_id=convention_id,
                                 version=version, now=app.clock.now())
    return {"demarche": demarche, "number": number, "convention_id": convention_id, "ecritures": done}


DS_ACTORS = {"ds_write_back": ds_write_back, "ds_write_back_convention": ds_write_back_convention}


def on_job_end(app: Any, job_id: str) -> None:
    """A job ended for good (JobTracking calls it): record its events for the webhooks and send them;
    a convention issued for a DS dossier is sent back to DS."""
    from dossiers.services.ds_ecriture import convention_a_ecrire
    from dossiers.services.webhooks import record_evenements

    job = app.catalog.get_job(job_id)
    if job is None or job.actor in _OWN_ACTORS:
        return
    for webhook_id in record_evenements(app, job, now=app.clock.now()):
        _send(deliver_webhooks, webhook_id)
    if (ecriture := convention_a_ecrire(app, job)) is not None:  # a convention issued for a DS dossier
        _send(ds_write_back_convention, *ecriture)


def announce_decision(app: Any, record: Any) -> None:
    """An instructeur decided a signed copy (outside any job): the webhooks that follow it are told."""
    from dossiers.services.webhooks import record_decision

    for webhook_id in record_decision(app, record, now=app.clock.now()):
        _send(deliver_webhooks, webhook_id)


ACTORS = {"generate": generate_convention, "validate": validate_piece, "dossier": validate_dossier,
          "amend": amend_convention, "archive": archive_signed_copy, "reissue": reissue_convention}
