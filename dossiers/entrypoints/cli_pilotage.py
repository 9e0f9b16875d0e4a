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

from dossiers.entrypoints._common import EXIT_REFUSED, settings, JOUR
from dossiers.entrypoints._console import Colonne, anciens_noms, print_table, json_option

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
@json_option
def import_(fichier: Path, as_of: date, dry_run: bool, as_json: bool) -> None:
    """Importe un tableau de pilotage (FICHIER .csv ou .xlsx, une ligne par contrat) : enregistre
    les recrutements, prolongations et fins de contrat qu'il contient et que le catalogue n'a pas."""
    from dossiers.bootstrap import App
    from dossiers.services.pilotage import importer

    jour = as_of
    started = time.perf_counter()
    with App(settings()) as app:
        result = importer(fichier, app, as_of=jour, dry_run=dry_run)
    out = result.to_json()
    out["secondes"] = round(time.perf_counter() - started, 2)
    code = EXIT_REFUSED if result.erreurs else 0
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False))
        raise SystemExit(code)
    verbe = "à enregistrer (simulation, rien n'est enregistré)" if dry_run else "enregistrés"
    click.echo(f"{fichier.name} ({out['format']}) au {jour.strftime('%d/%m/%Y')} : {out['lignes']} ligne(s), "
               f"{out['a_enregistrer']} événement(s) {verbe}, {out['deja_presents']} ligne(s) déjà à jour, "
               f"{len(out['erreurs'])} ligne(s) refusée(s) — {out['secondes']} s")
    if out["par_departement"]:
        rows = [(dep, *(counts.get(t, 0) for t in _TYPES), sum(counts.values()))
                for dep, counts in out["par_departement"].items()]
        rows.append(("Total", *(out["evenements"].get(t, 0) for t in _TYPES), out["a_enregistrer"]))
        print_table([Colonne("Département", cle=True), *(Colonne(t, droite=True) for t in _TYPES),
                     Colonne("Total", droite=True)], rows,
                    titre="Événements " + ("à enregistrer" if dry_run else "enregistrés"))
    if out["erreurs"]:
        print_table([Colonne("Ligne", droite=True), Colonne("Structure", cle=True), Colonne("Poste", cle=True), "Motif"],
                    [(e["ligne"], e["structure_id"], e["poste"], e["message"])
                     for e in out["erreurs"][:MAX_ERREURS_AFFICHEES]],
                    titre=f"Lignes refusées ({len(out['erreurs'])}) : rien n'est enregistré pour elles")
        if len(out["erreurs"]) > MAX_ERREURS_AFFICHEES:
            click.echo(f"… et {len(out['erreurs']) - MAX_ERREURS_AFFICHEES} autres (toutes avec --json).")
    raise SystemExit(code)
