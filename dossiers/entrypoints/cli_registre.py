"""``conum ledger verify`` and ``conum ledger anchor``: the archive ledger (registre) checked and timestamped.

``verify`` exits 0 when the chain and every anchor hold, 1 at the first break (named by its sequence),
3 when the catalog or the archive cannot be read. ``anchor`` exits 0 when the head is timestamped or
nothing is new, 3 without ``TSA_URL`` or when the TSA does not answer.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click

from dossiers.entrypoints._console import json_option
from dossiers.entrypoints._common import EXIT_REFUSED, settings

__all__ = ["ledger", "moment", "proof_lines"]



def moment(at: datetime) -> str:
    return f"{at:%d/%m/%Y à %H:%M:%S} UTC"


@click.group()
def ledger() -> None:
    """Le registre d'archivage : chaîne d'empreintes des documents émis, copies signées et certificats."""


@ledger.command("verify")
@json_option
def ledger_verify(as_json: bool) -> None:
    """Recalcule toute la chaîne et vérifie chaque jeton d'horodatage ; 1 à la première rupture."""
    from dossiers.bootstrap import App
    from dossiers.services.registre import verifier_registre

    with App(settings()) as app:
        verdict = verifier_registre(app)
        head = app.catalog.registre_head()
        roots = app.settings.signature_trust_roots is not None
    last = verdict.dernier_ancrage
    pending = (head.sequence - (last[0] if last else 0)) if head else 0
    data: dict[str, Any] = {
        "intact": verdict.intact, "entrees": verdict.entrees, "tete": head.to_dict() if head else None,
        "ancrages": verdict.ancrages,
        "dernier_ancrage": {"sequence": last[0], "horodatage": last[1].isoformat()} if last else None,
        "non_ancrees": pending, "racines_de_confiance": roots,
        "rupture": verdict.rupture.to_dict() if verdict.rupture else None,
    }
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    elif verdict.rupture is not None:
        r = verdict.rupture
        click.echo(f"Registre ROMPU à la séquence {r.sequence} : {r.message} ({r.code})")
        click.echo(f"  {verdict.entrees} entrée(s) intacte(s) avant la rupture, {verdict.ancrages} ancrage(s) vérifié(s)")
    else:
        click.echo(f"Registre intact : {verdict.entrees} entrée(s)"
                   + (f", tête {head.sequence} ({head.hash})" if head else ""))
        if last:
            click.echo(f"  {verdict.ancrages} ancrage(s) vérifié(s) ; dernier : séquence {last[0]} horodatée le "
                       f"{moment(last[1])}")
        else:
            click.echo("  aucun ancrage : la chaîne n'est pas encore horodatée (conum ledger anchor)")
        if last and pending:
            click.echo(f"  {pending} entrée(s) après le dernier ancrage, pas encore horodatée(s)")
        if not roots:
            click.echo("  racines de confiance non configurées (SIGNATURE_TRUST_ROOTS) : la signature des jetons est "
                       "vérifiée, pas l'autorité qui les a émis")
    if not verdict.intact:
        sys.exit(EXIT_REFUSED)


@ledger.command("anchor")
@click.option("--si-du", "if_due", is_flag=True,
              help="Seulement si le dernier ancrage date de plus de LEDGER_ANCHOR_HOURS heures (pour un minuteur).")
@json_option
def ledger_anchor(if_due: bool, as_json: bool) -> None:
    """Horodate la tête du registre auprès de l'autorité d'horodatage (TSA_URL) ; jeton gardé sous verrou."""
    from dossiers.bootstrap import App
    from dossiers.services.registre import ancrer, ancrer_si_du

    with App(settings()) as app:
        now = app.clock.now()
        done = (ancrer_si_du if if_due else ancrer)(app, now=now)
        head = app.catalog.registre_head()
        last = done or app.catalog.registre_last_anchor()
        cadence = app.settings.ledger_anchor_hours
    if as_json:
        click.echo(json.dumps({"ancre": done is not None, "ancrage": done.to_dict() if done else None,
                               "tete": head.sequence if head else None,
                               "dernier_ancrage": last.to_dict() if last else None}, ensure_ascii=False))
    elif done is not None:
        click.echo(f"Tête du registre horodatée : séquence {done.sequence} ({done.hash}), jeton sous {done.key}")
    elif head is None:
        click.echo("Registre vide : rien à horodater.")
    elif last is not None and last.sequence >= head.sequence:
        click.echo(f"Rien de nouveau depuis l'ancrage de la séquence {last.sequence} ({moment(last.at)}).")
    else:
        click.echo(f"Dernier ancrage le {moment(last.at)} (séquence {last.sequence}), moins de {cadence:g} h : "
                   f"rien à faire avant la prochaine échéance ({head.sequence - last.sequence} entrée(s) en attente).")


def proof_lines(preuves: list[Any]) -> list[str]:
    """What ``conum verify FICHIER`` prints for the ledger entries holding the file."""
    lines = []
    for p in preuves:
        e = p.entree
        lines.append(f"  registre : entrée {e.sequence} ({e.nature}, {e.key}), inscrite le {moment(e.at)}")
        if p.rupture is not None:
            lines.append(f"    preuve ROMPUE à la séquence {p.rupture.sequence} : {p.rupture.message}")
        elif p.ancrage is None:
            lines.append(f"    chaîne vérifiée jusqu'à la tête (séquence {p.chaine[-1].sequence}) mais pas encore "
                         "horodatée (prochain conum ledger anchor)")
        else:
            lines.append(f"    preuve : {len(p.chaine)} maillon(s) recalculé(s) de la séquence {e.sequence} à "
                         f"{p.ancrage.sequence}, horodatée le {moment(p.horodatage)} (jeton {p.ancrage.key})")
    return lines
