"""Random lives of the postes of a small convention (recruitments, ends of contract, prolongations,
absences, transfers at random dates, each kept only if ``verifier`` accepts it), against a naive
day-by-day walk that shares no code with ``dossiers.domain.postes`` nor ``dossiers.domain.gestion``:

(a) occupations never overlap, and occupations and vacancies cover exactly the poste's known days
    (from its first funded day, or its ``vacant_depuis``) up to the horizon, each day once;
(b) ``Chronologie.situation`` agrees with the walk every day;
(c) ``postes_a_rendre`` gives back exactly the postes one of whose vacancies, begun on ``s``, is still
    going on a day d with 2025-05-14 ≤ d ≤ min(day, end of period) and d > s + 6 months, funded to s − 1
    (never before the day before its first funded day); a poste with a transfer, even one dated after
    the day, is left to the transfer;
(d) applying the restitution avenant keeps the echeancier's invariants (due = paid + to pay − to
    repay each year; due within what the funded days allow);
(e) the order the events were recorded in (``seq``) does not change the timeline when no two of a
    poste's events fall on the same day.
"""

from __future__ import annotations

import dataclasses
import random
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dossiers.domain.avenants import appliquer
from dossiers.domain.dates import add_months
from dossiers.domain.etat import EtatConvention, PosteFinance, StatutConvention
from dossiers.domain.gestion import avenant_restitution, postes_a_rendre
from dossiers.domain.model import EtatPoste, Nature, TypeContrat
from dossiers.domain.postes import (
    AbsenceDeclaree,
    EvenementPoste,
    FinContrat,
    MotifAbsence,
    MotifFin,
    Prolongation,
    Recrutement,
    Source,
    Transfert,
    chronologie,
    verifier,
)
from dossiers.errors import ChangementRefuse
from tests.unit.test_avenants_properties import RULES, a_payment, check
from tests.walk import APPLICATION, ONE_DAY, RANK, six_months_after

MAI_2025 = RULES.gestion("regles-2025-05")


# -- random conventions and events -------------------------------------------------------------------


@st.composite
def conventions(draw: st.DrawFn) -> EtatConvention:
    vague = draw(st.sampled_from([1, 2]))
    regles = RULES.for_vague(vague)
    nature = draw(st.sampled_from(list(Nature)))
    debut = draw(st.dates(date(2023, 1, 1), date(2025, 6, 30)))
    fin = add_months(debut, regles.bareme(nature).duree_mois) - ONE_DAY
    postes = []
    for n in range(1, draw(st.integers(1, 3)) + 1):
        if draw(st.booleans()):
            kind = draw(st.sampled_from(list(TypeContrat)))
            start = draw(st.dates(debut - timedelta(days=60), debut + timedelta(days=60)))
            end = None if kind is TypeContrat.CDI else start + timedelta(days=draw(st.integers(30, 1100)))
            postes.append(PosteFinance(f"P-{n}", debut, etat=EtatPoste.OCCUPE, type_contrat=kind, conseiller="Léa Roux",
                                       contrat_debut=start, contrat_fin=end))
        else:
            depuis = draw(st.dates(debut - timedelta(days=60), debut + timedelta(days=400)))
            postes.append(PosteFinance(f"P-{n}", debut, etat=EtatPoste.VACANT, vacant_depuis=depuis))
    return EtatConvention(
        convention_id="CN-PROP", version=1, vague=vague, regles=regles.id, date_debut=debut, date_fin=fin,
        natures=((debut, nature),), zone_prioritaire=draw(st.booleans()), postes=tuple(postes),
    )


def an_event(data: st.DataObject, etat: EtatConvention, n: int) -> Any:
    poste = data.draw(st.sampled_from([p.id for p in etat.postes]))
    around = st.dates(etat.date_debut - timedelta(days=30), etat.date_fin + timedelta(days=10))
    day = data.draw(around)
    kind = data.draw(st.sampled_from(["recrutement"] * 4 + ["fin_contrat"] * 3 + ["prolongation"] * 2
                                     + ["absence"] * 2 + ["transfert"]))
    rid = f"E-{n}"
    if kind == "recrutement":
        contrat = data.draw(st.sampled_from(list(TypeContrat)))
        fin = None if contrat is TypeContrat.CDI else day + timedelta(days=data.draw(st.integers(0, 900)))
        return Recrutement(rid, poste, f"Conseiller {n}", contrat, day, fin)
    if kind == "fin_contrat":
        return FinContrat(rid, poste, day, data.draw(st.sampled_from([m for m in MotifFin if m is not MotifFin.TRANSFERT])))
    if kind == "prolongation":
        cdi = data.draw(st.integers(0, 4)) == 0
        return Prolongation(rid, poste, None if cdi else day)
    if kind == "absence":
        au = data.draw(st.one_of(st.none(), st.integers(0, 200).map(lambda k: day + timedelta(days=k))))
        return AbsenceDeclaree(rid, poste, day, au, data.draw(st.sampled_from(list(MotifAbsence))), data.draw(st.booleans()))
    return Transfert(rid, poste, day, vers_structure="STR-AILLEURS")


