"""Fuzzing the text parsers of untrusted pieces: no input makes them raise (bar MrzIllisible) or hang.

Random text, text built from the parsers' own vocabulary (to reach deep branches), and mutations of
real documents (deletions, insertions, label swaps, line swaps) go through ``parse_avis``,
``parse_mrz`` and the identite, contrat and RIB checks; their results must stay well-typed and
JSON-able. A last group times the checks on 200 000 characters of adversarial text.
"""

from __future__ import annotations

import json
import time
from datetime import date
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dossiers.domain.checks.contrat import check_contrat
from dossiers.domain.checks.identite import check_identite
from dossiers.domain.checks.rib import check_rib
from dossiers.domain.findings import Finding, FindingCode, Severity, statut_of
from dossiers.domain.mrz import Mrz, MrzIllisible, expiry_for, names_match, parse_mrz
from dossiers.domain.pieces import MIME_PDF, Contexte, FileFacts, PdfFacts, Signature
from dossiers.domain.sirene import AvisSirene, parse_avis
from tests.fixtures import pdf_facts
from tests.fixtures.contrat import contrat_pdf
from tests.fixtures.identite import cni_ancienne, td1, td3
from tests.fixtures.rib import rib_pdf
from tests.fixtures.sirene import AUTHOR, TITLE, avis_sirene_pdf

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TODAY = date(2024, 6, 1)
CTX = Contexte(today=TODAY, siret="21330099900017", nature="publique", denomination="Commune d'Exempleville",
               representant="Camille Exemple", conseiller="Inès Témoin-Lefèvre")
MRZ_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
ZONES = (
    td1(surname="Exemple", given_names="Camille", number="X4RTBPFW4", birth_date=date(1980, 1, 2),
        expiry=date(2031, 8, 20)),
    td3(surname="Témoin-Lefèvre", given_names="Inès", number="19FV12345", birth_date=date(1990, 5, 12),
        expiry=date(2029, 1, 3)),
    cni_ancienne(surname="Exemple", given_names="Camille", issue=date(2010, 6, 1), birth_date=date(1975, 2, 12)),
)


@cache
def real_texts() -> dict[str, str]:
    """Texts of the generated avis, contract and RIB as pypdf extracts them (built once)."""
    avis = pdf_facts(avis_sirene_pdf(siren="213300999", siret="21330099900017", denomination="COMMUNE D'EXEMPLEVILLE",
                                     date_avis=date(2024, 5, 2)))
    contrat = pdf_facts(contrat_pdf(date_debut=date(2024, 3, 1), date_fin=date(2025, 8, 31)))
    rib = pdf_facts(rib_pdf(titulaire="COMMUNE D EXEMPLEVILLE", iban="FR7630006000011234567890189", bic="AGRIFRPP882"))
    return {"avis": avis.text, "contrat": contrat.text, "rib": rib.text}


AVIS_LABELS = ["Identifiant SIREN", "Identifiant SIRET du siège", "Identifiant SIRET", "Dénomination", "Nom",
               "Prénoms", "Catégorie juridique", "Activité Principale Exercée (APE)", "Adresse", "À la date du",
               "Description de l'entreprise", "Description de l'établissement", "Entreprise active depuis le",
               "Entreprise cessée le", "Etablissement fermé depuis le", "Etablissement actif depuis le"]
CONTRAT_WORDS = ["CDD", "CDI", "PEC", "CUI", "contrat de projet", "durée déterminée", "durée indéterminée",
                 "à compter du", "jusqu'au", "prendra fin le", "date d'embauche", "du", "au", "1er", "mars", "août",
                 "31/02/2024", "01/03/2024", "99/99/9999", "2024", "Le salarié :", "Nom du salarié", "Prénom :",
                 "ci-après dénommée « la salariée »", "l'employeur", "M.", "Mme", "Inès", "TÉMOIN-LEFÈVRE",
                 "période d'essai", "pour une durée de 18 mois", "Lu et approuvé", "Signé électroniquement par",
                 "précédée de la mention", "\n", ":", ",", " ", "(", "«", "»"]
RIB_WORDS = ["IBAN", "BIC", "Titulaire du compte", "Intitulé du compte", "Titulaire", "FR76", "3000", "6000",
             "0112", "3456", "7890", "189", "188", "DE89", "AGRIFRPP882", "COMMUNE", "D'EXEMPLEVILLE", "SGC",
             "Domiciliation", "\n", " ", ":", "(", ")"]


