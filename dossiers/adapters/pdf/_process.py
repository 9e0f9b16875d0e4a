"""Process helpers shared by the LibreOffice converters: process groups and free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

__all__ = ["free_port", "kill_group", "group_alive"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def kill_group(proc: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
    """Stop a process started with ``start_new_session=True`` and everything it spawned.

    SIGTERM to the whole group, then SIGKILL to what is left after ``grace`` seconds.
    The leader is reaped; the call returns once the group is empty (or after a bounded wait).
    """
    pgid = proc.pid  # leader of its own session, so its pid is the group id
    if proc.poll() is None or group_alive(pgid):
        _signal_group(pgid, signal.SIGTERM)
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
