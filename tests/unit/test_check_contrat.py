"""Contrat de travail check: type, dates, validity on the day, salarié and signature, from the text layer."""

from __future__ import annotations

from datetime import date

import pytest

from dossiers.domain.checks.contrat import check_contrat, same_person
from dossiers.domain.findings import FindingCode, Severity
from dossiers.domain.pieces import MIME_PDF, Contexte, FileFacts, PdfFacts, Signature
from tests.fixtures import file_facts
from tests.fixtures.contrat import contrat_pdf

TODAY = date(2024, 6, 1)
PARTIES = ("Entre la Commune d'Exempleville, représentée par M. Jean Maire, ci-après dénommée « l'employeur », "
           "et Madame Inès Témoin-Lefèvre, née le 12/05/1990 à Lyon, demeurant 3 rue des Lilas, 33000 Bordeaux, "
           "ci-après dénommée « la salariée ».\n")
SIGNED = "\nFait à Exempleville.\nSigné électroniquement par Jean Maire\nSigné électroniquement par Inès Témoin-Lefèvre"
CDD = ("CONTRAT DE TRAVAIL À DURÉE DÉTERMINÉE\n" + PARTIES +
       "Article 2 – Durée\nLe présent contrat prend effet le 1er mars 2024 et prendra fin le 31/08/2025.\n" + SIGNED)
CDI = ("CONTRAT DE TRAVAIL À DURÉE INDÉTERMINÉE\n" + PARTIES +
       "Article 2 – Durée\nDate d'embauche : 01/10/2023.\nLa période d'essai prendra fin le 30/11/2023.\n" + SIGNED)


def pdf(text: str, signatures: tuple[Signature, ...] = ()) -> FileFacts:
    return FileFacts(size=1000, sha256="0" * 64, mime=MIME_PDF,
                     pdf=PdfFacts(pages=2, text=text, signatures=signatures))


def ctx(conseiller: str | None = "Inès Témoin-Lefèvre", today: date = TODAY) -> Contexte:
    return Contexte(today=today, conseiller=conseiller)


def codes(findings: list) -> list[tuple[FindingCode, Severity]]:
    return [(f.code, f.severity) for f in findings]


def test_clean_cdd_has_no_finding_and_its_fields() -> None:
    """A signed CDD running on the day, for the declared conseiller, yields nothing and its fields."""
    findings, fields = check_contrat(pdf(CDD), ctx())
    assert findings == []
    assert fields == {"type": "CDD", "date_debut": "2024-03-01", "date_fin": "2025-08-31",
                      "salarie": "Inès Témoin-Lefèvre", "signature": "mention", "signataires": []}


def test_cdi_needs_no_end_and_trial_end_is_not_the_contract_end() -> None:
    """A CDI has no end date; "la période d'essai prendra fin le" is not read as one."""
    findings, fields = check_contrat(pdf(CDI), ctx())
    assert findings == [] and fields["type"] == "CDI" and fields["date_fin"] is None
    assert fields["date_debut"] == "2023-10-01"


@pytest.mark.parametrize(("title", "kind"), [
    ("CONTRAT A DUREE DETERMINEE", "CDD"),
    ("Contrat de travail à durée déterminée à temps complet", "CDD"),
    ("CDD – Conseiller numérique", "CDD"),
    ("contrat de travail à durée indéterminée", "CDI"),
    ("CONTRAT À DURÉE INDÉTERMINÉE", "CDI"),
    ("CDI de droit privé", "CDI"),
    ("CONTRAT UNIQUE D'INSERTION - CONTRAT D'ACCOMPAGNEMENT DANS L'EMPLOI\nà durée déterminée", "PEC"),
    ("Convention CUI-CAE – contrat à durée déterminée", "PEC"),
    ("Contrat de travail à durée déterminée – Parcours Emploi Compétences (PEC)", "PEC"),
    ("CONTRAT DE PROJET\n(article L. 332-24 du code général de la fonction publique)", "contrat_de_projet"),
    ("Contrat de travail à durée déterminée\nIl pourra être transformé en contrat à durée indéterminée.", "CDD"),
])
def test_contract_type_wordings(title: str, kind: str) -> None:
    """Each wording real contracts use gives its type; PEC/projet win over CDD wording, the title over later text."""
    _, fields = check_contrat(pdf(title + "\n" + PARTIES + "du 01/03/2024 au 28/02/2025" + SIGNED), ctx())
    assert fields["type"] == kind


