"""``conum submit …``, ``conum job``, ``conum jobs``, ``conum worker``: jobs on the broker.

``submit`` prints ``{"job_id"}`` (with ``--json``; the job's state too); without ``BROKER_URL`` the
job runs in this process before the command returns. Exit codes: 0 submitted (or, run here,
succeeded), 1 the job failed, 2 bad usage, 3 the service failed.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import click

from dossiers.domain.jobs import Job, JobStatus
from dossiers.domain.pieces import PieceKind
from dossiers.entrypoints._console import json_option
from dossiers.entrypoints._common import EXIT_REFUSED, exit_code, fail_by_kind, read_demande, settings
from dossiers.errors import ConumError, ErrorCode

__all__ = ["submit", "job", "jobs", "worker"]

_file = click.Path(path_type=Path, dir_okay=False, exists=True, readable=True)
MAX_UPLOAD_BYTES = 100_000_000


def _print_job(j: Job, as_json: bool, *, short: bool = False) -> None:
    if as_json:
        data = j.to_dict()
        click.echo(json.dumps({"job_id": data["job_id"]} if short else data, ensure_ascii=False))
        return
    line = f"{j.id}  {j.actor}  {j.status}  tentatives : {j.attempts}"
    if j.error:
        line += f"  erreur : {j.error['code']} — {j.error['message']}"
    click.echo(line)
    if j.result and not short:
        click.echo(json.dumps(j.result, ensure_ascii=False, indent=2))


def _submit(actor_name: str, kwargs_of: Any, as_json: bool, *, key: str | None = None, after: Any = None) -> None:
    from dossiers.bootstrap import App
    from workers import runtime
    from workers.actors import ACTORS
    from workers.broker import is_local
    from workers.submit import submit as send

    try:
        with App(settings()) as app:
            runtime.use_app(app)
            actor = ACTORS[actor_name]
            job_ = send(app, actor, kwargs_of(app), key=key)
            if after is not None:
                after(app, job_)
    finally:
        runtime.use_app(None)
    local = is_local(actor.broker)
    if as_json:  # README: {"job_id", "status"}; run here without a broker, also its "result" or "error"
        data = job_.to_dict()
        out = {"job_id": job_.id, "status": data["status"]}
        if local:
            out |= {"result": data.get("result"), "error": data.get("error")}
        click.echo(json.dumps(out, ensure_ascii=False))
    else:
        _print_job(job_, False, short=not local)
    if job_.status is JobStatus.FAILED:  # the recorded error's code decides, as for the command's own errors
        code = (job_.error or {}).get("code")
        sys.exit(exit_code(code) if code else EXIT_REFUSED)


@click.group()
def submit() -> None:
    """Soumet une tâche au broker (BROKER_URL), ou l'exécute ici sans broker."""


@submit.command("generate")
@click.argument("demande", type=click.Path(path_type=Path, dir_okay=False))
@json_option
def submit_generate(demande: Path, as_json: bool) -> None:
    """Génère la convention d'une DEMANDE JSON."""
    from workers.submit import store_json

    payload = read_demande(demande)
    _submit("generate", lambda app: {"demande_key": store_json(app, payload)}, as_json)


