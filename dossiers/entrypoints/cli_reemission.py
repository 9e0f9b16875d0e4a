"""``conum seed`` (a synthetic population) and ``conum reissue plan|run|status`` (batch re-issue)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dossiers.domain.formatting import montant
from dossiers.entrypoints._common import EXIT_FAILED, EXIT_REFUSED, fail, settings
from dossiers.errors import ConumError, ErrorCode

__all__ = ["seed", "reissue"]

_json = click.option("--json", "as_json", is_flag=True, help="Sortie JSON (un seul objet).")
STALL_SECONDS = 600
_csv = click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False),
                    help="Écrit aussi une ligne par convention dans ce fichier CSV (séparateur « ; »).")


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} : attendu AAAA-MM-JJ") from None


@click.command()
@click.option("--structures", type=click.IntRange(1, 1_000_000), required=True, help="Nombre de structures.")
@click.option("--seed", "seed_value", type=int, default=1, show_default=True, help="Graine (même graine, même population).")
@click.option("--as-of", "as_of", help="Versements faits jusqu'à ce jour (défaut : 2026-11-01).")
@_json
def seed(structures: int, seed_value: int, as_of: str | None, as_json: bool) -> None:
    """Peuple le catalogue d'une population synthétique (démos, mesures)."""
    from dossiers.bootstrap import App
    from dossiers.services.seed import seed as run_seed

    started = time.perf_counter()
    try:
        with App(settings()) as app, _bar(structures, "structures", quiet=as_json) as (bar, task):
            done = run_seed(app, structures=structures, seed=seed_value,
                            as_of=_day(as_of) if as_of else None, progress=lambda n: bar.update(task, completed=n))
    except ConumError as exc:
        fail(exc, as_json, EXIT_FAILED)
    result = {"structures": done.structures, "deja_presentes": done.skipped, "versions": done.versions,
              "paiements": done.paiements, "secondes": round(time.perf_counter() - started, 1)}
    click.echo(json.dumps(result, ensure_ascii=False) if as_json else
               f"{done.structures} structures écrites ({done.skipped} déjà présentes), {done.versions} versions, "
               f"{done.paiements} versements, en {result['secondes']} s")


class _bar:
    def __init__(self, total: int, what: str, *, quiet: bool) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                                 TimeElapsedColumn(), disable=quiet, transient=True)
        self.total, self.what = total, what

    def __enter__(self) -> tuple[Progress, Any]:
        self.progress.start()
        return self.progress, self.progress.add_task(self.what, total=self.total)

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


@click.group()
def reissue() -> None:
    """Réémission des conventions en lot après un changement de règles ou de modèle."""


@reissue.command("plan")
@click.option("--rules", "regles", help="Règles visées : de gestion (regles-2025-05) ou un barème d'une vague.")
@click.option("--template", "modele", help="Version de modèle visée (celle des modèles installés).")
@click.option("--as-of", "as_of", help="Date d'appréciation AAAA-MM-JJ (défaut : aujourd'hui).")
@_json
@_csv
def reissue_plan(regles: str | None, modele: str | None, as_of: str | None, as_json: bool,
                 csv_path: Path | None) -> None:
    """Calcule l'impact sur chaque convention active ; n'écrit que le plan (avec son identifiant)."""
    from dossiers.bootstrap import App
    from dossiers.services.reemission import cible, plan, report_csv

    started = time.perf_counter()
    try:
        with App(settings()) as app:
            jour = _day(as_of) or app.clock.today()
            recorded, _impacts = plan(app, regles=regles, modele=modele, as_of=jour, now=app.clock.now())
            items = app.catalog.plan_items(recorded.id)
            gestion = cible(app, regles=regles, modele=modele).gestion
            avertissements = list(gestion.avertissements) if gestion is not None else []
    except ConumError as exc:
        fail(exc, as_json, EXIT_REFUSED if exc.code in (ErrorCode.REGLES_INTROUVABLES, ErrorCode.REGLES_INVALIDES,
                                                        ErrorCode.MODELE_INTROUVABLE) else EXIT_FAILED)
    seconds = round(time.perf_counter() - started, 2)
    if csv_path:
        csv_path.write_text(report_csv(items), encoding="utf-8")
    for note in avertissements:
        click.echo(f"attention : {note}", err=True)
    if as_json:
        click.echo(json.dumps({**recorded.to_dict(), "secondes": seconds, "avertissements": avertissements,
                               "conventions": [i.to_dict() for i in items]}, ensure_ascii=False))
        return
    console = Console()
    t = recorded.totaux["total"]
    console.print(f"plan [bold]{recorded.id}[/] — {escape(regles or '')} {escape(modele or '')} au {jour:%d/%m/%Y} : "
                  f"{t['conventions']} conventions concernées sur {recorded.examinees} ({seconds} s)")
    console.print(f"dû avant {montant(_dec(t['du_avant_eur']))}, après {montant(_dec(t['du_apres_eur']))} "
                  f"(écart {montant(_dec(t['difference_eur']))}) ; à reverser {montant(_dec(t['a_reverser_eur']))} ; "
                  f"postes rendus : {t['postes_rendus']}")
    for title, key in (("département", "par_departement"), ("nature", "par_nature")):
        table = Table(title, "conventions", "dû avant", "dû après", "écart", "à reverser", "postes rendus")
        for name, row in recorded.totaux[key].items():
            table.add_row(name, str(row["conventions"]), montant(_dec(row["du_avant_eur"])),
                          montant(_dec(row["du_apres_eur"])), montant(_dec(row["difference_eur"])),
                          montant(_dec(row["a_reverser_eur"])), str(row["postes_rendus"]))
        console.print(table)
    if items:
        table = Table("convention", "type", "version", "dû avant", "dû après", "écart", "à reverser", "postes rendus",
                      title="conventions concernées")
        for item in items[:PLAN_LIGNES]:
            i = item.impact
            table.add_row(i.convention_id, i.kind, str(i.base_version), montant(i.du_avant), montant(i.du_apres),
                          montant(i.difference), montant(i.a_reverser), " ".join(i.postes_rendus))
        console.print(table)
        if len(items) > PLAN_LIGNES:
            console.print(f"… et {len(items) - PLAN_LIGNES} autres : la liste entière avec --csv FICHIER ou --json")
    for title, key in (("à examiner (le barème ne peut plus les chiffrer)", "anomalies"),
                       ("émises contre les limites des règles de gestion", "hors_limites")):
        found = recorded.totaux.get(key) or []
        if found:
            console.print(f"[bold]{len(found)} convention(s) {title}[/]")
            for a in found:
                console.print(f"  {escape(a['convention_id'])} — {a['code']} : {escape(a['message'])}")
    console.print(f"lancer : conum reissue run {recorded.id}")


