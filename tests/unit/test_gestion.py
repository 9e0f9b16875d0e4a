"""The May 2025 rules: a poste vacant for more than 6 months on a given day must be given back, from
the day its vacancy began; the resulting avenant applies like any retrait."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from dossiers.adapters.rules import RulesRepository
from dossiers.domain.avenants import appliquer
from dossiers.domain.etat import (
    EtatConvention,
    Paiement,
    PosteFinance,
    RetraitPoste,
    RetraitPostes,
    StatutConvention,
)
from dossiers.domain.gestion import ReglesGestion, avenant_restitution, postes_a_rendre
from dossiers.domain.model import EtatPoste, Nature, TypeContrat
from dossiers.errors import RulesError
from dossiers.settings import ROOT

RULES = RulesRepository(ROOT / "config" / "rules")
V2 = RULES.get("vague-2")
MAI_2025 = RULES.gestion("regles-2025-05")
D = Decimal


def etat(*postes: PosteFinance, paiements: tuple[Paiement, ...] = ()) -> EtatConvention:
    return EtatConvention(
        convention_id="CN-V2-TEST", version=4, vague=2, regles="vague-2", date_debut=date(2024, 1, 1),
        date_fin=date(2026, 12, 31), natures=((date(2024, 1, 1), Nature.PUBLIQUE),), zone_prioritaire=False,
        postes=postes, paiements=paiements,
    )


OCCUPE = PosteFinance("P-1", date(2024, 1, 1), etat=EtatPoste.OCCUPE, type_contrat=TypeContrat.CDI, conseiller="Ana B")


def vacant(poste_id: str, depuis: date, debut: date = date(2024, 1, 1)) -> PosteFinance:
    return PosteFinance(poste_id, debut, etat=EtatPoste.VACANT, vacant_depuis=depuis)


def test_the_rule_file_is_read_with_its_source():
    assert MAI_2025.date_application == date(2025, 5, 14)
    assert MAI_2025.delai_remplacement_mois == 6
    assert "Budget 2025 et règles de gestion actualisées" in MAI_2025.source and "14/05/2025" in MAI_2025.source


def test_the_rule_file_is_not_a_bareme_and_a_bareme_is_not_a_rule_file():
    with pytest.raises(RulesError, match="règles de gestion"):
        RULES.get("regles-2025-05")
    with pytest.raises(RulesError, match="type"):
        RULES.gestion("vague-2")


def test_a_poste_vacant_for_5_months_is_kept_and_6_months_and_a_day_given_back():
    # Vacant since 2025-01-10: 6 months later is 2025-07-10; only a day after that is "more than 6 months".
    state = etat(OCCUPE, vacant("P-2", date(2025, 1, 10)))
    assert postes_a_rendre(state, date(2025, 6, 10), MAI_2025) == ()
    assert postes_a_rendre(state, date(2025, 7, 10), MAI_2025) == ()
    assert postes_a_rendre(state, date(2025, 7, 11), MAI_2025) == (RetraitPoste("P-2", date(2025, 1, 9)),)


def test_nothing_is_given_back_before_the_rules_apply():
    # Vacant since 2024-03-01, well over 6 months, but the rules bind from 2025-05-14 only.
    state = etat(OCCUPE, vacant("P-2", date(2024, 3, 1)))
    assert postes_a_rendre(state, date(2025, 5, 13), MAI_2025) == ()
    assert postes_a_rendre(state, date(2025, 5, 14), MAI_2025) == (RetraitPoste("P-2", date(2024, 2, 29)),)


def test_the_end_date_is_never_before_the_day_before_the_poste_started():
    # Vacant since before the poste was funded: it is given back as never funded (debut − 1 day).
    state = etat(vacant("P-4", date(2023, 6, 1)), vacant("P-5", date(2025, 3, 1), debut=date(2025, 3, 1)))
    assert postes_a_rendre(state, date(2025, 10, 1), MAI_2025) == (
        RetraitPoste("P-4", date(2023, 12, 31)), RetraitPoste("P-5", date(2025, 2, 28)))


def test_occupied_given_back_and_closed_conventions_give_nothing():
    rendu = dataclasses.replace(vacant("P-2", date(2024, 3, 1)), etat=EtatPoste.RENDU, fin=date(2024, 2, 29))
    assert postes_a_rendre(etat(OCCUPE, rendu), date(2025, 10, 1), MAI_2025) == ()
    closed = dataclasses.replace(etat(vacant("P-2", date(2024, 3, 1))), statut=StatutConvention.RESILIEE,
                                 date_resiliation=date(2025, 6, 30))
    assert postes_a_rendre(closed, date(2025, 10, 1), MAI_2025) == ()


def test_the_restitution_avenant_is_based_on_the_current_version_and_applies_with_its_trop_percu():
    # P-2 vacant since 2025-01-10 → funded until 2025-01-09: 9 days of year 2 (365 days).
    # 12 500 × 9 / 365 = 308.2191… → 308.22; year 2 due = 12 500 (P-1) + 308.22 = 12 808.22,
    # paid 25 000 → 12 191.78 to repay; year 3: P-1 alone, 12 500.
    paid = (Paiement(1, date(2024, 1, 15), D("35000.00")), Paiement(2, date(2025, 1, 15), D("25000.00")))
    state = etat(OCCUPE, vacant("P-2", date(2025, 1, 10)), paiements=paid)
    assert avenant_restitution(state, date(2025, 7, 10), MAI_2025, "GESTION-1") is None
    change = avenant_restitution(state, date(2025, 8, 1), MAI_2025, "GESTION-1")
    assert change == RetraitPostes("GESTION-1", (RetraitPoste("P-2", date(2025, 1, 9)),), version=4)
    r = appliquer(state, change, V2)
    assert [a.du for a in r.apres.annees] == [D("35000.00"), D("12808.22"), D("12500.00")]
    assert r.apres.annees[1].a_reverser == D("12191.78")
    assert r.motif == "Avenant : restitution du poste P-2 au 9 janvier 2025"
    assert postes_a_rendre(r.etat, date(2025, 8, 1), MAI_2025) == ()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"date_application": "2025-05-14", "delai_remplacement_mois": 6, "source": "x"}, "type"),
        ({"type": "gestion", "date_application": "14/05/2025", "delai_remplacement_mois": 6, "source": "x"},
         "date_application"),
        ({"type": "gestion", "date_application": "2025-05-14", "delai_remplacement_mois": 0, "source": "x"},
         "delai_remplacement_mois"),
        ({"type": "gestion", "date_application": "2025-05-14", "delai_remplacement_mois": 6}, "source"),
    ],
)
def test_malformed_management_rules_are_refused_with_the_key_named(data, needle):
    with pytest.raises(RulesError) as err:
        ReglesGestion.from_mapping("essai", data)
    assert needle in err.value.message


def test_a_toml_date_is_accepted_too():
    rules = ReglesGestion.from_mapping(
        "essai", {"type": "gestion", "date_application": date(2025, 5, 14), "delai_remplacement_mois": 6, "source": "x"})
    assert rules.date_application == date(2025, 5, 14)
