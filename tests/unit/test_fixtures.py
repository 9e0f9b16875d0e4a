"""The generated pieces are realistic: pypdf reads them as the real documents, the MRZs verify."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum import luhn

from dossiers.domain.mrz import MrzFormat, parse_mrz
from dossiers.domain.sirene import Etat, parse_avis
from tests.fixtures import pdf_facts
from tests.fixtures.identite import cni_ancienne, td1, td3
from tests.fixtures.sirene import AUTHOR, TITLE, avis_sirene_pdf

SIREN = "21330099" + luhn.calc_check_digit("21330099")
SIRET = SIREN + "0001" + luhn.calc_check_digit(SIREN + "0001")
SIEGE = SIREN + "0002" + luhn.calc_check_digit(SIREN + "0002")


def test_avis_text_glues_labels_to_values_as_insee_does() -> None:
    """pypdf extracts the generated avis with labels glued to values and INSEE's metadata."""
    facts = pdf_facts(avis_sirene_pdf(siren=SIREN, siret=SIRET, denomination="COMMUNE D'EXEMPLEVILLE",
                                      date_avis=date(2024, 2, 14)))
    assert (facts.title, facts.author, facts.pages) == (TITLE, AUTHOR, 1)
    assert f"Identifiant SIREN{SIREN[:3]} {SIREN[3:6]} {SIREN[6:]}\n" in facts.text
    assert "À la date du 14/02/2024" in facts.text
    assert "Description de l'entrepriseEntreprise active depuis le 01/01/1983" in facts.text
    assert "DénominationCOMMUNE D'EXEMPLEVILLE\n" in facts.text and "AdresseHOTEL DE VILLE\n" in facts.text


def test_parse_avis_reads_every_field_of_the_generated_avis() -> None:
    """parse_avis reads back every field of a generated avis, a wrapped catégorie label included."""
    facts = pdf_facts(avis_sirene_pdf(
        siren=SIREN, siret=SIRET, siret_siege=SIEGE, denomination="CENTRE COMMUNAL D'ACTION SOCIALE DE SAINT-DENIS-EN-VAL",
        categorie=("5499", "Société à responsabilité limitée (sans autre indication)"),
        ape=("62.02A", "Conseil en systèmes et logiciels informatiques"), date_avis=date(2024, 5, 2),
        adresse=("12 RUE DE LA REPUBLIQUE", "BATIMENT B", "13002 MARSEILLE"), depuis=date(2015, 2, 1)))
    avis = parse_avis(facts.text, title=facts.title, author=facts.author)
    assert avis.metadata_ok and avis.headings_ok
    assert avis.date_avis == date(2024, 5, 2)
    assert (avis.etat_entreprise, avis.date_etat_entreprise) == (Etat.ACTIF, date(2015, 2, 1))
    assert (avis.siren, avis.siret_siege, avis.siret) == (SIREN, SIEGE, SIRET)
    assert avis.denomination == "CENTRE COMMUNAL D'ACTION SOCIALE DE SAINT-DENIS-EN-VAL"
    assert (avis.categorie_code, avis.categorie_libelle) == (
        "5499", "Société à responsabilité limitée (sans autre indication)")
    assert "Catégorie juridique5499 - Société à responsabilité limitée (sans autre\nindication)\n" in facts.text
    assert (avis.ape_code, avis.ape_libelle) == ("62.02A", "Conseil en systèmes et logiciels informatiques")
    assert (avis.etat_etablissement, avis.date_etat_etablissement) == (Etat.ACTIF, date(2015, 2, 1))
    assert avis.adresse == ("12 RUE DE LA REPUBLIQUE", "BATIMENT B", "13002 MARSEILLE")
    assert avis.code_postal == "13002"


def test_closed_avis_without_metadata() -> None:
    """A cessée entreprise with a fermé établissement re-saved without metadata reads as such."""
    facts = pdf_facts(avis_sirene_pdf(siren=SIREN, siret=SIRET, denomination="COMMUNE D'EXEMPLEVILLE",
                                      date_avis=date(2024, 2, 14), actif=False, etab_actif=False, metadata=False,
                                      ferme_le=date(2023, 12, 31)))
    avis = parse_avis(facts.text, title=facts.title, author=facts.author)
    assert not avis.metadata_ok and avis.headings_ok
    assert (avis.etat_entreprise, avis.date_etat_entreprise) == (Etat.FERME, date(2023, 12, 31))
    assert (avis.etat_etablissement, avis.date_etat_etablissement) == (Etat.FERME, date(2023, 12, 31))
    assert (avis.categorie_code, avis.categorie_libelle) == ("7210", "Commune et commune nouvelle")


@pytest.mark.parametrize(("zone", "layout"), [
    (td1(surname="Témoin-Lefèvre", given_names="Inès Marie", number="X4RTBPFW4", birth_date=date(1990, 5, 12),
         expiry=date(2031, 8, 20)), MrzFormat.TD1),
    (td3(surname="d'Artagnan", given_names="Éloïse", number="19FV12345", birth_date=date(1985, 7, 4),
         expiry=date(2029, 1, 3), sex="F"), MrzFormat.TD3),
    (cni_ancienne(surname="Berthier", given_names="Corinne", issue=date(1988, 6, 1), birth_date=date(1965, 12, 6),
                  sex="F", departement="923", bureau="123", sequence="10285"), MrzFormat.CNI_FR_ANCIENNE),
])
def test_built_zones_verify(zone: str, layout: MrzFormat) -> None:
    """The MRZ builders give zones whose every check digit verifies, names transliterated."""
    mrz = parse_mrz(zone, today=date(2024, 6, 1))
    assert mrz.format is layout and mrz.errors == ()
    assert mrz.surname in ("TEMOIN LEFEVRE", "DARTAGNAN", "BERTHIER")


def test_old_cni_builder_matches_the_published_specimen() -> None:
    """cni_ancienne rebuilds the Wikipedia specimen of the old CNI character for character."""
    zone = cni_ancienne(surname="Berthier", given_names="Corinne", issue=date(1988, 6, 1),
                        birth_date=date(1965, 12, 6), sex="F", departement="923", sequence="10285", lieu="")
    assert zone == "IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<\n8806923102858CORINNE<<<<<<<6512068F6"
