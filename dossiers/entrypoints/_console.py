"""What every ``conum`` command shares to speak to a person or a script in one voice.

- **French Click.** Click marks its own strings (usage errors, ``--help`` headings, "Show this message
  and exit.") with ``gettext``/``ngettext`` imported into each of its modules; :func:`install_french`
  gives those modules a translator backed by :data:`CLICK_FR` (English msgid -> French, same
  placeholders). It runs when this module is first imported (before any command is declared: Click
  evaluates some of its strings then), so ``CliRunner`` and the real command read the same French;
  :func:`franciser` then gives every command and parameter of a tree French metavars (``[OPTIONS]``,
  ``TEXT``, ``FILE``…). A msgid Click adds later stays English: ``tests/e2e/test_cli_walk.py``
  looks for Click's English strings in every command's output.
- **Dates.** :data:`JOUR` reads ``AAAA-MM-JJ`` into a ``date`` with a French refusal.
- **Old option names.** :func:`anciens_noms` keeps a renamed option's old spelling working, hidden
  from ``--help`` and with one line on stderr, for one release.
- **Tables that never cut.** :func:`print_table`: on a terminal, a rich table whose key columns never
  wrap nor shorten (the terminal may scroll); when stdout is a pipe or a file, plain TSV (a header line,
  then one line per row, tab-separated): every id, key and amount whole, ready for ``cut``/``awk``.
  With ``--json`` a command prints one object instead (:func:`print_json`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import click

__all__ = ["CLICK_FR", "install_french", "franciser", "console", "lisible", "print_lines", "JOUR", "anciens_noms", "Colonne", "print_table", "print_json",
           "json_option", "is_terminal", "moment"]

# Click's msgids (8.1 to 8.3 spell some of them differently: both are here) and their French.
CLICK_FR: dict[str, str] = {
    "Usage:": "Utilisation :",
    "Options": "Options",
    "Positional arguments": "Arguments",
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}":
        "Attention : la commande {name!r} est obsolète.{extra_message}",
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}":
        "Attention : {param_type} {name!r} est obsolète.{extra_message}",
    "Commands": "Commandes",
    "Show this message and exit.": "Affiche cette aide et quitte.",
    "Show the version and exit.": "Affiche la version et quitte.",
    "Error: {message}": "Erreur : {message}",
    "Try '{command} {option}' for help.": "Essayez « {command} {option} » pour l'aide.",
    "Missing argument": "Argument manquant",
    "Missing option": "Option manquante",
    "Missing parameter": "Paramètre manquant",
    "Missing parameter: {param_name}": "Paramètre manquant : {param_name}",
    "Missing {param_type}": "{param_type} manquant(e)",
    "Missing command.": "Commande manquante.",
    "No such option: {name}": "Option inconnue : {name}",
    "No such option {name!r}.": "Option inconnue : {name!r}.",
    "No such command {name!r}.": "Commande inconnue : {name!r}.",
    "No such command '{name}'.": "Commande inconnue : '{name}'.",
    "Did you mean {possibility}?": "Vouliez-vous dire {possibility} ?",
    "(Possible options: {possibilities})": "(options possibles : {possibilities})",
    "Invalid value: {message}": "Valeur invalide : {message}",
    "Invalid value for {param_hint}: {message}": "Valeur invalide pour {param_hint} : {message}",
    "Could not open file {filename!r}: {message}": "Impossible d'ouvrir le fichier {filename!r} : {message}",
    "unknown error": "erreur inconnue",
    "Aborted!": "Interrompu.",
    "Value must be an iterable.": "La valeur doit être une liste.",
    "required": "obligatoire",
    "default: {default}": "défaut : {default}",
    "env var: {var}": "variable d'environnement : {var}",
    "(dynamic)": "(dynamique)",
    "deprecated": "obsolète",
    "file": "fichier",
    "directory": "dossier",
    "path": "chemin",
    "Choose from:\n\t{choices}": "Choisir parmi :\n\t{choices}",
    "{value!r} is not a valid {number_type}.": "{value!r} n'est pas un {number_type} valide.",
    "{value} is not in the range {range}.": "{value} n'est pas dans l'intervalle {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}":
        "{value!r} n'est pas un booléen. Valeurs reconnues : {states}",
    "{value!r} is not a valid boolean.": "{value!r} n'est pas un booléen.",
    "{value!r} is not a valid UUID.": "{value!r} n'est pas un UUID valide.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} introuvable.",
    "{name} {filename!r} is a file.": "{name} {filename!r} est un fichier.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} est un dossier.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} illisible (droits).",
    "{name} {filename!r} is not writable.": "{name} {filename!r} non modifiable (droits).",
    "{name} {filename!r} is not executable.": "{name} {filename!r} non exécutable.",
    "{name} '{filename}' does not exist.": "{name} '{filename}' introuvable.",
    "{name} '{filename}' is a file.": "{name} '{filename}' est un fichier.",
    "{name} '{filename}' is a directory.": "{name} '{filename}' est un dossier.",
    "Invalid start character for option ({option})": "Caractère initial invalide pour une option ({option})",
    "Option {name!r} does not take a value.": "L'option {name!r} ne prend pas de valeur.",
    "Option '{name}' does not take a value.": "L'option '{name}' ne prend pas de valeur.",
    "Argument {name!r} takes {nargs} values.": "L'argument {name!r} prend {nargs} valeurs.",
    "Do you want to continue?": "Voulez-vous continuer ?",
    "Confirm the action without prompting.": "Confirme l'action sans la demander.",
    "Press any key to continue...": "Appuyez sur une touche pour continuer…",
    "Repeat for confirmation": "Répétez pour confirmer",
    "Error: The two entered values do not match.": "Erreur : les deux valeurs saisies diffèrent.",
    "Error: invalid input": "Erreur : saisie invalide",
}
# (singular, plural) msgids -> (singular, plural) French.
CLICK_FR_N: dict[tuple[str, str], tuple[str, str]] = {
    ("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"):
        ("Argument en trop : {args}", "Arguments en trop : {args}"),
    ("{value!r} is not {choice}.", "{value!r} is not one of {choices}."):
        ("{value!r} n'est pas {choice}.", "{value!r} n'est pas l'une des valeurs {choices}."),
    ("{value!r} does not match the format {format}.", "{value!r} does not match the formats {formats}."):
        ("{value!r} ne correspond pas au format {format}.", "{value!r} ne correspond à aucun des formats {formats}."),
    ("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"):
        ("Vouliez-vous dire {possibility} ?", "(Vouliez-vous dire : {possibilities} ?)"),
    ("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."):
        ("L'option {name!r} demande une valeur.", "L'option {name!r} demande {nargs} valeurs."),
    ("Option '{name}' requires an argument.", "Option '{name}' requires {nargs} arguments."):
        ("L'option '{name}' demande une valeur.", "L'option '{name}' demande {nargs} valeurs."),
    ("Takes {nargs} values but 1 was given.", "Takes {nargs} values but {len} were given."):
        ("Prend {nargs} valeurs mais 1 a été donnée.", "Prend {nargs} valeurs mais {len} ont été données."),
    ("{len_type} values are required, but {len_value} was given.",
     "{len_type} values are required, but {len_value} were given."):
        ("{len_type} valeurs sont exigées, {len_value} a été donnée.",
         "{len_type} valeurs sont exigées, {len_value} ont été données."),
}
_CLICK_MODULES = ("core", "exceptions", "types", "parser", "formatting", "decorators", "termui", "utils")


def _gettext(message: str) -> str:
    return CLICK_FR.get(message, message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    fr = CLICK_FR_N.get((singular, plural))
    if fr is None:
        return singular if n == 1 else plural
    return fr[0] if n == 1 else fr[1]


def install_french() -> None:
    """Route Click's ``gettext``/``ngettext`` through :data:`CLICK_FR` (idempotent, process-wide)."""
    import importlib

    for name in _CLICK_MODULES:
        module = importlib.import_module(f"click.{name}")
        if hasattr(module, "_"):
            module._ = _gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = _ngettext  # type: ignore[attr-defined]


