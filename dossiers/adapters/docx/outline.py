"""What a template says, read from its XML: paragraphs with their style and runs, tables, styles.

:func:`read_outline` turns the bytes of a (normalised) .docx into an :class:`Outline`, the plain
values the lint (``lint_rules``) checks and :func:`text_projection` prints. Paragraphs come in
reading order: the body (paragraphs of tables included, with their table, row and cell), then
headers and footers. A run's text is its ``w:t`` (``w:tab`` as a tab, ``w:br`` as a line break);
field codes (``w:instrText``, ``w:fldSimple``) are kept apart, their displayed result stays in the
text.

The text projection (``templates/convention.txt`` beside ``convention.docx``) is one line per
paragraph, ``#``/``##``/``###`` for Title and headings, ``-`` for list items, ``| a | b |`` for a
table row (a one-column table is layout: its paragraphs print as paragraphs), footers last: the
wording of the template, diffable in a review.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from lxml import etree

__all__ = ["Outline", "OutlineError", "Paragraph", "Table", "read_outline", "style_names", "text_projection"]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W}}}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_RUN_HOLDERS = ("hyperlink", "ins", "smartTag", "fldSimple", "customXml")
_PREFIX = {"title": "# ", "heading 1": "## ", "heading 2": "### ", "heading 3": "#### "}


class OutlineError(ValueError):
    """The file is not a WordprocessingML document this module can read."""


@dataclass(frozen=True)
class Paragraph:
    lieu: str  # "paragraphe 12", "tableau 2, ligne 3, cellule 1", "pied de page 1"
    style: str  # style name ("Heading 1"), the default paragraph style's when none is set
    runs: tuple[str, ...]
    run_styles: tuple[str, ...] = ()  # character style name of each run ("" when none)
    table: int | None = None  # 1-based table number in the body
    row: int | None = None
    cell: int | None = None
    part: str = "corps"  # "corps", "en-tête", "pied de page"
    fields: tuple[str, ...] = ()  # field instructions (" PAGE ", "REF _Ref1 \\h")

    @property
    def text(self) -> str:
        return "".join(self.runs)


@dataclass(frozen=True)
class Table:
    numero: int
    columns: int  # w:gridCol count
    rows: tuple[int, ...]  # columns each row covers (sum of w:gridSpan)


@dataclass(frozen=True)
class Outline:
    paragraphs: tuple[Paragraph, ...]
    tables: tuple[Table, ...]
    styles: Mapping[str, str]  # style id -> name, every style styles.xml defines
    unknown_styles: tuple[tuple[str, str], ...]  # (lieu, style id) referenced but not defined
    bookmarks: frozenset[str] = field(default_factory=frozenset)

    def headings(self, level: int = 1) -> list[Paragraph]:
        name = f"heading {level}"
        return [p for p in self.paragraphs if p.style.lower() == name]


def _run_text(run: etree._Element) -> str:
    out = []
    for child in run:
        tag = etree.QName(child).localname
        if tag == "t":
            out.append(child.text or "")
        elif tag == "tab":
            out.append("\t")
        elif tag in ("br", "cr"):
            out.append("\n")
        elif tag == "noBreakHyphen":
            out.append("\u2011")
    return "".join(out)


def _runs(paragraph: etree._Element) -> Iterator[etree._Element]:
    for child in paragraph:
        tag = etree.QName(child).localname
        if tag == "r":
            yield child
        elif tag in _RUN_HOLDERS:
            yield from _runs(child)
        elif tag == "sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _runs(content)


class _Reader:
    def __init__(self, styles: Mapping[str, str], default: str) -> None:
        self.styles, self.default = styles, default
        self.paragraphs: list[Paragraph] = []
        self.tables: list[Table] = []
        self.unknown: list[tuple[str, str]] = []
        self.body_count = 0

    def _style(self, element: etree._Element | None, lieu: str) -> str:
        if element is None:
            return ""
        style_id = str(element.get(f"{_W}val", ""))
        if style_id not in self.styles:
            self.unknown.append((lieu, style_id))
            return style_id
        return self.styles[style_id]

    def paragraph(self, p: etree._Element, lieu: str, part: str, table: int | None = None, row: int | None = None,
                  cell: int | None = None) -> None:
        ppr = p.find(f"{_W}pPr")
        pstyle = ppr.find(f"{_W}pStyle") if ppr is not None else None
        style = self._style(pstyle, lieu) if pstyle is not None else self.default
        runs, run_styles = [], []
        for run in _runs(p):
            rpr = run.find(f"{_W}rPr")
            rstyle = rpr.find(f"{_W}rStyle") if rpr is not None else None
            text = _run_text(run)
            if text:
                runs.append(text)
                run_styles.append(self._style(rstyle, lieu))
        fields = [t.text or "" for t in p.iter(f"{_W}instrText")]
        fields += [f.get(f"{_W}instr", "") for f in p.iter(f"{_W}fldSimple")]
        self.paragraphs.append(Paragraph(lieu, style, tuple(runs), tuple(run_styles), table, row, cell, part,
                                         tuple(fields)))

    def table(self, tbl: etree._Element, part: str) -> None:
        numero = len(self.tables) + 1
        grid = tbl.find(f"{_W}tblGrid")
        columns = len(grid.findall(f"{_W}gridCol")) if grid is not None else 0
        spans = []
        for r, tr in enumerate(tbl.findall(f"{_W}tr"), 1):
            covered = 0
            for c, tc in enumerate(tr.findall(f"{_W}tc"), 1):
                span = tc.find(f"{_W}tcPr/{_W}gridSpan")
                covered += int(span.get(f"{_W}val", "1")) if span is not None else 1
                for p in tc.iter(f"{_W}p"):
                    self.paragraph(p, f"tableau {numero}, ligne {r}, cellule {c}", part, table=numero, row=r, cell=c)
            spans.append(covered)
        self.tables.append(Table(numero, columns, tuple(spans)))

    def body(self, container: etree._Element, part: str, label: str) -> None:
        for child in container:
            tag = etree.QName(child).localname
            if tag == "p":
                self.body_count += 1
                self.paragraph(child, f"{label} {self.body_count}", part)
            elif tag == "tbl":
                self.table(child, part)
            elif tag == "sdt":
                content = child.find(f"{_W}sdtContent")
                if content is not None:
                    self.body(content, part, label)


def _styles(data: bytes | None) -> tuple[dict[str, str], str]:
    if data is None:
        return {}, ""
    root = etree.fromstring(data, _PARSER)
    styles, default = {}, ""
    for style in root.iter(f"{_W}style"):
        name = style.find(f"{_W}name")
        style_id = style.get(f"{_W}styleId", "")
        styles[style_id] = name.get(f"{_W}val", style_id) if name is not None else style_id
        if style.get(f"{_W}type") == "paragraph" and style.get(f"{_W}default") in ("1", "true", "on"):
            default = styles[style_id]
    return styles, default


def style_names(docx: bytes) -> frozenset[str]:
    """Names of the styles a .docx defines, used or not (the normal form drops the unused ones)."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            data = z.read("word/styles.xml") if "word/styles.xml" in z.namelist() else None
        return frozenset(_styles(data)[0].values())
    except (zipfile.BadZipFile, OSError, EOFError, etree.XMLSyntaxError):
        return frozenset()


