"""Pièce d'identité check: image size, MRZ found or given, check digits, validity, holder's name."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from dossiers.domain.checks.identite import (
    MIN_PIXELS,
    MIN_SIDE_PX,
    check_identite,
    find_zone,
    mask,
)
from dossiers.domain.findings import FindingCode, Severity
from dossiers.domain.mrz import check_digit
from dossiers.domain.pieces import (
    MIME_JPEG,
    MIME_PDF,
    Contexte,
    FileFacts,
    ImageFacts,
    PdfFacts,
)
from tests.fixtures import file_facts
from tests.fixtures.identite import cni_ancienne, identite_image, identite_pdf, td1, td3

TODAY = date(2024, 6, 1)
CNIE = td1(surname="Exemple", given_names="Camille", number="X4RTBPFW4", birth_date=date(1980, 1, 2),
           expiry=date(2031, 8, 20))
PASSEPORT = td3(surname="Témoin-Lefèvre", given_names="Inès Marie", number="19FV12345",
                birth_date=date(1990, 5, 12), expiry=date(2029, 1, 3))


def image(width: int = 1400, height: int = 900) -> FileFacts:
    return FileFacts(size=1000, sha256="0" * 64, mime=MIME_JPEG, image=ImageFacts("JPEG", width, height))


def pdf(text: str) -> FileFacts:
    return FileFacts(size=1000, sha256="0" * 64, mime=MIME_PDF, pdf=PdfFacts(pages=1, text=text))


def ctx(mrz: str | None = CNIE, representant: str | None = "Camille Exemple", today: date = TODAY) -> Contexte:
    return Contexte(today=today, mrz=mrz, representant=representant)


def codes(findings: list) -> list[tuple[FindingCode, Severity]]:
    return [(f.code, f.severity) for f in findings]


def test_valid_cnie_with_given_zone_has_no_finding_and_masked_fields() -> None:
    """A valid CNIe whose zone is given with the image yields nothing; its number is masked but the last 4."""
    findings, fields = check_identite(image(), ctx())
    assert findings == []
    assert fields == {
        "fichier": "image", "mrz_source": "fournie", "format": "td1", "document_type": "ID",
        "issuing_country": "FRA", "document_number": "*****PFW4", "surname": "EXEMPLE",
        "given_names": ["CAMILLE"], "expiry": "2031-08-20",
    }


def test_mask_keeps_only_the_last_four_characters() -> None:
    """Document numbers are personal data: only their last 4 characters are shown."""
    assert (mask("100607512345"), mask("AB1")) == ("********2345", "AB1")


@pytest.mark.parametrize(("width", "height", "readable"), [
    (640, 480, True),  # VGA: the smallest accepted
    (MIN_SIDE_PX - 1, 2000, False),  # a side too short
    (500, 590, False),  # both sides long enough, too few pixels (295 000)
    (600, 500, True),  # exactly MIN_PIXELS
    (120, 80, False),  # a thumbnail
])
def test_image_too_small_is_illisible(width: int, height: int, readable: bool) -> None:
    """Images under MIN_SIDE_PX on a side or MIN_PIXELS in all cannot be read: erreur, and no MRZ alert on top."""
    findings, _ = check_identite(image(width, height), ctx(mrz=None))
    if readable:
        assert codes(findings) == [(FindingCode.IDENTITE_MRZ_ABSENTE, Severity.ALERTE)]
    else:
        assert codes(findings) == [(FindingCode.IDENTITE_ILLISIBLE, Severity.ERREUR)]
        assert "trop petite" in findings[0].message and f"{width} x {height}" in findings[0].message
    assert MIN_PIXELS == 300_000


def test_small_image_with_a_given_zone_is_still_checked() -> None:
    """A too-small image is illisible, but a zone given with it is still checked (expired here)."""
    expired = td1(surname="Exemple", given_names="Camille", number="X4RTBPFW4", birth_date=date(1980, 1, 2),
                  expiry=date(2023, 8, 20))
    findings, _ = check_identite(image(300, 200), ctx(mrz=expired))
    assert [f.code for f in findings] == [FindingCode.IDENTITE_ILLISIBLE, FindingCode.IDENTITE_EXPIREE]


def test_zone_in_pdf_text_with_spaces_inserted_by_extraction() -> None:
    """A zone in the text layer is found although extraction inserted spaces and OCR read << as «."""
    l1, l2, l3 = CNIE.split("\n")
    text = (f"RÉPUBLIQUE FRANÇAISE\nCARTE NATIONALE D'IDENTITÉ\nNom : EXEMPLE\n"
            f"{l1[:5]} {l1[5:14]} {l1[14:]}\n{l2[:7]} {l2[7:]}\n{l3.replace('<<', '«', 1)}\n")
    findings, fields = check_identite(pdf(text), ctx(mrz=None))
    assert findings == [] and fields["mrz_source"] == "texte_pdf" and fields["surname"] == "EXEMPLE"


def test_find_zone_ignores_upper_case_prose_and_needs_every_line() -> None:
    """Capitals without < or digits are not a zone; two lines of a TD1 are not a zone."""
    assert find_zone("REPUBLIQUEFRANCAISECARTENATION\nREPUBLIQUEFRANCAISECARTENATION\nABCDEFGHIJKLMNOPQRSTUVWXYZABCD") is None
    assert find_zone("\n".join(CNIE.split("\n")[:2])) is None
    assert find_zone("bla\n" + PASSEPORT + "\nbla") == PASSEPORT


def test_zone_given_on_one_line_or_lower_case_is_read() -> None:
    """A zone sent as one 90-character line, or typed in lower case with spaces, is read."""
    assert check_identite(image(), ctx(mrz=CNIE.replace("\n", "")))[0] == []
    assert check_identite(image(), ctx(mrz=" " + CNIE.lower().replace("<<", "< <")))[0] == []


@pytest.mark.parametrize(("facts", "fragment"), [
    (image(), "fournie avec l'image"),
    (pdf("Carte nationale d'identité, recto seul, sans zone lisible par machine."), "texte du PDF"),
    (pdf(""), "pas de couche texte"),
])
def test_no_zone_is_an_alert_for_a_human(facts: FileFacts, fragment: str) -> None:
    """Without a zone nothing can be checked: one alerte saying why, a human reads the document."""
    findings, fields = check_identite(facts, ctx(mrz=None))
    assert codes(findings) == [(FindingCode.IDENTITE_MRZ_ABSENTE, Severity.ALERTE)]
    assert fragment in findings[0].message and "à vérifier" in findings[0].message
    assert fields["mrz_source"] is None


def test_unreadable_given_zone_is_invalid_with_the_reason() -> None:
    """A given zone of wrong lengths is IDENTITE_MRZ_INVALIDE erreur naming the lengths."""
    findings, _ = check_identite(image(), ctx(mrz="IDFRAX4RTBPFW46<<<\n9005123F3108206FRA"))
    assert codes(findings) == [(FindingCode.IDENTITE_MRZ_INVALIDE, Severity.ERREUR)]
    assert "illisible" in findings[0].message and "[18, 18]" in findings[0].message


def test_wrong_check_digit_is_invalid_with_the_field() -> None:
    """A changed birth date fails its check digit: erreur citing the birth date, fields still given."""
    lines = CNIE.split("\n")
    lines[1] = "7" + lines[1][1:]  # 800102 -> 700102
    findings, fields = check_identite(image(), ctx(mrz="\n".join(lines)))
    assert codes(findings) == [(FindingCode.IDENTITE_MRZ_INVALIDE, Severity.ERREUR)]
    assert "date de naissance" in findings[0].message and "Clé de contrôle incorrecte" in findings[0].message
    assert fields["surname"] == "EXEMPLE"


@pytest.mark.parametrize(("today", "expired"), [(date(2031, 8, 20), False), (date(2031, 8, 21), True)])
def test_expired_cnie_gives_its_date(today: date, expired: bool) -> None:
    """A CNIe is valid through its expiry date and expired the day after: erreur giving the date."""
    findings, _ = check_identite(image(), ctx(today=today))
    if expired:
        assert codes(findings) == [(FindingCode.IDENTITE_EXPIREE, Severity.ERREUR)]
        assert "20/08/2031" in findings[0].message
    else:
        assert findings == []


def test_old_cni_of_an_adult_issued_2010_gets_fifteen_years() -> None:
    """An old CNI issued 06/2010 to an adult is valid until 06/2025 (+5 years); a 2003 one only 10 years."""
    zone = cni_ancienne(surname="Exemple", given_names="Camille", issue=date(2010, 6, 14), birth_date=date(1975, 2, 12))
    findings, fields = check_identite(image(), ctx(mrz=zone))
    assert findings == [] and fields["expiry"] == "2025-06-01" and fields["format"] == "cni_fr_ancienne"
    late, _ = check_identite(image(), ctx(mrz=zone, today=date(2025, 7, 1)))
    assert codes(late) == [(FindingCode.IDENTITE_EXPIREE, Severity.ERREUR)]
    assert "15 ans" in late[0].message and "06/2025" in late[0].message
    old = cni_ancienne(surname="Exemple", given_names="Camille", issue=date(2003, 5, 2), birth_date=date(1975, 2, 12))
    findings, _ = check_identite(image(), ctx(mrz=old))
    assert codes(findings) == [(FindingCode.IDENTITE_EXPIREE, Severity.ERREUR)] and "10 ans" in findings[0].message


def test_old_cni_in_its_month_of_uncertainty_is_an_alert() -> None:
    """The issue day of an old CNI is unknown: during the month it may expire in, it is an alerte."""
    zone = cni_ancienne(surname="Exemple", given_names="Camille", issue=date(2010, 6, 14), birth_date=date(1975, 2, 12))
    findings, _ = check_identite(image(), ctx(mrz=zone, today=date(2025, 6, 15)))
    assert codes(findings) == [(FindingCode.IDENTITE_EXPIREE, Severity.ALERTE)]
    assert "peut-être" in findings[0].message


def test_expiry_that_cannot_be_computed_is_an_alert() -> None:
    """An old CNI whose number gives month 13 has no computable validity: MRZ erreur plus expiry alerte."""
    zone = cni_ancienne(surname="Exemple", given_names="Camille", issue=date(2010, 6, 1), birth_date=date(1975, 2, 12))
    l1, l2 = zone.split("\n")
    number = l2[:2] + "13" + l2[4:12]
    l2 = number + str(check_digit(number)) + l2[13:35]
    zone = l1 + "\n" + l2 + str(check_digit(l1 + l2))
    findings, fields = check_identite(image(), ctx(mrz=zone))
    assert codes(findings) == [(FindingCode.IDENTITE_MRZ_INVALIDE, Severity.ERREUR),
                               (FindingCode.IDENTITE_EXPIREE, Severity.ALERTE)]
    assert "n'a pas pu être déterminée" in findings[1].message and fields["expiry"] is None


@pytest.mark.parametrize("representant", [
    "Inès Témoin-Lefèvre", "INES TEMOIN LEFEVRE", "Témoin-Lefèvre Inès", "Mme Inès Témoin-Lefèvre",
    "Inès-Marie Témoin-Lefèvre", "ines marie temoin-lefevre", "Témoin-Lefèvre",
])
def test_names_match_whatever_accents_case_order_and_hyphens(representant: str) -> None:
    """The representative's "Prénom Nom" matches the zone with any split, order, accents, case or hyphens."""
    assert check_identite(image(), ctx(mrz=PASSEPORT, representant=representant))[0] == []


