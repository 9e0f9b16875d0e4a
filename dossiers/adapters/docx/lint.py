"""``conum templates check``: the lint of the .docx templates, the source of the legal text.

:func:`lint_template` reads one template as conum renders it (normalised: ``normalise.py``),
then runs the rules of ``lint_rules`` on its outline and on docxtpl's Jinja sources, against the
manifest of its folder (``manifest.toml``: which variables it may read) and, for an avenant, the
numbering of ``convention.docx`` beside it (« article 6.3 de la convention »). When a text
projection sits beside the template (``convention.txt``), it must be the template's current one.

:func:`projection` gives that text (``conum templates text`` writes it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dossiers.adapters.docx import lint_rules as rules
from dossiers.adapters.docx.lint_rules import Constat, LintCode
from dossiers.adapters.docx.manifest import TemplateInfo, load_manifest
from dossiers.adapters.docx.normalise import normalise_docx
from dossiers.adapters.docx.outline import Outline, OutlineError, read_outline, style_names, text_projection
from dossiers.adapters.docx.renderer import patched_sources
from dossiers.errors import TemplateError

__all__ = ["Finding", "LintCode", "lint_template", "lint_templates", "projection", "projection_path"]

CONVENTION = "convention.docx"


@dataclass(frozen=True)
class Finding:
    """One thing to fix in one template."""

    fichier: str
    lieu: str
    code: LintCode
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"fichier": self.fichier, "lieu": self.lieu, "code": str(self.code), "message": self.message}


def _outline(path: Path) -> Outline:
    return read_outline(normalise_docx(path.read_bytes()))


def projection_path(path: Path) -> Path:
    return path.with_suffix(".txt")


def projection(path: Path) -> str:
    """The text projection of a template (:class:`OutlineError` when it is not a readable .docx)."""
    return text_projection(_outline(path))


def _manifest_entry(path: Path) -> tuple[TemplateInfo | None, list[Constat]]:
    try:
        infos = load_manifest(path.parent)
    except TemplateError as exc:
        return None, [Constat("manifeste", LintCode.HORS_MANIFESTE, exc.message)]
    entry = next((info for info in infos.values() if info.fichier == path.name), None)
    if entry is None:
        return None, [Constat("manifeste", LintCode.HORS_MANIFESTE,
                              f"{path.name} n'a pas d'entrée dans {path.parent / 'manifest.toml'} : ajoutez-la "
                              "(fichier, version, variables) pour que conum sache ce qu'il lit")]
    return entry, []


def _convention_numbering(path: Path) -> rules.Numbering | None:
    sibling = path.parent / CONVENTION
    if path.name == CONVENTION or not sibling.is_file():
        return None
    try:
        return rules.numbering(_outline(sibling).paragraphs)
    except OutlineError:
        return None


def lint_template(path: Path) -> list[Finding]:
    """Every finding of one template (nothing: the template is good to use)."""
    try:
        raw = path.read_bytes()
        data = normalise_docx(raw)
        outline = read_outline(data)
        sources = patched_sources(data, path.name)
    except (OutlineError, TemplateError) as exc:
        message = exc.message if isinstance(exc, TemplateError) else str(exc)
        return [Finding(path.name, "fichier", LintCode.MODELE_ILLISIBLE, message)]
    found = rules.check_tags(outline.paragraphs) + rules.check_tables(outline) + rules.check_styles(outline, style_names(raw))
    syntax, used = rules.check_jinja(sources)
    found += syntax
    entry, manifest = _manifest_entry(path)
    found += manifest
    if entry is not None and not syntax:
        found += rules.check_variables(used, entry.variables, outline.paragraphs)
    found += rules.check_numbering(outline.paragraphs)
    found += rules.check_references(outline, rules.numbering(outline.paragraphs), _convention_numbering(path))
    text = projection_path(path)
    if text.is_file() and text.read_text(encoding="utf-8") != text_projection(outline):
        found.append(Constat("projection", LintCode.PROJECTION_PERIMEE,
                             f"{text.name} ne correspond plus au modèle : lancez `conum templates text` et joignez "
                             "le fichier mis à jour à la relecture"))
    return [Finding(path.name, c.lieu, c.code, c.message) for c in found]


def lint_templates(paths: Iterable[Path]) -> dict[Path, list[Finding]]:
    return {path: lint_template(path) for path in paths}
