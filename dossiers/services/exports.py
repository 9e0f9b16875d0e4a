"""Exports of lists as files a spreadsheet opens right: CSV the French way and XLSX with typed cells.

The API, in three parts:

    Colonne(titre, type)       a column: its French title and its type, one of ``Type``
                               (texte, date, datetime, montant, entier); ``largeur`` in XLSX characters
    Table(nom, colonnes, lignes)
                               ``nom`` is the file's stem and the sheet's title; ``lignes`` an iterable of
                               sequences (one value per column: str, date, aware datetime, Decimal, int or
                               None), read once, row by row: a builder gives a generator that pages through
                               the catalog, so an export holds one page of rows at a time, never the list
    to_csv(table) -> bytes     ``;`` separator, decimal comma (``1234,50``, no thousands separator),
    to_xlsx(table) -> bytes    dates ``JJ/MM/AAAA``, UTF-8 with BOM, CRLF · typed cells: dates as dates
                               (``DD/MM/YYYY``), amounts as numbers (``#,##0.00 "€"``), bold frozen header
    render(table, fmt, today=) ``Fichier(data, media_type, filename, lignes)`` for ``fmt`` in ``FORMATS``

One builder per export returns a ``Table`` (nothing is read before the writer iterates its rows):
``conventions_table`` (the filters of ``GET /v1/conventions``, within the caller's départements),
``audit_table`` (the audit log, newest first) and ``plan_table`` (a re-issue plan's conventions, within
the caller's départements). Another export is one more builder: columns, and a generator of rows,
e.g. the « à traiter » queue::

    A_TRAITER = (Colonne("Nature"), Colonne("Convention"), Colonne("Département"), Colonne("Depuis le", Type.DATE))

    def a_traiter_table(app, *, departements, today) -> Table:
        def lignes():
            ...  # page through the queue (oldest first), yield one list of values per item
        return Table("a-traiter", A_TRAITER, lignes())

then one route per entrypoint, each a few lines: ``routes_exports`` (``_deliver(request, trail, table,
fmt)`` inside ``audited``), ``pages_exports`` (``_deliver(request, agent, action, …, build, fmt)``),
``cli_exports`` (``_write(lambda app: table, fmt, out, as_json)``).

Safe to open: a text cell that a spreadsheet would read as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) is prefixed with ``'`` in the CSV; amounts and integers are
numbers and never prefixed. In the XLSX every text cell is written as a string (openpyxl would write
``=…`` as a formula otherwise), without the control characters XML cannot hold, cut at Excel's
32 767 characters. Instants are shown
in Paris time (Excel has no time zones). Time is never read here: callers pass ``today``/``now``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from dossiers.clock import PARIS
from dossiers.domain.acces import ConventionStatut
from dossiers.domain.reemission import ItemStatut
from dossiers.errors import ConumError, ErrorCode
from dossiers.ports import AppPorts

__all__ = ["Type", "Colonne", "Table", "to_csv", "to_xlsx", "render", "Fichier", "FORMATS", "MEDIA_TYPES",
           "a_traiter_table",
           "conventions_table", "audit_table", "plan_table", "guard", "PAGE"]

PAGE = 100  # rows read from the catalog at a time (the conventions search's own maximum)
CENT = Decimal("0.01")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_MAX_TEXT = 32_767  # Excel's limit for a cell: a longer text makes it "repair" the file
EURO_FORMAT = '#,##0.00 "€"'
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM:SS"
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
STATUTS = {"a_signer": "À signer", "signee": "Signée", "archivee": "Archivée"}
ITEMS = {ItemStatut.A_FAIRE: "À faire", ItemStatut.EMISE: "Émise", ItemStatut.OBSOLETE: "Obsolète",
         ItemStatut.ECHEC: "Échec"}
NATURES = {"publique": "Publique", "privee": "Privée"}


class Type(StrEnum):
    TEXTE = "texte"
    DATE = "date"
    DATETIME = "datetime"
    MONTANT = "montant"
    ENTIER = "entier"


@dataclass(frozen=True)
class Colonne:
    titre: str
    type: Type = Type.TEXTE
    largeur: int | None = None  # XLSX column width in characters (default from the type)


@dataclass(frozen=True)
class Table:
    nom: str
    colonnes: tuple[Colonne, ...]
    lignes: Iterable[Sequence[Any]]


# -- cells ------------------------------------------------------------------------------------------

def guard(text: str) -> str:
    """A text a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _local(value: datetime) -> datetime:
    """Paris wall time, naive (what a spreadsheet shows); a naive value is taken as UTC already."""
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS).replace(tzinfo=None)


