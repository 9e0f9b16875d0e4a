"""One-shot conversion: one ``soffice --headless --convert-to`` process per document.

Slower than the unoserver pool (LibreOffice starts every time, ~1-3 s) but needs nothing
beyond LibreOffice itself: the fallback when no unoserver is installed.

LibreOffice runs in a process group of its own, stopped whole after the call, and gets SIGTERM
if the calling process dies during the call (Linux's parent-death signal: the call is
synchronous, so the thread that forks it outlives it).
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dossiers.adapters.libreoffice._process import kill_group, parent_death_signal
from dossiers.adapters.libreoffice.base import (
    DOCX_IMPORT_FILTER,
    PDFA_PART,
    Converter,
    check_docx,
    check_pdf,
    timeout_error,
    unavailable_error,
)
from dossiers.errors import ConversionError, ErrorCode

__all__ = ["SofficeConverter", "PDFA_EXPORT_FILTER"]

log = logging.getLogger(__name__)

# --convert-to accepts JSON filter options since LibreOffice 7.4: this gives PDF/A-2b.
PDFA_EXPORT_FILTER = (
    'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"' + str(PDFA_PART) + '"}}'
)


class SofficeConverter(Converter):
    """Runs ``soffice`` once per document, in a temporary directory, under a timeout.

    The LibreOffice profile (``profile_dir``) is kept between calls so that only the first call
    pays for its creation. One profile serves one LibreOffice process at a time, so calls are
    serialized by a file lock next to the profile (across threads and processes): this
    converter is safe to share but not parallel.
    """

    def __init__(
        self,
        soffice_bin: str = "soffice",
        timeout: float = 120.0,
        profile_dir: Path | str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.soffice_bin = soffice_bin
        self.timeout = float(timeout)
        self._owned_dir: Path | None = None
        if profile_dir is None:
            self._owned_dir = Path(tempfile.mkdtemp(prefix="conum-soffice-"))
            profile_dir = self._owned_dir / "profile"
        self.profile_dir = Path(profile_dir).resolve()
        self._closed = False

    def __repr__(self) -> str:
        return f"SofficeConverter({self.soffice_bin!r}, timeout={self.timeout:g})"

    def command(self, docx_path: Path, outdir: Path) -> list[str]:
        return [
            self.soffice_bin,
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"-env:UserInstallation={self.profile_dir.as_uri()}",
            f"--infilter={DOCX_IMPORT_FILTER}",
            "--convert-to",
            PDFA_EXPORT_FILTER,
            "--outdir",
            str(outdir),
            str(docx_path),
        ]

    def convert(self, docx: bytes) -> bytes:
        check_docx(docx)
        if self._closed:
            raise unavailable_error("le convertisseur soffice est fermé")
        with self._profile_lock(), tempfile.TemporaryDirectory(prefix="conum-convert-") as tmp:
            work = Path(tmp)
            source = work / "document.docx"
            source.write_bytes(bytes(docx))
            outdir = work / "out"
            outdir.mkdir()
            output = self._run(self.command(source, outdir), cwd=work)
            result = outdir / "document.pdf"
            if not result.is_file():
                detail = output.strip().splitlines()[-1:] or ["aucun message"]
                raise ConversionError(
                    "La conversion en PDF a échoué : LibreOffice n'a pas pu lire le document "
                    f"({detail[0][:200]}).",
                    code=ErrorCode.CONVERSION_ECHEC,
                )
            return check_pdf(result.read_bytes(), source="LibreOffice (soffice)")

    @contextmanager
    def _profile_lock(self) -> Iterator[None]:
        self.profile_dir.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.profile_dir.with_name(self.profile_dir.name + ".lock")
        with open(lock_path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _run(self, cmd: list[str], *, cwd: Path) -> str:
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=parent_death_signal(),  # this thread waits for it: no spawn() needed
            )
        except (FileNotFoundError, PermissionError) as exc:
            raise unavailable_error(f"LibreOffice introuvable ({self.soffice_bin})") from exc
        try:
            out, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired as exc:
            log.warning("soffice exceeded %.3g s, killing process group %d", self.timeout, proc.pid)
            kill_group(proc, grace=0.5)
            proc.communicate()
            raise timeout_error(self.timeout, source="LibreOffice soffice") from exc
        except BaseException:
            kill_group(proc, grace=0.5)
            raise
        finally:
            # soffice may leave helpers behind in its group; never let them outlive the call.
            if proc.returncode is not None:
                kill_group(proc, grace=0.5)
        text = out.decode("utf-8", "replace")
        if proc.returncode != 0:
            raise ConversionError(
                f"La conversion en PDF a échoué : LibreOffice s'est arrêté avec le code "
                f"{proc.returncode}.",
                code=ErrorCode.CONVERSION_ECHEC,
            )
        return text

    def close(self) -> None:
        self._closed = True
        if self._owned_dir is not None:
            with self._profile_lock():
                shutil.rmtree(self._owned_dir, ignore_errors=True)
            self._owned_dir = None
