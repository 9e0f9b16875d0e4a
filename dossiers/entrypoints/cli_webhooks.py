"""``conum webhooks list`` and ``conum webhooks deliveries``: the portals' webhooks and their delivery log
(registration is the portals' own, through ``POST /v1/webhooks``)."""

from __future__ import annotations

import json

import click

from dossiers.entrypoints._console import json_option
from dossiers.entrypoints._common import settings

__all__ = ["webhooks"]



@click.group()
def webhooks() -> None:
    """Webhooks des portails : inscrits et journal des livraisons."""


@webhooks.command("list")
@json_option
def webhooks_list(as_json: bool) -> None:
    """Les webhooks actifs, avec le jeton qui les a inscrits."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        found = app.catalog.webhooks()
    if as_json:
        click.echo(json.dumps({"webhooks": [{**w.to_dict(), "token_id": w.token_id} for w in found]},
                              ensure_ascii=False))
        return
    for w in found:
        click.echo(f"{w.id}  jeton {w.token_id}  {w.url}  {', '.join(w.evenements) or 'tous les événements'}")


@webhooks.command("deliveries")
@click.option("--webhook", "webhook_id", help="Un seul webhook.")
@click.option("--statut", type=click.Choice(["en_attente", "livree", "abandonnee"]), help="Un seul statut.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option
def webhooks_deliveries(webhook_id: str | None, statut: str | None, limit: int, as_json: bool) -> None:
    """Le journal des livraisons : événement, statut, tentatives, dernière réponse."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        found = app.catalog.livraisons(webhook_id=webhook_id, statut=statut, limit=limit)
    if as_json:
        click.echo(json.dumps({"livraisons": [d.to_dict() for d in found]}, ensure_ascii=False))
        return
    for d in found:
        last = f"HTTP {d.dernier_statut_http}" if d.dernier_statut_http else (d.derniere_erreur or "—")
        click.echo(f"{d.id:>6}  {d.webhook_id}  {d.type:<24} {d.statut:<11} {d.tentatives} tentative(s)  {last}")
