"""Signed-copy check: identification by metadata, footer or text, content and pages compared, signatures."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dossiers.domain.checks.signe import (
    Emis,
    check_signed_copy,
    footer_ids,
    iso_pdf_date,
    statut_archivage,
    tokens,
    word_tolerance,
)
from dossiers.domain.findings import Finding, FindingCode, Severity
from dossiers.domain.pieces import MIME_PDF, FileFacts, PdfFacts, Probleme, Signature, SignatureVerifiee

CID, OTHER = "CN-V2-STR-000123", "CN-V2-STR-000456"
DOCX, PDF_SHA = "d" * 64, "e" * 64
FOOTER = f"Convention {CID} — version 1 — modèle 2024.1"
PAGES = [
    ("CONVENTION DE SUBVENTION\nProgramme Conseiller numérique\nEntre l'Agence nationale de la cohésion des "
    "territoires, ci-après « l'ANCT », et l'Association Numérique & Éducation de Lécluse, SIRET 215 903 501 00017, "
    "représentée par Mme Zoé Lefèvre, ci-après « la structure », il est convenu ce qui suit.\n"
    "Article 1 – Objet\nLa présente convention a pour objet le financement de deux postes de conseiller numérique "
    "chargés d'accompagner les publics dans leurs usages quotidiens du numérique."),
    ("Article 2 – Montant de la subvention\nLa subvention s'élève à 50 000,00 € par poste pour une durée de "
    "trois ans, soit 100 000,00 € au total.\nArticle 3 – Versements\nUn premier versement de 25 000,00 € "
    "intervient à la signature ; le solde est versé sur justificatifs avant le 31/12/2027."),
    ("Article 4 – Durée\nLa convention prend effet le 1er mars 2025 pour une durée de trente-six mois.\n"
    "Article 5 – Engagements\nLa structure s'engage à recruter les conseillers dans un délai de trois mois et à "
    "transmettre chaque année un bilan d'activité à l'ANCT.\nFait en deux exemplaires originaux.\n"
    "Pour l'ANCT Pour la structure"),
]
TEXT = "\n".join(f"{page}\n{FOOTER}" for page in PAGES)
EMIS = Emis(convention_id=CID, version=1, docx_sha256=DOCX, pdf_sha256=PDF_SHA, pages=3, text=TEXT)
SIGNED = (Signature("Signature1", True, "Zoé Lefèvre", "D:20250214093000+01'00'"),
          Signature("Signature2", True, "Jean Préfet", "D:20250215101500Z"))


def copy(text: str = TEXT, *, pages: int = 3, meta: bool = True, signatures: tuple[Signature, ...] = SIGNED,
         sha256: str = "1" * 64, **pdf: object) -> FileFacts:
    stamp = {"conum_convention_id": CID, "conum_version": "1", "conum_docx_sha256": DOCX} if meta else {}
    return FileFacts(size=120_000, sha256=sha256, mime=MIME_PDF, declared_name="convention-signee.pdf",
                     pdf=PdfFacts(pages=pages, text=text, signatures=signatures, **{**stamp, **pdf}))  # type: ignore[arg-type]


def codes(findings: list[Finding]) -> list[tuple[FindingCode, Severity]]:
    return [(f.code, f.severity) for f in findings]


def test_metadata_match_with_a_digital_signature_is_archived_with_its_signers() -> None:
    """Our identification, our text, two signed fields: archive, signers and ISO dates in the fields."""
    findings, fields = check_signed_copy(copy(), EMIS)
    assert findings == [] and statut_archivage(findings) == "archive"
    assert fields["identification"] == "metadonnees" and fields["convention_id"] == CID and fields["version"] == 1
    assert fields["signatures"] == [
        {"champ": "Signature1", "signataire": "Zoé Lefèvre", "date": "2025-02-14T09:30:00+01:00"},
        {"champ": "Signature2", "signataire": "Jean Préfet", "date": "2025-02-15T10:15:00+00:00"},
    ]
    assert fields["texte"]["manquants"] == 0 and fields["pages"] == 3


def test_metadata_of_another_convention_is_refused() -> None:
    """/ConumConventionId names another convention: SIGNE_AUTRE_CONVENTION erreur, nothing else said."""
    findings, fields = check_signed_copy(copy(conum_convention_id=OTHER), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_AUTRE_CONVENTION, Severity.ERREUR)]
    assert OTHER in findings[0].message and CID in findings[0].message
    assert statut_archivage(findings) == "refuse" and fields["convention_id"] == OTHER


def test_metadata_of_another_version_is_refused() -> None:
    """Same convention, /ConumVersion 2 while version 1 is expected: SIGNE_AUTRE_VERSION erreur."""
    findings, fields = check_signed_copy(copy(conum_version="2"), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_AUTRE_VERSION, Severity.ERREUR)]
    assert fields["version"] == 2 and statut_archivage(findings) == "refuse"


def test_another_docx_hash_is_a_modified_content() -> None:
    """Right convention and version, but produced from another DOCX: SIGNE_CONTENU_MODIFIE erreur."""
    findings, _ = check_signed_copy(copy(conum_docx_sha256="f" * 64), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ERREUR)]


def test_an_empty_issued_docx_hash_is_not_compared() -> None:
    """An issued version without a recorded DOCX hash: the copy's hash cannot disagree with it."""
    findings, _ = check_signed_copy(copy(), replace(EMIS, docx_sha256=""))
    assert findings == []


