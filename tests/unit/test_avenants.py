"""Each change (ajout, retrait, changement de nature, renouvellement, résiliation) produces the next
version with figures exact to the cent, and every refusal carries its stable code. The worked
examples write their arithmetic beside them."""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from dossiers.adapters.rules import RulesRepository
from dossiers.domain.avenants import (
    ANNEXE_ECHEANCIER,
    ANNEXE_POSTES,
    ARTICLE_DUREE,
    ARTICLE_MONTANT,
    ARTICLE_RESILIATION,
    ARTICLE_REVERSEMENT,
    ARTICLE_VERSEMENT,
    PARTIES,
    appliquer,
)
from dossiers.domain.changements import etat_initial, parse_changement
from dossiers.domain.demande import parse_demande
from dossiers.domain.etat import (
    AjoutPostes,
    ChangementNature,
    ContratRenouvele,
    EtatConvention,
    MotifResiliation,
    Paiement,
    Renouvellement,
    Resiliation,
    RetraitPoste,
    RetraitPostes,
    StatutConvention,
)
from dossiers.domain.model import EtatPoste, Lieu, Nature, TypeContrat
from dossiers.errors import ChangementRefuse, ErrorCode, RulesError
from dossiers.settings import ROOT
from tests.factories import demande, example

RULES = RulesRepository(ROOT / "config" / "rules")
V1, V2 = RULES.get("vague-1"), RULES.get("vague-2")
D = Decimal
PAYES_1_ET_2 = (Paiement(1, date(2024, 1, 15), D("52500.00")), Paiement(2, date(2025, 1, 15), D("37500.00")))


def base(paiements: tuple[Paiement, ...] = PAYES_1_ET_2) -> EtatConvention:
    """Public vague-2 convention, not in a priority zone, 3 postes from 2024-01-01 (P-1 CDD, P-2 CDI,
    P-3 vacant), years 1 and 2 paid in full (52 500 + 37 500)."""
    state = etat_initial("CN-V2-STR-000123", parse_demande(demande()), V2)
    return dataclasses.replace(state, paiements=paiements)


def dus(fig) -> list[Decimal]:
    return [a.du for a in fig.annees]


def refused(state, change, regles=V2, **kw) -> ChangementRefuse:
    with pytest.raises(ChangementRefuse) as err:
        appliquer(state, change, regles, **kw)
    return err.value


# -- the issue's example ------------------------------------------------------------------------


def test_poste_given_back_after_year_2_was_paid_gives_the_exact_trop_percu():
    # Year 2 = 2025-01-01..2025-12-31 = 365 days. P-2's contract ended 2025-03-31: 31 + 28 + 31 = 90 days funded.
    # P-2 year 2 = 12 500 × 90 / 365 = 1 125 000 / 365 = 3 082.1917… → 3 082.19.
    # Year 2 due = 2 × 12 500 + 3 082.19 = 28 082.19; paid 37 500 → to repay 9 417.81 (= 12 500 − 3 082.19).
    # Year 3: P-2 nothing more → 2 × 12 500 = 25 000 still due. Year 1 unchanged: 52 500 due and paid.
    r = appliquer(base(), RetraitPostes("R-2", (RetraitPoste("P-2", date(2025, 3, 31)),)), V2)
    y1, y2, y3 = r.apres.annees
    assert (y2.debut, y2.fin, (y2.fin - y2.debut).days + 1) == (date(2025, 1, 1), date(2025, 12, 31), 365)
    assert (y1.du, y1.verse, y1.a_reverser, y1.reste_a_verser) == (D("52500.00"), D("52500.00"), D("0.00"), D("0.00"))
    assert (y2.du, y2.verse, y2.a_reverser, y2.reste_a_verser) == (
        D("28082.19"), D("37500.00"), D("9417.81"), D("0.00"))
    assert y2.a_reverser == D("12500.00") - D("3082.19")
    assert (y3.du, y3.verse, y3.a_reverser, y3.reste_a_verser) == (D("25000.00"), D("0.00"), D("0.00"), D("25000.00"))
    # Final: due 105 582.19 = paid 90 000 + still due 25 000 − to repay 9 417.81.
    assert (r.apres.total_du, r.apres.total_verse, r.apres.total_a_reverser, r.apres.total_reste_a_verser) == (
        D("105582.19"), D("90000.00"), D("9417.81"), D("25000.00"))
    assert dus(r.avant) == [D("52500.00"), D("37500.00"), D("37500.00")]
    p2 = next(p for p in r.etat.postes if p.id == "P-2")
    assert (p2.fin, p2.etat) == (date(2025, 3, 31), EtatPoste.RENDU)
    assert r.etat.version == 2 and r.etat.paiements == PAYES_1_ET_2
    assert r.motif == "Avenant : restitution du poste P-2 au 31 mars 2025"
    assert r.articles == (ARTICLE_MONTANT, ARTICLE_VERSEMENT, ARTICLE_REVERSEMENT, ANNEXE_POSTES, ANNEXE_ECHEANCIER)
    assert r.document == "avenant" and r.regles is V2


