"""The export writers, read back as a spreadsheet user would: CSV with the csv module (``;``, BOM
stripped), XLSX with openpyxl (typed cells, formats, header)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from dossiers.services.exports import Colonne, Table, Type, guard, render, to_csv, to_xlsx

COLONNES = (Colonne("Convention"), Colonne("Date de début", Type.DATE), Colonne("Émise le", Type.DATETIME),
            Colonne("Montant", Type.MONTANT), Colonne("Version", Type.ENTIER))
HOSTILE = ["=HYPERLINK(\"http://x\";\"clic\")", "+33 1 23", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "ok=1"]


def rows() -> list[list[object]]:
    return [
        ["CN-V2-STR-000001", date(2024, 1, 31), datetime(2026, 7, 1, 22, 30, tzinfo=UTC), Decimal("1234.5"), 1],
        ["Emmaüs « Connect »; ligne\nsuivante", date(2021, 11, 1), None, Decimal("-9417.81"), 2],
        *[[text, None, None, Decimal("0"), None] for text in HOSTILE],
    ]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 avec BOM"
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline=""), delimiter=";"))


def test_csv_is_french_excel_csv() -> None:
    data = to_csv(Table("essai", COLONNES, iter(rows())))
    assert data.endswith(b"\r\n") and data.count(b"\r\n") == len(rows()) + 1  # CRLF ends each row
    got = read_csv(data)
    assert got[0] == ["Convention", "Date de début", "Émise le", "Montant", "Version"]
    assert got[1] == ["CN-V2-STR-000001", "31/01/2024", "02/07/2026 00:30:00", "1234,50", "1"]  # Paris time
    assert got[2] == ["Emmaüs « Connect »; ligne\nsuivante", "01/11/2021", "", "-9417,81", "2"]  # a number: no '


def test_csv_cells_that_a_spreadsheet_would_run_are_prefixed() -> None:
    got = read_csv(to_csv(Table("essai", COLONNES, iter(rows()))))
    texts = [r[0] for r in got[3:]]
    assert texts == ["'" + t for t in HOSTILE[:-1]] + ["ok=1"]
    assert guard("=1") == "'=1" and guard("1=1") == "1=1"


def test_xlsx_cells_are_typed_and_formatted() -> None:
    wb = load_workbook(io.BytesIO(to_xlsx(Table("essai", COLONNES, iter(rows())))))
    ws = wb["essai"]
    assert ws.freeze_panes == "A2"
    assert [c.value for c in ws[1]] == [c.titre for c in COLONNES] and all(c.font.b for c in ws[1])
    assert ws.column_dimensions["A"].width >= 12
    a, d, t, m, v = ws[2]
    assert a.value == "CN-V2-STR-000001"
    assert d.value == datetime(2024, 1, 31) and d.number_format == "DD/MM/YYYY" and d.is_date
    assert t.value == datetime(2026, 7, 2, 0, 30) and t.is_date  # Paris wall time
    assert m.value == 1234.5 and m.data_type == "n" and "€" in m.number_format and "#,##0.00" in m.number_format
    assert v.value == 1 and v.data_type == "n"
    assert ws.cell(3, 4).value == -9417.81
    assert ws.cell(3, 1).value == "Emmaüs « Connect »; ligne\nsuivante"


def test_xlsx_text_is_never_a_formula_and_control_characters_go() -> None:
    table = Table("essai", COLONNES, iter([[t, None, None, None, None] for t in [*HOSTILE, "a\x00b\x1bc", "x" * 40_000]]))
    ws = load_workbook(io.BytesIO(to_xlsx(table)))["essai"]
    cells = [ws.cell(r, 1) for r in range(2, ws.max_row + 1)]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells] == [*HOSTILE, "abc", "x" * 32_767]  # Excel's limit per cell


def test_render_counts_the_rows_and_names_the_file() -> None:
    done = render(Table("conventions", COLONNES, iter(rows())), "xlsx", today=date(2026, 12, 7))
    assert (done.filename, done.lignes) == ("conventions-2026-12-07.xlsx", len(rows()))
    assert done.media_type.startswith("application/vnd.openxmlformats")
    assert done.detail()["lignes"] == len(rows()) and len(done.detail()["sha256"]) == 64


def test_a_bad_row_is_refused_not_shifted() -> None:
    with pytest.raises(ValueError):
        to_csv(Table("essai", COLONNES, iter([["trop court"]])))


def test_rows_are_read_once_as_they_are_written() -> None:
    """A builder's generator is consumed by the writer, row by row (never listed first): the writer stops at a bad
    row without pulling the next one, for both formats."""
    def lignes():  # type: ignore[no-untyped-def]
        for i in range(3):
            yield [f"L{i}", None, None, Decimal(i), i]
        yield ["trop court"]
        raise AssertionError("une ligne lue après la ligne refusée : les lignes ont été listées d'abord")

    for write in (to_csv, to_xlsx):
        with pytest.raises(ValueError):
            write(Table("essai", COLONNES, lignes()))
