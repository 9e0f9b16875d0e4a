"""conum's converter server: unoserver's XML-RPC API (``info``, ``convert``), cheaper per call.

Run by a Python that has LibreOffice's ``uno`` module (Debian's, or the .venv-uno venv), with
unoserver's options; it starts and owns its LibreOffice::

    python libexec/uno_server.py --interface 127.0.0.1 --port 2003 --uno-port 2002 \\
        --user-installation DIR --temp-dir DIR [--conversion-timeout S] [--executable soffice] \\
        [--parent-pid PID]
    python libexec/uno_server.py --parent-pid PID --supervise unoserver --port 2003 ...

The second form serves nothing itself: it runs unoserver (when conum is told to use it) under the
same watchdog, and stops unoserver's whole process group with its owner.

It never outlives its LibreOffice, nor LibreOffice it: LibreOffice gets SIGTERM when the server
dies (Linux's parent-death signal), and the server stops the rest of its process group on its
way out (LibreOffice's launcher, oosplash, leaves soffice.bin behind when it is killed). With
``--parent-pid`` (conum's pool passes its own pid) the server also dies with its owner, however
the owner dies. It asks for SIGTERM when its parent dies (the signal follows the thread that
forked the server, not the process: the owner forks it from a thread that lives as long as
itself), and a watchdog thread checks every second that the owner is still there (parent pid
unchanged, or the owner's pidfd). The watchdog covers what the signal does not: an owner that
is not the parent, an owner gone before the signal was asked for, a main thread stuck in a UNO
call (Python runs signal handlers there only), a system without that signal. Once the owner is
gone, the server stops LibreOffice (SIGTERM, then SIGKILL to whatever of its group is left
after a short grace) and exits.

It imports nothing from conum (its interpreter has none of conum's packages, hence its place
outside the ``dossiers`` package; conum finds it with
:func:`dossiers.adapters.libreoffice.unoserver_process.server_script`); unoserver 3.x
clients work unchanged. Compared with unoserver 3.7, per conversion (measured: see
:mod:`dossiers.adapters.libreoffice.unoserver`):

- documents are loaded ``Hidden``: no window, view or toolbar work;
- indexes (tables of contents) are refreshed only when the document has some, not twice always;
- the export filter is looked up once per document type, not listed per call;
- LibreOffice runs with jemalloc when it is installed (Debian: libjemalloc2;
  ``CONUM_SOFFICE_PRELOAD=none`` disables it, a path preloads another allocator);
- no gzip of the XML-RPC response (level 9 on a PDF: ~5 ms of CPU for little);
- word completion no longer collects every long word while laying out (~15 ms); history,
  thumbnails, autosave, autorecovery and automatic spell checking are switched off too;
- it answers as soon as LibreOffice does (~1 s), where unoserver sleeps 7 s.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import select
import signal
import subprocess
import tempfile
import threading
import time
import xmlrpc.client
import xmlrpc.server
from collections.abc import Callable
from pathlib import Path

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

API_VERSION = "3"  # unoserver's
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_GRACE = 3.0  # seconds between SIGTERM to LibreOffice and SIGKILL to what is left
log = logging.getLogger("conum.uno_server")
DOC_TYPES = tuple(f"com.sun.star.{name}" for name in (
    "text.WebDocument", "text.GlobalDocument", "text.TextDocument", "sheet.SpreadsheetDocument",
    "presentation.PresentationDocument", "drawing.DrawingDocument",
))  # fmt: skip
LIB_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib")
SETTINGS = (  # (node, property, value): what a converter never needs
    ("/org.openoffice.Office.Writer/AutoFunction/Completion", "CollectWords", False),  # -15 ms
    ("/org.openoffice.Office.Writer/AutoFunction/Completion", "Enable", False),
    ("/org.openoffice.Office.Common/History", "PickListSize", uno.Any("short", 0)),
    ("/org.openoffice.Office.Common/History", "RecentDocsThumbnail", False),
    ("/org.openoffice.Office.Recovery/AutoSave", "Enabled", False),
    ("/org.openoffice.Office.Recovery/RecoveryInfo", "Enabled", False),
    ("/org.openoffice.Office.Linguistic/SpellChecking", "IsSpellAuto", False),
)


def prop(name: str, value: object) -> PropertyValue:
    return PropertyValue(Name=name, Value=value)


def preload() -> str | None:
    """The allocator to preload into LibreOffice: jemalloc cuts its CPU per conversion."""
    wanted = os.environ.get("CONUM_SOFFICE_PRELOAD", "")
    if wanted:
        return None if wanted == "none" else wanted
    found = (os.path.join(d, "libjemalloc.so.2") for d in LIB_DIRS)
    return next((path for path in found if os.path.exists(path)), None)


def parse_filter_options(options: list[str]) -> tuple[list[PropertyValue], list[PropertyValue]]:
    """unoserver's "Name=value" strings -> (FilterData entries, FilterOptions properties)."""
    data, plain = [], []
    for option in options:
        name, sep, text = option.partition("=")
        if not sep:
            name, text = "", option
        value = {"true": True, "false": False}.get(text, text)
        if isinstance(value, str) and value.isdecimal():
            value = int(value)
        (data if name else plain).append(prop(name or "FilterOptions", value))
    return data, plain


