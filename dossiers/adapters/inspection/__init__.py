"""Inspection of uploaded files: bytes in, :class:`~dossiers.domain.pieces.FileFacts` out.

The caller's process only hashes the bytes, sniffs their type (libmagic on the first 64 KB) and
scans them for a second format (polyglots). Parsing, the part that untrusted bytes can make slow,
huge or crash, runs in a warm child process under a wall-clock, memory and CPU limit
(:class:`~dossiers.adapters.inspection.pool.Pool`). What is parsed follows the kind's policy:

- no bytes -> ``mime="application/x-empty"``, nothing else;
- over ``policy.max_bytes`` -> sniffed only, :attr:`Probleme.TROP_GROS` (never parsed);
- a type the kind does not accept -> sniffed only (the check says what is accepted);
- a PDF -> :class:`PdfFacts`; a JPEG or PNG -> :class:`ImageFacts`;
- a PDF's signed fields, when the caller asks (:class:`VerificationSignatures`) -> validated with
  pyHanko in the same child (``signatures.py``);
- the parser refused the file -> :attr:`Probleme.CORROMPU` or :attr:`Probleme.CHIFFRE`; a limit
  of time, memory or work hit, or the child died -> :attr:`Probleme.INTERROMPU`.

Each problem comes with a short French ``detail``. The pure checks
(:func:`dossiers.domain.checks.fichier.check_file`) turn these facts into findings.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from dossiers.adapters.inspection import image, pdf
from dossiers.adapters.inspection.pool import InspectionUnavailable, Pool, Runner
from dossiers.adapters.inspection.sniff import MIME_EMPTY, polyglots, sniff
from dossiers.domain.pieces import MB, MIME_PDF, FileFacts, KindPolicy, Probleme, VerificationSignatures

__all__ = ["InspectionUnavailable", "Inspector", "polyglots", "sniff"]


class Inspector:
    """Facts of uploaded files, parsed in ``workers`` limited child processes.

    ``timeout`` (seconds of wall clock) and ``memory_mb`` (address space) bound one file;
    ``text_limit`` characters of text are kept from the first ``max_pages_text`` pages; a child is
    replaced after ``max_tasks_per_child`` files. Thread-safe; :meth:`close` (or ``with``) stops
    the children, and the interpreter's exit does it for an inspector left open.
    """

    def __init__(self, *, workers: int = 1, timeout: float = 5.0, memory_mb: int = 512,
                 text_limit: int = 100_000, max_pages_text: int = 10, max_tasks_per_child: int = 200,
                 max_pixels: int = image.MAX_PIXELS) -> None:
        if text_limit < 0 or max_pages_text < 0 or max_pixels <= 0:
            raise ValueError("text_limit >= 0, max_pages_text >= 0, max_pixels > 0")
        self.pool: Runner = Pool(workers=workers, timeout=timeout, memory_mb=memory_mb,
                                 max_tasks_per_child=max_tasks_per_child)
        self.text_limit, self.max_pages_text, self.max_pixels = text_limit, max_pages_text, max_pixels

    def inspect(self, data: bytes, *, policy: KindPolicy, declared_name: str | None = None,
                verification: VerificationSignatures | None = None) -> FileFacts:
        """The facts of ``data`` for a piece of the kind ``policy`` describes (never raises for a file;
        :class:`InspectionUnavailable` when no child can run). With ``verification``, a PDF's signed
        fields are also validated cryptographically (``PdfFacts.verifications``)."""
        digest = hashlib.sha256(data).hexdigest()
        if not data:
            return FileFacts(size=0, sha256=digest, mime=MIME_EMPTY, declared_name=declared_name)
        mime = sniff(data)
        facts = FileFacts(size=len(data), sha256=digest, mime=mime, declared_name=declared_name,
                          also_looks_like=polyglots(data, mime))
        if len(data) > policy.max_bytes:
            limit = f"{policy.max_bytes / MB:g}".replace(".", ",")
            return replace(facts, probleme=Probleme.TROP_GROS, detail=f"non analysé : plus de {limit}\u00a0Mo")
        if mime not in policy.mimes or (mime != MIME_PDF and mime not in image.FORMATS):
            return facts
        if mime == MIME_PDF:
            params: dict[str, Any] = {
                "text_limit": self.text_limit, "max_pages_text": self.max_pages_text,
                "text_seconds": self.pool.timeout * 0.5, "max_pixels": self.max_pixels,
            }
            if verification is not None:
                params["verification"] = verification.params()
            answer = self.pool.run("pdf", params, data)
        else:
            answer = self.pool.run("image", {"format": image.FORMATS[mime], "max_pixels": self.max_pixels}, data)
        return _with_answer(facts, answer, pdf_file=mime == MIME_PDF)

    def sniff(self, head: bytes) -> str:
        """The MIME type of the bytes (libmagic, ZIP told from OOXML), in this process: nothing parsed."""
        return sniff(head)

    def warm(self) -> None:
        """Start the children now (a worker calls it at boot; otherwise the first file waits ~0.3 s)."""
        self.pool.warm()

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _with_answer(facts: FileFacts, answer: dict[str, Any], *, pdf_file: bool) -> FileFacts:
    """The child's answer applied to the facts; an answer that does not parse is an interruption."""
    try:
        if "facts" in answer:
            if pdf_file:
                return replace(facts, pdf=pdf.from_json(answer["facts"]))
            return replace(facts, image=image.from_json(answer["facts"]))
        probleme, detail = Probleme(answer["probleme"]), answer.get("detail")
        if not isinstance(detail, str):
            raise ValueError("detail")
    except (KeyError, ValueError, TypeError):
        return replace(facts, probleme=Probleme.INTERROMPU,
                       detail="le processus d'analyse a donné une réponse illisible")
    return replace(facts, probleme=probleme, detail=detail[:300])
