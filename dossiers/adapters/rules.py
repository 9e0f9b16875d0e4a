"""Reads rule sets from ``config/rules/<id>.toml``: the file name is the rule set's id.

Two kinds of files live there: baremes (amounts per poste, ``get``/``for_vague``) and management
rules (``type = "gestion"``, no amounts, ``gestion``). Asking for one as the other is a clear
``RulesError``, never a half-read rule set.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from dossiers.domain.gestion import TYPE_GESTION, ReglesGestion
from dossiers.domain.rules import RuleSet
from dossiers.errors import ErrorCode, RulesError

__all__ = ["RulesRepository"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class RulesRepository:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, RuleSet] = {}
        self._gestion: dict[str, ReglesGestion] = {}
        self._gestions: list[ReglesGestion] | None = None

    def ids(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.toml"))

    def _load(self, rule_id: str) -> dict[str, Any]:
        if not _ID.match(rule_id):
            raise RulesError(
                f"identifiant de jeu de règles invalide : {rule_id!r}", code=ErrorCode.REGLES_INTROUVABLES
            )
        path = self.directory / f"{rule_id}.toml"
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            known = ", ".join(self.ids()) or "aucun"
            raise RulesError(
                f"jeu de règles « {rule_id} » introuvable dans {self.directory} (disponibles : {known})",
                code=ErrorCode.REGLES_INTROUVABLES,
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise RulesError(f"{path} n'est pas un TOML valide : {exc}") from exc

    def get(self, rule_id: str) -> RuleSet:
        """The bareme ``rule_id`` (amounts per poste per convention year)."""
        if rule_id in self._cache:
            return self._cache[rule_id]
        data = self._load(rule_id)
        if data.get("type") == TYPE_GESTION:
            raise RulesError(
                f"« {rule_id} » contient des règles de gestion, pas un barème de montants : "
                "lisez-le avec RulesRepository.gestion",
                code=ErrorCode.REGLES_INVALIDES,
            )
        rules = RuleSet.from_mapping(rule_id, data)
        self._cache[rule_id] = rules
        return rules

    def gestion(self, rule_id: str) -> ReglesGestion:
        """The management rules ``rule_id`` (``type = "gestion"``, e.g. ``regles-2025-05``)."""
        if rule_id in self._gestion:
            return self._gestion[rule_id]
        rules = ReglesGestion.from_mapping(rule_id, self._load(rule_id))
        self._gestion[rule_id] = rules
        return rules

    def gestions(self) -> list[ReglesGestion]:
        """Every set of management rules in the directory (``type = "gestion"``), the oldest first."""
        if self._gestions is None:
            found = [self.gestion(i) for i in self.ids() if self._load(i).get("type") == TYPE_GESTION]
            self._gestions = sorted(found, key=lambda r: r.date_application)
        return list(self._gestions)

    def for_vague(self, vague: int) -> RuleSet:
        return self.get(f"vague-{vague}")
