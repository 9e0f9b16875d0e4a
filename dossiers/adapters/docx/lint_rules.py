"""The rules a template must follow, checked on its outline: pure functions, no file read.

Each check takes what ``outline.read_outline`` and docxtpl's clean-up give (paragraphs, tables,
styles, Jinja sources) and returns :class:`Constat` values: where (« paragraphe 57 », « tableau 2,
ligne 3, cellule 1 »), a stable :class:`LintCode` and a French message for the legal service.

Article numbers are plain text, checked here rather than computed by Word fields: a SEQ field
inside a ``{%p if %}`` branch that docxtpl removes would leave a hole LibreOffice does not always
renumber at conversion, while a checked number is what the reader and the PDF show. So:
« Article N — Titre » and « Annexe N — Titre » headings (Heading 1) run 1..n in order; a run-in
sub-article « N.M » belongs to article N and runs 1..k; every « article N », « articles 6, 9 et
10 », « article 6.3 », « annexe 1 » names a heading or sub-article that exists — of the document
itself, or of the convention when followed by « de la convention » (avenants); references to
another text (« de la loi », « du code », « son article 10 ») are not ours to check. A REF field
must point to a bookmark that exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import jinja2

from dossiers.adapters.docx.manifest import source_variables
from dossiers.adapters.docx.outline import Outline, Paragraph
from dossiers.adapters.docx.renderer import jinja_environment

__all__ = ["Constat", "LintCode", "REQUIRED_STYLES", "Numbering", "check_jinja", "check_numbering",
           "check_references", "check_styles", "check_tables", "check_tags", "check_variables", "numbering"]

REQUIRED_STYLES = ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Liste à tirets", "Note", "Balise",
                   "Texte tableau", "En-tête tableau", "Footer")


class LintCode(StrEnum):
    """Stable codes of the lint's findings (scripts match on them; messages may change)."""

    MODELE_ILLISIBLE = "modele_illisible"
    HORS_MANIFESTE = "hors_manifeste"
    BALISE_COUPEE = "balise_coupee"
    BALISE_INCOMPLETE = "balise_incomplete"
    SYNTAXE_JINJA = "syntaxe_jinja"
    VARIABLE_INCONNUE = "variable_inconnue"
    VARIABLE_MANQUANTE = "variable_manquante"
    STYLE_ABSENT = "style_absent"
    STYLE_INCONNU = "style_inconnu"
    BALISE_PARAGRAPHE_ACCOMPAGNEE = "balise_paragraphe_accompagnee"
    BALISE_LIGNE_HORS_TABLEAU = "balise_ligne_hors_tableau"
    BALISE_LIGNE_ACCOMPAGNEE = "balise_ligne_accompagnee"
    LIGNES_REPETEES_DESEQUILIBREES = "lignes_repetees_desequilibrees"
    TABLEAU_IRREGULIER = "tableau_irregulier"
    TITRE_MAL_FORME = "titre_mal_forme"
    NUMEROTATION = "numerotation"
    RENVOI_INCONNU = "renvoi_inconnu"
    RENVOI_CHAMP_ORPHELIN = "renvoi_champ_orphelin"
    PROJECTION_PERIMEE = "projection_perimee"


@dataclass(frozen=True)
class Constat:
    lieu: str
    code: LintCode
    message: str


_TAG = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_OPEN = re.compile(r"{[{%#]")
_HEADING = re.compile(r"^(Article|Annexe)\s+(\d+)\s*[—–-]\s*\S")
_SUB = re.compile(r"^\s*(\d+)\.(\d+)\.?\s")
_NUM = r"\d+(?:\.\d+)?(?:\s*\([^)]*\))?"
_REFERENCE = re.compile(rf"\b(?P<mot>[Aa]rticles?|[Aa]nnexes?)\s+(?P<liste>{_NUM}(?:\s*(?:,|et|ou)\s*{_NUM})*)")
_ELSEWHERE = re.compile(r"^\s*,?\s*(?:de la loi|du décret|du code|du règlement|du RGPD|de l'ordonnance|"
                        r"de la directive|, paragraphe|paragraphe)")
