"""A small pool of warm child processes that parse untrusted files under time and memory limits.

Why children: pypdf and Pillow run on bytes anyone can send; a file made to loop, to inflate or
to crash the parser must cost a few seconds of one child, never the worker. Why warm: a fresh
interpreter that imports pypdf and Pillow costs ~0.25 s, a born-digital PDF ~3 ms; each child
serves ``max_tasks_per_child`` files, then is replaced. Why ``subprocess`` and not
``multiprocessing``'s fork: the caller is a threaded Dramatiq worker, and a fork copies locks that
other threads hold. A child is a new interpreter (``python -I``) that imports the parsers once,
sets its own limits and answers over its pipes:

- request: ``>IQ`` (header length, data length), a JSON header ``{"task", "params"}``, the bytes;
- answer: ``>I`` length, then JSON: ``{"facts": {...}}`` or ``{"probleme", "detail"}``.

JSON, never pickle: a child that a hostile file took over must not run code in the parent.
Limits, from the outside in: the parent's wall clock (``timeout``; the child is SIGKILLed and
replaced), the child's address space (``RLIMIT_AS``; a ``MemoryError`` is answered, then the child
exits), its CPU seconds per task (``RLIMIT_CPU``, a backstop that also ends a child whose parent
died mid-task; an idle child ends when its stdin closes), no core files, and an environment without
the worker's variables. Several threads may call
:meth:`Pool.run`: each takes an idle child, starts one while fewer than ``workers`` exist, or waits.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import select
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from dossiers.adapters.inspection._child import ANSWER as _ANSWER
from dossiers.adapters.inspection._child import REQUEST as _REQUEST
from dossiers.adapters.inspection._child import Refused, interrupted
from dossiers.errors import InspectionUnavailable

__all__ = ["Pool", "Runner", "Refused", "InspectionUnavailable", "interrupted"]

_MAX_ANSWER = 16 << 20  # bytes of JSON; text is capped far below, more means a confused child
_ROOT = str(Path(__file__).resolve().parents[3])  # the directory that holds the ``dossiers`` package
# Not the worker's environment: its secrets (database, S3 keys) are none of a parser's business.
_CHILD_ENV = {"PATH": os.defpath, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from dossiers.adapters.inspection._child import main; main()"


class _Timeout(Exception):
    """The wall clock ran out."""


class _Died(Exception):
    """The child closed its pipes: killed, crashed, out of memory, or it said nonsense."""


class _Child:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc, self.tasks = proc, 0
        self.stdin, self.stdout = proc.stdin.fileno(), proc.stdout.fileno()
        os.set_blocking(self.stdin, False)
        os.set_blocking(self.stdout, False)

    def kill(self, *, close_pipes: bool = True) -> None:
        """SIGKILL and reap. ``close_pipes=False`` while another thread may still poll them."""
        with suppress(ProcessLookupError):
            self.proc.kill()
        if close_pipes:
            for pipe in (self.proc.stdin, self.proc.stdout):
                pipe.close()  # type: ignore[union-attr]
        with suppress(subprocess.TimeoutExpired):  # a SIGKILLed child exits at once
            self.proc.wait(timeout=5)

    def write(self, payload: bytes, deadline: float) -> None:
        view = memoryview(payload)
        while view:
            _wait(self.stdin, select.POLLOUT, deadline)
            try:
                view = view[os.write(self.stdin, view[:1 << 20]):]
            except BlockingIOError:
                continue
            except OSError as exc:  # EPIPE: the child is gone
                raise _Died from exc

    def read(self, size: int, deadline: float) -> bytes:
        chunks, missing = [], size
        while missing:
            _wait(self.stdout, select.POLLIN, deadline)
            try:
                chunk = os.read(self.stdout, min(missing, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise _Died
            chunks.append(chunk)
            missing -= len(chunk)
        return b"".join(chunks)

    def answer(self, deadline: float) -> dict[str, Any]:
        (length,) = _ANSWER.unpack(self.read(_ANSWER.size, deadline))
        try:
            answer = json.loads(self.read(length, deadline)) if length <= _MAX_ANSWER else None
        except ValueError as exc:
            raise _Died from exc
        if not isinstance(answer, dict):
            raise _Died
        return answer


def _wait(fd: int, event: int, deadline: float) -> None:
    poller = select.poll()  # not select.select: a busy worker may hold fds above 1024
    poller.register(fd, event)
    while (remaining := deadline - time.monotonic()) > 0:
        if events := poller.poll(remaining * 1000):
            if any(mask & event for _, mask in events):
                return
            raise _Died  # POLLHUP or POLLERR alone: the other end is gone
    raise _Timeout


class Runner(Protocol):
    """Runs one parsing task on bytes and returns the child's answer (``Pool``; in process: ``memory.InProcess``)."""

    timeout: float

    def run(self, task: str, params: Mapping[str, Any], data: bytes) -> dict[str, Any]: ...

    def warm(self) -> None: ...

    def close(self) -> None: ...