def test_a_poste_given_back_the_day_before_it_started_was_never_funded():
    # fin = 2023-12-31 = debut − 1: P-2 gets nothing; year 1 due 2 × 17 500 = 35 000, paid 52 500 → 17 500 to repay.
    r = appliquer(base(), RetraitPostes("R", (RetraitPoste("P-2", date(2023, 12, 31)),)), V2)
    assert dus(r.apres) == [D("35000.00"), D("25000.00"), D("25000.00")]
    assert r.apres.annees[0].a_reverser == D("17500.00")


def test_two_postes_given_back_at_once_are_named_in_the_motif():
    change = RetraitPostes("R", (RetraitPoste("P-2", date(2025, 3, 31)), RetraitPoste("P-3", date(2026, 12, 31))))
    r = appliquer(base(), change, V2)
    assert r.motif == "Avenant : restitution de 2 postes (P-2 au 31 mars 2025, P-3 au 31 décembre 2026)"


def test_giving_back_again_at_the_same_date_is_without_effect_and_at_another_is_refused():
    once = appliquer(base(), RetraitPostes("R", (RetraitPoste("P-2", date(2025, 3, 31)),)), V2).etat
    err = refused(once, RetraitPostes("R2", (RetraitPoste("P-2", date(2025, 3, 31)),)))
    assert err.code is ErrorCode.CHANGEMENT_SANS_EFFET and "P-2" in err.message
    err = refused(once, RetraitPostes("R3", (RetraitPoste("P-2", date(2025, 4, 30)),)))
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "déjà rendu" in err.message
    # Mixed with a new poste: the one already given back at that date is simply kept as it is.
    again = (RetraitPoste("P-2", date(2025, 3, 31)), RetraitPoste("P-3", date(2025, 6, 30)))
    r = appliquer(once, RetraitPostes("R4", again), V2)
    assert r.motif == "Avenant : restitution du poste P-3 au 30 juin 2025"


# -- ajout ----------------------------------------------------------------------------------------


def test_two_postes_added_from_year_2_are_funded_for_years_2_and_3():
    # From 2025-01-01 (first day of year 2): 2 × 12 500 more in years 2 and 3 → 62 500 each; year 1 unchanged.
    r = appliquer(base(), parse_changement(
        {"request_id": "R-1", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 2}), V2)
    assert dus(r.apres) == [D("52500.00"), D("62500.00"), D("62500.00")]
    assert [(p.id, p.debut, p.etat, p.vacant_depuis) for p in r.etat.postes[3:]] == [
        ("P-4", date(2025, 1, 1), EtatPoste.VACANT, date(2025, 1, 1)),
        ("P-5", date(2025, 1, 1), EtatPoste.VACANT, date(2025, 1, 1)),
    ]
    assert r.apres.annees[1].reste_a_verser == D("25000.00")
    assert r.motif == "Avenant : ajout de 2 postes à compter du 1er janvier 2025"
    assert r.articles == (ARTICLE_MONTANT, ARTICLE_VERSEMENT, ANNEXE_POSTES, ANNEXE_ECHEANCIER)


