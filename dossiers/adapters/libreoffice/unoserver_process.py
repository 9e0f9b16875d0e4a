"""One converter server (XML-RPC front + a LibreOffice behind it) that conum starts and stops.

The pool in :mod:`dossiers.adapters.libreoffice.unoserver` owns several of these. Each gets its
own LibreOffice profile and temp directory under ``base_dir`` (kept between runs: a fresh profile
makes the first conversion slow), its own log file, and its own process group so that stopping
it also stops LibreOffice.

The server is conum's ``libexec/uno_server.py`` (unoserver's API, cheaper per call), run by the
Python of the unoserver installation (the interpreter of ``unoserver_bin``'s ``#!`` line, which
has ``uno``); ``server="unoserver"``, or an ``unoserver_bin`` that is not a Python script, runs
unoserver itself.

A server dies with the process that started it, whatever kills that process (SIGKILL of a
worker included). It is forked by :func:`~dossiers.adapters.libreoffice._process.spawn`'s
long-lived thread and:

- conum's server is given ``--parent-pid``: it asks Linux for SIGTERM when its parent dies
  (PR_SET_PDEATHSIG), checks every second that its owner is still there, and stops its
  LibreOffice and its whole process group when it is not;
- unoserver itself (``server="unoserver"``) runs under the same script in its ``--supervise``
  mode: the script holds the process group, watches the owner as above, and on its death sends
  SIGTERM to unoserver, then SIGKILL to whatever of the group is left after a short grace.
  unoserver alone relays one SIGTERM to LibreOffice's launcher and waits for it, and the launcher
  (oosplash) does not always exit: both stayed, once in three runs on a loaded machine. Only an
  ``unoserver_bin`` that is not a Python script runs bare, with the parent-death SIGTERM alone
  (Linux only; such a unoserver that hangs while its owner dies leaves its LibreOffice behind).
"""

from __future__ import annotations

import http.client
import io
import logging
import math
import os
import shutil
import socket
import subprocess
import sysconfig
import threading
import time
import xmlrpc.client
from functools import lru_cache
from pathlib import Path
from typing import Any

from dossiers.adapters.libreoffice._process import (
    claim_index,
    free_port,
    kill_group,
    parent_death_signal,
    server_python,
    spawn,
)
from dossiers.adapters.libreoffice.base import DOCX_IMPORT_FILTER, PDFA_PART, unavailable_error
from dossiers.settings import ROOT

__all__ = ["UnoserverProcess", "unoserver_convert", "ping", "warmup_docx"]

log = logging.getLogger(__name__)

_LOG_ROTATE_BYTES = 5 * 1024 * 1024
# conum's server runs under LibreOffice's Python, which has none of conum's packages: it lives
# outside the package, in the checkout's libexec/, or in <prefix>/libexec/conum where a wheel
# installs it (pyproject's data-files).
SERVER_SCRIPTS = (
    ROOT / "libexec" / "uno_server.py",
    Path(sysconfig.get_path("data")) / "libexec" / "conum" / "uno_server.py",
)


@lru_cache(maxsize=1)
def server_script() -> Path:
    """conum's ``uno_server.py``: the checkout's, else the installed one."""
    return next((path for path in SERVER_SCRIPTS if path.is_file()), SERVER_SCRIPTS[0])


def unoserver_convert(host: str, port: int, docx: bytes) -> bytes:
    """One DOCX -> PDF/A-2b call to a unoserver (or conum's server), without timeout (callers
    add theirs). Straight to ``convert``: unoserver's own client first calls ``info()``, which
    costs a round trip and, server side, a listing of every filter. A refused connection
    raises ConnectionRefusedError at once; LibreOffice's refusal, an xmlrpc Fault."""
    transport = xmlrpc.client.Transport()
    transport.accept_gzip_encoding = False  # a PDF barely compresses; gzip costs ~5 ms
    with xmlrpc.client.ServerProxy(
        f"http://{host}:{port}", transport=transport, allow_none=True
    ) as proxy:
        result = proxy.convert(
            None,  # inpath
            xmlrpc.client.Binary(docx),
            None,  # outpath
            "pdf",
            None,  # export filter: the one for PDF
            [f"SelectPdfVersion={PDFA_PART}"],
            True,  # update indexes (conum's server: only when the document has some)
            DOCX_IMPORT_FILTER,
            None,  # password
        )
    return bytes(result.data) if result is not None else b""


