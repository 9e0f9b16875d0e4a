"""Build the docxtpl templates: ``templates/convention.docx`` (the convention de subvention),
``templates/avenant.docx`` (avenant n° N: ajout or retrait de postes, changement de nature,
renouvellement) and ``templates/resiliation.docx`` (avenant de résiliation).

Run from the repository root::

    .venv/bin/python tools/build_templates.py                     # the three, into templates/
    .venv/bin/python tools/build_templates.py --dossier DIR       # the three, into DIR
    .venv/bin/python tools/build_templates.py [--modele NOM] FICHIER   # one (default: convention)

then ``.venv/bin/conum templates manifest``. The avenants reuse the convention's styles, parties and
signature blocks; clauses drafted without a public source are marked « non sourcé » in comments.

The template is written by this script rather than edited by hand so that every change to the
legal text is reviewable in a diff. The output stays an ordinary Word document with real styles
(Title, Subtitle; Heading 1 for articles and annexes; Heading 2 for the centred section titles
"Entre les soussignés", "Vu", "Préambule"; Normal; "Liste à tirets"; "Intitulé" for the run-in
titles of sub-articles; table styles), so a legal team can also open it in Word or LibreOffice;
if they edit it there, port the change back here.

Pagination is tuned for LibreOffice 7.4, which converts the documents to PDF and sometimes ignores
"keep with next": sub-article titles are run-in (see ``Writer``), the preamble title and its first
paragraph sit in a borderless table row that cannot split, and each annex starts a new page.

Conventions used in the template (see docxtpl's documentation):

* ``{{ var }}`` is written in a single run, never split;
* a paragraph whose whole text is ``{%p if ... %}`` / ``{%p else %}`` / ``{%p endif %}`` is removed
  at render time and acts as the tag (style "Balise", grey, so it is visible when editing);
* table rows holding ``{%tr for ... %}`` / ``{%tr endfor %}`` alone are removed the same way;
* values arrive pre-formatted as French strings (``dossiers/domain/context.py``); no formatting
  filter is used. Autoescaping is on when rendering.

The output is byte-for-byte deterministic: fixed core properties, fixed zip timestamps, no
thumbnail.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import unicodedata
import zipfile
from datetime import datetime, UTC
from contextlib import contextmanager
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.text.paragraph import Paragraph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from dossiers.adapters.docx.slim import slim_docx  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "templates" / "convention.docx"  # the templates are written next to it

FONT = "Liberation Serif"
TEXT_COLOR = RGBColor(0x00, 0x00, 0x00)
ACCENT = RGBColor(0x1F, 0x3A, 0x5F)  # dark navy, headings and table header text
HEADER_FILL = "DCE3EE"  # table header shading
TOTAL_FILL = "F2F2F2"  # table total row shading
TAG_COLOR = RGBColor(0x80, 0x80, 0x80)
FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
CONTENT_WIDTH_CM = 16.0  # A4 (21 cm) minus two 2.5 cm margins

NBSP = "\u00a0"
_TAG = re.compile(r"({{.*?}}|{%.*?%})")


# -- French typography -------------------------------------------------------------------------
def fr(text: str) -> str:
    """Non-breaking spaces where French typography wants them, outside Jinja tags only."""

    def fix(chunk: str) -> str:
        chunk = re.sub(r" ([:;!?»])", NBSP + r"\1", chunk)
        chunk = chunk.replace("« ", "«" + NBSP)
        chunk = chunk.replace("'", "\u2019")  # typographic apostrophe
        chunk = re.sub(r"\b(n°|N°|art\.|L\.|R\.) ", r"\1" + NBSP, chunk)
        return chunk

    return "".join(part if _TAG.fullmatch(part) else fix(part) for part in _TAG.split(text))


# -- low-level XML helpers ---------------------------------------------------------------------
def _set_fonts(rpr, name: str) -> None:
    """Explicit font on every script slot, theme fonts removed (so Word and LibreOffice agree)."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for slot in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(slot), name)


# Child order of the property elements we edit (ECMA-376 part 1); Word rejects out-of-order XML.
_ORDER = {
    "pPr": "pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
    "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
    "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc textDirection "
    "textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange",
    "tblPr": "tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
    "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription",
    "tcPr": "cnfStyle tcW gridSpan hMerge vMerge tcBorders shd noWrap tcMar textDirection tcFitText vAlign hideMark",
}
_ORDER = {qn(f"w:{k}"): [qn(f"w:{t}") for t in v.split()] for k, v in _ORDER.items()}


def _put(parent, child) -> None:
    """Insert ``child`` into a pPr / tblPr / tcPr at its schema position, replacing a same-name child."""
    order = _ORDER[parent.tag]
    for old in parent.findall(child.tag):
        parent.remove(old)
    rank = order.index(child.tag)
    for sibling in parent:
        if sibling.tag in order and order.index(sibling.tag) > rank:
            sibling.addprevious(child)
            return
    parent.append(child)


def _shade(cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    _put(tcpr, shd)


def _border(element_pr, tag: str, sides: dict[str, tuple[str, int, str]]) -> None:
    """Set the border container ``tag`` (w:pBdr, w:tblBorders) of a pPr / tblPr to the given sides."""
    box = OxmlElement(tag)
    for side, (val, size, color) in sides.items():
        b = OxmlElement(f"w:{side}")
        b.set(qn("w:val"), val)
        b.set(qn("w:sz"), str(size))
        b.set(qn("w:space"), "1" if val != "nil" else "0")
        b.set(qn("w:color"), color)
        box.append(b)
    _put(element_pr, box)


def _field(paragraph, instruction: str, placeholder: str) -> None:
    """A complex field (PAGE, NUMPAGES) as fldChar begin / instrText / separate / result / end."""

    def fld(kind: str) -> None:
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    fld("begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    fld("separate")
    paragraph.add_run(placeholder)
    fld("end")


# -- styles --------------------------------------------------------------------------------------
def _style(doc, name: str, *, base: str | None = None, kind=WD_STYLE_TYPE.PARAGRAPH):
    try:
        return doc.styles[name]
    except KeyError:
        style = doc.styles.add_style(name, kind)
        # ASCII style id ("Liste à tirets" -> "Listeatirets"), as Word would make it.
        style.style_id = re.sub(r"[^A-Za-z0-9]", "", unicodedata.normalize("NFKD", name))
        if base:
            style.base_style = doc.styles[base]
        style.quick_style = True
        return style


def _font(style, *, size: float | None = None, bold=None, italic=None, color=None, caps=None) -> None:
    f = style.font
    f.name = FONT
    _set_fonts(style.element.get_or_add_rPr(), FONT)
    if size is not None:
        f.size = Pt(size)
    f.bold = bold
    f.italic = italic
    f.all_caps = caps
    f.color.rgb = color if color is not None else TEXT_COLOR


def _paragraph_format(style, *, before=0.0, after=6.0, align=None, keep_next=None, line=1.1, indent=None):
    pf = style.paragraph_format
    pf.space_before = Pt(before)
    pf.space_after = Pt(after)
    pf.line_spacing = line
    if align is not None:
        pf.alignment = align
    if keep_next is not None:
        pf.keep_with_next = keep_next
    if indent is not None:
        pf.left_indent = Cm(indent)


def _strip_borders_and_theme(style) -> None:
    ppr = style.element.pPr
    if ppr is not None:
        for tag in ("w:pBdr", "w:numPr"):
            for el in ppr.findall(qn(tag)):
                ppr.remove(el)
    rpr = style.element.rPr
    if rpr is not None:
        for tag in ("w:color", "w:spacing", "w:kern"):
            for el in rpr.findall(qn(tag)):
                rpr.remove(el)


def _dash_numbering(doc) -> int:
    """A one-level '–' bullet list definition; returns its numId."""
    numbering = doc.part.numbering_part.element
    abstract_id, num_id = 90, 90
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), str(abstract_id))
    multi = OxmlElement("w:multiLevelType")
    multi.set(qn("w:val"), "singleLevel")
    abstract.append(multi)
    lvl = OxmlElement("w:lvl")
    lvl.set(qn("w:ilvl"), "0")
    for tag, val in (("w:start", "1"), ("w:numFmt", "bullet"), ("w:lvlText", "–"), ("w:lvlJc", "left")):
        el = OxmlElement(tag)
        el.set(qn("w:val"), val)
        lvl.append(el)
    ppr = OxmlElement("w:pPr")
    ind = OxmlElement("w:ind")
    ind.set(qn("w:left"), str(int(Cm(1.0).twips)))
    ind.set(qn("w:hanging"), str(int(Cm(0.5).twips)))
    ppr.append(ind)
    lvl.append(ppr)
    rpr = OxmlElement("w:rPr")
    _set_fonts(rpr, FONT)
    lvl.append(rpr)
    abstract.append(lvl)
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), str(num_id))
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), str(abstract_id))
    num.append(ref)
    numbering.append(num)
    return num_id


