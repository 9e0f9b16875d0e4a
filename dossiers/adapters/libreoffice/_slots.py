"""Bookkeeping of the unoserver pool: one slot per server, one thread per conversion call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from dossiers.adapters.libreoffice.unoserver_process import UnoserverProcess, unoserver_convert

__all__ = ["Slot", "Call", "in_parallel", "parse_address"]


T = TypeVar("T")


def in_parallel(func: Callable[[T], object], items: Sequence[T]) -> list[BaseException]:
    """Run ``func(item)`` for every item, one thread each; return the exceptions raised."""
    errors: list[BaseException] = []

    def run(item: T) -> None:
        try:
            func(item)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(item,), daemon=True) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@dataclass(eq=False)
class Slot:
    host: str
    port: int
    process: UnoserverProcess | None = None  # None: started elsewhere, never restarted here
    state: str = "idle"  # idle | busy | recovering
    failed_at: float = 0.0  # monotonic time of the last refused connection

    @property
    def address(self) -> str:
        if self.process is not None:
            return self.process.address
        return f"{self.host}:{self.port}"


class Call(threading.Thread):
    """One conversion on one server, in a thread so that the caller can stop waiting."""

    def __init__(self, slot: Slot, docx: bytes, on_late_finish: Callable[[], None]) -> None:
        super().__init__(daemon=True, name=f"conum-unoserver-{slot.address}")
        self.slot, self.docx, self.on_late_finish = slot, docx, on_late_finish
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.abandoned = False
        self.result: bytes | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        host, port = self.slot.address.rsplit(":", 1)
        try:
            self.result = unoserver_convert(host, int(port), self.docx)
        except BaseException as exc:  # handed to the waiting caller
            self.error = exc
        finally:
            with self.lock:
                self.done.set()
                late = self.abandoned
            if late:
                self.on_late_finish()

    def wait(self, timeout: float) -> bool:
        """True if the call finished in time; else mark it abandoned and return False."""
        self.done.wait(timeout)
        with self.lock:
            if not self.done.is_set():
                self.abandoned = True
                return False
        return True


def parse_address(address: str) -> tuple[str, int]:
    text = address.strip().removeprefix("http://").rstrip("/")
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"adresse de convertisseur invalide (attendu hôte:port) : {address!r}")
    return host, int(port)
