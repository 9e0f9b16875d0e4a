"""A corpus of hostile or broken files, built by code (deterministic, nothing downloaded).

Each :class:`HostileCase` has a file name (also the name it is declared under), the kind it is
validated as, its bytes, and the file findings expected from ``Inspector`` + ``check_file``
(``expected=()``: a file that looks odd but must be accepted as a file, to pin that the inspection
does not refuse what a viewer reads fine).

    python tests/hostile.py OUTDIR      # writes every file of the corpus to OUTDIR
"""

from __future__ import annotations

import io
import random
import struct
import sys
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from PIL import Image

from dossiers.domain.findings import FindingCode as C
from dossiers.domain.pieces import PieceKind

__all__ = ["HostileCase", "corpus", "docx", "jpeg", "png_chunks", "raw_pdf", "stream", "text_pdf", "zeros_flate", "zip_of"]

SIRENE, IDENTITE, RIB, COMPTES = PieceKind.SIRENE, PieceKind.IDENTITE, PieceKind.RIB, PieceKind.COMPTES
HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
TEXT = b"BT /F1 12 Tf 72 720 Td (Avis de situation au repertoire Sirene 21330099900017) Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


@dataclass(frozen=True)
class HostileCase:
    """``expected``: every code listed must be among the file's findings (others may come too)."""

    name: str
    kind: PieceKind
    data: bytes
    expected: tuple[C, ...]
    note: str = ""


# -- builders -------------------------------------------------------------------------------------


def stream(entries: bytes, data: bytes) -> bytes:
    return b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def raw_pdf(objects: list[bytes], *, trailer: bytes = b"/Root 1 0 R", header: bytes = HEADER) -> bytes:
    """A PDF with a correct xref table; object ``n`` is ``objects[n - 1]``."""
    out = bytearray(header)
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


def text_pdf(*, catalog: bytes = b"", page: bytes = b"", extra: tuple[bytes, ...] = (), contents: bytes = b"",
             trailer: bytes = b"/Root 1 0 R", header: bytes = HEADER) -> bytes:
    """One page of text; ``contents`` replaces its content stream (object 5); ``extra`` objects are 6, 7…"""
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R " + catalog + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R " + page + b" >>",
        FONT,
        contents or stream(b"", TEXT),
        *extra,
    ], trailer=trailer, header=header)


def _flate(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def zeros_flate(size: int, prefix: bytes = b"") -> bytes:
    """A zlib stream of ``prefix`` then ``size`` zero bytes (whole MBs), in ~1 KB per MB and ~10 ms.

    Each MB of zeros after a full flush compresses to the same bytes (the window is all zeros), so one
    block is computed and repeated; the Adler-32 of the whole is computed as zlib would.
    """
    z, chunk = zlib.compressobj(9, zlib.DEFLATED, -15), bytes(1 << 20)
    head = z.compress(prefix) + z.flush(zlib.Z_FULL_FLUSH) + z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    block = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    adler = zlib.adler32(prefix)
    for _ in range(size >> 20):
        adler = zlib.adler32(chunk, adler)
    return b"\x78\xda" + head + block * ((size >> 20) - 1) + z.flush() + struct.pack(">I", adler)


def _repeat_flate(unit: bytes, size: int) -> bytes:
    z, block = zlib.compressobj(6), unit * ((1 << 20) // len(unit))
    parts = [z.compress(block) for _ in range(size // len(block))]
    return b"".join(parts) + z.flush()


def png_chunks(width: int, height: int, idat: bytes, *, mode: int = 2, crc_ok: bool = True) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) ^ (0 if crc_ok else 0xFFFF)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _image(fmt: str, size: tuple[int, int] = (64, 48), **options: object) -> bytes:
    im = Image.new("RGB", size)
    for x in range(size[0]):
        for y in range(size[1]):
            im.putpixel((x, y), ((x * 7) % 256, (y * 5) % 256, (x * y) % 256))
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    return _image("JPEG", size, quality=85)


def _with_jpeg_comment(data: bytes, comment: bytes) -> bytes:
    return data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:]


def zip_of(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in entries.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), body)
    return buf.getvalue()


def docx() -> bytes:
    types = (b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             b'wordprocessingml.document.main+xml"/></Types>')
    return zip_of({"[Content_Types].xml": types, "word/document.xml": b"<w:document/>"})


def _elf() -> bytes:
    header = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 0x3E, 1, 0x401000, 64, 0, 0, 64, 56, 1, 64, 0, 0)
    return header + struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0x1000, 0x1000, 0x1000) + bytes(4000)


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    """pypdf draws its /ID and encryption salts from ``secrets``: seed them for a stable corpus."""
    rng = random.Random(seed)
    with mock.patch("secrets.token_bytes", lambda n=32: rng.randbytes(n)):
        yield


