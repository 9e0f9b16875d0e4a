"""The pièce d'identité check: the legal representative's CNI or passport, read from its MRZ.

Facts in (an image's size, a PDF's text layer, the zone given with the piece), findings out:

- ``IDENTITE_ILLISIBLE`` erreur: an image too small for anyone to read (see ``MIN_SIDE_PX``).
- ``IDENTITE_MRZ_ABSENTE`` alerte: no zone given and none in the PDF text layer; a human reads it.
- ``IDENTITE_MRZ_INVALIDE`` erreur: a zone that cannot be read, or wrong check digits or dates.
- ``IDENTITE_EXPIREE`` erreur: expired on ``Contexte.today`` (alerte when the end of validity cannot
  be told, or falls in the month of uncertainty of an old CNI, whose day of issue is unknown).
- ``IDENTITE_NOM_DIFFERENT`` alerte: the zone's names are not the representative's (a nom d'usage
  is not in the zone, so this goes to a human).

The zone is searched in the text layer as consecutive lines of 30, 36 or 44 characters of
``[A-Z0-9<]``; spaces that text extraction or OCR inserts are removed, and ``«``/``‹`` read as ``<``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from dossiers.domain.dates import add_months
from dossiers.domain.findings import Finding, FindingCode, Severity
from dossiers.domain.mrz import (
    Mrz,
    MrzFormat,
    MrzIllisible,
    expiry_for,
    mrz_transliterate,
    names_match,
    parse_mrz,
)
from dossiers.domain.pieces import Contexte, FileFacts

__all__ = ["MIN_SIDE_PX", "MIN_PIXELS", "check_identite", "find_zone", "mask", "representant_matches"]

# A card filling a VGA frame (640 x 480, the historic floor of camera images) gives MRZ characters
# about 18 px tall (OCR-B capitals are ~2.4 mm high; 640 px / 85.6 mm = 7.5 px/mm), about the least
# an OCR engine or a person reads reliably. Anything smaller cannot be read whatever is in the frame.
MIN_SIDE_PX = 480
MIN_PIXELS = 300_000
_ZONE_SHAPES = {30: 3, 36: 2, 44: 2}  # line length -> line count (TD1, old CNI, TD3)
_ONE_LINE = {90: 30, 72: 36, 88: 44}  # a zone sent as one line -> its line length
_MRZ_LINE = re.compile(r"[A-Z0-9<]+")
_ANGLES = str.maketrans({"«": "<<", "‹": "<", "≪": "<<"})
_CIVILITES = {"m", "mr", "mme", "mlle", "monsieur", "madame", "mademoiselle", "dr", "me"}

E, A = Severity.ERREUR, Severity.ALERTE


def check_identite(facts: FileFacts, ctx: Contexte) -> tuple[list[Finding], dict[str, Any]]:
    """Findings and fields of an identity document (image or PDF) for ``ctx.representant``."""
    findings: list[Finding] = []
    fields: dict[str, Any] = {"fichier": "image" if facts.image else "pdf" if facts.pdf else None}
    illisible = _too_small(facts)
    if illisible:
        findings.append(Finding(FindingCode.IDENTITE_ILLISIBLE, E, illisible))
    zone, source = _zone(facts, ctx)
    fields["mrz_source"] = source
    if zone is None:
        if not illisible:
            findings.append(Finding(FindingCode.IDENTITE_MRZ_ABSENTE, A, _absent_message(facts)))
        return findings, fields
    try:
        mrz = parse_mrz(zone, today=ctx.today)
    except MrzIllisible as exc:
        findings.append(Finding(FindingCode.IDENTITE_MRZ_INVALIDE, E, f"La zone MRZ est illisible : {exc.message}"))
        return findings, fields
    fields.update(_fields(mrz))
    if mrz.errors:
        reasons = " ".join(e.message for e in mrz.errors)
        findings.append(Finding(FindingCode.IDENTITE_MRZ_INVALIDE, E, f"La zone MRZ n'est pas valide : {reasons}"))
    findings.extend(_expiry(mrz, ctx.today, fields))
    if ctx.representant and not representant_matches(mrz, ctx.representant):
        findings.append(Finding(FindingCode.IDENTITE_NOM_DIFFERENT, A, _name_message(mrz, ctx.representant)))
    return findings, fields


def _too_small(facts: FileFacts) -> str | None:
    image = facts.image
    if image is None:
        return None
    if min(image.width, image.height) < MIN_SIDE_PX or image.width * image.height < MIN_PIXELS:
        return (f"L'image de la pièce d'identité est trop petite pour être lue ({image.width} x {image.height} "
                f"pixels ; au moins {MIN_SIDE_PX} pixels de côté et {MIN_PIXELS // 1000} 000 pixels) : "
                "envoyez une photo ou un scan de meilleure qualité.")
    return None


def _zone(facts: FileFacts, ctx: Contexte) -> tuple[str | None, str | None]:
    if ctx.mrz and ctx.mrz.strip():
        return _given_zone(ctx.mrz), "fournie"
    if facts.pdf is not None and (found := find_zone(facts.pdf.text)) is not None:
        return found, "texte_pdf"
    return None, None


def _clean(line: str) -> str:
    return "".join(line.translate(_ANGLES).split())


def _given_zone(text: str) -> str:
    """The zone given with the piece, spaces removed and upper-cased; a zone sent as one line is cut."""
    lines = [c for c in (_clean(line).upper() for line in text.splitlines()) if c]
    if len(lines) == 1 and (width := _ONE_LINE.get(len(lines[0]))):
        lines = [lines[0][i: i + width] for i in range(0, len(lines[0]), width)]
    return "\n".join(lines)


def find_zone(text: str) -> str | None:
    """The first machine-readable zone in extracted text: 3 x 30, 2 x 36 or 2 x 44 consecutive lines of
    ``[A-Z0-9<]`` (spaces inside a line ignored) holding at least one ``<`` and one digit."""
    lines = [_clean(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    for i, line in enumerate(lines):
        count = _ZONE_SHAPES.get(len(line))
        group = lines[i: i + count] if count else []
        if len(group) == count and all(len(g) == len(line) and _MRZ_LINE.fullmatch(g) for g in group):
            joined = "".join(group)
            if "<" in joined and any(c.isdigit() for c in joined):
                return "\n".join(group)
    return None


def _absent_message(facts: FileFacts) -> str:
    if facts.pdf is not None and not facts.pdf.has_text:
        where = "le PDF n'a pas de couche texte (document numérisé) et aucune zone n'a été fournie"
    elif facts.pdf is not None:
        where = "aucune zone n'a été trouvée dans le texte du PDF ni fournie avec la pièce"
    else:
        where = "aucune zone n'a été fournie avec l'image"
    return f"Zone MRZ non lue ({where}) : la pièce d'identité est à vérifier par un instructeur."


def mask(number: str, visible: int = 4) -> str:
    """A document number with all but its last ``visible`` characters hidden (personal data)."""
    return "*" * max(len(number) - visible, 0) + number[-visible:]


def _fields(mrz: Mrz) -> dict[str, Any]:
    return {
        "format": str(mrz.format), "document_type": mrz.document_type, "issuing_country": mrz.issuing_country,
        "document_number": mask(mrz.document_number), "surname": mrz.surname,
        "given_names": list(mrz.given_names), "expiry": None,
    }


def _expiry(mrz: Mrz, today: date, fields: dict[str, Any]) -> list[Finding]:
    expiry = expiry_for(mrz)
    if expiry is None:
        return [Finding(FindingCode.IDENTITE_EXPIREE, A, "La date de fin de validité de la pièce d'identité n'a pas "
                        "pu être déterminée : à vérifier.")]
    fields["expiry"] = expiry.isoformat()
    if mrz.format is not MrzFormat.CNI_FR_ANCIENNE:
        if today > expiry:
            return [Finding(FindingCode.IDENTITE_EXPIREE, E, f"La pièce d'identité a expiré le {expiry:%d/%m/%Y}.")]
        return []
    # Old CNI: only the month of issue is known, so the real end of validity falls in ``expiry``'s month.
    year, month = mrz.issue_year_month or (0, 0)
    rule = "15 ans, dont 5 de prolongation (décret 2013-1188)" if expiry.year - year == 15 else "10 ans"
    what = (f"La carte nationale d'identité délivrée en {month:02d}/{year} est valable {rule}, "
            f"jusqu'en {expiry:%m/%Y}")
    if today >= add_months(expiry, 1):
        return [Finding(FindingCode.IDENTITE_EXPIREE, E, f"{what} : elle a expiré.")]
    if today > expiry:
        return [Finding(FindingCode.IDENTITE_EXPIREE, A, f"{what} : selon son jour de délivrance (inconnu), "
                        "elle a peut-être expiré, à vérifier.")]
    return []


def _words(name: str) -> list[str]:
    words = name.replace(",", " ").split()
    while len(words) > 1 and words[0].casefold().rstrip(".") in _CIVILITES:
        words = words[1:]
    return words


def representant_matches(mrz: Mrz, representant: str) -> bool:
    """Whether "Prénom(s) Nom" (or "NOM Prénom(s)") is the zone's holder, trying every split of the words.

    Accents, case, hyphens and apostrophes are ignored (``names_match``); a leading civilité is dropped.
    A single word is compared with the surname only.
    """
    words = _words(representant)
    if not words:
        return False
    if len(words) == 1:
        return mrz_transliterate(words[0]).replace("<", "") == mrz_transliterate(mrz.surname).replace("<", "")
    for k in range(1, len(words)):
        first, last = " ".join(words[:k]), " ".join(words[k:])
        if names_match(mrz, first, last) or names_match(mrz, last, first):
            return True
    return False


def _name_message(mrz: Mrz, representant: str) -> str:
    holder = " ".join((*mrz.given_names, mrz.surname))
    return (f"Le titulaire de la pièce d'identité ({holder}) ne correspond pas au représentant légal déclaré "
            f"({representant}). Un nom d'usage (nom d'épouse, par exemple) peut différer du nom de naissance "
            "inscrit dans la zone MRZ : à vérifier.")
