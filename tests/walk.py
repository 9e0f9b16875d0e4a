"""The May 2025 rule recomputed naively, for tests: each poste walked day by day from its version's
facts and its events, then every run of vacant days looked at.

Deliberately shares no code with ``dossiers.domain.postes`` nor ``dossiers.domain.gestion``. A poste
is given back iff one of its vacancies, begun on ``s``, is still going on a day ``d`` with
2025-05-14 ≤ d ≤ min(as_of, end of period) and d > s + 6 months; its last funded day is then
s − 1 day (never before the day before its first funded day, never after its last).
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dossiers.domain.etat import EtatConvention, PosteFinance
from dossiers.domain.model import EtatPoste
from dossiers.domain.postes import EvenementPoste

__all__ = ["APPLICATION", "ONE_DAY", "RANK", "Run", "six_months_after", "event_day", "vacancies",
           "expected_restitutions"]

APPLICATION = date(2025, 5, 14)
ONE_DAY = timedelta(days=1)
RANK = {"recrutement": 0, "prolongation": 1, "absence": 2, "fin_contrat": 3, "transfert": 4}


def six_months_after(day: date) -> date:
    month = day.month + 6
    year, month = day.year + (month - 1) // 12, (month - 1) % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class Run:
    """A run of vacant days, and how the poste got there."""

    depuis: date
    jusqu_au: date
    after: str | None  # None: never held before; else why the last contract ended
    closed_by_recruitment: bool


def event_day(e: Any) -> date:
    kind = str(e.type)
    if kind == "recrutement":
        return e.date_debut
    if kind == "prolongation":
        return e.contrat_fin
    if kind == "absence":
        return e.du
    return e.date


def vacancies(poste: PosteFinance, evenements: list[EvenementPoste], last: date) -> list[Run]:
    """Walk the poste day by day up to ``last``: each day, a contract past its planned end ends, then
    the day's events apply (recruitment, prolongation, then end of contract after the day is counted)."""
    per_day: dict[date, list[EvenementPoste]] = defaultdict(list)
    for recorded in evenements:
        per_day[event_day(recorded.evenement)].append(recorded)
    held = poste.etat is EtatPoste.OCCUPE or (poste.etat is EtatPoste.RENDU and poste.type_contrat is not None)
    contract: dict[str, Any] | None = None
    if held:
        contract = {"debut": poste.contrat_debut or poste.debut, "fin_prevue": poste.contrat_fin}
    known_from = poste.debut if held or poste.vacant_depuis is None else poste.vacant_depuis
    first = min([poste.debut, known_from, *per_day] + ([contract["debut"]] if contract else []))
    runs: list[Run] = []
    why: str | None = None  # why the last contract ended
    day = first
    while day <= last:
        if contract is not None and contract["fin_prevue"] is not None and contract["fin_prevue"] < day:
            contract, why = None, "expiree"
        ending: str | None = None
        for recorded in sorted(per_day.get(day, ()), key=lambda r: (RANK[str(r.evenement.type)], r.seq)):
            e = recorded.evenement
            if str(e.type) == "recrutement":
                assert contract is None, (poste.id, day)
                contract = {"debut": day, "fin_prevue": e.date_fin}
                if runs and runs[-1].jusqu_au == day - ONE_DAY:
                    runs[-1].closed_by_recruitment = True
            elif str(e.type) == "prolongation":
                if contract is not None:  # None: ended early after being prolonged, the end stands
                    assert contract["fin_prevue"] == e.contrat_fin
                    contract["fin_prevue"] = e.date_fin
            elif str(e.type) == "fin_contrat":
                ending = str(e.motif)
        occupied = contract is not None and contract["debut"] <= day
        if not occupied and day >= known_from:
            if runs and runs[-1].jusqu_au == day - ONE_DAY:
                runs[-1].jusqu_au = day
            else:
                runs.append(Run(day, day, why, False))
        if ending is not None:
            contract, why = None, ending
        day += ONE_DAY
    return runs


def expected_restitutions(etat: EtatConvention, as_of: date
                          ) -> tuple[dict[str, date], dict[str, tuple[str, Run | None]]]:
    """({poste: last funded day} given back, {poste: (case, run)}) for one convention on ``as_of``."""
    last = min(as_of, etat.date_fin)
    rendus: dict[str, date] = {}
    cases: dict[str, tuple[str, Run | None]] = {}
    for poste in etat.postes:
        if poste.etat is EtatPoste.RENDU:
            continue
        own = [e for e in etat.evenements if e.poste == poste.id]
        runs = vacancies(poste, own, last)
        over = next((r for r in runs if r.jusqu_au >= APPLICATION and r.jusqu_au > six_months_after(r.depuis)), None)
        if over is not None:
            fin = max(over.depuis - ONE_DAY, poste.debut - ONE_DAY)
            rendus[poste.id] = min(fin, poste.fin) if poste.fin is not None else fin
            cases[poste.id] = ("rendu_jamais_pourvu" if over.after is None else f"rendu_apres_{over.after}", over)
        else:
            kept = next((r for r in runs if r.closed_by_recruitment and r.jusqu_au >= APPLICATION), None)
            cases[poste.id] = ("garde_recrute_a_temps", kept) if kept is not None else ("garde", None)
    return rendus, cases
