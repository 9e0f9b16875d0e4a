"""``conum seed`` (a synthetic population) and ``conum reissue plan|run|status|list`` (batch re-issue).

Options are French (``--regles``, ``--modele``, ``--date``); the English names of the previous release
(``--rules``, ``--template``, ``--as-of``) still work, hidden, for one release.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, Progress, TextColumn

from dossiers.domain.formatting import montant
from dossiers.entrypoints._common import JOUR, settings
from dossiers.entrypoints._console import Colonne, anciens_noms, is_terminal, moment, print_table, json_option
from dossiers.errors import ConumError, ErrorCode

__all__ = ["seed", "reissue", "duree", "debit"]

STALL_SECONDS = 600
_csv = click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
                    help="Écrit aussi une ligne par convention dans ce fichier CSV (séparateur « ; »).")


def duree(seconds: float) -> str:
    """``4 s``, ``2 min 05 s``, ``1 h 02 min``: never ``0:0…``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def debit(rate: float) -> str:
    """Conventions per second, in French (``2,4/s``; below one a second: ``12/min``)."""
    if rate >= 1:
        return f"{rate:.1f}/s".replace(".", ",")
    return f"{rate * 60:.0f}/min" if rate > 0 else "—"


def _plan_inconnu(plan_id: str) -> ConumError:
    return ConumError(f"Plan {plan_id} inconnu (conum reissue list donne les plans enregistrés).",
                      code=ErrorCode.PLAN_INTROUVABLE)


@anciens_noms(as_of="--date")
@click.command()
@click.option("--structures", type=click.IntRange(1, 1_000_000), required=True, help="Nombre de structures.")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="Graine (même graine, même population).")
@click.option("--date", "as_of", type=JOUR, help="Versements et vie des postes jusqu'à ce jour (défaut : 2026-11-01).")
@click.option("--force", is_flag=True, help="Écrit aussi dans un catalogue qui tient des conventions réelles.")
@json_option
def seed(structures: int, seed_value: int, as_of: date | None, force: bool, as_json: bool) -> None:
    """Peuple le catalogue d'une population synthétique (démos, mesures) ; refuse un catalogue réel sans --force."""
    from dossiers.bootstrap import App
    from dossiers.services.seed import seed as run_seed

    started = time.perf_counter()
    with App(settings()) as app, _bar(structures, "structures", quiet=as_json) as (bar, task):
        if not force:
            _refuse_real_catalog(app)
        done = run_seed(app, structures=structures, seed=seed_value,
                        as_of=as_of, progress=lambda n: bar.update(task, completed=n))
    result = {"structures": done.structures, "deja_presentes": done.skipped, "versions": done.versions,
              "paiements": done.paiements, "secondes": round(time.perf_counter() - started, 1)}
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else
               f"{done.structures} structures écrites ({done.skipped} déjà présentes), {done.versions} versions, "
               f"{done.paiements} versements, en {result['secondes']} s")


SEEDED = re.compile(r"STR-S\d+-\d{6}")  # the structures `conum seed` writes (services/seed.py)


def _refuse_real_catalog(app: Any) -> None:
    """Synthetic structures go into a synthetic (or empty) catalog only: real conventions would be mixed
    with invented ones in every list, plan and total."""
    real = sorted(sid for sid in app.catalog.conventions_par_structure() if not SEEDED.fullmatch(sid))
    if real:
        raise ConumError(f"Le catalogue ({app.settings.effective_database_url.split('@')[-1]}) tient des conventions "
                         f"que conum seed n'a pas faites ({len(real)} structure(s), dont {', '.join(real[:3])}) : "
                         "rien n'est écrit. Semez dans un autre catalogue (CONUM_VAR_DIR, DATABASE_URL) ou ajoutez "
                         "--force.", code=ErrorCode.CATALOGUE_REEL)


class _bar:
    def __init__(self, total: int, what: str, *, quiet: bool) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                                 disable=quiet or not is_terminal(), transient=True)
        self.total, self.what = total, what

    def __enter__(self) -> tuple[Progress, Any]:
        self.progress.start()
        return self.progress, self.progress.add_task(self.what, total=self.total)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


@click.group()
def reissue() -> None:
    """Réémission des conventions en lot après un changement de règles ou de modèle."""


