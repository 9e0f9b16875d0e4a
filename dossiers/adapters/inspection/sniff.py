"""The type of a file from its bytes (never from its name), and the other formats hidden in it.

:func:`sniff` asks libmagic (python-magic) about the first :data:`SNIFF_BYTES` bytes. Two
corrections on top of it:

- a ZIP is called DOCX, XLSX or PPTX only when its ``[Content_Types].xml`` declares the main part
  of that format: libmagic guesses OOXML from the order of the first entries, which depends on the
  program that wrote the archive, and calls a renamed ``.zip`` a document or a document a ``.zip``;
- ``application/x-empty`` for no bytes at all, whatever libmagic's version says.

:func:`polyglots` looks for a second format in the same bytes: a file that a PDF reader and an
image viewer (or an unzip, or a browser) would each open as their own is refused, because what a
person sees is then not what was checked. It only scans bytes (no parsing), so it runs in the
caller's process even on files over the size limit.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib

import magic

__all__ = ["SNIFF_BYTES", "MIME_ZIP", "MIME_DOCX", "MIME_XLSX", "MIME_PPTX", "sniff", "polyglots"]

SNIFF_BYTES = 64 * 1024  # what libmagic sees; 8 KB is enough for PDF, JPEG, PNG and OOXML heads
MIME_EMPTY = "application/x-empty"
MIME_ZIP = "application/zip"
MIME_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIME_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
MIME_HTML = "text/html"
MIME_PHP = "text/x-php"

# The main part's content type, as [Content_Types].xml declares it -> the document's MIME type.
_OOXML_MAIN = (
    (b"wordprocessingml.document.main+xml", MIME_DOCX),
    (b"ms-word.document.macroenabled.main+xml", "application/vnd.ms-word.document.macroEnabled.12"),
    (b"spreadsheetml.sheet.main+xml", MIME_XLSX),
    (b"ms-excel.sheet.macroenabled.main+xml", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    (b"presentationml.presentation.main+xml", MIME_PPTX),
)
_CONTENT_TYPES = "[Content_Types].xml"
_MAX_CONTENT_TYPES = 1 << 20  # a real one is a few KB; more is not read (zip bomb)
_MAX_ZIP_ENTRIES = 10_000  # above, the archive is not opened by zipfile (it builds one object per entry)
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_EOCD = struct.Struct("<4sHHHHIIH")
_PDF_HEADER = b"%PDF-"
_PDF_HEADER_WINDOW = 1024  # PDF readers look for the header in the first KB, not only at offset 0
_HARMLESS_PREFIX = b" \t\r\n\x00\x0c\xef\xbb\xbf"  # whitespace or a BOM before %PDF-: sloppy, not hostile
_MARKUP = re.compile(rb"<(?:script|html|iframe|!doctype\s+html|\?php)\b", re.IGNORECASE)


def sniff(head: bytes) -> str:
    """The MIME type of a file from its first bytes (at least 8 KB of them), or from all of them.

    Given the whole file, a ZIP is recognised as DOCX/XLSX wherever its ``[Content_Types].xml``
    lies; given a prefix, only when that entry is among the first ones (Word and python-docx
    write it first).
    """
    if not head:
        return MIME_EMPTY
    mime = _magic(head[:SNIFF_BYTES])
    zip_like = mime == "application/octet-stream" and head.startswith(b"PK\x03\x04")
    if zip_like or mime == MIME_ZIP or "openxmlformats" in mime:
        return _ooxml(head) or MIME_ZIP
    return mime


def _magic(head: bytes) -> str:
    try:
        return str(magic.from_buffer(head, mime=True))
    except magic.MagicException:  # libmagic gave up on these bytes: they are no type we accept
        return "application/octet-stream"


def polyglots(data: bytes, mime: str) -> tuple[str, ...]:
    """The other formats ``data`` also holds, as MIME types, in a stable order; ``()`` for none.

    - a PDF header in the first KB of a file that is not a PDF, or a PDF whose header is not at
      offset 0 (what precedes it is reported: ``text/html`` for an HTML page wrapped around a PDF);
    - a ZIP archive (its end record and central directory) inside a file that is not a ZIP;
    - HTML or PHP markup (``<script``, ``<html``, ``<?php``…) in raw bytes, where compressed
      streams and pixels never spell it.
    """
    found: list[str] = []
    start = data.find(_PDF_HEADER, 0, _PDF_HEADER_WINDOW)
    if mime == "application/pdf":
        prefix = data[:start] if start > 0 else b""
        if prefix.strip(_HARMLESS_PREFIX):
            found.append(_prefix_type(prefix))
    elif start >= 0:
        found.append("application/pdf")
    if not (mime == MIME_ZIP or mime.startswith("application/vnd.")) and _has_zip(data):
        found.append(MIME_ZIP)
    if mime not in (MIME_HTML, MIME_PHP) and (match := _MARKUP.search(data)):
        found.append(MIME_PHP if match.group(0).lower() == b"<?php" else MIME_HTML)
    return tuple(dict.fromkeys(found))


def _prefix_type(prefix: bytes) -> str:
    """What the bytes before a shifted PDF header are (``application/octet-stream`` if nothing)."""
    if _MARKUP.search(prefix):
        return MIME_HTML
    mime = _magic(prefix)
    return mime if mime not in ("text/plain", "application/pdf", MIME_EMPTY) else "application/octet-stream"


def _end_record(data: bytes) -> tuple[int, int, int, int] | None:
    """``(position, entries, cd_size, cd_offset)`` of the ZIP end record, if the bytes end with one."""
    tail_start = max(0, len(data) - (_EOCD.size + 0xFFFF))
    pos = data.rfind(b"PK\x05\x06", tail_start)
    if pos < 0 or pos + _EOCD.size > len(data):
        return None
    _, _, _, _, entries, cd_size, cd_offset, _ = _EOCD.unpack_from(data, pos)
    return pos, entries, cd_size, cd_offset


def _has_zip(data: bytes) -> bool:
    """True when an unzip would find an archive: an end record whose central directory is there.

    A stray ``PK\\x05\\x06`` in compressed bytes is not enough: the directory it points to must
    start with a central header, counted from the archive's own start (an archive appended to
    another file has its offsets relative to itself).
    """
    record = _end_record(data)
    if record is None:
        return False
    pos, entries, cd_size, cd_offset = record
    cd_start = pos - cd_size
    if entries == 0 or cd_start < 0 or cd_offset > cd_start:
        return False
    return data[cd_start:cd_start + 4] == b"PK\x01\x02"


def _ooxml(data: bytes) -> str | None:
    """The OOXML type that ``[Content_Types].xml`` declares, or None (a plain ZIP, or unreadable)."""
    types = _content_types_from_directory(data)
    if types is None:
        types = _content_types_from_local_headers(data)
    if not types:
        return None
    lowered = types.lower()
    for marker, mime in _OOXML_MAIN:
        if marker in lowered:
            return mime
    return None


def _content_types_from_directory(data: bytes) -> bytes | None:
    """Through the central directory (the whole file is there), with bounded reads; None if not."""
    record = _end_record(data)
    if record is None or not (0 < record[1] <= _MAX_ZIP_ENTRIES):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo(_CONTENT_TYPES)
            with archive.open(info) as member:
                return member.read(_MAX_CONTENT_TYPES)
    except (KeyError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError, RuntimeError, zlib.error):
        return None


def _content_types_from_local_headers(head: bytes) -> bytes | None:
    """Through the first local headers of a prefix: enough when ``[Content_Types].xml`` comes first."""
    pos = 0
    for _ in range(16):
        if head[pos:pos + 4] != b"PK\x03\x04" or pos + _LOCAL_HEADER.size > len(head):
            return None
        fields = _LOCAL_HEADER.unpack_from(head, pos)
        method, csize, name_len, extra_len = fields[3], fields[7], fields[9], fields[10]
        name_start = pos + _LOCAL_HEADER.size
        body = name_start + name_len + extra_len
        if head[name_start:name_start + name_len] == _CONTENT_TYPES.encode():
            raw = head[body:body + csize] if csize else head[body:]
            if method == 0:
                return raw[:_MAX_CONTENT_TYPES]
            if method == 8:
                try:
                    return zlib.decompressobj(-15).decompress(raw, _MAX_CONTENT_TYPES)
                except zlib.error:
                    return None
            return None
        if not csize:  # sizes in a data descriptor after the data: the next header cannot be found
            return None
        pos = body + csize
    return None
