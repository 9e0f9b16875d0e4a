"""Across any sequence of changes and payments, the figures stay within what the rules allow for the
postes and days actually funded, the balance always adds up, no amount is negative, and the
versions form a single chain (each applied change adds exactly one)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dossiers.adapters.rules import RulesRepository
from dossiers.domain.avenants import appliquer
from dossiers.domain.dates import add_months
from dossiers.domain.echeancier import annees_convention, figures
from dossiers.domain.etat import (
    AjoutPostes,
    ChangementNature,
    EtatConvention,
    MotifResiliation,
    Paiement,
    PosteFinance,
    Renouvellement,
    Resiliation,
    RetraitPoste,
    RetraitPostes,
    StatutConvention,
)
from dossiers.domain.model import EtatPoste, Nature, TypeContrat
from dossiers.domain.rules import Bareme, RuleSet
from dossiers.errors import ChangementRefuse, ErrorCode
from dossiers.settings import ROOT

RULES = RulesRepository(ROOT / "config" / "rules")
V2 = RULES.get("vague-2")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")
ONE_DAY = timedelta(days=1)


def upper_bound(etat: EtatConvention, regles: RuleSet) -> list[Decimal]:
    """Per year, computed without echeancier: for each poste, the highest daily rate any nature can
    give (bonus included; a nature's year-k amount over the days of its own year k, its last year past
    its own period) × the poste's funded days, + 1 cent of rounding."""

    def rate(b: Bareme, annee: int) -> Fraction:
        k = min(annee, len(b.annees))
        start = add_months(etat.date_debut, 12 * (k - 1))
        end = min(add_months(etat.date_debut, 12 * k), add_months(etat.date_debut, b.duree_mois)) - ONE_DAY
        amount = b.annees[k - 1] + (b.bonification[k - 1] if b.bonification else ZERO)
        return Fraction(amount) / ((end - start).days + 1)

    bounds = []
    for annee, debut, fin in annees_convention(etat):
        best = max(rate(b, annee) for b in regles.baremes.values())
        total = Fraction(0)
        for p in etat.postes:
            first, last = max(p.debut, debut), min(p.fin or etat.date_fin, fin)
            days = max(0, (last - first).days + 1)
            total += best * days + Fraction(1, 100)
        bounds.append(Decimal(total.numerator) / Decimal(total.denominator))
    return bounds


@st.composite
def initial_states(draw: st.DrawFn) -> tuple[EtatConvention, RuleSet]:
    vague = draw(st.sampled_from([1, 2]))
    regles = RULES.for_vague(vague)
    nature = draw(st.sampled_from(list(Nature)))
    debut = draw(st.dates(date(2021, 1, 1), date(2025, 12, 31)))
    fin = add_months(debut, regles.bareme(nature).duree_mois) - ONE_DAY
    postes = []
    for n in range(1, draw(st.integers(1, 10)) + 1):
        occupe = draw(st.booleans())
        postes.append(PosteFinance(
            id=f"P-{n}", debut=debut, etat=EtatPoste.OCCUPE if occupe else EtatPoste.VACANT,
            vacant_depuis=None if occupe else draw(st.dates(debut - timedelta(days=60), fin)),
            type_contrat=draw(st.sampled_from(list(TypeContrat))) if occupe else None,
        ))
    etat = EtatConvention(
        convention_id="CN-PROP", version=1, vague=vague, regles=regles.id, date_debut=debut, date_fin=fin,
        natures=((debut, nature),), zone_prioritaire=draw(st.booleans()), postes=tuple(postes),
    )
    return etat, regles


def a_payment(data: st.DataObject, etat: EtatConvention, regles: RuleSet) -> EtatConvention:
    """A payment for one year, at most what that year still owes."""
    year = data.draw(st.sampled_from(figures(etat, regles).annees))
    cents = data.draw(st.integers(0, int(year.reste_a_verser / CENT)))
    if cents == 0:
        return etat
    paiement = Paiement(year.annee, year.debut, Decimal(cents) * CENT)
    return dataclasses.replace(etat, paiements=(*etat.paiements, paiement))


