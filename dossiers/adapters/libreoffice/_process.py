"""Process helpers shared by the LibreOffice converters: process groups, free ports, and
children that die with their parent.

A converter must not outlive the process that started it, whatever kills that process
(SIGKILL included). On Linux, :func:`parent_death_signal` asks the kernel to signal the child
when its parent goes; the kernel tracks the *thread* that forked the child, not the process, so
converters are forked by :func:`spawn`'s one long-lived thread (the pool starts them from
short-lived threads). conum's converter server also watches its owner itself
(``uno_server.py --parent-pid``).
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import lru_cache
from pathlib import Path
from typing import Any

import psutil

__all__ = [
    "claim_index",
    "free_port",
    "kill_group",
    "group_alive",
    "parent_death_signal",
    "server_python",
    "spawn",
]

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def claim_index(base_dir: Path, prefix: str) -> tuple[int, int]:
    """Lock the first free ``<base_dir>/<prefix>-<n>.lock`` and return ``(n, fd)``.

    The lock lives as long as some process holds ``fd`` (pass it to the child with
    ``pass_fds``): two pools sharing ``base_dir`` never run two LibreOffices on one profile,
    and an orphaned server keeps its profile to itself.
    """
    for index in range(256):
        fd = os.open(base_dir / f"{prefix}-{index}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return index, fd
    raise RuntimeError(f"no free {prefix} slot in {base_dir}")


def group_alive(pgid: int) -> bool:
    """True while a live (non-zombie) process remains in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies count for kill(0) but cannot be killed: LibreOffice leaves a few (gpg helpers)
    # that their new parent reaps a moment later. Only living members matter.
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, psutil.Error):
            continue
    return False


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def kill_group(
    proc: subprocess.Popen[bytes], *, grace: float = 5.0, term_group: bool = True
) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it spawned.

    SIGTERM (to the whole group, or to the leader alone when ``term_group`` is false), then
    SIGKILL to the whole group for what is left after ``grace`` seconds. The leader is reaped;
    the call returns once the group has no living member (or after a bounded wait).
    """
    pgid = proc.pid  # leader of its own session, so its pid is the group id
    if proc.poll() is None or group_alive(pgid):
        if term_group:
            _signal_group(pgid, signal.SIGTERM)
        elif proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()
            if proc.returncode is not None and not group_alive(pgid):
                break
            time.sleep(0.05)
        else:
            _signal_group(pgid, signal.SIGKILL)
    try:
        proc.wait(timeout=5.0)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
        pass
    deadline = time.monotonic() + 5.0
    while group_alive(pgid) and time.monotonic() < deadline:
        _signal_group(pgid, signal.SIGKILL)
        time.sleep(0.05)


def server_python(unoserver_bin: str) -> str | None:
    """The Python that runs ``unoserver_bin`` (its ``#!`` line), if it is a Python script."""
    path = shutil.which(unoserver_bin) or unoserver_bin
    try:
        with open(path, "rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    parts = first[2:].decode("utf-8", "replace").split()
    if parts and parts[0].endswith("/env") and len(parts) > 1:
        parts = [shutil.which(parts[1]) or parts[1], *parts[2:]]
    if len(parts) != 1 or "python" not in Path(parts[0]).name:
        return None
    return parts[0] if os.access(parts[0], os.X_OK) else None


@lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl``, resolved in the parent (never between fork and exec), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl  # type: ignore[no-any-return]
    except (OSError, AttributeError):
        return None


def parent_death_signal(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child receive ``signum`` when its parent dies (Linux's
    PR_SET_PDEATHSIG; it survives exec), or None where that does not exist.

    The "parent" is the thread that forks the child: from a thread that may end before the
    process, fork through :func:`spawn`. SIGTERM, not SIGKILL: a converter server stops its
    LibreOffice on SIGTERM, and LibreOffice's launcher (oosplash) stops soffice.bin on SIGTERM
    but leaves it running when killed.
    """
    prctl = _prctl()
    if prctl is None:
        return None
    parent, number = os.getpid(), int(signum)

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, number, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the call: too late to be told
            os.kill(os.getpid(), number)

    return preexec


_Request = tuple[list[str], dict[str, Any], "Future[subprocess.Popen[bytes]]"]
_spawner_lock = threading.Lock()
_spawner: queue.SimpleQueue[_Request] | None = None


def _forget_spawner() -> None:  # after fork: the child has no spawner thread
    global _spawner, _spawner_lock
    _spawner, _spawner_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_spawner)


def _serve_spawns(requests: queue.SimpleQueue[_Request]) -> None:
    while True:
        cmd, kwargs, future = requests.get()
        try:
            future.set_result(subprocess.Popen(cmd, **kwargs))
        except BaseException as exc:  # handed to the caller
            future.set_exception(exc)


def spawn(cmd: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen(cmd, **kwargs)``, forked by one thread that lives as long as this
    process, so that a parent-death signal (``preexec_fn=parent_death_signal()``, or set by the
    child itself) fires when the process dies and not when the calling thread ends."""
    global _spawner
    with _spawner_lock:
        if _spawner is None:
            _spawner = queue.SimpleQueue()
            threading.Thread(
                target=_serve_spawns, args=(_spawner,), daemon=True, name="conum-spawner"
            ).start()
        requests = _spawner
    future: Future[subprocess.Popen[bytes]] = Future()
    requests.put((cmd, kwargs, future))
    return future.result()