def test_stripped_metadata_with_matching_text_and_a_signature_is_archived() -> None:
    """A signing tool re-saved the PDF without its Info: footer found, text intact, signed -> archive."""
    findings, fields = check_signed_copy(copy(meta=False), EMIS)
    assert findings == [] and fields["identification"] == "pied_de_page" and fields["version"] == 1


def test_without_metadata_nor_footer_a_copy_is_recognised_by_its_text() -> None:
    """Neither metadata nor footer (a document without one), the issued text is there: ``texte``, archived."""
    plain = "\n".join(PAGES)
    findings, fields = check_signed_copy(copy(plain + "\nSigné électroniquement", meta=False),
                                         replace(EMIS, text=plain))
    assert findings == [] and fields["identification"] == "texte"
    assert fields["convention_id"] == CID and fields["version"] == 1


def test_a_copy_that_lost_its_footers_is_modified() -> None:
    """The issued pages print a footer; a copy whose footers are gone (3 × 9 words) differs from it."""
    findings, fields = check_signed_copy(copy(TEXT.replace(FOOTER, ""), meta=False), EMIS)
    assert fields["identification"] == "texte"
    assert codes(findings) == [(FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ERREUR)]


def test_stripped_metadata_without_signature_goes_to_a_human() -> None:
    """No Info and no signature field: SIGNE_METADONNEES_ABSENTES and SIGNE_SANS_SIGNATURE alertes."""
    findings, _ = check_signed_copy(copy(meta=False, signatures=()), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_METADONNEES_ABSENTES, Severity.ALERTE),
                               (FindingCode.SIGNE_SANS_SIGNATURE, Severity.ALERTE)]
    assert statut_archivage(findings) == "a_verifier"


@pytest.mark.parametrize("meta", [True, False], ids=["metadonnees", "pied_de_page"])
def test_a_changed_amount_is_refused(meta: bool) -> None:
    """One amount changed (50 000 -> 55 000), even with our metadata kept: SIGNE_CONTENU_MODIFIE erreur."""
    findings, fields = check_signed_copy(copy(TEXT.replace("50 000,00", "55 000,00"), meta=meta), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ERREUR)]
    assert "50000" in findings[0].message and fields["texte"]["nombres_manquants"] == ["50000"]
    assert statut_archivage(findings) == "refuse"


def test_a_few_words_lost_by_extraction_are_tolerated_more_are_not() -> None:
    """Up to max(2, 0.5 %) issued words may be missing (extractor quirks); beyond, the content differs."""
    assert word_tolerance(100) == 2 and word_tolerance(1000) == 5
    findings, _ = check_signed_copy(copy(TEXT.replace("quotidiens", "")), EMIS)
    assert findings == []
    three = TEXT.replace("quotidiens", "").replace("originaux", "").replace("justificatifs", "")
    findings, _ = check_signed_copy(copy(three), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ERREUR)]


def test_a_long_added_passage_goes_to_a_human() -> None:
    """Nothing missing but 60 words written in: SIGNE_CONTENU_MODIFIE alerte (a clause added?)."""
    added = " ".join(f"mot{i}" for i in range(60))
    findings, _ = check_signed_copy(copy(f"{TEXT}\n{added}"), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ALERTE)]


def test_random_text_is_not_recognised() -> None:
    """No metadata, no footer, another text: SIGNE_NON_RECONNU erreur, no signature finding."""
    rib = ("RELEVÉ D'IDENTITÉ BANCAIRE\nTitulaire du compte\nASSOCIATION EXEMPLE\nIBAN FR76 3000 6000 0112 3456 "
           "7890 189\nBIC AGRIFRPP\nDomiciliation BORDEAUX MERIADECK\nCe relevé est destiné à être remis à vos "
           "créanciers ou débiteurs pour les virements et prélèvements.")
    findings, fields = check_signed_copy(copy(rib, pages=1, meta=False, signatures=()), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_NON_RECONNU, Severity.ERREUR)]
    assert fields["identification"] is None and fields["convention_id"] is None
    assert fields["texte"]["couverture"] < 0.2


