"""The échéancier of a convention state follows the computation conventions to the cent, on worked
examples whose arithmetic is written beside them."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from dossiers.adapters.rules import RulesRepository
from dossiers.domain.changements import etat_initial
from dossiers.domain.demande import parse_demande
from dossiers.domain.echeancier import annees_convention, arrondi_centime, figures
from dossiers.domain.etat import EtatConvention, Paiement, PosteFinance
from dossiers.domain.etat_codec import etat_from_json, etat_to_json
from dossiers.domain.model import EtatPoste, Lieu, Nature
from dossiers.domain.rules import calculer
from dossiers.errors import RulesError
from dossiers.settings import ROOT
from tests.factories import EXAMPLES

RULES = RulesRepository(ROOT / "config" / "rules")
V1, V2 = RULES.get("vague-1"), RULES.get("vague-2")
D = Decimal


def etat(
    *postes: PosteFinance,
    debut: date = date(2024, 1, 1),
    fin: date = date(2026, 12, 31),
    natures: tuple[tuple[date, Nature], ...] | None = None,
    zone: bool = False,
    vague: int = 2,
    paiements: tuple[Paiement, ...] = (),
) -> EtatConvention:
    return EtatConvention(
        convention_id="CN-V2-TEST", version=1, vague=vague, regles=f"vague-{vague}", date_debut=debut, date_fin=fin,
        natures=natures or ((debut, Nature.PUBLIQUE),), zone_prioritaire=zone, postes=postes, paiements=paiements,
    )


def poste(n: int, debut: date = date(2024, 1, 1), fin: date | None = None) -> PosteFinance:
    return PosteFinance(id=f"P-{n}", debut=debut, fin=fin, etat=EtatPoste.OCCUPE)


def dus(fig) -> list[Decimal]:
    return [a.du for a in fig.annees]


def test_convention_years_run_anniversary_to_anniversary():
    years = annees_convention(etat(poste(1)))
    assert years == [
        (1, date(2024, 1, 1), date(2024, 12, 31)),
        (2, date(2025, 1, 1), date(2025, 12, 31)),
        (3, date(2026, 1, 1), date(2026, 12, 31)),
    ]


def test_a_29_february_start_gives_years_ending_on_27_february():
    # add_months(2024-02-29, 12) = 2025-02-28, so year 1 ends the day before: 2025-02-27.
    years = annees_convention(etat(poste(1), debut=date(2024, 2, 29), fin=date(2027, 2, 27)))
    assert [(d, f) for _, d, f in years] == [
        (date(2024, 2, 29), date(2025, 2, 27)),
        (date(2025, 2, 28), date(2026, 2, 27)),
        (date(2026, 2, 28), date(2027, 2, 27)),
    ]


def test_full_years_give_the_bareme_figures():
    # 3 public postes, vague 2: 3 × 17 500 = 52 500, then 3 × 12 500 = 37 500 twice.
    fig = figures(etat(poste(1), poste(2), poste(3)), V2)
    assert dus(fig) == [D("52500.00"), D("37500.00"), D("37500.00")]
    assert fig.total_du == D("127500.00")
    assert fig.total_verse == D("0.00") and fig.total_reste_a_verser == D("127500.00")


def test_a_poste_added_on_15_march_2025_is_funded_pro_rata_in_year_2_then_fully():
    # Year 2 = 2025-01-01..2025-12-31 = 365 days. Funded 2025-03-15..2025-12-31:
    # 17 (15–31 March) + 30+31+30+31+31+30+31+30+31 = 292 days. 12 500 × 292 / 365 = 10 000.00 exactly.
    # Year 1 (2024): nothing; year 3: the full 12 500.
    fig = figures(etat(poste(1), poste(2, debut=date(2025, 3, 15))), V2)
    assert dus(fig) == [D("17500.00"), D("12500.00") + D("10000.00"), D("25000.00")]


def test_a_poste_added_in_the_leap_year_1_counts_366_days():
    # Year 1 = 2024, a leap year: 366 days. Funded 2024-03-15..2024-12-31 = 366 − (31 + 29 + 14) = 292 days.
    # 17 500 × 292 / 366 = 5 110 000 / 366 = 13 961.7486… → 13 961.75.
    fig = figures(etat(poste(1, debut=date(2024, 3, 15))), V2)
    assert dus(fig) == [D("13961.75"), D("12500.00"), D("12500.00")]


def test_a_nature_change_mid_year_splits_the_year_by_days():
    # Privée from 2025-07-01. Year 2 (365 days): publique 2025-01-01..06-30 = 181 days, privée 07-01..12-31 = 184.
    # 12 500 × 181/365 + 14 000 × 184/365 = (2 262 500 + 2 576 000) / 365 = 4 838 500 / 365 = 13 256.1643… → 13 256.16.
    # Year 3 is private all year: 10 000.
    natures = ((date(2024, 1, 1), Nature.PUBLIQUE), (date(2025, 7, 1), Nature.PRIVEE))
    fig = figures(etat(poste(1), natures=natures), V2)
    assert dus(fig) == [D("17500.00"), D("13256.16"), D("10000.00")]


def test_bonification_applies_to_public_days_in_a_priority_zone_only():
    # Public in a zone: 17 500 + 2 500 = 20 000; 12 500 + 5 000 = 17 500; 12 500 + 0 = 12 500.
    assert dus(figures(etat(poste(1), zone=True), V2)) == [D("20000.00"), D("17500.00"), D("12500.00")]
    # Privée from 2025-07-01: year 2 = 17 500 × 181/365 + 14 000 × 184/365 = (3 167 500 + 2 576 000) / 365
    # = 5 743 500 / 365 = 15 735.6164… → 15 735.62; year 3 private: 10 000, no bonus for a private structure.
    natures = ((date(2024, 1, 1), Nature.PUBLIQUE), (date(2025, 7, 1), Nature.PRIVEE))
    assert dus(figures(etat(poste(1), zone=True, natures=natures), V2)) == [
        D("20000.00"), D("15735.62"), D("10000.00"),
    ]
    # Outside a zone the same state has no bonus at all.
    assert dus(figures(etat(poste(1), zone=False), V2)) == [D("17500.00"), D("12500.00"), D("12500.00")]


def test_vague_1_public_is_two_years_of_25_000_and_a_poste_ended_early_is_prorated():
    # 2021-06-01..2023-05-31 (24 months); year 2 = 2022-06-01..2023-05-31 = 365 days.
    # P-2 ends 2022-08-31: 30 + 31 + 31 = 92 days → 25 000 × 92 / 365 = 6 301.3698… → 6 301.37.
    state = etat(
        poste(1, debut=date(2021, 6, 1)), poste(2, debut=date(2021, 6, 1), fin=date(2022, 8, 31)),
        debut=date(2021, 6, 1), fin=date(2023, 5, 31), vague=1,
    )
    assert annees_convention(state)[1] == (2, date(2022, 6, 1), date(2023, 5, 31))
    assert dus(figures(state, V1)) == [D("50000.00"), D("25000.00") + D("6301.37")]


def test_vague_1_private_short_last_year_prorates_over_its_own_days():
    # 18 months from 2021-06-01: year 2 = 2022-06-01..2022-11-30 = 30+31+31+30+31+30 = 183 days, worth 13 333.33.
    # Ended 2022-08-31: 92 days → 13 333.33 × 92 / 183 = 1 226 666.36 / 183 = 6 703.0948… → 6 703.09.
    natures = ((date(2021, 6, 1), Nature.PRIVEE),)
    full = etat(poste(1, debut=date(2021, 6, 1)), debut=date(2021, 6, 1), fin=date(2022, 11, 30), vague=1,
                natures=natures)
    assert dus(figures(full, V1)) == [D("26666.67"), D("13333.33")]
    ended = etat(poste(1, debut=date(2021, 6, 1), fin=date(2022, 8, 31)), debut=date(2021, 6, 1),
                 fin=date(2022, 11, 30), vague=1, natures=natures)
    assert dus(figures(ended, V1)) == [D("26666.67"), D("6703.09")]


def test_vague_1_private_to_public_prices_the_short_year_2_at_the_public_daily_rate():
    # Private, 18 months from 2021-06-01; public from 2022-06-01 (all of year 2: 2022-06-01..2022-11-30, 183 days).
    # The public year 2 is its own 12 months (2022-06-01..2023-05-31, 365 days) worth 25 000:
    # 25 000 × 183 / 365 = 12 534.2465… → 12 534.25 (before: the full 25 000 for 6 months).
    natures = ((date(2021, 6, 1), Nature.PRIVEE), (date(2022, 6, 1), Nature.PUBLIQUE))
    state = etat(poste(1, debut=date(2021, 6, 1)), debut=date(2021, 6, 1), fin=date(2022, 11, 30), vague=1,
                 natures=natures)
    assert dus(figures(state, V1)) == [D("26666.67"), D("12534.25")]


def test_vague_1_public_to_private_prices_the_long_year_2_at_the_private_daily_rate():
    # Public, 24 months from 2021-06-01; private from 2022-06-01 (all of year 2: 2022-06-01..2023-05-31, 365 days).
    # The private year 2 is its own 6 months (2022-06-01..2022-11-30, 183 days) worth 13 333.33; the 182 days
    # after the private period (2022-12-01..2023-05-31) keep that last rate, as the period keeps its 24 months:
    # 13 333.33 × 365 / 183 = 4 866 665.45 / 183 = 26 593.7989… → 26 593.80 (before: 10 666.67 for 12 months).
    natures = ((date(2021, 6, 1), Nature.PUBLIQUE), (date(2022, 6, 1), Nature.PRIVEE))
    state = etat(poste(1, debut=date(2021, 6, 1)), debut=date(2021, 6, 1), fin=date(2023, 5, 31), vague=1,
                 natures=natures)
    assert dus(figures(state, V1)) == [D("25000.00"), D("26593.80")]


def test_vague_1_days_beyond_the_other_natures_period_keep_its_last_rate():
    # Public, 24 months from 2021-06-01; private from 2022-12-01, i.e. after month 18 (the end of a private period).
    # Year 2 (365 days): 2022-06-01..2022-11-30 public, 183 days × 25 000 / 365 = 12 534.2465…;
    # 2022-12-01..2023-05-31 private, 182 days at the private year-2 rate 13 333.33 / 183 → 13 260.4699…;
    # total 25 794.7165… → 25 794.72.
    natures = ((date(2021, 6, 1), Nature.PUBLIQUE), (date(2022, 12, 1), Nature.PRIVEE))
    state = etat(poste(1, debut=date(2021, 6, 1)), debut=date(2021, 6, 1), fin=date(2023, 5, 31), vague=1,
                 natures=natures)
    assert dus(figures(state, V1)) == [D("25000.00"), D("25794.72")]


def test_unchanged_nature_and_vague_2_changes_give_the_bareme_figures():
    # Vague 2: both natures have 36 months, so a change prices each day over the same 365-day year as before.
    # Public 2024, private from 2025-07-01: year 2 = 12 500 × 181/365 + 14 000 × 184/365 = 6 198.63… + 7 057.53… = 13 256.16.
    natures = ((date(2024, 1, 1), Nature.PUBLIQUE), (date(2025, 7, 1), Nature.PRIVEE))
    assert dus(figures(etat(poste(1), natures=natures), V2)) == [D("17500.00"), D("13256.16"), D("10000.00")]


def test_an_outre_mer_state_needs_the_majoration_of_its_rule_set():
    # Vague 2 writes an explicit 0 € majoration for 971–976: same figures as in métropole.
    state = etat(poste(1))
    assert dus(figures(replace(state, departement="974"), V2)) == [D("17500.00"), D("12500.00"), D("12500.00")]
    # Vague 1 has none: refused, never priced at the métropole figure.
    v1 = etat(poste(1, debut=date(2021, 6, 1)), debut=date(2021, 6, 1), fin=date(2023, 5, 31), vague=1)
    with pytest.raises(RulesError) as err:
        figures(replace(v1, departement="972"), V1)
    assert err.value.code == "majoration_outre_mer_manquante"


def test_payments_give_paid_still_due_and_to_repay_per_year():
    # Year 1 due 17 500, paid 20 000 → 2 500 to repay; year 2 due 12 500, paid 10 000 → 2 500 still due.
    paid = (Paiement(1, date(2024, 1, 15), D("20000.00")), Paiement(2, date(2025, 1, 15), D("6000.00")),
            Paiement(2, date(2025, 2, 15), D("4000.00")))
    fig = figures(etat(poste(1), paiements=paid), V2)
    y1, y2, y3 = fig.annees
    assert (y1.verse, y1.a_reverser, y1.reste_a_verser) == (D("20000.00"), D("2500.00"), D("0.00"))
    assert (y2.verse, y2.a_reverser, y2.reste_a_verser) == (D("10000.00"), D("0.00"), D("2500.00"))
    assert (y3.verse, y3.reste_a_verser) == (D("0.00"), D("12500.00"))
    assert fig.total_verse + fig.total_reste_a_verser - fig.total_a_reverser == fig.total_du


def test_a_poste_ending_the_day_before_it_starts_is_never_funded():
    assert dus(figures(etat(poste(1), poste(2, fin=date(2023, 12, 31))), V2)) == [
        D("17500.00"), D("12500.00"), D("12500.00"),
    ]


def test_rounding_is_half_up_to_the_cent_and_exact():
    assert arrondi_centime(Fraction(2665, 1000)) == D("2.67")  # half-even would give 2.66
    assert arrondi_centime(Fraction(1, 200)) == D("0.01")
    assert arrondi_centime(Fraction(4838500, 365)) == D("13256.16")


def test_figures_refuse_another_rule_set_and_payments_outside_the_period():
    with pytest.raises(RulesError, match="vague-2"):
        figures(etat(poste(1)), V1)
    with pytest.raises(ValueError, match="hors de la période"):
        figures(etat(poste(1), paiements=(Paiement(4, date(2027, 1, 1), D("1.00")),)), V2)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: Path(p).stem)
def test_initial_state_figures_equal_calculer_on_every_example(path):
    demande = parse_demande(json.loads(path.read_text(encoding="utf-8")))
    regles = RULES.for_vague(demande.vague)
    state = etat_initial("CN", demande, regles)
    assert dus(figures(state, regles)) == [a.total for a in calculer(demande, regles).annees]
    assert len(state.postes) == demande.nombre_postes


def test_the_bonus_is_per_poste_in_a_state():
    # P-1 in a QPV, P-2 not, public: P-1 gets 20 000 / 17 500 / 12 500, P-2 17 500 / 12 500 / 12 500.
    # Years: 37 500, 30 000, 25 000 = 92 500 = 2 × 42 500 + 7 500.
    state = etat(replace(poste(1), lieu=Lieu("59512", qpv=True)), poste(2))
    assert dus(figures(state, V2)) == [D("37500.00"), D("30000.00"), D("25000.00")]
    # The same state stored and read back keeps the poste's flag.
    assert dus(figures(etat_from_json(etat_to_json(state)), V2)) == [D("37500.00"), D("30000.00"), D("25000.00")]


def test_a_state_stored_before_the_per_poste_bonus_computes_as_before():
    # JSON as older versions stored it: the structure's flag, no flag on the postes. Every poste of
    # the public structure in the zone gets the bonus: 2 × 20 000, 2 × 17 500, 2 × 12 500.
    stored = {
        "convention_id": "CN-V2-OLD", "version": 2, "vague": 2, "regles": "vague-2",
        "date_debut": "2024-01-01", "date_fin": "2026-12-31", "natures": [["2024-01-01", "publique"]],
        "zone_prioritaire": True,
        "postes": [
            {"id": "P-1", "debut": "2024-01-01", "fin": None, "etat": "occupe", "vacant_depuis": None,
             "type_contrat": "CDI", "conseiller": "Inès Témoin", "contrat_debut": "2023-10-01", "contrat_fin": None,
             "source": "demande", "piece_contrat_attendue": False},
            # added by an avenant on 2025-07-01: 17 500 × 184/365 = 8 821.9178… → 8 821.92 in year 2
            {"id": "P-2", "debut": "2025-07-01", "fin": None, "etat": "vacant", "vacant_depuis": "2025-07-01",
             "type_contrat": None, "conseiller": None},
        ],
        "paiements": [], "statut": "active", "date_resiliation": None,
    }
    state = etat_from_json(stored)
    assert not any(p.zone_prioritaire for p in state.postes)
    # year 2: 17 500 + 8 821.92 = 26 321.92; year 3: 2 × 12 500 = 25 000
    assert dus(figures(state, V2)) == [D("20000.00"), D("26321.92"), D("25000.00")]


def test_a_mixed_demande_gives_its_postes_their_flag_and_calculer_totals():
    # examples/demandes/intercommunalite-postes-qpv-zrr.json: 4 public postes, P-1 in a QPV, P-2 in a
    # ZRR, P-3 outside, P-4 not described (generated, no lieu): 4 × 42 500 + 2 × 7 500 = 185 000,00 €.
    demande = parse_demande(json.loads((EXAMPLES / "intercommunalite-postes-qpv-zrr.json").read_text("utf-8")))
    state = etat_initial("CN", demande, V2)
    assert {p.id: p.zone_prioritaire for p in state.postes} == {"P-1": True, "P-2": True, "P-3": False, "P-4": False}
    assert not state.zone_prioritaire
    # year 1: 4 × 17 500 + 2 × 2 500 = 75 000; year 2: 4 × 12 500 + 2 × 5 000 = 60 000; year 3: 50 000
    assert dus(figures(state, V2)) == [D("75000.00"), D("60000.00"), D("50000.00")]
    assert figures(state, V2).total_du == calculer(demande, V2).total == D("185000.00")
