"""The converter port: DOCX bytes in, PDF/A-2b bytes out.

Every implementation raises :class:`dossiers.errors.ConversionError` and nothing else on
purpose, with one of three codes:

- ``CONVERSION_DELAI``: the conversion took longer than the converter's timeout;
- ``CONVERSION_ECHEC``: LibreOffice refused the document or produced no PDF;
- ``CONVERTISSEUR_INDISPONIBLE``: no LibreOffice installed, or no server reachable.
"""

from __future__ import annotations

import io
import zipfile
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from dossiers.errors import ConversionError, ErrorCode

__all__ = [
    "Converter",
    "DOCX_IMPORT_FILTER",
    "PDFA_PART",
    "check_docx",
    "check_pdf",
    "timeout_error",
    "unavailable_error",
]

# LibreOffice's import filter for .docx: forcing it makes LibreOffice refuse anything else
# instead of importing random bytes as plain text.
DOCX_IMPORT_FILTER = "MS Word 2007 XML"
# writer_pdf_Export's SelectPdfVersion: 2 = PDF/A-2b.
PDFA_PART = 2


@runtime_checkable
class Converter(Protocol):
    """Converts one DOCX document to PDF/A-2b. Implementations are thread-safe."""

    def convert(self, docx: bytes) -> bytes:
        """Return the PDF/A-2b rendering of ``docx``; raise ConversionError on failure."""
        ...

    def close(self) -> None:
        """Release what the converter started (processes, temporary directories)."""
        ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def check_docx(docx: bytes) -> None:
    """Refuse, before LibreOffice sees it, anything that is not a DOCX package."""
    if not isinstance(docx, (bytes, bytearray, memoryview)):
        raise TypeError("docx must be bytes")
    try:
        with zipfile.ZipFile(io.BytesIO(docx)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ConversionError(
            "Conversion impossible : le fichier fourni n'est pas un document DOCX "
            "(archive illisible).",
            code=ErrorCode.CONVERSION_ECHEC,
        ) from exc
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise ConversionError(
            "Conversion impossible : le fichier fourni n'est pas un document DOCX "
            "(word/document.xml absent).",
            code=ErrorCode.CONVERSION_ECHEC,
        )


def check_pdf(pdf: bytes | None, *, source: str) -> bytes:
    """Return ``pdf`` when it looks like a PDF, else raise CONVERSION_ECHEC."""
    if not pdf or not bytes(pdf[:1024]).lstrip().startswith(b"%PDF-"):
        raise ConversionError(
            f"La conversion en PDF a échoué : {source} n'a pas produit de fichier PDF.",
            code=ErrorCode.CONVERSION_ECHEC,
        )
    return bytes(pdf)


def timeout_error(seconds: float, *, source: str) -> ConversionError:
    return ConversionError(
        f"La conversion en PDF a dépassé le délai de {seconds:g} s ({source}) ; "
        "elle a été interrompue.",
        code=ErrorCode.CONVERSION_DELAI,
    )


def unavailable_error(detail: str) -> ConversionError:
    return ConversionError(
        f"Aucun convertisseur PDF n'est disponible : {detail}.",
        code=ErrorCode.CONVERTISSEUR_INDISPONIBLE,
    )
