"""A pool of warm converter servers: ~0.2 s per conversion instead of ~1.5 s for soffice.

- ``UnoserverPool.connect(["10.0.0.5:2003", ...])``: servers run elsewhere (``conum converter``,
  CONVERTER_URLS); the pool only borrows them.
- ``UnoserverPool.start(unoserver_bin, size=N, base_dir=...)`` launches N servers, warms each up
  with one real conversion, restarts any that dies or hangs, and stops them on ``close()``;
  they also die with this process when it dies without closing the pool (SIGKILL of a worker:
  see :mod:`~dossiers.adapters.libreoffice.unoserver_process`).

``convert()`` borrows an idle server (blocking while all are busy): share one pool per process.

Servers started here run conum's ``libexec/uno_server.py`` (unoserver's API) unless
``server="unoserver"``: ~160 ms of CPU per convention instead of ~390 ms with unoserver 3.7
(see uno_server's docstring).
"""

from __future__ import annotations

import http.client
import logging
import re
import shutil
import threading
import time
import xmlrpc.client
from collections.abc import Iterable
from pathlib import Path

from dossiers.adapters.libreoffice._slots import Call, Slot, in_parallel, parse_address
from dossiers.adapters.libreoffice.base import (
    Converter,
    check_docx,
    check_pdf,
    timeout_error,
    unavailable_error,
)
from dossiers.adapters.libreoffice.unoserver_process import UnoserverProcess, warmup_docx
from dossiers.errors import ConversionError, ErrorCode

__all__ = ["UnoserverPool"]

log = logging.getLogger(__name__)
_FAULT_PREFIX = re.compile(r"^<class '[^']*'>:")  # how unoserver prefixes its exceptions


