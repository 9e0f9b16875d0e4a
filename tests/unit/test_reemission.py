"""The réémission change and the impact of a plan on one convention (pure core)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from dossiers.adapters.rules import RulesRepository
from dossiers.domain.avenants import ANNEXE_ECHEANCIER, ARTICLE_MONTANT, appliquer
from dossiers.domain.changements import etat_initial, parse_changement
from dossiers.domain.demande import parse_demande
from dossiers.domain.etat import Reemission
from dossiers.domain.reemission import KIND_REDACTION, KIND_RESTITUTION, Cible, impact, totaux
from dossiers.domain.rules import RuleSet
from dossiers.errors import ChangementRefuse, ErrorCode
from dossiers.settings import ROOT
from tests.factories import demande

RULES = RulesRepository(ROOT / "config" / "rules")
V2 = RULES.get("vague-2")
GESTION = RULES.gestion("regles-2025-05")


def etat(**changes: object):  # type: ignore[no-untyped-def]
    return etat_initial("CN-V2-STR-000123", parse_demande(demande(**changes)), V2)


def corrected(first_year: str) -> RuleSet:
    data = RULES._load("vague-2")  # noqa: SLF001 - the same file, one figure changed
    data["montants"]["publique"]["annees"][0] = first_year
    return RuleSet.from_mapping("vague-2-corrige", data)


def test_a_reemission_request_is_parsed_and_must_change_something() -> None:
    change = parse_changement({"type": "reemission", "request_id": "r-1", "version": 1, "regles": "vague-2-corrige"})
    assert change == Reemission("r-1", "vague-2-corrige", None, 1)
    with pytest.raises(ChangementRefuse) as refused:
        parse_changement({"type": "reemission", "request_id": "r-1"})
    assert refused.value.errors[0].field == "regles" and refused.value.errors[0].code == "reemission_vide"


def test_a_wording_only_reemission_keeps_the_amounts_and_lists_every_article() -> None:
    before = etat()
    result = appliquer(before, Reemission("r", None, "2024.1", 1), V2)
    assert result.apres == result.avant and result.etat == replace(before, version=2)
    assert "montants inchangés" in result.motif and ARTICLE_MONTANT in result.articles
    with pytest.raises(ChangementRefuse) as nothing:
        appliquer(before, Reemission("r", None, None, 1), V2)
    assert nothing.value.code is ErrorCode.CHANGEMENT_SANS_EFFET


def test_a_corrected_bareme_changes_the_first_year_of_each_poste() -> None:
    before = etat()
    result = appliquer(before, Reemission("r", "vague-2-corrige", None, 1), V2, regles_reemission=corrected("18000.00"))
    assert result.etat.regles == "vague-2-corrige"
    # 3 postes funded the whole first year: 3 × 500 € more
    assert result.apres.annees[0].du - result.avant.annees[0].du == Decimal("1500.00")
    assert result.apres.annees[1:] == result.avant.annees[1:]
    assert {ARTICLE_MONTANT, ANNEXE_ECHEANCIER} <= set(result.articles)
    with pytest.raises(ChangementRefuse):
        appliquer(before, Reemission("r", "vague-1", None, 1), V2, regles_reemission=RULES.get("vague-1"))


def test_the_six_month_rule_gives_back_a_long_vacancy_only() -> None:
    # P-3 vacant since 2024-03-01; P-1's CDD ended on 2025-06-30 and nobody was recruited since, so on
    # 2026-11-26 it has been vacant for 17 months: both go back. P-2 (CDI) stays.
    long_vacant = etat()
    found = impact(long_vacant, V2, Cible(gestion=GESTION), jour=date(2026, 11, 26), request_id="reemission-RP-1")
    assert found is not None and found.kind == KIND_RESTITUTION and found.postes_rendus == ("P-1", "P-3")
    assert found.change == {"type": "retrait_postes", "request_id": "reemission-RP-1", "version": 1,
                            "postes": [{"id": "P-1", "date_fin_contrat": "2025-06-30"},
                                       {"id": "P-3", "date_fin_contrat": "2024-02-29"}]}
    assert found.du_apres < found.du_avant and found.a_reverser == 0  # nothing paid in this état
    recent = etat(convention__nombre_postes=1, postes=[{"id": "P-1", "etat": "vacant", "vacant_depuis": "2026-09-01"}])
    assert impact(recent, V2, Cible(gestion=GESTION), jour=date(2026, 11, 26), request_id="x") is None
    before_rules = impact(long_vacant, V2, Cible(gestion=GESTION), jour=date(2025, 5, 1), request_id="x")
    assert before_rules is None  # the rules bind from May 2025


def test_a_template_plan_leaves_alone_what_is_already_on_it_and_totals_add_up() -> None:
    e = etat()
    cible = Cible(modele="2024.1")
    assert impact(e, V2, cible, jour=date(2026, 1, 1), request_id="x", modele_courant="2024.1") is None
    found = impact(e, V2, cible, jour=date(2026, 1, 1), request_id="x", modele_courant="2023.9")
    assert found is not None and found.kind == KIND_REDACTION and found.difference == 0
    t = totaux([replace(found, departement="33", nature="publique"), replace(found, departement="75", nature="publique")])
    assert t["total"]["conventions"] == 2 and set(t["par_departement"]) == {"33", "75"}
    assert t["par_nature"]["publique"]["difference_eur"] == "0.00"
    assert impact(e, V2, cible, jour=date(2027, 12, 31), request_id="x", modele_courant="2023.9") is None  # ended
