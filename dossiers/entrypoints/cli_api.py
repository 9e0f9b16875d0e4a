"""``conum serve`` (the HTTP API under uvicorn), ``conum token create|revoke|list``, ``conum audit``."""

from __future__ import annotations

import json
from datetime import timedelta

import click
from dossiers.entrypoints._common import fail_by_kind, settings
from dossiers.entrypoints._console import Colonne, moment, print_table, json_option
from dossiers.errors import ConumError, ErrorCode

__all__ = ["serve", "token", "audit", "agent"]





@click.command()
@click.option("--host", help="Adresse d'écoute (défaut : API_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (défaut : API_PORT, 8000).")
@click.option("--workers", type=click.IntRange(1, 64), help="Processus uvicorn (défaut : API_WORKERS, 1).")
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Sert l'API HTTP (/v1, /healthz, /readyz ; OpenAPI : /v1/openapi.json)."""
    import uvicorn

    s = settings()
    uvicorn.run("dossiers.entrypoints.api:create_app", factory=True, host=host or s.api_host,
                port=port or s.api_port, workers=workers or s.api_workers, proxy_headers=True,
                forwarded_allow_ips=s.api_trusted_proxies, server_header=False, log_level="info")


@click.group()
def token() -> None:
    """Jetons d'accès à l'API (seule leur empreinte SHA-256 est conservée)."""


@token.command("create")
@click.option("--role", required=True, type=click.Choice(["portail", "instructeur", "admin"]))
@click.option("--departement", "departements", multiple=True,
              help="Département couvert (répétable) ; obligatoire pour un instructeur.")
@click.option("--nom", default="", help="Qui utilise ce jeton (ex. « DS connecteur », « Préfecture 33 – C. Exemple »).")
@json_option
def token_create(role: str, departements: tuple[str, ...], nom: str, as_json: bool) -> None:
    """Crée un jeton ; le secret n'est affiché qu'une fois."""
    from dossiers.bootstrap import App
    from dossiers.services.acces import create_token

    with App(settings()) as app:
        secret, jeton = create_token(app, role=role, departements=departements, nom=nom, now=app.clock.now())
    if as_json:
        click.echo(json.dumps({"token": secret, "id": jeton.id, "role": str(jeton.role),
                               "departements": list(jeton.departements)}, ensure_ascii=False))
    else:
        scope = ", ".join(jeton.departements) or "tous les départements"
        click.echo(f"jeton {jeton.id} ({jeton.role}, {scope}) — à transmettre, il ne sera plus affiché :")
        click.echo(secret)


@token.command("revoke")
@click.argument("token_id")
@json_option
def token_revoke(token_id: str, as_json: bool) -> None:
    """Révoque le jeton TOKEN_ID (effet immédiat)."""
    from dossiers.bootstrap import App
    from dossiers.services.acces import revoke_token

    with App(settings()) as app:
        revoke_token(app, token_id, now=app.clock.now())
    click.echo(json.dumps({"id": token_id, "revoked": True}) if as_json else f"jeton {token_id} révoqué")


@token.command("list")
@json_option
def token_list(as_json: bool) -> None:
    """Liste les jetons (sans leur secret)."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        jetons = app.catalog.list_tokens()
    if as_json:
        click.echo(json.dumps({"tokens": [j.to_dict() for j in jetons]}, ensure_ascii=False))
        return
    print_table([Colonne("id", cle=True), "rôle", "départements", "nom", Colonne("créé le", cle=True),
                 Colonne("révoqué le", cle=True)],
                [(j.id, str(j.role), ", ".join(j.departements) or "tous", j.nom, moment(j.created_at, "%d/%m/%Y %H:%M"),
                  moment(j.revoked_at, "%d/%m/%Y %H:%M") if j.revoked_at else "") for j in jetons])


@click.command()
@click.option("--jeton", "token_id", help="Seulement ce jeton.")
@click.option("--depuis", "days", type=click.IntRange(1, 3650), help="Les N derniers jours.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
def audit(token_id: str | None, days: int | None, limit: int, as_json: bool) -> None:
    """Journal d'audit des téléchargements et dépôts faits par l'API (le plus récent d'abord)."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        since = app.clock.now() - timedelta(days=days) if days else None
        entries = app.catalog.list_audit(limit=limit, token_id=token_id, since=since)
    if as_json:
        click.echo(json.dumps({"entries": [e.to_dict() for e in entries]}, ensure_ascii=False))
        return
    print_table([Colonne("quand", cle=True), Colonne("jeton", cle=True), "action", Colonne("ressource", cle=True),
                 "dép.", Colonne("adresse", cle=True), Colonne("HTTP", droite=True)],
                [(moment(e.at, "%d/%m/%Y %H:%M:%S"), e.token_id or "", e.action, e.ressource, e.departement or "",
                  e.adresse or "", e.statut_http) for e in entries])


@click.group()
def agent() -> None:
    """Agents de l'État autorisés sur les pages instructeurs (courriel ProConnect -> départements)."""


@agent.command("add")
@click.argument("email")
@click.option("--departement", "departements", multiple=True, help="Département couvert (répétable).")
@click.option("--admin", is_flag=True, help="Tous les départements, et les réémissions en lot.")
@json_option
def agent_add(email: str, departements: tuple[str, ...], admin: bool, as_json: bool) -> None:
    """Autorise EMAIL (ou met à jour ses départements)."""
    from dossiers.bootstrap import App
    from dossiers.services.acces import save_agent

    with App(settings()) as app:
        jeton = save_agent(app, email, role="admin" if admin else "instructeur", departements=departements,
                           now=app.clock.now())
    scope = ", ".join(jeton.departements) or "tous les départements"
    click.echo(json.dumps({"email": jeton.nom, **jeton.to_dict()}, ensure_ascii=False) if as_json
               else f"agent {jeton.nom} ({jeton.role}, {scope})")


@agent.command("remove")
@click.argument("email")
@json_option
def agent_remove(email: str, as_json: bool) -> None:
    """Retire l'accès de EMAIL (ses sessions ouvertes ne valent plus rien)."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        removed = app.catalog.remove_agent(email)
    if not removed:
        fail_by_kind(ConumError(f"Agent {email} inconnu.", code=ErrorCode.JETON_INVALIDE), as_json)
    click.echo(json.dumps({"email": email, "removed": True}) if as_json else f"agent {email} retiré")


@agent.command("list")
@json_option
def agent_list(as_json: bool) -> None:
    """Liste les agents autorisés."""
    from dossiers.bootstrap import App

    with App(settings()) as app:
        agents = app.catalog.list_agents()
    if as_json:
        click.echo(json.dumps({"agents": [{"email": e, **j.to_dict()} for e, j in agents]}, ensure_ascii=False))
        return
    print_table([Colonne("courriel", cle=True), "rôle", "départements"],
                [(email, str(j.role), ", ".join(j.departements) or "tous") for email, j in agents])
