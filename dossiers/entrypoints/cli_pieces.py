"""``conum validate`` and ``conum dossier …``: check pieces, keep a dossier's pieces, report on it.

Exit codes of ``validate`` and ``dossier add`` (DESIGN.md): 0 valide, 1 invalide or à vérifier,
2 bad usage, 3 the service failed. ``dossier show`` exits 0 whatever the dossier's status.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from dossiers.domain.dossier import PIECE_LABELS, DossierView
from dossiers.domain.findings import Finding, Statut
from dossiers.domain.pieces import Contexte, PieceKind
from dossiers.entrypoints._console import Colonne, lisible, print_table, json_option
from dossiers.entrypoints._console import console as soft_console
from dossiers.entrypoints._common import EXIT_REFUSED, JOUR, read_demande, settings

__all__ = ["validate", "dossier"]

MAX_MRZ_BYTES = 1_000
STATUT_WORDS = {Statut.VALIDE: "[green]valide[/green]", Statut.INVALIDE: "[red]invalide[/red]",
                Statut.A_VERIFIER: "[yellow]à vérifier[/yellow]"}
DOSSIER_WORDS = {"complet": "[green]complet[/green]", "incomplet": "[red]incomplet[/red]",
                 "a_verifier": "[yellow]à vérifier[/yellow]"}

_kind = click.Choice([str(k) for k in PieceKind])
_file = click.Path(path_type=Path, dir_okay=False, exists=True, readable=True)


def _mrz(path: Path | None) -> str | None:
    if path is None:
        return None
    raw = path.read_bytes()[: MAX_MRZ_BYTES + 1]
    if len(raw) > MAX_MRZ_BYTES:
        raise click.BadParameter(f"une zone MRZ tient en moins de {MAX_MRZ_BYTES} octets", param_hint="--mrz-file")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise click.BadParameter("zone MRZ attendue en texte UTF-8", param_hint="--mrz-file") from None


def _print_findings(console: Any, findings: tuple[Finding, ...], indent: str = "  ") -> None:
    for f in findings:
        color = "red" if f.severity == "erreur" else "yellow"
        console.print(f"{indent}[{color}]{f.severity}[/{color}] {escape(f.message)} [dim]({f.code})[/dim]")


def _exit_for(statut: Statut) -> None:
    if statut is not Statut.VALIDE:
        sys.exit(EXIT_REFUSED)


@click.command()
@click.argument("file", type=_file)
@click.option("--kind", required=True, type=_kind, help="Nature de la pièce.")
@click.option("--siret", help="SIRET du dossier (avis Sirene).")
@click.option("--nature", type=click.Choice(["publique", "privee"]), help="Nature déclarée de la structure.")
@click.option("--representant", help="« Prénom Nom » du représentant légal (pièce d'identité).")
@click.option("--denomination", help="Dénomination de la structure (titulaire du RIB).")
@click.option("--conseiller", help="« Prénom Nom » du conseiller (contrat de travail).")
@click.option("--date", "when", type=JOUR, help="Date de contrôle (défaut : aujourd'hui).")
@click.option("--mrz-file", type=_file, help="Fichier texte de la zone MRZ lue sur la pièce d'identité.")
@json_option
def validate(file: Path, kind: str, siret: str | None, nature: str | None, representant: str | None,
             denomination: str | None, conseiller: str | None, when: date | None, mrz_file: Path | None,
             as_json: bool) -> None:
    """Contrôle une pièce FICHIER (type lu dans le contenu, jamais dans le nom) et affiche les constats."""
    from dossiers.bootstrap import App
    from dossiers.services.validation import validate_file

    with App(settings()) as app:
        ctx = Contexte(today=when if when else app.clock.today(), siret=siret, nature=nature,
                       denomination=denomination, representant=representant, conseiller=conseiller,
                       mrz=_mrz(mrz_file))
        result = validate_file(file, PieceKind(kind), ctx, app)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        console = soft_console()
        console.print(f"{escape(file.name)} ({kind}, {result.mime}) : {STATUT_WORDS[result.statut]}")
        _print_findings(console, result.findings)
        for name, value in result.fields.items():
            if value not in (None, "", [], {}):
                console.print(f"  [dim]{name}[/dim] : {escape(lisible(value))}")
    _exit_for(result.statut)


@click.group()
def dossier() -> None:
    """Dossiers : pièces déposées, pièces manquantes, rapport de contrôle."""


@dossier.command("open")
@click.argument("demande", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--id", "dossier_id", help="Identifiant du dossier (défaut : DOS-V<vague>-<structure>).")
@json_option
def dossier_open(demande: Path, dossier_id: str | None, as_json: bool) -> None:
    """Ouvre (ou met à jour) le dossier d'une DEMANDE JSON et liste les pièces exigées."""
    from dossiers.bootstrap import App
    from dossiers.services.validation import open_dossier, view_dossier

    payload = read_demande(demande)
    with App(settings()) as app:
        opened = open_dossier(payload, app, dossier_id=dossier_id)
        view = view_dossier(opened.id, app)
    _show(view, as_json)


