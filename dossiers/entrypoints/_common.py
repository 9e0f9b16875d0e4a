"""What the commands share: settings, reading a demande, exit codes, printing an error."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from dossiers.entrypoints._console import JOUR  # importing _console first puts Click in French
from dossiers.errors import ChangementRefuse, ConumError, DemandeInvalide, ErrorCode, Kind, policy_of
from dossiers.settings import ROOT, Settings, SettingsError

__all__ = ["JOUR", "EXAMPLES", "EXIT_REFUSED", "EXIT_USAGE", "EXIT_FAILED", "exit_code", "settings",
           "read_demande", "fail", "fail_by_kind"]

MAX_DEMANDE_BYTES = 1_000_000
EXAMPLES = ROOT / "examples" / "demandes"
EXIT_REFUSED, EXIT_USAGE, EXIT_FAILED = 1, 2, 3
# README, « La commande conum » : 1 the request is refused (its input, or something it names that does not
# exist or no longer accepts it), 3 the service failed (an outage, or a defect someone must fix: the code
# in --json tells them apart), 2 bad usage (Click's, before anything runs).
_EXIT = {Kind.REFUS: EXIT_REFUSED, Kind.TRANSITOIRE: EXIT_FAILED, Kind.DEFAUT: EXIT_FAILED}


def exit_code(error: ConumError | str) -> int:
    """The exit code of an error, or of an error code (a job's recorded ``error.code``): its kind's
    (``dossiers.errors.POLICY``), 2 for ``usage``."""
    code = error.code if isinstance(error, ConumError) else error
    return EXIT_USAGE if code == ErrorCode.USAGE else _EXIT[policy_of(code).kind]


def settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def read_demande(path: Path, *, code: ErrorCode = ErrorCode.DEMANDE_INVALIDE) -> dict[str, Any]:
    """The JSON of a file a person gives: a demande, or with ``code`` a change (``changement_invalide``) or a
    poste's event (``evenement_invalide``). A file that is not JSON is refused with that code, the reason in
    ``erreurs``; a file that cannot be read is bad usage."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise click.UsageError(f"impossible de lire {path} : {exc.strerror}") from exc
    if len(raw) > MAX_DEMANDE_BYTES:
        raise _refus(code, "trop_volumineux", f"le fichier dépasse {MAX_DEMANDE_BYTES} octets")
    kind = next((label for magic, label in _NOT_JSON if raw.startswith(magic)), None)
    if kind is not None:
        raise _refus(code, "type_non_accepte", f"{path.name} est un {kind}, pas un fichier JSON : "
                     "donnez la demande (ou la modification) au format JSON")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refus(code, "utf8_invalide", f"{path.name} n'est pas du texte UTF-8 (octet invalide "
                     f"à la position {exc.start}) : un fichier JSON est attendu") from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _refus(code, "json_invalide", f"JSON illisible dans {path.name}, ligne {exc.lineno}, "
                     f"colonne {exc.colno}") from exc
    return payload


def _refus(code: ErrorCode, champ_code: str, message: str) -> ConumError:
    """A file refused as a demande (``DemandeInvalide``), or as a change or an event (``ChangementRefuse``
    with ``code``): the same message, the reason as a field error."""
    refus = DemandeInvalide.single("", champ_code, message)
    return refus if code is ErrorCode.DEMANDE_INVALIDE else ChangementRefuse(refus.message, code=code,
                                                                             errors=refus.errors)


# What people give by mistake instead of JSON: named in French, like the API's 415 (api/routes).
_NOT_JSON = ((b"PK\x03\x04", "document Word (DOCX) ou une archive ZIP"), (b"%PDF-", "document PDF"),
             (b"\xd0\xcf\x11\xe0", "document Word ancien (DOC)"), (b"\x89PNG", "image PNG"),
             (b"\xff\xd8\xff", "image JPEG"))


def fail(exc: ConumError, as_json: bool, exit_code: int) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
    else:
        click.echo(f"conum : {exc.message}", err=True)
    sys.exit(exit_code)


def fail_by_kind(exc: ConumError, as_json: bool) -> NoReturn:
    """:func:`fail` with the exit code the error's kind gives (:func:`exit_code`)."""
    fail(exc, as_json, exit_code(exc))
