"""The *certificat d'archivage*: one A4 page filed next to each archived signed copy.

It states which convention and version the copy is, its status (``archive``, or ``a_verifier`` when
a human must confirm it), the SHA-256 of the signed copy and of the document conum issued, when it
was archived and until when it is kept (Europe/Paris, long French dates), the archive's object key
and version id, and the electronic signatures found in the copy. A QR code carries
:func:`certificat_payload`, ``CONUM:CA1:<convention id>:<version>:<SHA-256 of the copy, UPPER CASE>``:
anyone holding the file can hash it and compare.

Layout, fonts and the QR code drawn as one path are the rapport de contrôle's
(:mod:`dossiers.adapters.pdf.rapport`). The bytes are deterministic for the same inputs (reportlab
``invariant=1``, the PDF dates set from ``generated_at``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dossiers.adapters.pdf.rapport import GREEN, ORANGE, RULE, register_fonts, numbered_canvas, QrCode, report_styles
from dossiers.clock import PARIS
from dossiers.domain.formatting import date_longue

__all__ = ["STATUTS", "certificat_archivage", "certificat_payload"]

STATUTS = {
    "archive": ("Archivée", GREEN),
    "a_verifier": ("Archivée, à confirmer par un instructeur", ORANGE),
}
MAX_SIGNATURES = 8  # listed on the page; the others are counted (one page, whatever the copy holds)
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def certificat_payload(convention_id: str, version: int, sha256_signe: str) -> str:
    """What the QR code carries: ``CONUM:CA1:<convention id>:<version>:<SHA-256, upper case>``."""
    return f"CONUM:CA1:{convention_id}:{version}:{sha256_signe.upper()}"


def _paris(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} doit porter un fuseau horaire (datetime « aware »)")
    return value.astimezone(PARIS)


def _moment(value: datetime, name: str) -> str:
    when = _paris(value, name)
    return f"{date_longue(when.date())} à {when:%H:%M:%S} (heure de Paris)"


def _signature_date(value: Any) -> str:
    if not isinstance(value, str) or not value:
        return "date non indiquée"
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return escape(value[:64])
    if when.tzinfo is None:
        return f"{date_longue(when.date())} à {when:%H:%M} (fuseau horaire non indiqué)"
    when = when.astimezone(PARIS)
    return f"{date_longue(when.date())} à {when:%H:%M} (heure de Paris)"


def _signatures(signatures: Sequence[dict[str, Any]], st: dict[str, ParagraphStyle]) -> list[Flowable]:
    title = Paragraph(f"Signatures électroniques détectées ({len(signatures)})", st["h2"])
    if not signatures:
        return [title, Paragraph("Aucune signature électronique n'a été détectée dans la copie (signature "
                                 "manuscrite ou copie numérisée : voir le statut).", st["base"])]
    lines = []
    for sig in signatures[:MAX_SIGNATURES]:
        signer = escape(str(sig.get("signataire") or "signataire non indiqué")[:120])
        field = escape(str(sig.get("champ") or "")[:80])
        lines.append(Paragraph(f"• {signer} — {_signature_date(sig.get('date'))}"
                               + (f' <font color="#707078">(champ « {field} »)</font>' if field else ""),
                               st["base"]))
    if len(signatures) > MAX_SIGNATURES:
        lines.append(Paragraph(f"… et {len(signatures) - MAX_SIGNATURES} autre(s) signature(s).", st["base"]))
    return [title, *lines]


def _table(rows: list[tuple[str, str]], st: dict[str, ParagraphStyle], widths: tuple[float, float]) -> Table:
    table = Table([[Paragraph(k, st["key"]), Paragraph(v, st["value"])] for k, v in rows],
                  colWidths=list(widths), hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 2), ("TOPPADDING", (0, 0), (-1, -1), 2)]))
    return table


def certificat_archivage(
    *, convention_id: str, version: int, sha256_signe: str, sha256_emis: str, archived_at: datetime,
    retain_until: datetime, key: str, version_id: str | None, statut: str, signatures: Sequence[dict[str, Any]],
    generated_at: datetime,
) -> bytes:
    """The one-page PDF certificat d'archivage of a signed copy (all datetimes timezone-aware)."""
    if statut not in STATUTS:
        raise ValueError(f"statut {statut!r} : un certificat n'est établi que pour {', '.join(STATUTS)}")
    for name, sha in (("sha256_signe", sha256_signe), ("sha256_emis", sha256_emis)):
        if not _SHA256.fullmatch(sha or ""):
            raise ValueError(f"{name} doit compter 64 caractères hexadécimaux")
    sha256_signe, sha256_emis = sha256_signe.lower(), sha256_emis.lower()
    _paris(generated_at, "generated_at")
    st = report_styles()
    _, bold, mono = register_fonts()
    word, color = STATUTS[statut]
    payload = certificat_payload(convention_id, version, sha256_signe)
    cid = escape(convention_id)

    def code(text: str) -> str:
        return f'<font name="{mono}">{escape(text)}</font>'

    identity = _table([
        ("Convention", cid),
        ("Version", str(version)),
        ("Statut", f'<font name="{bold}" color="{color.hexval()}">{escape(word)}</font>'),
        ("Archivée le", _moment(archived_at, "archived_at")),
        ("Conservée jusqu'au", _moment(retain_until, "retain_until")),
    ], st, (34 * mm, 98 * mm))
    header = Table([[identity, QrCode(payload, 34 * mm)]], colWidths=[137 * mm, 37 * mm], hAlign="LEFT")
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                                ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    storage = _table([
        ("Copie signée", code(sha256_signe)),
        ("Document émis", code(sha256_emis)),
        ("Clé de l'objet", code(key)),
        ("Version de l'objet", code(version_id) if version_id else "— (stockage sans identifiant de version)"),
    ], st, (34 * mm, 140 * mm))
    note = ParagraphStyle("note", st["small"], fontSize=7.5, leading=9.5, textColor=colors.HexColor("#404048"))
    story: list[Flowable] = [
        Paragraph("Certificat d'archivage", st["title"]),
        Paragraph("Programme Conseiller numérique — copie signée d'une convention de subvention", st["subtitle"]),
        header,
        Spacer(1, 4),
        Paragraph("Empreintes SHA-256 et emplacement dans l'archive", st["h2"]),
        storage,
        *_signatures(signatures, st),
        HRFlowable(width="100%", thickness=0.6, color=RULE, spaceBefore=10, spaceAfter=4),
        Paragraph(
            f"La copie signée dont l'empreinte SHA-256 figure ci-dessus a été rapprochée de la version {version} de "
            f"la convention {cid} émise par conum, puis conservée sous verrou dans l'archive, sans modification, "
            "jusqu'à la date indiquée : elle ne peut être ni supprimée ni remplacée avant cette date. Pour vérifier "
            "un fichier, calculer son empreinte SHA-256 (par exemple <i>sha256sum</i>) et la comparer à celle "
            f"de la copie signée. Le QR code porte {code(payload)}.", note),
        Paragraph(f"Certificat établi le {_moment(generated_at, 'generated_at')}.", note),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=18 * mm,
        title=f"Certificat d'archivage — {convention_id} version {version}",
        author="conum — programme Conseiller numérique",
        subject=f"Archivage de la copie signée de la convention {convention_id}, version {version} "
                f"(SHA-256 {sha256_signe})",
        creator="conum", keywords=["certificat d'archivage", convention_id, sha256_signe], lang="fr-FR",
        invariant=1,
    )  # fmt: skip
    pdf_date = "D:" + generated_at.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "+00'00'"
    footer = f"Certificat d'archivage — {convention_id} — version {version}"
    doc.build(story, canvasmaker=numbered_canvas(footer, pdf_date))
    return out.getvalue()
