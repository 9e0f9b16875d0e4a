"""``conum converter``: a long-running group of unoservers that other processes reach through
CONVERTER_URLS (the Procfile's ``converter`` process).

Its converters die with it, SIGKILL included (see
:mod:`dossiers.adapters.libreoffice.unoserver_process`); SIGTERM or SIGINT stop them cleanly."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dossiers.adapters.libreoffice.unoserver import UnoserverPool

__all__ = ["serve_forever"]


def serve_forever(
    unoserver_bin: str,
    *,
    size: int,
    base_dir: Path,
    first_port: int,
    timeout: float = 120.0,
    start_timeout: float = 180.0,
    host: str = "127.0.0.1",
    stop: threading.Event | None = None,
    check_interval: float = 2.0,
    on_ready: Callable[[UnoserverPool], None] | None = None,
) -> None:
    """Run ``size`` unoservers on ports ``first_port``.. until ``stop`` is set (or SIGTERM /
    SIGINT when called from the main thread), restarting any that crashes. For ``conum
    converter``; clients reach them with CONVERTER_URLS=host:port,..."""
    stop = stop or threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        pool = UnoserverPool.start(
            unoserver_bin,
            size=size,
            base_dir=base_dir,
            first_port=first_port,
            timeout=timeout,
            start_timeout=start_timeout,
            host=host,
        )
        try:
            if on_ready is not None:
                on_ready(pool)
            while not stop.wait(check_interval):
                pool.check_servers()
        finally:
            pool.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
