"""check_file: the file findings every kind shares, from hand-built facts (no file, no process)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dossiers.domain.checks.fichier import ACTIVE_CONTENT, blocking, check_file, mo
from dossiers.domain.findings import FindingCode as C
from dossiers.domain.findings import Severity
from dossiers.domain.pieces import (
    DEFAULT_POLICIES,
    MIME_JPEG,
    MIME_PDF,
    MIME_PNG,
    FileFacts,
    ImageFacts,
    PdfFacts,
    PieceKind,
    Probleme,
    Signature,
)

SIRENE = DEFAULT_POLICIES[PieceKind.SIRENE]  # PDF only, 5 MB, 3 pages
IDENTITE = DEFAULT_POLICIES[PieceKind.IDENTITE]  # PDF, JPEG or PNG, 20 MB, 2 pages
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "Avis de situation au répertoire Sirene, SIRET 213 300 999 00017"


def pdf_facts(**changes: object) -> FileFacts:
    facts = FileFacts(size=20_000, sha256="0" * 64, mime=MIME_PDF, declared_name="avis.pdf",
                      pdf=PdfFacts(pages=1, text=TEXT))
    return replace(facts, **changes)  # type: ignore[arg-type]


def image_facts(**changes: object) -> FileFacts:
    facts = FileFacts(size=90_000, sha256="0" * 64, mime=MIME_JPEG, declared_name="cni.jpg",
                      image=ImageFacts("JPEG", 1600, 1000))
    return replace(facts, **changes)  # type: ignore[arg-type]


def only(findings: list, code: C):
    assert [f.code for f in findings] == [code], findings
    assert findings[0].severity is Severity.ERREUR
    return findings[0]


def test_a_readable_pdf_of_an_accepted_type_gives_no_finding() -> None:
    assert check_file(pdf_facts(), SIRENE) == []
    assert check_file(image_facts(), IDENTITE) == []
    assert check_file(pdf_facts(declared_name=None), SIRENE) == []


def test_signatures_and_missing_text_are_facts_for_the_kind_checks_not_file_findings() -> None:
    signed = PdfFacts(pages=1, text="", signatures=(Signature("Signature1", True, "Camille Exemple"),))
    assert check_file(pdf_facts(pdf=signed), SIRENE) == []


def test_an_empty_file_says_only_that_it_is_empty() -> None:
    facts = FileFacts(size=0, sha256="e3b0", mime="application/x-empty", declared_name="avis.docx")
    finding = only(check_file(facts, SIRENE), C.FICHIER_VIDE)
    assert "vide" in finding.message


def test_a_file_over_the_limit_says_its_size_and_the_limit_in_mo() -> None:
    facts = pdf_facts(size=7_340_000, pdf=None, probleme=Probleme.TROP_GROS)
    finding = only(check_file(facts, SIRENE), C.FICHIER_TROP_GROS)
    assert "pèse 7,3\u00a0Mo, au-delà de la limite de 5\u00a0Mo" in finding.message
    assert blocking([finding])


def test_a_file_just_over_the_limit_does_not_claim_to_weigh_the_limit() -> None:
    finding = only(check_file(pdf_facts(size=5_000_001, pdf=None, probleme=Probleme.TROP_GROS), SIRENE),
                   C.FICHIER_TROP_GROS)
    assert finding.message.startswith("Le fichier dépasse la limite de 5\u00a0Mo")


def test_sizes_in_mo_use_a_french_decimal_comma() -> None:
    assert mo(5_000_000) == "5\u00a0Mo"
    assert mo(31_240_000) == "31,2\u00a0Mo"


@pytest.mark.parametrize(("mime", "policy", "found", "accepted"), [
    (DOCX, SIRENE, "un document Word (DOCX)", "seul le format PDF est accepté"),
    (MIME_PNG, SIRENE, "une image PNG", "seul le format PDF est accepté"),
    ("image/gif", IDENTITE, "une image GIF", "seuls les formats PDF, JPEG ou PNG sont acceptés"),
    ("application/zip", IDENTITE, "une archive ZIP", "PDF, JPEG ou PNG"),
    ("application/x-dosexec", SIRENE, "un programme Windows (EXE)", "PDF"),
    ("application/x-foo", SIRENE, "d'un type non pris en charge (application/x-foo)", "PDF"),
])
def test_a_refused_type_says_what_it_is_and_what_the_kind_accepts(mime, policy, found, accepted) -> None:
    facts = FileFacts(size=100, sha256="0" * 64, mime=mime)
    finding = only(check_file(facts, policy), C.FORMAT_NON_AUTORISE)
    assert found in finding.message and accepted in finding.message
    assert blocking([finding])


def test_an_extension_that_contradicts_the_content_is_incoherent() -> None:
    finding = only(check_file(image_facts(mime=MIME_PNG, image=ImageFacts("PNG", 800, 600),
                                          declared_name="RIB.PDF"), IDENTITE), C.FORMAT_INCOHERENT)
    assert "« .pdf »" in finding.message and "une image PNG" in finding.message
    assert not blocking([finding])  # the facts are complete: the kind's check may still speak


@pytest.mark.parametrize("name", ["cni.jpeg", "CNI.JPG", "scan.jfif", "dossier/sous.dossier/cni.jpg", "sans-extension",
                                  "archive.tar.gz", ".jpg"])
def test_a_matching_or_unknown_extension_is_not_incoherent(name: str) -> None:
    assert check_file(image_facts(declared_name=name), IDENTITE) == []


def test_a_refused_type_under_a_lying_name_gets_both_findings() -> None:
    facts = FileFacts(size=100, sha256="0" * 64, mime=DOCX, declared_name="avis.pdf")
    assert [f.code for f in check_file(facts, SIRENE)] == [C.FORMAT_NON_AUTORISE, C.FORMAT_INCOHERENT]


def test_a_polyglot_names_the_second_format() -> None:
    facts = image_facts(also_looks_like=("application/pdf", "application/zip"))
    finding = only(check_file(facts, IDENTITE), C.FORMAT_INCOHERENT)
    assert finding.message.startswith("Le fichier (JPEG) contient aussi")
    assert "(PDF et archive ZIP)" in finding.message


@pytest.mark.parametrize(("facts", "policy", "code", "words"), [
    (pdf_facts(pdf=None, probleme=Probleme.CORROMPU, detail="le fichier est incomplet"), SIRENE, C.PDF_CORROMPU,
     ["PDF est illisible", "le fichier est incomplet"]),
    (image_facts(image=None, probleme=Probleme.CORROMPU, detail="l'image est endommagée"), IDENTITE,
     C.IMAGE_CORROMPUE, ["image est illisible", "endommagée"]),
    (pdf_facts(pdf=None, probleme=Probleme.CHIFFRE, detail="mot de passe"), SIRENE, C.PDF_CHIFFRE,
     ["protégé", "sans protection"]),
    (pdf_facts(pdf=None, probleme=Probleme.INTERROMPU, detail="l'analyse a dépassé le temps imparti (5\u00a0s)"),
     SIRENE, C.ANALYSE_INTERROMPUE, ["interrompue", "temps imparti (5\u00a0s)"]),
    (image_facts(image=None, probleme=Probleme.INTERROMPU, detail=None), IDENTITE, C.ANALYSE_INTERROMPUE,
     ["interrompue : limite de temps ou de mémoire atteinte."]),
])
def test_a_file_that_could_not_be_read_blocks_the_kind_check(facts, policy, code, words) -> None:
    finding = only(check_file(facts, policy), code)
    for word in words:
        assert word in finding.message
    assert blocking([finding])


def test_active_content_names_what_was_found() -> None:
    facts = pdf_facts(pdf=PdfFacts(pages=1, text=TEXT, active_content=("fichier_joint", "javascript")))
    finding = only(check_file(facts, SIRENE), C.PDF_CONTENU_ACTIF)
    assert "un fichier joint et du JavaScript" in finding.message
    assert not blocking([finding])


def test_every_active_content_name_the_inspection_gives_has_french_words() -> None:
    from dossiers.adapters.inspection.pdf import ACTIVE_KINDS

    assert set(ACTIVE_CONTENT) == ACTIVE_KINDS


def test_too_many_pages_says_the_count_and_the_maximum() -> None:
    facts = pdf_facts(pdf=PdfFacts(pages=12, text=TEXT))
    finding = only(check_file(facts, SIRENE), C.PDF_TROP_DE_PAGES)
    assert "12 pages" in finding.message and "au plus 3" in finding.message
    huge = only(check_file(pdf_facts(pdf=PdfFacts(pages=10_000, text="")), SIRENE), C.PDF_TROP_DE_PAGES)
    assert "10\u00a0000 pages" in huge.message
    assert check_file(pdf_facts(pdf=PdfFacts(pages=3, text=TEXT)), SIRENE) == []


def test_findings_accumulate_when_several_things_are_wrong() -> None:
    facts = pdf_facts(declared_name="avis.jpg", also_looks_like=("application/zip",),
                      pdf=PdfFacts(pages=9, text=TEXT, active_content=("launch",)))
    codes = [f.code for f in check_file(facts, SIRENE)]
    assert codes == [C.FORMAT_INCOHERENT, C.FORMAT_INCOHERENT, C.PDF_CONTENU_ACTIF, C.PDF_TROP_DE_PAGES]
    assert not blocking(check_file(facts, SIRENE))


def test_blocking_is_false_without_findings() -> None:
    assert blocking([]) is False