def read_outline(docx: bytes) -> Outline:
    """The outline of a .docx; :class:`OutlineError` when it is not one."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            names = set(z.namelist())
            if "word/document.xml" not in names:
                raise OutlineError("pas de word/document.xml : ce n'est pas un document Word")
            parts = {n: z.read(n) for n in names if n.startswith("word/") and n.endswith(".xml")}
        styles, default = _styles(parts.get("word/styles.xml"))
        reader = _Reader(styles, default)
        document = etree.fromstring(parts["word/document.xml"], _PARSER)
        body = document.find(f"{_W}body")
        if body is None:
            raise OutlineError("word/document.xml n'a pas de corps (w:body)")
        reader.body(body, "corps", "paragraphe")
        for name in sorted(parts):
            kind = "en-tête" if name.startswith("word/header") else "pied de page" if name.startswith("word/footer") else ""
            if kind:
                reader.body_count = 0
                reader.body(etree.fromstring(parts[name], _PARSER), kind, kind)
        bookmarks = frozenset(b.get(f"{_W}name", "") for b in document.iter(f"{_W}bookmarkStart"))
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise OutlineError(f"ce n'est pas un fichier .docx lisible ({exc})") from exc
    except etree.XMLSyntaxError as exc:
        raise OutlineError(f"XML illisible ({exc})") from exc
    return Outline(tuple(reader.paragraphs), tuple(reader.tables), styles, tuple(reader.unknown), bookmarks)


def _line(p: Paragraph) -> str:
    style = p.style.lower()
    prefix = _PREFIX.get(style, "- " if style.startswith(("liste", "list")) else "")
    text = p.text.replace("\n", " / ").replace("\t", " ")
    return f"[{p.part}] {text}" if p.part != "corps" else prefix + text


def text_projection(outline: Outline) -> str:
    """The wording of a template, one line per paragraph or table row (see the module's docstring)."""
    columns = {t.numero: t.columns for t in outline.tables}
    # the header names no file: git's textconv hands over a temporary copy under another name
    lines = ["[projection texte du modèle .docx de même nom, écrite par `conum templates text` : ne pas modifier "
             "à la main]", ""]
    row_key: tuple[int, int] | None = None
    cells: dict[int, list[str]] = {}

    def flush() -> None:
        if cells:
            lines.append("| " + " | ".join(" / ".join(t for t in cells[c] if t) for c in sorted(cells)) + " |")
            cells.clear()

    for p in outline.paragraphs:
        if p.table is not None and p.row is not None and p.cell is not None and columns.get(p.table, 0) > 1:
            if row_key != (p.table, p.row):
                flush()
                row_key = (p.table, p.row)
            cells.setdefault(p.cell, []).append(p.text.replace("\n", " / "))
            continue
        flush()
        row_key = None
        if p.text.strip():
            lines.append(_line(p))
    flush()
    return "\n".join(lines) + "\n"