def lived(data: st.DataObject, etat: EtatConvention) -> EtatConvention:
    """``etat`` with random events, each kept only if ``verifier`` accepts it (as the service does)."""
    for n in range(data.draw(st.integers(0, 14))):
        try:
            resolved, _ = verifier(etat, an_event(data, etat, n), source=Source.PORTAIL)
        except ChangementRefuse:
            continue
        event(f"kept: {resolved.type}")
        recorded = EvenementPoste(len(etat.evenements) + 1, resolved, Source.PORTAIL)
        etat = dataclasses.replace(etat, evenements=etat.evenements + (recorded,))
    return etat


# -- the naive walk ------------------------------------------------------------------------------------


def event_day(e: Any) -> date:
    return {"recrutement": lambda: e.date_debut, "prolongation": lambda: e.contrat_fin, "absence": lambda: e.du}.get(
        str(e.type), lambda: e.date)()


def walk(poste: PosteFinance, evenements: tuple[EvenementPoste, ...], horizon: date) -> dict[str, Any]:
    """Day by day up to ``horizon``: each day a contract past its planned end ends, then the day's
    events apply; an end of contract (or a transfer) ends it after the day. Returns the known days
    (from the first funded day, or ``vacant_depuis``, to the last one the timeline covers), and per
    day: who holds it (or None), since when it is vacant, the absence in force."""
    per_day: dict[date, list[EvenementPoste]] = defaultdict(list)
    for recorded in evenements:
        if recorded.poste == poste.id:
            per_day[event_day(recorded.evenement)].append(recorded)
    held = poste.etat is EtatPoste.OCCUPE or (poste.etat is EtatPoste.RENDU and poste.type_contrat is not None)
    contract: dict[str, Any] | None = None
    if held:
        contract = {"qui": poste.conseiller, "debut": poste.contrat_debut or poste.debut, "fin": poste.contrat_fin}
    known_from = poste.debut if held or poste.vacant_depuis is None else poste.vacant_depuis
    last = horizon if poste.etat is not EtatPoste.RENDU or poste.fin is None else min(horizon, poste.fin)
    days: dict[date, tuple[str | None, date | None, Any]] = {}
    absences: list[AbsenceDeclaree] = []
    transfere_le = None
    vacant_since: date | None = None
    day = min([poste.debut, known_from, *per_day] + ([contract["debut"]] if contract else []))
    while day <= last and transfere_le is None:
        if contract is not None and contract["fin"] is not None and contract["fin"] < day:
            contract = None
        ends = False
        for recorded in sorted(per_day.get(day, ()), key=lambda r: (RANK[str(r.evenement.type)], r.seq)):
            e = recorded.evenement
            kind = str(e.type)
            if kind == "recrutement":
                contract = {"qui": e.conseiller, "debut": day, "fin": e.date_fin}
            elif kind == "prolongation":
                if contract is not None:  # None: ended early after being prolonged, the end stands
                    contract["fin"] = e.date_fin
            elif kind == "absence":
                absences.append(e)
            else:
                ends = True
                if kind == "transfert":
                    transfere_le = day
        occupied = contract is not None and contract["debut"] <= day
        if occupied:
            vacant_since = None
            absence = next((a for a in absences if a.du <= day and (a.au is None or day <= a.au)), None)
            days[day] = (contract["qui"], None, absence)  # type: ignore[index]
        elif day >= known_from:
            vacant_since = vacant_since or day
            days[day] = (None, vacant_since, None)
        if ends:
            contract = None
        day += ONE_DAY
    return {"known_from": known_from, "last": min(last, transfere_le or last), "days": days,
            "transfere_le": transfere_le}


