"""Take out of a DOCX what LibreOffice imports at a cost but never renders.

A document made from python-docx's default template carries ~160 style definitions of which a
convention uses ~30, 137 "latent styles" (Word's style gallery) and ``stylesWithEffects.xml``
(a Word 2010 copy of the styles). Importing the unused styles alone costs LibreOffice ~45 ms of
CPU per conversion of the convention (~130 ms for the DOCX import in all); the PDF is identical
(same bytes, same pixels). ``normalise.py`` applies :func:`slim_docx` to every template at
load, so every rendered convention is lean; it:

- drops the styles that nothing refers to (kept: defaults, every style whose id appears as a
  ``w:val`` in any other part, and what they are based on, linked to or followed by);
- drops ``w:latentStyles`` and the ``stylesWithEffects`` part.

It gives the document back unchanged when anything looks unusual (another namespace prefix,
strict OOXML, a parse error): it never decides on a guess.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib
from functools import lru_cache

from lxml import etree

__all__ = ["slim_docx"]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W}}}"
_STYLES = "word/styles.xml"
_RELS = "word/_rels/document.xml.rels"
_TYPES = "[Content_Types].xml"
_EFFECTS_TYPE = "http://schemas.microsoft.com/office/2007/relationships/stylesWithEffects"
_VALUES = re.compile(rb"""\bw:val\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_W_DECL = b'xmlns:w="' + W.encode() + b'"'
_DEPENDS = ("basedOn", "link", "next", "pStyle", "rStyle", "tblStyle")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class _Unusual(Exception):
    """The document is not one this module is sure to understand: leave it alone."""


@lru_cache(maxsize=8)
def _styles_index(styles: bytes) -> tuple[dict[str, frozenset[str]], frozenset[str], bool]:
    """{style id: ids it depends on}, the ids of the default styles, and whether there are
    latent styles."""
    root = etree.fromstring(styles, _PARSER)
    if root.tag != f"{_W}styles":
        raise _Unusual("styles.xml")
    depends: dict[str, frozenset[str]] = {}
    defaults = set()
    for style in root.iterchildren(f"{_W}style"):
        style_id = style.get(f"{_W}styleId")
        if style_id is None:
            raise _Unusual("style without id")
        refs = {
            el.get(f"{_W}val", "") for name in _DEPENDS for el in style.iter(f"{_W}{name}")
        }
        depends[style_id] = frozenset(refs)
        if style.get(f"{_W}default") in ("1", "true", "on"):
            defaults.add(style_id)
    return depends, frozenset(defaults), root.find(f"{_W}latentStyles") is not None


@lru_cache(maxsize=32)
def _slim_styles(styles: bytes, keep: frozenset[str]) -> bytes:
    root = etree.fromstring(styles, _PARSER)
    for child in list(root):
        if child.tag == f"{_W}latentStyles" or (
            child.tag == f"{_W}style" and child.get(f"{_W}styleId") not in keep
        ):
            root.remove(child)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _defines_styles(name: str) -> bool:
    return name.rsplit("/", 1)[-1] in ("styles.xml", "stylesWithEffects.xml")


def _kept(styles: bytes, parts: dict[str, bytes]) -> frozenset[str]:
    depends, defaults, _ = _styles_index(styles)
    used: set[str] = set(defaults)
    for name, data in parts.items():
        if name.startswith("word/") and name.endswith(".xml") and not _defines_styles(name):
            if b"\x00" in data or (W.encode() in data and _W_DECL not in data):
                raise _Unusual(f"{name}: not UTF-8, or WordprocessingML under another prefix")
            for double, single in _VALUES.findall(data):
                used.add(html.unescape((double or single).decode("utf-8", "replace")))
    if _W_DECL not in parts.get("word/document.xml", b""):
        raise _Unusual("word/document.xml")
    todo = [style_id for style_id in depends if style_id in used]
    keep = set(todo)
    while todo:
        for ref in depends.get(todo.pop(), ()):
            if ref in depends and ref not in keep:
                keep.add(ref)
                todo.append(ref)
    return frozenset(keep)


def _effects_part(rels: bytes) -> tuple[str, bytes] | None:
    """The stylesWithEffects part and its relationship element, if the document has one."""
    match = re.search(rb'<Relationship\b[^>]*Type="' + re.escape(_EFFECTS_TYPE.encode()) +
                      rb'"[^>]*/>', rels)  # fmt: skip
    target = re.search(rb'Target="([^"/]+)"', match.group(0)) if match else None
    if match is None or target is None:
        return None
    return "word/" + target.group(1).decode("utf-8", "replace"), match.group(0)


def slim_docx(docx: bytes) -> bytes:
    """``docx`` without unused styles, latent styles and stylesWithEffects; unchanged when it
    cannot be sure, or when there is nothing to take out."""
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as source:
            infos = source.infolist()
            names = {info.filename for info in infos}
            if _STYLES not in names or _RELS not in names:
                return docx
            effects = _effects_part(source.read(_RELS))
            if effects is not None and effects[0] not in names:
                effects = None
            drop = effects[0] if effects else None
            parts = {i.filename: source.read(i) for i in infos if i.filename != drop}
        styles = parts[_STYLES]
        keep = _kept(styles, parts)
        depends, _, latent = _styles_index(styles)
        if effects is None and not latent and len(keep) == len(depends):
            return docx  # nothing to take out (a lean template): no rewrite
        parts[_STYLES] = _slim_styles(styles, keep)
        if effects is not None:
            parts[_RELS] = parts[_RELS].replace(effects[1], b"")
            parts[_TYPES] = re.sub(rb'<Override\b[^>]*PartName="/' + re.escape(effects[0].encode()) +
                                   rb'"[^>]*/>', b"", parts.get(_TYPES, b""))  # fmt: skip
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
            for info in infos:
                if info.filename in parts:
                    target.writestr(info.filename, parts[info.filename])
        return out.getvalue()
    except (_Unusual, zipfile.BadZipFile, etree.XMLSyntaxError, KeyError, ValueError,
            OSError, EOFError, zlib.error):  # fmt: skip
        return docx
