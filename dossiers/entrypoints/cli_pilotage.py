"""``conum pilotage import``: the structures' *tableau de pilotage* (one row per contract, CSV or
XLSX) compared with the catalog; the poste events it implies recorded (dossiers.services.pilotage).

Exit codes: 0 every row placed (recorded, or already there), 1 some rows refused (the others are
recorded) or the file refused as a whole, 2 bad usage, 3 the service failed.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dossiers.entrypoints._common import EXIT_REFUSED, fail, fail_by_kind, settings, JOUR
from dossiers.entrypoints._console import anciens_noms
from dossiers.errors import ConumError

__all__ = ["pilotage"]

_TYPES = ("recrutement", "prolongation", "fin_contrat")
MAX_ERREURS_AFFICHEES = 200


@click.group()
def pilotage() -> None:
    """Tableau de pilotage des structures : import des contrats des conseillers."""


@anciens_noms(as_of="--date")
@pilotage.command("import")
@click.argument("fichier", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--date", "as_of", type=JOUR, required=True, help="Date d'appréciation (les chronologies à ce jour).")
@click.option("--dry-run", is_flag=True, help="Montre ce qui serait enregistré, sans rien enregistrer.")
@click.option("--json", "as_json", is_flag=True, help="Sortie JSON (un seul objet).")
def import_(fichier: Path, as_of: date, dry_run: bool, as_json: bool) -> None:
    """Importe un tableau de pilotage (FICHIER .csv ou .xlsx, une ligne par contrat) : enregistre
    les recrutements, prolongations et fins de contrat qu'il contient et que le catalogue n'a pas."""
    from dossiers.bootstrap import App
    from dossiers.services.pilotage import FichierRefuse, importer

    jour = as_of
    started = time.perf_counter()
    try:
        with App(settings()) as app:
            result = importer(fichier, app, as_of=jour, dry_run=dry_run)
    except FichierRefuse as exc:
        fail(exc, as_json, EXIT_REFUSED)
    except ConumError as exc:
        fail_by_kind(exc, as_json)
    out = result.to_json()
    out["secondes"] = round(time.perf_counter() - started, 2)
    code = EXIT_REFUSED if result.erreurs else 0
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        raise SystemExit(code)
    console = Console()
    verbe = "à enregistrer (simulation, rien n'est enregistré)" if dry_run else "enregistrés"
    console.print(f"{escape(fichier.name)} ({out['format']}) au {jour.strftime('%d/%m/%Y')} : {out['lignes']} ligne(s), "
                  f"{out['a_enregistrer']} événement(s) {verbe}, {out['deja_presents']} ligne(s) déjà à jour, "
                  f"{len(out['erreurs'])} ligne(s) refusée(s) — {out['secondes']} s")
    if out["par_departement"]:
        table = Table(title="Événements " + ("à enregistrer" if dry_run else "enregistrés"), box=box.SIMPLE_HEAD,
                      padding=(0, 1))
        table.add_column("Département")
        for t in _TYPES:
            table.add_column(t, justify="right")
        table.add_column("Total", justify="right")
        for dep, counts in out["par_departement"].items():
            table.add_row(dep, *(str(counts.get(t, 0)) for t in _TYPES), str(sum(counts.values())))
        table.add_row("Total", *(str(out["evenements"].get(t, 0)) for t in _TYPES), str(out["a_enregistrer"]),
                      style="bold")
        console.print(table)
    if out["erreurs"]:
        table = Table(title=f"Lignes refusées ({len(out['erreurs'])}) : rien n'est enregistré pour elles",
                      box=box.SIMPLE_HEAD, padding=(0, 1))
        for column in ("Ligne", "Structure", "Poste", "Motif"):
            table.add_column(column)
        for e in out["erreurs"][:MAX_ERREURS_AFFICHEES]:
            table.add_row(str(e["ligne"]), escape(e["structure_id"]), escape(e["poste"]), escape(e["message"]))
        console.print(table)
        if len(out["erreurs"]) > MAX_ERREURS_AFFICHEES:
            console.print(f"… et {len(out['erreurs']) - MAX_ERREURS_AFFICHEES} autres (toutes avec --json).")
    raise SystemExit(code)
