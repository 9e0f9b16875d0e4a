"""The file checks every kind shares: what the bytes are, not what they say.

Facts in (:class:`~dossiers.domain.pieces.FileFacts` and the kind's
:class:`~dossiers.domain.pieces.KindPolicy`), findings out, all ``erreur`` (the structure must send
another file):

- ``FICHIER_VIDE``: no bytes; nothing else is said about it.
- ``FICHIER_TROP_GROS``: over the kind's size limit (given in Mo); the file was not parsed.
- ``FORMAT_NON_AUTORISE``: its content (sniffed, never its name) is not a type the kind accepts.
- ``FORMAT_INCOHERENT``: its name's extension announces another type than its content, or the
  bytes hold a second format (a polyglot: an image that is also a PDF, a PDF that is also a ZIP
  or an HTML page), so that what a person opens may not be what was checked.
- ``PDF_CORROMPU`` / ``IMAGE_CORROMPUE``: the parser refused it (damaged, truncated).
- ``PDF_CHIFFRE``: a password or any encryption dictionary.
- ``ANALYSE_INTERROMPUE``: a limit of time, memory or work was hit (hostile or needlessly complex).
- ``PDF_CONTENU_ACTIF``: JavaScript, launch actions, attached files, XFA forms, multimedia.
- ``PDF_TROP_DE_PAGES``: more pages than the kind accepts.

Not here: ``PDF_SIGNATURE_PRESENTE`` and ``TEXTE_ABSENT`` (signatures and text are facts that the
check of each kind weighs). :func:`blocking` tells whether the facts are complete enough for the
check of the kind to run.
"""

from __future__ import annotations

from collections.abc import Iterable

from dossiers.domain.findings import Finding, FindingCode, Severity
from dossiers.domain.pieces import (
    MB,
    MIME_JPEG,
    MIME_PDF,
    MIME_PNG,
    FileFacts,
    KindPolicy,
    Probleme,
)

__all__ = ["check_file", "blocking", "BLOCKING", "ACTIVE_CONTENT", "format_name", "mo", "type_refuse"]

E = Severity.ERREUR
MIME_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What a person calls each type ("le fichier est …"); the accepted ones first, in this order.
_NAMES: dict[str, str] = {
    MIME_PDF: "PDF", MIME_JPEG: "JPEG", MIME_PNG: "PNG",
    "image/gif": "image GIF", "image/webp": "image WebP", "image/heic": "image HEIC", "image/heif": "image HEIF",
    "image/tiff": "image TIFF", "image/bmp": "image BMP", "image/svg+xml": "image SVG",
    MIME_DOCX: "document Word (DOCX)", "application/msword": "document Word (DOC)",
    "application/vnd.ms-word.document.macroEnabled.12": "document Word avec macros (DOCM)",
    MIME_XLSX: "classeur Excel (XLSX)", "application/vnd.ms-excel": "classeur Excel (XLS)",
    "application/vnd.ms-excel.sheet.macroEnabled.12": "classeur Excel avec macros (XLSM)",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "présentation PowerPoint (PPTX)",
    "application/vnd.oasis.opendocument.text": "document OpenDocument (ODT)",
    "application/zip": "archive ZIP", "application/x-rar": "archive RAR", "application/x-7z-compressed": "archive 7z",
    "application/gzip": "archive GZIP", "text/html": "page HTML", "text/x-php": "script PHP",
    "text/plain": "fichier texte", "text/xml": "fichier XML", "application/xml": "fichier XML",
    "application/x-dosexec": "programme Windows (EXE)", "application/x-executable": "programme exécutable (ELF)",
    "application/x-sharedlib": "programme exécutable (ELF)", "application/x-pie-executable": "programme exécutable (ELF)",
    "application/x-empty": "fichier vide", "application/octet-stream": "fichier de type inconnu",
}
_ORDER = (MIME_PDF, MIME_JPEG, MIME_PNG)
# A name's extension -> the types its content may have.
_EXTENSIONS: dict[str, frozenset[str]] = {
    "pdf": frozenset({MIME_PDF}),
    **dict.fromkeys(("jpg", "jpeg", "jpe", "jfif"), frozenset({MIME_JPEG})),
    "png": frozenset({MIME_PNG}),
    "docx": frozenset({MIME_DOCX}), "xlsx": frozenset({MIME_XLSX}),
    "zip": frozenset({"application/zip"}),
    **dict.fromkeys(("html", "htm"), frozenset({"text/html"})),
    **dict.fromkeys(("exe", "dll"), frozenset({"application/x-dosexec"})),
    "gif": frozenset({"image/gif"}), "webp": frozenset({"image/webp"}),
    **dict.fromkeys(("tif", "tiff"), frozenset({"image/tiff"})),
    **dict.fromkeys(("heic", "heif"), frozenset({"image/heic", "image/heif"})),
}
# PdfFacts.active_content names -> what the message says.
ACTIVE_CONTENT: dict[str, str] = {
    "javascript": "du JavaScript",
    "launch": "une action qui lance un programme",
    "fichier_joint": "un fichier joint",
    "formulaire_xfa": "un formulaire XFA",
    "multimedia": "un contenu multimédia",
}
_PROTECTED = "Envoyez un PDF sans protection (par exemple en l'imprimant en PDF)."
_SIMPLER = "Envoyez une version plus simple de la pièce (par exemple imprimée en PDF ou numérisée à 200 ppp)."