_METAVARS = {"text": "TEXTE", "integer": "ENTIER", "integer range": "ENTIER", "float": "NOMBRE",
             "file": "FICHIER", "directory": "DOSSIER", "path": "CHEMIN", "boolean": "OUI|NON"}
_ARGUMENTS = {"file": "FICHIER", "signed": "COPIE_SIGNEE", "change": "MODIFICATION.json", "event": "EVENEMENT.json",
              "demande": "DEMANDE.json", "fichier": "FICHIER"}


def franciser(command: click.Command) -> None:
    """French metavars for ``command`` and everything under it (``conum --help`` and usage lines)."""
    command.options_metavar = "[OPTIONS]"
    if isinstance(command, click.Group):
        command.subcommand_metavar = "COMMANDE [ARGUMENTS]..."
        for sub in command.commands.values():
            franciser(sub)
    for param in command.params:
        if param.metavar is not None:
            continue
        if isinstance(param, click.Argument):
            param.metavar = _ARGUMENTS.get(param.name or "", (param.name or "").upper())
            if param.nargs == -1 or not param.required:
                param.metavar = f"[{param.metavar}]..." if param.nargs == -1 else f"[{param.metavar}]"
        elif isinstance(param, click.Option) and not param.is_flag and not isinstance(param.type, click.Choice):
            type_name = getattr(param.type, "name", "")
            if isinstance(param.type, click.Path):
                type_name = "directory" if not param.type.file_okay else "file" if not param.type.dir_okay else "path"
            param.metavar = _METAVARS.get(type_name, type_name.upper())


