"""DOCX rendering with docxtpl, prepared once per template and rendered many times.

Stock ``DocxTemplate.render`` re-parses, cleans and compiles the template on every call (more
than half of its ~55 ms). ``PreparedTemplate`` does that work once, with docxtpl's own clean-up
(``patch_xml``) and post-processing (``resolve_listing``, ``fix_tables``), and keeps:

* the compiled Jinja template of each XML part that holds tags (body, headers, footers);
* every other part already deflated in a zip prefix, so a render only compresses what changed.

A render is then: Jinja render + docxtpl post-processing + one deflate, with the same text as
stock docxtpl (a test compares them). Autoescaping is always on (``&``, ``<``, quotes come out as
typed) and undefined variables raise. Prepared templates are immutable, so one object can be
shared by threads; the output is deterministic (fixed zip timestamps) for a given context.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from docxtpl import DocxTemplate
from lxml import etree

from dossiers.adapters.docx.normalise import normalise_docx
from dossiers.errors import ErrorCode, TemplateError

__all__ = ["PreparedTemplate", "TemplateCache", "jinja_environment", "open_docxtpl", "patched_sources", "template_xml"]

_DECLARATION = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_LISTING_CHARS = re.compile(r"[\n\t\a\f]")


def jinja_environment() -> jinja2.Environment:
    """The one Jinja environment templates are compiled with: autoescape on, strict undefined."""
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)


def open_docxtpl(data: bytes, label: str) -> DocxTemplate:
    """docxtpl's view of a .docx; :class:`TemplateError` when python-docx cannot read it."""
    try:
        tpl = DocxTemplate(io.BytesIO(data))
        tpl.init_docx()
    except Exception as exc:  # python-docx raises several types for a bad package
        raise TemplateError(f"modèle {label} illisible : {exc}", code=ErrorCode.MODELE_INVALIDE) from exc
    return tpl


def template_xml(tpl: DocxTemplate) -> list[tuple[str, str, str, str]]:
    """(part name, XML before, XML that may hold tags, XML after) for the body and for each header
    and footer holding a ``{``: what docxtpl renders."""
    root = tpl.docx._element
    document = etree.tostring(root, encoding="unicode")
    start, end = document.index("<w:body"), document.rindex("</w:body>") + len("</w:body>")
    parts = [(tpl.docx.part.partname.lstrip("/"), _DECLARATION + document[:start], tpl.get_xml(), document[end:])]
    for uri in (tpl.HEADER_URI, tpl.FOOTER_URI):
        for _key, part in tpl.get_headers_footers(uri):
            xml = tpl.get_part_xml(part)
            if "{" in xml:
                parts.append((part.partname.lstrip("/"), _DECLARATION, xml, ""))
    return parts


def patched_sources(data: bytes, label: str) -> dict[str, str]:
    """Part name -> Jinja source after docxtpl's clean-up, without compiling it (for the lint)."""
    tpl = open_docxtpl(data, label)
    return {name: tpl.patch_xml(xml) for name, _before, xml, _after in template_xml(tpl)}


@dataclass(frozen=True)
class _Part:
    name: str  # zip member, e.g. "word/document.xml"
    prefix: str  # XML around the rendered fragment (body: the document element; headers: empty)
    template: jinja2.Template
    suffix: str
    fix_tables: bool  # template has column loops or merges that docxtpl must re-balance


class PreparedTemplate:
    """A DOCX template cleaned and compiled once; ``render(context) -> bytes``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        raw = path.read_bytes()
        self.sha256 = hashlib.sha256(raw).hexdigest()  # of the file as committed (catalog: modele_sha256)
        data = normalise_docx(raw)  # what Word or LibreOffice added last does not reach the output
        self._docxtpl = open_docxtpl(data, path.name)
        self.env = jinja_environment()
        self.sources: dict[str, str] = {}  # part name -> patched Jinja source, for the manifest check
        self._parts = self._compile_parts()
        self._static_zip = self._build_static_zip(data, {p.name for p in self._parts})

    # -- preparation -------------------------------------------------------------------------
    def _compile(self, name: str, xml: str) -> jinja2.Template:
        source = self._docxtpl.patch_xml(xml)
        self.sources[name] = source
        source = re.sub(r"<w:p([ >])", r"\n<w:p\1", source)
        try:
            return self.env.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                f"modèle {self.path.name}, partie {name} : syntaxe invalide ({exc.message})",
                code=ErrorCode.MODELE_INVALIDE,
            ) from exc

    def _compile_parts(self) -> list[_Part]:
        parts = []
        for name, prefix, xml, suffix in template_xml(self._docxtpl):
            body = name == "word/document.xml"
            fix = body and bool(re.search(r"{%\s*tc|{%\s*(colspan|cellbg|vm|hm)\b", xml))
            parts.append(_Part(name, prefix, self._compile(name, xml), suffix, fix))
        return parts

    @staticmethod
    def _build_static_zip(raw: bytes, templated: set[str]) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                if info.filename not in templated:
                    dst.writestr(zipfile.ZipInfo(info.filename, _ZIP_TIME), src.read(info), zipfile.ZIP_DEFLATED)
        return out.getvalue()

    # -- rendering ---------------------------------------------------------------------------
    def _render_part(self, part: _Part, context: dict[str, Any]) -> bytes:
        try:
            xml = part.template.render(context)
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                f"modèle {self.path.name} : variable absente du contexte ({exc.message})",
                code=ErrorCode.MODELE_INVALIDE,
            ) from exc
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        xml = xml.replace("{_{", "{{").replace("}_}", "}}").replace("{_%", "{%").replace("%_}", "%}")
        if _LISTING_CHARS.search(xml):  # a value carried a line break or a tab: docxtpl turns it into <w:br/>
            xml = self._docxtpl.resolve_listing(xml)
        if part.fix_tables:
            xml = etree.tostring(self._docxtpl.fix_tables(xml), encoding="unicode")
        return (part.prefix + xml + part.suffix).encode("utf-8")

    def render(self, context: dict[str, Any]) -> bytes:
        """Render to the bytes of a .docx file."""
        rendered = [(p.name, self._render_part(p, context)) for p in self._parts]
        out = io.BytesIO(self._static_zip)
        out.seek(0, io.SEEK_END)
        with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as docx:
            for name, data in rendered:
                docx.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data, zipfile.ZIP_DEFLATED)
        return out.getvalue()


class TemplateCache:
    """Prepared templates by path, re-prepared when the file changes. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[tuple[int, int], PreparedTemplate]] = {}

    def get(self, path: Path) -> PreparedTemplate:
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise TemplateError(f"modèle introuvable : {path}", code=ErrorCode.MODELE_ABSENT) from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            entry = self._entries.get(path)
            if entry is None or entry[0] != stamp:
                entry = (stamp, PreparedTemplate(path))
                self._entries[path] = entry
            return entry[1]