def test_a_scan_without_text_goes_to_a_human() -> None:
    """Image-only PDF: SIGNE_NUMERISE alerte, nothing compared, no SANS_SIGNATURE (signed by hand)."""
    findings, fields = check_signed_copy(copy("", meta=False, signatures=()), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_NUMERISE, Severity.ALERTE)]
    assert statut_archivage(findings) == "a_verifier" and fields["texte"] is None


def test_a_scan_with_a_stamp_and_another_page_count_goes_to_a_human() -> None:
    """A few words a page (a stamp) is still a scan; 4 pages for 3 adds SIGNE_PAGES_DIFFERENTES alerte."""
    findings, _ = check_signed_copy(copy("Reçu le 14/02/2025 — tampon de la mairie", pages=4, meta=False,
                                         signatures=()), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_NUMERISE, Severity.ALERTE),
                               (FindingCode.SIGNE_PAGES_DIFFERENTES, Severity.ALERTE)]


def test_an_ocr_scan_is_compared_only_as_an_indication() -> None:
    """A scanner's OCR garbled an amount: the differences are alertes, not a refusal."""
    ocr = TEXT.replace("50 000,00", "50 O00,00").replace("Lécluse", "Lécluse,")
    findings, _ = check_signed_copy(copy(ocr, meta=False, signatures=(), producer="ocrmypdf 16.0 / Tesseract"), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_NUMERISE, Severity.ALERTE),
                               (FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ALERTE)]
    assert statut_archivage(findings) == "a_verifier"


def test_our_own_unsigned_pdf_goes_to_a_human() -> None:
    """The issued PDF sent back unchanged (same SHA-256): SIGNE_SANS_SIGNATURE alerte only."""
    findings, fields = check_signed_copy(copy(sha256=PDF_SHA, signatures=()), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_SANS_SIGNATURE, Severity.ALERTE)]
    assert "à l'identique" in findings[0].message and fields["identification"] == "empreinte"
    assert statut_archivage(findings) == "a_verifier"


def test_a_copy_without_signature_field_goes_to_a_human() -> None:
    """Our metadata and text but no signed field (an image of a signature?): SIGNE_SANS_SIGNATURE alerte."""
    unsigned = (Signature("Signature1", False),)
    findings, fields = check_signed_copy(copy(signatures=unsigned), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_SANS_SIGNATURE, Severity.ALERTE)]
    assert fields["signatures"] == []


def test_footer_of_another_convention_is_refused() -> None:
    """Metadata stripped, the footer names another convention: SIGNE_AUTRE_CONVENTION erreur."""
    findings, fields = check_signed_copy(copy(TEXT.replace(CID, OTHER), meta=False), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_AUTRE_CONVENTION, Severity.ERREUR)]
    assert fields["identification"] == "pied_de_page" and fields["convention_id"] == OTHER


def test_footer_of_another_version_is_refused() -> None:
    """Metadata stripped, the footer says version 2: SIGNE_AUTRE_VERSION erreur."""
    findings, fields = check_signed_copy(copy(TEXT.replace("version 1 —", "version 2 —"), meta=False), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_AUTRE_VERSION, Severity.ERREUR)]
    assert fields["version"] == 2


def test_an_added_page_goes_to_a_human_a_missing_page_is_refused() -> None:
    """4 pages, text intact: PAGES_DIFFERENTES alerte; 2 pages, a page's text gone: erreur with CONTENU_MODIFIE."""
    findings, _ = check_signed_copy(copy(TEXT + "\nCertificat de signature électronique", pages=4), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_PAGES_DIFFERENTES, Severity.ALERTE)]
    two = "\n".join(f"{page}\n{FOOTER}" for page in PAGES[:2])
    findings, _ = check_signed_copy(copy(two, pages=2), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ERREUR),
                               (FindingCode.SIGNE_PAGES_DIFFERENTES, Severity.ERREUR)]


def test_a_cut_text_with_another_page_count_is_only_indicative() -> None:
    """The inspection cut the copy's text and its pages differ: what was read may not be the issued pages."""
    cover = "Dossier de preuve de la signature électronique\n" + "\n".join(PAGES[:2])
    findings, _ = check_signed_copy(copy(cover, pages=4, text_truncated=True), EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_CONTENU_MODIFIE, Severity.ALERTE),
                               (FindingCode.SIGNE_PAGES_DIFFERENTES, Severity.ALERTE)]


