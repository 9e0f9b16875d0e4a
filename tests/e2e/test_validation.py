"""Pieces as a portal uploads them, through the whole path: inspection in limited child processes,
checks, storage and catalog. Every finding code of the issue is produced here from a real file."""

from __future__ import annotations

import dataclasses
import io
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from dossiers.adapters.antivirus import MemoryScanner
from dossiers.adapters.inspection import Inspector
from dossiers.bootstrap import App
from dossiers.domain.dossier import DossierStatut
from dossiers.domain.findings import FindingCode, Statut
from dossiers.domain.pieces import Contexte, PieceKind
from dossiers.errors import DossierError
from dossiers.services.validation import (
    QUARANTINE_PREFIX,
    add_piece,
    open_dossier,
    piece_key,
    validate_file,
    validate_piece,
    view_dossier,
)
from dossiers.settings import Settings
from tests.factories import example
from tests.hostile import stream, text_pdf
from tests.fixtures.contrat import contrat_pdf
from tests.fixtures.identite import cni_ancienne, identite_image, identite_pdf, td1, td3
from tests.fixtures.rib import rib_pdf
from tests.fixtures.sirene import avis_sirene_pdf

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SIREN, SIRET = "215903501", "21590350100017"  # Commune de Roubaix (examples/demandes)
CTX = Contexte(today=TODAY, siret=SIRET, nature="publique", denomination="Commune de Roubaix",
               representant="Guillaume Delbar", conseiller="Inès Témoin-Lefèvre")
VIRUS = b"conum-test-virus-signature"


@pytest.fixture(scope="module")
def inspector() -> Iterator[Inspector]:
    with Inspector(workers=2, timeout=2.0) as shared:
        yield shared


@pytest.fixture
def app(tmp_path: Path, inspector: Inspector) -> Iterator[App]:
    settings = Settings(var_dir=tmp_path / "var", piece_max_mb={"rib": 0.5})
    with App(settings, inspector=inspector, scanner=MemoryScanner({VIRUS: "Conum.Test.Virus"})) as application:
        yield application


def avis(**changes: object) -> bytes:
    fields: dict = {"siren": SIREN, "siret": SIRET, "denomination": "COMMUNE DE ROUBAIX", "date_avis": date(2026, 11, 2)}
    return avis_sirene_pdf(**(fields | changes))


def mrz_cnie(**changes: object) -> str:
    fields: dict = {"surname": "DELBAR", "given_names": "GUILLAUME", "number": "X4RTBPFW4", "sex": "M",
                    "birth_date": date(1971, 5, 4), "expiry": date(2031, 2, 10)}
    return td1(**(fields | changes))