def vocabulary(words: list[str]) -> st.SearchStrategy[str]:
    """Text made of the parser's own words and random bits, so that branches deep in the parser are reached."""
    return st.lists(st.sampled_from(words) | st.text(max_size=8), max_size=60).map(" ".join)


@st.composite
def mutated(draw: st.DrawFn, text: str, labels: list[str]) -> str:
    """``text`` after 1-6 random edits: a deletion, an insertion, a label swap, a line swap or a duplication."""
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "insert", "labels", "lines", "duplicate"]))
        i = draw(st.integers(0, len(text)))
        if op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 60)):]
        elif op == "insert":
            text = text[:i] + draw(st.text(max_size=30) | st.sampled_from([*labels, "\n", "/", "0", " - "])) + text[i:]
        elif op == "labels":
            a, b = draw(st.sampled_from(labels)), draw(st.sampled_from(labels))
            text = text.replace(a, "\ue000").replace(b, a).replace("\ue000", b)
        elif op == "lines":
            lines = text.split("\n")
            j, k = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[j], lines[k] = lines[k], lines[j]
            text = "\n".join(lines)
        else:
            text = text[:i] + text[i: i + draw(st.integers(1, 200))] + text[i:]
    return text


def assert_avis(avis: AvisSirene) -> None:
    assert isinstance(avis, AvisSirene)
    assert avis.siren is None or (len(avis.siren) == 9 and avis.siren.isdigit())
    assert avis.siret is None or (len(avis.siret) == 14 and avis.siret.isdigit())
    assert avis.date_avis is None or isinstance(avis.date_avis, date)
    assert avis.code_postal is None or len(avis.code_postal) == 5


@FUZZ
@given(st.text(max_size=3000), st.none() | st.text(max_size=80), st.none() | st.sampled_from([AUTHOR, ""]))
def test_parse_avis_survives_random_text(text: str, title: str | None, author: str | None) -> None:
    """Any text and metadata give an AvisSirene with well-formed fields, never an exception."""
    assert_avis(parse_avis(text, title=title, author=author))


@FUZZ
@given(st.data())
def test_parse_avis_survives_mutations_of_a_real_avis(data: st.DataObject) -> None:
    """A real avis text with deletions, insertions, swapped labels or lines is read without exception."""
    text = data.draw(mutated(real_texts()["avis"], AVIS_LABELS))
    assert_avis(parse_avis(text, title=TITLE, author=AUTHOR))


@FUZZ
@given(vocabulary(AVIS_LABELS + ["982 549 826", "982 549 826 00013", "14/02/2024", "7210 - Commune", "\n"]))
def test_parse_avis_survives_its_own_vocabulary(text: str) -> None:
    """Labels, numbers and dates in random order are read without exception."""
    assert_avis(parse_avis(text, title=TITLE, author=AUTHOR))


def read_zone(text: str) -> Mrz | None:
    """parse_mrz, letting only MrzIllisible through; the zone's derived values must be computable too."""
    try:
        mrz = parse_mrz(text, today=TODAY)
    except MrzIllisible as exc:
        assert exc.message and exc.code
        return None
    expiry_for(mrz)
    names_match(mrz, "Camille", "Exemple")
    assert all(e.message for e in mrz.errors)
    return mrz


@st.composite
def zone_shaped(draw: st.DrawFn) -> str:
    """1-4 lines of the MRZ alphabet, lengths near 30, 36 and 44, often with a real document prefix."""
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        length = draw(st.sampled_from([29, 30, 31, 35, 36, 37, 43, 44, 45]) | st.integers(0, 100))
        prefix = draw(st.sampled_from(["", "IDFRA", "P<FRA", "I<UTO", "ID"]))
        lines.append((prefix + draw(st.text(alphabet=MRZ_ALPHABET, min_size=length, max_size=length)))[:length])
    return "\n".join(lines)


@FUZZ
@given(zone_shaped())
def test_parse_mrz_survives_zone_shaped_text(text: str) -> None:
    """Lines of the MRZ alphabet of any count and length parse or raise MrzIllisible, nothing else."""
    read_zone(text)


@FUZZ
@given(st.text(max_size=500))
def test_parse_mrz_survives_random_unicode(text: str) -> None:
    """Any unicode text parses or raises MrzIllisible."""
    read_zone(text)


