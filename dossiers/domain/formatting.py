"""French presentation of amounts, dates and numbers, as a document prints them.

Amounts: ``17 500,00 €`` with no-break spaces (U+00A0) so that an amount never splits across
lines; dates: ``1er janvier 2024``; numbers in words through num2words (« cent vingt-sept mille »).
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

from num2words import num2words

__all__ = ["NBSP", "montant", "montant_json", "date_longue", "en_lettres", "montant_en_lettres", "siret_lisible"]

NBSP = "\u00a0"
_MOIS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
CENT = Decimal("0.01")


def montant(value: Decimal) -> str:
    """``Decimal("17500")`` -> ``"17 500,00 €"`` (no-break spaces)."""
    value = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    sign = "-" if value < 0 else ""
    units, cents = f"{abs(value):.2f}".split(".")
    groups: list[str] = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return f"{sign}{NBSP.join(groups)},{cents}{NBSP}€"


def montant_json(value: Decimal) -> str:
    """Amount for machines: ``"52500.00"``."""
    return f"{value.quantize(CENT, rounding=ROUND_HALF_EVEN):.2f}"


def date_longue(value: date) -> str:
    """``date(2024, 1, 1)`` -> ``"1er janvier 2024"``."""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {_MOIS[value.month - 1]} {value.year}"


def en_lettres(number: int) -> str:
    return str(num2words(number, lang="fr"))


def montant_en_lettres(value: Decimal) -> str:
    """``Decimal("127500.00")`` -> ``"cent vingt-sept mille cinq cents euros"``."""
    value = value.quantize(CENT, rounding=ROUND_HALF_EVEN)
    euros = int(value)
    cents = int((value - euros) * 100)
    words = f"{en_lettres(euros)} euro{'s' if euros > 1 else ''}"
    if euros and euros % 1_000_000 == 0:
        words = words.replace(" euros", " d'euros")
    if cents:
        words += f" et {en_lettres(cents)} centime{'s' if cents > 1 else ''}"
    return words


def siret_lisible(siret: str) -> str:
    """``"21330099900017"`` -> ``"213 300 999 00017"`` (no-break spaces), as INSEE prints it."""
    return NBSP.join((siret[0:3], siret[3:6], siret[6:9], siret[9:]))
