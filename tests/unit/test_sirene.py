"""Avis de situation Sirene: texts as pypdf extracts them, fields read, findings on a dossier."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from stdnum import luhn

from dossiers.domain.dates import add_months
from dossiers.domain.sirene import (
    MAX_CHARS,
    AvisSirene,
    Etat,
    check_avis,
    parse_avis,
)
from dossiers.domain.findings import FindingCode, Severity

TITLE = "Avis de situation au répertoire Sirene"
AUTHOR = "Institut National de la Statistique et des Etudes Economiques"
TODAY = date(2024, 3, 1)


def siren(base8: str) -> str:
    return base8 + luhn.calc_check_digit(base8)


def siret(siren9: str, nic4: str) -> str:
    return siren9 + nic4 + luhn.calc_check_digit(siren9 + nic4)


def spaced_siren(s: str, sep: str = " ") -> str:
    return sep.join((s[:3], s[3:6], s[6:9]))


def spaced_siret(s: str, sep: str = " ") -> str:
    return spaced_siren(s, sep) + sep + s[9:]


SARL_SIREN = siren("98254982")
SARL_SIRET = siret(SARL_SIREN, "0001")
SARL = f"""Avis de situation au répertoire Sirene
À la date du 14/02/2024
Description de l'entrepriseEntreprise active depuis le 01/03/2020
Identifiant SIREN{spaced_siren(SARL_SIREN)}
Identifiant SIRET du siège{spaced_siret(SARL_SIRET)}
DénominationATELIER NUMERIQUE DU LITTORAL
Catégorie juridique5499 - Société à responsabilité limitée (sans autre
indication)
Activité Principale Exercée (APE)62.02A - Conseil en systèmes et logiciels informatiques
Description de l'établissementEtablissement actif depuis le 01/03/2020
Identifiant SIRET{spaced_siret(SARL_SIRET)}
Adresse12 RUE DE LA REPUBLIQUE
BATIMENT B
13002 MARSEILLE
"""

ASSO_SIREN = siren("77561234")
ASSO_SIRET = siret(ASSO_SIREN, "0027")
NB = "\u00a0"
ASSO = f"""À la date du{NB}10/01/2024
Description de l’entreprise
Entreprise active depuis le 05/09/1998
Identifiant SIREN{spaced_siren(ASSO_SIREN, NB)}
Identifiant SIRET du siège{spaced_siret(siret(ASSO_SIREN, "0019"), NB)}
DénominationASSOCIATION D’AIDE À DOMICILE DU VAL
Catégorie juridique9220 - Association déclarée
Activité Principale Exercée (APE)88.10A - Aide à domicile
Description de l’établissement
Etablissement actif depuis le 01/02/2015
Identifiant SIRET{spaced_siret(ASSO_SIRET, NB)}
Adresse
3 PLACE DE L’EGLISE
84000 AVIGNON
"""

COMMUNE_SIREN = siren("21130055")
COMMUNE_SIRET = siret(COMMUNE_SIREN, "0015")
COMMUNE = f"""A la date du 20/02/2024
Description de l'entrepriseEntreprise active depuis le 01/01/1983
Identifiant SIREN{spaced_siren(COMMUNE_SIREN)}
Identifiant SIRET du siège{spaced_siret(COMMUNE_SIRET)}
DénominationCOMMUNE DE MARSEILLE
Catégorie juridique7210 - Commune et commune
nouvelle
Activité Principale Exercée (APE)84.11Z - Administration publique générale
Description de l'établissementEtablissement actif depuis le 01/01/1983
Identifiant SIRET{spaced_siret(COMMUNE_SIRET)}
AdresseHOTEL DE VILLE
QUAI DU PORT
13002 MARSEILLE
"""

EI_SIREN = siren("81234567")
EI_SIRET = siret(EI_SIREN, "0021")
CLOSED = f"""À la date du 15/02/2024
Description de l'entrepriseEntreprise cessée le 31/12/2023
Identifiant SIREN{spaced_siren(EI_SIREN)}
Identifiant SIRET du siège{spaced_siret(EI_SIRET)}
NomDUPONT
PrénomsMarie Claire
Catégorie juridique1000 - Entrepreneur individuel
Activité Principale Exercée (APE)96.02A - Coiffure
Description de l'établissementEtablissement fermé depuis le 31/12/2023
Identifiant SIRET{spaced_siret(EI_SIRET)}
Adresse4 RUE DES LILAS
69003 LYON
"""


def avis(text: str, *, meta: bool = True) -> AvisSirene:
    return parse_avis(text, title=TITLE if meta else None, author=AUTHOR if meta else None)


def codes(findings: list) -> list[FindingCode]:
    return [f.code for f in findings]


def test_sarl_fields_are_read_and_wrapped_label_joined() -> None:
    """Every field of an SARL avis is read; the catégorie label wrapped on two lines is joined."""
    a = avis(SARL)
    assert a.metadata_ok and a.headings_ok and a.recognised
    assert a.date_avis == date(2024, 2, 14)
    assert (a.etat_entreprise, a.date_etat_entreprise) == (Etat.ACTIF, date(2020, 3, 1))
    assert (a.siren, a.siret_siege, a.siret) == (SARL_SIREN, SARL_SIRET, SARL_SIRET)
    assert a.denomination == "ATELIER NUMERIQUE DU LITTORAL"
    assert a.categorie_code == "5499"
    assert a.categorie_libelle == "Société à responsabilité limitée (sans autre indication)"
    assert (a.ape_code, a.ape_libelle) == ("62.02A", "Conseil en systèmes et logiciels informatiques")
    assert (a.etat_etablissement, a.date_etat_etablissement) == (Etat.ACTIF, date(2020, 3, 1))
    assert a.adresse == ("12 RUE DE LA REPUBLIQUE", "BATIMENT B", "13002 MARSEILLE")
    assert a.code_postal == "13002"


def test_commune_label_wrapping_onto_next_line_is_unwrapped() -> None:
    """The 7210 label "Commune et commune / nouvelle" is read whole, and "A la date" without accent works."""
    a = avis(COMMUNE)
    assert (a.categorie_code, a.categorie_libelle) == ("7210", "Commune et commune nouvelle")
    assert a.ape_code == "84.11Z" and a.date_avis == date(2024, 2, 20)
    assert a.adresse == ("HOTEL DE VILLE", "QUAI DU PORT", "13002 MARSEILLE")


def test_typographic_apostrophe_and_nbsp_do_not_break_matching() -> None:
    """’ in headings and non-breaking spaces in dates and numbers are read like ' and spaces."""
    a = avis(ASSO)
    assert a.headings_ok and a.date_avis == date(2024, 1, 10)
    assert a.siren == ASSO_SIREN and a.siret == ASSO_SIRET and a.siret_siege != ASSO_SIRET
    assert a.denomination == "ASSOCIATION D'AIDE À DOMICILE DU VAL"
    assert (a.categorie_code, a.categorie_libelle) == ("9220", "Association déclarée")
    assert a.adresse == ("3 PLACE DE L'EGLISE", "84000 AVIGNON")


