"""The child's side of the inspection pool: load the parsers, set the limits, answer requests.

Runs in a fresh interpreter started by :class:`~dossiers.adapters.inspection.pool.Pool` (see its
module for the protocol and the limits). Also holds what both sides share: the frame formats,
the tasks, and :class:`Refused`, which parsers raise to stop on a file for a reason a person reads.
"""

from __future__ import annotations

import importlib
import json
import logging
import math
import os
import resource
import signal
import struct
import sys
import warnings
from collections.abc import Callable
from typing import Any

from dossiers.domain.pieces import Probleme

__all__ = ["REQUEST", "ANSWER", "TASKS", "Refused", "interrupted", "main"]

REQUEST = struct.Struct(">IQ")  # header length, data length
ANSWER = struct.Struct(">I")  # JSON length
TASKS = {"pdf": "dossiers.adapters.inspection.pdf", "image": "dossiers.adapters.inspection.image"}


class Refused(Exception):
    """Raised by a parser in the child: the file stops here, for a reason a person can read."""

    def __init__(self, probleme: Probleme, detail: str) -> None:
        super().__init__(detail)
        self.probleme, self.detail = probleme, detail


def interrupted(detail: str) -> dict[str, Any]:
    return {"probleme": str(Probleme.INTERROMPU), "detail": detail}


def main() -> None:  # pragma: no cover - runs in the child (the integration tests cover it)
    """Load the parsers, set the limits, then answer requests until stdin closes."""
    memory, cpu = int(sys.argv[2]), int(sys.argv[3])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)  # a stray print() of a library must not corrupt the answers
    stdin = sys.stdin.buffer
    warnings.simplefilter("ignore")
    logging.getLogger().setLevel(logging.CRITICAL)  # pypdf logs every repair of a broken file
    modules = {name: importlib.import_module(path) for name, path in TASKS.items()}
    for module in modules.values():
        module.configure()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))  # hard too: a taken-over child cannot raise it
    _send(out, {"ready": os.getpid()})
    while len(head := stdin.read(REQUEST.size)) == REQUEST.size:
        header_len, data_len = REQUEST.unpack(head)
        header, data = stdin.read(header_len), stdin.read(data_len)
        if len(header) < header_len or len(data) < data_len:
            return
        request = json.loads(header)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(usage.ru_utime + usage.ru_stime) + cpu,
                                                 resource.RLIM_INFINITY))
        try:
            _send(out, _answer(modules[request["task"]].parse, data, request["params"]))
        except BrokenPipeError:  # the parent is gone (killed mid-task): so is this child
            return


def _answer(parse: Callable[..., dict[str, Any]], data: bytes, params: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover
    try:
        return {"facts": parse(data, **params)}
    except Refused as refused:
        return {"probleme": str(refused.probleme), "detail": refused.detail}
    except MemoryError:  # the heap may be in pieces: answer, and the parent replaces this child
        return {**interrupted("l'analyse a dépassé la mémoire permise"), "exit": True}
    except RecursionError:
        return {"probleme": str(Probleme.CORROMPU), "detail": "structure imbriquée trop profondément"}
    except Exception:
        return {"probleme": str(Probleme.CORROMPU), "detail": "le fichier n'a pas pu être lu"}


def _send(out: Any, answer: dict[str, Any]) -> None:  # pragma: no cover
    body = json.dumps(answer, ensure_ascii=True).encode()
    out.write(ANSWER.pack(len(body)) + body)
