"""Fixtures for integration tests against a real clamd.

- ``clamd_address`` (session): a throwaway clamd on 127.0.0.1, free port, temp dir, whose only
  signature database is ``local.ndb`` with one EICAR rule (no signatures ship with Debian's package
  and none can be downloaded here). ``StreamMaxLength`` is ``CLAMD_STREAM_MAX`` (8 MiB): large enough
  for a 5 MB file, small enough to test the refusal. Yields ``"127.0.0.1:<port>"``; the daemon is
  stopped by its pid at the end. No clamd binary (``CLAMD_BIN``, else ``clamd`` on the PATH or
  ``/usr/sbin/clamd``): skip locally, fail when ``CI=true``.
- ``eicar`` (session): the EICAR test string, assembled here so that no file of the repository holds
  it verbatim (scanners flag source files that do).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import _free_port, _missing_service

CLAMD_STREAM_MAX = 8 * 1024 * 1024  # clamd's "8M"
EICAR_SIGNATURE = "Eicar-Test-Signature"
_EICAR_PARTS = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-", "ANTIVIRUS-", "TEST-FILE!$H+H*")


def _eicar() -> bytes:
    return "".join(_EICAR_PARTS).encode("ascii")


@pytest.fixture(scope="session")
def eicar() -> bytes:
    return _eicar()


def _clamd_bin() -> str | None:
    if os.environ.get("CLAMD_BIN"):
        return shutil.which(os.environ["CLAMD_BIN"])
    return shutil.which("clamd") or shutil.which("/usr/sbin/clamd")


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"zPING\0")
            return sock.recv(16) == b"PONG\0"
    except OSError:
        return False


def _config(base: Path, port: int) -> Path:
    conf = base / f"clamd-{port}.conf"
    conf.write_text(
        "\n".join([
            "Foreground yes",
            f"TCPSocket {port}",
            "TCPAddr 127.0.0.1",
            f"DatabaseDirectory {base / 'db'}",
            f"PidFile {base / 'clamd.pid'}",
            f"TemporaryDirectory {base / 'tmp'}",
            f"LogFile {base / 'clamd.log'}",
            "User root" if os.geteuid() == 0 else "",
            f"StreamMaxLength {CLAMD_STREAM_MAX // (1024 * 1024)}M",
            "MaxThreads 4",
            "SelfCheck 0",
            "",
        ])
    )  # fmt: skip
    return conf


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def clamd_address() -> Iterator[str]:
    clamd = _clamd_bin()
    if clamd is None:
        _missing_service("clamd n'est pas installé (paquet Debian clamav-daemon)")
    assert clamd is not None
    base = Path(tempfile.mkdtemp(prefix="conum-clamd-"))
    (base / "db").mkdir()
    (base / "tmp").mkdir()
    (base / "db" / "local.ndb").write_text(f"{EICAR_SIGNATURE}:0:*:{_eicar().hex()}\n")
    process: subprocess.Popen[bytes] | None = None
    port = 0
    for _attempt in range(3):  # a free port can be taken between the probe and the start
        port = _free_port()
        with open(base / "stdout.log", "ab") as out:
            process = subprocess.Popen([clamd, "-c", str(_config(base, port))], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline and not _pong(port):
            time.sleep(0.02)
        if process.poll() is None and _pong(port):
            break
        _stop(process)
    else:
        logs = "".join(p.read_text(errors="replace")[-2000:] for p in (base / "clamd.log", base / "stdout.log")
                       if p.exists())
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"clamd n'a pas démarré :\n{logs}")
    assert process is not None
    try:
        yield f"127.0.0.1:{port}"
    finally:
        _stop(process)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def clamd_stream_max() -> int:
    """The ``StreamMaxLength`` of the ``clamd_address`` server, in bytes."""
    return CLAMD_STREAM_MAX
