"""DOCX -> PDF/A-2b with the real LibreOffice: one-shot soffice and the unoserver pool.

Needs LibreOffice (`soffice`) and, for the pool, the unoserver venv (`make uno`, i.e.
.venv-uno/bin/unoserver). Missing locally: skipped. Missing with CI=true: failed.
The pool's LibreOffice profiles live in var/test-converter so that reruns start warm.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import psutil
import pytest
from pypdf import PdfReader

from dossiers.adapters.libreoffice import SofficeConverter, UnoserverPool, build_converter
from dossiers.adapters.libreoffice._process import claim_index, free_port
from dossiers.adapters.libreoffice.unoserver_process import UnoserverProcess
from dossiers.adapters.pdf import CONUM_NS, read_pdf_metadata, stamp_pdf
from dossiers.entrypoints.converter import serve_forever
from dossiers.errors import ConversionError, ErrorCode
from dossiers.settings import ROOT, Settings

CI = os.environ.get("CI") == "true"
CACHE_DIR = ROOT / "var" / "test-converter"
SENTENCE = "La structure « Œuvre & Cie » emploie 3 < 5 > 2 conseillers numériques."

pytestmark = pytest.mark.libreoffice


def missing(reason: str) -> None:
    if CI:
        pytest.fail(f"{reason} (CI=true: LibreOffice tests must run)")
    pytest.skip(reason)


def need_soffice() -> None:
    if shutil.which("soffice") is None:
        missing("LibreOffice (soffice) n'est pas installé")


def need_unoserver() -> str:
    need_soffice()
    unoserver_bin = Settings().effective_unoserver_bin
    if unoserver_bin is None:
        missing("unoserver absent : créer .venv-uno (make uno)")
    assert unoserver_bin is not None
    return unoserver_bin


def make_docx(paragraphs: int = 1) -> bytes:
    document = docx.Document()
    document.add_heading("Convention de subvention", level=1)
    document.add_paragraph(SENTENCE)
    for index in range(1, paragraphs):
        document.add_paragraph(f"Article {index}. " + "Texte de la convention, " * 40)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_text(pdf: bytes) -> str:
    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    return re.sub(r"\s+", " ", text)


def corrupt_docx() -> bytes:
    """A real ZIP with DOCX part names whose main part is garbage: LibreOffice must refuse it."""
    source = zipfile.ZipFile(io.BytesIO(make_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, os.urandom(3000) if name == "word/document.xml" else data)
    return out.getvalue()


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def soffice_converter() -> Iterator[SofficeConverter]:
    need_soffice()
    converter = SofficeConverter(timeout=120, profile_dir=CACHE_DIR / "soffice-profile")
    yield converter
    converter.close()


@pytest.fixture(params=["soffice", "pool"])
def converter(request: pytest.FixtureRequest) -> SofficeConverter | UnoserverPool:
    name = "soffice_converter" if request.param == "soffice" else "pool"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


# -- both converters ---------------------------------------------------------------------------


def test_converts_to_pdfa2b_with_the_text(converter: SofficeConverter | UnoserverPool) -> None:
    pdf = converter.convert(make_docx())
    assert pdf.startswith(b"%PDF-")
    assert SENTENCE in pdf_text(pdf)
    meta = read_pdf_metadata(pdf)
    assert meta["pdfa_part"] == 2
    assert meta["pdfa_conformance"] == "B"


def test_stamped_metadata_reads_back_and_stays_pdfa(
    converter: SofficeConverter | UnoserverPool,
) -> None:
    source = make_docx()
    digest = hashlib.sha256(source).hexdigest()
    title = "Convention STR-000123 « Œuvre & Cie » <v2>"
    converted = converter.convert(source)
    stamped = stamp_pdf(
        converted,
        convention_id="CONV-33-000123",
        version=2,
        docx_sha256=digest,
        title=title,
    )
    assert read_pdf_metadata(stamped) == {
        "convention_id": "CONV-33-000123",
        "version": 2,
        "docx_sha256": digest,
        "title": title,
        "pdfa_part": 2,
        "pdfa_conformance": "B",
    }
    reader = PdfReader(io.BytesIO(stamped))
    root = reader.trailer["/Root"]
    assert "/OutputIntents" in root
    assert "/Filter" not in root["/Metadata"]  # PDF/A: metadata stream not filtered
    xmp = root["/Metadata"].get_data().decode("utf-8")
    assert CONUM_NS in xmp and "pdfaExtension:schemas" in xmp
    assert "<conum:ConventionId>CONV-33-000123</conum:ConventionId>" in xmp
    assert reader.metadata is not None and reader.metadata["/ConumVersion"] == "2"
    assert SENTENCE in pdf_text(stamped)
    # an incremental update: LibreOffice's bytes untouched, the document ID kept, one more xref section
    assert stamped.startswith(converted) and stamped.count(b"startxref") == converted.count(b"startxref") + 1
    assert reader.trailer["/ID"] == PdfReader(io.BytesIO(converted)).trailer["/ID"]
    # Stamping again replaces the values instead of piling them up.
    again = stamp_pdf(
        stamped, convention_id="CONV-33-000123", version=3, docx_sha256=digest, title="t"
    )
    assert read_pdf_metadata(again)["version"] == 3
    assert (
        PdfReader(io.BytesIO(again))
        .trailer["/Root"]["/Metadata"]
        .get_data()
        .count(CONUM_NS.encode())
        == 2
    )  # xmlns:conum + the schema's namespaceURI, once each


@pytest.mark.parametrize("payload", ["random", "corrupt", "truncated"])
def test_bad_docx_gives_conversion_error_quickly(
    converter: SofficeConverter | UnoserverPool, payload: str
) -> None:
    data = {
        "random": lambda: os.urandom(4096),
        "corrupt": corrupt_docx,
        "truncated": lambda: make_docx()[:2000],
    }[payload]()
    started = time.monotonic()
    with pytest.raises(ConversionError) as info:
        converter.convert(data)
    assert info.value.code == ErrorCode.CONVERSION_ECHEC
    assert time.monotonic() - started < 30
    assert converter.convert(make_docx()).startswith(b"%PDF-")  # still usable afterwards


def test_soffice_timeout_kills_libreoffice() -> None:
    need_soffice()
    converter = SofficeConverter(timeout=0.001, profile_dir=CACHE_DIR / "soffice-timeout")
    with converter, pytest.raises(ConversionError) as info:
        converter.convert(make_docx())
    assert info.value.code == ErrorCode.CONVERSION_DELAI
    time.sleep(0.5)
    profile = str(CACHE_DIR / "soffice-timeout")
    leftovers = [
        p for p in psutil.process_iter(["cmdline"]) if profile in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []


def test_pool_timeout_then_still_converts(pool: UnoserverPool) -> None:
    # A second pool over the same running server: a timeout there must not restart it.
    hasty = UnoserverPool.connect(pool.addresses, timeout=0.001)
    with pytest.raises(ConversionError) as info:
        hasty.convert(make_docx())
    assert info.value.code == ErrorCode.CONVERSION_DELAI
    assert SENTENCE in pdf_text(pool.convert(make_docx()))


# -- the pool ---------------------------------------------------------------------------------


def test_pool_serves_concurrent_callers(pool: UnoserverPool) -> None:
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(pool.convert(make_docx()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(results) == 4


def kill_office(pool: UnoserverPool) -> None:
    """Crash the LibreOffice behind the pool's first server (SIGKILL)."""
    process = pool._slots[0].process
    assert process is not None and process.pid is not None
    children = psutil.Process(process.pid).children(recursive=True)
    office = [p for p in children if p.name() == "soffice.bin"]
    assert office
    for child in office:
        child.kill()
    psutil.wait_procs(office, timeout=10)


