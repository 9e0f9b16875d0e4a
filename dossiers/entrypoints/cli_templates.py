"""``conum templates``: the .docx templates the legal service edits, their lint, text and manifest.

- ``check [PATH…]``: the lint (``adapters/docx/lint.py``); exit 0 when every template is good,
  1 with the findings (file, place, code, message), 2 for a path that does not exist.
- ``text [PATH…] [--check] [--stdout]``: the text projection beside each template
  (``convention.txt``), to read a wording change in a review; ``--stdout`` for git's textconv.
- ``manifest [--check]``: ``manifest.toml`` from the templates' variables.

Without PATH, the templates of the manifest of ``CONUM_TEMPLATES_DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from dossiers.entrypoints._common import EXIT_REFUSED, fail, settings
from dossiers.entrypoints._console import Colonne, json_option, print_json, print_table
from dossiers.errors import ConumError

__all__ = ["templates"]

_PATHS = click.argument("chemins", nargs=-1, metavar="[CHEMIN.docx]...",
                        type=click.Path(path_type=Path, exists=True, dir_okay=False))


def _default_paths() -> list[Path]:
    from dossiers.adapters.docx import load_manifest

    folder = settings().templates_dir
    return [folder / info.fichier for info in load_manifest(folder).values()]


@click.group()
def templates() -> None:
    """Modèles DOCX (source du texte juridique) : contrôle, projection texte, manifeste."""


@templates.command("check")
@_PATHS
@json_option
def templates_check(chemins: tuple[Path, ...], as_json: bool) -> None:
    """Contrôle les modèles : balises entières et valides, variables du manifeste, styles, tableaux,
    numérotation des articles et renvois, projection texte à jour (défaut : tous les modèles)."""
    from dossiers.adapters.docx.lint import lint_templates

    try:
        results = lint_templates(list(chemins) or _default_paths())
    except ConumError as exc:
        fail(exc, as_json, EXIT_REFUSED)
    findings = [f for found in results.values() for f in found]
    if as_json:
        print_json({"conforme": not findings, "fichiers": [str(p) for p in results],
                    "constats": [f.to_dict() for f in findings]})
    else:
        for path, found in results.items():
            click.echo(f"{path} : {'conforme' if not found else f'{len(found)} problème(s)'}")
        if findings:
            print_table(["Fichier", Colonne("Lieu", cle=True), Colonne("Code", cle=True), "Message"],
                        [(f.fichier, f.lieu, f.code, f.message) for f in findings], titre="À corriger")
    if findings:
        sys.exit(EXIT_REFUSED)


@templates.command("text")
@_PATHS
@click.option("--check", is_flag=True, help="Vérifie les projections sans les écrire (code 1 si l'une diffère).")
@click.option("--stdout", "to_stdout", is_flag=True,
              help="Affiche la projection au lieu de l'écrire (pour git diff : textconv).")
def templates_text(chemins: tuple[Path, ...], check: bool, to_stdout: bool) -> None:
    """Écrit à côté de chaque modèle sa projection texte (convention.docx -> convention.txt) : une ligne
    par paragraphe ou ligne de tableau, pour relire un changement de rédaction dans un diff."""
    from dossiers.adapters.docx.lint import projection, projection_path
    from dossiers.adapters.docx.outline import OutlineError

    stale = []
    for path in list(chemins) or _default_paths():
        try:
            text = projection(path)
        except OutlineError as exc:
            click.echo(f"conum : {path} : {exc}", err=True)
            sys.exit(EXIT_REFUSED)
        if to_stdout:
            click.echo(text, nl=False)
            continue
        target = projection_path(path)
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current == text:
            click.echo(f"{target} : à jour")
        elif check:
            stale.append(target)
            click.echo(f"{target} : ne correspond plus au modèle", err=True)
        else:
            target.write_text(text, encoding="utf-8")
            click.echo(f"{target} : écrit ({len(text.splitlines())} lignes)")
    if stale:
        click.echo("lancez `conum templates text` pour mettre les projections à jour", err=True)
        sys.exit(EXIT_REFUSED)


@templates.command("manifest")
@click.option("--check", is_flag=True, help="Vérifie le manifeste sans l'écrire (code 1 s'il diffère).")
def templates_manifest(check: bool) -> None:
    """Régénère templates/manifest.toml à partir des modèles."""
    from dossiers.adapters.docx import PreparedTemplate, load_manifest, render_manifest, template_variables

    folder = settings().templates_dir
    infos = load_manifest(folder)
    entries = {
        name: (info.fichier, info.version, template_variables(PreparedTemplate(folder / info.fichier)))
        for name, info in infos.items()
    }
    text = render_manifest(entries)
    path = folder / "manifest.toml"
    if check:
        if path.read_text(encoding="utf-8") != text:
            click.echo("le manifeste ne correspond plus aux modèles : lancez `conum templates manifest`", err=True)
            sys.exit(1)
        click.echo("manifeste à jour")
        return
    path.write_text(text, encoding="utf-8")
    click.echo(f"{path} écrit ({sum(len(e[2]) for e in entries.values())} variables)")