class UnoserverPool(Converter):
    """Thread-safe pool of unoserver servers. Build it with :meth:`connect` or :meth:`start`."""

    def __init__(
        self,
        slots: list[Slot],
        *,
        timeout: float = 120.0,
        acquire_timeout: float = 300.0,
        start_timeout: float = 180.0,
    ) -> None:
        if not slots:
            raise ValueError("a pool needs at least one server")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.timeout = float(timeout)
        self.acquire_timeout = float(acquire_timeout)
        self.start_timeout = float(start_timeout)
        self._slots = slots
        self._cond = threading.Condition()
        self._closed = False

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def connect(
        cls, addresses: Iterable[str], *, timeout: float = 120.0, acquire_timeout: float = 300.0
    ) -> UnoserverPool:
        """A pool over servers started elsewhere ("host:port" each); nothing is checked yet."""
        slots = [Slot(*parse_address(address)) for address in addresses]
        return cls(slots, timeout=timeout, acquire_timeout=acquire_timeout)

    @classmethod
    def start(
        cls,
        unoserver_bin: str,
        *,
        size: int = 1,
        base_dir: Path,
        first_port: int | None = None,
        timeout: float = 120.0,
        start_timeout: float = 180.0,
        acquire_timeout: float = 300.0,
        host: str = "127.0.0.1",
        soffice_bin: str | None = None,
        server: str = "conum",
    ) -> UnoserverPool:
        """Launch ``size`` servers (ports ``first_port``, ``first_port + 1``... or free ports),
        wait until each answers and warm each up with one conversion."""
        if size < 1:
            raise ValueError("size must be at least 1")
        if shutil.which(unoserver_bin) is None:
            raise unavailable_error(f"unoserver introuvable ({unoserver_bin})")
        base_dir = Path(base_dir)
        base_dir.mkdir(parents=True, exist_ok=True)
        processes: list[UnoserverProcess] = []
        try:
            for index in range(size):
                port = None if first_port is None else first_port + index
                processes.append(
                    UnoserverProcess(
                        unoserver_bin,
                        base_dir=base_dir,
                        port=port,
                        host=host,
                        conversion_timeout=timeout,
                        soffice_bin=soffice_bin,
                        server=server,
                    )
                )
        except BaseException:
            in_parallel(UnoserverProcess.close, processes)
            raise
        slots = [Slot(host, p.port, p, state="recovering") for p in processes]
        pool = cls(
            slots, timeout=timeout, acquire_timeout=acquire_timeout, start_timeout=start_timeout
        )
        errors = in_parallel(pool._boot, slots)  # N LibreOffices start in about the time of one
        if errors:
            pool.close()
            first = errors[0]
            if isinstance(first, ConversionError):
                raise first
            raise unavailable_error(f"démarrage de unoserver impossible ({first})") from first
        return pool

    # -- public API --------------------------------------------------------------------------

    @property
    def addresses(self) -> list[str]:
        return [slot.address for slot in self._slots]

    @property
    def size(self) -> int:
        return len(self._slots)

    def __repr__(self) -> str:
        return f"UnoserverPool({self.addresses}, timeout={self.timeout:g})"

    def convert(self, docx: bytes) -> bytes:
        check_docx(docx)
        deadline = time.monotonic() + self.timeout
        tried: set[int] = set()
        while True:
            slot = self._acquire(tried)
            remaining = deadline - time.monotonic()
            try:
                return self._attempt(slot, docx, max(remaining, 0.0))
            except ConnectionRefusedError:
                # Nothing was sent: another server may take the document.
                tried.add(id(slot))
                if len(tried) >= len(self._slots) or time.monotonic() >= deadline:
                    raise unavailable_error(
                        "aucun serveur unoserver ne répond (" + ", ".join(self.addresses) + ")"
                    ) from None

    def check_servers(self) -> int:
        """Restart the started servers that died while idle; return how many were restarted."""
        dead = []
        with self._cond:
            for slot in self._slots:
                if slot.process is not None and slot.state == "idle" and not slot.process.alive():
                    slot.state = "busy"
                    dead.append(slot)
        for slot in dead:
            self._recover(slot, "processus arrêté")
        return len(dead)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        in_parallel(UnoserverProcess.close, [s.process for s in self._slots if s.process])

    # -- internals ---------------------------------------------------------------------------

    def _acquire(self, tried: set[int]) -> Slot:
        deadline = time.monotonic() + self.acquire_timeout
        with self._cond:
            while True:
                if self._closed:
                    raise unavailable_error("le groupe de convertisseurs est fermé")
                idle = [s for s in self._slots if s.state == "idle" and id(s) not in tried]
                if not any(s.state != "idle" for s in self._slots) and not idle:
                    raise unavailable_error("aucun serveur unoserver ne répond")
                # Least recently refused first, so a server that is down is tried last.
                for slot in sorted(idle, key=lambda s: s.failed_at):
                    slot.state = "busy"
                    if slot.process is not None and not slot.process.alive():
                        self._recover_later(slot, "processus arrêté")
                        continue
                    return slot
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise unavailable_error(
                        f"aucun convertisseur libre après {self.acquire_timeout:g} s d'attente"
                    )
                self._cond.wait(min(remaining, 1.0))

    def _release(self, slot: Slot) -> None:
        with self._cond:
            slot.state = "idle"
            self._cond.notify()

    def _attempt(self, slot: Slot, docx: bytes, timeout: float) -> bytes:
        # A server started elsewhere keeps working on an abandoned call: its slot comes back when
        # it answers. A server of ours that hangs is restarted instead.
        late = (lambda: None) if slot.process is not None else (lambda: self._release(slot))
        call = Call(slot, docx, on_late_finish=late)
        call.start()
        if not call.wait(timeout):
            if slot.process is not None:
                self._recover(slot, f"délai de {self.timeout:g} s dépassé")
            raise timeout_error(self.timeout, source=f"unoserver {slot.address}")
        error = call.error
        if error is None:
            self._release(slot)
            return check_pdf(call.result, source=f"unoserver {slot.address}")
        server_down = slot.process is not None and not slot.process.alive()
        if isinstance(error, ConnectionRefusedError):
            slot.failed_at = time.monotonic()
            self._recover_or_release(slot, "connexion refusée")
            raise error
        if isinstance(error, xmlrpc.client.Fault) and not server_down:
            self._release(slot)
            detail = _FAULT_PREFIX.sub("", str(error.faultString)).strip()[:300]
            raise ConversionError(
                f"La conversion en PDF a échoué : LibreOffice n'a pas pu convertir le document "
                f"({detail}).",
                code=ErrorCode.CONVERSION_ECHEC,
            ) from error
        if isinstance(error, (OSError, http.client.HTTPException, xmlrpc.client.Error)):
            self._recover_or_release(slot, f"erreur {type(error).__name__}")
            raise ConversionError(
                f"La conversion en PDF a échoué : le convertisseur {slot.address} s'est "
                f"interrompu pendant la conversion ({type(error).__name__}).",
                code=ErrorCode.CONVERSION_ECHEC,
            ) from error
        self._release(slot)
        raise unavailable_error(
            f"réponse inattendue de unoserver {slot.address} ({error})"
        ) from error

    def _boot(self, slot: Slot) -> None:
        """(Re)start a started server and warm it up; the slot becomes idle on success."""
        assert slot.process is not None
        began = time.monotonic()
        slot.process.restart(ready_timeout=self.start_timeout)
        if self._closed:  # close() ran while we were starting
            slot.process.stop(grace=2.0)
            return
        slot.port = slot.process.port
        call = Call(slot, warmup_docx(), on_late_finish=lambda: None)
        call.start()
        if not call.wait(self.start_timeout) or call.error is not None:
            slot.process.stop(grace=2.0)
            raise unavailable_error(
                f"le préchauffage de unoserver {slot.address} a échoué ({call.error or 'délai'})"
            )
        check_pdf(call.result, source=f"unoserver {slot.address}")
        log.info("unoserver %s ready in %.1f s", slot.address, time.monotonic() - began)
        self._release(slot)

    def _recover(self, slot: Slot, reason: str) -> None:
        with self._cond:
            self._recover_later(slot, reason)

    def _recover_or_release(self, slot: Slot, reason: str) -> None:
        if slot.process is not None:
            self._recover(slot, reason)
        else:
            self._release(slot)

    def _recover_later(self, slot: Slot, reason: str) -> None:
        """Restart ``slot`` in the background (call with the slot out of rotation)."""
        if slot.process is None:
            return
        slot.state = "recovering"
        if self._closed:
            return
        log.warning("unoserver %s: %s, restarting it", slot.address, reason)

        def work() -> None:
            delay = 1.0
            while not self._closed:
                try:
                    self._boot(slot)
                    return
                except Exception as exc:  # keep trying: the slot stays out of rotation
                    log.error("restart of unoserver %s failed: %s", slot.address, exc)
                    time.sleep(delay)
                    delay = min(delay * 2, 60.0)

        threading.Thread(target=work, daemon=True, name=f"conum-restart-{slot.address}").start()