@anciens_noms(rules="--regles", template="--modele", as_of="--date")
@reissue.command("plan")
@click.option("--regles", "regles", help="Règles visées : de gestion (regles-2025-05) ou un barème d'une vague.")
@click.option("--modele", "modele", help="Version de modèle visée (celle des modèles installés).")
@click.option("--date", "as_of", type=JOUR, help="Date d'appréciation (défaut : aujourd'hui).")
@json_option
@_csv
def reissue_plan(regles: str | None, modele: str | None, as_of: date | None, as_json: bool,
                 csv_path: Path | None) -> None:
    """Calcule l'impact sur chaque convention active ; n'écrit que le plan (avec son identifiant)."""
    from dossiers.bootstrap import App
    from dossiers.services.reemission import cible, plan, report_csv

    started = time.perf_counter()
    with App(settings()) as app:
        jour = as_of or app.clock.today()
        recorded, _impacts = plan(app, regles=regles, modele=modele, as_of=jour, now=app.clock.now())
        items = app.catalog.plan_items(recorded.id)
        gestion = cible(app, regles=regles, modele=modele).gestion
        avertissements = list(gestion.avertissements) if gestion is not None else []
    seconds = round(time.perf_counter() - started, 2)
    if csv_path:
        csv_path.write_text(report_csv(items), encoding="utf-8")
    for note in avertissements:
        click.echo(f"attention : {note}", err=True)
    if as_json:
        click.echo(json.dumps({**recorded.to_dict(), "secondes": seconds, "avertissements": avertissements,
                               "conventions": [i.to_dict() for i in items]}, ensure_ascii=False))
        return
    t = recorded.totaux["total"]
    n = t["conventions"]
    concernees = "conventions concernées" if n > 1 else "convention concernée"
    click.echo(f"plan {recorded.id} — {regles or ''} {modele or ''} au {jour:%d/%m/%Y} : "
               f"{n} {concernees} sur {recorded.examinees} ({seconds} s)".replace("  ", " "))
    click.echo(f"dû avant {montant(_dec(t['du_avant_eur']))}, après {montant(_dec(t['du_apres_eur']))} "
               f"(écart {montant(_dec(t['difference_eur']))}) ; à reverser {montant(_dec(t['a_reverser_eur']))} ; "
               f"postes rendus : {t['postes_rendus']}")
    figures = [Colonne(c, droite=True) for c in ("conventions", "dû avant", "dû après", "écart", "à reverser",
                                                 "postes rendus")]
    for title, key in (("département", "par_departement"), ("nature", "par_nature")):
        print_table([Colonne(title, cle=True), *figures], [
            (name, row["conventions"], montant(_dec(row["du_avant_eur"])), montant(_dec(row["du_apres_eur"])),
             montant(_dec(row["difference_eur"])), montant(_dec(row["a_reverser_eur"])), row["postes_rendus"])
            for name, row in recorded.totaux[key].items()])
    if items:
        shown = items if not is_terminal() else items[:PLAN_LIGNES]
        print_table([Colonne("convention", cle=True), "type", Colonne("version", droite=True), *figures[1:5],
                     Colonne("postes rendus", cle=True)],
                    [(i.impact.convention_id, i.impact.kind, i.impact.base_version, montant(i.impact.du_avant),
                      montant(i.impact.du_apres), montant(i.impact.difference), montant(i.impact.a_reverser),
                      " ".join(i.impact.postes_rendus)) for i in shown], titre="conventions concernées")
        if len(items) > len(shown):
            click.echo(f"… et {len(items) - len(shown)} autres : la liste entière avec --csv FICHIER ou --json "
                       "(ou sortie redirigée)")
    for title, key in (("à examiner (le barème ne peut plus les chiffrer)", "anomalies"),
                       ("émises contre les limites des règles de gestion", "hors_limites")):
        found = recorded.totaux.get(key) or []
        if found:
            click.echo(f"{len(found)} convention(s) {title}")
            for a in found:
                click.echo(f"  {a['convention_id']} — {a['code']} : {a['message']}")
    click.echo(f"lancer : conum reissue run {recorded.id}")


PLAN_LIGNES = 50  # conventions listed on screen (all of them in --csv and --json)


def _dec(value: str) -> Any:
    from decimal import Decimal

    return Decimal(value)


@reissue.command("run")
@click.argument("plan_id")
@click.option("--detach", is_flag=True, help="Soumet les tâches et rend la main sans attendre (broker requis).")
@click.option("--verbose", "-v", is_flag=True,
              help="Journal des tâches sur la sortie d'erreur (sinon : dans var/logs/reemission-PLAN.log).")
