"""``conum poste``: record a poste event (recrutement, fin_contrat, prolongation, absence, transfert).

Exit codes: 0 recorded (or already recorded with the same content), 1 refused (invalid event,
contradicts the poste's life, superseded version, request id reused for another event), 2 bad
usage, 3 the service failed.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import click

from dossiers.entrypoints._console import Colonne, print_table, json_option
from dossiers.entrypoints._common import JOUR, read_demande, settings
from dossiers.errors import ErrorCode

__all__ = ["poste"]

_ETATS = {"occupe": "occupé", "vacant": "vacant", "rendu": "rendu"}


def _fr(day: str | None) -> str:
    return datetime.strptime(day, "%Y-%m-%d").strftime("%d/%m/%Y") if day else "—"


def print_postes(postes: list[dict], jour: str) -> None:
    rows = []
    for p in postes:
        c, a = p["contrat"], p["absence"]
        contrat = "—" if c is None else f"{c['type']} du {_fr(c['date_debut'])}" + (
            f" au {_fr(c['date_fin'])}" if c["date_fin"] else "")
        absence = "—" if a is None else f"{a['motif']} depuis le {_fr(a['du'])}" + (
            "" if a["justifiee"] else " (non justifiée)")
        rows.append((p["id"], _ETATS.get(p["etat"], p["etat"]), (c["conseiller"] or "—") if c else "—", contrat,
                     _fr(p["vacant_depuis"]), absence))
    print_table([Colonne("Poste", cle=True), "État", "Conseiller", "Contrat", Colonne("Vacant depuis", cle=True),
                 "Absence"], rows, titre=f"Postes au {_fr(jour)}")


@click.command()
@click.argument("convention_id")
@click.argument("event", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--date", "when", type=JOUR, default=None,
              help="Jour de la situation des postes affichée (défaut : aujourd'hui).")
@json_option
def poste(convention_id: str, event: Path, when: date | None, as_json: bool) -> None:
    """Enregistre un événement de la vie d'un poste (EVENEMENT.json : recrutement, fin_contrat,
    prolongation, absence ou transfert) et affiche la situation des postes."""
    from dossiers.bootstrap import App
    from dossiers.domain.postes import Source
    from dossiers.services.postes import record_evenement

    payload = read_demande(event, code=ErrorCode.EVENEMENT_INVALIDE)
    with App(settings()) as app:
        now, today = app.clock.read()
        done = record_evenement(convention_id, None, payload, app, source=Source.CLI, today=today, now=now,
                                jour=when if when else None)
    result = done.to_json()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    state = "enregistré" if done.enregistre else "déjà enregistré (inchangé)"
    click.echo(f"{convention_id} : {done.type} du poste {done.poste} {state} (version courante : {done.version})")
    for v in result.get("avenants", []):
        click.echo(f"  Avenant {v['convention_id']} version {v['version']} : {v['motif']}")
    if done.dossier_id:
        click.echo(f"  Dossier ouvert pour la structure d'accueil : {done.dossier_id}")
    print_postes(result["postes"], result["date"])