def _encrypted(algorithm: str, user: str, owner: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    with _seeded(7):
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf())))
        writer.encrypt(user_password=user, owner_password=owner, algorithm=algorithm)
        buf = io.BytesIO()
        writer.write(buf)
    return buf.getvalue()


def _pages(count: int) -> bytes:
    """A flat page tree of ``count`` pages sharing one font and one content stream."""
    first = 5
    kids = b" ".join(b"%d 0 R" % (first + i) for i in range(count))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> " \
           b"/Contents 4 0 R >>"
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count),
                    FONT, stream(b"", TEXT), *([page] * count)])


def _deep_page_tree(depth: int) -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):  # node 2 + level has one kid: the next node
        parent = b"/Parent %d 0 R " % (1 + level) if level else b""
        objects.append(b"<< /Type /Pages %s/Kids [%d 0 R] /Count 1 >>" % (parent, 3 + level))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % (1 + depth))
    return raw_pdf(objects)


def _image_pdf(width: int, height: int, data: bytes, filters: bytes) -> bytes:
    image = stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                   b"/BitsPerComponent 8 /Filter %s" % (width, height, filters), data)
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> "
         b"/Contents 5 0 R >>"),
        image, stream(b"", b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
    ])


def _objstm_bomb() -> bytes:
    """The catalogue (object 1) inside an object stream that inflates to 300 MB, found by an xref stream."""
    objstm = zeros_flate(300 << 20, prefix=b"1 0 << /Type /Catalog /Pages 2 0 R >> ")
    objects = {
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        4: stream(b"/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", objstm),
    }
    out, offsets = bytearray(HEADER), {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    offsets[5] = len(out)
    rows = [struct.pack(">BIH", 0, 0, 0xFFFF), struct.pack(">BIH", 2, 4, 0)]
    rows += [struct.pack(">BIH", 1, offsets[n], 0) for n in (2, 3, 4, 5)]
    out += b"5 0 obj\n" + stream(b"/Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R", b"".join(rows)) + b"\nendobj\n"
    return bytes(out + b"startxref\n%d\n%%%%EOF\n" % offsets[5])


def _truncate(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


# -- the corpus -----------------------------------------------------------------------------------


def corpus() -> list[HostileCase]:
    rng = random.Random(20240101)
    good = text_pdf()
    png = _image("PNG")
    jpg = jpeg()
    e_corrupt, e_img, e_cut = (C.PDF_CORROMPU,), (C.IMAGE_CORROMPUE,), (C.ANALYSE_INTERROMPUE,)
    active, incoherent = (C.PDF_CONTENU_ACTIF,), (C.FORMAT_INCOHERENT,)
    refused = (C.FORMAT_NON_AUTORISE, C.FORMAT_INCOHERENT)
    js = b"<< /S /JavaScript /JS (app.alert\\('x'\\);) >>"
    cases = [
        # broken PDFs
        HostileCase("tronque-moitie.pdf", SIRENE, _truncate(good, 0.5), e_corrupt, "upload cut mid-way"),
        HostileCase("tronque-avant-xref.pdf", SIRENE, good[: good.index(b"xref")], e_corrupt),
        HostileCase("tronque-entete.pdf", SIRENE, b"%PDF-1.7\n%\xe2\xe3", e_corrupt),
        HostileCase("entete-puis-dechets.pdf", SIRENE, b"%PDF-1.4\n" + rng.randbytes(4096), e_corrupt),
        HostileCase("dechets-et-eof.pdf", SIRENE, b"%PDF-1.4\n" + rng.randbytes(4096) + b"\n%%EOF\n", e_corrupt),
        HostileCase("sans-racine.pdf", SIRENE, text_pdf(trailer=b"/Info 4 0 R"), e_corrupt),
        HostileCase("racine-fausse.pdf", SIRENE, text_pdf(trailer=b"/Root 4 0 R"), (), "pypdf finds the catalogue"),
        HostileCase("sans-page.pdf", SIRENE, raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                                      b"<< /Type /Pages /Kids [] /Count 0 >>"]), e_corrupt),
        HostileCase("xref-decalee.pdf", SIRENE, good.replace(b"0000000", b"0000001"), (), "pypdf rebuilds it"),
        HostileCase("startxref-hors-fichier.pdf", SIRENE,
                    good[: good.rindex(b"startxref")] + b"startxref\n99999999\n%%EOF\n", (), "rebuilt"),
        HostileCase("xref-prev-boucle.pdf", SIRENE, _xref_prev_loop(good), (), "a /Prev to itself is ignored"),
        HostileCase("longueur-enorme.pdf", SIRENE, good.replace(b"/Length %d" % len(TEXT), b"/Length 999999999"),
                    e_corrupt),
        HostileCase("longueur-fausse.pdf", SIRENE, good.replace(b"/Length %d" % len(TEXT), b"/Length 10"), (),
                    "a wrong /Length is repaired (endstream is searched)"),
        # encryption
        HostileCase("encrypt-illisible.pdf", SIRENE,
                    text_pdf(extra=(b"<< /Filter /Bogus /V 99 /R 42 >>",), trailer=b"/Root 1 0 R /Encrypt 6 0 R"),
                    (C.PDF_CHIFFRE,)),
        HostileCase("encrypt-pas-un-dictionnaire.pdf", SIRENE, text_pdf(trailer=b"/Root 1 0 R /Encrypt (garbage)"),
                    (C.PDF_CHIFFRE,)),
        HostileCase("chiffre-rc4.pdf", SIRENE, _encrypted("RC4-128", "secret", "owner"), (C.PDF_CHIFFRE,)),
        HostileCase("chiffre-rc4-sans-mot-de-passe.pdf", SIRENE, _encrypted("RC4-40", "", "owner"),
                    (C.PDF_CHIFFRE,), "opens without a password, but restricted"),
        HostileCase("chiffre-aes256.pdf", SIRENE, text_pdf(extra=(
            b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /O <%s> /U <%s> /OE <%s> /UE <%s> "
            b"/CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >> /StmF /StdCF /StrF /StdCF >>"
            % tuple(rng.randbytes(n).hex().encode() for n in (48, 48, 32, 32)),),
            trailer=b"/Root 1 0 R /Encrypt 6 0 R /ID [<00112233445566778899aabbccddeeff> "
                    b"<00112233445566778899aabbccddeeff>]"), (C.PDF_CHIFFRE,), "AES-256, as Acrobat writes it"),
        # active content
        HostileCase("js-openaction.pdf", SIRENE, text_pdf(catalog=b"/OpenAction " + js), active),
        HostileCase("js-page-aa.pdf", SIRENE, text_pdf(page=b"/AA << /O " + js + b" >>"), active),
        HostileCase("js-arbre-noms.pdf", SIRENE, text_pdf(catalog=b"/Names << /JavaScript 6 0 R >>",
                                                         extra=(b"<< /Names [(a) " + js + b"] >>",)), active),
        HostileCase("js-lien.pdf", SIRENE, text_pdf(page=b"/Annots [6 0 R]", extra=(
            b"<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] /A " + js + b" >>",)), active),
        HostileCase("js-signet.pdf", SIRENE, text_pdf(catalog=b"/Outlines 6 0 R", extra=(
            b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
            b"<< /Title (x) /Parent 6 0 R /A " + js + b" >>")), active),
        HostileCase("js-nom-echappe.pdf", SIRENE, text_pdf(catalog=b"/OpenAction << /S /J#61vaScript /J#53 (x) >>"),
                    active, "names with #xx escapes"),
        HostileCase("js-chaine-next.pdf", SIRENE,
                    text_pdf(catalog=b"/OpenAction << /S /URI /URI (https://example.org) /Next 6 0 R >>",
                             extra=(js,)), active),
        HostileCase("js-champ-formulaire.pdf", SIRENE, text_pdf(catalog=b"/AcroForm << /Fields [6 0 R] >>", extra=(
            b"<< /FT /Tx /T (nom) /AA << /K " + js + b" >> >>",)), active),
        HostileCase("launch.pdf", SIRENE, text_pdf(catalog=b"/OpenAction << /S /Launch /F (cmd.exe) >>"), active),
        HostileCase("fichiers-joints.pdf", SIRENE, text_pdf(catalog=b"/Names << /EmbeddedFiles 6 0 R >>", extra=(
            b"<< /Names [(a.exe) 7 0 R] >>", b"<< /Type /Filespec /F (a.exe) /EF << /F 8 0 R >> >>",
            stream(b"/Type /EmbeddedFile", b"MZ payload"))), active),
        HostileCase("annotation-fichier-joint.pdf", SIRENE, text_pdf(page=b"/Annots [6 0 R]", extra=(
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS 7 0 R >>",
            b"<< /Type /Filespec /F (x.bat) >>")), active),
        HostileCase("formulaire-xfa.pdf", SIRENE, text_pdf(catalog=b"/AcroForm << /Fields [] /XFA 6 0 R >>",
                                                          extra=(stream(b"", b"<xdp:xdp/>"),)), active),
        HostileCase("richmedia.pdf", SIRENE, text_pdf(page=b"/Annots [<< /Type /Annot /Subtype /RichMedia "
                                                           b"/Rect [0 0 10 10] >>]"), active),
        # structures made to loop or recurse
        HostileCase("tableaux-imbriques.pdf", SIRENE, text_pdf(catalog=b"/X " + b"[" * 100_000 + b"]" * 100_000),
                    e_corrupt),
        HostileCase("dictionnaires-imbriques.pdf", SIRENE, text_pdf(catalog=b"/X " + b"<< /A " * 50_000 + b">> " * 50_000),
                    (), "pypdf reads past the nesting; the walk is iterative"),
        HostileCase("kids-boucle.pdf", SIRENE, raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                                                        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"]), e_corrupt),
        HostileCase("kids-boucle-indirecte.pdf", SIRENE, raw_pdf([
            b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 2 >>",
            b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 4 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 595 842] >>"]), e_corrupt),
        HostileCase("parent-boucle.pdf", SIRENE, text_pdf(page=b"/Parent 3 0 R /Resources 3 0 R"), (),
                    "a page that is its own parent: the walk keeps a visited set"),
        HostileCase("count-enorme.pdf", SIRENE, good.replace(b"/Count 1", b"/Count 2147483647"), (),
                    "the real page tree is counted, not /Count"),
        HostileCase("10000-pages.pdf", SIRENE, _pages(10_000), (C.PDF_TROP_DE_PAGES,)),
        HostileCase("arbre-pages-profond.pdf", SIRENE, _deep_page_tree(2_000), e_cut),
        # decompression bombs and heavy streams
        HostileCase("bombe-flux-contenu.pdf", SIRENE,
                    text_pdf(contents=stream(b"/Filter /FlateDecode", zeros_flate(300 << 20))), e_cut),
        HostileCase("bombe-double-flate.pdf", SIRENE,
                    text_pdf(contents=stream(
                        b"/Filter [/FlateDecode /FlateDecode]", _flate(zeros_flate(300 << 20)))), e_cut),
        HostileCase("bombe-image.pdf", SIRENE, _image_pdf(20_000, 15_000, zeros_flate(300 << 20), b"/FlateDecode"),
                    e_cut, "an image that inflates to 900 MB"),
        HostileCase("bombe-flux-objets.pdf", SIRENE, _objstm_bomb(), e_cut),
        HostileCase("contenu-5mo.pdf", SIRENE, text_pdf(contents=stream(
            b"/Filter /FlateDecode", _repeat_flate(b"BT /F1 9 Tf 9 9 Td (Hello) Tj ET\n", 5_000_000))), e_cut),
        HostileCase("contenu-60mo.pdf", COMPTES, text_pdf(contents=stream(
            b"/Filter /FlateDecode", _repeat_flate(b"BT /F1 9 Tf 9 9 Td (Hello) Tj ET\n", 60_000_000))), e_cut),
        HostileCase("contenu-20000-flux.pdf", SIRENE, raw_pdf([
            b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
            b"/Contents [" + b"5 0 R " * 20_000 + b"] >>", FONT, stream(b"", TEXT)]), e_cut),
        HostileCase("flate-casse.pdf", SIRENE, text_pdf(contents=stream(
            b"/Filter /FlateDecode", b"x\x9c" + rng.randbytes(400_000))), e_cut, "pypdf's recovery is capped"),
        HostileCase("flate-casse-petit.pdf", SIRENE, text_pdf(contents=stream(
            b"/Filter /FlateDecode", b"x\x9c" + rng.randbytes(20_000))), (), "an unreadable stream is no text"),
        # metadata
        HostileCase("metadonnees-unicode-bombe.pdf", SIRENE, text_pdf(trailer=b"/Root 1 0 R /Info 6 0 R", extra=(
            b"<< /Title <feff" + b"0041" + b"0301" * 200_000 + b"> /Author <feff" + b"202e" * 1000 + b"> >>",)), (),
            "cut to 500 characters"),
        HostileCase("metadonnees-utf16-invalide.pdf", SIRENE, text_pdf(trailer=b"/Root 1 0 R /Info 6 0 R", extra=(
            b"<< /Title <feffd800d800dc00> /Producer <feff0000> >>",)), (), "undecodable or NUL-only: dropped"),
        HostileCase("scan-sans-texte.pdf", SIRENE, _image_pdf(64, 48, jpg, b"/DCTDecode"), (),
                    "text-less: the kind's check decides (TEXTE_ABSENT is not a file finding)"),
        HostileCase("signature-vide.pdf", COMPTES, text_pdf(catalog=b"/AcroForm << /Fields [6 0 R] >>", extra=(
            b"<< /FT /Sig /T (Signature1) /Rect [0 0 0 0] /Subtype /Widget >>",)), ()),
        # images
        HostileCase("bombe-50000.png", IDENTITE, png_chunks(50_000, 50_000, zeros_flate(1 << 20)), e_cut),
        HostileCase("bombe-dimensions.jpg", IDENTITE, _jpeg_resized(jpg, 65_000, 65_000), e_cut),
        HostileCase("tronque.png", IDENTITE, _truncate(_image("PNG", (400, 300)), 0.6), e_img),
        HostileCase("crc-faux.png", IDENTITE, png_chunks(4, 4, _flate(bytes(4 * 13)), crc_ok=False), e_img),
        HostileCase("idat-vide.png", IDENTITE, png_chunks(100, 100, b""), e_img),
        HostileCase("tronque.jpg", IDENTITE, _truncate(jpeg((400, 300)), 0.6), e_img),
        HostileCase("entete-seul.jpg", IDENTITE, b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + rng.randbytes(2000), e_img),
        # polyglots and names that lie
        HostileCase("jpeg-et-pdf.jpg", IDENTITE, _with_jpeg_comment(jpg, b"%PDF-1.4 " + good[9:600]), incoherent),
        HostileCase("pdf-et-zip.pdf", SIRENE, good + zip_of({"payload.js": b"alert(1)"}), incoherent),
        HostileCase("html-et-pdf.pdf", SIRENE, b"<html><body><script>alert(1)</script>\n" + good, incoherent),
        HostileCase("pdf-et-script.pdf", SIRENE, text_pdf(extra=(stream(b"", b"<script>alert(1)</script>"),)),
                    incoherent),
        HostileCase("entete-decale.pdf", SIRENE, b"MZ\x90\x00junk\n" + good, incoherent),
        HostileCase("png-et-zip.png", IDENTITE, png + zip_of({"a.php": b"<?= 1 ?>"}), incoherent),
        HostileCase("jpeg-et-php.jpg", IDENTITE, _with_jpeg_comment(jpg, b"<?php system($_GET['c']); ?>"), incoherent),
        HostileCase("image-nommee.pdf", SIRENE, png, refused),
        HostileCase("image-nommee-rib.pdf", RIB, png, incoherent),
        HostileCase("pdf-nomme.jpg", IDENTITE, good, incoherent),
        HostileCase("gif-nomme.png", IDENTITE, _image("GIF"), refused),
        # not a document at all
        HostileCase("vide.pdf", SIRENE, b"", (C.FICHIER_VIDE,)),
        HostileCase("aleatoire.pdf", SIRENE, rng.randbytes(8192), refused),
        HostileCase("zeros.pdf", SIRENE, bytes(8192), refused),
        HostileCase("archive.zip", SIRENE, zip_of({"a.txt": b"bonjour"}), (C.FORMAT_NON_AUTORISE,)),
        HostileCase("document-word.pdf", SIRENE, docx(), refused),
        HostileCase("programme.pdf", SIRENE, b"MZ\x90\x00\x03" + bytes(59) + b"PE\x00\x00" + bytes(4000), refused),
        HostileCase("programme-elf.pdf", SIRENE, _elf(), refused),
        HostileCase("page.pdf", SIRENE, b"<!DOCTYPE html><html><body>Avis</body></html>", refused),
        HostileCase("trop-gros.pdf", SIRENE, good[:-6] + b"%" + bytes(5_000_000) + b"\n%%EOF\n", (C.FICHIER_TROP_GROS,)),
    ]
    return cases


def _xref_prev_loop(pdf: bytes) -> bytes:
    start = pdf.rindex(b"startxref\n") + len(b"startxref\n")
    offset = int(pdf[start:pdf.index(b"\n", start)])
    return pdf.replace(b"/Root 1 0 R >>", b"/Root 1 0 R /Prev %d >>" % offset)


def _jpeg_resized(data: bytes, width: int, height: int) -> bytes:
    """The same JPEG with its SOF0 frame header claiming another size."""
    sof = data.index(b"\xff\xc0")
    return data[: sof + 5] + struct.pack(">HH", height, width) + data[sof + 9:]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tests/hostile.py OUTDIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    cases = corpus()
    for case in cases:
        (out / case.name).write_bytes(case.data)
    print(f"{len(cases)} fichiers écrits dans {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
