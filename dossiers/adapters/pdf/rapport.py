"""The *rapport de contrôle* of a dossier: a PDF an instructeur reads, prints or files.

Page 1 opens with the structure, the dossier, the date of the report (Europe/Paris), the overall
status in words and a QR code; then the missing pieces, then one row per current piece (label,
poste, file name, status, short SHA-256) followed by its findings. Long dossiers run over several
pages, the table header repeated; every page ends with "page X / Y".

Verification. The report cannot carry its own hash, so its *empreinte* is defined on its inputs
(:func:`~dossiers.domain.rapport.rapport_digest`, pure, in the domain). The QR code carries
:func:`~dossiers.domain.rapport.qr_payload`, ``CONUM:RC1:<dossier id>:<UTC time>:<EMPREINTE>`` (upper
case: the whole payload fits QR's alphanumeric mode, a smaller code, a third of the encoding time); the
empreinte is also printed in clear under the QR code.

The bytes are deterministic for the same view and ``generated_at`` (reportlab ``invariant=1``, the
PDF dates set from ``generated_at``). Fonts: DejaVu Sans (Debian ``fonts-dejavu-core``), else
Liberation Sans (``fonts-liberation2``), embedded as TrueType subsets so that accents and the euro
sign print and extract; none installed -> :class:`RapportError`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dossiers.clock import PARIS
from dossiers.domain.dossier import PIECE_LABELS, DossierStatut, DossierView, PieceRecord
from dossiers.domain.findings import Severity, Statut
from dossiers.domain.rapport import qr_payload, rapport_digest
from dossiers.domain.formatting import date_longue, siret_lisible
from dossiers.errors import RapportError

__all__ = [
    "FONT_CANDIDATES", "RapportError", "find_fonts", "qr_payload", "rapport_controle", "rapport_digest", "QrCode",
    "register_fonts", "report_styles", "numbered_canvas",
]

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/truetype/liberation2"),
             Path("/usr/share/fonts/truetype/liberation"))
# (regular, bold, monospace) file names, first complete set found wins
FONT_CANDIDATES = (
    ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono.ttf"),
    ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf", "LiberationMono-Regular.ttf"),
)
STATUT_DOSSIER = {DossierStatut.COMPLET: "Complet", DossierStatut.A_VERIFIER: "À vérifier",
                  DossierStatut.INCOMPLET: "Incomplet"}
STATUT_PIECE = {Statut.VALIDE: "Valide", Statut.INVALIDE: "Invalide", Statut.A_VERIFIER: "À vérifier"}
SEVERITE = {Severity.ERREUR: "Erreur", Severity.ALERTE: "Alerte"}
NATURE = {"publique": "Publique", "privee": "Privée"}
GREEN, ORANGE, RED = colors.HexColor("#18753c"), colors.HexColor("#b34000"), colors.HexColor("#ce0500")
COULEUR = {DossierStatut.COMPLET: GREEN, DossierStatut.A_VERIFIER: ORANGE, DossierStatut.INCOMPLET: RED,
           Statut.VALIDE: GREEN, Statut.A_VERIFIER: ORANGE, Statut.INVALIDE: RED,
           Severity.ERREUR: RED, Severity.ALERTE: ORANGE}
LIGHT, RULE = colors.HexColor("#f3f3f6"), colors.HexColor("#c8c8d0")


def find_fonts(dirs: Sequence[Path] = FONT_DIRS) -> tuple[Path, Path, Path]:
    """The (regular, bold, mono) files of the first complete set of FONT_CANDIDATES found in ``dirs``."""
    for names in FONT_CANDIDATES:
        paths = [next((d / n for d in dirs if (d / n).is_file()), None) for n in names]
        if all(paths):
            return paths[0], paths[1], paths[2]  # type: ignore[return-value]
    wanted = " ou ".join(", ".join(n) for n in FONT_CANDIDATES)
    raise RapportError(
        f"aucune police TrueType utilisable pour le rapport ({wanted}) dans "
        f"{', '.join(map(str, dirs))} : installer le paquet Debian fonts-dejavu-core"
    )


@cache
def register_fonts() -> tuple[str, str, str]:
    """Register the fonts once per process; their (regular, bold, mono) names for reportlab."""
    names = ("Conum-Sans", "Conum-Sans-Bold", "Conum-Mono")
    for name, path in zip(names, find_fonts(), strict=True):
        pdfmetrics.registerFont(TTFont(name, str(path)))
    return names


class QrCode(Flowable):
    """A QR code drawn as ONE filled path: a rectangle per horizontal run of dark modules."""

    def __init__(self, payload: str, size: float) -> None:
        super().__init__()
        self.matrix = segno.make(payload, error="m", micro=False).matrix
        self.size = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        count = len(self.matrix)
        module = self.size / count
        path = self.canv.beginPath()
        for row_index, row in enumerate(self.matrix):
            y = self.size - (row_index + 1) * module
            start = None
            for col, dark in enumerate((*row, 0)):
                if dark and start is None:
                    start = col
                elif not dark and start is not None:
                    path.rect(start * module, y, (col - start) * module, module)
                    start = None
        self.canv.setFillColor(colors.black)
        self.canv.drawPath(path, stroke=0, fill=1)


def numbered_canvas(footer: str, pdf_date: str) -> type[Canvas]:
    class NumberedCanvas(Canvas):
        """Holds pages back until the end, to print "page X / Y" once Y is known."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []
            self.setDateFormatter(lambda *_: pdf_date)

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                regular = register_fonts()[0]
                self.setFont(regular, 7.5)
                self.setFillColor(colors.grey)
                self.drawString(18 * mm, 10 * mm, footer)
                self.drawRightString(A4[0] - 18 * mm, 10 * mm, f"page {number} / {total}")
                super().showPage()
            super().save()

    return NumberedCanvas


