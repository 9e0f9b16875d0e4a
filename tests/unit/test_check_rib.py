"""RIB check: IBAN found and validated (python-stdnum), BIC, holder compared with the structure."""

from __future__ import annotations

from datetime import date

import pytest

from dossiers.domain.checks.rib import check_rib, holder_matches
from dossiers.domain.findings import FindingCode, Severity
from dossiers.domain.pieces import (
    MIME_PDF,
    MIME_PNG,
    Contexte,
    FileFacts,
    ImageFacts,
    PdfFacts,
)
from tests.fixtures import file_facts
from tests.fixtures.rib import rib_pdf

IBAN = "FR7630006000011234567890189"
GROUPED = "FR76 3000 6000 0112 3456 7890 189"
CTX = Contexte(today=date(2024, 6, 1), denomination="Commune d'Exempleville")
RIB = f"""Caisse d'Épargne
RELEVÉ D'IDENTITÉ BANCAIRE
Titulaire du compte : COMMUNE D EXEMPLEVILLE
IBAN : {GROUPED}
BIC : CEPAFRPP333
Domiciliation : BORDEAUX MERIADECK
"""


def pdf(text: str) -> FileFacts:
    return FileFacts(size=1000, sha256="0" * 64, mime=MIME_PDF, pdf=PdfFacts(pages=1, text=text))


def codes(findings: list) -> list[tuple[FindingCode, Severity]]:
    return [(f.code, f.severity) for f in findings]


def test_clean_rib_has_no_finding_and_its_fields() -> None:
    """A RIB with a valid IBAN, a BIC and the structure as holder yields nothing; the IBAN stays whole, grouped."""
    findings, fields = check_rib(pdf(RIB), CTX)
    assert findings == []
    assert fields == {"iban": GROUPED, "bic": "CEPAFRPP333", "titulaire": "COMMUNE D EXEMPLEVILLE"}


@pytest.mark.parametrize("written", [
    f"IBAN : {IBAN}",
    f"IBAN\n{GROUPED}",
    "IBAN FR76 30006 00001 12345678901 89",  # grouped like the RIB fields
    f"IBAN{GROUPED}BIC CEPAFRPP333",  # glued by text extraction
    f"Identifiant international de compte bancaire (IBAN)\n{GROUPED.replace(' ', '  ')}",
    f"International Bank Account Number : {GROUPED.replace(' ', chr(0xA0))}",
])
def test_iban_wordings_and_spacing(written: str) -> None:
    """The IBAN is read unspaced, in groups of 4 or 5, glued to the next label, with double or no-break spaces."""
    _, fields = check_rib(pdf(RIB.replace(f"IBAN : {GROUPED}", written)), CTX)
    assert fields["iban"] == GROUPED


def test_other_country_iban() -> None:
    """A valid IBAN of another SEPA country is accepted (its own length)."""
    _, fields = check_rib(pdf(RIB.replace(GROUPED, "DE89 3704 0044 0532 0130 00")), CTX)
    assert fields["iban"] == "DE89 3704 0044 0532 0130 00"


@pytest.mark.parametrize(("iban", "reason"), [
    ("FR76 3000 6000 0112 3456 7890 188", "clé de contrôle incorrecte"),
    ("FR76 3000 6000 0112 3456 7890 18", "27 caractères, celui-ci en a 26"),
    ("QQ76 3000 6000 0112 3456 7890 189", "code pays QQ inconnu"),
])
def test_invalid_iban_is_an_error_with_its_reason(iban: str, reason: str) -> None:
    """An IBAN failing python-stdnum is RIB_IBAN_INVALIDE erreur, giving the number and why."""
    findings, fields = check_rib(pdf(RIB.replace(GROUPED, iban)), CTX)
    assert codes(findings) == [(FindingCode.RIB_IBAN_INVALIDE, Severity.ERREUR)]
    assert reason in findings[0].message and iban[:9] in findings[0].message
    assert fields["iban"].startswith(iban[:9])


def test_missing_iban_is_an_error() -> None:
    """No IBAN at all is RIB_IBAN_MANQUANT erreur."""
    findings, _ = check_rib(pdf(RIB.replace(f"IBAN : {GROUPED}", "Code banque 30006 Code guichet 00001")), CTX)
    assert codes(findings) == [(FindingCode.RIB_IBAN_MANQUANT, Severity.ERREUR)]
    assert "IBAN" in findings[0].message


def test_unlabelled_reference_of_no_iban_country_is_not_an_invalid_iban() -> None:
    """A reference shaped like an IBAN, away from the label and of no IBAN country, is not reported invalid."""
    text = RIB.replace(f"IBAN : {GROUPED}", "Référence client : ZZ12 3456 7890 1234 5678")
    findings, _ = check_rib(pdf(text), CTX)
    assert codes(findings) == [(FindingCode.RIB_IBAN_MANQUANT, Severity.ERREUR)]


@pytest.mark.parametrize(("label", "holder"), [
    ("Intitulé du compte : ", "COMMUNE D EXEMPLEVILLE"),
    ("Titulaire\n", "Commune d'Exempleville"),
    ("Nom du titulaire : ", "MAIRIE D'EXEMPLEVILLE"),
    ("Titulaire du compte (Account Owner) : ", "COMMUNE D EXEMPLEVILLE"),
])
def test_holder_label_wordings(label: str, holder: str) -> None:
    """The holder follows "Titulaire du compte", "Intitulé du compte", "Titulaire" on its line or the next."""
    findings, fields = check_rib(pdf(RIB.replace("Titulaire du compte : COMMUNE D EXEMPLEVILLE", label + holder)), CTX)
    assert findings == [] and fields["titulaire"].endswith(holder)