@submit.command("dossier")
@click.argument("demande", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--id", "dossier_id", help="Identifiant du dossier (défaut : DOS-V<vague>-<structure>).")
@json_option
def submit_dossier(demande: Path, dossier_id: str | None, as_json: bool) -> None:
    """Ouvre le dossier d'une DEMANDE JSON et rend les pièces exigées."""
    from workers.submit import store_json

    payload = read_demande(demande)
    # a read of the dossier's state: every submission runs (no deduplication by arguments)
    _submit("dossier", lambda app: {"demande_key": store_json(app, payload), "dossier_id": dossier_id}, as_json,
            key=str(uuid.uuid4()))


@submit.command("validate")
@click.argument("dossier_id")
@click.argument("file", type=_file)
@click.option("--kind", required=True, type=click.Choice([str(k) for k in PieceKind]), help="Nature de la pièce.")
@click.option("--poste", "poste_id", help="Poste auquel se rattache un contrat de travail.")
@click.option("--date", "when", help="Date de contrôle AAAA-MM-JJ (défaut : le jour du traitement).")
@click.option("--mrz-file", type=_file, help="Fichier texte de la zone MRZ lue sur la pièce d'identité.")
@json_option
def submit_validate(dossier_id: str, file: Path, kind: str, poste_id: str | None, when: str | None,
                    mrz_file: Path | None, as_json: bool) -> None:
    """Dépose FICHIER dans le dossier DOSSIER_ID (contrôle par un worker)."""
    from workers.submit import store_upload

    if file.stat().st_size > MAX_UPLOAD_BYTES:
        raise click.BadParameter(f"fichier de plus de {MAX_UPLOAD_BYTES // 1_000_000} Mo", param_hint="FICHIER")
    mrz = mrz_file.read_text(encoding="utf-8", errors="replace")[:1000] if mrz_file else None
    _submit("validate", lambda app: {
        "dossier_id": dossier_id, "kind": kind, "piece_key": store_upload(app, file.read_bytes()),
        "filename": file.name, "poste_id": poste_id, "mrz": mrz, "date_controle": when,
        "soumis_le": app.clock.now().isoformat()}, as_json)


@submit.command("amend")
@click.argument("convention_id")
@click.argument("change", type=click.Path(path_type=Path, dir_okay=False))
@json_option
def submit_amend(convention_id: str, change: Path, as_json: bool) -> None:
    """Applique une modification (MODIFICATION.json) à la convention."""
    from workers.submit import store_json

    payload = read_demande(change)
    _submit("amend", lambda app: {"convention_id": convention_id, "change_key": store_json(app, payload)}, as_json)


@submit.command("archive")
@click.argument("signed", type=_file)
@click.option("--convention", "convention_id", required=True, help="Identifiant de la convention.")
@click.option("--version", "version", type=click.IntRange(1, 999), default=None, help="Version signée.")
@json_option
def submit_archive(signed: Path, convention_id: str, version: int | None, as_json: bool) -> None:
    """Archive la copie signée COPIE_SIGNEE (déposée d'abord en zone d'attente)."""
    from dossiers.services.archive import release_if_done, stage

    if signed.stat().st_size > MAX_UPLOAD_BYTES:
        raise click.BadParameter(f"fichier de plus de {MAX_UPLOAD_BYTES // 1_000_000} Mo", param_hint="COPIE_SIGNEE")
    _submit("archive", lambda app: {"convention_id": convention_id, "staging_key": stage(signed.read_bytes(), app),
                                    "version": version, "filename": signed.name}, as_json,
            after=lambda app, job_: release_if_done(app, job_, job_.args["staging_key"]))


@click.command()
@click.argument("job_id")
@json_option
def job(job_id: str, as_json: bool) -> None:
    """État d'une tâche : statut, tentatives, résultat ou erreur."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        found = app.catalog.get_job(job_id)
    if found is None:
        fail_by_kind(ConumError(f"Tâche {job_id} inconnue.", code=ErrorCode.TACHE_INTROUVABLE), as_json)
    _print_job(found, as_json)


@click.command()
@click.option("--status", type=click.Choice([str(s) for s in JobStatus]), help="Seulement les tâches dans cet état.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option
def jobs(status: str | None, limit: int, as_json: bool) -> None:
    """Liste les tâches, les plus récentes d'abord."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        found = app.catalog.list_jobs(status=JobStatus(status) if status else None, limit=limit)
    if as_json:
        click.echo(json.dumps({"jobs": [j.to_dict() for j in found]}, ensure_ascii=False))
        return
    for j in found:
        _print_job(j, False, short=True)


@click.command()
@click.option("--processes", type=int, default=None, help="Processus (défaut : WORKER_PROCESSES).")
@click.option("--threads", type=int, default=None, help="Fils par processus (défaut : WORKER_THREADS).")
@click.option("--queues", "-Q", multiple=True,
              help="Files à consommer (défaut : conventions, pieces, archives ; pas les réémissions).")
@click.option("--reemissions", is_flag=True,
              help="Seulement la file des réémissions en lot (défaut : REISSUE_PROCESSES × REISSUE_THREADS).")
def worker(processes: int | None, threads: int | None, queues: tuple[str, ...], reemissions: bool) -> None:
    """Lance les workers Dramatiq sur BROKER_URL (processus `worker` et `reissue` du Procfile)."""
    from workers.broker import BATCH_QUEUE, INTERACTIVE_QUEUES

    s = settings()
    if s.broker_url is None:
        raise click.UsageError("BROKER_URL est requis pour lancer des workers (ex. redis://127.0.0.1:6379/0)")
    if reemissions:
        queues, processes, threads = (BATCH_QUEUE,), processes or s.reissue_processes, threads or s.reissue_threads
    args = [sys.executable, "-m", "dramatiq", "workers.actors", "--processes", str(processes or s.worker_processes),
            "--threads", str(threads or s.worker_threads), "--worker-shutdown-timeout", "600000"]
    # Dramatiq's --queues is one nargs="*" option: repeated, only its last occurrence counts.
    args += ["--queues", *(queues or INTERACTIVE_QUEUES)]
    sys.stdout.flush()
    os.execv(sys.executable, args)