def test_person_name_and_closed_states_are_read() -> None:
    """A person's avis gives "Prénoms Nom"; "cessée le" and "fermé depuis le" read as closed."""
    a = avis(CLOSED)
    assert a.denomination == "Marie Claire DUPONT"
    assert (a.etat_entreprise, a.date_etat_entreprise) == (Etat.FERME, date(2023, 12, 31))
    assert (a.etat_etablissement, a.date_etat_etablissement) == (Etat.FERME, date(2023, 12, 31))


@pytest.mark.parametrize(("text", "siret_", "nature"), [
    (SARL, SARL_SIRET, "privee"), (ASSO, ASSO_SIRET, "privee"), (COMMUNE, COMMUNE_SIRET, "publique"),
])
def test_clean_avis_gives_no_finding(text: str, siret_: str, nature: str) -> None:
    """An active, recent avis matching the dossier's SIRET and nature yields nothing."""
    assert check_avis(avis(text), siret_dossier=siret_, nature=nature, today=TODAY) == []


def test_dossier_siret_spaces_are_ignored() -> None:
    """The dossier's SIRET may be typed with spaces or NBSP."""
    assert check_avis(avis(SARL), siret_dossier=spaced_siret(SARL_SIRET, NB), nature=None, today=TODAY) == []


def test_closed_etablissement_and_entreprise_are_errors() -> None:
    """A closed établissement and a cessée entreprise are both reported as erreurs."""
    found = check_avis(avis(CLOSED), siret_dossier=EI_SIRET, nature="privee", today=TODAY)
    assert codes(found) == [FindingCode.SIRENE_ENTREPRISE_CESSEE, FindingCode.SIRENE_ETABLISSEMENT_FERME]
    assert {f.severity for f in found} == {Severity.ERREUR}
    assert "31/12/2023" in found[1].message


