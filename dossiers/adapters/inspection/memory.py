"""The inspector without child processes: the same parsers, run in the caller's process, without the
time, memory and CPU limits (tests and demos on trusted files; never for uploads).

``MemoryInspector()`` gives the facts :class:`~dossiers.adapters.inspection.Inspector` gives for a
well-behaved file (sniffing, size and type policy, PDF text and signatures, image size): the
contract tests run both on the same files.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any

from dossiers.adapters.inspection import Inspector, image
from dossiers.adapters.inspection._child import TASKS, Refused

__all__ = ["InProcess", "MemoryInspector"]


class InProcess:
    """A :class:`~dossiers.adapters.inspection.pool.Runner` that parses in this process."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout

    def run(self, task: str, params: Mapping[str, Any], data: bytes) -> dict[str, Any]:
        parse = importlib.import_module(TASKS[task]).parse
        try:
            answer = {"facts": parse(data, **params)}
        except Refused as refused:
            answer = {"probleme": str(refused.probleme), "detail": refused.detail}
        return dict(json.loads(json.dumps(answer)))  # what the child would send: JSON

    def warm(self) -> None:
        pass

    def close(self) -> None:
        pass


class MemoryInspector(Inspector):
    """:class:`Inspector` with its parsing done in process (no child, no limits)."""

    def __init__(self, *, text_limit: int = 100_000, max_pages_text: int = 60,
                 max_pixels: int = image.MAX_PIXELS) -> None:
        super().__init__(text_limit=text_limit, max_pages_text=max_pages_text, max_pixels=max_pixels)
        self.pool.close()  # nothing was started: the pool starts its children on first use
        self.pool = InProcess()
