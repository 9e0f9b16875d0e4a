"""``conum``: the command line (DESIGN.md, "CLI"). Parse, call one service, map errors to exit codes.

Exit codes: 0 done, 1 the input was refused (demande invalide, conflit), 2 bad usage (missing
file, wrong option), 3 the service failed (LibreOffice, storage, catalog). With ``--json`` the
command prints exactly one JSON object on stdout, errors included.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import click

from dossiers.domain.formatting import montant, montant_json
from dossiers.errors import ConumError, ErrorCode
from dossiers.entrypoints._console import Colonne, franciser, json_option, print_table
from dossiers.entrypoints._console import console as soft_console
from dossiers.entrypoints._common import (
    EXAMPLES,
    EXIT_FAILED,
    EXIT_USAGE,
    fail_by_kind as _fail_by_kind,
    read_demande as _read_demande,
    settings as _settings,
)
from dossiers.entrypoints.cli_api import agent, audit, serve, token
from dossiers.entrypoints.cli_archive import accepter, archive, lien, purge, verify
from dossiers.entrypoints.cli_conventions import amend, history, paiement, restitutions
from dossiers.entrypoints.cli_exports import export
from dossiers.entrypoints.cli_instruction import a_traiter, decide, situation
from dossiers.entrypoints.cli_jobs import job, jobs, submit, worker
from dossiers.entrypoints.cli_pieces import dossier, validate
from dossiers.entrypoints.cli_pilotage import pilotage
from dossiers.entrypoints.cli_postes import poste
from dossiers.entrypoints.cli_reemission import reissue, seed
from dossiers.entrypoints.cli_registre import ledger
from dossiers.entrypoints.cli_structures import structure
from dossiers.entrypoints.cli_templates import templates
from dossiers.entrypoints.cli_ds import ds
from dossiers.entrypoints.cli_webhooks import webhooks

__all__ = ["main", "cli"]


def _export(app: Any, generated: Any, out: Path) -> dict[str, str]:
    from dossiers.services.generation import export_documents

    return {kind: str(path) for kind, path in export_documents(app.storage, generated.version, out).items()}


def _result(generated: Any, paths: dict[str, str]) -> dict[str, Any]:
    v = generated.version
    return {
        "convention_id": v.convention_id,
        "version": v.numero,
        "docx": paths.get("docx"),
        "pdf": paths.get("pdf"),
        "total_eur": montant_json(v.montant_total),
        "echeancier": [
            {"annee": t.annee, "date": t.date.isoformat(), "montant_eur": montant_json(t.montant)}
            for t in v.echeancier
        ],
        "nouvelle": generated.created,
        "avertissements": generated.warnings,
    }


def _generate(app: Any, payload: dict[str, Any]) -> Any:
    from dossiers.services.generation import generate_convention

    now, today = app.clock.read()
    return generate_convention(payload, app, today=today, now=now)


class _Conum(click.Group):
    """``conum``'s root: a refusal or a failure (``ConumError``) of any command below ends it one way, its
    message (with ``--json``, its JSON) and the exit code of its kind (``_common.fail_by_kind``), whether it
    runs from :func:`main` or from ``CliRunner`` in a test; a command catches a ``ConumError`` only to do
    something else with it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["conum.json"] = "--json" in args  # as main() reads sys.argv
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConumError as exc:
            _fail_by_kind(exc, bool(ctx.meta.get("conum.json")))