def test_pool_restarts_a_crashed_server(pool: UnoserverPool) -> None:
    kill_office(pool)
    deadline = time.monotonic() + 120
    while True:  # the first call may see the crash; the pool must come back by itself
        try:
            pdf = pool.convert(make_docx())
            break
        except ConversionError:
            assert time.monotonic() < deadline
            time.sleep(1)
    assert read_pdf_metadata(pdf)["pdfa_part"] == 2


def test_a_second_pool_never_shares_a_running_profile(pool: UnoserverPool) -> None:
    process = pool._slots[0].process
    assert process is not None
    other = UnoserverProcess(need_unoserver(), base_dir=CACHE_DIR)  # not started
    try:
        assert other.profile_dir != process.profile_dir
    finally:
        other.close()


def test_claim_index_skips_locked_profiles(tmp_path: Path) -> None:
    first, fd_first = claim_index(tmp_path, "profile")
    second, fd_second = claim_index(tmp_path, "profile")
    assert (first, second) == (0, 1)
    os.close(fd_first)
    again, fd_again = claim_index(tmp_path, "profile")
    assert again == 0
    os.close(fd_second)
    os.close(fd_again)


def test_unreachable_servers_are_reported_at_once() -> None:
    pool = UnoserverPool.connect(
        [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"], timeout=30
    )
    started = time.monotonic()
    with pytest.raises(ConversionError) as info:
        pool.convert(make_docx())
    assert info.value.code == ErrorCode.CONVERTISSEUR_INDISPONIBLE
    assert time.monotonic() - started < 5
    with pytest.raises(ValueError):
        UnoserverPool.connect(["pas-une-adresse"])


def test_serve_forever_on_fixed_ports() -> None:
    unoserver_bin = need_unoserver()
    first_port = free_port()
    stop = threading.Event()
    ready: list[UnoserverPool] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            serve_forever(
                unoserver_bin,
                size=1,
                base_dir=CACHE_DIR / "serve",
                first_port=first_port,
                timeout=60,
                stop=stop,
                check_interval=0.5,
                on_ready=ready.append,
            )
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 180
        while not ready and not errors and time.monotonic() < deadline:
            time.sleep(0.2)
        assert errors == [] and ready
        assert ready[0].addresses == [f"127.0.0.1:{first_port}"]
        client = UnoserverPool.connect([f"127.0.0.1:{first_port}"], timeout=60)
        assert SENTENCE in pdf_text(client.convert(make_docx()))
        # A crashed server comes back on the same port by itself.
        kill_office(ready[0])
        deadline = time.monotonic() + 120
        while True:
            try:
                assert SENTENCE in pdf_text(client.convert(make_docx()))
                break
            except ConversionError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not thread.is_alive()


# -- the factory ------------------------------------------------------------------------------


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(var_dir=tmp_path, **values)  # type: ignore[arg-type]


def test_factory_policy(tmp_path: Path) -> None:
    remote = build_converter(settings(tmp_path, converter_urls="127.0.0.1:2003, 127.0.0.1:2004"))
    assert isinstance(remote, UnoserverPool)
    assert remote.addresses == ["127.0.0.1:2003", "127.0.0.1:2004"]
    remote.close()

    for kind in ("soffice", "unoserver", "auto"):
        with pytest.raises(ConversionError) as info:
            build_converter(
                settings(
                    tmp_path,
                    pdf_converter=kind,
                    soffice_bin="soffice-introuvable",
                    unoserver_bin=str(tmp_path / "unoserver-introuvable"),
                )
            )
        assert info.value.code == ErrorCode.CONVERTISSEUR_INDISPONIBLE


def test_factory_builds_soffice(tmp_path: Path) -> None:
    need_soffice()
    with build_converter(
        settings(tmp_path, pdf_converter="soffice", conversion_timeout=60)
    ) as conv:
        assert isinstance(conv, SofficeConverter)
        assert conv.timeout == 60
        assert conv.profile_dir == (tmp_path / "converter" / "soffice-profile").resolve()


def test_metadata_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        read_pdf_metadata(b"pas un PDF")
    with pytest.raises(ValueError):
        stamp_pdf(b"%PDF-1.4", convention_id="C", version=0, docx_sha256="0" * 64, title="t")
    with pytest.raises(ConversionError):
        stamp_pdf(b"pas un PDF", convention_id="C", version=1, docx_sha256="0" * 64, title="t")


def test_auto_falls_back_to_soffice_when_the_pool_cannot_start(tmp_path: Path) -> None:
    need_soffice()
    with build_converter(settings(tmp_path, unoserver_bin=str(tmp_path / "unoserver-introuvable"))) as conv:
        assert isinstance(conv, SofficeConverter)
    with pytest.raises(ConversionError):
        build_converter(settings(tmp_path, pdf_converter="unoserver", unoserver_bin=str(tmp_path / "unoserver-introuvable")))


def _reportlab_pdf() -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.drawString(72, 720, SENTENCE)
    pdf.save()
    return out.getvalue()


def test_an_encrypted_pdf_is_refused_and_an_odd_one_is_rewritten_whole() -> None:
    from pypdf import PdfWriter

    from dossiers.errors import ConversionError

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_reportlab_pdf())))
    writer.encrypt(user_password="", owner_password="proprietaire", algorithm="AES-128")
    locked = io.BytesIO()
    writer.write(locked)
    with pytest.raises(ConversionError, match="chiffré"):
        stamp_pdf(locked.getvalue(), convention_id="C-1", version=1, docx_sha256="a" * 64, title="t")
    # no XMP object (not a LibreOffice PDF/A): rewritten by pypdf, the values still there
    plain = _reportlab_pdf()
    stamped = stamp_pdf(plain, convention_id="C-1", version=2, docx_sha256="b" * 64, title="t")
    assert not stamped.startswith(plain) and read_pdf_metadata(stamped)["version"] == 2


def test_a_stamp_over_a_stamp_keeps_every_trailer_entry_and_reads_strictly(
    converter: SofficeConverter | UnoserverPool,
) -> None:
    converted = converter.convert(make_docx())
    once = stamp_pdf(converted, convention_id="C-1", version=1, docx_sha256="a" * 64, title="un")
    twice = stamp_pdf(once, convention_id="C-1", version=2, docx_sha256="b" * 64, title="deux")
    assert twice.startswith(once) and read_pdf_metadata(twice)["version"] == 2
    strict = PdfReader(io.BytesIO(twice), strict=True)
    before = PdfReader(io.BytesIO(converted)).trailer
    assert set(before) - {"/Prev", "/XRefStm"} <= set(strict.trailer)
    assert strict.metadata["/Title"] == "deux" and SENTENCE in pdf_text(twice)
