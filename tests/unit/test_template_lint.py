"""The lint finds what would break a template edited in Word or LibreOffice, the normaliser takes out
what the editor adds, and the text projection of each committed template is current.

Templates are built by code (python-docx) with the house styles, then spoiled one way at a time.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement

from dossiers.adapters.docx import PreparedTemplate
from dossiers.adapters.docx.lint import lint_template, projection
from dossiers.adapters.docx.normalise import normalise_docx
from dossiers.domain import avenants
from dossiers.entrypoints.cli import cli
from dossiers.settings import ROOT

TEMPLATES = ROOT / "templates"
HOUSE = ("Liste à tirets", "Note", "Balise", "Texte tableau", "En-tête tableau")


def template(folder: Path, body: Callable[[Any], None], variables: tuple[str, ...] = ("structure.nom",),
             name: str = "convention.docx", styles: tuple[str, ...] = HOUSE) -> Path:
    """A template with the house styles, Article 1 and 2, what ``body`` adds, and its manifest entry."""
    doc = Document()
    for style in styles:
        doc.styles.add_style(style, WD_STYLE_TYPE.PARAGRAPH)
    doc.add_paragraph("Convention", "Title")
    doc.add_paragraph("Article 1 — Objet", "Heading 1")
    doc.add_paragraph("La structure {{ structure.nom }} s'engage.")
    doc.add_paragraph("Article 2 — Durée", "Heading 1")
    doc.add_paragraph("2.1 Début. Elle court selon l'article 1.")
    body(doc)
    path = folder / name
    doc.save(path)
    manifest = folder / "manifest.toml"
    entries = manifest.read_text(encoding="utf-8") if manifest.exists() else ""
    listed = ", ".join(f'"{v}"' for v in variables)
    manifest.write_text(entries + f'[{path.stem}]\nfichier = "{name}"\nversion = "t"\nvariables = [{listed}]\n',
                        encoding="utf-8")
    return path


def codes(path: Path) -> list[str]:
    return [f.code for f in lint_template(path)]


def nothing(doc: Any) -> None:
    pass


def test_a_clean_template_passes(tmp_path: Path) -> None:
    assert lint_template(template(tmp_path, nothing)) == []


def test_a_tag_split_between_two_formattings_is_found_with_its_place(tmp_path: Path) -> None:
    def split(doc: Any) -> None:
        p = doc.add_paragraph("Pour ")
        p.add_run("{{ struc").bold = True
        p.add_run("ture.nom }}")

    [finding] = lint_template(template(tmp_path, split))
    assert (finding.code, finding.lieu, finding.fichier) == ("balise_coupee", "paragraphe 6", "convention.docx")
    assert "{{ structure.nom }}" in finding.message


def test_a_tag_split_by_editing_sessions_is_mended_by_the_normaliser(tmp_path: Path) -> None:
    """Same formatting, two runs (what an editor writes after two sittings): whole again at load."""
    def sessions(doc: Any) -> None:
        p = doc.add_paragraph()
        p.add_run("Nom : {{ struc")
        p.add_run("ture.nom }}.")

    assert lint_template(template(tmp_path, sessions)) == []


def test_broken_jinja_and_unknown_or_unused_variables_are_found(tmp_path: Path) -> None:
    path = template(tmp_path, lambda d: d.add_paragraph("{% if structure.nom %}sans fin"))
    [finding] = lint_template(path)
    assert finding.code == "syntaxe_jinja" and "sans fin" in finding.message
    other = tmp_path / "b"
    other.mkdir()
    path = template(other, lambda d: d.add_paragraph("{{ structure.couleur }}"), variables=("structure.nom", "x.y"))
    assert sorted((f.code, f.lieu) for f in lint_template(path)) == [
        ("variable_inconnue", "paragraphe 6"), ("variable_manquante", "modèle")]


def test_a_missing_house_style_is_found(tmp_path: Path) -> None:
    path = template(tmp_path, nothing, styles=tuple(s for s in HOUSE if s != "Balise"))
    [finding] = lint_template(path)
    assert finding.code == "style_absent" and "Balise" in finding.message


def test_paragraph_and_row_tags_must_stand_alone_and_rows_close_in_their_table(tmp_path: Path) -> None:
    def tables(doc: Any) -> None:
        doc.add_paragraph("{%p if structure.nom %} et du texte")
        doc.add_paragraph("{%p endif %}")
        doc.add_paragraph("{%tr for x in structure.nom %}")
        table = doc.add_table(rows=2, cols=2)
        table.cell(0, 0).text = "{%tr for l in structure.nom %}"
        table.cell(1, 0).text = "{{ l }}"
        table.cell(1, 1).text = "{%tr endfor %}"
        table.rows[1]._tr.remove(table.rows[1]._tr.tc_lst[-1])  # a row one cell short

    found = {(f.code, f.lieu) for f in lint_template(template(tmp_path, tables))}
    assert ("balise_paragraphe_accompagnee", "paragraphe 6") in found
    assert ("balise_ligne_hors_tableau", "paragraphe 8") in found
    assert ("tableau_irregulier", "tableau 1, ligne 2") in found
    assert ("lignes_repetees_desequilibrees", "tableau 1") in found
    assert ("syntaxe_jinja", "corps") in found  # the {%tr for %} outside the table has no end either


def test_article_numbers_run_in_order_and_every_reference_names_a_heading(tmp_path: Path) -> None:
    def numbering(doc: Any) -> None:
        doc.add_paragraph("2.3 Fin. Selon l'article 4, l'article 2.1 et l'annexe 1.")
        doc.add_paragraph("Article 4 — Litiges", "Heading 1")
        doc.add_paragraph("Article 10 de la loi n° 2000-321, son article 12 ; article 6, paragraphe 1, du RGPD.")
        doc.add_paragraph("Annexe 1 — Postes", "Heading 1")
        doc.add_paragraph("Litiges", "Heading 1")

    found = [(f.code, f.lieu, f.message) for f in lint_template(template(tmp_path, numbering))]
    assert [(c, lieu) for c, lieu, _ in found] == [
        ("numerotation", "paragraphe 6"), ("numerotation", "paragraphe 7"), ("titre_mal_forme", "paragraphe 10")]
    assert "Article 4 au lieu de Article 3" in found[1][2]
    dangling = tmp_path / "b"
    dangling.mkdir()
    path = template(dangling, lambda d: d.add_paragraph("Selon les articles 1 (objet), 2 et 7, et l'annexe 2."))
    assert sorted(f.message.split(" cité")[0] for f in lint_template(path)) == ["annexe 2", "article 7"]


def test_an_avenant_refers_to_the_articles_of_the_convention_beside_it(tmp_path: Path) -> None:
    template(tmp_path, nothing)
    avenant = template(tmp_path, lambda d: d.add_paragraph("L'article 2.1 de la convention, les articles 1 et 9 de "
                                                           "la convention et l'article 2 ci-dessous."),
                       name="avenant.docx")
    [finding] = lint_template(avenant)
    assert finding.code == "renvoi_inconnu" and finding.message.startswith("article 9 cité")
    assert "de la convention" in finding.message


def test_a_stale_text_projection_is_found_and_rewritten_by_the_command(tmp_path: Path) -> None:
    path = template(tmp_path, nothing)
    (tmp_path / "convention.txt").write_text("ancienne rédaction\n", encoding="utf-8")
    assert codes(path) == ["projection_perimee"]
    env = {"CONUM_TEMPLATES_DIR": str(tmp_path)}
    assert CliRunner().invoke(cli, ["templates", "text", "--check"], env=env).exit_code == 1
    done = CliRunner().invoke(cli, ["templates", "text"], env=env)
    assert done.exit_code == 0, done.output
    assert codes(path) == []
    assert "## Article 2 — Durée\n2.1 Début." in (tmp_path / "convention.txt").read_text(encoding="utf-8")


def test_check_exits_1_with_file_place_code_and_message_and_json(tmp_path: Path) -> None:
    path = template(tmp_path, lambda d: d.add_paragraph("{{ structure.couleur }}"))
    runner = CliRunner()
    done = runner.invoke(cli, ["templates", "check", str(path)])
    assert done.exit_code == 1
    assert "1 problème(s)" in done.output and "paragraphe 6" in done.output and "variable_inconnue" in done.output
    as_json = runner.invoke(cli, ["templates", "check", str(path), "--json"])
    out = json.loads(as_json.output)
    assert as_json.exit_code == 1 and out["conforme"] is False
    assert out["constats"] == [{"fichier": "convention.docx", "lieu": "paragraphe 6", "code": "variable_inconnue",
                                "message": out["constats"][0]["message"]}]
    assert "structure.couleur" in out["constats"][0]["message"]
    assert runner.invoke(cli, ["templates", "check", str(tmp_path / "absent.docx")]).exit_code == 2
    (tmp_path / "pas-un-docx.docx").write_text("texte", encoding="utf-8")
    done = runner.invoke(cli, ["templates", "check", str(tmp_path / "pas-un-docx.docx"), "--json"])
    assert done.exit_code == 1 and json.loads(done.output)["constats"][0]["code"] == "modele_illisible"


def test_committed_text_projections_are_current() -> None:
    """templates/*.txt beside each .docx: a wording change shows in the review (`conum templates text`)."""
    for path in sorted(TEMPLATES.glob("*.docx")):
        assert (TEMPLATES / f"{path.stem}.txt").read_text(encoding="utf-8") == projection(path), path.name


def test_the_convention_headings_the_avenants_name_exist() -> None:
    """The avenants list the convention's headings they change (domain/avenants.py): each is one."""
    text = projection(TEMPLATES / "convention.docx")
    for heading in (avenants.ARTICLE_DUREE, avenants.ARTICLE_MONTANT, avenants.ARTICLE_VERSEMENT,
                    avenants.ARTICLE_REVERSEMENT, avenants.ARTICLE_RESILIATION, avenants.ANNEXE_POSTES,
                    avenants.ANNEXE_ECHEANCIER):
        assert f"\n## {heading}\n" in text, heading


def _noisy(docx: bytes) -> bytes:
    """The same document as an editor saves it: members reversed and dated now, rsids on every
    paragraph, the first text run cut in two, a spelling mark, a revision counter."""
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    doc = parts["word/document.xml"].decode()
    doc = doc.replace("<w:p>", '<w:p w:rsidR="00A1B2C3" w:rsidRDefault="00A1B2C3">')
    doc = doc.replace("<w:t>Convention de subvention</w:t>",
                      "<w:t>Convention de</w:t></w:r><w:proofErr w:type=\"spellStart\"/><w:r><w:t xml:space=\"preserve\">"
                      " subvention</w:t>", 1)
    parts["word/document.xml"] = doc.encode()
    parts["docProps/core.xml"] = parts["docProps/core.xml"].replace(b"<cp:revision>1<", b"<cp:revision>7<")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in reversed(list(parts)):
            z.writestr(name, parts[name])
    return out.getvalue()


def test_what_an_editor_adds_does_not_change_the_rendered_convention(tmp_path: Path) -> None:
    from tests.factories import demande
    from tests.unit.test_docx_template import context

    clean = (TEMPLATES / "convention.docx").read_bytes()
    noisy = _noisy(clean)
    assert b"Convention de</w:t>" in zipfile.ZipFile(io.BytesIO(noisy)).read("word/document.xml")
    (tmp_path / "convention.docx").write_bytes(noisy)
    ctx = context(demande())
    assert PreparedTemplate(tmp_path / "convention.docx").render(ctx) == PreparedTemplate(
        TEMPLATES / "convention.docx").render(ctx)
    assert normalise_docx(noisy) == normalise_docx(clean) == clean  # committed in normal form, idempotent


@pytest.mark.parametrize("name", ["convention", "avenant", "resiliation"])
def test_the_normal_form_keeps_every_paragraph(name: str) -> None:
    raw = (TEMPLATES / f"{name}.docx").read_bytes()
    before, after = Document(io.BytesIO(_noisy(raw))), Document(io.BytesIO(normalise_docx(_noisy(raw))))
    assert [p.text for p in before.paragraphs] == [p.text for p in after.paragraphs]
    assert b"rsid" not in zipfile.ZipFile(io.BytesIO(normalise_docx(_noisy(raw)))).read("word/document.xml")


def test_a_ref_field_to_a_missing_bookmark_is_found(tmp_path: Path) -> None:
    def field(doc: Any) -> None:
        run = doc.add_paragraph("Voir ").add_run()
        instr = OxmlElement("w:instrText")
        instr.text = " REF _Ref_absent \\h "
        run._r.append(instr)

    assert codes(template(tmp_path, field)) == ["renvoi_champ_orphelin"]