@click.group(cls=_Conum, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """conum — conventions de subvention du dispositif Conseiller numérique."""


@cli.command()
@click.argument("demande", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=Path("."),
              show_default=True, help="Dossier où copier le DOCX et le PDF.")
@json_option
def generate(demande: Path, out: Path, as_json: bool) -> None:
    """Génère la convention (DOCX et PDF/A) d'une DEMANDE JSON."""
    from dossiers.bootstrap import App

    payload = _read_demande(demande)
    with App(_settings()) as app:
        generated = _generate(app, payload)
        paths = _export(app, generated, out)
    result = _result(generated, paths)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    console = soft_console()
    state = "générée" if generated.created else "déjà générée (inchangée)"
    console.print(f"Convention {result['convention_id']} version {result['version']} {state}")
    console.print(f"  total : {montant(generated.version.montant_total)}")
    for tranche in generated.version.echeancier:
        console.print(f"  tranche {tranche.numero} au {tranche.date:%d/%m/%Y} : {montant(tranche.montant)}")
    console.print(f"  DOCX : {result['docx']}\n  PDF  : {result['pdf']}")
    for warning in generated.warnings:
        console.print(f"[yellow]avertissement : {warning}[/yellow]")


@cli.command()
@click.option("--out", "out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Dossier des copies (défaut : var/demo).")
def demo(out: Path | None) -> None:
    """Génère les conventions des demandes d'exemple et affiche ce qui a été produit."""
    from dossiers.bootstrap import App

    settings = _settings()
    out = out or settings.var_dir / "demo"
    rows, failures, warnings, copies, existing = [], 0, set(), 0, 0
    with App(settings) as app:
        for path in sorted(EXAMPLES.glob("*.json")):
            try:
                generated = _generate(app, _read_demande(path))
                copies += len(_export(app, generated, out))
            except ConumError as exc:
                failures += 1
                click.echo(f"{path.name} : {exc.message}", err=True)
                continue
            v = generated.version
            warnings.update(generated.warnings)
            existing += not generated.created
            rows.append((generated.demande.structure.denomination, f"{v.convention_id} v{v.numero}",
                         generated.demande.nombre_postes, montant(v.montant_total), montant(v.echeancier[0].montant)))
        print_table(["Structure", Colonne("Convention", cle=True), Colonne("Postes", droite=True),
                     Colonne("Total", droite=True), Colonne("1re tranche", droite=True)], rows,
                    titre="Conventions générées")
        if existing:
            click.echo(f"{existing} convention(s) déjà émise(s) : rendue(s) telle(s) quelle(s), rien n'a été réécrit")
        for warning in sorted(warnings):
            click.echo(f"avertissement : {warning}")
        click.echo(f"Copies (DOCX et PDF/A, {copies} fichiers) : {out.resolve()}")
        click.echo(f"Stockage : {settings.effective_storage_dir}")
        click.echo(f"Catalogue : {settings.effective_database_url}")
    if failures:
        sys.exit(EXIT_FAILED)


@cli.command()
@click.option("--size", type=int, default=None, help="Nombre de convertisseurs (défaut : CONVERTER_POOL_SIZE).")
@click.option("--port", type=int, default=None, help="Premier port (défaut : CONVERTER_PORT).")
def converter(size: int | None, port: int | None) -> None:
    """Lance un groupe de convertisseurs LibreOffice (unoserver) et le surveille."""
    from dossiers.adapters.libreoffice.factory import converter_dir
    from dossiers.entrypoints.converter import serve_forever

    settings = _settings()
    unoserver_bin = settings.effective_unoserver_bin
    if not unoserver_bin:
        raise click.UsageError("unoserver est introuvable : lancez `make uno` ou définissez UNOSERVER_BIN")
    size = size or settings.converter_pool_size
    first_port = port or settings.converter_port
    addresses = ",".join(f"127.0.0.1:{first_port + i}" for i in range(size))
    serve_forever(
        unoserver_bin,
        size=size,
        base_dir=converter_dir(settings),
        first_port=first_port,
        timeout=settings.conversion_timeout,
        on_ready=lambda _pool: click.echo(f"convertisseurs prêts : CONVERTER_URLS={addresses}", err=True),
    )


@cli.command("config")
@json_option
def config(as_json: bool) -> None:
    """Affiche les réglages en vigueur (environnement, puis .env du dossier courant, puis défauts), secrets masqués."""
    from dossiers.settings import ENV_VARS, env_file, masked, sources

    s = _settings()
    origin = sources()
    effective = {"database_url": s.effective_database_url, "storage_dir": s.effective_storage_dir,
                 "archive_dir": s.effective_archive_dir, "staging_dir": s.effective_staging_dir,
                 "unoserver_bin": s.effective_unoserver_bin}
    rows = []
    for var, field in ENV_VARS.items():
        value = effective.get(field, getattr(s, field))
        if isinstance(value, dict):
            value = ",".join(f"{k}={v:g}" for k, v in value.items())
        rows.append((var, masked(var, value), origin.get(var, "défaut")))
    path = env_file()
    read = path is not None and path.is_file()
    if as_json:
        click.echo(json.dumps({"fichier_env": str(path) if read else None,
                               "reglages": [{"variable": v, "valeur": val, "source": src} for v, val, src in rows]},
                              ensure_ascii=False))
        return
    click.echo(f"fichier de réglages : {path if read else 'aucun (' + (str(path) if path else 'CONUM_ENV_FILE vide') + ')'}")
    print_table([Colonne("variable", cle=True), Colonne("valeur", cle=True), "source"], rows)


for command in (validate, dossier, paiement, amend, history, restitutions, submit, job, jobs, worker, archive, accepter,
                verify, purge, lien, serve, token, audit, agent, seed, reissue, poste, pilotage, ledger, structure,
                export, decide, a_traiter, situation):
    cli.add_command(command)
cli.add_command(ds)
cli.add_command(templates)
cli.add_command(webhooks)
franciser(cli)  # French metavars everywhere (Click's own messages: _console.install_french)


def main() -> None:
    # unoserver's client logs three INFO lines per conversion: keep the terminal for our own output.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("unoserver").setLevel(logging.WARNING)
    if not sys.warnoptions:  # libraries' deprecation notices (pyhanko, cryptography) are not for the user
        logging.captureWarnings(True)
        logging.getLogger("py.warnings").setLevel(logging.ERROR)
    # A portal's timeout sends SIGTERM: unwind normally so converters we started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    as_json = "--json" in sys.argv[1:]
    try:
        cli.main(prog_name="conum", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrompu", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        if as_json:
            click.echo(json.dumps({"error": {"code": str(ErrorCode.USAGE), "message": exc.format_message()}}, ensure_ascii=False))
        else:
            exc.show()
        sys.exit(EXIT_USAGE)
    except ConumError as exc:
        _fail_by_kind(exc, as_json)
    except OSError as exc:
        _fail_by_kind(ConumError(f"erreur d'entrée-sortie : {exc}", code=ErrorCode.ERREUR_INTERNE), as_json)
    except Exception as exc:  # the last guard: one line for the caller, never a traceback
        _fail_by_kind(ConumError(f"erreur interne ({type(exc).__name__}) : {exc}", code=ErrorCode.ERREUR_INTERNE),
                      as_json)