def test_a_poste_added_mid_year_gets_the_year_amount_pro_rata_then_full_years():
    # 2025-03-15..2025-12-31 = 292 of 365 days: 12 500 × 292 / 365 = 10 000.00; year 3: 12 500.
    r = appliquer(base(), AjoutPostes("R", date(2025, 3, 15), 1), V2)
    assert dus(r.apres) == [D("52500.00"), D("47500.00"), D("50000.00")]
    assert r.motif == "Avenant : ajout d'un poste à compter du 15 mars 2025"


def test_added_ids_follow_the_highest_p_number():
    state = base()
    state = dataclasses.replace(state, postes=(*state.postes, dataclasses.replace(state.postes[0], id="P-7"),
                                               dataclasses.replace(state.postes[0], id="X-99")))
    r = appliquer(state, AjoutPostes("R", date(2025, 1, 1), 2), V2)
    assert [p.id for p in r.etat.postes[-2:]] == ["P-8", "P-9"]


def test_a_poste_added_on_the_last_day_is_funded_one_day():
    # 2026-12-31 alone: 12 500 × 1 / 365 = 34.2465… → 34.25.
    r = appliquer(base(), AjoutPostes("R", date(2026, 12, 31), 1), V2)
    assert dus(r.apres)[2] == D("37500.00") + D("34.25")


# -- changement de nature -------------------------------------------------------------------------


def test_change_to_private_mid_year_2_recomputes_the_remaining_years():
    # Per poste, year 2: 12 500 × 181/365 + 14 000 × 184/365 = 4 838 500 / 365 = 13 256.1643… → 13 256.16;
    # × 3 postes = 39 768.48, paid 37 500 → 2 268.48 still due. Year 3 private: 3 × 10 000 = 30 000.
    r = appliquer(base(), parse_changement(
        {"request_id": "R-3", "type": "changement_nature", "nature": "privee", "date_effet": "2025-07-01"}), V2)
    assert dus(r.apres) == [D("52500.00"), D("39768.48"), D("30000.00")]
    assert r.apres.annees[1].reste_a_verser == D("2268.48")
    assert r.etat.natures == ((date(2024, 1, 1), Nature.PUBLIQUE), (date(2025, 7, 1), Nature.PRIVEE))
    assert r.motif == "Avenant : changement de nature de la structure (publique → privée) à compter du 1er juillet 2025"
    assert r.articles == (PARTIES, ARTICLE_MONTANT, ARTICLE_VERSEMENT, ANNEXE_ECHEANCIER)


def test_change_to_private_after_year_3_was_paid_makes_a_trop_percu():
    # Year 3 paid 37 500 (3 × 12 500) but private from its first day: 3 × 10 000 = 30 000 → 7 500 to repay.
    paid = (*PAYES_1_ET_2, Paiement(3, date(2026, 1, 15), D("37500.00")))
    r = appliquer(base(paid), ChangementNature("R", Nature.PRIVEE, date(2026, 1, 1)), V2)
    assert r.apres.annees[2].a_reverser == D("7500.00")
    assert ARTICLE_REVERSEMENT in r.articles


def test_nature_change_refusals_and_same_day_correction():
    err = refused(base(), ChangementNature("R", Nature.PUBLIQUE, date(2025, 1, 1)))
    assert err.code is ErrorCode.CHANGEMENT_SANS_EFFET and "déjà publique" in err.message
    changed = appliquer(base(), ChangementNature("R", Nature.PRIVEE, date(2025, 7, 1)), V2).etat
    err = refused(changed, ChangementNature("R", Nature.PUBLIQUE, date(2025, 3, 1)))
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "précéder" in err.message
    undone = appliquer(changed, ChangementNature("R", Nature.PUBLIQUE, date(2025, 7, 1)), V2).etat
    assert undone.natures == ((date(2024, 1, 1), Nature.PUBLIQUE),)


# -- renouvellement -------------------------------------------------------------------------------