def report_styles() -> dict[str, ParagraphStyle]:
    regular, bold, _ = register_fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=11.5)
    return {
        "base": base,
        "title": ParagraphStyle("title", base, fontName=bold, fontSize=16, leading=20, spaceAfter=2),
        "subtitle": ParagraphStyle("subtitle", base, textColor=colors.grey, spaceAfter=8),
        "h2": ParagraphStyle("h2", base, fontName=bold, fontSize=11.5, leading=14, spaceBefore=10, spaceAfter=4),
        "key": ParagraphStyle("key", base, textColor=colors.HexColor("#555560")),
        "value": ParagraphStyle("value", base, fontName=bold),
        "cell": ParagraphStyle("cell", base, fontSize=8, leading=10),
        "head": ParagraphStyle("head", base, fontName=bold, fontSize=8, leading=10),
        "finding": ParagraphStyle("finding", base, fontSize=8, leading=10, leftIndent=8),
        "small": ParagraphStyle("small", base, fontSize=7, leading=8.5, textColor=colors.grey),
    }


def _colored(text: str, key: object, bold: str) -> str:
    return f'<font name="{bold}" color="{COULEUR[key].hexval()}">{escape(text)}</font>'  # type: ignore[index]


def _summary(
    view: DossierView, when: datetime, digest: str, payload: str, st: dict[str, ParagraphStyle]
) -> list[Flowable]:
    _, bold, mono = register_fonts()
    d = view.dossier
    rows = [
        ("Structure", escape(d.denomination)),
        ("SIRET", siret_lisible(d.siret)),
        ("Nature", NATURE.get(d.nature, d.nature.capitalize())),
        ("Département", escape(d.departement)),
        ("Représentant légal", escape(d.representant)),
        ("Dossier", escape(d.id)),
        ("Rapport établi le", f"{date_longue(when.date())} à {when:%H:%M:%S} (heure de Paris)"),
        ("Statut du dossier", _colored(STATUT_DOSSIER[view.statut], view.statut, bold)),
    ]
    facts = Table([[Paragraph(k, st["key"]), Paragraph(v, st["value"])] for k, v in rows],
                  colWidths=[34 * mm, 98 * mm], hAlign="LEFT")
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5), ("TOPPADDING", (0, 0), (-1, -1), 1.5)]))
    header = Table([[facts, QrCode(payload, 34 * mm)]], colWidths=[137 * mm, 37 * mm], hAlign="LEFT")
    header.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                                ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    return [
        header,
        Paragraph(f'Empreinte SHA-256 : <font name="{mono}">{digest}</font>', ParagraphStyle(
            "digest", st["small"], textColor=colors.black, fontSize=7.5, alignment=2, spaceBefore=2)),
        Paragraph("Empreinte calculée sur les données du dossier (JSON canonique) et la date d'émission ; "
                  "le QR code porte l'identifiant du dossier, cette date et cette empreinte.",
                  ParagraphStyle("note", st["small"], alignment=2)),
    ]


def _counts(view: DossierView) -> str:
    pieces = view.courantes + view.extra
    by = {s: sum(1 for p in pieces if p.retenu is s) for s in Statut}
    return (f"{len(pieces)} pièce(s) reçue(s) : {by[Statut.VALIDE]} valide(s), {by[Statut.A_VERIFIER]} à vérifier, "
            f"{by[Statut.INVALIDE]} invalide(s) ; {len(view.manquantes)} pièce(s) manquante(s) ; "
            f"{len(view.pieces)} envoi(s) au total, historique compris.")