@dossier.command("add")
@click.argument("dossier_id")
@click.argument("file", type=_file)
@click.option("--kind", required=True, type=_kind, help="Nature de la pièce.")
@click.option("--poste", "poste_id", help="Poste auquel se rattache un contrat de travail.")
@click.option("--date", "when", type=JOUR, help="Date de contrôle (défaut : aujourd'hui).")
@click.option("--mrz-file", type=_file, help="Fichier texte de la zone MRZ lue sur la pièce d'identité.")
@json_option
def dossier_add(dossier_id: str, file: Path, kind: str, poste_id: str | None, when: date | None,
                mrz_file: Path | None, as_json: bool) -> None:
    """Dépose FICHIER dans le dossier DOSSIER_ID : contrôle, stockage, résultat enregistré."""
    from dossiers.bootstrap import App
    from dossiers.services.validation import add_piece, read_piece

    mrz = _mrz(mrz_file)
    with App(settings()) as app:
        data = read_piece(file, PieceKind(kind), app)
        piece = add_piece(dossier_id, data, PieceKind(kind), app, now=app.clock.now(),
                          today=when if when else None, filename=file.name, poste_id=poste_id, mrz=mrz)
    if as_json:
        click.echo(json.dumps({
            "dossier_id": dossier_id, "piece_id": piece.id, "status": str(piece.statut), "kind": str(piece.kind),
            "poste_id": piece.poste_id, "mime": piece.mime, "sha256": piece.sha256,
            "findings": [f.to_dict() for f in piece.findings], "fields": piece.fields,
        }, ensure_ascii=False))
    else:
        console = soft_console()
        console.print(f"{PIECE_LABELS[piece.kind]} ({escape(file.name)}) : {STATUT_WORDS[piece.statut]}")
        _print_findings(console, piece.findings)
    _exit_for(piece.statut)


@dossier.command("show")
@click.argument("dossier_id")
@json_option
def dossier_show(dossier_id: str, as_json: bool) -> None:
    """Affiche les pièces du dossier, celles qui manquent et son état."""
    from dossiers.bootstrap import App
    from dossiers.services.validation import view_dossier

    with App(settings()) as app:
        view = view_dossier(dossier_id, app)
    _show(view, as_json)


@dossier.command("rapport")
@click.argument("dossier_id")
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Fichier PDF à écrire (défaut : rapport-<dossier>.pdf).")
@json_option
def dossier_rapport(dossier_id: str, out: Path | None, as_json: bool) -> None:
    """Écrit le rapport de contrôle PDF du dossier."""
    from dossiers.bootstrap import App
    from dossiers.services.validation import rapport_dossier

    out = out or Path(f"rapport-{dossier_id}.pdf")
    with App(settings()) as app:
        rapport = rapport_dossier(dossier_id, app, now=app.clock.now())
    out.write_bytes(rapport.pdf)
    if as_json:
        click.echo(json.dumps({"dossier_id": dossier_id, "status": str(rapport.view.statut), "pdf": str(out),
                               "empreinte": rapport.empreinte}, ensure_ascii=False))
    else:
        click.echo(f"Rapport de contrôle du dossier {dossier_id} : {out} (empreinte {rapport.empreinte})")


def _show(view: DossierView, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(view.to_dict(), ensure_ascii=False))
        return
    d = view.dossier
    console = soft_console()
    console.print(f"Dossier {escape(d.id)} — {escape(d.denomination)} (SIRET {d.siret}, {d.nature}) : "
                  f"{DOSSIER_WORDS[view.statut]}")
    etats = {Statut.VALIDE: "valide", Statut.INVALIDE: "invalide", Statut.A_VERIFIER: "à vérifier"}
    rows = [(p.label, p.filename or "",
             etats[p.statut], " ; ".join(f"{f.message} ({f.code})" for f in p.findings))
            for p in view.courantes + view.extra]
    rows += [(r.label, "", "manquante", "") for r in view.manquantes]
    print_table(["Pièce", Colonne("Fichier", cle=True), "État", "Constats"], rows)