def parent_death_signal(signum: int) -> Callable[[], object]:
    """A function that has Linux send ``signum`` to the calling process when the thread that
    forked it exits (kept across exec, so it also serves as a ``preexec_fn``); it does nothing
    where that is not available. libc is looked up here, never between fork and exec."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return lambda: None
    return lambda: prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)


def owner_gone(pid: int) -> Callable[[], bool]:
    """A check telling whether process ``pid``, the owner of this server, has exited."""
    if os.getppid() == pid:  # our parent: once it exits we are given another one
        return lambda: os.getppid() != pid
    try:
        fd = os.pidfd_open(pid)  # readable once the process has exited; immune to pid reuse
    except ProcessLookupError:
        return lambda: True
    except (AttributeError, OSError):  # no pidfd here: signal 0

        def gone() -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass
            return False

        return gone
    return lambda: bool(select.select([fd], [], [], 0)[0])


def others() -> list[int]:
    """Living processes of our process group (when we lead it: LibreOffice and its helpers,
    even those orphaned by a dead launcher) or below us, except ourselves."""
    me, group = os.getpid(), os.getpgrp()
    table: dict[int, tuple[str, int, int]] = {}  # pid -> (state, ppid, pgrp)
    try:
        entries = [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return []
    for pid in entries:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rpartition(b")")[2].split()
            table[pid] = (fields[0].decode(), int(fields[1]), int(fields[2]))
        except (OSError, IndexError, ValueError):
            continue
    mine = {me}
    while True:  # descendants, in case we do not lead our group
        more = {pid for pid, (_, ppid, _) in table.items() if ppid in mine} - mine
        if not more:
            break
        mine |= more
    if group == me:
        mine |= {pid for pid, (_, _, pgrp) in table.items() if pgrp == group}
    return sorted(pid for pid in mine - {me} if table.get(pid, ("Z",))[0] not in ("Z", "X"))


def stop_office(office: subprocess.Popen, grace: float = STOP_GRACE) -> None:
    """SIGTERM to LibreOffice, then SIGKILL to it and to whatever is left of our group (or
    below us) after ``grace`` seconds."""
    if office.poll() is None:
        office.terminate()
    deadline = time.monotonic() + grace
    while (office.poll() is None or others()) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in others():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    if office.poll() is None:
        office.kill()
    try:
        office.wait(5)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
        pass


class Converter:
    def __init__(self, context: object, temp_dir: str) -> None:
        self.context, self.temp_dir = context, temp_dir
        self.busy_since: float | None = None
        self._export: dict[tuple[str, str], str] = {}
        self._info: dict | None = None
        self.desktop = self._service("com.sun.star.frame.Desktop")
        self.types = self._service("com.sun.star.document.TypeDetection")
        self.filter_list = {flags: self._filter_list(flags) for flags in (1, 2)}

    def _service(self, name: str):  # noqa: ANN202 - a UNO proxy
        return self.context.ServiceManager.createInstanceWithContext(name, self.context)  # type: ignore[attr-defined]

    def _filter_list(self, flags: int) -> list[dict]:
        found = self._service("com.sun.star.document.FilterFactory")
        found = found.createSubSetEnumerationByQuery(f"getSortedFilterList():iflags={flags}")
        result = []
        while found.hasMoreElements():
            result.append({p.Name: p.Value for p in found.nextElement()})
        return result

    def configure(self) -> None:
        provider = self._service("com.sun.star.configuration.ConfigurationProvider")
        for node, name, value in SETTINGS:
            try:
                access = provider.createInstanceWithArguments(
                    "com.sun.star.configuration.ConfigurationUpdateAccess",
                    (prop("nodepath", node),),
                )
                uno.invoke(access, "setPropertyValue", (name, value))
                access.commitChanges()
            except Exception as exc:  # an option this LibreOffice does not know: not fatal
                log.warning("setting %s/%s: %s", node, name, exc)

    def names(self, flags: int) -> dict[str, str]:
        """{filter name or alias: internal filter name}, as unoserver's info() gives them."""
        names: dict[str, str] = {}
        for props in self.filter_list[flags]:
            names[props["Name"]] = props["Name"]
            for alias in props.get("UserData") or ():
                if alias and alias != "true" and "." not in alias:
                    names[alias] = props["Name"]
        return names

    def info(self) -> dict:
        if self._info is None:
            self._info = {"unoserver": "conum", "api": API_VERSION, "libreoffice_version": "",
                          "import_filters": self.names(1), "export_filters": self.names(2)}  # fmt: skip
        return self._info

    def export_filter(self, document: object, convert_to: str, url: str) -> str:
        kind = next(t for t in DOC_TYPES if document.supportsService(t))  # type: ignore[attr-defined]
        if (kind, convert_to) not in self._export:
            wanted = self.types.queryTypeByURL(f"{url.rsplit('.', 1)[0]}.{convert_to}")
            for props in self.filter_list[2]:
                if props.get("DocumentService") == kind and props.get("Type") == wanted:
                    self._export[(kind, convert_to)] = props["Name"]
                    break
            else:
                raise RuntimeError(f"Could not find an export filter from {kind} to {convert_to}")
        return self._export[(kind, convert_to)]

    def convert(  # unoserver's signature
        self, inpath=None, indata=None, outpath=None, convert_to=None, filtername=None,
        filter_options=(), update_index=True, infiltername=None, password=None,
    ):  # fmt: skip
        if (inpath is None) == (indata is None):
            raise ValueError("give exactly one of inpath and indata")
        if convert_to is None:
            if outpath is None:
                raise ValueError("give convert_to or outpath")
            convert_to = os.path.splitext(outpath)[1].lstrip(".")
        load = [prop("Hidden", True), prop("ReadOnly", True), prop("MacroExecutionMode", 0),
                prop("UpdateDocMode", 0)]  # fmt: skip
        for given, kind in ((infiltername, "import"), (filtername, "export")):
            if given and given not in self.info()[f"{kind}_filters"]:
                raise ValueError(f"There is no '{given}' {kind} filter.")
        if infiltername:
            load.append(prop("FilterName", self.info()["import_filters"][infiltername]))
        if password:
            load.append(prop("Password", password))
        with tempfile.TemporaryDirectory(dir=self.temp_dir) as work:
            source = inpath
            if source is None:
                source = os.path.join(work, "input")
                with open(source, "wb") as handle:
                    handle.write(indata.data if hasattr(indata, "data") else indata)
            target = outpath or os.path.join(work, f"output.{convert_to}")
            self.busy_since = time.monotonic()
            try:
                self._convert(source, target, convert_to, filtername, list(filter_options),
                              update_index, tuple(load))  # fmt: skip
            finally:
                self.busy_since = None
            if outpath:
                return None
            with open(target, "rb") as handle:
                return xmlrpc.client.Binary(handle.read())

    def _convert(self, source, target, convert_to, filtername, options, update_index, load):
        url = uno.systemPathToFileUrl(os.path.abspath(source))
        document = self.desktop.loadComponentFromURL(url, "_blank", 0, load)
        if document is None:
            raise RuntimeError(f"Could not load document {os.path.basename(source)}.")
        try:
            if update_index and hasattr(document, "getDocumentIndexes"):
                for _ in range(2 if document.getDocumentIndexes().getCount() else 0):
                    document.refresh()  # the index grows, then its page numbers move
                    indexes = document.getDocumentIndexes()
                    for i in range(indexes.getCount()):
                        indexes.getByIndex(i).update()
            out_url = uno.systemPathToFileUrl(os.path.abspath(target))
            if filtername:
                filtername = self.info()["export_filters"][filtername]
            else:
                filtername = self.export_filter(document, convert_to, out_url)
            data, plain = parse_filter_options(options)
            store = [prop("FilterName", filtername), prop("Overwrite", True), *plain]
            if data:
                array = uno.Any("[]com.sun.star.beans.PropertyValue", tuple(data))
                store.append(prop("FilterData", array))
            document.storeToURL(out_url, tuple(store))
        finally:
            document.close(True)