BLOCKING = frozenset({
    FindingCode.FICHIER_VIDE, FindingCode.FICHIER_TROP_GROS, FindingCode.FORMAT_NON_AUTORISE,
    FindingCode.PDF_CORROMPU, FindingCode.PDF_CHIFFRE, FindingCode.IMAGE_CORROMPUE,
    FindingCode.ANALYSE_INTERROMPUE,
})


def check_file(facts: FileFacts, policy: KindPolicy) -> list[Finding]:
    """The findings on the file itself, whatever the kind (see the module docstring)."""
    if facts.size == 0:
        return [Finding(FindingCode.FICHIER_VIDE, E, "Le fichier est vide (0 octet) : envoyez-le à nouveau.")]
    findings: list[Finding] = []
    if facts.probleme is Probleme.TROP_GROS or facts.size > policy.max_bytes:
        size, limit = mo(facts.size), mo(policy.max_bytes)
        over = f"pèse {size}, au-delà de" if size != limit else "dépasse"
        findings.append(Finding(FindingCode.FICHIER_TROP_GROS, E,
                                f"Le fichier {over} la limite de {limit} pour cette pièce. Réduisez-le "
                                "(par exemple en le numérisant à 200 ppp) et envoyez-le à nouveau."))
    if facts.mime not in policy.mimes:
        findings.append(Finding(FindingCode.FORMAT_NON_AUTORISE, E,
                                f"Le fichier {type_refuse(facts.mime, policy.mimes)}."))
    findings.extend(_incoherences(facts))
    findings.extend(_problem(facts))
    if facts.pdf is not None:
        if facts.pdf.active_content:
            what = _enumerate([ACTIVE_CONTENT.get(a, a) for a in facts.pdf.active_content])
            findings.append(Finding(FindingCode.PDF_CONTENU_ACTIF, E,
                                    f"Le PDF contient {what} : ce contenu actif est refusé par sécurité. "
                                    "Envoyez une version sans contenu actif (par exemple imprimée en PDF)."))
        if facts.pdf.pages > policy.max_pages:
            findings.append(Finding(FindingCode.PDF_TROP_DE_PAGES, E,
                                    f"Le PDF compte {_number(facts.pdf.pages)} pages ; cette pièce en compte au "
                                    f"plus {policy.max_pages}. Envoyez seulement les pages demandées."))
    return findings


def blocking(findings: Iterable[Finding]) -> bool:
    """True when the file could not be read, or was refused before being read: the check of its kind
    cannot run. A polyglot, active content or too many pages leave complete facts: not blocking."""
    return any(f.code in BLOCKING for f in findings)


