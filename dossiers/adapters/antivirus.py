"""Antivirus scan of uploaded bytes: clamd over TCP, or nothing when no clamd is configured.

Three implementations of one port (``scan(data) -> ScanResult``, ``ping() -> bool``):

- :class:`ClamdScanner`: clamd's ``INSTREAM`` command over TCP (``host:port``);
- :class:`NoScanner`: no ``CLAMD_ADDRESS``; every file comes back clean with ``scanned=False``,
  so that a caller can say "pièce non contrôlée" instead of pretending it was scanned;
- :class:`MemoryScanner`: in-memory, flags bytes containing a given pattern (tests, demos).

The clamd protocol, as ``man clamd`` states it: ``zINSTREAM\\0``, then chunks of a 4-byte
big-endian length followed by that many bytes, then a zero length; the reply, NUL-terminated, is
``stream: OK``, ``stream: <signature> FOUND`` or ``<reason> ERROR``. ``zPING\\0`` answers ``PONG``.

Why not a client library: ``clamav-client`` (GPL-2.0, the project is MIT) keeps sending after clamd
refused a stream over ``StreamMaxLength`` and surfaces a bare ``BrokenPipeError``
(graingert/python-clamd#24, inherited). Here clamd's reply is read as soon as it arrives, and again
after a broken pipe, so the size refusal is reported as such (:class:`AntivirusStreamTooLong`).

Errors: connection refused, reset before any reply, or a deadline passed ->
:class:`~dossiers.errors.AntivirusUnavailable` (transient, retry with backoff); anything else clamd
says that is not a verdict -> :class:`~dossiers.errors.AntivirusError` (not retried).
"""

from __future__ import annotations

import select
import socket
import struct
import time
from collections.abc import Mapping

from dossiers.errors import AntivirusError, AntivirusStreamTooLong, AntivirusUnavailable
from dossiers.ports import ScanResult

__all__ = [
    "AntivirusStreamTooLong",
    "ClamdScanner",
    "MemoryScanner",
    "NoScanner",
    "build_scanner",
]

CHUNK = 256 * 1024  # bytes per INSTREAM chunk; clamd only requires a chunk <= StreamMaxLength
_SIZE_LIMIT_REPLY = "INSTREAM size limit exceeded"
_MAX_REPLY = 4096


def _parse_address(address: str) -> tuple[str, int]:
    host, _, port = address.strip().rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"adresse clamd {address!r} : attendu hôte:port (ex. 127.0.0.1:3310)")
    return host, int(port)


