"""Shared fixtures for real services.

- ``postgres_server`` (session): a throwaway PostgreSQL (newest installed) on 127.0.0.1, free port, temp dir,
  trust auth, ``fsync=off``; stopped and removed at the end of the session. Binaries come from
  ``POSTGRES_BIN_DIR`` or the newest ``/usr/lib/postgresql/*/bin``; as root, ``initdb`` and ``pg_ctl`` run
  as the ``postgres`` user. Missing binaries skip the test locally and fail it when ``CI=true``.
- ``pool`` (session): a warm unoserver pool of one LibreOffice, profiles cached in
  ``var/test-converter`` so that local reruns start warm; ``pool_urls`` gives its address for
  processes that connect to it (CONVERTER_URLS). Missing LibreOffice/unoserver: skip, or fail in CI.
- ``redis_server`` (session): a throwaway ``redis-server`` on 127.0.0.1, free port, no persistence;
  ``redis_url`` (function) flushes it and gives ``redis://127.0.0.1:<port>/0``. No binary: skip, or
  fail in CI.
- ``seaweedfs`` (session): a throwaway SeaweedFS, S3 API with versioning and object lock (helpers in
  tests/integration/conftest.py). No ``weed`` binary: skip, or fail in CI.
- ``catalog_url`` (function, parametrized ``sqlite`` / ``postgresql``): the URL of a fresh, empty
  database: a SQLite file under ``tmp_path``, or a new database on ``postgres_server``.
- ``pki`` (session): the test PKI of ``tests/pki.py``; ``tsa_url`` (session): a real RFC 3161 TSA on
  127.0.0.1 signing with its TSA certificate.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dossiers.settings import ROOT, Settings

# A developer's .env in the working directory must not reach the processes the tests start.
os.environ["CONUM_ENV_FILE"] = ""

def _pg_bin() -> Path:
    """POSTGRES_BIN_DIR, else the newest /usr/lib/postgresql/<version>/bin (Debian's layout)."""
    if os.environ.get("POSTGRES_BIN_DIR"):
        return Path(os.environ["POSTGRES_BIN_DIR"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
IN_CI = os.environ.get("CI", "").lower() == "true"


def _missing_service(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is a failure)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def terminate(proc: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM a process we started, SIGKILL it if it has not ended after ``grace`` seconds, and reap it."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextmanager
def serve_asgi(asgi: Any, port: int) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1:``port`` in a thread (as `conum serve` does in its
    process); yields the base URL, stops the server on exit."""
    import threading

    import uvicorn

    server = uvicorn.Server(uvicorn.Config(asgi, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn n'a pas démarré"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@dataclass
class PostgresServer:
    host: str
    port: int
    admin_url: str

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/{database}"

    def create_database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        _missing_service(f"PostgreSQL introuvable dans {PG_BIN}")
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="conum-pg-"))
    (base / "sock").mkdir()
    if as_root:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(base / "sock", "postgres", "postgres")
    data, log = base / "data", base / "server.log"
    subprocess.run(
        [*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    port = 0
    for _attempt in range(3):  # a free port can be taken between the probe and the start
        port = _free_port()
        options = f"-p {port} -k {base / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = subprocess.run(
            [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30",
             "-o", options, "start"],
            capture_output=True, timeout=60,
        )  # fmt: skip
        if started.returncode == 0:
            break
    else:
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"PostgreSQL n'a pas démarré : {started.stderr.decode(errors='replace')}\n{tail}")
    server = PostgresServer("127.0.0.1", port, f"postgresql://postgres@127.0.0.1:{port}/postgres")
    try:
        yield server
    finally:
        subprocess.run(
            [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'catalog.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database()


@pytest.fixture(scope="session")
def pool() -> Iterator[object]:
    from dossiers.adapters.libreoffice import UnoserverPool

    if shutil.which("soffice") is None:
        _missing_service("LibreOffice (soffice) n'est pas installé")
    unoserver_bin = Settings().effective_unoserver_bin
    if unoserver_bin is None:
        _missing_service("unoserver absent : créer .venv-uno (make uno)")
    converter_pool = UnoserverPool.start(unoserver_bin, size=1, base_dir=ROOT / "var" / "test-converter", timeout=60)
    try:
        yield converter_pool
    finally:
        converter_pool.close()


@pytest.fixture(scope="session")
def pool_urls(pool: object) -> str:
    return ",".join(pool.addresses)  # type: ignore[attr-defined]


@dataclass
class RedisServer:
    port: int
    directory: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self, *args: str) -> str:
        cli = shutil.which("redis-cli") or "redis-cli"
        done = subprocess.run([cli, "-p", str(self.port), *args], capture_output=True, text=True, timeout=10)
        return done.stdout.strip()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        _missing_service("redis-server n'est pas installé (apt-get install redis-server)")
    base = Path(tempfile.mkdtemp(prefix="conum-redis-"))
    port = _free_port()
    subprocess.run(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(base), "--save", "", "--appendonly", "no",
         "--daemonize", "yes", "--pidfile", str(base / "redis.pid"), "--logfile", str(base / "redis.log")],
        check=True, timeout=30,
    )
    server = RedisServer(port, base)
    for _ in range(200):
        if server.command("ping") == "PONG":
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"redis-server ne répond pas : {(base / 'redis.log').read_text(errors='replace')[-2000:]}")
    try:
        yield server
    finally:
        pid_file = base / "redis.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.command("flushall")
    return redis_server.url


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[object]:
    """A throwaway SeaweedFS (S3 with versioning and object lock): see tests/integration/conftest.py."""
    from tests.integration.conftest import start_seaweedfs, stop_weed

    base = Path(tempfile.mkdtemp(prefix="conum-weed-"))
    try:
        server, process, ports = start_seaweedfs(base, access_key="conum-test", secret_key="conum-test-secret")
        try:
            yield server
        finally:
            stop_weed(process, ports)
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The test PKI of tests/pki.py (root, intermediate, seal, signers, an expired and an untrusted one, TSA),
    valid around the wall clock's now: certificates are made for the day the tests run."""
    from datetime import UTC, datetime

    from tests.pki import build

    return build(tmp_path_factory.mktemp("pki"), datetime.now(UTC))


@pytest.fixture(scope="session")
def tsa_url(pki: Any) -> Iterator[str]:
    """A real RFC 3161 TSA over HTTP on 127.0.0.1, signing with the test PKI's TSA certificate."""
    from tests.pki import TsaServer

    server = TsaServer(pki.tsa)
    try:
        yield server.url
    finally:
        server.close()