def test_not_a_pdf_stops_at_the_file_check() -> None:
    """A JPEG is refused as a file (FORMAT_NON_AUTORISE), nothing else is read."""
    facts = FileFacts(size=5000, sha256="2" * 64, mime="image/jpeg", declared_name="scan.jpg")
    findings, fields = check_signed_copy(facts, EMIS)
    assert codes(findings) == [(FindingCode.FORMAT_NON_AUTORISE, Severity.ERREUR)]
    assert fields["identification"] is None and fields["signatures"] == []


def test_an_encrypted_pdf_stops_at_the_file_check() -> None:
    """An encrypted PDF cannot be compared: PDF_CHIFFRE erreur, blocking."""
    facts = FileFacts(size=5000, sha256="2" * 64, mime=MIME_PDF, probleme=Probleme.CHIFFRE)
    findings, _ = check_signed_copy(facts, EMIS)
    assert codes(findings) == [(FindingCode.PDF_CHIFFRE, Severity.ERREUR)]


def test_issued_pdf_without_text_only_identifies() -> None:
    """When the issued PDF's text could not be read, identification alone decides (never a false modified)."""
    findings, _ = check_signed_copy(copy(), replace(EMIS, text="", pages=0))
    assert findings == []
    findings, _ = check_signed_copy(copy(TEXT.replace(FOOTER, ""), meta=False), replace(EMIS, text="", pages=0))
    assert codes(findings) == [(FindingCode.SIGNE_NON_RECONNU, Severity.ERREUR)]


def test_tokens_fold_accents_case_and_digit_groups() -> None:
    """« 1 900,00 € » and « 1900,00 » give the same tokens; accents and case do not matter."""
    assert tokens("Élève 1\u202f900,00 € ﬁn") == ["eleve", "1900", "00", "fin"]
    assert tokens("1 900,00") == tokens("1900,00")


def test_footer_ids_read_convention_and_avenant_footers() -> None:
    """Both footers name the convention and its version, line breaks and dashes as extracted."""
    assert footer_ids(FOOTER) == {(CID, 1)}
    assert footer_ids(f"Avenant n° 2 à la convention {OTHER} –\nversion 3 — modèle 2024.1") == {(OTHER, 3)}
    assert footer_ids("la présente convention a pour objet") == set()


@pytest.mark.parametrize(("raw", "iso"), [
    ("D:20250214093000+01'00'", "2025-02-14T09:30:00+01:00"),
    ("D:20250214093000Z", "2025-02-14T09:30:00+00:00"),
    ("D:20250214093000-05'30", "2025-02-14T09:30:00-05:30"),
    ("D:20250214", "2025-02-14T00:00:00"),
    ("D:20251399000000", "D:20251399000000"),
    ("hier", "hier"),
    (None, None),
])
def test_pdf_dates_become_iso(raw: str | None, iso: str | None) -> None:
    """PDF dates convert to ISO 8601; an unparsable one is kept as written."""
    assert iso_pdf_date(raw) == iso


# -- rule 10: the signatures' cryptographic validation -----------------------------------------------

SEAL = SignatureVerifiee("CachetConum", integre=True, approuvee=True, certification=True, signataire="conum — cachet",
                         date="2025-02-10T10:00:00+00:00", valide_du="2024-01-01T00:00:00+00:00",
                         valide_au="2030-01-01T00:00:00+00:00", couverture="revision", modifications="remplissage",
                         docmdp_ok=True)
ZOE = SignatureVerifiee("Signature1", integre=True, approuvee=True, signataire="LEFEVRE Zoé", organisation="Association",
                        emetteur="AC test", date="2025-02-14T09:30:00+01:00", horodatage="2025-02-14T08:30:05+00:00",
                        valide_du="2024-06-01T00:00:00+00:00", valide_au="2027-06-01T00:00:00+00:00",
                        couverture="revision", modifications="remplissage", docmdp_ok=True)
EMIS_REP = replace(EMIS, representant="Zoé Lefèvre")


def verified(*signatures: SignatureVerifiee) -> FileFacts:
    return copy(verifications=signatures)


def test_a_valid_trusted_signature_of_the_representative_is_archived_with_what_was_found() -> None:
    findings, fields = check_signed_copy(verified(SEAL, ZOE), EMIS_REP)
    assert findings == []
    seal, zoe = fields["signatures"]
    assert seal["certification"] is True and zoe["certification"] is False
    assert (zoe["signataire"], zoe["emetteur"], zoe["horodatage"], zoe["integre"], zoe["approuvee"],
            zoe["modifications"]) == ("LEFEVRE Zoé", "AC test", "2025-02-14T08:30:05+00:00", True, True, "remplissage")


