"""Where the parties sign: the empty signature fields conum puts in what it issues.

A convention, an avenant and a résiliation end with a two-column block, « Pour la Caisse des Dépôts et
Consignations » on the left and « Pour la Structure » on the right, each closing with « Date et
signature : » (« Signature : » in the avenant and the résiliation). :func:`emplacements` finds those
labels in the page content and returns one field under each, ``SignatureCDC`` and
``SignatureStructure``, so that the structure signs in the box its template leaves blank and the CDC
countersigns in its own.

Finding them must cost little (the seal's whole budget is 30 ms of CPU): a general text extractor
(pypdf) takes some 25 ms for that one page. LibreOffice writes every text run as
``BT x y Td /Fn size Tf [<hex>…]TJ ET`` with an absolute position; the runs are decoded with each
font's ``/ToUnicode`` map, pages read from the last, which takes about 1 ms. When the labels cannot be
found (a template edited into another shape, a producer writing text another way), the fields go to a
fixed place: the bottom of the last page, CDC on the left, structure on the right (:data:`REPLI`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["CHAMP_CDC", "CHAMP_STRUCTURE", "Champ", "REPLI", "emplacements"]

CHAMP_STRUCTURE = "SignatureStructure"
CHAMP_CDC = "SignatureCDC"
# fallback boxes on the last page (points, lower-left origin, A4): above a footer, one per column
REPLI = {CHAMP_CDC: (72, 72, 262, 142), CHAMP_STRUCTURE: (310, 72, 520, 142)}

_LABEL = re.compile(r"^(date et )?signature\s*:?$", re.IGNORECASE)
_STRUCTURE = re.compile(r"^pour la structure", re.IGNORECASE)
_RUN = re.compile(rb"BT\s+(-?[\d.]+)\s+(-?[\d.]+)\s+Td\s*/([^\s/\[<(]+)\s+[\d.]+\s+Tf\s*"
                  rb"(\[[^\]]*\]\s*TJ|<[0-9A-Fa-f\s]*>\s*Tj)")
_HEX = re.compile(rb"<([0-9A-Fa-f\s]*)>")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.S)
_PAIR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_RANGE = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>")
_CODESPACE = re.compile(rb"begincodespacerange\s*<([0-9A-Fa-f]+)>")
_MAX_PAGES = 200  # a page tree deeper or larger than this is not one of ours
_BOX_HEIGHT = 70  # points: room for a visible signature's name, date and reason
_BOX_WIDTH = 200
_MARGIN_BOTTOM = 60  # above the footer (« Convention … — Page x / y » at 30–45 pt)


@dataclass(frozen=True)
class Champ:
    """An empty signature field to create: its name, page (0-based) and box (x0, y0, x1, y1 in points)."""

    nom: str
    page: int
    box: tuple[int, int, int, int]


@dataclass(frozen=True)
class _Run:
    x: float
    y: float
    text: str


def emplacements(root: Any) -> list[Champ]:
    """The two parties' fields for the document whose catalog is ``root`` (a pyHanko or pypdf dictionary):
    under their « signature : » labels when found, else at :data:`REPLI` on the last page."""
    pages = _pages(root)
    if not pages:
        return []
    for index in range(len(pages) - 1, -1, -1):
        page = pages[index]
        runs = _runs(page)
        labels = [r for r in runs if _LABEL.match(r.text)]
        if len(labels) < 2:
            continue
        bottom = min(r.y for r in labels)
        row = sorted((r for r in labels if abs(r.y - bottom) < 2), key=lambda r: r.x)
        if len(row) != 2:
            continue
        left, right = row
        heading = next((r for r in runs if _STRUCTURE.match(r.text)), None)
        structure_left = heading is not None and abs(heading.x - left.x) < abs(heading.x - right.x)
        width = _width(page)
        boxes = {"left": _box(left, right.x - 10, bottom), "right": _box(right, width - 40, bottom)}
        if any(b is None for b in boxes.values()):
            break
        cdc, structure = ("right", "left") if structure_left else ("left", "right")
        return [Champ(CHAMP_CDC, index, boxes[cdc]), Champ(CHAMP_STRUCTURE, index, boxes[structure])]
    last = len(pages) - 1
    return [Champ(name, last, box) for name, box in REPLI.items()]


def _box(label: _Run, x_limit: float, y: float) -> tuple[int, int, int, int] | None:
    top = int(y) - 8  # under the label's baseline and descenders
    bottom = max(top - _BOX_HEIGHT, _MARGIN_BOTTOM)
    right = int(min(label.x + _BOX_WIDTH, x_limit))
    if top - bottom < 40 or right - label.x < 120:
        return None  # no room for a signature there
    return int(label.x), bottom, right, top


def _pages(root: Any) -> list[Any]:
    found: list[Any] = []
    stack = [root["/Pages"]]
    seen = 0
    while stack and seen < _MAX_PAGES * 2:
        node = stack.pop()
        seen += 1
        node = node.get_object() if hasattr(node, "get_object") else node
        if node.get("/Type") == "/Page" or "/Kids" not in node:
            found.append(node)
        else:
            stack.extend(reversed(list(node["/Kids"])))
    return found[:_MAX_PAGES]


def _width(page: Any) -> float:
    try:
        box = [float(v) for v in page.get("/MediaBox", (0, 0, 595, 842))]
        return box[2] - box[0]
    except (TypeError, ValueError):
        return 595.0


def _content(page: Any) -> bytes:
    contents = page.get("/Contents")
    if contents is None:
        return b""
    contents = contents.get_object() if hasattr(contents, "get_object") else contents
    parts = contents if isinstance(contents, list) else [contents]
    return b"\n".join(p.get_object().data if hasattr(p.get_object(), "data") else p.get_object().get_data()
                      for p in parts)


def _runs(page: Any) -> list[_Run]:
    try:
        fonts = page["/Resources"]["/Font"]
        data = _content(page)
    except (KeyError, TypeError, AttributeError, ValueError):
        return []
    maps: dict[str, tuple[int, dict[bytes, str]] | None] = {}
    runs = []
    for match in _RUN.finditer(data):
        name = "/" + match.group(3).decode("latin-1")
        if name not in maps:
            maps[name] = _to_unicode(fonts, name)
        cmap = maps[name]
        if cmap is None:
            continue
        width, table = cmap
        raw = bytes.fromhex(b"".join(_HEX.findall(match.group(4))).replace(b" ", b"").decode())
        text = "".join(table.get(raw[i:i + width], "") for i in range(0, len(raw) - width + 1, width))
        runs.append(_Run(float(match.group(1)), float(match.group(2)), " ".join(text.replace("\xa0", " ").split())))
    return runs


def _to_unicode(fonts: Any, name: str) -> tuple[int, dict[bytes, str]] | None:
    try:
        stream = fonts[name].get_object()["/ToUnicode"].get_object()
        data = stream.data if hasattr(stream, "data") else stream.get_data()
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    space = _CODESPACE.search(data)
    width = len(space.group(1)) // 2 if space else 1
    table: dict[bytes, str] = {}
    for block in _BFCHAR.findall(data):
        for code, uni in _PAIR.findall(block):
            table[bytes.fromhex(code.decode())] = _utf16(uni)
    for block in _BFRANGE.findall(data):
        for start, end, uni in _RANGE.findall(block):
            first, last, base = int(start, 16), int(end, 16), int(uni, 16)
            for offset in range(min(last - first, 255) + 1):
                table[(first + offset).to_bytes(width, "big")] = chr(base + offset)
    return width, table


def _utf16(hex_text: bytes) -> str:
    try:
        return bytes.fromhex(hex_text.decode()).decode("utf-16-be")
    except (ValueError, UnicodeDecodeError):
        return ""