def setup_styles(doc) -> None:
    styles_el = doc.styles.element
    # Document defaults: font, size and French language for spelling and hyphenation.
    rpr_default = styles_el.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr_default, FONT)
    lang = rpr_default.find(qn("w:lang"))
    lang.set(qn("w:val"), "fr-FR")
    lang.set(qn("w:eastAsia"), "fr-FR")

    normal = doc.styles["Normal"]
    _font(normal, size=11)
    _paragraph_format(normal, after=6, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    normal.paragraph_format.widow_control = True

    title = doc.styles["Title"]
    _strip_borders_and_theme(title)
    _font(title, size=22, bold=True, color=ACCENT)
    _paragraph_format(title, before=24, after=6, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True, line=1.0)

    subtitle = doc.styles["Subtitle"]
    _strip_borders_and_theme(subtitle)
    _font(subtitle, size=13, bold=False, italic=False, color=ACCENT)
    _paragraph_format(subtitle, after=4, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True, line=1.0)

    reference = _style(doc, "Référence", base="Normal")
    _font(reference, size=11, bold=True)
    _paragraph_format(reference, after=2, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True)

    h1 = doc.styles["Heading 1"]
    _strip_borders_and_theme(h1)
    _font(h1, size=12.5, bold=True, color=ACCENT)
    _paragraph_format(h1, before=16, after=6, align=WD_ALIGN_PARAGRAPH.LEFT, keep_next=True, line=1.0)
    h1.paragraph_format.keep_together = True

    # Heading 2: the centred section titles before the articles (Entre les soussignés, Vu, Préambule).
    h2 = doc.styles["Heading 2"]
    _strip_borders_and_theme(h2)
    _font(h2, size=11.5, bold=True, italic=False, caps=True, color=ACCENT)
    _paragraph_format(h2, before=14, after=8, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True, line=1.0)

    section_title = _style(doc, "Intertitre", base="Normal")
    _font(section_title, size=11.5, bold=True, caps=True, color=ACCENT)
    _paragraph_format(section_title, before=14, after=8, align=WD_ALIGN_PARAGRAPH.CENTER, keep_next=True)

    partie = _style(doc, "Partie", base="Normal")  # "d'une part", "ET"
    _font(partie, size=11)
    _paragraph_format(partie, before=2, after=8, align=WD_ALIGN_PARAGRAPH.RIGHT)

    address = _style(doc, "Adresse", base="Normal")
    _font(address, size=11)
    _paragraph_format(address, after=6, align=WD_ALIGN_PARAGRAPH.LEFT, indent=1.0)

    dash = _style(doc, "Liste à tirets", base="Normal")
    _font(dash, size=11)
    _paragraph_format(dash, after=3, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    numpr = OxmlElement("w:numPr")
    numid = OxmlElement("w:numId")
    numid.set(qn("w:val"), str(_dash_numbering(doc)))
    numpr.append(numid)
    _put(dash.element.get_or_add_pPr(), numpr)

    lead = _style(doc, "Intitulé", kind=WD_STYLE_TYPE.CHARACTER)
    _font(lead, bold=True, color=ACCENT)

    cell = _style(doc, "Texte tableau", base="Normal")
    _font(cell, size=9.5)
    _paragraph_format(cell, after=0, align=WD_ALIGN_PARAGRAPH.LEFT, line=1.0)

    cell_head = _style(doc, "En-tête tableau", base="Texte tableau")
    _font(cell_head, size=9.5, bold=True, color=ACCENT)
    _paragraph_format(cell_head, after=0, align=WD_ALIGN_PARAGRAPH.CENTER, line=1.0)

    note = _style(doc, "Note", base="Normal")
    _font(note, size=9.5, italic=True)
    _paragraph_format(note, before=4, after=4)

    tag = _style(doc, "Balise", base="Normal")  # removed at render time
    _font(tag, size=8, color=TAG_COLOR)
    _paragraph_format(tag, after=0, align=WD_ALIGN_PARAGRAPH.LEFT, line=1.0)

    footer = doc.styles["Footer"]
    _font(footer, size=8.5, color=RGBColor(0x40, 0x40, 0x40))
    _paragraph_format(footer, after=0, align=WD_ALIGN_PARAGRAPH.CENTER, line=1.0)


# -- writing helpers -----------------------------------------------------------------------------
class Writer:
    """Thin layer over python-docx: one run per formatting span, Jinja tags never split.

    Sub-articles (3.1, 3.2…) are run-in titles: ``sub("3.1 Montant total")`` puts "3.1 Montant
    total." in the character style "Intitulé" at the start of the next paragraph (of each branch
    when the next paragraphs are a ``{%p if %}…{%p else %}…`` pair). A separate heading paragraph
    would be cleaner for navigation, but LibreOffice 7.4 (the PDF converter) often leaves such a
    heading alone at the bottom of a page despite "keep with next"; a run-in title cannot be
    separated from its text.
    """

    def __init__(self, doc) -> None:
        self.doc = doc
        self._lead: str | None = None  # run-in title waiting for its paragraph
        self._branch_lead: str | None = None  # the same title, for the {%p else %} branch
        self._container = doc  # where paragraphs go: the body, or the cell of kept_together()

    def _add_paragraph(self, style: str | None = None):
        return self._container.add_paragraph(style=style)

    @contextmanager
    def kept_together(self):
        """Paragraphs that must stay on one page, in a borderless one-cell table whose row cannot
        split. Used for a centred title and its first paragraph: LibreOffice honours "row cannot
        split" where it sometimes ignores "keep with next"."""
        table = self.doc.add_table(rows=1, cols=1)
        table.autofit = False
        tblpr = table._tbl.tblPr
        layout = OxmlElement("w:tblLayout")
        layout.set(qn("w:type"), "fixed")
        _put(tblpr, layout)
        _border(tblpr, "w:tblBorders", {s: ("nil", 0, "auto") for s in ("top", "left", "bottom", "right", "insideH", "insideV")})
        margins = OxmlElement("w:tblCellMar")
        for side in ("top", "left", "bottom", "right"):
            m = OxmlElement(f"w:{side}")
            m.set(qn("w:w"), "0")
            m.set(qn("w:type"), "dxa")
            margins.append(m)
        _put(tblpr, margins)
        row = table.rows[0]
        row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        cell = row.cells[0]
        cell.width = Cm(CONTENT_WIDTH_CM)
        table._tbl.tblGrid.find(qn("w:gridCol")).set(qn("w:w"), str(int(Cm(CONTENT_WIDTH_CM).twips)))
        placeholder = cell.paragraphs[0]
        self._container = cell
        try:
            yield
        finally:
            self._container = self.doc
            placeholder._p.getparent().remove(placeholder._p)  # python-docx's empty first paragraph

    @staticmethod
    def _runs(paragraph, text: str) -> None:
        # "**bold**" spans; a Jinja tag must sit entirely inside one span.
        for i, chunk in enumerate(text.split("**")):
            if chunk:
                run = paragraph.add_run(fr(chunk))
                run.bold = True if i % 2 else None

    def p(self, text: str = "", style: str | None = None, *, keep_next: bool = False, align=None):
        paragraph = self._add_paragraph(style)
        if self._lead:
            lead = paragraph.add_run(fr(self._lead + ". "))
            lead.style = self.doc.styles["Intitulé"]
            paragraph.paragraph_format.space_before = Pt(4)
            self._lead = None
        self._runs(paragraph, text)
        if keep_next:
            paragraph.paragraph_format.keep_with_next = True
        if align is not None:
            paragraph.alignment = align
        return paragraph

    def h1(self, text: str, *, page_break: bool = False):
        assert self._lead is None, f"sub-article {self._lead!r} has no text"
        paragraph = self.p(text, "Heading 1")
        if page_break:
            paragraph.paragraph_format.page_break_before = True
        return paragraph

    def sub(self, title: str) -> None:
        """Run-in title of a sub-article, printed at the start of the next paragraph."""
        assert self._lead is None, f"sub-article {self._lead!r} has no text"
        self._lead = title

    def dash(self, text: str):
        assert self._lead is None, "a sub-article cannot start with a list item"
        return self.p(text, "Liste à tirets")

    def tag(self, text: str):
        """A paragraph-level docxtpl tag ({%p ... %}); the whole paragraph is one run."""
        assert text.startswith("{%p ") and text.endswith("%}"), text
        if text.startswith("{%p if") and self._lead:
            self._branch_lead = self._lead
        elif text.startswith("{%p else") and self._branch_lead:
            self._lead, self._branch_lead = self._branch_lead, None
        elif text.startswith("{%p endif"):
            self._branch_lead = None
        paragraph = self._add_paragraph("Balise")
        paragraph.add_run(text)
        return paragraph

    def table(self, widths: list[float], header: list[str], rows: list, aligns: list[str], *, keep_together=False):
        """A bordered table. ``rows`` items: list of cell texts, ("tr", "{%tr ... %}") for a loop
        row, or ("total", [cells]) for a shaded total row. ``keep_together``: short tables are kept
        on one page (Word's idiom: "keep with next" on every row but the last)."""
        assert abs(sum(widths) - CONTENT_WIDTH_CM) < 0.01, widths
        table = self.doc.add_table(rows=0, cols=len(widths))
        table.style = self.doc.styles["Table Grid"]
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        tblpr = table._tbl.tblPr
        layout = OxmlElement("w:tblLayout")
        layout.set(qn("w:type"), "fixed")
        _put(tblpr, layout)
        _border(
            tblpr,
            "w:tblBorders",
            {side: ("single", 4, "7F8FA6") for side in ("top", "left", "bottom", "right", "insideH", "insideV")},
        )
        margins = OxmlElement("w:tblCellMar")
        for side, twips in (("top", 34), ("left", 85), ("bottom", 34), ("right", 85)):
            m = OxmlElement(f"w:{side}")
            m.set(qn("w:w"), str(twips))
            m.set(qn("w:type"), "dxa")
            margins.append(m)
        _put(tblpr, margins)
        align_map = {"l": WD_ALIGN_PARAGRAPH.LEFT, "c": WD_ALIGN_PARAGRAPH.CENTER, "r": WD_ALIGN_PARAGRAPH.RIGHT}

        def add_row(texts, style, fill=None, bold=False, heading=False):
            row = table.add_row()
            trpr = row._tr.get_or_add_trPr()
            cant = OxmlElement("w:cantSplit")
            trpr.append(cant)
            if heading:
                th = OxmlElement("w:tblHeader")
                trpr.append(th)
            for i, (cell, text) in enumerate(zip(row.cells, texts)):
                cell.width = Cm(widths[i])
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                paragraph = cell.paragraphs[0]
                paragraph.style = self.doc.styles[style]
                if not heading:
                    paragraph.alignment = align_map[aligns[i]]
                if text:
                    self._runs(paragraph, f"**{text}**" if bold else text)
                if fill:
                    _shade(cell, fill)
            return row

        add_row(header, "En-tête tableau", fill=HEADER_FILL, heading=True)
        for item in rows:
            if isinstance(item, tuple) and item[0] == "tr":
                row = table.add_row()
                for i, cell in enumerate(row.cells):
                    cell.width = Cm(widths[i])
                merged = row.cells[0].merge(row.cells[-1])
                paragraph = merged.paragraphs[0]
                paragraph.style = self.doc.styles["Balise"]
                paragraph.add_run(item[1])  # the {%tr %} tag, one run, alone in its row
            elif isinstance(item, tuple) and item[0] == "total":
                add_row(item[1], "Texte tableau", fill=TOTAL_FILL, bold=True)
            else:
                add_row(item, "Texte tableau")
        if keep_together:
            for row in table.rows[:-1]:
                for paragraph in row._tr.iter(qn("w:p")):
                    Paragraph(paragraph, table).paragraph_format.keep_with_next = True
        # The grid python-docx writes is equal-width; set the real column widths.
        for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
            col.set(qn("w:w"), str(int(Cm(width).twips)))
        self.p("", style="Note").paragraph_format.space_before = Pt(0)  # breathing space after the table
        return table


# -- the document ------------------------------------------------------------------------------
PLURIEL_POSTES = "{% if convention.nombre_postes != '1' %}s{% endif %}"


def title_block(w: Writer) -> None:
    w.p("Convention de subvention", "Title")
    w.p("Dispositif Conseiller numérique — {{ convention.vague_libelle }}", "Subtitle")
    ref = w.p("Convention n° {{ convention.id }} — version {{ convention.version }}", "Référence")
    ref.paragraph_format.space_before = Pt(10)
    edition = w.p("Édition du {{ convention.date_edition }}", "Subtitle")
    edition.paragraph_format.space_after = Pt(6)
    # A rule under the title block.
    _border(edition._p.get_or_add_pPr(), "w:pBdr", {"bottom": ("single", 8, "1F3A5F")})
    for run in edition.runs:
        run.font.size = Pt(10)


def soussignes(w: Writer, *, acte: str = "la présente convention", fin: str = "en fin de convention") -> None:
    """The parties, as the convention names them; ``acte``: what the representative is empowered to
    sign ("le présent avenant"), ``fin``: where the CDC's signatory is named."""
    w.p("Entre les soussignés", "Heading 2")
    w.p(
        "**La Caisse des Dépôts et Consignations**, établissement spécial créé par la loi du 28 avril 1816, "
        "codifiée aux articles L. 518-2 et suivants du code monétaire et financier, dont le siège est situé "
        "56, rue de Lille, 75007 Paris, agissant pour le compte de l'État au titre du dispositif Conseiller "
        "numérique, par l'intermédiaire de sa direction Banque des Territoires, représentée par la personne "
        "dûment habilitée désignée " + fin + ","
    )
    w.p("ci-après dénommée « **la CDC** »,")
    w.p("d'une part,", "Partie")
    w.p("ET", "Intertitre").paragraph_format.space_before = Pt(4)
    w.p(
        "**{{ structure.denomination }}**, {{ structure.nature_libelle }}, identifiée au répertoire Sirene sous "
        "le numéro SIRET {{ structure.siret }} et dans le dispositif Conseiller numérique sous l'identifiant "
        "{{ structure.id }}, dont le siège est situé :",
        keep_next=True,
    )
    w.p("{{ structure.adresse }}", "Adresse")
    w.tag("{%p if structure.est_publique %}")
    w.p(
        "représentée par {{ representant.civilite }} {{ representant.prenom }} {{ representant.nom }}, "
        "en qualité de {{ representant.qualite }}, dûment habilité(e) à signer " + acte + " par "
        "délibération ou décision de l'organe compétent de la Structure,"
    )
    w.tag("{%p else %}")
    w.p(
        "représentée par {{ representant.civilite }} {{ representant.prenom }} {{ representant.nom }}, "
        "en qualité de {{ representant.qualite }}, dûment habilité(e) à signer " + acte + " en "
        "vertu des statuts de la Structure et, le cas échéant, d'une décision de son organe compétent,"
    )
    w.tag("{%p endif %}")
    w.p("ci-après dénommée « **la Structure** »,")
    w.p("d'autre part,", "Partie")
    w.p("la CDC et la Structure étant ci-après dénommées ensemble « les Parties » et individuellement « une Partie ».")


def parties(w: Writer) -> None:
    soussignes(w)
    w.p("Vu", "Heading 2")
    w.p(
        "le règlement (UE) 2016/679 du Parlement européen et du Conseil du 27 avril 2016 relatif à la protection "
        "des personnes physiques à l'égard du traitement des données à caractère personnel et à la libre "
        "circulation de ces données (règlement général sur la protection des données, « RGPD ») ;",
        "Liste à tirets",
    )
    # The transparency rules of article 10 of the loi du 12 avril 2000 bind private bodies only.
    w.tag("{%p if structure.est_publique %}")
    w.p(
        "la délibération ou la décision de l'organe compétent de la Structure approuvant la présente convention "
        "et autorisant son représentant légal à la signer ;",
        "Liste à tirets",
    )
    w.tag("{%p else %}")
    w.p(
        "la loi n° 2000-321 du 12 avril 2000 relative aux droits des citoyens dans leurs relations avec les "
        "administrations, notamment son article 10 ;",
        "Liste à tirets",
    )
    w.p(
        "le décret n° 2001-495 du 6 juin 2001 pris pour l'application de l'article 10 de la loi n° 2000-321 du "
        "12 avril 2000 et relatif à la transparence financière des aides octroyées par les personnes publiques ;",
        "Liste à tirets",
    )
    w.p("les statuts de la Structure ;", "Liste à tirets")
    w.tag("{%p endif %}")
    # A renewal is not an attribution: the comité de sélection did not examine it.
    w.tag("{%p if renouvellement.convention_id %}")
    w.p(
        "la convention n° {{ renouvellement.convention_id }} conclue entre la CDC et la Structure pour la période "
        "{{ renouvellement.periode }}, que la présente convention renouvelle.",
        "Liste à tirets",
    )
    w.tag("{%p else %}")
    w.p(
        "la décision du comité de sélection réuni par l'Agence nationale de la cohésion des territoires (ANCT) "
        "attribuant à la Structure le ou les postes de conseiller numérique mentionnés en annexe 1.",
        "Liste à tirets",
    )
    w.tag("{%p endif %}")


def preambule(w: Writer) -> None:
    # The title and the first paragraph are kept on one page (see Writer.kept_together).
    with w.kept_together():
        w.p("Préambule", "Heading 2")
        w.tag("{%p if convention.vague == 1 %}")
        w.p(
            "Dans le cadre du plan de relance « France Relance », l'État a engagé un programme national en faveur "
            "de l'inclusion numérique, destiné à rapprocher le numérique du quotidien des Français. Ce programme "
            "comprend le financement par l'État du recrutement, de la formation et de l'activité de conseillers "
            "numériques employés par des structures publiques et privées (ci-après « le dispositif Conseiller "
            "numérique »)."
        )
        w.tag("{%p else %}")
        w.p(
            "Créé en 2021 dans le cadre du plan de relance « France Relance », le dispositif Conseiller numérique "
            "finance le recrutement, la formation et l'activité de conseillers numériques employés par des "
            "structures publiques et privées, afin d'accompagner les Français dans leurs usages du numérique "
            "(ci-après « le dispositif Conseiller numérique »). À l'issue des premières conventions, l'État a décidé "
            "de poursuivre le dispositif en permettant aux structures d'accueil de conclure une nouvelle convention "
            "de subvention (« reconventionnement »)."
        )
        w.tag("{%p endif %}")
    w.p(
        "Le dispositif est piloté par l'Agence nationale de la cohésion des territoires (ANCT). La Caisse des "
        "Dépôts et Consignations, par l'intermédiaire de sa direction Banque des Territoires, est chargée, pour "
        "le compte de l'État, de conclure les conventions de subvention avec les structures d'accueil et de "
        "verser les subventions correspondantes."
    )
    w.tag("{%p if renouvellement.convention_id %}")
    w.p(
        "La Structure a bénéficié de la convention n° {{ renouvellement.convention_id }} pour la période "
        "{{ renouvellement.periode }}. À son terme, la Structure est éligible à une nouvelle convention de "
        "subvention pour les postes de conseiller numérique qu'elle emploie : la présente convention renouvelle "
        "{{ convention.nombre_postes_lettres }} ({{ convention.nombre_postes }}) poste" + PLURIEL_POSTES + ", "
        "dont la liste figure en annexe 1. Ces postes sont reconduits ; ils ne font pas l'objet d'une nouvelle "
        "attribution."
    )
    w.tag("{%p else %}")
    w.p(
        "La demande de la Structure a été examinée par le comité de sélection réuni par l'ANCT, après avis du "
        "préfet de département. Au vu de cet examen, la Structure a été retenue pour "
        "{{ convention.nombre_postes_lettres }} ({{ convention.nombre_postes }}) "
        "poste" + PLURIEL_POSTES + " de conseiller numérique, dont la liste figure en annexe 1."
    )
    w.tag("{%p endif %}")
    w.p("Les Parties sont en conséquence convenues de ce qui suit.")


def articles(w: Writer) -> None:
    # Article 1 ---------------------------------------------------------------------------------
    w.h1("Article 1 — Objet")
    w.p(
        "La présente convention a pour objet de définir les conditions dans lesquelles la CDC, agissant pour "
        "le compte de l'État, attribue à la Structure une subvention destinée à financer l'emploi de "
        "conseillers numériques sur les postes mentionnés en annexe 1, ainsi que les engagements réciproques "
        "des Parties."
    )
    w.p(
        "Le conseiller numérique a pour mission d'accompagner les publics dans leurs usages du numérique, "
        "notamment par des accompagnements individuels et des ateliers collectifs, dans un objectif d'autonomie "
        "des personnes accompagnées."
    )
    w.tag("{%p if convention.version > 1 %}")
    w.p(
        "La présente version n° {{ convention.version }} de la convention n° {{ convention.id }} se substitue à "
        "la version précédente à compter de sa signature par les Parties. Les sommes déjà versées au titre d'une "
        "version antérieure s'imputent sur le montant de la subvention fixé à l'article 3."
    )
    w.tag("{%p endif %}")
    w.p(
        "Les annexes font partie intégrante de la convention ; en cas de contradiction, les stipulations des "
        "articles prévalent."
    )

    # Article 2 ---------------------------------------------------------------------------------
    w.h1("Article 2 — Durée")
    w.p(
        "La présente convention est conclue pour une durée de {{ convention.duree_lettres }} "
        "({{ convention.duree_mois }}) mois, courant du {{ convention.date_debut }} au "
        "{{ convention.date_fin }} inclus. Elle prend effet à la date de début ainsi fixée, y compris lorsque "
        "sa signature par les Parties intervient postérieurement."
    )
    w.p(
        "Elle n'est pas reconductible tacitement. La poursuite du financement au-delà de son terme suppose la "
        "conclusion d'une nouvelle convention. Les stipulations des articles 6, 9 et 10 demeurent applicables "
        "après le terme de la convention, jusqu'à l'extinction des obligations qu'elles prévoient."
    )

    # Article 3 ---------------------------------------------------------------------------------
    w.h1("Article 3 — Montant de la subvention")
    w.sub("3.1 Montant total")
    w.p(
        "Le montant total de la subvention est fixé à **{{ montants.total }}** ({{ montants.total_lettres }}) "
        "pour {{ convention.nombre_postes_lettres }} ({{ convention.nombre_postes }}) poste" + PLURIEL_POSTES + ", "
        "soit **{% if montants.bonification_partielle %}{{ montants.base_par_poste }}{% else %}{{ montants.par_poste }}"
        "{% endif %}** par poste pour la durée de la convention{% if montants.bonification_partielle %}, "
        "bonification non comprise{% endif %}."
    )
    w.tag("{%p if montants.bonification_partielle %}")
    w.p(
        "Au titre de l'intervention de la Structure au bénéfice d'un quartier prioritaire de la politique de la "
        "ville (QPV) ou d'une zone de revitalisation rurale (ZRR), {% if montants.postes_bonifies == '1' %}le poste "
        "dont le lieu de permanence y est situé, signalé en annexe 1, bénéficie{% else %}les "
        "{{ montants.postes_bonifies_lettres }} ({{ montants.postes_bonifies }}) postes dont le lieu de permanence "
        "y est situé, signalés en annexe 1, bénéficient{% endif %} d'une bonification de "
        "{{ montants.bonification_par_poste }} par poste, soit au total {{ montants.bonification_total }}, comprise "
        "dans ce montant."
    )
    w.tag("{%p elif montants.bonification %}")
    w.p(
        "Au titre de l'intervention de la Structure au bénéfice d'un quartier prioritaire de la politique de la "
        "ville (QPV) ou d'une zone de revitalisation rurale (ZRR), ce montant comprend une bonification de "
        "{{ montants.bonification_par_poste }} par poste, soit {{ montants.bonification_total }} pour "
        "l'ensemble des postes."
    )
    w.tag("{%p endif %}")
    # The closed period's balance is settled under the convention it belongs to, never in these amounts.
    w.tag("{%p if renouvellement.convention_id %}")
    w.p(
        "Le solde de la convention n° {{ renouvellement.convention_id }} est arrêté et réglé au titre de cette "
        "convention ; il ne s'impute pas sur le montant de la présente subvention. {{ renouvellement.solde }}"
    )
    w.tag("{%p endif %}")
    w.tag("{%p if renouvellement.contrats_attendus %}")
    w.p(
        "Pour chacun des postes suivants, la première tranche n'est versée qu'après production du contrat de "
        "travail du conseiller recruté pour la période de la présente convention : "
        "{{ renouvellement.contrats_attendus }}."
    )
    w.tag("{%p endif %}")

    w.sub("3.2 Répartition annuelle")
    w.p("Le montant de la subvention se répartit par année d'exécution de la convention comme suit :", keep_next=True)
    w.tag("{%p if montants.bonification_partielle %}")
    w.table(
        [1.5, 6.0, 2.6, 3.0, 2.9],
        ["Année", "Période", "Montant par poste", "Bonification par poste en QPV/ZRR", "Total"],
        [
            ("tr", "{%tr for annee in montants.annees %}"),
            [
                "{{ annee.annee }}",
                "{{ annee.periode }}",
                "{{ annee.base_par_poste }}",
                "{{ annee.bonification_par_poste }}",
                "{{ annee.total }}",
            ],
            ("tr", "{%tr endfor %}"),
            ("total", ["Total", "", "{{ montants.base_par_poste }}", "{{ montants.bonification_par_poste }}",
                       "{{ montants.total }}"]),
        ],
        ["c", "l", "r", "r", "r"],
        keep_together=True,
    )
    w.tag("{%p elif montants.bonification %}")
    w.table(
        [1.5, 6.0, 3.0, 2.6, 2.9],
        ["Année", "Période", "Montant par poste", "dont bonification", "Total"],
        [
            ("tr", "{%tr for annee in montants.annees %}"),
            [
                "{{ annee.annee }}",
                "{{ annee.periode }}",
                "{{ annee.par_poste }}",
                "{{ annee.bonification_par_poste }}",
                "{{ annee.total }}",
            ],
            ("tr", "{%tr endfor %}"),
            ("total", ["Total", "", "{{ montants.par_poste }}", "{{ montants.bonification_par_poste }}",
                       "{{ montants.total }}"]),
        ],
        ["c", "l", "r", "r", "r"],
        keep_together=True,
    )
    w.tag("{%p else %}")
    w.table(
        [1.5, 6.0, 4.25, 4.25],
        ["Année", "Période", "Montant par poste", "Total"],
        [
            ("tr", "{%tr for annee in montants.annees %}"),
            ["{{ annee.annee }}", "{{ annee.periode }}", "{{ annee.par_poste }}", "{{ annee.total }}"],
            ("tr", "{%tr endfor %}"),
            ("total", ["Total", "", "{{ montants.par_poste }}", "{{ montants.total }}"]),
        ],
        ["c", "l", "r", "r"],
        keep_together=True,
    )
    w.tag("{%p endif %}")

    w.sub("3.3 Nature de la subvention")
    w.p(
        "La subvention est une aide forfaitaire attribuée au titre de chaque poste. Elle ne peut excéder le coût "
        "réel de la rémunération (salaire et charges sociales patronales) du ou des conseillers employés sur "
        "les postes pendant la durée de la convention. Elle ne constitue pas la contrepartie d'une prestation "
        "de services et n'entre pas dans le champ d'application de la taxe sur la valeur ajoutée."
    )
    w.p(
        "Son montant peut être modifié par avenant dans les cas prévus à l'article 7 ; il est réduit, le cas "
        "échéant, dans les cas prévus aux articles 6 et 8."
    )

    # Article 4 ---------------------------------------------------------------------------------
    w.h1("Article 4 — Modalités de versement")
    w.sub("4.1 Échéancier")
    w.p(
        "La subvention est versée par tranches annuelles, selon l'échéancier prévisionnel figurant en annexe 2."
    )
    w.sub("4.2 Conditions de versement")
    w.p("Le versement de chaque tranche est subordonné :", keep_next=True)
    w.dash("à la signature de la présente convention par les deux Parties ;")
    w.dash("à la production, pour chaque poste, du contrat de travail en cours de validité du conseiller qui l'occupe ;")
    w.tag("{%p if structure.est_publique %}")
    w.dash(
        "à la production d'un relevé d'identité bancaire (RIB) du compte de la Structure ouvert auprès du "
        "Trésor public et tenu par son comptable public assignataire."
    )
    w.tag("{%p else %}")
    w.dash("à la production d'un relevé d'identité bancaire (RIB) d'un compte ouvert au nom de la Structure.")
    w.tag("{%p endif %}")
    w.p(
        "La part d'une tranche afférente à un poste n'est versée que lorsque ce poste est occupé par un conseiller "
        "titulaire d'un contrat de travail en cours de validité ; lorsque le poste est pourvu ultérieurement, elle "
        "est versée après production du contrat."
    )
    w.sub("4.3 Compte de versement")
    w.tag("{%p if structure.est_publique %}")
    w.p(
        "Les sommes sont versées au comptable public assignataire de la Structure, par virement sur le compte "
        "mentionné au RIB produit par celle-ci, pour être inscrites en recette au budget de la Structure."
    )
    w.tag("{%p else %}")
    w.p(
        "Les sommes sont versées par virement sur le compte bancaire ouvert au nom de la Structure et mentionné "
        "au RIB produit par celle-ci. Aucun versement n'est effectué sur un compte ouvert au nom d'un tiers."
    )
    w.tag("{%p endif %}")
    w.p(
        "La Structure informe sans délai la CDC de toute modification de ses coordonnées bancaires en produisant "
        "un nouveau RIB. La CDC est valablement libérée par tout versement effectué sur le compte mentionné au "
        "dernier RIB produit."
    )

    # Article 5 ---------------------------------------------------------------------------------
    w.h1("Article 5 — Obligations de la Structure")
    w.p("Pendant toute la durée de la convention, la Structure s'engage à respecter les obligations suivantes.")
    w.sub("5.1 Recrutement et emploi des conseillers")
    w.p("La Structure s'engage :", keep_next=True)
    w.dash(
        "à recruter et à employer à temps plein, sur chacun des postes mentionnés en annexe 1, un conseiller "
        "numérique, sous contrat à durée indéterminée, contrat à durée déterminée, contrat conclu dans le cadre "
        "d'un parcours emploi compétences (PEC) ou, pour les seules personnes publiques, contrat de projet ; "
        "le contrat mentionne sa date de fin, sauf s'il est à durée indéterminée ;"
    )
    w.dash(
        "à verser au conseiller une rémunération au moins égale au salaire minimum interprofessionnel de "
        "croissance (SMIC) ;"
    )
    w.dash(
        "à affecter le conseiller aux missions définies à l'article 1 et à ne pas lui confier de missions "
        "étrangères à cet objet."
    )
    w.sub("5.2 Formation des conseillers")
    w.p(
        "La Structure permet à chaque conseiller de suivre, sur son temps de travail, la formation initiale "
        "prévue par le dispositif, sous la forme d'un parcours certifiant, ainsi que les actions de formation "
        "continue proposées dans ce cadre."
    )
    w.sub("5.3 Suivi de l'activité")
    w.p(
        "La Structure veille à ce que chaque conseiller établisse régulièrement les comptes rendus de son "
        "activité au moyen de l'outil de suivi mis à disposition dans le cadre du dispositif. Elle communique, "
        "à la demande de la CDC ou de l'ANCT, toute information utile au suivi de l'activité et à l'évaluation "
        "du dispositif."
    )
    w.sub("5.4 Utilisation de la subvention")
    w.p(
        "La subvention est utilisée exclusivement pour financer la rémunération (salaire et charges sociales "
        "patronales) du ou des conseillers employés sur les postes mentionnés en annexe 1. Elle ne peut être "
        "reversée, en tout ou partie, à un tiers."
    )
    w.tag("{%p if structure.est_publique %}")
    w.p(
        "La subvention est inscrite au budget de la Structure ; celle-ci en assure un suivi permettant d'en "
        "retracer l'emploi."
    )
    w.tag("{%p else %}")
    w.p(
        "La Structure tient une comptabilité permettant d'identifier l'emploi de la subvention, notamment au "
        "moyen d'un suivi analytique des dépenses de rémunération afférentes aux postes."
    )
    w.tag("{%p endif %}")
    w.sub("5.5 Communication")
    w.p(
        "La Structure mentionne le soutien financier de l'État, au titre du dispositif Conseiller numérique, sur "
        "tout support de communication relatif à l'activité du ou des conseillers, notamment en y faisant "
        "figurer le logo de l'État et celui du dispositif, dans le respect des chartes graphiques applicables."
    )
    w.sub("5.6 Départ, vacance et remplacement")
    w.p(
        "La Structure informe sans délai la CDC et l'ANCT de tout départ d'un conseiller, de toute fin anticipée "
        "ou suspension d'un contrat de travail et de toute vacance d'un poste, en précisant la date effective de "
        "fin du contrat."
    )
    w.p(
        "Elle pourvoit le poste devenu vacant dans un délai maximal de six (6) mois à compter de cette date et "
        "transmet à la CDC le contrat de travail du nouveau conseiller. À défaut, le poste est rendu : la "
        "convention est modifiée par avenant dans les conditions de l'article 7 et le trop-perçu est reversé "
        "dans les conditions de l'article 6.3."
    )
    w.sub("5.7 Informations relatives à la Structure")
    w.tag("{%p if structure.est_publique %}")
    w.p(
        "La Structure tient à la disposition de la CDC la délibération ou la décision de son organe compétent "
        "approuvant la présente convention et autorisant son représentant légal à la signer, ainsi que l'acte "
        "désignant ce dernier."
    )
    w.tag("{%p else %}")
    w.p(
        "La Structure communique à la CDC ses statuts à jour, la liste des membres de son bureau ou de son organe "
        "de direction et le procès-verbal de sa dernière assemblée générale. Elle informe la CDC sans délai de "
        "toute modification de ses statuts ainsi que de l'ouverture à son encontre d'une procédure de "
        "sauvegarde, de redressement ou de liquidation judiciaire."
    )
    w.tag("{%p endif %}")
    w.p(
        "Elle informe en outre la CDC de tout changement de représentant légal, de dénomination, de siège, de "
        "numéro SIRET ou de nature juridique."
    )

    # Article 6 ---------------------------------------------------------------------------------
    w.h1("Article 6 — Justification, contrôle et reversement")
    w.sub("6.1 Justification de l'emploi de la subvention")
    w.p(
        "La Structure justifie de l'emploi de l'intégralité de la subvention. À cette fin, elle transmet à la "
        "CDC, au plus tard six (6) mois après le terme de la convention, un bilan faisant apparaître, pour chaque "
        "poste, les périodes d'emploi des conseillers et le coût de leur rémunération."
    )
    w.tag("{%p if structure.est_publique %}")
    w.p(
        "Ce bilan est accompagné d'un état récapitulatif des dépenses de rémunération afférentes aux postes, "
        "certifié par le représentant légal de la Structure et visé par le comptable public assignataire."
    )
    w.tag("{%p else %}")
    w.p(
        "La Structure produit en outre, dans les six (6) mois suivant la fin de chaque exercice au cours duquel "
        "la subvention a été perçue, le compte rendu financier prévu à l'article 10 de la loi n° 2000-321 du "
        "12 avril 2000 et par le décret n° 2001-495 du 6 juin 2001 pris pour son application, attestant de la "
        "conformité des dépenses effectuées à l'objet de la subvention."
    )
    w.p(
        "Elle transmet dans le même délai ses comptes annuels approuvés et, lorsqu'elle y est tenue, notamment "
        "en application de l'article L. 612-4 du code de commerce, ses comptes annuels certifiés par un "
        "commissaire aux comptes ainsi que le rapport de celui-ci."
    )
    w.tag("{%p endif %}")
    w.sub("6.2 Contrôle")
    w.p(
        "La CDC, l'ANCT et les services de l'État peuvent procéder, pendant la durée de la convention et "
        "pendant cinq (5) ans à compter de son terme, à tout contrôle sur pièces ou sur place de l'emploi de la "
        "subvention. La Structure conserve pendant la même durée et tient à leur disposition l'ensemble des "
        "pièces justificatives, notamment les contrats de travail, les bulletins de paie et les pièces "
        "comptables."
    )
    w.sub("6.3 Reversement")
    w.p("Donnent lieu à reversement à la CDC :", keep_next=True)
    w.dash("les sommes dont la Structure ne justifie pas l'emploi dans les conditions de l'article 6.1 ;")
    w.dash("les sommes non utilisées ou utilisées à une fin autre que celle prévue à l'article 5.4 ;")
    w.dash(
        "le trop-perçu, notamment en cas de vacance d'un poste, de fin anticipée d'un contrat de travail, de "
        "restitution d'un poste ou de résiliation, calculé au prorata de la période pendant laquelle le poste "
        "n'a pas été occupé, compte tenu de la date effective de fin du contrat de travail et des sommes déjà "
        "versées."
    )
    w.p(
        "La CDC notifie à la Structure le montant à reverser et ses motifs ; la Structure dispose d'un délai de "
        "trente (30) jours pour présenter ses observations. Les sommes dues sont reversées dans un délai de "
        "{{ regles.delai_reversement }} à compter de la notification de la décision de reversement. La CDC peut "
        "également les déduire des tranches restant à verser."
    )

    # Article 7 ---------------------------------------------------------------------------------
    w.h1("Article 7 — Modification par avenant")
    w.p(
        "Toute modification de la présente convention fait l'objet d'un avenant signé par les Parties, "
        "notamment en cas :",
        keep_next=True,
    )
    w.dash("de modification du nombre de postes, par ajout ou retrait d'un ou plusieurs postes ;")
    w.dash("de changement de la nature juridique de la Structure ;")
    w.dash("de modification du montant de la subvention ou de l'échéancier.")
    w.p(
        "L'avenant prend la forme d'une nouvelle version de la convention, portant le même numéro et un numéro "
        "de version supérieur, qui se substitue à la version précédente. Lorsqu'un poste est rendu, l'avenant "
        "tient compte de la date à laquelle le contrat de travail afférent à ce poste a effectivement pris fin et "
        "des sommes déjà versées ; le trop-perçu est reversé dans les conditions de l'article 6.3."
    )
    w.p(
        "Le remplacement d'un conseiller sur un poste, sans modification du nombre de postes, ne donne pas lieu "
        "à avenant ; il est porté à la connaissance de la CDC dans les conditions de l'article 5.6."
    )

    # Article 8 ---------------------------------------------------------------------------------
    w.h1("Article 8 — Résiliation")
    w.sub("8.1 Résiliation à l'initiative de la Structure")
    w.p(
        "La Structure peut résilier la présente convention à tout moment, pour la totalité ou pour une partie des "
        "postes, par lettre recommandée avec demande d'avis de réception adressée à la CDC, moyennant un préavis "
        "d'un (1) mois courant à compter de la réception de cette lettre. La résiliation partielle donne lieu à "
        "avenant dans les conditions de l'article 7."
    )
    w.sub("8.2 Résiliation à l'initiative de la CDC")
    w.p(
        "En cas de manquement de la Structure à l'une quelconque de ses obligations, la CDC peut résilier de "
        "plein droit la présente convention, après une mise en demeure adressée par lettre recommandée avec "
        "demande d'avis de réception et restée sans effet pendant un délai de trente (30) jours à compter de sa "
        "réception."
    )
    w.tag("{%p if structure.est_publique %}")
    w.p("La convention est résiliée de plein droit en cas de dissolution de la Structure.")
    w.tag("{%p else %}")
    w.p(
        "La convention est résiliée de plein droit en cas de dissolution ou de liquidation judiciaire de la "
        "Structure, sous réserve des dispositions du code de commerce applicables aux contrats en cours."
    )
    w.tag("{%p endif %}")
    w.sub("8.3 Effets de la résiliation")
    w.p(
        "La résiliation totale emporte restitution de l'ensemble des postes. Les sommes indûment perçues à la "
        "date d'effet de la résiliation, déterminées au prorata de la période d'emploi effective des conseillers, "
        "sont reversées à la CDC dans les conditions de l'article 6.3. La Structure demeure tenue de justifier de "
        "l'emploi des sommes perçues dans les conditions de l'article 6.1."
    )

    # Article 9 ---------------------------------------------------------------------------------
    w.h1("Article 9 — Données personnelles")
    w.p(
        "Chaque Partie agit en qualité de responsable de traitement, au sens du RGPD, pour les traitements de "
        "données à caractère personnel qu'elle met en œuvre dans le cadre de la présente convention, et "
        "s'engage à respecter le RGPD ainsi que la loi n° 78-17 du 6 janvier 1978 relative à l'informatique, "
        "aux fichiers et aux libertés."
    )
    w.p(
        "La CDC traite les données du représentant légal et des interlocuteurs de la Structure ainsi que des "
        "conseillers numériques (identité, fonctions, coordonnées professionnelles, informations relatives au "
        "contrat de travail) aux fins d'instruction, de conclusion, d'exécution, de suivi et de contrôle de la "
        "convention. Ce traitement est nécessaire à l'exécution de la mission d'intérêt public dont la CDC est "
        "chargée pour le compte de l'État (article 6, paragraphe 1, point e, du RGPD). Les données sont "
        "destinées aux seuls services habilités de la CDC, de l'ANCT et de l'État."
    )
    w.p(
        "Les données sont conservées pendant la durée de la convention, puis pendant cinq (5) ans à compter de "
        "son terme, sans préjudice des durées plus longues imposées par les règles relatives aux archives et à "
        "la comptabilité publiques."
    )
    w.p(
        "Les personnes concernées disposent d'un droit d'accès, de rectification, d'effacement, de limitation du "
        "traitement et d'opposition, qu'elles exercent auprès du délégué à la protection des données de la CDC. "
        "Elles peuvent introduire une réclamation auprès de la Commission nationale de l'informatique et des "
        "libertés (CNIL). La Structure informe de ces traitements les personnes dont elle communique les "
        "données à la CDC, notamment les conseillers numériques."
    )

    # Article 10 --------------------------------------------------------------------------------
    w.h1("Article 10 — Litiges")
    w.p(
        "Les Parties s'efforcent de régler à l'amiable tout différend relatif à l'interprétation ou à "
        "l'exécution de la présente convention. À défaut d'accord dans un délai de deux (2) mois à compter de la "
        "notification du différend par la Partie la plus diligente, le litige est porté devant le tribunal "
        "administratif de Paris.",
        keep_next=True,  # the signature page carries the end of the text
    )


def signatures(w: Writer, *, lieu_date: bool = False) -> None:
    """Both signature blocks side by side; ``lieu_date``: "Fait à …, le …" blanks in each block."""
    lead = w.p("Fait en deux exemplaires originaux, dont un pour chacune des Parties.", keep_next=True)
    lead.paragraph_format.space_before = Pt(18)
    lead.paragraph_format.space_after = Pt(12)
    table = w.doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tblpr = table._tbl.tblPr
    _border(tblpr, "w:tblBorders", {s: ("nil", 0, "auto") for s in ("top", "left", "bottom", "right", "insideH", "insideV")})
    row = table.rows[0]
    trpr = row._tr.get_or_add_trPr()
    trpr.append(OxmlElement("w:cantSplit"))
    blocks = [
        [
            "**Pour la Caisse des Dépôts et Consignations**",
            "Direction Banque des Territoires",
            "",
            "Nom : ……………………………………",
            "Qualité : ………………………………",
            "",
            "Date et signature :",
        ],
        [
            "**Pour la Structure**",
            "{{ structure.denomination }}",
            "",
            "{{ representant.nom_complet }}",
            "{{ representant.qualite }}",
            "",
            "Date et signature :",
        ],
    ]
    if lieu_date:
        for lines in blocks:
            lines[-1:] = ["Fait à ……………………………………", "le ………………………………………", "Signature :"]
    for cell, lines in zip(row.cells, blocks):
        cell.width = Cm(8.0)
        first = True
        for line in lines:
            paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
            first = False
            paragraph.style = w.doc.styles["Normal"]
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
            paragraph.paragraph_format.space_after = Pt(2)
            Writer._runs(paragraph, line)
        # Room for the signature itself.
        for _ in range(4):
            cell.add_paragraph(style="Texte tableau")
    for col in table._tbl.tblGrid.findall(qn("w:gridCol")):
        col.set(qn("w:w"), str(int(Cm(8.0).twips)))


def annexes(w: Writer) -> None:
    w.h1("Annexe 1 — Liste des postes", page_break=True)
    w.p(
        "Postes de conseiller numérique attribués à la Structure au titre de la présente convention, à la date "
        "d'édition de celle-ci ({{ convention.date_edition }}).",
        keep_next=True,
    )
    w.table(
        [1.0, 2.0, 1.8, 3.6, 4.4, 3.2],
        ["N°", "Identifiant", "État", "Conseiller", "Contrat", "Observation"],
        [
            ("tr", "{%tr for poste in postes %}"),
            [
                "{{ poste.numero }}",
                "{{ poste.id }}",
                "{{ poste.etat }}",
                "{{ poste.conseiller }}",
                "{{ poste.contrat }}",
                "{{ poste.observation }}",
            ],
            ("tr", "{%tr endfor %}"),
        ],
        ["c", "l", "l", "l", "l", "l"],
    )
    w.tag("{%p if postes_a_pourvoir > 0 %}")
    w.p(
        "{{ postes_a_pourvoir }} poste{% if postes_a_pourvoir > 1 %}s{% endif %} restant à pourvoir à la date "
        "d'édition de la présente convention. La Structure s'engage à {% if postes_a_pourvoir > 1 %}les"
        "{% else %}le{% endif %} pourvoir dans les conditions de l'article 5 et à transmettre à la CDC le "
        "contrat de travail de chaque conseiller recruté."
    )
    w.tag("{%p endif %}")
    w.p(
        "État d'un poste : « occupé » lorsque le poste est pourvu par un conseiller titulaire d'un contrat de "
        "travail en cours de validité ; « vacant » lorsqu'il est dépourvu de titulaire ; « rendu » lorsqu'il a été "
        "restitué.",
        "Note",
    )

    w.h1("Annexe 2 — Échéancier prévisionnel des versements", page_break=True)
    w.p(
        "La subvention, d'un montant total de {{ montants.total }}, est versée selon l'échéancier prévisionnel "
        "suivant :",
        keep_next=True,
    )
    w.table(
        [6.0, 5.5, 4.5],
        ["Tranche", "Échéance", "Montant"],
        [
            ("tr", "{%tr for tranche in echeancier %}"),
            ["{{ tranche.numero }} — {{ tranche.libelle }}", "{{ tranche.echeance }}", "{{ tranche.montant }}"],
            ("tr", "{%tr endfor %}"),
            ("total", ["Total", "", "{{ montants.total }}"]),
        ],
        ["l", "c", "r"],
        keep_together=True,
    )
    w.p(
        "Les dates indiquées sont prévisionnelles. Chaque versement intervient sous réserve du respect des "
        "conditions prévues à l'article 4.",
        "Note",
    )


CONVENTION_FOOTER = (
    "Convention {{ convention.id }} — version {{ convention.version }} — modèle {{ convention.modele_version }}"
)


def footer(doc, text: str = CONVENTION_FOOTER) -> None:
    section = doc.sections[0]
    fp = section.footer.paragraphs[0]
    fp.style = doc.styles["Footer"]
    _border(fp._p.get_or_add_pPr(), "w:pBdr", {"top": ("single", 4, "7F8FA6")})
    fp.add_run(text)
    pages = section.footer.add_paragraph(style="Footer")
    pages.add_run("Page ")
    _field(pages, "PAGE", "1")
    pages.add_run(" / ")
    _field(pages, "NUMPAGES", "1")


# -- avenant and avenant de résiliation --------------------------------------------------------------
# Both documents reuse the convention's styles, parties and signature blocks. Their context is built
# by dossiers/domain/context_avenant.py (keys documented there). Clauses marked « non sourcé » were
# drafted without a public source (no model avenant of the programme was found): to be reviewed by the
# legal team, like the convention's (README, "À faire relire par le service juridique").
AVENANT_FOOTER = (
    "Avenant n° {{ avenant.numero }} à la convention {{ convention.id }} — version {{ convention.version }} — "
    "modèle {{ avenant.modele_version }}"
)
PLURIEL_POSTES_AVANT = "{% if convention.nombre_postes_avant != '1' %}s{% endif %}"


def avenant_heading(w: Writer, title: str, subtitle: str) -> None:
    w.p(title, "Title")
    w.p(subtitle, "Subtitle")
    w.tag("{%p if avenant.renouvellement %}")
    w.p("Renouvellement de la convention", "Subtitle")
    w.tag("{%p endif %}")
    w.p("Dispositif Conseiller numérique", "Subtitle")
    ref = w.p("Convention n° {{ convention.id }} — version {{ convention.version }}", "Référence")
    ref.paragraph_format.space_before = Pt(10)
    edition = w.p("Édition du {{ avenant.date_edition }}", "Subtitle")
    edition.paragraph_format.space_after = Pt(6)
    _border(edition._p.get_or_add_pPr(), "w:pBdr", {"bottom": ("single", 8, "1F3A5F")})
    for run in edition.runs:
        run.font.size = Pt(10)


def nested_dash(w: Writer, text: str):
    """A list item one level in (the avenants under the convention they modify)."""
    paragraph = w.p(text, "Liste à tirets")
    paragraph.paragraph_format.left_indent = Cm(1.7)
    paragraph.paragraph_format.first_line_indent = Cm(-0.5)
    return paragraph


def vu_avenant(w: Writer, *, articles_vises: str) -> None:
    """« Vu »: the convention, its earlier avenants (or a sentence saying there is none), the
    Structure's decision (public) and the articles of the convention the document applies."""
    w.p("Vu", "Heading 2")
    convention = (
        "la convention de subvention n° {{ convention.id }} conclue entre la CDC et la Structure au titre du "
        "dispositif Conseiller numérique, émise le {{ convention.date_emission }}{% if convention.date_signature %} "
        "et signée le {{ convention.date_signature }}{% endif %} (ci-après « la convention »)"
    )
    w.tag("{%p if avenants_precedents %}")
    w.dash(convention + ", modifiée par :")
    w.tag("{%p for precedent in avenants_precedents %}")
    nested_dash(w, "l'avenant n° {{ precedent.numero }} émis le {{ precedent.date_emission }}"
                   "{% if precedent.date_signature %} et signé le {{ precedent.date_signature }}{% endif %}, "
                   "ayant pour objet : {{ precedent.motif }} ;")
    w.tag("{%p endfor %}")
    w.tag("{%p else %}")
    w.dash(convention + ", qui n'a fait l'objet d'aucun avenant avant le présent avenant ;")
    w.tag("{%p endif %}")
    # non sourcé: a public Structure's deliberation approving the avenant, by analogy with the convention.
    w.tag("{%p if structure.est_publique %}")
    w.dash(
        "la délibération ou la décision de l'organe compétent de la Structure approuvant le présent avenant et "
        "autorisant son représentant légal à le signer ;"
    )
    w.tag("{%p endif %}")
    w.tag("{%p if avenant.ajout_postes %}")
    w.dash(
        "la décision du comité de sélection réuni par l'Agence nationale de la cohésion des territoires (ANCT) "
        "attribuant à la Structure le ou les postes supplémentaires mentionnés à l'article 3 ;"
    )
    w.tag("{%p endif %}")
    w.dash(articles_vises)


def motif_block(w: Writer, lead: str) -> None:
    w.p(lead, keep_next=True)
    w.p("{{ avenant.motif }}", "Adresse")


def avenant_articles(w: Writer) -> None:
    w.p("Il est convenu ce qui suit", "Heading 2")

    # Article 1 ---------------------------------------------------------------------------------
    w.h1("Article 1 — Objet de l'avenant")
    w.tag("{%p if avenant.renouvellement %}")
    w.p(
        "Le présent avenant a pour objet le renouvellement de la convention pour une nouvelle période de "
        "{{ convention.duree_lettres }} ({{ convention.duree_mois }}) mois, courant du "
        "{{ convention.date_debut }} au {{ convention.date_fin }} inclus, dans les conditions ci-après."
    )
    w.tag("{%p else %}")
    w.p("Le présent avenant a pour objet de modifier la convention dans les conditions ci-après.")
    w.tag("{%p endif %}")
    motif_block(w, "Il intervient pour le motif suivant :")
    w.tag("{%p if avenant.changement_nature %}")
    w.p(
        "À compter du {{ avenant.nature_depuis }}, la Structure est une {{ avenant.nature_libelle }} ; les "
        "montants de la subvention dus à compter de cette date sont ceux que la convention prévoit pour cette "
        "nature de structure."
    )
    w.tag("{%p endif %}")
    w.p(
        "Conformément à l'article 7 de la convention, la convention ainsi modifiée constitue sa version "
        "n° {{ convention.version }}, qui se substitue à la version n° {{ convention.version_precedente }}."
    )

    # Article 2 ---------------------------------------------------------------------------------
    w.h1("Article 2 — Stipulations modifiées")
    w.tag("{%p if articles %}")
    w.p("Le présent avenant modifie les stipulations suivantes de la convention :", keep_next=True)
    w.tag("{%p for article in articles %}")
    w.dash("{{ article.libelle }}{% if loop.last %}.{% else %} ;{% endif %}")
    w.tag("{%p endfor %}")
    w.tag("{%p else %}")
    w.p("Le présent avenant ne modifie que les annexes de la convention, dans les conditions ci-après.")
    w.tag("{%p endif %}")
    w.p(
        "L'annexe 1 (liste des postes) et l'annexe 2 (échéancier prévisionnel des versements) de la convention "
        "se lisent, à compter de la date d'effet du présent avenant, conformément aux articles 3 et 5 ci-dessous."
    )

    # Article 3 ---------------------------------------------------------------------------------
    w.h1("Article 3 — Postes")
    w.tag("{%p if convention.nombre_postes != convention.nombre_postes_avant %}")
    w.p(
        "À compter de la date d'effet du présent avenant, la convention porte sur "
        "{{ convention.nombre_postes_lettres }} ({{ convention.nombre_postes }}) poste" + PLURIEL_POSTES
        + " de conseiller numérique, contre {{ convention.nombre_postes_avant_lettres }} "
        "({{ convention.nombre_postes_avant }}) auparavant."
    )
    w.tag("{%p else %}")
    w.p(
        "La convention porte sur {{ convention.nombre_postes_lettres }} ({{ convention.nombre_postes }}) "
        "poste" + PLURIEL_POSTES + " de conseiller numérique."
    )
    w.tag("{%p endif %}")
    w.p("Les postes et leur période de financement, avant et après le présent avenant, sont les suivants :",
        keep_next=True)
    w.table(
        [1.9, 3.3, 2.8, 4.0, 4.0],
        ["Poste", "Conseiller", "État", "Période financée avant l'avenant", "Période financée après l'avenant"],
        [
            ("tr", "{%tr for poste in postes %}"),
            ["{{ poste.id }}", "{{ poste.conseiller }}", "{{ poste.etat }}", "{{ poste.periode_avant }}",
             "{{ poste.periode_apres }}"],
            ("tr", "{%tr endfor %}"),
        ],
        ["l", "l", "l", "l", "l"],
    )
    w.p(
        "L'état de chaque poste est celui qui ressort des contrats de travail et des fins de contrat déclarés, à la "
        "date d'édition du présent avenant ou, lorsque le financement du poste a pris fin auparavant, au dernier "
        "jour de ce financement.",
        "Note",
    )
    w.tag("{%p if avenant.retrait_postes %}")
    w.p(
        "Pour chaque poste rendu, la période financée prend fin à la date à laquelle le contrat de travail du "
        "conseiller a effectivement pris fin ; aucune somme n'est due au titre de ce poste pour la période "
        "postérieure (article 7 de la convention)."
    )
    w.tag("{%p endif %}")
    w.tag("{%p if avenant.ajout_postes %}")
    w.p(
        "{% if postes_ajoutes == '1' %}Le poste ajouté est financé{% else %}Les postes ajoutés sont financés"
        "{% endif %} à compter de la date d'effet du présent avenant. La Structure {% if postes_ajoutes == '1' %}"
        "le pourvoit{% else %}les pourvoit{% endif %} dans les conditions de l'article 5 de la convention et "
        "transmet à la CDC le contrat de travail de chaque conseiller recruté."
    )
    w.tag("{%p endif %}")

    # Article 4 ---------------------------------------------------------------------------------
    w.h1("Article 4 — Montant de la subvention")
    w.tag("{%p if avenant.renouvellement %}")
    w.p(
        "Pour la nouvelle période, le montant total de la subvention est fixé à **{{ montants.total_apres }}** "
        "({{ montants.total_apres_lettres }}). Il se répartit par année d'exécution comme suit :",
        keep_next=True,
    )
    w.table(
        [2.0, 9.0, 5.0],
        ["Année", "Période", "Montant dû"],
        [
            ("tr", "{%tr for annee in montants.annees %}"),
            ["{{ annee.libelle }}", "{{ annee.periode }}", "{{ annee.du_apres }}"],
            ("tr", "{%tr endfor %}"),
            ("total", ["Total", "", "{{ montants.total_apres }}"]),
        ],
        ["l", "l", "r"],
        keep_together=True,
    )
    w.p(
        "Au titre de la période précédente, courue du {{ periode_precedente.debut }} au "
        "{{ periode_precedente.fin }}, le montant dû est arrêté à **{{ periode_precedente.total_du }}**, pour "
        "{{ periode_precedente.total_verse }} versés{% if periode_precedente.trop_percu %}, soit un trop-perçu "
        "de {{ periode_precedente.total_a_reverser }}, reversé dans les conditions de l'article 5"
        "{% endif %}."
    )
    w.tag("{%p else %}")
    w.p(
        "Le montant total de la subvention, fixé à **{{ montants.total_avant }}** avant le présent avenant, "
        "{% if montants.variation %}est porté{% else %}demeure fixé{% endif %} à **{{ montants.total_apres }}** "
        "({{ montants.total_apres_lettres }}){% if montants.variation %}, soit {{ montants.variation }}"
        "{% endif %}. Il se répartit par année d'exécution de la convention comme suit :",
        keep_next=True,
    )
    w.table(
        [2.5, 2.7, 2.7, 2.7, 2.7, 2.7],
        ["Année", "Montant dû avant l'avenant", "Montant dû après l'avenant", "Déjà versé", "Reste à verser",
         "À reverser"],
        [
            ("tr", "{%tr for annee in montants.annees %}"),
            ["{{ annee.libelle }}", "{{ annee.du_avant }}", "{{ annee.du_apres }}", "{{ annee.verse }}",
             "{{ annee.reste_a_verser }}", "{{ annee.a_reverser }}"],
            ("tr", "{%tr endfor %}"),
            ("total", ["Total", "{{ montants.total_avant }}", "{{ montants.total_apres }}",
                       "{{ montants.total_verse }}", "{{ montants.total_reste_a_verser }}",
                       "{{ montants.total_a_reverser }}"]),
        ],
        ["l", "r", "r", "r", "r", "r"],
        keep_together=True,
    )
    w.tag("{%p endif %}")
    w.p(
        "Le montant dû après l'avenant est calculé, pour chaque poste, au prorata de sa période de financement "
        "sur l'année d'exécution, à partir des montants annuels fixés à l'article 3 de la convention. Les "
        "montants versés sont ceux que la CDC a versés à la date d'édition du présent avenant.",
        "Note",
    )

    # Article 5 ---------------------------------------------------------------------------------
    w.h1("Article 5 — Nouvel échéancier")
    w.p(
        "L'échéancier prévisionnel des versements figurant en annexe 2 de la convention est remplacé par "
        "l'échéancier suivant :",
        keep_next=True,
    )
    w.table(
        [1.9, 4.1, 2.5, 2.5, 2.5, 2.5],
        ["Année", "Échéance", "Montant dû", "Déjà versé", "Reste à verser", "À reverser"],
        [
            ("tr", "{%tr for tranche in echeancier %}"),
            ["{{ tranche.libelle }}", "{{ tranche.echeance }}", "{{ tranche.du }}", "{{ tranche.verse }}",
             "{{ tranche.reste_a_verser }}", "{{ tranche.a_reverser }}"],
            ("tr", "{%tr endfor %}"),
            ("total", ["Total", "", "{{ montants.total_apres }}", "{{ montants.total_verse }}",
                       "{{ montants.total_reste_a_verser }}", "{{ montants.total_a_reverser }}"]),
        ],
        ["l", "l", "r", "r", "r", "r"],
        keep_together=True,
    )
    w.tag("{%p if avenant.contrats_attendus %}")
    w.p(
        "Conformément à l'article 4.2 de la convention, la première tranche de la nouvelle période n'est versée, "
        "pour chacun des postes suivants, qu'après production du contrat de travail du conseiller recruté pour "
        "cette période : {{ avenant.contrats_attendus }}."
    )
    w.tag("{%p endif %}")
    # non sourcé: the sums of a past échéance are paid after the signature.
    w.p(
        "Les sommes restant à verser au titre d'une année dont l'échéance est passée à la date de signature du "
        "présent avenant sont versées après cette signature, dans les conditions de l'article 4 de la convention.",
        "Note",
    )
    w.tag("{%p if reversement.du %}")
    w.sub("Reversement du trop-perçu")
    # non sourcé: the repayment delay is the rule set's ([reversement]), the same phrase as the
    # convention's article 6.3, so the avenant and the convention it amends state one delay.
    w.p(
        "La Structure reverse à la CDC la somme de **{{ reversement.montant }}** "
        "({{ reversement.montant_lettres }}), correspondant aux sommes versées au-delà des montants dus "
        "(trop-perçu). Ce reversement intervient dans un délai de {{ regles.delai_reversement }} à compter de "
        "la réception du titre de recette émis à cet effet. Conformément à l'article 6.3 de la convention, la CDC peut également "
        "déduire tout ou partie de cette somme des tranches restant à verser."
    )
    w.tag("{%p endif %}")

    # Article 6 ---------------------------------------------------------------------------------
    w.h1("Article 6 — Autres stipulations et prise d'effet")
    # non sourcé: precedence of the avenant and its retroactive date d'effet.
    w.p(
        "Les stipulations de la convention qui ne sont pas modifiées par le présent avenant demeurent inchangées "
        "et continuent de produire leurs effets. En cas de contradiction entre la convention et le présent "
        "avenant, les stipulations du présent avenant prévalent."
    )
    w.tag("{%p if avenant.date_effet %}")
    w.p(
        "Le présent avenant prend effet le {{ avenant.date_effet }}, y compris lorsque sa signature par les "
        "Parties intervient postérieurement.",
        keep_next=True,
    )
    w.tag("{%p else %}")
    w.p("Le présent avenant prend effet à la date de sa signature par la dernière des Parties.", keep_next=True)
    w.tag("{%p endif %}")


def resiliation_articles(w: Writer) -> None:
    w.p("Il est convenu ce qui suit", "Heading 2")

    # Article 1 ---------------------------------------------------------------------------------
    w.h1("Article 1 — Objet")
    w.tag("{%p if resiliation.type == 'naturelle' %}")
    w.p(
        "La convention est arrivée à son terme le {{ resiliation.date }} et n'est pas renouvelée. Le présent "
        "avenant constate la fin de la convention et arrête le solde financier de la subvention."
    )
    w.tag("{%p endif %}")
    w.tag("{%p if resiliation.type == 'anticipee' %}")
    w.p(
        "La convention est résiliée de manière anticipée à la date du {{ resiliation.date }}, dernier jour de "
        "la période financée. Le présent avenant arrête le solde financier de la subvention à cette date."
    )
    w.tag("{%p endif %}")
    w.tag("{%p if resiliation.type == 'integrale' %}")
    w.p(
        "La convention fait l'objet d'une résiliation intégrale : l'ensemble des postes est rendu et la "
        "convention prend fin à la date du {{ resiliation.date }}. Le présent avenant arrête le solde financier "
        "de la subvention à cette date."
    )
    w.tag("{%p endif %}")
    motif_block(w, "Il intervient pour le motif suivant :")
    w.p(
        "Conformément à l'article 7 de la convention, le présent avenant en constitue la version "
        "n° {{ convention.version }}, qui se substitue à la version n° {{ convention.version_precedente }}."
    )

    # Article 2 ---------------------------------------------------------------------------------
    w.h1("Article 2 — Postes")
    w.p("La période de financement de chacun des postes est arrêtée comme suit :", keep_next=True)
    w.table(
        [1.9, 3.7, 2.4, 4.0, 4.0],
        ["Poste", "Conseiller", "État", "Début du financement", "Fin du financement"],
        [
            ("tr", "{%tr for poste in postes %}"),
            ["{{ poste.id }}", "{{ poste.conseiller }}", "{{ poste.etat_apres }}", "{{ poste.debut }}",
             "{{ poste.fin }}"],
            ("tr", "{%tr endfor %}"),
        ],
        ["l", "l", "l", "l", "l"],
    )
    w.p(
        "L'état de chaque poste est celui qui ressort des contrats de travail et des fins de contrat déclarés, à la "
        "date d'édition du présent avenant ou, lorsque le financement du poste a pris fin auparavant, au dernier "
        "jour de ce financement.",
        "Note",
    )
    w.p(
        "Aucune somme n'est due au titre d'un poste pour la période postérieure à la fin de son financement."
    )
    w.tag("{%p if resiliation.nombre_non_pourvus == '1' %}")
    w.p(
        "Le poste {{ resiliation.postes_non_pourvus }} n'ayant été occupé par aucun conseiller pendant sa période "
        "de financement, aucune somme n'est due à son titre ; les sommes versées pour ce poste sont à reverser, "
        "dans les conditions de l'article 4."
    )
    w.tag("{%p elif resiliation.nombre_non_pourvus != '0' %}")
    w.p(
        "Les postes {{ resiliation.postes_non_pourvus }} n'ayant été occupés par aucun conseiller pendant leur "
        "période de financement, aucune somme n'est due à leur titre ; les sommes versées pour ces postes sont à "
        "reverser, dans les conditions de l'article 4."
    )
    w.tag("{%p endif %}")

    # Article 3 ---------------------------------------------------------------------------------
    w.h1("Article 3 — Solde financier")
    w.p(
        "Le montant de la subvention, fixé à **{{ montants.total_avant }}** avant le présent avenant, est arrêté "
        "définitivement à **{{ montants.total_apres }}** ({{ montants.total_apres_lettres }}). Il se répartit "
        "par année d'exécution de la convention comme suit :",
        keep_next=True,
    )
    w.table(
        [1.9, 4.1, 2.5, 2.5, 2.5, 2.5],
        ["Année", "Période", "Montant dû", "Versé", "Reste à verser", "À reverser"],
        [
            ("tr", "{%tr for annee in montants.annees %}"),
            ["{{ annee.libelle }}", "{{ annee.periode }}", "{{ annee.du_apres }}", "{{ annee.verse }}",
             "{{ annee.reste_a_verser }}", "{{ annee.a_reverser }}"],
            ("tr", "{%tr endfor %}"),
            ("total", ["Total", "", "{{ montants.total_apres }}", "{{ montants.total_verse }}",
                       "{{ montants.total_reste_a_verser }}", "{{ montants.total_a_reverser }}"]),
        ],
        ["l", "l", "r", "r", "r", "r"],
        keep_together=True,
    )
    w.p(
        "Le montant dû est calculé, pour chaque poste, au prorata de sa période de financement sur l'année "
        "d'exécution, à partir des montants annuels fixés à l'article 3 de la convention. Les montants versés "
        "sont ceux que la CDC a versés à la date d'édition du présent avenant.",
        "Note",
    )

    # Article 4 ---------------------------------------------------------------------------------
    w.h1("Article 4 — Règlement du solde")
    # non sourcé: compensation between the sums still to pay and the sums to repay.
    w.tag("{%p if solde.compensation %}")
    w.p(
        "Les sommes restant à verser par la CDC ({{ montants.total_reste_a_verser }}) et les sommes à reverser "
        "par la Structure ({{ montants.total_a_reverser }}) se compensent à due concurrence."
    )
    w.tag("{%p endif %}")
    # non sourcé: the repayment delay is the rule set's ([reversement]), as in the convention and the avenant.
    w.tag("{%p if solde.sens == 'reverser' %}")
    w.p(
        "La Structure reverse à la CDC la somme de **{{ solde.montant }}** ({{ solde.montant_lettres }}), dans "
        "un délai de {{ regles.delai_reversement }} à compter de la réception du titre de recette émis à cet "
        "effet, par virement sur le compte indiqué sur ce titre."
    )
    w.tag("{%p endif %}")
    w.tag("{%p if solde.sens == 'verser' %}")
    w.p(
        "La CDC verse à la Structure la somme de **{{ solde.montant }}** ({{ solde.montant_lettres }}) au titre "
        "du solde de la subvention, dans les conditions de l'article 4 de la convention."
    )
    w.tag("{%p endif %}")
    w.tag("{%p if solde.sens == 'nul' %}")
    w.p(
        "Les Parties constatent que les sommes versées correspondent au montant définitif de la subvention : "
        "aucune somme ne reste à verser ni à reverser."
    )
    w.tag("{%p endif %}")

    # Article 5 ---------------------------------------------------------------------------------
    w.h1("Article 5 — Obligations maintenues")
    w.p(
        "Nonobstant la fin de la convention, la Structure demeure tenue de justifier de l'emploi des sommes "
        "perçues dans les conditions de l'article 6.1 de la convention. Les stipulations des articles 6 "
        "(justification, contrôle et reversement), 9 (données personnelles) et 10 (litiges) de la convention "
        "demeurent applicables jusqu'à l'extinction des obligations qu'elles prévoient."
    )

    # Article 6 ---------------------------------------------------------------------------------
    w.h1("Article 6 — Prise d'effet")
    # non sourcé: the end dates apply even when earlier than the signature.
    w.p(
        "Le présent avenant prend effet à la date de sa signature par la dernière des Parties. La fin de la "
        "convention et celle du financement des postes interviennent aux dates fixées aux articles 1 et 2, y "
        "compris lorsque ces dates sont antérieures à cette signature.",
        keep_next=True,
    )


# -- page setup, properties, packaging --------------------------------------------------------
def page_setup(doc) -> None:
    section = doc.sections[0]
    section.start_type = WD_SECTION.NEW_PAGE
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.5))
    section.header_distance = Cm(1.25)
    section.footer_distance = Cm(1.0)


