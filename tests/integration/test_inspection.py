"""The Inspector with real child processes: facts of well-formed files, limits, and the pool's life.

Files are made here with reportlab, Pillow and pypdf (hand-written PDF objects where a library
would not write what is needed, e.g. a signature value). Figures are printed (``pytest -s``).
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator

import psutil
import pytest
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.actions import JavaScript
from reportlab.pdfgen import canvas

from dossiers.adapters.inspection import InspectionUnavailable, Inspector, sniff
from dossiers.domain.pieces import (
    DEFAULT_POLICIES,
    MIME_JPEG,
    MIME_PDF,
    MIME_PNG,
    KindPolicy,
    PieceKind,
    Probleme,
)
from tests.hostile import docx, png_chunks, stream, text_pdf, zeros_flate, zip_of

SIRENE = DEFAULT_POLICIES[PieceKind.SIRENE]
IDENTITE = DEFAULT_POLICIES[PieceKind.IDENTITE]
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def avis_pdf(pages: int = 2) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=1)
    c.setTitle("Avis de situation au répertoire Sirene")
    c.setAuthor("Insee")
    for number in range(1, pages + 1):
        c.drawString(72, 720, f"Avis de situation au répertoire Sirene, page {number}")
        c.drawString(72, 700, "Identifiant SIRET : 213 300 999 00017")
        c.showPage()
    c.save()
    return buf.getvalue()


def image(fmt: str, size: tuple[int, int] = (640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buf, fmt)
    return buf.getvalue()


def signed_pdf() -> bytes:
    """A signed field (its /V has a /ByteRange) and an empty one under a parent field."""
    return text_pdf(catalog=b"/AcroForm << /Fields [6 0 R 8 0 R] /SigFlags 3 >>", extra=(
        b"<< /FT /Sig /T (Signature1) /V 7 0 R /Subtype /Widget /Rect [0 0 0 0] /P 3 0 R >>",
        (b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange [0 10 20 30] "
         b"/Contents <3082> /Name (Camille Exemple) /M (D:20240115103000+01'00') >>"),
        b"<< /FT /Sig /T (contrat) /Kids [9 0 R] >>",
        b"<< /T (employeur) /Parent 8 0 R /Subtype /Widget /Rect [0 0 0 0] >>",
    ))


def slow_pdf() -> bytes:
    """One page that pypdf takes ~2 s to read, under every work limit (90 000 tokens)."""
    content = b"BT /F1 9 Tf " + b"(Hello) Tj\n" * 45_000 + b"ET"
    return text_pdf(contents=stream(b"/Filter /FlateDecode", zlib.compress(content)))


@pytest.fixture(scope="module")
def inspector() -> Iterator[Inspector]:
    with Inspector(workers=2) as insp:
        insp.warm()
        yield insp


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_born_digital_pdf_gives_its_pages_text_and_metadata(inspector: Inspector) -> None:
    data = avis_pdf()
    facts = inspector.inspect(data, policy=SIRENE, declared_name="avis.pdf")
    assert (facts.mime, facts.size, facts.probleme, facts.declared_name) == (MIME_PDF, len(data), None, "avis.pdf")
    assert facts.pdf is not None and facts.pdf.pages == 2
    assert "Avis de situation au répertoire Sirene, page 1" in facts.pdf.text and "page 2" in facts.pdf.text
    assert facts.pdf.has_text and not facts.pdf.text_truncated
    assert (facts.pdf.title, facts.pdf.author) == ("Avis de situation au répertoire Sirene", "Insee")
    assert facts.pdf.producer and "ReportLab" in facts.pdf.producer
    assert facts.pdf.active_content == () and facts.pdf.signatures == ()


def test_text_is_capped_in_pages_and_characters() -> None:
    with Inspector(text_limit=60, max_pages_text=1) as insp:
        facts = insp.inspect(avis_pdf(pages=3), policy=SIRENE)
    assert facts.pdf is not None and facts.pdf.pages == 3 and facts.pdf.text_truncated
    assert len(facts.pdf.text) <= 60 and "page 2" not in facts.pdf.text


@pytest.mark.parametrize(("fmt", "mime"), [("JPEG", MIME_JPEG), ("PNG", MIME_PNG)])
def test_an_image_gives_its_format_and_size(inspector: Inspector, fmt: str, mime: str) -> None:
    facts = inspector.inspect(image(fmt), policy=IDENTITE, declared_name=f"cni.{fmt.lower()}")
    assert facts.mime == mime and facts.probleme is None and facts.pdf is None
    assert facts.image is not None and (facts.image.format, facts.image.width, facts.image.height) == (fmt, 640, 480)


def test_signature_fields_are_read_with_their_signer_and_time(inspector: Inspector) -> None:
    facts = inspector.inspect(signed_pdf(), policy=SIRENE)
    assert facts.pdf is not None
    signed, empty = facts.pdf.signatures
    assert (signed.field_name, signed.signed, signed.signer) == ("Signature1", True, "Camille Exemple")
    assert signed.signing_time == "D:20240115103000+01'00'"
    assert (empty.field_name, empty.signed, empty.signer) == ("contrat.employeur", False, None)


def test_active_content_is_named(inspector: Inspector) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(avis_pdf(pages=1))))
    writer.add_open_action(JavaScript("app.alert('bonjour');"))
    writer.add_attachment("facture.xml", b"<facture/>")
    buf = io.BytesIO()
    writer.write(buf)
    facts = inspector.inspect(buf.getvalue(), policy=SIRENE)
    assert facts.pdf is not None and facts.pdf.active_content == ("fichier_joint", "javascript")


def test_an_encrypted_pdf_is_not_read(inspector: Inspector) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(avis_pdf(pages=1))))
    writer.encrypt(user_password="", owner_password="proprietaire", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    facts = inspector.inspect(buf.getvalue(), policy=SIRENE)
    assert facts.probleme is Probleme.CHIFFRE and facts.pdf is None and facts.detail


def test_the_policy_decides_what_is_parsed(inspector: Inspector) -> None:
    empty = inspector.inspect(b"", policy=SIRENE, declared_name="vide.pdf")
    assert (empty.size, empty.mime, empty.pdf) == (0, "application/x-empty", None)
    small = KindPolicy(frozenset({MIME_PDF}), max_bytes=1_000, max_pages=3)
    big = inspector.inspect(avis_pdf(), policy=small)
    assert big.probleme is Probleme.TROP_GROS and big.mime == MIME_PDF and big.pdf is None
    refused = inspector.inspect(image("PNG"), policy=SIRENE)
    assert refused.mime == MIME_PNG and refused.image is None and refused.probleme is None


def test_the_type_comes_from_the_bytes_and_a_docx_from_its_content_types() -> None:
    assert sniff(avis_pdf()[:256]) == MIME_PDF and sniff(image("JPEG")[:256]) == MIME_JPEG
    assert sniff(docx()) == DOCX and sniff(docx()[:8192]) == DOCX
    assert sniff(zip_of({"word/document.xml": b"<w/>"})) == "application/zip"  # no [Content_Types].xml
    assert sniff(b"") == "application/x-empty"


def test_a_memory_hungry_file_is_interrupted_not_fatal() -> None:
    png = png_chunks(7000, 7000, zeros_flate(188 << 20), mode=6)  # 7000 x 7000 RGBA: 196 MB of pixels
    with Inspector(memory_mb=160) as insp:
        facts = insp.inspect(png, policy=IDENTITE)
        assert facts.probleme is Probleme.INTERROMPU and "mémoire" in (facts.detail or "")
        assert insp.inspect(image("PNG"), policy=IDENTITE).image is not None  # a new child serves


def test_a_slow_file_is_interrupted_at_the_time_limit() -> None:
    with Inspector(timeout=0.5) as insp:
        insp.warm()
        started = time.monotonic()
        facts = insp.inspect(slow_pdf(), policy=SIRENE)
        elapsed = time.monotonic() - started
        assert facts.probleme is Probleme.INTERROMPU and "temps imparti (0,5\u00a0s)" in (facts.detail or "")
        assert 0.5 <= elapsed < 1.5
        assert insp.inspect(avis_pdf(), policy=SIRENE).pdf is not None


def test_the_pool_survives_a_child_killed_mid_task() -> None:
    with Inspector(timeout=20.0) as insp:
        insp.warm()
        (victim,) = insp.pool.pids()
        result: list = []
        thread = threading.Thread(target=lambda: result.append(insp.inspect(slow_pdf(), policy=SIRENE)))
        thread.start()
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        thread.join(10)
        assert result[0].probleme is Probleme.INTERROMPU and "arrêté" in result[0].detail
        facts = insp.inspect(avis_pdf(), policy=SIRENE)
        assert facts.pdf is not None and facts.pdf.pages == 2
        assert insp.pool.pids() != [victim] and not alive(victim)


def test_four_threads_share_two_children(inspector: Inspector) -> None:
    files = [(avis_pdf(), SIRENE, MIME_PDF), (image("JPEG"), IDENTITE, MIME_JPEG), (image("PNG"), IDENTITE, MIME_PNG)]
    errors: list[BaseException] = []
    seen_pids: set[int] = set()

    def work(offset: int) -> None:
        try:
            for i in range(9):
                data, policy, mime = files[(i + offset) % 3]
                facts = inspector.inspect(data, policy=policy)
                assert facts.mime == mime and facts.probleme is None and (facts.pdf or facts.image)
                seen_pids.update(inspector.pool.pids())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and len(inspector.pool.pids()) <= 2 and len(seen_pids) <= 2


def test_children_are_recycled_after_their_quota() -> None:
    with Inspector(max_tasks_per_child=2) as insp:
        insp.warm()
        first = insp.pool.pids()
        for _ in range(2):
            insp.inspect(avis_pdf(), policy=SIRENE)
        insp.inspect(avis_pdf(), policy=SIRENE)
        assert insp.pool.pids() != first and not any(alive(pid) for pid in first)


def test_close_leaves_no_child_and_refuses_further_work() -> None:
    insp = Inspector(workers=2)
    insp.warm()
    pids = insp.pool.pids()
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    insp.close()
    assert not any(alive(pid) for pid in pids) and insp.pool.pids() == []
    with pytest.raises(InspectionUnavailable):
        insp.inspect(avis_pdf(), policy=SIRENE)


def test_an_inspector_left_open_is_stopped_when_the_interpreter_exits() -> None:
    code = ("from dossiers.adapters.inspection import Inspector\n"
            "insp = Inspector(workers=2); insp.warm(); print(*insp.pool.pids())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    pids = [int(pid) for pid in out.stdout.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in pids)


def test_a_born_digital_pdf_costs_milliseconds_through_the_warm_pool(inspector: Inspector) -> None:
    data = avis_pdf(pages=1)
    inspector.inspect(data, policy=SIRENE)
    runs = 50
    started = time.perf_counter()
    for _ in range(runs):
        inspector.inspect(data, policy=SIRENE)
    per_file = (time.perf_counter() - started) / runs
    print(f"\ninspection d'un PDF natif d'une page par le pool chaud : {per_file * 1000:.1f} ms")
    assert per_file < 0.05