class _TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


def ping(host: str, port: int, timeout: float = 2.0) -> bool:
    """True when a unoserver answers ``info()`` on host:port within ``timeout`` seconds."""
    proxy = xmlrpc.client.ServerProxy(
        f"http://{host}:{port}", transport=_TimeoutTransport(timeout), allow_none=True
    )
    try:
        with proxy:
            info = proxy.info()
    except (OSError, http.client.HTTPException, xmlrpc.client.Error):
        return False
    return isinstance(info, dict) and "api" in info


@lru_cache(maxsize=1)
def warmup_docx() -> bytes:
    """A small DOCX (accents, a table) that makes LibreOffice load what real documents need."""
    import docx  # python-docx; imported here so that importing this module stays cheap

    document = docx.Document()
    document.add_heading("Préchauffage du convertisseur", level=1)
    document.add_paragraph("Convention « Œuvre & Cie » : 1 < 2 > 0, échéancier à 100 %.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Poste"
    table.cell(0, 1).text = "Montant"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class UnoserverProcess:
    """One unoserver on ``host:port``; ``port`` stays the same across restarts."""

    def __init__(
        self,
        unoserver_bin: str,
        *,
        base_dir: Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        conversion_timeout: float | None = None,
        soffice_bin: str | None = None,
        server: str = "conum",
    ) -> None:
        if server not in ("conum", "unoserver"):
            raise ValueError("server must be 'conum' or 'unoserver'")
        self.unoserver_bin = unoserver_bin
        python = server_python(unoserver_bin)
        self.python = python if server == "conum" else None
        # unoserver itself runs under conum's watchdog when its interpreter can run the script
        self.supervisor = python if server == "unoserver" else None
        base_dir = Path(base_dir).resolve()  # unoserver turns these paths into file:// URIs
        base_dir.mkdir(parents=True, exist_ok=True)
        # The lowest profile that no live server holds (see claim_index).
        try:
            index, self._lock_fd = claim_index(base_dir, "profile")
        except RuntimeError as exc:
            raise unavailable_error(f"aucun profil LibreOffice libre dans {base_dir}") from exc
        self.index = index
        self.host = host
        self.fixed_port = port is not None
        self.port = port if port is not None else free_port(host)
        self.profile_dir = base_dir / f"profile-{index}"
        self.temp_dir = base_dir / f"tmp-{index}"
        self.log_path = base_dir / f"unoserver-{index}.log"
        self.conversion_timeout = conversion_timeout
        self.soffice_bin = soffice_bin
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopped = False  # stop() ran: a start() in progress gives up
        self._closed = False  # close() ran: no start() ever again

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def __repr__(self) -> str:
        return f"UnoserverProcess({self.address}, pid={self.pid})"

    @property
    def server(self) -> str:
        return "conum" if self.python else "unoserver"

    def command(self, uno_port: int) -> list[str]:
        if self.python:
            program = [self.python, str(server_script())]
        elif self.supervisor:
            program = [self.supervisor, str(server_script()), "--parent-pid", str(os.getpid()),
                       "--supervise", self.unoserver_bin]
        else:
            program = [self.unoserver_bin]
        cmd = [
            *program,
            "--interface", self.host,
            "--uno-interface", "127.0.0.1",
            "--port", str(self.port),
            "--uno-port", str(uno_port),
            "--user-installation", str(self.profile_dir),
            "--temp-dir", str(self.temp_dir),
        ]  # fmt: skip
        if self.python:
            cmd += ["--parent-pid", str(os.getpid())]  # it dies with us (see the module's doc)
        if self.conversion_timeout is not None:
            # Server-side guard for callers that are not this pool (CONVERTER_URLS clients):
            # unoserver kills LibreOffice and exits, and the supervisor restarts it.
            cmd += ["--conversion-timeout", str(math.ceil(self.conversion_timeout) + 5)]
        if self.soffice_bin:
            cmd += ["--executable", self.soffice_bin]
        return cmd

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, *, ready_timeout: float = 180.0) -> None:
        """Launch the server (own session, tied to this process's life) and return once it
        answers; raise CONVERTISSEUR_INDISPONIBLE."""
        with self._lock:
            if self._stopped or self._closed:
                raise unavailable_error("le convertisseur a été arrêté")
            if self.alive():
                return
            self._prepare_dirs()
            if not _port_free(self.host, self.port):
                if self.fixed_port:
                    raise unavailable_error(f"le port {self.address} est déjà utilisé")
                self.port = free_port(self.host)
            uno_port = free_port("127.0.0.1")
            while uno_port == self.port:
                uno_port = free_port("127.0.0.1")
            with open(self.log_path, "ab") as log_file:
                try:
                    # Forked by the spawner thread: the parent-death signal then means "this
                    # process died", not "the thread that called start() ended". conum's
                    # server asks for it itself; unoserver gets it before exec.
                    self._proc = spawn(
                        self.command(uno_port),
                        stdin=subprocess.DEVNULL,
                        stdout=log_file,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        pass_fds=(self._lock_fd,),  # the profile stays locked while it runs
                        preexec_fn=None if self.python else parent_death_signal(),
                    )
                except (FileNotFoundError, PermissionError) as exc:
                    raise unavailable_error(
                        f"unoserver introuvable ({self.unoserver_bin})"
                    ) from exc
            proc = self._proc
        log.info("%s %d starting on %s (pid %d)", self.server, self.index, self.address, proc.pid)
        deadline = time.monotonic() + ready_timeout
        while True:
            if self._stopped:
                raise unavailable_error("le convertisseur a été arrêté pendant son démarrage")
            if proc.poll() is not None:
                kill_group(proc, grace=1.0)
                raise unavailable_error(
                    f"unoserver s'est arrêté au démarrage (code {proc.returncode}) ; "
                    f"voir {self.log_path} : {self._log_tail()}"
                )
            if ping(self.host, self.port, timeout=2.0):
                return
            if time.monotonic() > deadline:
                with self._lock:
                    if self._proc is proc:
                        self._proc = None
                kill_group(proc, grace=2.0)
                raise unavailable_error(
                    f"unoserver ne répond pas sur {self.address} après {ready_timeout:g} s"
                )
            time.sleep(0.25)

    def stop(self, *, grace: float = 5.0) -> None:
        """SIGTERM to unoserver (it stops its LibreOffice), SIGKILL to the whole process
        group for whatever is left after ``grace`` seconds."""
        with self._lock:
            self._stopped = True
            proc, self._proc = self._proc, None
        if proc is not None:
            # Both servers forward SIGTERM to LibreOffice and exit in ~0.5 s; a SIGTERM to the
            # whole group instead deadlocks unoserver 3.7 until the SIGKILL.
            kill_group(proc, grace=grace, term_group=False)
            log.info("unoserver %d on %s stopped", self.index, self.address)

    def close(self, *, grace: float = 5.0) -> None:
        """Stop for good and release the profile lock."""
        with self._lock:
            self._closed = True
        self.stop(grace=grace)
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def restart(self, *, ready_timeout: float = 180.0, grace: float = 2.0) -> None:
        self.stop(grace=grace)
        with self._lock:
            self._stopped = False
        self.start(ready_timeout=ready_timeout)

    def _prepare_dirs(self) -> None:
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        # Leftovers of a killed run are useless; unoserver needs the directory to exist.
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        if self.log_path.exists() and self.log_path.stat().st_size > _LOG_ROTATE_BYTES:
            self.log_path.replace(self.log_path.with_suffix(".log.1"))

    def _log_tail(self, lines: int = 3) -> str:
        try:
            text = self.log_path.read_text("utf-8", "replace")
        except OSError:
            return "journal illisible"
        return " | ".join(text.strip().splitlines()[-lines:])[-500:]
