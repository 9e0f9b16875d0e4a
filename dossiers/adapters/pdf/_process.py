"""Process helpers shared by the LibreOffice converters: process groups and free ports."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

__all__ = ["claim_index", "free_port", "kill_group", "group_alive", "server_python"]


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