class Pool:
    """Up to ``workers`` children, started on demand, replaced after a kill, a crash or recycling."""

    def __init__(self, *, workers: int = 1, timeout: float = 5.0, memory_mb: int = 512,
                 max_tasks_per_child: int = 200, startup_timeout: float = 60.0) -> None:
        if workers < 1 or timeout <= 0 or memory_mb < 64 or max_tasks_per_child < 1:
            raise ValueError("workers >= 1, timeout > 0, memory_mb >= 64, max_tasks_per_child >= 1")
        self.workers, self.timeout, self.memory_mb = workers, timeout, memory_mb
        self.max_tasks_per_child, self.startup_timeout = max_tasks_per_child, startup_timeout
        self._cond = threading.Condition()
        self._idle: list[_Child] = []
        self._all: set[_Child] = set()
        self._starting = 0
        self._closed = False
        _LIVE_POOLS.add(self)

    def run(self, task: str, params: Mapping[str, Any], data: bytes) -> dict[str, Any]:
        """The child's JSON answer; an interruption (time, crash) is an answer too, not an error."""
        header = json.dumps({"task": task, "params": dict(params)}).encode()
        child, healthy = self._acquire(), False
        try:
            deadline = time.monotonic() + self.timeout
            child.write(_REQUEST.pack(len(header), len(data)) + header, deadline)
            child.write(data, deadline)
            answer = child.answer(deadline)
            healthy = not answer.pop("exit", False)
        except _Timeout:
            seconds = f"{self.timeout:g}".replace(".", ",")
            answer = interrupted(f"l'analyse a dépassé le temps imparti ({seconds}\u00a0s)")
        except _Died:
            answer = interrupted("le processus d'analyse s'est arrêté en cours de route "
                                 "(mémoire épuisée ou fichier hostile)")
        finally:
            self._release(child, healthy)
        if not healthy and self._closed:  # killed by close(), not by the file
            raise InspectionUnavailable("l'inspection des fichiers a été arrêtée pendant l'analyse")
        return answer

    def pids(self) -> list[int]:
        """The process ids of the live children (for monitoring, and tests that kill one)."""
        with self._cond:
            return sorted(c.proc.pid for c in self._all)

    def warm(self) -> None:
        """Start every child now rather than on first use (a start is not a file's time)."""
        for child in [self._acquire() for _ in range(self.workers)]:
            self._release(child, True, task=False)

    def close(self) -> None:
        """Kill every child, idle or busy; :meth:`run` then raises InspectionUnavailable."""
        with self._cond:
            self._closed = True
            idle, busy = list(self._idle), [c for c in self._all if c not in self._idle]
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for child in idle:
            child.kill()
        for child in busy:  # its thread sees the pipes break, and closes them
            child.kill(close_pipes=False)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _acquire(self) -> _Child:
        dead: list[_Child] = []
        with self._cond:
            while True:
                while not self._idle and len(self._all) + self._starting >= self.workers and not self._closed:
                    self._cond.wait()
                if self._closed:
                    raise InspectionUnavailable("l'inspection des fichiers est arrêtée")
                if not self._idle:
                    break
                child = self._idle.pop()
                if child.proc.poll() is None:
                    return child
                self._all.discard(child)  # died while idle (OOM killer, an operator): not this file's fault
                dead.append(child)
            self._starting += 1
        for child in dead:
            child.kill()
        child = None
        try:
            child = self._spawn()
        finally:
            with self._cond:
                self._starting -= 1
                if child is not None and not self._closed:
                    self._all.add(child)
                self._cond.notify()
        if self._closed:
            child.kill()
            raise InspectionUnavailable("l'inspection des fichiers est arrêtée")
        return child

    def _release(self, child: _Child, healthy: bool, *, task: bool = True) -> None:
        child.tasks += task
        with self._cond:
            keep = (healthy and child.tasks < self.max_tasks_per_child and child.proc.poll() is None
                    and not self._closed and child in self._all)
            if keep:
                self._idle.append(child)
            else:
                self._all.discard(child)
            self._cond.notify()
        if not keep:
            child.kill()

    def _spawn(self) -> _Child:
        cpu = math.ceil(self.timeout) + 2  # CPU seconds a task may use before SIGXCPU
        argv = [sys.executable, "-I", "-c", _BOOT, _ROOT, str(self.memory_mb << 20), str(cpu)]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, cwd="/",
                                    env=_CHILD_ENV, start_new_session=True, close_fds=True)
        except OSError as exc:
            raise InspectionUnavailable(f"impossible de démarrer l'inspection : {exc}") from exc
        child = _Child(proc)
        try:
            child.answer(time.monotonic() + self.startup_timeout)  # {"ready": pid}
        except (_Timeout, _Died) as exc:
            child.kill()
            raise InspectionUnavailable("le processus d'inspection n'a pas démarré") from exc
        return child


_LIVE_POOLS: weakref.WeakSet[Pool] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """No child outlives the interpreter, even from a pool nobody closed."""
    for pool in list(_LIVE_POOLS):
        pool.close()
