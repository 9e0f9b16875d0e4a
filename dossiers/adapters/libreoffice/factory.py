"""Pick the DOCX -> PDF converter that the settings and the machine allow.

``PDF_CONVERTER=auto`` (the default):

1. CONVERTER_URLS set -> a pool over those running unoservers (``conum converter`` elsewhere);
2. unoserver installed (UNOSERVER_BIN, or ``.venv-uno/bin/unoserver``) -> a local pool of
   CONVERTER_POOL_SIZE warm servers, profiles under ``<var_dir>/converter``;
3. ``soffice`` on the PATH -> one LibreOffice process per document;
4. otherwise ConversionError(CONVERTISSEUR_INDISPONIBLE).

In auto mode a local pool that fails to start falls back to 3 with a warning.

``unoserver`` or ``soffice`` force the kind (1-2, or 3), and fail the same way when it is missing.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from dossiers.adapters.libreoffice.base import Converter, unavailable_error
from dossiers.errors import ConversionError
from dossiers.adapters.libreoffice.soffice import SofficeConverter
from dossiers.adapters.libreoffice.unoserver import UnoserverPool
from dossiers.settings import Settings

__all__ = ["build_converter", "converter_dir"]

logger = logging.getLogger(__name__)


def converter_dir(settings: Settings) -> Path:
    """Where the local converters keep their LibreOffice profiles (kept between runs)."""
    return settings.var_dir / "converter"


def build_converter(settings: Settings) -> Converter:
    """The converter for ``settings``; the caller closes it (it may own processes)."""
    kind = settings.pdf_converter
    timeout = settings.conversion_timeout
    if kind in ("auto", "unoserver"):
        if settings.converter_urls:
            return UnoserverPool.connect(settings.converter_urls, timeout=timeout)
        unoserver_bin = settings.effective_unoserver_bin
        if unoserver_bin:
            soffice = shutil.which(settings.soffice_bin)
            try:
                return UnoserverPool.start(
                    unoserver_bin,
                    size=settings.converter_pool_size,
                    base_dir=converter_dir(settings),
                    timeout=timeout,
                    soffice_bin=soffice if settings.soffice_bin != "soffice" else None,
                )
            except ConversionError as exc:
                if kind == "unoserver" or not soffice:
                    raise
                # auto: a pool that cannot start must not stop generation; one-shot soffice still works.
                logger.warning("pool de convertisseurs indisponible (%s) : repli sur soffice ponctuel", exc.message)
        if kind == "unoserver":
            raise unavailable_error(
                "PDF_CONVERTER=unoserver mais ni CONVERTER_URLS ni unoserver ne sont configurés "
                "(installer .venv-uno ou définir UNOSERVER_BIN)"
            )
    if shutil.which(settings.soffice_bin):
        return SofficeConverter(
            settings.soffice_bin,
            timeout=timeout,
            profile_dir=converter_dir(settings) / "soffice-profile",
        )
    raise unavailable_error(
        f"LibreOffice ({settings.soffice_bin}) est introuvable et aucun unoserver n'est configuré"
    )
