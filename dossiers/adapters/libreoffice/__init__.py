"""DOCX -> PDF/A-2b conversion with LibreOffice: the converter port and its two implementations.

Use :func:`build_converter` (policy from the settings) or one implementation directly:
:class:`UnoserverPool` (warm servers), :class:`SofficeConverter` (one process per document).

- ``base.py``: the port (:class:`Converter`) and the checks and errors every implementation shares;
- ``soffice.py``: one ``soffice --convert-to`` process per document;
- ``unoserver.py``: the pool of warm servers, ``_slots.py`` its bookkeeping;
- ``unoserver_process.py``: one server that conum starts, stops and watches;
- ``_process.py``: process groups, free ports, children that die with their parent;
- ``factory.py``: the choice between them from the settings.

The server that runs inside LibreOffice's Python is not in this package (its interpreter has none
of conum's): ``libexec/uno_server.py``. The long-running ``conum converter`` process is
:mod:`dossiers.entrypoints.converter`.
"""

from __future__ import annotations

from dossiers.adapters.libreoffice.base import Converter
from dossiers.adapters.libreoffice.factory import build_converter
from dossiers.adapters.libreoffice.soffice import SofficeConverter
from dossiers.adapters.libreoffice.unoserver import UnoserverPool

__all__ = [
    "Converter",
    "SofficeConverter",
    "UnoserverPool",
    "build_converter",
]
