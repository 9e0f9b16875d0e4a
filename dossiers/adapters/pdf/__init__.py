"""DOCX -> PDF/A-2b conversion with LibreOffice, and conum's metadata inside the PDF.

Use :func:`build_converter` (policy from the settings) or one implementation directly:
:class:`UnoserverPool` (warm servers), :class:`SofficeConverter` (one process per document).
"""

from __future__ import annotations

from dossiers.adapters.pdf.base import Converter
from dossiers.adapters.pdf.factory import build_converter
from dossiers.adapters.pdf.metadata import CONUM_NS, read_pdf_metadata, stamp_pdf
from dossiers.adapters.pdf.serve import serve_forever
from dossiers.adapters.pdf.soffice import SofficeConverter
from dossiers.adapters.pdf.unoserver import UnoserverPool

__all__ = [
    "CONUM_NS",
    "Converter",
    "SofficeConverter",
    "UnoserverPool",
    "build_converter",
    "read_pdf_metadata",
    "serve_forever",
    "stamp_pdf",
]
