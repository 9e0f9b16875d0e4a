"""What the commands share: settings, reading a demande, exit codes, printing an error."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from dossiers.entrypoints._console import JOUR  # importing _console first puts Click in French
from dossiers.errors import ConumError, DemandeInvalide
from dossiers.settings import ROOT, Settings, SettingsError

__all__ = ["JOUR", "EXAMPLES", "EXIT_REFUSED", "EXIT_USAGE", "EXIT_FAILED", "settings", "read_demande", "fail"]

MAX_DEMANDE_BYTES = 1_000_000
EXAMPLES = ROOT / "examples" / "demandes"
EXIT_REFUSED, EXIT_USAGE, EXIT_FAILED = 1, 2, 3


def settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from exc


def read_demande(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise click.UsageError(f"impossible de lire {path} : {exc.strerror}") from exc
    if len(raw) > MAX_DEMANDE_BYTES:
        raise DemandeInvalide.single("", "trop_volumineux", f"le fichier dépasse {MAX_DEMANDE_BYTES} octets")
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DemandeInvalide.single("", "json_invalide", f"JSON illisible : {exc}") from exc
    return payload


def fail(exc: ConumError, as_json: bool, exit_code: int) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
    else:
        click.echo(f"conum : {exc.message}", err=True)
    sys.exit(exit_code)
