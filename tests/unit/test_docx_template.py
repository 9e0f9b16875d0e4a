"""The convention template renders every field as typed, like stock docxtpl, and matches its manifest."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import jinja2
import pytest
from docx import Document
from docxtpl import DocxTemplate

from dossiers.adapters.docx import (
    PreparedTemplate,
    load_manifest,
    missing_paths,
    template_variables,
)
from dossiers.adapters.rules import RulesRepository
from dossiers.domain.context import convention_context
from dossiers.domain.demande import parse_demande
from dossiers.domain.rules import calculer
from dossiers.errors import TemplateError
from dossiers.settings import ROOT
from tests.factories import EXAMPLES, demande, example

TEMPLATES = ROOT / "templates"
RULES = RulesRepository(ROOT / "config" / "rules")


@pytest.fixture(scope="module")
def prepared() -> PreparedTemplate:
    return PreparedTemplate(TEMPLATES / "convention.docx")


def context(payload, version=1):
    d = parse_demande(payload)
    rules = RULES.for_vague(d.vague)
    return convention_context(
        d, calculer(d, rules), rules,
        convention_id=f"CN-V{d.vague}-{d.structure.id}", version=version, modele_version="test",
        date_edition=date(2026, 11, 26),
    )


def text_of(docx: bytes) -> str:
    doc = Document(io.BytesIO(docx))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
    parts += [p.text for s in doc.sections for p in s.footer.paragraphs]
    return "\n".join(parts)


def stock(payload) -> bytes:
    tpl = DocxTemplate(TEMPLATES / "convention.docx")
    tpl.render(context(payload), jinja_env=jinja2.Environment(autoescape=True), autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


ALL_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("*.json"))


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_prepared_template_gives_the_same_text_as_stock_docxtpl(prepared, name):
    payload = example(name)
    assert text_of(prepared.render(context(payload))) == text_of(stock(payload))


def test_special_characters_come_out_as_typed(prepared):
    payload = example("association-caracteres-speciaux.json")
    docx = prepared.render(context(payload))
    text = text_of(docx)
    assert "Association « Les Œuvres & <Lumières> » — L'Haÿ-les-Roses 😀" in text
    assert "D'Artagnan & Fils <SARL>" in text
    assert "Zoë O'Connor-Dœuf" in text
    # The line break of the address is a real Word line break, not a lost character.
    body = zipfile.ZipFile(io.BytesIO(docx)).read("word/document.xml").decode()
    assert "Maison des associations</w:t><w:br/>" in body
    assert '3 rue "Jean-Jaurès", 94240' in text


def test_public_and_private_wording_differ(prepared):
    public = text_of(prepared.render(context(demande())))
    private_payload = demande(structure__nature="privee", structure__categorie_juridique="9220")
    private = text_of(prepared.render(context(private_payload)))
    assert "personne morale de droit public" in public
    assert "personne morale de droit privé" in private
    assert "comptable public" in public and "comptable public" not in private
    assert "2000-321" in private and "2000-321" not in public


def test_rendering_is_deterministic_and_never_reuses_a_previous_demande(prepared):
    a, b = example("commune-qpv-3-postes.json"), example("association-1-poste.json")
    first_a = prepared.render(context(a))
    first_b = prepared.render(context(b))
    assert prepared.render(context(a)) == first_a
    assert "Roubaix" not in text_of(first_b)
    assert first_b == PreparedTemplate(TEMPLATES / "convention.docx").render(context(b))


def test_manifest_lists_exactly_what_the_template_reads(prepared):
    manifest = load_manifest(TEMPLATES)["convention"]
    assert set(manifest.variables) == template_variables(prepared)


@pytest.mark.parametrize("name", ALL_EXAMPLES)
def test_context_provides_every_variable_of_the_manifest(name):
    manifest = load_manifest(TEMPLATES)["convention"]
    assert missing_paths(manifest.variables, context(example(name))) == []


def test_missing_paths_catches_a_variable_the_context_lacks():
    ctx = context(demande())
    assert missing_paths(["structure.couleur", "postes[].salaire", "structure.siret"], ctx) == [
        "postes[].salaire",
        "structure.couleur",
    ]


def test_a_template_reading_an_unknown_variable_fails_at_render(tmp_path: Path):
    doc = Document()
    doc.add_paragraph().add_run("{{ structure.couleur }}")
    doc.save(tmp_path / "bad.docx")
    with pytest.raises(TemplateError) as err:
        PreparedTemplate(tmp_path / "bad.docx").render(context(demande()))
    assert "couleur" in err.value.message


ARTICLES = ("Objet", "Durée", "Montant de la subvention", "Modalités de versement", "Obligations de la Structure",
            "Justification, contrôle et reversement", "Modification par avenant", "Résiliation",
            "Données personnelles", "Litiges")


def test_the_generated_convention_states_its_amounts_its_articles_and_its_annexes(prepared):
    """The template is read by its content, not compared with a generator: the convention of the
    standard demande (2 public postes, vague 2) states its total in figures and words, its three
    tranches, its ten articles in order and its two annexes."""
    text = text_of(prepared.render(context(demande()))).replace("\xa0", " ")
    assert "127 500,00 € (cent vingt-sept mille cinq cents euros)" in text
    assert all(amount in text for amount in ("52 500,00 €", "37 500,00 €"))
    headings = [line for line in text.splitlines() if line.startswith(("Article ", "Annexe "))]
    assert headings == [f"Article {n} — {titre}" for n, titre in enumerate(ARTICLES, 1)] + [
        "Annexe 1 — Liste des postes", "Annexe 2 — Échéancier prévisionnel des versements"]
    assert "{{" not in text and "{%" not in text


def test_the_document_says_which_postes_carry_the_bonus(prepared):
    # 4 public postes, P-1 in a QPV, P-2 in a ZRR: 4 × 42 500 + 2 × 7 500 = 185 000,00 €, of which
    # 2 × 7 500 = 15 000,00 € of bonification; the annex marks P-1 and P-2, not P-3.
    text = text_of(prepared.render(context(example("intercommunalite-postes-qpv-zrr.json")))).replace("\xa0", " ")
    assert "185 000,00 € (cent quatre-vingt-cinq mille euros) pour quatre (4) postes" in text
    assert "soit 42 500,00 € par poste pour la durée de la convention, bonification non comprise" in text
    assert ("les deux (2) postes dont le lieu de permanence y est situé, signalés en annexe 1, bénéficient d’une "
            "bonification de 7 500,00 € par poste, soit au total 15 000,00 €") in text
    assert "lieu de permanence en QPV (commune 47323) : bonification" in text
    assert "lieu de permanence en ZRR (commune 47175) : bonification" in text
    assert "vacant depuis le 1er juillet 2024 ; lieu de permanence : commune 47001" in text
    # the structure-level flag (deprecated) keeps its wording: every poste carries the bonus
    old = text_of(prepared.render(context(example("commune-qpv-3-postes.json")))).replace("\xa0", " ")
    assert "soit 50 000,00 € par poste" in old and "soit 22 500,00 € pour l’ensemble des postes" in old


def test_tranches_already_due_at_issue_are_payable_at_signature(prepared):
    """A convention issued on 6 December 2026 for a period from 1 March 2024: its three tranches
    (1 March 2024, 2025, 2026) fell due before; none is dated in the past."""
    d = parse_demande(demande(convention__date_debut="2024-03-01"))
    rules = RULES.for_vague(d.vague)

    def rendered(edition: date) -> str:
        return text_of(prepared.render(convention_context(
            d, calculer(d, rules), rules, convention_id="CN-V2-STR-000123", version=1, modele_version="test",
            date_edition=edition)))

    late = rendered(date(2026, 12, 6))
    for year in (2024, 2025, 2026):
        assert f"payable à la signature (échéance initiale : 1er mars {year})" in late
    assert "Édition du 6 décembre 2026" in late
    # Issued before the period: each tranche keeps its date, none « payable à la signature ».
    early = rendered(date(2024, 2, 15))
    assert "payable à la signature" not in early
    assert all(f"\n1er mars {year}\n" in early for year in (2024, 2025, 2026))
    # Issued on the first tranche's day: that one is due that day, not already passed.
    same_day = convention_context(d, calculer(d, rules), rules, convention_id="CN-V2-STR-000123", version=1,
                                  modele_version="test", date_edition=date(2024, 3, 1))
    assert [(t["echue"], t["echeance"]) for t in same_day["echeancier"]] == [
        (False, "1er mars 2024"), (False, "1er mars 2025"), (False, "1er mars 2026")]
