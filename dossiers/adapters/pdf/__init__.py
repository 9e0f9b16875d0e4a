"""PDFs that conum writes with its own code, LibreOffice aside.

- ``rapport.py``: the rapport de contrôle of a dossier (reportlab, QR code);
- ``certificat.py``: the certificat d'archivage of a signed copy (the rapport's layout);
- ``metadata.py``: conum's identification stamped into every PDF it issues, and read back (pypdf).

DOCX -> PDF conversion is :mod:`dossiers.adapters.libreoffice`; the seal and the parties' signature
fields are :mod:`dossiers.adapters.signature`.
"""

from __future__ import annotations

from dossiers.adapters.pdf.metadata import CONUM_NS, read_pdf_metadata, stamp_pdf

__all__ = [
    "CONUM_NS",
    "read_pdf_metadata",
    "stamp_pdf",
]
