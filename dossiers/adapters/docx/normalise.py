"""One form for a template, whatever editor saved it last: what conum renders never depends on it.

The legal service edits ``templates/*.docx`` in Word or LibreOffice, which add noise a reader
never sees: revision ids (``w:rsidR``… on every paragraph and run, ``w:rsids`` in the settings),
one run per editing session (a sentence typed in two sittings is two runs with the same
formatting), spelling marks (``w:proofErr``), the last cursor position (bookmark ``_GoBack``),
save dates, revision counters and the editor's name in the properties, and the zip members in
the editor's order with the time of the save. :func:`normalise_docx` takes all of it out at load
(``PreparedTemplate``, the lint, the text projection):

- rsid attributes and ``w:rsids``, ``w:proofErr``, ``w:lastRenderedPageBreak``, ``_GoBack``;
- adjacent runs with the same properties (and nothing but text) merged into one, so a Jinja tag
  the editor split between sessions is whole again;
- ``docProps/core.xml``'s dates, revision and last author fixed, ``docProps/app.xml`` replaced;
- unused styles, latent styles and ``stylesWithEffects`` dropped (:func:`~.slim.slim_docx`);
- members in one order (``[Content_Types].xml`` first, then by name), each stamped 2024-01-01.

A part is rewritten only when something changed in it; ``normalise_docx`` of its own output gives
the same bytes (a test checks it). What a reader sees (text, styles, tables, fields) is unchanged.
"""

from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

from dossiers.adapters.docx.slim import slim_docx

__all__ = ["normalise_docx"]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W = f"{{{W}}}"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
ZIP_TIME = (2024, 1, 1, 0, 0, 0)
FIXED_DATE = "2024-01-01T00:00:00Z"
APP_XML = (
    "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    "<Application>conum</Application><DocSecurity>0</DocSecurity>"
    "<ScaleCrop>false</ScaleCrop><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
    "<HyperlinksChanged>false</HyperlinksChanged></Properties>"
).encode("utf-8")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_RSID = re.compile(rb"\sw:rsid\w*\s*=\s*(?:\"[^\"]*\"|'[^']*')")
_NOISE = (b"w:rsid", b"w:proofErr", b"w:lastRenderedPageBreak", b"_GoBack")
_CORE = (
    (re.compile(rb"(<dcterms:(?:created|modified)\b[^>]*>)[^<]*(</dcterms:)"), rb"\g<1>" + FIXED_DATE.encode() + rb"\2"),
    (re.compile(rb"(<cp:lastPrinted>)[^<]*(</cp:lastPrinted>)"), rb"\g<1>" + FIXED_DATE.encode() + rb"\2"),
    (re.compile(rb"(<cp:revision>)[^<]*(</cp:revision>)"), rb"\g<1>1\2"),
    (re.compile(rb"<cp:lastModifiedBy\s*/>|(<cp:lastModifiedBy>)[^<]*(</cp:lastModifiedBy>)"),
     rb"<cp:lastModifiedBy>conum</cp:lastModifiedBy>"),
)


def _is_text_run(run: etree._Element) -> bool:
    return all(child.tag in (f"{_W}rPr", f"{_W}t") for child in run) and run.find(f"{_W}t") is not None


def _merge_runs(root: etree._Element) -> None:
    """Adjacent runs with equal properties and only text: one run."""
    for paragraph in root.iter(f"{_W}p"):
        previous: etree._Element | None = None
        for child in list(paragraph):
            if child.tag != f"{_W}r" or not _is_text_run(child):
                previous = None
                continue
            if previous is not None and _props(previous) == _props(child):
                texts = previous.findall(f"{_W}t")
                target = texts[-1]
                target.text = (target.text or "") + "".join(t.text or "" for t in child.findall(f"{_W}t"))
                if target.text != target.text.strip():
                    target.set(_XML_SPACE, "preserve")
                elif _XML_SPACE in target.attrib:
                    del target.attrib[_XML_SPACE]
                paragraph.remove(child)
                continue
            previous = child


def _props(run: etree._Element) -> bytes:
    rpr = run.find(f"{_W}rPr")
    return b"" if rpr is None or len(rpr) == 0 else etree.tostring(rpr, method="c14n")


def _detach(element: etree._Element) -> None:
    parent = element.getparent()
    if parent is not None:
        parent.remove(element)


def _clean_wordml(name: str, data: bytes) -> bytes:
    """Noise out of a WordprocessingML part; the same bytes when there is none."""
    mergeable = name == "word/document.xml" or re.fullmatch(r"word/(header|footer)\d*\.xml", name) is not None
    if not mergeable and not any(marker in data for marker in _NOISE):
        return data
    root = etree.fromstring(_RSID.sub(b"", data), _PARSER)
    for tag in ("proofErr", "lastRenderedPageBreak", "rsids"):
        for element in list(root.iter(f"{_W}{tag}")):
            _detach(element)
    for start in list(root.iter(f"{_W}bookmarkStart")):
        if start.get(f"{_W}name") == "_GoBack":
            for end in root.iter(f"{_W}bookmarkEnd"):
                if end.get(f"{_W}id") == start.get(f"{_W}id"):
                    _detach(end)
                    break
            _detach(start)
    before = etree.tostring(root)
    if mergeable:
        _merge_runs(root)
    after = etree.tostring(root)
    if after == before and not any(marker in data for marker in _NOISE):
        return data
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


def _clean_core(data: bytes) -> bytes:
    for pattern, replacement in _CORE:
        data = pattern.sub(replacement, data)
    return data


def normalise_docx(docx: bytes) -> bytes:
    """The normal form of a .docx (see the module's docstring); not a zip: given back unchanged,
    for the caller's reader to refuse with its own message."""
    try:
        slim = slim_docx(docx)
        with zipfile.ZipFile(io.BytesIO(slim)) as source:
            parts = {info.filename: source.read(info) for info in source.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, OSError, EOFError):
        return docx
    for name, data in parts.items():
        if name.startswith("word/") and name.endswith(".xml"):
            try:
                parts[name] = _clean_wordml(name, data)
            except etree.XMLSyntaxError:
                pass  # an unreadable part is the reader's to report, not ours to guess
        elif name == "docProps/core.xml":
            parts[name] = _clean_core(data)
        elif name == "docProps/app.xml":
            parts[name] = APP_XML
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in sorted(parts, key=lambda n: (n != "[Content_Types].xml", n)):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            target.writestr(info, parts[name])
    return out.getvalue()