@FUZZ
@given(st.sampled_from(ZONES), st.lists(st.tuples(st.integers(0, 89), st.sampled_from(MRZ_ALPHABET)), max_size=6))
def test_parse_mrz_survives_corrupted_real_zones(zone: str, changes: list[tuple[int, str]]) -> None:
    """Real zones with characters replaced read with errors listed (or MrzIllisible), never crash."""
    chars = list(zone)
    for index, char in changes:
        if index < len(chars) and chars[index] != "\n":
            chars[index] = char
    read_zone("".join(chars))


def assert_result(result: tuple[list[Finding], dict]) -> None:
    findings, fields = result
    assert all(isinstance(f, Finding) and f.code in FindingCode and f.severity in Severity and f.message
               for f in findings)
    statut_of(findings)
    json.dumps(fields)


def facts(text: str, signatures: tuple[Signature, ...] = ()) -> FileFacts:
    return FileFacts(size=len(text), sha256="0" * 64, mime=MIME_PDF,
                     pdf=PdfFacts(pages=1, text=text, signatures=signatures))


SIGNATURES = st.lists(st.builds(Signature, st.text(max_size=10), st.booleans(), st.none() | st.text(max_size=20)),
                      max_size=3).map(tuple)


@FUZZ
@given(st.text(max_size=2000) | vocabulary(CONTRAT_WORDS), SIGNATURES)
def test_check_contrat_survives_random_text(text: str, signatures: tuple[Signature, ...]) -> None:
    """Random text and random signature fields give well-formed findings and JSON-able fields."""
    assert_result(check_contrat(facts(text, signatures), CTX))


@FUZZ
@given(st.data())
def test_check_contrat_survives_mutations_of_a_real_contract(data: st.DataObject) -> None:
    """A real contract's text, mutated, is checked without exception."""
    text = data.draw(mutated(real_texts()["contrat"], ["CONTRAT", "Article 2", "à compter du", "prendra fin le",
                                                       "la salariée", "Mme", "Lu et approuvé"]))
    assert_result(check_contrat(facts(text), CTX))


@FUZZ
@given(st.text(max_size=2000) | vocabulary(RIB_WORDS))
def test_check_rib_survives_random_text(text: str) -> None:
    """Random text gives well-formed RIB findings and fields."""
    assert_result(check_rib(facts(text), CTX))


@FUZZ
@given(st.data())
def test_check_rib_survives_mutations_of_a_real_rib(data: st.DataObject) -> None:
    """A real RIB's text, mutated, is checked without exception."""
    text = data.draw(mutated(real_texts()["rib"], ["IBAN", "BIC", "Titulaire du compte", "FR76", "\n"]))
    assert_result(check_rib(facts(text), CTX))


@FUZZ
@given(st.text(max_size=1000) | zone_shaped().map(lambda z: "Carte\n" + z.replace("<", "« ") + "\nfin"),
       st.none() | st.text(max_size=120) | zone_shaped(), st.none() | st.text(max_size=40))
def test_check_identite_survives_random_text_and_zones(text: str, given_zone: str | None,
                                                       representant: str | None) -> None:
    """Random text layers, given zones and representatives' names give well-formed identity findings."""
    ctx = Contexte(today=TODAY, mrz=given_zone, representant=representant)
    assert_result(check_identite(facts(text), ctx))


ADVERSARIAL = ["Le salarié :\n", "Nom du salarié : X Prénom : ", "ci-après dénommée « la salariée » M. Jean ",
               "du 01/01/2024 au ", "à compter du ", "IBAN FR76 ", "FR76 3000 6000 0112 3456 7890 188 ",
               "Titulaire\n", "lu et approuvé ", "AAAA<<<<<<<<<<<<<<<<<<<<<<<<<<\n", "M. "]


@pytest.mark.parametrize("piece", ADVERSARIAL)
def test_checks_stay_fast_on_large_adversarial_text(piece: str) -> None:
    """200 000 characters repeating what the parsers look for are checked in well under the time limit."""
    text = (piece * (200_000 // len(piece) + 1))[:200_000]
    for check in (check_contrat, check_rib, check_identite):
        started = time.perf_counter()
        assert_result(check(facts(text), CTX))
        assert time.perf_counter() - started < 5, check.__name__
