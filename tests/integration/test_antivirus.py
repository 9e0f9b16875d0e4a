"""ClamdScanner against a real clamd (EICAR-only database), and against sockets that misbehave."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from dossiers.adapters.antivirus import (
    AntivirusStreamTooLong,
    ClamdScanner,
    MemoryScanner,
    NoScanner,
    ScanResult,
    build_scanner,
)
from dossiers.errors import AntivirusError, AntivirusUnavailable, ErrorCode
from tests.conftest import _free_port
from tests.integration.conftest import EICAR_SIGNATURE


def _noise(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


@pytest.fixture
def scanner(clamd_address: str) -> ClamdScanner:
    return ClamdScanner(clamd_address, timeout=30)


def test_eicar_is_infected_with_its_signature_name(scanner: ClamdScanner, eicar: bytes) -> None:
    """The EICAR string alone is reported infected, with the name of the rule that matched."""
    started = time.perf_counter()
    result = scanner.scan(eicar)
    print(f"\nEICAR : {(time.perf_counter() - started) * 1000:.1f} ms")
    assert result.infected and result.scanned
    assert result.signature is not None and result.signature.startswith(EICAR_SIGNATURE)


def test_clean_5mb_file_is_clean(scanner: ClamdScanner) -> None:
    """A 5 MB file without the signature goes through in several chunks and comes back clean."""
    data = _noise(5_000_000)
    started = time.perf_counter()
    result = scanner.scan(data)
    print(f"\nfichier sain de 5 Mo : {(time.perf_counter() - started) * 1000:.1f} ms")
    assert result == ScanResult(infected=False, signature=None, scanned=True)


def test_eicar_in_the_middle_of_a_larger_file_is_found(scanner: ClamdScanner, eicar: bytes) -> None:
    """The signature is found across chunk boundaries, 3 MB into a 6 MB file."""
    middle = 3_000_000 - len(eicar) // 2  # straddles no particular boundary: clamd reassembles the stream
    data = _noise(middle, seed=1) + eicar + _noise(3_000_000, seed=2)
    result = scanner.scan(data)
    assert result.infected
    assert result.signature is not None and result.signature.startswith(EICAR_SIGNATURE)


def test_ping_answers_true(scanner: ClamdScanner) -> None:
    """A running clamd answers PONG."""
    assert scanner.ping() is True


@pytest.mark.parametrize("size", [9 * 1024 * 1024, 64 * 1024 * 1024], ids=["just-over", "far-over"])
def test_file_over_stream_max_length_is_refused_clearly(
    scanner: ClamdScanner, clamd_stream_max: int, size: int
) -> None:
    """Over StreamMaxLength clamd refuses and hangs up; the refusal is reported, not a broken pipe."""
    assert size > clamd_stream_max
    with pytest.raises(AntivirusStreamTooLong) as caught:
        scanner.scan(bytes(size))
    assert caught.value.size == size
    assert caught.value.code == ErrorCode.ANTIVIRUS_TAILLE_DEPASSEE
    assert not isinstance(caught.value, AntivirusUnavailable)  # not transient: never retried
    assert "StreamMaxLength" in caught.value.message
    assert scanner.scan(b"encore en service").infected is False  # clamd is still up


def test_closed_port_is_unavailable_at_once() -> None:
    """Nothing listens: a transient AntivirusUnavailable comes at once, not after the timeout."""
    scanner = ClamdScanner(f"127.0.0.1:{_free_port()}", timeout=10)
    started = time.perf_counter()
    with pytest.raises(AntivirusUnavailable) as caught:
        scanner.scan(b"x")
    assert time.perf_counter() - started < 2
    assert caught.value.code == ErrorCode.ANTIVIRUS_INDISPONIBLE
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert scanner.ping() is False


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections (backlog) and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield f"127.0.0.1:{server.getsockname()[1]}"


def test_silent_server_is_unavailable_after_the_deadline(silent_server: str) -> None:
    """A clamd that never replies: AntivirusUnavailable once the whole-exchange deadline passes."""
    scanner = ClamdScanner(silent_server, timeout=0.3)
    started = time.perf_counter()
    with pytest.raises(AntivirusUnavailable, match="délai"):
        scanner.scan(b"petit fichier")
    assert 0.25 < time.perf_counter() - started < 3


def _one_reply_server(reply: bytes) -> tuple[str, threading.Thread, socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.settimeout(5)
            received = b""
            while not received.endswith(b"\0\0\0\0"):  # the zero-length chunk that ends INSTREAM
                part = conn.recv(65536)
                if not part:
                    return
                received += part
            conn.sendall(reply)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return f"127.0.0.1:{server.getsockname()[1]}", thread, server


@pytest.mark.parametrize(
    ("reply", "expected"),
    [(b"stream: Can't allocate memory ERROR\0", "analyse en échec"), (b"HELLO\0", "réponse inattendue")],
    ids=["error", "garbage"],
)
def test_unexpected_reply_is_an_antivirus_error(reply: bytes, expected: str) -> None:
    """A reply that is not a verdict is a (non-transient) AntivirusError naming what clamd said."""
    address, thread, server = _one_reply_server(reply)
    with server:
        with pytest.raises(AntivirusError, match=expected) as caught:
            ClamdScanner(address, timeout=5).scan(b"abc")
        thread.join(5)
    assert not isinstance(caught.value, AntivirusUnavailable)


def test_no_address_builds_a_scanner_that_says_nothing_was_scanned() -> None:
    """Without CLAMD_ADDRESS, files come back clean but flagged scanned=False."""
    scanner = build_scanner(None, timeout=5)
    assert isinstance(scanner, NoScanner)
    assert scanner.scan(b"anything") == ScanResult(infected=False, signature=None, scanned=False)
    assert isinstance(build_scanner("127.0.0.1:3310", timeout=5), ClamdScanner)


@pytest.mark.parametrize("address", ["clamd", "127.0.0.1:", "127.0.0.1:99999", ":3310"])
def test_bad_address_fails_loudly(address: str) -> None:
    """A malformed address is refused when the scanner is built, not at the first upload."""
    with pytest.raises(ValueError, match="hôte:port"):
        build_scanner(address, timeout=5)


def test_memory_scanner_flags_its_patterns(eicar: bytes) -> None:
    """The in-memory scanner finds a pattern anywhere and records what it saw."""
    scanner = MemoryScanner({eicar: EICAR_SIGNATURE})
    assert scanner.scan(b"a" + eicar + b"b") == ScanResult(infected=True, signature=EICAR_SIGNATURE)
    assert scanner.scan(b"sain").infected is False
    assert scanner.scanned == [len(eicar) + 2, 4]
