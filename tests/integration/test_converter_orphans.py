"""No LibreOffice outlives the process that started it, whatever kills that process (issue 14).

Each test runs the owner in a separate Python (the project's interpreter, its own session):
a warm pool of two converters (the class the workers use, built from a thread that then ends,
as a Dramatiq worker thread does), ``conum converter``, or one-shot soffice conversions. It
records the owner's converters (its descendants, and any process naming one of their
LibreOffice profiles), kills the owner, and expects none of them alive 5 s later. Whatever is
left is killed at the end, failure or not.

Needs LibreOffice and the unoserver venv (``make uno``); missing locally: skipped, with
CI=true: failed. Each test has its own LibreOffice profiles under ``tmp_path`` (a few seconds to
create): a shared cache would let a concurrent run, or an orphan of an earlier one, interfere.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from pathlib import Path

import psutil
import pytest

from dossiers.adapters.libreoffice._process import free_port
from dossiers.adapters.libreoffice.unoserver_process import UnoserverProcess, ping
from dossiers.settings import ROOT, Settings
from tests.conftest import _missing_service

pytestmark = pytest.mark.libreoffice

DEADLINE = 5.0  # seconds the converters may take to go once their owner is dead
# unoserver runs under conum's supervisor, which gives it uno_server.STOP_GRACE (3 s) to stop its
# LibreOffice before SIGKILL to the group: allow for that grace on a loaded machine.
DEADLINE_UNOSERVER = 15.0
READY_TIMEOUT = 240.0  # a first run creates the LibreOffice profiles

OWNER = """
import sys, threading
from pathlib import Path
from dossiers.adapters.libreoffice import SofficeConverter, UnoserverPool
from dossiers.adapters.libreoffice.unoserver_process import warmup_docx

kind, base, unoserver_bin = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if kind == "soffice":
    converter = SofficeConverter(timeout=60, profile_dir=base / "soffice-profile")
    print("ready", flush=True)
    while True:
        converter.convert(warmup_docx())
pools = []
# Built from a thread that then ends, as a Dramatiq worker thread builds its process's pool.
builder = threading.Thread(target=lambda: pools.append(
    UnoserverPool.start(unoserver_bin, size=2, base_dir=base, timeout=60, server=kind)))
builder.start()
builder.join()
pool = pools[0]
for _ in range(pool.size):  # the servers still work once the thread that started them is gone
    pool.convert(warmup_docx())
print("ready", flush=True)
threading.Event().wait()
"""


def need_unoserver() -> str:
    if shutil.which("soffice") is None:
        _missing_service("LibreOffice (soffice) n'est pas installé")
    unoserver_bin = Settings().effective_unoserver_bin
    if unoserver_bin is None:
        _missing_service("unoserver absent : créer .venv-uno (make uno)")
    assert unoserver_bin is not None
    return unoserver_bin


def profiles(proc: psutil.Process) -> set[str]:
    """The LibreOffice profiles (as file URIs) that ``proc``'s command line names."""
    try:
        args = proc.cmdline()
    except psutil.Error:
        return set()
    found = set()
    for index, arg in enumerate(args):
        if arg == "--user-installation" and index + 1 < len(args):
            found.add(Path(args[index + 1]).resolve().as_uri())
        elif arg.startswith("-env:UserInstallation="):
            found.add(arg.partition("=")[2])
    return found


def converters_of(owner: psutil.Process) -> list[psutil.Process]:
    """``owner``'s descendants, and any process that names one of their profiles."""
    family = {p.pid: p for p in owner.children(recursive=True)}
    uris = set().union(*(profiles(p) for p in family.values()))
    for proc in psutil.process_iter():
        if proc.pid not in family and proc.pid != owner.pid and profiles(proc) & uris:
            family[proc.pid] = proc
    return list(family.values())


def name_of(proc: psutil.Process) -> str:
    """``proc``'s name, or "" once it is gone (LibreOffice's launchers come and go while it starts)."""
    try:
        return proc.name()
    except psutil.Error:
        return ""


def alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def names(procs: list[psutil.Process]) -> list[str]:
    described = []
    for proc in procs:
        try:
            described.append(f"{proc.pid} {' '.join(proc.cmdline())[:160]}")
        except psutil.Error:
            described.append(str(proc.pid))
    return described


def survivors_after_kill(
    owner: subprocess.Popen[str], signum: int, deadline: float = DEADLINE
) -> list[psutil.Process]:
    """Kill ``owner`` (SIGTERM: its whole process group) and return its converters still
    alive after ``deadline`` seconds (none as soon as all are gone)."""
    tracked = converters_of(psutil.Process(owner.pid))
    assert any(name_of(p) == "soffice.bin" for p in tracked), names(tracked)
    assert all(alive(p) for p in tracked), names(tracked)
    if signum == signal.SIGKILL:
        os.kill(owner.pid, signal.SIGKILL)
    else:
        os.killpg(owner.pid, signum)  # what a supervisor sends to a worker's group
    owner.wait(timeout=10)
    until = time.monotonic() + deadline
    while (left := [p for p in tracked if alive(p)]) and time.monotonic() < until:
        time.sleep(0.1)
    return left


StartOwner = Callable[..., "subprocess.Popen[str]"]


@pytest.fixture
def start_owner() -> Iterator[StartOwner]:
    """Start an owner process (its own session, output merged), wait until it prints a line
    containing ``ready_text``; kill it and everything it started at the end."""
    started: list[tuple[subprocess.Popen[str], list[psutil.Process]]] = []

    def start(cmd: list[str], ready_text: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        owner = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        record: list[psutil.Process] = []
        started.append((owner, record))
        lines: queue.Queue[str | None] = queue.Queue()
        output: list[str] = []

        def read() -> None:
            assert owner.stdout is not None
            for line in owner.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = None
            if line is not None:
                output.append(line)
            if line is not None and ready_text in line:
                break
            if line is None:
                pytest.fail("le processus propriétaire n'est pas prêt :\n" + "".join(output[-30:]))
        if owner.poll() is None:  # for the clean-up: its converters while it lives
            record += converters_of(psutil.Process(owner.pid))
        return owner

    yield start
    for owner, record in started:
        reap(owner, record)


def reap(owner: subprocess.Popen[Any], record: list[psutil.Process]) -> None:
    """Kill ``owner``'s group if it lives, then every converter recorded for it."""
    if owner.poll() is None:
        record += converters_of(psutil.Process(owner.pid))
        try:
            os.killpg(owner.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        owner.wait(timeout=10)
    for proc in record:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(record, timeout=5)


@pytest.mark.parametrize(
    ("server", "signum"),
    [("conum", signal.SIGKILL), ("conum", signal.SIGTERM), ("unoserver", signal.SIGKILL)],
    ids=["sigkill", "sigterm-to-group", "unoserver-sigkill"],
)
def test_a_pools_converters_die_with_its_process(
    start_owner: StartOwner, tmp_path: Path, server: str, signum: int
) -> None:
    unoserver_bin = need_unoserver()
    base = tmp_path / "converters"
    owner = start_owner([sys.executable, "-c", OWNER, server, str(base), unoserver_bin], "ready")
    if server == "unoserver":
        # unoserver 3.7 answers 2 s before its start-up ends; a SIGTERM then makes it exit
        # without waiting for LibreOffice (a documented limitation of this mode).
        deadline = time.monotonic() + 15
        while sum(b"Server PID" in log.read_bytes() for log in base.glob("unoserver-*.log")) < 2:
            assert time.monotonic() < deadline, "unoserver n'a pas fini de démarrer"
            time.sleep(0.1)
    left = survivors_after_kill(owner, signum, DEADLINE_UNOSERVER if server == "unoserver" else DEADLINE)
    logs = "\n".join(log.read_text(errors="replace")[-2000:] for log in base.glob("unoserver-*.log"))
    assert left == [], (names(left), logs)


def _two_free_ports() -> int:
    for _ in range(50):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("pas deux ports libres consécutifs")


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm-to-group"])
def test_conum_converters_die_with_it(start_owner: StartOwner, tmp_path: Path, signum: int) -> None:
    unoserver_bin = need_unoserver()
    env = {**os.environ, "CONUM_VAR_DIR": str(tmp_path), "UNOSERVER_BIN": unoserver_bin}
    port = _two_free_ports()
    owner = start_owner([str(Path(sys.executable).parent / "conum"), "converter", "--size", "2", "--port", str(port)], "CONVERTER_URLS=", env)
    left = survivors_after_kill(owner, signum)
    assert left == [], names(left)


def test_a_command_with_its_own_pool_leaves_no_soffice_after_a_sigterm_to_its_group(tmp_path: Path) -> None:
    """`conum demo` as deployed (its own process group, no CONVERTER_URLS: it starts its own pool),
    stopped by a supervisor's SIGTERM to the group while it converts."""
    unoserver_bin = need_unoserver()
    env = {k: v for k, v in os.environ.items() if k != "CONVERTER_URLS"}
    env |= {"CONUM_VAR_DIR": str(tmp_path), "UNOSERVER_BIN": unoserver_bin, "CONVERTER_POOL_SIZE": "2"}
    owner = subprocess.Popen([str(Path(sys.executable).parent / "conum"), "demo", "--out", str(tmp_path / "demo")],
                             cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    tracked: list[psutil.Process] = []
    try:
        me = psutil.Process(owner.pid)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            tracked = converters_of(me)
            if sum(name_of(p) == "soffice.bin" for p in tracked) >= 2:  # its pool is up
                break
            assert owner.poll() is None and time.monotonic() < deadline, "aucun convertisseur démarré"
            time.sleep(0.2)
        left = survivors_after_kill(owner, signal.SIGTERM)
        assert left == [], names(left)
    finally:
        reap(owner, tracked)


def test_one_shot_soffice_dies_with_its_caller(start_owner: StartOwner, tmp_path: Path) -> None:
    unoserver_bin = need_unoserver()
    owner = start_owner([sys.executable, "-c", OWNER, "soffice", str(tmp_path), unoserver_bin], "ready")
    deadline = time.monotonic() + 60
    me = psutil.Process(owner.pid)
    while not any(name_of(p) == "soffice.bin" for p in converters_of(me)):  # caught mid-conversion
        assert owner.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    left = survivors_after_kill(owner, signal.SIGKILL)
    assert left == [], names(left)


def test_the_server_watches_an_owner_that_is_not_its_parent(tmp_path: Path) -> None:
    """The watchdog alone: no parent-death signal applies when the owner is another process."""
    unoserver_bin = need_unoserver()
    process = UnoserverProcess(unoserver_bin, base_dir=tmp_path)
    assert process.server == "conum", f"{unoserver_bin} n'est pas un script Python : pas de serveur de conum"
    owner = subprocess.Popen(["sleep", "600"])
    cmd = process.command(free_port())
    cmd[cmd.index("--parent-pid") + 1] = str(owner.pid)
    with open(process.log_path, "ab") as log:
        server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)  # fmt: skip
    group: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not ping(process.host, process.port, timeout=1.0):
            assert server.poll() is None and time.monotonic() < deadline, process._log_tail()
            time.sleep(0.1)
        group = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        assert any(name_of(p) == "soffice.bin" for p in group), names(group)
        owner.kill()
        owner.wait()
        deadline = time.monotonic() + DEADLINE
        while (left := [p for p in group if alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert left == [], names(left)
        assert server.wait(timeout=1) == 0
    finally:
        owner.kill()
        owner.wait()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        for proc in group:
            try:
                proc.kill()
            except psutil.Error:
                pass
        process.close()