def test_renewal_keeps_the_cdi_postes_by_default_and_starts_a_new_36_month_period():
    r = appliquer(base(), Renouvellement("R-4", date(2027, 1, 1)), V2, regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    new = r.etat
    # a new convention: its own id, version 1, no payment, no event carried
    assert (new.convention_id, new.version, new.evenements, r.document) == ("CN-V2-RENOUV", 1, (), "convention")
    assert (new.date_debut, new.date_fin, new.paiements) == (date(2027, 1, 1), date(2029, 12, 31), ())
    assert [(p.id, p.debut, p.fin) for p in new.postes] == [("P-2", date(2027, 1, 1), None)]
    assert dus(r.apres) == [D("17500.00"), D("12500.00"), D("12500.00")]
    assert r.apres.total_reste_a_verser == D("42500.00")
    assert r.avant.total_du == D("127500.00") and r.avant.total_reste_a_verser == D("37500.00")
    assert r.motif == ("Renouvellement de la convention CN-V2-STR-000123 : période du 1er janvier 2027 au "
                       "31 décembre 2029 pour 1 poste (P-2)")
    assert r.articles == (ARTICLE_DUREE, ARTICLE_MONTANT, ARTICLE_VERSEMENT, ANNEXE_POSTES, ANNEXE_ECHEANCIER)


def test_renewal_of_listed_postes_from_vague_1_moves_to_vague_2_rules():
    v1 = etat_initial("CN-V1-STR-000007", parse_demande(example("departement-vague-1.json")), V1)
    # Both contracts (PEC and CDD) end on 2023-05-31, the last day of the period: the postes are
    # renewed only with the new contracts, and their pieces are awaited before the first tranche.
    bare = {"request_id": "R-4", "type": "renouvellement", "date_debut": "2023-06-01", "postes": ["P-1", "P-2"]}
    err = refused(v1, parse_changement(bare), V1, regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "P-1 n'a pas de contrat en cours" in err.message
    assert "contrats" in err.message
    contrats = [{"poste": "P-1", "conseiller": {"prenom": "Sophie", "nom": "Durand"}, "type": "CDD",
                 "date_debut": "2023-06-01", "date_fin": "2026-05-31"},
                {"poste": "P-2", "conseiller": {"prenom": "Éric", "nom": "Lambert"}, "type": "CDI",
                 "date_debut": "2023-06-01"}]
    r = appliquer(v1, parse_changement(bare | {"contrats": contrats}), V1, regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert (r.etat.vague, r.etat.regles, r.etat.date_fin, r.regles) == (2, "vague-2", date(2026, 5, 31), V2)
    assert [(p.id, p.conseiller, p.type_contrat, p.contrat_fin, p.piece_contrat_attendue) for p in r.etat.postes] == [
        ("P-1", "Sophie Durand", TypeContrat.CDD, date(2026, 5, 31), True),
        ("P-2", "Éric Lambert", TypeContrat.CDI, None, True)]
    assert dus(r.apres) == [D("35000.00"), D("25000.00"), D("25000.00")]
    assert dus(r.avant) == [D("50000.00"), D("50000.00")]


def test_renewal_takes_the_nature_in_force_at_the_end_of_the_old_period():
    private = appliquer(base(), ChangementNature("R", Nature.PRIVEE, date(2026, 7, 1)), V2).etat
    # P-1's CDD ended on 2025-06-30: renewed with a new recruitment
    recrue = ContratRenouvele("P-1", "Inès Témoin-Lefèvre", TypeContrat.CDD, date(2027, 1, 1), date(2029, 12, 31))
    r = appliquer(private, Renouvellement("R", date(2027, 1, 1), ("P-1",), contrats=(recrue,)), V2,
                  regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert r.etat.natures == ((date(2027, 1, 1), Nature.PRIVEE),)
    assert dus(r.apres) == [D("20000.00"), D("14000.00"), D("10000.00")]


def test_renewal_refusals():
    state = base()
    no_cdi = dataclasses.replace(state, postes=tuple(p for p in state.postes if p.id != "P-2"))
    err = refused(no_cdi, Renouvellement("R", date(2027, 1, 1)), regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert err.code is ErrorCode.CHANGEMENT_SANS_EFFET and "aucun poste n'a de contrat en cours" in err.message
    err = refused(state, Renouvellement("R", date(2027, 1, 1), ("P-1", "P-2")), regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "le poste P-1 n'a pas de contrat en cours" in err.message
    err = refused(state, Renouvellement("R", date(2027, 1, 1), ("P-9",)), regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "P-9" in err.message
    given_back = appliquer(state, RetraitPostes("R", (RetraitPoste("P-1", date(2025, 3, 31)),)), V2).etat
    err = refused(given_back, Renouvellement("R", date(2027, 1, 1), ("P-1",)), regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "rendu" in err.message
    err = refused(state, Renouvellement("R", date(2024, 1, 1)), regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "1er janvier 2027" in err.message
    with pytest.raises(RulesError):
        appliquer(state, Renouvellement("R", date(2027, 1, 1)), V2)


# -- résiliation ----------------------------------------------------------------------------------


def test_early_termination_stops_every_poste_and_gives_the_final_balance():
    # 2025-01-01..2025-09-30 = 31+28+31+30+31+30+31+31+30 = 273 days: 12 500 × 273 / 365 = 9 349.3150… → 9 349.32
    # per poste, × 3 = 28 047.96 due in year 2; paid 37 500 → 9 452.04 to repay. Year 3: nothing due.
    # Balance: due 52 500 + 28 047.96 = 80 547.96; paid 90 000; to repay 9 452.04; nothing still due.
    r = appliquer(base(), parse_changement(
        {"request_id": "R-5", "type": "resiliation", "date_effet": "2025-09-30", "motif": "anticipee"}), V2)
    assert dus(r.apres) == [D("52500.00"), D("28047.96"), D("0.00")]
    assert (r.apres.total_du, r.apres.total_verse, r.apres.total_a_reverser, r.apres.total_reste_a_verser) == (
        D("80547.96"), D("90000.00"), D("9452.04"), D("0.00"))
    assert (r.etat.statut, r.etat.date_resiliation) == (StatutConvention.RESILIEE, date(2025, 9, 30))
    assert all(p.fin == date(2025, 9, 30) for p in r.etat.postes)
    assert [p.etat for p in r.etat.postes] == [p.etat for p in base().postes]
    assert r.document == "resiliation"
    assert r.motif == "Résiliation anticipée de la convention au 30 septembre 2025"
    assert r.articles == (ARTICLE_DUREE, ARTICLE_MONTANT, ARTICLE_VERSEMENT, ARTICLE_REVERSEMENT,
                          ARTICLE_RESILIATION, ANNEXE_ECHEANCIER)


def test_full_termination_gives_every_poste_back_and_keeps_earlier_ends():
    # P-2 was given back at 2025-03-31 (3 082.19 in year 2); P-1 and P-3 stop at 2025-09-30 (2 × 9 349.32).
    # Year 2 = 3 082.19 + 18 698.64 = 21 780.83; paid 37 500 → 15 719.17 to repay.
    given_back = appliquer(base(), RetraitPostes("R", (RetraitPoste("P-2", date(2025, 3, 31)),)), V2).etat
    r = appliquer(given_back, Resiliation("R", MotifResiliation.INTEGRALE, date(2025, 9, 30)), V2)
    assert all(p.etat is EtatPoste.RENDU for p in r.etat.postes)
    assert [p.fin for p in r.etat.postes] == [date(2025, 9, 30), date(2025, 3, 31), date(2025, 9, 30)]
    assert r.apres.annees[1].du == D("21780.83") and r.apres.annees[1].a_reverser == D("15719.17")
    assert r.motif == "Résiliation intégrale de la convention au 30 septembre 2025, avec restitution de tous les postes"
    assert ANNEXE_POSTES in r.articles and r.etat.version == 3


def test_termination_before_an_added_poste_starts_leaves_it_unfunded():
    added = appliquer(base(), AjoutPostes("R", date(2026, 1, 1), 1), V2).etat
    r = appliquer(added, Resiliation("R", MotifResiliation.ANTICIPEE, date(2025, 9, 30)), V2)
    assert r.etat.postes[-1].fin == date(2025, 12, 31)
    assert dus(r.apres)[2] == D("0.00")


def test_natural_end_closes_at_term_with_what_is_still_due():
    r = appliquer(base(), Resiliation("R", MotifResiliation.NATURELLE), V2)
    assert (r.etat.statut, r.etat.date_resiliation) == (StatutConvention.TERMINEE, date(2026, 12, 31))
    assert dus(r.apres) == dus(r.avant) and r.apres.total_reste_a_verser == D("37500.00")
    assert r.motif == "Fin de la convention à son terme, le 31 décembre 2026, sans renouvellement"
    assert r.articles == (ARTICLE_VERSEMENT, ARTICLE_RESILIATION, ANNEXE_ECHEANCIER)
    err = refused(base(), Resiliation("R", MotifResiliation.NATURELLE, date(2026, 6, 30)))
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "31 décembre 2026" in err.message


def test_early_termination_needs_a_date_inside_the_period():
    assert refused(base(), Resiliation("R", MotifResiliation.ANTICIPEE)).code is ErrorCode.CHANGEMENT_INVALIDE
    assert refused(base(), Resiliation("R", MotifResiliation.ANTICIPEE, date(2027, 1, 1))).code is (
        ErrorCode.CHANGEMENT_INVALIDE)


# -- refusals common to every change --------------------------------------------------------------


@pytest.mark.parametrize("motif", list(MotifResiliation))
def test_a_closed_convention_refuses_every_change(motif):
    when = None if motif is MotifResiliation.NATURELLE else date(2025, 9, 30)
    closed = appliquer(base(), Resiliation("R", motif, when), V2).etat
    for change in (AjoutPostes("R", date(2025, 1, 1), 1), ChangementNature("R", Nature.PRIVEE, date(2025, 1, 1)),
                   Resiliation("R", MotifResiliation.NATURELLE)):
        err = refused(closed, change)
        assert err.code is ErrorCode.CONVENTION_CLOSE and "close" in err.message


def test_a_change_based_on_another_version_is_refused():
    err = refused(base(), AjoutPostes("R", date(2025, 1, 1), 1, version=3))
    assert err.code is ErrorCode.VERSION_PERIMEE and "version 3" in err.message
    assert appliquer(base(), AjoutPostes("R", date(2025, 1, 1), 1, version=1), V2).etat.version == 2


def test_unknown_poste_and_dates_outside_the_period_are_refused():
    err = refused(base(), RetraitPostes("R", (RetraitPoste("P-9", date(2025, 3, 31)),)))
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "P-9" in err.message and "P-1, P-2, P-3" in err.message
    err = refused(base(), RetraitPostes("R", (RetraitPoste("P-1", date(2027, 1, 1)),)))
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "31 décembre 2026" in err.message
    err = refused(base(), RetraitPostes("R", (RetraitPoste("P-1", date(2023, 12, 30)),)))
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE
    err = refused(base(), AjoutPostes("R", date(2027, 1, 1), 1))
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE and "hors de la période" in err.message
    err = refused(base(), ChangementNature("R", Nature.PRIVEE, date(2023, 12, 31)))
    assert err.code is ErrorCode.CHANGEMENT_INVALIDE


# -- parsing the portal's JSON --------------------------------------------------------------------


def test_the_issue_payloads_parse_into_domain_changes():
    assert parse_changement({"request_id": "R-2", "type": "retrait_postes", "version": 4,
                             "postes": [{"id": "P-2", "date_fin_contrat": "2025-03-31"}]}) == RetraitPostes(
        "R-2", (RetraitPoste("P-2", date(2025, 3, 31)),), version=4)
    assert parse_changement({"request_id": "R-4", "type": "renouvellement", "date_debut": "2027-01-01"}) == (
        Renouvellement("R-4", date(2027, 1, 1), None))
    assert parse_changement({"request_id": "R-5", "type": "resiliation", "motif": "naturelle"}) == Resiliation(
        "R-5", MotifResiliation.NATURELLE, None)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"request_id": "R 1", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 2}, {"request_id"}),
        ({"request_id": "R", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 51}, {"nombre"}),
        ({"request_id": "R", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": True}, {"nombre"}),
        ({"request_id": "R", "type": "ajout_postes", "date_effet": 1735689600, "nombre": 1}, {"date_effet"}),
        ({"request_id": "R", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 1, "x": 1}, {"x"}),
        ({"request_id": "R", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 1, "version": 0}, {"version"}),
        ({"request_id": "R", "type": "retrait_postes", "postes": []}, {"postes"}),
        ({"request_id": "R", "type": "retrait_postes", "postes": [{"id": "P-1", "date_fin_contrat": "31/03/2025"}]},
         {"postes[0].date_fin_contrat"}),
        ({"request_id": "R", "type": "retrait_postes", "postes": [{"id": "P-1", "date_fin_contrat": "2025-03-31"},
                                                                  {"id": "P-1", "date_fin_contrat": "2025-03-31"}]},
         {"postes"}),
        ({"request_id": "R", "type": "resiliation", "motif": "anticipee"}, {"date_effet"}),
        ({"request_id": "R", "type": "resiliation", "motif": "amiable", "date_effet": "2025-01-01"}, {"motif"}),
        ({"request_id": "R", "type": "fusion"}, {"type"}),
        ({"request_id": "R"}, {"type"}),
        ({"type": "changement_nature", "nature": "privee", "date_effet": "2025-07-01"}, {"request_id"}),
    ],
)
def test_invalid_payloads_are_refused_naming_each_field(payload, expected):
    with pytest.raises(ChangementRefuse) as err:
        parse_changement(payload)
    assert err.value.code is ErrorCode.CHANGEMENT_INVALIDE
    assert {e.field for e in err.value.errors} == expected
    assert all(e.field in err.value.message for e in err.value.errors)


def test_a_non_object_payload_is_refused_in_french():
    with pytest.raises(ChangementRefuse, match="objet JSON"):
        parse_changement(["ajout_postes"])


def test_a_poste_in_a_qpv_keeps_its_bonus_through_a_renewal_and_added_postes_have_none():
    # P-2 (CDI) works in a QPV: renewed on 2027-01-01 it still gets 17 500 + 2 500, 12 500 + 5 000, 12 500.
    payload = demande()
    payload["postes"][1]["lieu"] = {"commune": "33063", "qpv": True}
    state = dataclasses.replace(etat_initial("CN-V2-STR-000123", parse_demande(payload), V2), paiements=PAYES_1_ET_2)
    renewed = appliquer(state, Renouvellement("R-4", date(2027, 1, 1)), V2, regles_renouvellement=V2, renouvellement_id="CN-V2-RENOUV")
    assert [(p.id, p.lieu) for p in renewed.etat.postes] == [("P-2", Lieu("33063", qpv=True))]
    assert dus(renewed.apres) == [D("20000.00"), D("17500.00"), D("12500.00")]
    # A poste added by avenant has no lieu: no bonus. Year 1: 3 × 17 500 + 2 500 = 55 000; from
    # 2025-01-01 one poste more: year 2 3 × 12 500 + 5 000 + 12 500 = 55 000, year 3 4 × 12 500 = 50 000.
    added = appliquer(state, parse_changement(
        {"request_id": "R-1", "type": "ajout_postes", "date_effet": "2025-01-01", "nombre": 1}), V2)
    assert dus(added.apres) == [D("55000.00"), D("55000.00"), D("50000.00")]


# -- a poste nobody ever held is owed nothing at the balance -------------------------------------


def deux_postes(paiements: tuple[Paiement, ...]) -> EtatConvention:
    """Public vague-2 convention from 2024-01-01, 2 postes: P-1 held under a CDI from the first day,
    P-2 never filled (vacant from the first day)."""
    payload = demande(convention__nombre_postes=2, postes=[
        {"id": "P-1", "etat": "occupe", "conseiller": {"prenom": "Karim", "nom": "Bouzid"},
         "contrat": {"type": "CDI", "date_debut": "2023-10-01"}},
        {"id": "P-2", "etat": "vacant", "vacant_depuis": "2024-01-01"},
    ])
    state = etat_initial("CN-V2-STR-000123", parse_demande(payload), V2)
    return dataclasses.replace(state, paiements=paiements)


PAYES_2_POSTES = (Paiement(1, date(2024, 1, 15), D("35000.00")), Paiement(2, date(2025, 1, 15), D("25000.00")))


def test_early_termination_pays_nothing_for_a_poste_vacant_throughout():
    # Paid: year 1 2 × 17 500 = 35 000, year 2 2 × 12 500 = 25 000 (60 000).
    # Résiliation au 30 juin 2025: year 2 funded 2025-01-01..06-30 = 31+28+31+30+31+30 = 181 days.
    # P-1: year 1 17 500; year 2 12 500 × 181 / 365 = 2 262 500 / 365 = 6 198.630… → 6 198.63.
    # P-2, nobody ever held it: nothing. Due 17 500 + 6 198.63 = 23 698.63.
    # To repay: year 1 35 000 − 17 500 = 17 500; year 2 25 000 − 6 198.63 = 18 801.37; total 36 301.37.
    # (Paying P-2 like P-1 would have left 47 397.26 due and only 12 602.74 to repay.)
    r = appliquer(deux_postes(PAYES_2_POSTES), Resiliation("R", MotifResiliation.ANTICIPEE, date(2025, 6, 30)), V2)
    assert dus(r.apres) == [D("17500.00"), D("6198.63"), D("0.00")]
    assert [a.a_reverser for a in r.apres.annees] == [D("17500.00"), D("18801.37"), D("0.00")]
    assert (r.apres.total_du, r.apres.total_a_reverser, r.apres.total_reste_a_verser) == (
        D("23698.63"), D("36301.37"), D("0.00"))
    p1, p2 = r.etat.postes
    assert (p1.fin, p2.fin, p2.etat) == (date(2025, 6, 30), date(2023, 12, 31), EtatPoste.VACANT)


def test_a_poste_filled_before_the_termination_is_paid_its_days():
    # P-2 recruited on 2025-04-01 (recorded event): held on a funded day, so funded like P-1 to 2025-06-30:
    # year 1 2 × 17 500 = 35 000, year 2 2 × 6 198.63 = 12 397.26 (due 47 397.26, to repay 12 602.74).
    from dossiers.domain.postes import EvenementPoste, Recrutement, Source
    recrute = EvenementPoste(1, Recrutement("E-1", "P-2", "Léa Roux", TypeContrat.CDI, date(2025, 4, 1)),
                             Source.PORTAIL)
    state = dataclasses.replace(deux_postes(PAYES_2_POSTES), evenements=(recrute,))
    r = appliquer(state, Resiliation("R", MotifResiliation.ANTICIPEE, date(2025, 6, 30)), V2)
    assert dus(r.apres) == [D("35000.00"), D("12397.26"), D("0.00")]
    assert r.apres.total_a_reverser == D("12602.74")
    # ... but recruited after the résiliation's date it was still vacant throughout: nothing for it.
    late = EvenementPoste(1, Recrutement("E-1", "P-2", "Léa Roux", TypeContrat.CDI, date(2025, 7, 1)), Source.PORTAIL)
    r = appliquer(dataclasses.replace(state, evenements=(late,)),
                  Resiliation("R", MotifResiliation.ANTICIPEE, date(2025, 6, 30)), V2)
    assert r.apres.total_du == D("23698.63")


def test_natural_end_pays_nothing_for_a_poste_vacant_throughout():
    # At term (2026-12-31), P-2 never held: P-1 alone is due 17 500 + 12 500 + 12 500 = 42 500.
    # Paid 35 000 + 25 000: year 1 17 500 and year 2 12 500 to repay (30 000), year 3 12 500 still due.
    r = appliquer(deux_postes(PAYES_2_POSTES), Resiliation("R", MotifResiliation.NATURELLE), V2)
    assert dus(r.apres) == [D("17500.00"), D("12500.00"), D("12500.00")]
    assert (r.apres.total_a_reverser, r.apres.total_reste_a_verser) == (D("30000.00"), D("12500.00"))
    assert ARTICLE_MONTANT in r.articles and r.etat.statut is StatutConvention.TERMINEE
