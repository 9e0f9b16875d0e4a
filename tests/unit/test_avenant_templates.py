"""The avenant and résiliation templates are what their build script makes, match the manifest, and
render the figures of a change (before/after, trop-perçu, new échéancier, postes, signatures).

The states and figures are built by hand for a public vague-2 convention of three postes
(17 500 / 12 500 / 12 500 € per poste), so that the expected amounts can be checked on paper:
P-3 given back on 30 June 2025 is funded 181/365 of year 2, i.e. 12 500 × 181 / 365 = 6 198,63 €.
``tests/e2e/test_avenant_pdf.py`` reuses these contexts.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from docx import Document

from dossiers.adapters.docx import (
    PreparedTemplate,
    load_manifest,
    missing_paths,
    template_variables,
)
from dossiers.domain.context_avenant import AvenantPrecedent, Modification, avenant_context, resiliation_context
from dossiers.domain.etat import (
    AnneeFigures,
    EtatConvention,
    Figures,
    Paiement,
    PosteFinance,
    StatutConvention,
)
from dossiers.domain.formatting import NBSP
from dossiers.domain.model import EtatPoste, Nature, Representant, Structure, TypeContrat
from dossiers.entrypoints.cli import cli
from dossiers.adapters.rules import RulesRepository
from dossiers.settings import ROOT
from tests.factories import demande
from tests.unit.test_docx_template import context as convention_ctx

TEMPLATES = ROOT / "templates"
D = Decimal
ANNEES = ((1, date(2024, 1, 1), date(2024, 12, 31)), (2, date(2025, 1, 1), date(2025, 12, 31)),
          (3, date(2026, 1, 1), date(2026, 12, 31)))  # fmt: skip

STRUCTURE = Structure(
    id="STR-000123", siret="21330099900017", denomination="Commune d'Exempleville", nature=Nature.PUBLIQUE,
    categorie_juridique="7210", departement="33", adresse="1 place de la Mairie, 33000 Exempleville",
    zone_prioritaire=False, representant=Representant("Mme", "Camille", "Exemple", "Maire"),
)
POSTES = (
    PosteFinance("P-1", date(2024, 1, 1), conseiller="Inès Témoin-Lefèvre"),
    PosteFinance("P-2", date(2024, 1, 1), conseiller="Karim Bouzid"),
    PosteFinance("P-3", date(2024, 1, 1), conseiller="Zoé Martin"),
)
PAIEMENTS = (Paiement(1, date(2024, 1, 15), D("52500.00")), Paiement(2, date(2025, 1, 15), D("37500.00")))
ETAT_V2 = EtatConvention(
    convention_id="CN-V2-STR-000123", version=2, vague=2, regles="vague-2",
    date_debut=date(2024, 1, 1), date_fin=date(2026, 12, 31), natures=((date(2024, 1, 1), Nature.PUBLIQUE),),
    zone_prioritaire=False, postes=POSTES, paiements=PAIEMENTS,
)
# avenant n° 1 issued on 16 September 2024, its signed copy (verified signatures) dated 2 October 2024
PRECEDENT = AvenantPrecedent(1, "Transfert du siège de la Structure à la nouvelle mairie.", date(2024, 9, 16),
                             date(2024, 10, 2))


def figures(*rows: tuple[str, str]) -> Figures:
    """Figures from (dû, versé) per year: à reverser and reste à verser follow from them."""
    annees = []
    for (annee, debut, fin), (du, verse) in zip(ANNEES, rows):
        du, verse = D(du), D(verse)
        annees.append(AnneeFigures(annee, debut, fin, du, verse, max(D("0.00"), verse - du), max(D("0.00"), du - verse)))
    return Figures(tuple(annees))


V2 = RulesRepository(ROOT / "config" / "rules").get("vague-2")
FIGURES_V2 = figures(("52500.00", "52500.00"), ("37500.00", "37500.00"), ("37500.00", "0.00"))


def common(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "structure": STRUCTURE, "avenants_precedents": [PRECEDENT], "date_signature_initiale": date(2024, 1, 10),
        "date_emission_initiale": date(2023, 12, 18),
        "modele_version": "2024.1", "date_edition": date(2025, 7, 15), "regles": V2,
    }
    values.update(changes)
    return values


def retrait_context(**changes: Any) -> dict[str, Any]:
    """Avenant n° 2: P-3 given back on 30 June 2025, year 2 already paid in full: a trop-perçu."""
    rendu = dataclasses.replace(POSTES[2], fin=date(2025, 6, 30), etat=EtatPoste.RENDU)
    apres = dataclasses.replace(ETAT_V2, version=3, postes=(*POSTES[:2], rendu))
    return avenant_context(Modification(
        **common(**changes), avant=ETAT_V2, apres=apres, figures_avant=FIGURES_V2,
        figures_apres=figures(("52500.00", "52500.00"), ("31198.63", "37500.00"), ("25000.00", "0.00")),
        motif="Retrait du poste P-3, dont le contrat de travail a pris fin le 30 juin 2025.",
        articles=["Article 3 — Montant de la subvention", "Annexe 1 — Liste des postes",
                  "Annexe 2 — Échéancier prévisionnel des versements"],
        date_effet=date(2025, 6, 30),
    ))


def ajout_context() -> dict[str, Any]:
    """Avenant n° 1: two postes added from 1 January 2025; only year 1 paid."""
    avant = dataclasses.replace(ETAT_V2, version=1, paiements=PAIEMENTS[:1])
    nouveaux = (PosteFinance("P-4", date(2025, 1, 1), etat=EtatPoste.VACANT),
                PosteFinance("P-5", date(2025, 1, 1), etat=EtatPoste.VACANT))  # fmt: skip
    apres = dataclasses.replace(avant, version=2, postes=(*POSTES, *nouveaux))
    return avenant_context(Modification(
        **common(avenants_precedents=[]), avant=avant, apres=apres,
        figures_avant=figures(("52500.00", "52500.00"), ("37500.00", "0.00"), ("37500.00", "0.00")),
        figures_apres=figures(("52500.00", "52500.00"), ("62500.00", "0.00"), ("62500.00", "0.00")),
        motif="Ajout de deux postes de conseiller numérique à compter du 1er janvier 2025.",
        articles=["Article 3 — Montant de la subvention", "Annexe 1 — Liste des postes"], date_effet=date(2025, 1, 1),
    ))


def resiliation_ctx() -> dict[str, Any]:
    """Résiliation anticipée on 30 June 2025 of the three postes; years 1 and 2 paid in full."""
    fin = date(2025, 6, 30)
    apres = dataclasses.replace(
        ETAT_V2, version=3, statut=StatutConvention.RESILIEE, date_resiliation=fin,
        postes=(*(dataclasses.replace(p, fin=fin, etat=EtatPoste.RENDU) for p in POSTES[:2]), POSTES[2]),
    )
    return resiliation_context(Modification(
        **common(), avant=ETAT_V2, apres=apres, figures_avant=FIGURES_V2,
        figures_apres=figures(("52500.00", "52500.00"), ("18595.89", "37500.00"), ("0.00", "0.00")),
        motif="Résiliation anticipée à la demande de la Structure, par lettre du 28 mai 2025.",
        articles=["Article 2 — Durée"], date_effet=fin,
    ))


def text_of(docx: bytes) -> str:
    doc = Document(io.BytesIO(docx))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
    parts += [p.text for s in doc.sections for p in s.footer.paragraphs]
    return "\n".join(parts)


def plain(text: str) -> str:
    """Text with the template's typography undone: no-break spaces as spaces, ’ as '."""
    return text.replace(NBSP, " ").replace("\u2019", "'")


def amounts(*values: str) -> list[str]:
    """Amounts as formatting.montant writes them: "6 301,37 €" with no-break spaces."""
    return [v.replace(" ", NBSP) for v in values]


def assert_says(text: str, *needles: str) -> None:
    missing = [n for n in needles if n not in text]
    assert not missing, f"absent du document : {missing}"


@pytest.fixture(scope="module")
def avenant() -> PreparedTemplate:
    return PreparedTemplate(TEMPLATES / "avenant.docx")


@pytest.fixture(scope="module")
def resiliation() -> PreparedTemplate:
    return PreparedTemplate(TEMPLATES / "resiliation.docx")


def test_committed_templates_pass_the_lint():
    """templates/*.docx are the source of the legal text: each passes `conum templates check` (tags
    whole, variables of the manifest, styles, tables, article numbers and references, projection)."""
    from dossiers.adapters.docx.lint import lint_template

    for name in ("avenant", "resiliation", "convention"):
        assert lint_template(TEMPLATES / f"{name}.docx") == [], name


def test_manifest_check_passes():
    """`conum templates manifest --check` agrees with the committed templates."""
    result = CliRunner().invoke(cli, ["templates", "manifest", "--check"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["avenant", "resiliation"])
def test_manifest_lists_exactly_what_the_template_reads(name):
    info = load_manifest(TEMPLATES)[name]
    assert info.version == "2026.1"
    assert set(info.variables) == template_variables(PreparedTemplate(TEMPLATES / info.fichier))


@pytest.mark.parametrize(
    ("name", "build"),
    [("avenant", retrait_context), ("avenant", ajout_context), ("resiliation", resiliation_ctx)],
)
def test_context_provides_every_variable_of_the_manifest(name, build):
    assert missing_paths(load_manifest(TEMPLATES)[name].variables, build()) == []


def test_retrait_avenant_states_the_change_the_figures_and_the_trop_percu(avenant):
    text = text_of(avenant.render(retrait_context()))
    flat = plain(text)
    assert_says(flat, "Avenant n° 2", "convention de subvention n° CN-V2-STR-000123",
                "émise le 18 décembre 2023 et signée le 10 janvier 2024",
                "l'avenant n° 1 émis le 16 septembre 2024 et signé le 2 octobre 2024, ayant pour objet : transfert "
                "du siège de la "
                "Structure à la nouvelle mairie ;")
    assert_says(flat, "Retrait du poste P-3, dont le contrat de travail a pris fin le 30 juin 2025.",
                "Article 3 — Montant de la subvention", "Annexe 2 — Échéancier prévisionnel des versements.",
                "version n° 3, qui se substitue à la version n° 2")
    # Postes: ids, states and funded periods before → after.
    assert_says(flat, "P-1", "P-2", "P-3", "Zoé Martin", "occupé → rendu",
                "du 1er janvier 2024 au 31 décembre 2026", "du 1er janvier 2024 au 30 juin 2025",
                "deux (2) postes de conseiller numérique, contre trois (3) auparavant")
    # Amounts before and after, per year and in total, with formatting.montant's no-break spaces.
    assert_says(text, *amounts("127 500,00 €", "108 698,63 €", "18 801,37 €", "37 500,00 €",
                               "31 198,63 €", "25 000,00 €", "52 500,00 €", "90 000,00 €"))
    assert "soit une diminution de 18 801,37 €" in flat
    assert "cent huit mille six cent quatre-vingt-dix-huit euros et soixante-trois centimes" in text
    # The new échéancier, year by year, and the trop-perçu to repay.
    # Issued on 15 July 2025: years 1 and 2 fell due before and are paid in full; year 3 is ahead.
    assert_says(flat, "Année 1\néchue le 1er janvier 2024", "Année 2\néchue le 1er janvier 2025",
                "Année 3\n1er janvier 2026")
    assert_says(text, *amounts("6 301,37 €"))
    assert_says(flat, "Reversement du trop-perçu. La Structure reverse à la CDC la somme de 6 301,37 € "
                      "(six mille trois cent un euros et trente-sept centimes)", "trente (30) jours à compter de la réception du titre de recette",
                "titre de recette")
    assert_says(flat, "prend effet le 30 juin 2025", "Fait en deux exemplaires originaux",
                "Pour la Caisse des Dépôts et Consignations", "Pour la Structure", "Mme Camille Exemple",
                "Fait à ", "Signature :", "Avenant n° 2 à la convention CN-V2-STR-000123 — version 3")
    assert "aucun avenant" not in flat and "Renouvellement" not in flat and "{{" not in text


def test_ajout_avenant_lists_the_new_postes_and_the_increase(avenant):
    text = text_of(avenant.render(ajout_context()))
    flat = plain(text)
    assert_says(flat, "Avenant n° 1", "qui n'a fait l'objet d'aucun avenant avant le présent avenant",
                "P-4", "P-5", "nouveau poste, vacant", "du 1er janvier 2025 au 31 décembre 2026",
                "cinq (5) postes de conseiller numérique, contre trois (3) auparavant",
                "Les postes ajoutés sont financés", "comité de sélection",
                "est porté à 177 500,00 €", "une augmentation de 50 000,00 €", "62 500,00 €",
                "la délibération ou la décision de l'organe compétent de la Structure approuvant le présent avenant")
    assert_says(text, *amounts("127 500,00 €", "177 500,00 €", "125 000,00 €"))
    # Issued on 15 July 2025: year 1 was paid when due; year 2's 62 500 € fell due on 1 January 2025 unpaid.
    assert_says(flat, "Année 1\néchue le 1er janvier 2024",
                "Année 2\npayable à la signature (échéance initiale : 1er janvier 2025)", "Année 3\n1er janvier 2026")
    assert "Reversement du trop-perçu" not in flat and "l'avenant n° 1 " not in flat


def test_resiliation_states_the_final_balance_and_the_sum_to_repay(resiliation):
    text = text_of(resiliation.render(resiliation_ctx()))
    flat = plain(text)
    assert_says(flat, "Avenant de résiliation", "Avenant n° 2 à la convention de subvention n° CN-V2-STR-000123",
                "résiliée de manière anticipée à la date du 30 juin 2025",
                "Résiliation anticipée à la demande de la Structure, par lettre du 28 mai 2025.",
                "l'avenant n° 1 émis le 16 septembre 2024 et signé le 2 octobre 2024")
    # Every poste with its end of funding (P-3 had no end date: the résiliation date applies).
    assert flat.count("30 juin 2025") >= 4
    assert_says(flat, "P-1", "P-2", "P-3", "Fin du financement", "rendu")
    assert_says(text, *amounts("127 500,00 €", "71 095,89 €", "18 595,89 €", "18 904,11 €", "90 000,00 €",
                               "0,00 €"))
    assert_says(flat, "est arrêté définitivement à 71 095,89 €",
                "La Structure reverse à la CDC la somme de 18 904,11 € (dix-huit mille neuf cent quatre euros et "
                "onze centimes)", "Fait en deux exemplaires originaux", "Mme Camille Exemple")
    assert "se compensent" not in flat and "arrivée à son terme" not in flat and "résiliation intégrale" not in flat


def test_resiliation_kind_is_read_from_the_state():
    """Every poste rendu: intégrale; statut terminée: arrivée à terme (then nothing is left to repay here)."""
    ctx = resiliation_ctx()
    assert ctx["resiliation"]["type"] == "anticipee"
    base = dict(**common(), avant=ETAT_V2, figures_avant=FIGURES_V2, figures_apres=FIGURES_V2, motif="Fin.",
                articles=[], date_effet=None)
    tous_rendus = dataclasses.replace(ETAT_V2, statut=StatutConvention.RESILIEE, date_resiliation=date(2025, 3, 31),
                                      postes=tuple(dataclasses.replace(p, etat=EtatPoste.RENDU) for p in POSTES))
    assert resiliation_context(Modification(**base, apres=tous_rendus))["resiliation"] == {
        "type": "integrale", "libelle": "résiliation intégrale", "date": "31 mars 2025", "postes_non_pourvus": "",
        "nombre_non_pourvus": "0"}
    terme = dataclasses.replace(ETAT_V2, statut=StatutConvention.TERMINEE)
    assert resiliation_context(Modification(**base, apres=terme))["resiliation"]["date"] == "31 décembre 2026"


def test_renouvellement_says_so_and_gives_the_new_period(avenant):
    avant = dataclasses.replace(ETAT_V2, version=2, date_debut=date(2021, 5, 1), date_fin=date(2023, 4, 30))
    apres = dataclasses.replace(ETAT_V2, version=3, postes=POSTES[:2], paiements=())
    ctx = avenant_context(Modification(
        **common(), avant=avant, apres=apres, figures_avant=figures(("25000.00", "25000.00"), ("25000.00", "30000.00")),
        figures_apres=figures(("35000.00", "0.00"), ("25000.00", "0.00"), ("25000.00", "0.00")),
        motif="Renouvellement de la convention pour deux postes.", articles=["Article 2 — Durée"],
        date_effet=date(2024, 1, 1),
    ))
    flat = plain(text_of(avenant.render(ctx)))
    assert_says(flat, "Renouvellement de la convention", "nouvelle période de trente-six (36) mois, courant du "
                "1er janvier 2024 au 31 décembre 2026", "fixé à 85 000,00 €", "courue du 1er mai 2021 au 30 avril 2023",
                "soit un trop-perçu de 5 000,00 €", "la somme de 5 000,00 €", "non reconduit")


def test_convention_avenant_and_resiliation_state_the_same_repayment_delay(avenant, resiliation):
    """One delay, the rule set's, in the three documents (the convention's article 6.3 included)."""
    delai = V2.delai_reversement_libelle()
    assert delai == "trente (30) jours"
    convention = plain(text_of(PreparedTemplate(ROOT / "templates" / "convention.docx").render(convention_ctx(demande()))))
    assert_says(convention, f"reversées dans un délai de {delai} à compter de la notification de la décision")
    assert_says(plain(text_of(avenant.render(retrait_context()))),
                f"intervient dans un délai de {delai} à compter de la réception du titre de recette")
    assert_says(plain(text_of(resiliation.render(resiliation_ctx()))),
                f"dans un délai de {delai} à compter de la réception du titre de recette")
    for flat in (convention, plain(text_of(avenant.render(retrait_context())))):
        assert "deux (2) mois à compter de la réception" not in flat


# -- what the documents state about dates and postes: only facts ---------------------------------


def test_signature_dates_conum_never_saw_are_not_stated(avenant, resiliation):
    """No signed copy with verified signatures: the convention and avenant n° 1 are named by their
    number and issue date; the document's own issue date (15 July 2025) is never called a signature."""
    unsigned = {"date_signature_initiale": None,
                "avenants_precedents": [dataclasses.replace(PRECEDENT, date_signature=None)]}
    flat = plain(text_of(avenant.render(retrait_context(**unsigned))))
    assert_says(flat, "au titre du dispositif Conseiller numérique, émise le 18 décembre 2023 (ci-après « la "
                "convention »), modifiée par :", "l'avenant n° 1 émis le 16 septembre 2024, ayant pour objet : "
                "transfert du siège")
    assert "signée le" not in flat and "signé le" not in flat
    ctx = resiliation_ctx()
    ctx["convention"]["date_signature"] = ""
    ctx["avenants_precedents"][0]["date_signature"] = ""
    flat = plain(text_of(resiliation.render(ctx)))
    assert_says(flat, "émise le 18 décembre 2023 (ci-après", "l'avenant n° 1 émis le 16 septembre 2024, ayant")
    assert "signée le" not in flat and "signé le" not in flat


def test_signature_date_is_the_last_verified_signature_of_that_version():
    from datetime import UTC, datetime

    from dossiers.domain.archive import ArchiveRecord, date_signature

    def record(version: int, statut: str, *dates: str | None) -> ArchiveRecord:
        signatures = [{"champ": f"S{i}", "signataire": "X", "date": d} for i, d in enumerate(dates)]
        return ArchiveRecord("CN-V2-STR-000123", version, "a" * 64, "b" * 64, statut, (), {"signatures": signatures},
                             datetime(2024, 4, 1, tzinfo=UTC))

    records = [
        record(1, "archive", "2024-03-05T09:30:00+01:00", "2024-03-12T23:30:00+01:00"),  # 12 March, the signer's day
        record(1, "a_verifier", "2024-04-01T10:00:00+02:00"),  # a human has not confirmed it: not a fact yet
        record(2, "archive", None, "D:2024ZZ"),  # no readable date
        record(3, "refuse", "2024-06-01T10:00:00Z"),
    ]
    assert date_signature(records, 1) == date(2024, 3, 12)
    assert [date_signature(records, v) for v in (2, 3, 4)] == [None, None, None]


def test_avenant_shows_a_poste_vacant_once_its_cdd_has_ended(avenant):
    """P-1's CDD ended on 31 March 2025 (its planned end, no prolongation): the avenant issued on
    15 July 2025 shows it vacant since 1 April 2025 and no longer names its conseiller, though the
    version it amends (issued while the CDD ran) said « occupé »."""
    cdd = dataclasses.replace(POSTES[0], type_contrat=TypeContrat.CDD, contrat_debut=date(2024, 1, 1),
                              contrat_fin=date(2025, 3, 31))
    avant = dataclasses.replace(ETAT_V2, postes=(cdd, *POSTES[1:]))
    ajout = PosteFinance("P-4", date(2025, 9, 1), etat=EtatPoste.VACANT, vacant_depuis=date(2025, 9, 1))
    apres = dataclasses.replace(avant, version=3, postes=(*avant.postes, ajout))
    ctx = avenant_context(Modification(
        **common(), avant=avant, apres=apres, figures_avant=FIGURES_V2, figures_apres=FIGURES_V2,
        motif="Ajout d'un poste.", articles=["Annexe 1 — Liste des postes"], date_effet=date(2025, 9, 1)))
    p1, p2, _, p4 = ctx["postes"]
    assert (p1["conseiller"], p1["etat_avant"], p1["etat_apres"], p1["etat"]) == (
        "—", "vacant", "vacant depuis le 1er avril 2025", "vacant depuis le 1er avril 2025")
    assert (p2["conseiller"], p2["etat"]) == ("Karim Bouzid", "occupé")
    assert p4["etat"] == "nouveau poste, vacant depuis le 1er septembre 2025"
    flat = plain(text_of(avenant.render(ctx)))
    assert_says(flat, "P-1\n—\nvacant depuis le 1er avril 2025", "P-2\nKarim Bouzid\noccupé",
                "L'état de chaque poste est celui qui ressort des contrats de travail")
    assert "Inès Témoin-Lefèvre" not in flat


def test_resiliation_pays_nothing_for_a_poste_never_filled(resiliation):
    """Public vague 2, 2 postes from 1 January 2024 (17 500 € each in year 1, 12 500 € in year 2), P-2
    never filled; years 1 and 2 paid for both (35 000 + 25 000); résiliation anticipée au 30 juin 2025,
    issued on 6 December 2026.
    P-1: 17 500 + 12 500 × 181 / 365 (= 6 198,630… → 6 198,63) = 23 698,63 due; P-2: nothing.
    To repay: 60 000 − 23 698,63 = 36 301,37 (17 500 for year 1, 25 000 − 6 198,63 = 18 801,37 for year 2)."""
    from dossiers.adapters.rules import RulesRepository
    from dossiers.domain.avenants import appliquer
    from dossiers.domain.etat import MotifResiliation, Resiliation

    v2 = RulesRepository(ROOT / "config" / "rules").get("vague-2")
    p1 = PosteFinance("P-1", date(2024, 1, 1), conseiller="Karim Bouzid", type_contrat=TypeContrat.CDI,
                      contrat_debut=date(2023, 10, 1))
    p2 = PosteFinance("P-2", date(2024, 1, 1), etat=EtatPoste.VACANT, vacant_depuis=date(2024, 1, 1))
    avant = dataclasses.replace(ETAT_V2, postes=(p1, p2), paiements=(
        Paiement(1, date(2024, 1, 15), D("35000.00")), Paiement(2, date(2025, 1, 15), D("25000.00"))))
    r = appliquer(avant, Resiliation("R", MotifResiliation.ANTICIPEE, date(2025, 6, 30)), v2)
    ctx = resiliation_context(Modification(
        **common(date_edition=date(2026, 12, 6)), avant=avant, apres=r.etat, figures_avant=r.avant,
        figures_apres=r.apres, motif=r.motif, articles=r.articles, date_effet=date(2025, 6, 30)),
        type_resiliation=MotifResiliation.ANTICIPEE)
    assert ctx["resiliation"]["postes_non_pourvus"] == "P-2"
    text = text_of(resiliation.render(ctx))
    flat = plain(text)
    assert_says(flat, "P-1\nKarim Bouzid\noccupé\n1er janvier 2024\n30 juin 2025",
                "P-2\n—\nvacant depuis le 1er janvier 2024\n—\nnon financé",
                "Le poste P-2 n'ayant été occupé par aucun conseiller pendant sa période de financement, aucune "
                "somme n'est due à son titre", "est arrêté définitivement à 23 698,63 €",
                "La Structure reverse à la CDC la somme de 36 301,37 €")
    assert_says(text, *amounts("17 500,00 €", "6 198,63 €", "18 801,37 €"))
    assert "signée le 6 décembre 2026" not in flat and "Les postes P-2" not in flat
