"""The process-wide ``App`` the actors share (built on first use, closed at worker shutdown).

One per worker process: its converter pool, inspection children and catalog connections serve every
thread of the process. Tests install their own with ``use_app``.
"""

from __future__ import annotations

import threading

from dossiers.bootstrap import App

__all__ = ["app", "use_app", "close_app"]

_lock = threading.Lock()
_app: App | None = None


def app() -> App:
    global _app
    with _lock:
        if _app is None:
            _app = App()
        return _app


def use_app(instance: App | None) -> None:
    """Make ``instance`` the app of this process (``None``: back to one built from the environment)."""
    global _app
    with _lock:
        _app = instance


def close_app() -> None:
    global _app
    with _lock:
        if _app is not None:
            _app.close()
            _app = None