def test_missing_holder_is_an_alert() -> None:
    """No holder label: RIB_TITULAIRE_MANQUANT alerte."""
    findings, _ = check_rib(pdf(RIB.replace("Titulaire du compte : COMMUNE D EXEMPLEVILLE\n", "")), CTX)
    assert codes(findings) == [(FindingCode.RIB_TITULAIRE_MANQUANT, Severity.ALERTE)]


def test_other_holder_is_an_alert_naming_both() -> None:
    """A holder that is not the structure is RIB_TITULAIRE_DIFFERENT alerte naming both."""
    findings, _ = check_rib(pdf(RIB.replace("COMMUNE D EXEMPLEVILLE", "SARL DUPONT INFORMATIQUE")), CTX)
    assert codes(findings) == [(FindingCode.RIB_TITULAIRE_DIFFERENT, Severity.ALERTE)]
    assert "SARL DUPONT INFORMATIQUE" in findings[0].message and "Commune d'Exempleville" in findings[0].message


def test_public_accountant_holder_gets_a_hint() -> None:
    """A holder that is a public accountant (SGC, trésorerie) is an alerte explaining why it may still be right."""
    findings, _ = check_rib(pdf(RIB.replace("COMMUNE D EXEMPLEVILLE", "SGC DE BORDEAUX MUNICIPALE")), CTX)
    assert codes(findings) == [(FindingCode.RIB_TITULAIRE_DIFFERENT, Severity.ALERTE)]
    assert "comptable public" in findings[0].message


@pytest.mark.parametrize(("holder", "denomination", "close"), [
    ("COMMUNE D EXEMPLEVILLE", "Commune d'Exempleville", True),
    ("MAIRIE D'EXEMPLEVILLE", "Commune d'Exempleville", True),
    ("COMMUNE D EXEMPLEVILE", "Commune d'Exempleville", True),  # a typo
    ("ASS LES PETITS DEBROUILLARDS", "Association Les Petits Débrouillards", True),
    ("ASSOCIATION D AIDE A DOMICILE D", "Association d'aide à domicile du Val", True),  # cut by the bank
    ("CCAS DE SAINT-DENIS", "Centre communal d'action sociale de Saint-Denis", True),
    ("COMMUNE DE SAINT", "Commune de Saint-Denis", False),  # one word left is not enough
    ("ADMR DU VAL", "Association d'aide à domicile du Val", False),
    ("COMMUNE DE MARSEILLE", "Commune de Lyon", False),
])
def test_holder_closeness(holder: str, denomination: str, close: bool) -> None:
    """Accents, case, punctuation, articles and legal-form words are ignored; a cut name keeps two words."""
    assert holder_matches(holder, denomination) is close


def test_image_rib_is_only_texte_absent() -> None:
    """An image RIB cannot be read: one TEXTE_ABSENT alerte, nothing else."""
    facts = FileFacts(size=1000, sha256="0" * 64, mime=MIME_PNG, image=ImageFacts("PNG", 1200, 800))
    findings, fields = check_rib(facts, CTX)
    assert codes(findings) == [(FindingCode.TEXTE_ABSENT, Severity.ALERTE)]
    assert fields == {"iban": None, "bic": None, "titulaire": None}


# Realism: the fixture RIB through pypdf.

def test_fixture_rib_reads_back() -> None:
    """A generated RIB (holder block, bank-field table, IBAN, BIC) reads back whole with no finding."""
    data = rib_pdf(titulaire="COMMUNE D EXEMPLEVILLE", iban=IBAN, bic="CEPAFRPP333")
    findings, fields = check_rib(file_facts(data), CTX)
    assert findings == []
    assert fields == {"iban": GROUPED, "bic": "CEPAFRPP333", "titulaire": "COMMUNE D EXEMPLEVILLE"}


def test_fixture_rib_with_bad_iban_and_no_holder() -> None:
    """A generated RIB with a wrong key and no holder: IBAN erreur and holder alerte."""
    data = rib_pdf(titulaire=None, iban=IBAN[:-1] + "8", bic=None, iban_label="IBAN")
    findings, fields = check_rib(file_facts(data), CTX)
    assert codes(findings) == [(FindingCode.RIB_IBAN_INVALIDE, Severity.ERREUR),
                               (FindingCode.RIB_TITULAIRE_MANQUANT, Severity.ALERTE)]
    assert fields["bic"] is None


def test_fixture_rib_of_an_association_with_another_holder() -> None:
    """An association's RIB in another name is an alerte; the BIC without a label is not guessed."""
    data = rib_pdf(titulaire="ASSOCIATION LES AMIS DU NUMERIQUE", iban="DE89370400440532013000", bic="COBADEFFXXX")
    findings, fields = check_rib(file_facts(data), Contexte(today=date(2024, 6, 1), denomination="Les Petits Débrouillards"))
    assert codes(findings) == [(FindingCode.RIB_TITULAIRE_DIFFERENT, Severity.ALERTE)]
    assert fields["iban"] == "DE89 3704 0044 0532 0130 00" and fields["bic"] == "COBADEFFXXX"
