"""Reads rule sets from ``config/rules/<id>.toml``: the file name is the rule set's id."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from dossiers.domain.rules import RuleSet
from dossiers.errors import ErrorCode, RulesError

__all__ = ["RulesRepository"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class RulesRepository:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._cache: dict[str, RuleSet] = {}

    def ids(self) -> list[str]:
        return sorted(p.stem for p in self.directory.glob("*.toml"))

    def get(self, rule_id: str) -> RuleSet:
        if rule_id in self._cache:
            return self._cache[rule_id]
        if not _ID.match(rule_id):
            raise RulesError(f"identifiant de jeu de règles invalide : {rule_id!r}", code=ErrorCode.REGLES_INTROUVABLES)
        path = self.directory / f"{rule_id}.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            known = ", ".join(self.ids()) or "aucun"
            raise RulesError(
                f"jeu de règles « {rule_id} » introuvable dans {self.directory} (disponibles : {known})",
                code=ErrorCode.REGLES_INTROUVABLES,
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise RulesError(f"{path} n'est pas un TOML valide : {exc}") from exc
        rules = RuleSet.from_mapping(rule_id, data)
        self._cache[rule_id] = rules
        return rules

    def for_vague(self, vague: int) -> RuleSet:
        return self.get(f"vague-{vague}")