def test_compound_surname_with_particle_matches() -> None:
    """"Jean-Pierre de La Fontaine" matches DE<LA<FONTAINE<<JEAN<PIERRE (split after Jean-Pierre)."""
    zone = td3(surname="de La Fontaine", given_names="Jean Pierre", number="19FV12345", birth_date=date(1970, 1, 1),
               expiry=date(2030, 1, 1))
    assert check_identite(image(), ctx(mrz=zone, representant="Jean-Pierre de La Fontaine"))[0] == []


@pytest.mark.parametrize("representant", ["Inès Martin", "Marie Témoin-Lefèvre", "Camille Exemple"])
def test_other_name_is_an_alert_mentioning_nom_d_usage(representant: str) -> None:
    """Another surname (maybe a nom d'usage) or given name is an alerte naming both, not an erreur."""
    findings, _ = check_identite(image(), ctx(mrz=PASSEPORT, representant=representant))
    assert codes(findings) == [(FindingCode.IDENTITE_NOM_DIFFERENT, Severity.ALERTE)]
    assert "nom d'usage" in findings[0].message and representant in findings[0].message
    assert "INES MARIE TEMOIN LEFEVRE" in findings[0].message


def test_no_representant_means_no_name_check() -> None:
    """Without a declared representative, names are not compared."""
    assert check_identite(image(), ctx(mrz=PASSEPORT, representant=None))[0] == []