def naive_rendus(etat: EtatConvention, jour: date) -> dict[str, date]:
    if jour < APPLICATION or etat.statut is not StatutConvention.ACTIVE:
        return {}
    last = min(jour, etat.date_fin)
    rendus = {}
    for poste in etat.postes:
        if poste.etat is EtatPoste.RENDU:
            continue
        if any(e.poste == poste.id and str(e.evenement.type) == "transfert" for e in etat.evenements):
            continue  # a transferred poste (even later than ``jour``) is dealt with by its transfer's avenants
        walked = walk(poste, etat.evenements, last)
        for d in sorted(walked["days"]):
            _qui, since, _abs = walked["days"][d]
            if since is not None and APPLICATION <= d <= last and d > six_months_after(since):
                fin = max(since - ONE_DAY, poste.debut - ONE_DAY)
                rendus[poste.id] = min(fin, poste.fin) if poste.fin is not None else fin
                break
    return rendus


# -- the properties ----------------------------------------------------------------------------------

PROPERTIES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTIES
@given(conventions(), st.data())
def test_a_timeline_covers_each_known_day_once_and_agrees_with_a_day_by_day_walk(etat, data):
    etat = lived(data, etat)
    horizon = data.draw(st.dates(etat.date_debut, etat.date_fin + timedelta(days=30)))
    for poste in etat.postes:
        chrono = chronologie(poste, etat.evenements, horizon)
        walked = walk(poste, etat.evenements, horizon)
        # (a) occupations do not overlap; with the vacancies they cover every known day exactly once
        occupations = chrono.occupations
        for o in occupations:
            assert o.fin is None or o.fin >= o.debut, o
        for before, after in zip(occupations, occupations[1:], strict=False):
            assert before.fin is not None and before.fin < after.debut, (before, after)
        day, last = walked["known_from"], walked["last"]
        while day <= last:
            covering = [o for o in occupations if o.couvre(day)] + [
                v for v in chrono.vacances if v.depuis <= day and (v.jusqu_au is None or day <= v.jusqu_au)]
            assert len(covering) == 1, (poste.id, day, covering)
            # (b) the situation that day is the walk's
            situation = chrono.situation(day)
            qui, since, absence = walked["days"][day]
            if qui is not None:
                assert situation.etat is EtatPoste.OCCUPE and situation.occupation.conseiller == qui, (day, situation)
                assert (situation.absence is None) == (absence is None), (day, situation, absence)
            else:
                assert situation.etat is EtatPoste.VACANT and situation.vacant_depuis == since, (day, situation, since)
            day += ONE_DAY
        assert not any(v.depuis < walked["known_from"] or v.depuis > last for v in chrono.vacances)


@PROPERTIES
@given(conventions(), st.data())
def test_the_postes_given_back_are_the_walks_and_the_avenant_keeps_the_echeancier_sound(etat, data):
    regles = RULES.get(etat.regles)
    etat = lived(data, etat)
    for _ in range(data.draw(st.integers(0, 2))):
        etat = a_payment(data, etat, regles)
    jour = data.draw(st.dates(min(date(2025, 5, 1), etat.date_fin), etat.date_fin + timedelta(days=30)))
    # (c)
    rendus = {r.id: r.date_fin_contrat for r in postes_a_rendre(etat, jour, MAI_2025)}
    assert rendus == naive_rendus(etat, jour)
    event(f"postes rendus: {len(rendus)}")
    # (d)
    retrait = avenant_restitution(etat, jour, MAI_2025, "R-1")
    if retrait is None:
        return
    try:
        result = appliquer(etat, retrait, regles)
    except ChangementRefuse as refused:
        event(f"restitution refusée: {refused.code}")
        return
    check(result.etat, regles)
    assert result.apres.total_du <= result.avant.total_du
    for poste in result.etat.postes:
        if poste.id in rendus:
            assert poste.etat is EtatPoste.RENDU and poste.fin == rendus[poste.id]


@PROPERTIES
@given(conventions(), st.data(), st.randoms(use_true_random=False))
def test_the_order_of_recording_does_not_change_a_timeline_when_the_days_differ(etat, data, rnd: random.Random):
    etat = lived(data, etat)
    horizon = data.draw(st.dates(etat.date_debut, etat.date_fin + timedelta(days=30)))
    seqs = [e.seq for e in etat.evenements]
    rnd.shuffle(seqs)
    shuffled = tuple(dataclasses.replace(e, seq=s) for e, s in zip(etat.evenements, seqs, strict=True))
    for poste in etat.postes:
        days = [e.jour for e in etat.evenements if e.poste == poste.id]
        if len(days) != len(set(days)):
            continue
        a, b = chronologie(poste, etat.evenements, horizon), chronologie(poste, shuffled, horizon)
        assert (a.occupations, a.vacances, a.absences, a.transfere_le) == (
            b.occupations, b.vacances, b.absences, b.transfere_le)
