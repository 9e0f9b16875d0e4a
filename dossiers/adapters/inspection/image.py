"""The facts of a JPEG or PNG, read with Pillow in a limited child process (see ``pool.py``).

Pillow opens the file with the one decoder its sniffed type names (``formats=[...]``), so a file
sniffed as JPEG never reaches the TIFF, EPS or PSD plugins. The declared size is checked before
any pixel is decoded: over ``max_pixels`` it is a decompression bomb (a 50 000 × 50 000 PNG of a
few KB would need 7.5 GB), :attr:`Probleme.INTERROMPU`, never a crash. Then the whole image is
decoded, so that a truncated or damaged file is :attr:`Probleme.CORROMPU` rather than a blank
that a person would have to notice; a JPEG is decoded at 1/8 scale (libjpeg still reads every
coefficient, so truncation shows, at 1/64 of the memory).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import asdict
from typing import Any

from PIL import Image, ImageFile, UnidentifiedImageError

from dossiers.adapters.inspection._child import Refused
from dossiers.domain.pieces import MIME_JPEG, MIME_PNG, ImageFacts, Probleme

__all__ = ["FORMATS", "MAX_PIXELS", "configure", "parse", "from_json"]

MAX_PIXELS = 60_000_000  # an A4 page scanned at 600 dpi is 35 Mpx; a 48 Mpx phone photo passes
FORMATS = {MIME_JPEG: "JPEG", MIME_PNG: "PNG"}


def configure() -> None:
    """Pillow's own guard as a backstop (it raises above twice this value)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def parse(data: bytes, *, format: str, max_pixels: int = MAX_PIXELS) -> dict[str, Any]:
    """The facts of an image as a JSON-ready dict; raises ``Refused`` when it cannot be analysed."""
    if format not in FORMATS.values():
        raise Refused(Probleme.CORROMPU, f"format d'image non pris en charge ({format})")
    Image.MAX_IMAGE_PIXELS = max_pixels  # Pillow's own guard follows ours (the child is single-threaded)
    try:
        return asdict(_parse(data, format, max_pixels))
    except Refused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Refused(Probleme.INTERROMPU, f"l'image dépasse la limite de {max_pixels // 1_000_000} mégapixels "
                                           "(bombe de décompression)") from exc
    except MemoryError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError,
            TypeError, struct.error, ZeroDivisionError) as exc:
        raise Refused(Probleme.CORROMPU, "ses données sont endommagées ou incomplètes") from exc


def _parse(data: bytes, fmt: str, max_pixels: int) -> ImageFacts:
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        width, height = im.size
        if width <= 0 or height <= 0:
            raise Refused(Probleme.CORROMPU, "l'image déclare une taille nulle")
        if width * height > max_pixels:
            raise Refused(Probleme.INTERROMPU, f"l'image mesure {width} × {height} pixels, au-delà de la "
                                               f"limite de {max_pixels // 1_000_000} mégapixels")
        im.verify()  # PNG: every chunk's CRC; cheap, and catches damage the decoder would skip
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        if fmt == "JPEG":
            im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
        im.load()
    return ImageFacts(format=fmt, width=width, height=height)


def from_json(d: Any) -> ImageFacts:
    """ImageFacts from a child's answer; ``ValueError`` if anything is not of the expected type."""
    if not isinstance(d, dict):
        raise ValueError("facts")
    fmt, width, height = d.get("format"), d.get("width"), d.get("height")
    if fmt not in FORMATS.values() or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                                              for v in (width, height)):
        raise ValueError("facts")
    return ImageFacts(format=str(fmt), width=int(width), height=int(height))  # type: ignore[arg-type]