@json_option
@_csv
def reissue_run(plan_id: str, detach: bool, verbose: bool, as_json: bool, csv_path: Path | None) -> None:
    """Soumet une tâche par convention du plan (ce qui est fait est sauté), puis suit l'avancement."""
    from dossiers.bootstrap import App
    from dossiers.domain.reemission import ItemStatut
    from workers import runtime
    from workers.actors import reissue_convention
    from workers.broker import is_local
    from workers.submit import submit_many

    try:
        with App(settings()) as app:
            runtime.use_app(app)
            if app.catalog.get_plan(plan_id) is None:
                raise _plan_inconnu(plan_id)
            log_file = None if verbose else _jobs_log_to_file(app.settings.var_dir / "logs" / f"reemission-{plan_id}.log")
            todo = app.catalog.plan_items(plan_id, statuts=[ItemStatut.A_FAIRE, ItemStatut.ECHEC])
            retry = uuid.uuid4().hex[:8]  # an item refused before is tried again by a job of its own
            batch = []
            for i in todo:
                cid = i.impact.convention_id
                key = f"reemission:{plan_id}:{cid}"
                if i.statut == ItemStatut.ECHEC:
                    app.catalog.set_plan_item(plan_id, cid, statut=ItemStatut.A_FAIRE, now=app.clock.now())
                    key += f":{retry}"
                batch.append(({"plan_id": plan_id, "convention_id": cid}, key))
            local = is_local(reissue_convention.broker)
            if detach and local:
                raise click.UsageError("--detach demande un broker (BROKER_URL)")
            errors: list[BaseException] = []

            def send() -> None:
                try:
                    for start in range(0, len(batch), 500):
                        chunk = batch[start:start + 500]
                        jobs = submit_many(app, reissue_convention, chunk)
                        app.catalog.set_plan_jobs(plan_id, {kw["convention_id"]: j.id for (kw, _), j in zip(chunk, jobs)},
                                                  now=app.clock.now())
                except BaseException as exc:  # reported by the main thread
                    errors.append(exc)

            sender = threading.Thread(target=send, name="reemission-envoi", daemon=True)
            sender.start()
            if detach:
                sender.join()
            else:
                _follow(app, plan_id, sender, quiet=as_json or not is_terminal())
            sender.join()
            if errors:
                raise errors[0]
            _report(app, plan_id, as_json, csv_path, submitted=len(batch))
            if log_file is not None and not as_json:
                click.echo(f"journal des tâches : {log_file}", err=True)
    finally:
        runtime.use_app(None)


def _jobs_log_to_file(path: Path) -> Path:
    """The job events (one JSON line each) go to ``path`` instead of stderr, so that the progress bar
    is alone on the terminal."""
    import logging

    from workers.middleware import JsonFormatter

    path.parent.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger("conum.jobs")
    for handler in list(log.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            log.removeHandler(handler)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    return path


def _follow(app: Any, plan_id: str, sender: threading.Thread, *, quiet: bool) -> None:
    """A progress bar until every item is issued, obsolete or failed (and the sender is done)."""
    from dossiers.services.reemission import progress

    first = progress(app, plan_id)
    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total} · {task.fields[detail]} · {task.fields[temps]}"))
    with Progress(*columns, disable=quiet) as bar:
        task = bar.add_task("réémission", total=first.total, completed=first.total - first.restantes,
                            detail="", temps="")
        started, done_at_start = time.monotonic(), first.total - first.restantes
        last_done, moved_at = done_at_start, time.monotonic()
        while True:
            p = progress(app, plan_id)
            done = p.total - p.restantes
            now = time.monotonic()
            if done != last_done or sender.is_alive():
                last_done, moved_at = done, now
            elapsed = now - started
            finished = p.finished and not sender.is_alive()
            bar.update(task, completed=done, detail=f"émises {p.emises}, obsolètes {p.obsoletes}, échecs {p.echecs}",
                       temps=_temps(elapsed, done - done_at_start, p.restantes, finished=finished))
            if finished:
                return
            if now - moved_at > STALL_SECONDS:  # nothing moved since: no worker on the queue?
                click.echo(f"aucune avancée depuis {STALL_SECONDS // 60} min : un worker consomme-t-il la file "
                           "« reemissions » (conum worker --reemissions) ? Suivi : conum reissue status", err=True)
                return
            time.sleep(0.5)


def _temps(elapsed: float, done: int, restantes: int, *, finished: bool) -> str:
    """``écoulé 12 s · 2,4/s · reste 40 s`` ; finished: ``terminé en 52 s``; no rate yet: ``reste estimé bientôt``."""
    rate = done / elapsed if elapsed > 0 and done > 0 else 0.0
    if finished:
        return f"terminé en {duree(elapsed)}" + (f" · {debit(rate)}" if rate else "")
    if rate <= 0:
        return f"écoulé {duree(elapsed)} · débit en cours de mesure"
    return f"écoulé {duree(elapsed)} · {debit(rate)} · reste environ {duree(restantes / rate)}"