def _decimal(value: Any) -> Decimal:
    return (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(CENT)


def _csv_cell(value: Any, kind: Type) -> str:
    if value is None:
        return ""
    if kind is Type.MONTANT:
        return f"{_decimal(value):.2f}".replace(".", ",")
    if kind is Type.ENTIER:
        return str(int(value))
    if kind is Type.DATETIME and isinstance(value, datetime):
        return f"{_local(value):%d/%m/%Y %H:%M:%S}"
    if kind is Type.DATE and isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return guard(str(value))


def to_csv(table: Table) -> bytes:
    """The table as CSV for a French spreadsheet (Excel fr-FR, LibreOffice): see the module's docstring."""
    out = io.BytesIO()
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")  # the BOM, then UTF-8 bytes as rows come
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([guard(c.titre) for c in table.colonnes])
    kinds = [c.type for c in table.colonnes]
    for row in table.lignes:
        writer.writerow([_csv_cell(v, k) for v, k in zip(row, kinds, strict=True)])
    text.flush()
    return out.getvalue()


_WIDTHS = {Type.TEXTE: 24, Type.DATE: 12, Type.DATETIME: 20, Type.MONTANT: 16, Type.ENTIER: 10}
_FORMATS = {Type.DATE: DATE_FORMAT, Type.DATETIME: DATETIME_FORMAT, Type.MONTANT: EURO_FORMAT, Type.ENTIER: "0"}


def to_xlsx(table: Table) -> bytes:
    """The table as one sheet of a write-only workbook (rows streamed to a temporary file by openpyxl)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=_XML_ILLEGAL.sub("", table.nom)[:31] or "export")
    for i, c in enumerate(table.colonnes, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.largeur or max(_WIDTHS[c.type], len(c.titre) + 2)
    ws.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for c in table.colonnes:
        cell = WriteOnlyCell(ws, value=_XML_ILLEGAL.sub("", c.titre))
        cell.data_type, cell.font = "s", bold
        header.append(cell)
    ws.append(header)
    kinds = [c.type for c in table.colonnes]
    for row in table.lignes:
        ws.append([_xlsx_cell(ws, WriteOnlyCell, v, k) for v, k in zip(row, kinds, strict=True)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _xlsx_cell(ws: Any, make: Any, value: Any, kind: Type) -> Any:
    if value is None:
        return None
    if kind is Type.MONTANT:
        cell = make(ws, value=_decimal(value))
    elif kind is Type.ENTIER:
        cell = make(ws, value=int(value))
    elif kind is Type.DATETIME and isinstance(value, datetime):
        cell = make(ws, value=_local(value))
    elif kind is Type.DATE and isinstance(value, date):
        cell = make(ws, value=value.date() if isinstance(value, datetime) else value)
    else:
        cell = make(ws, value=_XML_ILLEGAL.sub("", str(value))[:XLSX_MAX_TEXT])
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell
    cell.number_format = _FORMATS[kind]
    return cell


FORMATS = {"csv": to_csv, "xlsx": to_xlsx}


@dataclass(frozen=True)
class Fichier:
    """A rendered export: its bytes, media type, file name ``<nom>-<AAAA-MM-JJ>.<fmt>`` and row count."""

    data: bytes
    media_type: str
    filename: str
    lignes: int

    def detail(self) -> dict[str, Any]:
        """What the audit log keeps of a download."""
        import hashlib

        return {"filename": self.filename, "lignes": self.lignes, "size": len(self.data),
                "sha256": hashlib.sha256(self.data).hexdigest()}


def render(table: Table, fmt: str, *, today: date) -> Fichier:
    """``table`` written in ``fmt`` (a key of ``FORMATS``)."""
    count = 0

    def counted() -> Iterator[Sequence[Any]]:
        nonlocal count
        for row in table.lignes:
            count += 1
            yield row

    data = FORMATS[fmt](Table(table.nom, table.colonnes, counted()))
    return Fichier(data, MEDIA_TYPES[fmt], f"{table.nom}-{today.isoformat()}.{fmt}", count)


# -- builders -----------------------------------------------------------------------------------------

CONVENTIONS = (
    Colonne("Convention", largeur=26), Colonne("Département", largeur=12), Colonne("Structure", largeur=20),
    Colonne("SIRET", largeur=16), Colonne("Dénomination", largeur=40), Colonne("Nature", largeur=10),
    Colonne("Vague", Type.ENTIER, 8), Colonne("Date de début", Type.DATE), Colonne("Version", Type.ENTIER, 9),
    Colonne("Document", largeur=14), Colonne("Motif", largeur=24), Colonne("Montant total", Type.MONTANT),
    Colonne("Version émise le", Type.DATETIME), Colonne("Statut", largeur=10),
)


def conventions_table(app: AppPorts, *, departements: tuple[str, ...] = (), departement: str | None = None,
                      statut: ConventionStatut | None = None, nature: str | None = None, vague: int | None = None,
                      q: str | None = None, page: int = PAGE) -> Table:
    """The conventions ``search_conventions`` finds with these filters within ``departements`` (the
    caller's scope; empty: all), ordered by id, read ``page`` at a time."""

    def lignes() -> Iterator[list[Any]]:
        offset = 0
        while True:
            total, found = app.catalog.search_conventions(
                departements=departements, departement=departement, statut=statut, nature=nature, vague=vague,
                q=q, limit=page, offset=offset)
            for c in found:
                yield [c.id, c.departement, c.structure_id, c.siret, c.denomination, NATURES.get(str(c.nature), c.nature),
                       c.vague, c.date_debut, c.version, c.document_type, c.motif, c.montant_total,
                       c.version_created_at, STATUTS.get(str(c.statut), str(c.statut))]
            offset += len(found)
            if len(found) < page or offset >= total:
                return

    return Table("conventions", CONVENTIONS, lignes())


AUDIT = (
    Colonne("Numéro", Type.ENTIER), Colonne("Quand", Type.DATETIME), Colonne("Jeton", largeur=20),
    Colonne("Rôle", largeur=12), Colonne("Action", largeur=26), Colonne("Ressource", largeur=50),
    Colonne("Département", largeur=12), Colonne("Adresse", largeur=16), Colonne("Statut HTTP", Type.ENTIER, 12),
    Colonne("Détail", largeur=60),
)


def audit_table(app: AppPorts, *, token_id: str | None = None, since: datetime | None = None,
                limit: int = 10_000) -> Table:
    """The audit log as ``conum audit`` reads it: newest first, at most ``limit`` entries (10 000 at most)."""

    def lignes() -> Iterator[list[Any]]:
        for e in app.catalog.list_audit(limit=limit, token_id=token_id, since=since):
            yield [e.id, e.at, e.token_id, e.role, e.action, e.ressource, e.departement, e.adresse, e.statut_http,
                   json.dumps(e.detail, ensure_ascii=False, sort_keys=True, default=str) if e.detail else None]

    return Table("journal-audit", AUDIT, lignes())


PLAN = (
    Colonne("Convention", largeur=26), Colonne("Département", largeur=12), Colonne("Nature", largeur=10),
    Colonne("Type", largeur=16), Colonne("Version planifiée", Type.ENTIER, 18), Colonne("Dû avant", Type.MONTANT),
    Colonne("Dû après", Type.MONTANT), Colonne("Écart", Type.MONTANT), Colonne("À reverser", Type.MONTANT),
    Colonne("Postes rendus", largeur=16), Colonne("Statut", largeur=10), Colonne("Version émise", Type.ENTIER, 14),
    Colonne("Message", largeur=60),
)


def plan_table(app: AppPorts, plan_id: str, *, departements: tuple[str, ...] = ()) -> Table:
    """A re-issue plan's conventions within ``departements`` (empty: all), ordered by id, each with its
    status as the plan's page shows it (an item whose job failed after its retries: échec, with the
    job's error). Raises ``ConumError`` (``plan_introuvable``, as ``conum reissue``) for an unknown plan."""
    if len(plan_id) > 32 or app.catalog.get_plan(plan_id) is None:
        raise ConumError(f"Plan de réémission {plan_id} introuvable.", code=ErrorCode.PLAN_INTROUVABLE)

    def lignes() -> Iterator[list[Any]]:
        failed = {i.impact.convention_id: i for i in app.catalog.plan_failures(
            plan_id, departements=departements, limit=1_000_000)}
        for item in app.catalog.plan_items(plan_id):
            i = item.impact
            if departements and i.departement not in departements:
                continue
            item = failed.get(i.convention_id, item)
            yield [i.convention_id, i.departement, NATURES.get(i.nature, i.nature), i.kind, i.base_version,
                   i.du_avant, i.du_apres, i.difference, i.a_reverser, " ".join(i.postes_rendus) or None,
                   ITEMS.get(item.statut, item.statut), item.version_emise, item.message]

    return Table(f"plan-{plan_id}", PLAN, lignes())


A_TRAITER = (
    Colonne("Depuis le", Type.DATETIME), Colonne("Attente (jours)", Type.ENTIER, 15), Colonne("Genre", largeur=30),
    Colonne("Département", largeur=12), Colonne("Référence", largeur=26), Colonne("Élément", largeur=50),
    Colonne("Détail", largeur=60), Colonne("Page", largeur=40),
)


def a_traiter_table(app: AppPorts, *, departements: tuple[str, ...] = (), genre: str | None = None,
                    today: date) -> Table:
    """The « à traiter » queue within ``departements`` (empty: all), the oldest first, of one ``genre`` or all."""
    from dossiers.services.a_traiter import GENRES, elements

    def lignes() -> Iterator[list[Any]]:
        for i in elements(app, departements=departements, jour=today):
            if genre is None or i.genre == genre:
                yield [i.depuis, i.attente_jours(today), GENRES[i.genre], i.departement, i.reference, i.libelle,
                       i.detail, i.lien]

    return Table("a-traiter", A_TRAITER, lignes())