def encrypted(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def with_javascript(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(data))
    action = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('bonjour');")})
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def big_stream_pdf(megabytes: int) -> bytes:
    """A small file whose one content stream inflates to ``megabytes`` of text operators."""
    body = zlib.compress(b"BT /F1 1 Tf (a) Tj ET\n" * (megabytes * 1_000_000 // 22), 9)
    return text_pdf(contents=stream(b"/Filter /FlateDecode", body))


def png_bytes() -> bytes:
    return identite_image(mrz=None, fmt="PNG", width=800, height=520)


Case = tuple[str, PieceKind, Callable[[], bytes], Contexte, str | None]
C = CTX
CASES: list[Case] = [
    ("FORMAT_NON_AUTORISE", PieceKind.SIRENE, png_bytes, C, "avis.png"),
    ("FORMAT_INCOHERENT", PieceKind.SIRENE, avis, C, "avis.jpg"),
    ("FICHIER_VIDE", PieceKind.SIRENE, lambda: b"", C, "avis.pdf"),
    ("FICHIER_TROP_GROS", PieceKind.RIB, lambda: rib_pdf(titulaire="COMMUNE DE ROUBAIX", iban="FR7630006000011234567890189",
                                                          bic="AGRIFRPPXXX") + b"%" * 600_000, C, "rib.pdf"),
    ("PDF_CORROMPU", PieceKind.SIRENE, lambda: avis()[:700], C, "avis.pdf"),
    ("PDF_CHIFFRE", PieceKind.SIRENE, lambda: encrypted(avis()), C, "avis.pdf"),
    ("PDF_CONTENU_ACTIF", PieceKind.SIRENE, lambda: with_javascript(avis()), C, "avis.pdf"),
    ("PDF_TROP_DE_PAGES", PieceKind.IDENTITE, lambda: identite_pdf(mrz=mrz_cnie(), pages=3), C, "cni.pdf"),
    ("TEXTE_ABSENT", PieceKind.CONTRAT, lambda: identite_pdf(mrz=None, text_layer=False), C, "contrat.pdf"),
    ("ANALYSE_INTERROMPUE", PieceKind.CONTRAT, lambda: big_stream_pdf(40), C, "contrat.pdf"),
    ("SIRENE_NON_RECONNU", PieceKind.SIRENE, lambda: contrat_pdf(date_debut=date(2026, 1, 1),
                                                                  date_fin=date(2027, 12, 31)), C, None),
    ("SIRET_INVALIDE", PieceKind.SIRENE, lambda: avis(siret="21590350100018"), C, None),
    ("SIRET_DIFFERENT", PieceKind.SIRENE, lambda: avis(siren="213300999", siret="21330099900017"), C, None),
    ("SIRENE_ETABLISSEMENT_FERME", PieceKind.SIRENE, lambda: avis(etab_actif=False), C, None),
    ("SIRENE_AVIS_PERIME", PieceKind.SIRENE, lambda: avis(date_avis=date(2026, 8, 25)), C, None),
    ("SIRENE_NATURE_INCOHERENTE", PieceKind.SIRENE, lambda: avis(categorie=("9220", "Association déclarée")), C, None),
    ("IDENTITE_ILLISIBLE", PieceKind.IDENTITE, lambda: identite_image(mrz=mrz_cnie(), width=320, height=200), C, None),
    ("IDENTITE_MRZ_ABSENTE", PieceKind.IDENTITE, lambda: identite_image(mrz=None), C, None),
    ("IDENTITE_MRZ_INVALIDE", PieceKind.IDENTITE, lambda: identite_pdf(mrz=mrz_cnie().replace("X4RTBPFW4", "X4RTBPFW5", 1)),
     C, None),
    ("IDENTITE_EXPIREE", PieceKind.IDENTITE, lambda: identite_pdf(mrz=td3(
        surname="DELBAR", given_names="GUILLAUME", number="09AB12345", sex="M", birth_date=date(1971, 5, 4),
        expiry=date(2025, 6, 30))), C, None),
    ("IDENTITE_NOM_DIFFERENT", PieceKind.IDENTITE, lambda: identite_pdf(mrz=mrz_cnie(surname="MARTIN")), C, None),
    ("CONTRAT_TYPE_INCONNU", PieceKind.CONTRAT, lambda: rib_pdf(titulaire="COMMUNE DE ROUBAIX",
                                                                 iban="FR7630006000011234567890189", bic=None), C, None),
    ("CONTRAT_DATE_FIN_MANQUANTE", PieceKind.CONTRAT, lambda: contrat_pdf(type="CDD", date_debut=date(2026, 1, 1)), C, None),
    ("CONTRAT_EXPIRE", PieceKind.CONTRAT, lambda: contrat_pdf(date_debut=date(2024, 1, 1), date_fin=date(2025, 12, 31)),
     C, None),
    ("CONTRAT_NON_SIGNE", PieceKind.CONTRAT, lambda: contrat_pdf(date_debut=date(2026, 1, 1), date_fin=date(2027, 12, 31),
                                                                 signature=None), C, None),
    ("RIB_IBAN_INVALIDE", PieceKind.RIB, lambda: rib_pdf(titulaire="COMMUNE DE ROUBAIX", iban="FR7630006000011234567890180",
                                                         bic="AGRIFRPPXXX"), C, None),
    ("VIRUS_DETECTE", PieceKind.RIB, lambda: b"%PDF-1.7\n" + VIRUS, C, None),
]


@pytest.mark.parametrize(("code", "kind", "make", "ctx", "filename"), CASES, ids=[c[0] for c in CASES])
def test_each_bad_piece_gets_its_finding(app: App, code: str, kind: PieceKind, make: Callable[[], bytes],
                                         ctx: Contexte, filename: str | None, tmp_path: Path) -> None:
    path = tmp_path / (filename or f"{kind}.pdf")
    path.write_bytes(make())
    result = validate_file(path, kind, ctx, app)
    assert code in [f.code for f in result.findings], result.findings
    assert result.statut is not Statut.VALIDE
    assert all(f.message and f.message[0].isupper() for f in result.findings)


def test_every_code_the_issue_names_is_exercised() -> None:
    named = {"FORMAT_NON_AUTORISE", "FORMAT_INCOHERENT", "FICHIER_VIDE", "FICHIER_TROP_GROS", "PDF_CORROMPU",
             "PDF_CHIFFRE", "PDF_CONTENU_ACTIF", "PDF_TROP_DE_PAGES", "TEXTE_ABSENT", "ANALYSE_INTERROMPUE",
             "SIRENE_NON_RECONNU", "SIRET_INVALIDE", "SIRET_DIFFERENT", "SIRENE_ETABLISSEMENT_FERME",
             "SIRENE_AVIS_PERIME", "SIRENE_NATURE_INCOHERENTE", "IDENTITE_ILLISIBLE", "IDENTITE_MRZ_ABSENTE",
             "IDENTITE_MRZ_INVALIDE", "IDENTITE_EXPIREE", "IDENTITE_NOM_DIFFERENT", "CONTRAT_TYPE_INCONNU",
             "CONTRAT_DATE_FIN_MANQUANTE", "CONTRAT_EXPIRE", "CONTRAT_NON_SIGNE", "RIB_IBAN_INVALIDE", "VIRUS_DETECTE"}
    assert named <= set(FindingCode) and named == {c[0] for c in CASES}


def test_good_pieces_are_valid_with_their_fields(app: App) -> None:
    sirene = validate_piece(avis(), PieceKind.SIRENE, CTX, app, filename="avis.pdf")
    assert sirene.statut is Statut.VALIDE, sirene.findings
    assert sirene.mime == "application/pdf"
    assert {"siren": SIREN, "siret": SIRET, "categorie_juridique": "7210", "date_avis": "2026-11-02",
            "etat_etablissement": "actif"}.items() <= sirene.fields.items()
    cni = validate_piece(identite_image(mrz=None), PieceKind.IDENTITE, dataclasses.replace(CTX, mrz=mrz_cnie()), app)
    assert cni.statut is Statut.VALIDE, cni.findings
    assert cni.fields["expiry"] == "2031-02-10" and "X4RTBPFW4" not in str(cni.fields)
    contrat = validate_piece(contrat_pdf(date_debut=date(2026, 1, 1), date_fin=date(2027, 12, 31),
                                         signature="numerique"), PieceKind.CONTRAT, CTX, app)
    assert contrat.statut is Statut.VALIDE, contrat.findings
    assert contrat.fields["type"] == "CDD" and contrat.fields["date_fin"] == "2027-12-31"
    rib = validate_piece(rib_pdf(titulaire="COMMUNE DE ROUBAIX", iban="FR7630006000011234567890189",
                                 bic="AGRIFRPPXXX"), PieceKind.RIB, CTX, app)
    assert rib.statut is Statut.VALIDE, rib.findings


def test_an_old_cni_issued_in_2005_to_an_adult_is_still_valid_in_2019_but_not_in_2021(app: App) -> None:
    zone = cni_ancienne(surname="DELBAR", given_names="GUILLAUME", issue=date(2005, 3, 1), birth_date=date(1971, 5, 4))
    piece = identite_pdf(mrz=zone)
    ok = validate_piece(piece, PieceKind.IDENTITE, Contexte(today=date(2019, 6, 1), representant="Guillaume Delbar"), app)
    late = validate_piece(piece, PieceKind.IDENTITE, Contexte(today=date(2021, 6, 1), representant="Guillaume Delbar"), app)
    assert ok.statut is Statut.VALIDE, ok.findings
    assert [f.code for f in late.findings] == [FindingCode.IDENTITE_EXPIREE]


def test_a_dossier_collects_its_pieces_and_says_what_is_missing(app: App) -> None:
    dossier = open_dossier(example("commune-qpv-3-postes.json"), app)
    assert dossier.id == "DOS-V2-STR-000123"
    first = view_dossier(dossier.id, app)
    assert first.statut is DossierStatut.INCOMPLET and len(first.manquantes) == 6  # 4 pieces + 2 postes occupés

    sent = avis()
    added = add_piece(dossier.id, sent, PieceKind.SIRENE, app, now=NOW, filename="../../etc/avis.pdf")
    assert added.statut is Statut.VALIDE and added.filename == "avis.pdf"
    assert app.pieces_storage.get(piece_key(dossier.id, added.sha256), sha256=added.sha256) == sent
    again = add_piece(dossier.id, sent, PieceKind.SIRENE, app, now=NOW, filename="avis.pdf")
    assert again.id == added.id  # the same bytes again: the same piece, nothing duplicated

    with pytest.raises(DossierError, match="P-3"):  # P-3 is vacant: no contrat expected
        add_piece(dossier.id, contrat_pdf(date_debut=date(2026, 1, 1)), PieceKind.CONTRAT, app, now=NOW, poste_id="P-3")
    cdi = contrat_pdf(type="CDI", salarie="Mohamed Benali", civilite="M.", date_debut=date(2023, 9, 1))
    contrat = add_piece(dossier.id, cdi, PieceKind.CONTRAT, app, now=NOW, poste_id="P-2")
    assert contrat.statut is Statut.VALIDE, contrat.findings

    view = view_dossier(dossier.id, app)
    assert view.statut is DossierStatut.INCOMPLET
    assert [(r.kind, r.poste_id) for r in view.manquantes] == [
        (PieceKind.DESIGNATION, None), (PieceKind.IDENTITE, None), (PieceKind.RIB, None), (PieceKind.CONTRAT, "P-1")]


def test_an_infected_file_is_quarantined_and_not_stored_with_the_dossier(app: App) -> None:
    dossier = open_dossier(example("commune-qpv-3-postes.json"), app)
    data = b"%PDF-1.7\n" + VIRUS
    piece = add_piece(dossier.id, data, PieceKind.RIB, app, now=NOW)
    assert [f.code for f in piece.findings] == [FindingCode.VIRUS_DETECTE]
    assert piece.storage_key == QUARANTINE_PREFIX + piece.sha256
    assert app.pieces_storage.exists(piece.storage_key)
    assert not app.pieces_storage.exists(piece_key(dossier.id, piece.sha256))
    assert view_dossier(dossier.id, app).courantes[0].statut is Statut.INVALIDE


def test_a_dossier_id_is_safe_and_stays_with_its_structure(app: App) -> None:
    with pytest.raises(DossierError, match="invalide"):
        open_dossier(example("commune-qpv-3-postes.json"), app, dossier_id="../x")
    open_dossier(example("commune-qpv-3-postes.json"), app, dossier_id="DOS-1")
    with pytest.raises(DossierError, match="structure"):
        open_dossier(example("association-1-poste.json"), app, dossier_id="DOS-1")