# Realism: the fixtures through Pillow and pypdf, as the inspection adapter reads them.

def image_facts(data: bytes) -> FileFacts:
    with Image.open(io.BytesIO(data)) as img:
        facts = ImageFacts(img.format or "", img.width, img.height)
    return FileFacts(size=len(data), sha256="0" * 64, mime=MIME_JPEG, image=facts)


def test_photo_of_a_card_with_its_zone_given() -> None:
    """A JPEG photo of a CNIe with its zone given checks clean; a thumbnail of it is illisible."""
    assert check_identite(image_facts(identite_image(mrz=CNIE)), ctx())[0] == []
    small, _ = check_identite(image_facts(identite_image(mrz=CNIE, width=400, height=260, fmt="PNG")), ctx())
    assert [f.code for f in small] == [FindingCode.IDENTITE_ILLISIBLE]


@pytest.mark.parametrize("zone", [CNIE, PASSEPORT, cni_ancienne(
    surname="Exemple", given_names="Camille Marie", issue=date(2013, 11, 5), birth_date=date(1980, 1, 2))])
def test_scan_with_ocr_layer_is_read_from_pdf_text(zone: str) -> None:
    """A two-page scan whose OCR layer holds the zone is read from the text: fields come from the zone."""
    findings, fields = check_identite(file_facts(identite_pdf(mrz=zone, pages=2)), ctx(mrz=None, representant=None))
    assert findings == [] and fields["mrz_source"] == "texte_pdf"
    assert fields["surname"] in ("EXEMPLE", "TEMOIN LEFEVRE")


def test_scan_without_text_layer_goes_to_a_human() -> None:
    """A scan without OCR layer and no zone given is IDENTITE_MRZ_ABSENTE, an alerte."""
    findings, _ = check_identite(file_facts(identite_pdf(mrz=CNIE, text_layer=False)), ctx(mrz=None))
    assert codes(findings) == [(FindingCode.IDENTITE_MRZ_ABSENTE, Severity.ALERTE)]