def core_properties(doc, title: str = "Convention de subvention — Conseiller numérique") -> None:
    cp = doc.core_properties
    cp.title = title
    cp.subject = "Dispositif Conseiller numérique"
    cp.author = "conum"
    cp.last_modified_by = "conum"
    cp.keywords = ""
    cp.comments = "Modèle généré par tools/build_templates.py ; ne pas modifier à la main."
    cp.category = ""
    cp.language = "fr-FR"
    cp.revision = 1
    cp.created = FIXED_DATE
    cp.modified = FIXED_DATE
    cp.last_printed = FIXED_DATE


APP_XML = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Application>conum tools/build_templates.py</Application><DocSecurity>0</DocSecurity>"
    "<ScaleCrop>false</ScaleCrop><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
    "<HyperlinksChanged>false</HyperlinksChanged></Properties>"
)


def package_cleanup(doc) -> None:
    pkg = doc.part.package
    # The stock template's thumbnail shows an empty Word page; drop it.
    for rid, rel in list(pkg.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            del pkg.rels[rid]
            pkg.rels._target_parts_by_rId.pop(rid, None)
    for part in pkg.parts:
        if part.partname == "/docProps/app.xml":
            part._blob = APP_XML.encode("utf-8")


def check(doc) -> None:
    """Every Jinja tag whole inside one run (docxtpl can mend splits, reviewers cannot), and the
    property elements this script edits in schema order."""
    roots = (doc.element.body, doc.sections[0].footer._element, doc.styles.element)
    for root in roots:
        for run in root.iter(qn("w:r")):
            text = "".join(t.text or "" for t in run.iter(qn("w:t")))
            for opening, closing in (("{{", "}}"), ("{%", "%}")):
                if text.count(opening) != text.count(closing):
                    raise SystemExit(f"split Jinja tag in run: {text!r}")
        for tag, order in _ORDER.items():
            for props in root.iter(tag):
                ranks = [order.index(c.tag) for c in props if c.tag in order]
                if ranks != sorted(ranks):
                    raise SystemExit(f"children of {props.tag} out of schema order: {[c.tag for c in props]}")


def deterministic_zip(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        names = src.namelist()
        # [Content_Types].xml first, as Office writes it; the rest in a stable order.
        names.sort(key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            dst.writestr(info, src.read(name))
    return out.getvalue()


def _new_document(title: str) -> Writer:
    doc = Document()
    page_setup(doc)
    setup_styles(doc)
    core_properties(doc, title)
    package_cleanup(doc)
    # python-docx's blank document starts with no paragraph; the title comes first.
    return Writer(doc)


def _package(doc) -> bytes:
    check(doc)
    buffer = io.BytesIO()
    doc.save(buffer)
    # python-docx's default document carries ~130 unused styles, Word's latent styles and a Word 2010
    # copy of the styles: LibreOffice spends ~50 ms importing them on every conversion. Drop them.
    return deterministic_zip(slim_docx(buffer.getvalue()))


def build() -> bytes:
    """templates/convention.docx"""
    w = _new_document("Convention de subvention — Conseiller numérique")
    title_block(w)
    parties(w)
    preambule(w)
    articles(w)
    signatures(w)
    annexes(w)
    footer(w.doc)
    return _package(w.doc)


def build_avenant() -> bytes:
    """templates/avenant.docx: avenant n° N (ajout, retrait, changement de nature, renouvellement)."""
    w = _new_document("Avenant à la convention de subvention — Conseiller numérique")
    avenant_heading(w, "Avenant n° {{ avenant.numero }}", "à la convention de subvention n° {{ convention.id }}")
    soussignes(w, acte="le présent avenant", fin="en fin d'avenant")
    vu_avenant(w, articles_vises="l'article 7 de la convention, relatif à sa modification par avenant.")
    avenant_articles(w)
    signatures(w, lieu_date=True)
    footer(w.doc, AVENANT_FOOTER)
    return _package(w.doc)


def build_resiliation() -> bytes:
    """templates/resiliation.docx: avenant de résiliation (anticipée, intégrale, arrivée à terme)."""
    w = _new_document("Avenant de résiliation — Conseiller numérique")
    avenant_heading(
        w, "Avenant de résiliation", "Avenant n° {{ avenant.numero }} à la convention de subvention n° {{ convention.id }}"
    )
    soussignes(w, acte="le présent avenant", fin="en fin d'avenant")
    vu_avenant(w, articles_vises="les articles 2 et 8 de la convention, relatifs à sa durée et à sa résiliation.")
    resiliation_articles(w)
    signatures(w, lieu_date=True)
    footer(w.doc, AVENANT_FOOTER)
    return _package(w.doc)


BUILDERS = {"convention": build, "avenant": build_avenant, "resiliation": build_resiliation}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="build_templates.py", description="Construit les modèles DOCX.")
    parser.add_argument("sortie", nargs="?", type=Path,
                        help="fichier à écrire pour un seul modèle (défaut : les trois modèles dans templates/)")
    parser.add_argument("--modele", choices=sorted(BUILDERS), default="convention",
                        help="modèle écrit dans SORTIE (défaut : convention)")
    parser.add_argument("--dossier", type=Path, help="écrit les trois modèles dans ce dossier")
    args = parser.parse_args(argv[1:])
    if args.sortie is not None:
        targets = {args.modele: args.sortie}
    else:
        folder = args.dossier or OUTPUT.parent
        targets = {name: folder / f"{name}.docx" for name in BUILDERS}
    for name, output in targets.items():
        output.parent.mkdir(parents=True, exist_ok=True)
        data = BUILDERS[name]()
        output.write_bytes(data)
        print(f"{output.relative_to(ROOT) if output.is_relative_to(ROOT) else output}: {len(data)} octets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