def test_unknown_type_is_an_error() -> None:
    """A text naming no contract type is CONTRAT_TYPE_INCONNU erreur, and no end date is demanded."""
    findings, _ = check_contrat(pdf("CONVENTION DE STAGE\n" + PARTIES + "à compter du 01/03/2024" + SIGNED), ctx())
    assert codes(findings) == [(FindingCode.CONTRAT_TYPE_INCONNU, Severity.ERREUR)]
    assert "type de contrat" in findings[0].message


@pytest.mark.parametrize(("sentence", "debut", "fin"), [
    ("conclu pour la période du 01/03/2024 au 31/08/2025", "2024-03-01", "2025-08-31"),
    ("à compter du 1er mars 2024 jusqu'au 31 août 2025", "2024-03-01", "2025-08-31"),
    ("Il débutera le lundi 4 mars 2024 et se terminera le 3 mars 2025.", "2024-03-04", "2025-03-03"),
    ("Date d'embauche : 01.03.2024\nDate de fin : 28-02-2025", "2024-03-01", "2025-02-28"),
    ("Le contrat prend effet le 1 er mars 2024. Il prend fin le premier mars 2025.", "2024-03-01", "2025-03-01"),
    ("à partir du 15 décembre 2023 jusqu'au 14 décembre 2024", "2023-12-15", "2024-12-14"),
])
def test_start_and_end_date_wordings(sentence: str, debut: str, fin: str) -> None:
    """Numeric and long French dates after the usual phrases give the start and end dates."""
    _, fields = check_contrat(pdf("CONTRAT À DURÉE DÉTERMINÉE\n" + PARTIES + sentence + SIGNED), ctx())
    assert (fields["date_debut"], fields["date_fin"]) == (debut, fin)


def test_end_date_computed_from_duration() -> None:
    """"pour une durée de 18 mois" after a start date gives the day before the same day 18 months later."""
    text = "CONTRAT À DURÉE DÉTERMINÉE\n" + PARTIES + "conclu pour une durée de 18 mois à compter du 1er mars 2024."
    findings, fields = check_contrat(pdf(text + SIGNED), ctx())
    assert findings == [] and fields["date_fin"] == "2025-08-31" and fields["date_fin_calculee"] is True


def test_missing_start_date_is_an_alert() -> None:
    """No start date: CONTRAT_DATE_DEBUT_MANQUANTE alerte."""
    findings, _ = check_contrat(pdf("CONTRAT À DURÉE INDÉTERMINÉE\n" + PARTIES + SIGNED), ctx())
    assert codes(findings) == [(FindingCode.CONTRAT_DATE_DEBUT_MANQUANTE, Severity.ALERTE)]
    assert "date de début" in findings[0].message


@pytest.mark.parametrize("title", ["CONTRAT À DURÉE DÉTERMINÉE", "CONTRAT DE PROJET", "Contrat PEC"])
def test_missing_end_date_is_an_error_unless_cdi(title: str) -> None:
    """A CDD, contrat de projet or PEC without end date is an erreur; the trial period's end does not count."""
    text = title + "\n" + PARTIES + "à compter du 01/03/2024. La période d'essai prendra fin le 31/03/2024." + SIGNED
    findings, fields = check_contrat(pdf(text), ctx())
    assert codes(findings) == [(FindingCode.CONTRAT_DATE_FIN_MANQUANTE, Severity.ERREUR)]
    assert "obligatoire" in findings[0].message and fields["date_fin"] is None


def test_pec_in_cdi_form_needs_no_end_date() -> None:
    """A PEC concluded as a CDI (the CDI wording first) needs no end date."""
    text = "Contrat à durée indéterminée – parcours emploi compétences\n" + PARTIES + "à compter du 01/03/2024" + SIGNED
    findings, fields = check_contrat(pdf(text), ctx())
    assert findings == [] and fields["type"] == "PEC"