def _missing(view: DossierView, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    title = Paragraph(f"Pièces manquantes ({len(view.manquantes)})", st["h2"])
    if not view.manquantes:
        return [title, Paragraph("Aucune pièce manquante.", st["base"])]
    items = [ListItem(Paragraph(escape(r.label), st["base"]), leftIndent=12) for r in view.manquantes]
    return [title, ListFlowable(items, bulletType="bullet", start="•", bulletFontName=register_fonts()[0],
                                bulletFontSize=9, bulletOffsetY=-1.5, leftIndent=12)]


def _pieces(view: DossierView, st: dict[str, ParagraphStyle]) -> list[Flowable]:
    _, bold, mono = register_fonts()
    current = view.courantes + view.extra
    title = Paragraph(f"Pièces reçues ({len(current)})", st["h2"])
    if not current:
        return [title, Paragraph("Aucune pièce reçue.", st["base"])]
    conseillers = dict(view.dossier.postes_occupes)
    extra_ids = {p.id for p in view.extra}
    rows: list[list[Any]] = [[Paragraph(h, st["head"]) for h in ("Pièce", "Poste", "Fichier", "Statut", "SHA-256")]]
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), LIGHT), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, RULE), ("FONTNAME", (0, 0), (-1, -1), register_fonts()[0]),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    for piece in current:
        rows.append(_piece_row(piece, piece.id in extra_ids, conseillers, st, bold, mono))
        first = len(rows) - 1
        style.append(("LINEABOVE", (0, first), (-1, first), 0.4, RULE))
        for finding in piece.findings:
            rows.append([Paragraph(
                f"{_colored(SEVERITE[finding.severity], finding.severity, bold)} — {escape(finding.message)} "
                f'<font name="{mono}" size="6.5" color="#707078">{escape(str(finding.code))}</font>',
                st["finding"]), "", "", "", ""])
            style += [("SPAN", (0, len(rows) - 1), (-1, len(rows) - 1)),
                      ("TOPPADDING", (0, len(rows) - 1), (-1, len(rows) - 1), 0.5)]
        if piece.decision is not None:  # the human decision, beside what the machine saw
            rows.append([Paragraph(f'<font name="{bold}">Décision de l\'instructeur</font> — {escape(piece.decision.texte())}',
                                   st["finding"]), "", "", "", ""])
            style += [("SPAN", (0, len(rows) - 1), (-1, len(rows) - 1)),
                      ("TOPPADDING", (0, len(rows) - 1), (-1, len(rows) - 1), 0.5)]
        if len(rows) - 1 > first:  # a piece, its findings and its decision stay on one page
            style.append(("NOSPLIT", (0, first), (-1, len(rows) - 1)))
    table = Table(rows, colWidths=[52 * mm, 28 * mm, 44 * mm, 20 * mm, 30 * mm], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(style))
    return [title, table]


def _piece_row(piece: PieceRecord, extra: bool, conseillers: dict[str, str], st: dict[str, ParagraphStyle],
               bold: str, mono: str) -> list[Any]:
    label = escape(PIECE_LABELS[piece.kind]) + (" <i>(non exigée)</i>" if extra else "")
    poste = "—"
    if piece.poste_id:
        poste = escape(piece.poste_id) + (f"<br/>{escape(conseillers[piece.poste_id])}"
                                          if piece.poste_id in conseillers else "")
    short = f"{piece.sha256[:12]}…" if len(piece.sha256) > 12 else piece.sha256
    return [Paragraph(label, st["cell"]), Paragraph(poste, st["cell"]),
            Paragraph(escape(piece.filename or "(sans nom)"), st["cell"]),
            Paragraph(_colored(STATUT_PIECE[piece.retenu], piece.retenu, bold)
                      + (" <i>(décision)</i>" if piece.retenu is not piece.statut else ""), st["cell"]),
            Paragraph(f'<font name="{mono}">{short}</font>', st["cell"])]


def rapport_controle(view: DossierView, *, generated_at: datetime) -> bytes:
    """The PDF rapport de contrôle of ``view`` as of ``generated_at`` (timezone-aware)."""
    digest = rapport_digest(view, generated_at)
    payload = qr_payload(view, generated_at)
    when = generated_at.astimezone(PARIS)
    st = report_styles()
    d = view.dossier
    story: Sequence[Flowable] = [
        Paragraph("Rapport de contrôle du dossier", st["title"]),
        Paragraph("Programme Conseiller numérique — pièces justificatives, à l'attention de l'instructeur",
                  st["subtitle"]),
        *_summary(view, when, digest, payload, st),
        Spacer(1, 4),
        Paragraph(_counts(view), st["base"]),
        *_missing(view, st),
        *_pieces(view, st),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=18 * mm,
        title=f"Rapport de contrôle — {d.id}", author="conum — programme Conseiller numérique",
        subject=f"Contrôle des pièces du dossier {d.id} ({d.denomination}, SIRET {d.siret})",
        creator="conum", keywords=["rapport de contrôle", d.id, digest], lang="fr-FR", invariant=1,
    )  # fmt: skip
    pdf_date = "D:" + generated_at.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "+00'00'"
    footer = f"Rapport de contrôle — {d.id} — {date_longue(when.date())} {when:%H:%M}"
    doc.build(list(story), canvasmaker=numbered_canvas(footer, pdf_date))
    return out.getvalue()
