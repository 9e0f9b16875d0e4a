"""The life of each poste: worked examples computed by hand, and the refusals of contradictory events.

The convention is ``tests.factories.demande()``: public, vague 2, not in a priority zone, from
2024-01-01 to 2026-12-31, 3 postes (P-1 CDD 2024-01-01 → 2025-06-30, P-2 CDI, P-3 vacant since
2024-03-01). A poste funded a whole year gets 17 500 € (year 1), 12 500 € (years 2 and 3). Years 1
and 2 are paid in full (52 500 + 37 500).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from dossiers.adapters.rules import RulesRepository
from dossiers.domain.avenants import appliquer
from dossiers.domain.changements import etat_initial
from dossiers.domain.demande import parse_demande
from dossiers.domain.echeancier import figures
from dossiers.domain.etat import AjoutPostes, EtatConvention, Paiement, RetraitPoste, TransfertEntrant, TransfertSortant
from dossiers.domain.evenements import evenement_from_json, evenement_to_json, parse_evenement
from dossiers.domain.gestion import avenant_restitution, postes_a_rendre
from dossiers.domain.model import EtatPoste
from dossiers.domain.postes import EvenementPoste, MotifFin, Source, chronologie, verifier
from dossiers.errors import ChangementRefuse, ErrorCode
from dossiers.settings import ROOT
from tests.factories import demande

RULES = RulesRepository(ROOT / "config" / "rules")
V2 = RULES.get("vague-2")
MAI_2025 = RULES.gestion("regles-2025-05")
D = Decimal
PAYES = (Paiement(1, date(2024, 1, 15), D("52500.00")), Paiement(2, date(2025, 1, 15), D("37500.00")))


def base() -> EtatConvention:
    return dataclasses.replace(etat_initial("CN-V2-STR-000123", parse_demande(demande()), V2), paiements=PAYES)


def record(etat: EtatConvention, *payloads: dict) -> EtatConvention:
    """Record events the way the service does: parsed, checked against the timeline, appended."""
    for payload in payloads:
        resolved, _ = verifier(etat, parse_evenement(payload), source=Source.PORTAIL)
        seq = len(etat.evenements) + 1
        etat = dataclasses.replace(etat, evenements=etat.evenements + (EvenementPoste(seq, resolved, Source.PORTAIL),))
    return etat


def recrutement(rid: str, poste: str, debut: str, fin: str | None = None, nom: str = "Martin") -> dict:
    contrat = {"type": "CDD" if fin else "CDI", "date_debut": debut} | ({"date_fin": fin} if fin else {})
    return {"request_id": rid, "type": "recrutement", "poste": poste, "conseiller": {"prenom": "Léa", "nom": nom},
            "contrat": contrat}


# P-3 (vacant since 2024-03-01) filled after 2 months: kept in every example below
P3_POURVU = recrutement("E-P3", "P-3", "2024-05-01", nom="Roux")


def dus(fig) -> list[Decimal]:
    return [a.du for a in fig.annees]


def test_an_added_poste_filled_after_2_months_is_funded_from_its_start_and_never_given_back():
    # P-4 added from 2025-06-01, recruited 2025-08-01 (2 months of vacancy). Year 2 (365 days):
    # 2025-06-01..2025-12-31 = 214 days → 12 500 × 214 / 365 = 7 328.767… → 7 328.77; year 3: 12 500.
    added = appliquer(base(), AjoutPostes("A-1", date(2025, 6, 1), 1), V2)
    etat = record(added.etat, P3_POURVU, recrutement("E-1", "P-4", "2025-08-01", "2027-07-31"))
    assert dus(added.apres)[1] - dus(added.avant)[1] == D("7328.77")
    assert dus(added.apres)[2] - dus(added.avant)[2] == D("12500.00")
    assert "P-4" not in {r.id for r in postes_a_rendre(etat, date(2026, 12, 31), MAI_2025)}
    situation = chronologie(etat.postes[3], etat.evenements, date(2025, 7, 1)).situation(date(2025, 7, 1))
    assert (situation.etat, situation.vacant_depuis) == (EtatPoste.VACANT, date(2025, 6, 1))
    assert chronologie(etat.postes[3], etat.evenements, date(2025, 8, 1)).situation(date(2025, 8, 1)).etat \
        is EtatPoste.OCCUPE
    # never filled: 6 months and a day after 2025-06-01 it goes back, never funded (ends 2025-05-31)
    empty = record(added.etat, P3_POURVU)
    assert postes_a_rendre(empty, date(2025, 12, 1), MAI_2025) == ()
    assert postes_a_rendre(empty, date(2025, 12, 2), MAI_2025) == (RetraitPoste("P-4", date(2025, 5, 31)),)


def test_a_cdd_ended_then_a_recruitment_4_months_later_keeps_the_poste():
    # P-1's CDD ends on 2025-06-30 (its planned end, no event needed); recruitment on 2025-11-01:
    # vacant 2025-07-01..2025-10-31, 4 months: kept, whatever the day of the check.
    etat = record(base(), P3_POURVU, recrutement("E-1", "P-1", "2025-11-01", "2026-10-31"))
    timeline = chronologie(etat.postes[0], etat.evenements, date(2026, 6, 1))
    assert [(v.depuis, v.jusqu_au, v.motif) for v in timeline.vacances] == [
        (date(2025, 7, 1), date(2025, 10, 31), "fin_cdd")]
    for day in (date(2025, 10, 31), date(2026, 1, 2), date(2026, 12, 31)):
        assert postes_a_rendre(etat, day, MAI_2025) == ()


def test_a_cdd_ended_and_nobody_recruited_for_7_months_is_given_back_with_the_repayment_to_the_cent():
    # P-1's CDD ends on 2025-06-30; nobody recruited. Vacant from 2025-07-01: 6 months later is
    # 2026-01-01, so on 2026-01-02 it has been vacant for more than 6 months; on 2026-02-01 (7 months)
    # it goes back with its funding stopped on 2025-06-30 (the day before the vacancy).
    # Year 2 (2025-01-01..2025-12-31, 365 days): P-1 funded 181 days → 12 500 × 181 / 365 = 6 198.630… → 6 198.63;
    # P-2 and P-3 12 500 each → due 31 198.63, paid 37 500 → to repay 6 301.37. Year 3: 25 000 due, none paid.
    etat = record(base(), P3_POURVU)
    assert postes_a_rendre(etat, date(2026, 1, 1), MAI_2025) == ()
    change = avenant_restitution(etat, date(2026, 2, 1), MAI_2025, "regles-2025-05-2026-02-01")
    assert change is not None and change.postes == (RetraitPoste("P-1", date(2025, 6, 30)),)
    r = appliquer(etat, change, V2)
    assert dus(r.apres) == [D("52500.00"), D("31198.63"), D("25000.00")]
    assert r.apres.annees[1].a_reverser == D("6301.37")
    assert (r.apres.total_a_reverser, r.apres.total_reste_a_verser) == (D("6301.37"), D("25000.00"))
    assert r.motif == "Avenant : restitution du poste P-1 au 30 juin 2025"
    assert postes_a_rendre(r.etat, date(2026, 2, 1), MAI_2025) == ()  # given back once
    # a recruitment declared after the delay does not undo it: the rule bit on 2026-01-02
    late = record(etat, recrutement("E-2", "P-1", "2026-03-01", "2026-12-31"))
    assert postes_a_rendre(late, date(2026, 4, 1), MAI_2025) == (RetraitPoste("P-1", date(2025, 6, 30)),)


def test_an_early_rupture_starts_the_6_month_clock_at_the_real_end():
    # P-1 resigns on 2024-06-30 (rupture before the CDD's planned end of 2025-06-30): vacant from
    # 2024-07-01, more than 6 months on the day the rules bind (2025-05-14): given back then.
    etat = record(base(), P3_POURVU, {"request_id": "E-1", "type": "fin_contrat", "poste": "P-1",
                                      "date": "2024-06-30", "motif": "demission"})
    assert postes_a_rendre(etat, date(2025, 5, 13), MAI_2025) == ()
    assert postes_a_rendre(etat, date(2025, 5, 14), MAI_2025) == (RetraitPoste("P-1", date(2024, 6, 30)),)
    # and a prolongation keeps a CDD alive past its planned end
    prolonged = record(base(), P3_POURVU, {"request_id": "E-1", "type": "prolongation", "poste": "P-1",
                                           "date_fin": "2026-12-31"})
    assert postes_a_rendre(prolonged, date(2026, 12, 31), MAI_2025) == ()
    assert prolonged.evenements[-1].evenement.contrat_fin == date(2025, 6, 30)
    # prolonged, then the conseiller resigns before the first planned end: the resignation is the real end
    resigned = record(prolonged, {"request_id": "E-2", "type": "fin_contrat", "poste": "P-1", "date": "2025-06-15",
                                  "motif": "demission"})
    occupation = chronologie(resigned.postes[0], resigned.evenements, date(2025, 7, 1)).occupations[0]
    assert (occupation.fin, occupation.fin_prevue, occupation.motif_fin) == (
        date(2025, 6, 15), date(2026, 12, 31), MotifFin.DEMISSION)
    assert postes_a_rendre(resigned, date(2025, 12, 16), MAI_2025) == ()  # vacant from 06-16: 6 months exactly
    assert postes_a_rendre(resigned, date(2025, 12, 17), MAI_2025) == (RetraitPoste("P-1", date(2025, 6, 15)),)


def test_a_maternity_leave_of_5_months_changes_no_money_and_an_unjustified_absence_is_flagged():
    etat = record(base(), P3_POURVU,
                  {"request_id": "E-1", "type": "absence", "poste": "P-2", "du": "2025-03-01", "au": "2025-07-31",
                   "motif": "maternite", "justifiee": True},
                  {"request_id": "E-2", "type": "absence", "poste": "P-3", "du": "2025-09-01", "motif": "autre"})
    assert figures(etat, V2) == figures(base(), V2)
    assert postes_a_rendre(etat, date(2026, 12, 31), MAI_2025) == (
        RetraitPoste("P-1", date(2025, 6, 30)),)  # P-1's CDD, not the absences
    p2 = chronologie(etat.postes[1], etat.evenements, date(2025, 5, 1)).situation(date(2025, 5, 1))
    assert p2.etat is EtatPoste.OCCUPE and p2.absence is not None and not p2.absence.signalee
    p3 = chronologie(etat.postes[2], etat.evenements, date(2025, 10, 1))
    assert [a.signalee for a in p3.absences] == [True]


def test_a_transfer_moves_the_remaining_funding_to_the_cent():
    # P-2 (CDI) leaves A after 2025-03-31 for B (same rules, same dates). A, year 2: 2025-01-01..03-31 =
    # 90 days → 12 500 × 90 / 365 = 3 082.191… → 3 082.19; year 3: 0. B receives it from 2025-04-01:
    # 275 days → 9 417.808… → 9 417.81; year 3: 12 500. 3 082.19 + 9 417.81 = 12 500.00: nothing lost.
    a = base()
    b = dataclasses.replace(etat_initial("CN-V2-STR-000999", parse_demande(demande(structure__id="STR-000999")), V2),
                            paiements=())
    sortant = appliquer(a, TransfertSortant("T-1", "P-2", date(2025, 3, 31), "Commune de B"), V2)
    poste = a.postes[1]
    arrivee = dataclasses.replace(poste, id="", debut=date(2025, 4, 1), fin=a.date_fin, source=str(Source.TRANSFERT))
    entrant = appliquer(b, TransfertEntrant("T-1", arrivee, "Commune de A"), V2)
    lost = [x - y for x, y in zip(dus(sortant.avant), dus(sortant.apres), strict=True)]
    gained = [y - x for x, y in zip(dus(entrant.avant), dus(entrant.apres), strict=True)]
    assert lost == [D("0.00"), D("9417.81"), D("12500.00")]
    assert gained == lost
    assert entrant.etat.postes[-1].id == "P-4" and entrant.etat.postes[-1].conseiller == poste.conseiller
    assert sortant.motif == "Avenant : transfert du poste P-2 à Commune de B au 1er avril 2025"
    assert entrant.motif.startswith("Avenant : accueil du poste transféré par Commune de A (poste P-4)")


@pytest.mark.parametrize(("payloads", "needle"), [
    ([recrutement("E-1", "P-2", "2025-01-01")], "occupé par Karim Bouzid"),
    ([{"request_id": "E-1", "type": "fin_contrat", "poste": "P-3", "date": "2024-04-01", "motif": "demission"}],
     "aucun contrat en cours"),
    ([{"request_id": "E-1", "type": "absence", "poste": "P-3", "du": "2024-04-01", "motif": "maladie"}],
     "aucun conseiller en poste"),
    ([{"request_id": "E-1", "type": "prolongation", "poste": "P-2", "cdi": True}], "à prolonger"),
    ([{"request_id": "E-1", "type": "prolongation", "poste": "P-1", "date_fin": "2025-01-31"}],
     "doit finir après"),
    ([recrutement("E-1", "P-3", "2027-02-01")], "après la fin de la convention"),
    ([{"request_id": "E-1", "type": "fin_contrat", "poste": "P-1", "date": "2024-06-30", "motif": "demission"},
      recrutement("E-2", "P-1", "2024-06-01", "2025-01-31")], "occupé par Inès Témoin-Lefèvre"),
])
def test_events_that_contradict_the_poste_s_life_are_refused_with_the_poste_named(payloads, needle):
    etat = base()
    with pytest.raises(ChangementRefuse) as refused:
        record(etat, *payloads)
    assert refused.value.code is ErrorCode.EVENEMENT_INVALIDE and needle in refused.value.message
    assert refused.value.message.startswith("Poste P-")


def test_unknown_poste_and_malformed_events_name_the_field():
    with pytest.raises(ChangementRefuse) as unknown:
        record(base(), recrutement("E-1", "P-9", "2025-01-01"))
    assert unknown.value.code is ErrorCode.POSTE_INCONNU and "P-9" in unknown.value.message
    cases = [
        ({"request_id": "E-1", "type": "fin_contrat", "poste": "P-1", "date": "31/03/2025", "motif": "fin_cdd"}, "date"),
        ({"request_id": "E-1", "type": "fin_contrat", "poste": "P-1", "date": "2025-03-31", "motif": "vacances"},
         "motif"),
        (recrutement("E-1", "P-1", "2025-01-01") | {"contrat": {"type": "CDI", "date_debut": "2025-01-01",
                                                                "date_fin": "2025-12-31"}}, "contrat.date_fin"),
        ({"request_id": "E-1", "type": "absence", "poste": "P-1", "du": "2025-03-01", "au": "2025-02-01",
          "motif": "maladie"}, "au"),
        ({"request_id": "E-1", "type": "transfert", "poste": "P-1", "date": "2025-03-01", "vers": {}}, "vers"),
        ({"request_id": "E-1", "type": "recrutement", "poste": "P-1", "salaire": 1}, "salaire"),
    ]
    for payload, field in cases:
        with pytest.raises(ChangementRefuse) as refused:
            parse_evenement(payload)
        assert refused.value.code is ErrorCode.EVENEMENT_INVALIDE
        assert any(e.field.startswith(field) for e in refused.value.errors), (field, refused.value.errors)


def test_events_round_trip_through_their_catalog_form():
    for payload in (recrutement("E-1", "P-3", "2025-01-01", "2025-12-31"),
                    {"request_id": "E-2", "type": "fin_contrat", "poste": "P-1", "date": "2025-03-31",
                     "motif": "rupture_conventionnelle"},
                    {"request_id": "E-3", "type": "absence", "poste": "P-2", "du": "2025-03-01", "motif": "parental",
                     "justifiee": True},
                    {"request_id": "E-4", "type": "transfert", "poste": "P-2", "date": "2025-03-31",
                     "vers": {"structure_id": "STR-9"}, "derogation": {"reference": "DGE-2025-12"}}):
        event = parse_evenement(payload)
        assert evenement_from_json(evenement_to_json(event)) == event


def test_the_cut_off_day_is_a_named_unsourced_setting():
    assert MAI_2025.arret_financement == "veille_vacance" and MAI_2025.non_source == ("arret_financement",)
    assert any("non sourc" in note or "pas de source" in note for note in MAI_2025.avertissements)
    # the motif a transfer sets is never one a portal may send
    with pytest.raises(ChangementRefuse) as refused:
        parse_evenement({"request_id": "E", "type": "fin_contrat", "poste": "P-1", "date": "2025-03-31",
                         "motif": "transfert"})
    assert refused.value.code is ErrorCode.EVENEMENT_INVALIDE and "motif" in refused.value.message