@pytest.mark.parametrize(("today", "expected"), [
    (date(2025, 8, 31), []),
    (date(2025, 9, 1), [(FindingCode.CONTRAT_EXPIRE, Severity.ERREUR)]),
    (date(2024, 3, 1), []),
    (date(2024, 2, 29), [(FindingCode.CONTRAT_PAS_COMMENCE, Severity.ALERTE)]),
])
def test_validity_on_the_day(today: date, expected: list) -> None:
    """Valid from its first to its last day; ended the day after is an erreur, not started yet an alerte."""
    findings, _ = check_contrat(pdf(CDD), ctx(today=today))
    assert codes(findings) == expected
    if expected:
        assert ("31/08/2025" if today.year == 2025 else "01/03/2024") in findings[0].message


@pytest.mark.parametrize(("text", "salarie"), [
    ("Le salarié : M. Karim BOUZID\nNé le 01/01/1990", "Karim BOUZID"),
    ("La salariée :\nMme Inès Témoin-Lefèvre\nAdresse : 3 rue des Lilas", "Inès Témoin-Lefèvre"),
    ("Nom du salarié : TÉMOIN-LEFÈVRE Prénom : Inès", "Inès TÉMOIN-LEFÈVRE"),
    ("Nom et prénom du salarié : Jean-Pierre de La Fontaine, né le 2 mai 1980", "Jean-Pierre de La Fontaine"),
    ("et Monsieur Karim Bouzid, demeurant 1 rue X, ci-après désigné « le salarié »", "Karim Bouzid"),
    ("et M. Karim Bouzid, ci-après dénommé(e) le (la) salarié(e)", "Karim Bouzid"),
])
def test_salarie_name_wordings(text: str, salarie: str) -> None:
    """The employee's name is read after a label or before "ci-après dénommé(e) le salarié", civilité dropped."""
    _, fields = check_contrat(pdf("CONTRAT À DURÉE INDÉTERMINÉE\n" + text + "\nà compter du 01/03/2024" + SIGNED),
                              ctx(conseiller=None))
    assert fields["salarie"] == salarie


def test_employer_representative_is_not_taken_for_the_salarie() -> None:
    """With no civilité before the salarié, the employer's "M. Jean Maire" is not read as the salarié."""
    text = ("CDI\nLa commune, représentée par M. Jean Maire, ci-après dénommée « l'employeur », et Inès Témoin, "
            "ci-après dénommée « la salariée ». À compter du 01/03/2024." + SIGNED)
    findings, fields = check_contrat(pdf(text), ctx())
    assert fields["salarie"] is None
    assert codes(findings) == [(FindingCode.CONTRAT_SALARIE_MANQUANT, Severity.ALERTE)]


def test_other_salarie_is_an_alert_naming_both() -> None:
    """A contract for someone else than the declared conseiller is an alerte naming both."""
    findings, _ = check_contrat(pdf(CDD), ctx(conseiller="Karim Bouzid"))
    assert codes(findings) == [(FindingCode.CONTRAT_SALARIE_DIFFERENT, Severity.ALERTE)]
    assert "Inès Témoin-Lefèvre" in findings[0].message and "Karim Bouzid" in findings[0].message


@pytest.mark.parametrize(("a", "b", "same"), [
    ("Inès Témoin-Lefèvre", "INES TEMOIN LEFEVRE", True),
    ("TÉMOIN-LEFÈVRE Inès", "Inès Témoin-Lefèvre", True),
    ("Inès Marie Témoin-Lefèvre", "Inès Témoin-Lefèvre", True),
    ("Éloïse d'Artagnan", "Eloise Dartagnan", True),
    ("Inès Témoin", "Inès Lefèvre", False),
    ("Inès", "Inès Témoin", False),
])
def test_same_person_ignores_accents_case_order_and_extra_given_names(a: str, b: str, same: bool) -> None:
    """Names compare on their words; one may carry more given names, but two words must be shared."""
    assert same_person(a, b) is same


def test_signed_signature_fields_are_a_numeric_signature() -> None:
    """Signed /Sig fields make the signature "numerique" and name their signers; wording is not needed."""
    sigs = (Signature("Signature1", True, "Jean Maire", "D:20240220"), Signature("Signature2", True, None),
            Signature("Signature3", False))
    findings, fields = check_contrat(pdf(CDD.replace(SIGNED, ""), sigs), ctx())
    assert findings == [] and fields["signature"] == "numerique" and fields["signataires"] == ["Jean Maire"]


