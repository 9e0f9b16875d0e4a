"""Which variables a template uses, and the manifest that records them.

``template_variables`` walks the Jinja syntax tree of a prepared template and returns dotted
paths (``structure.denomination``, ``postes[].conseiller``). ``templates/manifest.toml`` lists the
same paths per template with the template's version; tests fail when a template and its manifest
disagree or when the context builder does not provide a path.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import nodes

from dossiers.adapters.docx.renderer import PreparedTemplate, jinja_environment
from dossiers.errors import ErrorCode, TemplateError

__all__ = ["TemplateInfo", "load_manifest", "template_variables", "source_variables", "missing_paths", "render_manifest"]


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    fichier: str
    version: str
    variables: tuple[str, ...]


def load_manifest(templates_dir: Path) -> dict[str, TemplateInfo]:
    path = templates_dir / "manifest.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(f"manifeste des modèles introuvable : {path}", code=ErrorCode.MODELE_ABSENT) from None
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{path} n'est pas un TOML valide : {exc}") from exc
    infos = {}
    for name, entry in data.items():
        try:
            infos[name] = TemplateInfo(name, entry["fichier"], entry["version"], tuple(entry["variables"]))
        except (KeyError, TypeError) as exc:
            raise TemplateError(f"{path} : entrée [{name}] incomplète ({exc})") from exc
    return infos


def _path_of(node: nodes.Node, scope: Mapping[str, str]) -> str | None:
    if isinstance(node, nodes.Name):
        return scope.get(node.name, node.name)
    if isinstance(node, nodes.Getattr):
        base = _path_of(node.node, scope)
        return f"{base}.{node.attr}" if base else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        base = _path_of(node.node, scope)
        return f"{base}.{node.arg.value}" if base else None
    return None


def _walk(node: nodes.Node, scope: dict[str, str], found: set[str]) -> None:
    if isinstance(node, nodes.For):
        _walk(node.iter, scope, found)
        iterated = _path_of(node.iter, scope)
        inner = dict(scope)
        if iterated and isinstance(node.target, nodes.Name):
            inner[node.target.name] = f"{iterated}[]"
        inner["loop"] = ""  # Jinja's loop helper is not a context variable
        for child in (*node.body, *node.else_):
            _walk(child, inner, found)
        if node.test is not None:
            _walk(node.test, inner, found)
        return
    if isinstance(node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
        path = _path_of(node, scope)
        if path:
            found.add(path)
            return
        if path == "":  # rooted at `loop`
            return
    for child in node.iter_child_nodes():
        _walk(child, scope, found)


def template_variables(template: PreparedTemplate) -> set[str]:
    """Dotted paths of every context value the template reads."""
    return source_variables(template.sources.values())


def source_variables(sources: Iterable[str]) -> set[str]:
    """Dotted paths of every context value these Jinja sources read (they must parse)."""
    env = jinja_environment()
    found: set[str] = set()
    for source in sources:
        _walk(env.parse(source), {}, found)
    return found


def _resolve(value: Any, parts: list[str]) -> bool:
    if not parts:
        return True
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        key = head[:-2]
        items = value.get(key) if isinstance(value, Mapping) else None
        if not isinstance(items, list):
            return False
        return all(_resolve(item, rest) for item in items)
    return isinstance(value, Mapping) and head in value and _resolve(value[head], rest)


def missing_paths(paths: Iterable[str], context: Mapping[str, Any]) -> list[str]:
    """The paths a template reads that the context does not provide."""
    return sorted(p for p in paths if not _resolve(context, p.split(".")))


def render_manifest(entries: Mapping[str, tuple[str, str, Iterable[str]]]) -> str:
    """TOML text of a manifest: name -> (fichier, version, variables)."""
    lines = ["# Variables read by each template; regenerate with `conum templates manifest`.", ""]
    for name, (fichier, version, variables) in sorted(entries.items()):
        lines += [f"[{name}]", f'fichier = "{fichier}"', f'version = "{version}"', "variables = ["]
        lines += [f'  "{v}",' for v in sorted(variables)]
        lines += ["]", ""]
    return "\n".join(lines)
