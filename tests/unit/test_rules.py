"""The subsidy computation follows the programme's figures (DOMAIN.md) to the cent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from dossiers.adapters.rules import RulesRepository
from dossiers.domain.demande import parse_demande
from dossiers.domain.dates import add_months
from dossiers.domain.model import Nature
from dossiers.domain.rules import RuleSet, calculer
from dossiers.errors import RulesError
from dossiers.settings import ROOT
from tests.factories import demande

RULES = RulesRepository(ROOT / "config" / "rules")


def compute(payload):
    d = parse_demande(payload)
    return calculer(d, RULES.for_vague(d.vague))


def test_public_vague_2_three_postes_is_127_500_with_52_500_first_year():
    calcul = compute(demande())
    assert calcul.total == Decimal("127500.00")
    assert [t.montant for t in calcul.echeancier] == [Decimal("52500.00"), Decimal("37500.00"), Decimal("37500.00")]
    assert [t.date for t in calcul.echeancier] == [date(2024, 1, 1), date(2025, 1, 1), date(2026, 1, 1)]
    assert calcul.date_fin == date(2026, 12, 31)
    assert calcul.par_poste == Decimal("42500.00")
    assert not calcul.bonification


def test_public_in_qpv_gets_2_500_then_5_000_per_poste():
    calcul = compute(demande(structure__zone_prioritaire=True))
    assert [a.bonification_par_poste for a in calcul.annees] == [Decimal("2500.00"), Decimal("5000.00"), Decimal("0.00")]
    assert [t.montant for t in calcul.echeancier] == [Decimal("60000.00"), Decimal("52500.00"), Decimal("37500.00")]
    assert calcul.total == Decimal("150000.00")
    assert calcul.par_poste == Decimal("50000.00")
    assert calcul.bonification_totale == Decimal("22500.00")


def test_private_vague_2_one_poste_is_44_000_and_has_no_bonus_even_in_qpv():
    payload = demande(structure__nature="privee", structure__categorie_juridique="9220", structure__zone_prioritaire=True)
    payload["convention"]["nombre_postes"] = 1
    payload["postes"] = payload["postes"][:1]
    calcul = compute(payload)
    assert calcul.total == Decimal("44000.00")
    assert [t.montant for t in calcul.echeancier] == [Decimal("20000.00"), Decimal("14000.00"), Decimal("10000.00")]
    assert not calcul.bonification


def test_vague_1_public_is_50_000_per_poste_over_24_months():
    payload = demande()
    payload["convention"].update(vague=1, date_debut="2021-06-01", nombre_postes=2)
    payload["postes"] = payload["postes"][:2]
    calcul = compute(payload)
    assert calcul.total == Decimal("100000.00")
    assert calcul.duree_mois == 24
    assert calcul.date_fin == date(2023, 5, 31)
    assert len(calcul.echeancier) == 2


def test_vague_1_private_amount_is_flagged_unsourced():
    rules = RULES.get("vague-1")
    assert rules.non_source
    assert "NON SOURCÉ" in rules.bareme(parse_demande(demande(structure__nature="privee")).structure.nature).source
    assert not RULES.get("vague-2").non_source


def test_leap_day_start_gives_anniversary_tranches_on_28_february():
    calcul = compute(demande(convention={"vague": 2, "date_debut": "2024-02-29", "nombre_postes": 3}))
    assert [t.date for t in calcul.echeancier] == [date(2024, 2, 29), date(2025, 2, 28), date(2026, 2, 28)]
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_amounts_are_decimal_never_float():
    calcul = compute(demande())
    assert all(isinstance(t.montant, Decimal) for t in calcul.echeancier)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"vague": 2, "duree_mois": 36, "montants": {"publique": {"annees": [17500, 1, 1], "source": "x"}}}, "guillemets"),
        ({"vague": 2, "duree_mois": 36, "montants": {"publique": {"annees": ["1.00"], "source": "x"}}}, "1 montant(s) pour 36 mois"),
        ({"vague": 2, "duree_mois": 12, "montants": {"publique": {"annees": ["1.00"]}}}, "source"),
        ({"vague": 2, "duree_mois": 12, "montants": {"mixte": {"annees": ["1.00"], "source": "x"}}}, "nature inconnue"),
    ],
)
def test_malformed_rule_sets_are_refused_with_the_key_named(data, needle):
    with pytest.raises(RulesError) as err:
        RuleSet.from_mapping("essai", data)
    assert needle in err.value.message


def test_unknown_rule_set_lists_the_known_ones():
    with pytest.raises(RulesError) as err:
        RULES.get("vague-9")
    assert "vague-1, vague-2" in err.value.message


def test_vague_1_private_is_18_months_with_the_configured_figures():
    payload = demande(structure__nature="privee", structure__categorie_juridique="9220")
    payload["convention"].update(vague=1, date_debut="2021-09-01", nombre_postes=1)
    payload["postes"] = payload["postes"][:1]
    calcul = compute(payload)
    assert calcul.duree_mois == 18
    assert calcul.date_fin == date(2023, 2, 28)
    assert [(t.date, t.montant) for t in calcul.echeancier] == [
        (date(2021, 9, 1), Decimal("26666.67")),  # 40 000 × 12/18
        (date(2022, 9, 1), Decimal("13333.33")),  # 40 000 × 6/18
    ]
    assert calcul.annees[1].fin == date(2023, 2, 28)
    assert calcul.total == Decimal("40000.00")  # the help centre's figure for a private structure


def _mapping(**extra):  # type: ignore[no-untyped-def]
    data = {"vague": 1, "duree_mois": 24,
            "montants": {"publique": {"annees": ["25000.00", "25000.00"], "total": "50000.00", "source": "x"}},
            "reversement": {"delai": 2, "unite": "mois", "source": "x"}}
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"montants": {"publique": {"annees": ["25000.00", "24000.00"], "total": "50000.00", "source": "x"}}},
         "montants.publique.annees : la somme 49000.00 n'est pas le total 50000.00"),
        ({"reversement": None}, "la section [reversement] manque"),
        ({"reversement": {"delai": 30, "unite": "semaines", "source": "x"}}, "reversement.unite"),
        ({"reversement": {"delai": 30, "unite": "jours"}}, "reversement.source manque"),
        ({"majoration_outre_mer": [{"departements": ["974"], "nature": "publique", "annees": ["1.00"],
                                    "source": "x"}]}, "majoration_outre_mer[1].annees doit avoir 2 montants"),
        ({"majoration_outre_mer": [{"departements": ["75"], "nature": "publique", "annees": ["1.00", "1.00"],
                                    "source": "x"}]}, "majoration_outre_mer[1].departements"),
        ({"majoration_outre_mer": [{"departements": ["974"], "nature": "privee", "annees": ["1.00", "1.00"],
                                    "source": "x"}]}, "aucun montant [montants.privee]"),
        ({"montants": {"publique": {"annees": ["1.00", "1.00"], "types_contrat": ["CDD", "interim"], "source": "x"}}},
         "montants.publique.types_contrat"),
    ],
)
def test_new_rule_fields_are_parsed_strictly_with_the_key_named(changes, needle):
    data = _mapping(**changes)
    if data.get("reversement") is None:
        del data["reversement"]
    with pytest.raises(RulesError) as err:
        RuleSet.from_mapping("essai", data)
    assert needle in err.value.message


def test_the_repayment_delay_is_one_french_phrase_from_the_rule_set():
    assert RuleSet.from_mapping("essai", _mapping()).delai_reversement_libelle() == "deux (2) mois"
    assert RULES.get("vague-1").delai_reversement_libelle() == "trente (30) jours"
    assert RULES.get("vague-2").delai_reversement_libelle() == "trente (30) jours"


def test_vague_1_amounts_carry_their_sourced_totals():
    v1 = RULES.get("vague-1")
    publique, privee = (v1.bareme(Nature(n)) for n in ("publique", "privee"))
    assert (publique.total, privee.total) == (Decimal("50000.00"), Decimal("40000.00"))
    assert "aide.conseiller-numerique.gouv.fr" in privee.source and "NON SOURCÉE" in privee.source


def test_an_outre_mer_structure_is_refused_in_vague_1_without_a_majoration():
    payload = demande(structure__departement="974")
    payload["convention"].update(vague=1, date_debut="2021-06-01")
    with pytest.raises(RulesError) as err:
        compute(payload)
    assert err.value.code == "majoration_outre_mer_manquante"
    assert "département 974" in err.value.message and "[[majoration_outre_mer]]" in err.value.message


def test_an_outre_mer_structure_gets_the_explicit_vague_2_majoration_of_zero():
    # 3 postes × (17 500 + 0) in year 1 = 52 500, as in métropole.
    calcul = compute(demande(structure__departement="971"))
    assert calcul.annees[0].total == Decimal("52500.00")


def test_a_majoration_outre_mer_is_added_to_each_year_per_poste():
    data = _mapping(majoration_outre_mer=[{"departements": ["972", "973"], "nature": "publique",
                                            "annees": ["1000.00", "500.00"], "source": "texte de test"}])
    rules = RuleSet.from_mapping("essai", data)
    payload = demande(structure__departement="973")
    payload["convention"].update(vague=1, date_debut="2021-06-01", nombre_postes=1)
    payload["postes"] = payload["postes"][:1]
    calcul = calculer(parse_demande(payload), rules)
    # 25 000 + 1 000 then 25 000 + 500: 51 500 per poste.
    assert [a.par_poste for a in calcul.annees] == [Decimal("26000.00"), Decimal("25500.00")]


def test_generation_warns_of_a_pec_poste_in_vague_1_public_and_of_an_unsourced_outre_mer_majoration():
    from dossiers.services.generation import Generated

    payload = demande()
    payload["convention"].update(vague=1, date_debut="2021-06-01")
    payload["postes"][0]["contrat"] = {"type": "PEC", "date_debut": "2021-06-01", "date_fin": "2022-05-31"}
    d = parse_demande(payload)
    warnings = Generated(d, compute(payload), RULES.get("vague-1"), version=None, created=True).warnings  # type: ignore[arg-type]
    assert any("contrats CDI, CDD, contrat_de_projet" in w and d.postes[0].id in w for w in warnings)
    outre_mer = demande(structure__departement="974")
    warnings = Generated(parse_demande(outre_mer), compute(outre_mer), RULES.get("vague-2"), version=None,  # type: ignore[arg-type]
                         created=True).warnings
    assert any("majoration outre-mer du département 974" in w for w in warnings)


def _lieux(payload, **lieux):
    """Give postes a lieu de permanence: ``P_1={"commune": "59512", "qpv": True}``."""
    for poste in payload["postes"]:
        lieu = lieux.get(poste["id"].replace("-", "_"))
        if lieu is not None:
            poste["lieu"] = lieu
    return payload


def test_the_bonus_goes_only_to_the_postes_whose_lieu_is_in_a_qpv():
    # 3 public postes, vague 2, P-1 in a QPV (Roubaix), P-2 and P-3 outside:
    # 3 × 42 500 + 1 × (2 500 + 5 000) = 127 500 + 7 500 = 135 000,00 €.
    # Year 1: 3 × 17 500 + 2 500 = 55 000; year 2: 3 × 12 500 + 5 000 = 42 500; year 3: 3 × 12 500 = 37 500.
    calcul = compute(_lieux(demande(), P_1={"commune": "59512", "qpv": True}, P_2={"commune": "59350"}))
    assert calcul.total == Decimal("135000.00")
    assert [t.montant for t in calcul.echeancier] == [Decimal("55000.00"), Decimal("42500.00"), Decimal("37500.00")]
    assert calcul.postes_bonifies == 1 and calcul.bonification
    assert calcul.bonification_totale == Decimal("7500.00")
    assert calcul.base_par_poste == Decimal("42500.00")  # what a poste outside a zone gets
    assert calcul.par_poste == Decimal("50000.00")  # what the QPV poste gets


def test_a_poste_in_a_zrr_gets_the_bonus_like_one_in_a_qpv():
    # P-3 (vacant) in a ZRR, P-1 and P-2 outside: 3 × 42 500 + 7 500 = 135 000,00 €.
    calcul = compute(_lieux(demande(), P_3={"commune": "2A004", "zrr": True}))
    assert calcul.total == Decimal("135000.00")
    assert calcul.postes_bonifies == 1


def test_postes_not_described_have_no_lieu_and_no_bonus():
    # nombre_postes 5, 3 described, P-1 and P-2 in a QPV: the 2 generated vacant postes have no lieu.
    # 5 × 42 500 + 2 × 7 500 = 212 500 + 15 000 = 227 500,00 €.
    payload = _lieux(demande(), P_1={"commune": "59512", "qpv": True}, P_2={"commune": "59512", "qpv": True})
    payload["convention"]["nombre_postes"] = 5
    calcul = compute(payload)
    assert calcul.total == Decimal("227500.00")
    assert calcul.postes_bonifies == 2


def test_the_deprecated_structure_flag_still_gives_every_poste_the_bonus():
    # zone_prioritaire on the structure, 4 postes of which 3 described: all 4 carry it.
    # 4 × (42 500 + 7 500) = 200 000,00 €.
    payload = demande(structure__zone_prioritaire=True)
    payload["convention"]["nombre_postes"] = 4
    calcul = compute(payload)
    assert calcul.total == Decimal("200000.00")
    assert calcul.postes_bonifies == 4


def test_a_private_structure_gets_no_bonus_even_with_its_postes_in_a_qpv():
    # Private vague 2: 3 × 44 000 = 132 000,00 €, no bonification in the rule set for privée.
    payload = _lieux(demande(structure__nature="privee", structure__categorie_juridique="9220"),
                     P_1={"commune": "59512", "qpv": True}, P_2={"commune": "59512", "zrr": True})
    calcul = compute(payload)
    assert calcul.total == Decimal("132000.00")
    assert not calcul.bonification and calcul.postes_bonifies == 0
