"""The May 2025 limits read back from a catalog's history: a new structure's first convention and an
ajout de postes taking effect on or after 14 May 2025 without a derogation are listed as
avertissements; the day before, with a derogation, or a renewal are not."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from dossiers.adapters.rules import RulesRepository
from dossiers.domain.gestion import (
    AJOUT_POSTES,
    NOUVELLE_STRUCTURE,
    AjoutHistorique,
    HistoriqueLimites,
    hors_limites,
    limiter,
    regles_limitant,
)
from dossiers.errors import ChangementRefuse
from dossiers.settings import ROOT

MAI_2025 = RulesRepository(ROOT / "config" / "rules").gestion("regles-2025-05")
VEILLE = date(2025, 5, 13)
JOUR = date(2025, 5, 14)


def historique(debut: date = date(2024, 1, 1), *ajouts: AjoutHistorique, nouvelle: bool = True,
               derogation: bool = False) -> HistoriqueLimites:
    return HistoriqueLimites(convention_id="CN-V2-X", structure_nouvelle=nouvelle, date_debut=debut,
                             derogation_initiale=derogation, ajouts=ajouts)


def test_the_rules_file_limits_new_structures_and_ajouts_from_14_may_2025():
    assert MAI_2025.limites == (NOUVELLE_STRUCTURE, AJOUT_POSTES) and MAI_2025.date_application == JOUR
    assert regles_limitant([MAI_2025], AJOUT_POSTES, VEILLE) is None
    assert regles_limitant([MAI_2025], AJOUT_POSTES, JOUR) is MAI_2025
    assert regles_limitant([dataclasses.replace(MAI_2025, limites=())], AJOUT_POSTES, JOUR) is None


def test_a_new_structure_starting_the_day_before_is_not_listed_the_day_itself_is():
    assert hors_limites([historique(VEILLE)], [MAI_2025]) == []
    [avertissement] = hors_limites([historique(JOUR)], [MAI_2025])
    assert (avertissement.convention_id, avertissement.version, avertissement.limite, avertissement.code,
            avertissement.regles, avertissement.date_effet) == (
        "CN-V2-X", 1, NOUVELLE_STRUCTURE, "regle_gestion_2025", "regles-2025-05", JOUR)
    assert avertissement.message == (
        "Convention CN-V2-X, version 1 (première convention d'une structure nouvelle, début au 14 mai 2025) : "
        "règles de gestion « règles de gestion actualisées — mai 2025 » en vigueur depuis le 14 mai 2025 — "
        "aucune nouvelle convention n'est conclue avec une structure nouvelle dans le dispositif sans dérogation ; "
        "émise sans dérogation.")
    assert avertissement.to_dict() == {
        "convention_id": "CN-V2-X", "version": 1, "limite": "nouvelle_structure", "regles": "regles-2025-05",
        "date_effet": "2025-05-14", "code": "regle_gestion_2025", "message": avertissement.message}


def test_a_derogation_a_renewal_or_a_known_structure_is_not_listed():
    assert hors_limites([historique(JOUR, derogation=True)], [MAI_2025]) == []
    assert hors_limites([historique(date(2025, 6, 1), nouvelle=False)], [MAI_2025]) == []  # renewal / known


def test_rules_without_the_limit_or_no_rules_list_nothing():
    sans = dataclasses.replace(MAI_2025, limites=(AJOUT_POSTES,))
    assert hors_limites([historique(JOUR)], [sans]) == []
    assert hors_limites([historique(JOUR, AjoutHistorique(2, JOUR, False))], []) == []


def test_an_ajout_before_the_rules_is_not_listed_after_them_it_is_unless_it_had_a_derogation():
    h = historique(date(2024, 1, 1), AjoutHistorique(3, date(2025, 6, 1), False), AjoutHistorique(2, VEILLE, False),
                   AjoutHistorique(4, date(2025, 9, 1), True), AjoutHistorique(5, JOUR, False), nouvelle=False)
    found = hors_limites([h], [MAI_2025])
    assert [(a.version, a.limite, a.date_effet) for a in found] == [
        (3, AJOUT_POSTES, date(2025, 6, 1)), (5, AJOUT_POSTES, JOUR)]
    assert found[0].message == (
        "Convention CN-V2-X, version 3 (ajout de postes au 1er juin 2025) : règles de gestion "
        "« règles de gestion actualisées — mai 2025 » en vigueur depuis le 14 mai 2025 — aucun poste n'est ajouté "
        "à une convention sans dérogation ; émise sans dérogation.")


def test_a_new_structure_with_an_ajout_gives_its_convention_first_then_the_ajout():
    found = hors_limites([historique(date(2025, 6, 1), AjoutHistorique(2, date(2025, 9, 1), False))], [MAI_2025])
    assert [(a.version, a.limite) for a in found] == [(1, NOUVELLE_STRUCTURE), (2, AJOUT_POSTES)]


def test_an_ajout_whose_date_the_catalog_lacks_is_listed_to_be_checked():
    [avertissement] = hors_limites([historique(date(2023, 1, 1), AjoutHistorique(2, None, False))], [MAI_2025])
    assert avertissement.version == 2 and avertissement.date_effet is None
    assert "date d'effet absente du catalogue" in avertissement.message and "à vérifier" in avertissement.message
    assert avertissement.to_dict()["date_effet"] is None
    assert hors_limites([historique(date(2023, 1, 1), AjoutHistorique(2, None, True))], [MAI_2025]) == []
    # a period begun on 2022-05-14 ends by 2025-05-13 at the latest (36 months): its ajout came before the rules
    assert hors_limites([historique(date(2022, 5, 14), AjoutHistorique(2, None, False))], [MAI_2025]) == []
    assert len(hors_limites([historique(date(2022, 5, 15), AjoutHistorique(2, None, False))], [MAI_2025])) == 1


@pytest.mark.parametrize(("jour", "refuse"), [(VEILLE, False), (JOUR, True)])
def test_limiter_still_refuses_what_hors_limites_lists(jour: date, refuse: bool):
    listed = hors_limites([historique(jour)], [MAI_2025])
    if refuse:
        with pytest.raises(ChangementRefuse, match="règles de gestion actualisées"):
            limiter([MAI_2025], NOUVELLE_STRUCTURE, jour, None)
    else:
        limiter([MAI_2025], NOUVELLE_STRUCTURE, jour, None)
    assert bool(listed) is refuse
