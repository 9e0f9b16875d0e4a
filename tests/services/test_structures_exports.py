"""An admin's correction of a structure and the exports on fakes: the correction is refused without a name
and a reason, for an unknown field or an invalid SIRET, and without effect; once made it is audited with the
values before and after, the issued documents unchanged and the next version reading the corrected facts;
the conventions' and audit's CSV exports hold those rows as a French spreadsheet reads them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest

from dossiers.bootstrap import App
from dossiers.errors import ChangementRefuse, DemandeInvalide, DossierError, ErrorCode
from dossiers.services.acces import Auteur
from dossiers.services.avenants import amend
from dossiers.services.exports import audit_table, conventions_table, render, to_csv
from dossiers.services.generation import generate_convention
from dossiers.services.structures import corriger_structure
from tests.factories import demande
from tests.services.conftest import pdf_text

CID = "CN-V2-STR-000123"
NOW = datetime(2025, 4, 15, 10, 0, tzinfo=UTC)
ADMIN = Auteur("Dominique Admin")


@pytest.fixture
def app(fakes_app: App) -> App:
    generate_convention(demande(), fakes_app, today=date(2024, 1, 2), now=datetime(2024, 1, 2, tzinfo=UTC))
    generate_convention(demande(structure__id="STR-000750", structure__departement="75",
                                structure__siret="21750001600019", structure__denomination="Ville de Paris",
                                structure__adresse="1 rue de Rivoli, 75001 Paris"),
                        fakes_app, today=date(2024, 1, 3), now=datetime(2024, 1, 3, tzinfo=UTC))
    return fakes_app


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # the BOM a French Excel needs
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def test_a_correction_is_audited_and_read_by_the_next_version_only(app: App) -> None:
    before = app.catalog.get_convention(CID)
    assert before is not None
    v1_pdf = pdf_text(app, before.current)
    done = corriger_structure(app, "STR-000123", {"representant.nom": "Exemple-Martin", "adresse": "2 place de la Mairie, 33000 Exempleville"},
                              qui=ADMIN, motif="Nom d'usage de la maire", ressource="conum structure corriger", now=NOW)
    assert done.champs == ["structure.adresse", "structure.representant.nom"]
    stored = app.catalog.get_structure("STR-000123")
    assert stored is not None and stored.representant.nom == "Exemple-Martin"
    [entry] = [e for e in app.catalog.list_audit(limit=10) if e.action == "structure.corriger"]
    assert (entry.role, entry.token_id, entry.departement, entry.statut_http) == ("cli", None, "33", 200)
    assert entry.detail["par"] == "Dominique Admin" and entry.detail["motif"] == "Nom d'usage de la maire"
    assert entry.detail["avant"]["structure.representant.nom"] == "Exemple"
    assert entry.detail["apres"]["structure.representant.nom"] == "Exemple-Martin"
    assert pdf_text(app, before.current) == v1_pdf and "Exemple-Martin" not in v1_pdf  # issued: never changed
    amended = amend(CID, {"request_id": "R-1", "type": "ajout_postes", "date_effet": "2025-04-01", "nombre": 1},
                    app, today=NOW.date(), now=NOW)
    assert "Exemple-Martin" in pdf_text(app, amended.version)


def test_a_correction_without_reason_unknown_invalid_or_without_effect_is_refused(app: App) -> None:
    with pytest.raises(ChangementRefuse):
        corriger_structure(app, "STR-000123", {"denomination": "X"}, qui=ADMIN, motif=" ", ressource="cli", now=NOW)
    with pytest.raises(ChangementRefuse) as unknown:
        corriger_structure(app, "STR-000123", {"departement": "75"}, qui=ADMIN, motif="m", ressource="cli", now=NOW)
    assert "inconnu : departement" in str(unknown.value)
    with pytest.raises(DemandeInvalide) as invalid:
        corriger_structure(app, "STR-000123", {"siret": "21330099900018"}, qui=ADMIN, motif="m", ressource="cli",
                           now=NOW)
    assert [e.field for e in invalid.value.errors] == ["structure.siret"]
    with pytest.raises(ChangementRefuse) as same:
        corriger_structure(app, "STR-000123", {"denomination": "Commune d'Exempleville"}, qui=ADMIN, motif="m",
                           ressource="cli", now=NOW)
    assert same.value.code is ErrorCode.CHANGEMENT_SANS_EFFET
    with pytest.raises(DossierError) as missing:
        corriger_structure(app, "STR-404", {"denomination": "X"}, qui=ADMIN, motif="m", ressource="cli", now=NOW)
    assert missing.value.code is ErrorCode.DOSSIER_INTROUVABLE
    assert [e for e in app.catalog.list_audit(limit=10) if e.action == "structure.corriger"] == []


def test_the_conventions_export_is_scoped_and_reads_as_a_french_spreadsheet(app: App) -> None:
    rows = _rows(to_csv(conventions_table(app)))
    header, *lines = rows
    assert header[:3] == ["Convention", "Département", "Structure"] and header[-1] == "Statut"
    assert [(r[0], r[1], r[11]) for r in lines] == [
        (CID, "33", "127500,00"), ("CN-V2-STR-000750", "75", "127500,00")]  # decimal comma, ordered by id
    assert lines[0][7] == "01/01/2024" and lines[0][-1] != ""
    scoped = render(conventions_table(app, departements=("75",)), "csv", today=NOW.date())
    assert (scoped.filename, scoped.lignes) == ("conventions-2025-04-15.csv", 1)
    assert [r[0] for r in _rows(scoped.data)[1:]] == ["CN-V2-STR-000750"]


def test_the_audit_export_holds_each_row_newest_first(app: App) -> None:
    corriger_structure(app, "STR-000123", {"denomination": "Commune d'Exempleville-sur-Mer"}, qui=ADMIN,
                       motif="Fusion de communes", ressource="conum structure corriger", now=NOW)
    corriger_structure(app, "STR-000750", {"denomination": "=HYPERLINK(\"x\")"}, qui=ADMIN,
                       motif="essai", ressource="conum structure corriger", now=NOW)
    header, *lines = _rows(to_csv(audit_table(app)))
    assert header[4] == "Action" and [(r[4], r[6]) for r in lines] == [
        ("structure.corriger", "75"), ("structure.corriger", "33")]
    assert json.loads(lines[1][9])["motif"] == "Fusion de communes" and lines[1][1] == "15/04/2025 12:00:00"
    # a name a spreadsheet would run as a formula is exported as text
    assert _rows(to_csv(conventions_table(app, departements=("75",))))[1][4] == "'=HYPERLINK(\"x\")"