@reissue.command("status")
@click.argument("plan_id")
@json_option
@_csv
def reissue_status(plan_id: str, as_json: bool, csv_path: Path | None) -> None:
    """Avancement d'un plan (depuis n'importe quelle machine) : début, fin, débit, temps restant, échecs."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        if app.catalog.get_plan(plan_id) is None:
            raise _plan_inconnu(plan_id)
        _report(app, plan_id, as_json, csv_path, now=app.clock.now())


@reissue.command("list")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True, help="Nombre de plans.")
@json_option
def reissue_list(limit: int, as_json: bool) -> None:
    """Les plans enregistrés, les plus récents d'abord, avec leur avancement."""
    from dossiers.bootstrap import App
    from dossiers.services.reemission import progress

    with App(settings()) as app:
        plans = [(p, progress(app, p.id)) for p in app.catalog.list_plans(limit=limit)]
    rows = [{"plan_id": p.id, "cree_le": p.created_at.isoformat(), "regles": p.regles, "modele": p.modele,
             "date": p.as_of.isoformat(), "examinees": p.examinees, **prog.to_dict()} for p, prog in plans]
    if as_json:
        click.echo(json.dumps({"plans": rows}, ensure_ascii=False))
        return
    if not rows:
        click.echo("aucun plan de réémission (conum reissue plan --regles … en crée un)")
        return
    print_table([Colonne("plan", cle=True), Colonne("créé le", cle=True), "cible", Colonne("au", cle=True),
                 Colonne("conventions", droite=True), Colonne("émises", droite=True),
                 Colonne("obsolètes", droite=True), Colonne("échecs", droite=True), Colonne("restantes", droite=True)],
                [(p.id, moment(p.created_at, "%d/%m/%Y %H:%M"), " ".join(x for x in (p.regles, p.modele) if x),
                  f"{p.as_of:%d/%m/%Y}", prog.total, prog.emises, prog.obsoletes, prog.echecs, prog.restantes)
                 for p, prog in plans])


def _aware(instant: Any) -> Any:
    """The catalog's instants are UTC; SQLite gives them back without their zone."""
    from datetime import UTC

    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def _timing(app: Any, items: list[Any], restantes: int, now: Any) -> dict[str, Any]:
    """Start (the first job of the last run: ``run`` submits in the items' order), end (the last item
    settled, once nothing remains), rate and ETA: the same answer on any machine that reads the catalog."""
    first = next((i for i in items if i.job_id), None)
    job = app.catalog.get_job(first.job_id) if first is not None else None
    if job is None:
        return {"debut": None, "fin": None, "debit_par_s": None, "reste_s": None}
    debut = _aware(job.created_at)
    settled = [_aware(i.updated_at) for i in items if i.statut != "a_faire" and i.updated_at is not None]
    settled = [at for at in settled if at >= debut]
    fin = max(settled) if settled and restantes == 0 else None
    elapsed = ((fin or _aware(now)) - debut).total_seconds()
    rate = len(settled) / elapsed if elapsed > 0 and settled else None
    reste = 0 if restantes == 0 else (round(restantes / rate) if rate else None)
    return {"debut": debut.isoformat(), "fin": fin.isoformat() if fin else None,
            "debit_par_s": round(rate, 3) if rate else None, "reste_s": reste}


def _report(app: Any, plan_id: str, as_json: bool, csv_path: Path | None, *, submitted: int | None = None,
            now: Any = None) -> None:
    from dossiers.services.reemission import progress, report_csv

    p = progress(app, plan_id)
    items = app.catalog.plan_items(plan_id)
    failed = {f.impact.convention_id: f for f in app.catalog.plan_failures(plan_id, limit=len(items) or 1)}
    if csv_path:
        csv_path.write_text(report_csv([failed.get(i.impact.convention_id, i) for i in items]), encoding="utf-8")
    timing = _timing(app, items, p.restantes, now or app.clock.now())
    data: dict[str, Any] = {"plan_id": plan_id, **p.to_dict(), **timing,
                            "echecs_detail": [{"convention_id": cid, "message": f.message} for cid, f in failed.items()]}
    if submitted is not None:
        data["soumises"] = submitted
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    line = (f"plan {plan_id} : {p.total} conventions — émises {p.emises}, obsolètes {p.obsoletes}, "
            f"échecs {p.echecs}, restantes {p.restantes}")
    click.echo(line + (f" (tâches soumises : {submitted})" if submitted is not None else ""))
    click.echo(_timing_line(timing))
    for cid, f in failed.items():
        click.echo(f"  échec {cid} : {f.message}")


def _timing_line(t: dict[str, Any]) -> str:
    from datetime import datetime

    from dossiers.clock import PARIS

    if t["debut"] is None:
        return "pas encore lancé (conum reissue run PLAN)"
    moment = lambda iso: f"{datetime.fromisoformat(iso).astimezone(PARIS):%d/%m/%Y %H:%M:%S}"  # noqa: E731
    parts = [f"début {moment(t['debut'])}"]
    if t["fin"]:
        parts.append(f"fin {moment(t['fin'])}")
    if t["debit_par_s"]:
        parts.append(f"débit {debit(t['debit_par_s'])}")
    if not t["fin"]:
        parts.append(f"reste environ {duree(t['reste_s'])}" if t["reste_s"] is not None else "reste : à mesurer")
    return " · ".join(parts)
