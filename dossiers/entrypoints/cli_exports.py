"""``conum export conventions|audit|plan``: the lists as CSV or XLSX files (``dossiers.services.exports``).

The command line is the operator's: every département (``--departement`` filters). Exit codes: 0
written, 1 unknown plan, 2 bad usage (format, file), 3 the catalog failed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from dossiers.entrypoints._console import json_option
from dossiers.entrypoints._common import settings
from dossiers.services.a_traiter import GENRES

__all__ = ["export"]



def _fichier(f: Any) -> Any:
    f = click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
                     help="Fichier à écrire (remplacé s'il existe).")(f)
    return click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]),
                        help="csv (« ; », virgule décimale, UTF-8 avec BOM) ou xlsx ; défaut : l'extension de --out.")(f)


def _write(build: Any, fmt: str | None, out: Path, as_json: bool) -> None:
    from dossiers.bootstrap import App
    from dossiers.services.exports import render

    fmt = fmt or out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "xlsx"):
        raise click.UsageError("indiquez --format csv|xlsx (ou un fichier --out en .csv ou .xlsx)")
    with App(settings()) as app:
        done = render(build(app), fmt, today=app.clock.today())
    try:
        out.write_bytes(done.data)
    except OSError as exc:
        raise click.UsageError(f"impossible d'écrire {out} : {exc.strerror}") from exc
    if as_json:
        click.echo(json.dumps({"fichier": str(out), "format": fmt, "lignes": done.lignes, "octets": len(done.data)},
                              ensure_ascii=False))
    else:
        click.echo(f"{done.lignes} ligne(s) écrite(s) dans {out}")


@click.group()
def export() -> None:
    """Exporte une liste en CSV (tableur français) ou XLSX."""


@export.command("conventions")
@click.option("--departement", help="Code département (ex. 33, 2A, 974).")
@click.option("--statut", type=click.Choice(["a_signer", "signee", "archivee"]))
@click.option("--nature", type=click.Choice(["publique", "privee"]))
@click.option("--vague", type=click.IntRange(1, 9))
@click.option("--q", help="Dénomination (partie, sans tenir compte des accents), SIRET/SIREN ou identifiant.")
@_fichier
@json_option
def export_conventions(departement: str | None, statut: str | None, nature: str | None, vague: int | None,
                       q: str | None, fmt: str | None, out: Path, as_json: bool) -> None:
    """Conventions (version en cours, montant, statut), avec les filtres de la liste."""
    from dossiers.domain.acces import DEPARTEMENT, ConventionStatut
    from dossiers.services.exports import conventions_table

    if departement is not None and not DEPARTEMENT.match(departement):
        raise click.BadParameter(f"code département inconnu : {departement}", param_hint="--departement")
    _write(lambda app: conventions_table(app, departement=departement, nature=nature, vague=vague, q=q or None,
                                         statut=ConventionStatut(statut) if statut else None), fmt, out, as_json)


@export.command("audit")
@click.option("--jeton", "token_id", help="Seulement ce jeton (ou cet agent).")
@click.option("--depuis", "days", type=click.IntRange(1, 3650), help="Les N derniers jours.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=10_000, show_default=True)
@_fichier
@json_option
def export_audit(token_id: str | None, days: int | None, limit: int, fmt: str | None, out: Path,
                 as_json: bool) -> None:
    """Journal d'audit (le plus récent d'abord), comme `conum audit`."""
    from dossiers.services.exports import audit_table

    _write(lambda app: audit_table(app, token_id=token_id, limit=limit,
                                   since=app.clock.now() - timedelta(days=days) if days else None), fmt, out, as_json)


@export.command("plan")
@click.argument("plan_id")
@click.option("--departement", "departements", multiple=True, help="Seulement ce département (répétable).")
@_fichier
@json_option
def export_plan(plan_id: str, departements: tuple[str, ...], fmt: str | None, out: Path, as_json: bool) -> None:
    """Conventions d'un plan de réémission : montants avant et après, statut, version émise."""
    from dossiers.services.exports import plan_table

    _write(lambda app: plan_table(app, plan_id, departements=departements), fmt, out, as_json)


@export.command("a-traiter")
@click.option("--departement", "departements", multiple=True, help="Seulement ce département (répétable).")
@click.option("--genre", type=click.Choice(list(GENRES)))
@_fichier
@json_option
def export_a_traiter(departements: tuple[str, ...], genre: str | None, fmt: str | None, out: Path,
                     as_json: bool) -> None:
    """File « à traiter » : pièces et copies à vérifier, dossiers complets, relances, échecs ; le plus ancien d'abord."""
    from dossiers.services.exports import a_traiter_table

    _write(lambda app: a_traiter_table(app, departements=tuple(d.strip().upper() for d in departements), genre=genre,
                                       today=app.clock.today()), fmt, out, as_json)