@pytest.mark.parametrize(("ending", "signed"), [
    ("\nLu et approuvé\nL'employeur\nLu et approuvé\nLe salarié", True),
    ("\nBon pour accord, l'employeur. Bon pour accord, le salarié.", True),
    ("\nDocument signé électroniquement via Yousign", True),
    ("\nLu et approuvé\nL'employeur", False),
    (("\nSignature de l'employeur précédée de la mention « Lu et approuvé »\n"
      "Signature du salarié précédée de la mention « Lu et approuvé »"), False),
    ("", False),
])
def test_signature_wording(ending: str, signed: bool) -> None:
    """Electronic-signature wording or "Lu et approuvé" of both parties count; the instruction to write it does not."""
    findings, fields = check_contrat(pdf(CDD.replace(SIGNED, ending), (Signature("Sig", False),)), ctx())
    if signed:
        assert findings == [] and fields["signature"] == "mention"
    else:
        assert codes(findings) == [(FindingCode.CONTRAT_NON_SIGNE, Severity.ALERTE)]
        assert fields["signature"] is None and "signature" in findings[0].message.lower()


def test_scan_without_text_is_only_texte_absent() -> None:
    """No text layer: one TEXTE_ABSENT alerte and nothing else; a signed field is still reported."""
    findings, fields = check_contrat(pdf("   ", (Signature("S1", True, "Jean Maire"),)), ctx())
    assert codes(findings) == [(FindingCode.TEXTE_ABSENT, Severity.ALERTE)]
    assert fields["signature"] == "numerique" and fields["type"] is None


# Realism: the fixture contracts through pypdf.

@pytest.mark.parametrize(("kind", "fin"), [
    ("CDD", date(2025, 8, 31)), ("CDI", None), ("PEC", date(2025, 2, 28)), ("contrat_de_projet", date(2026, 2, 28)),
])
def test_fixture_contracts_read_back(kind: str, fin: date | None) -> None:
    """Each kind of generated contract reads back its type, dates and salarié, with no finding."""
    data = contrat_pdf(type=kind, date_debut=date(2024, 3, 1), date_fin=fin)  # type: ignore[arg-type]
    findings, fields = check_contrat(file_facts(data), ctx())
    assert findings == []
    assert fields["type"] == kind and fields["date_debut"] == "2024-03-01"
    assert fields["date_fin"] == (fin.isoformat() if fin else None)
    assert fields["salarie"] == "Inès Témoin-Lefèvre" and fields["signature"] == "mention"


def test_fixture_with_digital_signatures_and_annexes() -> None:
    """A 3-page contract signed by two /Sig fields gives "numerique" and both signers."""
    data = contrat_pdf(date_debut=date(2024, 3, 1), date_fin=date(2025, 8, 31), pages=3, signature="numerique",
                       salarie="Karim Bouzid", civilite="M.")
    facts = file_facts(data)
    findings, fields = check_contrat(facts, ctx(conseiller="Karim BOUZID"))
    assert facts.pdf is not None and facts.pdf.pages == 3
    assert findings == [] and fields["signature"] == "numerique"
    assert fields["signataires"] == ["Camille Exemple", "Karim Bouzid"] and fields["salarie"] == "Karim Bouzid"


def test_fixture_unsigned_without_end_date_and_expired() -> None:
    """An unsigned CDD without end date, checked long after: end date erreur and signature alerte."""
    findings, _ = check_contrat(file_facts(contrat_pdf(date_debut=date(2022, 1, 1), signature=None)), ctx())
    assert codes(findings) == [(FindingCode.CONTRAT_DATE_FIN_MANQUANTE, Severity.ERREUR),
                               (FindingCode.CONTRAT_NON_SIGNE, Severity.ALERTE)]
    ended, _ = check_contrat(file_facts(contrat_pdf(date_debut=date(2022, 1, 1), date_fin=date(2023, 12, 31))), ctx())
    assert codes(ended) == [(FindingCode.CONTRAT_EXPIRE, Severity.ERREUR)] and "31/12/2023" in ended[0].message
