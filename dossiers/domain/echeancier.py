"""The échéancier of a convention state: per convention year, what is due, paid, to repay, still to pay.

Pure computation over an ``EtatConvention`` and the ``RuleSet`` that funds its period, following the
conventions written in ``dossiers.domain.etat`` (README, "Conventions de calcul"):

- convention year k runs from ``add_months(date_debut, 12(k-1))`` to the day before the next
  anniversary, the last one clamped to ``date_fin`` (a vague-1 private convention of 18 months has a
  second year of 6 months, and the year-2 figure of its bareme is the amount of that short year);
- a poste funded for part of a year gets the year's amount × funded days / days of that convention
  year (365 or 366, or the clamped year's days), each nature's share computed exactly with
  ``Fraction``, then the poste's year rounded once to the cent half up. Rounding per poste and per
  year (not per share, not per convention) keeps a poste's amount independent of the other postes,
  and a poste funded the whole year gets exactly the bareme's figure, so an initial state gives
  ``calculer``'s totals to the cent;
- a day under a nature is paid at that nature's **own daily rate** for convention year k: its year-k
  figure over the days of its own year k, counted on its own schedule from ``date_debut`` with its own
  ``duree_mois`` (vague 1: a private year 2 is 6 months, a public year 2 is 12 months). The period keeps
  the length of the convention signed; a day beyond the nature's own period (or a year k it does not
  have) is paid at the rate of its last own year. The nature the convention was signed with has its
  own years equal to the convention years, so unchanged natures give exactly the bareme's figures.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from dossiers.domain.dates import add_months
from dossiers.domain.etat import AnneeFigures, EtatConvention, Figures, PosteFinance
from dossiers.domain.model import Nature
from dossiers.domain.rules import RuleSet
from dossiers.errors import ErrorCode, RulesError

__all__ = ["annees_convention", "arrondi_centime", "figures", "figures_emises", "jours_finances", "montant_poste"]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE_DAY = timedelta(days=1)


def annees_convention(etat: EtatConvention) -> list[tuple[int, date, date]]:
    """``(annee, debut, fin)`` of each convention year of the period, fin inclusive."""
    years: list[tuple[int, date, date]] = []
    index = 0
    while (start := add_months(etat.date_debut, 12 * index)) <= etat.date_fin:
        end = min(add_months(etat.date_debut, 12 * (index + 1)) - ONE_DAY, etat.date_fin)
        years.append((index + 1, start, end))
        index += 1
    return years


def arrondi_centime(value: Fraction) -> Decimal:
    """Exact half-up rounding to the cent of a non-negative fraction of euros."""
    if value < 0:
        raise ValueError(f"montant négatif : {value}")
    cents = (value * 100 + Fraction(1, 2)).__floor__()
    return (Decimal(cents) / 100).quantize(CENT)


def jours_finances(poste: PosteFinance, etat: EtatConvention, debut: date, fin: date) -> tuple[date, date] | None:
    """The days of ``[debut, fin]`` the poste is funded (first, last), or None when there is none."""
    first = max(poste.debut, debut, etat.date_debut)
    last = min(poste.fin if poste.fin is not None else etat.date_fin, fin, etat.date_fin)
    return (first, last) if first <= last else None


def _segments(etat: EtatConvention, first: date, last: date) -> Iterator[tuple[Nature, int]]:
    """(nature in force, number of days) over ``[first, last]``, following ``etat.natures``."""
    changes = sorted(etat.natures)
    starts = [first] + [start for start, _ in changes if first < start <= last]
    for i, start in enumerate(starts):
        end = starts[i + 1] - ONE_DAY if i + 1 < len(starts) else last
        yield etat.nature_at(start), (end - start).days + 1


def _montant_annuel(etat: EtatConvention, regles: RuleSet, nature: Nature, annee: int, prioritaire: bool) -> Decimal:
    """A whole year's amount per poste for a nature: base, plus the bonus for a public structure's
    poste in a priority zone (``prioritaire``: ``etat.en_zone_prioritaire(poste)``), plus the outre-mer
    majoration (``RulesError`` when the rule set has none for the département)."""
    bareme = regles.bareme(nature)  # ``annee`` is one of its own years (``_taux_journalier``)
    amount = bareme.annees[annee - 1]
    if nature is Nature.PUBLIQUE and prioritaire and bareme.bonification is not None:
        amount += bareme.bonification[annee - 1]
    if (majoration := regles.majoration_outre_mer(nature, etat.departement)) is not None:
        amount += majoration.annees[annee - 1]
    return amount


def _taux_journalier(etat: EtatConvention, regles: RuleSet, nature: Nature, annee: int, prioritaire: bool
                     ) -> Fraction:
    """What one funded day of convention year ``annee`` is worth per poste under ``nature``: that nature's
    amount for its own year over the days of its own year, on its own schedule (from ``date_debut``, its
    own ``duree_mois``). A year the nature does not have is priced at its last own year."""
    bareme = regles.bareme(nature)
    own = min(annee, len(bareme.annees))
    start = add_months(etat.date_debut, 12 * (own - 1))
    end = min(add_months(etat.date_debut, 12 * own), add_months(etat.date_debut, bareme.duree_mois)) - ONE_DAY
    return Fraction(_montant_annuel(etat, regles, nature, own, prioritaire)) / ((end - start).days + 1)


def montant_poste(
    poste: PosteFinance, etat: EtatConvention, regles: RuleSet, annee: int, debut: date, fin: date
) -> Decimal:
    """What one poste is due for convention year ``annee`` (``debut``..``fin``), rounded to the cent."""
    funded = jours_finances(poste, etat, debut, fin)
    if funded is None:
        return ZERO
    exact = sum(
        (_taux_journalier(etat, regles, nature, annee, etat.en_zone_prioritaire(poste)) * days
         for nature, days in _segments(etat, *funded)),
        Fraction(0),
    )
    return arrondi_centime(exact)


def figures(etat: EtatConvention, regles: RuleSet) -> Figures:
    """Per convention year: due (sum over postes), paid (the payments recorded for that year), to
    repay (max(0, paid − due)) and still to pay (max(0, due − paid))."""
    if regles.id != etat.regles:
        raise RulesError(
            f"la convention {etat.convention_id} est financée par le jeu de règles « {etat.regles} », "
            f"pas « {regles.id} »",
            code=ErrorCode.REGLES_INVALIDES,
        )
    years = annees_convention(etat)
    dus = [sum((montant_poste(p, etat, regles, annee, debut, fin) for p in etat.postes), ZERO)
           for annee, debut, fin in years]
    return _avec_paiements(etat, years, dus)


def figures_emises(emises: Figures, etat: EtatConvention) -> Figures | None:
    """The amounts a version stated when it was issued (``emises``: its recorded figures), with the
    payments recorded since (``etat.paiements``); None when its years are not ``etat``'s (a period
    since changed). An avenant compares its new amounts with these, the ones signed, not with what
    the current rules would have given: a barème corrected in place then shows as the change it is."""
    years = annees_convention(etat)
    if [(a.annee, a.debut, a.fin) for a in emises.annees] != years:
        return None
    return _avec_paiements(etat, years, [a.du for a in emises.annees])


def _avec_paiements(etat: EtatConvention, years: list[tuple[int, date, date]], dus: list[Decimal]) -> Figures:
    unknown = sorted({p.annee for p in etat.paiements} - {annee for annee, _, _ in years})
    if unknown:  # a payment must belong to a year of this period: never drop money silently
        raise ValueError(f"paiement(s) pour une année hors de la période : {unknown} (années 1 à {len(years)})")
    annees = []
    for (annee, debut, fin), du in zip(years, dus, strict=True):
        verse = sum((p.montant for p in etat.paiements if p.annee == annee), ZERO).quantize(CENT)
        annees.append(AnneeFigures(annee=annee, debut=debut, fin=fin, du=du, verse=verse,
                                   a_reverser=max(ZERO, verse - du), reste_a_verser=max(ZERO, du - verse)))
    return Figures(annees=tuple(annees))