class Handler(xmlrpc.server.SimpleXMLRPCRequestHandler):
    encode_threshold = None  # no gzip: level 9 on a PDF costs ~5 ms of CPU and saves little


def connect(  # noqa: ANN201
    host: str, port: int, office: subprocess.Popen, timeout: float, stop: threading.Event
):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver",
                                                              local)  # fmt: skip
    url = f"uno:socket,host={host},port={port};urp;StarOffice.ComponentContext"
    deadline = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(url)
        except Exception:
            if office.poll() is not None or stop.is_set() or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def supervise(cmd: list[str], gone: Callable[[], bool] | None, stop: threading.Event) -> int:
    """Run ``cmd`` (unoserver itself, when conum is told to use it) as a child in our process
    group, and stop the whole group when the owner is gone, when we get SIGTERM, or when the child
    exits. unoserver alone relays one SIGTERM to LibreOffice's launcher and waits for it; the
    launcher (oosplash) does not always exit, and both would then outlive their owner."""
    log.info("supervising: %s", " ".join(cmd))
    child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=parent_death_signal(signal.SIGTERM))
    while child.poll() is None and not stop.wait(0.25):
        if gone is not None and gone():
            log.warning("owner is gone: stopping %s", cmd[0])
            break
    stop_office(child)  # SIGTERM, then SIGKILL to whatever of our group is left after the grace
    return child.returncode if child.returncode and child.returncode > 0 else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, kind, default in (
        ("interface", str, "127.0.0.1"), ("port", int, 2003), ("uno-interface", str, "127.0.0.1"),
        ("uno-port", int, 2002), ("user-installation", str, None), ("temp-dir", str, None),
        ("conversion-timeout", float, None), ("executable", str, "soffice"),
        ("start-timeout", float, 170.0), ("parent-pid", int, None),
    ):  # fmt: skip
        parser.add_argument(f"--{name}", type=kind, default=default)
    parser.add_argument("--supervise", nargs=argparse.REMAINDER, default=None,
                        help="run this command (unoserver itself) under the watchdog instead of serving")
    args = parser.parse_args(argv)
    if args.user_installation is None and not args.supervise:
        parser.error("--user-installation is required")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    owner = args.parent_pid
    if owner is not None:
        if owner == os.getppid():
            parent_death_signal(signal.SIGTERM)()  # then checked: it may have died before
        gone = owner_gone(owner)
        if gone():
            log.error("owner %d is gone: not starting", owner)
            return 1

    if args.supervise:
        return supervise(args.supervise, gone if owner is not None else None, stop)
    env = dict(os.environ)
    allocator = preload()
    if allocator:
        env["LD_PRELOAD"] = " ".join(filter(None, (allocator, env.get("LD_PRELOAD"))))
    accept = f"socket,host={args.uno_interface},port={args.uno_port},tcpNoDelay=1;urp;"
    profile = Path(args.user_installation).resolve().as_uri()
    cmd = [args.executable, "--headless", "--invisible", "--nocrashreport", "--nodefault",
           "--nologo", "--nofirststartwizard", "--norestore", "--nolockcheck",
           f"-env:UserInstallation={profile}", f"--accept={accept}StarOffice.ComponentContext"]  # fmt: skip
    log.info("starting LibreOffice (preload: %s): %s", allocator, " ".join(cmd))
    # From the main thread, which lives as long as we do: LibreOffice gets SIGTERM when we die.
    office = subprocess.Popen(
        cmd, env=env, stdin=subprocess.DEVNULL, preexec_fn=parent_death_signal(signal.SIGTERM)
    )
    stopping = threading.Lock()

    def shutdown() -> None:  # once, from whichever thread gets here first
        with stopping:
            stop_office(office)

    if owner is not None:

        def watch() -> None:
            while not gone():
                time.sleep(1.0)
            log.warning("owner %d is gone: stopping LibreOffice", owner)
            stop.set()
            shutdown()  # here, not in the main thread: it may be stuck in a UNO call
            logging.shutdown()
            os._exit(0)

        threading.Thread(target=watch, daemon=True, name="owner-watchdog").start()
    server = None
    try:
        context = connect(args.uno_interface, args.uno_port, office, args.start_timeout, stop)
        converter = Converter(context, args.temp_dir or tempfile.gettempdir())
        converter.configure()
        server = xmlrpc.server.SimpleXMLRPCServer(
            (args.interface, args.port), Handler, allow_none=True, logRequests=False
        )
        server.register_function(converter.info, "info")
        server.register_function(converter.convert, "convert")
        threading.Thread(target=server.serve_forever, daemon=True).start()
        log.info("ready on %s:%d (LibreOffice pid %d)", args.interface, args.port, office.pid)
        limit = args.conversion_timeout
        while office.poll() is None and not stop.wait(0.25):
            began = converter.busy_since
            if limit and began is not None and time.monotonic() - began > limit:
                log.error("conversion longer than %g s: killing LibreOffice", limit)
                office.kill()
                if os.getpgrp() == os.getpid():  # a group of our own: no orphaned soffice.bin
                    signal.signal(signal.SIGTERM, signal.SIG_IGN)
                    os.killpg(os.getpgrp(), signal.SIGTERM)
                break
    except Exception as exc:
        log.error("LibreOffice unusable: %s", exc)
    finally:
        if server is not None:
            server.server_close()
        shutdown()
    log.info("LibreOffice exited with code %s", office.returncode)
    return 0 if stop.is_set() else 1


if __name__ == "__main__":
    code = main()
    logging.shutdown()
    os._exit(code)  # not sys.exit: tearing down pyuno's bridge threads aborts the interpreter
