"""``conum ds sync``: bring a Démarches simplifiées démarche's dossiers into conum (``services.ds``).

Exit codes: 0 every dossier taken (or nothing new), 1 some dossiers refused (listed, with their French
message; the others were taken), 3 DS unavailable or refusing the token, a mapping file wrong, the
catalog down. ``--watch`` runs again every ``--interval`` seconds (a failed run is reported and the
next one resumes from the saved cursor) until it is stopped. ``--dry-run`` reads DS and says what
would be done: nothing is downloaded, stored or submitted.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from dossiers.entrypoints._common import EXIT_REFUSED, fail_by_kind, settings
from dossiers.errors import ConumError

__all__ = ["ds"]


@click.group()
def ds() -> None:
    """Démarches simplifiées : synchronisation des dossiers d'une démarche et écritures en retour."""


def _print(rapport: Any) -> None:
    r = rapport
    verbe = "seraient importés" if r.dry_run else "importés ou mis à jour"
    click.echo(f"Démarche {r.demarche} : {r.lus} dossier(s) lu(s), {len(r.importes)} {verbe}, "
               f"{r.inchanges} inchangé(s), {len(r.erreurs)} en erreur ; {r.telecharges} fichier(s) téléchargé(s), "
               f"{len(r.jobs)} tâche(s) soumise(s), {r.copies_signees} copie(s) signée(s).")
    for d in r.importes if r.dry_run else []:
        pieces = ", ".join(f"{p['kind']} « {p['filename']} »" for p in d["pieces"]) or "aucune pièce nouvelle"
        click.echo(f"  dossier DS n° {d['number']} -> {d['dossier_id']} : {pieces}")
    for e in r.erreurs:
        click.echo(f"  dossier DS n° {e['number']} refusé ({e['code']}) : {e['message']}")


def _run(app: Any, demarche: int, *, dry_run: bool, as_json: bool) -> Any:
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from dossiers.errors import DsError
    from dossiers.services.ds import load_mapping, sync_demarche
    from workers.actors import ACTORS, DS_ACTORS
    from workers.submit import submit

    s = app.settings
    if not s.ds_api_token:
        raise DsError("DS_API_TOKEN n'est pas défini : le jeton de l'API Démarches simplifiées est obligatoire.")
    mapping = load_mapping(s.ds_config_dir, demarche)
    now = app.clock.now()
    with app.ds() as client:
        show = sys.stderr.isatty() and not as_json
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} dossier(s)"),
                      transient=True, disable=not show) as bar:
            task = bar.add_task(f"Démarche {demarche}", total=None)
            return sync_demarche(app, client, mapping, now=now, dry_run=dry_run,
                                 submit=lambda actor, kwargs: submit(app, {**ACTORS, **DS_ACTORS}[actor], kwargs),
                                 progress=lambda n, _total: bar.advance(task, n))


@ds.command("sync")
@click.option("--demarche", required=True, type=click.IntRange(min=1), envvar="DS_DEMARCHE", show_envvar=True,
              help="Numéro de la démarche DS (défaut : DS_DEMARCHE, pour la ligne ds du Procfile).")
@click.option("--watch", is_flag=True, help="Recommence toutes les --interval secondes, jusqu'à l'arrêt.")
@click.option("--interval", type=click.FloatRange(min=5), default=None,
              help="Secondes entre deux passes de --watch (défaut : DS_SYNC_INTERVAL).")
@click.option("--dry-run", is_flag=True, help="Lit DS et dit ce qui serait fait, sans rien télécharger ni soumettre.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (un objet par passe).")
def ds_sync(demarche: int, watch: bool, interval: float | None, dry_run: bool, as_json: bool) -> None:
    """Importe les dossiers modifiés depuis la dernière passe, leurs pièces, et soumet leurs contrôles."""
    from dossiers.bootstrap import App
    from workers import runtime

    config = settings()
    pause = interval or config.ds_sync_interval
    code = 0
    with App(config) as app:
        runtime.use_app(app)
        try:
            while True:
                try:
                    rapport = _run(app, demarche, dry_run=dry_run, as_json=as_json)
                except ConumError as exc:
                    if not watch:
                        fail_by_kind(exc, as_json)
                    click.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False) if as_json
                               else f"conum : {exc.message} (nouvel essai dans {pause:g} s)", err=not as_json)
                else:
                    code = EXIT_REFUSED if rapport.erreurs else 0
                    if as_json:
                        click.echo(json.dumps(rapport.to_dict(), ensure_ascii=False))
                    else:
                        _print(rapport)
                if not watch:
                    break
                time.sleep(pause)
        finally:
            runtime.use_app(None)
    sys.exit(code)