_POSSESSIVE = re.compile(r"\b(?:son|sa|ses|leur|leurs)\s+$")
# « de la convention » right after, or after more references joined to this one (« l'annexe 1 (…) et
# l'annexe 2 (…) de la convention »)
_OF_CONVENTION = re.compile(rf"^(?:\s*(?:,|et|ou)\s*(?:l'|les\s+)?(?:[Aa]rticles?|[Aa]nnexes?)\s+{_NUM})*"
                            r"\s*de la convention\b")


def _extrait(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"« {text[:limit]}{'…' if len(text) > limit else ''} »"


def check_tags(paragraphs: Iterable[Paragraph]) -> list[Constat]:
    """Each Jinja tag whole in one run, closed in its paragraph; {%p %} alone in its paragraph and
    {%tr %} alone in a table row."""
    found: list[Constat] = []
    rows: dict[tuple[int, int], list[Paragraph]] = {}
    for p in paragraphs:
        if p.table is not None and p.row is not None:
            rows.setdefault((p.table, p.row), []).append(p)
        text = p.text
        bounds, at = set(), 0
        for run in p.runs[:-1]:
            at += len(run)
            bounds.add(at)
        tags = list(_TAG.finditer(text))
        for tag in tags:
            if any(tag.start() < b < tag.end() for b in bounds):
                found.append(Constat(p.lieu, LintCode.BALISE_COUPEE,
                                     f"la balise {_extrait(tag.group(0))} est coupée entre des morceaux de texte de "
                                     "mise en forme différente : sélectionnez-la et donnez-lui une seule mise en forme "
                                     "(ou retapez-la d'un seul tenant)"))
        rest = _TAG.sub("", text)
        if _OPEN.search(rest) or "}}" in rest or "%}" in rest:
            found.append(Constat(p.lieu, LintCode.BALISE_INCOMPLETE,
                                 f"balise ouverte sans fermeture (ou l'inverse) dans {_extrait(text)} : chaque « {{{{ » "
                                 "se ferme par « }} » et chaque « {% » par « %} » dans le même paragraphe"))
        for tag in tags:
            body = tag.group(0)
            if body.startswith("{%p ") and text.strip() != body:
                found.append(Constat(p.lieu, LintCode.BALISE_PARAGRAPHE_ACCOMPAGNEE,
                                     f"la balise {_extrait(body)} doit être seule dans son paragraphe : le reste "
                                     f"({_extrait(text.replace(body, ''))}) disparaîtrait au rendu"))
            if body.startswith("{%tr ") and p.table is None:
                found.append(Constat(p.lieu, LintCode.BALISE_LIGNE_HORS_TABLEAU,
                                     f"la balise {_extrait(body)} répète une ligne de tableau : elle doit être dans "
                                     "une ligne de tableau"))
    for (_table, _row), cells in rows.items():
        row_text = "".join(p.text for p in cells)
        for tag in _TAG.finditer(row_text):
            if tag.group(0).startswith("{%tr ") and row_text.strip() != tag.group(0):
                found.append(Constat(cells[0].lieu.rsplit(",", 1)[0], LintCode.BALISE_LIGNE_ACCOMPAGNEE,
                                     f"la balise {_extrait(tag.group(0))} doit être seule dans sa ligne : le reste "
                                     "de la ligne disparaîtrait au rendu"))
    return found


def check_tables(outline: Outline) -> list[Constat]:
    """Rows that cover the table's grid; {%tr for/if %} and their end in the same table."""
    found: list[Constat] = []
    for table in outline.tables:
        for r, covered in enumerate(table.rows, 1):
            if covered != table.columns:
                found.append(Constat(f"tableau {table.numero}, ligne {r}", LintCode.TABLEAU_IRREGULIER,
                                     f"la ligne couvre {covered} colonne(s) sur {table.columns} : fusionnez ou "
                                     "scindez ses cellules pour qu'elle couvre toute la largeur du tableau"))
        text = " ".join(p.text for p in outline.paragraphs if p.table == table.numero)
        for opening, closing in (("for", "endfor"), ("if", "endif")):
            opened = len(re.findall(rf"{{%tr\s+{opening}\b", text))
            closed = len(re.findall(rf"{{%tr\s+{closing}\b", text))
            if opened != closed:
                found.append(Constat(f"tableau {table.numero}", LintCode.LIGNES_REPETEES_DESEQUILIBREES,
                                     f"{opened} « {{%tr {opening} … %}} » pour {closed} « {{%tr {closing} %}} » : "
                                     "chaque ligne répétée s'ouvre et se ferme dans le même tableau"))
    return found


def check_styles(outline: Outline, defined: Iterable[str], required: Iterable[str] = REQUIRED_STYLES) -> list[Constat]:
    """The house styles are defined in the file (``defined``: their names, used or not); every style
    a paragraph or run names exists."""
    names = {name.lower() for name in defined}
    found = [Constat("styles", LintCode.STYLE_ABSENT,
                     f"le style « {name} » n'existe plus dans le document : recréez-le (ou copiez-le d'un autre "
                     "modèle) plutôt que de mettre en forme à la main")
             for name in required if name.lower() not in names]
    seen: set[tuple[str, str]] = set()
    for lieu, style_id in outline.unknown_styles:
        if (lieu, style_id) not in seen:
            seen.add((lieu, style_id))
            found.append(Constat(lieu, LintCode.STYLE_INCONNU,
                                 f"le style « {style_id} » n'est pas défini dans le document"))
    return found


def _error_line(source: str, lineno: int) -> str:
    lines = re.sub(r"<w:p([ >])", r"\n<w:p\1", source).splitlines()
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    return re.sub(r"<[^>]+>", "", line)


def check_jinja(sources: Mapping[str, str]) -> tuple[list[Constat], set[str]]:
    """Each part's Jinja parses (as PreparedTemplate compiles it); the variables it reads."""
    env: jinja2.Environment = jinja_environment()
    found: list[Constat] = []
    good = []
    for name, source in sources.items():
        try:
            env.parse(re.sub(r"<w:p([ >])", r"\n<w:p\1", source))
        except jinja2.TemplateSyntaxError as exc:
            where = "pied de page" if "footer" in name else "en-tête" if "header" in name else "corps"
            found.append(Constat(where, LintCode.SYNTAXE_JINJA,
                                 f"syntaxe des balises invalide ({exc.message}) vers {_extrait(_error_line(source, exc.lineno or 0))}"))
        else:
            good.append(source)
    return found, source_variables(good)


def check_variables(used: set[str], manifest: Iterable[str], paragraphs: Iterable[Paragraph]) -> list[Constat]:
    """Only the manifest's variables are read, and each of them still is."""
    known = set(manifest)
    texts = [(p.lieu, p.text) for p in paragraphs]
    found = []
    for path in sorted(used - known):
        leaf = path.rsplit(".", 1)[-1].removesuffix("[]")
        lieu = next((lieu for lieu, text in texts if re.search(rf"\b{re.escape(leaf)}\b", text)), "modèle")
        found.append(Constat(lieu, LintCode.VARIABLE_INCONNUE,
                             f"la variable « {path} » n'est pas au manifeste (templates/manifest.toml) : conum ne la "
                             "fournit pas ; vérifiez son orthographe"))
    for path in sorted(known - used):
        found.append(Constat("modèle", LintCode.VARIABLE_MANQUANTE,
                             f"la variable « {path} » du manifeste n'est plus utilisée : remettez-la, ou, si c'est "
                             "voulu, mettez le manifeste à jour (`conum templates manifest`)"))
    return found


@dataclass(frozen=True)
class Numbering:
    """The numbers a document gives its articles, sub-articles and annexes."""

    articles: frozenset[str]  # "3", "6.3"
    annexes: frozenset[str]


def check_numbering(paragraphs: Iterable[Paragraph]) -> list[Constat]:
    """Heading 1 « Article N — » / « Annexe N — » run 1..n; sub-articles N.M run 1..k in article N."""
    found: list[Constat] = []
    expected = {"Article": 1, "Annexe": 1}
    article, sub = 0, 0
    for p in paragraphs:
        text = p.text.strip()
        if p.style.lower() == "heading 1":
            match = _HEADING.match(text)
            if match is None:
                found.append(Constat(p.lieu, LintCode.TITRE_MAL_FORME,
                                     f"titre {_extrait(text)} : un titre 1 s'écrit « Article N — Titre » ou "
                                     "« Annexe N — Titre »"))
                continue
            kind, number = match.group(1), int(match.group(2))
            if number != expected[kind]:
                found.append(Constat(p.lieu, LintCode.NUMEROTATION,
                                     f"{kind} {number} au lieu de {kind} {expected[kind]} : les titres sont "
                                     "numérotés 1, 2, 3… dans l'ordre"))
            expected[kind] = number + 1
            article, sub = (number, 0) if kind == "Article" else (0, 0)
            continue
        match = _SUB.match(text)
        if match is None or article == 0 or p.table is not None:
            continue
        major, minor = int(match.group(1)), int(match.group(2))
        if major != article or minor not in (sub, sub + 1):
            found.append(Constat(p.lieu, LintCode.NUMEROTATION,
                                 f"sous-article {major}.{minor} dans l'article {article} après {article}.{sub} : "
                                 f"attendu {article}.{sub + 1}"))
        sub = max(sub, minor) if major == article else sub
    return found


def numbering(paragraphs: Iterable[Paragraph]) -> Numbering:
    articles: set[str] = set()
    annexes: set[str] = set()
    current = ""
    for p in paragraphs:
        text = p.text.strip()
        if p.style.lower() == "heading 1" and (match := _HEADING.match(text)):
            target = articles if match.group(1) == "Article" else annexes
            target.add(match.group(2))
            current = match.group(2) if match.group(1) == "Article" else ""
        elif current and p.table is None and (sub := _SUB.match(text)) and sub.group(1) == current:
            articles.add(f"{sub.group(1)}.{sub.group(2)}")
    return Numbering(frozenset(articles), frozenset(annexes))


def check_references(outline: Outline, own: Numbering, convention: Numbering | None) -> list[Constat]:
    """Every « article N » / « annexe N » names an existing heading (or sub-article); REF fields
    name an existing bookmark. ``convention``: the numbering « de la convention » refers to (None:
    the document is the convention, those references are its own)."""
    found: list[Constat] = []
    for p in outline.paragraphs:
        if p.style.lower() == "heading 1":
            continue
        text = p.text.replace("\u00a0", " ").replace("\u2019", "'")
        for match in _REFERENCE.finditer(text):
            before, after = text[:match.start()], text[match.end():]
            if _POSSESSIVE.search(before) or _ELSEWHERE.match(after):
                continue
            target, whose = own, "du document"
            if _OF_CONVENTION.match(after) and convention is not None:
                target, whose = convention, "de la convention"
            numbers = re.findall(r"\d+(?:\.\d+)?", re.sub(r"\([^)]*\)", "", match.group("liste")))
            pool = target.articles if match.group("mot").lower().startswith("article") else target.annexes
            for number in numbers:
                if number not in pool:
                    found.append(Constat(p.lieu, LintCode.RENVOI_INCONNU,
                                         f"{match.group('mot').lower().rstrip('s')} {number} cité dans {_extrait(text)} : "
                                         f"aucun titre {whose} ne porte ce numéro"))
        for instruction in p.fields:
            words = instruction.split()
            if len(words) > 1 and words[0].upper() in ("REF", "PAGEREF") and words[1] not in outline.bookmarks:
                found.append(Constat(p.lieu, LintCode.RENVOI_CHAMP_ORPHELIN,
                                     f"le champ de renvoi « {instruction.strip()} » vise le signet « {words[1]} », "
                                     "absent du document"))
    return found