class _Jour(click.ParamType):
    """A calendar day written ``AAAA-MM-JJ``."""

    name = "AAAA-MM-JJ"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value.date() if isinstance(value, datetime) else value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"« {value} » n'est pas une date AAAA-MM-JJ (ex. 2025-01-15)", param, ctx)


JOUR = _Jour()


def anciens_noms(**renamed: str) -> Callable[[click.Command], click.Command]:
    """Decorator (above ``@click.command``): ``anciens_noms(rules="--regles")`` lets ``--rules`` still
    work as ``--regles`` (hidden from ``--help``), saying once on stderr that the name changed."""
    old = {f"--{k.replace('_', '-')}": v for k, v in renamed.items()}

    def wrap(command: click.Command) -> click.Command:
        parse = command.parse_args

        def parse_args(ctx: click.Context, args: list[str]) -> list[str]:
            out = []
            for arg in args:
                name, eq, value = arg.partition("=")
                if name in old:
                    click.echo(f"conum : {name} est remplacée par {old[name]} (l'ancien nom disparaîtra à la "
                               "prochaine version)", err=True)
                    arg = old[name] + eq + value
                out.append(arg)
            return parse(ctx, out)

        command.parse_args = parse_args  # type: ignore[method-assign]
        return command

    return wrap


def json_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--json``: one JSON object on stdout and nothing else."""
    return click.option("--json", "as_json", is_flag=True, help="Sortie JSON (un seul objet).")(function)


def console() -> Any:
    """A rich console for lines with colours: it never breaks a line (an id stays whole when piped)."""
    from rich.console import Console

    return Console(soft_wrap=True)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, default=str))


def is_terminal() -> bool:
    return sys.stdout.isatty()


@dataclass(frozen=True)
class Colonne:
    """A column: its title; ``cle`` for what a person copies (id, key, path, amount): never wrapped
    nor shortened; ``droite`` to right-align figures."""

    titre: str
    cle: bool = False
    droite: bool = False


def print_table(colonnes: Sequence[Colonne | str], rows: Iterable[Sequence[Any]], *, titre: str | None = None,
                console: Any = None) -> None:
    """Rows on a terminal as a rich table; piped or redirected, as TSV with a header line."""
    cols = [c if isinstance(c, Colonne) else Colonne(c) for c in colonnes]
    rows = [["" if v is None else str(v) for v in row] for row in rows]
    if not is_terminal() and console is None:
        if titre:
            click.echo(f"# {titre}")
        click.echo("\t".join(c.titre for c in cols))
        for row in rows:
            click.echo("\t".join(v.replace("\t", " ").replace("\n", " ") for v in row))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=titre)
    widths = [max([len(c.titre), *(len(row[i]) for row in rows)]) for i, c in enumerate(cols)]
    for c, width in zip(cols, widths):
        table.add_column(c.titre, no_wrap=c.cle or c.droite, overflow="fold", min_width=width if c.cle else None,
                         justify="right" if c.droite else "left")
    for row in rows:
        table.add_row(*(escape(v) for v in row))
    console = console or Console()
    # never narrower than the key columns need: the terminal may wrap a long line, a key is never cut
    needed = sum(w for c, w in zip(cols, widths) if c.cle or c.droite) + 12 * sum(
        1 for c in cols if not (c.cle or c.droite)) + 3 * len(cols) + 1
    if console.width < needed:
        console = Console(width=needed)
    console.print(table)


def moment(at: datetime, fmt: str) -> str:
    """An instant of the catalog (UTC) as a person in Paris reads it."""
    from datetime import UTC

    from dossiers.clock import PARIS

    return f"{(at.replace(tzinfo=UTC) if at.tzinfo is None else at).astimezone(PARIS):{fmt}}"


def print_lines(lines: Mapping[str, Any]) -> None:
    """``clé : valeur`` lines, values made readable (lists joined, booleans oui/non)."""
    for key, value in lines.items():
        click.echo(f"{key} : {lisible(value)}")


def lisible(value: Any) -> str:
    """A value as a person reads it: ``oui``/``non``, lists joined by ``, ``, nothing for None."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (list, tuple, set)):
        return ", ".join(lisible(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(f"{k} : {lisible(v)}" for k, v in value.items()) or "—"
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return str(value)


install_french()