def _problem(facts: FileFacts) -> list[Finding]:
    """The inspection's own French ``detail`` says why, when it knows; a generic clause otherwise."""
    detail = facts.detail
    if facts.probleme is Probleme.CORROMPU:
        if facts.mime == MIME_PDF:
            return [Finding(FindingCode.PDF_CORROMPU, E,
                            f"Le PDF est illisible : {detail or 'il est endommagé ou incomplet'}. Enregistrez-le "
                            "à nouveau depuis le logiciel qui l'a produit, puis envoyez-le.")]
        return [Finding(FindingCode.IMAGE_CORROMPUE, E,
                        f"L'image est illisible : {detail or 'elle est endommagée ou incomplète'}. "
                        "Envoyez-la à nouveau.")]
    if facts.probleme is Probleme.CHIFFRE:
        return [Finding(FindingCode.PDF_CHIFFRE, E,
                        f"Le PDF est protégé : {detail or 'il est chiffré'} ; son contenu ne peut pas être "
                        f"contrôlé. {_PROTECTED}")]
    if facts.probleme is Probleme.INTERROMPU:
        return [Finding(FindingCode.ANALYSE_INTERROMPUE, E,
                        f"L'analyse du fichier a été interrompue : {detail or 'limite de temps ou de mémoire atteinte'}. "
                        f"{_SIMPLER}")]
    return []


def _incoherences(facts: FileFacts) -> list[Finding]:
    findings = []
    extension = _extension(facts.declared_name)
    expected = _EXTENSIONS.get(extension) if extension else None
    if expected is not None and facts.mime not in expected:
        findings.append(Finding(FindingCode.FORMAT_INCOHERENT, E,
                                f"Le nom du fichier se termine par « .{extension} », mais son contenu est "
                                f"{_article(facts.mime)} : renommez-le ou envoyez le bon fichier."))
    if facts.also_looks_like:
        others = _enumerate([format_name(m) for m in facts.also_looks_like])
        findings.append(Finding(FindingCode.FORMAT_INCOHERENT, E,
                                f"Le fichier ({format_name(facts.mime)}) contient aussi les données d'un autre "
                                f"format ({others}) : un fichier lisible de deux façons est refusé par sécurité. "
                                "Enregistrez la pièce à nouveau dans un seul format."))
    return findings


def _extension(name: str | None) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].strip().lower() if "." in base.strip(".") else None


def format_name(mime: str) -> str:
    """``application/pdf`` -> ``PDF``; an unknown type is named by its MIME type."""
    return _NAMES.get(mime, f"de type {mime}")


def type_refuse(mime: str, mimes: frozenset[str]) -> str:
    """``est un document Word (DOCX) ; pour cette pièce, seul le format PDF est accepté``: the pieces'
    finding and the API's 415 say it with the same words."""
    return f"est {_article(mime)} ; pour cette pièce, {_accepted(mimes)}"


def _article(mime: str) -> str:
    """``un PDF``, ``une image GIF``, ``une archive ZIP``…: the type with its article."""
    name = _NAMES.get(mime)
    if name is None:
        return f"d'un type non pris en charge ({mime})"
    if mime in (MIME_JPEG, MIME_PNG):
        return f"une image {name}"
    feminine = name.split(" ", 1)[0] in ("image", "archive", "page", "présentation")
    return f"{'une' if feminine else 'un'} {name}"


def _accepted(mimes: frozenset[str]) -> str:
    names = [_NAMES.get(m, m) for m in _ORDER if m in mimes] + sorted(_NAMES.get(m, m) for m in mimes - set(_ORDER))
    if len(names) == 1:
        return f"seul le format {names[0]} est accepté"
    return f"seuls les formats {_enumerate(names, 'ou')} sont acceptés"


def _enumerate(items: list[str], last: str = "et") -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _number(value: int) -> str:
    return f"{value:,}".replace(",", "\u00a0")  # 10 000


def mo(size: int) -> str:
    """Bytes in Mo (10^6) with a French decimal comma: ``5 Mo``, ``31,2 Mo``, ``0,4 Mo``."""
    value = round(size / MB, 1)
    text = f"{value:.0f}" if value == int(value) else f"{value:.1f}".replace(".", ",")
    return f"{text}\u00a0Mo"