def test_other_siret_is_an_error() -> None:
    """An avis for another établissement than the dossier's is an erreur."""
    found = check_avis(avis(SARL), siret_dossier=ASSO_SIRET, nature=None, today=TODAY)
    assert codes(found) == [FindingCode.SIRET_DIFFERENT] and found[0].severity is Severity.ERREUR


def test_bad_check_digit_is_invalid_siret() -> None:
    """A SIRET failing the Luhn key is sirene_siret_invalide."""
    bad = SARL_SIRET[:-1] + str((int(SARL_SIRET[-1]) + 1) % 10)
    found = check_avis(replace(avis(SARL), siret=bad), siret_dossier=bad, nature=None, today=TODAY)
    assert codes(found) == [FindingCode.SIRET_INVALIDE]


def test_siret_of_another_siren_is_invalid() -> None:
    """A valid SIRET that does not start with the avis' SIREN is sirene_siret_invalide."""
    found = check_avis(replace(avis(SARL), siret=ASSO_SIRET), siret_dossier=ASSO_SIRET, nature=None, today=TODAY)
    assert codes(found) == [FindingCode.SIRET_INVALIDE]


@pytest.mark.parametrize("la_poste", ["35600000000048", "35600000010000"])
def test_la_poste_siret_is_accepted(la_poste: str) -> None:
    """La Poste's SIRET (digit sum a multiple of 5, even failing Luhn) is valid."""
    a = replace(avis(SARL), siren="356000000", siret=la_poste)
    assert check_avis(a, siret_dossier=la_poste, nature="privee", today=TODAY) == []


@pytest.mark.parametrize(("today", "too_old"), [
    (date(2024, 5, 14), False), (date(2024, 5, 15), True), (date(2024, 2, 14), False),
])
def test_three_months_to_the_day(today: date, too_old: bool) -> None:
    """An avis of 14/02 is still valid on 14/05 and too old on 15/05."""
    found = check_avis(avis(SARL), siret_dossier=SARL_SIRET, nature=None, today=today)
    assert codes(found) == ([FindingCode.SIRENE_AVIS_PERIME] if too_old else [])


def test_three_months_clamped_to_month_end() -> None:
    """An avis of 30/11/2023 is valid until 29/02/2024 (leap year) and too old on 01/03/2024."""
    a = replace(avis(SARL), date_avis=date(2023, 11, 30))
    assert check_avis(a, siret_dossier=SARL_SIRET, nature=None, today=date(2024, 2, 29)) == []
    late = check_avis(a, siret_dossier=SARL_SIRET, nature=None, today=date(2024, 3, 1))
    assert codes(late) == [FindingCode.SIRENE_AVIS_PERIME] and "29/02/2024" in late[0].message
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2023, 11, 15), 3) == date(2024, 2, 15)


def test_future_avis_is_an_alert() -> None:
    """An avis dated after today is flagged for a human, not rejected."""
    found = check_avis(avis(SARL), siret_dossier=SARL_SIRET, nature=None, today=date(2024, 2, 13))
    assert codes(found) == [FindingCode.SIRENE_AVIS_DATE_FUTURE] and found[0].severity is Severity.ALERTE