PLAN_LIGNES = 50  # conventions listed on screen (all of them in --csv and --json)


def _dec(value: str) -> Any:
    from decimal import Decimal

    return Decimal(value)


@reissue.command("run")
@click.argument("plan_id")
@click.option("--detach", is_flag=True, help="Soumet les tâches et rend la main sans attendre (broker requis).")
@_json
@_csv
def reissue_run(plan_id: str, detach: bool, as_json: bool, csv_path: Path | None) -> None:
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
                raise ConumError(f"Plan {plan_id} inconnu.", code=ErrorCode.CONVENTION_INTROUVABLE)
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
                _follow(app, plan_id, sender, quiet=as_json)
            sender.join()
            if errors:
                raise errors[0]
            _report(app, plan_id, as_json, csv_path, submitted=len(batch))
    except ConumError as exc:
        fail(exc, as_json, EXIT_REFUSED if exc.code is ErrorCode.CONVENTION_INTROUVABLE else EXIT_FAILED)
    finally:
        runtime.use_app(None)


def _follow(app: Any, plan_id: str, sender: threading.Thread, *, quiet: bool) -> None:
    """A progress bar until every item is issued, obsolete or failed (and the sender is done)."""
    from dossiers.services.reemission import progress

    first = progress(app, plan_id)
    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total} · {task.fields[detail]}"), TimeElapsedColumn(),
               TextColumn("· {task.fields[rate]} · reste {task.fields[eta]}"))
    with Progress(*columns, disable=quiet) as bar:
        task = bar.add_task("réémission", total=first.total, completed=first.total - first.restantes,
                            detail="", rate="", eta="")
        started, done_at_start = time.monotonic(), first.total - first.restantes
        last_done, moved_at = done_at_start, time.monotonic()
        while True:
            p = progress(app, plan_id)
            done = p.total - p.restantes
            now = time.monotonic()
            if done != last_done or sender.is_alive():
                last_done, moved_at = done, now
            elapsed = now - started
            rate = (done - done_at_start) / elapsed if elapsed > 0 else 0.0
            eta = f"{p.restantes / rate:.0f} s" if rate > 0 else "?"
            bar.update(task, completed=done, detail=f"émises {p.emises}, obsolètes {p.obsoletes}, échecs {p.echecs}",
                       rate=f"{rate:.1f}/s", eta=eta)
            if p.finished and not sender.is_alive():
                return
            if now - moved_at > STALL_SECONDS:  # nothing moved since: no worker on the queue?
                click.echo(f"aucune avancée depuis {STALL_SECONDS // 60} min : un worker consomme-t-il la file "
                           "« reemissions » (conum worker --reemissions) ? Suivi : conum reissue status", err=True)
                return
            time.sleep(0.5)


@reissue.command("status")
@click.argument("plan_id")
@_json
@_csv
def reissue_status(plan_id: str, as_json: bool, csv_path: Path | None) -> None:
    """Avancement d'un plan (depuis n'importe quelle machine) ; échecs avec leur raison."""
    from dossiers.bootstrap import App

    try:
        with App(settings()) as app:
            if app.catalog.get_plan(plan_id) is None:
                raise ConumError(f"Plan {plan_id} inconnu.", code=ErrorCode.CONVENTION_INTROUVABLE)
            _report(app, plan_id, as_json, csv_path)
    except ConumError as exc:
        fail(exc, as_json, EXIT_REFUSED if exc.code is ErrorCode.CONVENTION_INTROUVABLE else EXIT_FAILED)


def _report(app: Any, plan_id: str, as_json: bool, csv_path: Path | None, *, submitted: int | None = None) -> None:
    from dossiers.services.reemission import progress, report_csv

    p = progress(app, plan_id)
    items = app.catalog.plan_items(plan_id)
    failed = {f.impact.convention_id: f for f in app.catalog.plan_failures(plan_id, limit=len(items) or 1)}
    if csv_path:
        csv_path.write_text(report_csv([failed.get(i.impact.convention_id, i) for i in items]), encoding="utf-8")
    data: dict[str, Any] = {"plan_id": plan_id, **p.to_dict(),
                            "echecs_detail": [{"convention_id": cid, "message": f.message} for cid, f in failed.items()]}
    if submitted is not None:
        data["soumises"] = submitted
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    line = (f"plan {plan_id} : {p.total} conventions — émises {p.emises}, obsolètes {p.obsoletes}, "
            f"échecs {p.echecs}, restantes {p.restantes}")
    click.echo(line + (f" (tâches soumises : {submitted})" if submitted is not None else ""))
    for cid, f in failed.items():
        click.echo(f"  échec {cid} : {f.message}")