@pytest.mark.parametrize("broken", [
    replace(ZOE, integre=False),
    replace(ZOE, integre=False, erreur="signature invalide (ValueError: bad CMS)"),
    replace(ZOE, couverture="partielle"),
])
def test_a_signature_that_does_not_match_its_bytes_is_refused(broken: SignatureVerifiee) -> None:
    findings, _ = check_signed_copy(verified(SEAL, broken), EMIS_REP)
    assert (FindingCode.SIGNATURE_INVALIDE, Severity.ERREUR) in codes(findings)
    assert statut_archivage(findings) == "refuse"


@pytest.mark.parametrize("changed", [replace(ZOE, modifications="autres"), replace(ZOE, modifications="annotations"),
                                     replace(SEAL, docmdp_ok=False)])
def test_changes_after_signing_beyond_form_filling_are_refused(changed: SignatureVerifiee) -> None:
    others = [s for s in (SEAL, ZOE) if s.champ != changed.champ]
    findings, _ = check_signed_copy(verified(changed, *others), EMIS_REP)
    assert codes(findings) == [(FindingCode.SIGNATURE_MODIFIEE_APRES, Severity.ERREUR)]


def test_an_untrusted_signer_goes_to_a_human() -> None:
    findings, _ = check_signed_copy(verified(SEAL, replace(ZOE, approuvee=False, emetteur="Autre racine")), EMIS_REP)
    assert codes(findings) == [(FindingCode.SIGNATURE_NON_APPROUVEE, Severity.ALERTE)]
    assert "Autre racine" in findings[0].message and statut_archivage(findings) == "a_verifier"


def test_an_expired_certificate_with_a_known_chain_is_expired_not_unknown() -> None:
    expired = replace(ZOE, approuvee=False, valide_au="2025-01-31T00:00:00+00:00", chaine_hors_validite=True)
    findings, _ = check_signed_copy(verified(SEAL, expired), EMIS_REP)
    assert codes(findings) == [(FindingCode.SIGNATURE_CERTIFICAT_EXPIRE, Severity.ALERTE)]
    assert "31/01/2025" in findings[0].message
    # judged at the timestamp's time when there is one: valid then, nothing to say
    in_time = replace(ZOE, horodatage="2025-01-30T12:00:00+00:00", valide_au="2025-01-31T00:00:00+00:00")
    assert check_signed_copy(verified(SEAL, in_time), EMIS_REP)[0] == []
    unknown = replace(expired, chaine_hors_validite=False)
    assert {c for c, _ in codes(check_signed_copy(verified(SEAL, unknown), EMIS_REP)[0])} == {
        FindingCode.SIGNATURE_CERTIFICAT_EXPIRE, FindingCode.SIGNATURE_NON_APPROUVEE}


def test_a_signer_other_than_the_representative_goes_to_a_human_the_seal_does_not_count() -> None:
    other = replace(ZOE, signataire="Jean Adjoint")
    findings, _ = check_signed_copy(verified(SEAL, other), EMIS_REP)
    assert codes(findings) == [(FindingCode.SIGNATURE_SIGNATAIRE_DIFFERENT, Severity.ALERTE)]
    assert "Zoé Lefèvre" in findings[0].message and "Jean Adjoint" in findings[0].message
    # only conum's seal: nobody signed
    findings, _ = check_signed_copy(verified(SEAL), EMIS_REP)
    assert FindingCode.SIGNE_SANS_SIGNATURE in [f.code for f in findings]
    # representative unknown (an old version): no comparison
    assert check_signed_copy(verified(SEAL, other), EMIS)[0] == []


def test_a_blank_copy_without_text_image_or_signature_is_refused_a_scan_goes_to_a_human() -> None:
    blank = copy("", pages=1, signatures=(), pages_images=0)
    findings, _ = check_signed_copy(blank, EMIS)
    assert codes(findings) == [(FindingCode.SIGNE_NON_RECONNU, Severity.ERREUR)]
    assert "page blanche" in findings[0].message and statut_archivage(findings) == "refuse"
    scan = copy("", pages=3, signatures=(), pages_images=3)
    assert codes(check_signed_copy(scan, EMIS)[0]) == [(FindingCode.SIGNE_NUMERISE, Severity.ALERTE)]
    unknown = copy("", pages=3, signatures=())  # images not read (older facts): a human decides, as before
    assert codes(check_signed_copy(unknown, EMIS)[0]) == [(FindingCode.SIGNE_NUMERISE, Severity.ALERTE)]