def a_change(data: st.DataObject, etat: EtatConvention):
    around = st.dates(etat.date_debut - timedelta(days=40), etat.date_fin + timedelta(days=40))
    ids = [p.id for p in etat.postes] + ["P-99"]
    version = data.draw(st.sampled_from([None] * 4 + [etat.version] * 3 + [etat.version - 1, etat.version + 1]))
    kind = data.draw(st.sampled_from(["ajout", "retrait", "retrait", "nature", "renouvellement", "resiliation"]))
    if kind == "ajout":
        return AjoutPostes("R", data.draw(around), data.draw(st.integers(1, 3)), version)
    if kind == "retrait":
        chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
        return RetraitPostes("R", tuple(RetraitPoste(i, data.draw(around)) for i in chosen), version)
    if kind == "nature":
        return ChangementNature("R", data.draw(st.sampled_from(list(Nature))), data.draw(around), version)
    if kind == "renouvellement":
        start = data.draw(st.one_of(st.just(etat.date_fin + ONE_DAY), around))
        postes = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(ids), max_size=3, unique=True).map(tuple)))
        return Renouvellement("R", start, postes, version)
    motif = data.draw(st.sampled_from(list(MotifResiliation)))
    return Resiliation("R", motif, data.draw(st.one_of(st.none(), around)), version)


def check(etat: EtatConvention, regles: RuleSet) -> None:
    fig = figures(etat, regles)
    for year, bound in zip(fig.annees, upper_bound(etat, regles), strict=True):
        assert min(year.du, year.verse, year.a_reverser, year.reste_a_verser) >= 0
        assert year.verse + year.reste_a_verser - year.a_reverser == year.du
        assert year.du <= bound, (year, bound)
    assert fig.total_verse + fig.total_reste_a_verser - fig.total_a_reverser == fig.total_du


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial_states(), st.data())
def test_any_sequence_of_changes_stays_within_the_rules_and_forms_one_chain(initial, data):
    etat, regles = initial
    for _ in range(data.draw(st.integers(0, 2))):
        etat = a_payment(data, etat, regles)
    check(etat, regles)
    chain = [etat.version]
    for _ in range(data.draw(st.integers(1, 8))):
        if data.draw(st.integers(0, 3)) == 0:
            etat = a_payment(data, etat, regles)
            check(etat, regles)
            continue
        change = a_change(data, etat)
        try:
            result = appliquer(etat, change, regles, regles_renouvellement=V2,
                               renouvellement_id=f"{etat.convention_id}-R")
        except ChangementRefuse as refused:
            event(f"{type(change).__name__}: {refused.code}")
            if etat.statut is not StatutConvention.ACTIVE:
                assert refused.code is ErrorCode.CONVENTION_CLOSE
            elif change.version is not None and change.version != etat.version:
                assert refused.code is ErrorCode.VERSION_PERIMEE
            continue
        event(f"{type(change).__name__}: appliqué")
        assert change.version in (None, etat.version) and etat.statut is StatutConvention.ACTIVE
        if isinstance(change, Renouvellement):  # a new convention: its version 1, its own chain
            assert (result.etat.convention_id, result.etat.version, result.document) == (
                f"{etat.convention_id}-R", 1, "convention")
        else:
            assert (result.etat.convention_id, result.etat.version) == (etat.convention_id, etat.version + 1)
        assert result.avant == figures(etat, regles)
        assert result.apres == figures(result.etat, result.regles)
        if isinstance(change, Renouvellement):
            assert result.etat.paiements == () and result.etat.date_debut == change.date_debut
        else:
            assert result.etat.paiements == etat.paiements and result.etat.date_debut == etat.date_debut
        etat, regles = result.etat, result.regles
        chain = [etat.version] if isinstance(change, Renouvellement) else [*chain, etat.version]
        check(etat, regles)
    assert chain == list(range(chain[0], chain[0] + len(chain)))