class ClamdScanner:
    """clamd over TCP. ``timeout``: seconds for the whole exchange (connect, send, verdict)."""

    def __init__(self, address: str, timeout: float, *, chunk_size: int = CHUNK) -> None:
        if timeout <= 0:
            raise ValueError("timeout clamd : attendu un nombre de secondes > 0")
        self.address = address
        self.host, self.port = _parse_address(address)
        self.timeout = timeout
        self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"ClamdScanner({self.address!r}, timeout={self.timeout})"

    def scan(self, data: bytes) -> ScanResult:
        deadline = time.monotonic() + self.timeout
        with self._connect(deadline) as sock:
            reply = self._instream(sock, memoryview(data), deadline)
        return self._verdict(reply, len(data))

    def ping(self) -> bool:
        """True when clamd answers PONG in time; False when unreachable or answering something else."""
        deadline = time.monotonic() + self.timeout
        try:
            with self._connect(deadline) as sock:
                self._send(sock, b"zPING\0", deadline)
                return self._read_reply(sock, deadline) == "PONG"
        except AntivirusError:
            return False

    # -- protocol -------------------------------------------------------------------------------

    def _connect(self, deadline: float) -> socket.socket:
        try:
            return socket.create_connection((self.host, self.port), timeout=_remaining(deadline))
        except OSError as exc:  # refused, unknown host, timeout
            raise self._unavailable(f"connexion impossible ({exc})") from exc

    def _instream(self, sock: socket.socket, data: memoryview, deadline: float) -> str:
        sent = 0
        try:
            self._send(sock, b"zINSTREAM\0", deadline)
            for start in range(0, len(data), self.chunk_size):
                chunk = data[start : start + self.chunk_size]
                self._send(sock, struct.pack(">I", len(chunk)) + chunk, deadline)
                sent += len(chunk)
                if select.select([sock], [], [], 0)[0]:  # clamd answered early: a refusal
                    return self._read_reply(sock, deadline)
            self._send(sock, struct.pack(">I", 0), deadline)
        except (BrokenPipeError, ConnectionResetError) as exc:
            # clamd closes after refusing a stream; its reply is usually still readable
            try:
                return self._read_reply(sock, deadline)
            except AntivirusError:
                raise self._unavailable(
                    f"connexion coupée par clamd après {sent} octets envoyés sur {len(data)}, sans réponse"
                ) from exc
        return self._read_reply(sock, deadline)

    def _send(self, sock: socket.socket, payload: bytes, deadline: float) -> None:
        try:
            sock.settimeout(_remaining(deadline))
            sock.sendall(payload)
        except TimeoutError as exc:
            raise self._unavailable(f"délai de {self.timeout} s dépassé pendant l'envoi") from exc

    def _read_reply(self, sock: socket.socket, deadline: float) -> str:
        buffer = b""
        while not buffer.endswith(b"\0"):
            try:
                sock.settimeout(_remaining(deadline))
                part = sock.recv(_MAX_REPLY)
            except TimeoutError as exc:
                raise self._unavailable(f"délai de {self.timeout} s dépassé en attendant la réponse") from exc
            except OSError as exc:
                raise self._unavailable(f"lecture de la réponse impossible ({exc})") from exc
            if not part:
                raise self._unavailable("connexion fermée par clamd sans réponse complète")
            buffer += part
            if len(buffer) > _MAX_REPLY:
                raise AntivirusError(f"clamd {self.address} : réponse trop longue ({buffer[:80]!r}…)")
        return buffer[:-1].decode("utf-8", errors="replace").strip()

    def _verdict(self, reply: str, size: int) -> ScanResult:
        if reply.startswith(_SIZE_LIMIT_REPLY):
            raise AntivirusStreamTooLong(
                f"clamd {self.address} refuse le fichier de {size} octets : "
                "taille supérieure à sa limite StreamMaxLength",
                address=self.address, size=size,
            )  # fmt: skip
        body = reply.removeprefix("stream:").strip() if reply.startswith("stream:") else None
        if body == "OK":
            return ScanResult(infected=False)
        if body is not None and body.endswith(" FOUND"):
            return ScanResult(infected=True, signature=body.removesuffix(" FOUND").strip())
        if reply.endswith("ERROR"):
            raise AntivirusError(f"clamd {self.address} : analyse en échec ({reply})")
        raise AntivirusError(f"clamd {self.address} : réponse inattendue {reply[:200]!r}")

    def _unavailable(self, detail: str) -> AntivirusUnavailable:
        return AntivirusUnavailable(f"antivirus clamd {self.address} indisponible : {detail}")


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("délai dépassé")
    return left


class NoScanner:
    """No clamd configured: nothing is scanned, and every result says so (``scanned=False``)."""

    def scan(self, data: bytes) -> ScanResult:
        return ScanResult(infected=False, signature=None, scanned=False)

    def ping(self) -> bool:
        return True


class MemoryScanner:
    """In memory: a file is infected when it contains one of ``patterns`` (bytes -> signature name)."""

    def __init__(self, patterns: Mapping[bytes, str]) -> None:
        self.patterns = dict(patterns)
        self.scanned: list[int] = []  # sizes of the files seen, for assertions

    def scan(self, data: bytes) -> ScanResult:
        self.scanned.append(len(data))
        for pattern, name in self.patterns.items():
            if pattern in data:
                return ScanResult(infected=True, signature=name)
        return ScanResult(infected=False)

    def ping(self) -> bool:
        return True


def build_scanner(address: str | None, timeout: float) -> ClamdScanner | NoScanner:
    """clamd at ``address`` (``host:port``), or :class:`NoScanner` when no address is configured."""
    if address is None or not address.strip():
        return NoScanner()
    return ClamdScanner(address, timeout)