@pytest.mark.parametrize(("text", "siret_", "nature"), [
    (ASSO, ASSO_SIRET, "publique"), (SARL, SARL_SIRET, "publique"), (COMMUNE, COMMUNE_SIRET, "privee"),
])
def test_categorie_contradicting_nature_is_an_error(text: str, siret_: str, nature: str) -> None:
    """An association or SARL declared public, or a commune declared private, is an erreur."""
    found = check_avis(avis(text), siret_dossier=siret_, nature=nature, today=TODAY)
    assert codes(found) == [FindingCode.SIRENE_NATURE_INCOHERENTE] and found[0].severity is Severity.ERREUR


@pytest.mark.parametrize(("code", "nature"), [("4140", "publique"), ("7220", "publique"), ("9300", "privee")])
def test_public_and_private_levels(code: str, nature: str) -> None:
    """EPIC local (4140) and département (7220) are public; a fondation (9300) is private."""
    a = replace(avis(SARL), categorie_code=code)
    assert check_avis(a, siret_dossier=SARL_SIRET, nature=nature, today=TODAY) == []


def test_foreign_body_and_unknown_nature() -> None:
    """A foreign body (level 3) is an alerte; without a declared nature nothing is compared."""
    a = replace(avis(SARL), categorie_code="3120")
    found = check_avis(a, siret_dossier=SARL_SIRET, nature="privee", today=TODAY)
    assert codes(found) == [FindingCode.SIRENE_NATURE_INCOHERENTE] and found[0].severity is Severity.ALERTE
    assert check_avis(avis(COMMUNE), siret_dossier=COMMUNE_SIRET, nature=None, today=TODAY) == []


def test_unrelated_pdf_is_not_recognised() -> None:
    """A text without avis headings or INSEE metadata is one erreur sirene_non_reconnu."""
    text = "FACTURE N° 2024-012\nDate : 14/02/2024\nSIRET 982 549 826 00013\nTotal TTC 1 200,00 €"
    found = check_avis(parse_avis(text, title="Facture", author="Compta"),
                       siret_dossier=SARL_SIRET, nature=None, today=TODAY)
    assert codes(found) == [FindingCode.SIRENE_NON_RECONNU] and found[0].severity is Severity.ERREUR


def test_headings_without_metadata_is_an_alert() -> None:
    """The text of an avis without INSEE's Title and Author is read but flagged."""
    found = check_avis(avis(SARL, meta=False), siret_dossier=SARL_SIRET, nature="privee", today=TODAY)
    assert codes(found) == [FindingCode.SIRENE_METADONNEES_ABSENTES] and found[0].severity is Severity.ALERTE


def test_metadata_with_unreadable_text_lists_missing_fields_as_alerts() -> None:
    """INSEE metadata with no usable text gives one alerte per missing field, no erreur."""
    found = check_avis(parse_avis("", title=f"{TITLE} ", author=AUTHOR.upper()),
                       siret_dossier=SARL_SIRET, nature="privee", today=TODAY)
    assert set(codes(found)) == {FindingCode.SIRENE_CHAMP_MANQUANT} and len(found) == 9
    assert {f.severity for f in found} == {Severity.ALERTE}


def test_missing_address_and_impossible_date() -> None:
    """An impossible avis date and an address without postcode are champs manquants."""
    text = SARL.replace("14/02/2024", "31/02/2024").replace("13002 MARSEILLE\n", "")
    found = check_avis(avis(text), siret_dossier=SARL_SIRET, nature="privee", today=TODAY)
    assert codes(found) == [FindingCode.SIRENE_CHAMP_MANQUANT] * 2
    assert "date de l'avis" in found[0].message and "code postal" in found[1].message


def test_oversized_text_is_refused_unparsed() -> None:
    """Text over MAX_CHARS is one erreur sirene_texte_trop_long and is not parsed."""
    a = avis(SARL + "x" * MAX_CHARS)
    assert a.too_long and a.siren is None
    found = check_avis(a, siret_dossier=SARL_SIRET, nature=None, today=TODAY)
    assert codes(found) == [FindingCode.SIRENE_TEXTE_TROP_LONG] and found[0].severity is Severity.ERREUR
